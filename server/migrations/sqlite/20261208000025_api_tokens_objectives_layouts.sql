-- Issue 15 (the executive dashboard), the rest: API tokens for scripts, quality objectives
-- (ISO 9001 6.2) and each person's choice and order of dashboard tiles. Forward-only.

-- A token authenticates a script as its user (the same permissions). Only the SHA-256 of the
-- secret is kept; the secret is shown once. Tokens are revoked, never deleted.
create table api_tokens (
    token_id integer primary key autoincrement,
    user_id integer not null references users (user_id),
    name text not null,
    token_hash text not null,
    created_at text not null,
    expires_on text,
    last_used_at text,
    revoked_at text,
    version integer not null default 1 check (version >= 1)
) strict;
create unique index api_tokens_hash on api_tokens (token_hash);
create index api_tokens_user on api_tokens (user_id, token_id);
create trigger api_tokens_no_delete before delete on api_tokens
begin select raise(abort, 'API tokens are revoked, never deleted'); end;

-- A quality objective: measurable (a KPI and a target) and time-bound (a due date), with an
-- owner. Retired with a reason, never deleted.
create table quality_objectives (
    objective_id integer primary key autoincrement,
    title text not null,
    kpi text not null,
    target real not null,
    due_on text not null,
    owner_id integer not null references users (user_id),
    notes text not null,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create index quality_objectives_due on quality_objectives (due_on, objective_id) where retired_at is null;
create trigger quality_objectives_no_delete before delete on quality_objectives
begin select raise(abort, 'quality objectives are retired, never deleted'); end;

-- Each person's tiles (KPI names, comma-separated, in order); a person without a row sees every
-- KPI in the default order. Like notice_settings: one row per person, versioned.
create table dashboard_layouts (
    user_id integer primary key references users (user_id),
    tiles text not null,
    version integer not null default 1 check (version >= 1),
    updated_at text not null
) strict;
