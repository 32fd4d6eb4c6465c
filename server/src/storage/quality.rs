//! Storage of nonconformances, complaints and CAPAs ([`shared::quality`]): numbered per kind in
//! the creating transaction, every step checked by the shared rules against the record as it is
//! inside the write's transaction, and the CAPA gate on linked work answered by one query. The
//! trait; the queries are in `queries/quality.rs`.

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

use super::{AuditContext, Change, StoreResult};

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

/// Nonconformance, complaint and CAPA queries.
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
