-- Settings of the installation, one row that every instance reads (nothing cached): how document
-- revisions are labelled (domain/documents.md). A change is audited as record type
-- `installation_settings`, record 1; it applies to revisions created afterwards (a label, once
-- given, never changes).
create table installation_settings (
    installation_settings_id smallint primary key check (installation_settings_id = 1),
    revision_labels text not null check (revision_labels in ('letters', 'numbers')),
    version bigint not null check (version >= 1),
    updated_at timestamptz not null
);
-- Letters, as every revision was labelled before the setting existed.
insert into installation_settings (installation_settings_id, revision_labels, version, updated_at)
    values (1, 'letters', 1, now());
create trigger installation_settings_no_delete before delete on installation_settings
    for each row execute function refuse_delete();
