//! Storage of FMEA worksheets: the FMEA (header) and its rows, each row with its own version.
//! The trait and the backend-independent rows; the queries are in `queries/fmea.rs`.
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared::auth::UserId;
use shared::org::{ProcessId, RecordMeta};
use shared::register::WorkItem;
use shared::worksheet::{
    ActionStatus, Confidentiality, Fmea, FmeaId, FmeaInput, FmeaKind, Row, RowCells, RowId, TeamMember, Worksheet,
};

use super::{AuditContext, Change, StoreResult};

/// The outcome of a row save conditional on its version.
#[derive(Debug)]
pub enum RowChange {
    /// Saved.
    Done(Row),
    /// Someone saved the row first: here it is now (HTTP 409).
    Stale(Row),
    /// No such active row.
    NotFound,
}

/// FMEA queries.
#[async_trait]
pub trait FmeaStore: Send + Sync + 'static {
    /// Every active FMEA, by number.
    async fn list_fmeas(&self) -> StoreResult<Vec<Fmea>>;
    /// One FMEA.
    async fn get_fmea(&self, id: FmeaId) -> StoreResult<Option<Fmea>>;
    /// Creates an FMEA from validated, normalised input.
    async fn create_fmea(&self, ctx: &AuditContext, input: &FmeaInput) -> StoreResult<Fmea>;
    /// Updates an FMEA's header if it is still at `version`.
    async fn update_fmea(
        &self,
        ctx: &AuditContext,
        id: FmeaId,
        version: i64,
        input: &FmeaInput,
    ) -> StoreResult<Change<Fmea>>;
    /// The FMEA and its active rows in order.
    async fn worksheet(&self, id: FmeaId, limit: Option<i64>) -> StoreResult<Option<Worksheet>>;
    /// The ids of the worksheet's active rows, in order: what a streamed export then reads in
    /// chunks ([`FmeaStore::rows_by_ids`]).
    async fn worksheet_row_ids(&self, id: FmeaId) -> StoreResult<Vec<i64>>;
    /// The rows `ids` (their cells; no linked risks), in that order.
    async fn rows_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Row>>;
    /// One active row.
    async fn get_row(&self, id: RowId) -> StoreResult<Option<Row>>;
    /// Adds a row at the end of the worksheet.
    async fn create_row(&self, ctx: &AuditContext, fmea: FmeaId, cells: &RowCells) -> StoreResult<Row>;
    /// Saves a row if it is still at `version`.
    async fn update_row(&self, ctx: &AuditContext, id: RowId, version: i64, cells: &RowCells)
    -> StoreResult<RowChange>;
    /// Takes a row out of the worksheet (retired, with a reason) if it is still at `version`.
    async fn retire_row(&self, ctx: &AuditContext, id: RowId, version: i64, reason: &str) -> StoreResult<RowChange>;
    /// Appends validated rows in one transaction (every row audited); returns how many.
    async fn import_rows(&self, ctx: &AuditContext, fmea: FmeaId, rows: &[RowCells]) -> StoreResult<usize>;
    /// Open optimization actions of `user` (everyone's when none) due by `horizon`.
    async fn action_items(
        &self,
        user: Option<UserId>,
        today: NaiveDate,
        horizon: NaiveDate,
    ) -> StoreResult<Vec<WorkItem>>;
}

#[derive(sqlx::FromRow)]
pub(super) struct FmeaRow {
    pub fmea_id: i64,
    pub kind: String,
    pub fmea_number: String,
    pub subject: String,
    pub company: String,
    pub location: String,
    pub customer: String,
    pub model_year: String,
    pub start_date: NaiveDate,
    pub revision_date: NaiveDate,
    pub process_id: i64,
    pub process_name: String,
    pub process_owner_id: Option<i64>,
    pub responsible_id: i64,
    pub responsible_name: String,
    pub team: String,
    pub confidentiality: String,
    pub rows: i64,
    pub content_version: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub retired_reason: Option<String>,
}

impl FmeaRow {
    /// The FMEA, with the team's names from `names` (user id → name).
    pub(super) fn into_fmea(self, names: &std::collections::HashMap<i64, String>) -> Fmea {
        let team: Vec<i64> = serde_json::from_str(&self.team).unwrap_or_default();
        Fmea {
            id: FmeaId(self.fmea_id),
            kind: FmeaKind::parse(&self.kind).unwrap_or_default(),
            fmea_number: self.fmea_number,
            subject: self.subject,
            company: self.company,
            location: self.location,
            customer: self.customer,
            model_year: self.model_year,
            start_date: self.start_date,
            revision_date: self.revision_date,
            process_id: ProcessId(self.process_id),
            process_name: self.process_name,
            process_owner_id: self.process_owner_id.map(UserId),
            responsible_id: UserId(self.responsible_id),
            responsible_name: self.responsible_name,
            team: team
                .into_iter()
                .map(|id| TeamMember { id: UserId(id), name: names.get(&id).cloned().unwrap_or_default() })
                .collect(),
            confidentiality: Confidentiality::parse(&self.confidentiality).unwrap_or_default(),
            rows: self.rows,
            content_version: self.content_version,
            meta: RecordMeta {
                version: self.version,
                created_at: self.created_at,
                updated_at: self.updated_at,
                retired_at: self.retired_at,
                retired_reason: self.retired_reason,
            },
        }
    }
}

pub(super) const FMEA_SELECT: &str = "select f.fmea_id, f.kind, f.fmea_number, f.subject, f.company, f.location, \
     f.customer, f.model_year, f.start_date, f.revision_date, f.process_id, p.name as process_name, \
     p.owner_id as process_owner_id, \
     f.responsible_id, u.full_name as responsible_name, f.team, f.confidentiality, \
     (select count(*) from fmea_rows r where r.fmea_id = f.fmea_id and r.retired_at is null) as rows, \
     f.content_version, f.version, f.created_at, f.updated_at, f.retired_at, f.retired_reason \
     from fmeas f join processes p on p.process_id = f.process_id join users u on u.user_id = f.responsible_id";

#[derive(sqlx::FromRow)]
pub(super) struct SheetRow {
    pub row_id: i64,
    pub fmea_id: i64,
    pub position: i64,
    pub structure_item: String,
    pub structure_step: String,
    pub structure_element: String,
    pub element_type: String,
    pub function_item: String,
    pub function_step: String,
    pub function_element: String,
    pub failure_effect: String,
    pub severity: Option<i64>,
    pub failure_mode: String,
    pub failure_cause: String,
    pub prevention_controls: String,
    pub occurrence: Option<i64>,
    pub detection_controls: String,
    pub detection: Option<i64>,
    pub special_characteristic: String,
    pub filter_code: String,
    pub prevention_action: String,
    pub detection_action: String,
    pub responsible_id: Option<i64>,
    pub responsible_name: Option<String>,
    pub target_date: Option<NaiveDate>,
    pub action_status: String,
    pub action_taken: String,
    pub evidence: String,
    pub completion_date: Option<NaiveDate>,
    pub revised_severity: Option<i64>,
    pub revised_occurrence: Option<i64>,
    pub revised_detection: Option<i64>,
    pub remarks: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl From<SheetRow> for Row {
    fn from(r: SheetRow) -> Row {
        let mut row = Row {
            id: RowId(r.row_id),
            fmea_id: FmeaId(r.fmea_id),
            position: r.position,
            cells: RowCells {
                structure_item: r.structure_item,
                structure_step: r.structure_step,
                structure_element: r.structure_element,
                element_type: r.element_type,
                function_item: r.function_item,
                function_step: r.function_step,
                function_element: r.function_element,
                failure_effect: r.failure_effect,
                severity: r.severity,
                failure_mode: r.failure_mode,
                failure_cause: r.failure_cause,
                prevention_controls: r.prevention_controls,
                occurrence: r.occurrence,
                detection_controls: r.detection_controls,
                detection: r.detection,
                special_characteristic: r.special_characteristic,
                filter_code: r.filter_code,
                prevention_action: r.prevention_action,
                detection_action: r.detection_action,
                responsible_id: r.responsible_id.map(UserId),
                target_date: r.target_date,
                action_status: ActionStatus::parse(&r.action_status).unwrap_or_default(),
                action_taken: r.action_taken,
                evidence: r.evidence,
                completion_date: r.completion_date,
                revised_severity: r.revised_severity,
                revised_occurrence: r.revised_occurrence,
                revised_detection: r.revised_detection,
                remarks: r.remarks,
            },
            responsible_name: r.responsible_name.unwrap_or_default(),
            version: r.version,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
            risks: Vec::new(),
            ratings: Default::default(),
        };
        row.ratings = row.cells.ratings();
        row
    }
}

pub(super) const ROW_SELECT: &str = "select r.row_id, r.fmea_id, r.position, r.structure_item, r.structure_step, \
     r.structure_element, r.element_type, r.function_item, r.function_step, r.function_element, r.failure_effect, \
     r.severity, r.failure_mode, r.failure_cause, r.prevention_controls, r.occurrence, r.detection_controls, \
     r.detection, r.special_characteristic, r.filter_code, r.prevention_action, r.detection_action, \
     r.responsible_id, u.full_name as responsible_name, r.target_date, r.action_status, r.action_taken, \
     r.evidence, r.completion_date, r.revised_severity, r.revised_occurrence, r.revised_detection, r.remarks, \
     r.version, r.updated_at, r.updated_by from fmea_rows r left join users u on u.user_id = r.responsible_id";

/// The stored letter of an Action Priority.
pub(super) fn ap_text(ap: Option<shared::fmea::ActionPriority>) -> Option<String> {
    ap.map(|a| a.letter().to_string())
}

/// The cell columns written by inserts and updates, in bind order.
pub(super) const CELL_COLUMNS: &str = "structure_item, structure_step, structure_element, element_type, \
     function_item, function_step, function_element, failure_effect, severity, failure_mode, failure_cause, \
     prevention_controls, occurrence, detection_controls, detection, ap, special_characteristic, filter_code, \
     prevention_action, detection_action, responsible_id, target_date, action_status, action_taken, evidence, \
     completion_date, revised_severity, revised_occurrence, revised_detection, revised_ap, remarks";

/// How many cell columns [`CELL_COLUMNS`] binds.
pub(super) const CELL_COUNT: usize = 31;

/// Binds a row's cells in [`CELL_COLUMNS`] order.
macro_rules! bind_cells {
    ($query:expr, $c:expr) => {{
        let c: &shared::worksheet::RowCells = $c;
        $query
            .bind(&c.structure_item)
            .bind(&c.structure_step)
            .bind(&c.structure_element)
            .bind(&c.element_type)
            .bind(&c.function_item)
            .bind(&c.function_step)
            .bind(&c.function_element)
            .bind(&c.failure_effect)
            .bind(c.severity)
            .bind(&c.failure_mode)
            .bind(&c.failure_cause)
            .bind(&c.prevention_controls)
            .bind(c.occurrence)
            .bind(&c.detection_controls)
            .bind(c.detection)
            .bind($crate::storage::fmea::ap_text(c.ap()))
            .bind(&c.special_characteristic)
            .bind(&c.filter_code)
            .bind(&c.prevention_action)
            .bind(&c.detection_action)
            .bind(c.responsible_id.map(|u| u.0))
            .bind(c.target_date)
            .bind(c.action_status.as_str())
            .bind(&c.action_taken)
            .bind(&c.evidence)
            .bind(c.completion_date)
            .bind(c.revised_severity)
            .bind(c.revised_occurrence)
            .bind(c.revised_detection)
            .bind($crate::storage::fmea::ap_text(c.revised_ap()))
            .bind(&c.remarks)
    }};
}
pub(super) use bind_cells;

/// Pushes a row's cells in [`CELL_COLUMNS`] order into a multi-row insert.
macro_rules! push_cells {
    ($v:expr, $c:expr) => {{
        let c: &shared::worksheet::RowCells = $c;
        $v.push_bind(c.structure_item.clone())
            .push_bind(c.structure_step.clone())
            .push_bind(c.structure_element.clone())
            .push_bind(c.element_type.clone())
            .push_bind(c.function_item.clone())
            .push_bind(c.function_step.clone())
            .push_bind(c.function_element.clone())
            .push_bind(c.failure_effect.clone())
            .push_bind(c.severity)
            .push_bind(c.failure_mode.clone())
            .push_bind(c.failure_cause.clone())
            .push_bind(c.prevention_controls.clone())
            .push_bind(c.occurrence)
            .push_bind(c.detection_controls.clone())
            .push_bind(c.detection)
            .push_bind($crate::storage::fmea::ap_text(c.ap()))
            .push_bind(c.special_characteristic.clone())
            .push_bind(c.filter_code.clone())
            .push_bind(c.prevention_action.clone())
            .push_bind(c.detection_action.clone())
            .push_bind(c.responsible_id.map(|u| u.0))
            .push_bind(c.target_date)
            .push_bind(c.action_status.as_str())
            .push_bind(c.action_taken.clone())
            .push_bind(c.evidence.clone())
            .push_bind(c.completion_date)
            .push_bind(c.revised_severity)
            .push_bind(c.revised_occurrence)
            .push_bind(c.revised_detection)
            .push_bind($crate::storage::fmea::ap_text(c.revised_ap()))
            .push_bind(c.remarks.clone());
    }};
}
pub(super) use push_cells;

/// `$from, $from+1, …` for the cell columns.
pub(super) fn cell_placeholders(from: usize) -> String {
    (from..from + CELL_COUNT).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `column = $n, …` for the cell columns, from `$from`.
pub(super) fn cell_assignments(from: usize) -> String {
    CELL_COLUMNS
        .split(',')
        .map(str::trim)
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", from + i))
        .collect::<Vec<_>>()
        .join(", ")
}
