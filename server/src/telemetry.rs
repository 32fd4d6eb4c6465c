//! Prometheus metrics at `/metrics` (the `metrics` facade, rendered by
//! `metrics-exporter-prometheus`), for operators only: served when a token or an allowed
//! address is configured (`--metrics-token`, `--metrics-allow`), and then only to a request
//! bearing that token or coming from that address.
//!
//! What is measured:
//! - `caliper_http_requests_total{method, route, status}` and
//!   `caliper_http_request_duration_seconds{method, route}` (a histogram) per API route, the
//!   route as its pattern (`/api/v1/fmeas/{id}`), never the raw path;
//! - `caliper_sign_in_failures_total{reason}`;
//! - `caliper_password_hashing_busy_total`: checks and hashes answered 503 because no hashing
//!   turn came within `AuthConfig::hash_wait` (10 s) (a sign-in storm beyond the machine);
//! - at each scrape: `caliper_db_connections{state="open"|"idle"|"max"}`,
//!   `caliper_event_streams_open` and `caliper_audit_head` (the newest audit entry's position).

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;
use crate::error::ApiError;

/// Who may read `/metrics`. Neither set: nobody (the route answers 404).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsAccess {
    /// A request with `Authorization: Bearer <token>` may.
    pub token: Option<String>,
    /// A request from one of these addresses may (the address the connection comes from: not
    /// a load balancer's, or everyone behind it could).
    pub allow: Vec<IpAddr>,
}

impl MetricsAccess {
    /// True when `/metrics` is served at all.
    pub fn enabled(&self) -> bool {
        self.token.is_some() || !self.allow.is_empty()
    }

    fn admits(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let token_ok = match (&self.token, bearer) {
            (Some(token), Some(given)) => constant_time_eq(token.as_bytes(), given.as_bytes()),
            _ => false,
        };
        token_ok || peer.is_some_and(|ip| self.allow.contains(&ip))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Latency buckets, in seconds: from 1 ms to 10 s.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's recorder, installed on first use (one per process: several apps in one test
/// process share it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("caliper_http_request_duration_seconds".into()), BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (a test harness) leaves this one unused, not broken.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Installs the recorder (call at start, so the first scrape already has it).
pub fn install() {
    let _ = handle();
}

/// Middleware on the API routes: counts each request and times it, by route pattern.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let route = route.unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16().to_string();
    metrics::counter!("caliper_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("caliper_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A failed sign-in, by reason (`unknown username`, `wrong password`, `account locked`, …).
pub fn sign_in_failed(reason: &str) {
    metrics::counter!("caliper_sign_in_failures_total", "reason" => reason.to_owned()).increment(1);
}

/// A password check or hash answered 503: no hashing turn came in time.
pub fn password_hashing_busy() {
    metrics::counter!("caliper_password_hashing_busy_total").increment(1);
}

/// `GET /metrics`: the Prometheus text format, to the configured token or addresses only.
#[utoipa::path(get, path = "/metrics", tag = "health", security(()),
    description = "Prometheus metrics for operators: served only when the server is started with \
        --metrics-token (send `Authorization: Bearer TOKEN`) or --metrics-allow (the connection's address).",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 403, body = shared::ErrorBody, description = "Neither the token nor an allowed address"),
        (status = 404, body = shared::ErrorBody, description = "Metrics are not configured")))]
pub async fn metrics(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    let headers = request.headers();
    let access = &state.metrics_access;
    if !access.enabled() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Metrics are off: start the server with --metrics-token or --metrics-allow.",
        ));
    }
    if !access.admits(peer, headers) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Metrics need the metrics token or an allowed address."));
    }
    let pool = state.store.pool_use();
    for (which, n) in [("open", pool.open), ("idle", pool.idle), ("max", pool.max)] {
        metrics::gauge!("caliper_db_connections", "state" => which).set(f64::from(n));
    }
    metrics::gauge!("caliper_event_streams_open").set(state.events.open_streams() as f64);
    match state.store.audit_head().await {
        Ok(head) => metrics::gauge!("caliper_audit_head").set(head as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: audit head not read"),
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle().render()).into_response())
}
