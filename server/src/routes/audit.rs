//! The audit trail over HTTP: read it (filtered, keyset-paginated) and verify its hash chain.
//! Also the extractor that records who made a change and from where.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::audit::{AuditPage, AuditSource, ChainReport, display_value};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::middleware::REQUEST_ID;
use crate::storage::{AuditContext, AuditFilter};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list_audit))
        .route("/audit/export.csv", get(export_audit))
        .route("/audit/verify", get(verify_audit))
}

/// Printed name recorded for requests without a signed-in user (only sign-in attempts reach a
/// write without one).
pub const UNAUTHENTICATED: &str = "unauthenticated";

/// Where a request came from (11.10(h)): request id, client address, user agent, session.
pub fn source_of<B>(req: &axum::http::Request<B>, session_id: Option<i64>) -> AuditSource {
    source_from(req.headers(), req.extensions(), session_id)
}

fn source_from(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    session_id: Option<i64>,
) -> AuditSource {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    AuditSource {
        request_id: header(REQUEST_ID),
        client_address: extensions
            .get::<crate::middleware::ClientAddress>()
            .map(|c| c.0)
            .or_else(|| extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
            .map(|a| a.to_string())
            .unwrap_or_default(),
        user_agent: header(USER_AGENT.as_str()),
        session_id: session_id.map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// The signed-in user (put there by the auth guard) and where the request came from.
impl<S: Send + Sync> FromRequestParts<S> for AuditContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let user = parts.extensions.get::<CurrentUser>();
        let mut source = source_from(&parts.headers, &parts.extensions, user.map(|u| u.session_id));
        // A change made with an API token is the token's user's; the entry says which token
        // (its id and name, never its secret) where a session's id would be.
        if let Some((id, name)) = user.and_then(|u| u.api_token.as_ref()) {
            source.session_id = format!("API token {id} ({name})");
        }
        Ok(AuditContext {
            actor_id: user.map(|u| u.id.0),
            actor_name: user.map_or_else(|| UNAUTHENTICATED.to_string(), |u| u.full_name.clone()),
            source,
        })
    }
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this kind of record (`site`, `department`, `process`).
    pub record_type: Option<String>,
    /// Only this record (give `record_type` too).
    pub record_id: Option<i64>,
    /// Only changes by this printed name.
    pub actor: Option<String>,
    /// At or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Next page: the `next_before` of the previous page.
    pub before: Option<i64>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<i64>,
}

impl AuditQuery {
    /// Text filters are compared in the database, which cannot hold control characters.
    fn check(&self) -> Result<(), ApiError> {
        for (name, value) in [("record_type", &self.record_type), ("actor", &self.actor)] {
            if value.as_deref().is_some_and(|v| v.chars().any(char::is_control)) {
                return Err(ApiError::bad_request(format!("Bad query parameter `{name}`: control characters.")));
            }
        }
        Ok(())
    }

    fn filter(self, limit: i64) -> AuditFilter {
        AuditFilter {
            record_type: self.record_type,
            record_id: self.record_id,
            actor_name: self.actor,
            from: self.from,
            to: self.to,
            before_seq: self.before,
            limit,
        }
    }
}

/// Read the audit trail, newest first, filtered by record, person and time.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = shared::ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    q.check()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be between 1 and 500."));
    }
    // One more than asked tells whether there is a next page.
    let filter = q.filter(limit + 1);
    let mut items = state.store.list_audit(&filter).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_before = if more { items.last().map(|e| e.seq) } else { None };
    Ok(Json(AuditPage { items, next_before }))
}

/// Every matching entry as CSV (one row per entry, changes as `field: old → new`), for an
/// inspector's spreadsheet; `limit` and `before` are ignored. Streamed a page of 1,000 entries
/// at a time (a trail of millions of entries is never held in memory); a database failure midway
/// cuts the download off, so a partial file is never mistaken for the whole trail.
#[utoipa::path(get, path = "/api/v1/audit/export.csv", tag = "audit", params(AuditQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_audit(State(state): State<AppState>, ApiQuery(q): ApiQuery<AuditQuery>) -> ApiResult<Response> {
    const PAGE: i64 = 1000;
    q.check()?;
    let first = AuditQuery { before: None, limit: None, ..q }.filter(PAGE);
    let header = shared::csv::header([
        "seq",
        "occurred_at_utc",
        "actor_id",
        "actor_name",
        "action",
        "record_type",
        "record_id",
        "record_version",
        "changes",
        "reason",
        "request_id",
        "client_address",
        "user_agent",
        "session_id",
        "prev_hash",
        "hash",
    ]);
    let store = state.store.clone();
    let pages = futures_util::stream::unfold(Some(first), move |filter| {
        let store = store.clone();
        async move {
            let mut filter = filter?;
            match store.list_audit(&filter).await {
                Ok(page) => {
                    let rows: String = page.iter().map(audit_csv_row).collect();
                    let next = match page.last() {
                        Some(last) if page.len() as i64 == PAGE => {
                            filter.before_seq = Some(last.seq);
                            Some(filter)
                        }
                        _ => None,
                    };
                    Some((Ok(rows), next))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    Ok(super::export::csv_download("caliper-audit-trail.csv", header, pages))
}

/// One entry as a line of the audit export.
fn audit_csv_row(e: &shared::audit::AuditEntry) -> String {
    let changes = e
        .changes
        .iter()
        .map(|(field, c)| format!("{field}: {} → {}", display_value(&c.old), display_value(&c.new)))
        .collect::<Vec<_>>()
        .join("; ");
    shared::csv::row([
        e.seq.to_string(),
        e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
        e.actor_name.clone(),
        e.action.as_str().to_string(),
        e.record_type.clone(),
        e.record_id.to_string(),
        e.record_version.to_string(),
        changes,
        e.reason.clone().unwrap_or_default(),
        e.source.request_id.clone(),
        e.source.client_address.clone(),
        e.source.user_agent.clone(),
        e.source.session_id.clone(),
        e.prev_hash.clone(),
        e.hash.clone(),
    ])
}

/// Recompute the whole hash chain: `intact`, or the first broken entry and why.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = ChainReport)))]
pub async fn verify_audit(State(state): State<AppState>) -> ApiResult<Json<ChainReport>> {
    Ok(Json(state.store.verify_audit().await?))
}
