//! Risk matrices and the risk register: the queries of [`crate::storage::risk`], compiled once
//! per backend (see [`crate::storage`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::audit::AuditAction;
use shared::auth::UserId;

use shared::validation::INVALID;
use sqlx::{FromRow as _, Row as _};

use super::base::{active_reference, append_audit, finish};
use super::{Conn, FOR_UPDATE, SqlStore, WriteTx};
use crate::storage::common::{Audited, PROCESSES, USERS, Written, constraint_error, field_error};
use crate::storage::risk::{
    Arg, NewRevision, PageAt, RISK_COLUMNS, RISK_FROM, RevisionRow, RiskFilter, RiskRow, RiskStore, bind_filter,
    bind_risk, filter_where, revision_select,
};
use crate::storage::{AuditContext, Change, StoreError, StoreResult};
use shared::register::{
    EvidenceType, Heatmap, MatrixId, MatrixInput, MatrixRevision, MatrixRevisionId, REVISION_NOT_EFFECTIVE,
    RevisionCount, RevisionStatus, Risk, RiskId, RiskInput, RiskPage, RiskStatus, WorkItem, acceptance_problem,
};

pub(super) fn decode(e: String) -> StoreError {
    StoreError::Internal(e)
}

pub(super) async fn matrix_revision_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<MatrixRevision>> {
    let sql = format!("{} where mr.revision_id = $1", revision_select());
    let row: Option<RevisionRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    row.map(RevisionRow::into_revision).transpose().map_err(decode)
}

/// A risk, with its evidence labelled with the records' names are now.
pub(super) async fn risk_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Risk>> {
    let sql = format!("select {RISK_COLUMNS} {RISK_FROM} where r.risk_id = $1");
    let row: Option<RiskRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
    let Some(mut risk) = row.map(RiskRow::into_risk) else { return Ok(None) };
    for control in &mut risk.controls {
        for e in &mut control.evidence {
            e.label = evidence_label(&mut *conn, e.record_type, e.record_id).await?;
        }
    }
    Ok(Some(risk))
}

/// What an evidence reference is called now: the process's name, or "PF-001 row 12:
/// failure mode".
pub(super) async fn evidence_label(conn: &mut Conn, kind: EvidenceType, id: i64) -> StoreResult<String> {
    Ok(match kind {
        EvidenceType::Process => {
            let name: Option<(String,)> = sqlx::query_as("select name from processes where process_id = $1")
                .bind(id)
                .fetch_optional(conn)
                .await?;
            name.map(|(n,)| n).unwrap_or_else(|| format!("process {id}"))
        }
        EvidenceType::FmeaRow => {
            let row: Option<(String, i64, String)> = sqlx::query_as(
                "select f.fmea_number, r.position, r.failure_mode from fmea_rows r join fmeas f on f.fmea_id = \
                    r.fmea_id \
                 where r.row_id = $1",
            )
            .bind(id)
            .fetch_optional(conn)
            .await?;
            row.map(|(f, p, m)| format!("{f} row {p}: {m}")).unwrap_or_else(|| format!("FMEA row {id}"))
        }
    })
}

/// Keeps the evidence index in step with a risk's controls.
pub(super) async fn sync_evidence(conn: &mut Conn, risk: i64, input: &RiskInput) -> StoreResult<()> {
    sqlx::query("delete from risk_evidence where risk_id = $1").bind(risk).execute(&mut *conn).await?;
    let mut seen = std::collections::BTreeSet::new();
    for e in input.controls.iter().flat_map(|c| c.evidence.iter()) {
        let kind = match e.record_type {
            EvidenceType::Process => "process",
            EvidenceType::FmeaRow => "fmea_row",
        };
        if seen.insert((kind, e.record_id)) {
            sqlx::query("insert into risk_evidence (risk_id, record_type, record_id) values ($1, $2, $3)")
                .bind(risk)
                .bind(kind)
                .bind(e.record_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// The JSON a signature of a matrix revision binds: the revision without the status
/// fields derived from its signatures.
pub(super) fn revision_json(r: &MatrixRevision) -> serde_json::Value {
    let mut json = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = json.as_object_mut() {
        for derived in ["status", "approved_by", "approved_at"] {
            o.remove(derived);
        }
    }
    json
}

/// Checks what a risk refers to (process, owner, matrix revision, evidence), inside the
/// write's transaction; returns the scoring revision's definition. The revision must
/// be the effective one unless the risk keeps the revision it already had.
pub(super) async fn check_risk_references(
    conn: &mut Conn,
    input: &RiskInput,
    before: Option<&Risk>,
) -> StoreResult<MatrixRevision> {
    let process = input.process_id.ok_or_else(|| field_error("process_id", shared::validation::REQUIRED))?;
    if before.is_none_or(|b| b.process_id != process) {
        active_reference(&mut *conn, PROCESSES, "process_id", process.0).await?;
    }
    let owner = input.owner_id.ok_or_else(|| field_error("owner_id", shared::validation::REQUIRED))?;
    active_reference(&mut *conn, USERS, "owner_id", owner.0).await?;
    let revision_id =
        input.matrix_revision_id.ok_or_else(|| field_error("matrix_revision_id", shared::validation::REQUIRED))?;
    let revision = matrix_revision_by_id(&mut *conn, revision_id.0)
        .await?
        .ok_or_else(|| field_error("matrix_revision_id", shared::validation::NOT_FOUND))?;
    let kept = before.is_some_and(|b| b.matrix_revision_id == revision_id);
    if !kept && revision.status != RevisionStatus::Effective {
        return Err(field_error("matrix_revision_id", REVISION_NOT_EFFECTIVE));
    }
    for (i, control) in input.controls.iter().enumerate() {
        for e in &control.evidence {
            let had = before.is_some_and(|b| {
                b.controls
                    .iter()
                    .any(|c| c.evidence.iter().any(|x| x.record_type == e.record_type && x.record_id == e.record_id))
            });
            let field = format!("controls[{i}].evidence");
            let sql = match e.record_type {
                EvidenceType::Process => "select retired_at from processes where process_id = $1",
                EvidenceType::FmeaRow => "select retired_at from fmea_rows where row_id = $1",
            };
            let found: Option<(Option<DateTime<Utc>>,)> =
                sqlx::query_as(sql).bind(e.record_id).fetch_optional(&mut *conn).await?;
            match found {
                None => return Err(field_error(&field, shared::validation::NOT_FOUND)),
                Some((Some(_),)) if !had => return Err(field_error(&field, shared::validation::RETIRED)),
                Some(_) => {}
            }
        }
    }
    Ok(revision)
}

/// Accepts a risk's residual risk as part of signing it: the status becomes `accepted`
/// and the rationale is saved, in the signature's transaction; returns the new version
/// and its JSON, which the signature then binds.
pub(super) async fn accept_risk(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    id: i64,
    version: i64,
    rationale: &str,
) -> StoreResult<(i64, serde_json::Value)> {
    let before = risk_by_id(tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("No risk {id}.")))?;
    let rationale = rationale.trim();
    let revision = matrix_revision_by_id(tx, before.matrix_revision_id.0)
        .await?
        .ok_or_else(|| StoreError::unreadable("risk_matrix_revision", before.matrix_revision_id.0))?;
    acceptance_problem(before.status, revision.status, before.residual.zone, rationale).map_err(StoreError::Invalid)?;
    let done = sqlx::query(
        "update risks set status = 'accepted', acceptance_rationale = $3, version = version + 1, updated_at = $4 \
         where risk_id = $1 and version = $2 and retired_at is null",
    )
    .bind(id)
    .bind(version)
    .bind(rationale)
    .bind(Utc::now())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if !done {
        return Err(StoreError::Conflict("This risk changed while it was being accepted; nothing was signed.".into()));
    }
    let after = risk_by_id(tx, id).await?.ok_or_else(|| StoreError::unreadable("risk", id))?;
    let audited = Audited {
        action: AuditAction::Update,
        record_id: id,
        before: Some(&before),
        after: &after,
        version: after.meta.version,
        reason: Some("Residual risk accepted by signature"),
    };
    append_audit(tx, ctx, audited).await?;
    Ok((after.meta.version, serde_json::to_value(&after).unwrap_or_default()))
}

pub(super) async fn insert_revision(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    matrix: i64,
    revision: i64,
    input: &MatrixInput,
) -> StoreResult<MatrixRevision> {
    let now = Utc::now();
    let definition = serde_json::to_string(&input.definition).unwrap_or_default();
    let (id,): (i64,) = sqlx::query_as(
        "insert into risk_matrix_revisions (matrix_id, revision, definition, change_note, version, created_at, \
            updated_at) \
         values ($1, $2, $3, $4, 1, $5, $5) returning revision_id",
    )
    .bind(matrix)
    .bind(revision)
    .bind(&definition)
    .bind(&input.change_note)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let saved =
        matrix_revision_by_id(tx, id).await?.ok_or_else(|| StoreError::unreadable("risk_matrix_revision", id))?;
    let audited = Audited {
        action: AuditAction::Create,
        record_id: id,
        before: None,
        after: &saved,
        version: 1,
        reason: Some(input.change_note.as_str()),
    };
    append_audit(tx, ctx, audited).await?;
    Ok(saved)
}

/// The ratings on the scoring revision (a field error when off it) and the controls as risk.
pub(super) fn risk_columns(
    input: &RiskInput,
    revision: &MatrixRevision,
) -> StoreResult<(shared::register::Rating, shared::register::Rating, String)> {
    let (inherent, residual) = input.ratings(&revision.definition).ok_or_else(|| {
        let mut e = shared::FieldErrors::new();
        revision.definition.check_cell(
            &mut e,
            "inherent_likelihood",
            "inherent_severity",
            input.inherent_likelihood.unwrap_or(0),
            input.inherent_severity.unwrap_or(0),
        );
        revision.definition.check_cell(
            &mut e,
            "residual_likelihood",
            "residual_severity",
            input.residual_likelihood.unwrap_or(0),
            input.residual_severity.unwrap_or(0),
        );
        StoreError::Invalid(e)
    })?;
    let controls = serde_json::to_string(&input.controls).unwrap_or_else(|_| "[]".into());
    Ok((inherent, residual, controls))
}

#[async_trait]
impl RiskStore for SqlStore {
    async fn list_matrix_revisions(&self) -> StoreResult<Vec<MatrixRevision>> {
        let sql = format!("{} order by mr.matrix_id, mr.revision desc", revision_select());
        let rows: Vec<RevisionRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(|r| r.into_revision().map_err(decode)).collect()
    }

    async fn get_matrix_revision(&self, id: MatrixRevisionId) -> StoreResult<Option<MatrixRevision>> {
        let mut conn = self.pool.acquire().await?;
        matrix_revision_by_id(&mut conn, id.0).await
    }

    async fn create_matrix(&self, ctx: &AuditContext, input: &MatrixInput) -> StoreResult<MatrixRevision> {
        let mut tx = self.write_tx().await?;
        let (matrix,): (i64,) =
            sqlx::query_as("insert into risk_matrices (created_at) values ($1) returning matrix_id")
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?;
        let saved = insert_revision(&mut tx, ctx, matrix, 1, input).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn create_matrix_revision(
        &self,
        ctx: &AuditContext,
        matrix: MatrixId,
        input: &MatrixInput,
    ) -> StoreResult<NewRevision> {
        let mut tx = self.write_tx().await?;
        // The matrix's row first: two new revisions started at once on PostgreSQL are decided
        // one after the other (the second finds the first's draft: 409), not by the unique index.
        let lock = format!("select 1 from risk_matrices where matrix_id = $1{FOR_UPDATE}");
        sqlx::query(&lock).bind(matrix.0).fetch_optional(&mut *tx).await?;
        let sql = format!("{} where mr.matrix_id = $1 order by mr.revision desc limit 1", revision_select());
        let latest: Option<RevisionRow> = sqlx::query_as(&sql).bind(matrix.0).fetch_optional(&mut *tx).await?;
        let Some(latest) = latest.map(RevisionRow::into_revision).transpose().map_err(decode)? else {
            return Ok(NewRevision::NotFound);
        };
        if latest.status == RevisionStatus::Draft {
            return Ok(NewRevision::DraftExists(latest));
        }
        let saved = insert_revision(&mut tx, ctx, matrix.0, latest.revision + 1, input).await?;
        tx.commit().await?;
        Ok(NewRevision::Started(saved))
    }

    async fn update_matrix_revision(
        &self,
        ctx: &AuditContext,
        id: MatrixRevisionId,
        version: i64,
        input: &MatrixInput,
    ) -> StoreResult<Change<MatrixRevision>> {
        let mut tx = self.write_tx().await?;
        let before = matrix_revision_by_id(&mut tx, id.0).await?;
        if let Some(b) = &before
            && b.status != RevisionStatus::Draft
        {
            return Err(StoreError::InUse(format!(
                "Revision {} is approved and frozen; start a new revision to change the matrix.",
                b.revision
            )));
        }
        let done = sqlx::query(
            "update risk_matrix_revisions set definition = $3, change_note = $4, version = version + 1, \
                updated_at = $5 \
             where revision_id = $1 and version = $2 and retired_at is null",
        )
        .bind(id.0)
        .bind(version)
        .bind(serde_json::to_string(&input.definition).unwrap_or_default())
        .bind(&input.change_note)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let after = matrix_revision_by_id(&mut tx, id.0).await?;
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Update,
                record_id: id.0,
                reason: Some(input.change_note.as_str()),
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

    async fn list_risks(&self, f: &RiskFilter, today: chrono::NaiveDate) -> StoreResult<RiskPage> {
        let mut w = filter_where(f, true, today);
        let count = format!("select count(*) from risks r where {}", w.sql);
        let (total,): (i64,) = bind_filter!(sqlx::query_as(&count), w).fetch_one(&self.pool).await?;

        let (column, desc) = f.sort_key();
        let backwards = matches!(f.at, Some(PageAt::Before(_)));
        if let Some(at) = &f.at {
            let (param, cursor) = match at {
                PageAt::After(c) => ("after", c),
                PageAt::Before(c) => ("before", c),
            };
            let (key, id) = f.cursor_args(cursor).ok_or_else(|| field_error(param, INVALID))?;
            let op = if desc != backwards { "<" } else { ">" };
            match key {
                None => w.and(&format!("r.risk_id {op} ?"), Some(Arg::Int(id))),
                Some(key) => {
                    w.args.push(key);
                    let k = w.args.len();
                    w.and(&format!("({column}, r.risk_id) {op} (${k}, ?)"), Some(Arg::Int(id)));
                }
            }
        }
        let dir = if desc != backwards { "desc" } else { "asc" };
        let order = if column == "r.risk_id" {
            format!("order by r.risk_id {dir}")
        } else {
            format!("order by {column} {dir}, r.risk_id {dir}")
        };
        // One row more than the page tells whether another page follows.
        let sql = format!(
            "select {RISK_COLUMNS}, cast({column} as text) as sort_key {RISK_FROM} where {} {order} limit {} offset {}",
            w.sql,
            w.next(1),
            w.next(2)
        );
        let offset = if f.at.is_some() { 0 } else { f.offset };
        let rows = bind_filter!(sqlx::query(&sql), w).bind(f.limit + 1).bind(offset).fetch_all(&self.pool).await?;
        let more = rows.len() as i64 > f.limit;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows.iter().take(f.limit as usize) {
            let key: Option<String> = if column == "r.risk_id" { None } else { row.try_get("sort_key")? };
            let risk = RiskRow::from_row(row)?;
            items.push((RiskFilter::cursor_of(risk.risk_id, key.as_deref()), risk.into_summary(today)));
        }
        if backwards {
            items.reverse();
        }
        let first = items.first().map(|(c, _)| c.clone());
        let last = items.last().map(|(c, _)| c.clone());
        let (next_after, prev_before) = if backwards {
            (last, first.filter(|_| more))
        } else {
            (last.filter(|_| more), first.filter(|_| f.at.is_some() || offset > 0))
        };
        Ok(RiskPage { items: items.into_iter().map(|(_, r)| r).collect(), total, next_after, prev_before })
    }

    async fn risk_ids(&self, f: &RiskFilter) -> StoreResult<Vec<i64>> {
        let today = Utc::now().date_naive();
        let w = filter_where(f, true, today);
        let sql = format!("select r.risk_id {RISK_FROM} where {} {}", w.sql, f.order_sql());
        let rows: Vec<(i64,)> = bind_filter!(sqlx::query_as(&sql), w).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn export_risks(&self, ids: &[i64]) -> StoreResult<Vec<Risk>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql =
            format!("select {RISK_COLUMNS} {RISK_FROM} where r.risk_id in ({})", crate::storage::common::id_list(ids));
        let rows: Vec<RiskRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        let mut risks =
            crate::storage::common::in_order(ids, rows.into_iter().map(RiskRow::into_risk).map(|r| (r.id.0, r)));
        // Evidence names: processes read once; FMEA rows one by one (few are cited).
        let names: Vec<(i64, String)> =
            sqlx::query_as("select process_id, name from processes").fetch_all(&self.pool).await?;
        let names: std::collections::HashMap<i64, String> = names.into_iter().collect();
        let mut conn = self.pool.acquire().await?;
        for risk in &mut risks {
            for c in &mut risk.controls {
                for e in &mut c.evidence {
                    e.label = match e.record_type {
                        EvidenceType::Process => names.get(&e.record_id).cloned().unwrap_or_default(),
                        EvidenceType::FmeaRow => evidence_label(&mut conn, e.record_type, e.record_id).await?,
                    };
                }
            }
        }
        Ok(risks)
    }

    async fn risk_heatmap(&self, revision: MatrixRevisionId, f: &RiskFilter) -> StoreResult<Option<Heatmap>> {
        let mut conn = self.pool.acquire().await?;
        let Some(rev) = matrix_revision_by_id(&mut conn, revision.0).await? else { return Ok(None) };
        let f = RiskFilter {
            matrix_revision_id: Some(revision.0),
            include_closed: false,
            status: f.status.filter(|s| *s != RiskStatus::Closed),
            ..f.clone()
        };
        let w = filter_where(&f, false, Utc::now().date_naive());
        let sql = format!(
            "select r.inherent_likelihood, r.inherent_severity, r.residual_likelihood, r.residual_severity, count(*) \
             from risks r where {} group by r.inherent_likelihood, r.inherent_severity, \
             r.residual_likelihood, r.residual_severity",
            w.sql
        );
        let groups: Vec<(i64, i64, i64, i64, i64)> =
            bind_filter!(sqlx::query_as(&sql), w).fetch_all(&mut *conn).await?;
        let level = |v: i64| u8::try_from(v).unwrap_or_default();
        let groups: Vec<(u8, u8, u8, u8, i64)> =
            groups.into_iter().map(|(a, b, c, d, n)| (level(a), level(b), level(c), level(d), n)).collect();
        // Per other revision of the matrix (a handful), an indexed count.
        let others: Vec<(i64, i64, i64)> = sqlx::query_as(
            "select mr.revision_id, mr.revision, (select count(*) from risks r where r.matrix_revision_id = \
                mr.revision_id \
             and r.status <> 'closed' and r.retired_at is null) from risk_matrix_revisions mr \
             where mr.matrix_id = $1 and mr.revision_id <> $2 order by mr.revision",
        )
        .bind(rev.matrix_id.0)
        .bind(revision.0)
        .fetch_all(&mut *conn)
        .await?;
        let others = others
            .into_iter()
            .filter(|(_, _, count)| *count > 0)
            .map(|(id, revision, count)| RevisionCount { revision_id: MatrixRevisionId(id), revision, count })
            .collect();
        Ok(Some(Heatmap::build(rev, &groups, others)))
    }

    async fn get_risk(&self, id: RiskId) -> StoreResult<Option<Risk>> {
        let mut conn = self.pool.acquire().await?;
        risk_by_id(&mut conn, id.0).await
    }

    async fn create_risk(&self, ctx: &AuditContext, input: &RiskInput) -> StoreResult<Risk> {
        let mut tx = self.write_tx().await?;
        let revision = check_risk_references(&mut tx, input, None).await?;
        let (inherent, residual, controls) = risk_columns(input, &revision)?;
        let q = sqlx::query_as::<_, (i64,)>(
            "insert into risks (title, description, category, process_id, owner_id, status, review_date, \
             matrix_revision_id, inherent_likelihood, inherent_severity, inherent_score, inherent_zone, \
             residual_likelihood, residual_severity, residual_score, residual_zone, controls, \
             acceptance_rationale, version, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1, $19, $19) \
             returning risk_id",
        );
        let (id,) = bind_risk!(q, input, revision, inherent, residual, controls)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| constraint_error(e, "process_id"))?;
        sync_evidence(&mut tx, id, input).await?;
        let risk = risk_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("risk", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &risk,
            version: 1,
            reason: None,
        };
        append_audit(&mut tx, ctx, audited).await?;
        tx.commit().await?;
        Ok(risk)
    }

    async fn update_risk(
        &self,
        ctx: &AuditContext,
        id: RiskId,
        version: i64,
        input: &RiskInput,
    ) -> StoreResult<Change<Risk>> {
        let mut tx = self.write_tx().await?;
        let before = risk_by_id(&mut tx, id.0).await?;
        let Some(b) = &before else { return Ok(Change::NotFound) };
        if b.meta.version != version {
            return Ok(Change::Stale(b.clone()));
        }
        // The status rule again, against the risk as it is inside this transaction.
        if let Some(code) = input.status_problem(Some(b)) {
            return Err(field_error("status", code));
        }
        let revision = check_risk_references(&mut tx, input, Some(b)).await?;
        let (inherent, residual, controls) = risk_columns(input, &revision)?;
        let q = sqlx::query(
            "update risks set title = $3, description = $4, category = $5, process_id = $6, owner_id = $7, \
             status = $8, review_date = $9, matrix_revision_id = $10, inherent_likelihood = $11, \
             inherent_severity = $12, inherent_score = $13, inherent_zone = $14, residual_likelihood = $15, \
             residual_severity = $16, residual_score = $17, residual_zone = $18, controls = $19, \
             acceptance_rationale = $20, version = version + 1, updated_at = $21 \
             where risk_id = $1 and version = $2 and retired_at is null",
        )
        .bind(id.0)
        .bind(version);
        let done = bind_risk!(q, input, revision, inherent, residual, controls)
            .execute(&mut *tx)
            .await
            .map_err(|e| constraint_error(e, "process_id"))?
            .rows_affected()
            == 1;
        if done {
            sync_evidence(&mut tx, id.0, input).await?;
        }
        let after = risk_by_id(&mut tx, id.0).await?;
        let reason = Some(input.reason.as_str()).filter(|r| !r.is_empty());
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Update,
                record_id: id.0,
                reason,
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

    async fn work_items(
        &self,
        user: Option<UserId>,
        today: chrono::NaiveDate,
        horizon: chrono::NaiveDate,
    ) -> StoreResult<Vec<WorkItem>> {
        let rows: Vec<(i64, String, chrono::NaiveDate)> = sqlx::query_as(
            "select risk_id, title, review_date from risks where ($1 is null or owner_id = $1) and status <> 'closed' \
             and retired_at is null and review_date <= $2 order by review_date, risk_id",
        )
        .bind(user.map(|u| u.0))
        .bind(horizon)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, title, due)| WorkItem {
                kind: "Risk review".into(),
                record_type: "risk".into(),
                record_id: id,
                reference: shared::register::reference(RiskId(id)),
                title,
                due,
                overdue: due < today,
            })
            .collect())
    }
}
