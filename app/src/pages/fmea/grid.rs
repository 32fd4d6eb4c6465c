//! The FMEA worksheet as a spreadsheet-like grid: only the rows in view are in the DOM (a
//! 10,000-row worksheet scrolls like a 40-row one); arrow keys, Enter/F2 to edit, Esc to cancel,
//! Tab to save and move right; ratings are checked as you type and the AP badge (with the
//! reason) follows the typed value before anything is saved. Each row saves on its own with its
//! version. Edits of a row are a *draft* until the row passes the shared row rules (an action
//! needs its responsible person and target date, say), so a row can be completed cell by cell
//! and nothing typed is lost: a refused save stays as the draft. Someone else's save of the same
//! row merges cell by cell; only when we both changed the same cell is there a side-by-side
//! choice. Their saves appear live without touching the cell being edited.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::FieldErrors;
use shared::auth::UserSummary;
use shared::fmea::ActionPriority;
use shared::worksheet::{ActionStatus, COLUMNS, Fmea, FmeaKind, Row, RowCells, RowId, RowInput, RowMerge};

use crate::api::{self, ApiError};
use crate::session::Changes;

/// Row height in pixels (fixed, so the window of rows in view is computed, not measured); in
/// styles as a whole number: formatting an `f64` would bring Rust's float printing (~13 KB of
/// code) into the worksheet's chunk for nothing.
const ROW_PX: usize = 34;
/// [`ROW_PX`], for the scroll arithmetic.
pub const ROW_H: f64 = ROW_PX as f64;
/// Rows rendered above and below the ones in view.
const OVERSCAN: usize = 8;

/// How a column is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Rating,
    Date,
    User,
    Status,
    Computed,
}

fn kind(key: &str) -> Kind {
    match key {
        "severity" | "occurrence" | "detection" | "revised_severity" | "revised_occurrence" | "revised_detection" => {
            Kind::Rating
        }
        "target_date" | "completion_date" => Kind::Date,
        "responsible" => Kind::User,
        "action_status" => Kind::Status,
        "ap" | "rpn" | "revised_ap" => Kind::Computed,
        _ => Kind::Text,
    }
}

fn width(key: &str) -> u32 {
    match kind(key) {
        Kind::Rating => 46,
        Kind::Computed => {
            if key == "rpn" {
                56
            } else {
                74
            }
        }
        Kind::Date => 118,
        Kind::User => 150,
        Kind::Status => 170,
        Kind::Text => match key {
            "element_type" | "special_characteristic" | "filter_code" => 100,
            "structure_item" => 150,
            "failure_mode" | "failure_effect" | "failure_cause" => 230,
            _ => 200,
        },
    }
}

/// The column groups of the handbook's steps: (label, first column, last column).
const GROUPS: &[(&str, &str, &str)] = &[
    ("Structure analysis (step 2)", "structure_item", "element_type"),
    ("Function analysis (step 3)", "function_item", "function_element"),
    ("Failure analysis (step 4)", "failure_effect", "failure_cause"),
    ("Risk analysis (step 5)", "prevention_controls", "filter_code"),
    ("Optimization (step 6)", "prevention_action", "remarks"),
];

/// The grid's full width in pixels.
pub fn total_width() -> u32 {
    52 + COLUMNS.iter().map(|c| width(c.key)).sum::<u32>() + RISKS_W
}

/// Width of the last column, the risks that cite the row.
const RISKS_W: u32 = 190;

/// The grid template: a row-number column, then every column's width.
pub fn template() -> String {
    let mut t = String::from("52px");
    for c in COLUMNS {
        t.push_str(&format!(" {}px", width(c.key)));
    }
    t.push_str(&format!(" {RISKS_W}px"));
    t
}

/// A cell's text as shown (and as the editor starts).
pub fn cell_text(row: &RowCells, key: &str, users: &[UserSummary]) -> String {
    match key {
        "responsible" => row
            .responsible_id
            .and_then(|id| users.iter().find(|u| u.id == id).map(|u| u.full_name.clone()))
            .unwrap_or_default(),
        "action_status" => row.action_status.label().to_string(),
        "ap" => row.ap().map(|a| a.letter().to_string()).unwrap_or_default(),
        "revised_ap" => row.revised_ap().map(|a| a.letter().to_string()).unwrap_or_default(),
        "rpn" => row.rpn().map(|r| r.to_string()).unwrap_or_default(),
        _ => shared::worksheet::csv_cells(row, |_| String::new())
            [COLUMNS.iter().position(|c| c.key == key).unwrap_or_default()]
        .clone(),
    }
}

/// The value typed into the editor, applied to a row's cells; `Err` with the field's error
/// code when it cannot be (e.g. "eleven" for S).
fn apply(cells: &mut RowCells, key: &str, text: &str, users: &[UserSummary]) -> Result<(), &'static str> {
    let t = text.trim();
    let rating = |t: &str| -> Result<Option<i64>, &'static str> {
        if t.is_empty() {
            return Ok(None);
        }
        match t.parse::<i64>() {
            Ok(v) if (1..=10).contains(&v) => Ok(Some(v)),
            _ => Err(shared::fmea::RATING_OUT_OF_RANGE),
        }
    };
    let date = |t: &str| -> Result<Option<chrono::NaiveDate>, &'static str> {
        if t.is_empty() {
            return Ok(None);
        }
        t.parse().map(Some).map_err(|_| shared::worksheet::NOT_A_DATE)
    };
    match key {
        "severity" => cells.severity = rating(t)?,
        "occurrence" => cells.occurrence = rating(t)?,
        "detection" => cells.detection = rating(t)?,
        "revised_severity" => cells.revised_severity = rating(t)?,
        "revised_occurrence" => cells.revised_occurrence = rating(t)?,
        "revised_detection" => cells.revised_detection = rating(t)?,
        "target_date" => cells.target_date = date(t)?,
        "completion_date" => cells.completion_date = date(t)?,
        "responsible" => {
            cells.responsible_id = if t.is_empty() {
                None
            } else {
                Some(
                    users
                        .iter()
                        .find(|u| u.id.to_string() == t)
                        .map(|u| u.id)
                        .ok_or(shared::worksheet::UNKNOWN_USER)?,
                )
            }
        }
        "action_status" => cells.action_status = ActionStatus::parse(t).ok_or(shared::worksheet::NOT_ALLOWED)?,
        key => set_text(cells, key, text),
    }
    Ok(())
}

fn set_text(cells: &mut RowCells, key: &str, text: &str) {
    let target = match key {
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
        _ => return,
    };
    *target = text.to_string();
}

/// A column's heading on a worksheet of this kind.
fn column_label(kind: FmeaKind, col: usize) -> &'static str {
    COLUMNS.get(col).map(|c| if kind == FmeaKind::Pfmea { c.pfmea } else { c.dfmea }).unwrap_or("")
}

/// The JSON field a column's errors come back under.
fn field_of(key: &str) -> &str {
    if key == "responsible" { "responsible_id" } else { key }
}

fn ap_class(ap: Option<ActionPriority>) -> &'static str {
    match ap {
        Some(ActionPriority::High) => "ap ap-h",
        Some(ActionPriority::Medium) => "ap ap-m",
        Some(ActionPriority::Low) => "ap ap-l",
        None => "ap",
    }
}

/// The cell being edited: which row and column, and the text typed.
#[derive(Debug, Clone, PartialEq)]
struct Editing {
    row: RowId,
    col: usize,
    text: String,
}

/// A row's unsaved edits: the row as it was when editing began (its version is what the save
/// is based on, so a save by someone else in the meantime is never silently overwritten) and
/// its cells with my changes.
#[derive(Debug, Clone, PartialEq)]
struct Draft {
    base: Row,
    cells: RowCells,
}

/// A save refused because someone else saved a cell I changed too.
#[derive(Debug, Clone, PartialEq)]
struct Conflict {
    mine: RowCells,
    theirs: Row,
    merge: RowMerge,
    message: String,
}

/// Filters and order of the grid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// "", "H", "M", "L".
    pub ap: String,
    /// "", "pending", "overdue", "completed", "none".
    pub status: String,
    /// "", "any", or a code such as "CC".
    pub special: String,
    /// Text in the structure, failure or action cells.
    pub text: String,
    /// "position", "ap", "severity", "rpn".
    pub sort: String,
}

fn matches(r: &Row, v: &View, today: chrono::NaiveDate) -> bool {
    let c = &r.cells;
    if !v.ap.is_empty() && c.ap().map(|a| a.letter().to_string()).as_deref() != Some(v.ap.as_str()) {
        return false;
    }
    let status_ok = match v.status.as_str() {
        "pending" => c.action_status.is_pending(),
        "overdue" => c.action_status.is_pending() && c.target_date.is_some_and(|d| d < today),
        "completed" => c.action_status == ActionStatus::Completed,
        "none" => c.action_status == ActionStatus::None,
        _ => true,
    };
    if !status_ok {
        return false;
    }
    match v.special.as_str() {
        "" => {}
        "any" if c.special_characteristic.is_empty() => return false,
        "any" => {}
        code if !c.special_characteristic.eq_ignore_ascii_case(code) => return false,
        _ => {}
    }
    if !v.text.trim().is_empty() {
        let needle = v.text.trim().to_lowercase();
        let hay = [
            &c.structure_step,
            &c.structure_element,
            &c.failure_effect,
            &c.failure_mode,
            &c.failure_cause,
            &c.prevention_action,
            &c.detection_action,
        ];
        if !hay.iter().any(|h| h.to_lowercase().contains(&needle)) {
            return false;
        }
    }
    true
}

/// The grid of a worksheet.
#[component]
pub fn Grid(
    fmea: Fmea,
    rows: RwSignal<Vec<Row>>,
    users: Vec<UserSummary>,
    view: RwSignal<View>,
    editable: Signal<bool>,
) -> impl IntoView {
    let users = StoredValue::new(users);
    let kind_of_sheet = fmea.kind;
    let fmea_id = fmea.id;
    let today = crate::components::status::today_utc();
    // Rows in view order (indices into `rows`).
    let order = Memo::new(move |_| {
        let v = view.get();
        rows.with(|all| {
            let mut idx: Vec<usize> = (0..all.len()).filter(|i| matches(&all[*i], &v, today)).collect();
            let ap_rank = |r: &Row| match r.cells.ap() {
                Some(ActionPriority::High) => 0,
                Some(ActionPriority::Medium) => 1,
                Some(ActionPriority::Low) => 2,
                None => 3,
            };
            // One sort whatever the order (a sort_by_key per order compiled a sort each): by a
            // rank, then a rating, highest first (none last), then the position.
            let key = |r: &Row| -> (u8, std::cmp::Reverse<Option<i64>>) {
                match v.sort.as_str() {
                    "ap" => (ap_rank(r), std::cmp::Reverse(r.cells.severity)),
                    "severity" => (0, std::cmp::Reverse(r.cells.severity)),
                    "rpn" => (0, std::cmp::Reverse(r.cells.rpn().map(i64::from))),
                    _ => (0, std::cmp::Reverse(None)),
                }
            };
            if matches!(v.sort.as_str(), "ap" | "severity" | "rpn") {
                idx.sort_by_key(|i| (key(&all[*i]), all[*i].position));
            }
            idx
        })
    });
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport_h = RwSignal::new(640.0_f64);
    let active = RwSignal::new((0_usize, 9_usize)); // (view index, column index): starts on the failure mode
    let editing = RwSignal::new(None::<Editing>);
    let drafts = RwSignal::new(HashMap::<RowId, Draft>::new());
    // What keeps each draft from saving (the shared row rules), for the cells and status line.
    let draft_problems = Memo::new(move |_| {
        drafts.with(|d| {
            d.iter()
                .filter(|(_, draft)| draft.cells != draft.base.cells)
                .filter_map(|(id, draft)| {
                    let e = draft.cells.clone().normalized().validate(today, Some(&draft.base.cells)).err()?;
                    Some((*id, e))
                })
                .collect::<HashMap<RowId, FieldErrors>>()
        })
    });
    let edit_error = RwSignal::new(None::<(RowId, usize, String)>);
    let saving = RwSignal::new(None::<RowId>);
    let conflict = RwSignal::new(None::<Conflict>);
    let notice = RwSignal::new(None::<String>);
    let scroller = NodeRef::<leptos::html::Div>::new();

    let window = Memo::new(move |_| {
        let n = order.with(Vec::len);
        let first = ((scroll_top.get() / ROW_H) as usize).saturating_sub(OVERSCAN);
        let count = (viewport_h.get() / ROW_H).ceil() as usize + 2 * OVERSCAN;
        (first.min(n), (first + count).min(n))
    });

    let row_at = move |view_index: usize| -> Option<Row> {
        let i = order.with(|o| o.get(view_index).copied())?;
        rows.with(|r| r.get(i).cloned())
    };
    let index_of = move |id: RowId| rows.with(|r| r.iter().position(|x| x.id == id));

    // Keeps the active cell in view.
    let reveal = move |view_index: usize| {
        if let Some(el) = scroller.get_untracked() {
            let top = view_index as f64 * ROW_H;
            let st = el.scroll_top() as f64;
            let h = el.client_height() as f64 - ROW_H; // the sticky header
            if top < st {
                el.set_scroll_top(top as i32);
            } else if top + ROW_H > st + h {
                el.set_scroll_top((top + ROW_H - h) as i32);
            }
        }
    };
    let focus_grid = move || {
        if let Some(el) = scroller.get_untracked() {
            let _ = el.focus();
        }
    };

    let label_of = move |col: usize| column_label(kind_of_sheet, col);

    // Saves my edit of a row (`mine`, made on `base` at `version`). A 409 whose cells do not
    // overlap mine merges and saves again; one that does asks which to keep. A 422 keeps the
    // draft, so nothing typed is lost.
    let save = move |id: RowId, base: RowCells, mine: RowCells, version: i64| {
        leptos::task::spawn_local(async move {
            saving.set(Some(id));
            let (mut base, mut mine, mut version) = (base, mine, version);
            for _attempt in 0..3 {
                let result = api::update_row(id, &RowInput { cells: mine.clone(), version: Some(version) }).await;
                match result {
                    Ok(saved) => {
                        edit_error.set(None);
                        if let Some(i) = index_of(id) {
                            rows.update(|r| r[i] = saved.clone());
                        }
                        // Changes typed while the save was on its way stay a draft on the saved row.
                        drafts.update(|d| match d.get(&id).cloned() {
                            Some(draft) if draft.cells != mine => {
                                let m = RowCells::merge(&mine, &draft.cells, &saved.cells);
                                d.insert(id, Draft { base: saved, cells: m.merged });
                            }
                            Some(_) => {
                                d.remove(&id);
                            }
                            None => {}
                        });
                        break;
                    }
                    Err(ApiError::Status(409, body)) => {
                        // Read as the worksheet reads rows (api::decode_direct), not from the value.
                        let Some(theirs) = body.current.and_then(|c| serde_json::from_str::<Row>(&c.to_string()).ok())
                        else {
                            notice.set(Some(body.message));
                            break;
                        };
                        if let Some(i) = index_of(id) {
                            rows.update(|r| r[i] = theirs.clone());
                        }
                        let merge = RowCells::merge(&base, &mine, &theirs.cells);
                        drafts.update(|d| {
                            d.insert(id, Draft { base: theirs.clone(), cells: merge.merged.clone() });
                        });
                        if merge.conflicts.is_empty() {
                            // Different cells of the same row: both edits stand.
                            (base, mine, version) = (theirs.cells.clone(), merge.merged, theirs.version);
                            continue;
                        }
                        conflict.set(Some(Conflict { mine, theirs, merge, message: body.message }));
                        break;
                    }
                    Err(ApiError::Status(422, body)) => {
                        let (field, code) = body
                            .field_errors
                            .0
                            .iter()
                            .next()
                            .map(|(f, c)| (f.clone(), c.first().cloned().unwrap_or_default()))
                            .unwrap_or_default();
                        let col = COLUMNS.iter().position(|c| field_of(c.key) == field).unwrap_or(0);
                        edit_error.set(Some((
                            id,
                            col,
                            format!(
                                "{}: {} Not saved; your change is kept.",
                                label_of(col),
                                shared::validation::describe(&code)
                            ),
                        )));
                        break;
                    }
                    Err(e) => {
                        notice.set(Some(format!("{e} Your change is kept; it saves with the next edit of the row.")));
                        break;
                    }
                }
            }
            saving.set(None);
        });
    };

    // Commits the editor into the row's draft, and saves the draft once it passes the row rules
    // (or names the typed cell's problem and stays in it).
    let commit = move || -> bool {
        let Some(ed) = editing.get_untracked() else { return true };
        let Some(i) = index_of(ed.row) else {
            editing.set(None);
            return true;
        };
        let row = rows.with_untracked(|r| r[i].clone());
        let draft = drafts
            .with_untracked(|d| d.get(&ed.row).cloned())
            .unwrap_or_else(|| Draft { cells: row.cells.clone(), base: row });
        let key = COLUMNS[ed.col].key;
        let mut cells = draft.cells.clone();
        if let Err(code) = users.with_value(|u| apply(&mut cells, key, &ed.text, u)) {
            edit_error.set(Some((
                ed.row,
                ed.col,
                format!("{}: {}", label_of(ed.col), shared::validation::describe(code)),
            )));
            return false;
        }
        // An action typed into a row without one starts as open (it still needs its
        // responsible person and target date before the row saves).
        let has_action = !cells.prevention_action.trim().is_empty() || !cells.detection_action.trim().is_empty();
        if matches!(key, "prevention_action" | "detection_action")
            && has_action
            && cells.action_status == ActionStatus::None
        {
            cells.action_status = ActionStatus::Open;
        }
        let problems = cells.clone().normalized().validate(today, Some(&draft.base.cells)).err();
        // A value the cell cannot hold keeps the editor open; a cell that is missing for the
        // row to be whole (a pairing rule) only keeps the row a draft, to be completed.
        let own_error = problems.as_ref().and_then(|p| p.get(field_of(key))).and_then(|codes| {
            codes.iter().find(|c| *c != shared::validation::REQUIRED && *c != shared::worksheet::NEEDED_TO_COMPLETE)
        });
        if let Some(code) = own_error {
            edit_error.set(Some((
                ed.row,
                ed.col,
                format!("{}: {}", label_of(ed.col), shared::validation::describe(code)),
            )));
            return false;
        }
        if cells == draft.base.cells {
            editing.set(None);
            edit_error.set(None);
            drafts.update(|d| {
                d.remove(&ed.row);
            });
            return true;
        }
        // The request goes first: its task is queued before the re-render the signals below
        // schedule, so the save leaves at once.
        if problems.is_none() {
            save(ed.row, draft.base.cells.clone(), cells.clone(), draft.base.version);
        }
        editing.set(None);
        edit_error.set(None);
        drafts.update(|d| {
            d.insert(ed.row, Draft { base: draft.base, cells });
        });
        true
    };

    let start_edit = move |initial: Option<String>| {
        if !editable.get_untracked() {
            notice.set(Some(
                "You can read this worksheet; only its team, the process owner or a quality manager can change it."
                    .into(),
            ));
            return;
        }
        let (vi, col) = active.get_untracked();
        if kind(COLUMNS[col].key) == Kind::Computed {
            return;
        }
        if let Some(row) = row_at(vi) {
            // The draft starts now: a save someone else makes while I type is theirs, not my base.
            let cells = drafts.with_untracked(|d| d.get(&row.id).map(|d| d.cells.clone())).unwrap_or_else(|| {
                let cells = row.cells.clone();
                drafts.update(|d| {
                    d.insert(row.id, Draft { base: row.clone(), cells: cells.clone() });
                });
                cells
            });
            let text = match (initial, kind(COLUMNS[col].key)) {
                (Some(t), _) => t,
                (None, Kind::User) => cells.responsible_id.map(|u| u.to_string()).unwrap_or_default(),
                (None, Kind::Status) => cells.action_status.as_str().to_string(),
                (None, _) => users.with_value(|u| cell_text(&cells, COLUMNS[col].key, u)),
            };
            editing.set(Some(Editing { row: row.id, col, text }));
        }
    };

    let move_to = move |vi: usize, col: usize| {
        let n = order.with_untracked(Vec::len);
        if n == 0 {
            return;
        }
        let vi = vi.min(n - 1);
        let col = col.min(COLUMNS.len() - 1);
        active.set((vi, col));
        reveal(vi);
    };

    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let (vi, col) = active.get_untracked();
        let key = ev.key();
        if editing.get_untracked().is_some() {
            match key.as_str() {
                "Escape" => {
                    ev.prevent_default();
                    if let Some(ed) = editing.get_untracked() {
                        drafts.update(|d| {
                            if d.get(&ed.row).is_some_and(|x| x.cells == x.base.cells) {
                                d.remove(&ed.row);
                            }
                        });
                    }
                    editing.set(None);
                    edit_error.set(None);
                    focus_grid();
                }
                "Enter" => {
                    ev.prevent_default();
                    if commit() {
                        move_to(vi + 1, col);
                        focus_grid();
                    }
                }
                "Tab" => {
                    ev.prevent_default();
                    if commit() {
                        move_to(vi, if ev.shift_key() { col.saturating_sub(1) } else { col + 1 });
                        focus_grid();
                    }
                }
                _ => {}
            }
            return;
        }
        let page = (viewport_h.get_untracked() / ROW_H) as usize;
        match key.as_str() {
            "ArrowDown" => move_to(vi + 1, col),
            "ArrowUp" => move_to(vi.saturating_sub(1), col),
            "ArrowRight" => move_to(vi, col + 1),
            "ArrowLeft" => move_to(vi, col.saturating_sub(1)),
            "PageDown" => move_to(vi + page, col),
            "PageUp" => move_to(vi.saturating_sub(page), col),
            "Home" => move_to(if ev.ctrl_key() { 0 } else { vi }, 0),
            "End" => move_to(if ev.ctrl_key() { usize::MAX } else { vi }, COLUMNS.len() - 1),
            "Tab" => move_to(vi, if ev.shift_key() { col.saturating_sub(1) } else { col + 1 }),
            "Enter" | "F2" => start_edit(None),
            // Esc on a row with unsaved changes discards them (the saved row shows again).
            "Escape" => {
                if let Some(row) = row_at(vi)
                    && drafts.with_untracked(|d| d.contains_key(&row.id))
                {
                    drafts.update(|d| {
                        d.remove(&row.id);
                    });
                    edit_error.set(None);
                    notice.set(Some(format!("Your unsaved changes to row {} were discarded.", row.position)));
                }
            }
            k if k.chars().count() == 1 && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() => {
                start_edit(Some(k.to_string()));
            }
            _ => return,
        }
        ev.prevent_default();
    };

    // Someone else saved a row I have a draft of: when they changed none of the cells I changed
    // or am typing in, my draft moves onto their row (so my save will not conflict); otherwise
    // it stays on the old version, and the save asks which to keep.
    let rebase = move |theirs: &Row| {
        let typing =
            editing.with_untracked(|e| e.as_ref().filter(|e| e.row == theirs.id).map(|e| field_of(COLUMNS[e.col].key)));
        drafts.update(|d| {
            let Some(draft) = d.get_mut(&theirs.id) else { return };
            if draft.base.version >= theirs.version {
                return;
            }
            let merge = RowCells::merge(&draft.base.cells, &draft.cells, &theirs.cells);
            let touched_typing =
                typing.is_some_and(|f| draft.base.cells.changed_fields(&theirs.cells).iter().any(|c| c == f));
            if merge.conflicts.is_empty() && !touched_typing {
                *draft = Draft { base: theirs.clone(), cells: merge.merged };
            }
        });
    };

    // Live: rows someone else saved, created or took out. A burst (an import) reloads all.
    if let Some(Changes(latest)) = use_context::<Changes>() {
        let pending = StoredValue::new(Vec::<(i64, String)>::new());
        let scheduled = StoredValue::new(false);
        Effect::new(move |_| {
            let Some(change) = latest.get() else { return };
            if change.record_type != Row::RECORD_TYPE {
                return;
            }
            pending.update_value(|p| p.push((change.record_id, change.actor_name.clone())));
            if scheduled.get_value() {
                return;
            }
            scheduled.set_value(true);
            set_timeout(
                move || {
                    scheduled.set_value(false);
                    let batch = pending.try_update_value(std::mem::take).unwrap_or_default();
                    leptos::task::spawn_local(async move {
                        if batch.len() > 50 {
                            if let Ok(sheet) = api::worksheet(fmea_id).await {
                                rows.set(sheet.rows);
                            }
                            return;
                        }
                        for (id, _who) in batch {
                            match api::get_row(RowId(id)).await {
                                Ok(row) if row.fmea_id == fmea_id => {
                                    let known = index_of(row.id);
                                    match known {
                                        Some(i) if rows.with_untracked(|r| r[i].version) < row.version => {
                                            rebase(&row);
                                            rows.update(|r| r[i] = row)
                                        }
                                        Some(_) => {}
                                        None => rows.update(|r| {
                                            let at = r.partition_point(|x| x.position < row.position);
                                            r.insert(at, row);
                                        }),
                                    }
                                }
                                Err(ApiError::Status(404, _)) => rows.update(|r| r.retain(|x| x.id.0 != id)),
                                _ => {}
                            }
                        }
                    });
                },
                std::time::Duration::from_millis(10),
            );
        });
    }

    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            scroll_top.set(el.scroll_top() as f64);
            viewport_h.set(el.client_height() as f64);
        }
    };
    Effect::new(move |_| {
        if let Some(el) = scroller.get() {
            viewport_h.set(el.client_height() as f64);
        }
    });

    let headers = GROUPS
        .iter()
        .enumerate()
        .map(|(g, (label, first, last))| {
            let a = COLUMNS.iter().position(|c| c.key == *first).unwrap_or(0);
            let b = COLUMNS.iter().position(|c| c.key == *last).unwrap_or(0);
            view! { <div class=format!("gh g{g}") style=format!("grid-column: {} / span {}", a + 2, b - a + 1)>{*label}</div> }
        })
        .collect_view();
    let column_heads = (0..COLUMNS.len())
        .map(|i| {
            let label = label_of(i);
            view! { <div class="ch" role="columnheader" aria-colindex=i + 2 title=label>{label}</div> }
        })
        .collect_view();
    let template = template();
    let total_h = move || order.with(Vec::len) * ROW_PX;

    // The row being edited keeps its key (and so its editor) while someone else's save of it
    // arrives; the cells show the draft, which follows their save when it does not collide.
    let editing_row = Memo::new(move |_| editing.with(|e| e.as_ref().map(|e| e.row)));
    let rendered = move || {
        let (a, b) = window.get();
        let edited = editing_row.get();
        (a..b)
            .filter_map(move |vi| row_at(vi).map(|r| (vi, if Some(r.id) == edited { -1 } else { r.version }, r)))
            .collect::<Vec<_>>()
    };
    // A row's cells as shown: my draft of it, or the row as saved.
    let shown =
        move |row: &Row| drafts.with(|d| d.get(&row.id).map(|d| d.cells.clone())).unwrap_or_else(|| row.cells.clone());

    // Typing again clears the message of the last refused commit.
    Effect::new(move |previous: Option<Option<String>>| {
        let text = editing.with(|e| e.as_ref().map(|e| e.text.clone()));
        if previous.is_some_and(|p| p.is_some() && p != text) {
            edit_error.set(None);
        }
        text
    });
    let status_line = move || {
        let (vi, col) = active.get();
        // Checked as typed: a value the cell cannot take is named at once.
        if let Some(ed) = editing.get()
            && let Some(row) = row_at(vi).filter(|r| r.id == ed.row)
        {
            let mut cells = shown(&row);
            if let Err(code) = users.with_value(|u| apply(&mut cells, COLUMNS[ed.col].key, &ed.text, u)) {
                return view! { <span class="grid-error" role="alert" data-testid="cell-error">{format!("{}: {}", label_of(ed.col), shared::validation::describe(code))}</span> }.into_any();
            }
        }
        if let Some((id, c, msg)) = edit_error.get()
            && row_at(vi).is_some_and(|r| r.id == id)
            && c == col
        {
            return view! { <span class="grid-error" role="alert" data-testid="cell-error">{msg}</span> }.into_any();
        }
        let Some(row) = row_at(vi) else { return ().into_any() };
        // A draft that the row rules still refuse: what it needs before it saves.
        if editing.with(Option::is_none)
            && let Some(problems) = draft_problems.with(|p| p.get(&row.id).cloned())
        {
            let needs = COLUMNS
                .iter()
                .enumerate()
                .filter_map(|(ci, c)| {
                    problems.get(field_of(c.key)).and_then(|codes| codes.first()).map(|code| {
                        format!("{} — {}", label_of(ci), shared::validation::describe(code).trim_end_matches('.'))
                    })
                })
                .collect::<Vec<_>>()
                .join("; ");
            return view! {
                <span class="grid-error" role="alert" data-testid="row-unsaved">
                    {format!("Row {} is not saved yet: {needs}. Fill them in, or press Esc to discard the changes.", row.position)}
                </span>
            }
            .into_any();
        }
        // The AP of the row as typed: the editor's draft applied, before saving.
        let mut cells = shown(&row);
        if let Some(ed) = editing.get().filter(|e| e.row == row.id) {
            let _ = users.with_value(|u| apply(&mut cells, COLUMNS[ed.col].key, &ed.text, u));
        }
        let reason = cells.ap_reason().unwrap_or_else(|| "AP needs S, O and D (1–10).".into());
        let review = cells.needs_management_review().then_some(" · S 9–10 with AP H/M: management review");
        view! {
            <span>
                {format!("Row {} · ", row.position)}
                <strong data-testid="ap-reason">{reason}</strong>
                {review}
                {format!(" · version {} by {}", row.version, if row.updated_by.is_empty() { "import" } else { row.updated_by.as_str() })}
            </span>
        }
        .into_any()
    };

    // The conflict resolved with the row's cells as chosen: either way the draft moves onto
    // their version, and saves unless it equals theirs.
    let resolve = Callback::new(move |cells: RowCells| {
        let Some(c) = conflict.get_untracked() else { return };
        conflict.set(None);
        edit_error.set(None);
        let id = c.theirs.id;
        if cells == c.theirs.cells {
            drafts.update(|d| {
                d.remove(&id);
            });
        } else {
            drafts.update(|d| {
                d.insert(id, Draft { base: c.theirs.clone(), cells: cells.clone() });
            });
            save(id, c.theirs.cells.clone(), cells, c.theirs.version);
        }
        focus_grid();
    });

    view! {
        <div class="grid-status" aria-live="polite">
            {status_line}
            {move || saving.get().map(|_| view! { <span class="muted">" · Saving…"</span> })}
            {move || notice.get().map(|n| view! { <span class="grid-error" role="alert">" " {n}</span> })}
        </div>
        <div
            class="sheet"
            node_ref=scroller
            tabindex="0"
            role="grid"
            aria-label=format!("{} worksheet", fmea.kind.label())
            aria-rowcount=move || order.with(Vec::len) + 1
            aria-colcount=COLUMNS.len() + 1
            on:scroll=on_scroll
            on:keydown=on_key
            data-testid="sheet"
        >
            // ARIA grid pattern: row groups of rows of cells. The step groups above the column
            // heads are a visual aid (each head's title names its column), hidden from the tree;
            // the heads' row lays its cells out in the head's CSS grid (display: contents).
            <div class="sheet-head" role="rowgroup" style=format!("grid-template-columns: {template}; width: {}px", total_width())>
                <div class="gh g-num" aria-hidden="true" style="grid-column: 1 / span 1"></div>
                <div class="head-groups" aria-hidden="true">{headers}</div>
                <div class="gh g5" aria-hidden="true" style=format!("grid-column: {} / span 1", COLUMNS.len() + 2)>"Risk register"</div>
                <div class="head-row" role="row" aria-rowindex="1">
                    <div class="ch" role="columnheader" aria-colindex="1">"#"</div>
                    {column_heads}
                    <div class="ch" role="columnheader" aria-colindex=COLUMNS.len() + 2>"Risks citing this chain"</div>
                </div>
            </div>
            <div class="sheet-body" role="rowgroup" style=move || format!("height: {}px; width: {}px", total_h(), total_width())>
                <For each=rendered key=|(vi, shown_version, r)| (*vi, r.id, *shown_version) let:item>
                    {
                        let (vi, _, row) = item;
                        let template = template.clone();
                        // This row's slices of the grid's state, as memos: a keystroke, a draft or
                        // an error in another row does not reach this row's cells, and within the
                        // row only the cells whose output changes render again.
                        let row_id = row.id;
                        let row_draft = Memo::new(move |_| drafts.with(|d| d.get(&row_id).map(|d| (d.base.cells.clone(), d.cells.clone()))));
                        let row_edit = Memo::new(move |_| editing.with(|e| e.as_ref().filter(|e| e.row == row_id).map(|e| (e.col, e.text.clone()))));
                        let row_problems = Memo::new(move |_| draft_problems.with(|p| p.get(&row_id).cloned()));
                        let row_error = Memo::new(move |_| edit_error.with(|e| e.as_ref().filter(|(r, _, _)| *r == row_id).map(|(_, c, _)| *c)));
                        let saved_cells = StoredValue::new(row.cells.clone());
                        let cells_view = COLUMNS.iter().enumerate().map(|(ci, c)| {
                            let key = c.key;
                            let saved_text = users.with_value(|u| cell_text(&row.cells, key, u));
                            // The draft's value when I have changed the row, else the saved one.
                            let text = Memo::new(move |_| {
                                row_draft
                                    .with(|d| d.as_ref().map(|(_, cells)| users.with_value(|u| cell_text(cells, key, u))))
                                    .unwrap_or_else(|| saved_text.clone())
                            });
                            let unsaved = Memo::new(move |_| {
                                row_draft.with(|d| {
                                    d.as_ref().is_some_and(|(base, cells)| {
                                        users.with_value(|u| cell_text(cells, key, u) != cell_text(base, key, u))
                                    })
                                })
                            });
                            let is_active = move || active.get() == (vi, ci);
                            let is_editing = Memo::new(move |_| row_edit.with(|e| e.as_ref().is_some_and(|(col, _)| *col == ci)));
                            let has_error = Memo::new(move |_| {
                                row_error.get() == Some(ci)
                                    || row_problems.with(|p| p.as_ref().is_some_and(|e| e.get(field_of(key)).is_some()))
                                    || row_edit.with(|e| {
                                        e.as_ref().is_some_and(|(col, text)| {
                                            *col == ci
                                                && saved_cells.with_value(|cells| users.with_value(|u| apply(&mut cells.clone(), key, text, u))).is_err()
                                        })
                                    })
                            });
                            let content = move || {
                                if is_editing.get() {
                                    return view! { <CellEditor key editing users=users.get_value() on_commit=Callback::new(move |_| { commit(); }) /> }.into_any();
                                }
                                match key {
                                    "ap" | "revised_ap" => {
                                        // The AP follows the draft of the row, and what is being typed in it.
                                        let mut cells = row_draft
                                            .with(|d| d.as_ref().map(|(_, cells)| cells.clone()))
                                            .unwrap_or_else(|| saved_cells.get_value());
                                        if let Some((col, text)) = row_edit.get() {
                                            let _ = users.with_value(|u| apply(&mut cells, COLUMNS[col].key, &text, u));
                                        }
                                        let ap = if key == "ap" { cells.ap() } else { cells.revised_ap() };
                                        let reason = if key == "ap" { cells.ap_reason().unwrap_or_default() } else { String::new() };
                                        let mr = key == "ap" && cells.needs_management_review();
                                        view! {
                                            <span class=ap_class(ap) title=reason data-testid=format!("{key}-badge")>
                                                {ap.map(|a| a.letter().to_string()).unwrap_or_default()}
                                                {ap.map(|a| format!(" {}", a.label()))}
                                            </span>
                                            {mr.then(|| view! { <span class="mr" title="S 9–10 with AP High or Medium: for management review">"MR"</span> })}
                                        }.into_any()
                                    }
                                    _ => {
                                        let t = text.get();
                                        let title = t.clone();
                                        view! { <span class="cell-text" title=title>{t}</span> }.into_any()
                                    }
                                }
                            };
                            view! {
                                <div
                                    class="cell"
                                    class:active=is_active
                                    class:editing=is_editing
                                    class:bad=has_error
                                    class:unsaved=unsaved
                                    class:num=matches!(kind(key), Kind::Rating | Kind::Computed)
                                    role="gridcell"
                                    aria-colindex=ci + 2
                                    data-col=key
                                    on:click=move |_| { active.set((vi, ci)); }
                                    on:dblclick=move |_| { active.set((vi, ci)); start_edit(None); }
                                >
                                    {content}
                                </div>
                            }
                        }).collect_view();
                        let overdue = row.cells.action_status.is_pending() && row.cells.target_date.is_some_and(|d| d < today);
                        view! {
                            <div
                                class="sheet-row"
                                class:overdue=overdue
                                role="row"
                                aria-rowindex=vi + 2
                                data-row-id=row.id.0
                                data-testid="sheet-row"
                                style=format!("transform: translateY({}px); grid-template-columns: {template}", vi * ROW_PX)
                            >
                                <div class="cell rownum" role="rowheader">{row.position}</div>
                                {cells_view}
                                <div class="cell" role="gridcell" data-col="risks">
                                    {row.risks.iter().map(|r| view! {
                                        <a href=format!("/risks/{}", r.id) title=r.title.clone()>{r.reference.clone()}</a>
                                    }).collect_view()}
                                </div>
                            </div>
                        }
                    }
                </For>
            </div>
        </div>
        {move || conflict.get().map(|c| fmea_worksheet__conflict::view(c, users, kind_of_sheet, resolve))}
    }
}

// The side-by-side choice after a conflicting save: a chunk of its own, loaded when needed.
crate::part!(fmea_worksheet__conflict, conflict_dialog(
    c: Conflict,
    users: StoredValue<Vec<UserSummary>>,
    kind: FmeaKind,
    resolve: Callback<RowCells>,
));

/// Both edits of a row, side by side in the cells we both changed, to keep mine or take theirs
/// (`resolve` gets the row's cells as chosen).
fn conflict_dialog(
    c: Conflict,
    users: StoredValue<Vec<UserSummary>>,
    kind: FmeaKind,
    resolve: Callback<RowCells>,
) -> impl IntoView {
    // Only the cells we both changed: the rest of both edits stands either way.
    let changed: Vec<(String, String, String)> = COLUMNS
        .iter()
        .enumerate()
        .filter(|(_, col)| !col.computed && c.merge.conflicts.iter().any(|f| f == field_of(col.key)))
        .map(|(ci, col)| {
            let (mine, theirs) =
                users.with_value(|u| (cell_text(&c.mine, col.key, u), cell_text(&c.theirs.cells, col.key, u)));
            (column_label(kind, ci).to_string(), mine, theirs)
        })
        .collect();
    let keep = {
        let merged = c.merge.merged.clone();
        move |_| resolve.run(merged.clone())
    };
    let take = {
        let theirs = c.merge.taking_theirs(&c.theirs.cells);
        move |_| resolve.run(theirs.clone())
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal form" role="dialog" aria-modal="true" aria-labelledby="row-conflict-title" data-testid="row-conflict">
                <h2 id="row-conflict-title">"Row changed by someone else"</h2>
                <p>{c.message.clone()}</p>
                <table class="compare">
                    <thead><tr><th>"Column"</th><th>"Yours (not saved)"</th><th>{format!("Saved by {}", c.theirs.updated_by)}</th></tr></thead>
                    <tbody>
                        {changed.into_iter().map(|(label, mine, theirs)| view! {
                            <tr><th>{label}</th><td class="changed">{mine}</td><td>{theirs}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <div class="actions">
                    <button type="button" class="btn" on:click=take>"Take theirs"</button>
                    <button type="button" class="btn btn-primary" on:click=keep>"Keep mine"</button>
                </div>
            </div>
        </div>
    }
}

/// The editor inside a cell: text, a rating, a date, a person or a status.
#[component]
fn CellEditor(
    key: &'static str,
    editing: RwSignal<Option<Editing>>,
    users: Vec<UserSummary>,
    on_commit: Callback<()>,
) -> impl IntoView {
    let value = move || editing.with(|e| e.as_ref().map(|e| e.text.clone()).unwrap_or_default());
    let set = move |v: String| {
        editing.update(|e| {
            if let Some(e) = e {
                e.text = v
            }
        })
    };
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let select_ref = NodeRef::<leptos::html::Select>::new();
    input_ref.on_load(|el| {
        let _ = el.focus();
        let len = el.value().len() as u32;
        let _ = el.set_selection_range(len, len);
    });
    select_ref.on_load(|el| {
        let _ = el.focus();
    });
    match kind(key) {
        Kind::User => view! {
            <select node_ref=select_ref class="cell-input" aria-label="Responsible" prop:value=value
                on:change=move |ev| { set(event_target_value(&ev)); on_commit.run(()); }>
                <option value="">"—"</option>
                {users.into_iter().map(|u| view! { <option value=u.id.to_string()>{u.full_name}</option> }).collect_view()}
            </select>
        }.into_any(),
        Kind::Status => view! {
            <select node_ref=select_ref class="cell-input" aria-label="Action status" prop:value=value
                on:change=move |ev| { set(event_target_value(&ev)); on_commit.run(()); }>
                {ActionStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{if *s == ActionStatus::None { "—" } else { s.label() }}</option> }).collect_view()}
            </select>
        }.into_any(),
        k => {
            let kind_attr = if k == Kind::Date { "date" } else { "text" };
            let mode = if k == Kind::Rating { "numeric" } else { "text" };
            view! {
                <input node_ref=input_ref class="cell-input" type=kind_attr inputmode=mode aria-label=key
                    prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
            }.into_any()
        }
    }
}

/// Reads a file chosen in an `<input type=file>` as bytes: not as text, which would replace
/// what is not UTF-8 with U+FFFD and so hide a wrongly encoded file from the server's check.
pub async fn read_file(input: &web_sys::HtmlInputElement) -> Option<Vec<u8>> {
    let file = input.files()?.get(0)?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}
