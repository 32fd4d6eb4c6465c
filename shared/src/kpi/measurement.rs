//! Measurements from outside systems (ERP, MES, finance): the series, one value per month,
//! their rules, and the CSV they are imported from.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Period;
use crate::FieldErrors;
use crate::validation::{self, FORMAT, INVALID, REQUIRED};

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
    let records = crate::csv::read(text)
        .map_err(|e| vec![RowProblem { line: e.line, column: String::new(), code: FORMAT.into() }])?;
    let rows: Vec<(usize, Vec<String>)> = records.into_iter().map(|r| (r.line, r.cells)).collect();
    read_measurement_rows(&rows, today)
}

/// The column names of a measurements table's header row (trimmed, lower case, without a
/// byte-order mark), by position.
pub fn measurement_header(cells: &[String]) -> Vec<String> {
    cells.iter().map(|c| c.trim().trim_start_matches('\u{feff}').to_lowercase()).collect()
}

/// Reads a measurements table of any origin (a CSV, a workbook's sheet): `(line or row number,
/// cells)`, the first being the header (`series`, `period`, `value`, `source` in any order).
/// Every row, or every problem with its line and column (nothing is imported while one remains).
pub fn read_measurement_rows(
    records: &[(usize, Vec<String>)],
    today: NaiveDate,
) -> Result<Vec<MeasurementInput>, Vec<RowProblem>> {
    let problem = |line: usize, column: &str, code: &str| RowProblem { line, column: column.into(), code: code.into() };
    let mut problems = Vec::new();
    let Some((header_line, header)) = records.first() else { return Err(vec![problem(1, "", REQUIRED)]) };
    let names = measurement_header(header);
    let col = |name: &str| names.iter().position(|n| n == name);
    let (Some(s), Some(p), Some(v), Some(src)) = (col("series"), col("period"), col("value"), col("source")) else {
        return Err(vec![problem(*header_line, "header", FORMAT)]);
    };
    let mut rows = Vec::new();
    for (line, cells) in &records[1..] {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = *line;
        let cell = |i: usize| cells.get(i).map(|c| c.trim().to_string()).unwrap_or_default();
        let series = Series::parse(&cell(s));
        if series.is_none() {
            problems.push(problem(line, "series", if cell(s).is_empty() { REQUIRED } else { "unknown" }));
        }
        let value = cell(v).parse::<f64>();
        if value.is_err() {
            problems.push(problem(line, "value", if cell(v).is_empty() { REQUIRED } else { FORMAT }));
        }
        let (Some(series), Ok(value)) = (series, value) else { continue };
        let input = MeasurementInput { series, period: cell(p), value, source: cell(src) };
        match input.validate(today) {
            Ok(_) => rows.push(input),
            Err(e) => {
                for (field, codes) in e.0 {
                    for code in codes {
                        problems.push(problem(line, &field, &code));
                    }
                }
            }
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}
