//! Quality objectives (ISO 9001 6.2), each judged on its KPI's latest value, and each person's
//! choice and order of tiles.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use shared::List;
use shared::kpi::{DashboardLayout, Kpi, Objective, ObjectiveId, ObjectiveInput, Tile, objective_status};
use shared::org::RetireInput;

use super::{KpiCache, tile};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::storage::{AuditContext, Store, StoreResult};

/// Fills in each objective's latest value (its KPI's tile's: the same computation) and where it
/// stands on `today`.
pub async fn judge_objectives(
    store: &dyn Store,
    cache: Option<&KpiCache>,
    objectives: &mut [Objective],
    today: NaiveDate,
) -> StoreResult<()> {
    let mut tiles: HashMap<Kpi, Tile> = HashMap::new();
    for o in objectives.iter_mut() {
        let t = match tiles.entry(o.kpi) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(tile(store, o.kpi, today, cache).await?),
        };
        o.latest = t.value;
        o.latest_period = t.period;
        o.status = objective_status(o.kpi, o.target, o.latest, o.due_on, today);
    }
    Ok(())
}

async fn judged(state: &AppState, mut o: Objective) -> ApiResult<Objective> {
    let today = Utc::now().date_naive();
    judge_objectives(state.store.as_ref(), Some(&state.kpis), std::slice::from_mut(&mut o), today).await?;
    Ok(o)
}

/// The active quality objectives (ISO 9001 6.2), by due date, each with its KPI's latest value
/// (the tile's) and where it stands.
#[utoipa::path(get, path = "/api/v1/dashboard/objectives", tag = "dashboard",
    responses((status = 200, body = List<Objective>)))]
pub async fn list_objectives(State(state): State<AppState>) -> ApiResult<Json<List<Objective>>> {
    let mut items = state.store.list_objectives(false).await?;
    judge_objectives(state.store.as_ref(), Some(&state.kpis), &mut items, Utc::now().date_naive()).await?;
    Ok(Json(List { items }))
}

/// Set a quality objective: a KPI, the value to reach, by when, who owns it (audited).
#[utoipa::path(post, path = "/api/v1/dashboard/objectives", tag = "dashboard", request_body = ObjectiveInput,
    responses((status = 201, body = Objective), (status = 422, body = shared::ErrorBody)))]
pub async fn create_objective(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<ObjectiveInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate().map_err(ApiError::invalid)?;
    let saved = judged(&state, state.store.create_objective(&ctx, &input).await?).await?;
    Ok(crate::routes::with_etag(StatusCode::CREATED, saved.meta.version, &saved))
}

/// Change a quality objective (the version last seen in the body or `If-Match`; 409 with the
/// current record when someone changed it first).
#[utoipa::path(put, path = "/api/v1/dashboard/objectives/{id}", tag = "dashboard", request_body = ObjectiveInput,
    params(("id" = i64, Path, description = "Objective id"),
           ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. \"3\"")),
    responses((status = 200, body = Objective), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn update_objective(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: axum::http::HeaderMap,
    ctx: AuditContext,
    ApiJson(input): ApiJson<ObjectiveInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate().map_err(ApiError::invalid)?;
    let version = crate::routes::expected_version(&headers, input.version)?;
    let change = state.store.update_objective(&ctx, ObjectiveId(id), version, &input).await?;
    objective_response(&state, change).await
}

/// Retire a quality objective, with a reason (no hard delete; `version` or `If-Match` optional).
#[utoipa::path(post, path = "/api/v1/dashboard/objectives/{id}/retire", tag = "dashboard", request_body = RetireInput,
    params(("id" = i64, Path, description = "Objective id")),
    responses((status = 200, body = Objective), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn retire_objective(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: axum::http::HeaderMap,
    ctx: AuditContext,
    ApiJson(input): ApiJson<RetireInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate().map_err(ApiError::invalid)?;
    let version = match (headers.contains_key(axum::http::header::IF_MATCH), input.version) {
        (false, None) => None,
        (_, v) => Some(crate::routes::expected_version(&headers, v)?),
    };
    let change = state.store.retire_objective(&ctx, ObjectiveId(id), version, &input.reason).await?;
    objective_response(&state, change).await
}

async fn objective_response(state: &AppState, change: crate::storage::Change<Objective>) -> ApiResult<Response> {
    use crate::storage::Change;
    let change = match change {
        Change::Done(o) => Change::Done(judged(state, o).await?),
        other => other,
    };
    crate::routes::change_response(change, "objective", |o: &Objective| o.meta.version)
}

/// The signed-in person's tiles: their saved choice and order, or every KPI in the default
/// order (version 0) when they saved none.
#[utoipa::path(get, path = "/api/v1/me/dashboard", tag = "dashboard",
    responses((status = 200, body = DashboardLayout)))]
pub async fn my_layout(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<DashboardLayout>> {
    Ok(Json(state.store.dashboard_layout(user.id).await?.unwrap_or_default()))
}

/// Save the signed-in person's choice and order of tiles (`version` as last read, 0 before the
/// first save; 409 with the saved layout when stale; 422 naming `tiles[i]` for a repeat or an
/// unknown KPI).
#[utoipa::path(put, path = "/api/v1/me/dashboard", tag = "dashboard", request_body = DashboardLayout,
    responses((status = 200, body = DashboardLayout), (status = 409, body = shared::ErrorBody),
              (status = 422, body = shared::ErrorBody)))]
pub async fn set_my_layout(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(layout): ApiJson<LayoutInput>,
) -> ApiResult<Json<DashboardLayout>> {
    // The tiles are read as names, so that an unknown one is named like a repeat (`tiles[i]`,
    // and `tiles`), not as a decoding failure of the whole body.
    let mut errors = shared::FieldErrors::new();
    let mut tiles = Vec::with_capacity(layout.tiles.len());
    for (i, name) in layout.tiles.iter().enumerate() {
        match Kpi::parse(name.trim()) {
            Some(k) => tiles.push(k),
            None => {
                errors.add(format!("tiles[{i}]"), "unknown");
                errors.add("tiles", "unknown");
            }
        }
    }
    let layout = DashboardLayout { tiles, version: layout.version };
    if let Err(e) = layout.validate() {
        for (field, codes) in e.0 {
            for code in codes {
                errors.add(field.clone(), code);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    match state.store.set_dashboard_layout(&ctx, user.id, &layout).await? {
        crate::storage::Change::Done(saved) => Ok(Json(saved)),
        crate::storage::Change::Stale(current) | crate::storage::Change::Retired(current) => Err(ApiError::conflict(
            format!("Your tiles were changed elsewhere (now version {}). Reload them and try again.", current.version),
            &current,
        )),
        crate::storage::Change::NotFound => Err(ApiError::not_found("No such layout.")),
    }
}

/// The body of `PUT /me/dashboard`: [`DashboardLayout`] with the tiles as names.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayoutInput {
    /// The KPIs shown, in order (e.g. `["overdue_work", "defect_rate"]`).
    pub tiles: Vec<String>,
    /// The version last read (0 before the first save).
    #[serde(default)]
    pub version: i64,
}
