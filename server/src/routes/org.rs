//! The organisation's sites, departments and processes: list, read, create, update (with the
//! version last seen) and retire (with a reason). Nothing is ever deleted.
//!
//! The three resources follow one contract, so their handlers come from one macro; what
//! differs (validation, storage calls) lives in `shared` and in the store.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use shared::List;
use shared::org::{
    Department, DepartmentId, DepartmentInput, Process, ProcessId, ProcessInput, RetireInput, Site, SiteId, SiteInput,
};

use super::{change_response, expected_version, with_etag};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::AuditContext;
use shared::auth::Permission;

/// Query of the list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Include retired records (default: only active ones).
    #[serde(default)]
    pub include_retired: bool,
}

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sites", get(sites::list_sites).post(sites::create_site))
        .route("/sites/{id}", get(sites::get_site).put(sites::update_site))
        .route("/sites/{id}/retire", post(sites::retire_site))
        .route("/departments", get(departments::list_departments).post(departments::create_department))
        .route("/departments/{id}", get(departments::get_department).put(departments::update_department))
        .route("/departments/{id}/retire", post(departments::retire_department))
        .route("/processes", get(processes::list_processes).post(processes::create_process))
        .route("/processes/{id}", get(processes::get_process).put(processes::update_process))
        .route("/processes/{id}/retire", post(processes::retire_process))
}

/// No record-level rule: the route's permission (checked by the guard) is enough.
async fn role_suffices<I>(_: &AppState, _: &CurrentUser, _: i64, _: &I) -> Result<(), ApiError> {
    Ok(())
}

/// 11.10(g), per record: a process owner may edit only the processes they own, and may not
/// hand them to someone else; managing processes (quality manager, admin) may edit any.
async fn process_owner_rule(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    input: &ProcessInput,
) -> Result<(), ApiError> {
    if user.can(Permission::ManageProcesses) {
        return Ok(());
    }
    let current =
        state.store.get_process(ProcessId(id)).await?.ok_or_else(|| ApiError::not_found("No such process."))?;
    if current.owner_id != Some(user.id) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Only this process's owner or a quality manager can change it.",
        ));
    }
    if input.owner_id != current.owner_id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Only a quality manager can assign a process to another owner.",
        ));
    }
    Ok(())
}

macro_rules! org_resource {
    (
        mod $module:ident { noun: $noun:literal, tag: $tag:literal,
        collection: $collection:literal, item: $item:literal, retire: $retire_path:literal,
        record: $record:ident, input: $input:ident, id: $id:ident, record_rule: $rule:path, update_rules: $update_rules:ident,
        handlers: [$list:ident, $get:ident, $create:ident, $update:ident, $retire:ident] }
    ) => {
        #[doc = concat!("Handlers for ", $noun, " records.")]
        pub mod $module {
            use super::*;

            /// List the active records (or all of them with `include_retired=true`), by name.
            #[utoipa::path(get, path = $collection, tag = $tag, params(ListQuery),
                responses((status = 200, body = List<$record>)))]
            pub async fn $list(
                State(state): State<AppState>,
                ApiQuery(q): ApiQuery<ListQuery>,
            ) -> ApiResult<Json<List<$record>>> {
                Ok(Json(List { items: state.store.$list(q.include_retired).await? }))
            }

            /// Read one record; its `ETag` is its version.
            #[utoipa::path(get, path = $item, tag = $tag, params(("id" = i64, Path, description = "Record id")),
                responses((status = 200, body = $record), (status = 400, body = shared::ErrorBody),
                          (status = 404, body = shared::ErrorBody)))]
            pub async fn $get(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
                let record = state.store.$get($id(id)).await?.ok_or_else(|| ApiError::not_found(concat!("No such ", $noun, ".")))?;
                Ok(with_etag(StatusCode::OK, record.meta.version, &record))
            }

            /// Create a record. 201 with `Location`; 422 names each invalid field.
            #[utoipa::path(post, path = $collection, tag = $tag, request_body = $input,
                responses((status = 201, body = $record), (status = 400, body = shared::ErrorBody),
                          (status = 422, body = shared::ErrorBody)))]
            pub async fn $create(
                State(state): State<AppState>,
                ctx: AuditContext,
                ApiJson(input): ApiJson<$input>,
            ) -> ApiResult<Response> {
                let input = input.normalized();
                input.validate().map_err(ApiError::invalid)?;
                let record = state.store.$create(&ctx, &input).await?;
                let mut res = with_etag(StatusCode::CREATED, record.meta.version, &record);
                if let Ok(location) = HeaderValue::from_str(&format!(concat!($collection, "/{}"), record.id)) {
                    res.headers_mut().insert(header::LOCATION, location);
                }
                Ok(res)
            }

            /// Update a record. Send the version you last saw (`version` in the body or
            /// `If-Match`); if someone else saved first, 409 carries the record as it is now.
            /// A process also needs a `reason`, recorded in the audit trail.
            #[utoipa::path(put, path = $item, tag = $tag, request_body = $input,
                params(("id" = i64, Path, description = "Record id"),
                       ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. \"3\"")),
                responses((status = 200, body = $record), (status = 404, body = shared::ErrorBody),
                          (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody),
                          (status = 428, body = shared::ErrorBody)))]
            pub async fn $update(
                State(state): State<AppState>,
                ApiPath(id): ApiPath<i64>,
                headers: HeaderMap,
                user: CurrentUser,
                ctx: AuditContext,
                ApiJson(input): ApiJson<$input>,
            ) -> ApiResult<Response> {
                let input = input.normalized();
                input.$update_rules().map_err(ApiError::invalid)?;
                $rule(&state, &user, id, &input).await?;
                let version = expected_version(&headers, input.version)?;
                let change = state.store.$update(&ctx, $id(id), version, &input).await?;
                change_response(change, $noun, |r: &$record| r.meta.version)
            }

            /// Retire a record, with a reason and the version last seen. It stays readable.
            #[utoipa::path(post, path = $retire_path, tag = $tag, request_body = RetireInput,
                params(("id" = i64, Path, description = "Record id")),
                responses((status = 200, body = $record), (status = 404, body = shared::ErrorBody),
                          (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
            pub async fn $retire(
                State(state): State<AppState>,
                ApiPath(id): ApiPath<i64>,
                headers: HeaderMap,
                ctx: AuditContext,
                ApiJson(input): ApiJson<RetireInput>,
            ) -> ApiResult<Response> {
                let input = input.normalized();
                input.validate().map_err(ApiError::invalid)?;
                let version = expected_version(&headers, input.version)?;
                let change = state.store.$retire(&ctx, $id(id), version, &input.reason).await?;
                change_response(change, $noun, |r: &$record| r.meta.version)
            }
        }
    };
}

org_resource!(mod sites {
    noun: "site", tag: "organisation",
    collection: "/api/v1/sites", item: "/api/v1/sites/{id}", retire: "/api/v1/sites/{id}/retire",
    record: Site, input: SiteInput, id: SiteId, record_rule: role_suffices, update_rules: validate,
    handlers: [list_sites, get_site, create_site, update_site, retire_site]
});

org_resource!(mod departments {
    noun: "department", tag: "organisation",
    collection: "/api/v1/departments", item: "/api/v1/departments/{id}", retire: "/api/v1/departments/{id}/retire",
    record: Department, input: DepartmentInput, id: DepartmentId, record_rule: role_suffices, update_rules: validate,
    handlers: [list_departments, get_department, create_department, update_department, retire_department]
});

org_resource!(mod processes {
    noun: "process", tag: "organisation",
    collection: "/api/v1/processes", item: "/api/v1/processes/{id}", retire: "/api/v1/processes/{id}/retire",
    record: Process, input: ProcessInput, id: ProcessId, record_rule: process_owner_rule, update_rules: validate_update,
    handlers: [list_processes, get_process, create_process, update_process, retire_process]
});
