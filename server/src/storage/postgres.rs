//! The PostgreSQL backend: the store, how it begins a write, and the queries of every area
//! compiled for `sqlx::Postgres` (see [`crate::storage`] for the mechanism).
//!
//! Several Caliper instances may share one PostgreSQL database. Each append takes a
//! transaction-scoped advisory lock, so appends are serialised across instances; the store keeps
//! the chain's head its last write left, and an entry is chained after it and stored by one
//! call, `caliper_audit_append` (migration 20261211000034), which takes the lock, reads the head
//! under it and stores the entry only when it follows that head. When another instance appended
//! since, the call stores nothing and returns the head, and the entry is chained again after it
//! (the lock is then held, so the second call stores it). One round trip per append instead of
//! three (lock, head, insert), and the lock is held from that call to the commit only.

use shared::audit::AuditEntry;
use sqlx::pool::PoolConnection;

use super::common::{Chain, ChainHead, HeadCache, rechain};
use super::{StoreError, StoreResult};

/// This backend's database.
pub(crate) type Db = sqlx::Postgres;
/// One connection of this backend.
pub(crate) type Conn = sqlx::PgConnection;
/// The store the queries are implemented for.
pub(crate) type SqlStore = PostgresStore;

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
    /// The audit chain's head as the last write of this instance left it: a guess that the
    /// append checks under the lock (another instance may have appended since).
    head: HeadCache,
}

impl PostgresStore {
    /// Wraps an open pool.
    pub fn new(pool: sqlx::PgPool) -> Self {
        Self { pool, head: HeadCache::default() }
    }

    /// The pool, for tests and tools that need raw access.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    /// Starts a write transaction.
    async fn write_tx(&self) -> StoreResult<WriteTx> {
        Ok(WriteTx { tx: self.pool.begin().await?, chain: Chain::new(Some(self.head.clone())) })
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

/// A write transaction: one of the pool's connections in sqlx's transaction, with the audit
/// chain's head as this transaction sees it. It dereferences to the connection, so queries take
/// `&mut *tx`; dropped without a commit, it rolls back.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, Db>,
    pub(crate) chain: Chain,
}

impl WriteTx {
    /// Stores an audit entry chained after the head this transaction knows (read under the
    /// lock, or the one this instance's last write left): under the append lock, as it is, when
    /// that is still the chain's head; otherwise chained again after the head the call returns.
    pub(crate) async fn append_entry(&mut self, mut e: AuditEntry) -> StoreResult<()> {
        for _ in 0..3 {
            match append_if_head(&mut self.tx, &e).await? {
                None => {
                    self.chain.set_head(e.seq, e.hash);
                    return Ok(());
                }
                Some(head) => {
                    self.chain.read_head(head.clone());
                    e = rechain(e, head);
                }
            }
        }
        // The lock is held after the first call: the head cannot move again.
        Err(StoreError::Internal("the audit chain's head moved while its append lock was held".into()))
    }

    /// Nothing to do: each entry is stored as it is appended.
    #[allow(clippy::unused_async)] // the same shape as SQLite's, which stores a deferred entry
    pub(crate) async fn flush_audit(&mut self) -> StoreResult<()> {
        Ok(())
    }

    /// Commits, then keeps the head it left for this instance's next write.
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        self.tx.commit().await?;
        self.chain.publish();
        Ok(())
    }
}

/// Takes the append lock and stores `e` when it follows the chain's head; otherwise stores
/// nothing and returns that head (`Some(None)` while the trail is empty). One round trip.
async fn append_if_head(conn: &mut Conn, e: &AuditEntry) -> StoreResult<Option<Option<ChainHead>>> {
    let (changes, source) = e.json_parts();
    let head: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
        "select head_seq, head_hash from caliper_audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
    .fetch_optional(conn)
    .await?;
    Ok(head.map(|(seq, hash)| seq.zip(hash)))
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
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
