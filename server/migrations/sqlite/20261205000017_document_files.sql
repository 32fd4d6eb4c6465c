-- Files attached to document revisions (domain/documents.md: a signature binds the attached
-- file's hash). The bytes are kept in the database with their SHA-256, size, media type and name.
-- A draft's file may be replaced: the old row stays, no longer current (nothing is deleted, and
-- the audit trail names every file by its hash). One current file per revision at most.
create table document_files (
    document_file_id integer primary key autoincrement,
    revision_id integer not null references document_revisions (revision_id),
    name text not null,
    media_type text not null,
    size integer not null check (size >= 1),
    sha256 text not null,
    bytes blob not null,
    current integer not null default 1 check (current in (0, 1)),
    created_by integer references users (user_id),
    created_at text not null
) strict;
create unique index document_files_current on document_files (revision_id) where current;
create index document_files_revision on document_files (revision_id);

create trigger document_files_no_delete before delete on document_files
    begin select raise(abort, 'attached files are never deleted: a new one replaces a draft''s file'); end;
-- Only `current` changes (a file replaced on a draft); what was attached never does.
create trigger document_files_no_change before update of document_file_id, revision_id, name, media_type, size,
    sha256, bytes, created_by, created_at on document_files
    begin select raise(abort, 'an attached file is never changed: attach a new one'); end;
