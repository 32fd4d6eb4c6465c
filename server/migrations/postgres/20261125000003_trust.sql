-- Trust core (issue 4): users, sessions, electronic signatures; processes get a real owner.
-- Forward-only. Users are deactivated (retired_at), never deleted; a username is unique over
-- every user that ever existed, so it is never reused or reassigned (21 CFR 11.100).
create table users (
    user_id bigint generated always as identity primary key,
    username text not null,
    full_name text not null,
    email text not null,
    department_id bigint references departments (department_id),
    roles text not null,
    password_hash text not null,
    must_change_password boolean not null default true,
    password_changed_at timestamptz not null,
    failed_sign_ins bigint not null default 0,
    locked_until timestamptz,
    esign_agreed_at timestamptz,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create unique index users_username on users (username);
create trigger users_no_delete before delete on users for each row execute function refuse_delete();

-- The process owner becomes a reference to a user (owner_name stays for processes recorded
-- before users existed and as the name at the time of the last change).
alter table processes add column owner_id bigint references users (user_id);
create index processes_owner on processes (owner_id);

-- Sessions live in the database so that any server instance can serve any user. Only the
-- SHA-256 of the cookie's secret is stored.
create table sessions (
    session_id bigint generated always as identity primary key,
    token_hash text not null,
    user_id bigint not null references users (user_id),
    csrf_token text not null,
    created_at timestamptz not null,
    last_seen_at timestamptz not null,
    expires_at timestamptz not null,
    ended_at timestamptz,
    ended_reason text,
    client_address text not null,
    user_agent text not null
);
create unique index sessions_token on sessions (token_hash);
create index sessions_user on sessions (user_id) where ended_at is null;

-- Electronic signatures (11.50, 11.70): append-only, like the audit trail.
create table signatures (
    signature_id bigint generated always as identity primary key,
    record_type text not null,
    record_id bigint not null,
    record_version bigint not null,
    record_hash text not null,
    signer_id bigint not null references users (user_id),
    signer_name text not null,
    meaning text not null,
    signed_at timestamptz not null,
    session_id bigint references sessions (session_id)
);
create index signatures_record on signatures (record_type, record_id, signature_id);
create function signatures_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'signatures cannot be changed or deleted';
end;
$$;
create trigger signatures_no_update before update or delete on signatures
    for each row execute function signatures_append_only();

-- Failed sign-ins are listed to administrators from the audit trail (11.300(d)).
create index audit_entries_action on audit_entries (action, seq);
