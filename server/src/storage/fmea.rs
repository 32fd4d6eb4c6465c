//! Storage of FMEA worksheets: the FMEA (header) and its rows, each row with its own version.
//! The SQL is written once in [`fmea_store!`] for both backends.

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
    /// Open optimization actions for `user` due by `horizon`.
    async fn action_items(&self, user: UserId, today: NaiveDate, horizon: NaiveDate) -> StoreResult<Vec<WorkItem>>;
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

macro_rules! fmea_store {
    ($store:ident) => {
        use shared::worksheet::{
            Fmea as WFmea, FmeaId as WFmeaId, FmeaInput as WFmeaInput, Row as WRow, RowCells as WRowCells,
            RowId as WRowId, Worksheet as WWorksheet,
        };
        use $crate::storage::fmea::{
            FMEA_SELECT, FmeaRow, FmeaStore, ROW_SELECT, RowChange, SheetRow, bind_cells, cell_assignments,
            cell_placeholders, push_cells, CELL_COLUMNS,
        };

        async fn user_names(conn: &mut Conn) -> StoreResult<std::collections::HashMap<i64, String>> {
            let rows: Vec<(i64, String)> = sqlx::query_as("select user_id, full_name from users").fetch_all(conn).await?;
            Ok(rows.into_iter().collect())
        }

        async fn fmea_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<WFmea>> {
            let sql = format!("{FMEA_SELECT} where f.fmea_id = $1");
            let row: Option<FmeaRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
            let Some(row) = row else { return Ok(None) };
            let names = user_names(&mut *conn).await?;
            Ok(Some(row.into_fmea(&names)))
        }

        async fn row_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<WRow>> {
            let sql = format!("{ROW_SELECT} where r.row_id = $1 and r.retired_at is null");
            let row: Option<SheetRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
            let Some(mut row) = row.map(WRow::from) else { return Ok(None) };
            let links = linked_risks(conn, "r.row_id = $1", id).await?;
            row.risks = links.into_iter().map(|(_, l)| l).collect();
            Ok(Some(row))
        }

        /// The risks citing rows (`scope` over `fmea_rows r`, with `$1`), by row.
        async fn linked_risks(conn: &mut Conn, scope: &str, key: i64) -> StoreResult<Vec<(i64, shared::worksheet::LinkedRisk)>> {
            let sql = format!(
                "select e.record_id, k.risk_id, k.title from risk_evidence e join risks k on k.risk_id = e.risk_id \
                 join fmea_rows r on r.row_id = e.record_id where e.record_type = 'fmea_row' and k.retired_at is null \
                 and {scope} order by k.risk_id"
            );
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(&sql).bind(key).fetch_all(conn).await?;
            Ok(rows
                .into_iter()
                .map(|(row, risk, title)| {
                    let reference = shared::register::reference(shared::register::RiskId(risk));
                    (row, shared::worksheet::LinkedRisk { id: risk, reference, title })
                })
                .collect())
        }

        /// The header's references: process and responsible person active, team members active.
        async fn check_fmea_references(conn: &mut Conn, input: &WFmeaInput) -> StoreResult<()> {
            let process = input.process_id.ok_or_else(|| field_error("process_id", shared::validation::REQUIRED))?;
            active_reference(&mut *conn, PROCESSES, "process_id", process.0).await?;
            let who = input.responsible_id.ok_or_else(|| field_error("responsible_id", shared::validation::REQUIRED))?;
            active_reference(&mut *conn, USERS, "responsible_id", who.0).await?;
            for member in &input.team {
                active_reference(&mut *conn, USERS, "team", member.0).await?;
            }
            Ok(())
        }

        /// A row's responsible person must be an active user (unless unchanged since saved).
        async fn check_row_references(conn: &mut Conn, cells: &WRowCells, before: Option<&WRowCells>) -> StoreResult<()> {
            if let Some(who) = cells.responsible_id
                && before.is_none_or(|b| b.responsible_id != Some(who))
            {
                active_reference(conn, USERS, "responsible_id", who.0).await?;
            }
            Ok(())
        }

        fn row_json(cells: &WRowCells) -> serde_json::Value {
            serde_json::to_value(cells).unwrap_or_default()
        }

        fn row_draft<'a>(action: AuditAction, id: i64, version: i64, before: Option<&WRowCells>, after: &WRowCells, reason: Option<&'a str>) -> Draft<'a> {
            let before = before.map_or(serde_json::Value::Null, row_json);
            Draft { action, record_type: WRow::RECORD_TYPE, record_id: id, record_version: version, changes: diff(&before, &row_json(after)), reason }
        }

        async fn insert_row(conn: &mut Conn, fmea: i64, position: i64, cells: &WRowCells, by: &str) -> StoreResult<i64> {
            let sql = format!(
                "insert into fmea_rows (fmea_id, position, version, created_at, updated_at, updated_by, {CELL_COLUMNS}) \
                 values ($1, $2, 1, $3, $3, $4, {}) returning row_id",
                cell_placeholders(5)
            );
            let q = sqlx::query_as::<_, (i64,)>(&sql).bind(fmea).bind(position).bind(TUtc::now()).bind(by);
            let (id,) = bind_cells!(q, cells).fetch_one(conn).await.map_err(|e| constraint_error(e, "responsible_id"))?;
            Ok(id)
        }

        /// A row changed: the worksheet's content version moves on (a baseline signed before
        /// is superseded).
        async fn bump_content(conn: &mut Conn, fmea: i64) -> StoreResult<()> {
            sqlx::query("update fmeas set content_version = content_version + 1 where fmea_id = $1")
                .bind(fmea)
                .execute(conn)
                .await?;
            Ok(())
        }

        /// The worksheet as a baseline signature binds it: the header and every row's cells in
        /// order, at the content version.
        async fn fmea_baseline_json(conn: &mut Conn, id: i64) -> StoreResult<Option<(i64, serde_json::Value)>> {
            let Some(fmea) = fmea_by_id(&mut *conn, id).await? else { return Ok(None) };
            let sql = format!("{ROW_SELECT} where r.fmea_id = $1 and r.retired_at is null order by r.position, r.row_id");
            let rows: Vec<SheetRow> = sqlx::query_as(&sql).bind(id).fetch_all(conn).await?;
            let rows: Vec<serde_json::Value> = rows
                .into_iter()
                .map(|r| {
                    let row = WRow::from(r);
                    serde_json::json!({"id": row.id, "position": row.position, "version": row.version, "cells": row.cells})
                })
                .collect();
            let version = fmea.content_version;
            Ok(Some((version, serde_json::json!({"fmea": fmea, "rows": rows}))))
        }

        async fn next_position(conn: &mut Conn, fmea: i64) -> StoreResult<i64> {
            let (max,): (Option<i64>,) = sqlx::query_as("select max(position) from fmea_rows where fmea_id = $1")
                .bind(fmea)
                .fetch_one(conn)
                .await?;
            Ok(max.unwrap_or(0) + 1)
        }

        #[async_trait]
        impl FmeaStore for $store {
            async fn list_fmeas(&self) -> StoreResult<Vec<WFmea>> {
                let mut conn = self.pool.acquire().await?;
                let sql = format!("{FMEA_SELECT} where f.retired_at is null order by lower(f.fmea_number), f.fmea_id");
                let rows: Vec<FmeaRow> = sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
                let names = user_names(&mut conn).await?;
                Ok(rows.into_iter().map(|r| r.into_fmea(&names)).collect())
            }

            async fn get_fmea(&self, id: WFmeaId) -> StoreResult<Option<WFmea>> {
                let mut conn = self.pool.acquire().await?;
                fmea_by_id(&mut conn, id.0).await
            }

            async fn create_fmea(&self, ctx: &AuditContext, input: &WFmeaInput) -> StoreResult<WFmea> {
                let (_turn, mut tx) = self.write_tx().await?;
                check_fmea_references(&mut tx, input).await?;
                let team = serde_json::to_string(&input.team.iter().map(|u| u.0).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into());
                let (id,): (i64,) = sqlx::query_as(
                    "insert into fmeas (kind, fmea_number, subject, company, location, customer, model_year, start_date, \
                     revision_date, process_id, responsible_id, team, confidentiality, version, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14) returning fmea_id",
                )
                .bind(input.kind.as_str())
                .bind(&input.fmea_number)
                .bind(&input.subject)
                .bind(&input.company)
                .bind(&input.location)
                .bind(&input.customer)
                .bind(&input.model_year)
                .bind(input.start_date)
                .bind(input.revision_date)
                .bind(input.process_id.map(|p| p.0))
                .bind(input.responsible_id.map(|u| u.0))
                .bind(&team)
                .bind(input.confidentiality.as_str())
                .bind(TUtc::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "process_id"))?;
                let fmea = fmea_by_id(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let audited = Audited { action: AuditAction::Create, record_id: id, before: None, after: &fmea, version: 1, reason: None };
                append_audit(&mut tx, ctx, audited).await?;
                tx.commit().await?;
                Ok(fmea)
            }

            async fn update_fmea(&self, ctx: &AuditContext, id: WFmeaId, version: i64, input: &WFmeaInput) -> StoreResult<Change<WFmea>> {
                let (_turn, mut tx) = self.write_tx().await?;
                check_fmea_references(&mut tx, input).await?;
                let before = fmea_by_id(&mut tx, id.0).await?;
                let team = serde_json::to_string(&input.team.iter().map(|u| u.0).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into());
                let done = sqlx::query(
                    "update fmeas set fmea_number = $3, subject = $4, company = $5, location = $6, customer = $7, \
                     model_year = $8, start_date = $9, revision_date = $10, process_id = $11, responsible_id = $12, \
                     team = $13, confidentiality = $14, version = version + 1, content_version = content_version + 1, \
                     updated_at = $15 \
                     where fmea_id = $1 and version = $2 and retired_at is null",
                )
                .bind(id.0)
                .bind(version)
                .bind(&input.fmea_number)
                .bind(&input.subject)
                .bind(&input.company)
                .bind(&input.location)
                .bind(&input.customer)
                .bind(&input.model_year)
                .bind(input.start_date)
                .bind(input.revision_date)
                .bind(input.process_id.map(|p| p.0))
                .bind(input.responsible_id.map(|u| u.0))
                .bind(&team)
                .bind(input.confidentiality.as_str())
                .bind(TUtc::now())
                .execute(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "process_id"))?
                .rows_affected() == 1;
                let after = fmea_by_id(&mut tx, id.0).await?;
                let reason = Some(input.reason.as_str()).filter(|r| !r.is_empty());
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Update, record_id: id.0, reason, expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            async fn worksheet(&self, id: WFmeaId, limit: Option<i64>) -> StoreResult<Option<WWorksheet>> {
                let mut conn = self.pool.acquire().await?;
                let Some(fmea) = fmea_by_id(&mut conn, id.0).await? else { return Ok(None) };
                let sql = format!("{ROW_SELECT} where r.fmea_id = $1 and r.retired_at is null order by r.position, r.row_id limit $2");
                let rows: Vec<SheetRow> =
                    sqlx::query_as(&sql).bind(id.0).bind(limit.unwrap_or(i64::MAX)).fetch_all(&mut *conn).await?;
                let mut rows: Vec<WRow> = rows.into_iter().map(Into::into).collect();
                let mut links: std::collections::HashMap<i64, Vec<shared::worksheet::LinkedRisk>> = std::collections::HashMap::new();
                for (row, link) in linked_risks(&mut conn, "r.fmea_id = $1", id.0).await? {
                    links.entry(row).or_default().push(link);
                }
                for row in &mut rows {
                    if let Some(l) = links.remove(&row.id.0) {
                        row.risks = l;
                    }
                }
                Ok(Some(WWorksheet { fmea, rows }))
            }

            async fn get_row(&self, id: WRowId) -> StoreResult<Option<WRow>> {
                let mut conn = self.pool.acquire().await?;
                row_by_id(&mut conn, id.0).await
            }

            async fn create_row(&self, ctx: &AuditContext, fmea: WFmeaId, cells: &WRowCells) -> StoreResult<WRow> {
                let (_turn, mut tx) = self.write_tx().await?;
                active_reference(&mut tx, FMEAS, "fmea_id", fmea.0).await?;
                check_row_references(&mut tx, cells, None).await?;
                let position = next_position(&mut tx, fmea.0).await?;
                let id = insert_row(&mut tx, fmea.0, position, cells, &ctx.actor_name).await?;
                bump_content(&mut tx, fmea.0).await?;
                append_audit(&mut tx, ctx, row_draft(AuditAction::Create, id, 1, None, cells, None)).await?;
                let row = row_by_id(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
                tx.commit().await?;
                Ok(row)
            }

            async fn update_row(&self, ctx: &AuditContext, id: WRowId, version: i64, cells: &WRowCells) -> StoreResult<RowChange> {
                let (_turn, mut tx) = self.write_tx().await?;
                let Some(before) = row_by_id(&mut tx, id.0).await? else { return Ok(RowChange::NotFound) };
                if before.version != version {
                    return Ok(RowChange::Stale(before));
                }
                check_row_references(&mut tx, cells, Some(&before.cells)).await?;
                let sql = format!(
                    "update fmea_rows set {}, version = version + 1, updated_at = $3, updated_by = $4 \
                     where row_id = $1 and version = $2 and retired_at is null",
                    cell_assignments(5)
                );
                let q = sqlx::query(&sql).bind(id.0).bind(version).bind(TUtc::now()).bind(&ctx.actor_name);
                let done = bind_cells!(q, cells).execute(&mut *tx).await.map_err(|e| constraint_error(e, "responsible_id"))?.rows_affected() == 1;
                let Some(after) = row_by_id(&mut tx, id.0).await? else { return Ok(RowChange::NotFound) };
                if !done {
                    return Ok(RowChange::Stale(after));
                }
                bump_content(&mut tx, after.fmea_id.0).await?;
                append_audit(&mut tx, ctx, row_draft(AuditAction::Update, id.0, after.version, Some(&before.cells), cells, None)).await?;
                tx.commit().await?;
                Ok(RowChange::Done(after))
            }

            async fn retire_row(&self, ctx: &AuditContext, id: WRowId, version: i64, reason: &str) -> StoreResult<RowChange> {
                let (_turn, mut tx) = self.write_tx().await?;
                let Some(before) = row_by_id(&mut tx, id.0).await? else { return Ok(RowChange::NotFound) };
                if before.version != version {
                    return Ok(RowChange::Stale(before));
                }
                retire(&mut tx, "fmea_rows", "row_id", id.0, version, reason).await?;
                bump_content(&mut tx, before.fmea_id.0).await?;
                let changes = diff(&serde_json::json!({"retired": false}), &serde_json::json!({"retired": true}));
                let draft = Draft { action: AuditAction::Retire, record_type: WRow::RECORD_TYPE, record_id: id.0, record_version: version + 1, changes, reason: Some(reason) };
                append_audit(&mut tx, ctx, draft).await?;
                tx.commit().await?;
                Ok(RowChange::Done(WRow { version: version + 1, ..before }))
            }

            async fn import_rows(&self, ctx: &AuditContext, fmea: WFmeaId, rows: &[WRowCells]) -> StoreResult<usize> {
                let (_turn, mut tx) = self.write_tx().await?;
                active_reference(&mut tx, FMEAS, "fmea_id", fmea.0).await?;
                let mut position = next_position(&mut tx, fmea.0).await?;
                bump_content(&mut tx, fmea.0).await?;
                // Each responsible person of an open action checked once (a closed action may
                // name someone who has left since).
                let mut checked = std::collections::BTreeSet::new();
                for who in rows.iter().filter(|c| c.action_status.is_pending()).filter_map(|c| c.responsible_id) {
                    if checked.insert(who.0) {
                        active_reference(&mut tx, USERS, "responsible_id", who.0).await?;
                    }
                }
                // One chain head for the whole import: the appends below follow each other.
                let mut head = lock_chain(&mut tx).await?;
                let now = TUtc::now();
                // 37 values per row: 400 rows per insert stay under both databases' bind limits.
                for chunk in rows.chunks(400) {
                    let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
                        "insert into fmea_rows (fmea_id, position, version, created_at, updated_at, updated_by, {CELL_COLUMNS}) "
                    ));
                    let first = position;
                    qb.push_values(chunk.iter().enumerate(), |mut v, (i, c)| {
                        v.push_bind(fmea.0)
                            .push_bind(first + i as i64)
                            .push_bind(1_i64)
                            .push_bind(now)
                            .push_bind(now)
                            .push_bind(ctx.actor_name.clone());
                        push_cells!(v, c);
                    });
                    qb.push(" returning row_id, position");
                    let ids: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&mut *tx).await.map_err(|e| constraint_error(e, "responsible_id"))?;
                    let ids: std::collections::HashMap<i64, i64> = ids.into_iter().map(|(id, p)| (p, id)).collect();
                    let mut entries = Vec::with_capacity(chunk.len());
                    for (i, cells) in chunk.iter().enumerate() {
                        let id = ids.get(&(first + i as i64)).copied().ok_or(sqlx::Error::RowNotFound)?;
                        let entry = row_draft(AuditAction::Create, id, 1, None, cells, Some("CSV import")).entry(ctx, head.take());
                        head = Some((entry.seq, entry.hash.clone()));
                        entries.push(entry);
                    }
                    insert_entries(&mut tx, &entries).await?;
                    position += chunk.len() as i64;
                }
                tx.commit().await?;
                Ok(rows.len())
            }

            async fn action_items(&self, user: UserId, today: chrono::NaiveDate, horizon: chrono::NaiveDate) -> StoreResult<Vec<shared::register::WorkItem>> {
                let rows: Vec<(i64, i64, String, String, String, chrono::NaiveDate)> = sqlx::query_as(
                    "select r.position, r.fmea_id, f.fmea_number, r.failure_mode, \
                     case when r.prevention_action <> '' then r.prevention_action else r.detection_action end, r.target_date \
                     from fmea_rows r join fmeas f on f.fmea_id = r.fmea_id \
                     where r.responsible_id = $1 and r.retired_at is null and f.retired_at is null \
                     and r.action_status in ('open', 'decision_pending', 'implementation_pending') \
                     and r.target_date is not null and r.target_date <= $2 order by r.target_date, r.row_id",
                )
                .bind(user.0)
                .bind(horizon)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(row, fmea, number, mode, action, due)| shared::register::WorkItem {
                        kind: "FMEA action".into(),
                        record_type: "fmea".into(),
                        record_id: fmea,
                        reference: format!("{number} row {row}"),
                        title: format!("{action} ({mode})"),
                        due,
                        overdue: due < today,
                    })
                    .collect())
            }
        }
    };
}
pub(super) use fmea_store;
