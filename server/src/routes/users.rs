//! Users (admin), the user directory, sessions and failed sign-ins (21 CFR 11.10(d), 11.100,
//! 11.300).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Utc;
use shared::List;
use shared::audit::AuditAction;
use shared::auth::{
    ApiToken, ApiTokenInput, FailedSignIn, NewApiToken, ResetPasswordInput, SessionRecord, User, UserId, UserInput,
    UserSummary,
};
use shared::org::RetireInput;

use super::{change_response, expected_version, with_etag};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::routes::org::ListQuery;
use crate::storage::AuditContext;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/directory", get(user_directory))
        .route("/users/{id}", get(get_user).put(update_user))
        .route("/users/{id}/deactivate", post(deactivate_user))
        .route("/users/{id}/reset-password", post(reset_password))
        .route("/sessions", get(list_sessions))
        .route("/sessions/{id}/revoke", post(revoke_session))
        .route("/security/failed-sign-ins", get(failed_sign_ins))
        .route("/users/{id}/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
}

/// Users, by username (deactivated ones with `include_retired=true`).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = List<User>), (status = 403, body = shared::ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<User>>> {
    Ok(Json(List { items: state.store.list_users(q.include_retired).await? }))
}

/// Active users' names and roles, for choosing an owner or a responsible person.
#[utoipa::path(get, path = "/api/v1/users/directory", tag = "users",
    responses((status = 200, body = List<UserSummary>)))]
pub async fn user_directory(State(state): State<AppState>) -> ApiResult<Json<List<UserSummary>>> {
    Ok(Json(List { items: state.store.user_directory().await? }))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 404, body = shared::ErrorBody)))]
pub async fn get_user(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let user = state.store.get_user(UserId(id)).await?.ok_or_else(|| ApiError::not_found("No such user."))?;
    Ok(with_etag(StatusCode::OK, user.meta.version, &user))
}

/// Create a user with a first password, which they must change at first sign-in. Usernames
/// are unique for ever: a deactivated user's name is not reused.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = User), (status = 422, body = shared::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate(true).map_err(ApiError::invalid)?;
    if state.store.credentials(&input.username).await?.is_some() {
        let mut e = shared::FieldErrors::new();
        e.add("username", shared::validation::TAKEN);
        return Err(ApiError::invalid(e));
    }
    let hash = state.passwords.hash(input.password.as_deref().unwrap_or_default()).await?;
    // Two admins creating the same username at once: the unique index decides (422 naming
    // `username`, from the store).
    let user = state.store.create_user(&ctx, &input, &hash, true).await?;
    let mut res = with_etag(StatusCode::CREATED, user.meta.version, &user);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/users/{}", user.id)) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// Update a user's name, e-mail, department and roles (not the username).
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", request_body = UserInput,
    params(("id" = i64, Path, description = "User id"),
           ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. \"3\"")),
    responses((status = 200, body = User), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate(false).map_err(ApiError::invalid)?;
    let version = expected_version(&headers, input.version)?;
    // Separation of duties: nobody grants or removes their own roles (an administrator who made
    // themselves quality manager could approve by signature). The last-administrator rule is
    // the store's, checked in the write's transaction.
    if user.id.0 == id {
        let current = state.store.get_user(UserId(id)).await?.ok_or_else(|| ApiError::not_found("No such user."))?;
        let (mut was, mut now) = (current.roles.clone(), input.roles.clone());
        was.sort();
        was.dedup();
        now.sort();
        now.dedup();
        if was != now {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "You cannot change your own roles: ask another administrator.",
            ));
        }
    }
    let change = state.store.update_user(&ctx, UserId(id), version, &input).await?;
    change_response(change, "user", |u: &User| u.meta.version)
}

/// Deactivate a user, with a reason: they can no longer sign in, their sessions end, and
/// everything they did stays attributed to them.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", request_body = RetireInput,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<RetireInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate().map_err(ApiError::invalid)?;
    if user.id.0 == id {
        return Err(ApiError::new(StatusCode::CONFLICT, "You cannot deactivate your own account."));
    }
    let version = expected_version(&headers, input.version)?;
    let change = state.store.deactivate_user(&ctx, UserId(id), version, &input.reason).await?;
    change_response(change, "user", |u: &User| u.meta.version)
}

/// Set a temporary password (the policy applies); the user must change it at the next
/// sign-in. Also unlocks a locked account.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users", request_body = ResetPasswordInput,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 404, body = shared::ErrorBody),
              (status = 422, body = shared::ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<ResetPasswordInput>,
) -> ApiResult<Json<User>> {
    let target = state.store.get_user(UserId(id)).await?.ok_or_else(|| ApiError::not_found("No such user."))?;
    if let Err(code) = shared::auth::check_password(&target.username, &input.new_password) {
        let mut e = shared::FieldErrors::new();
        e.add("new_password", code);
        return Err(ApiError::invalid(e));
    }
    let hash = state.passwords.hash(&input.new_password).await?;
    let user = state
        .store
        .set_password(&ctx, target.id, &hash, true, AuditAction::ResetPassword)
        .await?
        .ok_or_else(|| ApiError::not_found("No such user."))?;
    Ok(Json(user))
}

/// Sessions that are live now (not ended, expired or idle past the timeout).
#[utoipa::path(get, path = "/api/v1/sessions", tag = "users",
    responses((status = 200, body = List<SessionRecord>), (status = 403, body = shared::ErrorBody)))]
pub async fn list_sessions(State(state): State<AppState>) -> ApiResult<Json<List<SessionRecord>>> {
    let now = Utc::now();
    let idle = chrono::Duration::from_std(state.passwords.config().idle_timeout).unwrap_or_default();
    Ok(Json(List { items: state.store.list_sessions(now, now - idle).await? }))
}

/// End someone's session now.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/revoke", tag = "users",
    params(("id" = i64, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = shared::ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ctx: AuditContext,
) -> ApiResult<StatusCode> {
    if state.store.end_session(&ctx, id, "revoked by an administrator", AuditAction::RevokeSession).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("No such live session."))
    }
}

/// The latest 200 failed sign-in attempts, newest first (11.300(d)).
#[utoipa::path(get, path = "/api/v1/security/failed-sign-ins", tag = "users",
    responses((status = 200, body = List<FailedSignIn>), (status = 403, body = shared::ErrorBody)))]
pub async fn failed_sign_ins(State(state): State<AppState>) -> ApiResult<Json<List<FailedSignIn>>> {
    Ok(Json(List { items: state.store.failed_sign_ins(200).await? }))
}

/// A user's API tokens, newest first (revoked ones too; never a secret).
#[utoipa::path(get, path = "/api/v1/users/{id}/tokens", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = List<ApiToken>), (status = 404, body = shared::ErrorBody)))]
pub async fn list_tokens(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<List<ApiToken>>> {
    state.store.get_user(UserId(id)).await?.ok_or_else(|| ApiError::not_found("No such user."))?;
    Ok(Json(List { items: state.store.list_api_tokens(UserId(id)).await? }))
}

/// Issue an API token for a person or a service account: a script sends
/// `Authorization: Bearer <secret>` and acts as that user, with their permissions. The secret is
/// in this answer only; Caliper keeps its SHA-256.
#[utoipa::path(post, path = "/api/v1/users/{id}/tokens", tag = "users", request_body = ApiTokenInput,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 201, body = NewApiToken), (status = 404, body = shared::ErrorBody),
              (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ctx: AuditContext,
    ApiJson(mut input): ApiJson<ApiTokenInput>,
) -> ApiResult<(StatusCode, Json<NewApiToken>)> {
    input.name = input.name.trim().to_string();
    input.validate(Utc::now().date_naive()).map_err(ApiError::invalid)?;
    let secret = crate::auth::new_api_token();
    let token = state.store.create_api_token(&ctx, UserId(id), &input, &crate::auth::token_hash(&secret)).await?;
    Ok((StatusCode::CREATED, Json(NewApiToken { token, secret })))
}

/// Revoke an API token now (a revoked token stays listed).
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "users",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, body = ApiToken), (status = 404, body = shared::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ctx: AuditContext,
) -> ApiResult<Json<ApiToken>> {
    let token =
        state.store.revoke_api_token(&ctx, id).await?.ok_or_else(|| ApiError::not_found("No such API token."))?;
    Ok(Json(token))
}
