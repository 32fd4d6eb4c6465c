-- Risk matrices (versioned; a revision takes effect when approved by signature) and the risk
-- register. Nothing is deleted.

create table risk_matrices (
    matrix_id integer primary key autoincrement,
    created_at text not null
) strict;

create table risk_matrix_revisions (
    revision_id integer primary key autoincrement,
    matrix_id integer not null references risk_matrices (matrix_id),
    revision integer not null check (revision >= 1),
    definition text not null,
    change_note text not null,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text,
    unique (matrix_id, revision)
) strict;

create table risks (
    risk_id integer primary key autoincrement,
    title text not null,
    description text not null default '',
    category text not null,
    process_id integer not null references processes (process_id),
    owner_id integer not null references users (user_id),
    status text not null check (status in ('identified', 'assessed', 'treated', 'accepted', 'closed')),
    review_date text not null,
    matrix_revision_id integer not null references risk_matrix_revisions (revision_id),
    inherent_likelihood integer not null,
    inherent_severity integer not null,
    inherent_score integer not null,
    inherent_zone text not null,
    residual_likelihood integer not null,
    residual_severity integer not null,
    residual_score integer not null,
    residual_zone text not null,
    controls text not null default '[]',
    acceptance_rationale text not null default '',
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
-- The heatmap's aggregation reads only this index.
create index risks_heatmap on risks (matrix_revision_id, status, inherent_likelihood, inherent_severity,
    residual_likelihood, residual_severity);
create index risks_owner on risks (owner_id, review_date);
create index risks_process on risks (process_id);
create index risks_review on risks (review_date);

create trigger risk_matrices_no_delete before delete on risk_matrices
begin select raise(abort, 'risk matrices are never deleted'); end;
create trigger risk_matrix_revisions_no_delete before delete on risk_matrix_revisions
begin select raise(abort, 'risk matrix revisions are never deleted'); end;
create trigger risks_no_delete before delete on risks
begin select raise(abort, 'risks are closed, never deleted'); end;
