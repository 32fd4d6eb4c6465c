//! The API's routes, one module per domain area, each with its own `router()`.

pub mod audit;
pub mod dashboard;
pub mod documents;
pub mod events;
pub mod export;
pub mod fmea;
pub mod health;
pub mod notices;
pub mod org;
pub mod quality;
pub mod risks;
pub mod session;
pub mod settings;
pub mod signatures;
pub mod training;
pub mod users;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;
use crate::storage::Change;

/// Every route under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(org::router())
        .merge(audit::router())
        .merge(session::router())
        .merge(users::router())
        .merge(signatures::router())
        .merge(events::router())
        .merge(risks::router())
        .merge(documents::router())
        .merge(notices::router())
        .merge(settings::router())
        .merge(training::router())
        .merge(dashboard::router())
        .merge(fmea::router())
        .merge(quality::router())
        .route("/openapi.json", axum::routing::get(crate::openapi::openapi_json))
}

/// 404 envelope for any `/api/…` path that matches no route.
pub async fn api_not_found() -> ApiError {
    ApiError::not_found("No such API endpoint. The API is described at /api/v1/openapi.json.")
}

/// 405 envelope for a known path with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "This endpoint does not accept that method.")
}

/// The version an update is based on: `If-Match: "N"` (as sent back from our `ETag`) or the
/// body's `version`. One of them is required; when both are sent they must agree.
pub fn expected_version(headers: &HeaderMap, body_version: Option<i64>) -> Result<i64, ApiError> {
    let header_version = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => {
            let parsed = v
                .to_str()
                .ok()
                .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|s| s.parse::<i64>().ok());
            Some(parsed.ok_or_else(|| ApiError::bad_request("If-Match must be the record's version, e.g. \"3\"."))?)
        }
    };
    match (header_version, body_version) {
        (Some(h), Some(b)) if h != b => Err(ApiError::bad_request("If-Match and the body's `version` disagree.")),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "Send the version you last saw (`version` in the body or an If-Match header), so that no one's change is overwritten.",
        )),
    }
}

/// A record response with its `ETag` (the version, for `If-Match`).
pub fn with_etag<T: Serialize>(status: StatusCode, version: i64, record: &T) -> Response {
    let mut res = (status, axum::Json(record)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// Turns the outcome of a conditional write into a response: 200 with the saved record, 409
/// with the current record, or 404.
pub fn change_response<T: Serialize>(
    change: Change<T>,
    noun: &str,
    version: impl Fn(&T) -> i64,
) -> Result<Response, ApiError> {
    match change {
        Change::Done(record) => Ok(with_etag(StatusCode::OK, version(&record), &record)),
        Change::Stale(current) => Err(ApiError::conflict(
            format!(
                "This {noun} was changed by someone else (now version {}). Review their change and try again.",
                version(&current)
            ),
            &current,
        )),
        Change::Retired(current) => {
            Err(ApiError::conflict(format!("This {noun} is retired and can no longer be changed."), &current))
        }
        Change::NotFound => Err(ApiError::not_found(format!("No such {noun}."))),
    }
}
