-- Revision notices (domain/documents.md): who reads a document (roles, departments), the notices
-- sent when a revision is approved and when it takes effect, and each person's choice of kinds.

-- A document's readers: replaced as a whole when its readers change (the audit trail keeps every
-- list, with the document).
create table document_reader_roles (
    document_id integer not null references documents (document_id),
    role text not null,
    primary key (document_id, role)
) strict;
create table document_reader_departments (
    document_id integer not null references documents (document_id),
    department_id integer not null references departments (department_id),
    primary key (document_id, department_id)
) strict;

-- One notice per person, kind and revision (sent in the transaction of the approval or of the
-- revision taking effect; the key makes a second sending, on another instance, a no-op).
-- Marking one read sets read_at; nothing is deleted.
create table notices (
    notice_id integer primary key autoincrement,
    user_id integer not null references users (user_id),
    kind text not null check (kind in ('approved', 'effective')),
    document_id integer not null references documents (document_id),
    revision_id integer not null references document_revisions (revision_id),
    carries_training integer not null default 0 check (carries_training in (0, 1)),
    created_at text not null,
    read_at text,
    unique (user_id, kind, revision_id)
) strict;
create index notices_unread on notices (user_id, notice_id) where read_at is null;
create index notices_user on notices (user_id, notice_id);
create trigger notices_no_delete before delete on notices
    begin select raise(abort, 'notices are never deleted: mark one read'); end;

-- A person without a row gets both kinds.
create table notice_settings (
    user_id integer primary key references users (user_id),
    approved integer not null check (approved in (0, 1)),
    effective integer not null check (effective in (0, 1)),
    version integer not null default 1 check (version >= 1),
    updated_at text not null
) strict;
