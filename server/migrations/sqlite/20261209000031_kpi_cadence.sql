-- A KPI's target also says how often it is judged: per ISO week, calendar month or quarter.
alter table kpi_targets add column cadence text not null default 'month'
    check (cadence in ('week', 'month', 'quarter'));
