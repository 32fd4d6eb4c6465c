-- Nonconformance, complaints and CAPA (domain/capa.md): numbered per kind, never reused; the
-- configurable NC categories; a CAPA's plan with actions that link to work in other modules
-- (document revisions, training assignments, FMEA rows); due-date extensions. Nothing is
-- deleted: records are cancelled with the reason, an action dropped from a plan is retired.

-- The last number given per kind (nc, complaint, capa), incremented by an upsert in the
-- creating transaction, so two records created at once never share a number.
create table quality_sequences (
    kind text primary key,
    last_value bigint not null check (last_value >= 1)
);

create table nc_categories (
    category_id bigint generated always as identity primary key,
    name text not null,
    retired_at timestamptz,
    retired_reason text
);
create unique index nc_categories_name on nc_categories (lower(name)) where retired_at is null;
insert into nc_categories (name) values ('Dimensional'), ('Material'), ('Workmanship'), ('Documentation'),
    ('Labelling'), ('Packaging'), ('Contamination'), ('Equipment'), ('Process deviation'), ('Software');

create table complaints (
    complaint_id bigint generated always as identity primary key,
    number text not null unique,
    customer text not null,
    product text not null,
    lot text not null,
    received_on date not null,
    channel text not null check (channel in ('email', 'phone', 'web', 'field_service', 'other')),
    description text not null,
    logged_by_id bigint not null references users (user_id),
    logged_by text not null,
    investigation text not null default '',
    reportable bigint check (reportable in (0, 1)),
    reportable_reason text not null default '',
    response text not null default '',
    responded_on date,
    state text not null check (state in ('received', 'investigating', 'responded', 'closed', 'cancelled')),
    closed_on date,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create index complaints_received on complaints (received_on);
create index complaints_state on complaints (state, complaint_id);

create table ncs (
    nc_id bigint generated always as identity primary key,
    number text not null unique,
    source text not null check (source in ('internal', 'supplier', 'customer', 'audit')),
    category_id bigint not null references nc_categories (category_id),
    process_id bigint references processes (process_id),
    product text not null,
    lot text not null,
    quantity bigint not null check (quantity >= 0),
    description text not null,
    containment text not null,
    reported_on date not null,
    reported_by bigint not null references users (user_id),
    reported_by_name text not null,
    cost_scrap bigint not null default 0 check (cost_scrap >= 0),
    cost_rework bigint not null default 0 check (cost_rework >= 0),
    cost_warranty bigint not null default 0 check (cost_warranty >= 0),
    cost_returns bigint not null default 0 check (cost_returns >= 0),
    disposition text check (disposition in ('use_as_is', 'rework', 'scrap', 'return_to_supplier')),
    disposition_note text not null default '',
    dispositioned_by text,
    capa_needed bigint check (capa_needed in (0, 1)),
    evaluation_rationale text not null default '',
    root_cause text check (root_cause in ('man', 'machine', 'method', 'material', 'measurement', 'environment')),
    evaluated_by text,
    evaluated_on date,
    capa_id bigint,
    complaint_id bigint references complaints (complaint_id),
    state text not null check (state in ('open', 'closed', 'cancelled')),
    closed_on date,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
-- The register pages newest first within a filter; the Pareto reads a period.
create index ncs_state on ncs (state, nc_id);
create index ncs_category on ncs (category_id, nc_id);
-- A supplier's or a customer's NCs of one category (a rare pair would otherwise read the category).
create index ncs_source_category on ncs (source, category_id, nc_id);
create index ncs_process on ncs (process_id, nc_id);
-- Covers the Pareto: the period's rows are read from the index alone.
create index ncs_reported on ncs (reported_on, state, category_id, process_id, quantity, cost_scrap, cost_rework,
    cost_warranty, cost_returns);
create index ncs_capa on ncs (capa_id) where capa_id is not null;
create index ncs_complaint on ncs (complaint_id) where complaint_id is not null;

-- NCs per day, category and process (0: none), kept by the trigger below in the transaction of
-- every change of an NC, so that a Pareto over a year sums a few thousand rows instead of reading
-- every NC of the year. Cancelled NCs do not count.
create table nc_day_counts (
    day date not null,
    category_id bigint not null,
    process_key bigint not null,
    count bigint not null,
    quantity bigint not null,
    cost bigint not null,
    primary key (day, category_id, process_key)
);
create function nc_day_counts_keep() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE' and old.state <> 'cancelled' then
        update nc_day_counts set count = count - 1, quantity = quantity - old.quantity,
                cost = cost - (old.cost_scrap + old.cost_rework + old.cost_warranty + old.cost_returns)
            where day = old.reported_on and category_id = old.category_id
                and process_key = coalesce(old.process_id, 0);
    end if;
    if new.state <> 'cancelled' then
        insert into nc_day_counts (day, category_id, process_key, count, quantity, cost)
            values (new.reported_on, new.category_id, coalesce(new.process_id, 0), 1, new.quantity,
                new.cost_scrap + new.cost_rework + new.cost_warranty + new.cost_returns)
            on conflict (day, category_id, process_key) do update set count = nc_day_counts.count + 1,
                quantity = nc_day_counts.quantity + excluded.quantity, cost = nc_day_counts.cost + excluded.cost;
    end if;
    return null;
end $$;
create trigger ncs_day_counts after insert or update of reported_on, category_id, process_id, quantity, cost_scrap,
    cost_rework, cost_warranty, cost_returns, state on ncs for each row execute function nc_day_counts_keep();

create table capas (
    capa_id bigint generated always as identity primary key,
    number text not null unique,
    title text not null,
    kind text not null check (kind in ('corrective', 'preventive')),
    state text not null check (state in ('draft', 'triage', 'investigation', 'action_plan', 'implementation',
        'verification', 'effectiveness', 'closed', 'cancelled')),
    nc_id bigint references ncs (nc_id),
    complaint_id bigint references complaints (complaint_id),
    process_id bigint references processes (process_id),
    owner_id bigint references users (user_id),
    verifier_id bigint references users (user_id),
    severity bigint check (severity between 1 and 5),
    likelihood bigint check (likelihood between 1 and 5),
    due_on date,
    original_due_on date,
    effectiveness_due_on date,
    -- Incremented when the plan (problem, whys, causes, actions) changes: what the approval signs.
    plan_version bigint not null default 1,
    -- The investigation (problem, containment, whys, causes, 8D texts) as JSON.
    investigation text not null,
    -- The effectiveness checks, oldest first, as JSON.
    effectiveness text not null default '[]',
    reopen_count bigint not null default 0,
    eight_d bigint not null default 0 check (eight_d in (0, 1)),
    -- The category of the first confirmed cause (the suggestion model's label).
    root_cause text,
    -- Whether it has reached the investigation (for the root-cause identification rate).
    investigated bigint not null default 0 check (investigated in (0, 1)),
    -- The day the problem was found (its NC's report, its complaint's receipt).
    found_on date,
    opened_on date not null,
    verification text,
    closed_on date,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text,
    check (verifier_id is null or owner_id is null or verifier_id <> owner_id)
);
create index capas_state on capas (state, capa_id);
create index capas_owner on capas (owner_id, state);
create index capas_verifier on capas (verifier_id, state);
create index capas_closed on capas (closed_on) where closed_on is not null;
-- Covers what the metrics read of every CAPA, so that they do not read the investigations.
create index capas_facts on capas (state, process_id, found_on, opened_on, closed_on, original_due_on, investigated,
    root_cause, reopen_count, effectiveness);

create table capa_actions (
    action_id bigint generated always as identity primary key,
    capa_id bigint not null references capas (capa_id),
    title text not null,
    kind text not null check (kind in ('task', 'document_revision', 'training_assignment', 'fmea_row')),
    document_revision_id bigint references document_revisions (revision_id),
    training_assignment_id bigint references training_assignments (assignment_id),
    fmea_row_id bigint references fmea_rows (row_id),
    owner_id bigint not null references users (user_id),
    due_on date not null,
    done_on date,
    created_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text,
    -- Exactly the link its kind names.
    check ((kind = 'document_revision') = (document_revision_id is not null)),
    check ((kind = 'training_assignment') = (training_assignment_id is not null)),
    check ((kind = 'fmea_row') = (fmea_row_id is not null))
);
create index capa_actions_capa on capa_actions (capa_id);

create table capa_extensions (
    extension_id bigint generated always as identity primary key,
    capa_id bigint not null references capas (capa_id),
    previous_due_on date not null,
    requested_due_on date not null,
    reason text not null,
    requested_by text not null,
    requested_on date not null,
    state text not null check (state in ('pending', 'approved', 'rejected')),
    decided_by text,
    decided_at timestamptz,
    decision_reason text not null default '',
    created_at timestamptz not null
);
create index capa_extensions_capa on capa_extensions (capa_id);
create unique index capa_extensions_one_pending on capa_extensions (capa_id) where state = 'pending';

alter table ncs add constraint ncs_capa_fk foreign key (capa_id) references capas (capa_id);

create trigger nc_categories_no_delete before delete on nc_categories for each row execute function refuse_delete();
create trigger complaints_no_delete before delete on complaints for each row execute function refuse_delete();
create trigger ncs_no_delete before delete on ncs for each row execute function refuse_delete();
create trigger capas_no_delete before delete on capas for each row execute function refuse_delete();
create trigger capa_actions_no_delete before delete on capa_actions for each row execute function refuse_delete();
create trigger capa_extensions_no_delete before delete on capa_extensions for each row execute function refuse_delete();
