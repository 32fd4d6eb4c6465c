//! Cross-cutting request handling: request ids, one tracing span per request, panics turned
//! into 500 envelopes.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

use crate::error::ApiError;

/// The header that carries the request id in and out.
pub const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

fn request_id_of(req: &Request) -> String {
    req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Makes the request id available to error rendering, and turns a panic in a handler into a
/// 500 envelope carrying that id; the panic's message goes only to the log.
pub async fn request_context(req: Request, next: Next) -> Response {
    let id = request_id_of(&req);
    CURRENT_REQUEST_ID
        .scope(id, async move {
            match AssertUnwindSafe(next.run(req)).catch_unwind().await {
                Ok(response) => response,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    ApiError::internal(format!("handler panicked: {what}")).into_response()
                }
            }
        })
        .await
}

/// One span per request: method, matched route, request id; status and latency are recorded
/// when the response leaves.
#[derive(Debug, Clone, Copy)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> Span {
        let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("(unmatched)");
        let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
        tracing::info_span!(
            "request",
            http.method = %req.method(),
            http.route = route,
            http.path = %req.uri().path(),
            request_id = id,
            http.status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        )
    }
}

/// Records status and latency on the request span and logs one line per response.
#[derive(Debug, Clone, Copy)]
pub struct ResponseLog;

impl<B> OnResponse<B> for ResponseLog {
    fn on_response(self, res: &axum::http::Response<B>, latency: Duration, span: &Span) {
        let ms = latency.as_secs_f64() * 1000.0;
        span.record("http.status", res.status().as_u16());
        span.record("latency_ms", ms);
        tracing::info!("response");
    }
}

/// The tracing layer with Caliper's span and response log.
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), ResponseLog> {
    TraceLayer::new_for_http().make_span_with(RequestSpan).on_request(()).on_response(ResponseLog)
}

/// The client's address as Caliper records it (the audit trail, the sign-in limits): the TCP
/// peer, or, when the peer is a trusted proxy, the address that proxy says it forwarded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// The proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` count (`--trusted-proxy`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub std::sync::Arc<[std::net::IpAddr]>);

/// Headers a proxy sets about the client; from anyone else they are dropped before any handler
/// sees them, so that nobody can put another address in the audit trail or spread their
/// sign-in attempts over made-up addresses.
const FORWARDED_HEADERS: [&str; 3] = ["x-forwarded-for", "x-forwarded-proto", "forwarded"];

/// Works out [`ClientAddress`]: from a trusted proxy, the rightmost `X-Forwarded-For` entry that
/// is not itself a trusted proxy (the address the proxy saw); from anyone else, the peer, with
/// the forwarded headers dropped.
pub async fn client_address(
    axum::extract::State(trusted): axum::extract::State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let from_proxy = peer.is_some_and(|p| trusted.0.contains(&p));
    let client = if from_proxy {
        let forwarded: Vec<std::net::IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded.into_iter().rev().find(|a| !trusted.0.contains(a)).or(peer)
    } else {
        for name in FORWARDED_HEADERS {
            req.headers_mut().remove(name);
        }
        peer
    };
    if let Some(client) = client {
        req.extensions_mut().insert(ClientAddress(client));
    }
    next.run(req).await
}
