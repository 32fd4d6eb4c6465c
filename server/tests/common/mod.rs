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
use server::storage::Store;
use server::{AppState, app_with};
use sqlx::{Executor, PgPool, SqlitePool};

/// Which database a test runs on; the same test body runs on each.
pub enum TestDb {
    /// A new SQLite file in the temp directory.
    Sqlite(SqlitePool, PathBuf),
    /// A new database on the PostgreSQL server named by `CALIPER_TEST_DATABASE_URL`.
    Postgres(PgPool),
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
        (store, TestDb::Postgres(pool))
    }

    /// Runs raw SQL beside the store, as an attacker with database access would.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self {
            TestDb::Sqlite(pool, _) => pool.execute(sql).await.map(|r| r.rows_affected()),
            TestDb::Postgres(pool) => pool.execute(sql).await.map(|r| r.rows_affected()),
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
}

/// Drives the real router.
#[derive(Clone)]
pub struct Client {
    pub router: Router,
}

impl Client {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with(store, None, Router::new())
    }

    pub fn with(store: Arc<dyn Store>, static_dir: Option<PathBuf>, extra: Router<AppState>) -> Self {
        Self { router: app_with(AppState { store, static_dir }, extra) }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        use tower::ServiceExt;
        let res = self.router.clone().oneshot(req).await.expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
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
