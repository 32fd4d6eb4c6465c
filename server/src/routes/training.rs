//! Training and competency (domain/training.md): requirements and curricula (quality manager),
//! each person's assignments made in the transaction of their cause, "read and understood"
//! by signature (`POST /signatures`, record type `document_revision`, meaning `acknowledged`),
//! quizzes marked on the server, on-the-job sign-off by a qualified trainer, the matrix and the
//! auditor's questions.

use std::collections::HashSet;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use shared::List;
use shared::auth::{Permission, UserId};
use shared::document::DocumentId;
use shared::training::{
    Assignment, AssignmentId, ClassSession, ClassSessionId, ClassSessionInput, CurriculumEntry, CurriculumLine,
    DepartmentCompletion, Exemption, ExemptionId, ExemptionInput, Matrix, MatrixFilter, QuizAnswers, QuizResult,
    QuizSheet, Requirement, RequirementId, RequirementInput, RevokeInput, TrainedOn, TraineeStatus, TrainingRecord,
};

use super::{export, with_etag};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::storage::AuditContext;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/training/requirements", get(list_requirements).post(create_requirement))
        .route("/training/curriculum", get(list_curriculum).post(add_curriculum_line))
        .route("/training/my", get(my_training))
        .route("/training/assignments", get(list_assignments))
        .route("/training/assignments/{id}", get(get_assignment))
        .route("/training/assignments/{id}/quiz", get(quiz_sheet).post(submit_quiz))
        .route("/training/assignments/{id}/sign-off", post(sign_off))
        .route("/training/records", get(list_records))
        .route("/training/matrix", get(matrix))
        .route("/training/matrix.csv", get(matrix_csv))
        .route("/training/matrix.xlsx", get(matrix_xlsx))
        .route("/training/completion", get(completion))
        .route("/training/trained-on", get(trained_on))
        .route("/training/documents/{id}", get(document_trainees))
        .route("/training/exemptions", get(list_exemptions).post(create_exemption))
        .route("/training/exemptions/{id}/revoke", post(revoke_exemption))
        .route("/training/sessions", get(list_class_sessions).post(create_class_session))
        .route("/training/sessions/{id}", get(get_class_session))
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Whose training a reader sees: everyone's ([`Permission::ViewTrainingRecords`]), or a set of
/// people: a process owner's people ([`Permission::ViewTeamTrainingRecords`]) or oneself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrainingScope {
    /// Everyone.
    All,
    /// These people only.
    Only(HashSet<UserId>),
}

impl TrainingScope {
    /// Whether `user`'s training is in scope.
    pub fn contains(&self, user: UserId) -> bool {
        match self {
            TrainingScope::All => true,
            TrainingScope::Only(people) => people.contains(&user),
        }
    }
}

/// The one rule for every training read: who `user` may see. Every handler that returns people's
/// training filters by it (the route table has already let the reader in).
pub async fn training_scope(state: &AppState, user: &CurrentUser) -> ApiResult<TrainingScope> {
    if user.can(Permission::ViewTrainingRecords) {
        return Ok(TrainingScope::All);
    }
    let mut people = HashSet::from([user.id]);
    if user.can(Permission::ViewTeamTrainingRecords) {
        people.extend(state.store.training_team(user.id).await?);
    }
    Ok(TrainingScope::Only(people))
}

/// Every active requirement, by title (the quiz's key is never included).
#[utoipa::path(get, path = "/api/v1/training/requirements", tag = "training",
    responses((status = 200, body = List<Requirement>)))]
pub async fn list_requirements(State(state): State<AppState>) -> ApiResult<Json<List<Requirement>>> {
    Ok(Json(List { items: state.store.list_requirements().await? }))
}

/// Create a requirement: a document to read and sign, a quiz (with its key, kept on the
/// server), a classroom session or an on-the-job sign-off; its recurrence and completion period.
#[utoipa::path(post, path = "/api/v1/training/requirements", tag = "training", request_body = RequirementInput,
    responses((status = 201, body = Requirement), (status = 422, body = shared::ErrorBody)))]
pub async fn create_requirement(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<RequirementInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input
        .validate()
        .map_err(|e| ApiError::invalid(e).with_message("The requirement is not valid; nothing was saved."))?;
    let requirement = state.store.create_requirement(&ctx, &input).await?;
    Ok(with_etag(StatusCode::CREATED, requirement.meta.version, &requirement))
}

/// The curricula: which roles and departments must meet which requirements.
#[utoipa::path(get, path = "/api/v1/training/curriculum", tag = "training",
    responses((status = 200, body = List<CurriculumEntry>)))]
pub async fn list_curriculum(State(state): State<AppState>) -> ApiResult<Json<List<CurriculumEntry>>> {
    Ok(Json(List { items: state.store.list_curriculum().await? }))
}

/// Add a requirement to a role's or a department's curriculum; everyone it now applies to who
/// is not trained is assigned it in the same transaction.
#[utoipa::path(post, path = "/api/v1/training/curriculum", tag = "training", request_body = CurriculumLine,
    responses((status = 201, body = CurriculumEntry), (status = 422, body = shared::ErrorBody)))]
pub async fn add_curriculum_line(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(line): ApiJson<CurriculumLine>,
) -> ApiResult<Response> {
    line.validate().map_err(|e| ApiError::invalid(e).with_message("The curriculum line is not valid."))?;
    let entry = state.store.add_curriculum_line(&ctx, &line).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

/// My training: the signed-in user's assignments, open ones first by due date, then the
/// completed ones.
#[utoipa::path(get, path = "/api/v1/training/my", tag = "training",
    responses((status = 200, body = List<Assignment>)))]
pub async fn my_training(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<List<Assignment>>> {
    Ok(Json(List { items: state.store.list_assignments(Some(user.id), false, today()).await? }))
}

/// Query of the assignment list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    /// One person's.
    pub user_id: Option<i64>,
    /// Open ones only.
    #[serde(default)]
    pub open: bool,
}

/// Everyone's assignments (or one person's).
#[utoipa::path(get, path = "/api/v1/training/assignments", tag = "training", params(AssignmentQuery),
    responses((status = 200, body = List<Assignment>)))]
pub async fn list_assignments(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<AssignmentQuery>,
) -> ApiResult<Json<List<Assignment>>> {
    let scope = training_scope(&state, &user).await?;
    let mut items = state.store.list_assignments(q.user_id.map(UserId), q.open, today()).await?;
    items.retain(|a| scope.contains(a.user_id));
    Ok(Json(List { items }))
}

/// The trainee and whoever reads their training see an assignment; others get 404.
async fn visible_assignment(state: &AppState, user: &CurrentUser, id: i64) -> ApiResult<Assignment> {
    let a = state.store.get_assignment(AssignmentId(id), today()).await?;
    let a = match a {
        Some(a) if a.user_id == user.id || training_scope(state, user).await?.contains(a.user_id) => a,
        _ => return Err(ApiError::not_found("No such assignment.")),
    };
    Ok(a)
}

/// One assignment.
#[utoipa::path(get, path = "/api/v1/training/assignments/{id}", tag = "training",
    params(("id" = i64, Path, description = "The assignment")),
    responses((status = 200, body = Assignment), (status = 404, body = shared::ErrorBody)))]
pub async fn get_assignment(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let a = visible_assignment(&state, &user, id).await?;
    Ok(with_etag(StatusCode::OK, a.meta.version, &a))
}

/// The quiz of one's own open assignment, for its next attempt: shuffled, without the answers.
#[utoipa::path(get, path = "/api/v1/training/assignments/{id}/quiz", tag = "training",
    params(("id" = i64, Path, description = "The assignment")),
    responses((status = 200, body = QuizSheet), (status = 404, body = shared::ErrorBody)))]
pub async fn quiz_sheet(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<QuizSheet>> {
    let a = visible_assignment(&state, &user, id).await?;
    if a.user_id != user.id {
        return Err(ApiError::not_found("No such assignment."));
    }
    let sheet =
        state.store.quiz_sheet(a.id).await?.ok_or_else(|| ApiError::not_found("This assignment has no quiz."))?;
    Ok(Json(sheet))
}

/// Answer one attempt of the quiz (one's own assignment, after signing "read and understood"
/// when there is a revision): marked on the server; a pass completes the assignment. Answers
/// for an attempt already marked are refused (409).
#[utoipa::path(post, path = "/api/v1/training/assignments/{id}/quiz", tag = "training", request_body = QuizAnswers,
    params(("id" = i64, Path, description = "The assignment")),
    responses((status = 200, body = QuizResult), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn submit_quiz(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(answers): ApiJson<QuizAnswers>,
) -> ApiResult<Json<QuizResult>> {
    Ok(Json(state.store.submit_quiz(&ctx, AssignmentId(id), user.id, &answers, today()).await?))
}

/// Sign off a classroom or on-the-job assignment of someone else, as a qualified trainer (one's
/// own record on the requirement is current).
#[utoipa::path(post, path = "/api/v1/training/assignments/{id}/sign-off", tag = "training",
    params(("id" = i64, Path, description = "The assignment")),
    responses((status = 200, body = Assignment), (status = 403, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody)))]
pub async fn sign_off(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Assignment>> {
    Ok(Json(state.store.sign_off(&ctx, AssignmentId(id), user.id, today()).await?))
}

/// Query of the training records.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// One person's (one's own unless one reads training records).
    pub user_id: Option<i64>,
    /// One requirement's.
    pub requirement_id: Option<i64>,
}

/// Training records (completions with their evidence), newest first: those of the people whose
/// training one reads (everyone's, one's people's, or only one's own).
#[utoipa::path(get, path = "/api/v1/training/records", tag = "training", params(RecordQuery),
    responses((status = 200, body = List<TrainingRecord>)))]
pub async fn list_records(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> ApiResult<Json<List<TrainingRecord>>> {
    let scope = training_scope(&state, &user).await?;
    // Someone who sees only themselves asks for their own, whatever they asked.
    let who = match &scope {
        TrainingScope::Only(people) if people.len() == 1 => Some(user.id),
        _ => q.user_id.map(UserId),
    };
    let mut items = state.store.list_records(who, q.requirement_id.map(RequirementId)).await?;
    items.retain(|r| scope.contains(r.user_id));
    Ok(Json(List { items }))
}

/// The training matrix: active people × active requirements, one status letter per cell
/// (`-` not required, `a` assigned, `s` due soon, `o` overdue, `c` completed, `e` expired,
/// `x` superseded), row by row.
/// The rows of a process owner are their people's; the filters are the page's.
#[utoipa::path(get, path = "/api/v1/training/matrix", tag = "training", params(MatrixFilter),
    responses((status = 200, body = Matrix), (status = 422, body = shared::ErrorBody)))]
pub async fn matrix(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(filter): ApiQuery<MatrixFilter>,
) -> ApiResult<Json<Matrix>> {
    Ok(Json(visible_matrix(&state, &user, &filter).await?))
}

/// The matrix as `user` may see it (their scope's rows), filtered: the one function behind the
/// matrix, its CSV and its workbook. The matrix itself is computed once for everyone (and kept
/// until the records change); the rows are chosen after.
async fn visible_matrix(state: &AppState, user: &CurrentUser, filter: &MatrixFilter) -> ApiResult<Matrix> {
    filter.validate().map_err(|e| ApiError::invalid(e).with_message("Unknown filter value."))?;
    let scope = training_scope(state, user).await?;
    let m = super::dashboard::training_matrix(state.store.as_ref(), today(), Some(&state.kpis)).await?;
    if scope == TrainingScope::All && *filter == MatrixFilter::default() {
        return Ok(Matrix::clone(&m));
    }
    Ok(m.select(|p| scope.contains(p.id), filter))
}

/// The training matrix as CSV (the same rows and filters as the matrix): one row per person, one
/// column per requirement, each cell the status in words.
#[utoipa::path(get, path = "/api/v1/training/matrix.csv", tag = "training", params(MatrixFilter),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = shared::ErrorBody)))]
pub async fn matrix_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(filter): ApiQuery<MatrixFilter>,
) -> ApiResult<Response> {
    let m = visible_matrix(&state, &user, &filter).await?;
    let mut head = vec!["Person".to_string(), "Department".to_string()];
    head.extend(m.requirements.iter().map(|r| match &r.document_number {
        Some(n) => format!("{} ({n})", r.title),
        None => r.title.clone(),
    }));
    // The matrix is computed whole; its lines are written a chunk at a time.
    let requirements = m.requirements.len();
    let lines = export::in_chunks((0..m.people.len()).collect(), move |&p| {
        let person = &m.people[p];
        let mut row = vec![person.name.clone(), person.department.clone().unwrap_or_default()];
        row.extend((0..requirements).map(|r| m.cell(p, r).label().to_string()));
        shared::csv::row(row)
    });
    Ok(export::csv_download("caliper-training-matrix.csv", shared::csv::header(head), lines))
}

/// The training matrix as an Excel workbook (the same rows and filters as the CSV): the header
/// row and the name column frozen, requirement titles with their document numbers, each cell the
/// status in words on its colour, an autofilter.
#[utoipa::path(get, path = "/api/v1/training/matrix.xlsx", tag = "training", params(MatrixFilter),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body = Vec<u8>), (status = 422, body = shared::ErrorBody)))]
pub async fn matrix_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(filter): ApiQuery<MatrixFilter>,
) -> ApiResult<Response> {
    let m = visible_matrix(&state, &user, &filter).await?;
    // 400,000 cells take a moment to write: off the async workers.
    let bytes = tokio::task::spawn_blocking(move || crate::xlsx::training_matrix(&m))
        .await
        .map_err(|e| ApiError::internal(format!("the workbook was not written: {e}")))?
        .map_err(|e| ApiError::internal(format!("the workbook was not written: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"caliper-training-matrix.xlsx\""),
        ],
        bytes,
    )
        .into_response())
}

/// The completion rate per department against the 95 % target (cells where training is
/// required, and of those the ones completed and current).
#[utoipa::path(get, path = "/api/v1/training/completion", tag = "training",
    responses((status = 200, body = List<DepartmentCompletion>)))]
pub async fn completion(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<List<DepartmentCompletion>>> {
    let m = visible_matrix(&state, &user, &MatrixFilter::default()).await?;
    Ok(Json(List { items: m.completion_by_department() }))
}

/// Query of the auditor's question.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrainedOnQuery {
    /// The person.
    pub user_id: i64,
    /// The requirement.
    pub requirement_id: i64,
    /// The day (YYYY-MM-DD).
    pub on: NaiveDate,
}

/// Was this person trained for this requirement on the revision in force on that day? Yes or
/// no, with the evidence (the completion: revision, signature, score, trainer, date).
#[utoipa::path(get, path = "/api/v1/training/trained-on", tag = "training", params(TrainedOnQuery),
    responses((status = 200, body = TrainedOn), (status = 404, body = shared::ErrorBody)))]
pub async fn trained_on(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<TrainedOnQuery>,
) -> ApiResult<Json<TrainedOn>> {
    if !training_scope(&state, &user).await?.contains(UserId(q.user_id)) {
        return Err(ApiError::not_found("No such person or requirement."));
    }
    let answer = state
        .store
        .trained_on(UserId(q.user_id), RequirementId(q.requirement_id), q.on)
        .await?
        .ok_or_else(|| ApiError::not_found("No such person or requirement."))?;
    Ok(Json(answer))
}

/// Who must be trained on a document and where each stands today: the auditor's "who is
/// current on SOP-X, and who is not", and before a revision's effective date, who is not yet
/// trained on it.
#[utoipa::path(get, path = "/api/v1/training/documents/{id}", tag = "training",
    params(("id" = i64, Path, description = "The document")),
    responses((status = 200, body = List<TraineeStatus>)))]
pub async fn document_trainees(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<List<TraineeStatus>>> {
    let scope = training_scope(&state, &user).await?;
    let mut items = state.store.document_trainees(DocumentId(id), today()).await?;
    items.retain(|t| scope.contains(t.user_id));
    Ok(Json(List { items }))
}

/// Query of the exemptions.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExemptionQuery {
    /// One person's.
    pub user_id: Option<i64>,
    /// One requirement's.
    pub requirement_id: Option<i64>,
    /// Only those in force today (`true`) or only the others (`false`).
    pub active: Option<bool>,
}

/// Exemptions from training requirements, newest first.
#[utoipa::path(get, path = "/api/v1/training/exemptions", tag = "training", params(ExemptionQuery),
    responses((status = 200, body = List<Exemption>)))]
pub async fn list_exemptions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ExemptionQuery>,
) -> ApiResult<Json<List<Exemption>>> {
    let scope = training_scope(&state, &user).await?;
    let mut items = state
        .store
        .list_exemptions(q.user_id.map(UserId), q.requirement_id.map(RequirementId), q.active, today())
        .await?;
    items.retain(|e| scope.contains(e.user_id));
    Ok(Json(List { items }))
}

/// Exempt a person from a requirement, with a reason and optionally a last day (not in the past);
/// their open assignments of it are cancelled in the same transaction. 409 when one is in force.
#[utoipa::path(post, path = "/api/v1/training/exemptions", tag = "training", request_body = ExemptionInput,
    responses((status = 201, body = Exemption), (status = 409, body = shared::ErrorBody),
        (status = 422, body = shared::ErrorBody)))]
pub async fn create_exemption(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiJson(input): ApiJson<ExemptionInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input
        .validate(Some(today()))
        .map_err(|e| ApiError::invalid(e).with_message("The exemption is not valid; nothing was saved."))?;
    let exemption = state.store.create_exemption(&ctx, &input, today()).await?;
    Ok(with_etag(StatusCode::CREATED, exemption.meta.version, &exemption))
}

/// Revoke an exemption in force, with a reason; the person is assigned the requirement again in
/// the same transaction when their curricula hold it and they are not current.
#[utoipa::path(post, path = "/api/v1/training/exemptions/{id}/revoke", tag = "training", request_body = RevokeInput,
    params(("id" = i64, Path, description = "The exemption")),
    responses((status = 200, body = Exemption), (status = 404, body = shared::ErrorBody),
        (status = 409, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody)))]
pub async fn revoke_exemption(
    State(state): State<AppState>,
    ctx: AuditContext,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RevokeInput>,
) -> ApiResult<Response> {
    input.validate().map_err(|e| ApiError::invalid(e).with_message("Say why the exemption is revoked."))?;
    let exemption = state.store.revoke_exemption(&ctx, ExemptionId(id), &input.reason, today()).await?;
    Ok(with_etag(StatusCode::OK, exemption.meta.version, &exemption))
}

/// Record a classroom session, as a qualified trainer (one's own record on the requirement is
/// current; never on the list oneself): each attendee's open assignment is completed with a
/// training record (the caller as trainer, completed the day it was held), all or nothing. 422
/// names the field (`requirement_id` not a classroom requirement, `held_on` in the future or
/// before an attendee was assigned, `attendee_ids[i]` without an open assignment, with the
/// person named in the message); 403 for someone not qualified.
#[utoipa::path(post, path = "/api/v1/training/sessions", tag = "training", request_body = ClassSessionInput,
    responses((status = 201, body = ClassSession), (status = 403, body = shared::ErrorBody),
        (status = 422, body = shared::ErrorBody)))]
pub async fn create_class_session(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: AuditContext,
    ApiJson(input): ApiJson<ClassSessionInput>,
) -> ApiResult<Response> {
    let input = input.normalized();
    input
        .validate(Some(today()))
        .map_err(|e| ApiError::invalid(e).with_message("The session is not valid; nothing was recorded."))?;
    let session = state.store.create_class_session(&ctx, user.id, &input, today()).await?;
    Ok(with_etag(StatusCode::CREATED, session.meta.version, &session))
}

/// A session as `scope` shows it: its trainer sees it whole; others see it when someone they
/// read attended, with only those attendees.
fn visible_session(mut s: ClassSession, user: &CurrentUser, scope: &TrainingScope) -> Option<ClassSession> {
    if s.trainer_id == user.id || *scope == TrainingScope::All {
        return Some(s);
    }
    s.attendees.retain(|a| scope.contains(a.user_id));
    (!s.attendees.is_empty()).then_some(s)
}

/// Query of the classroom sessions.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// One requirement's.
    pub requirement_id: Option<i64>,
}

/// Classroom sessions with their attendance lists, newest first.
#[utoipa::path(get, path = "/api/v1/training/sessions", tag = "training", params(SessionQuery),
    responses((status = 200, body = List<ClassSession>)))]
pub async fn list_class_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> ApiResult<Json<List<ClassSession>>> {
    let scope = training_scope(&state, &user).await?;
    let all = state.store.list_class_sessions(q.requirement_id.map(RequirementId)).await?;
    Ok(Json(List { items: all.into_iter().filter_map(|s| visible_session(s, &user, &scope)).collect() }))
}

/// One classroom session (its trainer, or whoever reads an attendee's training).
#[utoipa::path(get, path = "/api/v1/training/sessions/{id}", tag = "training",
    params(("id" = i64, Path, description = "The session")),
    responses((status = 200, body = ClassSession), (status = 404, body = shared::ErrorBody)))]
pub async fn get_class_session(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ClassSession>> {
    let scope = training_scope(&state, &user).await?;
    state
        .store
        .get_class_session(ClassSessionId(id))
        .await?
        .and_then(|s| visible_session(s, &user, &scope))
        .map(Json)
        .ok_or_else(|| ApiError::not_found("No such session."))
}
