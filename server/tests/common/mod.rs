//! Test helpers: a fresh database per test on either backend, and a tiny client that drives
//! the real router through `tower::ServiceExt::oneshot` (no socket).
#![allow(dead_code, reason = "each test binary uses a different subset of the helpers")]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use server::auth::AuthConfig;
use server::storage::{AuditContext, Store};
use server::{AppState, app_with};
use shared::auth::{Role, UserId, UserInput};
use sqlx::{Executor, PgPool, SqlitePool};

pub mod process;

/// Which database a test runs on; the same test body runs on each.
pub enum TestDb {
    /// A new SQLite file in the temp directory.
    Sqlite(SqlitePool, PathBuf),
    /// A new database on the PostgreSQL server named by `CALIPER_TEST_DATABASE_URL`, and its URL.
    Postgres(PgPool, String),
}

impl TestDb {
    /// A fresh, migrated SQLite database in a real file (WAL, foreign keys on).
    pub async fn sqlite() -> (Arc<dyn Store>, TestDb) {
        let path = std::env::temp_dir().join(format!("caliper-test-{}.db", uuid::Uuid::new_v4().simple()));
        let url: server::config::DatabaseUrl = format!("sqlite://{}", path.display()).parse().unwrap();
        let store = server::storage::connect(&url, &Default::default()).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        let pool = SqlitePool::connect(url.expose()).await.unwrap();
        (store, TestDb::Sqlite(pool, path))
    }

    /// A fresh, migrated database on the test PostgreSQL server. `cargo xtask test` starts a
    /// throwaway server and sets `CALIPER_TEST_DATABASE_URL`; without it this fails loudly
    /// rather than skipping, so a green run always means both backends were tested.
    pub async fn postgres() -> (Arc<dyn Store>, TestDb) {
        let admin_url = std::env::var("CALIPER_TEST_DATABASE_URL").expect(
            "CALIPER_TEST_DATABASE_URL is not set: run the tests with `cargo xtask test`, which starts PostgreSQL",
        );
        let name = format!("caliper_test_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPool::connect(&admin_url).await.expect("connect to the test PostgreSQL server");
        admin.execute(format!("create database {name}").as_str()).await.expect("create test database");
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').expect("a postgres URL ends in /DBNAME");
        let url: server::config::DatabaseUrl = format!("{base}/{name}").parse().unwrap();
        let settings = server::storage::PoolSettings { max_connections: 12, ..Default::default() };
        let store = server::storage::connect(&url, &settings).await.expect("open postgres");
        store.migrate().await.expect("migrate postgres");
        let pool = PgPool::connect(url.expose()).await.unwrap();
        (store, TestDb::Postgres(pool, url.expose().to_string()))
    }

    /// A second store on the same database, as another instance (PostgreSQL) or a tool in
    /// another process (SQLite) would have: its own pool, its own cached state.
    pub fn second_store(&self) -> Arc<dyn Store> {
        match self {
            TestDb::Sqlite(pool, _) => Arc::new(server::storage::SqliteStore::new(pool.clone())),
            TestDb::Postgres(pool, _) => Arc::new(server::storage::PostgresStore::new(pool.clone())),
        }
    }

    /// The database's URL, for a `caliper` process.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(_, path) => format!("sqlite://{}", path.display()),
            TestDb::Postgres(_, url) => url.clone(),
        }
    }

    /// The URL of a new, empty database of the same backend (no file yet, or a new PostgreSQL
    /// database), e.g. to restore into.
    pub async fn fresh_url(&self) -> String {
        match self {
            TestDb::Sqlite(..) => format!(
                "sqlite://{}",
                std::env::temp_dir().join(format!("caliper-test-{}.db", uuid::Uuid::new_v4().simple())).display()
            ),
            TestDb::Postgres(pool, url) => {
                let name = format!("caliper_test_{}", uuid::Uuid::new_v4().simple());
                pool.execute(format!("create database {name}").as_str()).await.expect("create database");
                let (base, _) = url.rsplit_once('/').expect("a postgres URL ends in /DBNAME");
                format!("{base}/{name}")
            }
        }
    }

    /// Runs raw SQL beside the store, as an attacker with database access would.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self {
            TestDb::Sqlite(pool, _) => pool.execute(sql).await.map(|r| r.rows_affected()),
            TestDb::Postgres(pool, _) => pool.execute(sql).await.map(|r| r.rows_affected()),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Sqlite(_, path) = self {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// Generates one `#[tokio::test]` per backend for each named async test function taking
/// `(Arc<dyn Store>, TestDb)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, db) = $crate::common::TestDb::sqlite().await;
                    super::$name(store, db).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, db) = $crate::common::TestDb::postgres().await;
                    super::$name(store, db).await;
                }
            )*
        }
    };
}

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as it came (binary answers: a workbook).
    pub bytes: Vec<u8>,
}

/// The password of every user the tests create.
pub const PASSWORD: &str = "Tr1cky-Lathe-Oil";

/// Creates an active user with `roles` and [`PASSWORD`], who need not change it.
pub async fn create_user(store: &Arc<dyn Store>, username: &str, roles: &[Role]) -> UserId {
    let input = UserInput {
        username: username.into(),
        full_name: display_name(username),
        email: format!("{username}@example.com"),
        department_id: None,
        roles: roles.to_vec(),
        password: None,
        version: None,
    };
    let hash = server::auth::hash_now(&AuthConfig::for_tests(), PASSWORD).unwrap();
    store.create_user(&AuditContext::tool("test"), &input, &hash, false).await.expect("create user").id
}

/// `dana.whitfield` → `Dana Whitfield`.
pub fn display_name(username: &str) -> String {
    username
        .split(['.', '_', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drives the real router, as one browser: it keeps the session cookie and CSRF token of its
/// last successful sign-in.
#[derive(Clone)]
pub struct Client {
    pub router: Router,
    pub session: Option<(String, String)>,
    /// The username of the last successful sign-in.
    pub username: Option<String>,
}

impl Client {
    /// Not signed in.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with(store, None, Router::new())
    }

    /// A client of an app over `state` (e.g. with trusted proxies).
    pub fn with_state(state: AppState) -> Self {
        Self { router: app_with(state, Router::new()), session: None, username: None }
    }

    pub fn with(store: Arc<dyn Store>, static_dir: Option<PathBuf>, extra: Router<AppState>) -> Self {
        let state = AppState::new(store, static_dir, AuthConfig::for_tests());
        Self { router: app_with(state, extra), session: None, username: None }
    }

    /// A client signed in as a new user `username` holding `roles`.
    pub async fn as_new_user(store: Arc<dyn Store>, username: &str, roles: &[Role]) -> Self {
        create_user(&store, username, roles).await;
        let mut c = Self::new(store);
        c.sign_in(username, PASSWORD).await;
        c
    }

    /// A client signed in as a new administrator who also manages processes (quality manager).
    pub async fn admin(store: Arc<dyn Store>) -> Self {
        Self::as_new_user(store, "ada.admin", &[Role::Admin, Role::QualityManager]).await
    }

    /// Signs in; keeps the session on success. Returns the reply.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Reply {
        let r = self
            .json("POST", "/api/v1/session", &serde_json::json!({"username": username, "password": password}))
            .await;
        if r.status == StatusCode::OK {
            let cookie = r.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
            self.session = Some((cookie, r.body["csrf_token"].as_str().unwrap().to_string()));
            self.username = Some(username.to_string());
        }
        r
    }

    /// `POST /api/v1/signatures` as the signed-in person does it in the app: `body` with their
    /// own username typed in (required on a session's first signature) unless `body` has one.
    pub async fn sign(&self, body: &Value) -> Reply {
        let mut body = body.clone();
        if let (Some(o), Some(username)) = (body.as_object_mut(), &self.username) {
            o.entry("username").or_insert_with(|| Value::from(username.as_str()));
        }
        self.json("POST", "/api/v1/signatures", &body).await
    }

    /// This client's session cookie value (`caliper_session=…`).
    pub fn cookie(&self) -> Option<&str> {
        self.session.as_ref().map(|(c, _)| c.as_str())
    }

    pub async fn send(&self, mut req: Request<Body>) -> Reply {
        use tower::ServiceExt;
        if let Some((cookie, csrf)) = &self.session {
            let headers = req.headers_mut();
            headers.entry(header::COOKIE).or_insert(cookie.parse().unwrap());
            headers.entry("x-csrf-token").or_insert(csrf.parse().unwrap());
        }
        let res = self.router.clone().oneshot(req).await.expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        if headers.get(header::CONTENT_TYPE).is_some_and(|t| t == "text/event-stream") {
            // A live stream never ends: read it with `stream` instead.
            return Reply { status, headers, body: Value::Null, text: String::new(), bytes: Vec::new() };
        }
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, text, bytes: bytes.to_vec() }
    }

    /// Opens a stream (e.g. `/api/v1/events`); read it with [`Client::next_text`].
    pub async fn stream(&self, uri: &str) -> (StatusCode, axum::body::Body) {
        use tower::ServiceExt;
        let mut req = Request::get(uri).body(Body::empty()).unwrap();
        if let Some((cookie, _)) = &self.session {
            req.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
        }
        let res = self.router.clone().oneshot(req).await.expect("router is infallible");
        (res.status(), res.into_body())
    }

    /// The stream's next chunk of text, or `None` when nothing arrives within `wait`.
    pub async fn next_text(body: &mut axum::body::Body, wait: std::time::Duration) -> Option<String> {
        loop {
            let frame = tokio::time::timeout(wait, body.frame()).await.ok()??.ok()?;
            if let Ok(data) = frame.into_data() {
                return Some(String::from_utf8_lossy(&data).to_string());
            }
        }
    }

    /// `GET /api/v1/signatures/{id}/verification`: the re-verified signature's status
    /// (`valid`, `superseded`, `unverifiable`, `broken`), or the error's status.
    pub async fn verified(&self, signature: &Value) -> String {
        let r = self.get(&format!("/api/v1/signatures/{}/verification", signature["id"])).await;
        r.body["status"].as_str().map_or_else(|| format!("{}: {}", r.status, r.text), str::to_string)
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    pub async fn json(&self, method: &str, uri: &str, body: &Value) -> Reply {
        self.raw(method, uri, "application/json", body.to_string()).await
    }

    pub async fn raw(&self, method: &str, uri: &str, content_type: &str, body: impl Into<Body>) -> Reply {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap();
        self.send(req).await
    }
}
