//! A worksheet as CSV: the header and cells of an export, and an import's rules (every problem
//! named by line and column, nothing imported unless asked to take the good rows only).

use super::*;

/// The largest CSV file a worksheet import takes (the browser says so before sending; the
/// server answers 413 above it).
pub const IMPORT_LIMIT_BYTES: usize = 20 * 1024 * 1024;

/// The header row of a kind's CSV.
pub fn csv_header(kind: FmeaKind) -> Vec<&'static str> {
    COLUMNS.iter().map(|c| if kind == FmeaKind::Pfmea { c.pfmea } else { c.dfmea }).collect()
}

fn num(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn date(v: Option<NaiveDate>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A row's CSV cells (in [`COLUMNS`] order); `username` gives the responsible person's username.
pub fn csv_cells(row: &RowCells, username: impl Fn(UserId) -> String) -> Vec<String> {
    let ap = |a: Option<ActionPriority>| a.map(|a| a.letter().to_string()).unwrap_or_default();
    COLUMNS
        .iter()
        .map(|c| match c.key {
            "structure_item" => row.structure_item.clone(),
            "structure_step" => row.structure_step.clone(),
            "structure_element" => row.structure_element.clone(),
            "element_type" => row.element_type.clone(),
            "function_item" => row.function_item.clone(),
            "function_step" => row.function_step.clone(),
            "function_element" => row.function_element.clone(),
            "failure_effect" => row.failure_effect.clone(),
            "severity" => num(row.severity),
            "failure_mode" => row.failure_mode.clone(),
            "failure_cause" => row.failure_cause.clone(),
            "prevention_controls" => row.prevention_controls.clone(),
            "occurrence" => num(row.occurrence),
            "detection_controls" => row.detection_controls.clone(),
            "detection" => num(row.detection),
            "ap" => ap(row.ap()),
            "rpn" => row.rpn().map(|r| r.to_string()).unwrap_or_default(),
            "special_characteristic" => row.special_characteristic.clone(),
            "filter_code" => row.filter_code.clone(),
            "prevention_action" => row.prevention_action.clone(),
            "detection_action" => row.detection_action.clone(),
            "responsible" => row.responsible_id.map(&username).unwrap_or_default(),
            "target_date" => date(row.target_date),
            "action_status" => row.action_status.label().to_string(),
            "action_taken" => row.action_taken.clone(),
            "evidence" => row.evidence.clone(),
            "completion_date" => date(row.completion_date),
            "revised_severity" => num(row.revised_severity),
            "revised_occurrence" => num(row.revised_occurrence),
            "revised_detection" => num(row.revised_detection),
            "revised_ap" => ap(row.revised_ap()),
            "remarks" => row.remarks.clone(),
            _ => String::new(),
        })
        .collect()
}

/// One problem in an imported file: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    /// The file's line (1 = the header).
    pub line: usize,
    /// The column's header text (empty for a problem with the whole row or file).
    pub column: String,
    /// Why, in words.
    pub reason: String,
}

/// Reads a worksheet CSV (Excel's dialect, as exported): every row's cells, or every problem
/// found (each with its line, column and reason). `user` finds a user by username, with
/// whether they are active: an open action needs an active responsible person, while a closed
/// one (completed, not implemented) keeps the person who had it, even after they left, so that
/// a worksheet exported years ago still imports.
pub fn parse_csv(
    kind: FmeaKind,
    text: &str,
    today: NaiveDate,
    user: impl Fn(&str) -> Option<(UserId, bool)>,
) -> (Vec<(usize, RowCells)>, Vec<ImportProblem>) {
    let mut problems = Vec::new();
    let records = match crate::csv::read(text) {
        Ok(r) => r,
        Err(e) => {
            problems.push(ImportProblem { line: e.line, column: String::new(), reason: e.reason });
            return (Vec::new(), problems);
        }
    };
    let Some((header, rows)) = records.split_first() else {
        problems.push(ImportProblem { line: 1, column: String::new(), reason: "The file is empty.".into() });
        return (Vec::new(), problems);
    };
    let expected = csv_header(kind);
    if header.cells.iter().map(String::as_str).collect::<Vec<_>>() != expected {
        let found = header.cells.iter().map(|c| c.trim()).collect::<Vec<_>>();
        let missing: Vec<_> = expected.iter().filter(|h| !found.contains(h)).copied().collect();
        let unknown: Vec<_> = found.iter().filter(|h| !expected.contains(h)).copied().collect();
        let mut reason = format!("The header row is not the {} worksheet's.", kind.label());
        if !missing.is_empty() {
            reason.push_str(&format!(" Missing: {}.", missing.join(", ")));
        }
        if !unknown.is_empty() {
            reason.push_str(&format!(" Not expected: {}.", unknown.join(", ")));
        }
        if missing.is_empty() && unknown.is_empty() {
            reason.push_str(" The columns are in another order; export a worksheet to see the order.");
        }
        problems.push(ImportProblem { line: header.line, column: String::new(), reason });
        return (Vec::new(), problems);
    }
    let mut out = Vec::new();
    for record in rows {
        if record.cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = record.line;
        let mut bad = |column: &str, reason: &str| {
            problems.push(ImportProblem { line, column: column.to_string(), reason: reason.to_string() });
        };
        if record.cells.len() != COLUMNS.len() {
            bad("", &format!("This row has {} cells; the header has {}.", record.cells.len(), COLUMNS.len()));
            continue;
        }
        let mut cells = RowCells::default();
        let mut inactive_responsible = None;
        let before = problems.len();
        for (c, value) in COLUMNS.iter().zip(&record.cells) {
            let header = if kind == FmeaKind::Pfmea { c.pfmea } else { c.dfmea };
            let v = value.trim();
            let mut number = |target: &mut Option<i64>| {
                if v.is_empty() {
                    return;
                }
                match v.parse::<i64>() {
                    Ok(n) => *target = Some(n),
                    Err(_) => problems.push(ImportProblem {
                        line,
                        column: header.to_string(),
                        reason: format!("“{v}” is not a whole number from 1 to 10."),
                    }),
                }
            };
            match c.key {
                "severity" => number(&mut cells.severity),
                "occurrence" => number(&mut cells.occurrence),
                "detection" => number(&mut cells.detection),
                "revised_severity" => number(&mut cells.revised_severity),
                "revised_occurrence" => number(&mut cells.revised_occurrence),
                "revised_detection" => number(&mut cells.revised_detection),
                "target_date" | "completion_date" => {
                    if !v.is_empty() {
                        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                            Ok(d) if c.key == "target_date" => cells.target_date = Some(d),
                            Ok(d) => cells.completion_date = Some(d),
                            Err(_) => problems.push(ImportProblem {
                                line,
                                column: header.to_string(),
                                reason: format!("“{v}” is not a date (YYYY-MM-DD)."),
                            }),
                        }
                    }
                }
                "responsible" => {
                    if !v.is_empty() {
                        match user(&v.to_lowercase()) {
                            Some((id, active)) => {
                                cells.responsible_id = Some(id);
                                if !active {
                                    inactive_responsible = Some((header, v.to_string()));
                                }
                            }
                            None => problems.push(ImportProblem {
                                line,
                                column: header.to_string(),
                                reason: format!("No user has the username “{v}”."),
                            }),
                        }
                    }
                }
                "action_status" => match ActionStatus::parse(v) {
                    Some(s) => cells.action_status = s,
                    None => problems.push(ImportProblem {
                        line,
                        column: header.to_string(),
                        reason: format!(
                            "“{v}” is not a status (Open, Decision pending, Implementation pending, Completed, Not implemented)."
                        ),
                    }),
                },
                key => {
                    if let Some(target) = text_cell(&mut cells, key) {
                        *target = value.clone();
                    }
                }
            }
        }
        if let Some((header, username)) = inactive_responsible
            && cells.action_status.is_pending()
        {
            problems.push(ImportProblem {
                line,
                column: header.to_string(),
                reason: format!("“{username}” is deactivated: an open action needs an active responsible person."),
            });
        }
        if problems.len() > before {
            continue;
        }
        let cells = cells.normalized();
        // A file brings recorded rows: their target dates stand as recorded (an overdue action
        // stays overdue), so the past-date rule for new actions does not apply.
        if let Err(e) = cells.validate(today, Some(&cells)) {
            for (field, codes) in e.0 {
                let header = COLUMNS
                    .iter()
                    .find(|c| c.key == field || (field == "responsible_id" && c.key == "responsible"))
                    .map(|c| if kind == FmeaKind::Pfmea { c.pfmea } else { c.dfmea })
                    .unwrap_or_default();
                for code in codes {
                    problems.push(ImportProblem {
                        line,
                        column: header.to_string(),
                        reason: crate::validation::describe(&code).to_string(),
                    });
                }
            }
            continue;
        }
        out.push((line, cells));
    }
    (out, problems)
}

fn text_cell<'a>(cells: &'a mut RowCells, key: &str) -> Option<&'a mut String> {
    Some(match key {
        "structure_item" => &mut cells.structure_item,
        "structure_step" => &mut cells.structure_step,
        "structure_element" => &mut cells.structure_element,
        "element_type" => &mut cells.element_type,
        "function_item" => &mut cells.function_item,
        "function_step" => &mut cells.function_step,
        "function_element" => &mut cells.function_element,
        "failure_effect" => &mut cells.failure_effect,
        "failure_mode" => &mut cells.failure_mode,
        "failure_cause" => &mut cells.failure_cause,
        "prevention_controls" => &mut cells.prevention_controls,
        "detection_controls" => &mut cells.detection_controls,
        "special_characteristic" => &mut cells.special_characteristic,
        "filter_code" => &mut cells.filter_code,
        "prevention_action" => &mut cells.prevention_action,
        "detection_action" => &mut cells.detection_action,
        "action_taken" => &mut cells.action_taken,
        "evidence" => &mut cells.evidence,
        "remarks" => &mut cells.remarks,
        _ => return None,
    })
}

/// The worksheet as CSV (header and one line per row), as exported and imported.
pub fn to_csv(kind: FmeaKind, rows: &[RowCells], username: impl Fn(UserId) -> String) -> String {
    let mut out = crate::csv::header(csv_header(kind));
    for r in rows {
        out.push_str(&crate::csv::row(csv_cells(r, &username)));
    }
    out
}
