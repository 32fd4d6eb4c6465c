//! FMEA worksheets: the queries of [`crate::storage::fmea`], compiled once per backend (see
//! [`crate::storage`]).

use async_trait::async_trait;
use chrono::Utc;
use shared::audit::{AuditAction, diff};
use shared::auth::UserId;

use super::base::{active_reference, append_audit, finish, fresh_chain_head, insert_entries, retire};
use super::{Conn, Db, SqlStore};
use crate::storage::common::{Audited, Draft, FMEAS, PROCESSES, USERS, Written, constraint_error, field_error};
use crate::storage::fmea::{
    CELL_COLUMNS, FMEA_SELECT, FmeaRow, FmeaStore, ROW_SELECT, RowChange, SheetRow, bind_cells, cell_assignments,
    cell_placeholders, push_cells,
};
use crate::storage::{AuditContext, Change, StoreError, StoreResult};
use shared::worksheet::{Fmea, FmeaId, FmeaInput, Row, RowCells, RowId, Worksheet};

pub(super) async fn user_names(conn: &mut Conn) -> StoreResult<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("select user_id, full_name from users").fetch_all(conn).await?;
    Ok(rows.into_iter().collect())
}

pub(super) async fn fmea_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Fmea>> {
    let sql = format!("{FMEA_SELECT} where f.fmea_id = $1");
    let row: Option<FmeaRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let names = user_names(&mut *conn).await?;
    Ok(Some(row.into_fmea(&names)))
}

pub(super) async fn row_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Row>> {
    let sql = format!("{ROW_SELECT} where r.row_id = $1 and r.retired_at is null");
    let row: Option<SheetRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
    let Some(mut row) = row.map(Row::from) else { return Ok(None) };
    let links = linked_risks(conn, "r.row_id = $1", id).await?;
    row.risks = links.into_iter().map(|(_, l)| l).collect();
    Ok(Some(row))
}

/// The risks citing rows (`scope` over `fmea_rows r`, with `$1`), by row.
pub(super) async fn linked_risks(
    conn: &mut Conn,
    scope: &str,
    key: i64,
) -> StoreResult<Vec<(i64, shared::worksheet::LinkedRisk)>> {
    let sql = format!(
        "select e.record_id, k.risk_id, k.title from risk_evidence e join risks k on k.risk_id = e.risk_id \
         join fmea_rows r on r.row_id = e.record_id where e.record_type = 'fmea_row' and k.retired_at is null \
         and {scope} order by k.risk_id"
    );
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(&sql).bind(key).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(row, risk, title)| {
            let reference = shared::register::reference(shared::register::RiskId(risk));
            (row, shared::worksheet::LinkedRisk { id: risk, reference, title })
        })
        .collect())
}

/// The header's references: process and responsible person active, team members active.
pub(super) async fn check_fmea_references(conn: &mut Conn, input: &FmeaInput) -> StoreResult<()> {
    let process = input.process_id.ok_or_else(|| field_error("process_id", shared::validation::REQUIRED))?;
    active_reference(&mut *conn, PROCESSES, "process_id", process.0).await?;
    let who = input.responsible_id.ok_or_else(|| field_error("responsible_id", shared::validation::REQUIRED))?;
    active_reference(&mut *conn, USERS, "responsible_id", who.0).await?;
    for member in &input.team {
        active_reference(&mut *conn, USERS, "team", member.0).await?;
    }
    Ok(())
}

/// A row's responsible person must be an active user (unless unchanged since saved).
pub(super) async fn check_row_references(
    conn: &mut Conn,
    cells: &RowCells,
    before: Option<&RowCells>,
) -> StoreResult<()> {
    if let Some(who) = cells.responsible_id
        && before.is_none_or(|b| b.responsible_id != Some(who))
    {
        active_reference(conn, USERS, "responsible_id", who.0).await?;
    }
    Ok(())
}

pub(super) fn row_json(cells: &RowCells) -> serde_json::Value {
    serde_json::to_value(cells).unwrap_or_default()
}

pub(super) fn row_draft<'a>(
    action: AuditAction,
    id: i64,
    version: i64,
    before: Option<&RowCells>,
    after: &RowCells,
    reason: Option<&'a str>,
) -> Draft<'a> {
    let before = before.map_or(serde_json::Value::Null, row_json);
    Draft {
        action,
        record_type: Row::RECORD_TYPE,
        record_id: id,
        record_version: version,
        changes: diff(&before, &row_json(after)),
        reason,
    }
}

pub(super) async fn insert_row(
    conn: &mut Conn,
    fmea: i64,
    position: i64,
    cells: &RowCells,
    by: &str,
) -> StoreResult<i64> {
    let sql = format!(
        "insert into fmea_rows (fmea_id, position, version, created_at, updated_at, updated_by, {CELL_COLUMNS}) \
         values ($1, $2, 1, $3, $3, $4, {}) returning row_id",
        cell_placeholders(5)
    );
    let q = sqlx::query_as::<_, (i64,)>(&sql).bind(fmea).bind(position).bind(Utc::now()).bind(by);
    let (id,) = bind_cells!(q, cells).fetch_one(conn).await.map_err(|e| constraint_error(e, "responsible_id"))?;
    Ok(id)
}

/// A row changed: the worksheet's content version moves on (a baseline signed before
/// is superseded).
pub(super) async fn bump_content(conn: &mut Conn, fmea: i64) -> StoreResult<()> {
    sqlx::query("update fmeas set content_version = content_version + 1 where fmea_id = $1")
        .bind(fmea)
        .execute(conn)
        .await?;
    Ok(())
}

/// The worksheet as a baseline signature binds it: the header and every row's cells in
/// order, at the content version.
/// An FMEA's header and active rows, as a baseline signature binds them.
pub(super) async fn fmea_baseline(conn: &mut Conn, id: i64) -> StoreResult<Option<(Fmea, Vec<Row>)>> {
    let Some(fmea) = fmea_by_id(&mut *conn, id).await? else { return Ok(None) };
    let sql = format!("{ROW_SELECT} where r.fmea_id = $1 and r.retired_at is null order by r.position, r.row_id");
    let rows: Vec<SheetRow> = sqlx::query_as(&sql).bind(id).fetch_all(conn).await?;
    Ok(Some((fmea, rows.into_iter().map(Row::from).collect())))
}

/// The baseline as hash scheme 1 hashed it (the header as the API shows it, names included).
pub(super) async fn fmea_baseline_json(conn: &mut Conn, id: i64) -> StoreResult<Option<(i64, serde_json::Value)>> {
    let Some((fmea, rows)) = fmea_baseline(conn, id).await? else { return Ok(None) };
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|row| {
            serde_json::json!({"id": row.id, "position": row.position, "version": row.version, "cells": row.cells})
        })
        .collect();
    let version = fmea.content_version;
    Ok(Some((version, serde_json::json!({"fmea": fmea, "rows": rows}))))
}

pub(super) async fn next_position(conn: &mut Conn, fmea: i64) -> StoreResult<i64> {
    let (max,): (Option<i64>,) =
        sqlx::query_as("select max(position) from fmea_rows where fmea_id = $1").bind(fmea).fetch_one(conn).await?;
    Ok(max.unwrap_or(0) + 1)
}

#[async_trait]
impl FmeaStore for SqlStore {
    async fn list_fmeas(&self) -> StoreResult<Vec<Fmea>> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!("{FMEA_SELECT} where f.retired_at is null order by lower(f.fmea_number), f.fmea_id");
        let rows: Vec<FmeaRow> = sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
        let names = user_names(&mut conn).await?;
        Ok(rows.into_iter().map(|r| r.into_fmea(&names)).collect())
    }

    async fn get_fmea(&self, id: FmeaId) -> StoreResult<Option<Fmea>> {
        let mut conn = self.pool.acquire().await?;
        fmea_by_id(&mut conn, id.0).await
    }

    async fn create_fmea(&self, ctx: &AuditContext, input: &FmeaInput) -> StoreResult<Fmea> {
        let mut tx = self.write_tx().await?;
        check_fmea_references(&mut tx, input).await?;
        let team =
            serde_json::to_string(&input.team.iter().map(|u| u.0).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into());
        let (id,): (i64,) = sqlx::query_as(
            "insert into fmeas (kind, fmea_number, subject, company, location, customer, model_year, start_date, \
             revision_date, process_id, responsible_id, team, confidentiality, version, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14) returning fmea_id",
        )
        .bind(input.kind.as_str())
        .bind(&input.fmea_number)
        .bind(&input.subject)
        .bind(&input.company)
        .bind(&input.location)
        .bind(&input.customer)
        .bind(&input.model_year)
        .bind(input.start_date)
        .bind(input.revision_date)
        .bind(input.process_id.map(|p| p.0))
        .bind(input.responsible_id.map(|u| u.0))
        .bind(&team)
        .bind(input.confidentiality.as_str())
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| constraint_error(e, "process_id"))?;
        let fmea = fmea_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("fmea", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &fmea,
            version: 1,
            reason: None,
        };
        append_audit(&mut tx, ctx, audited).await?;
        tx.commit().await?;
        Ok(fmea)
    }

    async fn update_fmea(
        &self,
        ctx: &AuditContext,
        id: FmeaId,
        version: i64,
        input: &FmeaInput,
    ) -> StoreResult<Change<Fmea>> {
        let mut tx = self.write_tx().await?;
        check_fmea_references(&mut tx, input).await?;
        let before = fmea_by_id(&mut tx, id.0).await?;
        let team =
            serde_json::to_string(&input.team.iter().map(|u| u.0).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into());
        let done = sqlx::query(
            "update fmeas set fmea_number = $3, subject = $4, company = $5, location = $6, customer = $7, \
             model_year = $8, start_date = $9, revision_date = $10, process_id = $11, responsible_id = $12, \
             team = $13, confidentiality = $14, version = version + 1, content_version = content_version + 1, \
             updated_at = $15 \
             where fmea_id = $1 and version = $2 and retired_at is null",
        )
        .bind(id.0)
        .bind(version)
        .bind(&input.fmea_number)
        .bind(&input.subject)
        .bind(&input.company)
        .bind(&input.location)
        .bind(&input.customer)
        .bind(&input.model_year)
        .bind(input.start_date)
        .bind(input.revision_date)
        .bind(input.process_id.map(|p| p.0))
        .bind(input.responsible_id.map(|u| u.0))
        .bind(&team)
        .bind(input.confidentiality.as_str())
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(|e| constraint_error(e, "process_id"))?
        .rows_affected()
            == 1;
        let after = fmea_by_id(&mut tx, id.0).await?;
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

    async fn worksheet(&self, id: FmeaId, limit: Option<i64>) -> StoreResult<Option<Worksheet>> {
        let mut conn = self.pool.acquire().await?;
        let Some(fmea) = fmea_by_id(&mut conn, id.0).await? else { return Ok(None) };
        let sql = format!(
            "{ROW_SELECT} where r.fmea_id = $1 and r.retired_at is null order by r.position, r.row_id limit $2"
        );
        let rows: Vec<SheetRow> =
            sqlx::query_as(&sql).bind(id.0).bind(limit.unwrap_or(i64::MAX)).fetch_all(&mut *conn).await?;
        let mut rows: Vec<Row> = rows.into_iter().map(Into::into).collect();
        let mut links: std::collections::HashMap<i64, Vec<shared::worksheet::LinkedRisk>> =
            std::collections::HashMap::new();
        for (row, link) in linked_risks(&mut conn, "r.fmea_id = $1", id.0).await? {
            links.entry(row).or_default().push(link);
        }
        for row in &mut rows {
            if let Some(l) = links.remove(&row.id.0) {
                row.risks = l;
            }
        }
        Ok(Some(Worksheet { fmea, rows }))
    }

    async fn worksheet_row_ids(&self, id: FmeaId) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "select row_id from fmea_rows where fmea_id = $1 and retired_at is null order by position, row_id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn rows_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Row>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{ROW_SELECT} where r.row_id in ({})", crate::storage::common::id_list(ids));
        let rows: Vec<SheetRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(crate::storage::common::in_order(ids, rows.into_iter().map(Row::from).map(|r| (r.id.0, r))))
    }

    async fn get_row(&self, id: RowId) -> StoreResult<Option<Row>> {
        let mut conn = self.pool.acquire().await?;
        row_by_id(&mut conn, id.0).await
    }

    async fn create_row(&self, ctx: &AuditContext, fmea: FmeaId, cells: &RowCells) -> StoreResult<Row> {
        let mut tx = self.write_tx().await?;
        active_reference(&mut tx, FMEAS, "fmea_id", fmea.0).await?;
        check_row_references(&mut tx, cells, None).await?;
        // The FMEA's row first (its content version moves): two rows added at once on
        // PostgreSQL take their positions one after the other, never the same one.
        bump_content(&mut tx, fmea.0).await?;
        let position = next_position(&mut tx, fmea.0).await?;
        let id = insert_row(&mut tx, fmea.0, position, cells, &ctx.actor_name).await?;
        append_audit(&mut tx, ctx, row_draft(AuditAction::Create, id, 1, None, cells, None)).await?;
        let row = row_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("fmea_row", id))?;
        tx.commit().await?;
        Ok(row)
    }

    async fn update_row(
        &self,
        ctx: &AuditContext,
        id: RowId,
        version: i64,
        cells: &RowCells,
    ) -> StoreResult<RowChange> {
        let mut tx = self.write_tx().await?;
        let Some(before) = row_by_id(&mut tx, id.0).await? else { return Ok(RowChange::NotFound) };
        if before.version != version {
            return Ok(RowChange::Stale(before));
        }
        check_row_references(&mut tx, cells, Some(&before.cells)).await?;
        let sql = format!(
            "update fmea_rows set {}, version = version + 1, updated_at = $3, updated_by = $4 \
             where row_id = $1 and version = $2 and retired_at is null",
            cell_assignments(5)
        );
        let q = sqlx::query(&sql).bind(id.0).bind(version).bind(Utc::now()).bind(&ctx.actor_name);
        let done = bind_cells!(q, cells)
            .execute(&mut *tx)
            .await
            .map_err(|e| constraint_error(e, "responsible_id"))?
            .rows_affected()
            == 1;
        let Some(after) = row_by_id(&mut tx, id.0).await? else { return Ok(RowChange::NotFound) };
        if !done {
            return Ok(RowChange::Stale(after));
        }
        bump_content(&mut tx, after.fmea_id.0).await?;
        append_audit(
            &mut tx,
            ctx,
            row_draft(AuditAction::Update, id.0, after.version, Some(&before.cells), cells, None),
        )
        .await?;
        tx.commit().await?;
        Ok(RowChange::Done(after))
    }

    async fn retire_row(&self, ctx: &AuditContext, id: RowId, version: i64, reason: &str) -> StoreResult<RowChange> {
        let mut tx = self.write_tx().await?;
        let Some(before) = row_by_id(&mut tx, id.0).await? else { return Ok(RowChange::NotFound) };
        if before.version != version {
            return Ok(RowChange::Stale(before));
        }
        if !retire(&mut tx, "fmea_rows", "row_id", id.0, version, reason).await? {
            // Read at this version, yet not retired: another writer got there in between.
            return Err(StoreError::Conflict(
                "This row changed while it was being retired; nothing was retired.".into(),
            ));
        }
        bump_content(&mut tx, before.fmea_id.0).await?;
        let changes = diff(&serde_json::json!({"retired": false}), &serde_json::json!({"retired": true}));
        let draft = Draft {
            action: AuditAction::Retire,
            record_type: Row::RECORD_TYPE,
            record_id: id.0,
            record_version: version + 1,
            changes,
            reason: Some(reason),
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(RowChange::Done(Row { version: version + 1, ..before }))
    }

    async fn import_rows(&self, ctx: &AuditContext, fmea: FmeaId, rows: &[RowCells]) -> StoreResult<usize> {
        let mut tx = self.write_tx().await?;
        active_reference(&mut tx, FMEAS, "fmea_id", fmea.0).await?;
        bump_content(&mut tx, fmea.0).await?;
        let mut position = next_position(&mut tx, fmea.0).await?;
        // Each responsible person of an open action checked once (a closed action may
        // name someone who has left since).
        let mut checked = std::collections::BTreeSet::new();
        for who in rows.iter().filter(|c| c.action_status.is_pending()).filter_map(|c| c.responsible_id) {
            if checked.insert(who.0) {
                active_reference(&mut tx, USERS, "responsible_id", who.0).await?;
            }
        }
        // One chain head for the whole import: the appends below follow each other.
        let mut head = fresh_chain_head(&mut tx).await?;
        let now = Utc::now();
        // 37 values per row: 400 rows per insert stay under both databases' bind limits.
        for chunk in rows.chunks(400) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
                "insert into fmea_rows (fmea_id, position, version, created_at, updated_at, updated_by, \
                    {CELL_COLUMNS}) "
            ));
            let first = position;
            qb.push_values(chunk.iter().enumerate(), |mut v, (i, c)| {
                v.push_bind(fmea.0)
                    .push_bind(first + i as i64)
                    .push_bind(1_i64)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(ctx.actor_name.clone());
                push_cells!(v, c);
            });
            qb.push(" returning row_id, position");
            let ids: Vec<(i64, i64)> =
                qb.build_query_as().fetch_all(&mut *tx).await.map_err(|e| constraint_error(e, "responsible_id"))?;
            let ids: std::collections::HashMap<i64, i64> = ids.into_iter().map(|(id, p)| (p, id)).collect();
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, cells) in chunk.iter().enumerate() {
                let position = first + i as i64;
                let id = ids.get(&position).copied().ok_or_else(|| {
                    StoreError::Internal(format!("the row imported at position {position} was not returned"))
                })?;
                let entry =
                    row_draft(AuditAction::Create, id, 1, None, cells, Some("CSV import")).entry(ctx, head.take());
                head = Some((entry.seq, entry.hash.clone()));
                entries.push(entry);
            }
            insert_entries(&mut tx, &entries).await?;
            if let Some(last) = entries.last() {
                tx.chain.set_head(last.seq, last.hash.clone());
            }
            position += chunk.len() as i64;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    async fn action_items(
        &self,
        user: Option<UserId>,
        today: chrono::NaiveDate,
        horizon: chrono::NaiveDate,
    ) -> StoreResult<Vec<shared::register::WorkItem>> {
        let rows: Vec<(i64, i64, String, String, String, chrono::NaiveDate)> = sqlx::query_as(
            "select r.position, r.fmea_id, f.fmea_number, r.failure_mode, \
             case when r.prevention_action <> '' then r.prevention_action else r.detection_action end, r.target_date \
             from fmea_rows r join fmeas f on f.fmea_id = r.fmea_id \
             where ($1 is null or r.responsible_id = $1) and r.retired_at is null and f.retired_at is null \
             and r.action_status in ('open', 'decision_pending', 'implementation_pending') \
             and r.target_date is not null and r.target_date <= $2 order by r.target_date, r.row_id",
        )
        .bind(user.map(|u| u.0))
        .bind(horizon)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(row, fmea, number, mode, action, due)| shared::register::WorkItem {
                kind: "FMEA action".into(),
                record_type: "fmea".into(),
                record_id: fmea,
                reference: format!("{number} row {row}"),
                title: format!("{action} ({mode})"),
                due,
                overdue: due < today,
            })
            .collect())
    }
}
