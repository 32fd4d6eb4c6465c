//! Electronic signatures (21 CFR 11.50, 11.70, 11.100, 11.200, 11.10(j)): sign a record
//! version, and list a record's signatures with their manifestation data.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use shared::signature::{SignInput, Signature, SignatureCheck, sign_permission};
use shared::validation::{INVALID, REQUIRED};
use shared::{FieldErrors, List};

use crate::AppState;
use crate::auth::{self, CurrentUser, Recheck};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::{AuditContext, SignOutcome};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signatures", get(list_signatures).post(sign))
        .route("/signatures/{id}/verification", get(verify_signature))
}

/// Query of `GET /api/v1/signatures`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignatureQuery {
    /// Kind of record, e.g. `process`.
    pub record_type: String,
    /// Which record; without it, the signatures of every record of the type.
    pub record_id: Option<i64>,
}

/// Sign a record version. The signer is always the session's user (nobody signs for anyone
/// else); the password is entered again, and on the session's first signature the username
/// too (`signed_in_session` of `GET /api/v1/session` says which); the first signature ever
/// needs the agreement accepted.
/// The signature binds the SHA-256 of the exact version signed; a stale version gets 409.
#[utoipa::path(post, path = "/api/v1/signatures", tag = "signatures", request_body = SignInput,
    responses((status = 201, body = Signature), (status = 401, body = shared::ErrorBody),
              (status = 403, body = shared::ErrorBody), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn sign(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<SignInput>,
) -> ApiResult<Response> {
    if user.info.must_change_password {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Change your password before continuing."));
    }
    // The first signature of a session needs the username typed too (11.200(a)(1)(i)).
    let mut e = input.validate(!user.info.signed_in_session).err().unwrap_or_default();
    let permission = sign_permission(&input.record_type, input.meaning);
    if permission.is_none() {
        e.add("meaning", INVALID);
    }
    if !user.info.esign_agreed && !input.accept_agreement {
        e.add("accept_agreement", REQUIRED);
    }
    if !e.is_empty() {
        return Err(ApiError::invalid(e).with_message(if permission.is_none() {
            "This kind of record cannot be signed with that meaning."
        } else {
            "The signature is not complete; nothing was signed."
        }));
    }
    if permission.is_some_and(|p| !user.can(p)) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "You are not authorised to sign this record."));
    }
    check_signer(&state, &ctx, &user, input.username.as_deref(), &input.password).await?;
    let accept = !user.info.esign_agreed;
    match state.store.sign(&ctx, user.id, &user.full_name, &input, accept).await? {
        SignOutcome::Signed(signature) => Ok((StatusCode::CREATED, Json(signature)).into_response()),
        SignOutcome::Stale(current) => Err(ApiError::conflict(
            "This record has changed since you opened it; review the current version before signing. Nothing was signed.",
            &current,
        )),
        SignOutcome::NotFound => Err(ApiError::not_found("No such record.")),
    }
}

/// Checks the signature components a person entered (after their presence, see
/// [`shared::signature::check_components`]): a username given (not blank) must be the session's
/// user's (403), and the password must be theirs (401, counted towards the lockout). Every way
/// of signing calls it.
pub async fn check_signer(
    state: &AppState,
    ctx: &AuditContext,
    user: &CurrentUser,
    username: Option<&str>,
    password: &str,
) -> ApiResult<()> {
    let username = username.map(str::trim).filter(|u| !u.is_empty());
    if username.is_some_and(|u| u.to_lowercase() != user.username) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You can sign only as yourself: the username is not the signed-in user's.",
        ));
    }
    if let Recheck::Wrong { locked } =
        auth::recheck_password(state, ctx, user, password, "wrong password when signing").await?
    {
        let mut e = FieldErrors::new();
        e.add("password", shared::auth::WRONG_PASSWORD);
        let message = if locked {
            "The password is not correct; nothing was signed. The account is now locked after repeated failures."
        } else {
            "The password is not correct; nothing was signed."
        };
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, message).with_field_errors(e));
    }
    Ok(())
}

/// A record's signatures (or all of a record type's), newest first; `superseded` when the record
/// changed after signing.
#[utoipa::path(get, path = "/api/v1/signatures", tag = "signatures", params(SignatureQuery),
    responses((status = 200, body = List<Signature>)))]
pub async fn list_signatures(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SignatureQuery>,
) -> ApiResult<Json<List<Signature>>> {
    if q.record_type.chars().any(char::is_control) {
        return Err(ApiError::bad_request("Bad query parameter `record_type`: control characters."));
    }
    Ok(Json(List { items: state.store.list_signatures(&q.record_type, q.record_id).await? }))
}

/// Re-verifies a signature: the content kept with it hashes to its hash, the audit trail's
/// signing entry names the same signer, meaning and hash, and the record, when still at the
/// signed version, hashes the same now (`valid`); a record that moved on leaves it `superseded`.
/// Signatures made before hash scheme 2 are `unverifiable` once what they showed has changed.
/// `broken` lists what does not match. `caliper verify-signatures` checks every signature.
#[utoipa::path(get, path = "/api/v1/signatures/{id}/verification", tag = "signatures",
    params(("id" = i64, Path, description = "The signature's id")),
    responses((status = 200, body = SignatureCheck), (status = 403, body = shared::ErrorBody),
              (status = 404, body = shared::ErrorBody)))]
pub async fn verify_signature(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SignatureCheck>> {
    let check = state.store.verify_signatures(Some(id)).await?.into_iter().next();
    Ok(Json(check.ok_or_else(|| ApiError::not_found("No such signature."))?))
}
