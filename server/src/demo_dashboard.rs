//! Demo dashboard data: two years of monthly measurements from the "ERP", "MES" and finance
//! (`server/demo/measurements.csv`, months counted back from today) in which the defect rate
//! improves to its target, the supplier defect rate stays on target and the cost of poor quality
//! stays off target; the defect-rate target tightened six months ago; and the kept month-end
//! values of training completion and overdue work for the eleven months before this one, leading
//! up to today's live values (the demo's stand-in for the history a running server keeps).
//! Three quality objectives (`server/demo/objectives.csv`, due dates counted on from today) whose
//! KPIs' demo trends make one achieved (defect rate), one at risk (cost of poor quality) and one
//! on track (supplier defect rate).

use std::collections::HashMap;

use chrono::{Months, Utc};
use shared::auth::UserId;
use shared::kpi::{Cadence, Kpi, MeasurementInput, ObjectiveInput, Period, Series, Target};

use crate::storage::{AuditContext, Store, StoreError, StoreResult};

const MEASUREMENTS: &str = include_str!("../demo/measurements.csv");
const OBJECTIVES: &str = include_str!("../demo/objectives.csv");

/// Seeds the demo quality objectives once (nothing when one exists), through the same
/// validation as the API: returns (created, existing). `people` maps usernames to users.
pub async fn seed_objectives(
    store: &dyn Store,
    ctx: &AuditContext,
    people: &HashMap<&str, (UserId, String)>,
) -> StoreResult<(usize, usize)> {
    let existing = store.list_objectives(true).await?;
    if !existing.is_empty() {
        return Ok((0, existing.len()));
    }
    let bad = |line: usize, what: &str| StoreError::Internal(format!("demo/objectives.csv line {line}: {what}"));
    let records = shared::csv::read(OBJECTIVES).map_err(|e| bad(e.line, "not CSV"))?;
    let today = Utc::now().date_naive();
    let mut created = 0;
    for r in records.iter().skip(1).filter(|r| r.cells.iter().any(|c| !c.trim().is_empty())) {
        let [title, kpi, target, months, owner, notes] = &r.cells[..] else { return Err(bad(r.line, "six cells")) };
        let months: u32 = months.parse().map_err(|_| bad(r.line, "due_in_months"))?;
        let input = ObjectiveInput {
            title: title.clone(),
            kpi: Kpi::parse(kpi).ok_or_else(|| bad(r.line, "kpi"))?,
            target: target.parse().map_err(|_| bad(r.line, "target"))?,
            due_on: today.checked_add_months(Months::new(months)).ok_or_else(|| bad(r.line, "due_in_months"))?,
            owner_id: people.get(owner.as_str()).ok_or_else(|| bad(r.line, "owner"))?.0,
            notes: notes.clone(),
            version: None,
        }
        .normalized();
        input.validate().map_err(|e| bad(r.line, &format!("{e:?}")))?;
        store.create_objective(ctx, &input).await?;
        created += 1;
    }
    Ok((created, 0))
}

/// Seeds the demo dashboard once (nothing when a measurement exists): returns (created, existing).
pub async fn seed_dashboard(store: &dyn Store, ctx: &AuditContext) -> StoreResult<(usize, usize)> {
    let existing = store.list_measurements(None, None).await?;
    if !existing.is_empty() {
        return Ok((0, existing.len()));
    }
    let this_month = Period::of(Utc::now().date_naive());
    let back = |n: usize| (0..n).fold(this_month, |p, _| p.prev());
    let bad = |line: usize, what: &str| StoreError::Internal(format!("demo/measurements.csv line {line}: {what}"));
    let mut rows = Vec::new();
    for (i, line) in MEASUREMENTS.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.splitn(4, ',').collect();
        let [ago, series, value, source] = cells[..] else { return Err(bad(i + 1, "four cells")) };
        let ago: usize = ago.parse().map_err(|_| bad(i + 1, "months_ago"))?;
        let series = Series::parse(series).ok_or_else(|| bad(i + 1, "series"))?;
        let value: f64 = value.parse().map_err(|_| bad(i + 1, "value"))?;
        let period = back(ago);
        rows.push((MeasurementInput { series, period: period.to_string(), value, source: source.into() }, period));
    }
    let created = store.record_measurements(ctx, &rows).await?;
    store
        .set_target(ctx, Kpi::DefectRate, back(6), Target { value: 0.8, at_risk: 1.2, cadence: Cadence::Month })
        .await?;
    // The kept month-ends lead up to today's live values: training completion climbing to it,
    // overdue work coming down to it.
    let today = Utc::now().date_naive();
    let completion = crate::routes::dashboard::training_completion(store, today, None).await?.unwrap_or(0.0);
    let overdue = crate::routes::dashboard::overdue_count(store, today).await? as f64;
    for ago in 1..=11 {
        let t = ago as f64 / 11.0;
        store.put_snapshot(Kpi::TrainingCompletion, back(ago), (completion - 12.0 * t).max(0.0)).await?;
        store.put_snapshot(Kpi::OverdueWork, back(ago), (overdue + 9.0 * t).round()).await?;
    }
    Ok((created, 0))
}
