//! The dashboard (domain/kpi.md): every KPI of `shared::kpi` as a tile with its latest value,
//! its status against the target that applied, and a trend of 12 periods (weeks, months or
//! quarters, as the KPI's target says); the records behind overdue work; measurements from
//! outside systems (form, CSV, API: [`measurements`]); targets from a month on; the quality
//! objectives and each person's tiles ([`objectives`]).
//!
//! Where each KPI's numbers come from is decided here, in [`tile`]: measurements for the
//! defect rates and the cost of poor quality; the training matrix and the work lists (live this
//! period, kept month-end values before) for training completion and overdue work; the CAPAs and
//! complaints for theirs. The tile of a module not built yet (audits) says which module it needs.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::List;
use shared::kpi::{Cadence, Kpi, Period, Series, Span, TargetInput, Tile, percent};
use shared::register::WorkItem;
use shared::training::Matrix;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::dashboard::ProcessRecords;
use crate::storage::{AuditContext, Store, StoreResult};

pub mod measurements;
pub mod objectives;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/dashboard/tiles/{kpi}", get(one_tile))
        .route("/dashboard/overdue", get(overdue))
        .route("/dashboard/targets", get(list_targets).post(set_target))
        .route("/measurements", get(measurements::list_measurements).post(measurements::record_measurements))
        .route("/measurements/import", axum::routing::post(measurements::import_measurements))
        .route("/dashboard/objectives", get(objectives::list_objectives).post(objectives::create_objective))
        .route("/dashboard/objectives/{id}", axum::routing::put(objectives::update_objective))
        .route("/dashboard/objectives/{id}/retire", axum::routing::post(objectives::retire_objective))
        .route("/me/dashboard", get(objectives::my_layout).put(objectives::set_my_layout))
}

/// Periods in a trend (weeks, months or quarters: the KPI's cadence).
pub const TREND_PERIODS: usize = 12;

/// The dashboard: every tile.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// The day the numbers are for (UTC).
    pub today: NaiveDate,
    /// The tiles, in the default order.
    pub tiles: Vec<Tile>,
}

/// Everything overdue in the organisation: risk reviews, FMEA actions, periodic reviews of
/// documents, training, CAPAs and nonconformances.
pub async fn overdue_items(store: &dyn Store, today: NaiveDate) -> StoreResult<Vec<WorkItem>> {
    overdue_items_in(store, today, None).await
}

/// [`overdue_items`], of one process when `scope` says which records are its: its risks, FMEAs,
/// documents, CAPAs and NCs, and the training of its department's people.
pub async fn overdue_items_in(
    store: &dyn Store,
    today: NaiveDate,
    scope: Option<&ProcessRecords>,
) -> StoreResult<Vec<WorkItem>> {
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let mut items = store.work_items(None, today, yesterday).await?;
    items.extend(store.action_items(None, today, yesterday).await?);
    items.extend(store.review_items(None, today, yesterday).await?);
    let training = store.overdue_assignments(today).await?;
    let theirs = |user: i64| scope.is_none_or(|s| s.people.contains(&user));
    items.extend(training.iter().filter(|a| theirs(a.user_id.0)).map(|a| a.work_item(true)));
    let (_, capas) = store.overdue_capas(today, 1000).await?;
    items.extend(capas.iter().map(|c| WorkItem {
        kind: format!("CAPA ({})", c.state.label()),
        record_type: "capa".into(),
        record_id: c.id.0,
        reference: c.number.clone(),
        title: c.title.clone(),
        due: c.due_on.unwrap_or(c.opened_on),
        overdue: true,
    }));
    let (_, ncs) = store.overdue_ncs(nc_due_before(today), 1000).await?;
    items.extend(ncs.iter().map(|n| WorkItem {
        kind: "Nonconformance".into(),
        record_type: "nc".into(),
        record_id: n.id.0,
        reference: n.number.clone(),
        title: n.description.chars().take(120).collect(),
        due: n.reported_on.checked_add_days(Days::new(shared::quality::NC_DUE_DAYS as u64)).unwrap_or(n.reported_on),
        overdue: true,
    }));
    if let Some(scope) = scope {
        items.retain(|w| {
            let of = match w.record_type.as_str() {
                "risk" => &scope.risks,
                "fmea" => &scope.fmeas,
                "document" => &scope.documents,
                "capa" => &scope.capas,
                "nc" => &scope.ncs,
                // Already the department's people's.
                "training_assignment" => return true,
                _ => return false,
            };
            of.contains(&w.record_id)
        });
    }
    items.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.reference.cmp(&b.reference)));
    Ok(items)
}

/// What the KPIs read that is costly to compute (the training matrix, the CAPA facts, the NC
/// costs), each kept with the newest audit entry about the records it is made of (which every
/// change moves, on any instance) and read again only after such a change. The matrix page and
/// the CAPA register share theirs.
#[derive(Debug, Default)]
pub struct KpiCache {
    matrix: std::sync::Mutex<Option<(i64, NaiveDate, Arc<Matrix>)>>,
    capa_facts: std::sync::Mutex<Option<(i64, Arc<Vec<shared::quality::CapaFacts>>)>>,
    nc_costs: std::sync::Mutex<Option<KeptCosts>>,
}

/// The costs recorded on NCs per day: scrap, rework, warranty, returns (cents).
type NcCosts = Vec<(NaiveDate, [i64; 4])>;
/// NC costs as kept: the newest NC's audit entry, the days they cover, the costs.
type KeptCosts = (i64, NaiveDate, NaiveDate, Arc<NcCosts>);

/// The costs recorded on the NCs reported `from..=to`, read once per change of an NC (100,000
/// NCs: a year of them summed per day is 35–50 ms on PostgreSQL).
async fn nc_costs(
    store: &dyn Store,
    from: NaiveDate,
    to: NaiveDate,
    cache: Option<&KpiCache>,
) -> StoreResult<Arc<NcCosts>> {
    let head = store.audit_head_of(&["nc"]).await?;
    if let Some(Ok(kept)) = cache.map(|c| c.nc_costs.lock())
        && let Some((seq, a, b, costs)) = kept.as_ref()
        && (*seq, *a, *b) == (head, from, to)
    {
        return Ok(costs.clone());
    }
    let costs = Arc::new(store.nc_costs(from, to).await?);
    if let Some(Ok(mut kept)) = cache.map(|c| c.nc_costs.lock()) {
        *kept = Some((head, from, to, costs.clone()));
    }
    Ok(costs)
}

/// The kinds of record the CAPA facts are made of: the CAPAs and the NCs and complaints that
/// say when each problem was found.
const CAPA_FACT_INPUTS: &[&str] = &["capa", "nc", "complaint"];

/// What the CAPA metrics need of every CAPA, read once per change of the records it is made of
/// (kept with the newest audit entry about them, like the training matrix: a measurement or a
/// sign-in does not read them again): the CAPA register's metrics and the dashboard's tile share
/// it.
pub async fn capa_facts(
    store: &dyn Store,
    cache: Option<&KpiCache>,
) -> StoreResult<Arc<Vec<shared::quality::CapaFacts>>> {
    let head = store.audit_head_of(CAPA_FACT_INPUTS).await?;
    if let Some(Ok(kept)) = cache.map(|c| c.capa_facts.lock())
        && let Some((seq, facts)) = kept.as_ref()
        && *seq == head
    {
        return Ok(facts.clone());
    }
    let facts = Arc::new(store.capa_facts().await?);
    if let Some(Ok(mut kept)) = cache.map(|c| c.capa_facts.lock()) {
        *kept = Some((head, facts.clone()));
    }
    Ok(facts)
}

/// The training matrix on `today`, from `cache` when none of its inputs changed since it was
/// computed (the newest audit entry about a record the matrix is made of: a sign-in or a
/// measurement does not make it compute again).
pub async fn training_matrix(
    store: &dyn Store,
    today: NaiveDate,
    cache: Option<&KpiCache>,
) -> StoreResult<Arc<Matrix>> {
    let head = store.audit_head_of(Kpi::TrainingCompletion.inputs()).await?;
    if let Some(Ok(kept)) = cache.map(|c| c.matrix.lock())
        && let Some((seq, day, matrix)) = kept.as_ref()
        && *seq == head
        && *day == today
    {
        return Ok(matrix.clone());
    }
    let matrix = Arc::new(store.matrix(today).await?);
    if let Some(Ok(mut kept)) = cache.map(|c| c.matrix.lock()) {
        *kept = Some((head, today, matrix.clone()));
    }
    Ok(matrix)
}

/// An open NC reported before this day is overdue.
fn nc_due_before(today: NaiveDate) -> NaiveDate {
    today.checked_sub_days(Days::new(shared::quality::NC_DUE_DAYS as u64)).unwrap_or(today)
}

/// How much work is overdue now: the tile's number, without building the list.
pub async fn overdue_count(store: &dyn Store, today: NaiveDate) -> StoreResult<usize> {
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    Ok(store.work_items(None, today, yesterday).await?.len()
        + store.action_items(None, today, yesterday).await?.len()
        + store.review_items(None, today, yesterday).await?.len()
        + store.count_overdue_assignments(today).await?
        + store.overdue_capas(today, 0).await?.0
        + store.overdue_ncs(nc_due_before(today), 0).await?.0)
}

/// Training completion now, in percent of the required cells ("no data" when nothing is
/// required).
pub async fn training_completion(
    store: &dyn Store,
    today: NaiveDate,
    cache: Option<&KpiCache>,
) -> StoreResult<Option<f64>> {
    let rates = training_matrix(store, today, cache).await?.completion_by_department();
    let (done, required) = rates.iter().fold((0u32, 0u32), |(d, r), x| (d + x.completed, r + x.required));
    Ok(percent(f64::from(done), f64::from(required)))
}

/// Keeps this month's values of the KPIs computed from live records, so that their trend has
/// a past (the server's clock calls it, with the app's cache: the matrix is computed again only
/// after a change).
pub async fn keep_month_end(store: &dyn Store, today: NaiveDate, cache: &KpiCache) -> StoreResult<()> {
    let month = Period::of(today);
    if let Some(v) = training_completion(store, today, Some(cache)).await? {
        store.put_snapshot(Kpi::TrainingCompletion, month, v).await?;
    }
    let overdue = overdue_count(store, today).await?;
    store.put_snapshot(Kpi::OverdueWork, month, overdue as f64).await?;
    Ok(())
}

/// One process's view of the dashboard: the process and the ids of its records.
#[derive(Debug, Clone)]
pub struct ProcessView {
    /// The process.
    pub process: shared::org::Process,
    /// Its records, and its department's people.
    pub records: ProcessRecords,
}

/// The view of `process_id` (none: the organisation's); 404 for an unknown process.
pub async fn process_view(store: &dyn Store, process_id: Option<i64>) -> ApiResult<Option<ProcessView>> {
    let Some(id) = process_id else { return Ok(None) };
    let process =
        store.get_process(shared::org::ProcessId(id)).await?.ok_or_else(|| ApiError::not_found("No such process."))?;
    let records = store.process_records(process.id, process.department_id).await?;
    Ok(Some(ProcessView { process, records }))
}

/// `?process_id=N`: one process's view.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcessQuery {
    /// Only this process: its risks, FMEAs, documents, CAPAs and NCs, and its department's
    /// people's training (tiles of KPIs not kept per process stay the organisation's, with a note).
    pub process_id: Option<i64>,
}

/// An app path's query value, percent-encoded (RFC 3986 unreserved characters kept).
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One KPI's tile on `today`, for one process when `view` says which (see [`tile`]): overdue
/// work, training completion and CAPA closure time are counted on the process's records (their
/// past periods are kept for the organisation only, so a process's trend starts with this period
/// for the first two); measurements (defect rates, COPQ) and complaints are not kept per process:
/// their tiles stay the organisation's, with [`shared::kpi::NOT_PER_PROCESS`].
pub async fn tile_for(
    store: &dyn Store,
    kpi: Kpi,
    today: NaiveDate,
    cache: Option<&KpiCache>,
    view: Option<&ProcessView>,
) -> StoreResult<Tile> {
    let Some(view) = view else { return tile(store, kpi, today, cache).await };
    let targets = Targets::of(store, kpi, today).await?;
    let periods = targets.periods(today);
    let target_at = |p: Span| targets.at(p);
    let now = periods[TREND_PERIODS - 1];
    let mut t = match kpi {
        Kpi::DefectRate | Kpi::SupplierDefectRate | Kpi::Copq | Kpi::CustomerComplaints => {
            let mut t = tile(store, kpi, today, cache).await?;
            t.scope_note = Some(shared::kpi::NOT_PER_PROCESS.into());
            return Ok(t);
        }
        Kpi::OverdueWork => {
            let count = overdue_items_in(store, today, Some(&view.records)).await?.len() as f64;
            let drill = format!("/dashboard/overdue?process_id={}", view.process.id.0);
            Tile::build(kpi, &periods, target_at, |p| (p == now).then_some(count), &drill)
        }
        Kpi::TrainingCompletion => {
            let department = &view.process.department_name;
            let rate = training_matrix(store, today, cache)
                .await?
                .completion_by_department()
                .into_iter()
                .find(|d| d.department == *department)
                .and_then(|d| percent(f64::from(d.completed), f64::from(d.required)));
            let drill = format!("/training/matrix?department={}", query_value(department));
            Tile::build(kpi, &periods, target_at, |p| if p == now { rate } else { None }, &drill)
        }
        Kpi::CapaClosureTime => {
            let all = capa_facts(store, cache).await?;
            let id = view.process.id;
            let facts: Vec<_> = all.iter().filter(|f| f.process_id == Some(id)).cloned().collect();
            let value_at = |p: Span| {
                shared::quality::CapaMetrics::compute(&facts, p.first_day(), p.last_day()).closure_median_days
            };
            // The CAPA register has no process filter in its address: the drill opens it whole.
            Tile::build(kpi, &periods, target_at, value_at, "/quality/capas")
        }
        Kpi::AuditFindings => Tile::build(kpi, &periods, target_at, |_| None, ""),
    };
    t.scope = Some(view.process.name.clone());
    Ok(t)
}

/// A KPI's target changes, oldest first: the target in force in each period, and the cadence
/// of its trend (the one in force this month).
struct Targets {
    default: shared::kpi::Target,
    changes: Vec<(Period, shared::kpi::Target)>,
    cadence: Cadence,
}

impl Targets {
    async fn of(store: &dyn Store, kpi: Kpi, today: NaiveDate) -> StoreResult<Targets> {
        let changes: Vec<_> =
            store.list_targets().await?.into_iter().filter(|(k, ..)| *k == kpi).map(|(_, p, t)| (p, t)).collect();
        let month = Period::of(today);
        let cadence = changes.iter().rev().find(|(from, _)| *from <= month).map_or(Cadence::Month, |(_, t)| t.cadence);
        Ok(Targets { default: kpi.def().target, changes, cadence })
    }

    /// The target in force at the end of `p` (a change from a month on applies to the week or
    /// quarter that month ends), in the trend's cadence.
    fn at(&self, p: Span) -> shared::kpi::Target {
        let month = Period::of(p.last_day());
        let t = self.changes.iter().rev().find(|(from, _)| *from <= month).map_or(self.default, |(_, t)| *t);
        shared::kpi::Target { cadence: self.cadence, ..t }
    }

    /// The trend's periods: the last [`TREND_PERIODS`] of the cadence, ending with today's.
    fn periods(&self, today: NaiveDate) -> Vec<Span> {
        Span::of(self.cadence, today).last(TREND_PERIODS)
    }
}

/// The value of a ratio over a period's months: the sums of numerator and denominator over the
/// months that have both (a quarter with a month not reported yet is the quarter so far).
fn ratio_over(p: Span, part: impl Fn(Period) -> Option<f64>, whole: impl Fn(Period) -> Option<f64>) -> Option<f64> {
    let (mut num, mut den, mut any) = (0.0, 0.0, false);
    for m in p.months() {
        if let (Some(a), Some(b)) = (part(m), whole(m)) {
            (num, den, any) = (num + a, den + b, true);
        }
    }
    if any { percent(num, den) } else { None }
}

/// One KPI's tile on `today`.
pub async fn tile(store: &dyn Store, kpi: Kpi, today: NaiveDate, cache: Option<&KpiCache>) -> StoreResult<Tile> {
    let targets = Targets::of(store, kpi, today).await?;
    let periods = targets.periods(today);
    let first = periods[0].first_day();
    let target_at = |p: Span| targets.at(p);
    let drill = |series: Series| format!("/dashboard/measurements?series={}", series.as_str());
    Ok(match kpi {
        Kpi::DefectRate | Kpi::SupplierDefectRate | Kpi::Copq => {
            let mut sums: HashMap<(Series, Period), f64> = HashMap::new();
            for m in store.list_measurements(None, Some(Period::of(first))).await? {
                *sums.entry((m.series, m.period)).or_default() += m.value;
            }
            // The cost of poor quality: where the ERP reports a kind of cost for a month it is
            // taken; otherwise the costs recorded on that month's NCs (never both, so nothing is
            // counted twice).
            let mut recorded: HashMap<(Series, Period), f64> = HashMap::new();
            if kpi == Kpi::Copq {
                let kinds = [Series::ScrapCost, Series::ReworkCost, Series::WarrantyCost, Series::ReturnsCost];
                for (day, cents) in nc_costs(store, first, today, cache).await?.iter() {
                    for (series, c) in kinds.iter().zip(cents) {
                        *recorded.entry((*series, Period::of(*day))).or_default() += *c as f64 / 100.0;
                    }
                }
            }
            let get = |s: Series, m: Period| sums.get(&(s, m)).copied();
            let cost = |s: Series, m: Period| get(s, m).or_else(|| recorded.get(&(s, m)).copied());
            let value_at = |p: Span| match kpi {
                Kpi::DefectRate => ratio_over(p, |m| get(Series::UnitsRejected, m), |m| get(Series::UnitsProduced, m)),
                Kpi::SupplierDefectRate => {
                    ratio_over(p, |m| get(Series::IncomingRejected, m), |m| get(Series::UnitsReceived, m))
                }
                _ => {
                    let costs = [Series::ScrapCost, Series::ReworkCost, Series::WarrantyCost, Series::ReturnsCost];
                    let known = |m: Period| {
                        let known: Vec<f64> = costs.iter().filter_map(|s| cost(*s, m)).collect();
                        (!known.is_empty()).then(|| known.iter().sum())
                    };
                    ratio_over(p, known, |m| get(Series::Revenue, m))
                }
            };
            let series = match kpi {
                Kpi::DefectRate => Series::UnitsRejected,
                Kpi::SupplierDefectRate => Series::IncomingRejected,
                _ => Series::ScrapCost,
            };
            Tile::build(kpi, &periods, target_at, value_at, &drill(series))
        }
        Kpi::TrainingCompletion | Kpi::OverdueWork => {
            let kept: HashMap<Period, f64> = store
                .list_snapshots(Period::of(first))
                .await?
                .into_iter()
                .filter(|(k, ..)| *k == kpi)
                .map(|(_, p, v)| (p, v))
                .collect();
            let now = if kpi == Kpi::TrainingCompletion {
                training_completion(store, today, cache).await?
            } else {
                Some(overdue_count(store, today).await? as f64)
            };
            // The value at the period's end: now for this period, else the one kept at the end
            // of the month it ends with.
            let value_at = |p: Span| if p.contains(today) { now } else { kept.get(&Period::of(p.last_day())).copied() };
            let drill = if kpi == Kpi::TrainingCompletion { "/training/matrix" } else { "/dashboard/overdue" };
            Tile::build(kpi, &periods, target_at, value_at, drill)
        }
        Kpi::CapaClosureTime => {
            let facts = capa_facts(store, cache).await?;
            let value_at = |p: Span| {
                shared::quality::CapaMetrics::compute(&facts, p.first_day(), p.last_day()).closure_median_days
            };
            Tile::build(kpi, &periods, target_at, value_at, "/quality/capas")
        }
        Kpi::CustomerComplaints => {
            let days = store.complaint_days(first, today).await?;
            let value_at = |p: Span| Some(days.iter().filter(|d| p.contains(**d)).count() as f64);
            Tile::build(kpi, &periods, target_at, value_at, "/quality/complaints")
        }
        Kpi::AuditFindings => Tile::build(kpi, &periods, target_at, |_| None, ""),
    })
}

/// Every tile: each KPI's latest value, its status against the target of that period, and its
/// trend over 12 periods (its cadence) with the target that applied in each.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "dashboard", params(ProcessQuery),
    responses((status = 200, body = Dashboard), (status = 404, body = shared::ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProcessQuery>,
) -> ApiResult<Json<Dashboard>> {
    let today = Utc::now().date_naive();
    let view = process_view(state.store.as_ref(), q.process_id).await?;
    let mut tiles = Vec::with_capacity(Kpi::ALL.len());
    for kpi in Kpi::ALL {
        tiles.push(tile_for(state.store.as_ref(), kpi, today, Some(&state.kpis), view.as_ref()).await?);
    }
    Ok(Json(Dashboard { today, tiles }))
}

/// One tile (a page refreshes only the tiles whose records changed).
#[utoipa::path(get, path = "/api/v1/dashboard/tiles/{kpi}", tag = "dashboard",
    params(("kpi" = String, Path, description = "The KPI, e.g. `defect_rate`"), ProcessQuery),
    responses((status = 200, body = Tile), (status = 404, body = shared::ErrorBody)))]
pub async fn one_tile(
    State(state): State<AppState>,
    ApiPath(kpi): ApiPath<String>,
    ApiQuery(q): ApiQuery<ProcessQuery>,
) -> ApiResult<Json<Tile>> {
    let kpi = Kpi::parse(&kpi).ok_or_else(|| ApiError::not_found("No such KPI."))?;
    let view = process_view(state.store.as_ref(), q.process_id).await?;
    let today = Utc::now().date_naive();
    Ok(Json(tile_for(state.store.as_ref(), kpi, today, Some(&state.kpis), view.as_ref()).await?))
}

/// The records behind "overdue work": every risk review, FMEA action and training assignment
/// past its due date, oldest first (others' training only as far as one reads their training).
#[utoipa::path(get, path = "/api/v1/dashboard/overdue", tag = "dashboard", params(ProcessQuery),
    responses((status = 200, body = List<WorkItem>), (status = 404, body = shared::ErrorBody)))]
pub async fn overdue(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ProcessQuery>,
) -> ApiResult<Json<List<WorkItem>>> {
    let today = Utc::now().date_naive();
    let view = process_view(state.store.as_ref(), q.process_id).await?;
    let mut items = overdue_items_in(state.store.as_ref(), today, view.as_ref().map(|v| &v.records)).await?;
    // Whose training is late follows the training rule (super::training::training_scope):
    // everyone's for those who read training records, a process owner's people's, otherwise
    // one's own; the tile counts everyone's.
    let scope = super::training::training_scope(&state, &user).await?;
    if scope != super::training::TrainingScope::All {
        let visible: std::collections::HashSet<i64> = state
            .store
            .overdue_assignments(today)
            .await?
            .iter()
            .filter(|a| scope.contains(a.user_id))
            .map(|a| a.id.0)
            .collect();
        items.retain(|w| w.record_type != "training_assignment" || visible.contains(&w.record_id));
    }
    // An FMEA's confidentiality (Fmea::readable_by) holds here too: the overdue action is
    // counted and listed, its words are not shown to who may not read the FMEA.
    if items.iter().any(|w| w.record_type == "fmea") {
        let fmeas = state.store.list_fmeas().await?;
        for w in items.iter_mut().filter(|w| w.record_type == "fmea") {
            if let Some(f) = fmeas.iter().find(|f| f.id.0 == w.record_id && !f.readable_by(user.id, &user.roles)) {
                w.title = format!("An action of a {} FMEA", f.confidentiality.label().to_lowercase());
            }
        }
    }
    Ok(Json(List { items }))
}

/// A KPI's target and cadence from a month on.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TargetChange {
    /// The KPI.
    pub kpi: Kpi,
    /// The first month it applies to.
    pub from: Period,
    /// The target.
    pub value: f64,
    /// The at-risk limit.
    pub at_risk: f64,
    /// The periods it is judged over.
    pub cadence: Cadence,
}

/// Every target change (a KPI without one uses its default from `shared::kpi`).
#[utoipa::path(get, path = "/api/v1/dashboard/targets", tag = "dashboard",
    responses((status = 200, body = List<TargetChange>)))]
pub async fn list_targets(State(state): State<AppState>) -> ApiResult<Json<List<TargetChange>>> {
    let items = state
        .store
        .list_targets()
        .await?
        .into_iter()
        .map(|(kpi, from, t)| TargetChange { kpi, from, value: t.value, at_risk: t.at_risk, cadence: t.cadence })
        .collect();
    Ok(Json(List { items }))
}

/// Set a KPI's target, at-risk limit and cadence (week, month, quarter: see the KPI's
/// `cadences`) from a month on; earlier periods keep the target they had, and the trend is drawn
/// in the cadence in force this month.
#[utoipa::path(post, path = "/api/v1/dashboard/targets", tag = "dashboard", request_body = TargetInput,
    responses((status = 204), (status = 422, body = shared::ErrorBody)))]
pub async fn set_target(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<TargetInput>,
) -> ApiResult<StatusCode> {
    let from = input
        .validate()
        .map_err(|e| ApiError::invalid(e).with_message("The target is not valid; nothing was saved."))?;
    let target = shared::kpi::Target { value: input.value, at_risk: input.at_risk, cadence: input.cadence };
    state.store.set_target(&ctx, input.kpi, from, target).await?;
    Ok(StatusCode::NO_CONTENT)
}
