//! The SQLite backend (the embedded default): the store, how it begins a write, and the queries
//! of every area compiled for `sqlx::Sqlite` (see [`crate::storage`] for the mechanism).
//!
//! SQLite has one writer per file. Every write of this process goes through one connection the
//! store keeps for writing, apart from the readers' pool: writers queue for it in-process
//! (SQLite's own busy handler would make a waiting writer sleep for milliseconds), and `begin
//! immediate` takes the write lock at once, so a transaction that reads before it writes never
//! fails with `SQLITE_BUSY` midway. The one connection is also what makes writes cheap: a
//! connection's page cache is dropped whenever another connection changed the file (writes
//! spread over the pool re-read the pages they touch, each time), and sqlx's pool pings every
//! connection given back (one more round trip to SQLite's worker thread per write). The next
//! write's `begin immediate` is sent as soon as a write commits ([`begin_ahead`]). Because the
//! writers are serialised, the store keeps the audit
//! chain's head in memory instead of reading it on every write; a tool writing to the same file
//! from another process makes the cached head stale, which the unique `seq` of the next append
//! detects (it then reads the head).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use rusqlite::{Connection, OpenFlags};
use shared::audit::{AuditEntry, ChainVerifier, StoredEntry};
use sqlx::Connection as _;
use tokio::sync::Mutex;

use shared::auth::{UserId, UserSummary};

use super::common::{Chain, HeadCache, rechain};
use super::trust::parse_roles;
use super::{StoreError, StoreResult};
use crate::auth::SessionAuth;

/// This backend's database.
pub(crate) type Db = sqlx::Sqlite;
/// One connection of this backend.
pub(crate) type Conn = sqlx::SqliteConnection;
/// The store the queries are implemented for.
pub(crate) type SqlStore = SqliteStore;

/// The application chains each audit entry (after the head it keeps or reads under the lock).
const CHAINED_BY_DATABASE: bool = false;
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
    writer: Arc<Mutex<Option<Writer>>>,
    /// The audit chain's head as the last write of this process left it.
    head: HeadCache,
    /// Connections for the session lookup on the calling thread.
    lookups: Arc<Lookups>,
}

/// Read-only connections of `rusqlite` for the one read every request makes, its session
/// ([`SqliteStore::session_on_this_thread`]), and the file they open (`None` for a database in
/// memory, which has no file to open a second connection on).
#[derive(Debug, Default)]
struct Lookups {
    file: Option<std::path::PathBuf>,
    idle: std::sync::Mutex<Vec<Connection>>,
}

/// How many idle lookup connections are kept (about one per thread that serves requests).
const LOOKUPS_KEPT: usize = 4;

impl SqliteStore {
    /// Wraps an open pool; the writer's connection is opened with the pool's options on the first
    /// write and then kept.
    pub fn new(pool: sqlx::SqlitePool) -> Self {
        let file = database_file(&pool);
        let lookups = Arc::new(Lookups { file, idle: std::sync::Mutex::default() });
        Self { pool, writer: Arc::default(), head: HeadCache::default(), lookups }
    }

    /// The session of `token_hash` read on the calling thread, through a read-only connection
    /// of `rusqlite`, instead of a round trip to one of sqlx's SQLite worker threads: that
    /// hand-off (two thread wake-ups) costs several times the indexed read itself (tens of
    /// microseconds), on every request. `None` when it cannot answer without waiting (a
    /// database in memory, the file busy for a moment, an unexpected value): the caller then
    /// reads through sqlx. A reader of a WAL database never waits for the writer.
    fn session_on_this_thread(&self, token_hash: &str) -> Option<Option<SessionAuth>> {
        let file = self.lookups.file.as_deref()?;
        let idle = self.lookups.idle.lock().ok()?.pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_lookup(file).map_err(|e| tracing::debug!(error = %e, "session lookup connection")).ok()?,
        };
        match read_session(&conn, token_hash) {
            Ok(found) => {
                if let Ok(mut idle) = self.lookups.idle.lock()
                    && idle.len() < LOOKUPS_KEPT
                {
                    idle.push(conn);
                }
                Some(found)
            }
            Err(e) => {
                tracing::debug!(error = %e, "session lookup on this thread; reading it through sqlx");
                None
            }
        }
    }

    /// The pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    /// Starts a write transaction on the writer's connection, held until it ends.
    async fn write_tx(&self) -> StoreResult<WriteTx> {
        let mut w = self.writer().await?;
        // Set until the commit: a write dropped midway leaves it, and the next write reopens.
        w.0.suspect = true;
        if std::mem::take(&mut w.0.ahead) {
            // Begun ahead by the last commit ([`begin_ahead`]): nothing to wait for.
        } else if let Err(e) = sqlx::query("begin immediate").execute(&mut w.0.conn).await {
            // Nothing was begun, unless the connection itself failed.
            w.0.suspect = matches!(e, sqlx::Error::WorkerCrashed | sqlx::Error::Io(_));
            return Err(e.into());
        }
        Ok(WriteTx { w: Some(w), slot: self.writer.clone(), chain: Chain::new(Some(self.head.clone())), pending: None })
    }

    /// The writer's connection when no write holds it, for a short read that every request
    /// makes (its session): its pages stay cached, where a reader's cache is dropped after each
    /// write, and it goes back without the ping sqlx's pool sends each connection given back.
    fn idle_writer(&self) -> Option<WriterGuard> {
        let slot = self.writer.clone().try_lock_owned().ok()?;
        let w = tokio::sync::OwnedMutexGuard::try_map(slot, |s| s.as_mut().filter(|w| !w.suspect)).ok()?;
        Some(WriterGuard(w))
    }

    /// The writer's connection, once it is this caller's turn: opened by the first write, and
    /// again after a write that was dropped midway or found the connection failed (closing a
    /// connection rolls back whatever it left open).
    async fn writer(&self) -> StoreResult<WriterGuard> {
        let mut slot = self.writer.clone().lock_owned().await;
        if let Some(w) = slot.take_if(|w| w.suspect) {
            let _ = w.conn.close().await;
        }
        if slot.is_none() {
            let conn = Conn::connect_with(&self.pool.connect_options()).await?;
            *slot = Some(Writer { conn, suspect: false, ahead: false, aheads: 0 });
        }
        match tokio::sync::OwnedMutexGuard::try_map(slot, Option::as_mut) {
            Ok(w) => Ok(WriterGuard(w)),
            Err(_) => Err(StoreError::Internal("the writer's connection is not open".into())),
        }
    }

    /// Checks the audit entries `from..=to` (one part of `verify_audit_in_parts`) on a blocking
    /// thread of its own, through a read-only connection of `rusqlite` that borrows each
    /// column from SQLite's row without a copy. Through sqlx, each row is copied into owned
    /// values on sqlx's worker thread and handed to the async task through a channel: that
    /// hand-off, not the hashing, was the limit (99–159k entries/s on two cores). A database
    /// in memory has no file to open a second connection on: it is read through sqlx.
    async fn verify_part(self, from: i64, to: i64) -> StoreResult<ChainVerifier> {
        let Some(file) = self.lookups.file.clone() else {
            return base::read_chain_part(self.pool, from, to).await;
        };
        tokio::task::spawn_blocking(move || read_chain_file(&file, from, to))
            .await
            .map_err(super::common::checker_failed)?
            .map_err(|e| StoreError::Internal(format!("reading the audit trail: {e}")))
    }
}

/// The writer's connection and whether it can be trusted as it is.
#[derive(Debug)]
pub(crate) struct Writer {
    conn: Conn,
    /// A transaction may be open on it, or it failed: set by `begin`, cleared by the commit. A
    /// write dropped midway (its request cancelled) leaves it set; the next user then closes the
    /// connection (which rolls back) and opens another.
    suspect: bool,
    /// A write transaction is open on it, begun ahead for the next write, with nothing in it yet
    /// ([`begin_ahead`]).
    ahead: bool,
    /// How many transactions were begun ahead: the one ending a transaction nobody took ends it
    /// only if no write has taken it (and committed, and begun another) meanwhile.
    aheads: u64,
}

/// The writer's connection, held: writers take turns on this lock.
pub(crate) struct WriterGuard(tokio::sync::OwnedMappedMutexGuard<Option<Writer>, Writer>);

impl std::ops::Deref for WriterGuard {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.0.conn
    }
}

impl std::ops::DerefMut for WriterGuard {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0.conn
    }
}

/// A write transaction on the writer's connection (so it is also the writer's turn), with the
/// audit chain's head as this transaction sees it. It dereferences to the connection, so
/// queries take `&mut *tx`.
///
/// The last audit entry appended is stored with the commit, in the same round trip to SQLite's
/// worker thread (`insert …; commit`): each round trip costs about as much as the statements
/// themselves. A statement a write runs after its last append therefore runs before that entry
/// is stored. The committed result is the same: the entry refers to nothing those statements
/// change, and no write reads the audit trail but for the chain's head, which the transaction
/// knows while an entry is pending ([`WriteTx::flush_audit`] stores it before the head is read
/// again). Dropped without a commit, the transaction rolls back on a task that holds the
/// writer's turn until it is done.
pub(crate) struct WriteTx {
    /// Held until the transaction ends (`None` only once it is dropped).
    w: Option<WriterGuard>,
    /// The store's writer, to begin the next transaction ahead once this one has committed.
    slot: Arc<Mutex<Option<Writer>>>,
    pub(crate) chain: Chain,
    /// The entry appended last, not yet stored, and whether its head came from the cache.
    pending: Option<(AuditEntry, bool)>,
}

impl WriteTx {
    /// Appends an entry that follows the chain's head as this transaction knows it; it is stored
    /// by the commit (or the next append).
    pub(crate) async fn append_entry(&mut self, mut e: AuditEntry) -> StoreResult<()> {
        if self.pending.is_some() {
            self.flush_audit().await?;
            // `e` follows the pending entry, which may have been chained again as it was stored.
            e = rechain(e, self.chain.known_head().flatten());
        }
        let from_cache = self.chain.head_from_cache();
        self.chain.set_head(e.seq, e.hash.clone());
        self.pending = Some((e, from_cache));
        Ok(())
    }

    /// Stores the entry appended last, if it is not stored yet.
    pub(crate) async fn flush_audit(&mut self) -> StoreResult<()> {
        match self.pending.take() {
            Some((e, from_cache)) => self.store(e, from_cache, "").await,
            None => Ok(()),
        }
    }

    /// Stores `e`, then runs `then` in the same round trip. When its head came from the cache and
    /// another process appended since (a tool on the same file), the unique `seq` refuses it: it
    /// is chained again after the stored head.
    async fn store(&mut self, e: AuditEntry, from_cache: bool, then: &'static str) -> StoreResult<()> {
        match insert_entry(self.conn(), &e, then).await {
            Err(StoreError::Database(err)) if from_cache && base::is_unique_violation(&err) => {
                self.chain.forget_head();
                let head = base::lock_chain(self.conn()).await?;
                let e = rechain(e, head);
                insert_entry(self.conn(), &e, then).await?;
                self.chain.set_head(e.seq, e.hash);
                Ok(())
            }
            done => done,
        }
    }

    /// Stores the pending entry and commits (one round trip), then publishes the head for the
    /// next writer while still holding the connection.
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        match self.pending.take() {
            Some((e, from_cache)) => self.store(e, from_cache, "; commit").await?,
            None => {
                sqlx::query("commit").execute(self.conn()).await?;
            }
        }
        if let Some(w) = self.w.as_mut() {
            w.0.suspect = false;
        }
        self.chain.publish();
        // The writer's turn ends here; the next write's `begin` is then sent while this answer
        // travels to its client, not on the next request's own time.
        drop(self.w.take());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(begin_ahead(self.slot.clone()));
        }
        Ok(())
    }

    fn conn(&mut self) -> &mut Conn {
        self.w.as_mut().expect("held until the transaction ends")
    }
}

/// Stores an entry that follows the head read under [`base::lock_chain`], then runs `then` in the same
/// round trip (SQLite: `; commit`; empty for nothing).
async fn insert_entry(conn: &mut Conn, e: &AuditEntry, then: &'static str) -> StoreResult<()> {
    const INSERT: &str = "insert into audit_entries (seq, occurred_at, actor_id, actor_name, action, record_type, \
         record_id, record_version, changes, reason, source, prev_hash, hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    let sql = if then.is_empty() { std::borrow::Cow::Borrowed(INSERT) } else { format!("{INSERT}{then}").into() };
    let (changes, source) = e.json_parts();
    sqlx::query(&sql)
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

/// How long a transaction begun ahead waits for a write before it is ended, so that another
/// process (a `caliper` command on the same file) is not kept from writing for longer.
const AHEAD_FOR: std::time::Duration = std::time::Duration::from_millis(5);

/// Begins the next write transaction on the writer's connection as soon as one has committed,
/// unless a write is already waiting for its turn (it then begins its own). `begin immediate`
/// costs a round trip to SQLite's worker thread, as much as a statement: begun here, it is done
/// while the answer of the write that just committed goes to its client and the client's next
/// request comes in, and [`SqliteStore::write_tx`] finds it open. Measured (`bench writes`, 7
/// alternating runs each): 8 clients 2,385 audited writes/s median against 1,968 without it;
/// 1 client unchanged within the machine's noise (1,563 against 1,641). A transaction nobody
/// takes within [`AHEAD_FOR`] is ended: it holds the file's write lock, which no other process
/// should wait for long.
async fn begin_ahead(slot: Arc<Mutex<Option<Writer>>>) {
    let Ok(mut held) = slot.clone().try_lock_owned() else { return };
    let Some(w) = held.as_mut().filter(|w| !w.suspect && !w.ahead) else { return };
    if sqlx::query("begin immediate").execute(&mut w.conn).await.is_err() {
        // Another process holds the file, or the connection failed: the next write begins (or
        // reopens) as it always does.
        return;
    }
    w.ahead = true;
    w.aheads += 1;
    let mine = w.aheads;
    drop(held);
    tokio::time::sleep(AHEAD_FOR).await;
    let mut held = slot.lock_owned().await;
    if let Some(w) = held.as_mut().filter(|w| w.ahead && w.aheads == mine) {
        w.ahead = false;
        // Nothing was written in it; a failure leaves the connection to be reopened.
        w.suspect = sqlx::query("commit").execute(&mut w.conn).await.is_err();
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(mut w) = self.w.take().filter(|w| w.0.suspect) else { return };
        // Not committed: roll back before the next writer's turn. When the rollback fails (or no
        // runtime is left to run it) the connection stays suspect and the next write reopens it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if sqlx::query("rollback").execute(&mut *w).await.is_ok() {
                    w.0.suspect = false;
                }
            });
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.w.as_ref().expect("held until the transaction ends")
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn()
    }
}

/// The database's file, for connections of `rusqlite` beside the pool (`None` in memory).
fn database_file(pool: &sqlx::SqlitePool) -> Option<std::path::PathBuf> {
    let file = pool.connect_options().get_filename().to_owned();
    let name = file.to_string_lossy();
    (name != ":memory:" && !name.starts_with("file:")).then_some(file)
}

/// A read-only connection of `rusqlite` to `file` that waits at most `busy` for a lock.
fn open_read_only(file: &Path, busy: std::time::Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(busy)?;
    Ok(conn)
}

/// A read-only connection for session lookups: it never waits for a lock (busy: the caller
/// reads through sqlx instead).
fn open_lookup(file: &Path) -> rusqlite::Result<Connection> {
    open_read_only(file, std::time::Duration::ZERO)
}

/// A session and its user (`trust::SESSION_BY_TOKEN`), decoded as sqlx decodes them.
fn read_session(conn: &Connection, token_hash: &str) -> rusqlite::Result<Option<SessionAuth>> {
    let mut statement = conn.prepare_cached(trust::SESSION_BY_TOKEN)?;
    let mut rows = statement.query([token_hash])?;
    let Some(row) = rows.next()? else { return Ok(None) };
    let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        match row.get_ref(i)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            value => stored_time(value)
                .map(Some)
                .ok_or_else(|| rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), "not a time".into())),
        }
    };
    let required = |i: usize| {
        time(i)?
            .ok_or_else(|| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Null, "no time".into()))
    };
    Ok(Some(SessionAuth {
        session_id: row.get(0)?,
        csrf_token: row.get(1)?,
        created_at: required(2)?,
        last_seen_at: required(3)?,
        expires_at: required(4)?,
        ended_at: time(5)?,
        user: UserSummary {
            id: UserId(row.get(6)?),
            username: row.get(7)?,
            full_name: row.get(8)?,
            roles: parse_roles(text(row, 9)?),
        },
        user_retired: time(10)?.is_some(),
        must_change_password: row.get(11)?,
        password_changed_at: required(12)?,
        esign_agreed_at: time(13)?,
        signed_in_session: row.get(14)?,
    }))
}

/// Checks the audit entries `from..=to` of the SQLite database at `file`, read-only, hashing
/// each row as it is stepped (the text stays in SQLite's buffers).
fn read_chain_file(file: &Path, from: i64, to: i64) -> rusqlite::Result<ChainVerifier> {
    // As the pool's connections: a reader can meet a checkpoint resetting the WAL.
    let conn = open_read_only(file, std::time::Duration::from_secs(5))?;
    let sql = format!(
        "select {} from audit_entries where seq >= ?1 and seq <= ?2 order by seq",
        super::common::AUDIT_COLUMNS
    );
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([from, to])?;
    let mut verifier = if from == 1 { ChainVerifier::default() } else { ChainVerifier::part_from(from) };
    while let Some(row) = rows.next()? {
        let Some(occurred_at) = stored_time(row.get_ref(1)?) else {
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

/// A stored time, in any of the forms sqlx's SQLite driver decodes: text, Unix seconds, Julian
/// day.
fn stored_time(value: rusqlite::types::ValueRef<'_>) -> Option<DateTime<Utc>> {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(decode_time),
        ValueRef::Integer(seconds) => Utc.timestamp_opt(seconds, 0).single(),
        ValueRef::Real(days) => julian_day_time(days),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use shared::audit::AuditAction;
    use shared::auth::{Role, UserInput};
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;
    use crate::storage::{AuditContext, Store as _, TrustStore as _};

    /// A store on a new database file of this process in the temporary folder (WAL, as served).
    async fn file_store(name: &str) -> (std::path::PathBuf, sqlx::SqlitePool, SqliteStore) {
        let path = std::env::temp_dir().join(format!("caliper-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options).await.unwrap();
        let store = SqliteStore::new(pool.clone());
        (path, pool, store)
    }

    /// The session as read on this thread is the one sqlx reads, field for field, for a session
    /// in use, one that ended and one of a deactivated user; an unknown secret is none.
    #[tokio::test]
    async fn a_session_read_on_this_thread_is_the_one_sqlx_reads() {
        let (path, pool, store) = file_store("lookup").await;
        // The same database read through sqlx only.
        let through_sqlx = SqliteStore { lookups: Arc::default(), ..store.clone() };
        store.migrate().await.unwrap();
        let ctx = AuditContext::tool("test");
        let mut sessions = Vec::new();
        for (i, name) in ["dana.whitfield", "omar.haddad", "lena.fischer"].into_iter().enumerate() {
            let input = UserInput {
                username: name.into(),
                full_name: name.into(),
                email: format!("{name}@example.com"),
                roles: vec![Role::Auditor, Role::Staff],
                ..Default::default()
            };
            let user = store.create_user(&ctx, &input, "not a real hash", i == 2).await.unwrap();
            let hash = format!("token-{i}");
            let id = store.create_session(&ctx, user.id, &hash, "csrf", Utc::now() + chrono::Duration::hours(8)).await;
            sessions.push((user, hash, id.unwrap()));
        }
        store.end_session(&ctx, sessions[1].2, "signed out", AuditAction::SignOut).await.unwrap();
        let (user, ..) = &sessions[2];
        store.deactivate_user(&ctx, user.id, user.meta.version, "left the company").await.unwrap();
        for (_, hash, _) in &sessions {
            let here = store.session_on_this_thread(hash).expect("answered on this thread");
            let there = through_sqlx.session_by_token(hash).await.unwrap();
            assert_eq!(format!("{here:?}"), format!("{there:?}"));
            assert!(here.is_some());
        }
        let here = store.session_on_this_thread(&sessions[1].1).unwrap().unwrap();
        assert!(here.ended_at.is_some());
        let here = store.session_on_this_thread(&sessions[2].1).unwrap().unwrap();
        assert!(here.user_retired && here.must_change_password);
        assert_eq!(here.user.roles, vec![Role::Auditor, Role::Staff]);
        assert!(matches!(store.session_on_this_thread("unknown"), Some(None)));
        assert!(through_sqlx.session_on_this_thread("token-0").is_none(), "no file: through sqlx");
        pool.close().await;
        let _ = std::fs::remove_file(&path);
    }

    /// A write leaves the next write's transaction begun on the writer's connection, holding the
    /// file's write lock; nobody writing, it is ended within `AHEAD_FOR`, so that another
    /// connection (another process, as far as SQLite knows) can write without waiting. Writes
    /// that find it begun, and those that do not, keep the chain whole.
    #[tokio::test]
    async fn the_transaction_begun_ahead_gives_the_file_back() {
        let (path, pool, store) = file_store("ahead").await;
        store.migrate().await.unwrap();
        let ctx = AuditContext::tool("test");
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        let other_writes = || match other.execute_batch("begin immediate; rollback") {
            Ok(()) => true,
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => false,
            Err(e) => panic!("{e}"),
        };
        for i in 0..3 {
            let input = UserInput {
                username: format!("user.{i}"),
                full_name: format!("User {i}"),
                email: format!("user.{i}@example.com"),
                roles: vec![Role::Staff],
                ..Default::default()
            };
            store.create_user(&ctx, &input, "not a real hash", false).await.unwrap();
            // Begun ahead once the write has committed: held while this test holds the writer.
            let mut tries = 0;
            let held = loop {
                let w = store.writer.clone().lock_owned().await;
                if w.as_ref().is_some_and(|w| w.ahead) {
                    break w;
                }
                drop(w);
                tries += 1;
                assert!(tries < 5_000, "no transaction was begun ahead");
                tokio::time::sleep(std::time::Duration::from_micros(200)).await;
            };
            assert!(!other_writes(), "the file is held by the transaction begun ahead");
            drop(held);
            tokio::time::sleep(AHEAD_FOR * 10).await;
            assert!(!store.writer.lock().await.as_ref().unwrap().ahead, "ended after {AHEAD_FOR:?}");
            assert!(other_writes(), "the file given back");
        }
        // Back to back, each write finds the transaction the last one began.
        let mut versions = Vec::new();
        for i in 0..20 {
            let input =
                shared::org::SiteInput { code: format!("S{i}"), name: format!("Site {i}"), ..Default::default() };
            versions.push(store.create_site(&ctx, &input).await.unwrap().meta.version);
        }
        assert_eq!(versions, vec![1; 20]);
        let report = store.verify_audit().await.unwrap();
        assert!(report.intact, "{report:?}");
        assert_eq!(report.entries, 23);
        pool.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
