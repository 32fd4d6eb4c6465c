//! Demo FMEAs: a PFMEA of the gearbox machining and assembly line (about 40 failure chains,
//! some with High AP and actions in progress, some overdue) and a DFMEA of the output shaft;
//! and the generator of large worksheets for the bench and the end-to-end test
//! (`caliper seed-fmea --rows N`).
//!
//! The data is data: `server/demo/fmeas.json` holds the headers and names each worksheet's
//! CSV file, in the format the worksheet exports and imports, read here by the same
//! [`shared::worksheet::parse_csv`] as a user's import. Dates in the files are as of
//! [`FIXTURE_DATE`]; seeding moves them by the days since, so overdue actions stay overdue.

use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use serde::Deserialize;
use shared::auth::UserId;
use shared::org::ProcessId;
use shared::worksheet::{Confidentiality, FmeaId, FmeaInput, FmeaKind, RowCells, parse_csv};

use crate::storage::{AuditContext, Store, StoreError, StoreResult};

/// The day the fixture files' dates are written as of.
pub const FIXTURE_DATE: NaiveDate = NaiveDate::from_ymd_opt(2026, 12, 1).expect("a valid date");

/// One demo FMEA of `demo/fmeas.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFmea {
    kind: FmeaKind,
    fmea_number: String,
    subject: String,
    company: String,
    location: String,
    customer: String,
    model_year: String,
    /// The start date, in days from today.
    start_in_days: i64,
    /// The process's name.
    process: String,
    /// The responsible person's username.
    responsible: String,
    /// The team's usernames.
    team: Vec<String>,
    /// The worksheet's CSV file in `demo/`.
    rows: String,
}

const FMEAS: &str = include_str!("../demo/fmeas.json");

/// The worksheet files `demo/fmeas.json` names.
fn rows_file(name: &str) -> Option<&'static str> {
    match name {
        "pfmea-gb200.csv" => Some(include_str!("../demo/pfmea-gb200.csv")),
        "dfmea-gb200-shaft.csv" => Some(include_str!("../demo/dfmea-gb200-shaft.csv")),
        _ => None,
    }
}

/// `today` moved by `days` (negative: before), for demo dates written relative to today.
pub(crate) fn days_from(today: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        today.checked_add_days(Days::new(days.unsigned_abs())).unwrap_or(today)
    } else {
        today.checked_sub_days(Days::new(days.unsigned_abs())).unwrap_or(today)
    }
}

fn demo_fmeas() -> StoreResult<Vec<DemoFmea>> {
    serde_json::from_str(FMEAS).map_err(|e| StoreError::Internal(format!("demo/fmeas.json: {e}")))
}

/// A demo worksheet's rows, read as an import reads them, dated as of `today`. `user` finds a
/// user by username.
fn demo_rows(
    fmea: &DemoFmea,
    today: NaiveDate,
    user: impl Fn(&str) -> Option<(UserId, bool)>,
) -> StoreResult<Vec<RowCells>> {
    let text =
        rows_file(&fmea.rows).ok_or_else(|| StoreError::Internal(format!("no demo worksheet `{}`", fmea.rows)))?;
    let (rows, problems) = parse_csv(fmea.kind, text, FIXTURE_DATE, user);
    if let Some(p) = problems.first() {
        return Err(StoreError::Internal(format!("demo/{} line {} {}: {}", fmea.rows, p.line, p.column, p.reason)));
    }
    let shift = (today - FIXTURE_DATE).num_days();
    let moved = |d: Option<NaiveDate>| d.map(|d| days_from(d, shift));
    Ok(rows
        .into_iter()
        .map(|(_, mut c)| {
            c.target_date = moved(c.target_date);
            c.completion_date = moved(c.completion_date);
            c
        })
        .collect())
}

/// Seeds the demo PFMEA and DFMEA once (nothing when an FMEA exists); returns (created,
/// existing) rows. `processes` maps names to (id, owner), `users` usernames to ids.
pub async fn seed_fmeas(
    store: &dyn Store,
    ctx: &AuditContext,
    processes: &HashMap<String, (ProcessId, String)>,
    users: &HashMap<&str, UserId>,
) -> StoreResult<(usize, usize)> {
    let existing = store.list_fmeas().await?;
    if !existing.is_empty() {
        return Ok((0, existing.iter().map(|f| usize::try_from(f.rows).unwrap_or_default()).sum()));
    }
    let today = Utc::now().date_naive();
    let user = |name: &str| users.get(name).copied();
    let mut created = 0;
    for demo in demo_fmeas()? {
        let Some((process_id, _)) = processes.get(&demo.process) else { continue };
        let input = FmeaInput {
            kind: demo.kind,
            fmea_number: demo.fmea_number.clone(),
            subject: demo.subject.clone(),
            company: demo.company.clone(),
            location: demo.location.clone(),
            customer: demo.customer.clone(),
            model_year: demo.model_year.clone(),
            start_date: Some(days_from(today, demo.start_in_days)),
            revision_date: Some(today),
            process_id: Some(*process_id),
            responsible_id: user(&demo.responsible),
            team: demo.team.iter().filter_map(|u| user(u)).collect(),
            confidentiality: Confidentiality::BusinessUse,
            version: None,
            reason: String::new(),
        };
        let rows = demo_rows(&demo, today, |u| user(u).map(|id| (id, true)))?;
        let fmea = store.create_fmea(ctx, &input).await?;
        created += store.import_rows(ctx, fmea.id, &rows).await?;
    }
    Ok((created, 0))
}

/// Adds a PFMEA of `count` generated rows (for the bench and the end-to-end test), varied from
/// the demo PFMEA's chains; returns its id.
pub async fn generate_fmea(store: &dyn Store, ctx: &AuditContext, count: usize) -> StoreResult<Option<FmeaId>> {
    let processes = store.list_processes(false).await?;
    let Some(process) = processes.iter().find(|p| p.owner_id.is_some()) else { return Ok(None) };
    let today = Utc::now().date_naive();
    let pfmea = demo_fmeas()?.into_iter().find(|f| f.kind == FmeaKind::Pfmea);
    let Some(pfmea) = pfmea else { return Ok(None) };
    // The generated rows carry the failure chains without their actions, so whoever the file
    // names as responsible is never looked up.
    let bases: Vec<RowCells> =
        demo_rows(&pfmea, today, |_| Some((UserId(0), true)))?.into_iter().map(without_action).collect();
    if bases.is_empty() {
        return Ok(None);
    }
    let number = format!("PF-LARGE-{}", Utc::now().format("%Y%m%d%H%M%S%3f"));
    let input = FmeaInput {
        kind: FmeaKind::Pfmea,
        fmea_number: number,
        subject: format!("Generated worksheet of {count} failure chains"),
        start_date: Some(today),
        revision_date: Some(today),
        process_id: Some(process.id),
        responsible_id: process.owner_id,
        ..Default::default()
    };
    let fmea = store.create_fmea(ctx, &input).await?;
    let rows: Vec<RowCells> = (0..count)
        .map(|i| {
            let base = &bases[i % bases.len()];
            let mut c = base.clone();
            let n = i as i64;
            let step = base.structure_step.split_once(' ').map_or(base.structure_step.as_str(), |(_, s)| s);
            c.structure_step = format!("OP{:04} {step}", (i / 4 + 1) * 10);
            c.failure_mode = format!("{} #{}", base.failure_mode, i + 1);
            c.severity = Some(n % 10 + 1);
            c.occurrence = Some((n / 10) % 10 + 1);
            c.detection = Some((n / 100) % 10 + 1);
            c
        })
        .collect();
    store.import_rows(ctx, fmea.id, &rows).await?;
    Ok(Some(fmea.id))
}

/// A row's failure chain without its optimization (action, ratings after it).
fn without_action(c: RowCells) -> RowCells {
    RowCells {
        structure_item: c.structure_item,
        structure_step: c.structure_step,
        structure_element: c.structure_element,
        element_type: c.element_type,
        function_item: c.function_item,
        function_step: c.function_step,
        function_element: c.function_element,
        failure_effect: c.failure_effect,
        severity: c.severity,
        failure_mode: c.failure_mode,
        failure_cause: c.failure_cause,
        prevention_controls: c.prevention_controls,
        occurrence: c.occurrence,
        detection_controls: c.detection_controls,
        detection: c.detection,
        special_characteristic: c.special_characteristic,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_worksheets_read_without_a_problem_and_keep_their_actions() {
        let names: HashMap<&str, UserId> =
            crate::seed::DEMO_USERS.iter().enumerate().map(|(i, u)| (u.0, UserId(i as i64 + 1))).collect();
        let today = FIXTURE_DATE.checked_add_days(Days::new(10)).unwrap();
        let fmeas = demo_fmeas().unwrap();
        assert_eq!(fmeas.len(), 2);
        let pfmea = demo_rows(&fmeas[0], today, |u| names.get(u).map(|id| (*id, true))).unwrap();
        assert!(pfmea.len() >= 40, "{} chains", pfmea.len());
        let actions: Vec<_> = pfmea.iter().filter(|r| r.responsible_id.is_some()).collect();
        assert_eq!(actions.len(), 8, "seven open actions and one completed");
        // Dates follow today: an action due 10 days before the fixture date is still overdue.
        assert!(actions.iter().any(|r| r.target_date.is_some_and(|d| d < today)));
        let dfmea = demo_rows(&fmeas[1], today, |u| names.get(u).map(|id| (*id, true))).unwrap();
        assert!(!dfmea.is_empty());
    }
}
