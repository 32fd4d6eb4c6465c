//! CAPAs: the queries of [`crate::storage::quality::CapaStore`], compiled once per backend (see
//! [`crate::storage`]): each change reads the CAPA at the version the client saw, checks it with
//! [`shared::quality`]'s state machine and rules (the gate reads the linked work in the same
//! transaction), writes what moved, and audits the CAPA before and after.

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use shared::audit::AuditAction;
use shared::auth::UserId;
use shared::org::ProcessId;
use shared::quality::capa::{ActionId, ExtensionId, NOT_OWNER};
use shared::quality::{
    Action, ActionInput, Capa, CapaFacts, CapaFilter, CapaId, CapaInput, CapaState, CapaStep, CapaSummary, CapaUpdate,
    CauseCategory, EffectivenessCheck, Extension, ExtensionDecision, ExtensionInput, ExtensionState, Investigation,
    LinkKind, Numbered, OpenWork,
};
use shared::validation::NOT_FOUND;

use super::quality::{audit_change, check_process, check_user, complaint_by_id, nc_by_id, next_number, state_error};
use super::{Conn, SqlStore, WriteTx};
use crate::storage::common::field_error;
use crate::storage::quality::{
    ACTIONS_SQL, ActionRow, CAPA_SELECT, CapaRow, CapaStore, EXTENSIONS_SQL, ExtensionRow, QualityActor,
    SUMMARY_SELECT, SummaryRow, bad, open_work_message,
};
use crate::storage::{AuditContext, Change, StoreError, StoreResult};

async fn actions_of(conn: &mut Conn, capa: i64) -> StoreResult<Vec<Action>> {
    let rows: Vec<ActionRow> = sqlx::query_as(ACTIONS_SQL).bind(capa).fetch_all(conn).await?;
    rows.into_iter().map(Action::try_from).collect()
}

async fn extensions_of(conn: &mut Conn, capa: i64) -> StoreResult<Vec<Extension>> {
    let rows: Vec<ExtensionRow> = sqlx::query_as(EXTENSIONS_SQL).bind(capa).fetch_all(conn).await?;
    rows.into_iter().map(Extension::try_from).collect()
}

pub(super) async fn capa_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Capa>> {
    let sql = format!("{CAPA_SELECT} where k.capa_id = $1");
    let row: Option<CapaRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let mut capa = Capa::try_from(row)?;
    capa.actions = actions_of(&mut *conn, id).await?;
    capa.extensions = extensions_of(conn, id).await?;
    Ok(Some(capa))
}

/// What the plan's approval signs: the plan's version and content (problem, whys, causes,
/// actions), not the CAPA's state.
pub(super) async fn capa_plan_json(conn: &mut Conn, id: i64) -> StoreResult<Option<(i64, serde_json::Value)>> {
    Ok(capa_by_id(conn, id).await?.map(|c| (c.plan_version, shared::signature::content::capa_plan(&c))))
}

/// Approves a CAPA's plan as part of the quality manager's signature: the plan must wait for
/// approval; the CAPA moves to implementation in the signature's transaction.
pub(super) async fn approve_capa_plan(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    id: i64,
    signer: UserId,
) -> StoreResult<()> {
    let before = capa_by_id(tx, id).await?.ok_or_else(|| StoreError::NotFound("No such CAPA.".into()))?;
    let actor = before.actor(signer, true);
    let to = shared::quality::capa::next(before.state, shared::quality::capa::Move::ApprovePlan, actor)
        .map_err(|e| StoreError::Invalid(e.errors()))?;
    let mut after = before.clone();
    after.state = to;
    if !write_capa(tx, &before, &after, false).await? {
        return Err(StoreError::Conflict("The CAPA changed while it was being signed; try again.".into()));
    }
    let after = capa_by_id(tx, id).await?.ok_or_else(|| StoreError::unreadable("capa", id))?;
    audit_change(tx, ctx, AuditAction::Update, id, Some(&before), &after, Some("action plan approved by signature"))
        .await
}

/// Writes what a step or a change may move if the CAPA is still at `before`'s version, bumping
/// the version, and the plan's version when `plan_changed`; `false` when someone else changed it
/// first (PostgreSQL lets two transactions read the same version; the second write finds it gone).
async fn write_capa(conn: &mut Conn, before: &Capa, after: &Capa, plan_changed: bool) -> StoreResult<bool> {
    let now = Utc::now();
    let cancelled = after.state == CapaState::Cancelled && before.state != CapaState::Cancelled;
    let effectiveness = serde_json::to_string(&after.effectiveness).unwrap_or_else(|_| "[]".into());
    let investigation = serde_json::to_string(&after.investigation).unwrap_or_else(|_| "{}".into());
    let root_cause = after.investigation.root_cause_category().map(CauseCategory::as_str);
    let done = sqlx::query(
        "update capas set state = $3, title = $4, process_id = $5, owner_id = $6, verifier_id = $7, severity = $8, \
         likelihood = $9, due_on = $10, original_due_on = $11, effectiveness_due_on = $12, investigation = $13, \
         effectiveness = $14, reopen_count = $15, eight_d = $16, root_cause = $17, \
         investigated = case when $3 = 'investigation' then 1 else investigated end, verification = $18, \
         closed_on = $19, plan_version = plan_version + $20, version = version + 1, updated_at = $21, \
         retired_at = case when $22 then $21 else retired_at end, retired_reason = coalesce($23, retired_reason) \
         where capa_id = $1 and version = $2",
    )
    .bind(before.id.0)
    .bind(before.meta.version)
    .bind(after.state.as_str())
    .bind(&after.title)
    .bind(after.process_id.map(|p| p.0))
    .bind(after.owner_id.map(|u| u.0))
    .bind(after.verifier_id.map(|u| u.0))
    .bind(after.severity.map(i64::from))
    .bind(after.likelihood.map(i64::from))
    .bind(after.due_on)
    .bind(after.original_due_on)
    .bind(after.effectiveness_due_on)
    .bind(investigation)
    .bind(effectiveness)
    .bind(i64::from(after.reopen_count))
    .bind(i64::from(after.eight_d))
    .bind(root_cause)
    .bind(&after.verification)
    .bind(after.closed_on)
    .bind(i64::from(plan_changed))
    .bind(now)
    .bind(cancelled)
    .bind(after.meta.retired_reason.as_deref().filter(|_| cancelled))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// The answer when another change got there first: the CAPA as it is now (this transaction is
/// dropped, so nothing it wrote stays).
async fn stale_capa(mut tx: WriteTx, id: CapaId) -> StoreResult<Change<Capa>> {
    Ok(capa_by_id(&mut tx, id.0).await?.map_or(Change::NotFound, Change::Stale))
}

/// Inserts a CAPA in draft (in the caller's transaction) and returns it.
pub(super) async fn insert_capa(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    input: &CapaInput,
    found_on: Option<NaiveDate>,
    today: NaiveDate,
) -> StoreResult<Capa> {
    check_process(tx, input.process_id).await?;
    if let Some(nc) = input.nc_id
        && nc_by_id(tx, nc.0).await?.is_none()
    {
        return Err(field_error("nc_id", NOT_FOUND));
    }
    if let Some(c) = input.complaint_id
        && complaint_by_id(tx, c.0).await?.is_none()
    {
        return Err(field_error("complaint_id", NOT_FOUND));
    }
    let number = next_number(tx, Numbered::Capa).await?;
    let investigation = Investigation { problem: input.problem.trim().to_string(), ..Investigation::default() };
    let now = Utc::now();
    let (id,): (i64,) = sqlx::query_as(
        "insert into capas (number, title, kind, state, nc_id, complaint_id, process_id, investigation, eight_d, \
         found_on, opened_on, version, created_at, updated_at) \
         values ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) returning capa_id",
    )
    .bind(&number)
    .bind(input.title.trim())
    .bind(input.kind.as_str())
    .bind(input.nc_id.map(|n| n.0))
    .bind(input.complaint_id.map(|c| c.0))
    .bind(input.process_id.map(|p| p.0))
    .bind(serde_json::to_string(&investigation).unwrap_or_default())
    .bind(i64::from(input.eight_d))
    .bind(found_on)
    .bind(today)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let capa = capa_by_id(tx, id).await?.ok_or_else(|| StoreError::unreadable("capa", id))?;
    audit_change(tx, ctx, AuditAction::Create, id, None, &capa, None).await?;
    Ok(capa)
}

/// Reads a CAPA for a change at `version`: `Err(change)` to return at once when it is missing or
/// stale.
async fn capa_for_change(conn: &mut Conn, id: CapaId, version: i64) -> StoreResult<Result<Capa, Change<Capa>>> {
    Ok(match capa_by_id(conn, id.0).await? {
        None => Err(Change::NotFound),
        Some(c) if c.meta.version != version => Err(Change::Stale(c)),
        Some(c) => Ok(c),
    })
}

/// After a CAPA write: read it back, audit it, commit.
async fn finish_capa(
    mut tx: WriteTx,
    ctx: &AuditContext,
    before: &Capa,
    action: AuditAction,
    reason: Option<&str>,
) -> StoreResult<Change<Capa>> {
    let id = before.id.0;
    let after = capa_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("capa", id))?;
    audit_change(&mut tx, ctx, action, id, Some(before), &after, reason).await?;
    tx.commit().await?;
    Ok(Change::Done(after))
}

#[async_trait]
impl CapaStore for SqlStore {
    async fn create_capa(&self, ctx: &AuditContext, input: &CapaInput, today: NaiveDate) -> StoreResult<Capa> {
        input.validate().map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let found_on = match input.nc_id {
            Some(nc) => nc_by_id(&mut tx, nc.0).await?.map(|n| n.reported_on),
            None => match input.complaint_id {
                Some(c) => complaint_by_id(&mut tx, c.0).await?.map(|c| c.received_on),
                None => None,
            },
        };
        let capa = insert_capa(&mut tx, ctx, input, found_on, today).await?;
        if let Some(nc) = input.nc_id {
            // The NC points back at its CAPA when it has none yet.
            let nc_before = nc_by_id(&mut tx, nc.0).await?.ok_or_else(|| field_error("nc_id", NOT_FOUND))?;
            if nc_before.capa_id.is_none() {
                sqlx::query("update ncs set capa_id = $2, version = version + 1, updated_at = $3 where nc_id = $1")
                    .bind(nc.0)
                    .bind(capa.id.0)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?;
                let nc_after = nc_by_id(&mut tx, nc.0).await?.ok_or_else(|| StoreError::unreadable("nc", nc.0))?;
                audit_change(&mut tx, ctx, AuditAction::Update, nc.0, Some(&nc_before), &nc_after, None).await?;
            }
        }
        tx.commit().await?;
        Ok(capa)
    }

    async fn get_capa(&self, id: CapaId) -> StoreResult<Option<Capa>> {
        let mut conn = self.pool.acquire().await?;
        capa_by_id(&mut conn, id.0).await
    }

    async fn list_capas(&self, f: &CapaFilter) -> StoreResult<Vec<CapaSummary>> {
        let sql = format!(
            "{SUMMARY_SELECT} where ($1 is null or k.state = $1) \
             and (not $2 or k.state not in ('closed', 'cancelled')) \
             and ($3 is null or k.owner_id = $3 or k.verifier_id = $3) and ($4 is null or k.process_id = $4) \
             order by k.capa_id desc limit 1000"
        );
        let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
            .bind(f.state.map(CapaState::as_str))
            .bind(f.open)
            .bind(f.owner_id)
            .bind(f.process_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(CapaSummary::try_from).collect()
    }

    async fn update_capa(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        update: &CapaUpdate,
        actor: QualityActor,
    ) -> StoreResult<Change<Capa>> {
        let mut tx = self.write_tx().await?;
        let before = match capa_for_change(&mut tx, id, update.version).await? {
            Ok(c) => c,
            Err(change) => return Ok(change),
        };
        update.check(&before, before.actor(actor.user, actor.manager)).map_err(StoreError::Invalid)?;
        check_process(&mut tx, update.process_id).await?;
        let mut after = before.clone();
        after.title = update.title.clone();
        after.process_id = update.process_id;
        after.investigation = update.investigation.clone();
        after.eight_d = update.eight_d;
        let (a, b) = (&after.investigation, &before.investigation);
        let plan_changed =
            a.problem != b.problem || a.whys != b.whys || a.causes != b.causes || after.title != before.title;
        if !write_capa(&mut tx, &before, &after, plan_changed).await? {
            return stale_capa(tx, id).await;
        }
        finish_capa(tx, ctx, &before, AuditAction::Update, None).await
    }

    async fn capa_step(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        step: &CapaStep,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>> {
        let mut tx = self.write_tx().await?;
        let before = match capa_for_change(&mut tx, id, step.version()).await? {
            Ok(c) => c,
            Err(change) => return Ok(change),
        };
        let open = OpenWork::of(&before.actions);
        let to = step.check(&before, before.actor(actor.user, actor.manager), &open, today).map_err(|e| {
            if e.get("actions").is_some() && !open.is_empty() {
                StoreError::InUse(open_work_message(&open))
            } else {
                StoreError::Invalid(e)
            }
        })?;
        if let CapaStep::Triage { owner_id, verifier_id, .. } | CapaStep::Assign { owner_id, verifier_id, .. } = step {
            check_user(&mut tx, "owner_id", *owner_id).await?;
            check_user(&mut tx, "verifier_id", *verifier_id).await?;
        }
        let mut after = before.clone();
        step.apply(&mut after, to, &ctx.actor_name, today);
        if let CapaStep::Cancel { reason, .. } = step {
            after.meta.retired_reason = Some(reason.trim().to_string());
        }
        if !write_capa(&mut tx, &before, &after, false).await? {
            return stale_capa(tx, id).await;
        }
        let action = if matches!(step, CapaStep::Cancel { .. }) { AuditAction::Retire } else { AuditAction::Update };
        finish_capa(tx, ctx, &before, action, step.reason().map(str::trim)).await
    }

    async fn add_action(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        input: &ActionInput,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>> {
        input.validate(today).map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let before = match capa_for_change(&mut tx, id, input.version).await? {
            Ok(c) => c,
            Err(change) => return Ok(change),
        };
        if !before.state.investigating() {
            return Err(state_error());
        }
        let who = before.actor(actor.user, actor.manager);
        if !(who.owner || who.manager) {
            return Err(field_error("step", NOT_OWNER));
        }
        check_user(&mut tx, "owner_id", input.owner_id).await?;
        let link = input.link_id.unwrap_or_default();
        let exists: Option<(i64,)> = match input.kind {
            LinkKind::Task => Some((0,)),
            LinkKind::DocumentRevision => {
                sqlx::query_as(
                    "select revision_id from document_revisions where revision_id = $1 and status <> 'cancelled'",
                )
                .bind(link)
                .fetch_optional(&mut *tx)
                .await?
            }
            LinkKind::TrainingAssignment => {
                sqlx::query_as("select assignment_id from training_assignments where assignment_id = $1")
                    .bind(link)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            LinkKind::FmeaRow => {
                sqlx::query_as("select row_id from fmea_rows where row_id = $1")
                    .bind(link)
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        if exists.is_none() {
            return Err(field_error("link_id", NOT_FOUND));
        }
        let pick = |k: LinkKind| (input.kind == k).then_some(link);
        sqlx::query(
            "insert into capa_actions (capa_id, title, kind, document_revision_id, training_assignment_id, \
             fmea_row_id, owner_id, due_on, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.0)
        .bind(input.title.trim())
        .bind(input.kind.as_str())
        .bind(pick(LinkKind::DocumentRevision))
        .bind(pick(LinkKind::TrainingAssignment))
        .bind(pick(LinkKind::FmeaRow))
        .bind(input.owner_id.map(|u| u.0))
        .bind(input.due_on)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        if !write_capa(&mut tx, &before, &before, true).await? {
            return stale_capa(tx, id).await;
        }
        finish_capa(tx, ctx, &before, AuditAction::Update, None).await
    }

    async fn complete_action(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        action: ActionId,
        version: i64,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>> {
        let mut tx = self.write_tx().await?;
        let before = match capa_for_change(&mut tx, id, version).await? {
            Ok(c) => c,
            Err(change) => return Ok(change),
        };
        let Some(a) = before.actions.iter().find(|a| a.id == action) else {
            return Err(StoreError::NotFound("No such action in this CAPA's plan.".into()));
        };
        if before.state != CapaState::Implementation || a.kind != LinkKind::Task || a.done_on.is_some() {
            return Err(state_error());
        }
        let who = before.actor(actor.user, actor.manager);
        if !(who.owner || who.manager || a.owner_id == actor.user) {
            return Err(field_error("step", NOT_OWNER));
        }
        sqlx::query("update capa_actions set done_on = $2 where action_id = $1")
            .bind(action.0)
            .bind(today)
            .execute(&mut *tx)
            .await?;
        if !write_capa(&mut tx, &before, &before, false).await? {
            return stale_capa(tx, id).await;
        }
        finish_capa(tx, ctx, &before, AuditAction::Update, None).await
    }

    async fn retire_action(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        action: ActionId,
        version: i64,
        reason: &str,
        actor: QualityActor,
    ) -> StoreResult<Change<Capa>> {
        let mut e = shared::FieldErrors::new();
        shared::quality::check_reason(&mut e, "reason", reason);
        e.into_result().map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let before = match capa_for_change(&mut tx, id, version).await? {
            Ok(c) => c,
            Err(change) => return Ok(change),
        };
        if !before.actions.iter().any(|a| a.id == action) {
            return Err(StoreError::NotFound("No such action in this CAPA's plan.".into()));
        }
        if !before.state.investigating() {
            return Err(state_error());
        }
        let who = before.actor(actor.user, actor.manager);
        if !(who.owner || who.manager) {
            return Err(field_error("step", NOT_OWNER));
        }
        sqlx::query("update capa_actions set retired_at = $2, retired_reason = $3 where action_id = $1")
            .bind(action.0)
            .bind(Utc::now())
            .bind(reason.trim())
            .execute(&mut *tx)
            .await?;
        if !write_capa(&mut tx, &before, &before, true).await? {
            return stale_capa(tx, id).await;
        }
        finish_capa(tx, ctx, &before, AuditAction::Update, Some(reason.trim())).await
    }

    async fn request_extension(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        input: &ExtensionInput,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>> {
        let mut tx = self.write_tx().await?;
        let before = match capa_for_change(&mut tx, id, input.version).await? {
            Ok(c) => c,
            Err(change) => return Ok(change),
        };
        input.check(&before, before.actor(actor.user, actor.manager)).map_err(StoreError::Invalid)?;
        sqlx::query(
            "insert into capa_extensions (capa_id, previous_due_on, requested_due_on, reason, requested_by, \
             requested_on, state, created_at) values ($1, $2, $3, $4, $5, $6, 'pending', $7)",
        )
        .bind(id.0)
        .bind(before.due_on)
        .bind(input.due_on)
        .bind(input.reason.trim())
        .bind(&ctx.actor_name)
        .bind(today)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        if !write_capa(&mut tx, &before, &before, false).await? {
            return stale_capa(tx, id).await;
        }
        finish_capa(tx, ctx, &before, AuditAction::Update, Some(input.reason.trim())).await
    }

    async fn decide_extension(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        extension: ExtensionId,
        decision: &ExtensionDecision,
        actor: QualityActor,
    ) -> StoreResult<Change<Capa>> {
        let mut tx = self.write_tx().await?;
        let before = match capa_for_change(&mut tx, id, decision.version).await? {
            Ok(c) => c,
            Err(change) => return Ok(change),
        };
        let Some(x) = before.extensions.iter().find(|x| x.id == extension) else {
            return Err(StoreError::NotFound("No such extension request on this CAPA.".into()));
        };
        decision.check(&before, x, before.actor(actor.user, actor.manager)).map_err(StoreError::Invalid)?;
        let state = if decision.approve { ExtensionState::Approved } else { ExtensionState::Rejected };
        sqlx::query(
            "update capa_extensions set state = $2, decided_by = $3, decision_reason = $4, decided_at = $5 \
             where extension_id = $1",
        )
        .bind(extension.0)
        .bind(state.as_str())
        .bind(&ctx.actor_name)
        .bind(decision.reason.trim())
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        let mut after = before.clone();
        if decision.approve {
            after.due_on = Some(x.requested_due_on);
        }
        if !write_capa(&mut tx, &before, &after, false).await? {
            return stale_capa(tx, id).await;
        }
        let reason = Some(decision.reason.trim()).filter(|r| !r.is_empty());
        finish_capa(tx, ctx, &before, AuditAction::Update, reason).await
    }

    async fn capa_facts(&self) -> StoreResult<Vec<CapaFacts>> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            Option<i64>,
            String,
            Option<NaiveDate>,
            NaiveDate,
            Option<NaiveDate>,
            Option<NaiveDate>,
            i64,
            Option<String>,
            String,
            i64,
        )> = sqlx::query_as(
            "select process_id, state, found_on, opened_on, closed_on, original_due_on, investigated, root_cause, \
             effectiveness, reopen_count from capas where state <> 'cancelled'",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(process, state, found_on, opened_on, closed_on, due, investigated, root, checks, reopened)| {
                let checks: Vec<EffectivenessCheck> = serde_json::from_str(&checks)
                    .map_err(|e| StoreError::Internal(format!("unreadable effectiveness checks: {e}")))?;
                Ok(CapaFacts {
                    process_id: process.map(ProcessId),
                    state: CapaState::parse(&state).ok_or_else(|| bad("CAPA state", &state))?,
                    found_on,
                    opened_on,
                    closed_on,
                    original_due_on: due,
                    investigated: investigated == 1,
                    root_cause_found: root.is_some(),
                    checks: checks.into_iter().map(|c| (c.on, c.result)).collect(),
                    reopen_count: u32::try_from(reopened).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn overdue_capas(&self, today: NaiveDate, limit: i64) -> StoreResult<(usize, Vec<CapaSummary>)> {
        let (count,): (i64,) =
            sqlx::query_as("select count(*) from capas where state not in ('closed', 'cancelled') and due_on < $1")
                .bind(today)
                .fetch_one(&self.pool)
                .await?;
        let sql = format!(
            "{SUMMARY_SELECT} where k.state not in ('closed', 'cancelled') and k.due_on < $1 \
             order by k.due_on, k.capa_id limit $2"
        );
        let rows: Vec<SummaryRow> = sqlx::query_as(&sql).bind(today).bind(limit).fetch_all(&self.pool).await?;
        Ok((
            usize::try_from(count).unwrap_or(0),
            rows.into_iter().map(CapaSummary::try_from).collect::<StoreResult<_>>()?,
        ))
    }
}
