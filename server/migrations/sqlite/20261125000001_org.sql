-- Organisation structure: sites, departments, processes (issue 3).
-- Forward-only: never edit an applied migration, add a new one.
-- ids use autoincrement so that an id is never reused (21 CFR 11.10(e): records stay
-- attributable); rows are retired, never deleted.

create table sites (
    site_id integer primary key autoincrement,
    code text not null,
    name text not null,
    address text not null default '',
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create unique index sites_code_active on sites (code) where retired_at is null;
create unique index sites_name_active on sites (lower(name)) where retired_at is null;

create table departments (
    department_id integer primary key autoincrement,
    name text not null,
    site_id integer references sites (site_id),
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create unique index departments_name_active on departments (lower(name)) where retired_at is null;

create table processes (
    process_id integer primary key autoincrement,
    name text not null,
    description text not null default '',
    owner_name text not null,
    department_id integer not null references departments (department_id),
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create unique index processes_name_active on processes (lower(name)) where retired_at is null;
create index processes_department on processes (department_id);

-- No hard deletes: the database itself refuses them.
create trigger sites_no_delete before delete on sites
begin select raise(abort, 'sites are retired, never deleted'); end;
create trigger departments_no_delete before delete on departments
begin select raise(abort, 'departments are retired, never deleted'); end;
create trigger processes_no_delete before delete on processes
begin select raise(abort, 'processes are retired, never deleted'); end;
