-- Trust core (issue 4): users, sessions, electronic signatures; processes get a real owner.
-- Forward-only. Users are deactivated (retired_at), never deleted; a username is unique over
-- every user that ever existed, so it is never reused or reassigned (21 CFR 11.100).
create table users (
    user_id integer primary key autoincrement,
    username text not null,
    full_name text not null,
    email text not null,
    department_id integer references departments (department_id),
    roles text not null,
    password_hash text not null,
    must_change_password integer not null default 1,
    password_changed_at text not null,
    failed_sign_ins integer not null default 0,
    locked_until text,
    esign_agreed_at text,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create unique index users_username on users (username);
create trigger users_no_delete before delete on users
begin select raise(abort, 'users are deactivated, never deleted'); end;

-- The process owner becomes a reference to a user (owner_name stays for processes recorded
-- before users existed and as the name at the time of the last change).
alter table processes add column owner_id integer references users (user_id);
create index processes_owner on processes (owner_id);

-- Sessions live in the database so that any server instance can serve any user. Only the
-- SHA-256 of the cookie's secret is stored.
create table sessions (
    session_id integer primary key autoincrement,
    token_hash text not null,
    user_id integer not null references users (user_id),
    csrf_token text not null,
    created_at text not null,
    last_seen_at text not null,
    expires_at text not null,
    ended_at text,
    ended_reason text,
    client_address text not null,
    user_agent text not null
) strict;
create unique index sessions_token on sessions (token_hash);
create index sessions_user on sessions (user_id) where ended_at is null;

-- Electronic signatures (11.50, 11.70): append-only, like the audit trail.
create table signatures (
    signature_id integer primary key autoincrement,
    record_type text not null,
    record_id integer not null,
    record_version integer not null,
    record_hash text not null,
    signer_id integer not null references users (user_id),
    signer_name text not null,
    meaning text not null,
    signed_at text not null,
    session_id integer references sessions (session_id)
) strict;
create index signatures_record on signatures (record_type, record_id, signature_id);
create trigger signatures_no_update before update on signatures
begin select raise(abort, 'signatures cannot be changed'); end;
create trigger signatures_no_delete before delete on signatures
begin select raise(abort, 'signatures cannot be deleted'); end;

-- Failed sign-ins are listed to administrators from the audit trail (11.300(d)).
create index audit_entries_action on audit_entries (action, seq);
