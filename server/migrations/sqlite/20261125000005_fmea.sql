-- FMEA worksheets: the FMEA (header) and its rows, one per failure chain, each row with its
-- own version. Nothing is deleted: a row taken out of the worksheet is retired.

create table fmeas (
    fmea_id integer primary key autoincrement,
    kind text not null check (kind in ('pfmea', 'dfmea')),
    fmea_number text not null,
    subject text not null,
    company text not null default '',
    location text not null default '',
    customer text not null default '',
    model_year text not null default '',
    start_date text not null,
    revision_date text not null,
    process_id integer not null references processes (process_id),
    responsible_id integer not null references users (user_id),
    team text not null default '[]',
    confidentiality text not null default 'business_use',
    -- Changes with every change to the header or any row: what a baseline signature binds.
    content_version integer not null default 1,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    retired_at text,
    retired_reason text
) strict;
create unique index fmeas_number_active on fmeas (lower(fmea_number)) where retired_at is null;

create table fmea_rows (
    row_id integer primary key autoincrement,
    fmea_id integer not null references fmeas (fmea_id),
    position integer not null,
    structure_item text not null default '',
    structure_step text not null default '',
    structure_element text not null default '',
    element_type text not null default '',
    function_item text not null default '',
    function_step text not null default '',
    function_element text not null default '',
    failure_effect text not null default '',
    severity integer,
    failure_mode text not null default '',
    failure_cause text not null default '',
    prevention_controls text not null default '',
    occurrence integer,
    detection_controls text not null default '',
    detection integer,
    ap text,
    special_characteristic text not null default '',
    filter_code text not null default '',
    prevention_action text not null default '',
    detection_action text not null default '',
    responsible_id integer references users (user_id),
    target_date text,
    action_status text not null default 'none',
    action_taken text not null default '',
    evidence text not null default '',
    completion_date text,
    revised_severity integer,
    revised_occurrence integer,
    revised_detection integer,
    revised_ap text,
    remarks text not null default '',
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    updated_by text not null default '',
    retired_at text,
    retired_reason text
) strict;
create index fmea_rows_sheet on fmea_rows (fmea_id, position);
create index fmea_rows_actions on fmea_rows (responsible_id, target_date);

create trigger fmeas_no_delete before delete on fmeas
begin select raise(abort, 'FMEAs are retired, never deleted'); end;
create trigger fmea_rows_no_delete before delete on fmea_rows
begin select raise(abort, 'FMEA rows are retired, never deleted'); end;

-- The risk register's default order (residual score, highest first) without a sort.
create index risks_residual on risks (residual_score, risk_id);

-- Which records each risk's controls cite as evidence (kept in step with the risk's controls on
-- every save; the risk and its audit trail are the record, this is its index).
create table risk_evidence (
    risk_id integer not null references risks (risk_id),
    record_type text not null,
    record_id integer not null,
    primary key (risk_id, record_type, record_id)
) strict;
create index risk_evidence_record on risk_evidence (record_type, record_id);
