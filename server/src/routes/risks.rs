//! The risk register (ISO 9001 6.1, ISO 14971): risk matrices with revisions that take effect
//! when approved by signature, risks scored on them, the heatmap, the CSV export, and each
//! user's work list. Accepting a residual risk is a signature (`POST /signatures`, record type
//! `risk`, meaning `approved`, with the rationale), never a status typed in.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Days, Utc};
use serde::Deserialize;
use shared::auth::Permission;
use shared::quality::CapaFilter;
use shared::register::{
    Basis, CSV_HEADER, Heatmap, MatrixId, MatrixInput, MatrixRevision, MatrixRevisionId, RevisionStatus, Risk, RiskId,
    RiskInput, RiskPage, RiskSort, RiskStatus, WorkItem,
};
use shared::risk::Zone;
use shared::validation::NOT_FOUND;
use shared::{FieldErrors, List};

use super::{change_response, expected_version, export, with_etag};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::{AuditContext, NewRevision, PageAt, RiskFilter};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/risk-matrices", get(list_matrices).post(create_matrix))
        .route("/risk-matrices/{id}/revisions", post(create_revision))
        .route("/risk-matrix-revisions/{id}", get(get_revision).put(update_revision))
        .route("/risks", get(list_risks).post(create_risk))
        .route("/risks/export.csv", get(export_risks))
        .route("/risks/heatmap", get(heatmap))
        .route("/risks/{id}", get(get_risk).put(update_risk))
        .route("/work", get(work))
}

/// Every revision of every risk matrix (by matrix, newest revision first), with its status:
/// draft, effective (the newest approved) or superseded.
#[utoipa::path(get, path = "/api/v1/risk-matrices", tag = "risks",
    responses((status = 200, body = List<MatrixRevision>)))]
pub async fn list_matrices(State(state): State<AppState>) -> ApiResult<Json<List<MatrixRevision>>> {
    Ok(Json(List { items: state.store.list_matrix_revisions().await? }))
}

fn check_matrix(input: &MatrixInput) -> Result<(), ApiError> {
    input.validate().map_err(|e| ApiError::invalid(e).with_message("The matrix is not valid; nothing was saved."))
}

/// Create a risk matrix: its first revision, as a draft. It scores nothing until a quality
/// manager approves it by signature (`POST /signatures`, record type `risk_matrix_revision`).
#[utoipa::path(post, path = "/api/v1/risk-matrices", tag = "risks", request_body = MatrixInput,
    responses((status = 201, body = MatrixRevision), (status = 422, body = shared::ErrorBody)))]
pub async fn create_matrix(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<MatrixInput>,
) -> ApiResult<Response> {
    check_matrix(&input)?;
    let saved = state.store.create_matrix(&ctx, &input).await?;
    Ok(with_etag(StatusCode::CREATED, saved.meta.version, &saved))
}

/// Start the next revision of a matrix, as a draft (one draft at a time: 409 with the open
/// draft otherwise).
#[utoipa::path(post, path = "/api/v1/risk-matrices/{id}/revisions", tag = "risks", request_body = MatrixInput,
    operation_id = "create_matrix_revision",
    params(("id" = i64, Path, description = "The matrix")),
    responses((status = 201, body = MatrixRevision), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn create_revision(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MatrixInput>,
) -> ApiResult<Response> {
    check_matrix(&input)?;
    match state.store.create_matrix_revision(&ctx, MatrixId(id), &input).await? {
        NewRevision::Started(saved) => Ok(with_etag(StatusCode::CREATED, saved.meta.version, &saved)),
        NewRevision::DraftExists(draft) => Err(ApiError::conflict(
            format!(
                "Revision {} of this matrix is still a draft; edit it instead of starting another.",
                draft.revision
            ),
            &draft,
        )),
        NewRevision::NotFound => Err(ApiError::not_found("No such risk matrix.")),
    }
}

/// One matrix revision.
#[utoipa::path(get, path = "/api/v1/risk-matrix-revisions/{id}", tag = "risks", operation_id = "get_matrix_revision",
    params(("id" = i64, Path, description = "The revision")),
    responses((status = 200, body = MatrixRevision), (status = 404, body = shared::ErrorBody)))]
pub async fn get_revision(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let r = state
        .store
        .get_matrix_revision(MatrixRevisionId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("No such risk matrix revision."))?;
    Ok(with_etag(StatusCode::OK, r.meta.version, &r))
}

/// Edit a draft revision (with the version last seen). Approved revisions are frozen (409).
#[utoipa::path(put, path = "/api/v1/risk-matrix-revisions/{id}", tag = "risks", request_body = MatrixInput,
    operation_id = "update_matrix_revision",
    params(("id" = i64, Path, description = "The revision")),
    responses((status = 200, body = MatrixRevision), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody),
              (status = 428, body = shared::ErrorBody)))]
pub async fn update_revision(
    State(state): State<AppState>,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MatrixInput>,
) -> ApiResult<Response> {
    let version = expected_version(&headers, input.version)?;
    check_matrix(&input)?;
    let change = state.store.update_matrix_revision(&ctx, MatrixRevisionId(id), version, &input).await?;
    change_response(change, "risk matrix revision", |r| r.meta.version)
}

/// Query of the register, its heatmap and its export.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskQuery {
    /// Text in the title, description or category.
    pub q: Option<String>,
    /// Only this status.
    pub status: Option<RiskStatus>,
    /// Closed risks too.
    #[serde(default)]
    pub include_closed: bool,
    /// Only this owner's.
    pub owner_id: Option<i64>,
    /// Only this process's.
    pub process_id: Option<i64>,
    /// Which rating `zone`, `likelihood` and `severity` look at (default residual).
    pub basis: Option<Basis>,
    /// Only this zone.
    pub zone: Option<Zone>,
    /// Only risks overdue for review.
    #[serde(default)]
    pub overdue: bool,
    /// Only risks scored on this matrix revision (the heatmap: the revision shown, default the
    /// first matrix's effective revision).
    pub matrix_revision_id: Option<i64>,
    /// Only this likelihood level (a heatmap cell).
    pub likelihood: Option<i64>,
    /// Only this severity level (a heatmap cell).
    pub severity: Option<i64>,
    /// Order (default: residual score, highest first).
    pub sort: Option<RiskSort>,
    /// Reverse the order.
    #[serde(default)]
    pub desc: bool,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// Rows to skip (slow for deep pages: prefer `after`/`before`).
    pub offset: Option<i64>,
    /// The page after this row: a page's `next_after`, with the same filters and sort.
    pub after: Option<String>,
    /// The page before this row: a page's `prev_before`, with the same filters and sort.
    pub before: Option<String>,
}

impl RiskQuery {
    fn filter(self) -> Result<RiskFilter, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::bad_request("Bad query parameter `limit`: use 1 to 500."));
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::bad_request("Bad query parameter `offset`: it cannot be negative."));
        }
        let at = match (self.after, self.before) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request("Bad query parameters: give `after` or `before`, not both."));
            }
            (Some(after), None) => Some(PageAt::After(after)),
            (None, Some(before)) => Some(PageAt::Before(before)),
            (None, None) => None,
        };
        if self.q.as_deref().is_some_and(|q| q.chars().any(char::is_control) || q.chars().count() > 200) {
            return Err(ApiError::bad_request(
                "Bad query parameter `q`: at most 200 characters, no control characters.",
            ));
        }
        Ok(RiskFilter {
            text: self.q,
            status: self.status,
            include_closed: self.include_closed,
            owner_id: self.owner_id,
            process_id: self.process_id,
            basis: self.basis.unwrap_or_default(),
            zone: self.zone,
            overdue: self.overdue,
            matrix_revision_id: self.matrix_revision_id,
            likelihood: self.likelihood,
            severity: self.severity,
            sort: self.sort.unwrap_or_default(),
            descending: self.desc,
            limit,
            offset,
            at,
        })
    }
}

/// One page of the register, filtered and sorted, with the total that matches.
#[utoipa::path(get, path = "/api/v1/risks", tag = "risks", params(RiskQuery),
    responses((status = 200, body = RiskPage), (status = 400, body = shared::ErrorBody)))]
pub async fn list_risks(State(state): State<AppState>, ApiQuery(q): ApiQuery<RiskQuery>) -> ApiResult<Json<RiskPage>> {
    let filter = q.filter()?;
    Ok(Json(state.store.list_risks(&filter, Utc::now().date_naive()).await?))
}

/// The register as CSV (every risk matching the filters; paging ignored), one header row.
/// Cells that a spreadsheet would run as a formula are neutralised.
#[utoipa::path(get, path = "/api/v1/risks/export.csv", tag = "risks", params(RiskQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_risks(State(state): State<AppState>, ApiQuery(q): ApiQuery<RiskQuery>) -> ApiResult<Response> {
    let filter = q.filter()?;
    let today = Utc::now().date_naive();
    let ids = state.store.risk_ids(&filter).await?;
    let store = state.store.clone();
    let fetch = move |chunk: Vec<i64>| {
        let store = store.clone();
        async move { store.export_risks(&chunk).await }
    };
    let lines = export::by_ids(ids, fetch, move |r| risk_csv_line(r, today));
    Ok(export::csv_download("caliper-risk-register.csv", shared::csv::header(CSV_HEADER), lines))
}

/// One risk's line of the export.
fn risk_csv_line(r: &Risk, today: chrono::NaiveDate) -> String {
    let controls = r.controls.iter().map(|c| c.description.as_str()).collect::<Vec<_>>().join("; ");
    let evidence = r
        .controls
        .iter()
        .flat_map(|c| c.evidence.iter().map(|e| format!("{}: {}", e.record_type.label(), e.label)))
        .collect::<Vec<_>>()
        .join("; ");
    shared::csv::row([
        r.reference.clone(),
        r.title.clone(),
        r.category.clone(),
        r.process_name.clone(),
        r.owner_name.clone(),
        r.status.label().to_string(),
        r.review_date.to_string(),
        if r.review_date < today && r.status != RiskStatus::Closed { "yes" } else { "no" }.to_string(),
        r.matrix_revision.to_string(),
        r.inherent.likelihood.to_string(),
        r.inherent.severity.to_string(),
        r.inherent.score.to_string(),
        r.inherent.zone.label().to_string(),
        r.residual.likelihood.to_string(),
        r.residual.severity.to_string(),
        r.residual.score.to_string(),
        r.residual.zone.label().to_string(),
        controls,
        evidence,
        r.acceptance_rationale.clone(),
        r.description.clone(),
        r.meta.version.to_string(),
    ])
}

/// The heatmap of a matrix revision (default: the first matrix's effective revision): open
/// risks per cell, inherent and residual, and the inherent → residual moves, over the risks
/// matching the filters (the cell filters are ignored). Risks of the same matrix still scored
/// on other revisions are counted apart.
#[utoipa::path(get, path = "/api/v1/risks/heatmap", tag = "risks", params(RiskQuery),
    responses((status = 200, body = Heatmap), (status = 404, body = shared::ErrorBody)))]
pub async fn heatmap(State(state): State<AppState>, ApiQuery(q): ApiQuery<RiskQuery>) -> ApiResult<Json<Heatmap>> {
    let filter = q.filter()?;
    let revision = match filter.matrix_revision_id {
        Some(id) => MatrixRevisionId(id),
        None => state
            .store
            .list_matrix_revisions()
            .await?
            .into_iter()
            .find(|r| r.status == RevisionStatus::Effective)
            .map(|r| r.id)
            .ok_or_else(|| ApiError::not_found("No risk matrix is in effect yet."))?,
    };
    let map = state
        .store
        .risk_heatmap(revision, &filter)
        .await?
        .ok_or_else(|| ApiError::not_found("No such risk matrix revision."))?;
    Ok(Json(map))
}

/// One risk, with its controls and their evidence.
#[utoipa::path(get, path = "/api/v1/risks/{id}", tag = "risks",
    params(("id" = i64, Path, description = "The risk")),
    responses((status = 200, body = Risk), (status = 404, body = shared::ErrorBody)))]
pub async fn get_risk(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let r = state.store.get_risk(RiskId(id)).await?.ok_or_else(|| ApiError::not_found("No such risk."))?;
    Ok(with_etag(StatusCode::OK, r.meta.version, &r))
}

/// The shared rules, with the scoring revision loaded (an unknown revision is a field error).
async fn check_risk(state: &AppState, input: &RiskInput, before: Option<&Risk>) -> Result<(), ApiError> {
    let revision = match input.matrix_revision_id {
        Some(id) => state.store.get_matrix_revision(id).await?,
        None => None,
    };
    let matrix = revision.as_ref().map(|r| &r.definition);
    let mut e = match before {
        None => input.validate(matrix, None),
        Some(b) => input.validate_update(matrix, Some(b)),
    }
    .err()
    .unwrap_or_default();
    if input.matrix_revision_id.is_some() && revision.is_none() {
        e.add("matrix_revision_id", NOT_FOUND);
    }
    if e.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(e).with_message("The risk is not valid; nothing was saved."))
}

/// 11.10(g), per record: a process owner records and edits only the risks they own and cannot
/// hand them to someone else; managing risks (quality manager) may do both.
fn owner_rule(user: &CurrentUser, input: &RiskInput, before: Option<&Risk>) -> Result<(), ApiError> {
    if user.can(Permission::ManageRisks) {
        return Ok(());
    }
    if before.is_some_and(|b| b.owner_id != user.id) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Only this risk's owner or a quality manager can change it."));
    }
    if input.owner_id != Some(user.id) {
        let mut e = FieldErrors::new();
        e.add("owner_id", shared::validation::INVALID);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Only a quality manager can make someone else the owner of a risk.",
        )
        .with_field_errors(e));
    }
    Ok(())
}

/// Record a risk, scored on a matrix's effective revision.
#[utoipa::path(post, path = "/api/v1/risks", tag = "risks", request_body = RiskInput,
    responses((status = 201, body = Risk), (status = 403, body = shared::ErrorBody),
              (status = 422, body = shared::ErrorBody)))]
pub async fn create_risk(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<RiskInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    check_risk(&state, &input, None).await?;
    owner_rule(&user, &input, None)?;
    let saved = state.store.create_risk(&ctx, &input).await?;
    Ok(with_etag(StatusCode::CREATED, saved.meta.version, &saved))
}

/// Change a risk (with the version last seen and a reason). Moving it onto another matrix
/// revision (re-scoring) takes the effective revision; `accepted` is reached only by signing.
#[utoipa::path(put, path = "/api/v1/risks/{id}", tag = "risks", request_body = RiskInput,
    params(("id" = i64, Path, description = "The risk")),
    responses((status = 200, body = Risk), (status = 403, body = shared::ErrorBody),
              (status = 404, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody),
              (status = 422, body = shared::ErrorBody), (status = 428, body = shared::ErrorBody)))]
pub async fn update_risk(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RiskInput>,
) -> ApiResult<Response> {
    let version = expected_version(&headers, input.version)?;
    let input = input.normalized();
    let before = state.store.get_risk(RiskId(id)).await?.ok_or_else(|| ApiError::not_found("No such risk."))?;
    owner_rule(&user, &input, Some(&before))?;
    if before.meta.version != version {
        return change_response(crate::storage::Change::Stale(before), "risk", |r| r.meta.version);
    }
    check_risk(&state, &input, Some(&before)).await?;
    let change = state.store.update_risk(&ctx, RiskId(id), version, &input).await?;
    change_response(change, "risk", |r| r.meta.version)
}

/// What is waiting for the signed-in user in the next 30 days, overdue first: reviews of the
/// risks they own, the FMEA actions they are responsible for, the periodic reviews of the
/// documents they own, and their training.
#[utoipa::path(get, path = "/api/v1/work", tag = "risks",
    responses((status = 200, body = List<WorkItem>)))]
pub async fn work(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<List<WorkItem>>> {
    let today = Utc::now().date_naive();
    let horizon = today.checked_add_days(Days::new(30)).unwrap_or(today);
    let mut items = state.store.work_items(Some(user.id), today, horizon).await?;
    items.extend(state.store.action_items(Some(user.id), today, horizon).await?);
    // Periodic reviews of the documents they own.
    if user.can(Permission::ViewDocuments) {
        items.extend(state.store.review_items(Some(user.id), today, horizon).await?);
    }
    // Training due within the horizon (or overdue): from the one status rule of training.
    if user.can(Permission::CompleteTraining) {
        let training = state.store.list_assignments(Some(user.id), true, today).await?;
        items.extend(training.iter().filter(|a| a.due_on <= horizon).map(|a| a.work_item(false)));
    }
    // CAPAs waiting for this person: as owner, verifier, or the quality manager's triage and
    // plan approvals (the shared rule of what waits for whom).
    let manager = user.can(Permission::ManageQuality);
    if manager || user.can(Permission::WorkOnCapas) {
        let filter = CapaFilter { open: true, owner_id: (!manager).then_some(user.id.0), ..CapaFilter::default() };
        let capas = state.store.list_capas(&filter).await?;
        items.extend(capas.iter().filter_map(|c| c.work_item(user.id, manager, today)));
    }
    items.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.reference.cmp(&b.reference)));
    Ok(Json(List { items }))
}
