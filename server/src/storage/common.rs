//! What every backend's queries share and that does not depend on the backend: row types,
//! constraint-error mapping, the audit draft, the chain checker and the write transaction.
//!

use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::FieldErrors;
use shared::audit::{AuditAction, AuditEntry, AuditSource, Changes, GENESIS_HASH, audit_time, diff};
use shared::auth::UserId;
use shared::org::{Department, DepartmentId, Process, ProcessId, Record, RecordMeta, Site, SiteId};
use shared::validation::{NOT_FOUND, RETIRED, TAKEN};

use super::{AuditContext, Change, StoreError};

#[derive(sqlx::FromRow)]
pub(crate) struct MetaRow {
    pub(crate) version: i64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) retired_at: Option<DateTime<Utc>>,
    pub(crate) retired_reason: Option<String>,
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
pub(crate) struct SiteRow {
    pub(crate) site_id: i64,
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) address: String,
    #[sqlx(flatten)]
    pub(crate) meta: MetaRow,
}

impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Self {
        Site { id: SiteId(r.site_id), code: r.code, name: r.name, address: r.address, meta: r.meta.into() }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    pub(crate) department_id: i64,
    pub(crate) name: String,
    pub(crate) site_id: Option<i64>,
    pub(crate) site_name: Option<String>,
    #[sqlx(flatten)]
    pub(crate) meta: MetaRow,
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
pub(crate) struct ProcessRow {
    pub(crate) process_id: i64,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) owner_id: Option<i64>,
    pub(crate) owner_name: String,
    pub(crate) department_id: i64,
    pub(crate) department_name: String,
    #[sqlx(flatten)]
    pub(crate) meta: MetaRow,
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

pub(crate) const SITE_SELECT: &str = "select site_id, code, name, address, version, created_at, updated_at, \
                                      retired_at, \
     retired_reason from sites";

pub(crate) const DEPARTMENT_SELECT: &str = "select d.department_id, d.name, d.site_id, s.name as site_name, d.version, \
     d.created_at, d.updated_at, d.retired_at, d.retired_reason \
     from departments d left join sites s on s.site_id = d.site_id";

pub(crate) const PROCESS_SELECT: &str = "select p.process_id, p.name, p.description, p.owner_id, \
     coalesce(u.full_name, p.owner_name) as owner_name, p.department_id, \
     d.name as department_name, p.version, p.created_at, p.updated_at, p.retired_at, p.retired_reason \
     from processes p join departments d on d.department_id = p.department_id \
     left join users u on u.user_id = p.owner_id";

/// Which unique index guards which field, for turning a unique violation into a field error.
/// (index name, SQLite's `table.column` wording for a plain-column index, field)
pub(crate) const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    ("sites_code_active", "sites.code", "code"),
    ("sites_name_active", "sites.name", "name"),
    ("departments_name_active", "departments.name", "name"),
    ("processes_name_active", "processes.name", "name"),
    ("fmeas_number_active", "fmeas.fmea_number", "fmea_number"),
    ("users_username", "users.username", "username"),
];

/// Maps a constraint violation to the field it concerns (one helper for every table), so that a
/// duplicate name is a 422 naming `name`, not a 500. PostgreSQL names the index; SQLite names
/// the indexed columns in its message (`UNIQUE constraint failed: index 'sites_code_active'`
/// or `...: sites.code`), so both are checked.
pub(crate) fn constraint_error(err: sqlx::Error, fk_field: &str) -> StoreError {
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
/// `ids` as the list of an SQL `in (…)`: integers, written into the statement rather than bound
/// (SQLite has no array parameter), so nothing but digits and commas reaches the SQL.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The records of `found` (by id) in the order of `ids`, leaving out any not found.
pub(crate) fn in_order<T>(ids: &[i64], found: impl IntoIterator<Item = (i64, T)>) -> Vec<T> {
    let mut found: std::collections::HashMap<i64, T> = found.into_iter().collect();
    ids.iter().filter_map(|id| found.remove(id)).collect()
}

pub(crate) const SITES: (&str, &str, &str) = ("sites", "site_id", "name");
pub(crate) const DEPARTMENTS: (&str, &str, &str) = ("departments", "department_id", "name");
pub(crate) const USERS: (&str, &str, &str) = ("users", "user_id", "full_name");
pub(crate) const PROCESSES: (&str, &str, &str) = ("processes", "process_id", "name");
pub(crate) const FMEAS: (&str, &str, &str) = ("fmeas", "fmea_id", "fmea_number");

/// A field error as a store error.
pub(crate) fn field_error(field: &str, code: &str) -> StoreError {
    let mut e = FieldErrors::new();
    e.add(field, code);
    StoreError::Invalid(e)
}

/// Whether a referenced record exists and is active: `None` when it is, else the error code.
pub(crate) fn reference_problem(found: Option<Option<DateTime<Utc>>>) -> Option<&'static str> {
    match found {
        None => Some(NOT_FOUND),
        Some(Some(_retired_at)) => Some(RETIRED),
        Some(None) => None,
    }
}

/// A conditional write as it happened: whether it touched the row, and the record before and
/// after, read in the same transaction.
pub(crate) struct Written<'a, T> {
    pub(crate) action: AuditAction,
    pub(crate) record_id: i64,
    pub(crate) reason: Option<&'a str>,
    pub(crate) expected_version: i64,
    pub(crate) done: bool,
    pub(crate) before: Option<T>,
    pub(crate) after: Option<T>,
}

/// Decides what a conditional write did, from whether it touched a row and the record as it
/// is now.
pub(crate) fn settle<T: Record>(done: bool, current: Option<T>, version: i64) -> Change<T> {
    match current {
        None => Change::NotFound,
        Some(c) if done => Change::Done(c),
        Some(c) if c.meta().version != version => Change::Stale(c),
        Some(c) => Change::Retired(c),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub(crate) seq: i64,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) actor_id: Option<i64>,
    pub(crate) actor_name: String,
    pub(crate) action: String,
    pub(crate) record_type: String,
    pub(crate) record_id: i64,
    pub(crate) record_version: i64,
    pub(crate) changes: String,
    pub(crate) reason: Option<String>,
    pub(crate) source: String,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
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

pub(crate) const AUDIT_COLUMNS: &str = "seq, occurred_at, actor_id, actor_name, action, record_type, record_id, \
                                        record_version, \
     changes, reason, source, prev_hash, hash";

/// What an audited write records: the record before (None on create) and after.
pub(crate) struct Audited<'a, T> {
    pub(crate) action: AuditAction,
    pub(crate) record_id: i64,
    pub(crate) before: Option<&'a T>,
    pub(crate) after: &'a T,
    pub(crate) version: i64,
    pub(crate) reason: Option<&'a str>,
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
pub(crate) struct Draft<'a> {
    pub(crate) action: AuditAction,
    pub(crate) record_type: &'a str,
    pub(crate) record_id: i64,
    pub(crate) record_version: i64,
    pub(crate) changes: Changes,
    pub(crate) reason: Option<&'a str>,
}

impl Draft<'_> {
    /// The entry that follows the chain's head `(seq, hash)`.
    pub(crate) fn entry(&self, ctx: &AuditContext, head: Option<(i64, String)>) -> AuditEntry {
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

pub(crate) fn checker_failed(e: tokio::task::JoinError) -> StoreError {
    StoreError::Internal(format!("the chain checker failed: {e}"))
}

/// The newest audit entry: `(seq, hash)`.
pub(crate) type ChainHead = (i64, String);

/// Where a backend keeps the chain's head between write transactions (SQLite only: one
/// process's writers are serialised, so the head it last wrote is the head, unless another
/// process on the same file appended since, which the unique `seq` catches).
pub(crate) type HeadCache = std::sync::Arc<std::sync::Mutex<Option<ChainHead>>>;

/// The audit chain's head as one write transaction sees it, and where it publishes the head it
/// leaves (each backend's `WriteTx` holds one).
pub(crate) struct Chain {
    /// The head, once known: `Some(None)` for an empty trail.
    head: Option<Option<ChainHead>>,
    /// Whether `head` came from the cache and no statement of this transaction confirmed it.
    from_cache: bool,
    cache: Option<HeadCache>,
}

impl Chain {
    /// With a cache, its head is taken as the chain's head.
    pub(crate) fn new(cache: Option<HeadCache>) -> Self {
        let cached = cache.as_ref().and_then(|c| c.lock().ok().and_then(|h| h.clone()));
        let from_cache = cached.is_some();
        Self { head: cached.map(Some), from_cache, cache }
    }

    /// The head, when this transaction knows it without a query.
    pub(crate) fn known_head(&self) -> Option<Option<ChainHead>> {
        self.head.clone()
    }

    /// Whether the known head came from the cache, unconfirmed.
    pub(crate) fn head_from_cache(&self) -> bool {
        self.from_cache
    }

    /// Records the head as read from the database under the append lock.
    pub(crate) fn read_head(&mut self, head: Option<ChainHead>) {
        self.head = Some(head);
        self.from_cache = false;
    }

    /// Drops a head found stale.
    pub(crate) fn forget_head(&mut self) {
        self.head = None;
        self.from_cache = false;
        if let Some(cache) = &self.cache
            && let Ok(mut c) = cache.lock()
        {
            *c = None;
        }
    }

    /// Records the entry this transaction just appended as the head.
    pub(crate) fn set_head(&mut self, seq: i64, hash: String) {
        self.head = Some(Some((seq, hash)));
        self.from_cache = false;
    }

    /// After the commit: the head this transaction left, for the next writer.
    pub(crate) fn publish(&mut self) {
        if let (Some(cache), Some(Some(head))) = (&self.cache, self.head.take())
            && let Ok(mut c) = cache.lock()
        {
            *c = Some(head);
        }
    }
}

/// Re-chains an entry after `head` (its hash computed again): for an entry whose cached head
/// turned out stale.
pub(crate) fn rechain(mut e: AuditEntry, head: Option<ChainHead>) -> AuditEntry {
    (e.seq, e.prev_hash) = head.map_or((1, GENESIS_HASH.to_string()), |(s, h)| (s + 1, h));
    e.hash = e.compute_hash();
    e
}
