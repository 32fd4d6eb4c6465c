//! The typed API client: the only module that speaks HTTP. Every call returns the shared types
//! or an [`ApiError`] carrying the server's envelope. It keeps the session's CSRF token and sends
//! it with every state-changing request, and reports a 401 (the session ended) to the one
//! handler the app registers with [`on_session_end`]. Every request says how long ago the
//! person last acted (`X-Caliper-Idle`, seconds): only a person's action keeps a session alive,
//! not the reloads an open page makes by itself after a live update.

use std::cell::{Cell, RefCell};

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::audit::{AuditPage, ChainReport};
use shared::auth::{
    ChangePasswordInput, FailedSignIn, ResetPasswordInput, SessionInfo, SessionRecord, SignInInput, User, UserId,
    UserInput, UserSummary,
};
use shared::org::{Department, DepartmentInput, Process, ProcessId, ProcessInput, RetireInput, Site, SiteInput};
use shared::register::{
    Heatmap, MatrixId, MatrixInput, MatrixRevision, MatrixRevisionId, Risk, RiskId, RiskInput, RiskPage, WorkItem,
};
use shared::signature::{SignInput, Signature};
use shared::worksheet::{Fmea, FmeaId, FmeaInput, Row, RowId, RowInput, Worksheet};
use shared::{ErrorBody, List};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with an error status and our envelope.
    Status(u16, ErrorBody),
    /// The server could not be reached, or answered with something unreadable.
    Network(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status(_, body) => f.write_str(&body.message),
            ApiError::Network(e) => {
                write!(f, "The server could not be reached ({e}). Check your connection and retry.")
            }
        }
    }
}

impl std::error::Error for ApiError {}

type ApiResult<T> = Result<T, ApiError>;

thread_local! {
    /// The session's CSRF token, sent as `X-CSRF-Token` with every non-GET request.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Called when a request answers 401: the session has ended.
    static SESSION_END: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
    /// When the person last pressed a key, clicked or touched (ms since the epoch).
    static LAST_ACTION: Cell<f64> = Cell::new(js_sys::Date::now());
}

/// Notes a person's actions (a key, a click, a touch) for [`IDLE_HEADER`], for the page's life.
/// (One closure on the window, without the typed-event machinery: this is in the initial load.)
pub fn watch_actions() {
    use wasm_bindgen::JsCast;
    let noted = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| LAST_ACTION.with(|t| t.set(js_sys::Date::now())));
    if let Some(window) = web_sys::window() {
        for kind in ["keydown", "pointerdown"] {
            let _ = window.add_event_listener_with_callback(kind, noted.as_ref().unchecked_ref());
        }
    }
    noted.forget();
}

/// The header that tells the server how many seconds ago the person last acted; the server
/// extends the session's idle time only from that moment.
pub const IDLE_HEADER: &str = "X-Caliper-Idle";

/// Adds [`IDLE_HEADER`] to a request.
fn stamped(req: RequestBuilder) -> RequestBuilder {
    let idle = ((js_sys::Date::now() - LAST_ACTION.with(Cell::get)) / 1000.0).max(0.0) as u64;
    req.header(IDLE_HEADER, &idle.to_string())
}

/// Registers what to do when any request finds the session ended (401).
pub fn on_session_end(f: impl Fn() + 'static) {
    SESSION_END.with_borrow_mut(|h| *h = Some(Box::new(f)));
}

/// Keeps (or, with `None`, forgets) the session's CSRF token.
fn remember(session: Option<&SessionInfo>) {
    CSRF.with_borrow_mut(|t| *t = session.map(|s| s.csrf_token.clone()));
}

fn network(e: gloo_net::Error) -> ApiError {
    ApiError::Network(e.to_string())
}

/// Adds the CSRF token to a state-changing request.
fn guarded(req: RequestBuilder) -> RequestBuilder {
    let req = stamped(req);
    match CSRF.with_borrow(Clone::clone) {
        Some(token) => req.header("X-CSRF-Token", &token),
        None => req,
    }
}

/// The response when it succeeded, otherwise the server's envelope. With `ends_session`, a 401
/// means the session ended and is reported to the [`on_session_end`] handler; without, the 401
/// is the answer itself (a wrong password).
async fn check(res: Result<Response, gloo_net::Error>, ends_session: bool) -> ApiResult<Response> {
    let res = res.map_err(network)?;
    crate::area::note_served_build(res.headers().get("x-caliper-build"));
    if res.ok() {
        return Ok(res);
    }
    let status = res.status();
    let body = res
        .json::<ErrorBody>()
        .await
        .unwrap_or_else(|_| ErrorBody::new(format!("The server answered {status} {}.", res.status_text())));
    if status == 401 && ends_session {
        remember(None);
        SESSION_END.with_borrow(|h| h.as_ref().map(|f| f()));
    }
    Err(ApiError::Status(status, body))
}

/// A request's answer (its body, as text), or why it failed.
type Exchange = std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<String>>>>;

/// Sends a request and reads its answer: the one future every call awaits. It is boxed and not
/// generic, so that each call's own future (and every resource or action a page holds it in)
/// carries a pointer to it rather than its own inlined copy of the whole exchange (gloo's
/// request, the status check, reading the body).
fn exchange(req: Result<Request, gloo_net::Error>, ends_session: bool) -> Exchange {
    Box::pin(async move {
        let res = check(req.map_err(network)?.send().await, ends_session).await?;
        res.text().await.map_err(network)
    })
}

/// An answer read as `T`: parsed into a `serde_json::Value` (one parser for the whole app), then
/// read from that (out of line: one copy per type, not one per call).
#[inline(never)]
fn decode<T: DeserializeOwned>(text: &str) -> ApiResult<T> {
    let value = serde_json::from_str::<serde_json::Value>(text).map_err(|e| ApiError::Network(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| ApiError::Network(e.to_string()))
}

async fn send<T: DeserializeOwned>(req: RequestBuilder) -> ApiResult<T> {
    decode(&exchange(stamped(req).build(), true).await?)
}

/// An answer read straight into `T` as it is parsed, not through a `serde_json::Value`: for an
/// FMEA and its worksheet rows, which the app reads this way only, so that their parsing code is
/// compiled once, and the fast way (a 10,000-row worksheet: 88 against 190 ms through a value,
/// natively).
#[inline(never)]
fn decode_direct<T: DeserializeOwned>(text: &str) -> ApiResult<T> {
    serde_json::from_str(text).map_err(|e| ApiError::Network(e.to_string()))
}

/// [`send`], read by [`decode_direct`].
async fn send_direct<T: DeserializeOwned>(req: RequestBuilder) -> ApiResult<T> {
    decode_direct(&exchange(stamped(req).build(), true).await?)
}

/// [`send_json`], read by [`decode_direct`].
async fn send_json_direct<T: DeserializeOwned>(req: RequestBuilder, body: &impl Serialize) -> ApiResult<T> {
    decode_direct(&exchange(guarded(req).json(body), true).await?)
}

/// A state-changing request without a body and without an answer (204).
async fn send_empty(req: RequestBuilder) -> ApiResult<()> {
    exchange(guarded(req).build(), true).await.map(drop)
}

async fn send_json<T: DeserializeOwned>(req: RequestBuilder, body: &impl Serialize) -> ApiResult<T> {
    send_json_as(req, body, true).await
}

async fn send_json_as<T: DeserializeOwned>(
    req: RequestBuilder,
    body: &impl Serialize,
    ends_session: bool,
) -> ApiResult<T> {
    decode(&exchange(guarded(req).json(body), ends_session).await?)
}

async fn list<T: DeserializeOwned>(url: &str) -> ApiResult<Vec<T>> {
    let list: List<T> = send(Request::get(url)).await?;
    Ok(list.items)
}

/// `GET /api/v1/session`: the current session; 401 when not signed in.
pub async fn get_session() -> ApiResult<SessionInfo> {
    let info: SessionInfo = decode(&exchange(stamped(Request::get("/api/v1/session")).build(), false).await?)?;
    remember(Some(&info));
    Ok(info)
}

/// `POST /api/v1/session`: sign in (the server sets the session cookie).
pub async fn sign_in(input: &SignInInput) -> ApiResult<SessionInfo> {
    let info: SessionInfo = send_json_as(Request::post("/api/v1/session"), input, false).await?;
    remember(Some(&info));
    Ok(info)
}

/// `DELETE /api/v1/session`: sign out.
pub async fn sign_out() -> ApiResult<()> {
    let result = exchange(guarded(Request::delete("/api/v1/session")).build(), false).await;
    remember(None);
    result.map(drop)
}

/// `POST /api/v1/session/password`: change one's own password.
pub async fn change_password(input: &ChangePasswordInput) -> ApiResult<SessionInfo> {
    let info: SessionInfo = send_json(Request::post("/api/v1/session/password"), input).await?;
    remember(Some(&info));
    Ok(info)
}

/// `GET /api/v1/users/directory`: active users, for pickers.
pub async fn user_directory() -> ApiResult<Vec<UserSummary>> {
    list("/api/v1/users/directory").await
}

/// `GET /api/v1/users?include_retired=true`
pub async fn list_users() -> ApiResult<Vec<User>> {
    list("/api/v1/users?include_retired=true").await
}

/// `GET /api/v1/users/{id}`
pub async fn get_user(id: UserId) -> ApiResult<User> {
    send(Request::get(&format!("/api/v1/users/{id}"))).await
}

/// `POST /api/v1/users`
pub async fn create_user(input: &UserInput) -> ApiResult<User> {
    send_json(Request::post("/api/v1/users"), input).await
}

/// `PUT /api/v1/users/{id}` (the input carries the version the edit is based on)
pub async fn update_user(id: UserId, input: &UserInput) -> ApiResult<User> {
    send_json(Request::put(&format!("/api/v1/users/{id}")), input).await
}

/// `POST /api/v1/users/{id}/deactivate`
pub async fn deactivate_user(id: UserId, input: &RetireInput) -> ApiResult<User> {
    send_json(Request::post(&format!("/api/v1/users/{id}/deactivate")), input).await
}

/// `POST /api/v1/users/{id}/reset-password`
pub async fn reset_password(id: UserId, input: &ResetPasswordInput) -> ApiResult<User> {
    send_json(Request::post(&format!("/api/v1/users/{id}/reset-password")), input).await
}

/// `GET /api/v1/sessions`: active sessions.
pub async fn list_sessions() -> ApiResult<Vec<SessionRecord>> {
    list("/api/v1/sessions").await
}

/// `POST /api/v1/sessions/{id}/revoke`
pub async fn revoke_session(id: i64) -> ApiResult<()> {
    send_empty(Request::post(&format!("/api/v1/sessions/{id}/revoke"))).await
}

/// `GET /api/v1/security/failed-sign-ins`
pub async fn failed_sign_ins() -> ApiResult<Vec<FailedSignIn>> {
    list("/api/v1/security/failed-sign-ins").await
}

/// `POST /api/v1/signatures`. A 401 here is a wrong password, not the end of the session.
pub async fn sign(input: &SignInput) -> ApiResult<Signature> {
    send_json_as(Request::post("/api/v1/signatures"), input, false).await
}

/// `GET /api/v1/signatures?record_type=…&record_id=…`, newest first; without a record id, the
/// signatures of every record of the type.
pub async fn list_signatures(record_type: &str, record_id: Option<i64>) -> ApiResult<Vec<Signature>> {
    let record = record_id.map(|id| format!("&record_id={id}")).unwrap_or_default();
    list(&format!("/api/v1/signatures?record_type={}{record}", encode_component(record_type))).await
}

/// `GET /api/v1/processes`
pub async fn list_processes(include_retired: bool) -> ApiResult<Vec<Process>> {
    list(&format!("/api/v1/processes?include_retired={include_retired}")).await
}

/// `GET /api/v1/processes/{id}`
pub async fn get_process(id: ProcessId) -> ApiResult<Process> {
    send(Request::get(&format!("/api/v1/processes/{id}"))).await
}

/// `POST /api/v1/processes`
pub async fn create_process(input: &ProcessInput) -> ApiResult<Process> {
    send_json(Request::post("/api/v1/processes"), input).await
}

/// `PUT /api/v1/processes/{id}` (the input carries the version the edit is based on)
pub async fn update_process(id: ProcessId, input: &ProcessInput) -> ApiResult<Process> {
    send_json(Request::put(&format!("/api/v1/processes/{id}")), input).await
}

/// `POST /api/v1/processes/{id}/retire`
pub async fn retire_process(id: ProcessId, input: &RetireInput) -> ApiResult<Process> {
    send_json(Request::post(&format!("/api/v1/processes/{id}/retire")), input).await
}

/// `GET /api/v1/departments`
pub async fn list_departments(include_retired: bool) -> ApiResult<Vec<Department>> {
    list(&format!("/api/v1/departments?include_retired={include_retired}")).await
}

/// `POST /api/v1/departments`
pub async fn create_department(input: &DepartmentInput) -> ApiResult<Department> {
    send_json(Request::post("/api/v1/departments"), input).await
}

/// `POST /api/v1/sites`
pub async fn create_site(input: &SiteInput) -> ApiResult<Site> {
    send_json(Request::post("/api/v1/sites"), input).await
}

/// `GET /api/v1/sites`
pub async fn list_sites(include_retired: bool) -> ApiResult<Vec<Site>> {
    list(&format!("/api/v1/sites?include_retired={include_retired}")).await
}

/// `GET /api/v1/audit?{query}` (query already encoded, see [`audit_query`])
pub async fn list_audit(query: &str) -> ApiResult<AuditPage> {
    send(Request::get(&format!("/api/v1/audit?{query}"))).await
}

/// `GET /api/v1/audit/verify`
pub async fn verify_audit() -> ApiResult<ChainReport> {
    send(Request::get("/api/v1/audit/verify")).await
}

/// `GET /api/v1/risk-matrices`: every revision of every matrix.
pub async fn list_matrix_revisions() -> ApiResult<Vec<MatrixRevision>> {
    list("/api/v1/risk-matrices").await
}

/// `GET /api/v1/risk-matrix-revisions/{id}`
pub async fn get_matrix_revision(id: MatrixRevisionId) -> ApiResult<MatrixRevision> {
    send(Request::get(&format!("/api/v1/risk-matrix-revisions/{id}"))).await
}

/// `POST /api/v1/risk-matrices`: a new matrix (its first draft revision).
pub async fn create_matrix(input: &MatrixInput) -> ApiResult<MatrixRevision> {
    send_json(Request::post("/api/v1/risk-matrices"), input).await
}

/// `POST /api/v1/risk-matrices/{id}/revisions`: the next draft revision.
pub async fn create_matrix_revision(matrix: MatrixId, input: &MatrixInput) -> ApiResult<MatrixRevision> {
    send_json(Request::post(&format!("/api/v1/risk-matrices/{matrix}/revisions")), input).await
}

/// `PUT /api/v1/risk-matrix-revisions/{id}`: edit a draft.
pub async fn update_matrix_revision(id: MatrixRevisionId, input: &MatrixInput) -> ApiResult<MatrixRevision> {
    send_json(Request::put(&format!("/api/v1/risk-matrix-revisions/{id}")), input).await
}

/// `GET /api/v1/documents`
pub async fn list_documents() -> ApiResult<Vec<shared::document::Document>> {
    list("/api/v1/documents").await
}

/// `GET /api/v1/documents/{id}`
pub async fn get_document(id: shared::document::DocumentId) -> ApiResult<shared::document::Document> {
    send(Request::get(&format!("/api/v1/documents/{id}"))).await
}

/// `GET /api/v1/documents/{id}/revisions`: newest first (those not in force only for the
/// document's people, document managers and auditors).
pub async fn list_document_revisions(id: shared::document::DocumentId) -> ApiResult<Vec<shared::document::Revision>> {
    list(&format!("/api/v1/documents/{id}/revisions")).await
}

/// `GET /api/v1/documents/search?q=…`: documents by number, title and the text in force, best
/// first, each with a snippet marking the words found.
pub async fn search_documents(q: &str) -> ApiResult<Vec<shared::document::DocumentHit>> {
    list(&format!("/api/v1/documents/search?q={}", String::from(js_sys::encode_uri_component(q)))).await
}

/// `GET /api/v1/notices`: the signed-in user's notices, newest first.
pub async fn notices() -> ApiResult<Vec<shared::document::Notice>> {
    list("/api/v1/notices").await
}

/// `GET /api/v1/notices/unread-count`
pub async fn unread_notices() -> ApiResult<u32> {
    let n: shared::document::UnreadCount = send(Request::get("/api/v1/notices/unread-count")).await?;
    Ok(n.count)
}

/// `POST /api/v1/notices/{id}/read`
pub async fn read_notice(id: i64) -> ApiResult<()> {
    send_empty(Request::post(&format!("/api/v1/notices/{id}/read"))).await
}

/// `POST /api/v1/notices/read-all`
pub async fn read_all_notices() -> ApiResult<()> {
    send_empty(Request::post("/api/v1/notices/read-all")).await
}

/// `GET /api/v1/me/notice-settings`
pub async fn notice_settings() -> ApiResult<shared::document::NoticeSettings> {
    send(Request::get("/api/v1/me/notice-settings")).await
}

/// `PUT /api/v1/me/notice-settings`
pub async fn set_notice_settings(
    settings: &shared::document::NoticeSettings,
) -> ApiResult<shared::document::NoticeSettings> {
    send_json(Request::put("/api/v1/me/notice-settings"), settings).await
}

/// `POST /api/v1/documents/{id}/periodic-review`: the signed review (a wrong password is a 401
/// with the field named, not the end of the session).
pub async fn periodic_review(
    id: shared::document::DocumentId,
    input: &shared::document::PeriodicReviewInput,
) -> ApiResult<shared::document::Document> {
    send_json_as(Request::post(&format!("/api/v1/documents/{id}/periodic-review")), input, false).await
}

/// `GET /api/v1/document-revisions/{id}/html`: the text rendered from its Markdown.
pub async fn revision_html(id: shared::document::RevisionId) -> ApiResult<shared::document::RenderedText> {
    send(Request::get(&format!("/api/v1/document-revisions/{id}/html"))).await
}

/// `GET /api/v1/documents?{query}` with a `limit`: one page of the register and the total.
pub async fn document_page(query: &str) -> ApiResult<shared::document::DocumentPage> {
    send(Request::get(&format!("/api/v1/documents?{query}"))).await
}

/// `PUT /api/v1/document-revisions/{id}/file?name=…` with `If-Match: "{version}"`: attaches (or
/// replaces) a draft's file, sent as it is with its declared type.
pub async fn attach_file(
    id: shared::document::RevisionId,
    version: i64,
    file: &web_sys::File,
) -> ApiResult<shared::document::Revision> {
    let name = String::from(js_sys::encode_uri_component(&file.name()));
    let media = file.type_();
    let media = if media.is_empty() { "application/octet-stream".to_string() } else { media };
    let req = guarded(
        Request::put(&format!("/api/v1/document-revisions/{id}/file?name={name}"))
            .header("If-Match", &format!("\"{version}\""))
            .header("Content-Type", &media),
    )
    .body(wasm_bindgen::JsValue::from(file.clone()));
    decode(&exchange(req, true).await?)
}

/// `GET /api/v1/settings/documents`: the installation's document settings.
pub async fn document_settings() -> ApiResult<shared::document::DocumentSettings> {
    send(Request::get("/api/v1/settings/documents")).await
}

/// `PUT /api/v1/settings/documents` (admin).
pub async fn set_document_settings(
    settings: &shared::document::DocumentSettings,
) -> ApiResult<shared::document::DocumentSettings> {
    send_json(Request::put("/api/v1/settings/documents"), settings).await
}

/// `POST /api/v1/documents`: a new document with the next number of its type.
pub async fn create_document(input: &shared::document::DocumentInput) -> ApiResult<shared::document::Document> {
    send_json(Request::post("/api/v1/documents"), input).await
}

/// `POST /api/v1/documents/{id}/obsolete` at `version`, with the reason.
pub async fn obsolete_document(
    id: shared::document::DocumentId,
    input: &RetireInput,
) -> ApiResult<shared::document::Document> {
    send_json(Request::post(&format!("/api/v1/documents/{id}/obsolete")), input).await
}

/// `POST /api/v1/documents/{id}/revisions`: the owner's new draft.
pub async fn create_revision(
    id: shared::document::DocumentId,
    input: &shared::document::RevisionInput,
) -> ApiResult<shared::document::Revision> {
    send_json(Request::post(&format!("/api/v1/documents/{id}/revisions")), input).await
}

/// `PUT /api/v1/document-revisions/{id}` with `If-Match: "{version}"`: a draft's content.
pub async fn update_revision(
    id: shared::document::RevisionId,
    version: i64,
    input: &shared::document::RevisionInput,
) -> ApiResult<shared::document::Revision> {
    let req = Request::put(&format!("/api/v1/document-revisions/{id}")).header("If-Match", &format!("\"{version}\""));
    send_json(req, input).await
}

/// `POST /api/v1/document-revisions/{id}/move`: submit, send back or cancel (with the reason).
pub async fn move_revision(
    id: shared::document::RevisionId,
    action: shared::document::RevisionAction,
    version: i64,
    reason: &str,
) -> ApiResult<shared::document::Revision> {
    let body = serde_json::json!({ "action": action, "version": version, "reason": reason });
    send_json(Request::post(&format!("/api/v1/document-revisions/{id}/move")), &body).await
}

/// `GET /api/v1/document-revisions/{id}/diff?against={other}`
pub async fn diff_revisions(
    id: shared::document::RevisionId,
    against: shared::document::RevisionId,
) -> ApiResult<shared::document::RevisionDiff> {
    send(Request::get(&format!("/api/v1/document-revisions/{id}/diff?against={against}"))).await
}

/// `GET /api/v1/risks?{query}` (query encoded by [`audit_query`])
pub async fn list_risks(query: &str) -> ApiResult<RiskPage> {
    send(Request::get(&format!("/api/v1/risks?{query}"))).await
}

/// `GET /api/v1/risks/heatmap?{query}`
pub async fn risk_heatmap(query: &str) -> ApiResult<Heatmap> {
    send(Request::get(&format!("/api/v1/risks/heatmap?{query}"))).await
}

/// `GET /api/v1/risks/{id}`
pub async fn get_risk(id: RiskId) -> ApiResult<Risk> {
    send(Request::get(&format!("/api/v1/risks/{id}"))).await
}

/// `POST /api/v1/risks`
pub async fn create_risk(input: &RiskInput) -> ApiResult<Risk> {
    send_json(Request::post("/api/v1/risks"), input).await
}

/// `PUT /api/v1/risks/{id}` (the input carries the version the edit is based on)
pub async fn update_risk(id: RiskId, input: &RiskInput) -> ApiResult<Risk> {
    send_json(Request::put(&format!("/api/v1/risks/{id}")), input).await
}

/// `GET /api/v1/work`: what waits for the signed-in user.
pub async fn work() -> ApiResult<Vec<WorkItem>> {
    list("/api/v1/work").await
}

/// `GET /api/v1/fmeas`
pub async fn list_fmeas() -> ApiResult<Vec<Fmea>> {
    let list: List<Fmea> = send_direct(Request::get("/api/v1/fmeas")).await?;
    Ok(list.items)
}

/// An FMEA as a risk cites it: which process it is of, and its number.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FmeaRef {
    pub id: FmeaId,
    pub process_id: shared::org::ProcessId,
    pub fmea_number: String,
}

/// A worksheet row as a risk cites it (a failure chain): the fields the risk form shows, read
/// from the same answer as [`Row`] without the rest of the row.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ChainRow {
    pub id: RowId,
    pub position: i64,
    pub failure_mode: String,
    pub ap: Option<shared::fmea::ActionPriority>,
}

/// The failure chains of a worksheet.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Chains {
    pub rows: Vec<ChainRow>,
}

/// `GET /api/v1/fmeas`, as the risk form cites them ([`FmeaRef`]).
pub async fn fmea_refs() -> ApiResult<Vec<FmeaRef>> {
    list("/api/v1/fmeas").await
}

/// `GET /api/v1/fmeas/{id}/worksheet?limit=N`, the failure chains of the first `limit` rows
/// ([`ChainRow`]).
pub async fn failure_chains(id: FmeaId, limit: usize) -> ApiResult<Chains> {
    send(Request::get(&format!("/api/v1/fmeas/{id}/worksheet?limit={limit}"))).await
}

/// `POST /api/v1/fmeas`
pub async fn create_fmea(input: &FmeaInput) -> ApiResult<Fmea> {
    send_json_direct(Request::post("/api/v1/fmeas"), input).await
}

/// `PUT /api/v1/fmeas/{id}` (the input carries the version and the reason)
pub async fn update_fmea(id: FmeaId, input: &FmeaInput) -> ApiResult<Fmea> {
    send_json_direct(Request::put(&format!("/api/v1/fmeas/{id}")), input).await
}

/// `GET /api/v1/fmeas/{id}`
pub async fn get_fmea(id: FmeaId) -> ApiResult<Fmea> {
    send_direct(Request::get(&format!("/api/v1/fmeas/{id}"))).await
}

/// `GET /api/v1/fmeas/{id}/worksheet?limit=N`: the header and the first `limit` rows.
pub async fn worksheet_first(id: FmeaId, limit: usize) -> ApiResult<Worksheet> {
    send_direct(Request::get(&format!("/api/v1/fmeas/{id}/worksheet?limit={limit}"))).await
}

/// `GET /api/v1/fmeas/{id}/worksheet`
pub async fn worksheet(id: FmeaId) -> ApiResult<Worksheet> {
    send_direct(Request::get(&format!("/api/v1/fmeas/{id}/worksheet"))).await
}

/// `GET /api/v1/fmea-rows/{id}`
pub async fn get_row(id: RowId) -> ApiResult<Row> {
    send_direct(Request::get(&format!("/api/v1/fmea-rows/{id}"))).await
}

/// `POST /api/v1/fmeas/{id}/rows`
pub async fn create_row(fmea: FmeaId, input: &RowInput) -> ApiResult<Row> {
    send_json_direct(Request::post(&format!("/api/v1/fmeas/{fmea}/rows")), input).await
}

/// `PUT /api/v1/fmea-rows/{id}` (the input carries the row's version)
pub async fn update_row(id: RowId, input: &RowInput) -> ApiResult<Row> {
    send_json_direct(Request::put(&format!("/api/v1/fmea-rows/{id}")), input).await
}

/// `POST /api/v1/fmeas/{id}/import` with the file's bytes as they are (the server, not the
/// browser, decides whether they are UTF-8): the server's report as JSON (200, 413 or 422).
pub async fn import_csv(fmea: FmeaId, bytes: Vec<u8>, skip_bad_rows: bool) -> ApiResult<(u16, serde_json::Value)> {
    post_csv(&format!("/api/v1/fmeas/{fmea}/import?skip_bad_rows={skip_bad_rows}"), bytes).await
}

/// Posts a CSV file's bytes as they are; the status and the JSON body, whatever the status (an
/// import's report of problems comes with 422), except that 401 ends the session.
async fn post_csv(url: &str, bytes: Vec<u8>) -> ApiResult<(u16, serde_json::Value)> {
    post_file(url, "text/csv", bytes).await
}

/// A file's bytes posted as `content_type`: (status, the JSON answer).
async fn post_file(url: &str, content_type: &str, bytes: Vec<u8>) -> ApiResult<(u16, serde_json::Value)> {
    let body = js_sys::Uint8Array::from(bytes.as_slice());
    let req = guarded(Request::post(url)).header("Content-Type", content_type).body(body).map_err(network)?;
    let res = req.send().await.map_err(network)?;
    let status = res.status();
    if status == 401 {
        return check(Ok(res), true).await.map(|_| (401, serde_json::Value::Null));
    }
    let body = res.json::<serde_json::Value>().await.unwrap_or_default();
    Ok((status, body))
}

/// Encodes audit filters as a query string, leaving out empty ones.
pub fn audit_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode_component(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_component(s: &str) -> String {
    // encodeURIComponent's set: keep A-Z a-z 0-9 - _ . ! ~ * ' ( ), escape the rest as UTF-8.
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /api/v1/document-revisions/{id}`
pub async fn get_revision(id: shared::document::RevisionId) -> ApiResult<shared::document::Revision> {
    send(Request::get(&format!("/api/v1/document-revisions/{id}"))).await
}

/// `GET /api/v1/training/my`: the signed-in user's assignments, open ones first.
pub async fn my_training() -> ApiResult<Vec<shared::training::Assignment>> {
    list("/api/v1/training/my").await
}

/// `GET /api/v1/training/assignments/{id}`
pub async fn get_assignment(id: shared::training::AssignmentId) -> ApiResult<shared::training::Assignment> {
    send(Request::get(&format!("/api/v1/training/assignments/{id}"))).await
}

/// `GET /api/v1/training/assignments/{id}/quiz`: the next attempt's sheet, without the key.
pub async fn quiz_sheet(id: shared::training::AssignmentId) -> ApiResult<shared::training::QuizSheet> {
    send(Request::get(&format!("/api/v1/training/assignments/{id}/quiz"))).await
}

/// `POST /api/v1/training/assignments/{id}/quiz`: marked on the server.
pub async fn submit_quiz(
    id: shared::training::AssignmentId,
    answers: &shared::training::QuizAnswers,
) -> ApiResult<shared::training::QuizResult> {
    send_json(Request::post(&format!("/api/v1/training/assignments/{id}/quiz")), answers).await
}

/// `POST /api/v1/training/assignments/{id}/sign-off`: as a qualified trainer.
pub async fn sign_off(id: shared::training::AssignmentId) -> ApiResult<shared::training::Assignment> {
    send_json(Request::post(&format!("/api/v1/training/assignments/{id}/sign-off")), &serde_json::json!({})).await
}

/// `GET /api/v1/training/records?{query}`
pub async fn training_records(query: &str) -> ApiResult<Vec<shared::training::TrainingRecord>> {
    list(&format!("/api/v1/training/records?{query}")).await
}

/// `GET /api/v1/training/assignments?{query}`: everyone's assignments (or one person's).
pub async fn training_assignments(query: &str) -> ApiResult<Vec<shared::training::Assignment>> {
    list(&format!("/api/v1/training/assignments?{query}")).await
}

/// `GET /api/v1/training/exemptions?{query}`
pub async fn training_exemptions(query: &str) -> ApiResult<Vec<shared::training::Exemption>> {
    list(&format!("/api/v1/training/exemptions?{query}")).await
}

/// `POST /api/v1/training/exemptions`
pub async fn grant_exemption(input: &shared::training::ExemptionInput) -> ApiResult<shared::training::Exemption> {
    send_json(Request::post("/api/v1/training/exemptions"), input).await
}

/// `POST /api/v1/training/exemptions/{id}/revoke`
pub async fn revoke_exemption(
    id: shared::training::ExemptionId,
    input: &shared::training::RevokeInput,
) -> ApiResult<shared::training::Exemption> {
    send_json(Request::post(&format!("/api/v1/training/exemptions/{id}/revoke")), input).await
}

/// `GET /api/v1/training/sessions?{query}`
pub async fn class_sessions(query: &str) -> ApiResult<Vec<shared::training::ClassSession>> {
    list(&format!("/api/v1/training/sessions?{query}")).await
}

/// `POST /api/v1/training/sessions`
pub async fn record_class_session(
    input: &shared::training::ClassSessionInput,
) -> ApiResult<shared::training::ClassSession> {
    send_json(Request::post("/api/v1/training/sessions"), input).await
}

/// `GET /api/v1/training/matrix`
pub async fn training_matrix() -> ApiResult<shared::training::Matrix> {
    send(Request::get("/api/v1/training/matrix")).await
}

/// `GET /api/v1/training/requirements`
pub async fn training_requirements() -> ApiResult<Vec<shared::training::Requirement>> {
    list("/api/v1/training/requirements").await
}

/// `GET /api/v1/training/trained-on?user_id=…&requirement_id=…&on=…`
pub async fn trained_on(
    user: UserId,
    requirement: shared::training::RequirementId,
    on: chrono::NaiveDate,
) -> ApiResult<shared::training::TrainedOn> {
    send(Request::get(&format!("/api/v1/training/trained-on?user_id={user}&requirement_id={requirement}&on={on}")))
        .await
}

/// `GET /api/v1/training/documents/{id}`: who must be trained on a document, and where each stands.
pub async fn document_trainees(id: shared::document::DocumentId) -> ApiResult<Vec<shared::training::TraineeStatus>> {
    list(&format!("/api/v1/training/documents/{id}")).await
}

/// `GET /api/v1/dashboard/tiles/{kpi}[?process_id=]`: for the organisation or one process.
pub async fn dashboard_tile_for(kpi: shared::kpi::Kpi, process: Option<i64>) -> ApiResult<shared::kpi::Tile> {
    let scope = process.map(|p| format!("?process_id={p}")).unwrap_or_default();
    send(Request::get(&format!("/api/v1/dashboard/tiles/{}{scope}", kpi.as_str()))).await
}

/// `GET /api/v1/me/dashboard`: the signed-in person's tiles and their order.
pub async fn my_dashboard() -> ApiResult<shared::kpi::DashboardLayout> {
    send(Request::get("/api/v1/me/dashboard")).await
}

/// `PUT /api/v1/me/dashboard`
pub async fn save_my_dashboard(layout: &shared::kpi::DashboardLayout) -> ApiResult<shared::kpi::DashboardLayout> {
    send_json(Request::put("/api/v1/me/dashboard"), layout).await
}

/// `GET /api/v1/users/{id}/tokens`
pub async fn user_tokens(user: UserId) -> ApiResult<Vec<shared::auth::ApiToken>> {
    list(&format!("/api/v1/users/{user}/tokens")).await
}

/// `POST /api/v1/users/{id}/tokens`: the new token and its secret (shown once).
pub async fn issue_token(user: UserId, input: &shared::auth::ApiTokenInput) -> ApiResult<shared::auth::NewApiToken> {
    send_json(Request::post(&format!("/api/v1/users/{user}/tokens")), input).await
}

/// `POST /api/v1/tokens/{id}/revoke`
pub async fn revoke_token(id: i64) -> ApiResult<shared::auth::ApiToken> {
    send_json(Request::post(&format!("/api/v1/tokens/{id}/revoke")), &serde_json::json!({})).await
}

/// `GET /api/v1/dashboard/objectives`
pub async fn objectives() -> ApiResult<Vec<shared::kpi::Objective>> {
    list("/api/v1/dashboard/objectives").await
}

/// `POST /api/v1/dashboard/objectives`
pub async fn create_objective(input: &shared::kpi::ObjectiveInput) -> ApiResult<shared::kpi::Objective> {
    send_json(Request::post("/api/v1/dashboard/objectives"), input).await
}

/// `GET /api/v1/dashboard/overdue[?process_id=]`
pub async fn overdue_work_for(process: Option<i64>) -> ApiResult<Vec<shared::register::WorkItem>> {
    let scope = process.map(|p| format!("?process_id={p}")).unwrap_or_default();
    list(&format!("/api/v1/dashboard/overdue{scope}")).await
}

/// `GET /api/v1/measurements[?series=…]`
pub async fn list_measurements(series: Option<shared::kpi::Series>) -> ApiResult<Vec<shared::kpi::Measurement>> {
    match series {
        Some(s) => list(&format!("/api/v1/measurements?series={}", s.as_str())).await,
        None => list("/api/v1/measurements").await,
    }
}

/// What recording measurements did.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Recorded {
    /// Created or corrected.
    pub changed: usize,
}

/// `POST /api/v1/measurements` (one value)
pub async fn record_measurement(input: &shared::kpi::MeasurementInput) -> ApiResult<Recorded> {
    send_json(Request::post("/api/v1/measurements"), input).await
}

/// `POST /api/v1/measurements/import` (a CSV file's bytes): the status and the body (the
/// problems on 422).
pub async fn import_measurements(bytes: Vec<u8>) -> ApiResult<(u16, serde_json::Value)> {
    // A workbook is a zip file: it starts with "PK".
    let kind = if bytes.starts_with(b"PK") { XLSX } else { "text/csv" };
    post_file("/api/v1/measurements/import", kind, bytes).await
}

/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `POST /api/v1/dashboard/targets`
pub async fn set_target(input: &shared::kpi::TargetInput) -> ApiResult<()> {
    exchange(guarded(Request::post("/api/v1/dashboard/targets")).json(input), true).await.map(drop)
}

/// `GET /api/v1/training/curriculum`
pub async fn list_curriculum() -> ApiResult<Vec<shared::training::CurriculumEntry>> {
    list("/api/v1/training/curriculum").await
}

/// `POST /api/v1/training/curriculum`: assigns the requirement to everyone it now applies to.
pub async fn add_curriculum_line(
    line: &shared::training::CurriculumLine,
) -> ApiResult<shared::training::CurriculumEntry> {
    send_json(Request::post("/api/v1/training/curriculum"), line).await
}

/// `POST /api/v1/training/requirements`
pub async fn create_requirement(
    input: &shared::training::RequirementInput,
) -> ApiResult<shared::training::Requirement> {
    send_json(Request::post("/api/v1/training/requirements"), input).await
}

// Nonconformance, complaints and CAPA.

/// `GET /api/v1/nc-categories`
pub async fn nc_categories() -> ApiResult<Vec<shared::quality::Category>> {
    list("/api/v1/nc-categories").await
}

/// `GET /api/v1/ncs?{query}`: a page of the register, newest first.
pub async fn list_ncs(query: &str) -> ApiResult<Vec<shared::quality::Nc>> {
    list(&format!("/api/v1/ncs?{query}")).await
}

/// `POST /api/v1/ncs`
pub async fn create_nc(input: &shared::quality::NcInput) -> ApiResult<shared::quality::Nc> {
    send_json(Request::post("/api/v1/ncs"), input).await
}

/// `GET /api/v1/ncs/{id}`
pub async fn get_nc(id: i64) -> ApiResult<shared::quality::Nc> {
    send(Request::get(&format!("/api/v1/ncs/{id}"))).await
}

/// `POST /api/v1/ncs/{id}/steps`
pub async fn nc_step(id: i64, step: &shared::quality::NcStep) -> ApiResult<shared::quality::Nc> {
    send_json(Request::post(&format!("/api/v1/ncs/{id}/steps")), step).await
}

/// `GET /api/v1/ncs/pareto?{query}`
pub async fn nc_pareto(query: &str) -> ApiResult<Vec<shared::quality::ParetoBar>> {
    list(&format!("/api/v1/ncs/pareto?{query}")).await
}

/// `GET /api/v1/complaints`
pub async fn list_complaints() -> ApiResult<Vec<shared::quality::Complaint>> {
    list("/api/v1/complaints").await
}

/// `POST /api/v1/complaints`
pub async fn create_complaint(input: &shared::quality::ComplaintInput) -> ApiResult<shared::quality::Complaint> {
    send_json(Request::post("/api/v1/complaints"), input).await
}

/// `GET /api/v1/complaints/{id}`
pub async fn get_complaint(id: i64) -> ApiResult<shared::quality::Complaint> {
    send(Request::get(&format!("/api/v1/complaints/{id}"))).await
}

/// `POST /api/v1/complaints/{id}/steps`
pub async fn complaint_step(id: i64, step: &shared::quality::ComplaintStep) -> ApiResult<shared::quality::Complaint> {
    send_json(Request::post(&format!("/api/v1/complaints/{id}/steps")), step).await
}

/// `GET /api/v1/complaints/counts`
pub async fn complaint_counts() -> ApiResult<Vec<shared::quality::MonthCount>> {
    list("/api/v1/complaints/counts").await
}

/// `GET /api/v1/capas?{query}`
pub async fn list_capas(query: &str) -> ApiResult<Vec<shared::quality::CapaSummary>> {
    list(&format!("/api/v1/capas?{query}")).await
}

/// `POST /api/v1/capas`
pub async fn create_capa(input: &shared::quality::CapaInput) -> ApiResult<shared::quality::Capa> {
    send_json(Request::post("/api/v1/capas"), input).await
}

/// `GET /api/v1/capas/{id}`
pub async fn get_capa(id: i64) -> ApiResult<shared::quality::Capa> {
    send(Request::get(&format!("/api/v1/capas/{id}"))).await
}

/// `PUT /api/v1/capas/{id}`
pub async fn update_capa(id: i64, input: &shared::quality::CapaUpdate) -> ApiResult<shared::quality::Capa> {
    send_json(Request::put(&format!("/api/v1/capas/{id}")), input).await
}

/// `POST /api/v1/capas/{id}/steps`
pub async fn capa_step(id: i64, step: &shared::quality::CapaStep) -> ApiResult<shared::quality::Capa> {
    send_json(Request::post(&format!("/api/v1/capas/{id}/steps")), step).await
}

/// `POST /api/v1/capas/{id}/actions`
pub async fn add_capa_action(id: i64, input: &shared::quality::ActionInput) -> ApiResult<shared::quality::Capa> {
    send_json(Request::post(&format!("/api/v1/capas/{id}/actions")), input).await
}

/// `POST /api/v1/capas/{id}/actions/{action}/done` or `…/retire`
pub async fn capa_action(
    id: i64,
    action: i64,
    what: &str,
    version: i64,
    reason: &str,
) -> ApiResult<shared::quality::Capa> {
    let body = serde_json::json!({"version": version, "reason": reason});
    send_json(Request::post(&format!("/api/v1/capas/{id}/actions/{action}/{what}")), &body).await
}

/// `POST /api/v1/capas/{id}/extensions`
pub async fn request_extension(id: i64, input: &shared::quality::ExtensionInput) -> ApiResult<shared::quality::Capa> {
    send_json(Request::post(&format!("/api/v1/capas/{id}/extensions")), input).await
}

/// `POST /api/v1/capas/{id}/extensions/{extension}/decision`
pub async fn decide_extension(
    id: i64,
    extension: i64,
    input: &shared::quality::ExtensionDecision,
) -> ApiResult<shared::quality::Capa> {
    send_json(Request::post(&format!("/api/v1/capas/{id}/extensions/{extension}/decision")), input).await
}

/// `GET /api/v1/capas/metrics?{query}`
pub async fn capa_metrics(query: &str) -> ApiResult<shared::quality::MetricsReport> {
    send(Request::get(&format!("/api/v1/capas/metrics?{query}"))).await
}

/// `POST /api/v1/quality/suggestions`: root-cause suggestions for a description.
pub async fn suggest(text: &str) -> ApiResult<shared::quality::Suggestions> {
    send_json(Request::post("/api/v1/quality/suggestions"), &serde_json::json!({ "text": text })).await
}
