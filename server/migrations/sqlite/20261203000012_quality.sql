-- Nonconformance, complaints and CAPA (domain/capa.md): numbered per kind, never reused; the
-- configurable NC categories; a CAPA's plan with actions that link to work in other modules
-- (document revisions, training assignments, FMEA rows); due-date extensions. Nothing is
-- deleted: records are cancelled with the reason, an action dropped from a plan is retired.

-- The last number given per kind (nc, complaint, capa), incremented by an upsert in the
-- creating transaction, so two records created at once never share a number.
create table quality_sequences (
    kind text primary key,
    last_value integer not null check (last_value >= 1)
) strict;

create table nc_categories (
    category_id integer primary key autoincrement,
    name text not null,
    retired_at text,
    retired_reason text
) strict;
create unique index nc_categories_name on nc_categories (lower(name)) where retired_at is null;
insert into nc_categories (name) values ('Dimensional'), ('Material'), ('Workmanship'), ('Documentation'),
    ('Labelling'), ('Packaging'), ('Contamination'), ('Equipment'), ('Process deviation'), ('Software');

create table complaints (
    complaint_id integer primary key autoincrement,
    number text not null unique,
    customer text not null,
    product text not null,
    lot text not null,
    received_on text not null,
    channel text not null check (channel in ('email', 'phone', 'web', 'field_service', 'other')),
    description text not null,
    logged_by_id integer not null references users (user_id),
    logged_by text not null,
    investigation text not null default '',
    reportable integer check (reportable in (0, 1)),
    reportable_reason text not null default '',
    response text not null default '',
    responded_on text,
    state text not null check (state in ('received', 'investigating', 'responded', 'closed', 'cancelled')),
    closed_on text,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create index complaints_received on complaints (received_on);
create index complaints_state on complaints (state, complaint_id);

create table ncs (
    nc_id integer primary key autoincrement,
    number text not null unique,
    source text not null check (source in ('internal', 'supplier', 'customer', 'audit')),
    category_id integer not null references nc_categories (category_id),
    process_id integer references processes (process_id),
    product text not null,
    lot text not null,
    quantity integer not null check (quantity >= 0),
    description text not null,
    containment text not null,
    reported_on text not null,
    reported_by integer not null references users (user_id),
    reported_by_name text not null,
    cost_scrap integer not null default 0 check (cost_scrap >= 0),
    cost_rework integer not null default 0 check (cost_rework >= 0),
    cost_warranty integer not null default 0 check (cost_warranty >= 0),
    cost_returns integer not null default 0 check (cost_returns >= 0),
    disposition text check (disposition in ('use_as_is', 'rework', 'scrap', 'return_to_supplier')),
    disposition_note text not null default '',
    dispositioned_by text,
    capa_needed integer check (capa_needed in (0, 1)),
    evaluation_rationale text not null default '',
    root_cause text check (root_cause in ('man', 'machine', 'method', 'material', 'measurement', 'environment')),
    evaluated_by text,
    evaluated_on text,
    capa_id integer references capas (capa_id),
    complaint_id integer references complaints (complaint_id),
    state text not null check (state in ('open', 'closed', 'cancelled')),
    closed_on text,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
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

-- NCs per day, category and process (0: none), kept by the triggers below in the transaction of
-- every change of an NC, so that a Pareto over a year sums a few thousand rows instead of reading
-- every NC of the year. Cancelled NCs do not count.
create table nc_day_counts (
    day text not null,
    category_id integer not null,
    process_key integer not null,
    count integer not null,
    quantity integer not null,
    cost integer not null,
    primary key (day, category_id, process_key)
) strict;
create trigger ncs_day_counts_insert after insert on ncs begin
    insert into nc_day_counts (day, category_id, process_key, count, quantity, cost)
        select new.reported_on, new.category_id, coalesce(new.process_id, 0), 1, new.quantity,
            new.cost_scrap + new.cost_rework + new.cost_warranty + new.cost_returns
        where new.state <> 'cancelled'
        on conflict (day, category_id, process_key) do update set count = count + 1,
            quantity = quantity + excluded.quantity, cost = cost + excluded.cost;
end;
create trigger ncs_day_counts_update after update of reported_on, category_id, process_id, quantity, cost_scrap,
    cost_rework, cost_warranty, cost_returns, state on ncs begin
    update nc_day_counts set count = count - 1, quantity = quantity - old.quantity,
            cost = cost - (old.cost_scrap + old.cost_rework + old.cost_warranty + old.cost_returns)
        where old.state <> 'cancelled' and day = old.reported_on and category_id = old.category_id
            and process_key = coalesce(old.process_id, 0);
    insert into nc_day_counts (day, category_id, process_key, count, quantity, cost)
        select new.reported_on, new.category_id, coalesce(new.process_id, 0), 1, new.quantity,
            new.cost_scrap + new.cost_rework + new.cost_warranty + new.cost_returns
        where new.state <> 'cancelled'
        on conflict (day, category_id, process_key) do update set count = count + 1,
            quantity = quantity + excluded.quantity, cost = cost + excluded.cost;
end;

create table capas (
    capa_id integer primary key autoincrement,
    number text not null unique,
    title text not null,
    kind text not null check (kind in ('corrective', 'preventive')),
    state text not null check (state in ('draft', 'triage', 'investigation', 'action_plan', 'implementation',
        'verification', 'effectiveness', 'closed', 'cancelled')),
    nc_id integer references ncs (nc_id),
    complaint_id integer references complaints (complaint_id),
    process_id integer references processes (process_id),
    owner_id integer references users (user_id),
    verifier_id integer references users (user_id),
    severity integer check (severity between 1 and 5),
    likelihood integer check (likelihood between 1 and 5),
    due_on text,
    original_due_on text,
    effectiveness_due_on text,
    -- Incremented when the plan (problem, whys, causes, actions) changes: what the approval signs.
    plan_version integer not null default 1,
    -- The investigation (problem, containment, whys, causes, 8D texts) as JSON.
    investigation text not null,
    -- The effectiveness checks, oldest first, as JSON.
    effectiveness text not null default '[]',
    reopen_count integer not null default 0,
    eight_d integer not null default 0 check (eight_d in (0, 1)),
    -- The category of the first confirmed cause (the suggestion model's label).
    root_cause text,
    -- Whether it has reached the investigation (for the root-cause identification rate).
    investigated integer not null default 0 check (investigated in (0, 1)),
    -- The day the problem was found (its NC's report, its complaint's receipt).
    found_on text,
    opened_on text not null,
    verification text,
    closed_on text,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text,
    check (verifier_id is null or owner_id is null or verifier_id <> owner_id)
) strict;
create index capas_state on capas (state, capa_id);
create index capas_owner on capas (owner_id, state);
create index capas_verifier on capas (verifier_id, state);
create index capas_closed on capas (closed_on) where closed_on is not null;
-- Covers what the metrics read of every CAPA, so that they do not read the investigations.
create index capas_facts on capas (state, process_id, found_on, opened_on, closed_on, original_due_on, investigated,
    root_cause, reopen_count, effectiveness);

create table capa_actions (
    action_id integer primary key autoincrement,
    capa_id integer not null references capas (capa_id),
    title text not null,
    kind text not null check (kind in ('task', 'document_revision', 'training_assignment', 'fmea_row')),
    document_revision_id integer references document_revisions (revision_id),
    training_assignment_id integer references training_assignments (assignment_id),
    fmea_row_id integer references fmea_rows (row_id),
    owner_id integer not null references users (user_id),
    due_on text not null,
    done_on text,
    created_at text not null,
    retired_at text,
    retired_reason text,
    -- Exactly the link its kind names.
    check ((kind = 'document_revision') = (document_revision_id is not null)),
    check ((kind = 'training_assignment') = (training_assignment_id is not null)),
    check ((kind = 'fmea_row') = (fmea_row_id is not null))
) strict;
create index capa_actions_capa on capa_actions (capa_id);

create table capa_extensions (
    extension_id integer primary key autoincrement,
    capa_id integer not null references capas (capa_id),
    previous_due_on text not null,
    requested_due_on text not null,
    reason text not null,
    requested_by text not null,
    requested_on text not null,
    state text not null check (state in ('pending', 'approved', 'rejected')),
    decided_by text,
    decided_at text,
    decision_reason text not null default '',
    created_at text not null
) strict;
create index capa_extensions_capa on capa_extensions (capa_id);
create unique index capa_extensions_one_pending on capa_extensions (capa_id) where state = 'pending';

create trigger nc_categories_no_delete before delete on nc_categories
    begin select raise(abort, 'categories are never deleted: retire one'); end;
create trigger complaints_no_delete before delete on complaints
    begin select raise(abort, 'complaints are never deleted: cancel one with the reason'); end;
create trigger ncs_no_delete before delete on ncs
    begin select raise(abort, 'nonconformances are never deleted: cancel one with the reason'); end;
create trigger capas_no_delete before delete on capas
    begin select raise(abort, 'CAPAs are never deleted: cancel one with the reason'); end;
create trigger capa_actions_no_delete before delete on capa_actions
    begin select raise(abort, 'CAPA actions are never deleted: retire one'); end;
create trigger capa_extensions_no_delete before delete on capa_extensions
    begin select raise(abort, 'extension requests are never deleted'); end;
