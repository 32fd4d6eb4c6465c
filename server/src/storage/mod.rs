//! Storage behind one trait with a SQLite and a PostgreSQL implementation (the shape of atuin's
//! `atuin-server-database` crates); the conformance ("story") tests in `tests/` run unchanged
//! against both.
//!
//! # How the SQL is written once for two backends
//! The SQL runs unchanged on SQLite and PostgreSQL: `$n` placeholders (which sqlx's SQLite
//! driver also understands), `returning`, partial unique indexes, and timestamps bound from
//! Rust (UTC, server clock) rather than `now()`, whose type differs. sqlx's query functions are
//! typed by the database, so the queries are compiled once per backend: each file in
//! `queries/` is an ordinary module that the backend modules [`sqlite`] and [`postgres`]
//! include with `#[path]`, and it names the backend only through what it imports from its
//! parent: `Db`, `Conn`, `WriteTx`, `SqlStore` and the backend's constants. Everything that
//! does not depend on the backend (row types, error mapping, the audit draft) is compiled once,
//! in [`common`]. The backends differ in their write transaction (SQLite: one connection the
//! store keeps for its writes, `begin immediate`, the chain head kept in memory and the last
//! audit entry stored with the commit in one round trip; PostgreSQL: a pooled connection, each
//! entry chained by the database under the chain's advisory lock, the last one in the same
//! message as the commit), in how a request's session is read (SQLite: on the request's thread
//! through `rusqlite`), in their migrations folder, and in nothing else. (A single implementation
//! generic over `sqlx::Database` was the alternative; its trait bounds on every `bind` and
//! `FromRow` would outweigh the queries.)
//!
//! # Adding an area's storage
//! 1. The area's trait (what it can ask) and its backend-independent rows and helpers go in
//!    `storage/<area>.rs`, as in [`risk`]; add the trait to [`Store`]'s supertraits.
//! 2. Its queries go in `storage/queries/<area>.rs`, `impl <Area>Store for SqlStore`, starting
//!    each write with `self.write_tx()`, auditing it with `base::append_audit`, and ending
//!    with `tx.commit()`; helpers other areas need are `pub(super)`.
//! 3. Add `#[path = "queries/<area>.rs"] mod <area>;` to [`sqlite`] and [`postgres`], and the
//!    migrations to both folders.

pub mod api_token;
mod common;
pub mod dashboard;
pub mod document;
pub mod fmea;
pub mod notice;
mod postgres;
pub mod quality;
pub mod risk;
mod sqlite;
pub mod training;
pub mod trust;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::FieldErrors;
use shared::audit::{AuditEntry, AuditSource, ChainReport};
use shared::org::{
    Department, DepartmentId, DepartmentInput, Process, ProcessId, ProcessInput, Site, SiteId, SiteInput,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::DatabaseUrl;

pub use api_token::{ApiTokenStore, TokenAuth};
pub use dashboard::DashboardStore;
pub use document::{DocumentStore, HistoricDocument, HistoricRevision};
pub use fmea::{FmeaStore, RowChange};
pub use notice::NoticeStore;
pub use postgres::PostgresStore;
pub use quality::{CapaStore, HistoricQuality, QualityActor, QualityStore};
pub use risk::{NewRevision, PageAt, RiskFilter, RiskStore};
pub use sqlite::SqliteStore;
pub use training::{HistoricTraining, TrainingStore};
pub use trust::{Credentials, SignOutcome, TrustStore};

/// The result of a write that is conditional on the version the client last saw.
#[derive(Debug)]
pub enum Change<T> {
    /// The change was made; here is the record as saved.
    Done(T),
    /// Someone else changed the record first; here it is as it is now (HTTP 409).
    Stale(T),
    /// The record is retired and takes no further changes (HTTP 409); here it is.
    Retired(T),
    /// No such record (HTTP 404).
    NotFound,
}

/// Why a storage call failed, in domain terms. [`crate::error`] maps each kind to its HTTP
/// status in one place; no sqlx error carries a domain meaning.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The record changed since the version the caller last saw, and there is no current
    /// record to send back (HTTP 409; writes that can send it return [`Change::Stale`]).
    #[error("{0}")]
    Stale(String),
    /// This person may not make this change to this record, though someone else could (HTTP
    /// 403), e.g. approving a revision they wrote.
    #[error("{0}")]
    Forbidden(String),
    /// The record is retired, obsolete or otherwise closed to this change (HTTP 409).
    #[error("{0}")]
    Retired(String),
    /// The change would leave the records inconsistent, e.g. retiring a department that still
    /// runs active processes (HTTP 409, with this message).
    #[error("{0}")]
    InUse(String),
    /// A concurrent change got there first while this one was being made (HTTP 409): trying
    /// again is safe.
    #[error("{0}")]
    Conflict(String),
    /// The input broke a rule that needs the database to check (a unique name, a reference to
    /// a retired record): field errors, HTTP 422.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// As [`StoreError::Invalid`], with a sentence that says why (e.g. which person has no open
    /// assignment): HTTP 422.
    #[error("{0}")]
    Refused(String, FieldErrors),
    /// Caliper broke one of its own invariants (a record just written could not be read back,
    /// a stored value could not be decoded, a worker task failed): HTTP 500, logged.
    #[error("internal error: {0}")]
    Internal(String),
    /// The database failed (HTTP 500 or 503, logged).
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// A record just written in this transaction that could not be read back.
    pub fn unreadable(record_type: &str, id: i64) -> Self {
        Self::Internal(format!("the {record_type} {id} written in this transaction could not be read back"))
    }
}

/// The result of every storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Who is making a change and from where: recorded in the audit entry that every write
/// appends in its own transaction (21 CFR 11.10(e), 11.10(h)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// The signed-in user's id (`None` for tools and sign-in attempts).
    pub actor_id: Option<i64>,
    /// The printed name recorded with the entry.
    pub actor_name: String,
    /// Request id, client address, user agent or tool.
    pub source: AuditSource,
}

impl AuditContext {
    /// A change made by a command-line tool rather than a person's request.
    pub fn tool(tool: &str) -> Self {
        Self {
            actor_id: None,
            actor_name: "system".into(),
            source: AuditSource {
                request_id: String::new(),
                client_address: String::new(),
                user_agent: tool.into(),
                session_id: String::new(),
            },
        }
    }
}

/// Which audit entries to list: newest first, `limit` at most, before `before_seq` (keyset
/// pagination).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this kind of record.
    pub record_type: Option<String>,
    /// Only this record (with `record_type`).
    pub record_id: Option<i64>,
    /// Only entries by this printed name.
    pub actor_name: Option<String>,
    /// At or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only entries older than this position (the previous page's last `seq`).
    pub before_seq: Option<i64>,
    /// Page size.
    pub limit: i64,
}

/// Every query Caliper makes. Implemented once per backend (see the module documentation).
#[async_trait]
pub trait Store:
    TrustStore
    + ApiTokenStore
    + RiskStore
    + FmeaStore
    + DocumentStore
    + NoticeStore
    + TrainingStore
    + DashboardStore
    + QualityStore
    + CapaStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is (`sqlite` or `postgres`), for logs and `/healthz`.
    fn backend(&self) -> &'static str;
    /// Applies the pending forward-only migrations of this backend.
    async fn migrate(&self) -> StoreResult<()>;
    /// A cheap round trip to the database.
    async fn ping(&self) -> StoreResult<()>;
    /// How many of this build's migrations the database has not applied (0: its schema is this
    /// build's).
    async fn pending_migrations(&self) -> StoreResult<usize>;
    /// The connection pool's use now, for the metrics.
    fn pool_use(&self) -> PoolUse;
    /// Refreshes the query planner's statistics (`analyze`), after a bulk load: PostgreSQL plans
    /// a freshly filled table as if it were empty until autovacuum gets to it (measured: the
    /// register's first page took 15 ms instead of 1.3 ms on 10,000 risks).
    async fn analyze(&self) -> StoreResult<()>;

    /// Sites, by name; retired ones only when asked.
    async fn list_sites(&self, include_retired: bool) -> StoreResult<Vec<Site>>;
    /// One site.
    async fn get_site(&self, id: SiteId) -> StoreResult<Option<Site>>;
    /// Creates a site from validated, normalised input.
    async fn create_site(&self, ctx: &AuditContext, input: &SiteInput) -> StoreResult<Site>;
    /// Updates a site if it is still at `version`.
    async fn update_site(
        &self,
        ctx: &AuditContext,
        id: SiteId,
        version: i64,
        input: &SiteInput,
    ) -> StoreResult<Change<Site>>;
    /// Retires a site if it is still at `version`.
    async fn retire_site(
        &self,
        ctx: &AuditContext,
        id: SiteId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<Site>>;

    /// Departments, by name; retired ones only when asked.
    async fn list_departments(&self, include_retired: bool) -> StoreResult<Vec<Department>>;
    /// One department.
    async fn get_department(&self, id: DepartmentId) -> StoreResult<Option<Department>>;
    /// Creates a department from validated, normalised input.
    async fn create_department(&self, ctx: &AuditContext, input: &DepartmentInput) -> StoreResult<Department>;
    /// Updates a department if it is still at `version`.
    async fn update_department(
        &self,
        ctx: &AuditContext,
        id: DepartmentId,
        version: i64,
        input: &DepartmentInput,
    ) -> StoreResult<Change<Department>>;
    /// Retires a department if it is still at `version`.
    async fn retire_department(
        &self,
        ctx: &AuditContext,
        id: DepartmentId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<Department>>;

    /// Processes, by name; retired ones only when asked.
    async fn list_processes(&self, include_retired: bool) -> StoreResult<Vec<Process>>;
    /// One process.
    async fn get_process(&self, id: ProcessId) -> StoreResult<Option<Process>>;
    /// Creates a process from validated, normalised input.
    async fn create_process(&self, ctx: &AuditContext, input: &ProcessInput) -> StoreResult<Process>;
    /// Updates a process if it is still at `version`.
    async fn update_process(
        &self,
        ctx: &AuditContext,
        id: ProcessId,
        version: i64,
        input: &ProcessInput,
    ) -> StoreResult<Change<Process>>;
    /// Audit entries matching `filter`, newest first.
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
    /// Audit entries after position `after_seq`, oldest first, at most `limit` (the live-update
    /// feed tails the trail with this).
    async fn audit_since(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// The position of the newest audit entry (0 when the trail is empty).
    async fn audit_head(&self) -> StoreResult<i64>;
    /// The position of the newest audit entry about one of `record_types` (0 when none), not
    /// counting sign-ins, sign-outs, locks and password events: what a cache of something
    /// computed from those records only is keyed on.
    async fn audit_head_of(&self, record_types: &[&str]) -> StoreResult<i64>;
    /// Recomputes the whole hash chain and reports the first broken entry, if any.
    async fn verify_audit(&self) -> StoreResult<ChainReport> {
        self.verify_audit_in_parts(VERIFY_MIN_PART).await
    }
    /// [`Store::verify_audit`], reading the chain in parts of at least `min_part` entries side
    /// by side (one per core at most), each on its own connection and hashed as it is read.
    async fn verify_audit_in_parts(&self, min_part: i64) -> StoreResult<ChainReport>;

    /// Retires a process if it is still at `version`.
    async fn retire_process(
        &self,
        ctx: &AuditContext,
        id: ProcessId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<Process>>;
}

/// The smallest part of the chain worth reading on a connection of its own.
pub const VERIFY_MIN_PART: i64 = 50_000;

/// How many database connections are open and how many of those are idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Open connections.
    pub open: u32,
    /// Open and idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Connection settings that are not part of the URL.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Most connections held open.
    pub max_connections: u32,
    /// How long a writer waits for SQLite's lock before failing.
    pub busy_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 16, busy_timeout: Duration::from_secs(5) }
    }
}

/// How long a PostgreSQL connection may sit idle in the pool before it is tested again on use.
const PG_IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// Opens the database named by `url`: `sqlite:` (the file is created when missing) or
/// `postgres://`.
pub async fn connect(url: &DatabaseUrl, settings: &PoolSettings) -> StoreResult<Arc<dyn Store>> {
    if url.is_postgres() {
        // sqlx pings a connection each time it is given back to the pool; pinging it again
        // before each use was one more round trip per request. A connection idle for a while
        // (the server restarted or a firewall dropped it) is still tested before use.
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PG_IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .acquire_timeout(Duration::from_secs(10))
            .connect(url.expose())
            .await?;
        Ok(Arc::new(PostgresStore::new(pool)))
    } else {
        if let Some(parent) = url.sqlite_file().and_then(|f| f.parent().map(ToOwned::to_owned))
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(&parent).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        // WAL lets readers run beside the one writer; foreign keys are off by default in
        // SQLite and must be switched on per connection; the busy timeout makes a second writer
        // wait instead of failing at once.
        let options = SqliteConnectOptions::from_str(url.expose())?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout)
            // Sorting and grouping (a Pareto over a year of NCs) in memory rather than in temporary
            // files, and a larger page cache per connection: measured on 100,000 NCs, the Pareto
            // took 180 ms with the defaults.
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-16384");
        // A connection to a local file does not go stale: no ping before each use (it was one
        // more hand-off to SQLite's worker thread per request).
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Arc::new(SqliteStore::new(pool)))
    }
}

#[cfg(test)]
mod tests {
    /// rustfmt formats every line of storage only if none is wider than its `max_width` (120):
    /// a string literal it cannot break, or a macro call it cannot format, would leave a line
    /// unformatted without `cargo fmt --check` noticing (that check's `error_on_line_overflow`
    /// is nightly-only). SQL is broken with `\` at a space instead.
    #[test]
    fn no_line_of_storage_is_wider_than_rustfmt_formats() {
        fn visit(dir: &std::path::Path, wide: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("storage is readable") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    visit(&path, wide);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source is UTF-8");
                    for (n, line) in text.lines().enumerate() {
                        if line.chars().count() > 120 {
                            wide.push(format!("{}:{}: {} characters", path.display(), n + 1, line.chars().count()));
                        }
                    }
                }
            }
        }
        let mut wide = Vec::new();
        visit(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/storage"), &mut wide);
        assert!(wide.is_empty(), "lines over 120 characters:\n{}", wide.join("\n"));
    }
}
