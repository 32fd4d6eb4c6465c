//! Storage of the dashboard: measurements from outside systems, KPI targets from a month on,
//! and month-end snapshots of the KPIs computed from live records. The trait; the queries are
//! in `queries/dashboard.rs`.

use async_trait::async_trait;
use shared::kpi::{Kpi, Measurement, MeasurementInput, Period, Series, Target};

use super::{AuditContext, StoreResult};

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
}
