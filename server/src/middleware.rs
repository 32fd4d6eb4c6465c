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
