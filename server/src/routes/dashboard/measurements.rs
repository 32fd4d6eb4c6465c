//! Measurements from outside systems (ERP, MES, finance): listed, recorded as JSON (a
//! correction keeps the old value in the audit trail), and imported from a CSV or an XLSX
//! workbook, all rows or none, every problem named where a person finds it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::List;
use shared::kpi::{
    Measurement, MeasurementInput, Period, RowProblem, Series, read_measurement_rows, read_measurements_csv,
};

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::storage::AuditContext;

/// Query of the measurement list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeasurementQuery {
    /// One series.
    pub series: Option<String>,
    /// From this month on (`YYYY-MM`).
    pub from: Option<String>,
}

/// Measurements by month.
#[utoipa::path(get, path = "/api/v1/measurements", tag = "dashboard", params(MeasurementQuery),
    responses((status = 200, body = List<Measurement>), (status = 422, body = shared::ErrorBody)))]
pub async fn list_measurements(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MeasurementQuery>,
) -> ApiResult<Json<List<Measurement>>> {
    let series = match q.series.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            Series::parse(s).ok_or_else(|| ApiError::invalid_field("series".into(), "unknown", "No such series."))?,
        ),
    };
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            Period::parse(s).ok_or_else(|| ApiError::invalid_field("from".into(), "format", "A month is YYYY-MM."))?,
        ),
    };
    Ok(Json(List { items: state.store.list_measurements(series, from).await? }))
}

/// What an import or a batch of measurements did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recorded {
    /// Rows read.
    pub rows: usize,
    /// Measurements created or corrected (an unchanged value is not counted).
    pub changed: usize,
}

/// Record measurements: one object or a list. A month already recorded is corrected (the
/// audit trail keeps the old value). All or none: any bad row is a 422 naming `[i].field`.
#[utoipa::path(post, path = "/api/v1/measurements", tag = "dashboard", request_body = Vec<MeasurementInput>,
    responses((status = 200, body = Recorded), (status = 422, body = shared::ErrorBody)))]
pub async fn record_measurements(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(body): ApiJson<OneOrMany>,
) -> ApiResult<Json<Recorded>> {
    let rows = match body {
        OneOrMany::One(m) => vec![m],
        OneOrMany::Many(list) => list,
    };
    let today = Utc::now().date_naive();
    let mut errors = shared::FieldErrors::new();
    let mut checked = Vec::with_capacity(rows.len());
    for (i, mut m) in rows.into_iter().enumerate() {
        m.source = m.source.trim().to_string();
        match m.validate(today) {
            Ok(p) => checked.push((m, p)),
            Err(e) => {
                for (field, codes) in e.0 {
                    for code in codes {
                        errors.add(format!("[{i}].{field}"), code);
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors).with_message("Some measurements are not valid; nothing was saved."));
    }
    let changed = state.store.record_measurements(&ctx, &checked).await?;
    Ok(Json(Recorded { rows: checked.len(), changed }))
}

/// One measurement or a list of them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A list.
    Many(Vec<MeasurementInput>),
    /// One.
    One(MeasurementInput),
}

/// The most an imported workbook may unpack to (its parts' declared sizes).
const XLSX_MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// The media type of an XLSX workbook.
pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Import measurements from a CSV (`series,period,value,source`, UTF-8) or an XLSX workbook
/// (its first sheet, the same columns; sent as `application/vnd.openxmlformats-officedocument.
/// spreadsheetml.sheet`, or recognised by its zip header): all rows, or none and a 422 listing
/// every problem with its line (row) and column.
#[utoipa::path(post, path = "/api/v1/measurements/import", tag = "dashboard",
    request_body(content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, body = Recorded), (status = 422, body = ImportProblems)))]
pub async fn import_measurements(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ctx: AuditContext,
    body: Bytes,
) -> ApiResult<Response> {
    let today = Utc::now().date_naive();
    let declared_xlsx = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(XLSX_MEDIA_TYPE));
    // A workbook is a zip archive: "PK\x03\x04" whatever the client called it.
    let (read, sheet) = if declared_xlsx || body.starts_with(b"PK\x03\x04") {
        let bytes = body.clone();
        let sheet = tokio::task::spawn_blocking(move || read_first_sheet(&bytes))
            .await
            .map_err(|_| ApiError::internal("reading the workbook failed"))?
            .map_err(|why| ApiError::invalid_field("file".into(), "format", &why))?;
        (read_measurement_rows(&sheet.rows, today), Some(sheet))
    } else {
        let Ok(text) = std::str::from_utf8(&body) else {
            return Err(ApiError::invalid_field(
                "file".into(),
                "encoding",
                "The file is not UTF-8; save it as CSV UTF-8.",
            ));
        };
        (read_measurements_csv(text, today), None)
    };
    match read {
        Ok(rows) => {
            let checked: Vec<_> = rows
                .into_iter()
                .map(|m| {
                    let p = Period::parse(&m.period).unwrap_or(Period::of(today));
                    (m, p)
                })
                .collect();
            let changed = state.store.record_measurements(&ctx, &checked).await?;
            Ok(Json(Recorded { rows: checked.len(), changed }).into_response())
        }
        Err(problems) => {
            let mut field_errors = shared::FieldErrors::new();
            let mut named = Vec::with_capacity(problems.len());
            for p in &problems {
                let key = match &sheet {
                    // "row 3, column C (value)": where a person finds it in Excel.
                    Some(sheet) => sheet.place(p),
                    None => format!("line {}.{}", p.line, p.column),
                };
                named.push(format!("{key}: {}", problem_words(p)));
                field_errors.add(key, p.code.clone());
            }
            let what = if sheet.is_some() { "workbook" } else { "file" };
            let message =
                format!("{} problem(s) in the {what}; nothing was imported: {}.", problems.len(), named.join("; "));
            let body = ImportProblems { message, field_errors, problems };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
    }
}

/// A problem's code in words.
fn problem_words(p: &RowProblem) -> &'static str {
    match (p.column.as_str(), p.code.as_str()) {
        ("value", "format") => "not a number",
        ("period", "format") => "not a month (YYYY-MM)",
        ("period", "invalid") => "a month in the future",
        ("value", "invalid") => "negative, or not a whole number for a count",
        ("series", "unknown") => "no such series",
        ("header", _) => "the header must name series, period, value and source",
        (_, "required") => "required",
        (_, "too_long") => "too long",
        (_, "control_characters") => "control characters",
        _ => "not valid",
    }
}

/// A workbook's first sheet as a table of text cells, with the sheet's row numbers and the
/// position of its first column (the used range need not start at A1).
struct Sheet {
    rows: Vec<(usize, Vec<String>)>,
    first_col: u32,
}

impl Sheet {
    /// Where a problem is, as Excel names it: `row 3, column C (value)`.
    fn place(&self, p: &RowProblem) -> String {
        let header = self.rows.first().map(|(_, cells)| shared::kpi::measurement_header(cells)).unwrap_or_default();
        match header.iter().position(|n| *n == p.column) {
            Some(i) => format!("row {}, column {} ({})", p.line, column_letters(self.first_col + i as u32), p.column),
            None if p.column.is_empty() => format!("row {}", p.line),
            None => format!("row {}, {}", p.line, p.column),
        }
    }
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`.
fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Reads the first sheet of an XLSX workbook into text cells, as a CSV would have them: numbers
/// as written (whole numbers without a decimal point), a date cell (Excel turns `2026-11` typed
/// into a cell into 1 November 2026) as its month `YYYY-MM`.
fn read_first_sheet(bytes: &[u8]) -> Result<Sheet, String> {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let not_a_workbook =
        |e: &dyn std::fmt::Display| format!("The file is not an XLSX workbook that can be read ({e}).");
    // A workbook is a zip archive: 1 MiB of upload can unpack to gigabytes. The parts' sizes as
    // the archive declares them are checked first (the upload needs ManageMeasurements, so this
    // guards against a mistaken file more than a determined attacker, who could declare less).
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| not_a_workbook(&e))?;
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        unpacked += archive.by_index_raw(i).map_err(|e| not_a_workbook(&e))?.size();
    }
    if unpacked > XLSX_MAX_UNPACKED {
        return Err(format!(
            "The workbook unpacks to {} MiB, more than the {} MiB a measurements import may hold.",
            unpacked / (1024 * 1024),
            XLSX_MAX_UNPACKED / (1024 * 1024)
        ));
    }
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|e| not_a_workbook(&e))?;
    let range = match book.worksheet_range_at(0) {
        None => return Err("The workbook has no sheet.".into()),
        Some(r) => r.map_err(|e| not_a_workbook(&e))?,
    };
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let text = |d: &Data| match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Data::DateTime(dt) if dt.is_datetime() => excel_month(dt.as_f64()).unwrap_or_else(|| dt.as_f64().to_string()),
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::DateTimeIso(s) if s.len() >= 7 && s.as_bytes()[4] == b'-' => s[..7].to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    };
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| (first_row as usize + i + 1, cells.iter().map(text).collect()))
        .collect();
    Ok(Sheet { rows, first_col })
}

/// The month `YYYY-MM` of an Excel date serial (days since 30 December 1899, the 1900 system).
fn excel_month(serial: f64) -> Option<String> {
    let days = u64::try_from(serial.floor() as i64).ok()?;
    let day = NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(Days::new(days))?;
    Some(Period::of(day).to_string())
}

/// Why an import was refused (our error envelope, with the problems listed): every problem,
/// with its line (a workbook's row) and column.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportProblems {
    /// In words.
    pub message: String,
    /// The problems as field errors, keyed `line N.column` (CSV) or `row N, column C (name)`
    /// (workbook).
    pub field_errors: shared::FieldErrors,
    /// Every problem.
    pub problems: Vec<RowProblem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_dates_as_excel_names_them() {
        let letters: Vec<String> = [0, 2, 25, 26, 27, 701, 702].into_iter().map(column_letters).collect();
        assert_eq!(letters, ["A", "C", "Z", "AA", "AB", "ZZ", "AAA"]);
        // 46327 is 1 November 2026 in Excel's 1900 date system; 45658 is 1 January 2025.
        assert_eq!(excel_month(46327.0).as_deref(), Some("2026-11"));
        assert_eq!(excel_month(45658.5).as_deref(), Some("2025-01"));
        assert_eq!(excel_month(-3.0), None);
    }
}
