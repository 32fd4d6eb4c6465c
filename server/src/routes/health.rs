//! `GET /healthz`: is the server up and can it reach its database?

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;

/// The health answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` on 200.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// The server's version.
    pub version: &'static str,
}

/// 200 when the database answers a query, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, body = Health), (status = 503, body = shared::ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match state.store.ping().await {
        Ok(()) => {
            Ok(Json(Health { status: "ok", database: state.store.backend(), version: env!("CARGO_PKG_VERSION") }))
        }
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The database is not reachable."))
        }
    }
}
