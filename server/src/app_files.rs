//! The built app's files (`cargo xtask build-app` writes them to `app/dist`): `index.html`, never
//! cached, and `/pkg/<build>/…`, named by a hash of the build and so cached for ever. A file
//! under `/pkg/` that is not there is a 404 (an open app asking for a chunk of a build that has
//! been replaced must see the failure, not index.html); any other unknown path is index.html, so
//! that the app's router handles deep links.
//!
//! Every answer names the build being served (`X-Caliper-Build`, from index.html's
//! `<meta name="caliper-build">`), so that an open app of an older build notices a deploy on its
//! next request and asks to reload rather than mix chunks of two builds. A build replaced in
//! place (a new `dist` under a running server) is noticed within a second.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

/// The header that names the app build being served.
pub const BUILD_HEADER: HeaderName = HeaderName::from_static("x-caliper-build");

/// How often index.html is looked at again for a new build.
const RECHECK: Duration = Duration::from_secs(1);

/// The build in the static folder, re-read when index.html changes.
#[derive(Debug, Default)]
pub struct AppBuild {
    dir: Option<PathBuf>,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    checked: Option<Instant>,
    modified: Option<SystemTime>,
    build: Option<HeaderValue>,
}

impl AppBuild {
    /// The build served from `dir` (none without one).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir, seen: Mutex::default() }
    }

    /// The current build's name, if an app is built there.
    pub fn current(&self) -> Option<HeaderValue> {
        let dir = self.dir.as_ref()?;
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.checked.is_some_and(|at| at.elapsed() < RECHECK) {
            return seen.build.clone();
        }
        seen.checked = Some(Instant::now());
        let index = dir.join("index.html");
        let modified = std::fs::metadata(&index).and_then(|m| m.modified()).ok();
        if modified != seen.modified || modified.is_none() {
            seen.modified = modified;
            seen.build = std::fs::read_to_string(&index).ok().and_then(|html| build_of(&html));
        }
        seen.build.clone()
    }
}

/// The build named in index.html's `<meta name="caliper-build" content="…">`.
pub fn build_of(html: &str) -> Option<HeaderValue> {
    let rest = html.split("name=\"caliper-build\" content=\"").nth(1)?;
    let build = rest.split('"').next()?;
    (!build.is_empty() && build.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| HeaderValue::from_str(build).ok())
        .flatten()
}

/// Adds `X-Caliper-Build` to every answer (the app reads it on API answers).
pub async fn build_header(State(build): State<std::sync::Arc<AppBuild>>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Some(value) = build.current() {
        res.headers_mut().insert(BUILD_HEADER, value);
    }
    res
}

/// Whether a path is a file of a named build (`/pkg/<16 hex digits>/…`), cached for ever: a new
/// build gets a new folder.
pub fn is_build_file(path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    parts.next() == Some("pkg")
        && parts.next().is_some_and(|b| b.len() == 16 && b.bytes().all(|c| c.is_ascii_hexdigit()))
        && parts.next().is_some_and(|f| !f.is_empty())
}

/// Long-lived caching for a build's files; everything else (index.html above all) is
/// revalidated on every load so that a new release is picked up at once.
pub async fn cache_headers(req: Request, next: Next) -> Response {
    let immutable = is_build_file(req.uri().path());
    let mut res = next.run(req).await;
    if res.status() == StatusCode::OK || res.status() == StatusCode::NOT_MODIFIED {
        let value = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// The built app from `dir`, precompressed `.br`/`.gz` siblings served when the browser accepts
/// them; without a built app, a page saying how to build it.
pub fn static_files(dir: Option<PathBuf>) -> Router {
    let Some(dir) = dir.filter(|d| d.join("index.html").is_file()) else {
        return Router::new().fallback(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html("<!doctype html><title>Caliper</title><p>The app has not been built. Run <code>cargo xtask demo</code> \
                      (or <code>cargo xtask build-app</code> and point <code>--static-dir</code> at <code>app/dist</code>). \
                      The API is at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</p>"),
            )
                .into_response()
        });
    };
    let index = ServeFile::new(dir.join("index.html")).precompressed_br().precompressed_gzip();
    let builds = ServeDir::new(dir.join("pkg")).precompressed_br().precompressed_gzip();
    let files = ServeDir::new(&dir).precompressed_br().precompressed_gzip().fallback(index);
    Router::new().nest_service("/pkg", builds).fallback_service(files).layer(axum::middleware::from_fn(cache_headers))
}

#[cfg(test)]
mod tests {
    use super::{build_of, is_build_file};

    #[test]
    fn build_files_are_the_ones_under_a_named_build() {
        assert!(is_build_file("/pkg/3f2a9c0d1e4b5a69/app_bg.wasm"));
        assert!(is_build_file("/pkg/3f2a9c0d1e4b5a69/split_fmea.wasm"));
        assert!(!is_build_file("/pkg/3f2a9c0d1e4b5a6/app.js"), "15 digits");
        assert!(!is_build_file("/pkg/3f2a9c0d1e4b5a69/"));
        assert!(!is_build_file("/pkg/not-a-build-name/app.js"));
        assert!(!is_build_file("/index.html"));
        assert!(!is_build_file("/fmea/12"));
        assert!(!is_build_file("/favicon.svg"));
    }

    #[test]
    fn the_build_comes_from_the_meta_tag() {
        let html = r#"<head><meta name="caliper-build" content="0123456789abcdef" /></head>"#;
        assert_eq!(build_of(html).unwrap(), "0123456789abcdef");
        assert_eq!(build_of("<head></head>"), None);
        assert_eq!(build_of(r#"<meta name="caliper-build" content="%BUILD%" />"#), None);
    }
}
