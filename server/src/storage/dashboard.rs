//! Storage of the dashboard: measurements from outside systems, KPI targets from a month on,
//! and month-end snapshots of the KPIs computed from live records. The trait; the queries are
//! in `queries/dashboard.rs`.

use async_trait::async_trait;
use shared::auth::UserId;
use shared::kpi::{
    DashboardLayout, Kpi, Measurement, MeasurementInput, Objective, ObjectiveId, ObjectiveInput, Period, Series, Target,
};

use super::{AuditContext, Change, StoreResult};

/// The records of one process that its dashboard counts (ids), and the people of its
/// department (whose training is the process's).
#[derive(Debug, Clone, Default)]
pub struct ProcessRecords {
    /// Risks.
    pub risks: std::collections::HashSet<i64>,
    /// FMEAs.
    pub fmeas: std::collections::HashSet<i64>,
    /// Documents.
    pub documents: std::collections::HashSet<i64>,
    /// CAPAs.
    pub capas: std::collections::HashSet<i64>,
    /// Nonconformances.
    pub ncs: std::collections::HashSet<i64>,
    /// Active people of the process's department.
    pub people: std::collections::HashSet<i64>,
}

/// Dashboard queries.
#[async_trait]
pub trait DashboardStore: Send + Sync + 'static {
    /// Records measurements in one transaction (all or none): a new (series, month) is created,
    /// an existing one corrected (its version moves on; the audit trail keeps the old value).
    /// Returns how many changed.
    async fn record_measurements(&self, ctx: &AuditContext, rows: &[(MeasurementInput, Period)]) -> StoreResult<usize>;
    /// Measurements from `from` on (every month when none), of one series or all, by month.
    async fn list_measurements(&self, series: Option<Series>, from: Option<Period>) -> StoreResult<Vec<Measurement>>;
    /// Sets a KPI's target from a month on (a second change for the same month replaces it).
    async fn set_target(&self, ctx: &AuditContext, kpi: Kpi, from: Period, target: Target) -> StoreResult<()>;
    /// Every target change: (KPI, first month, target), by KPI and month.
    async fn list_targets(&self) -> StoreResult<Vec<(Kpi, Period, Target)>>;
    /// Keeps a KPI's value for a month (the month's latest value wins).
    async fn put_snapshot(&self, kpi: Kpi, period: Period, value: f64) -> StoreResult<()>;
    /// The kept values from `from` on.
    async fn list_snapshots(&self, from: Period) -> StoreResult<Vec<(Kpi, Period, f64)>>;

    /// Quality objectives by due date (retired ones only when asked), without their latest
    /// value (the route computes it as the KPI's tile does): `latest` none, status no data.
    async fn list_objectives(&self, include_retired: bool) -> StoreResult<Vec<Objective>>;
    /// One objective (as in [`Self::list_objectives`]).
    async fn get_objective(&self, id: ObjectiveId) -> StoreResult<Option<Objective>>;
    /// Creates an objective from validated, normalised input (the owner must be an active
    /// user: 422 naming `owner_id`); audited.
    async fn create_objective(&self, ctx: &AuditContext, input: &ObjectiveInput) -> StoreResult<Objective>;
    /// Updates an objective if still at `version`; audited.
    async fn update_objective(
        &self,
        ctx: &AuditContext,
        id: ObjectiveId,
        version: i64,
        input: &ObjectiveInput,
    ) -> StoreResult<Change<Objective>>;
    /// Retires an objective if still at `version` (its current version when none), with a
    /// reason; audited.
    async fn retire_objective(
        &self,
        ctx: &AuditContext,
        id: ObjectiveId,
        version: Option<i64>,
        reason: &str,
    ) -> StoreResult<Change<Objective>>;
    /// The ids of the records of `process` (and the people of `department`) a per-process
    /// dashboard counts.
    async fn process_records(
        &self,
        process: shared::org::ProcessId,
        department: shared::org::DepartmentId,
    ) -> StoreResult<ProcessRecords>;
    /// A person's tiles, when they saved a choice.
    async fn dashboard_layout(&self, user: UserId) -> StoreResult<Option<DashboardLayout>>;
    /// Saves a person's tiles if their saved layout is still at `layout.version` (0: none saved
    /// yet): the saved layout (version + 1), or the current one when stale.
    async fn set_dashboard_layout(
        &self,
        ctx: &AuditContext,
        user: UserId,
        layout: &DashboardLayout,
    ) -> StoreResult<Change<DashboardLayout>>;
}
