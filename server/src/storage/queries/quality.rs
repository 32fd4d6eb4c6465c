//! Nonconformance, complaints and CAPA: the queries of [`crate::storage::quality`], compiled once
//! per backend (see [`crate::storage`]). Every step reads the record inside its write
//! transaction, checks it with the rules of [`shared::quality`], writes, and audits the record
//! before and after.

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use shared::audit::AuditAction;
use shared::auth::UserId;
use shared::org::ProcessId;
use shared::quality::capa::{ActionId, CapaKind, ExtensionId, NOT_OWNER};
use shared::quality::{
    Action, ActionInput, Capa, CapaFacts, CapaFilter, CapaId, CapaInput, CapaState, CapaStep, CapaSummary, CapaUpdate,
    Category, CategoryId, CauseCategory, Channel, Complaint, ComplaintId, ComplaintInput, ComplaintState,
    ComplaintStep, Costs, Disposition, EffectivenessCheck, Evaluation, Extension, ExtensionDecision, ExtensionInput,
    ExtensionState, Investigation, LinkKind, LinkRef, Nc, NcFilter, NcId, NcInput, NcSource, NcState, NcStep, Numbered,
    OpenWork, ParetoBar, ParetoBy, RiskRank, WRONG_STATE, pareto,
};
use shared::validation::{NOT_FOUND, TAKEN};

use super::base::{active_reference, append_audit, is_unique_violation};
use super::{Conn, Db, SqlStore, WriteTx};
use crate::storage::common::{Audited, MetaRow, PROCESSES, USERS, field_error};
use crate::storage::quality::{HistoricQuality, QualityActor, QualityStore};
use crate::storage::{AuditContext, Change, StoreError, StoreResult};

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unknown {what} `{value}` in the database"))
}

/// The next number of a kind: an upsert that holds the sequence's row until commit, so
/// concurrent creations queue on it (both databases) and never share a number.
async fn next_number(conn: &mut Conn, kind: Numbered) -> StoreResult<String> {
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

async fn check_process(conn: &mut Conn, id: Option<ProcessId>) -> StoreResult<()> {
    if let Some(p) = id {
        active_reference(conn, PROCESSES, "process_id", p.0).await?;
    }
    Ok(())
}

async fn check_user(conn: &mut Conn, field: &str, id: Option<UserId>) -> StoreResult<()> {
    if let Some(u) = id {
        active_reference(conn, USERS, field, u.0).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Nonconformances

const NC_SELECT: &str = "select n.nc_id, n.number, n.source, n.category_id, c.name as category, n.process_id, \
     p.name as process_name, n.product, n.lot, n.quantity, n.description, n.containment, n.reported_on, \
     n.reported_by, n.reported_by_name, n.cost_scrap, n.cost_rework, n.cost_warranty, n.cost_returns, \
     n.disposition, n.disposition_note, n.dispositioned_by, n.capa_needed, n.evaluation_rationale, n.root_cause, \
     n.evaluated_by, n.evaluated_on, n.capa_id, k.number as capa_number, n.complaint_id, \
     m.number as complaint_number, n.state, n.closed_on, n.version, n.created_at, n.updated_at, n.retired_at, \
     n.retired_reason \
     from ncs n join nc_categories c on c.category_id = n.category_id \
     left join processes p on p.process_id = n.process_id \
     left join capas k on k.capa_id = n.capa_id \
     left join complaints m on m.complaint_id = n.complaint_id";

#[derive(sqlx::FromRow)]
struct NcRow {
    nc_id: i64,
    number: String,
    source: String,
    category_id: i64,
    category: String,
    process_id: Option<i64>,
    process_name: Option<String>,
    product: String,
    lot: String,
    quantity: i64,
    description: String,
    containment: String,
    reported_on: NaiveDate,
    reported_by: i64,
    reported_by_name: String,
    cost_scrap: i64,
    cost_rework: i64,
    cost_warranty: i64,
    cost_returns: i64,
    disposition: Option<String>,
    disposition_note: String,
    dispositioned_by: Option<String>,
    capa_needed: Option<i64>,
    evaluation_rationale: String,
    root_cause: Option<String>,
    evaluated_by: Option<String>,
    evaluated_on: Option<NaiveDate>,
    capa_id: Option<i64>,
    capa_number: Option<String>,
    complaint_id: Option<i64>,
    complaint_number: Option<String>,
    state: String,
    closed_on: Option<NaiveDate>,
    #[sqlx(flatten)]
    meta: MetaRow,
}

impl TryFrom<NcRow> for Nc {
    type Error = StoreError;
    fn try_from(r: NcRow) -> StoreResult<Nc> {
        let root_cause = match r.root_cause.as_deref() {
            None => None,
            Some(c) => Some(CauseCategory::parse(c).ok_or_else(|| bad("root cause", c))?),
        };
        let evaluation = match (r.capa_needed, r.evaluated_by, r.evaluated_on) {
            (Some(needed), Some(by), Some(on)) => {
                Some(Evaluation { capa_needed: needed == 1, rationale: r.evaluation_rationale, root_cause, by, on })
            }
            _ => None,
        };
        Ok(Nc {
            id: NcId(r.nc_id),
            number: r.number,
            source: NcSource::parse(&r.source).ok_or_else(|| bad("NC source", &r.source))?,
            category_id: CategoryId(r.category_id),
            category: r.category,
            process_id: r.process_id.map(ProcessId),
            process_name: r.process_name,
            product: r.product,
            lot: r.lot,
            quantity: u32::try_from(r.quantity).unwrap_or(0),
            description: r.description,
            containment: r.containment,
            reported_on: r.reported_on,
            reported_by: UserId(r.reported_by),
            reported_by_name: r.reported_by_name,
            costs: Costs {
                scrap: r.cost_scrap,
                rework: r.cost_rework,
                warranty: r.cost_warranty,
                returns: r.cost_returns,
            },
            disposition: match r.disposition.as_deref() {
                None => None,
                Some(d) => Some(Disposition::parse(d).ok_or_else(|| bad("disposition", d))?),
            },
            disposition_note: r.disposition_note,
            dispositioned_by: r.dispositioned_by,
            evaluation,
            capa_id: r.capa_id.map(CapaId),
            capa_number: r.capa_number,
            complaint_id: r.complaint_id.map(ComplaintId),
            complaint_number: r.complaint_number,
            state: NcState::parse(&r.state).ok_or_else(|| bad("NC state", &r.state))?,
            closed_on: r.closed_on,
            meta: r.meta.into(),
        })
    }
}

pub(super) async fn nc_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Nc>> {
    let sql = format!("{NC_SELECT} where n.nc_id = $1");
    let row: Option<NcRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    row.map(Nc::try_from).transpose()
}

async fn audit_change<T: serde::Serialize + shared::org::Record>(
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

const COMPLAINT_SELECT: &str = "select complaint_id, number, customer, product, lot, received_on, channel, \
     description, logged_by, investigation, reportable, reportable_reason, response, responded_on, state, closed_on, \
     version, created_at, updated_at, retired_at, retired_reason from complaints";

#[derive(sqlx::FromRow)]
struct ComplaintRow {
    complaint_id: i64,
    number: String,
    customer: String,
    product: String,
    lot: String,
    received_on: NaiveDate,
    channel: String,
    description: String,
    logged_by: String,
    investigation: String,
    reportable: Option<i64>,
    reportable_reason: String,
    response: String,
    responded_on: Option<NaiveDate>,
    state: String,
    closed_on: Option<NaiveDate>,
    #[sqlx(flatten)]
    meta: MetaRow,
}

impl TryFrom<ComplaintRow> for Complaint {
    type Error = StoreError;
    fn try_from(r: ComplaintRow) -> StoreResult<Complaint> {
        Ok(Complaint {
            id: ComplaintId(r.complaint_id),
            number: r.number,
            customer: r.customer,
            product: r.product,
            lot: r.lot,
            received_on: r.received_on,
            channel: Channel::parse(&r.channel).ok_or_else(|| bad("channel", &r.channel))?,
            description: r.description,
            logged_by: r.logged_by,
            investigation: r.investigation,
            reportable: r.reportable.map(|v| v == 1),
            reportable_reason: r.reportable_reason,
            response: r.response,
            responded_on: r.responded_on,
            ncs: Vec::new(),
            capas: Vec::new(),
            state: ComplaintState::parse(&r.state).ok_or_else(|| bad("complaint state", &r.state))?,
            closed_on: r.closed_on,
            meta: r.meta.into(),
        })
    }
}

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

async fn complaint_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Complaint>> {
    let sql = format!("{COMPLAINT_SELECT} where complaint_id = $1");
    let row: Option<ComplaintRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let mut c = Complaint::try_from(row)?;
    complaint_links(conn, &mut c).await?;
    Ok(Some(c))
}

// ---------------------------------------------------------------------------------------------
// CAPAs

const CAPA_SELECT: &str = "select k.capa_id, k.number, k.title, k.kind, k.state, k.nc_id, n.number as nc_number, \
     k.complaint_id, m.number as complaint_number, k.process_id, p.name as process_name, k.owner_id, \
     o.full_name as owner_name, k.verifier_id, v.full_name as verifier_name, k.severity, k.likelihood, k.due_on, \
     k.original_due_on, k.effectiveness_due_on, k.plan_version, k.investigation, k.effectiveness, k.reopen_count, \
     k.eight_d, k.opened_on, k.verification, k.closed_on, k.version, k.created_at, k.updated_at, k.retired_at, \
     k.retired_reason \
     from capas k left join ncs n on n.nc_id = k.nc_id \
     left join complaints m on m.complaint_id = k.complaint_id \
     left join processes p on p.process_id = k.process_id \
     left join users o on o.user_id = k.owner_id \
     left join users v on v.user_id = k.verifier_id";

#[derive(sqlx::FromRow)]
struct CapaRow {
    capa_id: i64,
    number: String,
    title: String,
    kind: String,
    state: String,
    nc_id: Option<i64>,
    nc_number: Option<String>,
    complaint_id: Option<i64>,
    complaint_number: Option<String>,
    process_id: Option<i64>,
    process_name: Option<String>,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    verifier_id: Option<i64>,
    verifier_name: Option<String>,
    severity: Option<i64>,
    likelihood: Option<i64>,
    due_on: Option<NaiveDate>,
    original_due_on: Option<NaiveDate>,
    effectiveness_due_on: Option<NaiveDate>,
    plan_version: i64,
    investigation: String,
    effectiveness: String,
    reopen_count: i64,
    eight_d: i64,
    opened_on: NaiveDate,
    verification: Option<String>,
    closed_on: Option<NaiveDate>,
    #[sqlx(flatten)]
    meta: MetaRow,
}

fn link(id: Option<i64>, number: Option<String>) -> Option<LinkRef> {
    Some(LinkRef { id: id?, number: number.unwrap_or_default() })
}

impl TryFrom<CapaRow> for Capa {
    type Error = StoreError;
    fn try_from(r: CapaRow) -> StoreResult<Capa> {
        let small = |v: Option<i64>| v.and_then(|v| u8::try_from(v).ok());
        let (severity, likelihood) = (small(r.severity), small(r.likelihood));
        let investigation: Investigation = serde_json::from_str(&r.investigation)
            .map_err(|e| StoreError::Internal(format!("unreadable investigation of CAPA {}: {e}", r.capa_id)))?;
        let effectiveness: Vec<EffectivenessCheck> = serde_json::from_str(&r.effectiveness)
            .map_err(|e| StoreError::Internal(format!("unreadable effectiveness of CAPA {}: {e}", r.capa_id)))?;
        Ok(Capa {
            id: CapaId(r.capa_id),
            number: r.number,
            title: r.title,
            kind: CapaKind::parse(&r.kind).ok_or_else(|| bad("CAPA kind", &r.kind))?,
            state: CapaState::parse(&r.state).ok_or_else(|| bad("CAPA state", &r.state))?,
            nc: link(r.nc_id, r.nc_number),
            complaint: link(r.complaint_id, r.complaint_number),
            process_id: r.process_id.map(ProcessId),
            process_name: r.process_name,
            owner_id: r.owner_id.map(UserId),
            owner_name: r.owner_name,
            verifier_id: r.verifier_id.map(UserId),
            verifier_name: r.verifier_name,
            severity,
            likelihood,
            risk: severity.zip(likelihood).map(|(s, l)| RiskRank::of(s, l)),
            due_on: r.due_on,
            original_due_on: r.original_due_on,
            effectiveness_due_on: r.effectiveness_due_on,
            investigation,
            actions: Vec::new(),
            extensions: Vec::new(),
            effectiveness,
            reopen_count: u32::try_from(r.reopen_count).unwrap_or(0),
            eight_d: r.eight_d == 1,
            plan_version: r.plan_version,
            opened_on: r.opened_on,
            verification: r.verification,
            closed_on: r.closed_on,
            meta: r.meta.into(),
        })
    }
}

/// The actions of a plan with where their linked work stands: one query for every kind. A new
/// kind joins with its label and status here and its "done" statuses in [`LinkKind::done`].
const ACTIONS_SQL: &str = "select a.action_id, a.title, a.kind, \
     coalesce(a.document_revision_id, a.training_assignment_id, a.fmea_row_id) as link_id, a.owner_id, \
     u.full_name as owner_name, a.due_on, a.done_on, \
     case a.kind \
       when 'document_revision' then (select d.number || ' rev ' || r.label from document_revisions r \
            join documents d on d.document_id = r.document_id where r.revision_id = a.document_revision_id) \
       when 'training_assignment' then (select t.title || ' (' || tu.full_name || ')' from training_assignments ta \
            join training_requirements t on t.requirement_id = ta.requirement_id \
            join users tu on tu.user_id = ta.user_id where ta.assignment_id = a.training_assignment_id) \
       when 'fmea_row' then (select f.fmea_number || ' row ' || cast(fr.position as text) from fmea_rows fr \
            join fmeas f on f.fmea_id = fr.fmea_id where fr.row_id = a.fmea_row_id) \
       else '' end as link_label, \
     case a.kind \
       when 'document_revision' then (select r.status from document_revisions r \
            where r.revision_id = a.document_revision_id) \
       when 'training_assignment' then (select ta.state from training_assignments ta \
            where ta.assignment_id = a.training_assignment_id) \
       when 'fmea_row' then (select fr.action_status from fmea_rows fr where fr.row_id = a.fmea_row_id) \
       else case when a.done_on is null then 'open' else 'done' end end as link_status \
     from capa_actions a join users u on u.user_id = a.owner_id \
     where a.capa_id = $1 and a.retired_at is null order by a.action_id";

#[derive(sqlx::FromRow)]
struct ActionRow {
    action_id: i64,
    title: String,
    kind: String,
    link_id: Option<i64>,
    owner_id: i64,
    owner_name: String,
    due_on: NaiveDate,
    done_on: Option<NaiveDate>,
    link_label: Option<String>,
    link_status: Option<String>,
}

async fn actions_of(conn: &mut Conn, capa: i64) -> StoreResult<Vec<Action>> {
    let rows: Vec<ActionRow> = sqlx::query_as(ACTIONS_SQL).bind(capa).fetch_all(conn).await?;
    rows.into_iter()
        .map(|r| {
            let kind = LinkKind::parse(&r.kind).ok_or_else(|| bad("action kind", &r.kind))?;
            let status = r.link_status.unwrap_or_else(|| "missing".into());
            Ok(Action {
                id: ActionId(r.action_id),
                title: r.title,
                kind,
                link_id: r.link_id,
                link_label: r.link_label.unwrap_or_default(),
                open: !kind.done(&status),
                link_status: status,
                owner_id: UserId(r.owner_id),
                owner_name: r.owner_name,
                due_on: r.due_on,
                done_on: r.done_on,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct ExtensionRow {
    extension_id: i64,
    previous_due_on: NaiveDate,
    requested_due_on: NaiveDate,
    reason: String,
    requested_by: String,
    requested_on: NaiveDate,
    state: String,
    decided_by: Option<String>,
    decision_reason: String,
}

async fn extensions_of(conn: &mut Conn, capa: i64) -> StoreResult<Vec<Extension>> {
    let rows: Vec<ExtensionRow> = sqlx::query_as(
        "select extension_id, previous_due_on, requested_due_on, reason, requested_by, requested_on, state, \
         decided_by, decision_reason from capa_extensions where capa_id = $1 order by extension_id",
    )
    .bind(capa)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Extension {
                id: ExtensionId(r.extension_id),
                previous_due_on: r.previous_due_on,
                requested_due_on: r.requested_due_on,
                reason: r.reason,
                requested_by: r.requested_by,
                requested_on: r.requested_on,
                state: ExtensionState::parse(&r.state).ok_or_else(|| bad("extension state", &r.state))?,
                decided_by: r.decided_by,
                decision_reason: r.decision_reason,
            })
        })
        .collect()
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
    let Some(c) = capa_by_id(conn, id).await? else { return Ok(None) };
    let actions: Vec<serde_json::Value> = c
        .actions
        .iter()
        .map(|a| {
            serde_json::json!({"title": a.title, "kind": a.kind, "link_id": a.link_id, "owner_id": a.owner_id,
                "due_on": a.due_on})
        })
        .collect();
    let json = serde_json::json!({
        "number": c.number,
        "title": c.title,
        "problem": c.investigation.problem,
        "whys": c.investigation.whys,
        "causes": c.investigation.causes,
        "actions": actions,
    });
    Ok(Some((c.plan_version, json)))
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
async fn insert_capa(
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

/// Claims a record for a change at `version`: bumps its version if it is still there, so that
/// of two changes based on one version only the first goes on (PostgreSQL lets both read it; the
/// second's claim waits for the first and then finds nothing). `false`: someone else was first.
async fn claim(conn: &mut Conn, (table, key): (&str, &str), id: i64, version: i64) -> StoreResult<bool> {
    let sql = format!("update {table} set version = version + 1, updated_at = $3 where {key} = $1 and version = $2");
    let done = sqlx::query(&sql).bind(id).bind(version).bind(Utc::now()).execute(conn).await?.rows_affected();
    Ok(done == 1)
}

fn state_error() -> StoreError {
    field_error("state", WRONG_STATE)
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    capa_id: i64,
    number: String,
    title: String,
    state: String,
    process_name: Option<String>,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    verifier_id: Option<i64>,
    verifier_name: Option<String>,
    severity: Option<i64>,
    likelihood: Option<i64>,
    due_on: Option<NaiveDate>,
    original_due_on: Option<NaiveDate>,
    effectiveness_due_on: Option<NaiveDate>,
    opened_on: NaiveDate,
    closed_on: Option<NaiveDate>,
}

const SUMMARY_SELECT: &str = "select k.capa_id, k.number, k.title, k.state, p.name as process_name, k.owner_id, \
     o.full_name as owner_name, k.verifier_id, v.full_name as verifier_name, k.severity, k.likelihood, k.due_on, \
     k.original_due_on, k.effectiveness_due_on, k.opened_on, k.closed_on \
     from capas k left join processes p on p.process_id = k.process_id \
     left join users o on o.user_id = k.owner_id left join users v on v.user_id = k.verifier_id";

impl TryFrom<SummaryRow> for CapaSummary {
    type Error = StoreError;
    fn try_from(r: SummaryRow) -> StoreResult<CapaSummary> {
        let small = |v: Option<i64>| v.and_then(|v| u8::try_from(v).ok());
        Ok(CapaSummary {
            id: CapaId(r.capa_id),
            number: r.number,
            title: r.title,
            state: CapaState::parse(&r.state).ok_or_else(|| bad("CAPA state", &r.state))?,
            process_name: r.process_name,
            owner_id: r.owner_id.map(UserId),
            owner_name: r.owner_name,
            verifier_id: r.verifier_id.map(UserId),
            verifier_name: r.verifier_name,
            risk: small(r.severity).zip(small(r.likelihood)).map(|(s, l)| RiskRank::of(s, l)),
            due_on: r.due_on,
            original_due_on: r.original_due_on,
            effectiveness_due_on: r.effectiveness_due_on,
            opened_on: r.opened_on,
            closed_on: r.closed_on,
        })
    }
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
                     values ($1, $2, 'corrective', 'closed', $3, $4, $5, 3, 3, $6, $6, $7, $8, $9, 1, $10, $13, $11, 1, \
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
            "select number, title, investigation, root_cause from capas where state = 'closed' and root_cause is not null",
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

/// The 409 message when linked work holds a CAPA before verification: which work, and why.
fn open_work_message(open: &[OpenWork]) -> String {
    let list = open.iter().map(|w| w.description.as_str()).collect::<Vec<_>>().join("; ");
    format!("The CAPA cannot go to verification while linked work is open: {list}.")
}
