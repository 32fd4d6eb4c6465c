//! Sites, departments, processes, the audit trail and the helpers every area's queries use
//! (the chain append, reference checks, conditional writes). Compiled once per backend (see
//! [`crate::storage`]); `Db`, `Conn`, `SqlStore` and the backend's constants come from the
//! backend module that includes this file.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt as _;
use serde::Serialize;
use shared::audit::{AuditAction, AuditEntry, ChainReport, ChainVerifier, StoredEntry};
use shared::auth::UserId;
use shared::org::{
    Department, DepartmentId, DepartmentInput, Process, ProcessId, ProcessInput, Record, Site, SiteId, SiteInput,
};
use shared::validation::REQUIRED;
use sqlx::Row as _;

use super::{APPEND_LOCK, BACKEND, CHAINED_BY_DATABASE, Conn, Db, FOR_SHARE, FOR_UPDATE, SqlStore, WriteTx, migrator};
use crate::storage::common::{
    AUDIT_COLUMNS, AuditRow, Audited, DEPARTMENT_SELECT, DEPARTMENTS, DepartmentRow, Draft, PROCESS_SELECT, ProcessRow,
    SITE_SELECT, SITES, SiteRow, USERS, Written, checker_failed, constraint_error, field_error, reference_problem,
    settle,
};
use crate::storage::{AuditContext, AuditFilter, Change, Store, StoreError, StoreResult};

/// Appends the audit entry of a write, in the write's own transaction. The append is
/// serialised (SQLite: the transaction already holds the write lock; PostgreSQL: a
/// transaction-scoped advisory lock), so concurrent writers never fork the chain.
pub(super) async fn append_audit<'a>(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    draft: impl Into<Draft<'a>>,
) -> StoreResult<()> {
    let e = draft.into().entry(ctx, chain_head(tx).await?);
    tx.append_entry(e).await
}

/// Appends the audit entries of many writes of one transaction at once (an approval assigning
/// 2,000 people): the hashes are chained in Rust from the head read under the append lock, and the
/// entries stored with multi-row inserts. One or none: [`append_audit`].
pub(super) async fn append_audits(tx: &mut WriteTx, ctx: &AuditContext, drafts: Vec<Draft<'_>>) -> StoreResult<()> {
    if drafts.len() <= 1 {
        for d in drafts {
            append_audit(tx, ctx, d).await?;
        }
        return Ok(());
    }
    // A head cached by the backend cannot be retried entry by entry: read it under the lock.
    tx.flush_audit().await?;
    let mut head = match tx.chain.known_head() {
        Some(head) if !tx.chain.head_from_cache() => head,
        _ => fresh_chain_head(tx).await?,
    };
    let mut entries = Vec::with_capacity(drafts.len());
    for d in &drafts {
        let e = d.entry(ctx, head.take());
        head = Some((e.seq, e.hash.clone()));
        entries.push(e);
    }
    insert_entries(tx, &entries).await?;
    if let Some(last) = entries.last() {
        tx.chain.set_head(last.seq, last.hash.clone());
    }
    Ok(())
}

pub(super) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The chain's head `(seq, hash)` as this transaction must append after it (`None` while the
/// trail is empty): known already when the transaction appended before or the backend keeps
/// it between writes; otherwise read under the append lock, which is then held until the
/// transaction ends.
pub(super) async fn chain_head(tx: &mut WriteTx) -> StoreResult<Option<(i64, String)>> {
    if let Some(head) = tx.chain.known_head() {
        return Ok(head);
    }
    if CHAINED_BY_DATABASE {
        // Chained again by the database when it is stored, under the append lock.
        return Ok(None);
    }
    let head = lock_chain(tx).await?;
    tx.chain.read_head(head.clone());
    Ok(head)
}

/// The chain's head read from the database under the append lock, for a batch of appends
/// that cannot retry one entry (an import): a head cached by the backend is not trusted.
pub(super) async fn fresh_chain_head(tx: &mut WriteTx) -> StoreResult<Option<(i64, String)>> {
    tx.flush_audit().await?;
    let head = lock_chain(tx).await?;
    tx.chain.read_head(head.clone());
    Ok(head)
}

/// Takes the chain's append lock for the rest of the transaction and reads its head
/// `(seq, hash)` (`None` while the trail is empty).
pub(super) async fn lock_chain(conn: &mut Conn) -> StoreResult<Option<(i64, String)>> {
    if let Some(lock) = APPEND_LOCK {
        sqlx::query(lock).execute(&mut *conn).await?;
    }
    Ok(sqlx::query_as("select seq, hash from audit_entries order by seq desc limit 1")
        .fetch_optional(&mut *conn)
        .await?)
}

/// Stores entries that follow each other (and the head read under [`lock_chain`]) with
/// multi-row inserts: for imports of many records.
pub(super) async fn insert_entries(conn: &mut Conn, entries: &[AuditEntry]) -> StoreResult<()> {
    // 13 values per entry: 500 entries stay well under both databases' bind limits.
    for chunk in entries.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
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

pub(super) async fn site_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Site>> {
    let sql = format!("{SITE_SELECT} where site_id = $1");
    let row: Option<SiteRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    Ok(row.map(Into::into))
}

pub(super) async fn department_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Department>> {
    let sql = format!("{DEPARTMENT_SELECT} where d.department_id = $1");
    let row: Option<DepartmentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    Ok(row.map(Into::into))
}

/// A process's columns in a `returning` clause of `processes` (the names by subquery).
const PROCESS_RETURNING: &str = "process_id, name, description, owner_id, owner_name, department_id, \
     (select d.name from departments d where d.department_id = processes.department_id) as department_name, \
     version, created_at, updated_at, retired_at, retired_reason";

pub(super) async fn process_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Process>> {
    let sql = format!("{PROCESS_SELECT} where p.process_id = $1");
    let row: Option<ProcessRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    Ok(row.map(Into::into))
}

/// After a conditional write: audits it when it happened, then settles the outcome.
pub(super) async fn finish<T: Serialize + Record>(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    w: Written<'_, T>,
) -> StoreResult<Change<T>> {
    if w.done
        && let Some(after) = &w.after
    {
        let audited = Audited {
            action: w.action,
            record_id: w.record_id,
            before: w.before.as_ref(),
            after,
            version: after.meta().version,
            reason: w.reason,
        };
        append_audit(tx, ctx, audited).await?;
    }
    Ok(settle(w.done, w.after, w.expected_version))
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrator().run(&self.pool).await.map_err(|e| StoreError::Database(e.into()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn pending_migrations(&self) -> StoreResult<usize> {
        let applied: Vec<(i64,)> = sqlx::query_as("select version from _sqlx_migrations where success")
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        let applied: std::collections::HashSet<i64> = applied.into_iter().map(|(v,)| v).collect();
        Ok(migrator().iter().filter(|m| !applied.contains(&m.version)).count())
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
        let mut tx = self.write_tx().await?;
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
        let site = site_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("site", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &site,
            version: 1,
            reason: None,
        };
        append_audit(&mut tx, ctx, audited).await?;
        tx.commit().await?;
        Ok(site)
    }

    async fn update_site(
        &self,
        ctx: &AuditContext,
        id: SiteId,
        version: i64,
        input: &SiteInput,
    ) -> StoreResult<Change<Site>> {
        let mut tx = self.write_tx().await?;
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
        .rows_affected()
            == 1;
        let after = site_by_id(&mut tx, id.0).await?;
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Update,
                record_id: id.0,
                reason: None,
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn retire_site(
        &self,
        ctx: &AuditContext,
        id: SiteId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<Site>> {
        let mut tx = self.write_tx().await?;
        hold_for_retirement(&mut tx, "sites", "site_id", id.0).await?;
        let (in_use,): (i64,) =
            sqlx::query_as("select count(*) from departments where site_id = $1 and retired_at is null")
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
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Retire,
                record_id: id.0,
                reason: Some(reason),
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    // ---- departments ----

    async fn list_departments(&self, include_retired: bool) -> StoreResult<Vec<Department>> {
        let sql =
            format!("{DEPARTMENT_SELECT} where ($1 or d.retired_at is null) order by lower(d.name), d.department_id");
        let rows: Vec<DepartmentRow> = sqlx::query_as(&sql).bind(include_retired).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_department(&self, id: DepartmentId) -> StoreResult<Option<Department>> {
        let mut conn = self.pool.acquire().await?;
        department_by_id(&mut conn, id.0).await
    }

    async fn create_department(&self, ctx: &AuditContext, input: &DepartmentInput) -> StoreResult<Department> {
        let mut tx = self.write_tx().await?;
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
        let department =
            department_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("department", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &department,
            version: 1,
            reason: None,
        };
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
        let mut tx = self.write_tx().await?;
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
        .rows_affected()
            == 1;
        let after = department_by_id(&mut tx, id.0).await?;
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Update,
                record_id: id.0,
                reason: None,
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
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
        let mut tx = self.write_tx().await?;
        hold_for_retirement(&mut tx, "departments", "department_id", id.0).await?;
        let (in_use,): (i64,) =
            sqlx::query_as("select count(*) from processes where department_id = $1 and retired_at is null")
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
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Retire,
                record_id: id.0,
                reason: Some(reason),
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    // ---- processes ----

    async fn list_processes(&self, include_retired: bool) -> StoreResult<Vec<Process>> {
        let sql = format!("{PROCESS_SELECT} where ($1 or p.retired_at is null) order by lower(p.name), p.process_id");
        let rows: Vec<ProcessRow> = sqlx::query_as(&sql).bind(include_retired).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_process(&self, id: ProcessId) -> StoreResult<Option<Process>> {
        let mut conn = self.pool.acquire().await?;
        process_by_id(&mut conn, id.0).await
    }

    async fn create_process(&self, ctx: &AuditContext, input: &ProcessInput) -> StoreResult<Process> {
        let department = input.department_id.ok_or_else(|| field_error("department_id", REQUIRED))?;
        let owner = input.owner_id.ok_or_else(|| field_error("owner_id", REQUIRED))?;
        let mut tx = self.write_tx().await?;
        // One statement: the insert checks its references itself (nothing is inserted unless the
        // department and the owner are active) and returns the process as saved, names included.
        // On PostgreSQL it also holds the department against its retirement (`FOR_SHARE`, see
        // held_reference): a retirement under way is waited for, and the department read again
        // after it, so that a process is never added to a department retired meanwhile.
        let sql = format!(
            "insert into processes (name, description, owner_name, department_id, version, created_at, \
                updated_at, owner_id) \
             select $1, $2, u.full_name, $3, 1, $4, $4, u.user_id from users u \
             where u.user_id = $5 and u.retired_at is null \
             and exists (select 1 from departments d where d.department_id = $3 and d.retired_at is null{FOR_SHARE}) \
             returning {PROCESS_RETURNING}"
        );
        let row: Option<ProcessRow> = sqlx::query_as(&sql)
            .bind(&input.name)
            .bind(&input.description)
            .bind(department.0)
            .bind(Utc::now())
            .bind(owner.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| constraint_error(e, "department_id"))?;
        let Some(row) = row else {
            // Which reference is missing or retired, for the field error.
            check_department(&mut tx, Some(department)).await?;
            check_owner(&mut tx, Some(owner)).await?;
            return Err(StoreError::Conflict("The department or the owner changed meanwhile; try again.".into()));
        };
        let process = Process::from(row);
        let id = process.id.0;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &process,
            version: 1,
            reason: None,
        };
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
        let mut tx = self.write_tx().await?;
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
        .rows_affected()
            == 1;
        let after = process_by_id(&mut tx, id.0).await?;
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Update,
                record_id: id.0,
                reason: Some(input.reason.as_str()).filter(|r| !r.is_empty()),
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn retire_process(
        &self,
        ctx: &AuditContext,
        id: ProcessId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<Process>> {
        let mut tx = self.write_tx().await?;
        let before = process_by_id(&mut tx, id.0).await?;
        let done = retire(&mut tx, "processes", "process_id", id.0, version, reason).await?;
        let after = process_by_id(&mut tx, id.0).await?;
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Retire,
                record_id: id.0,
                reason: Some(reason),
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
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
                AuditEntry::try_from(r).map_err(|e| StoreError::Internal(format!("audit entry {seq}: {e}")))
            })
            .collect()
    }

    async fn audit_since(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let sql = format!("select {AUDIT_COLUMNS} from audit_entries where seq > $1 order by seq limit $2");
        let rows: Vec<AuditRow> = sqlx::query_as(&sql).bind(after_seq).bind(limit).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                let seq = r.seq;
                AuditEntry::try_from(r).map_err(|e| StoreError::Internal(format!("audit entry {seq}: {e}")))
            })
            .collect()
    }

    fn pool_use(&self) -> crate::storage::PoolUse {
        crate::storage::PoolUse {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn audit_head(&self) -> StoreResult<i64> {
        let (head,): (Option<i64>,) =
            sqlx::query_as("select max(seq) from audit_entries").fetch_one(&self.pool).await?;
        Ok(head.unwrap_or(0))
    }

    async fn audit_head_of(&self, record_types: &[&str]) -> StoreResult<i64> {
        if record_types.is_empty() {
            return Ok(0);
        }
        // Per type, the newest entry by the index (audit_entries_type_seq), walking back past a
        // person's sessions and password events, which change nothing the caller computes. The
        // type is a range of one and the order is the index's own: written `record_type = $1 …
        // order by seq desc`, PostgreSQL walks the whole trail backwards by `seq` for a type whose
        // newest entry is far back (59 ms for the training assignments behind 100,000 NCs, 179
        // ms for a type never written, on 250,000 entries; 0.05 ms by the type's index).
        let sql = (1..=record_types.len())
            .map(|i| {
                format!(
                    "select (select seq from audit_entries where record_type >= ${i} and record_type <= ${i} and \
                     action not in ('sign_in', 'failed_sign_in', 'lock', 'sign_out', 'change_password', \
                     'reset_password') order by record_type desc, seq desc limit 1) as m"
                )
            })
            .collect::<Vec<_>>()
            .join(" union all ");
        let mut q = sqlx::query_as::<_, (Option<i64>,)>(&sql);
        for t in record_types {
            q = q.bind(*t);
        }
        let heads = q.fetch_all(&self.pool).await?;
        Ok(heads.into_iter().filter_map(|(m,)| m).max().unwrap_or(0))
    }

    async fn verify_audit_in_parts(&self, min_part: i64) -> StoreResult<ChainReport> {
        // The chain as it is now, checked in consecutive parts that are read side by side,
        // each on its own connection and hashed as it is read; the links between the parts
        // are checked at the end, so the verdict is that of one pass.
        let (head,): (Option<i64>,) =
            sqlx::query_as("select max(seq) from audit_entries").fetch_one(&self.pool).await?;
        let head = head.unwrap_or(0);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let parts = usize::try_from(head / min_part.max(1)).unwrap_or(usize::MAX).clamp(1, cores.clamp(1, 8));
        let size = head / parts as i64 + 1;
        let mut checks = Vec::with_capacity(parts);
        for k in 0..parts as i64 {
            let from = 1 + k * size;
            let to = if k + 1 == parts as i64 { head } else { from + size - 1 };
            checks.push(tokio::spawn(self.clone().verify_part(from, to)));
        }
        let mut verifiers = Vec::with_capacity(parts);
        for check in checks {
            verifiers.push(check.await.map_err(checker_failed)??);
        }
        Ok(ChainVerifier::join(verifiers))
    }
}

/// Checks the entries `from..=to` as sqlx reads them, decoding each row's text in place (no
/// copy). The backend's `verify_part` calls this (SQLite: for a database in memory only).
pub(super) async fn read_chain_part(pool: sqlx::Pool<Db>, from: i64, to: i64) -> StoreResult<ChainVerifier> {
    let mut verifier = if from == 1 { ChainVerifier::default() } else { ChainVerifier::part_from(from) };
    let sql = format!("select {AUDIT_COLUMNS} from audit_entries where seq >= $1 and seq <= $2 order by seq");
    let mut rows = sqlx::query(&sql).bind(from).bind(to).fetch(&pool);
    while let Some(row) = rows.try_next().await? {
        // Hashed as stored: no JSON is parsed, and any edit of the stored text is caught.
        let stored = StoredEntry {
            seq: row.try_get(0)?,
            occurred_at: row.try_get(1)?,
            actor_id: row.try_get(2)?,
            actor_name: row.try_get(3)?,
            action: row.try_get(4)?,
            record_type: row.try_get(5)?,
            record_id: row.try_get(6)?,
            record_version: row.try_get(7)?,
            changes: row.try_get(8)?,
            reason: row.try_get(9)?,
            source: row.try_get(10)?,
            prev_hash: row.try_get(11)?,
            hash: row.try_get(12)?,
        };
        if !verifier.check_stored(&stored) {
            break;
        }
    }
    Ok(verifier)
}

/// Retires a row of `table` if it is active and at `version`; true when it did.
pub(super) async fn retire(
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
    let done =
        sqlx::query(&sql).bind(id).bind(version).bind(Utc::now()).bind(reason).execute(conn).await?.rows_affected()
            == 1;
    Ok(done)
}

/// A referenced record (`id` in `table`, keyed by `key`) must exist and be active;
/// otherwise a field error on `field`. Returns the record's `name_column`.
pub(super) async fn active_reference(
    conn: &mut Conn,
    table: (&str, &str, &str),
    field: &str,
    id: i64,
) -> StoreResult<String> {
    reference(conn, table, field, id, "").await
}

/// [`active_reference`] and [`held_reference`]: `lock` is appended to the query.
async fn reference(
    conn: &mut Conn,
    (table, key, name_column): (&str, &str, &str),
    field: &str,
    id: i64,
    lock: &str,
) -> StoreResult<String> {
    let sql = format!("select retired_at, {name_column} from {table} where {key} = $1{lock}");
    let found: Option<(Option<DateTime<Utc>>, String)> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    match reference_problem(found.as_ref().map(|(retired, _)| *retired)) {
        None => Ok(found.map(|(_, name)| name).unwrap_or_default()),
        Some(code) => Err(field_error(field, code)),
    }
}

/// A department's site, when given, must exist and be active.
pub(super) async fn check_site(conn: &mut Conn, site: Option<SiteId>) -> StoreResult<()> {
    let Some(site) = site else { return Ok(()) };
    held_reference(conn, SITES, "site_id", site.0).await.map(drop)
}

/// As [`active_reference`], and the parent row is held (`FOR_SHARE`) until the transaction
/// ends: for the parents whose retirement counts their active children (a site's departments,
/// a department's processes), so that the two cannot pass each other on PostgreSQL.
pub(super) async fn held_reference(
    conn: &mut Conn,
    table: (&str, &str, &str),
    field: &str,
    id: i64,
) -> StoreResult<String> {
    reference(conn, table, field, id, FOR_SHARE).await
}

/// Takes a parent's row `FOR_UPDATE` before its active children are counted for its
/// retirement (see [`held_reference`]).
async fn hold_for_retirement(conn: &mut Conn, table: &str, key: &str, id: i64) -> StoreResult<()> {
    let sql = format!("select 1 from {table} where {key} = $1{FOR_UPDATE}");
    sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    Ok(())
}

/// A process's owner must be given, exist and be active; returns the id and printed name.
pub(super) async fn check_owner(conn: &mut Conn, owner: Option<UserId>) -> StoreResult<(i64, String)> {
    let owner = owner.ok_or_else(|| field_error("owner_id", shared::validation::REQUIRED))?;
    Ok((owner.0, active_reference(conn, USERS, "owner_id", owner.0).await?))
}

/// A process's department must be given, exist and be active.
pub(super) async fn check_department(conn: &mut Conn, department: Option<DepartmentId>) -> StoreResult<i64> {
    let department = department.ok_or_else(|| field_error("department_id", shared::validation::REQUIRED))?;
    held_reference(conn, DEPARTMENTS, "department_id", department.0).await?;
    Ok(department.0)
}
