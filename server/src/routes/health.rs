//! `GET /healthz`: is the server up and can it reach its database (liveness)? `GET /readyz`:
//! may it be sent traffic: the database answers and its schema is this build's (readiness).

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

/// 200 when the database answers and every migration of this build is applied (a load
/// balancer sends traffic only then); 503 naming what is missing otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, body = Health), (status = 503, body = shared::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let health = healthz(State(state.clone())).await?;
    match state.store.pending_migrations().await {
        Ok(0) => Ok(health),
        Ok(n) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("The database lacks {n} of this build's migrations."),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: migrations not readable");
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The database's migrations are not readable."))
        }
    }
}
