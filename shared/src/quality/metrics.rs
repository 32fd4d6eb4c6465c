//! The CAPA metrics of domain/capa.md and kpi.md, computed in one place from the facts of each
//! CAPA, and the Pareto of nonconformances. "No data" (never 0 %, never NaN) when nothing is there
//! to compute from.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::capa::{CapaState, EffectivenessResult};
use crate::kpi::percent;
use crate::org::ProcessId;

/// What the metrics need to know of one CAPA.
#[derive(Debug, Clone, PartialEq)]
pub struct CapaFacts {
    /// Its process.
    pub process_id: Option<ProcessId>,
    /// Where it stands.
    pub state: CapaState,
    /// The day the problem was found (its NC's report day or its complaint's receipt), if any.
    pub found_on: Option<NaiveDate>,
    /// The day it was opened.
    pub opened_on: NaiveDate,
    /// The day it closed.
    pub closed_on: Option<NaiveDate>,
    /// The first due date.
    pub original_due_on: Option<NaiveDate>,
    /// Whether it reached the investigation.
    pub investigated: bool,
    /// Whether a root cause is confirmed.
    pub root_cause_found: bool,
    /// Its effectiveness checks: (day, result).
    pub checks: Vec<(NaiveDate, EffectivenessResult)>,
    /// How often it was reopened.
    pub reopen_count: u32,
}

/// The CAPA metrics over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CapaMetrics {
    /// CAPAs opened in the period.
    pub opened: u32,
    /// CAPAs closed in the period.
    pub closed: u32,
    /// Days from the problem being found to the CAPA being opened: median over the CAPAs opened.
    pub time_to_open_days: Option<f64>,
    /// Of the CAPAs opened in the period that reached investigation, the percentage with a
    /// confirmed root cause.
    pub root_cause_rate: Option<f64>,
    /// Days from opening to closure of the CAPAs closed in the period: median.
    pub closure_median_days: Option<f64>,
    /// The same, 90th percentile.
    pub closure_p90_days: Option<f64>,
    /// Of the CAPAs closed in the period, the percentage closed by their first due date.
    pub on_time_rate: Option<f64>,
    /// Of the effectiveness checks with a verdict (effective or ineffective) in the period, the
    /// percentage effective.
    pub effectiveness_rate: Option<f64>,
    /// Of the CAPAs closed in the period, the percentage that had been reopened.
    pub reopen_rate: Option<f64>,
}

/// The `p`th percentile (0–100) of `values` by linear interpolation between the closest ranks
/// (Excel's PERCENTILE.INC, R's type 7): the median of an even count is the mean of the middle
/// two; the 90th percentile of 1..=10 is 9.1. `None` when empty.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() || !p.is_finite() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = p.clamp(0.0, 100.0) / 100.0 * (values.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(values[lo] + (values[hi] - values[lo]) * (rank - lo as f64))
}

fn days(from: NaiveDate, to: NaiveDate) -> f64 {
    (to - from).num_days() as f64
}

impl CapaMetrics {
    /// The metrics of `facts` over the days `from..=to`.
    pub fn compute(facts: &[CapaFacts], from: NaiveDate, to: NaiveDate) -> CapaMetrics {
        let within = |d: NaiveDate| from <= d && d <= to;
        let opened: Vec<&CapaFacts> = facts.iter().filter(|f| within(f.opened_on)).collect();
        let closed: Vec<(&CapaFacts, NaiveDate)> = facts
            .iter()
            .filter_map(|f| f.closed_on.filter(|d| f.state == CapaState::Closed && within(*d)).map(|d| (f, d)))
            .collect();
        let mut to_open: Vec<f64> =
            opened.iter().filter_map(|f| f.found_on.map(|d| days(d, f.opened_on).max(0.0))).collect();
        let investigated: Vec<&&CapaFacts> = opened.iter().filter(|f| f.investigated).collect();
        let found = investigated.iter().filter(|f| f.root_cause_found).count();
        let mut closure: Vec<f64> = closed.iter().map(|(f, d)| days(f.opened_on, *d)).collect();
        let on_time = closed.iter().filter(|(f, d)| f.original_due_on.is_some_and(|due| *d <= due)).count();
        let with_due = closed.iter().filter(|(f, _)| f.original_due_on.is_some()).count();
        let verdicts: Vec<EffectivenessResult> = facts
            .iter()
            .flat_map(|f| f.checks.iter())
            .filter(|(d, r)| within(*d) && *r != EffectivenessResult::Inconclusive)
            .map(|(_, r)| *r)
            .collect();
        let effective = verdicts.iter().filter(|r| **r == EffectivenessResult::Effective).count();
        let reopened = closed.iter().filter(|(f, _)| f.reopen_count > 0).count();
        CapaMetrics {
            opened: opened.len() as u32,
            closed: closed.len() as u32,
            time_to_open_days: percentile(&mut to_open, 50.0),
            root_cause_rate: percent(found as f64, investigated.len() as f64),
            closure_median_days: percentile(&mut closure, 50.0),
            closure_p90_days: percentile(&mut closure, 90.0),
            on_time_rate: percent(on_time as f64, with_due as f64),
            effectiveness_rate: percent(effective as f64, verdicts.len() as f64),
            reopen_rate: percent(reopened as f64, closed.len() as f64),
        }
    }
}

/// The CAPA metrics over a period and month by month (`GET /api/v1/capas/metrics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MetricsReport {
    /// Over the whole period.
    pub total: CapaMetrics,
    /// Per month of the period.
    pub months: Vec<MonthMetrics>,
}

/// One month's CAPA metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MonthMetrics {
    /// The month.
    pub period: crate::kpi::Period,
    /// Its metrics.
    pub metrics: CapaMetrics,
}

/// Complaints received in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MonthCount {
    /// The month.
    pub period: crate::kpi::Period,
    /// Complaints received (not cancelled).
    pub count: u32,
}

/// A bar of a Pareto chart: one category (or process) with its count, and the cumulative
/// share of the bars up to and including it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ParetoBar {
    /// The category's or process's id (none: "no process").
    pub id: Option<i64>,
    /// Its name.
    pub label: String,
    /// NCs.
    pub count: u64,
    /// Units affected.
    pub quantity: u64,
    /// Cost, in cents.
    pub cost: i64,
    /// Cumulative percentage of all NCs, in the chart's order.
    pub cumulative_percent: f64,
}

/// Orders bars by count (largest first, then by name) and fills in the cumulative percentage.
pub fn pareto(mut bars: Vec<ParetoBar>) -> Vec<ParetoBar> {
    bars.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    let total: u64 = bars.iter().map(|b| b.count).sum();
    let mut running = 0;
    for b in &mut bars {
        running += b.count;
        b.cumulative_percent = if total == 0 { 0.0 } else { running as f64 * 100.0 / total as f64 };
    }
    bars
}
