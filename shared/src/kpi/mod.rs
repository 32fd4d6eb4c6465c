//! The KPIs of the dashboard (domain/kpi.md), each defined once: what it measures, its unit, the
//! direction that is good, its default target and at-risk limit, and the rule that says on
//! target / at risk / off target. Also the periods of the trends (weeks, months, quarters), the measurement series
//! that come from outside systems (ERP, MES), and the formulas, which answer "no data" (never
//! NaN, never 0 %) when there is nothing to divide by.
//!
//! Adding a tile for a later module (audits, suppliers, SPC) is one step: a [`Kpi`] variant with
//! its definition in [`Kpi::def`], and its value and trend in the server's dashboard route.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validation::{FORMAT, INVALID, REQUIRED};

mod measurement;
pub mod objective;
mod span;
#[cfg(test)]
mod tests;

pub use measurement::{
    MEASUREMENTS_CSV_HEADER, Measurement, MeasurementInput, RowProblem, Series, measurement_header,
    read_measurement_rows, read_measurements_csv,
};
pub use objective::{Objective, ObjectiveId, ObjectiveInput, ObjectiveStatus, objective_status};
pub use span::{Cadence, Span};

/// A KPI of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    /// Units rejected / units produced, per period.
    DefectRate,
    /// Days from a CAPA's opening to its closure (median).
    CapaClosureTime,
    /// Customer complaints per period.
    CustomerComplaints,
    /// Nonconformities found per audit.
    AuditFindings,
    /// Current assignments completed / assignments required.
    TrainingCompletion,
    /// Incoming units rejected / units received.
    SupplierDefectRate,
    /// Scrap + rework + warranty + returns cost / revenue.
    Copq,
    /// Open work past its due date (risk reviews, FMEA actions, training, CAPAs, NCs).
    OverdueWork,
}

/// The good direction of a KPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Lower is better: on target at or below the target.
    AtMost,
    /// Higher is better: on target at or above the target.
    AtLeast,
}

/// What a KPI's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Percent.
    Percent,
    /// Days.
    Days,
    /// A count.
    Count,
}

impl Unit {
    /// A value in this unit, for people: `0.84 %`, `12 days`, `7`.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Percent => format!("{v:.2} %"),
            // A median can fall between two whole days: 30.5 days is not shown as "30 days".
            Unit::Days if (v - v.round()).abs() >= 0.05 => format!("{v:.1} days"),
            Unit::Days => format!("{v:.0} days"),
            Unit::Count => format!("{v:.0}"),
        }
    }
}

/// A target: on target up to (or from) `value`; at risk up to (or from) `at_risk`; beyond, off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Target {
    /// The target.
    pub value: f64,
    /// The limit of the at-risk band.
    pub at_risk: f64,
    /// The periods it is judged over (a month unless chosen).
    #[serde(default)]
    pub cadence: Cadence,
}

/// How a value stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KpiStatus {
    /// Meets the target.
    OnTarget,
    /// Misses it, within the at-risk band.
    AtRisk,
    /// Misses it beyond the band.
    OffTarget,
    /// Nothing to compute it from.
    NoData,
}

impl KpiStatus {
    /// As shown to people (with the colour, never instead of it).
    pub fn label(self) -> &'static str {
        match self {
            KpiStatus::OnTarget => "On target",
            KpiStatus::AtRisk => "At risk",
            KpiStatus::OffTarget => "Off target",
            KpiStatus::NoData => "No data",
        }
    }

    /// The CSS and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KpiStatus::OnTarget => "on_target",
            KpiStatus::AtRisk => "at_risk",
            KpiStatus::OffTarget => "off_target",
            KpiStatus::NoData => "no_data",
        }
    }
}

/// A KPI's definition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiDef {
    /// Its name.
    pub name: &'static str,
    /// How it is computed, in words.
    pub formula: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// The good direction.
    pub direction: Direction,
    /// The default target.
    pub target: Target,
    /// Leading (predicts) or lagging (reports).
    pub leading: bool,
    /// The module whose records it needs, when that module is not built yet.
    pub needs: Option<&'static str>,
}

impl Kpi {
    /// Every KPI, in the dashboard's default order.
    pub const ALL: [Kpi; 8] = [
        Kpi::OverdueWork,
        Kpi::TrainingCompletion,
        Kpi::DefectRate,
        Kpi::SupplierDefectRate,
        Kpi::Copq,
        Kpi::CapaClosureTime,
        Kpi::CustomerComplaints,
        Kpi::AuditFindings,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kpi::DefectRate => "defect_rate",
            Kpi::CapaClosureTime => "capa_closure_time",
            Kpi::CustomerComplaints => "customer_complaints",
            Kpi::AuditFindings => "audit_findings",
            Kpi::TrainingCompletion => "training_completion",
            Kpi::SupplierDefectRate => "supplier_defect_rate",
            Kpi::Copq => "copq",
            Kpi::OverdueWork => "overdue_work",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Kpi> {
        Kpi::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Its definition (kpi.md; targets are the configurable defaults).
    pub fn def(self) -> KpiDef {
        let (name, formula, unit, direction, value, at_risk, leading, needs) = match self {
            Kpi::DefectRate => (
                "Defect rate",
                "Units rejected ÷ units produced, per period",
                Unit::Percent,
                Direction::AtMost,
                1.0,
                1.5,
                false,
                None,
            ),
            Kpi::CapaClosureTime => (
                "CAPA closure time",
                "Days from opening to closure, median of the CAPAs closed in the period",
                Unit::Days,
                Direction::AtMost,
                30.0,
                45.0,
                false,
                None,
            ),
            Kpi::CustomerComplaints => (
                "Customer complaints",
                "Complaints received per period",
                Unit::Count,
                Direction::AtMost,
                5.0,
                8.0,
                false,
                None,
            ),
            Kpi::AuditFindings => (
                "Audit findings per audit",
                "Nonconformities found ÷ audits completed, per period",
                Unit::Count,
                Direction::AtMost,
                2.0,
                4.0,
                false,
                Some("audits"),
            ),
            Kpi::TrainingCompletion => (
                "Training completion",
                "People × requirements completed and current ÷ required, at the period's end",
                Unit::Percent,
                Direction::AtLeast,
                95.0,
                90.0,
                true,
                None,
            ),
            Kpi::SupplierDefectRate => (
                "Supplier defect rate",
                "Incoming units rejected ÷ units received, per period",
                Unit::Percent,
                Direction::AtMost,
                0.5,
                1.0,
                true,
                None,
            ),
            Kpi::Copq => (
                "Cost of poor quality",
                "(Scrap + rework + warranty + returns cost) ÷ revenue, per period; each month's cost from the ERP where reported, else from that month's NCs",
                Unit::Percent,
                Direction::AtMost,
                5.0,
                7.0,
                false,
                None,
            ),
            Kpi::OverdueWork => (
                "Overdue work",
                "Risk reviews, FMEA actions, training, CAPAs and NCs (open over 30 days) past their due date, at the period's end",
                Unit::Count,
                Direction::AtMost,
                0.0,
                5.0,
                true,
                None,
            ),
        };
        KpiDef {
            name,
            formula,
            unit,
            direction,
            target: Target { value, at_risk, cadence: Cadence::Month },
            leading,
            needs,
        }
    }

    /// The kinds of record whose change can move this KPI (an open dashboard refreshes the tile
    /// when one of them changes, and no other tile).
    pub fn inputs(self) -> &'static [&'static str] {
        match self {
            Kpi::DefectRate | Kpi::SupplierDefectRate => &["measurement", "kpi_target"],
            Kpi::Copq => &["measurement", "nc", "kpi_target"],
            Kpi::TrainingCompletion => &[
                "training_assignment",
                "training_requirement",
                "training_exemption",
                "training_session",
                "curriculum_line",
                "user",
                "department",
                "document",
                "document_revision",
                "kpi_target",
            ],
            Kpi::OverdueWork => &["risk", "fmea_row", "training_assignment", "capa", "nc", "kpi_target"],
            Kpi::CapaClosureTime => &["capa", "kpi_target"],
            Kpi::CustomerComplaints => &["complaint", "kpi_target"],
            Kpi::AuditFindings => &["kpi_target"],
        }
    }

    /// The cadences it can be computed in: weeks only for the KPIs counted from dated records
    /// (measurements come per month, and the live counts are kept at each month's end).
    pub fn cadences(self) -> &'static [Cadence] {
        match self {
            Kpi::CapaClosureTime | Kpi::CustomerComplaints | Kpi::AuditFindings => &Cadence::ALL,
            _ => &[Cadence::Month, Cadence::Quarter],
        }
    }

    /// How `value` stands against `target`.
    pub fn judge(self, value: Option<f64>, target: Target) -> KpiStatus {
        judge(value, self.def().direction, target)
    }
}

/// How `value` stands against `target` in `direction`; "no data" without a value.
pub fn judge(value: Option<f64>, direction: Direction, target: Target) -> KpiStatus {
    let Some(v) = value.filter(|v| v.is_finite()) else { return KpiStatus::NoData };
    let (on, risk) = match direction {
        Direction::AtMost => (v <= target.value, v <= target.at_risk),
        Direction::AtLeast => (v >= target.value, v >= target.at_risk),
    };
    if on {
        KpiStatus::OnTarget
    } else if risk {
        KpiStatus::AtRisk
    } else {
        KpiStatus::OffTarget
    }
}

/// `part` of `whole` in percent; "no data" when the whole is zero or missing.
pub fn percent(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0 && part.is_finite() && whole.is_finite()).then(|| part * 100.0 / whole)
}

/// The median of `values` (none when empty).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

/// A calendar month, the period of every trend: `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    /// The year.
    pub year: i32,
    /// The month, 1–12.
    pub month: u32,
}

/// On the wire a period is its `YYYY-MM` string (as serde writes it), not its fields.
#[cfg(feature = "server")]
impl utoipa::PartialSchema for Period {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^\d{4}-(0[1-9]|1[0-2])$"))
            .description(Some("A calendar month, `YYYY-MM` (e.g. `2026-11`)."))
            .into()
    }
}

#[cfg(feature = "server")]
impl utoipa::ToSchema for Period {}

impl Period {
    /// The month holding `day`.
    pub fn of(day: NaiveDate) -> Period {
        Period { year: day.year(), month: day.month() }
    }

    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Period> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((1900..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Period { year, month })
    }

    /// The month before.
    pub fn prev(self) -> Period {
        if self.month == 1 {
            Period { year: self.year - 1, month: 12 }
        } else {
            Period { month: self.month - 1, ..self }
        }
    }

    /// The `n` months ending with this one, oldest first.
    pub fn last(self, n: usize) -> Vec<Period> {
        Span::month(self).last(n).into_iter().map(|m| Period::of(m.first_day())).collect()
    }

    /// The month after.
    pub fn next(self) -> Period {
        if self.month == 12 {
            Period { year: self.year + 1, month: 1 }
        } else {
            Period { month: self.month + 1, ..self }
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or_default()
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for Period {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Period::parse(&s).ok_or_else(|| format!("`{s}` is not a month (YYYY-MM)"))
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

/// One point of a trend: the period, its value ("no data" when missing) and the target that
/// applied then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    /// The period: a week, month or quarter, as the KPI's cadence (`2026-W49`, `2026-11`,
    /// `2026-Q4`).
    #[cfg_attr(feature = "server", schema(value_type = String, example = "2026-11"))]
    pub period: Span,
    /// The value.
    pub value: Option<f64>,
    /// The target that applied in that period.
    pub target: f64,
    /// How the value stood against it.
    pub status: KpiStatus,
}

/// A dashboard tile: a KPI's latest value against its target, and its trend over 12 periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Tile {
    /// The KPI.
    pub kpi: Kpi,
    /// Its name.
    pub name: String,
    /// How it is computed.
    pub formula: String,
    /// Its unit.
    pub unit: Unit,
    /// The good direction.
    pub direction: Direction,
    /// The current target.
    pub target: Target,
    /// The latest value: of the latest period with data (for live counts, now).
    pub value: Option<f64>,
    /// The period of that value (`2026-W49`, `2026-11`, `2026-Q4`).
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, example = "2026-11"))]
    pub period: Option<Span>,
    /// How it stands.
    pub status: KpiStatus,
    /// The last 12 periods (weeks, months or quarters: the target's cadence), oldest first.
    pub trend: Vec<TrendPoint>,
    /// The module it needs, when that module is not built yet (the tile says so).
    pub needs: Option<String>,
    /// Where the records behind the number are (an app path).
    pub drill: String,
    /// The process's name, when the tile is for one process (`?process_id=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Why a tile asked for one process is the organisation's (a KPI not kept per process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_note: Option<String>,
}

/// The note of a tile asked for one process whose KPI is not kept per process.
pub const NOT_PER_PROCESS: &str = "Organisation-wide: not kept per process";

impl Tile {
    /// A tile from its KPI, the target at each period, and the value at each period (the last
    /// is the latest).
    pub fn build(
        kpi: Kpi,
        periods: &[Span],
        target_at: impl Fn(Span) -> Target,
        value_at: impl Fn(Span) -> Option<f64>,
        drill: &str,
    ) -> Tile {
        let def = kpi.def();
        let trend: Vec<TrendPoint> = periods
            .iter()
            .map(|p| {
                let target = target_at(*p);
                let value = value_at(*p);
                TrendPoint { period: *p, value, target: target.value, status: kpi.judge(value, target) }
            })
            .collect();
        // The headline is the latest period with data (a month's measurements come after it
        // closes), judged against the target of that period.
        let latest = trend.iter().rev().find(|t| t.value.is_some());
        let period = latest.map(|t| t.period);
        let target = period.or(periods.last().copied()).map_or(def.target, &target_at);
        let value = latest.and_then(|t| t.value);
        Tile {
            kpi,
            name: def.name.into(),
            formula: def.formula.into(),
            unit: def.unit,
            direction: def.direction,
            target,
            value,
            period,
            status: kpi.judge(value, target),
            trend,
            needs: def.needs.map(Into::into),
            drill: drill.into(),
            scope: None,
            scope_note: None,
        }
    }
}

/// A change of a KPI's target and cadence from a month on (earlier months keep the target they
/// had; the trend is drawn in the cadence in force now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// The KPI.
    pub kpi: Kpi,
    /// The first month it applies to, `YYYY-MM`.
    #[serde(default)]
    pub from: String,
    /// The target.
    pub value: f64,
    /// The at-risk limit (on the bad side of the target).
    pub at_risk: f64,
    /// The periods it is judged over: one of [`Kpi::cadences`]; a month when left out.
    #[serde(default)]
    pub cadence: Cadence,
}

impl TargetInput {
    /// The rules: a month, finite values, the at-risk limit on the bad side of the target, a
    /// cadence the KPI can be computed in.
    pub fn validate(&self) -> Result<Period, FieldErrors> {
        let mut e = FieldErrors::new();
        let from = Period::parse(&self.from);
        if from.is_none() {
            e.add("from", if self.from.trim().is_empty() { REQUIRED } else { FORMAT });
        }
        if !self.value.is_finite() || self.value < 0.0 {
            e.add("value", INVALID);
        }
        let bad_side = match self.kpi.def().direction {
            Direction::AtMost => self.at_risk >= self.value,
            Direction::AtLeast => self.at_risk <= self.value,
        };
        if !self.at_risk.is_finite() || self.at_risk < 0.0 || !bad_side {
            e.add("at_risk", INVALID);
        }
        if !self.kpi.cadences().contains(&self.cadence) {
            e.add("cadence", INVALID);
        }
        e.into_result().map(|()| from.unwrap_or(Period { year: 1970, month: 1 }))
    }
}

/// A person's choice and order of dashboard tiles (one per person, versioned; version 0 is the
/// default nobody saved: every KPI in [`Kpi::ALL`] order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DashboardLayout {
    /// The tiles shown, in order.
    pub tiles: Vec<Kpi>,
    /// The version last seen (send it back; 0 before the first save).
    #[serde(default)]
    pub version: i64,
}

impl Default for DashboardLayout {
    fn default() -> Self {
        DashboardLayout { tiles: Kpi::ALL.to_vec(), version: 0 }
    }
}

impl DashboardLayout {
    /// The rule: each KPI at most once (a repeat is named `tiles[i]`).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        for (i, kpi) in self.tiles.iter().enumerate() {
            if self.tiles[..i].contains(kpi) {
                e.add(format!("tiles[{i}]"), crate::validation::TAKEN);
            }
        }
        e.into_result()
    }

    /// The tiles from their stored names (comma-separated; a name no longer known is dropped).
    pub fn parse_tiles(stored: &str) -> Vec<Kpi> {
        stored.split(',').filter_map(|s| Kpi::parse(s.trim())).collect()
    }

    /// The tiles as stored.
    pub fn tiles_text(&self) -> String {
        self.tiles.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")
    }
}
