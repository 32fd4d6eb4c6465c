-- Issue 15 (the executive dashboard), the rest: API tokens for scripts, quality objectives
-- (ISO 9001 6.2) and each person's choice and order of dashboard tiles. Forward-only.

-- A token authenticates a script as its user (the same permissions). Only the SHA-256 of the
-- secret is kept; the secret is shown once. Tokens are revoked, never deleted.
create table api_tokens (
    token_id bigint generated always as identity primary key,
    user_id bigint not null references users (user_id),
    name text not null,
    token_hash text not null,
    created_at timestamptz not null,
    expires_on date,
    last_used_at timestamptz,
    revoked_at timestamptz,
    version bigint not null default 1 check (version >= 1)
);
create unique index api_tokens_hash on api_tokens (token_hash);
create index api_tokens_user on api_tokens (user_id, token_id);
create trigger api_tokens_no_delete before delete on api_tokens for each row execute function refuse_delete();

-- A quality objective: measurable (a KPI and a target) and time-bound (a due date), with an
-- owner. Retired with a reason, never deleted.
create table quality_objectives (
    objective_id bigint generated always as identity primary key,
    title text not null,
    kpi text not null,
    target double precision not null,
    due_on date not null,
    owner_id bigint not null references users (user_id),
    notes text not null,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create index quality_objectives_due on quality_objectives (due_on, objective_id) where retired_at is null;
create trigger quality_objectives_no_delete before delete on quality_objectives for each row execute function refuse_delete();

-- Each person's tiles (KPI names, comma-separated, in order); a person without a row sees every
-- KPI in the default order. Like notice_settings: one row per person, versioned.
create table dashboard_layouts (
    user_id bigint primary key references users (user_id),
    tiles text not null,
    version bigint not null default 1 check (version >= 1),
    updated_at timestamptz not null
);
