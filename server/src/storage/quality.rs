//! Storage of nonconformances, complaints and CAPAs ([`shared::quality`]): numbered per kind in
//! the creating transaction, every step checked by the shared rules against the record as it is
//! inside the write's transaction, and the CAPA gate on linked work answered by one query. The
//! trait and the backend-independent rows (their `select`s and conversions); the queries are in
//! `queries/quality.rs`.

use async_trait::async_trait;
use chrono::NaiveDate;
use shared::auth::UserId;
use shared::org::ProcessId;
use shared::quality::capa::{ActionId, ExtensionId};
use shared::quality::{
    ActionInput, Capa, CapaFacts, CapaFilter, CapaId, CapaInput, CapaStep, CapaSummary, CapaUpdate, Category,
    Complaint, ComplaintId, ComplaintInput, ComplaintStep, ExtensionDecision, ExtensionInput, Nc, NcFilter, NcId,
    NcInput, NcStep, ParetoBar, ParetoBy,
};
use shared::quality::{CategoryId, CauseCategory, Costs, NcSource};

use shared::quality::capa::{CapaKind, ExtensionState};
use shared::quality::{
    Action, CapaState, Channel, ComplaintState, Disposition, EffectivenessCheck, Evaluation, Extension, Investigation,
    LinkKind, LinkRef, NcState, OpenWork, RiskRank,
};

use super::common::MetaRow;
use super::{AuditContext, Change, StoreError, StoreResult};

/// Who is acting: the user, and whether they hold the quality manager's permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityActor {
    /// The signed-in user.
    pub user: UserId,
    /// Holds `ManageQuality`.
    pub manager: bool,
    /// Holds `DispositionNonconformances`.
    pub disposition: bool,
}

/// A closed NC or CAPA from before Caliper (a spreadsheet log, the demo history, the bench).
#[derive(Debug, Clone)]
pub struct HistoricQuality {
    /// A CAPA (else an NC).
    pub capa: bool,
    /// The NC's category.
    pub category: CategoryId,
    /// The process.
    pub process: Option<ProcessId>,
    /// The confirmed root-cause category.
    pub root_cause: CauseCategory,
    /// Where it was found.
    pub source: NcSource,
    /// The day it was found.
    pub found_on: NaiveDate,
    /// The day a CAPA was opened (an NC's is the day found).
    pub opened_on: NaiveDate,
    /// The day it closed.
    pub closed_on: NaiveDate,
    /// Units affected.
    pub quantity: u32,
    /// Cost by kind, in cents.
    pub costs: Costs,
    /// A short title (a CAPA's title).
    pub title: String,
    /// What was found and why.
    pub text: String,
    /// Who raised it (an NC) or owned it (a CAPA).
    pub person: UserId,
    /// A CAPA's verifier.
    pub verifier: Option<UserId>,
}

/// Nonconformance and complaint queries (and the closed history the suggestion model learns from).
#[async_trait]
pub trait QualityStore: Send + Sync + 'static {
    /// The active NC categories, by name.
    async fn list_categories(&self) -> StoreResult<Vec<Category>>;
    /// Adds a category to the list.
    async fn create_category(&self, ctx: &AuditContext, name: &str) -> StoreResult<Category>;

    /// Raises an NC with the next number, reported by `reporter`.
    async fn create_nc(&self, ctx: &AuditContext, reporter: UserId, input: &NcInput) -> StoreResult<Nc>;
    /// One NC.
    async fn get_nc(&self, id: NcId) -> StoreResult<Option<Nc>>;
    /// A page of the register, newest first.
    async fn list_ncs(&self, filter: &NcFilter) -> StoreResult<Vec<Nc>>;
    /// Corrects an open NC at `version` (its reporter or the quality manager).
    async fn update_nc(
        &self,
        ctx: &AuditContext,
        id: NcId,
        input: &NcInput,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Nc>>;
    /// Takes a step on an NC (checked by [`NcStep::check`] inside the transaction).
    async fn nc_step(
        &self,
        ctx: &AuditContext,
        id: NcId,
        step: &NcStep,
        actor: QualityActor,
    ) -> StoreResult<Change<Nc>>;
    /// NCs reported in `from..=to` (not cancelled), by category or by process.
    async fn nc_pareto(&self, by: ParetoBy, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<ParetoBar>>;
    /// Open NCs reported before `before` (overdue ones), oldest first, at most `limit`.
    async fn overdue_ncs(&self, before: NaiveDate, limit: i64) -> StoreResult<(usize, Vec<Nc>)>;
    /// The cost of NCs reported per day in `from..=to` (not cancelled): (day, scrap, rework,
    /// warranty, returns) summed per month by the caller.
    async fn nc_costs(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<(NaiveDate, [i64; 4])>>;

    /// Logs a complaint with the next number.
    async fn create_complaint(
        &self,
        ctx: &AuditContext,
        logger: UserId,
        input: &ComplaintInput,
    ) -> StoreResult<Complaint>;
    /// One complaint with its links.
    async fn get_complaint(&self, id: ComplaintId) -> StoreResult<Option<Complaint>>;
    /// The newest complaints (at most 500), with their links.
    async fn list_complaints(&self, open_only: bool) -> StoreResult<Vec<Complaint>>;
    /// Takes a step on a complaint.
    async fn complaint_step(
        &self,
        ctx: &AuditContext,
        id: ComplaintId,
        step: &ComplaintStep,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Complaint>>;
    /// The days complaints (not cancelled) were received in `from..=to`.
    async fn complaint_days(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<NaiveDate>>;

    /// Closed NCs and CAPAs with a known root-cause category: (number, text, category), the
    /// suggestion model's training set.
    async fn labelled_history(&self) -> StoreResult<Vec<(String, String, CauseCategory)>>;
    /// How many records [`QualityStore::labelled_history`] would return (cheap: to decide when to
    /// retrain).
    async fn count_labelled(&self) -> StoreResult<i64>;
    /// Records closed NCs and CAPAs from before Caliper, all in one transaction, each audited as
    /// imported; returns (NCs, CAPAs) written.
    async fn import_quality_history(&self, ctx: &AuditContext, rows: &[HistoricQuality])
    -> StoreResult<(usize, usize)>;
}

/// CAPA queries.
#[async_trait]
pub trait CapaStore: Send + Sync + 'static {
    /// Opens a CAPA in draft with the next number (linked both ways to its NC, if any).
    async fn create_capa(&self, ctx: &AuditContext, input: &CapaInput, today: NaiveDate) -> StoreResult<Capa>;
    /// One CAPA with its actions (and where their linked work stands) and extensions.
    async fn get_capa(&self, id: CapaId) -> StoreResult<Option<Capa>>;
    /// The register, newest first.
    async fn list_capas(&self, filter: &CapaFilter) -> StoreResult<Vec<CapaSummary>>;
    /// Changes a CAPA's text at `version` (see [`CapaUpdate::check`]).
    async fn update_capa(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        update: &CapaUpdate,
        actor: QualityActor,
    ) -> StoreResult<Change<Capa>>;
    /// Takes a step of the lifecycle (see [`CapaStep::check`]; the gate reads the linked work in
    /// the same transaction).
    async fn capa_step(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        step: &CapaStep,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>>;
    /// Adds an action to the plan (during the investigation).
    async fn add_action(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        input: &ActionInput,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>>;
    /// Marks a task done (during the implementation; its owner, the CAPA's owner or the
    /// quality manager).
    async fn complete_action(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        action: ActionId,
        version: i64,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>>;
    /// Drops an action from the plan, with the reason (during the investigation).
    async fn retire_action(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        action: ActionId,
        version: i64,
        reason: &str,
        actor: QualityActor,
    ) -> StoreResult<Change<Capa>>;
    /// Requests a later due date.
    async fn request_extension(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        input: &ExtensionInput,
        actor: QualityActor,
        today: NaiveDate,
    ) -> StoreResult<Change<Capa>>;
    /// Approves or rejects a pending extension (the quality manager).
    async fn decide_extension(
        &self,
        ctx: &AuditContext,
        id: CapaId,
        extension: ExtensionId,
        decision: &ExtensionDecision,
        actor: QualityActor,
    ) -> StoreResult<Change<Capa>>;
    /// What the metrics need of every CAPA not cancelled.
    async fn capa_facts(&self) -> StoreResult<Vec<CapaFacts>>;
    /// Open CAPAs past their due date (how many, and the oldest `limit`).
    async fn overdue_capas(&self, today: NaiveDate, limit: i64) -> StoreResult<(usize, Vec<CapaSummary>)>;
}

// ---------------------------------------------------------------------------------------------
// Rows

pub(super) fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unknown {what} `{value}` in the database"))
}

pub(super) const NC_SELECT: &str = "select n.nc_id, n.number, n.source, n.category_id, c.name as category, \
     n.process_id, \
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
pub(super) struct NcRow {
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

pub(super) const COMPLAINT_SELECT: &str = "select complaint_id, number, customer, product, lot, received_on, channel, \
     description, logged_by, investigation, reportable, reportable_reason, response, responded_on, state, closed_on, \
     version, created_at, updated_at, retired_at, retired_reason from complaints";

#[derive(sqlx::FromRow)]
pub(super) struct ComplaintRow {
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

pub(super) const CAPA_SELECT: &str = "select k.capa_id, k.number, k.title, k.kind, k.state, k.nc_id, n.number \
     as nc_number, \
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
pub(super) struct CapaRow {
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
pub(super) const ACTIONS_SQL: &str = "select a.action_id, a.title, a.kind, \
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
pub(super) struct ActionRow {
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

pub(super) const EXTENSIONS_SQL: &str = "select extension_id, previous_due_on, requested_due_on, reason, \
     requested_by, requested_on, state, decided_by, decision_reason from capa_extensions where capa_id = $1 \
     order by extension_id";

#[derive(sqlx::FromRow)]
pub(super) struct ExtensionRow {
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

#[derive(sqlx::FromRow)]
pub(super) struct SummaryRow {
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

pub(super) const SUMMARY_SELECT: &str = "select k.capa_id, k.number, k.title, k.state, p.name as process_name, \
     k.owner_id, \
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

/// The 409 message when linked work holds a CAPA before verification: which work, and why.
pub(super) fn open_work_message(open: &[OpenWork]) -> String {
    let list = open.iter().map(|w| w.description.as_str()).collect::<Vec<_>>().join("; ");
    format!("The CAPA cannot go to verification while linked work is open: {list}.")
}

impl TryFrom<ActionRow> for Action {
    type Error = StoreError;
    fn try_from(r: ActionRow) -> StoreResult<Action> {
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
    }
}

impl TryFrom<ExtensionRow> for Extension {
    type Error = StoreError;
    fn try_from(r: ExtensionRow) -> StoreResult<Extension> {
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
    }
}
