//! Excel workbooks (rust_xlsxwriter): the FMEA worksheet (header, the handbook's column groups in
//! colour, one row per failure chain, AP letters on their colours) and the training matrix (the
//! statuses in words on their colours).

use std::collections::HashMap;

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use shared::training::{CellStatus, Matrix};
use shared::worksheet::{COLUMNS, FmeaKind, Worksheet, csv_cells};

/// (group label, first column key, last column key, colour): as in the grid.
const GROUPS: &[(&str, &str, &str, u32)] = &[
    ("Structure analysis (step 2)", "structure_item", "element_type", 0x3b5b7a),
    ("Function analysis (step 3)", "function_item", "function_element", 0x4b6e4f),
    ("Failure analysis (step 4)", "failure_effect", "failure_cause", 0x7a4b3b),
    ("Risk analysis (step 5)", "prevention_controls", "filter_code", 0x6a4f86),
    ("Optimization (step 6)", "prevention_action", "remarks", 0x2f6f73),
];

fn ap_format(ap: &str) -> Format {
    let (fill, ink) = match ap {
        "H" => (0xc62828, 0xffffff),
        "M" => (0xf9a825, 0x1b2430),
        "L" => (0x2e7d32, 0xffffff),
        _ => (0xffffff, 0x1b2430),
    };
    Format::new()
        .set_background_color(Color::RGB(fill))
        .set_font_color(Color::RGB(ink))
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin)
}

/// The workbook's bytes. `usernames` maps user ids to usernames (the responsible column, as in
/// the CSV).
pub fn worksheet(sheet: &Worksheet, usernames: &HashMap<i64, String>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let f = &sheet.fmea;
    let safe: String = f.fmea_number.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    ws.set_name(if safe.is_empty() { "FMEA" } else { safe.as_str() })?;
    let title = Format::new().set_bold().set_font_size(14);
    let meta = Format::new().set_font_color(Color::RGB(0x5b6776));
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xeef2f7));
    let cell = Format::new().set_text_wrap().set_border(FormatBorder::Thin).set_align(FormatAlign::Top);
    let number =
        Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::Center).set_align(FormatAlign::Top);

    ws.write_string_with_format(0, 0, format!("{} {} — {}", f.kind.label(), f.fmea_number, f.subject), &title)?;
    let team = f.team.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
    let lines = [
        format!(
            "Company: {} · Location: {} · Customer: {} · Model year/program: {}",
            f.company, f.location, f.customer, f.model_year
        ),
        format!(
            "Process: {} · Responsibility: {} · Team: {team} · Start: {} · Revision: {} · Confidentiality: {}",
            f.process_name,
            f.responsible_name,
            f.start_date,
            f.revision_date,
            f.confidentiality.label()
        ),
    ];
    for (i, line) in lines.iter().enumerate() {
        ws.write_string_with_format(1 + i as u32, 0, line, &meta)?;
    }
    let group_row = 4;
    let head_row = 5;
    for (label, first, last, colour) in GROUPS {
        let a = COLUMNS.iter().position(|c| c.key == *first).unwrap_or(0) as u16;
        let b = COLUMNS.iter().position(|c| c.key == *last).unwrap_or(0) as u16;
        let fmt = Format::new()
            .set_bold()
            .set_font_color(Color::White)
            .set_background_color(Color::RGB(*colour))
            .set_border(FormatBorder::Thin);
        ws.merge_range(group_row, a, group_row, b, label, &fmt)?;
    }
    for (i, c) in COLUMNS.iter().enumerate() {
        let label = if f.kind == FmeaKind::Pfmea { c.pfmea } else { c.dfmea };
        ws.write_string_with_format(head_row, i as u16, label, &head)?;
        let width = match c.key {
            "severity" | "occurrence" | "detection" | "revised_severity" | "revised_occurrence"
            | "revised_detection" => 5.0,
            "ap" | "revised_ap" | "rpn" => 6.0,
            "target_date" | "completion_date" => 11.0,
            "element_type" | "special_characteristic" | "filter_code" => 11.0,
            _ => 26.0,
        };
        ws.set_column_width(i as u16, width)?;
    }
    ws.set_row_height(head_row, 42)?;
    for (n, row) in sheet.rows.iter().enumerate() {
        let r = head_row + 1 + n as u32;
        let values = csv_cells(&row.cells, |id| usernames.get(&id.0).cloned().unwrap_or_default());
        for (i, (c, v)) in COLUMNS.iter().zip(values).enumerate() {
            let col = i as u16;
            match c.key {
                "ap" | "revised_ap" => {
                    ws.write_string_with_format(r, col, &v, &ap_format(&v))?;
                }
                "severity" | "occurrence" | "detection" | "revised_severity" | "revised_occurrence"
                | "revised_detection" | "rpn"
                    if !v.is_empty() =>
                {
                    ws.write_number_with_format(r, col, v.parse::<f64>().unwrap_or_default(), &number)?;
                }
                _ => {
                    // The CSV neutralises formulas with a leading quote; a workbook cell is text
                    // anyway, so the value is written as it is.
                    let text = shared::csv::restore(&v);
                    ws.write_string_with_format(r, col, text, &cell)?;
                }
            }
        }
        if row.cells.needs_management_review() {
            let col = COLUMNS.iter().position(|c| c.key == "remarks").unwrap_or(0) as u16 + 1;
            ws.write_string(r, col, "Management review (S 9–10, AP H/M)")?;
        }
    }
    ws.set_freeze_panes(head_row + 1, 0)?;
    ws.autofilter(head_row, 0, head_row + sheet.rows.len() as u32, COLUMNS.len() as u16 - 1)?;
    book.save_to_buffer()
}

/// (fill, ink) of a training matrix cell's status, as the app colours them (none: not required,
/// left blank).
fn status_colours(s: CellStatus) -> Option<(u32, u32)> {
    match s {
        CellStatus::NotRequired => None,
        CellStatus::Assigned => Some((0xe6eefb, 0x1f4e79)),
        CellStatus::DueSoon => Some((0xfff4dc, 0x8a5a00)),
        CellStatus::Overdue => Some((0xfdecea, 0xb3261e)),
        CellStatus::Completed => Some((0xe6f4ec, 0x1e7b46)),
        CellStatus::Expired => Some((0x8a1c1c, 0xffffff)),
        CellStatus::Superseded => Some((0xd9dde3, 0x374151)),
        CellStatus::Exempt => Some((0xf3f4f6, 0x455a64)),
    }
}

/// The training matrix as a workbook: one row per person (name, department), one column per
/// requirement (its title, with the document's number), each cell the status in words on its
/// colour (the words carry it without colour); the header row and the name column frozen, an
/// autofilter over the whole table.
pub fn training_matrix(m: &Matrix) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("Training matrix")?;
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xeef2f7));
    let name = Format::new().set_bold().set_border(FormatBorder::Thin);
    let plain = Format::new().set_border(FormatBorder::Thin);
    let formats: Vec<(CellStatus, Format)> = CellStatus::ALL
        .into_iter()
        .map(|s| {
            let f = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::Center);
            let f = match status_colours(s) {
                Some((fill, ink)) => f.set_background_color(Color::RGB(fill)).set_font_color(Color::RGB(ink)),
                None => f,
            };
            (s, f)
        })
        .collect();
    ws.write_string_with_format(0, 0, "Person", &head)?;
    ws.write_string_with_format(0, 1, "Department", &head)?;
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 18)?;
    for (r, q) in m.requirements.iter().enumerate() {
        let title = match &q.document_number {
            Some(n) => format!("{} ({n})", q.title),
            None => q.title.clone(),
        };
        let col = 2 + r as u16;
        ws.write_string_with_format(0, col, title, &head)?;
        ws.set_column_width(col, 16)?;
    }
    ws.set_row_height(0, 48)?;
    for (p, person) in m.people.iter().enumerate() {
        let row = 1 + p as u32;
        ws.write_string_with_format(row, 0, &person.name, &name)?;
        ws.write_string_with_format(row, 1, person.department.as_deref().unwrap_or(""), &plain)?;
        for r in 0..m.requirements.len() {
            let s = m.cell(p, r);
            let f = formats.iter().find(|(k, _)| *k == s).map_or(&plain, |(_, f)| f);
            let words = if s == CellStatus::NotRequired { "" } else { s.label() };
            ws.write_string_with_format(row, 2 + r as u16, words, f)?;
        }
    }
    ws.set_freeze_panes(1, 1)?;
    ws.autofilter(0, 0, m.people.len() as u32, 1 + m.requirements.len() as u16)?;
    book.save_to_buffer()
}
