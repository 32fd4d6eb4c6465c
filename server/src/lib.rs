//! Caliper's server: the JSON API under `/api/v1`, `/healthz`, and the built app as static
//! files with an SPA fallback. [`app`] builds the whole router so that tests can drive it
//! without a socket; `main.rs` only parses the command line and calls into here.

pub mod app_files;
pub mod auth;
pub mod backup;
pub mod checkpoint;
pub mod conditional;
pub mod config;
pub mod demo_dashboard;
pub mod demo_documents;
pub mod demo_fmea;
pub mod demo_quality;
pub mod demo_risks;
pub mod demo_training;
pub mod error;
pub mod markdown;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod seed;
pub mod storage;
pub mod suggest;
pub mod telemetry;
pub mod throttle;
pub mod xlsx;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, header};
use axum::routing::{any, get};
use tower::ServiceBuilder;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::storage::Store;

/// The largest request body accepted (413 above it).
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Where the built app is (`app/dist`); `None` serves the API only.
    pub static_dir: Option<PathBuf>,
    /// The app build served from there, named on every API answer.
    pub app_build: Arc<app_files::AppBuild>,
    /// Password hashing and the sign-in and session settings.
    pub passwords: auth::Passwords,
    /// The live-updates feed.
    pub events: Arc<routes::events::Events>,
    /// The training matrix, computed once per change of the records (the matrix page and the
    /// dashboard share it).
    pub kpis: Arc<routes::dashboard::KpiCache>,
    /// The root-cause suggestion model, trained on demand and again when enough records closed.
    pub suggestions: Arc<routes::quality::SuggestionModel>,
    /// Who may read `/metrics` (nobody unless configured).
    pub metrics_access: Arc<telemetry::MetricsAccess>,
    /// The sign-in rate limits and the bursts of failed attempts.
    pub sign_ins: Arc<throttle::SignInLimits>,
    /// The reverse proxies whose forwarded headers count (`--trusted-proxy`; none by default).
    pub trusted_proxies: middleware::TrustedProxies,
    /// Big answers kept compressed while unchanged (the worksheets).
    pub answers: Arc<conditional::AnswerCache>,
}

impl AppState {
    /// State over `store` with `auth` settings.
    pub fn new(store: Arc<dyn Store>, static_dir: Option<PathBuf>, auth: auth::AuthConfig) -> Self {
        Self {
            store,
            app_build: Arc::new(app_files::AppBuild::new(static_dir.clone())),
            static_dir,
            sign_ins: Arc::new(throttle::SignInLimits::new(
                auth.sign_ins_per_address_per_minute,
                auth.sign_ins_per_username_per_minute,
                auth.failure_burst,
            )),
            passwords: auth::Passwords::new(Arc::new(auth)),
            events: Arc::default(),
            kpis: Arc::default(),
            suggestions: Arc::default(),
            metrics_access: Arc::default(),
            trusted_proxies: middleware::TrustedProxies::default(),
            answers: Arc::default(),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("store", &self.store.backend()).field("static_dir", &self.static_dir).finish()
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The application with `extra` API routes mounted under `/api/v1` behind the same middleware
/// (used by tests to prove, e.g., that a panicking handler becomes a 500 envelope).
#[doc(hidden)]
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let request_id = HeaderName::from_static(middleware::REQUEST_ID);
    // Every API route passes the auth guard (routes added by tests in `extra` do not).
    let api = routes::api_router()
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .route_layer(axum::middleware::from_fn(telemetry::track))
        .merge(extra)
        .layer(axum::middleware::from_fn(conditional::conditional_get))
        .method_not_allowed_fallback(routes::method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .route("/api", any(routes::api_not_found))
        .route("/api/{*rest}", any(routes::api_not_found))
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(telemetry::metrics))
        .fallback_service(app_files::static_files(state.static_dir.clone()))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::trace_layer())
                .layer(axum::middleware::from_fn(middleware::request_context))
                .layer(axum::middleware::from_fn_with_state(state.trusted_proxies.clone(), middleware::client_address))
                .layer(axum::middleware::from_fn_with_state(state.app_build.clone(), app_files::build_header))
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
                .layer(compression())
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::REFERRER_POLICY, "same-origin"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)),
        )
        .with_state(state)
}

/// What every answer allows the browser: scripts only from Caliper itself and no inline script
/// (the app's loader is a file; WebAssembly needs `'wasm-unsafe-eval'`, which allows compiling
/// wasm, not `eval`), no framing by another site, no plugins, no `<base>`, forms only to Caliper.
pub const CONTENT_SECURITY_POLICY: &str = "script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'; \
     object-src 'none'; base-uri 'none'; form-action 'self'";

/// A header every answer carries (unless the handler set its own): a browser's protections that
/// a security scanner expects.
fn security_header(
    name: HeaderName,
    value: &'static str,
) -> tower_http::set_header::SetResponseHeaderLayer<axum::http::HeaderValue> {
    tower_http::set_header::SetResponseHeaderLayer::if_not_present(name, axum::http::HeaderValue::from_static(value))
}

/// Compressed responses (zstd, brotli or gzip, as the client accepts, in that order of
/// preference) for JSON, CSV and other text above 1 KB, at a level that costs little CPU
/// (level 4 of each). Never the live-update
/// stream (its events must leave at once), images, or the app's files already precompressed
/// (they carry their `Content-Encoding`, which the layer leaves alone).
fn compression() -> CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate as _, SizeAbove};
    CompressionLayer::new().quality(CompressionLevel::Precise(4)).compress_when(
        SizeAbove::new(1024).and(NotForContentType::GRPC).and(NotForContentType::IMAGES).and(NotForContentType::SSE),
    )
}
