-- The dashboard (domain/kpi.md): measurements from outside systems, one value per series and
-- month (a correction makes the next version; the audit trail keeps the old value); KPI targets
-- from a month on (a trend shows the target that applied in each month); and month-end values
-- of the KPIs computed from live records (training completion, overdue work), kept by the
-- server's clock so that their trend has a past.

create table measurements (
    measurement_id bigint generated always as identity primary key,
    series text not null check (series in ('units_produced', 'units_rejected', 'units_received',
        'incoming_rejected', 'revenue', 'scrap_cost', 'rework_cost', 'warranty_cost', 'returns_cost')),
    period text not null check (length(period) = 7),
    value double precision not null check (value >= 0),
    source text not null,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (series, period)
);

create table kpi_targets (
    target_id bigint generated always as identity primary key,
    kpi text not null,
    from_period text not null check (length(from_period) = 7),
    value double precision not null,
    at_risk double precision not null,
    version bigint not null default 1 check (version >= 1),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (kpi, from_period)
);

-- Derived, not a controlled record: recomputed from the records it summarises.
create table kpi_snapshots (
    kpi text not null,
    period text not null check (length(period) = 7),
    value double precision not null,
    updated_at timestamptz not null,
    primary key (kpi, period)
);

create trigger measurements_no_delete before delete on measurements for each row execute function refuse_delete();
create trigger kpi_targets_no_delete before delete on kpi_targets for each row execute function refuse_delete();
