//! FMEA worksheets (AIAG & VDA): FMEAs with their header, rows saved one by one with their own
//! version (409 with the saved row when someone else saved it first), CSV export and import
//! (every bad row reported, nothing imported until the file is clean unless asked), and the
//! baseline approved by signature (`POST /signatures`, record type `fmea`).

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use shared::List;
use shared::auth::Permission;
use shared::org::RetireInput;
use shared::worksheet::{
    Confidentiality, Fmea, FmeaId, FmeaInput, ImportProblem, Row, RowCells, RowId, RowInput, Worksheet, csv_cells,
    csv_header, parse_csv,
};

use super::{change_response, expected_version, export, with_etag};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiBytes, ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, decode_value};
use crate::storage::{AuditContext, RowChange};

pub use shared::worksheet::IMPORT_LIMIT_BYTES;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fmeas", get(list_fmeas).post(create_fmea))
        .route("/fmeas/{id}", get(get_fmea).put(update_fmea))
        .route("/fmeas/{id}/worksheet", get(worksheet))
        .route("/fmeas/{id}/rows", post(create_row))
        .route("/fmeas/{id}/export.csv", get(export_csv))
        .route("/fmeas/{id}/export.xlsx", get(export_xlsx))
        .route("/fmeas/{id}/import", post(import_csv).layer(DefaultBodyLimit::max(IMPORT_LIMIT_BYTES)))
        .route("/fmea-rows/{id}", get(get_row).put(update_row))
        .route("/fmea-rows/{id}/retire", post(retire_row))
}

/// Every active FMEA the caller may read (see [`Fmea::readable_by`]: a proprietary or
/// confidential FMEA is listed only to the people allowed to open it).
#[utoipa::path(get, path = "/api/v1/fmeas", tag = "fmea", responses((status = 200, body = List<Fmea>)))]
pub async fn list_fmeas(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<List<Fmea>>> {
    let mut items = state.store.list_fmeas().await?;
    items.retain(|f| f.readable_by(user.id, &user.roles));
    Ok(Json(List { items }))
}

/// The FMEA's confidentiality, enforced: 403 naming who may read it.
pub fn may_read(user: &CurrentUser, fmea: &Fmea) -> Result<(), ApiError> {
    if fmea.readable_by(user.id, &user.roles) {
        return Ok(());
    }
    let who = match fmea.confidentiality {
        Confidentiality::Confidential => {
            "the people it names (team, responsible person, process owner) and quality managers"
        }
        _ => "the people it names (team, responsible person, process owner), quality managers and auditors",
    };
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        format!("This FMEA is {}: only {who} can read it.", fmea.confidentiality.label().to_lowercase()),
    ))
}

/// The FMEA, when it exists and the caller may read it (404 or 403 otherwise).
async fn readable_fmea(state: &AppState, user: &CurrentUser, id: FmeaId) -> ApiResult<Fmea> {
    let fmea = state.store.get_fmea(id).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))?;
    may_read(user, &fmea)?;
    Ok(fmea)
}

/// One FMEA's header.
#[utoipa::path(get, path = "/api/v1/fmeas/{id}", tag = "fmea", params(("id" = i64, Path, description = "The FMEA")),
    responses((status = 200, body = Fmea), (status = 403, body = shared::ErrorBody), (status = 404, body = shared::ErrorBody)))]
pub async fn get_fmea(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let f = readable_fmea(&state, &user, FmeaId(id)).await?;
    Ok(with_etag(StatusCode::OK, f.meta.version, &f))
}

/// 11.10(g), per record: quality managers edit every FMEA; a process owner edits the FMEAs of
/// the processes they own, or where they are the responsible person or on the team.
fn may_edit(user: &CurrentUser, fmea: &Fmea) -> Result<(), ApiError> {
    if user.can(Permission::ManageFmeas) {
        return Ok(());
    }
    if fmea.process_owner_id == Some(user.id)
        || fmea.responsible_id == user.id
        || fmea.team.iter().any(|m| m.id == user.id)
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "Only the FMEA's team, its responsible person, the process owner or a quality manager can change it.",
    ))
}

/// Who may change what in a header: the process and the responsible person only a quality
/// manager (as for a risk's owner); the team and the confidentiality also the responsible
/// person and the process owner; every other field anyone who may edit the FMEA.
fn header_rule(user: &CurrentUser, before: &Fmea, input: &FmeaInput) -> Result<(), ApiError> {
    if user.can(Permission::ManageFmeas) {
        return Ok(());
    }
    let refuse = |field: &str, message: &str| {
        let mut e = shared::FieldErrors::default();
        e.add(field, shared::validation::INVALID);
        Err(ApiError::new(StatusCode::FORBIDDEN, message).with_field_errors(e))
    };
    if input.process_id.is_some_and(|p| p != before.process_id) {
        return refuse("process_id", "Only a quality manager can move an FMEA to another process.");
    }
    if input.responsible_id.is_some_and(|r| r != before.responsible_id) {
        return refuse("responsible_id", "Only a quality manager can make someone else responsible for an FMEA.");
    }
    let leads = before.responsible_id == user.id || before.process_owner_id == Some(user.id);
    let mut team: Vec<_> = input.team.clone();
    let mut was: Vec<_> = before.team.iter().map(|m| m.id).collect();
    team.sort_by_key(|u| u.0);
    team.dedup();
    was.sort_by_key(|u| u.0);
    if team != was && !leads {
        return refuse(
            "team",
            "Only the responsible person, the process owner or a quality manager can change the team.",
        );
    }
    if input.confidentiality != before.confidentiality && !leads {
        return refuse(
            "confidentiality",
            "Only the responsible person, the process owner or a quality manager can change who may read the FMEA.",
        );
    }
    Ok(())
}

/// Start an FMEA (PFMEA or DFMEA) with its header.
#[utoipa::path(post, path = "/api/v1/fmeas", tag = "fmea", request_body = FmeaInput,
    responses((status = 201, body = Fmea), (status = 422, body = shared::ErrorBody)))]
pub async fn create_fmea(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<FmeaInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate().map_err(|e| ApiError::invalid(e).with_message("The FMEA is not valid; nothing was saved."))?;
    if !user.can(Permission::ManageFmeas) {
        let owns = match input.process_id {
            Some(p) => state.store.get_process(p).await?.is_some_and(|p| p.owner_id == Some(user.id)),
            None => false,
        };
        if !owns && input.responsible_id != Some(user.id) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "A process owner starts FMEAs of their own processes or names themselves responsible.",
            ));
        }
    }
    let saved = state.store.create_fmea(&ctx, &input).await?;
    Ok(with_etag(StatusCode::CREATED, saved.meta.version, &saved))
}

/// Change an FMEA's header (with the version last seen and a reason).
#[utoipa::path(put, path = "/api/v1/fmeas/{id}", tag = "fmea", request_body = FmeaInput,
    params(("id" = i64, Path, description = "The FMEA")),
    responses((status = 200, body = Fmea), (status = 403, body = shared::ErrorBody),
              (status = 404, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody),
              (status = 422, body = shared::ErrorBody)))]
pub async fn update_fmea(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FmeaInput>,
) -> ApiResult<Response> {
    let version = expected_version(&headers, input.version)?;
    let input = input.normalized();
    let before = state.store.get_fmea(FmeaId(id)).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))?;
    may_edit(&user, &before)?;
    header_rule(&user, &before, &input)?;
    input
        .validate_update()
        .map_err(|e| ApiError::invalid(e).with_message("The FMEA is not valid; nothing was saved."))?;
    let change = state.store.update_fmea(&ctx, FmeaId(id), version, &input).await?;
    change_response(change, "FMEA", |f| f.meta.version)
}

/// The whole worksheet: header and every row in order.
#[utoipa::path(get, path = "/api/v1/fmeas/{id}/worksheet", tag = "fmea",
    params(("id" = i64, Path, description = "The FMEA"), WorksheetQuery),
    responses((status = 200, body = Worksheet), (status = 400, body = shared::ErrorBody), (status = 404, body = shared::ErrorBody)))]
pub async fn worksheet(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<WorksheetQuery>,
) -> ApiResult<Response> {
    if q.limit.is_some_and(|l| l < 1) {
        return Err(ApiError::bad_request("`limit` is a whole number of rows, at least 1."));
    }
    let fmea = readable_fmea(&state, &user, FmeaId(id)).await?;
    // Kept compressed while nothing it shows has changed: its header and rows, and the names of
    // the people, the process and the risks it shows (read before the worksheet, so a change
    // made meanwhile is at worst in an answer kept under the older key).
    let head = state.store.audit_head_of(WORKSHEET_INPUTS).await?;
    let key = format!("worksheet:{id}:{}:{}:{head}:{:?}", fmea.content_version, fmea.meta.version, q.limit);
    let store = state.store.clone();
    crate::conditional::cached_json(&state.answers, key, &headers, async move {
        store.worksheet(FmeaId(id), q.limit).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))
    })
    .await
}

/// The record types a worksheet's answer shows: its header and rows, and the people, processes
/// and risks it names.
const WORKSHEET_INPUTS: &[&str] = &["fmea", "fmea_row", "user", "process", "risk"];

/// Query of the worksheet.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorksheetQuery {
    /// Only the first `limit` rows (by position), for a first screen while the rest loads; the
    /// header's `rows` still counts them all.
    #[serde(default)]
    pub limit: Option<i64>,
}

/// One row (as the live worksheet fetches a row someone else saved).
#[utoipa::path(get, path = "/api/v1/fmea-rows/{id}", tag = "fmea", params(("id" = i64, Path, description = "The row")),
    responses((status = 200, body = Row), (status = 404, body = shared::ErrorBody)))]
pub async fn get_row(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let row = state.store.get_row(RowId(id)).await?.ok_or_else(|| ApiError::not_found("No such row."))?;
    readable_fmea(&state, &user, row.fmea_id).await?;
    Ok(with_etag(StatusCode::OK, row.version, &row))
}

fn row_invalid(e: shared::FieldErrors) -> ApiError {
    ApiError::invalid(e).with_message("The row is not valid; nothing was saved.")
}

/// Add a failure chain (row) at the end of the worksheet.
#[utoipa::path(post, path = "/api/v1/fmeas/{id}/rows", tag = "fmea", request_body = RowInput,
    params(("id" = i64, Path, description = "The FMEA")),
    responses((status = 201, body = Row), (status = 403, body = shared::ErrorBody),
              (status = 404, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn create_row(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Response> {
    let input = row_input(body)?;
    let fmea = state.store.get_fmea(FmeaId(id)).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))?;
    may_edit(&user, &fmea)?;
    let cells = input.cells.normalized();
    cells.validate(Utc::now().date_naive(), None).map_err(row_invalid)?;
    let row = state.store.create_row(&ctx, fmea.id, &cells).await?;
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

/// Save a row (with the row's version last seen). Different rows never conflict; a stale
/// version of the same row gets 409 with the row as saved.
#[utoipa::path(put, path = "/api/v1/fmea-rows/{id}", tag = "fmea", request_body = RowInput,
    params(("id" = i64, Path, description = "The row")),
    responses((status = 200, body = Row), (status = 403, body = shared::ErrorBody),
              (status = 404, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody),
              (status = 422, body = shared::ErrorBody), (status = 428, body = shared::ErrorBody)))]
pub async fn update_row(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Response> {
    let input = row_input(body)?;
    let version = expected_version(&headers, input.version)?;
    let before = state.store.get_row(RowId(id)).await?.ok_or_else(|| ApiError::not_found("No such row."))?;
    let fmea = state.store.get_fmea(before.fmea_id).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))?;
    may_edit(&user, &fmea)?;
    let cells = input.cells.normalized();
    cells.validate(Utc::now().date_naive(), Some(&before.cells)).map_err(row_invalid)?;
    row_response(state.store.update_row(&ctx, RowId(id), version, &cells).await?)
}

/// A [`RowInput`] from its JSON object. Read in two steps because `RowInput` flattens its
/// cells, and serde reports errors inside a flattened struct without the field they are in (and
/// cannot refuse unknown fields there): so a misspelt or mistyped cell gets a 422 naming it
/// instead of being dropped or blamed on the body.
fn row_input(mut body: serde_json::Map<String, serde_json::Value>) -> Result<RowInput, ApiError> {
    static CELLS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| match serde_json::to_value(RowCells::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.into_iter().map(|(k, _)| k).collect(),
            _ => Vec::new(),
        });
    let version = match body.remove("version") {
        None => None,
        Some(v) => decode_value::<Option<i64>>(v).map_err(|_| {
            ApiError::invalid_field(
                "version".into(),
                shared::validation::INVALID,
                "the row's version is a whole number",
            )
        })?,
    };
    body.retain(|k, _| !shared::worksheet::ROW_READ_ONLY_FIELDS.contains(&k.as_str()));
    if let Some(unknown) = body.keys().find(|k| !CELLS.contains(*k)) {
        return Err(ApiError::invalid_field(
            unknown.clone(),
            shared::validation::UNKNOWN_FIELD,
            "not a column of the worksheet",
        ));
    }
    let cells = decode_value::<RowCells>(serde_json::Value::Object(body))?;
    Ok(RowInput { cells, version })
}

fn row_response(change: RowChange) -> ApiResult<Response> {
    match change {
        RowChange::Done(row) => Ok(with_etag(StatusCode::OK, row.version, &row)),
        RowChange::Stale(current) => Err(ApiError::conflict(
            format!(
                "{} saved this row first (now version {}). Compare and choose; nothing you typed is lost.",
                if current.updated_by.is_empty() { "Someone else" } else { current.updated_by.as_str() },
                current.version
            ),
            &current,
        )),
        RowChange::NotFound => Err(ApiError::not_found("No such row (it may have been taken out of the worksheet).")),
    }
}

/// Take a row out of the worksheet (it stays on record, retired, with the reason).
#[utoipa::path(post, path = "/api/v1/fmea-rows/{id}/retire", tag = "fmea", request_body = RetireInput,
    params(("id" = i64, Path, description = "The row")),
    responses((status = 200, body = Row), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn retire_row(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RetireInput>,
) -> ApiResult<Response> {
    let version = expected_version(&headers, input.version)?;
    let input = input.normalized();
    input.validate().map_err(ApiError::invalid)?;
    let before = state.store.get_row(RowId(id)).await?.ok_or_else(|| ApiError::not_found("No such row."))?;
    let fmea = state.store.get_fmea(before.fmea_id).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))?;
    may_edit(&user, &fmea)?;
    row_response(state.store.retire_row(&ctx, RowId(id), version, &input.reason).await?)
}

/// The worksheet as CSV: one header row, one line per failure chain, Excel's dialect (UTF-8 with
/// BOM-less text, CRLF, quoted where needed, formulas neutralised). Importing it into an empty
/// FMEA and exporting again gives the same bytes.
#[utoipa::path(get, path = "/api/v1/fmeas/{id}/export.csv", tag = "fmea", params(("id" = i64, Path, description = "The FMEA")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = shared::ErrorBody)))]
pub async fn export_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let fmea = readable_fmea(&state, &user, FmeaId(id)).await?;
    let users = state.store.user_directory().await?;
    let inactive = state.store.list_users(true).await?;
    let mut usernames: std::collections::HashMap<i64, String> =
        inactive.into_iter().map(|u| (u.id.0, u.username)).collect();
    usernames.extend(users.into_iter().map(|u| (u.id.0, u.username)));
    let username = move |id: shared::auth::UserId| usernames.get(&id.0).cloned().unwrap_or_default();
    let ids = state.store.worksheet_row_ids(FmeaId(id)).await?;
    let store = state.store.clone();
    let fetch = move |chunk: Vec<i64>| {
        let store = store.clone();
        async move { store.rows_by_ids(&chunk).await }
    };
    let lines = export::by_ids(ids, fetch, move |r: &Row| shared::csv::row(csv_cells(&r.cells, &username)));
    let name = fmea.fmea_number.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>();
    Ok(export::csv_download(&format!("fmea-{name}.csv"), shared::csv::header(csv_header(fmea.kind)), lines))
}

/// The worksheet as an Excel workbook: the header above, the column groups of the handbook's
/// steps in colour, one row per failure chain, and each AP as its letter on its colour. Cells are
/// written as text or numbers, never as formulas.
#[utoipa::path(get, path = "/api/v1/fmeas/{id}/export.xlsx", tag = "fmea", params(("id" = i64, Path, description = "The FMEA")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
              (status = 404, body = shared::ErrorBody)))]
pub async fn export_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    readable_fmea(&state, &user, FmeaId(id)).await?;
    let sheet = state.store.worksheet(FmeaId(id), None).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))?;
    let users = state.store.list_users(true).await?;
    let names: std::collections::HashMap<i64, String> = users.into_iter().map(|u| (u.id.0, u.username)).collect();
    let name = sheet.fmea.fmea_number.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>();
    let bytes = tokio::task::spawn_blocking(move || crate::xlsx::worksheet(&sheet, &names))
        .await
        .map_err(|e| ApiError::internal(format!("the workbook was not written: {e}")))?
        .map_err(|e| ApiError::internal(format!("the workbook was not written: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"fmea-{name}.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}

/// Query of the import.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Import the good rows even when some are bad (default: nothing until the file is clean).
    #[serde(default)]
    pub skip_bad_rows: bool,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows added to the worksheet.
    pub imported: usize,
    /// Every problem found (empty when the file was clean).
    pub problems: Vec<ImportProblem>,
}

/// Import failure chains from CSV (the export's header row), appended to the worksheet. The
/// whole file is checked first: with any bad row, nothing is imported (422 with every problem:
/// line, column, reason) unless `skip_bad_rows=true`. UTF-8 with or without BOM; at most 20 MB.
#[utoipa::path(post, path = "/api/v1/fmeas/{id}/import", tag = "fmea", params(("id" = i64, Path, description = "The FMEA"), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 413, body = shared::ErrorBody),
              (status = 422, body = ImportReport)))]
pub async fn import_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Result<ApiBytes, ApiError>,
) -> ApiResult<Response> {
    let ApiBytes(body) = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            e.with_message(format!(
                "The file is larger than {} MB, the most an import takes. Nothing was imported.",
                IMPORT_LIMIT_BYTES / (1024 * 1024)
            ))
        } else {
            e
        }
    })?;
    let fmea = state.store.get_fmea(FmeaId(id)).await?.ok_or_else(|| ApiError::not_found("No such FMEA."))?;
    may_edit(&user, &fmea)?;
    let refuse = |problems: Vec<ImportProblem>| {
        (StatusCode::UNPROCESSABLE_ENTITY, Json(ImportReport { imported: 0, problems })).into_response()
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        let line = body
            .iter()
            .take(std::str::from_utf8(&body).err().map_or(0, |e| e.valid_up_to()))
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        return Ok(refuse(vec![ImportProblem {
            line,
            column: String::new(),
            reason: "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (comma delimited)”.".into(),
        }]));
    };
    // Deactivated users too: a closed action keeps the person who had it (see `parse_csv`).
    let users = state.store.list_users(true).await?;
    let today = Utc::now().date_naive();
    let (rows, problems) = parse_csv(fmea.kind, text, today, |username| {
        users.iter().find(|u| u.username == username).map(|u| (u.id, u.meta.retired_at.is_none()))
    });
    if !problems.is_empty() && !q.skip_bad_rows {
        return Ok(refuse(problems));
    }
    let cells: Vec<RowCells> = rows.into_iter().map(|(_, c)| c).collect();
    let imported = state.store.import_rows(&ctx, fmea.id, &cells).await?;
    Ok(Json(ImportReport { imported, problems }).into_response())
}
