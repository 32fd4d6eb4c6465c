-- FMEA worksheets: the FMEA (header) and its rows, one per failure chain, each row with its
-- own version. Nothing is deleted: a row taken out of the worksheet is retired.

create table fmeas (
    fmea_id bigint generated always as identity primary key,
    kind text not null check (kind in ('pfmea', 'dfmea')),
    fmea_number text not null,
    subject text not null,
    company text not null default '',
    location text not null default '',
    customer text not null default '',
    model_year text not null default '',
    start_date date not null,
    revision_date date not null,
    process_id bigint not null references processes (process_id),
    responsible_id bigint not null references users (user_id),
    team text not null default '[]',
    confidentiality text not null default 'business_use',
    -- Changes with every change to the header or any row: what a baseline signature binds.
    content_version bigint not null default 1,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    retired_at timestamptz,
    retired_reason text
);
create unique index fmeas_number_active on fmeas (lower(fmea_number)) where retired_at is null;

create table fmea_rows (
    row_id bigint generated always as identity primary key,
    fmea_id bigint not null references fmeas (fmea_id),
    position bigint not null,
    structure_item text not null default '',
    structure_step text not null default '',
    structure_element text not null default '',
    element_type text not null default '',
    function_item text not null default '',
    function_step text not null default '',
    function_element text not null default '',
    failure_effect text not null default '',
    severity bigint,
    failure_mode text not null default '',
    failure_cause text not null default '',
    prevention_controls text not null default '',
    occurrence bigint,
    detection_controls text not null default '',
    detection bigint,
    ap text,
    special_characteristic text not null default '',
    filter_code text not null default '',
    prevention_action text not null default '',
    detection_action text not null default '',
    responsible_id bigint references users (user_id),
    target_date date,
    action_status text not null default 'none',
    action_taken text not null default '',
    evidence text not null default '',
    completion_date date,
    revised_severity bigint,
    revised_occurrence bigint,
    revised_detection bigint,
    revised_ap text,
    remarks text not null default '',
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    updated_by text not null default '',
    retired_at timestamptz,
    retired_reason text
);
create index fmea_rows_sheet on fmea_rows (fmea_id, position);
create index fmea_rows_actions on fmea_rows (responsible_id, target_date);

create trigger fmeas_no_delete before delete on fmeas for each row execute function refuse_delete();
create trigger fmea_rows_no_delete before delete on fmea_rows for each row execute function refuse_delete();

-- The risk register's default order (residual score, highest first) without a sort.
create index risks_residual on risks (residual_score, risk_id);

-- Which records each risk's controls cite as evidence (kept in step with the risk's controls on
-- every save; the risk and its audit trail are the record, this is its index).
create table risk_evidence (
    risk_id bigint not null references risks (risk_id),
    record_type text not null,
    record_id bigint not null,
    primary key (risk_id, record_type, record_id)
);
create index risk_evidence_record on risk_evidence (record_type, record_id);
