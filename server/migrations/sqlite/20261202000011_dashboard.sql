-- The dashboard (domain/kpi.md): measurements from outside systems, one value per series and
-- month (a correction makes the next version; the audit trail keeps the old value); KPI targets
-- from a month on (a trend shows the target that applied in each month); and month-end values
-- of the KPIs computed from live records (training completion, overdue work), kept by the
-- server's clock so that their trend has a past.

create table measurements (
    measurement_id integer primary key autoincrement,
    series text not null check (series in ('units_produced', 'units_rejected', 'units_received',
        'incoming_rejected', 'revenue', 'scrap_cost', 'rework_cost', 'warranty_cost', 'returns_cost')),
    period text not null check (length(period) = 7),
    value real not null check (value >= 0),
    source text not null,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    unique (series, period)
) strict;

create table kpi_targets (
    target_id integer primary key autoincrement,
    kpi text not null,
    from_period text not null check (length(from_period) = 7),
    value real not null,
    at_risk real not null,
    version integer not null default 1 check (version >= 1),
    created_at text not null,
    updated_at text not null,
    unique (kpi, from_period)
) strict;

-- Derived, not a controlled record: recomputed from the records it summarises.
create table kpi_snapshots (
    kpi text not null,
    period text not null check (length(period) = 7),
    value real not null,
    updated_at text not null,
    primary key (kpi, period)
) strict;

create trigger measurements_no_delete before delete on measurements
    begin select raise(abort, 'measurements are never deleted: correct one with a new value'); end;
create trigger kpi_targets_no_delete before delete on kpi_targets
    begin select raise(abort, 'KPI targets are never deleted: set a new one from a later month'); end;
