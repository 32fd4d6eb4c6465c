//! The OpenAPI document, generated from the handlers' annotations and the `shared` types.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::{
    audit, dashboard, documents, events, fmea, health, notices, org, quality, risks, session, settings, signatures,
    training, users,
};

/// Caliper's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Caliper API", description = "Caliper quality management system: JSON API. \
        Sign in with POST /api/v1/session: the session cookie `caliper_session` is HttpOnly and \
        SameSite=Strict, and every state-changing request must send the session's `csrf_token` in \
        the X-CSRF-Token header. Errors use one envelope: {\"message\", \"field_errors\": \
        {field: [code]}}; 400 malformed, 401 not signed in or session ended, 403 not allowed, \
        404 not found, 409 version conflict (with `current`), 422 invalid fields. Records are \
        retired, never deleted."),
    paths(
        health::healthz,
        health::readyz,
        crate::telemetry::metrics,
        org::sites::list_sites, org::sites::get_site, org::sites::create_site, org::sites::update_site,
        org::sites::retire_site,
        org::departments::list_departments, org::departments::get_department,
        org::departments::create_department, org::departments::update_department,
        org::departments::retire_department,
        org::processes::list_processes, org::processes::get_process, org::processes::create_process,
        org::processes::update_process, org::processes::retire_process,
        audit::list_audit, audit::export_audit, audit::verify_audit,
        session::sign_in, session::current_session, session::sign_out, session::change_password,
        users::list_users, users::user_directory, users::get_user, users::create_user, users::update_user,
        users::deactivate_user, users::reset_password, users::list_sessions, users::revoke_session,
        users::failed_sign_ins, users::list_tokens, users::create_token, users::revoke_token,
        signatures::sign, signatures::list_signatures, signatures::verify_signature,
        events::events,
        risks::list_matrices, risks::create_matrix, risks::create_revision, risks::get_revision,
        risks::update_revision, risks::list_risks, risks::export_risks, risks::heatmap, risks::get_risk,
        risks::create_risk, risks::update_risk, risks::work,
        fmea::list_fmeas, fmea::get_fmea, fmea::create_fmea, fmea::update_fmea, fmea::worksheet, fmea::create_row,
        fmea::get_row, fmea::update_row, fmea::retire_row, fmea::export_csv, fmea::export_xlsx, fmea::import_csv,
        documents::list_documents, documents::get_document, documents::create_document, documents::list_revisions,
        documents::create_revision, documents::get_revision, documents::update_revision, documents::move_revision,
        documents::obsolete_document, documents::diff_revision, documents::revision_html, documents::search_documents,
        documents::periodic_review, documents::export_documents, documents::put_file, documents::get_file,
        notices::list_notices, notices::unread_count, notices::read_notice, notices::read_all, notices::get_settings,
        notices::put_settings,
        settings::get_document_settings, settings::put_document_settings,
        training::list_requirements, training::create_requirement, training::list_curriculum,
        training::add_curriculum_line, training::my_training, training::list_assignments, training::get_assignment,
        training::quiz_sheet, training::submit_quiz, training::sign_off, training::list_records, training::matrix,
        training::matrix_csv, training::matrix_xlsx, training::completion, training::trained_on, training::document_trainees,
        training::list_exemptions, training::create_exemption, training::revoke_exemption, training::create_class_session,
        training::list_class_sessions, training::get_class_session,
        dashboard::dashboard, dashboard::one_tile, dashboard::overdue, dashboard::list_targets, dashboard::set_target,
        dashboard::measurements::list_measurements, dashboard::measurements::record_measurements,
        dashboard::measurements::import_measurements, dashboard::objectives::list_objectives,
        dashboard::objectives::create_objective, dashboard::objectives::update_objective,
        dashboard::objectives::retire_objective, dashboard::objectives::my_layout,
        dashboard::objectives::set_my_layout,
        quality::list_categories, quality::create_category, quality::list_ncs, quality::create_nc, quality::get_nc,
        quality::update_nc, quality::nc_step, quality::nc_pareto, quality::list_complaints, quality::create_complaint,
        quality::get_complaint, quality::complaint_step, quality::complaint_counts, quality::list_capas,
        quality::create_capa, quality::get_capa, quality::update_capa, quality::capa_step, quality::add_action,
        quality::complete_action, quality::retire_action, quality::request_extension, quality::decide_extension,
        quality::capa_metrics, quality::suggest, quality::model_report, quality::retrain,
    ),
    components(schemas(shared::ErrorBody, shared::FieldErrors, shared::document::DocumentSort,
        shared::document::DocumentStatus, shared::quality::ParetoBy, shared::register::Basis,
        shared::register::RiskSort)),
    modifiers(&SessionSecurity, &ErrorResponses),
    security(("session" = [], "csrf" = []), ("bearer" = [])),
    tags((name = "organisation", description = "Sites, departments and processes"),
         (name = "audit", description = "The hash-chained audit trail (21 CFR 11.10(e))"),
         (name = "session", description = "Sign-in, sign-out, the current session, own password"),
         (name = "users", description = "Users, roles, sessions and failed sign-ins (administrators)"),
         (name = "signatures", description = "Electronic signatures (21 CFR 11.50, 11.70, 11.200)"),
         (name = "events", description = "Live updates (Server-Sent Events) of every change"),
         (name = "documents", description = "Document control: numbered documents, revisions through review and signed approval"),
         (name = "settings", description = "The installation's settings, one set for every instance: document control's revision labels (administrators change them)"),
         (name = "notices", description = "Revision notices: the signed-in person's inbox and their choice of kinds"),
         (name = "training", description = "Training and competency: requirements, curricula, assignments, read-and-sign, quizzes, the matrix, the auditor's questions"),
         (name = "dashboard", description = "The KPI dashboard: tiles with trends and targets, overdue work, measurements from outside systems"),
         (name = "quality", description = "Nonconformances, complaints and CAPA: steps checked by one state machine, the gate on linked work, extensions, Pareto and metrics"),
         (name = "fmea", description = "FMEA worksheets (AIAG & VDA): rows versioned one by one, CSV exchange"),
         (name = "risks", description = "Risk matrices (versioned, approved by signature), the risk register, its heatmap, and each user's work list"),
         (name = "health", description = "Liveness and database reachability")),
)]
pub struct ApiDoc;

/// The session cookie and the CSRF header, as security schemes (every operation but sign-in and
/// this document needs the cookie; state-changing ones also the header).
struct SessionSecurity;

impl utoipa::Modify for SessionSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Set by POST /api/v1/session (HttpOnly, SameSite=Strict); over https it is named `__Host-caliper_session` (Secure).",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The session's csrf_token; required on POST, PUT and DELETE.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`cal_…`) issued by an administrator (POST /api/v1/users/{id}/tokens): \
                         the token's user with their permissions; no cookie and no CSRF token.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The error answers every operation can give, each in the envelope (`ErrorBody`), added where an
/// operation's own annotation does not list them already: 400 (a malformed path or query
/// parameter, or a body that is not JSON) where it has parameters or a body; 401 and 403 where it
/// needs a session or a token; 404 where its path names a record; 415 and 422 where it takes a
/// JSON body; 428 where it changes a record at a version (PUT, retire, obsolete).
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::HttpMethod;
        use utoipa::openapi::{Ref, ResponseBuilder};
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let methods = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Delete, &mut item.delete),
                (HttpMethod::Patch, &mut item.patch),
            ];
            for (method, operation) in methods {
                let Some(op) = operation.as_mut() else { continue };
                // `security(())`: an operation anyone may call (sign-in, health).
                let public = op.security.as_ref().is_some_and(|s| s.iter().all(|r| r == &Default::default()));
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let json_body = op.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
                let mut add = |status: &str, what: &str| {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| error(what).into());
                };
                if has_params || op.request_body.is_some() {
                    add("400", "Malformed: a path or query parameter of the wrong kind, or a body that is not JSON");
                }
                if !public && !path.starts_with("/healthz") && !path.starts_with("/readyz") {
                    add("401", "Not signed in, or the session ended");
                    add("403", "Not allowed (the role's permissions or a record-level rule)");
                }
                if path.contains('{') {
                    add("404", "No such record");
                }
                if json_body {
                    add("415", "The body is not sent as `application/json`");
                    add("422", "Invalid fields, each named in `field_errors`");
                } else if has_params {
                    add("422", "Invalid query parameters, each named in `field_errors`");
                }
                let versioned = ["/retire", "/obsolete", "/deactivate"].iter().any(|end| path.ends_with(end));
                if matches!(method, HttpMethod::Put) || (matches!(method, HttpMethod::Post) && versioned) {
                    add("428", "The version last seen is missing: send `If-Match` or `version`");
                }
            }
        }
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
