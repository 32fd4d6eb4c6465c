-- Revision notices (domain/documents.md): who reads a document (roles, departments), the notices
-- sent when a revision is approved and when it takes effect, and each person's choice of kinds.

-- A document's readers: replaced as a whole when its readers change (the audit trail keeps every
-- list, with the document).
create table document_reader_roles (
    document_id bigint not null references documents (document_id),
    role text not null,
    primary key (document_id, role)
);
create table document_reader_departments (
    document_id bigint not null references documents (document_id),
    department_id bigint not null references departments (department_id),
    primary key (document_id, department_id)
);

-- One notice per person, kind and revision (sent in the transaction of the approval or of the
-- revision taking effect; the key makes a second sending, on another instance, a no-op).
-- Marking one read sets read_at; nothing is deleted.
create table notices (
    notice_id bigint generated always as identity primary key,
    user_id bigint not null references users (user_id),
    kind text not null check (kind in ('approved', 'effective')),
    document_id bigint not null references documents (document_id),
    revision_id bigint not null references document_revisions (revision_id),
    carries_training boolean not null default false,
    created_at timestamptz not null,
    read_at timestamptz,
    unique (user_id, kind, revision_id)
);
create index notices_unread on notices (user_id, notice_id) where read_at is null;
create index notices_user on notices (user_id, notice_id);
create trigger notices_no_delete before delete on notices for each row execute function refuse_delete();

-- A person without a row gets both kinds.
create table notice_settings (
    user_id bigint primary key references users (user_id),
    approved boolean not null,
    effective boolean not null,
    version bigint not null default 1 check (version >= 1),
    updated_at timestamptz not null
);
