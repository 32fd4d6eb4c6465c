//! The SQL, written once. It runs unchanged on SQLite and PostgreSQL: `$n` placeholders (which
//! sqlx's SQLite driver also understands), `returning`, partial unique indexes, and
//! timestamps bound from Rust (UTC, server clock) rather than `now()`, whose type differs.
//!
//! [`sql_store!`] instantiates the same method bodies for each backend's pool type; the only
//! per-backend inputs are the migrations folder and how a write transaction begins (SQLite
//! needs `begin immediate`, so that a transaction that reads before it writes waits for the
//! write lock instead of failing with `SQLITE_BUSY` when another writer committed first).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use shared::FieldErrors;
use shared::audit::{
    AuditAction, AuditEntry, AuditSource, ChainReport, ChainVerifier, Changes, GENESIS_HASH, StoredEntry, audit_time,
    diff,
};
use shared::auth::UserId;
use shared::org::{
    Department, DepartmentId, DepartmentInput, Process, ProcessId, ProcessInput, Record, RecordMeta, Site, SiteId,
    SiteInput,
};
use shared::validation::{NOT_FOUND, RETIRED, TAKEN};

use super::{AuditContext, AuditFilter, Change, Store, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct MetaRow {
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    retired_at: Option<DateTime<Utc>>,
    retired_reason: Option<String>,
}

impl From<MetaRow> for RecordMeta {
    fn from(m: MetaRow) -> Self {
        RecordMeta {
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            retired_at: m.retired_at,
            retired_reason: m.retired_reason,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SiteRow {
    site_id: i64,
    code: String,
    name: String,
    address: String,
    #[sqlx(flatten)]
    meta: MetaRow,
}

impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Self {
        Site { id: SiteId(r.site_id), code: r.code, name: r.name, address: r.address, meta: r.meta.into() }
    }
}

#[derive(sqlx::FromRow)]
struct DepartmentRow {
    department_id: i64,
    name: String,
    site_id: Option<i64>,
    site_name: Option<String>,
    #[sqlx(flatten)]
    meta: MetaRow,
}

impl From<DepartmentRow> for Department {
    fn from(r: DepartmentRow) -> Self {
        Department {
            id: DepartmentId(r.department_id),
            name: r.name,
            site_id: r.site_id.map(SiteId),
            site_name: r.site_name,
            meta: r.meta.into(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ProcessRow {
    process_id: i64,
    name: String,
    description: String,
    owner_id: Option<i64>,
    owner_name: String,
    department_id: i64,
    department_name: String,
    #[sqlx(flatten)]
    meta: MetaRow,
}

impl From<ProcessRow> for Process {
    fn from(r: ProcessRow) -> Self {
        Process {
            id: ProcessId(r.process_id),
            name: r.name,
            description: r.description,
            owner_id: r.owner_id.map(UserId),
            owner_name: r.owner_name,
            department_id: DepartmentId(r.department_id),
            department_name: r.department_name,
            meta: r.meta.into(),
        }
    }
}

const SITE_SELECT: &str = "select site_id, code, name, address, version, created_at, updated_at, retired_at, \
     retired_reason from sites";

const DEPARTMENT_SELECT: &str = "select d.department_id, d.name, d.site_id, s.name as site_name, d.version, \
     d.created_at, d.updated_at, d.retired_at, d.retired_reason \
     from departments d left join sites s on s.site_id = d.site_id";

const PROCESS_SELECT: &str = "select p.process_id, p.name, p.description, p.owner_id, \
     coalesce(u.full_name, p.owner_name) as owner_name, p.department_id, \
     d.name as department_name, p.version, p.created_at, p.updated_at, p.retired_at, p.retired_reason \
     from processes p join departments d on d.department_id = p.department_id \
     left join users u on u.user_id = p.owner_id";

/// Which unique index guards which field, for turning a unique violation into a field error.
/// (index name, SQLite's `table.column` wording for a plain-column index, field)
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    ("sites_code_active", "sites.code", "code"),
    ("sites_name_active", "sites.name", "name"),
    ("departments_name_active", "departments.name", "name"),
    ("processes_name_active", "processes.name", "name"),
    ("fmeas_number_active", "fmeas.fmea_number", "fmea_number"),
];

/// Maps a constraint violation to the field it concerns (one helper for every table), so that a
/// duplicate name is a 422 naming `name`, not a 500. PostgreSQL names the index; SQLite names
/// the indexed columns in its message (`UNIQUE constraint failed: index 'sites_code_active'`
/// or `...: sites.code`), so both are checked.
fn constraint_error(err: sqlx::Error, fk_field: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            let found = UNIQUE_FIELDS.iter().find(|(index, column, _)| {
                db.constraint() == Some(*index) || db.message().contains(index) || db.message().ends_with(column)
            });
            let mut e = FieldErrors::new();
            e.add(found.map_or("name", |(_, _, field)| *field), TAKEN);
            return StoreError::Invalid(e);
        }
        if db.is_foreign_key_violation() {
            let mut e = FieldErrors::new();
            e.add(fk_field, NOT_FOUND);
            return StoreError::Invalid(e);
        }
    }
    StoreError::Database(err)
}

/// Where referenced records live: (table, key column, name column).
const SITES: (&str, &str, &str) = ("sites", "site_id", "name");
const DEPARTMENTS: (&str, &str, &str) = ("departments", "department_id", "name");
const USERS: (&str, &str, &str) = ("users", "user_id", "full_name");
const PROCESSES: (&str, &str, &str) = ("processes", "process_id", "name");
const FMEAS: (&str, &str, &str) = ("fmeas", "fmea_id", "fmea_number");

/// A field error as a store error.
fn field_error(field: &str, code: &str) -> StoreError {
    let mut e = FieldErrors::new();
    e.add(field, code);
    StoreError::Invalid(e)
}

/// Whether a referenced record exists and is active: `None` when it is, else the error code.
fn reference_problem(found: Option<Option<DateTime<Utc>>>) -> Option<&'static str> {
    match found {
        None => Some(NOT_FOUND),
        Some(Some(_retired_at)) => Some(RETIRED),
        Some(None) => None,
    }
}

/// A conditional write as it happened: whether it touched the row, and the record before and
/// after, read in the same transaction.
struct Written<'a, T> {
    action: AuditAction,
    record_id: i64,
    reason: Option<&'a str>,
    expected_version: i64,
    done: bool,
    before: Option<T>,
    after: Option<T>,
}

/// Decides what a conditional write did, from whether it touched a row and the record as it
/// is now.
fn settle<T: Record>(done: bool, current: Option<T>, version: i64) -> Change<T> {
    match current {
        None => Change::NotFound,
        Some(c) if done => Change::Done(c),
        Some(c) if c.meta().version != version => Change::Stale(c),
        Some(c) => Change::Retired(c),
    }
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    occurred_at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor_name: String,
    action: String,
    record_type: String,
    record_id: i64,
    record_version: i64,
    changes: String,
    reason: Option<String>,
    source: String,
    prev_hash: String,
    hash: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = String;

    fn try_from(r: AuditRow) -> Result<Self, Self::Error> {
        Ok(AuditEntry {
            seq: r.seq,
            occurred_at: r.occurred_at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: AuditAction::parse(&r.action).ok_or_else(|| format!("unknown action `{}`", r.action))?,
            record_type: r.record_type,
            record_id: r.record_id,
            record_version: r.record_version,
            changes: serde_json::from_str(&r.changes).map_err(|e| format!("unreadable changes: {e}"))?,
            reason: r.reason,
            source: serde_json::from_str::<AuditSource>(&r.source).map_err(|e| format!("unreadable source: {e}"))?,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
    }
}

const AUDIT_COLUMNS: &str = "seq, occurred_at, actor_id, actor_name, action, record_type, record_id, record_version, \
     changes, reason, source, prev_hash, hash";

/// What an audited write records: the record before (None on create) and after.
struct Audited<'a, T> {
    action: AuditAction,
    record_id: i64,
    before: Option<&'a T>,
    after: &'a T,
    version: i64,
    reason: Option<&'a str>,
}

impl<'a, T: Serialize + Record> From<Audited<'a, T>> for Draft<'a> {
    fn from(a: Audited<'a, T>) -> Self {
        let before = a.before.map_or(serde_json::Value::Null, |b| serde_json::to_value(b).unwrap_or_default());
        let after = serde_json::to_value(a.after).unwrap_or_default();
        Draft {
            action: a.action,
            record_type: T::RECORD_TYPE,
            record_id: a.record_id,
            record_version: a.version,
            changes: diff(&before, &after),
            reason: a.reason,
        }
    }
}

/// An audit entry before it joins the chain: what happened to which record version.
pub(super) struct Draft<'a> {
    pub action: AuditAction,
    pub record_type: &'a str,
    pub record_id: i64,
    pub record_version: i64,
    pub changes: Changes,
    pub reason: Option<&'a str>,
}

impl Draft<'_> {
    /// The entry that follows the chain's head `(seq, hash)`.
    fn entry(&self, ctx: &AuditContext, head: Option<(i64, String)>) -> AuditEntry {
        let (seq, prev_hash) = head.map_or((1, GENESIS_HASH.to_string()), |(s, h)| (s + 1, h));
        let mut e = AuditEntry {
            seq,
            occurred_at: audit_time(Utc::now()),
            actor_id: ctx.actor_id,
            actor_name: ctx.actor_name.clone(),
            action: self.action,
            record_type: self.record_type.to_string(),
            record_id: self.record_id,
            record_version: self.record_version,
            changes: self.changes.clone(),
            reason: self.reason.map(str::to_string),
            source: ctx.source.clone(),
            prev_hash,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }
}

/// Checks a batch of the chain in order: the verifier to go on with, or the verdict when the
/// chain broke in this batch.
fn check_batch(mut verifier: ChainVerifier, rows: Vec<AuditRow>) -> Result<ChainVerifier, ChainReport> {
    for r in &rows {
        // Hashed as stored: no JSON is parsed, and any edit of the stored text is caught.
        let stored = StoredEntry {
            seq: r.seq,
            occurred_at: r.occurred_at,
            actor_id: r.actor_id,
            actor_name: &r.actor_name,
            action: &r.action,
            record_type: &r.record_type,
            record_id: r.record_id,
            record_version: r.record_version,
            changes: &r.changes,
            reason: r.reason.as_deref(),
            source: &r.source,
            prev_hash: &r.prev_hash,
            hash: &r.hash,
        };
        if !verifier.check_stored(&stored) {
            return Err(verifier.finish());
        }
    }
    Ok(verifier)
}

fn checker_failed(e: tokio::task::JoinError) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("the chain checker failed: {e}")))
}

macro_rules! sql_store {
    ($(#[$doc:meta])* $store:ident, $db:ty, $backend:literal, $begin:literal, $append_lock:literal,
     $serialise_writers:literal, $migrator:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $store {
            pool: sqlx::Pool<$db>,
            /// Writers queue here, in-process, before taking the database's write lock (SQLite
            /// only: its own busy handler makes a waiting writer sleep for milliseconds).
            writers: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
        }

        impl $store {
            /// Wraps an open pool.
            pub fn new(pool: sqlx::Pool<$db>) -> Self {
                let writers = $serialise_writers.then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
                Self { pool, writers }
            }

            /// Starts a write transaction; keep the returned turn until it commits or rolls back.
            async fn write_tx(&self) -> StoreResult<(Option<tokio::sync::OwnedMutexGuard<()>>, sqlx::Transaction<'static, $db>)> {
                let turn = match &self.writers {
                    Some(w) => Some(w.clone().lock_owned().await),
                    None => None,
                };
                let tx = self.pool.begin_with($begin).await?;
                Ok((turn, tx))
            }

            /// The pool, for tests and tools that need raw access.
            pub fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }
        }

        type Conn = <$db as sqlx::Database>::Connection;
        /// This backend's database type (for query builders in the other store macros).
        type Db = $db;

        /// Appends the audit entry of a write, in the write's own transaction. The append is
        /// serialised (SQLite: the transaction already holds the write lock; PostgreSQL: a
        /// transaction-scoped advisory lock), so concurrent writers never fork the chain.
        async fn append_audit<'a>(conn: &mut Conn, ctx: &AuditContext, draft: impl Into<Draft<'a>>) -> StoreResult<()> {
            let head = lock_chain(&mut *conn).await?;
            let e = draft.into().entry(ctx, head);
            insert_entry(conn, &e).await
        }

        /// Takes the chain's append lock for the rest of the transaction and reads its head
        /// `(seq, hash)` (`None` while the trail is empty).
        async fn lock_chain(conn: &mut Conn) -> StoreResult<Option<(i64, String)>> {
            if !$append_lock.is_empty() {
                sqlx::query($append_lock).execute(&mut *conn).await?;
            }
            Ok(sqlx::query_as("select seq, hash from audit_entries order by seq desc limit 1")
                .fetch_optional(&mut *conn)
                .await?)
        }

        /// Stores entries that follow each other (and the head read under [`lock_chain`]) with
        /// multi-row inserts: for imports of many records.
        async fn insert_entries(conn: &mut Conn, entries: &[AuditEntry]) -> StoreResult<()> {
            // 13 values per entry: 500 entries stay well under both databases' bind limits.
            for chunk in entries.chunks(500) {
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    "insert into audit_entries (seq, occurred_at, actor_id, actor_name, action, record_type, record_id, \
                     record_version, changes, reason, source, prev_hash, hash) ",
                );
                qb.push_values(chunk, |mut v, e| {
                    let (changes, source) = e.json_parts();
                    v.push_bind(e.seq)
                        .push_bind(e.occurred_at)
                        .push_bind(e.actor_id)
                        .push_bind(e.actor_name.clone())
                        .push_bind(e.action.as_str())
                        .push_bind(e.record_type.clone())
                        .push_bind(e.record_id)
                        .push_bind(e.record_version)
                        .push_bind(changes)
                        .push_bind(e.reason.clone())
                        .push_bind(source)
                        .push_bind(e.prev_hash.clone())
                        .push_bind(e.hash.clone());
                });
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Stores an entry that follows the head read under [`lock_chain`].
        async fn insert_entry(conn: &mut Conn, e: &AuditEntry) -> StoreResult<()> {
            let (changes, source) = e.json_parts();
            sqlx::query(
                "insert into audit_entries (seq, occurred_at, actor_id, actor_name, action, record_type, record_id, \
                 record_version, changes, reason, source, prev_hash, hash) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(e.seq)
            .bind(e.occurred_at)
            .bind(e.actor_id)
            .bind(&e.actor_name)
            .bind(e.action.as_str())
            .bind(&e.record_type)
            .bind(e.record_id)
            .bind(e.record_version)
            .bind(&changes)
            .bind(&e.reason)
            .bind(&source)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        async fn site_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Site>> {
            let sql = format!("{SITE_SELECT} where site_id = $1");
            let row: Option<SiteRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            Ok(row.map(Into::into))
        }

        async fn department_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Department>> {
            let sql = format!("{DEPARTMENT_SELECT} where d.department_id = $1");
            let row: Option<DepartmentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            Ok(row.map(Into::into))
        }

        async fn process_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Process>> {
            let sql = format!("{PROCESS_SELECT} where p.process_id = $1");
            let row: Option<ProcessRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            Ok(row.map(Into::into))
        }

        /// After a conditional write: audits it when it happened, then settles the outcome.
        async fn finish<T: Serialize + Record>(conn: &mut Conn, ctx: &AuditContext, w: Written<'_, T>) -> StoreResult<Change<T>> {
            if w.done && let Some(after) = &w.after {
                let audited = Audited {
                    action: w.action,
                    record_id: w.record_id,
                    before: w.before.as_ref(),
                    after,
                    version: after.meta().version,
                    reason: w.reason,
                };
                append_audit(conn, ctx, audited).await?;
            }
            Ok(settle(w.done, w.after, w.expected_version))
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> StoreResult<()> {
                $migrator.run(&self.pool).await.map_err(|e| StoreError::Database(e.into()))
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn analyze(&self) -> StoreResult<()> {
                sqlx::query("analyze").execute(&self.pool).await?;
                Ok(())
            }

            // ---- sites ----

            async fn list_sites(&self, include_retired: bool) -> StoreResult<Vec<Site>> {
                let sql = format!("{SITE_SELECT} where ($1 or retired_at is null) order by lower(name), site_id");
                let rows: Vec<SiteRow> = sqlx::query_as(&sql).bind(include_retired).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn get_site(&self, id: SiteId) -> StoreResult<Option<Site>> {
                let mut conn = self.pool.acquire().await?;
                site_by_id(&mut conn, id.0).await
            }

            async fn create_site(&self, ctx: &AuditContext, input: &SiteInput) -> StoreResult<Site> {
                let (_turn, mut tx) = self.write_tx().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "insert into sites (code, name, address, version, created_at, updated_at) \
                     values ($1, $2, $3, 1, $4, $4) returning site_id",
                )
                .bind(&input.code)
                .bind(&input.name)
                .bind(&input.address)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "id"))?;
                let site = site_by_id(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let audited = Audited { action: AuditAction::Create, record_id: id, before: None, after: &site, version: 1, reason: None };
                append_audit(&mut tx, ctx, audited).await?;
                tx.commit().await?;
                Ok(site)
            }

            async fn update_site(&self, ctx: &AuditContext, id: SiteId, version: i64, input: &SiteInput) -> StoreResult<Change<Site>> {
                let (_turn, mut tx) = self.write_tx().await?;
                let before = site_by_id(&mut tx, id.0).await?;
                let done = sqlx::query(
                    "update sites set code = $3, name = $4, address = $5, version = version + 1, updated_at = $6 \
                     where site_id = $1 and version = $2 and retired_at is null",
                )
                .bind(id.0)
                .bind(version)
                .bind(&input.code)
                .bind(&input.name)
                .bind(&input.address)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "id"))?
                .rows_affected() == 1;
                let after = site_by_id(&mut tx, id.0).await?;
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Update, record_id: id.0, reason: None, expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            async fn retire_site(&self, ctx: &AuditContext, id: SiteId, version: i64, reason: &str) -> StoreResult<Change<Site>> {
                let (_turn, mut tx) = self.write_tx().await?;
                let (in_use,): (i64,) = sqlx::query_as(
                    "select count(*) from departments where site_id = $1 and retired_at is null",
                )
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
                if in_use > 0 {
                    return Err(StoreError::InUse(format!(
                        "This site still has {in_use} active department(s); retire or move them first."
                    )));
                }
                let before = site_by_id(&mut tx, id.0).await?;
                let done = retire(&mut tx, "sites", "site_id", id.0, version, reason).await?;
                let after = site_by_id(&mut tx, id.0).await?;
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Retire, record_id: id.0, reason: Some(reason), expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            // ---- departments ----

            async fn list_departments(&self, include_retired: bool) -> StoreResult<Vec<Department>> {
                let sql = format!(
                    "{DEPARTMENT_SELECT} where ($1 or d.retired_at is null) order by lower(d.name), d.department_id"
                );
                let rows: Vec<DepartmentRow> =
                    sqlx::query_as(&sql).bind(include_retired).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn get_department(&self, id: DepartmentId) -> StoreResult<Option<Department>> {
                let mut conn = self.pool.acquire().await?;
                department_by_id(&mut conn, id.0).await
            }

            async fn create_department(&self, ctx: &AuditContext, input: &DepartmentInput) -> StoreResult<Department> {
                let (_turn, mut tx) = self.write_tx().await?;
                check_site(&mut tx, input.site_id).await?;
                let (id,): (i64,) = sqlx::query_as(
                    "insert into departments (name, site_id, version, created_at, updated_at) \
                     values ($1, $2, 1, $3, $3) returning department_id",
                )
                .bind(&input.name)
                .bind(input.site_id.map(|s| s.0))
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "site_id"))?;
                let department = department_by_id(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let audited = Audited { action: AuditAction::Create, record_id: id, before: None, after: &department, version: 1, reason: None };
                append_audit(&mut tx, ctx, audited).await?;
                tx.commit().await?;
                Ok(department)
            }

            async fn update_department(
                &self,
                ctx: &AuditContext,
                id: DepartmentId,
                version: i64,
                input: &DepartmentInput,
            ) -> StoreResult<Change<Department>> {
                let (_turn, mut tx) = self.write_tx().await?;
                check_site(&mut tx, input.site_id).await?;
                let before = department_by_id(&mut tx, id.0).await?;
                let done = sqlx::query(
                    "update departments set name = $3, site_id = $4, version = version + 1, updated_at = $5 \
                     where department_id = $1 and version = $2 and retired_at is null",
                )
                .bind(id.0)
                .bind(version)
                .bind(&input.name)
                .bind(input.site_id.map(|s| s.0))
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "site_id"))?
                .rows_affected() == 1;
                let after = department_by_id(&mut tx, id.0).await?;
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Update, record_id: id.0, reason: None, expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            async fn retire_department(
                &self,
                ctx: &AuditContext,
                id: DepartmentId,
                version: i64,
                reason: &str,
            ) -> StoreResult<Change<Department>> {
                let (_turn, mut tx) = self.write_tx().await?;
                let (in_use,): (i64,) = sqlx::query_as(
                    "select count(*) from processes where department_id = $1 and retired_at is null",
                )
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
                if in_use > 0 {
                    return Err(StoreError::InUse(format!(
                        "This department still runs {in_use} active process(es); retire or move them first."
                    )));
                }
                let before = department_by_id(&mut tx, id.0).await?;
                let done = retire(&mut tx, "departments", "department_id", id.0, version, reason).await?;
                let after = department_by_id(&mut tx, id.0).await?;
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Retire, record_id: id.0, reason: Some(reason), expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            // ---- processes ----

            async fn list_processes(&self, include_retired: bool) -> StoreResult<Vec<Process>> {
                let sql = format!(
                    "{PROCESS_SELECT} where ($1 or p.retired_at is null) order by lower(p.name), p.process_id"
                );
                let rows: Vec<ProcessRow> = sqlx::query_as(&sql).bind(include_retired).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn get_process(&self, id: ProcessId) -> StoreResult<Option<Process>> {
                let mut conn = self.pool.acquire().await?;
                process_by_id(&mut conn, id.0).await
            }

            async fn create_process(&self, ctx: &AuditContext, input: &ProcessInput) -> StoreResult<Process> {
                let (_turn, mut tx) = self.write_tx().await?;
                let department = check_department(&mut tx, input.department_id).await?;
                let (owner, owner_name) = check_owner(&mut tx, input.owner_id).await?;
                let (id,): (i64,) = sqlx::query_as(
                    "insert into processes (name, description, owner_name, department_id, version, created_at, updated_at, owner_id) \
                     values ($1, $2, $3, $4, 1, $5, $5, $6) returning process_id",
                )
                .bind(&input.name)
                .bind(&input.description)
                .bind(&owner_name)
                .bind(department)
                .bind(Utc::now())
                .bind(owner)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "department_id"))?;
                let process = process_by_id(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let audited = Audited { action: AuditAction::Create, record_id: id, before: None, after: &process, version: 1, reason: None };
                append_audit(&mut tx, ctx, audited).await?;
                tx.commit().await?;
                Ok(process)
            }

            async fn update_process(
                &self,
                ctx: &AuditContext,
                id: ProcessId,
                version: i64,
                input: &ProcessInput,
            ) -> StoreResult<Change<Process>> {
                let (_turn, mut tx) = self.write_tx().await?;
                let department = check_department(&mut tx, input.department_id).await?;
                let (owner, owner_name) = check_owner(&mut tx, input.owner_id).await?;
                let before = process_by_id(&mut tx, id.0).await?;
                let done = sqlx::query(
                    "update processes set name = $3, description = $4, owner_name = $5, department_id = $6, \
                     version = version + 1, updated_at = $7, owner_id = $8 \
                     where process_id = $1 and version = $2 and retired_at is null",
                )
                .bind(id.0)
                .bind(version)
                .bind(&input.name)
                .bind(&input.description)
                .bind(&owner_name)
                .bind(department)
                .bind(Utc::now())
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "department_id"))?
                .rows_affected() == 1;
                let after = process_by_id(&mut tx, id.0).await?;
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Update, record_id: id.0, reason: Some(input.reason.as_str()).filter(|r| !r.is_empty()), expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            async fn retire_process(&self, ctx: &AuditContext, id: ProcessId, version: i64, reason: &str) -> StoreResult<Change<Process>> {
                let (_turn, mut tx) = self.write_tx().await?;
                let before = process_by_id(&mut tx, id.0).await?;
                let done = retire(&mut tx, "processes", "process_id", id.0, version, reason).await?;
                let after = process_by_id(&mut tx, id.0).await?;
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Retire, record_id: id.0, reason: Some(reason), expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            // ---- audit trail ----

            async fn list_audit(&self, f: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
                let sql = format!(
                    "select {AUDIT_COLUMNS} from audit_entries \
                     where ($1 is null or record_type = $1) and ($2 is null or record_id = $2) \
                     and ($3 is null or actor_name = $3) and ($4 is null or occurred_at >= $4) \
                     and ($5 is null or occurred_at < $5) and ($6 is null or seq < $6) \
                     order by seq desc limit $7"
                );
                let rows: Vec<AuditRow> = sqlx::query_as(&sql)
                    .bind(&f.record_type)
                    .bind(f.record_id)
                    .bind(&f.actor_name)
                    .bind(f.from)
                    .bind(f.to)
                    .bind(f.before_seq)
                    .bind(f.limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|r| {
                        let seq = r.seq;
                        AuditEntry::try_from(r).map_err(|e| {
                            StoreError::Database(sqlx::Error::Decode(format!("audit entry {seq}: {e}").into()))
                        })
                    })
                    .collect()
            }

            async fn audit_since(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
                let sql = format!("select {AUDIT_COLUMNS} from audit_entries where seq > $1 order by seq limit $2");
                let rows: Vec<AuditRow> = sqlx::query_as(&sql).bind(after_seq).bind(limit).fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|r| {
                        let seq = r.seq;
                        AuditEntry::try_from(r).map_err(|e| {
                            StoreError::Database(sqlx::Error::Decode(format!("audit entry {seq}: {e}").into()))
                        })
                    })
                    .collect()
            }

            async fn audit_head(&self) -> StoreResult<i64> {
                let (head,): (Option<i64>,) = sqlx::query_as("select max(seq) from audit_entries").fetch_one(&self.pool).await?;
                Ok(head.unwrap_or(0))
            }

            async fn verify_audit(&self) -> StoreResult<ChainReport> {
                // Reading rows and hashing them run side by side: each batch is checked on a
                // blocking thread while the next one is read.
                const BATCH: usize = 4096;
                let sql = format!("select {AUDIT_COLUMNS} from audit_entries order by seq");
                let mut rows = sqlx::query_as::<_, AuditRow>(&sql).fetch(&self.pool);
                let mut idle = Some(ChainVerifier::default());
                let mut checking: Option<tokio::task::JoinHandle<Result<ChainVerifier, ChainReport>>> = None;
                let mut batch = Vec::with_capacity(BATCH);
                loop {
                    let row = rows.try_next().await?;
                    let end = row.is_none();
                    batch.extend(row);
                    if batch.len() == BATCH || (end && !batch.is_empty()) {
                        let verifier = match checking.take() {
                            Some(h) => match h.await.map_err(checker_failed)? {
                                Ok(v) => v,
                                Err(report) => return Ok(report),
                            },
                            None => idle.take().unwrap_or_default(),
                        };
                        let rows = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        checking = Some(tokio::task::spawn_blocking(move || check_batch(verifier, rows)));
                    }
                    if end {
                        break;
                    }
                }
                let verifier = match checking {
                    Some(h) => match h.await.map_err(checker_failed)? {
                        Ok(v) => v,
                        Err(report) => return Ok(report),
                    },
                    None => idle.unwrap_or_default(),
                };
                Ok(verifier.finish())
            }
        }

        /// Retires a row of `table` if it is active and at `version`; true when it did.
        async fn retire(
            conn: &mut Conn,
            table: &'static str,
            key: &'static str,
            id: i64,
            version: i64,
            reason: &str,
        ) -> StoreResult<bool> {
            let sql = format!(
                "update {table} set retired_at = $3, retired_reason = $4, version = version + 1, updated_at = $3 \
                 where {key} = $1 and version = $2 and retired_at is null"
            );
            let done = sqlx::query(&sql)
                .bind(id)
                .bind(version)
                .bind(Utc::now())
                .bind(reason)
                .execute(conn)
                .await?
                .rows_affected() == 1;
            Ok(done)
        }

        /// A referenced record (`id` in `table`, keyed by `key`) must exist and be active;
        /// otherwise a field error on `field`. Returns the record's `name_column`.
        async fn active_reference(
            conn: &mut Conn,
            (table, key, name_column): (&str, &str, &str),
            field: &str,
            id: i64,
        ) -> StoreResult<String> {
            let sql = format!("select retired_at, {name_column} from {table} where {key} = $1");
            let found: Option<(Option<DateTime<Utc>>, String)> =
                sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            match reference_problem(found.as_ref().map(|(retired, _)| *retired)) {
                None => Ok(found.map(|(_, name)| name).unwrap_or_default()),
                Some(code) => Err(field_error(field, code)),
            }
        }

        /// A department's site, when given, must exist and be active.
        async fn check_site(conn: &mut Conn, site: Option<SiteId>) -> StoreResult<()> {
            let Some(site) = site else { return Ok(()) };
            active_reference(conn, SITES, "site_id", site.0).await.map(drop)
        }

        /// A process's owner must be given, exist and be active; returns the id and printed name.
        async fn check_owner(conn: &mut Conn, owner: Option<UserId>) -> StoreResult<(i64, String)> {
            let owner = owner.ok_or_else(|| field_error("owner_id", shared::validation::REQUIRED))?;
            Ok((owner.0, active_reference(conn, USERS, "owner_id", owner.0).await?))
        }

        /// A process's department must be given, exist and be active.
        async fn check_department(conn: &mut Conn, department: Option<DepartmentId>) -> StoreResult<i64> {
            let department = department.ok_or_else(|| field_error("department_id", shared::validation::REQUIRED))?;
            active_reference(conn, DEPARTMENTS, "department_id", department.0).await?;
            Ok(department.0)
        }
    };
}

mod sqlite {
    use super::*;
    sql_store!(
        /// Caliper's storage on SQLite (the embedded default).
        SqliteStore,
        sqlx::Sqlite,
        "sqlite",
        "begin immediate",
        // `begin immediate` already holds SQLite's single write lock: no statement needed.
        "",
        true,
        sqlx::migrate!("./migrations/sqlite")
    );
    super::super::trust::trust_store!(SqliteStore);
    super::super::risk::risk_store!(SqliteStore);
    super::super::fmea::fmea_store!(SqliteStore);
}

mod postgres {
    use super::*;
    sql_store!(
        /// Caliper's storage on PostgreSQL.
        PostgresStore,
        sqlx::Postgres,
        "postgres",
        "begin",
        // One lock id for the audit chain, held until the transaction ends.
        "select pg_advisory_xact_lock(1128616521)",
        false,
        sqlx::migrate!("./migrations/postgres")
    );
    super::super::trust::trust_store!(PostgresStore);
    super::super::risk::risk_store!(PostgresStore);
    super::super::fmea::fmea_store!(PostgresStore);
}

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
