//! FMEA worksheets (AIAG & VDA FMEA Handbook, see `domain/fmea.md`): the FMEA record with its
//! header, and its rows, one per failure chain, each with its own version so that people
//! editing different rows never conflict. The columns, their CSV header and every rule live
//! here, used alike by the grid in the browser and by the API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::auth::{Permission, Role, UserId, allowed};
use crate::fmea::{ActionPriority, assess, check_rating, rpn};
use crate::org::{ProcessId, Record, RecordMeta};
use crate::validation::{self, REQUIRED};

/// Error code: a new action's target date is in the past.
pub const DATE_IN_PAST: &str = "date_in_past";
/// Error code: completing an action needs this field.
pub const NEEDED_TO_COMPLETE: &str = "needed_to_complete";
/// Error code: not a whole number.
pub const NOT_A_NUMBER: &str = "not_a_number";
/// Error code: not a date (YYYY-MM-DD).
pub const NOT_A_DATE: &str = "not_a_date";
/// Error code: an unknown user (CSV responsible person).
pub const UNKNOWN_USER: &str = "unknown_user";
/// Error code: a value outside the allowed list.
pub const NOT_ALLOWED: &str = "not_allowed";

/// The sentence for a worksheet error code, or `None` for other codes.
pub fn describe(code: &str) -> Option<&'static str> {
    Some(match code {
        DATE_IN_PAST => "A new action's target date cannot be in the past.",
        NEEDED_TO_COMPLETE => "Completing the action needs this.",
        NOT_A_NUMBER => "Use a whole number from 1 to 10.",
        NOT_A_DATE => "Use a date as YYYY-MM-DD.",
        UNKNOWN_USER => "No active user has this username.",
        NOT_ALLOWED => "This value is not one of the allowed ones.",
        _ => return None,
    })
}

use crate::org::id_type;

mod csv;
mod header;
pub use csv::{IMPORT_LIMIT_BYTES, ImportProblem, csv_cells, csv_header, parse_csv, to_csv};
pub use header::{Confidentiality, Fmea, FmeaInput, FmeaKind, TeamMember};

id_type!(
    /// Identifies an FMEA.
    FmeaId
);
id_type!(
    /// Identifies a worksheet row (failure chain).
    RowId
);

/// Where an optimization action stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// No action planned.
    #[default]
    None,
    /// Open.
    Open,
    /// Decision pending.
    DecisionPending,
    /// Implementation pending.
    ImplementationPending,
    /// Completed (action taken, evidence and revised ratings recorded).
    Completed,
    /// Not implemented (decided against).
    NotImplemented,
}

impl ActionStatus {
    /// Every status.
    pub const ALL: [ActionStatus; 6] = [
        ActionStatus::None,
        ActionStatus::Open,
        ActionStatus::DecisionPending,
        ActionStatus::ImplementationPending,
        ActionStatus::Completed,
        ActionStatus::NotImplemented,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::None => "none",
            ActionStatus::Open => "open",
            ActionStatus::DecisionPending => "decision_pending",
            ActionStatus::ImplementationPending => "implementation_pending",
            ActionStatus::Completed => "completed",
            ActionStatus::NotImplemented => "not_implemented",
        }
    }

    /// Parses a stored name or a label (CSV).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|x| x.as_str() == s || x.label().eq_ignore_ascii_case(s))
    }

    /// As shown.
    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::None => "",
            ActionStatus::Open => "Open",
            ActionStatus::DecisionPending => "Decision pending",
            ActionStatus::ImplementationPending => "Implementation pending",
            ActionStatus::Completed => "Completed",
            ActionStatus::NotImplemented => "Not implemented",
        }
    }

    /// Still to be done (counts for overdue).
    pub fn is_pending(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::DecisionPending | ActionStatus::ImplementationPending)
    }
}

/// Declares [`RowCells`] from one list of its fields, and the flat form in which a [`Row`] is
/// read (`RowWire`): every cell at the top level beside the row's own fields, without serde's
/// `flatten`, which buffers each row's fields before reading them again (twice the parsing code
/// in the app, and slower on a 10,000-row worksheet).
macro_rules! row_cells {
    ($($(#[$doc:meta])* $field:ident: $ty:ty,)*) => {
        /// The editable cells of a worksheet row (one failure chain): what a save sends.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        #[serde(default)]
        pub struct RowCells {
            $($(#[$doc])* pub $field: $ty,)*
        }

        /// A [`Row`] as it comes over the wire.
        #[derive(Deserialize)]
        struct RowWire {
            id: RowId,
            fmea_id: FmeaId,
            position: i64,
            $(#[serde(default)] $field: $ty,)*
            responsible_name: String,
            version: i64,
            updated_at: DateTime<Utc>,
            updated_by: String,
            #[serde(default)]
            risks: Vec<LinkedRisk>,
            #[serde(default)]
            ap: Option<ActionPriority>,
            #[serde(default)]
            ap_reason: Option<String>,
            #[serde(default)]
            rpn: Option<u16>,
            #[serde(default)]
            revised_ap: Option<ActionPriority>,
            #[serde(default)]
            management_review: bool,
        }

        impl RowCells {
            /// Each cell's name, as in JSON, in the order of the worksheet.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Whether `self` and `other` differ in the cell named `field`.
            fn differs(&self, other: &RowCells, field: &str) -> bool {
                match field {
                    $(stringify!($field) => self.$field != other.$field,)*
                    _ => false,
                }
            }

            /// Sets the cell named `field` to `from`'s.
            fn set_from(&mut self, from: &RowCells, field: &str) {
                match field {
                    $(stringify!($field) => self.$field = from.$field.clone(),)*
                    _ => {}
                }
            }
        }

        impl From<RowWire> for Row {
            fn from(w: RowWire) -> Row {
                Row {
                    id: w.id,
                    fmea_id: w.fmea_id,
                    position: w.position,
                    cells: RowCells { $($field: w.$field,)* },
                    responsible_name: w.responsible_name,
                    version: w.version,
                    updated_at: w.updated_at,
                    updated_by: w.updated_by,
                    risks: w.risks,
                    ratings: RowRatings {
                        ap: w.ap,
                        ap_reason: w.ap_reason,
                        rpn: w.rpn,
                        revised_ap: w.revised_ap,
                        management_review: w.management_review,
                    },
                }
            }
        }
    };
}

row_cells! {
    /// PFMEA: process item; DFMEA: next higher level.
    structure_item: String,
    /// PFMEA: process step (station no. and name); DFMEA: focus element.
    structure_step: String,
    /// PFMEA: process work element; DFMEA: next lower level.
    structure_element: String,
    /// PFMEA: 4M type (Man, Machine, Material, EnvironMent); DFMEA: characteristic type.
    element_type: String,
    /// Function of the process item / next higher level.
    function_item: String,
    /// Function of the step and product characteristic / focus element function.
    function_step: String,
    /// Function of the work element and process characteristic / lower-level function.
    function_element: String,
    /// Failure effect (FE).
    failure_effect: String,
    /// Severity of the effect, 1–10.
    severity: Option<i64>,
    /// Failure mode (FM).
    failure_mode: String,
    /// Failure cause (FC).
    failure_cause: String,
    /// Current prevention controls.
    prevention_controls: String,
    /// Occurrence, 1–10.
    occurrence: Option<i64>,
    /// Current detection controls.
    detection_controls: String,
    /// Detection, 1–10.
    detection: Option<i64>,
    /// Special characteristic (e.g. CC, SC).
    special_characteristic: String,
    /// Filter code.
    filter_code: String,
    /// Optimization: prevention action.
    prevention_action: String,
    /// Optimization: detection action.
    detection_action: String,
    /// Responsible person (an active user).
    responsible_id: Option<UserId>,
    /// Target completion date.
    target_date: Option<NaiveDate>,
    /// Action status.
    action_status: ActionStatus,
    /// Action taken.
    action_taken: String,
    /// Evidence of the action (document, record).
    evidence: String,
    /// Completion date.
    completion_date: Option<NaiveDate>,
    /// Revised severity after the action.
    revised_severity: Option<i64>,
    /// Revised occurrence.
    revised_occurrence: Option<i64>,
    /// Revised detection.
    revised_detection: Option<i64>,
    /// Remarks.
    remarks: String,
}

/// A worksheet row as stored: its cells, the Action Priorities worked out from them, and its
/// own version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(from = "RowWire")]
pub struct Row {
    /// Its id.
    pub id: RowId,
    /// Its FMEA.
    pub fmea_id: FmeaId,
    /// Order in the worksheet.
    pub position: i64,
    /// The cells.
    #[serde(flatten)]
    pub cells: RowCells,
    /// The responsible person's name.
    pub responsible_name: String,
    /// Version of this row (each row versions on its own).
    pub version: i64,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
    /// Who changed it last.
    pub updated_by: String,
    /// Risks of the register whose controls cite this failure chain as evidence.
    #[serde(default)]
    pub risks: Vec<LinkedRisk>,
    /// AP, its reason, RPN, revised AP and the management-review flag, worked out from the
    /// cells by the shared rules (sent so that API clients need not work them out again;
    /// ignored when a row is sent back).
    #[serde(flatten, default)]
    pub ratings: RowRatings,
}

/// What a row's ratings give (see [`RowCells::ratings`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RowRatings {
    /// Action Priority of S, O and D (none until all three are rated 1–10).
    pub ap: Option<ActionPriority>,
    /// Which bands decided it: "S 9–10, O 4–5, D 1 → Medium".
    pub ap_reason: Option<String>,
    /// S × O × D (secondary to the AP).
    pub rpn: Option<u16>,
    /// Action Priority of the revised ratings.
    pub revised_ap: Option<ActionPriority>,
    /// S 9–10 with AP High or Medium.
    pub management_review: bool,
}

/// The fields of a [`Row`] that the server works out or keeps itself: accepted, and ignored,
/// when a client sends a row it read back as a [`RowInput`].
pub const ROW_READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "fmea_id",
    "position",
    "responsible_name",
    "updated_at",
    "updated_by",
    "risks",
    "ap",
    "ap_reason",
    "rpn",
    "revised_ap",
    "management_review",
];

/// A risk that cites a worksheet row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LinkedRisk {
    /// The risk's id.
    pub id: i64,
    /// "RSK-0042".
    pub reference: String,
    /// Its title.
    pub title: String,
}

impl Row {
    /// The kind's name in the audit trail.
    pub const RECORD_TYPE: &'static str = "fmea_row";
}

/// A rating as u8 when it is one (1–10).
fn rating(v: Option<i64>) -> Option<u8> {
    v.and_then(|v| u8::try_from(v).ok()).filter(|v| (1..=10).contains(v))
}

impl RowCells {
    /// The Action Priority of the current ratings.
    pub fn ap(&self) -> Option<ActionPriority> {
        crate::fmea::action_priority(rating(self.severity)?, rating(self.occurrence)?, rating(self.detection)?)
    }

    /// Why: "S 9–10, O 4–5, D 1 → Medium".
    pub fn ap_reason(&self) -> Option<String> {
        assess(rating(self.severity)?, rating(self.occurrence)?, rating(self.detection)?).map(|a| a.reason())
    }

    /// RPN of the current ratings.
    pub fn rpn(&self) -> Option<u16> {
        rpn(rating(self.severity)?, rating(self.occurrence)?, rating(self.detection)?)
    }

    /// The Action Priority after the optimization (revised ratings).
    pub fn revised_ap(&self) -> Option<ActionPriority> {
        crate::fmea::action_priority(
            rating(self.revised_severity)?,
            rating(self.revised_occurrence)?,
            rating(self.revised_detection)?,
        )
    }

    /// S 9–10 with AP High or Medium: for management review.
    pub fn needs_management_review(&self) -> bool {
        match (rating(self.severity), self.ap()) {
            (Some(s), Some(ap)) => crate::fmea::needs_management_review(s, ap),
            _ => false,
        }
    }

    /// Everything the ratings give, at once.
    pub fn ratings(&self) -> RowRatings {
        RowRatings {
            ap: self.ap(),
            ap_reason: self.ap_reason(),
            rpn: self.rpn(),
            revised_ap: self.revised_ap(),
            management_review: self.needs_management_review(),
        }
    }

    /// Trims text cells.
    pub fn normalized(mut self) -> Self {
        for s in self.texts_mut() {
            *s = s.trim().to_string();
        }
        self
    }

    fn texts_mut(&mut self) -> [&mut String; 19] {
        [
            &mut self.structure_item,
            &mut self.structure_step,
            &mut self.structure_element,
            &mut self.element_type,
            &mut self.function_item,
            &mut self.function_step,
            &mut self.function_element,
            &mut self.failure_effect,
            &mut self.failure_mode,
            &mut self.failure_cause,
            &mut self.prevention_controls,
            &mut self.detection_controls,
            &mut self.special_characteristic,
            &mut self.filter_code,
            &mut self.prevention_action,
            &mut self.detection_action,
            &mut self.action_taken,
            &mut self.evidence,
            &mut self.remarks,
        ]
    }

    /// The row rules. `today` (UTC) and `before` (the row as saved; `None` for a new row)
    /// decide whether an action's target date may be in the past: only a date already saved may.
    pub fn validate(&self, today: NaiveDate, before: Option<&RowCells>) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        let long = [
            ("structure_item", &self.structure_item),
            ("structure_step", &self.structure_step),
            ("structure_element", &self.structure_element),
            ("function_item", &self.function_item),
            ("function_step", &self.function_step),
            ("function_element", &self.function_element),
            ("failure_effect", &self.failure_effect),
            ("failure_mode", &self.failure_mode),
            ("failure_cause", &self.failure_cause),
            ("prevention_controls", &self.prevention_controls),
            ("detection_controls", &self.detection_controls),
            ("prevention_action", &self.prevention_action),
            ("detection_action", &self.detection_action),
            ("action_taken", &self.action_taken),
            ("evidence", &self.evidence),
            ("remarks", &self.remarks),
        ];
        for (field, value) in long {
            validation::text(&mut e, field, value, false, 2000);
        }
        for (field, value) in [
            ("element_type", &self.element_type),
            ("special_characteristic", &self.special_characteristic),
            ("filter_code", &self.filter_code),
        ] {
            validation::text(&mut e, field, value, false, 40);
        }
        // A failure chain needs its mode (the row's identity in the worksheet).
        if self.failure_mode.trim().is_empty() {
            e.add("failure_mode", REQUIRED);
        }
        for (field, value) in [
            ("severity", self.severity),
            ("occurrence", self.occurrence),
            ("detection", self.detection),
            ("revised_severity", self.revised_severity),
            ("revised_occurrence", self.revised_occurrence),
            ("revised_detection", self.revised_detection),
        ] {
            if let Some(v) = value {
                check_rating(&mut e, field, v);
            }
        }
        let has_action = !self.prevention_action.is_empty() || !self.detection_action.is_empty();
        if has_action || self.action_status != ActionStatus::None {
            if !has_action {
                e.add("prevention_action", REQUIRED);
            }
            if self.responsible_id.is_none() {
                e.add("responsible_id", REQUIRED);
            }
            match self.target_date {
                None => e.add("target_date", REQUIRED),
                Some(d) => {
                    let kept = before.is_some_and(|b| b.target_date == Some(d));
                    if d < today && !kept && self.action_status != ActionStatus::Completed {
                        e.add("target_date", DATE_IN_PAST);
                    }
                }
            }
            if self.action_status == ActionStatus::None {
                e.add("action_status", REQUIRED);
            }
        }
        if self.action_status == ActionStatus::Completed {
            for (field, missing) in [
                ("action_taken", self.action_taken.is_empty()),
                ("evidence", self.evidence.is_empty()),
                ("completion_date", self.completion_date.is_none()),
                ("revised_severity", self.revised_severity.is_none()),
                ("revised_occurrence", self.revised_occurrence.is_none()),
                ("revised_detection", self.revised_detection.is_none()),
            ] {
                if missing {
                    e.add(field, NEEDED_TO_COMPLETE);
                }
            }
        }
        e.into_result()
    }
}

/// A three-way merge of one row, for two people saving it at once: `base` is the row as I
/// started from, `mine` my edit of it, `theirs` the row as someone else saved it since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMerge {
    /// `theirs` with every cell I changed set to my value.
    pub merged: RowCells,
    /// The JSON fields (e.g. `detection`, `responsible_id`) that we both changed, to different
    /// values: the ones to choose between. Empty when the edits touch different cells.
    pub conflicts: Vec<String>,
}

impl RowCells {
    /// Merges `mine` (an edit of `base`) into `theirs` cell by cell (see [`RowMerge`]).
    pub fn merge(base: &RowCells, mine: &RowCells, theirs: &RowCells) -> RowMerge {
        let mut merged = theirs.clone();
        let mut conflicts = Vec::new();
        for field in Self::FIELDS {
            if !mine.differs(base, field) {
                continue;
            }
            if theirs.differs(base, field) && theirs.differs(mine, field) {
                conflicts.push(field.to_string());
            }
            merged.set_from(mine, field);
        }
        RowMerge { merged, conflicts }
    }

    /// The cells (JSON names) whose values differ between `self` and `other`.
    pub fn changed_fields(&self, other: &RowCells) -> Vec<String> {
        Self::FIELDS.iter().filter(|f| self.differs(other, f)).map(|f| f.to_string()).collect()
    }
}

impl RowMerge {
    /// The merge with their value in every conflicting cell (my other changes kept).
    pub fn taking_theirs(&self, theirs: &RowCells) -> RowCells {
        let mut merged = self.merged.clone();
        for field in &self.conflicts {
            merged.set_from(theirs, field);
        }
        merged
    }
}

/// Save a row: its cells and the version it is based on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RowInput {
    /// The cells.
    #[serde(flatten)]
    pub cells: RowCells,
    /// On update: the row's version the edit is based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// The worksheet: the FMEA and its rows in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Worksheet {
    /// The header.
    pub fmea: Fmea,
    /// Every active row, by position.
    pub rows: Vec<Row>,
}

/// A CSV column: header text (PFMEA, DFMEA), and how to read and write it.
pub struct Column {
    /// The key (also the JSON field, except computed columns).
    pub key: &'static str,
    /// PFMEA header.
    pub pfmea: &'static str,
    /// DFMEA header.
    pub dfmea: &'static str,
    /// Worked out from other cells: written on export, ignored on import.
    pub computed: bool,
}

const fn col(key: &'static str, pfmea: &'static str, dfmea: &'static str) -> Column {
    Column { key, pfmea, dfmea, computed: false }
}

const fn computed(key: &'static str, header: &'static str) -> Column {
    Column { key, pfmea: header, dfmea: header, computed: true }
}

/// The worksheet's columns, in order (the CSV header and the grid).
pub const COLUMNS: &[Column] = &[
    col("structure_item", "Process item", "Next higher level"),
    col("structure_step", "Process step", "Focus element"),
    col("structure_element", "Process work element", "Next lower level"),
    col("element_type", "4M type", "Characteristic type"),
    col("function_item", "Function of the process item", "Next higher level function"),
    col("function_step", "Function of the process step / product characteristic", "Focus element function"),
    col("function_element", "Function of the work element / process characteristic", "Next lower level function"),
    col("failure_effect", "Failure effect (FE)", "Failure effect (FE)"),
    col("severity", "S", "S"),
    col("failure_mode", "Failure mode (FM)", "Failure mode (FM)"),
    col("failure_cause", "Failure cause (FC)", "Failure cause (FC)"),
    col("prevention_controls", "Current prevention controls", "Current prevention controls"),
    col("occurrence", "O", "O"),
    col("detection_controls", "Current detection controls", "Current detection controls"),
    col("detection", "D", "D"),
    computed("ap", "AP"),
    computed("rpn", "RPN"),
    col("special_characteristic", "Special characteristic", "Special characteristic"),
    col("filter_code", "Filter code", "Filter code"),
    col("prevention_action", "Prevention action", "Prevention action"),
    col("detection_action", "Detection action", "Detection action"),
    col("responsible", "Responsible (username)", "Responsible (username)"),
    col("target_date", "Target date", "Target date"),
    col("action_status", "Status", "Status"),
    col("action_taken", "Action taken", "Action taken"),
    col("evidence", "Evidence", "Evidence"),
    col("completion_date", "Completion date", "Completion date"),
    col("revised_severity", "Revised S", "Revised S"),
    col("revised_occurrence", "Revised O", "Revised O"),
    col("revised_detection", "Revised D", "Revised D"),
    computed("revised_ap", "Revised AP"),
    col("remarks", "Remarks", "Remarks"),
];

#[cfg(test)]
mod merge_tests {
    use super::*;

    fn cells(o: Option<i64>, d: Option<i64>, remarks: &str) -> RowCells {
        RowCells {
            failure_mode: "Burr".into(),
            occurrence: o,
            detection: d,
            remarks: remarks.into(),
            ..Default::default()
        }
    }

    #[test]
    fn different_cells_merge_without_a_conflict() {
        let base = cells(Some(5), Some(5), "");
        let mine = cells(Some(3), Some(5), "");
        let theirs = cells(Some(5), Some(8), "checked");
        let m = RowCells::merge(&base, &mine, &theirs);
        assert_eq!(m.conflicts, Vec::<String>::new());
        assert_eq!(m.merged, cells(Some(3), Some(8), "checked"), "their cells stay, mine are added");
    }

    #[test]
    fn the_same_cell_changed_twice_is_a_conflict_unless_to_the_same_value() {
        let base = cells(Some(5), Some(5), "");
        let m = RowCells::merge(&base, &cells(Some(5), Some(2), ""), &cells(Some(5), Some(8), ""));
        assert_eq!(m.conflicts, vec!["detection".to_string()]);
        assert_eq!(m.merged.detection, Some(2), "the merge proposes mine; the person chooses");
        let mixed = RowCells::merge(&base, &cells(Some(3), Some(2), ""), &cells(Some(5), Some(8), ""));
        assert_eq!(
            mixed.taking_theirs(&cells(Some(5), Some(8), "")),
            cells(Some(3), Some(8), ""),
            "my other cell stays"
        );
        let m = RowCells::merge(&base, &cells(Some(5), Some(8), ""), &cells(Some(5), Some(8), ""));
        assert!(m.conflicts.is_empty());
        // Clearing a cell is a change too.
        assert_eq!(
            base.changed_fields(&cells(Some(5), Some(8), "x")),
            vec!["detection".to_string(), "remarks".to_string()]
        );
        let m = RowCells::merge(&base, &cells(None, Some(5), ""), &cells(Some(7), Some(5), ""));
        assert_eq!(m.conflicts, vec!["occurrence".to_string()]);
        assert_eq!(m.merged.occurrence, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    /// A row is read back as it was written: every cell, the row's own fields and the ratings
    /// (one missing from the wire form would be read as its default). Cells left out of an
    /// answer are read as their defaults, as before.
    #[test]
    fn a_row_reads_back_as_written_every_field_at_the_top_level() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut cells = chain();
        // Every cell set, so that a cell the wire form forgot would show.
        cells.function_item = "Transmit torque".into();
        cells.function_step = "Turn to 25 h6".into();
        cells.function_element = "Hold tolerance".into();
        cells.special_characteristic = "CC".into();
        cells.filter_code = "F1".into();
        cells.prevention_action = "Tool change at 80 %".into();
        cells.detection_action = "SPC on the diameter".into();
        cells.responsible_id = Some(UserId(7));
        cells.target_date = Some(date);
        cells.action_status = ActionStatus::Completed;
        cells.action_taken = "Counter set".into();
        cells.evidence = "CR-12".into();
        cells.completion_date = Some(date);
        cells.revised_severity = Some(9);
        cells.revised_occurrence = Some(2);
        cells.revised_detection = Some(1);
        cells.remarks = "Checked".into();
        let ratings = cells.ratings();
        let row = Row {
            id: RowId(3),
            fmea_id: FmeaId(2),
            position: 4,
            cells,
            responsible_name: "Tom Okafor".into(),
            version: 5,
            updated_at: DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc),
            updated_by: "Priya Natarajan".into(),
            risks: vec![LinkedRisk { id: 9, reference: "RSK-0009".into(), title: "Noise".into() }],
            ratings,
        };
        let json = serde_json::to_value(&row).unwrap();
        assert_eq!(json["failure_mode"], "Diameter oversize", "the cells are at the top level");
        assert_eq!(json["ap"], serde_json::json!(row.ratings.ap));
        assert_eq!(serde_json::from_value::<Row>(json.clone()).unwrap(), row);
        assert_eq!(serde_json::from_str::<Row>(&json.to_string()).unwrap(), row);
        let mut sparse = json;
        for cell in ["remarks", "evidence", "severity", "target_date", "ap", "risks"] {
            sparse.as_object_mut().unwrap().remove(cell);
        }
        let read: Row = serde_json::from_value(sparse).unwrap();
        assert_eq!((read.cells.remarks.as_str(), read.cells.severity, read.cells.target_date), ("", None, None));
        assert!(read.risks.is_empty() && read.ratings.ap.is_none());
    }

    fn chain() -> RowCells {
        RowCells {
            structure_item: "Gearbox line".into(),
            structure_step: "OP20 Turn shaft".into(),
            structure_element: "CNC lathe".into(),
            element_type: "Machine".into(),
            failure_effect: "Bearing seat oversize, noise at customer".into(),
            severity: Some(9),
            failure_mode: "Diameter oversize".into(),
            failure_cause: "Tool wear".into(),
            prevention_controls: "Tool life counter".into(),
            occurrence: Some(4),
            detection_controls: "100% air gauge".into(),
            detection: Some(1),
            ..Default::default()
        }
    }

    #[test]
    fn ap_and_its_reason_come_from_the_table() {
        let r = chain();
        assert_eq!(r.ap(), Some(ActionPriority::Medium));
        assert_eq!(r.ap_reason().unwrap(), "S 9–10, O 4–5, D 1 → Medium");
        assert_eq!(r.rpn(), Some(36));
        assert!(r.needs_management_review());
        assert_eq!(RowCells { severity: Some(11), ..chain() }.ap(), None);
    }

    #[test]
    fn ratings_and_actions_are_checked() {
        let bad = RowCells { severity: Some(11), occurrence: Some(0), ..chain() };
        let e = bad.validate(today(), None).unwrap_err();
        assert_eq!(e.get("severity"), Some(&["rating_out_of_range".to_string()][..]));
        assert_eq!(e.get("occurrence"), Some(&["rating_out_of_range".to_string()][..]));
        let action = RowCells {
            prevention_action: "Tool change at 80% life".into(),
            action_status: ActionStatus::Open,
            responsible_id: Some(UserId(3)),
            target_date: NaiveDate::from_ymd_opt(2026, 11, 1),
            ..chain()
        };
        assert_eq!(
            action.validate(today(), None).unwrap_err().get("target_date"),
            Some(&[DATE_IN_PAST.to_string()][..])
        );
        // A past date already saved may stay (an overdue action is still an action).
        assert!(action.validate(today(), Some(&action)).is_ok());
        let done = RowCells { action_status: ActionStatus::Completed, ..action.clone() };
        let e = done.validate(today(), Some(&action)).unwrap_err();
        for f in ["action_taken", "evidence", "completion_date", "revised_severity"] {
            assert_eq!(e.get(f), Some(&[NEEDED_TO_COMPLETE.to_string()][..]), "{f}");
        }
    }

    #[test]
    fn csv_round_trips_with_awkward_text() {
        let rows = vec![
            chain(),
            RowCells {
                failure_mode: "Thread \"M8\", stripped\nwhen torqued".into(),
                failure_cause: "=cmd|' /C calc'!A0".into(),
                remarks: "+1 and -1, @home".into(),
                severity: Some(7),
                ..Default::default()
            },
        ];
        let users = |id: UserId| format!("user{}", id.0);
        let text = to_csv(FmeaKind::Pfmea, &rows, users);
        // Formula injection is neutralised in the file.
        assert!(!text.contains("\n=cmd") && !text.contains(",=cmd"));
        let (read, problems) = parse_csv(FmeaKind::Pfmea, &text, today(), |_| None);
        assert!(problems.is_empty(), "{problems:?}");
        let read: Vec<RowCells> = read.into_iter().map(|(_, r)| r).collect();
        assert_eq!(read, rows);
        assert_eq!(to_csv(FmeaKind::Pfmea, &read, users), text, "byte-identical export");
    }

    #[test]
    fn import_names_every_bad_row_and_column() {
        let mut text = to_csv(FmeaKind::Pfmea, &[chain()], |_| String::new());
        let mut bad = csv_cells(&chain(), |_| String::new());
        bad[8] = "eleven".into(); // S
        bad[22] = "31/12/2026".into(); // target date
        text.push_str(&crate::csv::row(bad));
        let mut missing_mode = csv_cells(&chain(), |_| String::new());
        missing_mode[9] = String::new();
        text.push_str(&crate::csv::row(missing_mode));
        let (good, problems) = parse_csv(FmeaKind::Pfmea, &text, today(), |_| None);
        assert_eq!(good.len(), 1);
        assert_eq!(
            problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(),
            vec![(3, "S"), (3, "Target date"), (4, "Failure mode (FM)")]
        );
        let (_, problems) = parse_csv(FmeaKind::Dfmea, &text, today(), |_| None);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].reason.contains("Missing: Next higher level"), "{}", problems[0].reason);
    }

    #[test]
    fn a_closed_action_keeps_a_person_who_has_left_an_open_one_does_not() {
        let open = RowCells {
            prevention_action: "Tool change at 80% life".into(),
            action_status: ActionStatus::Open,
            responsible_id: Some(UserId(3)),
            target_date: NaiveDate::from_ymd_opt(2027, 3, 1),
            ..chain()
        };
        let done = RowCells {
            action_status: ActionStatus::Completed,
            action_taken: "Tool life counter".into(),
            evidence: "VR-12".into(),
            completion_date: NaiveDate::from_ymd_opt(2026, 10, 1),
            revised_severity: Some(7),
            revised_occurrence: Some(2),
            revised_detection: Some(3),
            ..open.clone()
        };
        let text = to_csv(FmeaKind::Pfmea, &[done.clone(), open], |_| "former.engineer".into());
        // Known, but deactivated.
        let (good, problems) =
            parse_csv(FmeaKind::Pfmea, &text, today(), |u| (u == "former.engineer").then_some((UserId(3), false)));
        assert_eq!(good.into_iter().map(|(_, c)| c).collect::<Vec<_>>(), vec![done]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].column.as_str()), (3, "Responsible (username)"));
        assert!(problems[0].reason.contains("deactivated"), "{}", problems[0].reason);
    }
}
