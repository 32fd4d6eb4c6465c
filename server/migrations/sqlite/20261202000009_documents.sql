-- Document control (domain/documents.md): documents numbered per type, never reused; their
-- revisions, one in force at a time; who reviews and approves them. Nothing is deleted: a
-- document made obsolete is retired with the reason, a revision abandoned is cancelled.

-- The last number given per type. Incremented by an upsert in the creating transaction, so two
-- documents created at once never get the same number, and a number is never given again.
create table document_sequences (
    doc_type text primary key,
    last_value integer not null check (last_value >= 1)
) strict;

create table documents (
    document_id integer primary key autoincrement,
    number text not null,
    doc_type text not null check (doc_type in ('quality_manual', 'policy', 'sop', 'work_instruction', 'form',
        'specification', 'external')),
    title text not null,
    owner_id integer not null references users (user_id),
    process_id integer references processes (process_id),
    review_interval_months integer not null check (review_interval_months between 1 and 120),
    retention_years integer not null check (retention_years between 1 and 100),
    source text not null default '',
    source_revision text not null default '',
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
-- Unique over obsolete documents too: a number is never given twice.
create unique index documents_number on documents (number);
create index documents_owner on documents (owner_id);

-- Who reviews and approves a document's revisions.
create table document_people (
    document_id integer not null references documents (document_id),
    role text not null check (role in ('reviewer', 'approver')),
    user_id integer not null references users (user_id),
    position integer not null,
    primary key (document_id, role, user_id)
) strict;

create table document_revisions (
    revision_id integer primary key autoincrement,
    document_id integer not null references documents (document_id),
    seq integer not null check (seq >= 1),
    label text not null,
    status text not null check (status in ('draft', 'in_review', 'approved', 'effective', 'superseded',
        'cancelled')),
    author_id integer not null references users (user_id),
    status_reason text not null default '',
    body text not null,
    reason_for_change text not null default '',
    change_summary text not null default '',
    requested_by text not null default '',
    effective_date text,
    train_by text,
    no_retraining integer not null default 0 check (no_retraining in (0, 1)),
    no_retraining_reason text not null default '',
    -- Moves only when the content changes: what a signature binds (a status change keeps it).
    content_version integer not null default 1 check (content_version >= 1),
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text,
    unique (document_id, seq)
) strict;
-- Two revisions of a document are never in force at once, nor two in progress.
create unique index document_revisions_one_effective on document_revisions (document_id) where status = 'effective';
create unique index document_revisions_one_open on document_revisions (document_id)
    where status in ('draft', 'in_review', 'approved');
-- The minute clock's question, "which approved revisions are due?", without reading the rest.
create index document_revisions_due on document_revisions (effective_date) where status = 'approved';

-- Nothing is deleted (document_people is replaced as a whole when a document's people change;
-- the audit trail keeps every list).
create trigger documents_no_delete before delete on documents
    begin select raise(abort, 'documents are never deleted: make one obsolete with a reason'); end;
create trigger document_revisions_no_delete before delete on document_revisions
    begin select raise(abort, 'document revisions are never deleted: cancel a draft with a reason'); end;
