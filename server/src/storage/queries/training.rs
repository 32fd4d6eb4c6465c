//! Training and competency: the queries of [`crate::storage::training`], compiled once per
//! backend (see [`crate::storage`]): the store's reads, requirements and curricula, quizzes,
//! sign-off, the matrix and the auditor's questions. Statuses and due dates are decided by
//! [`shared::training`] from the facts that `assignment.rs` reads; assignments are made there,
//! in the transaction of their cause.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared::audit::{AuditAction, diff};
use shared::auth::{Role, UserId};
use shared::document::{DocumentId, RevisionId};
use shared::org::{DepartmentId, RecordMeta};
use shared::training::{
    Assignment, AssignmentCause, AssignmentId, AssignmentState, CellStatus, ClassSession, ClassSessionId,
    ClassSessionInput, CurriculumEntry, CurriculumLine, Exemption, ExemptionId, ExemptionInput, Matrix, MatrixPerson,
    MatrixRequirement, Quiz, QuizAnswers, QuizResult, QuizSheet, Requirement, RequirementId, RequirementInput,
    RequirementKind, RevisionFacts, TrainedOn, TraineeStatus, TrainingRecord, assignment_due, cell_status, expires_on,
    in_force_on, training_baseline,
};
use shared::validation::{INVALID, NOT_FOUND};

use super::assignment::{
    Facts, REQUIREMENT_SELECT, RequirementRow, RevisionFactRow, Scope, assign_missing, complete, count, not_a_trainer,
    qualified_trainer,
};
use super::base::append_audit;
use super::exemption::{end_exemptions, exemptions_ending};
use super::notice::{due_soon_waiting, send_due_soon};
use super::{Conn, SqlStore};
use crate::storage::common::{Draft, field_error};
use crate::storage::training::{HistoricTraining, TrainingStore};
use crate::storage::{AuditContext, StoreError, StoreResult};

// ---- reading ----

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    assignment_id: i64,
    user_id: i64,
    user_name: String,
    requirement_id: i64,
    requirement_title: String,
    kind: String,
    document_id: Option<i64>,
    document_number: Option<String>,
    revision_id: Option<i64>,
    revision_label: Option<String>,
    cause: String,
    cause_detail: String,
    assigned_on: NaiveDate,
    due_on: NaiveDate,
    state: String,
    acknowledged_at: Option<DateTime<Utc>>,
    questions: i64,
    attempts_used: i64,
    attempts_allowed: i64,
    completed_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const ASSIGNMENT_SELECT: &str = "select a.assignment_id, a.user_id, u.full_name as user_name, a.requirement_id, \
     q.title as requirement_title, q.kind, q.document_id, d.number as document_number, a.revision_id, \
     v.label as revision_label, a.cause, a.cause_detail, a.assigned_on, a.due_on, a.state, a.acknowledged_at, \
     q.questions, a.attempts_used, q.attempts_allowed, a.completed_at, a.version, a.created_at, a.updated_at \
     from training_assignments a join users u on u.user_id = a.user_id \
     join training_requirements q on q.requirement_id = a.requirement_id \
     left join documents d on d.document_id = q.document_id \
     left join document_revisions v on v.revision_id = a.revision_id";

impl AssignmentRow {
    fn into_assignment(self, today: NaiveDate) -> StoreResult<Assignment> {
        let bad =
            |what: &str, v: &str| StoreError::Internal(format!("assignment {}: {what} `{v}`", self.assignment_id));
        let kind = RequirementKind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?;
        let cause = AssignmentCause::parse(&self.cause).ok_or_else(|| bad("cause", &self.cause))?;
        let state = AssignmentState::parse(&self.state).ok_or_else(|| bad("state", &self.state))?;
        let status = match state {
            AssignmentState::Open => cell_status(true, Some(self.due_on), None, today),
            AssignmentState::Completed => CellStatus::Completed,
            AssignmentState::Cancelled => CellStatus::NotRequired,
        };
        Ok(Assignment {
            id: AssignmentId(self.assignment_id),
            user_id: UserId(self.user_id),
            user_name: self.user_name,
            requirement_id: RequirementId(self.requirement_id),
            requirement_title: self.requirement_title,
            kind,
            document_id: self.document_id.map(DocumentId),
            document_number: self.document_number,
            revision_id: self.revision_id.map(RevisionId),
            revision_label: self.revision_label,
            cause,
            cause_detail: self.cause_detail,
            assigned_on: self.assigned_on,
            due_on: self.due_on,
            state,
            acknowledged_at: self.acknowledged_at,
            questions: count(self.questions),
            attempts_used: count(self.attempts_used),
            attempts_allowed: count(self.attempts_allowed),
            completed_at: self.completed_at,
            status,
            meta: RecordMeta {
                version: self.version,
                created_at: self.created_at,
                updated_at: self.updated_at,
                retired_at: None,
                retired_reason: None,
            },
        })
    }
}

async fn assignment_by_id(conn: &mut Conn, id: i64, today: NaiveDate) -> StoreResult<Option<Assignment>> {
    let sql = format!("{ASSIGNMENT_SELECT} where a.assignment_id = $1");
    let row: Option<AssignmentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    row.map(|r| r.into_assignment(today)).transpose()
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    record_id: i64,
    assignment_id: i64,
    user_id: i64,
    user_name: String,
    requirement_id: i64,
    requirement_title: String,
    revision_id: Option<i64>,
    revision_label: Option<String>,
    document_number: Option<String>,
    completed_at: DateTime<Utc>,
    signature_id: Option<i64>,
    score: Option<i64>,
    trainer_name: Option<String>,
    expires_on: Option<NaiveDate>,
}

impl From<RecordRow> for TrainingRecord {
    fn from(r: RecordRow) -> Self {
        TrainingRecord {
            id: r.record_id,
            assignment_id: AssignmentId(r.assignment_id),
            user_id: UserId(r.user_id),
            user_name: r.user_name,
            requirement_id: RequirementId(r.requirement_id),
            requirement_title: r.requirement_title,
            revision_id: r.revision_id.map(RevisionId),
            revision_label: r.revision_label,
            document_number: r.document_number,
            completed_at: r.completed_at,
            signature_id: r.signature_id,
            score: r.score.map(count),
            trainer_name: r.trainer_name,
            expires_on: r.expires_on,
        }
    }
}

const RECORD_SELECT: &str = "select t.record_id, t.assignment_id, t.user_id, u.full_name as user_name, \
     t.requirement_id, q.title as requirement_title, t.revision_id, v.label as revision_label, \
     d.number as document_number, t.completed_at, t.signature_id, t.score, tr.full_name as trainer_name, t.expires_on \
     from training_records t join users u on u.user_id = t.user_id \
     join training_requirements q on q.requirement_id = t.requirement_id \
     left join document_revisions v on v.revision_id = t.revision_id \
     left join documents d on d.document_id = v.document_id \
     left join users tr on tr.user_id = t.trainer_id";

/// The stored quiz of a requirement, with its key.
async fn stored_quiz(conn: &mut Conn, requirement: i64) -> StoreResult<Option<Quiz>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("select quiz from training_requirements where requirement_id = $1")
            .bind(requirement)
            .fetch_optional(conn)
            .await?;
    match row.and_then(|(q,)| q) {
        None => Ok(None),
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| StoreError::Internal(format!("requirement {requirement}: quiz: {e}"))),
    }
}

/// The order of an attempt's questions: the same sheet for the same attempt.
fn sheet_seed(assignment: i64, attempt: u32) -> u64 {
    (assignment as u64).wrapping_mul(1_000_003).wrapping_add(u64::from(attempt))
}

#[async_trait]
impl TrainingStore for SqlStore {
    async fn create_requirement(&self, ctx: &AuditContext, input: &RequirementInput) -> StoreResult<Requirement> {
        input.validate().map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        if let Some(doc) = input.document_id {
            let found: Option<(Option<DateTime<Utc>>,)> =
                sqlx::query_as("select retired_at from documents where document_id = $1")
                    .bind(doc.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            match found {
                None => return Err(field_error("document_id", NOT_FOUND)),
                Some((Some(_),)) => return Err(field_error("document_id", shared::validation::RETIRED)),
                Some((None,)) => {}
            }
        }
        let quiz_json = input.quiz.as_ref().map(|q| serde_json::to_string(q).unwrap_or_default());
        let (questions, pass_mark, attempts) = input.quiz.as_ref().map_or((0, 0, 0), |q| {
            (i64::try_from(q.questions.len()).unwrap_or(0), i64::from(q.pass_mark), i64::from(q.attempts_allowed))
        });
        let now = Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "insert into training_requirements (title, kind, document_id, quiz, questions, pass_mark, \
             attempts_allowed, \
             recurrence_months, completion_days, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $10) returning requirement_id",
        )
        .bind(&input.title)
        .bind(input.kind.as_str())
        .bind(input.document_id.map(|d| d.0))
        .bind(quiz_json)
        .bind(questions)
        .bind(pass_mark)
        .bind(attempts)
        .bind(input.recurrence_months.map(i64::from))
        .bind(i64::from(input.completion_days))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let sql = format!("{REQUIREMENT_SELECT} where q.requirement_id = $1");
        let row: RequirementRow = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
        let requirement = Requirement::try_from(row)?;
        // The audit entry holds the requirement as created, without the quiz's key: the trail is
        // read by people who take quizzes too (a hash of so small a key would give it away). The
        // key is kept with the requirement, which never changes.
        let after = serde_json::to_value(&requirement).unwrap_or_default();
        let draft = Draft {
            action: AuditAction::Create,
            record_type: "training_requirement",
            record_id: id,
            record_version: 1,
            changes: diff(&serde_json::Value::Null, &after),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(requirement)
    }

    async fn list_requirements(&self) -> StoreResult<Vec<Requirement>> {
        let sql = format!("{REQUIREMENT_SELECT} where q.retired_at is null order by lower(q.title), q.requirement_id");
        let rows: Vec<RequirementRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(Requirement::try_from).collect()
    }

    async fn add_curriculum_line(&self, ctx: &AuditContext, line: &CurriculumLine) -> StoreResult<CurriculumEntry> {
        line.validate().map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let found: Option<(String, Option<DateTime<Utc>>)> =
            sqlx::query_as("select title, retired_at from training_requirements where requirement_id = $1")
                .bind(line.requirement_id.0)
                .fetch_optional(&mut *tx)
                .await?;
        let title = match found {
            None => return Err(field_error("requirement_id", NOT_FOUND)),
            Some((_, Some(_))) => return Err(field_error("requirement_id", shared::validation::RETIRED)),
            Some((title, None)) => title,
        };
        let department_name = match line.department_id {
            None => None,
            Some(d) => {
                let found: Option<(String, Option<DateTime<Utc>>)> =
                    sqlx::query_as("select name, retired_at from departments where department_id = $1")
                        .bind(d.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                match found {
                    Some((name, None)) => Some(name),
                    Some(_) => return Err(field_error("department_id", shared::validation::RETIRED)),
                    None => return Err(field_error("department_id", NOT_FOUND)),
                }
            }
        };
        let now = Utc::now();
        let inserted: Option<(i64,)> = sqlx::query_as(
            "insert into curriculum_lines (requirement_id, role, department_id, created_at) values ($1, $2, $3, $4) \
             on conflict do nothing returning line_id",
        )
        .bind(line.requirement_id.0)
        .bind(line.role.map(Role::as_str))
        .bind(line.department_id.map(|d| d.0))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id,)) = inserted else {
            return Err(StoreError::Invalid({
                let mut e = shared::FieldErrors::new();
                e.add(if line.role.is_some() { "role" } else { "department_id" }, shared::validation::TAKEN);
                e
            }));
        };
        let entry = CurriculumEntry {
            id,
            requirement_id: line.requirement_id,
            requirement_title: title,
            role: line.role,
            department_id: line.department_id,
            department_name,
        };
        let draft = Draft {
            action: AuditAction::Create,
            record_type: "curriculum_line",
            record_id: id,
            record_version: 1,
            changes: diff(&serde_json::Value::Null, &serde_json::to_value(&entry).unwrap_or_default()),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        let detail = match (&entry.role, &entry.department_name) {
            (Some(r), _) => format!("Curriculum of the {} role", r.label()),
            (None, Some(d)) => format!("Curriculum of {d}"),
            _ => String::new(),
        };
        let today = now.date_naive();
        assign_missing(
            &mut tx,
            ctx,
            Scope::Requirement(line.requirement_id.0),
            AssignmentCause::CurriculumChanged,
            &detail,
            today,
        )
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn list_curriculum(&self) -> StoreResult<Vec<CurriculumEntry>> {
        let rows: Vec<(i64, i64, String, Option<String>, Option<i64>, Option<String>)> = sqlx::query_as(
            "select l.line_id, l.requirement_id, q.title, l.role, l.department_id, d.name from curriculum_lines l \
             join training_requirements q on q.requirement_id = l.requirement_id \
             left join departments d on d.department_id = l.department_id \
             where l.retired_at is null order by lower(q.title), l.line_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, requirement, title, role, department, department_name)| CurriculumEntry {
                id,
                requirement_id: RequirementId(requirement),
                requirement_title: title,
                role: role.as_deref().and_then(Role::parse),
                department_id: department.map(DepartmentId),
                department_name,
            })
            .collect())
    }

    async fn list_assignments(
        &self,
        user: Option<UserId>,
        open_only: bool,
        today: NaiveDate,
    ) -> StoreResult<Vec<Assignment>> {
        let sql = format!(
            "{ASSIGNMENT_SELECT} where ($1 is null or a.user_id = $1) and (not $2 or a.state = 'open') \
             order by a.state desc, a.due_on, a.assignment_id desc"
        );
        let rows: Vec<AssignmentRow> =
            sqlx::query_as(&sql).bind(user.map(|u| u.0)).bind(open_only).fetch_all(&self.pool).await?;
        rows.into_iter().map(|r| r.into_assignment(today)).collect()
    }

    async fn overdue_assignments(&self, today: NaiveDate) -> StoreResult<Vec<Assignment>> {
        let sql = format!(
            "{ASSIGNMENT_SELECT} where a.state = 'open' and a.due_on < $1 and u.retired_at is null \
             order by a.due_on, a.assignment_id"
        );
        let rows: Vec<AssignmentRow> = sqlx::query_as(&sql).bind(today).fetch_all(&self.pool).await?;
        rows.into_iter().map(|r| r.into_assignment(today)).collect()
    }

    async fn count_overdue_assignments(&self, today: NaiveDate) -> StoreResult<usize> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from training_assignments a join users u on u.user_id = a.user_id \
             where a.state = 'open' and a.due_on < $1 and u.retired_at is null",
        )
        .bind(today)
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(n).unwrap_or_default())
    }

    async fn get_assignment(&self, id: AssignmentId, today: NaiveDate) -> StoreResult<Option<Assignment>> {
        let mut conn = self.pool.acquire().await?;
        assignment_by_id(&mut conn, id.0, today).await
    }

    async fn quiz_sheet(&self, id: AssignmentId) -> StoreResult<Option<QuizSheet>> {
        let mut conn = self.pool.acquire().await?;
        let row: Option<(i64, i64)> =
            sqlx::query_as("select requirement_id, attempts_used from training_assignments where assignment_id = $1")
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await?;
        let Some((requirement, used)) = row else { return Ok(None) };
        let Some(quiz) = stored_quiz(&mut conn, requirement).await? else { return Ok(None) };
        let attempt = count(used) + 1;
        Ok(Some(QuizSheet {
            attempt,
            try_in_round: count(used) % quiz.attempts_allowed.max(1) + 1,
            attempts_allowed: quiz.attempts_allowed,
            pass_mark: quiz.pass_mark,
            questions: quiz.for_trainee(sheet_seed(id.0, attempt)),
        }))
    }

    async fn submit_quiz(
        &self,
        ctx: &AuditContext,
        id: AssignmentId,
        trainee: UserId,
        answers: &QuizAnswers,
        today: NaiveDate,
    ) -> StoreResult<QuizResult> {
        let mut tx = self.write_tx().await?;
        let a = assignment_by_id(&mut tx, id.0, today)
            .await?
            .ok_or_else(|| StoreError::NotFound("No such assignment.".into()))?;
        if a.user_id != trainee {
            return Err(StoreError::Forbidden("Only the trainee takes their quiz; nothing was recorded.".into()));
        }
        if a.state != AssignmentState::Open {
            return Err(StoreError::Retired("This assignment is already completed; nothing was recorded.".into()));
        }
        let quiz = stored_quiz(&mut tx, a.requirement_id.0)
            .await?
            .ok_or_else(|| StoreError::Retired("This assignment has no quiz.".into()))?;
        if a.revision_id.is_some() && a.acknowledged_at.is_none() {
            return Err(StoreError::Conflict(
                "Read the revision and sign \"read and understood\" before the quiz; nothing was recorded.".into(),
            ));
        }
        let attempt = a.attempts_used + 1;
        if answers.attempt != attempt {
            return Err(StoreError::Conflict(format!(
                "These answers are for attempt {}, but the next attempt is {attempt} (answers sent twice?); nothing \
                 was recorded.",
                answers.attempt
            )));
        }
        let mut sheet = Vec::with_capacity(quiz.questions.len());
        for (i, q) in quiz.questions.iter().enumerate() {
            let chosen = answers.answers.get(&u32::try_from(i).unwrap_or(u32::MAX)).cloned().unwrap_or_default();
            if chosen.iter().any(|c| *c as usize >= q.options.len()) {
                return Err(field_error(&format!("answers.{i}"), INVALID));
            }
            sheet.push(chosen);
        }
        if answers.answers.keys().any(|k| *k as usize >= quiz.questions.len()) {
            return Err(field_error("answers", INVALID));
        }
        let (score, passed) = quiz.mark(&sheet);
        let now = Utc::now();
        let inserted = sqlx::query(
            "insert into quiz_attempts (assignment_id, attempt, answers, score, passed, submitted_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.0)
        .bind(i64::from(attempt))
        .bind(serde_json::to_string(&answers.answers).unwrap_or_default())
        .bind(i64::from(score))
        .bind(passed)
        .bind(now)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            return Err(if super::base::is_unique_violation(&e) {
                StoreError::Conflict("This attempt was already marked; nothing was recorded.".into())
            } else {
                StoreError::Database(e)
            });
        }
        // Attempts come in rounds of `attempts_allowed`: a round failed sends the trainee back to
        // read the revision and sign again before the next round.
        let round_over = !passed && attempt % quiz.attempts_allowed.max(1) == 0 && a.revision_id.is_some();
        let (version,): (i64,) = sqlx::query_as(
            "update training_assignments set attempts_used = attempts_used + 1, version = version + 1, \
             updated_at = $2, \
             acknowledged_at = case when $3 then null else acknowledged_at end, \
             signature_id = case when $3 then null else signature_id end \
             where assignment_id = $1 returning version",
        )
        .bind(id.0)
        .bind(now)
        .bind(round_over)
        .fetch_one(&mut *tx)
        .await?;
        // The answers are kept with the attempt, not in the audit trail, which people who take
        // quizzes also read (a passing attempt's answers are the key).
        let mut after = serde_json::json!({ "quiz_attempt": attempt, "quiz_score": score, "quiz_passed": passed });
        if round_over {
            after["acknowledged_at"] = serde_json::Value::Null;
        }
        let changes = diff(&serde_json::Value::Null, &after);
        let draft = Draft {
            action: AuditAction::Update,
            record_type: "training_assignment",
            record_id: id.0,
            record_version: version,
            changes,
            reason: Some(match (passed, round_over) {
                (true, _) => "Quiz passed",
                (false, false) => "Quiz failed",
                (false, true) => "Quiz failed, last attempt of the round: read and sign again",
            }),
        };
        append_audit(&mut tx, ctx, draft).await?;
        if passed {
            complete(&mut tx, ctx, id.0, version, Some(score), None, now).await?;
        }
        let assignment = assignment_by_id(&mut tx, id.0, today)
            .await?
            .ok_or_else(|| StoreError::unreadable("training_assignment", id.0))?;
        tx.commit().await?;
        Ok(QuizResult {
            attempt,
            score,
            passed,
            attempts_left: if round_over || passed {
                0
            } else {
                quiz.attempts_allowed - attempt % quiz.attempts_allowed.max(1)
            },
            read_again: round_over,
            assignment,
        })
    }

    async fn sign_off(
        &self,
        ctx: &AuditContext,
        id: AssignmentId,
        trainer: UserId,
        today: NaiveDate,
    ) -> StoreResult<Assignment> {
        let mut tx = self.write_tx().await?;
        let a = assignment_by_id(&mut tx, id.0, today)
            .await?
            .ok_or_else(|| StoreError::NotFound("No such assignment.".into()))?;
        if a.state != AssignmentState::Open {
            return Err(StoreError::Retired("This assignment is already completed; nothing was recorded.".into()));
        }
        if !a.kind.trainer_completes() {
            return Err(StoreError::Retired(
                "The trainee completes this assignment themselves (read and sign, or the quiz).".into(),
            ));
        }
        if a.user_id == trainer {
            return Err(StoreError::Forbidden("Nobody signs off their own training; nothing was recorded.".into()));
        }
        if !qualified_trainer(&mut tx, trainer.0, a.requirement_id.0, today).await? {
            return Err(not_a_trainer());
        }
        complete(&mut tx, ctx, id.0, a.meta.version, None, Some(trainer.0), Utc::now()).await?;
        let after = assignment_by_id(&mut tx, id.0, today)
            .await?
            .ok_or_else(|| StoreError::unreadable("training_assignment", id.0))?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_records(
        &self,
        user: Option<UserId>,
        requirement: Option<RequirementId>,
    ) -> StoreResult<Vec<TrainingRecord>> {
        let sql = format!(
            "{RECORD_SELECT} where ($1 is null or t.user_id = $1) and ($2 is null or t.requirement_id = $2) \
             order by t.completed_at desc, t.record_id desc"
        );
        let rows: Vec<RecordRow> =
            sqlx::query_as(&sql).bind(user.map(|u| u.0)).bind(requirement.map(|r| r.0)).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn matrix(&self, today: NaiveDate) -> StoreResult<Matrix> {
        let facts = Facts::load_everyone(&self.pool).await?;
        let cells = facts.cells(today);
        Ok(Matrix {
            today,
            people: facts
                .people
                .iter()
                .map(|p| MatrixPerson {
                    id: UserId(p.id),
                    name: p.name.clone(),
                    department: p.department.clone(),
                    roles: p.roles.clone(),
                })
                .collect(),
            requirements: facts
                .requirements
                .iter()
                .map(|q| MatrixRequirement {
                    id: q.id,
                    title: q.title.clone(),
                    document_number: q.document_number.clone(),
                })
                .collect(),
            cells,
        })
    }

    async fn trained_on(
        &self,
        user: UserId,
        requirement: RequirementId,
        day: NaiveDate,
    ) -> StoreResult<Option<TrainedOn>> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!("{REQUIREMENT_SELECT} where q.requirement_id = $1");
        let row: Option<RequirementRow> = sqlx::query_as(&sql).bind(requirement.0).fetch_optional(&mut *conn).await?;
        let Some(q) = row.map(Requirement::try_from).transpose()? else { return Ok(None) };
        let name: Option<(String,)> = sqlx::query_as("select full_name from users where user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
        let Some((user_name,)) = name else { return Ok(None) };
        // Completions up to the end of that day, newest first.
        let end = day.and_hms_opt(23, 59, 59).map(|t| t.and_utc()).unwrap_or_else(Utc::now);
        let sql = format!(
            "{RECORD_SELECT} where t.user_id = $1 and t.requirement_id = $2 and t.completed_at <= $3 \
             order by t.completed_at desc, t.record_id desc"
        );
        let records: Vec<TrainingRecord> = sqlx::query_as::<_, RecordRow>(&sql)
            .bind(user.0)
            .bind(requirement.0)
            .bind(end)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        let lapsed = |r: &TrainingRecord| r.expires_on.is_some_and(|e| e <= day);
        let (trained, evidence, revision_in_force, explanation) = match q.document_id {
            None => {
                let current = records.iter().find(|r| !lapsed(r)).cloned();
                let why = match (&current, records.first()) {
                    (Some(r), _) => format!("Completed on {}.", r.completed_at.date_naive()),
                    (None, Some(r)) => format!("The completion of {} had lapsed by then.", r.completed_at.date_naive()),
                    (None, None) => "No completion by that day.".to_string(),
                };
                (current.is_some(), current.or_else(|| records.first().cloned()), None, why)
            }
            Some(doc) => {
                let revs: Vec<RevisionFactRow> = sqlx::query_as(
                    "select document_id, revision_id, seq, label, status, in_force_from, no_retraining, train_by \
                     from document_revisions where document_id = $1 and status in ('approved', 'effective', \
                     'superseded') \
                     order by seq",
                )
                .bind(doc.0)
                .fetch_all(&mut *conn)
                .await?;
                let facts: Vec<RevisionFacts> = revs.iter().map(RevisionFactRow::facts).collect();
                match in_force_on(&facts, day) {
                    None => (
                        false,
                        records.first().cloned(),
                        None,
                        "No revision of the document was in force that day.".to_string(),
                    ),
                    Some(seq) => {
                        let label = revs.iter().find(|r| count(r.seq) == seq).map(|r| r.label.clone());
                        let baseline = training_baseline(&facts, seq);
                        let seq_of = |r: &TrainingRecord| {
                            revs.iter().find(|v| Some(RevisionId(v.revision_id)) == r.revision_id).map(|v| count(v.seq))
                        };
                        let good =
                            records.iter().find(|r| seq_of(r).is_some_and(|s| s >= baseline) && !lapsed(r)).cloned();
                        let rev = label.clone().unwrap_or_default();
                        let why = match (&good, records.first()) {
                            (Some(r), _) => format!(
                                "Revision {rev} was in force; trained on revision {} on {}.",
                                r.revision_label.clone().unwrap_or_default(),
                                r.completed_at.date_naive()
                            ),
                            (None, Some(r)) => format!(
                                "Revision {rev} was in force; the last training by then was on revision {} ({}).",
                                r.revision_label.clone().unwrap_or_default(),
                                r.completed_at.date_naive()
                            ),
                            (None, None) => format!("Revision {rev} was in force; no training on it by that day."),
                        };
                        (good.is_some(), good.or_else(|| records.first().cloned()), label, why)
                    }
                }
            }
        };
        Ok(Some(TrainedOn {
            user_id: user,
            user_name,
            requirement_id: q.id,
            requirement_title: q.title,
            on: day,
            revision_in_force,
            trained,
            explanation,
            evidence,
        }))
    }

    async fn document_trainees(&self, document: DocumentId, today: NaiveDate) -> StoreResult<Vec<TraineeStatus>> {
        let mut conn = self.pool.acquire().await?;
        let facts = Facts::load(&mut conn, None, None).await?;
        let labels: BTreeMap<(i64, i64), String> = {
            let rows: Vec<(i64, i64, Option<String>)> = sqlx::query_as(
                "select t.user_id, t.requirement_id, v.label from training_records t \
                 left join document_revisions v on v.revision_id = t.revision_id \
                 where v.document_id = $1 order by t.completed_at, t.record_id",
            )
            .bind(document.0)
            .fetch_all(&mut *conn)
            .await?;
            rows.into_iter().filter_map(|(u, r, l)| Some(((u, r), l?))).collect()
        };
        let mut out = Vec::new();
        for q in facts.requirements.iter().filter(|q| q.document_id == Some(document)) {
            for p in &facts.people {
                if !facts.required(p).contains(&q.id) {
                    continue;
                }
                out.push(TraineeStatus {
                    user_id: UserId(p.id),
                    user_name: p.name.clone(),
                    requirement_id: q.id,
                    requirement_title: q.title.clone(),
                    status: facts.status(p, q, true, today),
                    completed_revision: labels.get(&(p.id, q.id.0)).cloned(),
                    due_on: facts.open.get(&(p.id, q.id.0)).copied(),
                });
            }
        }
        Ok(out)
    }

    async fn import_history(&self, ctx: &AuditContext, rows: &[HistoricTraining]) -> StoreResult<Vec<AssignmentId>> {
        let mut tx = self.write_tx().await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let (months,): (Option<i64>,) =
                sqlx::query_as("select recurrence_months from training_requirements where requirement_id = $1")
                    .bind(row.requirement.0)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| field_error("requirement_id", NOT_FOUND))?;
            let now = Utc::now();
            let state = if row.completed_at.is_some() { "completed" } else { "open" };
            let (id,): (i64,) = sqlx::query_as(
            "insert into training_assignments (user_id, requirement_id, revision_id, cause, cause_detail, assigned_on, \
             due_on, state, completed_at, created_at, updated_at) values ($1, $2, $3, 'person_changed', \
             'Imported training history', $4, $5, $6, $7, $8, $8) returning assignment_id",
        )
        .bind(row.user.0)
        .bind(row.requirement.0)
        .bind(row.revision.map(|r| r.0))
        .bind(row.assigned_on)
        .bind(row.due_on)
        .bind(state)
        .bind(row.completed_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if super::base::is_unique_violation(&e) {
                StoreError::Conflict("This person already has an open assignment of this requirement.".into())
            } else {
                StoreError::Database(e)
            }
        })?;
            let lapse = row.completed_at.and_then(|c| expires_on(c.date_naive(), months.map(count)));
            if let Some(completed_at) = row.completed_at {
                sqlx::query(
                    "insert into training_records (assignment_id, user_id, requirement_id, revision_id, completed_at, \
                 score, trainer_id, expires_on) values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(id)
                .bind(row.user.0)
                .bind(row.requirement.0)
                .bind(row.revision.map(|r| r.0))
                .bind(completed_at)
                .bind(row.score.map(i64::from))
                .bind(row.trainer.map(|t| t.0))
                .bind(lapse)
                .execute(&mut *tx)
                .await?;
            }
            let after = serde_json::json!({
                "user_id": row.user.0,
                "requirement_id": row.requirement.0,
                "revision_id": row.revision.map(|r| r.0),
                "assigned_on": row.assigned_on,
                "due_on": row.due_on,
                "state": state,
                "completed_at": row.completed_at,
                "score": row.score,
                "trainer_id": row.trainer.map(|t| t.0),
                "expires_on": lapse,
            });
            let draft = Draft {
                action: AuditAction::Create,
                record_type: "training_assignment",
                record_id: id,
                record_version: 1,
                changes: diff(&serde_json::Value::Null, &after),
                reason: Some("Imported training history"),
            };
            append_audit(&mut tx, ctx, draft).await?;
            ids.push(AssignmentId(id));
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn assign_refreshers(&self, ctx: &AuditContext, today: NaiveDate) -> StoreResult<usize> {
        // Most minutes nothing lapses: find out by reading, before taking the writer's turn.
        let mut conn = self.pool.acquire().await?;
        let ending = exemptions_ending(&mut conn, today).await?;
        let coming_due = due_soon_waiting(&mut conn, today).await?;
        let facts = Facts::load(&mut conn, None, None).await?;
        drop(conn);
        let due = facts.people.iter().any(|p| {
            let required = facts.required(p);
            facts.requirements.iter().filter(|q| required.contains(&q.id) && !facts.exempt(p.id, q, today)).any(|q| {
                let last = facts.completion(p.id, q);
                last.is_some_and(|c| c.on_current_revision && c.expires_on.is_some())
                    && assignment_due(facts.open.contains_key(&(p.id, q.id.0)), last, q.completion_days, None, today)
                        .is_some()
            })
        });
        if !due && !ending && !coming_due {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        let mut made = 0;
        if due {
            made += assign_missing(&mut tx, ctx, Scope::Refreshers, AssignmentCause::Recurrence, "", today).await?;
        }
        if ending {
            made += end_exemptions(&mut tx, ctx, today).await?;
        }
        // After the assignments above: one made due within the week is told so too.
        send_due_soon(&mut tx, ctx, today).await?;
        tx.commit().await?;
        Ok(made)
    }

    async fn training_team(&self, owner: UserId) -> StoreResult<Vec<UserId>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "select u.user_id from users u where u.retired_at is null and u.department_id in \
             (select p.department_id from processes p where p.owner_id = $1 and p.retired_at is null \
             and p.department_id is not null) order by u.user_id",
        )
        .bind(owner.0)
        .fetch_all(&self.pool)
        .await?;
        let mut team: Vec<UserId> = rows.into_iter().map(|(u,)| UserId(u)).collect();
        if !team.contains(&owner) {
            team.push(owner);
        }
        Ok(team)
    }

    async fn create_class_session(
        &self,
        ctx: &AuditContext,
        trainer: UserId,
        input: &ClassSessionInput,
        today: NaiveDate,
    ) -> StoreResult<ClassSession> {
        self.record_session(ctx, trainer, input, today).await
    }

    async fn list_class_sessions(&self, requirement: Option<RequirementId>) -> StoreResult<Vec<ClassSession>> {
        self.sessions(requirement).await
    }

    async fn get_class_session(&self, id: ClassSessionId) -> StoreResult<Option<ClassSession>> {
        self.session(id).await
    }

    async fn list_exemptions(
        &self,
        user: Option<UserId>,
        requirement: Option<RequirementId>,
        active: Option<bool>,
        today: NaiveDate,
    ) -> StoreResult<Vec<Exemption>> {
        self.exemptions(user, requirement, active, today).await
    }

    async fn create_exemption(
        &self,
        ctx: &AuditContext,
        input: &ExemptionInput,
        today: NaiveDate,
    ) -> StoreResult<Exemption> {
        self.grant_exemption(ctx, input, today).await
    }

    async fn revoke_exemption(
        &self,
        ctx: &AuditContext,
        id: ExemptionId,
        reason: &str,
        today: NaiveDate,
    ) -> StoreResult<Exemption> {
        self.revoke(ctx, id, reason, today).await
    }
}
