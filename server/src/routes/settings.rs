//! The installation's settings, one set for every instance (kept in the database): document
//! control's revision labels. Everyone who reads documents may read them; an administrator
//! changes them, audited as record type `installation_settings`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use shared::document::DocumentSettings;

use crate::AppState;
use crate::error::{ApiJson, ApiResult};
use crate::storage::AuditContext;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/settings/documents", get(get_document_settings).put(put_document_settings))
}

/// Document control's settings: how revisions are labelled (`letters`: A, B, …; `numbers`:
/// 1, 2, …).
#[utoipa::path(get, path = "/api/v1/settings/documents", tag = "settings",
    responses((status = 200, body = DocumentSettings)))]
pub async fn get_document_settings(State(state): State<AppState>) -> ApiResult<Json<DocumentSettings>> {
    Ok(Json(state.store.document_settings().await?))
}

/// Change document control's settings (administrators): revisions created afterwards are
/// labelled by the new scheme, existing labels never change. 422 names a bad value's field.
#[utoipa::path(put, path = "/api/v1/settings/documents", tag = "settings", request_body = DocumentSettings,
    responses((status = 200, body = DocumentSettings), (status = 403, body = shared::ErrorBody),
        (status = 422, body = shared::ErrorBody)))]
pub async fn put_document_settings(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(settings): ApiJson<DocumentSettings>,
) -> ApiResult<Json<DocumentSettings>> {
    Ok(Json(state.store.set_document_settings(&ctx, settings).await?))
}
