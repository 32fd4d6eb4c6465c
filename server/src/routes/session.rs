//! Signing in and out, the current session, and changing one's own password (21 CFR 11.10(d),
//! 11.300).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use shared::FieldErrors;
use shared::audit::AuditAction;
use shared::auth::{ChangePasswordInput, MAX_FAILED_SIGN_INS, SessionInfo, SignInInput, WRONG_PASSWORD};
use shared::validation::REQUIRED;

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::storage::AuditContext;
use crate::throttle::RATE_LIMITED;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/session", get(current_session).post(sign_in).delete(sign_out))
        .route("/session/password", post(change_password))
}

/// The answer to every failed sign-in but a deactivated account's (401): a wrong password, an
/// unknown username and a locked account read the same and take the same time (the password is
/// hashed in each case), so that nobody can probe which usernames exist, by the lockout or
/// otherwise. The lockout is named, so that a locked-out person knows what happened.
fn wrong_credentials(config: &crate::auth::AuthConfig) -> String {
    format!(
        "Wrong username or password. After {MAX_FAILED_SIGN_INS} failed sign-ins in a row an account is locked for \
         {} minutes; an administrator can unlock it by resetting the password.",
        config.lockout.as_secs().div_ceil(60)
    )
}

/// Sign in with username and password. Sets the HttpOnly session cookie and returns the
/// session, including the CSRF token to send with every state-changing request.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignInInput, security(()),
    responses((status = 200, body = SessionInfo), (status = 401, body = shared::ErrorBody),
              (status = 403, body = shared::ErrorBody, description = "Account deactivated (the right password)"),
              (status = 422, body = shared::ErrorBody),
              (status = 429, body = shared::ErrorBody, description = "Too many attempts from this address or for this username; see `Retry-After`"),
              (status = 503, body = shared::ErrorBody, description = "Too many sign-ins at once: no turn to check the password came within 10 s; see `Retry-After`")))]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ctx: AuditContext,
    ApiJson(input): ApiJson<SignInInput>,
) -> ApiResult<Response> {
    let username = input.username.trim().to_lowercase();
    let mut e = FieldErrors::new();
    if username.is_empty() {
        e.add("username", REQUIRED);
    }
    if input.password.is_empty() {
        e.add("password", REQUIRED);
    }
    if !e.is_empty() || username.chars().any(char::is_control) || username.chars().count() > 256 {
        if e.is_empty() {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, wrong_credentials(state.passwords.config())));
        }
        return Err(ApiError::invalid(e));
    }
    // The rate limits, before any hashing: an attempt over them costs nothing but a count.
    if let Err(wait) = state.sign_ins.admit(&ctx.source.client_address, &username) {
        crate::telemetry::sign_in_failed(RATE_LIMITED);
        if crate::throttle::failed_attempt(&state.sign_ins, &state.store, &ctx, &username, None, RATE_LIMITED).await? {
            // The first of a burst gets its own entry (not counted towards any lockout).
            let failure = crate::storage::trust::SignInFailure {
                username: &username,
                user: None,
                reason: RATE_LIMITED,
                audited: true,
            };
            state.store.record_failed_sign_in(&ctx, &failure, MAX_FAILED_SIGN_INS, Utc::now()).await?;
        }
        let secs = wait.as_secs().max(1);
        let mut res = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many sign-in attempts from this address or for this username. Try again in {secs} s."),
        )
        .into_response();
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Ok(res);
    }
    let config = state.passwords.config().clone();
    let now = Utc::now();
    let credentials = state.store.credentials(&username).await?;
    let fail = |user, reason: &'static str| auth::record_failure(&state, &ctx, &username, user, reason);
    let refused = || ApiError::new(StatusCode::UNAUTHORIZED, wrong_credentials(&config));
    // The password is checked whatever the account's state, so that every refusal takes as long.
    let ok = state.passwords.verify(&input.password, credentials.as_ref().map(|c| c.password_hash.as_str())).await?;
    let Some(c) = credentials else {
        fail(None, "unknown username").await?;
        return Err(refused());
    };
    if c.locked_until.is_some_and(|u| u > now) {
        fail(Some(c.user.id), "account locked").await?;
        return Err(refused());
    }
    if !ok {
        fail(Some(c.user.id), "wrong password").await?;
        return Err(refused());
    }
    if c.retired {
        fail(Some(c.user.id), "account deactivated").await?;
        return Err(ApiError::new(StatusCode::FORBIDDEN, "This account is deactivated. Ask an administrator."));
    }
    // A new sign-in in this browser replaces the session it had (no two live sessions behind
    // one cookie jar, and no session fixation).
    if let Some(old) = auth::session_cookie(&headers)
        && let Some(previous) = state.store.session_by_token(&auth::token_hash(&old)).await?
        && previous.ended_at.is_none()
    {
        let ended = AuditContext {
            actor_id: Some(previous.user.id.0),
            actor_name: previous.user.full_name.clone(),
            ..ctx.clone()
        };
        state.store.end_session(&ended, previous.session_id, "replaced by a new sign-in", AuditAction::SignOut).await?;
    }
    let token = auth::new_token();
    let csrf = auth::new_token();
    let expires_at = now + chrono::Duration::from_std(config.absolute_lifetime).unwrap_or_default();
    let signed_in = AuditContext { actor_id: Some(c.user.id.0), actor_name: c.user.full_name.clone(), ..ctx };
    state.store.create_session(&signed_in, c.user.id, &auth::token_hash(&token), &csrf, expires_at).await?;
    let session = state
        .store
        .session_by_token(&auth::token_hash(&token))
        .await?
        .ok_or_else(|| ApiError::internal("the new session was not found"))?;
    let info = auth::session_info(&session, &config, now);
    let secure = config.secure_cookie || auth::is_https(&headers);
    let mut res = Json(info).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::session_set_cookie(&token, secure)) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The current session (401 when not signed in or expired).
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = shared::ErrorBody)))]
pub async fn current_session(user: CurrentUser) -> Response {
    let mut res = Json(user.info).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Sign out: ends the session and removes the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 401, body = shared::ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: CurrentUser,
    ctx: AuditContext,
) -> ApiResult<Response> {
    state.store.end_session(&ctx, user.session_id, "signed out", AuditAction::SignOut).await?;
    let secure = state.passwords.config().secure_cookie || auth::is_https(&headers);
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(cookie) = HeaderValue::from_str(&auth::session_clear_cookie(secure)) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// Change one's own password (the current one is required). Clears "must change".
#[utoipa::path(post, path = "/api/v1/session/password", tag = "session", request_body = ChangePasswordInput,
    responses((status = 200, body = SessionInfo), (status = 401, body = shared::ErrorBody),
              (status = 422, body = shared::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<ChangePasswordInput>,
) -> ApiResult<Json<SessionInfo>> {
    input.validate(&user.username).map_err(ApiError::invalid)?;
    // A wrong current password counts towards the lockout, as at sign-in.
    let check = auth::recheck_password(&state, &ctx, &user, &input.current_password, "wrong password when changing it");
    if check.await? != auth::Recheck::Right {
        let mut e = FieldErrors::new();
        e.add("current_password", WRONG_PASSWORD);
        return Err(ApiError::invalid(e));
    }
    let hash = state.passwords.hash(&input.new_password).await?;
    state.store.set_password(&ctx, user.id, &hash, false, AuditAction::ChangePassword).await?;
    let mut info = user.info;
    info.must_change_password = false;
    Ok(Json(info))
}
