-- Risk matrices (versioned; a revision takes effect when approved by signature) and the risk
-- register. Nothing is deleted.

create table risk_matrices (
    matrix_id bigint generated always as identity primary key,
    created_at timestamptz not null
);

create table risk_matrix_revisions (
    revision_id bigint generated always as identity primary key,
    matrix_id bigint not null references risk_matrices (matrix_id),
    revision bigint not null check (revision >= 1),
    definition text not null,
    change_note text not null,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text,
    unique (matrix_id, revision)
);

create table risks (
    risk_id bigint generated always as identity primary key,
    title text not null,
    description text not null default '',
    category text not null,
    process_id bigint not null references processes (process_id),
    owner_id bigint not null references users (user_id),
    status text not null check (status in ('identified', 'assessed', 'treated', 'accepted', 'closed')),
    review_date date not null,
    matrix_revision_id bigint not null references risk_matrix_revisions (revision_id),
    inherent_likelihood bigint not null,
    inherent_severity bigint not null,
    inherent_score bigint not null,
    inherent_zone text not null,
    residual_likelihood bigint not null,
    residual_severity bigint not null,
    residual_score bigint not null,
    residual_zone text not null,
    controls text not null default '[]',
    acceptance_rationale text not null default '',
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
-- The heatmap's aggregation reads only this index.
create index risks_heatmap on risks (matrix_revision_id, status, inherent_likelihood, inherent_severity,
    residual_likelihood, residual_severity);
create index risks_owner on risks (owner_id, review_date);
create index risks_process on risks (process_id);
create index risks_review on risks (review_date);

create trigger risk_matrices_no_delete before delete on risk_matrices for each row execute function refuse_delete();
create trigger risk_matrix_revisions_no_delete before delete on risk_matrix_revisions for each row execute function refuse_delete();
create trigger risks_no_delete before delete on risks for each row execute function refuse_delete();
