//! The SQLite backend (the embedded default): the store, how it begins a write, and the queries
//! of every area compiled for `sqlx::Sqlite` (see [`crate::storage`] for the mechanism).
//!
//! SQLite has one writer per file. Writers of this process queue on an in-process mutex before
//! `begin immediate` (SQLite's own busy handler would make a waiting writer sleep for
//! milliseconds), and `begin immediate` takes the write lock at once, so a transaction that
//! reads before it writes never fails with `SQLITE_BUSY` midway. Because the writers are
//! serialised, the store keeps the audit chain's head in memory instead of reading it on
//! every write; a tool writing to the same file from another process makes the cached head
//! stale, which the unique `seq` of the next append detects (it then reads the head).

use std::sync::Arc;

use tokio::sync::Mutex;

use super::StoreResult;
use super::common::HeadCache;

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
    pool: sqlx::SqlitePool,
    /// Writers queue here, in-process, before taking the database's write lock.
    writers: Arc<Mutex<()>>,
    /// The audit chain's head as the last write of this process left it.
    head: HeadCache,
}

impl SqliteStore {
    /// Wraps an open pool.
    pub fn new(pool: sqlx::SqlitePool) -> Self {
        Self { pool, writers: Arc::default(), head: HeadCache::default() }
    }

    /// The pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    /// Starts a write transaction; it holds this process's writer turn until it ends.
    async fn write_tx(&self) -> StoreResult<WriteTx> {
        let turn = self.writers.clone().lock_owned().await;
        let tx = self.pool.begin_with("begin immediate").await?;
        Ok(WriteTx::new(tx, Some(turn), Some(self.head.clone())))
    }

    /// This process's writer turn, for a write outside [`Self::write_tx`] (a session touch).
    async fn writer_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        Some(self.writers.clone().lock_owned().await)
    }
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
