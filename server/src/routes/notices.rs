//! Revision notices, the signed-in person's inbox (domain/documents.md, "Revision notices"): sent
//! when a revision is approved and when it takes effect, each person choosing which kinds they get
//! (a notice that carries training always comes). Each change is audited as record type `notice`
//! (or `notice_settings`), so the live-update feed tells open pages to refresh the unread count.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::Deserialize;
use shared::List;
use shared::document::{Notice, NoticeSettings, UnreadCount};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::AuditContext;

/// The most notices one answer lists.
const LIST_MAX: u32 = 200;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notices", get(list_notices))
        .route("/notices/unread-count", get(unread_count))
        .route("/notices/read-all", post(read_all))
        .route("/notices/{id}/read", post(read_notice))
        .route("/me/notice-settings", get(get_settings).put(put_settings))
}

/// Query of the inbox.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// Only the unread ones (`true`), or all (`false`, the default).
    #[serde(default)]
    pub unread: bool,
}

/// The signed-in person's notices, newest first (the latest 200).
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticeQuery),
    responses((status = 200, body = List<Notice>)))]
pub async fn list_notices(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<NoticeQuery>,
) -> ApiResult<Json<List<Notice>>> {
    Ok(Json(List { items: state.store.list_notices(user.id, q.unread, LIST_MAX).await? }))
}

/// How many of the signed-in person's notices are unread.
#[utoipa::path(get, path = "/api/v1/notices/unread-count", tag = "notices",
    responses((status = 200, body = UnreadCount)))]
pub async fn unread_count(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<UnreadCount>> {
    Ok(Json(UnreadCount { count: state.store.unread_notices(user.id).await? }))
}

/// Mark one of the signed-in person's notices read (again: no change); someone else's is 404.
#[utoipa::path(post, path = "/api/v1/notices/{id}/read", tag = "notices",
    params(("id" = i64, Path, description = "The notice")),
    responses((status = 200, body = Notice), (status = 404, body = shared::ErrorBody)))]
pub async fn read_notice(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Notice>> {
    let notice =
        state.store.mark_notice_read(&ctx, user.id, id).await?.ok_or_else(|| ApiError::not_found("No such notice."))?;
    Ok(Json(notice))
}

/// Mark every unread notice of the signed-in person read: the unread count after it (0).
#[utoipa::path(post, path = "/api/v1/notices/read-all", tag = "notices",
    responses((status = 200, body = UnreadCount)))]
pub async fn read_all(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
) -> ApiResult<Json<UnreadCount>> {
    state.store.mark_all_notices_read(&ctx, user.id).await?;
    Ok(Json(UnreadCount { count: state.store.unread_notices(user.id).await? }))
}

/// Which notices the signed-in person gets (both kinds unless they chose otherwise).
#[utoipa::path(get, path = "/api/v1/me/notice-settings", tag = "notices",
    responses((status = 200, body = NoticeSettings)))]
pub async fn get_settings(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<NoticeSettings>> {
    Ok(Json(state.store.notice_settings(user.id).await?))
}

/// Choose which notices the signed-in person gets; a notice that carries training comes anyway.
#[utoipa::path(put, path = "/api/v1/me/notice-settings", tag = "notices", request_body = NoticeSettings,
    responses((status = 200, body = NoticeSettings), (status = 422, body = shared::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(settings): ApiJson<NoticeSettings>,
) -> ApiResult<Json<NoticeSettings>> {
    Ok(Json(state.store.set_notice_settings(&ctx, user.id, settings).await?))
}
