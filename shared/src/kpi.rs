//! The KPIs of the dashboard (domain/kpi.md), each defined once: what it measures, its unit, the
//! direction that is good, its default target and at-risk limit, and the rule that says on
//! target / at risk / off target. Also the monthly periods of the trends, the measurement series
//! that come from outside systems (ERP, MES), and the formulas, which answer "no data" (never
//! NaN, never 0 %) when there is nothing to divide by.
//!
//! Adding a tile for a later module (audits, suppliers, SPC) is one step: a [`Kpi`] variant with
//! its definition in [`Kpi::def`], and its value and trend in the server's dashboard route.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validation::{self, FORMAT, INVALID, REQUIRED};

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
    /// Open work past its due date (risk reviews, FMEA actions, training; CAPAs and NCs when
    /// they exist).
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
                "Units rejected ÷ units produced, per month",
                Unit::Percent,
                Direction::AtMost,
                1.0,
                1.5,
                false,
                None,
            ),
            Kpi::CapaClosureTime => (
                "CAPA closure time",
                "Days from opening to closure, median of the CAPAs closed in the month",
                Unit::Days,
                Direction::AtMost,
                30.0,
                45.0,
                false,
                Some("CAPA"),
            ),
            Kpi::CustomerComplaints => (
                "Customer complaints",
                "Complaints received per month",
                Unit::Count,
                Direction::AtMost,
                5.0,
                8.0,
                false,
                Some("complaints"),
            ),
            Kpi::AuditFindings => (
                "Audit findings per audit",
                "Nonconformities found ÷ audits completed, per month",
                Unit::Count,
                Direction::AtMost,
                2.0,
                4.0,
                false,
                Some("audits"),
            ),
            Kpi::TrainingCompletion => (
                "Training completion",
                "People × requirements completed and current ÷ required, at the month's end",
                Unit::Percent,
                Direction::AtLeast,
                95.0,
                90.0,
                true,
                None,
            ),
            Kpi::SupplierDefectRate => (
                "Supplier defect rate",
                "Incoming units rejected ÷ units received, per month",
                Unit::Percent,
                Direction::AtMost,
                0.5,
                1.0,
                true,
                None,
            ),
            Kpi::Copq => (
                "Cost of poor quality",
                "(Scrap + rework + warranty + returns cost) ÷ revenue, per month",
                Unit::Percent,
                Direction::AtMost,
                5.0,
                7.0,
                false,
                None,
            ),
            Kpi::OverdueWork => (
                "Overdue work",
                "Risk reviews, FMEA actions and training past their due date, at the month's end",
                Unit::Count,
                Direction::AtMost,
                0.0,
                5.0,
                true,
                None,
            ),
        };
        KpiDef { name, formula, unit, direction, target: Target { value, at_risk }, leading, needs }
    }

    /// The kinds of record whose change can move this KPI (an open dashboard refreshes the tile
    /// when one of them changes, and no other tile).
    pub fn inputs(self) -> &'static [&'static str] {
        match self {
            Kpi::DefectRate | Kpi::SupplierDefectRate | Kpi::Copq => &["measurement", "kpi_target"],
            Kpi::TrainingCompletion => {
                &["training_assignment", "training_requirement", "curriculum_line", "user", "kpi_target"]
            }
            Kpi::OverdueWork => &["risk", "fmea_row", "training_assignment", "kpi_target"],
            Kpi::CapaClosureTime | Kpi::CustomerComplaints | Kpi::AuditFindings => &["kpi_target"],
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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    /// The year.
    pub year: i32,
    /// The month, 1–12.
    pub month: u32,
}

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
        let mut out = Vec::with_capacity(n);
        let mut p = self;
        for _ in 0..n {
            out.push(p);
            p = p.prev();
        }
        out.reverse();
        out
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
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

/// A number that comes from outside the QMS (ERP, MES, finance), one value per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Series {
    /// Units produced.
    UnitsProduced,
    /// Units rejected in production.
    UnitsRejected,
    /// Units received from suppliers.
    UnitsReceived,
    /// Units rejected at incoming inspection.
    IncomingRejected,
    /// Revenue.
    Revenue,
    /// Scrap cost.
    ScrapCost,
    /// Rework cost.
    ReworkCost,
    /// Warranty cost.
    WarrantyCost,
    /// Returns cost.
    ReturnsCost,
}

impl Series {
    /// Every series.
    pub const ALL: [Series; 9] = [
        Series::UnitsProduced,
        Series::UnitsRejected,
        Series::UnitsReceived,
        Series::IncomingRejected,
        Series::Revenue,
        Series::ScrapCost,
        Series::ReworkCost,
        Series::WarrantyCost,
        Series::ReturnsCost,
    ];

    /// The stored, wire and CSV name.
    pub fn as_str(self) -> &'static str {
        match self {
            Series::UnitsProduced => "units_produced",
            Series::UnitsRejected => "units_rejected",
            Series::UnitsReceived => "units_received",
            Series::IncomingRejected => "incoming_rejected",
            Series::Revenue => "revenue",
            Series::ScrapCost => "scrap_cost",
            Series::ReworkCost => "rework_cost",
            Series::WarrantyCost => "warranty_cost",
            Series::ReturnsCost => "returns_cost",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Series> {
        Series::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Series::UnitsProduced => "Units produced",
            Series::UnitsRejected => "Units rejected",
            Series::UnitsReceived => "Units received",
            Series::IncomingRejected => "Rejected at incoming inspection",
            Series::Revenue => "Revenue",
            Series::ScrapCost => "Scrap cost",
            Series::ReworkCost => "Rework cost",
            Series::WarrantyCost => "Warranty cost",
            Series::ReturnsCost => "Returns cost",
        }
    }

    /// Whether its values are counts (whole numbers).
    pub fn is_count(self) -> bool {
        matches!(self, Series::UnitsProduced | Series::UnitsRejected | Series::UnitsReceived | Series::IncomingRejected)
    }
}

/// One month's value of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeasurementInput {
    /// The series.
    pub series: Series,
    /// The month, `YYYY-MM`.
    #[serde(default)]
    pub period: String,
    /// The value (≥ 0; a whole number for counts).
    pub value: f64,
    /// Where it comes from (e.g. "ERP monthly close").
    #[serde(default)]
    pub source: String,
}

impl MeasurementInput {
    /// The rules of a measurement; `today` bounds the month (none in the future).
    pub fn validate(&self, today: NaiveDate) -> Result<Period, FieldErrors> {
        let mut e = FieldErrors::new();
        let period = Period::parse(&self.period);
        match period {
            None if self.period.trim().is_empty() => e.add("period", REQUIRED),
            None => e.add("period", FORMAT),
            Some(p) if p > Period::of(today) => e.add("period", INVALID),
            Some(_) => {}
        }
        if !self.value.is_finite() || self.value < 0.0 || (self.series.is_count() && self.value.fract() != 0.0) {
            e.add("value", INVALID);
        }
        validation::text(&mut e, "source", &self.source, true, 100);
        e.into_result().map(|()| period.unwrap_or(Period { year: 1970, month: 1 }))
    }
}

/// A stored measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Measurement {
    /// Its id.
    pub id: i64,
    /// The series.
    pub series: Series,
    /// The month.
    pub period: Period,
    /// The value.
    pub value: f64,
    /// Where it comes from.
    pub source: String,
    /// Its version (a correction makes the next; the audit trail keeps the old value).
    pub version: i64,
}

/// One refused line of a measurements CSV: its line and column, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RowProblem {
    /// The line in the file (1 = the header).
    pub line: usize,
    /// The column's name.
    pub column: String,
    /// The code (`required`, `format`, `invalid`, `unknown`).
    pub code: String,
}

/// The header of a measurements CSV.
pub const MEASUREMENTS_CSV_HEADER: [&str; 4] = ["series", "period", "value", "source"];

/// Reads a measurements CSV (header `series,period,value,source`): every row, or every problem
/// with its line and column (nothing is imported while one remains).
pub fn read_measurements_csv(text: &str, today: NaiveDate) -> Result<Vec<MeasurementInput>, Vec<RowProblem>> {
    let problem = |line: usize, column: &str, code: &str| RowProblem { line, column: column.into(), code: code.into() };
    let records = crate::csv::read(text).map_err(|e| vec![problem(e.line, "", FORMAT)])?;
    let mut problems = Vec::new();
    let Some(header) = records.first() else { return Err(vec![problem(1, "", REQUIRED)]) };
    let names: Vec<String> =
        header.cells.iter().map(|c| c.trim().trim_start_matches('\u{feff}').to_lowercase()).collect();
    let col = |name: &str| names.iter().position(|n| n == name);
    let (Some(s), Some(p), Some(v), Some(src)) = (col("series"), col("period"), col("value"), col("source")) else {
        return Err(vec![problem(1, "header", FORMAT)]);
    };
    let mut rows = Vec::new();
    for r in &records[1..] {
        if r.cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |i: usize| r.cells.get(i).map(|c| c.trim().to_string()).unwrap_or_default();
        let series = Series::parse(&cell(s));
        if series.is_none() {
            problems.push(problem(r.line, "series", if cell(s).is_empty() { REQUIRED } else { "unknown" }));
        }
        let value = cell(v).parse::<f64>();
        if value.is_err() {
            problems.push(problem(r.line, "value", if cell(v).is_empty() { REQUIRED } else { FORMAT }));
        }
        let (Some(series), Ok(value)) = (series, value) else { continue };
        let input = MeasurementInput { series, period: cell(p), value, source: cell(src) };
        match input.validate(today) {
            Ok(_) => rows.push(input),
            Err(e) => {
                for (field, codes) in e.0 {
                    for code in codes {
                        problems.push(problem(r.line, &field, &code));
                    }
                }
            }
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

/// One point of a trend: the period, its value ("no data" when missing) and the target that
/// applied then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    /// The month.
    pub period: Period,
    /// The value.
    pub value: Option<f64>,
    /// The target that applied in that month.
    pub target: f64,
    /// How the value stood against it.
    pub status: KpiStatus,
}

/// A dashboard tile: a KPI's latest value against its target, and its 12-month trend.
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
    /// The latest value: of the latest month with data (for live counts, now).
    pub value: Option<f64>,
    /// The month of that value.
    pub period: Option<Period>,
    /// How it stands.
    pub status: KpiStatus,
    /// The last 12 months, oldest first.
    pub trend: Vec<TrendPoint>,
    /// The module it needs, when that module is not built yet (the tile says so).
    pub needs: Option<String>,
    /// Where the records behind the number are (an app path).
    pub drill: String,
}

impl Tile {
    /// A tile from its KPI, the target at each period, and the value at each period (the last
    /// is the latest).
    pub fn build(
        kpi: Kpi,
        periods: &[Period],
        target_at: impl Fn(Period) -> Target,
        value_at: impl Fn(Period) -> Option<f64>,
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
        // The headline is the latest month with data (a month's measurements come after it
        // closes), judged against the target of that month.
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
        }
    }
}

/// A change of a KPI's target from a month on (earlier months keep the target they had).
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
}

impl TargetInput {
    /// The rules: a month, finite values, the at-risk limit on the bad side of the target.
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
        e.into_result().map(|()| from.unwrap_or(Period { year: 1970, month: 1 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn formulas_on_hand_computed_cases_and_no_data_never_nan() {
        // Defect rate: 42 rejected of 5,000 produced = 0.84 %.
        assert_eq!(percent(42.0, 5000.0), Some(0.84));
        // Nothing produced: no data, not 0 % and not NaN.
        assert_eq!(percent(0.0, 0.0), None);
        assert_eq!(percent(3.0, 0.0), None);
        assert_eq!(percent(f64::NAN, 10.0), None);
        // COPQ: (1,200 + 800 + 500 + 300) / 40,000 = 7 %.
        assert_eq!(percent(1200.0 + 800.0 + 500.0 + 300.0, 40_000.0), Some(7.0));
        assert_eq!(median(&mut [9.0, 3.0, 40.0]), Some(9.0));
        assert_eq!(median(&mut [10.0, 20.0, 4.0, 30.0]), Some(15.0));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn judging_against_target_and_band_both_directions() {
        let defect = Kpi::DefectRate.def().target; // ≤ 1 % on target, ≤ 1.5 % at risk
        let cases = [
            (Some(0.5), KpiStatus::OnTarget),
            (Some(1.0), KpiStatus::OnTarget),
            (Some(1.2), KpiStatus::AtRisk),
            (Some(1.5), KpiStatus::AtRisk),
            (Some(1.51), KpiStatus::OffTarget),
            (None, KpiStatus::NoData),
            (Some(f64::INFINITY), KpiStatus::NoData),
        ];
        for (v, want) in cases {
            assert_eq!(Kpi::DefectRate.judge(v, defect), want, "{v:?}");
        }
        let training = Kpi::TrainingCompletion.def().target; // ≥ 95 % on target, ≥ 90 % at risk
        assert_eq!(Kpi::TrainingCompletion.judge(Some(96.0), training), KpiStatus::OnTarget);
        assert_eq!(Kpi::TrainingCompletion.judge(Some(92.0), training), KpiStatus::AtRisk);
        assert_eq!(Kpi::TrainingCompletion.judge(Some(80.0), training), KpiStatus::OffTarget);
        assert_eq!(Kpi::OverdueWork.judge(Some(0.0), Kpi::OverdueWork.def().target), KpiStatus::OnTarget);
        assert_eq!(Kpi::OverdueWork.judge(Some(6.0), Kpi::OverdueWork.def().target), KpiStatus::OffTarget);
    }

    #[test]
    fn periods_are_months() {
        let p = Period::of(d("2026-01-15"));
        assert_eq!(p.to_string(), "2026-01");
        assert_eq!(p.prev().to_string(), "2025-12");
        let last = p.last(12);
        assert_eq!((last[0].to_string(), last[11].to_string()), ("2025-02".into(), "2026-01".into()));
        assert_eq!(Period::parse("2026-13"), None);
        assert_eq!(Period::parse("26-01"), None);
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2026-01\"");
        assert!(serde_json::from_str::<Period>("\"2026-1\"").is_err());
    }

    #[test]
    fn a_tile_uses_the_target_of_each_month() {
        let periods = Period::of(d("2026-03-01")).last(3);
        let changed = Period::of(d("2026-03-01"));
        let tile = Tile::build(
            Kpi::DefectRate,
            &periods,
            |p| if p >= changed { Target { value: 0.8, at_risk: 1.2 } } else { Kpi::DefectRate.def().target },
            |p| (p.month != 2).then_some(0.9),
            "/x",
        );
        assert_eq!(tile.period, Some(changed));
        let targets: Vec<f64> = tile.trend.iter().map(|t| t.target).collect();
        assert_eq!(targets, vec![1.0, 1.0, 0.8]);
        let statuses: Vec<KpiStatus> = tile.trend.iter().map(|t| t.status).collect();
        assert_eq!(statuses, vec![KpiStatus::OnTarget, KpiStatus::NoData, KpiStatus::AtRisk]);
        assert_eq!((tile.value, tile.status), (Some(0.9), KpiStatus::AtRisk));
        // A month without data yet: the headline is the month before, against its target.
        let open = Tile::build(
            Kpi::DefectRate,
            &periods,
            |_| Kpi::DefectRate.def().target,
            |p| (p.month == 2).then_some(1.2),
            "/x",
        );
        assert_eq!((open.value, open.period, open.status), (Some(1.2), Some(periods[1]), KpiStatus::AtRisk));
    }

    #[test]
    fn measurement_rules_and_csv_problems_with_line_and_column() {
        let today = d("2026-12-02");
        let ok = MeasurementInput {
            series: Series::UnitsProduced,
            period: "2026-11".into(),
            value: 5000.0,
            source: "ERP".into(),
        };
        assert!(ok.validate(today).is_ok());
        let bad = MeasurementInput { value: 2.5, period: "2027-01".into(), source: String::new(), ..ok.clone() };
        let e = bad.validate(today).unwrap_err();
        for f in ["value", "period", "source"] {
            assert!(e.get(f).is_some(), "{f}");
        }
        let csv = "series,period,value,source\r\nunits_produced,2026-10,5000,ERP\r\nunits_rejected,2026-10,42,MES\r\n";
        assert_eq!(read_measurements_csv(csv, today).unwrap().len(), 2);
        let bad_csv = "series,period,value,source\nunits_produced,2026-10,5000,ERP\nwidgets,2026-10,1,ERP\nunits_rejected,2026/10,4x,MES\n";
        let problems = read_measurements_csv(bad_csv, today).unwrap_err();
        let seen: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(seen, vec![(3, "series"), (4, "value")]);
        let bad_period = "series,period,value,source\nunits_rejected,2026/10,4,MES\n";
        assert_eq!(read_measurements_csv(bad_period, today).unwrap_err()[0].column, "period");
    }

    #[test]
    fn a_target_sits_on_the_right_side() {
        let t = |kpi, value, at_risk| TargetInput { kpi, from: "2026-06".into(), value, at_risk };
        assert!(t(Kpi::DefectRate, 1.0, 1.5).validate().is_ok());
        assert!(t(Kpi::DefectRate, 1.0, 0.5).validate().unwrap_err().get("at_risk").is_some());
        assert!(t(Kpi::TrainingCompletion, 95.0, 90.0).validate().is_ok());
        assert!(t(Kpi::TrainingCompletion, 95.0, 99.0).validate().is_err());
        let no_month = TargetInput { from: "June".into(), ..t(Kpi::Copq, 5.0, 7.0) };
        assert!(no_month.validate().unwrap_err().get("from").is_some());
    }
}
