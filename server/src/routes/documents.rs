//! Document control (domain/documents.md): documents numbered per type, their revisions drafted
//! at a version (409 with the current one when someone saved first), moved through the shared
//! workflow (submit, send back, cancel) and approved by signature (`POST /signatures`, record
//! type `document_revision`, meanings `reviewed` and `approved`).

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
use shared::document::{
    CSV_HEADER as DOCUMENT_CSV_HEADER, Document, DocumentFilter, DocumentHit, DocumentId, DocumentInput,
    DocumentListQuery, DocumentPage, FILE_MAX_BYTES, PeriodicReviewInput, RenderedText, Revision, RevisionAction,
    RevisionDiff, RevisionId, RevisionInput, SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX, check_file, check_file_name,
    content_disposition, diff_lines, readable, search_terms,
};
use shared::org::RetireInput;

use super::{change_response, expected_version, export, with_etag};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiBytes, ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::AuditContext;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/documents", get(list_documents).post(create_document))
        .route("/documents.csv", get(export_documents))
        .route("/documents/search", get(search_documents))
        .route("/documents/{id}", get(get_document))
        .route("/documents/{id}/obsolete", post(obsolete_document))
        .route("/documents/{id}/periodic-review", post(periodic_review))
        .route("/documents/{id}/revisions", get(list_revisions).post(create_revision))
        .route("/document-revisions/{id}", get(get_revision).put(update_revision))
        .route("/document-revisions/{id}/move", post(move_revision))
        .route("/document-revisions/{id}/diff", get(diff_revision))
        .route(
            "/document-revisions/{id}/file",
            // Its own body limit: a file may be larger than the JSON bodies the API takes.
            get(get_file).put(put_file).layer(DefaultBodyLimit::max(FILE_MAX_BYTES)),
        )
        .route("/document-revisions/{id}/html", get(revision_html))
}

/// Whether `user` may read revision `r` of `doc` (the shared rule; document managers and
/// auditors see every revision).
fn visible(user: &CurrentUser, doc: &Document, r: &Revision) -> bool {
    let privileged = user.can(Permission::ManageDocuments) || user.can(Permission::ViewAuditTrail);
    readable(r.status, doc.participant(Some(user.id), r.author_id), privileged)
}

/// Revision `id` with its document, when `user` may read it; 404 otherwise (a revision one may
/// not read is answered as one that does not exist).
async fn readable_revision(state: &AppState, user: &CurrentUser, id: RevisionId) -> ApiResult<(Document, Revision)> {
    let not_found = || ApiError::not_found("No such revision.");
    let r = state.store.get_revision(id).await?.ok_or_else(not_found)?;
    let doc = state.store.get_document(r.document_id).await?.ok_or_else(not_found)?;
    if !visible(user, &doc, &r) {
        return Err(not_found());
    }
    Ok((doc, r))
}

/// The answer of the document list: every match without `limit`, as it always was; one page
/// with the total with it. Documented as one object whose `total` comes with `limit` (the two
/// shapes as `oneOf` would be ambiguous: a page is also a valid list).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum DocumentList {
    /// Without `limit`: every match.
    All(List<Document>),
    /// With `limit`: one page and how many match in all.
    Page(DocumentPage),
}

impl utoipa::PartialSchema for DocumentList {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .property(
                "items",
                ArrayBuilder::new()
                    .items(utoipa::openapi::Ref::from_schema_name("Document"))
                    .description(Some("The documents: every match, or with `limit` this page of them.")),
            )
            .required("items")
            .property(
                "total",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .description(Some("With `limit`: how many documents match the filters in all.")),
            )
            .into()
    }
}

impl utoipa::ToSchema for DocumentList {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        schemas.push((<Document as utoipa::ToSchema>::name().into(), <Document as utoipa::PartialSchema>::schema()));
        <Document as utoipa::ToSchema>::schemas(schemas);
    }
}

/// The filter a list query asks for, or 422 naming each bad parameter.
fn document_filter(q: &DocumentListQuery) -> Result<DocumentFilter, ApiError> {
    q.parse().map_err(|e| ApiError::invalid(e).with_message("The document filter is not valid."))
}

/// Documents (not obsolete unless `include_obsolete=true` or `status=obsolete`), filtered by
/// type, status, owner, process, overdue periodic review and text in the number or title; by
/// number unless `sort` says otherwise. Without `limit`, every match (`{"items"}`); with it, one
/// page and the total (`{"items", "total"}`). A bad parameter is 422 naming it.
#[utoipa::path(get, path = "/api/v1/documents", tag = "documents", params(DocumentListQuery),
    responses((status = 200, body = DocumentList), (status = 422, body = shared::ErrorBody)))]
pub async fn list_documents(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DocumentListQuery>,
) -> ApiResult<Json<DocumentList>> {
    let filter = document_filter(&q)?;
    let page = state.store.find_documents(&filter, Utc::now().date_naive()).await?;
    Ok(Json(if filter.limit.is_some() {
        DocumentList::Page(page)
    } else {
        DocumentList::All(List { items: page.items })
    }))
}

/// The register as CSV: every document the filters admit (`limit` and `offset` ignored), in the
/// list's order, one header row; cells a spreadsheet would run as a formula are neutralised.
#[utoipa::path(get, path = "/api/v1/documents.csv", tag = "documents", params(DocumentListQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = shared::ErrorBody)))]
pub async fn export_documents(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DocumentListQuery>,
) -> ApiResult<Response> {
    let filter = DocumentFilter { limit: None, offset: 0, ..document_filter(&q)? };
    let docs = state.store.find_documents(&filter, Utc::now().date_naive()).await?.items;
    let processes: std::collections::HashMap<_, _> =
        state.store.list_processes(true).await?.into_iter().map(|p| (p.id, p.name)).collect();
    let lines = export::in_chunks(docs, move |d| {
        shared::csv::row([
            d.number.clone(),
            d.title.clone(),
            d.doc_type.label().to_string(),
            d.status_text(),
            d.in_force.clone().unwrap_or_default(),
            d.owner_name.clone(),
            d.process_id.and_then(|p| processes.get(&p).cloned()).unwrap_or_default(),
            d.next_review_on.map(|n| n.to_string()).unwrap_or_default(),
            if d.review_overdue { "yes" } else { "no" }.to_string(),
        ])
    });
    Ok(export::csv_download("caliper-documents.csv", shared::csv::header(DOCUMENT_CSV_HEADER), lines))
}

/// Query of the document search.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to find: words of the number, the title or the text of the revision in force (each a
    /// word prefix, all required; punctuation separates words and is never query syntax).
    #[serde(default)]
    pub q: String,
    /// How many hits at most (default 20, 1–100).
    pub limit: Option<u32>,
}

/// Find documents (not obsolete) by number, title and the text of their revision in force, best
/// first, each with a plain-text snippet of that text marking the matching words. An empty query
/// or one over 200 characters is 422 naming `q`.
#[utoipa::path(get, path = "/api/v1/documents/search", tag = "documents", params(SearchQuery),
    responses((status = 200, body = List<DocumentHit>), (status = 422, body = shared::ErrorBody)))]
pub async fn search_documents(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<List<DocumentHit>>> {
    let mut e = shared::FieldErrors::new();
    let terms = search_terms(&q.q).unwrap_or_else(|errors| {
        e = errors;
        Vec::new()
    });
    let limit = q.limit.unwrap_or(SEARCH_LIMIT_DEFAULT);
    if !(1..=SEARCH_LIMIT_MAX).contains(&limit) {
        e.add("limit", shared::validation::INVALID);
    }
    if !e.is_empty() {
        return Err(ApiError::invalid(e).with_message("The search is not valid: type 1 to 200 characters."));
    }
    Ok(Json(List { items: state.store.search_documents(&terms, limit).await? }))
}

/// One document.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = i64, Path, description = "The document")),
    responses((status = 200, body = Document), (status = 404, body = shared::ErrorBody)))]
pub async fn get_document(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let doc =
        state.store.get_document(DocumentId(id)).await?.ok_or_else(|| ApiError::not_found("No such document."))?;
    Ok(with_etag(StatusCode::OK, doc.meta.version, &doc))
}

/// Create a document: the next number of its type, its owner, reviewers and approvers.
#[utoipa::path(post, path = "/api/v1/documents", tag = "documents", request_body = DocumentInput,
    responses((status = 201, body = Document), (status = 422, body = shared::ErrorBody)))]
pub async fn create_document(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<DocumentInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input.validate().map_err(|e| ApiError::invalid(e).with_message("The document is not valid; nothing was saved."))?;
    let doc = state.store.create_document(&ctx, &input).await?;
    let mut res = with_etag(StatusCode::CREATED, doc.meta.version, &doc);
    if let Ok(location) = header::HeaderValue::from_str(&format!("/api/v1/documents/{}", doc.id)) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// A document's revisions, newest first: drafts, revisions in review, approved and cancelled
/// ones only for the document's people, document managers and auditors.
#[utoipa::path(get, path = "/api/v1/documents/{id}/revisions", tag = "documents",
    params(("id" = i64, Path, description = "The document")),
    responses((status = 200, body = List<Revision>), (status = 404, body = shared::ErrorBody)))]
pub async fn list_revisions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<List<Revision>>> {
    let doc =
        state.store.get_document(DocumentId(id)).await?.ok_or_else(|| ApiError::not_found("No such document."))?;
    let items = state.store.list_revisions(doc.id).await?.into_iter().filter(|r| visible(&user, &doc, r)).collect();
    Ok(Json(List { items }))
}

/// Start the next revision of a document as a draft (its owner or a document manager).
#[utoipa::path(post, path = "/api/v1/documents/{id}/revisions", tag = "documents", request_body = RevisionInput,
    params(("id" = i64, Path, description = "The document")),
    responses((status = 201, body = Revision), (status = 403, body = shared::ErrorBody),
        (status = 404, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody),
        (status = 422, body = shared::ErrorBody)))]
pub async fn create_revision(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RevisionInput>,
) -> ApiResult<Response> {
    let doc =
        state.store.get_document(DocumentId(id)).await?.ok_or_else(|| ApiError::not_found("No such document."))?;
    if doc.owner_id != user.id && !user.can(Permission::ManageDocuments) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Only the document's owner or a document manager drafts it."));
    }
    let revision = state.store.create_revision(&ctx, doc.id, &input.normalized()).await?;
    Ok(with_etag(StatusCode::CREATED, revision.meta.version, &revision))
}

/// One revision.
#[utoipa::path(get, path = "/api/v1/document-revisions/{id}", tag = "documents",
    params(("id" = i64, Path, description = "The revision")),
    responses((status = 200, body = Revision), (status = 404, body = shared::ErrorBody)))]
pub async fn get_revision(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (_, r) = readable_revision(&state, &user, RevisionId(id)).await?;
    Ok(with_etag(StatusCode::OK, r.meta.version, &r))
}

/// Change a draft's content (its author or the document's owner), at the version in `If-Match`.
#[utoipa::path(put, path = "/api/v1/document-revisions/{id}", tag = "documents", request_body = RevisionInput,
    params(("id" = i64, Path, description = "The revision"),
        ("If-Match" = String, Header, description = "The version edited, e.g. \"3\"")),
    responses((status = 200, body = Revision), (status = 403, body = shared::ErrorBody),
        (status = 404, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody),
        (status = 422, body = shared::ErrorBody), (status = 428, body = shared::ErrorBody)))]
pub async fn update_revision(
    State(state): State<AppState>,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RevisionInput>,
) -> ApiResult<Response> {
    let version = expected_version(&headers, None)?;
    let change = state.store.update_draft(&ctx, RevisionId(id), version, &input.normalized()).await?;
    change_response(change, "revision", |r| r.meta.version)
}

/// Query of a file attached.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The file's name: at most 200 characters, no `/`, `\\` or control characters.
    #[serde(default)]
    pub name: String,
}

/// Attach a file to a draft (its author or the document's owner, at the version in `If-Match`, as
/// an edit), or replace its file (the old one is kept, no longer current): the raw bytes as the
/// body, their type as `Content-Type`: PDF, DOCX, XLSX, PPTX, PNG, JPEG (the bytes must begin as
/// the type's do), UTF-8 text or Markdown; at most 20 MiB (413). The content version moves, so a
/// signature given before no longer binds the revision. 422 naming `file` or `name`.
#[utoipa::path(put, path = "/api/v1/document-revisions/{id}/file", tag = "documents",
    request_body(content(
        (String = "application/pdf"),
        (String = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (String = "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        (String = "image/png"), (String = "image/jpeg"), (String = "text/plain"), (String = "text/markdown")),
        description = "The file's bytes, of one of these types (checked against how its bytes begin)"),
    params(("id" = i64, Path, description = "The revision"), FileQuery,
        ("If-Match" = String, Header, description = "The version edited, e.g. \"3\"")),
    responses((status = 200, body = Revision), (status = 403, body = shared::ErrorBody),
        (status = 404, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody),
        (status = 413, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody),
        (status = 428, body = shared::ErrorBody)))]
pub async fn put_file(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FileQuery>,
    body: Result<ApiBytes, ApiError>,
) -> ApiResult<Response> {
    // One who may not read the draft learns nothing of it, not even that it exists.
    readable_revision(&state, &user, RevisionId(id)).await?;
    let version = expected_version(&headers, None)?;
    let ApiBytes(bytes) = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            e.with_message("The file is larger than 20 MiB; nothing was attached.")
        } else {
            e
        }
    })?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut e = check_file_name(&q.name).err().unwrap_or_default();
    let media_type = check_file(content_type, &bytes).map_err(|f| {
        for (field, codes) in f.0 {
            for code in codes {
                e.add(field.clone(), code);
            }
        }
    });
    if !e.is_empty() {
        return Err(ApiError::invalid(e).with_message("The file was not attached."));
    }
    let (Ok(media_type), Ok(name)) = (media_type, check_file_name(&q.name)) else {
        return Err(ApiError::internal("a checked file failed its check"));
    };
    let change = state.store.attach_file(&ctx, RevisionId(id), version, &name, media_type, &bytes).await?;
    change_response(change, "revision", |r| r.meta.version)
}

/// The file attached to a revision, byte for byte, as a download under its name with its type
/// (never sniffed), for those who may read the revision (404 otherwise, and without a file).
#[utoipa::path(get, path = "/api/v1/document-revisions/{id}/file", tag = "documents",
    params(("id" = i64, Path, description = "The revision")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = shared::ErrorBody)))]
pub async fn get_file(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (_, r) = readable_revision(&state, &user, RevisionId(id)).await?;
    let (file, bytes) =
        state.store.revision_file(r.id).await?.ok_or_else(|| ApiError::not_found("This revision has no file."))?;
    let content_type = if file.media_type.starts_with("text/") {
        format!("{}; charset=utf-8", file.media_type)
    } else {
        file.media_type
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, content_disposition(&file.name)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        (header::CACHE_CONTROL, "private, no-cache".to_string()),
        (header::ETAG, format!("\"{}\"", file.sha256)),
    ] {
        let value = header::HeaderValue::from_str(&value).map_err(ApiError::internal)?;
        h.insert(name, value);
    }
    Ok(res)
}

/// A step of the workflow asked for.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// `submit`, `send_back` or `cancel` (signing is `POST /signatures`).
    pub action: RevisionAction,
    /// The version the step is asked of.
    pub version: i64,
    /// Why (required to send back and to cancel).
    #[serde(default)]
    pub reason: String,
}

/// Submit a draft for review, send a revision in review back, or cancel one, as the workflow
/// lets the signed-in user (403 for the wrong person, 409 for the wrong state or version).
#[utoipa::path(post, path = "/api/v1/document-revisions/{id}/move", tag = "documents", request_body = MoveInput,
    params(("id" = i64, Path, description = "The revision")),
    responses((status = 200, body = Revision), (status = 403, body = shared::ErrorBody),
        (status = 404, body = shared::ErrorBody), (status = 409, body = shared::ErrorBody),
        (status = 422, body = shared::ErrorBody)))]
pub async fn move_revision(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MoveInput>,
) -> ApiResult<Response> {
    let manager = user.can(Permission::ManageDocuments);
    let change =
        state.store.move_revision(&ctx, RevisionId(id), input.version, input.action, &input.reason, manager).await?;
    Ok(change_response(change, "revision", |r| r.meta.version)?.into_response())
}

/// Make a document obsolete, with the reason (document managers): it stays on record, its
/// number is never given again, and a revision in progress is cancelled.
#[utoipa::path(post, path = "/api/v1/documents/{id}/obsolete", tag = "documents", request_body = RetireInput,
    params(("id" = i64, Path, description = "The document")),
    responses((status = 200, body = Document), (status = 404, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn obsolete_document(
    State(state): State<AppState>,
    ctx: AuditContext,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RetireInput>,
) -> ApiResult<Response> {
    let version = expected_version(&headers, input.version)?;
    let input = input.normalized();
    input.validate().map_err(ApiError::invalid)?;
    let change = state.store.obsolete_document(&ctx, DocumentId(id), version, &input.reason).await?;
    change_response(change, "document", |d| d.meta.version)
}

/// Record the signed periodic review of a document (its owner or a document manager; the
/// password entered again): `no_change` moves the next review on by the interval, `revise` opens a
/// draft of the text in force (409 when a revision is in progress), `obsolete` makes the document
/// obsolete with the comment as the reason (409 when it is obsolete already). The signature
/// ("reviewed", record type `document`, at the document's version) is listed by
/// `GET /api/v1/signatures?record_type=document&record_id={id}`.
#[utoipa::path(post, path = "/api/v1/documents/{id}/periodic-review", tag = "documents",
    request_body = PeriodicReviewInput,
    params(("id" = i64, Path, description = "The document")),
    responses((status = 200, body = Document), (status = 401, body = shared::ErrorBody),
        (status = 403, body = shared::ErrorBody), (status = 404, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn periodic_review(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PeriodicReviewInput>,
) -> ApiResult<Response> {
    if user.info.must_change_password {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Change your password before continuing."));
    }
    // A periodic review is a signature: the session's first needs the username too.
    let mut e = input.validate(!user.info.signed_in_session).err().unwrap_or_default();
    if !user.info.esign_agreed && !input.accept_agreement {
        e.add("accept_agreement", shared::validation::REQUIRED);
    }
    if !e.is_empty() {
        return Err(ApiError::invalid(e).with_message("The review is not complete; nothing was signed."));
    }
    let doc =
        state.store.get_document(DocumentId(id)).await?.ok_or_else(|| ApiError::not_found("No such document."))?;
    if doc.owner_id != user.id && !user.can(Permission::ManageDocuments) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Only the document's owner or a document manager reviews it.",
        ));
    }
    crate::routes::signatures::check_signer(&state, &ctx, &user, input.username.as_deref(), &input.password).await?;
    let today = chrono::Utc::now().date_naive();
    let accept = !user.info.esign_agreed;
    let doc = state
        .store
        .periodic_review(&ctx, doc.id, user.id, &user.full_name, input.outcome, &input.comment, accept, today)
        .await?;
    Ok(with_etag(StatusCode::OK, doc.meta.version, &doc))
}

/// A revision's text rendered from its Markdown to HTML that is safe to insert into a page
/// (`crate::markdown`: HTML in the source is shown as text; links only to the web, `mailto:` and
/// this site), for those who may read the revision.
#[utoipa::path(get, path = "/api/v1/document-revisions/{id}/html", tag = "documents",
    params(("id" = i64, Path, description = "The revision")),
    responses((status = 200, body = RenderedText), (status = 404, body = shared::ErrorBody)))]
pub async fn revision_html(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RenderedText>> {
    let (_, r) = readable_revision(&state, &user, RevisionId(id)).await?;
    Ok(Json(RenderedText { html: crate::markdown::to_html(&r.content.body) }))
}

/// Query of a diff.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The other revision of the same document (the older one is shown as removed lines).
    pub against: i64,
}

/// The line-by-line difference between two revisions of a document, older to newer.
#[utoipa::path(get, path = "/api/v1/document-revisions/{id}/diff", tag = "documents",
    params(("id" = i64, Path, description = "One revision"), DiffQuery),
    responses((status = 200, body = RevisionDiff), (status = 404, body = shared::ErrorBody),
        (status = 422, body = shared::ErrorBody)))]
pub async fn diff_revision(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<RevisionDiff>> {
    let not_found = || ApiError::not_found("No such revision.");
    let one = state.store.get_revision(RevisionId(id)).await?.ok_or_else(not_found)?;
    let other = state.store.get_revision(RevisionId(q.against)).await?.ok_or_else(not_found)?;
    let doc = state.store.get_document(one.document_id).await?.ok_or_else(not_found)?;
    if !visible(&user, &doc, &one) || !visible(&user, &doc, &other) {
        return Err(not_found());
    }
    if other.document_id != one.document_id {
        let mut e = shared::FieldErrors::new();
        e.add("against", shared::validation::INVALID);
        return Err(ApiError::invalid(e).with_message("Both revisions must be of the same document."));
    }
    let (old, new) = if other.seq <= one.seq { (other, one) } else { (one, other) };
    Ok(Json(RevisionDiff {
        lines: diff_lines(&old.content.body, &new.content.body),
        from_label: old.label,
        to_label: new.label,
    }))
}
