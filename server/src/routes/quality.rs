//! Nonconformance, complaints and CAPA (domain/capa.md): anyone raises an NC or logs a
//! complaint; the quality manager dispositions (a qualified role), evaluates, opens and triages
//! CAPAs, approves plans by signature (`POST /signatures`, record type `capa`, meaning
//! `approved`) and extensions; the owner investigates and implements; the verifier (never the
//! owner) verifies and judges effectiveness. Every step is one `POST …/steps` with the version
//! last seen; the rules are [`shared::quality`]'s.
//!
//! A refused step answers with the field errors naming why: 403 when it is someone else's to
//! take (`not_qualified`, `not_owner`, `not_verifier`, `verifier_is_owner`), 409 when the record
//! is not in a state that allows it (`wrong_state`) or linked work is open, 422 otherwise.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::List;
use shared::auth::Permission;
use shared::kpi::Period;
use shared::quality::capa::{ActionId, ExtensionId, NOT_OWNER, NOT_VERIFIER};
use shared::quality::{
    ActionInput, Capa, CapaFilter, CapaId, CapaInput, CapaMetrics, CapaStep, CapaSummary, CapaUpdate, Category,
    Complaint, ComplaintId, ComplaintInput, ComplaintStep, ExtensionDecision, ExtensionInput, MetricsReport,
    MonthCount, MonthMetrics, NOT_QUALIFIED, Nc, NcFilter, NcId, NcInput, NcStep, ParetoBar, ParetoBy,
    VERIFIER_IS_OWNER, WRONG_STATE,
};

use std::sync::Arc;

use super::{change_response, with_etag};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::{AuditContext, Change, QualityActor, StoreError};
use crate::suggest::{self, Model, ModelAccuracy, Suggestions};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/nc-categories", get(list_categories).post(create_category))
        .route("/ncs", get(list_ncs).post(create_nc))
        .route("/ncs/pareto", get(nc_pareto))
        .route("/ncs/{id}", get(get_nc).put(update_nc))
        .route("/ncs/{id}/steps", post(nc_step))
        .route("/complaints", get(list_complaints).post(create_complaint))
        .route("/complaints/counts", get(complaint_counts))
        .route("/complaints/{id}", get(get_complaint))
        .route("/complaints/{id}/steps", post(complaint_step))
        .route("/capas", get(list_capas).post(create_capa))
        .route("/capas/metrics", get(capa_metrics))
        .route("/capas/{id}", get(get_capa).put(update_capa))
        .route("/capas/{id}/steps", post(capa_step))
        .route("/capas/{id}/actions", post(add_action))
        .route("/capas/{id}/actions/{action}/done", post(complete_action))
        .route("/capas/{id}/actions/{action}/retire", post(retire_action))
        .route("/capas/{id}/extensions", post(request_extension))
        .route("/capas/{id}/extensions/{extension}/decision", post(decide_extension))
        .route("/quality/suggestions", post(suggest))
        .route("/quality/model", get(model_report).post(retrain))
}

/// The suggestion model, kept between requests: trained on first use, and again when the closed
/// records with a known root cause have grown by a tenth (at least 10) since.
#[derive(Default)]
pub struct SuggestionModel {
    model: tokio::sync::Mutex<Option<Trained>>,
}

#[derive(Clone)]
struct Trained {
    model: Arc<Model>,
    report: ModelReport,
    /// When the size of the history was last compared with the model's.
    checked: std::time::Instant,
}

/// How often a suggestion checks whether enough records closed to retrain (counting them reads
/// the whole register).
const RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

/// What the model learned from and how well it does on held-out records.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModelReport {
    /// Closed records with a confirmed root cause it learned from.
    pub trained_on: usize,
    /// When it was trained (UTC).
    pub trained_at: chrono::DateTime<Utc>,
    /// Milliseconds the training took (the held-out evaluation included).
    pub training_ms: u64,
    /// Top-1 and top-3 accuracy on every fifth record, held out, against the majority class.
    pub evaluation: Option<ModelAccuracy>,
}

impl SuggestionModel {
    /// The current model, retrained first when `force` or when enough new records closed (looked
    /// at once a minute at most).
    async fn current(&self, state: &AppState, force: bool) -> ApiResult<Trained> {
        let mut slot = self.model.lock().await;
        let due = force || slot.as_ref().is_none_or(|t| t.checked.elapsed() >= RECHECK);
        if due {
            let count = usize::try_from(state.store.count_labelled().await?).unwrap_or(0);
            let stale = slot.as_ref().is_none_or(|t| {
                count >= t.report.trained_on + (t.report.trained_on / 10).max(10) || count < t.report.trained_on
            });
            if force || stale {
                let history = state.store.labelled_history().await?;
                let started = std::time::Instant::now();
                let (model, evaluation) = tokio::task::spawn_blocking(move || {
                    let evaluation = suggest::evaluate(&history, 5);
                    (Model::train(&history), evaluation)
                })
                .await
                .map_err(ApiError::internal)?;
                let report = ModelReport {
                    trained_on: model.size(),
                    trained_at: Utc::now(),
                    training_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    evaluation,
                };
                *slot = Some(Trained { model: Arc::new(model), report, checked: std::time::Instant::now() });
            } else if let Some(t) = slot.as_mut() {
                t.checked = std::time::Instant::now();
            }
        }
        slot.clone().ok_or_else(|| ApiError::internal("the suggestion model was not trained"))
    }
}

/// What to suggest for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestInput {
    /// The description of the new NC or CAPA (problem, what was found).
    pub text: String,
}

/// Root-cause suggestions for a description: the three most likely fishbone categories with a
/// confidence, and the five most similar closed records, from a model trained on this
/// organisation's closed NCs and CAPAs inside Caliper. Suggestions only: nothing is filled in.
#[utoipa::path(post, path = "/api/v1/quality/suggestions", tag = "quality", request_body = SuggestInput,
    responses((status = 200, body = Suggestions), (status = 422, body = shared::ErrorBody)))]
pub async fn suggest(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SuggestInput>,
) -> ApiResult<Json<Suggestions>> {
    let mut e = shared::FieldErrors::new();
    shared::validation::text(&mut e, "text", &input.text, true, shared::quality::TEXT_MAX);
    if !e.is_empty() {
        return Err(ApiError::invalid(e).with_message("Describe the problem to get suggestions."));
    }
    let trained = state.suggestions.current(&state, false).await?;
    Ok(Json(trained.model.suggest(&input.text)))
}

/// The suggestion model: how many records it learned from and its held-out accuracy.
#[utoipa::path(get, path = "/api/v1/quality/model", tag = "quality", responses((status = 200, body = ModelReport)))]
pub async fn model_report(State(state): State<AppState>) -> ApiResult<Json<ModelReport>> {
    Ok(Json(state.suggestions.current(&state, false).await?.report))
}

/// Retrain the suggestion model now (quality manager).
#[utoipa::path(post, path = "/api/v1/quality/model", tag = "quality", responses((status = 200, body = ModelReport)))]
pub async fn retrain(State(state): State<AppState>) -> ApiResult<Json<ModelReport>> {
    Ok(Json(state.suggestions.current(&state, true).await?.report))
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn actor(user: &CurrentUser) -> QualityActor {
    QualityActor {
        user: user.id,
        manager: user.can(Permission::ManageQuality),
        disposition: user.can(Permission::DispositionNonconformances),
    }
}

/// A refused step: 403 when it is someone else's to take, 409 when the record's state does not
/// allow it, 422 for missing or bad input; always with the field errors and their sentences.
fn refused(e: StoreError, noun: &str) -> ApiError {
    let StoreError::Invalid(fields) = e else { return e.into() };
    let has = |code: &str| fields.0.values().any(|codes| codes.iter().any(|c| c == code));
    let (status, what) = if [NOT_QUALIFIED, NOT_OWNER, NOT_VERIFIER, VERIFIER_IS_OWNER].iter().any(|c| has(c)) {
        (StatusCode::FORBIDDEN, "You may not take this step")
    } else if has(WRONG_STATE) {
        (StatusCode::CONFLICT, "This step is not possible now")
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, "The step is not complete")
    };
    let why = fields
        .0
        .values()
        .flatten()
        .map(|c| shared::validation::describe(c))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(" ");
    ApiError::new(status, format!("{what} on this {noun}; nothing was changed. {why}")).with_field_errors(fields)
}

fn respond<T: Serialize>(
    r: Result<Change<T>, StoreError>,
    noun: &str,
    version: impl Fn(&T) -> i64,
) -> ApiResult<Response> {
    change_response(r.map_err(|e| refused(e, noun))?, noun, version)
}

// ---------------------------------------------------------------------------------------------
// Categories

/// The NC categories (the configurable list), by name.
#[utoipa::path(get, path = "/api/v1/nc-categories", tag = "quality",
    responses((status = 200, body = List<Category>)))]
pub async fn list_categories(State(state): State<AppState>) -> ApiResult<Json<List<Category>>> {
    Ok(Json(List { items: state.store.list_categories().await? }))
}

/// A new category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// Its name, unique among active categories.
    pub name: String,
}

/// Add a category to the list (quality manager).
#[utoipa::path(post, path = "/api/v1/nc-categories", tag = "quality", request_body = CategoryInput,
    responses((status = 201, body = Category), (status = 422, body = shared::ErrorBody)))]
pub async fn create_category(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<CategoryInput>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    Ok((StatusCode::CREATED, Json(state.store.create_category(&ctx, &input.name).await?)))
}

// ---------------------------------------------------------------------------------------------
// Nonconformances

/// The NC register: newest first, filtered, a page at a time (`before_id`: the last id of the
/// previous page).
#[utoipa::path(get, path = "/api/v1/ncs", tag = "quality", params(NcFilter),
    responses((status = 200, body = List<Nc>)))]
pub async fn list_ncs(State(state): State<AppState>, ApiQuery(f): ApiQuery<NcFilter>) -> ApiResult<Json<List<Nc>>> {
    Ok(Json(List { items: state.store.list_ncs(&f).await? }))
}

/// Raise a nonconformance (anyone): where it was found, its category, process, product,
/// quantity, description, containment, the day found and its cost.
#[utoipa::path(post, path = "/api/v1/ncs", tag = "quality", request_body = NcInput,
    responses((status = 201, body = Nc), (status = 422, body = shared::ErrorBody)))]
pub async fn create_nc(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<NcInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input
        .validate(today())
        .map_err(|e| ApiError::invalid(e).with_message("The nonconformance is not complete; nothing was saved."))?;
    let nc = state.store.create_nc(&ctx, user.id, &input).await?;
    Ok(with_etag(StatusCode::CREATED, nc.meta.version, &nc))
}

/// One NC.
#[utoipa::path(get, path = "/api/v1/ncs/{id}", tag = "quality", params(("id" = i64, Path, description = "The NC")),
    responses((status = 200, body = Nc), (status = 404, body = shared::ErrorBody)))]
pub async fn get_nc(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let nc = state.store.get_nc(NcId(id)).await?.ok_or_else(|| ApiError::not_found("No such nonconformance."))?;
    Ok(with_etag(StatusCode::OK, nc.meta.version, &nc))
}

/// Correct an open NC (the person who raised it, or the quality manager), with `version`.
#[utoipa::path(put, path = "/api/v1/ncs/{id}", tag = "quality", request_body = NcInput,
    params(("id" = i64, Path, description = "The NC")),
    responses((status = 200, body = Nc), (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn update_nc(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NcInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    respond(state.store.update_nc(&ctx, NcId(id), &input, actor(&user), today()).await, "nonconformance", |n: &Nc| {
        n.meta.version
    })
}

/// Take a step on an NC: `disposition` (a qualified role), `evaluate` ("CAPA needed?" with the
/// rationale), `link_capa` (open a new CAPA for it, or link an open one), `close`, `cancel`.
#[utoipa::path(post, path = "/api/v1/ncs/{id}/steps", tag = "quality", request_body = NcStep,
    params(("id" = i64, Path, description = "The NC")),
    responses((status = 200, body = Nc), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn nc_step(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(step): ApiJson<NcStep>,
) -> ApiResult<Response> {
    respond(state.store.nc_step(&ctx, NcId(id), &step, actor(&user)).await, "nonconformance", |n: &Nc| n.meta.version)
}

/// Query of the Pareto.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParetoQuery {
    /// `category` (default) or `process`.
    #[serde(default)]
    pub by: ParetoBy,
    /// First day (default: a year before `to`).
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    pub to: Option<NaiveDate>,
}

/// NCs reported in a period by category or by process, largest first, with the cumulative share.
#[utoipa::path(get, path = "/api/v1/ncs/pareto", tag = "quality", params(ParetoQuery),
    responses((status = 200, body = List<ParetoBar>)))]
pub async fn nc_pareto(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ParetoQuery>,
) -> ApiResult<Json<List<ParetoBar>>> {
    let to = q.to.unwrap_or_else(today);
    let from = q.from.unwrap_or_else(|| to.checked_sub_months(Months::new(12)).unwrap_or(to).succ_opt().unwrap_or(to));
    if from > to {
        return Err(ApiError::invalid_field("from".into(), shared::quality::TOO_EARLY, "`from` is after `to`."));
    }
    Ok(Json(List { items: state.store.nc_pareto(q.by, from, to).await? }))
}

// ---------------------------------------------------------------------------------------------
// Complaints

/// Query of the complaint list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplaintQuery {
    /// Open ones only.
    #[serde(default)]
    pub open: bool,
}

/// The newest complaints (500 at most), with their linked NCs and CAPAs.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "quality", params(ComplaintQuery),
    responses((status = 200, body = List<Complaint>)))]
pub async fn list_complaints(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ComplaintQuery>,
) -> ApiResult<Json<List<Complaint>>> {
    Ok(Json(List { items: state.store.list_complaints(q.open).await? }))
}

/// Log a complaint (anyone): customer, product, lot, the day received, channel, description.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "quality", request_body = ComplaintInput,
    responses((status = 201, body = Complaint), (status = 422, body = shared::ErrorBody)))]
pub async fn create_complaint(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<ComplaintInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input
        .validate(today())
        .map_err(|e| ApiError::invalid(e).with_message("The complaint is not complete; nothing was saved."))?;
    let c = state.store.create_complaint(&ctx, user.id, &input).await?;
    Ok(with_etag(StatusCode::CREATED, c.meta.version, &c))
}

/// One complaint with its links.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "quality",
    params(("id" = i64, Path, description = "The complaint")),
    responses((status = 200, body = Complaint), (status = 404, body = shared::ErrorBody)))]
pub async fn get_complaint(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let c =
        state.store.get_complaint(ComplaintId(id)).await?.ok_or_else(|| ApiError::not_found("No such complaint."))?;
    Ok(with_etag(StatusCode::OK, c.meta.version, &c))
}

/// Take a step on a complaint (quality manager): `investigate`, `reportability`, `link_nc`,
/// `respond`, `close`, `cancel`.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/steps", tag = "quality", request_body = ComplaintStep,
    params(("id" = i64, Path, description = "The complaint")),
    responses((status = 200, body = Complaint), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn complaint_step(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(step): ApiJson<ComplaintStep>,
) -> ApiResult<Response> {
    let r = state.store.complaint_step(&ctx, ComplaintId(id), &step, actor(&user), today()).await;
    respond(r, "complaint", |c: &Complaint| c.meta.version)
}

/// Complaints received per month over the last 12 months (the KPI's series).
#[utoipa::path(get, path = "/api/v1/complaints/counts", tag = "quality",
    responses((status = 200, body = List<MonthCount>)))]
pub async fn complaint_counts(State(state): State<AppState>) -> ApiResult<Json<List<MonthCount>>> {
    let periods = Period::of(today()).last(12);
    let (from, to) = (periods[0].first_day(), periods[periods.len() - 1].last_day());
    let days = state.store.complaint_days(from, to).await?;
    let items = periods
        .iter()
        .map(|p| MonthCount { period: *p, count: days.iter().filter(|d| Period::of(**d) == *p).count() as u32 })
        .collect();
    Ok(Json(List { items }))
}

// ---------------------------------------------------------------------------------------------
// CAPAs

/// The CAPA register, newest first (1,000 at most).
#[utoipa::path(get, path = "/api/v1/capas", tag = "quality", params(CapaFilter),
    responses((status = 200, body = List<CapaSummary>)))]
pub async fn list_capas(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<CapaFilter>,
) -> ApiResult<Json<List<CapaSummary>>> {
    Ok(Json(List { items: state.store.list_capas(&f).await? }))
}

/// Open a CAPA in draft (quality manager), from an NC or a complaint or on its own.
#[utoipa::path(post, path = "/api/v1/capas", tag = "quality", request_body = CapaInput,
    responses((status = 201, body = Capa), (status = 422, body = shared::ErrorBody)))]
pub async fn create_capa(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<CapaInput>,
) -> ApiResult<Response> {
    input.validate().map_err(|e| ApiError::invalid(e).with_message("The CAPA is not complete; nothing was saved."))?;
    let capa = state.store.create_capa(&ctx, &input, today()).await?;
    Ok(with_etag(StatusCode::CREATED, capa.meta.version, &capa))
}

/// One CAPA with its actions (and where their linked work stands), extensions and checks.
#[utoipa::path(get, path = "/api/v1/capas/{id}", tag = "quality", params(("id" = i64, Path, description = "The CAPA")),
    responses((status = 200, body = Capa), (status = 404, body = shared::ErrorBody)))]
pub async fn get_capa(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let c = state.store.get_capa(CapaId(id)).await?.ok_or_else(|| ApiError::not_found("No such CAPA."))?;
    Ok(with_etag(StatusCode::OK, c.meta.version, &c))
}

/// Change a CAPA's text: title, process, the investigation (5 whys, fishbone causes with
/// evidence; frozen once the plan is submitted), the 8D texts. A due date is refused here
/// (`use_extension`).
#[utoipa::path(put, path = "/api/v1/capas/{id}", tag = "quality", request_body = CapaUpdate,
    params(("id" = i64, Path, description = "The CAPA")),
    responses((status = 200, body = Capa), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn update_capa(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(update): ApiJson<CapaUpdate>,
) -> ApiResult<Response> {
    let update = update.normalized();
    respond(state.store.update_capa(&ctx, CapaId(id), &update, actor(&user)).await, "CAPA", |c: &Capa| c.meta.version)
}

/// Take a step of the CAPA's lifecycle (see `CapaStep`). Completing the implementation while
/// linked work is open answers 409 naming the work.
#[utoipa::path(post, path = "/api/v1/capas/{id}/steps", tag = "quality", request_body = CapaStep,
    params(("id" = i64, Path, description = "The CAPA")),
    responses((status = 200, body = Capa), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn capa_step(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(step): ApiJson<CapaStep>,
) -> ApiResult<Response> {
    let r = state.store.capa_step(&ctx, CapaId(id), &step, actor(&user), today()).await;
    respond(r, "CAPA", |c: &Capa| c.meta.version)
}

/// Add an action to the plan (during the investigation): a task, or a link to a document
/// revision, a training assignment or an FMEA row.
#[utoipa::path(post, path = "/api/v1/capas/{id}/actions", tag = "quality", request_body = ActionInput,
    params(("id" = i64, Path, description = "The CAPA")),
    responses((status = 200, body = Capa), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn add_action(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ActionInput>,
) -> ApiResult<Response> {
    let r = state.store.add_action(&ctx, CapaId(id), &input, actor(&user), today()).await;
    respond(r, "CAPA", |c: &Capa| c.meta.version)
}

/// The CAPA's version last seen, with a reason where one is asked for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionInput {
    /// The CAPA's version last seen.
    pub version: i64,
    /// Why (to drop an action).
    #[serde(default)]
    pub reason: String,
}

/// Mark a task of the plan done (during the implementation).
#[utoipa::path(post, path = "/api/v1/capas/{id}/actions/{action}/done", tag = "quality", request_body = VersionInput,
    params(("id" = i64, Path, description = "The CAPA"), ("action" = i64, Path, description = "The action")),
    responses((status = 200, body = Capa), (status = 403, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody)))]
pub async fn complete_action(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath((id, action)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<VersionInput>,
) -> ApiResult<Response> {
    let r = state.store.complete_action(&ctx, CapaId(id), ActionId(action), input.version, actor(&user), today()).await;
    respond(r, "CAPA", |c: &Capa| c.meta.version)
}

/// Drop an action from the plan, with the reason (during the investigation; it stays on record).
#[utoipa::path(post, path = "/api/v1/capas/{id}/actions/{action}/retire", tag = "quality", request_body = VersionInput,
    params(("id" = i64, Path, description = "The CAPA"), ("action" = i64, Path, description = "The action")),
    responses((status = 200, body = Capa), (status = 403, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody)))]
pub async fn retire_action(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath((id, action)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<VersionInput>,
) -> ApiResult<Response> {
    let r =
        state.store.retire_action(&ctx, CapaId(id), ActionId(action), input.version, &input.reason, actor(&user)).await;
    respond(r, "CAPA", |c: &Capa| c.meta.version)
}

/// Request a later due date, with the reason (the owner or the quality manager); the quality
/// manager decides. The first due date stays, and on-time metrics count it.
#[utoipa::path(post, path = "/api/v1/capas/{id}/extensions", tag = "quality", request_body = ExtensionInput,
    params(("id" = i64, Path, description = "The CAPA")),
    responses((status = 200, body = Capa), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn request_extension(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ExtensionInput>,
) -> ApiResult<Response> {
    let r = state.store.request_extension(&ctx, CapaId(id), &input, actor(&user), today()).await;
    respond(r, "CAPA", |c: &Capa| c.meta.version)
}

/// Approve or reject a pending extension (quality manager).
#[utoipa::path(post, path = "/api/v1/capas/{id}/extensions/{extension}/decision", tag = "quality",
    request_body = ExtensionDecision,
    params(("id" = i64, Path, description = "The CAPA"), ("extension" = i64, Path, description = "The request")),
    responses((status = 200, body = Capa), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn decide_extension(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath((id, extension)): ApiPath<(i64, i64)>,
    ApiJson(decision): ApiJson<ExtensionDecision>,
) -> ApiResult<Response> {
    let r = state.store.decide_extension(&ctx, CapaId(id), ExtensionId(extension), &decision, actor(&user)).await;
    respond(r, "CAPA", |c: &Capa| c.meta.version)
}

/// Query of the CAPA metrics.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// First day (default: a year before `to`).
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    pub to: Option<NaiveDate>,
    /// Only this process's CAPAs.
    pub process_id: Option<i64>,
}

/// The CAPA metrics (time to open, root cause identified, closure time median and p90, on time,
/// effectiveness, reopened) over a period and per month, for all processes or one.
#[utoipa::path(get, path = "/api/v1/capas/metrics", tag = "quality", params(MetricsQuery),
    responses((status = 200, body = MetricsReport)))]
pub async fn capa_metrics(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> ApiResult<Json<MetricsReport>> {
    let to = q.to.unwrap_or_else(today);
    let from = q.from.unwrap_or_else(|| to.checked_sub_months(Months::new(12)).unwrap_or(to).succ_opt().unwrap_or(to));
    let all = crate::routes::dashboard::capa_facts(state.store.as_ref(), Some(&state.kpis)).await?;
    let of_process: Vec<_>;
    let facts: &[shared::quality::CapaFacts] = match q.process_id {
        Some(p) => {
            of_process = all.iter().filter(|f| f.process_id.is_some_and(|id| id.0 == p)).cloned().collect();
            &of_process
        }
        None => &all,
    };
    let mut months = Vec::new();
    let mut p = Period::of(from);
    while p.first_day() <= to && months.len() < 120 {
        months.push(MonthMetrics {
            period: p,
            metrics: CapaMetrics::compute(facts, p.first_day().max(from), p.last_day().min(to)),
        });
        p = p.next();
    }
    Ok(Json(MetricsReport { total: CapaMetrics::compute(facts, from, to), months }))
}
