-- Files attached to document revisions (domain/documents.md: a signature binds the attached
-- file's hash). The bytes are kept in the database with their SHA-256, size, media type and name.
-- A draft's file may be replaced: the old row stays, no longer current (nothing is deleted, and
-- the audit trail names every file by its hash). One current file per revision at most.
create table document_files (
    document_file_id bigint generated always as identity primary key,
    revision_id bigint not null references document_revisions (revision_id),
    name text not null,
    media_type text not null,
    size bigint not null check (size >= 1),
    sha256 text not null,
    bytes bytea not null,
    current boolean not null default true,
    created_by bigint references users (user_id),
    created_at timestamptz not null
);
create unique index document_files_current on document_files (revision_id) where current;
create index document_files_revision on document_files (revision_id);

create trigger document_files_no_delete before delete on document_files
    for each row execute function refuse_delete();
-- Only `current` changes (a file replaced on a draft); what was attached never does.
create function document_files_frozen() returns trigger language plpgsql as $$
begin
    if (new.revision_id, new.name, new.media_type, new.size, new.sha256, new.bytes, new.created_by, new.created_at)
        is distinct from (old.revision_id, old.name, old.media_type, old.size, old.sha256, old.bytes, old.created_by,
            old.created_at) then
        raise exception 'an attached file is never changed: attach a new one';
    end if;
    return new;
end $$;
create trigger document_files_no_change before update on document_files
    for each row execute function document_files_frozen();
