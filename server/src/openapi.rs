//! The OpenAPI document, generated from the handlers' annotations and the `shared` types.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::{audit, health, org};

/// Caliper's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Caliper API", description = "Caliper quality management system: JSON API. \
        Errors use one envelope: {\"message\", \"field_errors\": {field: [code]}}; 400 malformed, \
        404 not found, 409 version conflict (with `current`), 422 invalid fields. Records are \
        retired, never deleted."),
    paths(
        health::healthz,
        org::sites::list_sites, org::sites::get_site, org::sites::create_site, org::sites::update_site,
        org::sites::retire_site,
        org::departments::list_departments, org::departments::get_department,
        org::departments::create_department, org::departments::update_department,
        org::departments::retire_department,
        org::processes::list_processes, org::processes::get_process, org::processes::create_process,
        org::processes::update_process, org::processes::retire_process,
        audit::list_audit, audit::export_audit, audit::verify_audit,
    ),
    components(schemas(shared::ErrorBody, shared::FieldErrors)),
    tags((name = "organisation", description = "Sites, departments and processes"),
         (name = "audit", description = "The hash-chained audit trail (21 CFR 11.10(e))"),
         (name = "health", description = "Liveness and database reachability")),
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
