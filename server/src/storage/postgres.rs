//! The PostgreSQL backend: the store, how it begins a write, and the queries of every area
//! compiled for `sqlx::Postgres` (see [`crate::storage`] for the mechanism).
//!
//! Several Caliper instances may share one PostgreSQL database. Each append takes a
//! transaction-scoped advisory lock, so appends are serialised across instances, and the
//! database chains the entry itself: `caliper_audit_append` (migration 20261211000034) takes the
//! lock, reads the head under it, computes the entry's position, link and hash (from the rest of
//! its canonical JSON, written by the application) and stores it. The last entry of a write is
//! appended in the same message as the commit (`select … ; commit`), so the lock, which other
//! writers wait for, is held for no round trip to the application.

use shared::audit::AuditEntry;
use sqlx::pool::PoolConnection;

use super::StoreResult;
use super::common::Chain;

/// This backend's database.
pub(crate) type Db = sqlx::Postgres;
/// One connection of this backend.
pub(crate) type Conn = sqlx::PgConnection;
/// The store the queries are implemented for.
pub(crate) type SqlStore = PostgresStore;

/// The database chains each audit entry as it stores it (`caliper_audit_append`): the head
/// need not be read before.
const CHAINED_BY_DATABASE: bool = true;
/// Reported by `/healthz` and the logs.
const BACKEND: &str = "postgres";
/// One lock id for the audit chain, held until the transaction ends.
const APPEND_LOCK: Option<&str> = Some("select pg_advisory_xact_lock(1128616521)");
/// Appended to a `select` that must hold its rows until the transaction ends (a writer that
/// decides from what it read, e.g. a revision's status, before it writes).
const FOR_UPDATE: &str = " for update";
/// Holds a parent row while a child refers to it: its retirement (which takes the row
/// `for update`, then counts the children) waits for the child's transaction, and sees it.
const FOR_SHARE: &str = " for share";

/// Full-text search of the documents in force (tsvector): `$1` the tsquery of [`search_match`]
/// (every word), `$2` that of [`search_any`] (any word), `$3` how many; the words restricted to
/// weights A and B (`word:*AB`: in the number or title) are made of `$1`. `document_search_hits`
/// (migrations 20261206000018 and 20261206000020) matches through the GIN index of the stripped
/// whole text and ranks with the small vector of number (A), title (B) and the text's first
/// 1,000 characters (C): those whose number or title hold every word first, then by ts_rank,
/// then by number. Only the best are joined to their texts.
const DOCUMENT_SEARCH: &str = "select d.document_id, d.number, d.title, d.doc_type, r.revision_id, r.label, r.body \
     from document_search_hits(to_tsquery('simple', $1), to_tsquery('simple', $2), \
     to_tsquery('simple', replace($1, ':*', ':*AB')), $3) s \
     join documents d on d.document_id = s.document_id \
     left join document_revisions r on r.document_id = d.document_id and r.status = 'effective' \
     where d.retired_at is null order by s.title_hit desc, s.score desc, d.number";

/// The tsquery text of a query's words (letters and digits only, from
/// `shared::document::search_terms`): each a prefix, all required.
fn search_match(terms: &[String]) -> String {
    terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & ")
}

/// As [`search_match`], any of the words (for ranking).
fn search_any(terms: &[String]) -> String {
    terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" | ")
}

fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/postgres")
}

/// Caliper's storage on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
}

impl PostgresStore {
    /// Wraps an open pool.
    pub fn new(pool: sqlx::PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    /// Starts a write transaction.
    async fn write_tx(&self) -> StoreResult<WriteTx> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("begin").execute(&mut *conn).await?;
        Ok(WriteTx { conn: Some(conn), open: true, chain: Chain::new(None), pending: None })
    }

    /// Sessions are read through the pool as any other read.
    #[allow(clippy::unused_self)] // the same shape as SQLite's
    fn session_on_this_thread(&self, _token_hash: &str) -> Option<Option<crate::auth::SessionAuth>> {
        None
    }

    /// No connection is a writer's own: short reads use the pool as any other.
    fn idle_writer(&self) -> Option<PoolConnection<Db>> {
        None
    }

    /// A connection for a write outside [`Self::write_tx`]: any of the pool (PostgreSQL has
    /// row locks, no single writer).
    async fn writer(&self) -> StoreResult<PoolConnection<Db>> {
        Ok(self.pool.acquire().await?)
    }

    /// Checks the audit entries `from..=to` (one part of `verify_audit_in_parts`) as sqlx
    /// streams them: PostgreSQL's wire protocol hands rows over in batches, so reading is
    /// already the limit.
    async fn verify_part(self, from: i64, to: i64) -> StoreResult<shared::audit::ChainVerifier> {
        base::read_chain_part(self.pool, from, to).await
    }
}

/// A write transaction on one of the pool's connections, with the audit chain's head as this
/// transaction knows it. It dereferences to the connection, so queries take `&mut *tx`; dropped
/// without a commit, it rolls back (sqlx queues the `rollback` before the connection's next use,
/// after any answer still due).
///
/// The last audit entry appended is stored with the commit, in the same message, as on SQLite:
/// a statement a write runs after its last append therefore runs before that entry is stored,
/// with the same committed result (see `sqlite::WriteTx`).
pub(crate) struct WriteTx {
    /// Held until the transaction ends (`None` only once it is dropped).
    conn: Option<PoolConnection<Db>>,
    /// Begun and neither committed nor rolled back.
    open: bool,
    pub(crate) chain: Chain,
    /// The entry appended last, not yet stored.
    pending: Option<AuditEntry>,
}

impl WriteTx {
    /// Appends an entry; the database chains it after the head it finds under the append lock
    /// (the entry's own position, link and hash are not used). It is stored by the commit, or
    /// by the next append.
    pub(crate) async fn append_entry(&mut self, e: AuditEntry) -> StoreResult<()> {
        self.flush_audit().await?;
        self.pending = Some(e);
        Ok(())
    }

    /// Stores the entry appended last, if it is not stored yet.
    pub(crate) async fn flush_audit(&mut self) -> StoreResult<()> {
        match self.pending.take() {
            Some(e) => self.store(&e, "").await,
            None => Ok(()),
        }
    }

    /// Stores `e` through `caliper_audit_append`, then runs `then` in the same message (`;
    /// commit`, or nothing). Sent as one simple-protocol message, so the values are literals
    /// (dollar-quoted: nothing in them is an escape, whatever the server's settings).
    async fn store(&mut self, e: &AuditEntry, then: &str) -> StoreResult<()> {
        let (changes, source) = e.json_parts();
        let text = |v: &str| dollar_quoted(v);
        let sql = format!(
            "select appended_seq, appended_hash from caliper_audit_append({}::timestamptz, {}, {}, {}, {}, {}, {}, \
             {}, {}, {}, {}){then}",
            text(&e.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
            e.actor_id.map_or_else(|| "null".to_string(), |id| id.to_string()),
            text(&e.actor_name),
            text(e.action.as_str()),
            text(&e.record_type),
            e.record_id,
            e.record_version,
            text(&changes),
            e.reason.as_deref().map_or_else(|| "null".to_string(), text),
            text(&source),
            text(&e.canonical_after_seq()),
        );
        let conn: &mut sqlx::PgConnection = self.conn();
        let rows = sqlx::Executor::fetch_all(conn, sqlx::raw_sql(&sql)).await?;
        let row =
            rows.first().ok_or_else(|| super::StoreError::Internal("the audit append answered nothing".into()))?;
        use sqlx::Row as _;
        self.chain.set_head(row.try_get(0)?, row.try_get(1)?);
        Ok(())
    }

    /// Stores the pending entry and commits, in one round trip.
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        match self.pending.take() {
            Some(e) => self.store(&e, "; commit").await?,
            None => {
                sqlx::query("commit").execute(self.conn()).await?;
            }
        }
        self.open = false;
        Ok(())
    }

    fn conn(&mut self) -> &mut sqlx::PgConnection {
        self.conn.as_mut().expect("held until the transaction ends")
    }
}

/// `v` as a dollar-quoted literal, with a tag that does not occur in it.
fn dollar_quoted(v: &str) -> String {
    let mut n = 0;
    loop {
        let tag = if n == 0 { "$c$".to_string() } else { format!("$c{n}$") };
        let quoted = format!("{tag}{v}{tag}");
        // The literal ends at the first tag after the opening one: it must be the closing one.
        if quoted[tag.len()..].find(&tag) == Some(v.len()) {
            return quoted;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_dollar_quoted_literal_ends_where_its_value_does() {
        for v in ["", "plain", "it's", "$c$", "ends with $c", "$c1$ and $c$", "$", "$$", "a$c$c$b"] {
            let q = super::dollar_quoted(v);
            let tag = &q[..q[1..].find('$').unwrap() + 2];
            assert!(q.starts_with(tag) && q.ends_with(tag), "{q}");
            assert_eq!(q[tag.len()..].find(tag), Some(v.len()), "{v:?} as {q}");
            assert_eq!(&q[tag.len()..tag.len() + v.len()], v);
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take().filter(|_| self.open) else { return };
        // Not committed: roll back before the connection goes back to the pool. sqlx waits for
        // any answer still due before it sends the rollback; when that fails, the connection is
        // closed instead (which rolls back).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if sqlx::query("rollback").execute(&mut *conn).await.is_err() {
                    conn.close_on_drop();
                }
            });
        } else {
            conn.close_on_drop();
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("held until the transaction ends")
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn()
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
