//! The SQLite backend (the embedded default): the store, how it begins a write, and the queries
//! of every area compiled for `sqlx::Sqlite` (see [`crate::storage`] for the mechanism).
//!
//! SQLite has one writer per file. Every write of this process goes through one connection of
//! its own (a pool of one, apart from the readers' pool): writers queue for it in-process (SQLite's
//! own busy handler would make a waiting writer sleep for milliseconds), and `begin immediate`
//! takes the write lock at once, so a transaction that reads before it writes never fails with
//! `SQLITE_BUSY` midway. The one connection is also what makes writes cheap: a connection's page
//! cache is dropped whenever another connection changed the file, so writes spread over the
//! readers' pool re-read the pages they touched, each time (about a quarter of the write path's
//! CPU, measured with `perf`). Because the writers are serialised, the store keeps the audit
//! chain's head in memory instead of reading it on every write; a tool writing to the same file
//! from another process makes the cached head stale, which the unique `seq` of the next append
//! detects (it then reads the head).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use rusqlite::{Connection, OpenFlags};
use shared::audit::{ChainVerifier, StoredEntry};
use sqlx::Connection as _;
use tokio::sync::Mutex;

use super::common::{HeadCache, Held};
use super::{StoreError, StoreResult};

/// This backend's database.
pub(crate) type Db = sqlx::Sqlite;
/// One connection of this backend.
pub(crate) type Conn = sqlx::SqliteConnection;
/// This backend's write transaction.
pub(crate) type WriteTx = super::common::WriteTx<Db>;
/// The store the queries are implemented for.
pub(crate) type SqlStore = SqliteStore;

/// Reported by `/healthz` and the logs.
const BACKEND: &str = "sqlite";
/// `begin immediate` already holds SQLite's single write lock: the chain needs no other.
const APPEND_LOCK: Option<&str> = None;
/// `begin immediate` already holds the whole file for the writer: no row lock is needed (nor
/// spelled: SQLite has no `for update`).
const FOR_UPDATE: &str = "";
/// As `FOR_UPDATE`: the writer already holds the whole file.
const FOR_SHARE: &str = "";

/// Full-text search of the documents in force (FTS5; migration 20261206000018): `$1` the match
/// expression of [`search_match`] (every word), `$2` that of [`search_any`] (any word), `$3` how
/// many. `document_search` (no positions, no text) says which documents hold every word;
/// `document_search_rank` (number, title, the text's first 1,000 characters) ranks them: those
/// whose number or title hold every word first, then by bm25 (number, title and head weigh 10, 5
/// and 1; a document with none of the words in its head last), then by number. Only the best
/// are joined to their texts. Neither a match's positions in its whole text nor its text are
/// read: a common word is in most of 10,000 documents of 2,000 words. The match is the outer
/// loop (`cross join`), the two ranking lookups materialized once each.
const DOCUMENT_SEARCH: &str = "select d.document_id, d.number, d.title, d.doc_type, r.revision_id, r.label, r.body \
     from (select m.rowid as document_id, t.rowid is not null as title_hit, coalesce(h.score, 0.0) as score, \
     d.number from (select rowid from document_search where document_search match $1) m \
     cross join documents d on d.document_id = m.rowid \
     left join (select rowid, bm25(document_search_rank, 10.0, 5.0, 1.0) as score from document_search_rank \
     where document_search_rank match $2) h on h.rowid = m.rowid \
     left join (select rowid from document_search_rank \
     where document_search_rank match '{number title} : (' || $1 || ')') t on t.rowid = m.rowid \
     where d.retired_at is null order by title_hit desc, score, d.number limit $3) s \
     join documents d on d.document_id = s.document_id \
     left join document_revisions r on r.document_id = d.document_id and r.status = 'effective' \
     order by s.title_hit desc, s.score, s.number";

/// The FTS5 expression of a query's words (letters and digits only, from
/// `shared::document::search_terms`): each a quoted prefix, all required.
fn search_match(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" ")
}

/// As [`search_match`], any of the words (for ranking).
fn search_any(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" OR ")
}

fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/sqlite")
}

/// Caliper's storage on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The readers' connections.
    pool: sqlx::SqlitePool,
    /// The one connection every write of this process uses (opened by the first write), behind
    /// the lock writers queue on.
    writer: Arc<Mutex<Option<Conn>>>,
    /// The audit chain's head as the last write of this process left it.
    head: HeadCache,
}

impl SqliteStore {
    /// Wraps an open pool; the writer's connection is opened with the pool's options on the first
    /// write and then kept.
    pub fn new(pool: sqlx::SqlitePool) -> Self {
        Self { pool, writer: Arc::default(), head: HeadCache::default() }
    }

    /// The pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    /// Starts a write transaction on the writer's connection, held until it ends.
    async fn write_tx(&self) -> StoreResult<WriteTx> {
        match WriteTx::begin(self.writer().await?, Some("begin immediate"), Some(self.head.clone())).await {
            Ok(tx) => Ok(tx),
            Err(e) => {
                if matches!(e, sqlx::Error::WorkerCrashed | sqlx::Error::Io(_)) {
                    // The connection is gone: the next write opens another.
                    *self.writer.lock().await = None;
                }
                Err(e.into())
            }
        }
    }

    /// The writer's connection when no write holds it, for a short read that every request
    /// makes (its session): its pages stay cached, where a reader's cache is dropped after each
    /// write, and it goes back without the ping sqlx's pool sends each connection given back.
    fn idle_writer(&self) -> Option<Held<Db>> {
        let turn = self.writer.clone().try_lock_owned().ok()?;
        let conn = tokio::sync::OwnedMutexGuard::try_map(turn, Option::as_mut).ok()?;
        Some(Held::Own(conn))
    }

    /// The writer's connection, once it is this caller's turn (opened by the first write, or the
    /// one after a write that found it gone).
    async fn writer(&self) -> StoreResult<Held<Db>> {
        let mut turn = self.writer.clone().lock_owned().await;
        if turn.is_none() {
            *turn = Some(Conn::connect_with(&self.pool.connect_options()).await?);
        }
        let conn = tokio::sync::OwnedMutexGuard::map(turn, |c| c.as_mut().expect("opened above"));
        Ok(Held::Own(conn))
    }

    /// Checks the audit entries `from..=to` (one part of `verify_audit_in_parts`) on a blocking
    /// thread of its own, through a read-only connection of `rusqlite` that borrows each
    /// column from SQLite's row without a copy. Through sqlx, each row is copied into owned
    /// values on sqlx's worker thread and handed to the async task through a channel: that
    /// hand-off, not the hashing, was the limit (99–159k entries/s on two cores). A database
    /// in memory has no file to open a second connection on: it is read through sqlx.
    async fn verify_part(self, from: i64, to: i64) -> StoreResult<ChainVerifier> {
        let file = self.pool.connect_options().get_filename().to_owned();
        let name = file.to_string_lossy();
        if name == ":memory:" || name.starts_with("file:") {
            return base::read_chain_part(self.pool, from, to).await;
        }
        tokio::task::spawn_blocking(move || read_chain_file(&file, from, to))
            .await
            .map_err(super::common::checker_failed)?
            .map_err(|e| StoreError::Internal(format!("reading the audit trail: {e}")))
    }
}

/// Checks the audit entries `from..=to` of the SQLite database at `file`, read-only, hashing
/// each row as it is stepped (the text stays in SQLite's buffers).
fn read_chain_file(file: &Path, from: i64, to: i64) -> rusqlite::Result<ChainVerifier> {
    use rusqlite::types::ValueRef;
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    // As the pool's connections: a reader can meet a checkpoint resetting the WAL.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let sql = format!(
        "select {} from audit_entries where seq >= ?1 and seq <= ?2 order by seq",
        super::common::AUDIT_COLUMNS
    );
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([from, to])?;
    let mut verifier = if from == 1 { ChainVerifier::default() } else { ChainVerifier::part_from(from) };
    while let Some(row) = rows.next()? {
        let occurred_at = match row.get_ref(1)? {
            ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(decode_time),
            ValueRef::Integer(seconds) => Utc.timestamp_opt(seconds, 0).single(),
            ValueRef::Real(days) => julian_day_time(days),
            _ => None,
        };
        let Some(occurred_at) = occurred_at else {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                format!("entry {}: occurred_at is not a time", row.get::<_, i64>(0)?).into(),
            ));
        };
        let stored = StoredEntry {
            seq: row.get(0)?,
            occurred_at,
            actor_id: row.get(2)?,
            actor_name: text(row, 3)?,
            action: text(row, 4)?,
            record_type: text(row, 5)?,
            record_id: row.get(6)?,
            record_version: row.get(7)?,
            changes: text(row, 8)?,
            reason: row.get_ref(9)?.as_str_or_null()?,
            source: text(row, 10)?,
            prev_hash: text(row, 11)?,
            hash: text(row, 12)?,
        };
        if !verifier.check_stored(&stored) {
            break;
        }
    }
    Ok(verifier)
}

/// Column `i` of `row` as text, borrowed.
fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(i)?.as_str().map_err(Into::into)
}

/// A stored time as sqlx's SQLite driver decodes it (`sqlx-sqlite`'s `decode_datetime_from_text`):
/// RFC 3339 first, then the formats SQLite's own date functions write.
fn decode_time(value: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    FORMATS.iter().find_map(|format| {
        DateTime::parse_from_str(value, format)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|_| NaiveDateTime::parse_from_str(value, format).map(|t| t.and_utc()))
            .ok()
    })
}

/// A time stored as a Julian day number, as sqlx decodes it.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked finite; as sqlx does
fn julian_day_time(days: f64) -> Option<DateTime<Utc>> {
    let timestamp = (days - 2_440_587.5) * 86_400.0;
    if !timestamp.is_finite() {
        return None;
    }
    Utc.timestamp_opt(timestamp.trunc() as i64, (timestamp.fract() * 1e9).abs() as u32).single()
}

#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/api_token.rs"]
mod api_token;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/assignment.rs"]
mod assignment;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/base.rs"]
mod base;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/capa.rs"]
mod capa;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/dashboard.rs"]
mod dashboard;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/document.rs"]
mod document;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/exemption.rs"]
mod exemption;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/fmea.rs"]
mod fmea;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/notice.rs"]
mod notice;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/quality.rs"]
mod quality;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/risk.rs"]
mod risk;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/session.rs"]
mod session;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/training.rs"]
mod training;
#[allow(clippy::duplicate_mod)] // by design: once per backend
#[path = "queries/trust.rs"]
mod trust;
