-- Organisation structure: sites, departments, processes (issue 3).
-- Forward-only: never edit an applied migration, add a new one.
-- Identity ids are never reused; rows are retired, never deleted.

create table sites (
    site_id bigint generated always as identity primary key,
    code text not null,
    name text not null,
    address text not null default '',
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create unique index sites_code_active on sites (code) where retired_at is null;
create unique index sites_name_active on sites (lower(name)) where retired_at is null;

create table departments (
    department_id bigint generated always as identity primary key,
    name text not null,
    site_id bigint references sites (site_id),
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create unique index departments_name_active on departments (lower(name)) where retired_at is null;

create table processes (
    process_id bigint generated always as identity primary key,
    name text not null,
    description text not null default '',
    owner_name text not null,
    department_id bigint not null references departments (department_id),
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create unique index processes_name_active on processes (lower(name)) where retired_at is null;
create index processes_department on processes (department_id);

-- No hard deletes: the database itself refuses them.
create function refuse_delete() returns trigger language plpgsql as $$
begin
    raise exception '% rows are retired, never deleted', tg_table_name;
end;
$$;
create trigger sites_no_delete before delete on sites for each row execute function refuse_delete();
create trigger departments_no_delete before delete on departments for each row execute function refuse_delete();
create trigger processes_no_delete before delete on processes for each row execute function refuse_delete();
