//! Nonconformances and complaints, and the closed history the suggestion model learns from: the
//! queries of [`crate::storage::quality::QualityStore`], compiled once per backend (see
//! [`crate::storage`]). Every step reads the record inside its write transaction, checks it with
//! the rules of [`shared::quality`], writes, and audits the record before and after. The CAPAs'
//! queries are in `capa.rs`.

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use shared::audit::AuditAction;
use shared::auth::UserId;
use shared::org::ProcessId;
use shared::quality::capa::CapaKind;
use shared::quality::{
    CapaInput, Category, CategoryId, CauseCategory, Complaint, ComplaintId, ComplaintInput, ComplaintStep,
    EffectivenessCheck, Investigation, LinkRef, Nc, NcFilter, NcId, NcInput, NcState, NcStep, Numbered, ParetoBar,
    ParetoBy, WRONG_STATE, pareto,
};
use shared::validation::{NOT_FOUND, TAKEN};

use super::base::{active_reference, append_audit, is_unique_violation};
use super::capa::{capa_by_id, insert_capa};
use super::{Conn, Db, SqlStore, WriteTx};
use crate::storage::common::{Audited, PROCESSES, USERS, field_error};
use crate::storage::quality::{
    COMPLAINT_SELECT, ComplaintRow, HistoricQuality, NC_SELECT, NcRow, QualityActor, QualityStore,
};
use crate::storage::{AuditContext, Change, StoreError, StoreResult};

/// The next number of a kind: an upsert that holds the sequence's row until commit, so
/// concurrent creations queue on it (both databases) and never share a number.
pub(super) async fn next_number(conn: &mut Conn, kind: Numbered) -> StoreResult<String> {
    let (next,): (i64,) = sqlx::query_as(
        "insert into quality_sequences (kind, last_value) values ($1, 1) \
         on conflict (kind) do update set last_value = quality_sequences.last_value + 1 returning last_value",
    )
    .bind(kind.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(kind.number(u32::try_from(next).unwrap_or(u32::MAX)))
}

/// A reference to an active category.
async fn check_category(conn: &mut Conn, id: Option<CategoryId>) -> StoreResult<i64> {
    let id = id.ok_or_else(|| field_error("category_id", shared::validation::REQUIRED))?;
    active_reference(conn, ("nc_categories", "category_id", "name"), "category_id", id.0).await?;
    Ok(id.0)
}

pub(super) async fn check_process(conn: &mut Conn, id: Option<ProcessId>) -> StoreResult<()> {
    if let Some(p) = id {
        active_reference(conn, PROCESSES, "process_id", p.0).await?;
    }
    Ok(())
}

pub(super) async fn check_user(conn: &mut Conn, field: &str, id: Option<UserId>) -> StoreResult<()> {
    if let Some(u) = id {
        active_reference(conn, USERS, field, u.0).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Nonconformances

pub(super) async fn nc_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Nc>> {
    let sql = format!("{NC_SELECT} where n.nc_id = $1");
    let row: Option<NcRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    row.map(Nc::try_from).transpose()
}

pub(super) async fn audit_change<T: serde::Serialize + shared::org::Record>(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    action: AuditAction,
    id: i64,
    before: Option<&T>,
    after: &T,
    reason: Option<&str>,
) -> StoreResult<()> {
    let audited = Audited { action, record_id: id, before, after, version: after.meta().version, reason };
    append_audit(tx, ctx, audited).await
}

// ---------------------------------------------------------------------------------------------
// Complaints

/// Fills in a complaint's linked NCs and CAPAs (its own, and those of its NCs).
async fn complaint_links(conn: &mut Conn, c: &mut Complaint) -> StoreResult<()> {
    let ncs: Vec<(i64, String)> =
        sqlx::query_as("select nc_id, number from ncs where complaint_id = $1 order by nc_id")
            .bind(c.id.0)
            .fetch_all(&mut *conn)
            .await?;
    let capas: Vec<(i64, String)> = sqlx::query_as(
        "select capa_id, number from capas where complaint_id = $1 or capa_id in \
         (select capa_id from ncs where complaint_id = $1 and capa_id is not null) order by capa_id",
    )
    .bind(c.id.0)
    .fetch_all(&mut *conn)
    .await?;
    c.ncs = ncs.into_iter().map(|(id, number)| LinkRef { id, number }).collect();
    c.capas = capas.into_iter().map(|(id, number)| LinkRef { id, number }).collect();
    Ok(())
}

pub(super) async fn complaint_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Complaint>> {
    let sql = format!("{COMPLAINT_SELECT} where complaint_id = $1");
    let row: Option<ComplaintRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let mut c = Complaint::try_from(row)?;
    complaint_links(conn, &mut c).await?;
    Ok(Some(c))
}
/// Claims a record for a change at `version`: bumps its version if it is still there, so that
/// of two changes based on one version only the first goes on (PostgreSQL lets both read it; the
/// second's claim waits for the first and then finds nothing). `false`: someone else was first.
pub(super) async fn claim(conn: &mut Conn, (table, key): (&str, &str), id: i64, version: i64) -> StoreResult<bool> {
    let sql = format!("update {table} set version = version + 1, updated_at = $3 where {key} = $1 and version = $2");
    let done = sqlx::query(&sql).bind(id).bind(version).bind(Utc::now()).execute(conn).await?.rows_affected();
    Ok(done == 1)
}

pub(super) fn state_error() -> StoreError {
    field_error("state", WRONG_STATE)
}

#[async_trait]
impl QualityStore for SqlStore {
    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("select category_id, name from nc_categories where retired_at is null order by name")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id, name)| Category { id: CategoryId(id), name }).collect())
    }

    async fn create_category(&self, ctx: &AuditContext, name: &str) -> StoreResult<Category> {
        let mut e = shared::FieldErrors::new();
        shared::validation::text(&mut e, "name", name, true, shared::org::NAME_MAX);
        e.into_result().map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let (id,): (i64,) = sqlx::query_as("insert into nc_categories (name) values ($1) returning category_id")
            .bind(name.trim())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| if is_unique_violation(&e) { field_error("name", TAKEN) } else { e.into() })?;
        let changes = super::trust::one_change("name", serde_json::Value::Null, serde_json::json!(name.trim()));
        let draft = crate::storage::common::Draft {
            action: AuditAction::Create,
            record_type: "nc_category",
            record_id: id,
            record_version: 1,
            changes,
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(Category { id: CategoryId(id), name: name.trim().to_string() })
    }

    async fn create_nc(&self, ctx: &AuditContext, reporter: UserId, input: &NcInput) -> StoreResult<Nc> {
        input.validate(Utc::now().date_naive()).map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let category = check_category(&mut tx, input.category_id).await?;
        check_process(&mut tx, input.process_id).await?;
        if let Some(c) = input.complaint_id
            && complaint_by_id(&mut tx, c.0).await?.is_none()
        {
            return Err(field_error("complaint_id", NOT_FOUND));
        }
        let number = next_number(&mut tx, Numbered::Nc).await?;
        let reporter_name = active_reference(&mut tx, USERS, "reported_by", reporter.0).await?;
        let now = Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "insert into ncs (number, source, category_id, process_id, product, lot, quantity, description, \
             containment, reported_on, reported_by, reported_by_name, cost_scrap, cost_rework, cost_warranty, \
             cost_returns, complaint_id, state, version, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'open', 1, $18, $18) \
             returning nc_id",
        )
        .bind(&number)
        .bind(input.source.as_str())
        .bind(category)
        .bind(input.process_id.map(|p| p.0))
        .bind(&input.product)
        .bind(&input.lot)
        .bind(i64::from(input.quantity))
        .bind(&input.description)
        .bind(&input.containment)
        .bind(input.reported_on)
        .bind(reporter.0)
        .bind(&reporter_name)
        .bind(input.costs.scrap)
        .bind(input.costs.rework)
        .bind(input.costs.warranty)
        .bind(input.costs.returns)
        .bind(input.complaint_id.map(|c| c.0))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let nc = nc_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("nc", id))?;
        audit_change(&mut tx, ctx, AuditAction::Create, id, None, &nc, None).await?;
        tx.commit().await?;
        Ok(nc)
    }

    async fn get_nc(&self, id: NcId) -> StoreResult<Option<Nc>> {
        let mut conn = self.pool.acquire().await?;
        nc_by_id(&mut conn, id.0).await
    }

    async fn list_ncs(&self, f: &NcFilter) -> StoreResult<Vec<Nc>> {
        // Only the filters given become conditions, so that each can use its index (a
        // `$1 is null or …` condition cannot, and a rare state then scans the whole register).
        let mut qb = sqlx::QueryBuilder::<Db>::new(NC_SELECT);
        qb.push(" where 1 = 1");
        if let Some(state) = f.state {
            qb.push(" and n.state = ").push_bind(state.as_str());
        }
        if let Some(source) = f.source {
            qb.push(" and n.source = ").push_bind(source.as_str());
        }
        if let Some(c) = f.category_id {
            qb.push(" and n.category_id = ").push_bind(c);
        }
        if let Some(p) = f.process_id {
            qb.push(" and n.process_id = ").push_bind(p);
        }
        if let Some(from) = f.from {
            qb.push(" and n.reported_on >= ").push_bind(from);
        }
        if let Some(to) = f.to {
            qb.push(" and n.reported_on <= ").push_bind(to);
        }
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = format!("%{}%", q.to_lowercase().replace(['\\', '%', '_'], ""));
            qb.push(" and lower(n.number || ' ' || n.product || ' ' || n.lot || ' ' || n.description) like ")
                .push_bind(pattern);
        }
        if let Some(before) = f.before_id {
            qb.push(" and n.nc_id < ").push_bind(before);
        }
        qb.push(" order by n.nc_id desc limit ").push_bind(f.limit.unwrap_or(50).clamp(1, 200));
        let rows: Vec<NcRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(Nc::try_from).collect()
    }

    async fn update_nc(
        &self,
        ctx: &AuditContext,
        id: NcId,
        input: &NcInput,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Nc>> {
        input.validate(today).map_err(StoreError::Invalid)?;
        let version = input.version.ok_or_else(|| field_error("version", shared::validation::REQUIRED))?;
        let mut tx = self.write_tx().await?;
        let Some(before) = nc_by_id(&mut tx, id.0).await? else { return Ok(Change::NotFound) };
        if before.meta.version != version {
            return Ok(Change::Stale(before));
        }
        if before.state != NcState::Open {
            return Err(state_error());
        }
        if !(actor.manager || before.reported_by == actor.user) {
            return Err(StoreError::Forbidden(
                "Only the person who raised the NC or a quality manager may correct it.".into(),
            ));
        }
        let category = check_category(&mut tx, input.category_id).await?;
        check_process(&mut tx, input.process_id).await?;
        if let Some(c) = input.complaint_id
            && complaint_by_id(&mut tx, c.0).await?.is_none()
        {
            return Err(field_error("complaint_id", NOT_FOUND));
        }
        if !claim(&mut tx, ("ncs", "nc_id"), id.0, version).await? {
            return Ok(nc_by_id(&mut tx, id.0).await?.map_or(Change::NotFound, Change::Stale));
        }
        sqlx::query(
            "update ncs set source = $2, category_id = $3, process_id = $4, product = $5, lot = $6, quantity = $7, \
             description = $8, containment = $9, reported_on = $10, cost_scrap = $11, cost_rework = $12, \
             cost_warranty = $13, cost_returns = $14, complaint_id = $15, updated_at = $16 \
             where nc_id = $1",
        )
        .bind(id.0)
        .bind(input.source.as_str())
        .bind(category)
        .bind(input.process_id.map(|p| p.0))
        .bind(&input.product)
        .bind(&input.lot)
        .bind(i64::from(input.quantity))
        .bind(&input.description)
        .bind(&input.containment)
        .bind(input.reported_on)
        .bind(input.costs.scrap)
        .bind(input.costs.rework)
        .bind(input.costs.warranty)
        .bind(input.costs.returns)
        .bind(input.complaint_id.map(|c| c.0))
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        let after = nc_by_id(&mut tx, id.0).await?.ok_or_else(|| StoreError::unreadable("nc", id.0))?;
        audit_change(&mut tx, ctx, AuditAction::Update, id.0, Some(&before), &after, None).await?;
        tx.commit().await?;
        Ok(Change::Done(after))
    }

    async fn nc_step(
        &self,
        ctx: &AuditContext,
        id: NcId,
        step: &NcStep,
        actor: QualityActor,
    ) -> StoreResult<Change<Nc>> {
        let today = Utc::now().date_naive();
        let mut tx = self.write_tx().await?;
        let Some(before) = nc_by_id(&mut tx, id.0).await? else { return Ok(Change::NotFound) };
        if before.meta.version != step.version() {
            return Ok(Change::Stale(before));
        }
        let qualified = if matches!(step, NcStep::Disposition { .. }) { actor.disposition } else { actor.manager };
        step.check(&before, qualified).map_err(StoreError::Invalid)?;
        if !claim(&mut tx, ("ncs", "nc_id"), id.0, before.meta.version).await? {
            return Ok(nc_by_id(&mut tx, id.0).await?.map_or(Change::NotFound, Change::Stale));
        }
        let now = Utc::now();
        let bump = "updated_at = $2";
        let mut reason = None;
        let mut action = AuditAction::Update;
        match step {
            NcStep::Disposition { disposition, note, .. } => {
                sqlx::query(&format!(
                    "update ncs set disposition = $3, disposition_note = $4, dispositioned_by = $5, {bump} \
                     where nc_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(disposition.as_str())
                .bind(note.trim())
                .bind(&ctx.actor_name)
                .execute(&mut *tx)
                .await?;
            }
            NcStep::Evaluate { capa_needed, rationale, root_cause, .. } => {
                sqlx::query(&format!(
                    "update ncs set capa_needed = $3, evaluation_rationale = $4, root_cause = $5, evaluated_by = $6, \
                     evaluated_on = $7, {bump} where nc_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(i64::from(*capa_needed))
                .bind(rationale.trim())
                .bind(root_cause.map(CauseCategory::as_str))
                .bind(&ctx.actor_name)
                .bind(today)
                .execute(&mut *tx)
                .await?;
            }
            NcStep::LinkCapa { capa_id, .. } => {
                let capa = match capa_id {
                    Some(c) => {
                        let capa = capa_by_id(&mut tx, c.0).await?.ok_or_else(|| field_error("capa_id", NOT_FOUND))?;
                        if !capa.state.is_open() {
                            return Err(field_error("capa_id", WRONG_STATE));
                        }
                        capa.id
                    }
                    None => {
                        let title: String = before.description.chars().take(120).collect();
                        let input = CapaInput {
                            title: format!("{}: {}", before.number, title.lines().next().unwrap_or_default()),
                            kind: CapaKind::Corrective,
                            process_id: before.process_id,
                            problem: before.description.clone(),
                            nc_id: Some(before.id),
                            complaint_id: before.complaint_id,
                            eight_d: false,
                        };
                        insert_capa(&mut tx, ctx, &input, Some(before.reported_on), today).await?.id
                    }
                };
                sqlx::query(&format!("update ncs set capa_id = $3, {bump} where nc_id = $1"))
                    .bind(id.0)
                    .bind(now)
                    .bind(capa.0)
                    .execute(&mut *tx)
                    .await?;
            }
            NcStep::Close { .. } => {
                sqlx::query(&format!("update ncs set state = 'closed', closed_on = $3, {bump} where nc_id = $1"))
                    .bind(id.0)
                    .bind(now)
                    .bind(today)
                    .execute(&mut *tx)
                    .await?;
            }
            NcStep::Cancel { reason: r, .. } => {
                sqlx::query(&format!(
                    "update ncs set state = 'cancelled', retired_at = $2, retired_reason = $3, {bump} where nc_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(r.trim())
                .execute(&mut *tx)
                .await?;
                reason = Some(r.trim());
                action = AuditAction::Retire;
            }
        }
        let after = nc_by_id(&mut tx, id.0).await?.ok_or_else(|| StoreError::unreadable("nc", id.0))?;
        audit_change(&mut tx, ctx, action, id.0, Some(&before), &after, reason).await?;
        tx.commit().await?;
        Ok(Change::Done(after))
    }

    async fn nc_pareto(&self, by: ParetoBy, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<ParetoBar>> {
        // From the per-day counts the database keeps with every change of an NC (see the
        // migration): a year is a few thousand rows whatever the number of NCs.
        let sql = match by {
            ParetoBy::Category => {
                "select g.id, c.name as label, g.count, g.quantity, g.cost from (select category_id as id, \
                 cast(sum(count) as bigint) as count, cast(sum(quantity) as bigint) as quantity, \
                 cast(sum(cost) as bigint) as cost from nc_day_counts where day >= $1 and day <= $2 \
                 group by category_id having sum(count) > 0) g join nc_categories c on c.category_id = g.id"
            }
            ParetoBy::Process => {
                "select nullif(g.id, 0) as id, coalesce(p.name, 'No process') as label, g.count, g.quantity, \
                 g.cost from (select process_key as id, cast(sum(count) as bigint) as count, \
                 cast(sum(quantity) as bigint) as quantity, cast(sum(cost) as bigint) as cost from nc_day_counts \
                 where day >= $1 and day <= $2 group by process_key having sum(count) > 0) g \
                 left join processes p on p.process_id = g.id"
            }
        };
        let rows: Vec<(Option<i64>, String, i64, i64, i64)> =
            sqlx::query_as(sql).bind(from).bind(to).fetch_all(&self.pool).await?;
        Ok(pareto(
            rows.into_iter()
                .map(|(id, label, count, quantity, cost)| ParetoBar {
                    id,
                    label,
                    count: u64::try_from(count).unwrap_or(0),
                    quantity: u64::try_from(quantity).unwrap_or(0),
                    cost,
                    cumulative_percent: 0.0,
                })
                .collect(),
        ))
    }

    async fn overdue_ncs(&self, before: NaiveDate, limit: i64) -> StoreResult<(usize, Vec<Nc>)> {
        let (count,): (i64,) = sqlx::query_as("select count(*) from ncs where state = 'open' and reported_on < $1")
            .bind(before)
            .fetch_one(&self.pool)
            .await?;
        let sql = format!(
            "{NC_SELECT} where n.state = 'open' and n.reported_on < $1 order by n.reported_on, n.nc_id limit $2"
        );
        let rows: Vec<NcRow> = sqlx::query_as(&sql).bind(before).bind(limit).fetch_all(&self.pool).await?;
        Ok((usize::try_from(count).unwrap_or(0), rows.into_iter().map(Nc::try_from).collect::<StoreResult<_>>()?))
    }

    async fn nc_costs(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<(NaiveDate, [i64; 4])>> {
        let rows: Vec<(NaiveDate, i64, i64, i64, i64)> = sqlx::query_as(
            "select reported_on, cast(sum(cost_scrap) as bigint), cast(sum(cost_rework) as bigint), \
             cast(sum(cost_warranty) as bigint), cast(sum(cost_returns) as bigint) from ncs \
             where reported_on >= $1 and reported_on <= $2 and state <> 'cancelled' group by reported_on",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(d, a, b, c, e)| (d, [a, b, c, e])).collect())
    }

    async fn create_complaint(
        &self,
        ctx: &AuditContext,
        logger: UserId,
        input: &ComplaintInput,
    ) -> StoreResult<Complaint> {
        input.validate(Utc::now().date_naive()).map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let logger_name = active_reference(&mut tx, USERS, "logged_by", logger.0).await?;
        let number = next_number(&mut tx, Numbered::Complaint).await?;
        let now = Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "insert into complaints (number, customer, product, lot, received_on, channel, description, \
             logged_by_id, logged_by, state, version, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', 1, $10, $10) returning complaint_id",
        )
        .bind(&number)
        .bind(&input.customer)
        .bind(&input.product)
        .bind(&input.lot)
        .bind(input.received_on)
        .bind(input.channel.as_str())
        .bind(&input.description)
        .bind(logger.0)
        .bind(&logger_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let c = complaint_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("complaint", id))?;
        audit_change(&mut tx, ctx, AuditAction::Create, id, None, &c, None).await?;
        tx.commit().await?;
        Ok(c)
    }

    async fn get_complaint(&self, id: ComplaintId) -> StoreResult<Option<Complaint>> {
        let mut conn = self.pool.acquire().await?;
        complaint_by_id(&mut conn, id.0).await
    }

    async fn list_complaints(&self, open_only: bool) -> StoreResult<Vec<Complaint>> {
        let sql = format!(
            "{COMPLAINT_SELECT} where (not $1 or state in ('received', 'investigating', 'responded')) \
             order by complaint_id desc limit 500"
        );
        let rows: Vec<ComplaintRow> = sqlx::query_as(&sql).bind(open_only).fetch_all(&self.pool).await?;
        let mut list = rows.into_iter().map(Complaint::try_from).collect::<StoreResult<Vec<_>>>()?;
        let Some(oldest) = list.last().map(|c| c.id.0) else { return Ok(list) };
        let ncs: Vec<(i64, i64, String)> =
            sqlx::query_as("select complaint_id, nc_id, number from ncs where complaint_id >= $1 order by nc_id")
                .bind(oldest)
                .fetch_all(&self.pool)
                .await?;
        let capas: Vec<(i64, i64, String)> = sqlx::query_as(
            "select complaint_id, capa_id, number from capas where complaint_id >= $1 \
             union select n.complaint_id, k.capa_id, k.number from ncs n join capas k on k.capa_id = n.capa_id \
             where n.complaint_id >= $1",
        )
        .bind(oldest)
        .fetch_all(&self.pool)
        .await?;
        for c in &mut list {
            c.ncs = ncs
                .iter()
                .filter(|(cid, ..)| *cid == c.id.0)
                .map(|(_, id, n)| LinkRef { id: *id, number: n.clone() })
                .collect();
            c.capas = capas
                .iter()
                .filter(|(cid, ..)| *cid == c.id.0)
                .map(|(_, id, n)| LinkRef { id: *id, number: n.clone() })
                .collect();
            c.capas.sort_by_key(|l| l.id);
        }
        Ok(list)
    }

    async fn complaint_step(
        &self,
        ctx: &AuditContext,
        id: ComplaintId,
        step: &ComplaintStep,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Complaint>> {
        let mut tx = self.write_tx().await?;
        let Some(before) = complaint_by_id(&mut tx, id.0).await? else { return Ok(Change::NotFound) };
        if before.meta.version != step.version() {
            return Ok(Change::Stale(before));
        }
        step.check(&before, actor.manager, today).map_err(StoreError::Invalid)?;
        if !claim(&mut tx, ("complaints", "complaint_id"), id.0, before.meta.version).await? {
            return Ok(complaint_by_id(&mut tx, id.0).await?.map_or(Change::NotFound, Change::Stale));
        }
        let now = Utc::now();
        let bump = "updated_at = $2";
        let mut reason = None;
        let mut action = AuditAction::Update;
        match step {
            ComplaintStep::Investigate { findings, .. } => {
                sqlx::query(&format!(
                    "update complaints set investigation = $3, \
                     state = case when state = 'received' then 'investigating' else state end, {bump} \
                     where complaint_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(findings.trim())
                .execute(&mut *tx)
                .await?;
            }
            ComplaintStep::Reportability { reportable, reason: r, .. } => {
                sqlx::query(&format!(
                    "update complaints set reportable = $3, reportable_reason = $4, {bump} where complaint_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(i64::from(*reportable))
                .bind(r.trim())
                .execute(&mut *tx)
                .await?;
            }
            ComplaintStep::LinkNc { nc_id, .. } => {
                let nc_before = nc_by_id(&mut tx, nc_id.0).await?.ok_or_else(|| field_error("nc_id", NOT_FOUND))?;
                if nc_before.complaint_id.is_some_and(|c| c != id) {
                    return Err(field_error("nc_id", TAKEN));
                }
                sqlx::query(
                    "update ncs set complaint_id = $2, version = version + 1, updated_at = $3 where nc_id = $1",
                )
                .bind(nc_id.0)
                .bind(id.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let nc_after =
                    nc_by_id(&mut tx, nc_id.0).await?.ok_or_else(|| StoreError::unreadable("nc", nc_id.0))?;
                audit_change(&mut tx, ctx, AuditAction::Update, nc_id.0, Some(&nc_before), &nc_after, None).await?;
                sqlx::query(&format!("update complaints set {bump} where complaint_id = $1"))
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            ComplaintStep::Respond { response, responded_on, .. } => {
                sqlx::query(&format!(
                    "update complaints set response = $3, responded_on = $4, state = 'responded', {bump} \
                     where complaint_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(response.trim())
                .bind(responded_on)
                .execute(&mut *tx)
                .await?;
            }
            ComplaintStep::Close { .. } => {
                sqlx::query(&format!(
                    "update complaints set state = 'closed', closed_on = $3, {bump} where complaint_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(today)
                .execute(&mut *tx)
                .await?;
            }
            ComplaintStep::Cancel { reason: r, .. } => {
                sqlx::query(&format!(
                    "update complaints set state = 'cancelled', retired_at = $2, retired_reason = $3, {bump} \
                     where complaint_id = $1"
                ))
                .bind(id.0)
                .bind(now)
                .bind(r.trim())
                .execute(&mut *tx)
                .await?;
                reason = Some(r.trim());
                action = AuditAction::Retire;
            }
        }
        let after = complaint_by_id(&mut tx, id.0).await?.ok_or_else(|| StoreError::unreadable("complaint", id.0))?;
        audit_change(&mut tx, ctx, action, id.0, Some(&before), &after, reason).await?;
        tx.commit().await?;
        Ok(Change::Done(after))
    }

    async fn complaint_days(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<NaiveDate>> {
        let rows: Vec<(NaiveDate,)> = sqlx::query_as(
            "select received_on from complaints where received_on >= $1 and received_on <= $2 \
             and state <> 'cancelled'",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(d,)| d).collect())
    }

    async fn count_labelled(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "select (select count(*) from ncs where state = 'closed' and root_cause is not null) + \
             (select count(*) from capas where state = 'closed' and root_cause is not null)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    async fn import_quality_history(
        &self,
        ctx: &AuditContext,
        rows: &[HistoricQuality],
    ) -> StoreResult<(usize, usize)> {
        let mut tx = self.write_tx().await?;
        let nc_count = rows.iter().filter(|r| !r.capa).count();
        let mut nc_numbers = next_numbers(&mut tx, Numbered::Nc, nc_count).await?.into_iter();
        let mut capa_numbers = next_numbers(&mut tx, Numbered::Capa, rows.len() - nc_count).await?.into_iter();
        let names: Vec<(i64, String)> =
            sqlx::query_as("select user_id, full_name from users").fetch_all(&mut *tx).await?;
        let name_of = |u: UserId| names.iter().find(|(id, _)| *id == u.0).map(|(_, n)| n.clone()).unwrap_or_default();
        let now = Utc::now();
        let reason = Some("Imported quality history");
        for r in rows {
            let (record_type, id, after) = if r.capa {
                let number = capa_numbers.next().unwrap_or_default();
                let investigation = Investigation {
                    problem: r.text.clone(),
                    causes: vec![shared::quality::Cause {
                        category: r.root_cause,
                        text: r.title.clone(),
                        confirmed: true,
                        evidence: "Recorded before Caliper".into(),
                    }],
                    ..Investigation::default()
                };
                let check = vec![EffectivenessCheck {
                    result: shared::quality::EffectivenessResult::Effective,
                    note: "Recorded before Caliper".into(),
                    by: name_of(r.verifier.unwrap_or(r.person)),
                    on: r.closed_on,
                }];
                let due = r.opened_on.checked_add_days(chrono::Days::new(30));
                let (id,): (i64,) = sqlx::query_as(
                    "insert into capas (number, title, kind, state, process_id, owner_id, verifier_id, severity, \
                     likelihood, due_on, original_due_on, investigation, effectiveness, root_cause, investigated, \
                     found_on, opened_on, closed_on, version, created_at, updated_at) \
                     values ($1, $2, 'corrective', 'closed', $3, $4, $5, 3, 3, $6, $6, $7, $8, $9, 1, $10, $13, \
                     $11, 1, \
                     $12, $12) returning capa_id",
                )
                .bind(&number)
                .bind(&r.title)
                .bind(r.process.map(|p| p.0))
                .bind(r.person.0)
                .bind(r.verifier.map(|v| v.0))
                .bind(due)
                .bind(serde_json::to_string(&investigation).unwrap_or_default())
                .bind(serde_json::to_string(&check).unwrap_or_default())
                .bind(r.root_cause.as_str())
                .bind(r.found_on)
                .bind(r.closed_on)
                .bind(now)
                .bind(r.opened_on)
                .fetch_one(&mut *tx)
                .await?;
                let after = serde_json::json!({"number": number, "title": r.title, "state": "closed",
                    "root_cause": r.root_cause, "opened_on": r.opened_on, "closed_on": r.closed_on});
                ("capa", id, after)
            } else {
                let number = nc_numbers.next().unwrap_or_default();
                let (id,): (i64,) = sqlx::query_as(
                    "insert into ncs (number, source, category_id, process_id, product, lot, quantity, description, \
                     containment, reported_on, reported_by, reported_by_name, cost_scrap, cost_rework, cost_warranty, \
                     cost_returns, disposition, dispositioned_by, capa_needed, evaluation_rationale, root_cause, \
                     evaluated_by, evaluated_on, state, closed_on, version, created_at, updated_at) \
                     values ($1, $2, $3, $4, '', '', $5, $6, '', $7, $8, $9, $10, $11, $12, $13, $14, $9, 0, \
                     'Recorded before Caliper', $15, $9, $16, 'closed', $16, 1, $17, $17) returning nc_id",
                )
                .bind(&number)
                .bind(r.source.as_str())
                .bind(r.category.0)
                .bind(r.process.map(|p| p.0))
                .bind(i64::from(r.quantity))
                .bind(&r.text)
                .bind(r.found_on)
                .bind(r.person.0)
                .bind(name_of(r.person))
                .bind(r.costs.scrap)
                .bind(r.costs.rework)
                .bind(r.costs.warranty)
                .bind(r.costs.returns)
                .bind(if r.costs.scrap > 0 { "scrap" } else { "rework" })
                .bind(r.root_cause.as_str())
                .bind(r.closed_on)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| crate::storage::common::constraint_error(e, "category_id"))?;
                let after = serde_json::json!({"number": number, "description": r.text, "state": "closed",
                    "root_cause": r.root_cause, "reported_on": r.found_on, "closed_on": r.closed_on});
                ("nc", id, after)
            };
            let draft = crate::storage::common::Draft {
                action: AuditAction::Create,
                record_type,
                record_id: id,
                record_version: 1,
                changes: shared::audit::diff(&serde_json::Value::Null, &after),
                reason,
            };
            append_audit(&mut tx, ctx, draft).await?;
        }
        tx.commit().await?;
        Ok((nc_count, rows.len() - nc_count))
    }

    async fn labelled_history(&self) -> StoreResult<Vec<(String, String, CauseCategory)>> {
        let ncs: Vec<(String, String, String)> = sqlx::query_as(
            "select number, description, root_cause from ncs where state = 'closed' and root_cause is not null",
        )
        .fetch_all(&self.pool)
        .await?;
        let capas: Vec<(String, String, String, String)> = sqlx::query_as(
            "select number, title, investigation, root_cause from capas where state = 'closed' and root_cause \
             is not null",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ncs.len() + capas.len());
        for (number, text, root) in ncs {
            if let Some(c) = CauseCategory::parse(&root) {
                out.push((number, text, c));
            }
        }
        for (number, title, inv, root) in capas {
            let Some(c) = CauseCategory::parse(&root) else { continue };
            let inv: Investigation = serde_json::from_str(&inv).unwrap_or_default();
            out.push((number, format!("{title}. {}", inv.problem), c));
        }
        Ok(out)
    }
}

/// The next `n` numbers of a kind, in one upsert (an import).
async fn next_numbers(conn: &mut Conn, kind: Numbered, n: usize) -> StoreResult<Vec<String>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let (last,): (i64,) = sqlx::query_as(
        "insert into quality_sequences (kind, last_value) values ($1, $2) \
         on conflict (kind) do update set last_value = quality_sequences.last_value + $2 returning last_value",
    )
    .bind(kind.as_str())
    .bind(n as i64)
    .fetch_one(&mut *conn)
    .await?;
    Ok((last - n as i64 + 1..=last).map(|v| kind.number(u32::try_from(v).unwrap_or(u32::MAX))).collect())
}
