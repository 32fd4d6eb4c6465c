//! Storage of training and competency: requirements, curricula, assignments made in the same
//! transaction as their cause, quiz attempts and training records, with the statuses of
//! [`shared::training`]. The trait; the queries are in `queries/training.rs`.

use async_trait::async_trait;
use chrono::NaiveDate;
use shared::auth::UserId;
use shared::document::DocumentId;
use shared::training::{
    Assignment, AssignmentId, ClassSession, ClassSessionId, ClassSessionInput, CurriculumEntry, CurriculumLine,
    Exemption, ExemptionId, ExemptionInput, Matrix, QuizAnswers, QuizResult, QuizSheet, Requirement, RequirementId,
    RequirementInput, TrainedOn, TraineeStatus, TrainingRecord,
};

use super::{AuditContext, StoreResult};

/// One line of training history to import.
#[derive(Debug, Clone)]
pub struct HistoricTraining {
    /// The person.
    pub user: UserId,
    /// The requirement.
    pub requirement: RequirementId,
    /// The revision trained on, for a document requirement.
    pub revision: Option<shared::document::RevisionId>,
    /// When it was assigned.
    pub assigned_on: NaiveDate,
    /// When it was due.
    pub due_on: NaiveDate,
    /// When it was completed (none: still open).
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The quiz score.
    pub score: Option<u32>,
    /// The trainer who signed it off.
    pub trainer: Option<UserId>,
}

/// Training queries.
#[async_trait]
pub trait TrainingStore: Send + Sync + 'static {
    /// Creates a requirement (with its quiz and answer key).
    async fn create_requirement(&self, ctx: &AuditContext, input: &RequirementInput) -> StoreResult<Requirement>;
    /// Every active requirement, by title.
    async fn list_requirements(&self) -> StoreResult<Vec<Requirement>>;
    /// Adds a line to the curricula and, in the same transaction, assigns the requirement to
    /// everyone it now applies to who is not trained.
    async fn add_curriculum_line(&self, ctx: &AuditContext, line: &CurriculumLine) -> StoreResult<CurriculumEntry>;
    /// Every active curriculum line.
    async fn list_curriculum(&self) -> StoreResult<Vec<CurriculumEntry>>;
    /// Assignments, newest first: one person's, or everyone's; open ones only when asked.
    async fn list_assignments(
        &self,
        user: Option<UserId>,
        open_only: bool,
        today: NaiveDate,
    ) -> StoreResult<Vec<Assignment>>;
    /// Open assignments of active people past their due date, oldest first.
    async fn overdue_assignments(&self, today: NaiveDate) -> StoreResult<Vec<Assignment>>;
    /// How many of those there are.
    async fn count_overdue_assignments(&self, today: NaiveDate) -> StoreResult<usize>;
    /// One assignment.
    async fn get_assignment(&self, id: AssignmentId, today: NaiveDate) -> StoreResult<Option<Assignment>>;
    /// The quiz of an open assignment for its next attempt, without the answer key; `None`
    /// when the assignment has no quiz.
    async fn quiz_sheet(&self, id: AssignmentId) -> StoreResult<Option<QuizSheet>>;
    /// Marks an attempt of the context's user on their own assignment (after the revision is
    /// acknowledged); a pass completes the assignment.
    async fn submit_quiz(
        &self,
        ctx: &AuditContext,
        id: AssignmentId,
        trainee: UserId,
        answers: &QuizAnswers,
        today: NaiveDate,
    ) -> StoreResult<QuizResult>;
    /// A qualified trainer (someone currently trained on the requirement, never the trainee)
    /// signs off a classroom or on-the-job assignment.
    async fn sign_off(
        &self,
        ctx: &AuditContext,
        id: AssignmentId,
        trainer: UserId,
        today: NaiveDate,
    ) -> StoreResult<Assignment>;
    /// Training records, newest first: one person's and/or one requirement's.
    async fn list_records(
        &self,
        user: Option<UserId>,
        requirement: Option<RequirementId>,
    ) -> StoreResult<Vec<TrainingRecord>>;
    /// The training matrix on `today`.
    async fn matrix(&self, today: NaiveDate) -> StoreResult<Matrix>;
    /// Was `user` trained for `requirement` on the revision in force on `day`?
    async fn trained_on(
        &self,
        user: UserId,
        requirement: RequirementId,
        day: NaiveDate,
    ) -> StoreResult<Option<TrainedOn>>;
    /// Everyone who must be trained on a document, and where they stand on `today`.
    async fn document_trainees(&self, document: DocumentId, today: NaiveDate) -> StoreResult<Vec<TraineeStatus>>;
    /// Records training done before Caliper (a spreadsheet matrix, a paper record), all rows in
    /// one transaction: for each, an assignment with its historic dates and, when completed, its
    /// record; audited as imported.
    async fn import_history(&self, ctx: &AuditContext, rows: &[HistoricTraining]) -> StoreResult<Vec<AssignmentId>>;
    /// Assigns the refreshers of recurring requirements that lapse soon, ends the exemptions whose
    /// last day passed (assigning their people again) and tells people of open assignments that
    /// came due soon (run at start and every minute, so a lapse is picked up on time, also after
    /// downtime); returns how many assignments it made.
    async fn assign_refreshers(&self, ctx: &AuditContext, today: NaiveDate) -> StoreResult<usize>;
    /// Whose training a process owner reads: the active people of the departments that run an
    /// active process `owner` owns, and `owner`.
    async fn training_team(&self, owner: UserId) -> StoreResult<Vec<UserId>>;
    /// Records a classroom session held by `trainer` (a qualified trainer, not on the list) and
    /// completes each attendee's open assignment of the requirement with a training record
    /// (trainer, completed on the day held), all in one transaction, audited; a problem with any
    /// attendee refuses the whole list, naming them.
    async fn create_class_session(
        &self,
        ctx: &AuditContext,
        trainer: UserId,
        input: &ClassSessionInput,
        today: NaiveDate,
    ) -> StoreResult<ClassSession>;
    /// Classroom sessions, newest first (one requirement's, when given).
    async fn list_class_sessions(&self, requirement: Option<RequirementId>) -> StoreResult<Vec<ClassSession>>;
    /// One classroom session.
    async fn get_class_session(&self, id: ClassSessionId) -> StoreResult<Option<ClassSession>>;
    /// Exemptions, newest first: one person's and/or one requirement's; only those in force on
    /// `today` (or only the others) when `active` is given.
    async fn list_exemptions(
        &self,
        user: Option<UserId>,
        requirement: Option<RequirementId>,
        active: Option<bool>,
        today: NaiveDate,
    ) -> StoreResult<Vec<Exemption>>;
    /// Exempts a person from a requirement (unknown or retired person or requirement: field
    /// errors; one in force already: conflict) and cancels their open assignments of it, in one
    /// transaction, audited.
    async fn create_exemption(
        &self,
        ctx: &AuditContext,
        input: &ExemptionInput,
        today: NaiveDate,
    ) -> StoreResult<Exemption>;
    /// Revokes an exemption in force, with a reason, and assigns the person the requirement again
    /// when their curricula hold it and they are not current (same transaction), audited.
    async fn revoke_exemption(
        &self,
        ctx: &AuditContext,
        id: ExemptionId,
        reason: &str,
        today: NaiveDate,
    ) -> StoreResult<Exemption>;
}
