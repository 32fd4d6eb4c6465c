//! Training and competency's rules (domain/training.md; ISO 9001:2015 7.2, ISO 13485:2016 6.2,
//! 21 CFR 820.25): requirements and curricula, who must be trained on what, the seven statuses of
//! a matrix cell, when an assignment is due, how a quiz is marked, and whether a person was
//! trained on the revision in force on a given day.
//!
//! The storage, API and pages of training build on this module; nothing here does I/O.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::auth::{Role, UserId};
use crate::document::{DocumentId, RevisionId};
use crate::org::{DepartmentId, Record, RecordMeta, id_type};
use crate::validation::{self, INVALID, REQUIRED};

mod exemption;
mod quiz;
#[cfg(test)]
mod tests;

pub use exemption::{
    Attendee, ClassSession, ClassSessionId, ClassSessionInput, EXEMPTION_REASON_MAX, Exemption, ExemptionId,
    ExemptionInput, RevokeInput, SESSION_NOTES_MAX, exemption_active,
};
pub use quiz::{Question, Quiz, QuizAnswers, QuizQuestion, QuizResult, QuizSheet};

id_type!(
    /// Identifies a training requirement; never reused.
    RequirementId
);
id_type!(
    /// Identifies one assignment of a requirement to a person; never reused.
    AssignmentId
);

/// An assignment due within this many days is "due soon".
pub const DUE_SOON_DAYS: i64 = 7;
/// The completion rate each department should reach (kpi.md: training completion > 95 %).
pub const COMPLETION_TARGET_PERCENT: f64 = 95.0;
/// Longest requirement title, in characters.
pub const TITLE_MAX: usize = 200;

/// How a requirement is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    /// Read a document's revision and sign "read and understood" (follows its revisions).
    ReadAndUnderstand,
    /// Pass a quiz (optionally on a document, which is then read and signed first).
    Quiz,
    /// Attend a classroom session; the trainer records attendance.
    Classroom,
    /// Be signed off on the job by a qualified trainer.
    OnTheJob,
}

impl RequirementKind {
    /// Every kind.
    pub const ALL: [RequirementKind; 4] = [
        RequirementKind::ReadAndUnderstand,
        RequirementKind::Quiz,
        RequirementKind::Classroom,
        RequirementKind::OnTheJob,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementKind::ReadAndUnderstand => "read_and_understand",
            RequirementKind::Quiz => "quiz",
            RequirementKind::Classroom => "classroom",
            RequirementKind::OnTheJob => "on_the_job",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            RequirementKind::ReadAndUnderstand => "Read and understand",
            RequirementKind::Quiz => "Quiz",
            RequirementKind::Classroom => "Classroom session",
            RequirementKind::OnTheJob => "On-the-job sign-off",
        }
    }

    /// Whether a trainer, not the trainee, completes it.
    pub fn trainer_completes(self) -> bool {
        matches!(self, RequirementKind::Classroom | RequirementKind::OnTheJob)
    }
}

/// What must be trained on, how, and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Requirement {
    /// Its id.
    pub id: RequirementId,
    /// Title.
    pub title: String,
    /// How it is met.
    pub kind: RequirementKind,
    /// The document read (read-and-understand; optional for a quiz).
    pub document_id: Option<DocumentId>,
    /// That document's number, for display.
    pub document_number: Option<String>,
    /// How many questions its quiz has (0: no quiz).
    pub questions: u32,
    /// The quiz's pass mark in percent.
    pub pass_mark: u32,
    /// The quiz's attempts per assignment.
    pub attempts_allowed: u32,
    /// Months after completion when it must be done again (none: once).
    pub recurrence_months: Option<u32>,
    /// Days from assignment to the due date.
    pub completion_days: u32,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Record for Requirement {
    const RECORD_TYPE: &'static str = "training_requirement";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// Create a requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequirementInput {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// How it is met.
    pub kind: RequirementKind,
    /// The document read (required for read-and-understand).
    #[serde(default)]
    pub document_id: Option<DocumentId>,
    /// The quiz (required for a quiz).
    #[serde(default)]
    pub quiz: Option<Quiz>,
    /// Months after completion when it must be done again.
    #[serde(default)]
    pub recurrence_months: Option<u32>,
    /// Days from assignment to the due date.
    pub completion_days: u32,
}

impl RequirementInput {
    /// Trims the text.
    pub fn normalized(mut self) -> Self {
        self.title = self.title.trim().to_string();
        if let Some(q) = &mut self.quiz {
            for question in &mut q.questions {
                question.text = question.text.trim().to_string();
                question.options = question.options.iter().map(|o| o.trim().to_string()).collect();
            }
        }
        self
    }

    /// The rules of a requirement; the document's existence is the server's to check.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "title", &self.title, true, TITLE_MAX);
        match self.kind {
            RequirementKind::ReadAndUnderstand if self.document_id.is_none() => e.add("document_id", REQUIRED),
            RequirementKind::Quiz if self.quiz.is_none() => e.add("quiz", REQUIRED),
            RequirementKind::Classroom | RequirementKind::OnTheJob if self.quiz.is_some() => e.add("quiz", INVALID),
            _ => {}
        }
        if let Some(q) = &self.quiz {
            q.check(&mut e);
        }
        if self.recurrence_months.is_some_and(|m| !(1..=120).contains(&m)) {
            e.add("recurrence_months", INVALID);
        }
        if !(1..=365).contains(&self.completion_days) {
            e.add("completion_days", INVALID);
        }
        e.into_result()
    }
}

/// One line of a curriculum: everyone holding `role`, or everyone in `department`, must meet
/// the requirement. A person's requirements are the union of the lines that match them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CurriculumLine {
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Everyone with this role…
    #[serde(default)]
    pub role: Option<Role>,
    /// …or everyone in this department (exactly one of the two).
    #[serde(default)]
    pub department_id: Option<DepartmentId>,
}

impl CurriculumLine {
    /// Exactly one of role and department.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        match (self.role, self.department_id) {
            (None, None) => e.add("role", REQUIRED),
            (Some(_), Some(_)) => e.add("department_id", INVALID),
            _ => {}
        }
        e.into_result()
    }

    /// Whether this line applies to someone with `roles` in `department`.
    pub fn applies(&self, roles: &[Role], department: Option<DepartmentId>) -> bool {
        self.role.is_some_and(|r| roles.contains(&r))
            || (self.department_id.is_some() && self.department_id == department)
    }
}

/// A curriculum line as stored, with names for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CurriculumEntry {
    /// Its id.
    pub id: i64,
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Its title.
    pub requirement_title: String,
    /// The role it applies to.
    pub role: Option<Role>,
    /// The department it applies to.
    pub department_id: Option<DepartmentId>,
    /// That department's name.
    pub department_name: Option<String>,
}

/// The requirements a person with `roles` in `department` must meet: the union of the lines
/// that apply to them.
pub fn required_of(
    lines: &[CurriculumLine],
    roles: &[Role],
    department: Option<DepartmentId>,
) -> BTreeSet<RequirementId> {
    lines.iter().filter(|l| l.applies(roles, department)).map(|l| l.requirement_id).collect()
}

/// Why an assignment exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssignmentCause {
    /// A new revision of the document was approved.
    RevisionApproved,
    /// The person joined, or got a new role or department.
    PersonChanged,
    /// The requirement was added to a curriculum that applies to the person.
    CurriculumChanged,
    /// The last completion is about to lapse (a recurring requirement).
    Recurrence,
    /// The person's exemption was revoked or ran out.
    ExemptionEnded,
}

impl AssignmentCause {
    /// Every cause.
    pub const ALL: [AssignmentCause; 5] = [
        AssignmentCause::RevisionApproved,
        AssignmentCause::PersonChanged,
        AssignmentCause::CurriculumChanged,
        AssignmentCause::Recurrence,
        AssignmentCause::ExemptionEnded,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentCause::RevisionApproved => "revision_approved",
            AssignmentCause::PersonChanged => "person_changed",
            AssignmentCause::CurriculumChanged => "curriculum_changed",
            AssignmentCause::Recurrence => "recurrence",
            AssignmentCause::ExemptionEnded => "exemption_ended",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            AssignmentCause::RevisionApproved => "New revision approved",
            AssignmentCause::PersonChanged => "Joined, or new role or department",
            AssignmentCause::CurriculumChanged => "Added to a curriculum",
            AssignmentCause::Recurrence => "Periodic refresher",
            AssignmentCause::ExemptionEnded => "Exemption ended",
        }
    }
}

/// Where an assignment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    /// To do.
    Open,
    /// Done: a training record exists.
    Completed,
    /// No longer required: the person changed role or department, or left.
    Cancelled,
}

impl AssignmentState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentState::Open => "open",
            AssignmentState::Completed => "completed",
            AssignmentState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [AssignmentState::Open, AssignmentState::Completed, AssignmentState::Cancelled]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A requirement assigned to a person, with what is left to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Assignment {
    /// Its id.
    pub id: AssignmentId,
    /// The trainee.
    pub user_id: UserId,
    /// The trainee's printed name.
    pub user_name: String,
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Its title.
    pub requirement_title: String,
    /// How it is met.
    pub kind: RequirementKind,
    /// The document to read, if any.
    pub document_id: Option<DocumentId>,
    /// Its number.
    pub document_number: Option<String>,
    /// The revision to read (the newest approved one when assigned).
    pub revision_id: Option<RevisionId>,
    /// Its label.
    pub revision_label: Option<String>,
    /// Why it exists.
    pub cause: AssignmentCause,
    /// The cause in words (e.g. "SOP-0001 revision C approved").
    pub cause_detail: String,
    /// When it was assigned.
    pub assigned_on: NaiveDate,
    /// When it is due.
    pub due_on: NaiveDate,
    /// Open, completed or cancelled.
    pub state: AssignmentState,
    /// When the trainee signed "read and understood" for it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// How many questions the quiz has (0: none).
    pub questions: u32,
    /// Quiz attempts used.
    pub attempts_used: u32,
    /// Quiz attempts allowed.
    pub attempts_allowed: u32,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its status today, as in the matrix.
    pub status: CellStatus,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Record for Assignment {
    const RECORD_TYPE: &'static str = "training_assignment";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

impl Assignment {
    /// The assignment as a line of a work list (My work, overdue work); `with_name` puts the
    /// trainee's name before the title, for lists of everyone's work.
    pub fn work_item(&self, with_name: bool) -> crate::register::WorkItem {
        crate::register::WorkItem {
            kind: "Training".into(),
            record_type: <Self as Record>::RECORD_TYPE.into(),
            record_id: self.id.0,
            // Training without a document (a classroom session) has no reference.
            reference: self.document_number.clone().unwrap_or_else(|| "—".into()),
            title: if with_name {
                format!("{}: {}", self.user_name, self.requirement_title)
            } else {
                self.requirement_title.clone()
            },
            due: self.due_on,
            overdue: self.status == CellStatus::Overdue,
        }
    }

    /// What the trainee still has to do, in order.
    pub fn next_step(&self) -> Option<Step> {
        if self.state != AssignmentState::Open {
            return None;
        }
        if self.kind.trainer_completes() {
            return Some(Step::Trainer);
        }
        if self.revision_id.is_some() && self.acknowledged_at.is_none() {
            return Some(Step::Acknowledge);
        }
        if self.questions > 0 {
            return Some(Step::Quiz);
        }
        None
    }
}

/// The trainee's next step on an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Read the revision and sign "read and understood".
    Acknowledge,
    /// Take the quiz.
    Quiz,
    /// A qualified trainer signs it off.
    Trainer,
}

/// A completion: the evidence that a person met a requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TrainingRecord {
    /// Its id.
    pub id: i64,
    /// The assignment it completed.
    pub assignment_id: AssignmentId,
    /// The person trained.
    pub user_id: UserId,
    /// Their printed name.
    pub user_name: String,
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Its title.
    pub requirement_title: String,
    /// The revision trained on.
    pub revision_id: Option<RevisionId>,
    /// Its label.
    pub revision_label: Option<String>,
    /// The document's number.
    pub document_number: Option<String>,
    /// When it was completed.
    pub completed_at: DateTime<Utc>,
    /// The "read and understood" signature.
    pub signature_id: Option<i64>,
    /// The passing quiz score in percent.
    pub score: Option<u32>,
    /// The trainer who signed it off.
    pub trainer_name: Option<String>,
    /// When it lapses (recurring requirements).
    pub expires_on: Option<NaiveDate>,
}

/// The status of one cell of the training matrix (domain/training.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// No curriculum of the person holds the requirement.
    NotRequired,
    /// Assigned, not yet due soon.
    Assigned,
    /// Due within [`DUE_SOON_DAYS`].
    DueSoon,
    /// Past its due date.
    Overdue,
    /// Completed on the current revision, not lapsed.
    Completed,
    /// Completed once, but the recurrence lapsed.
    Expired,
    /// Completed on an older revision; the new one is not done yet.
    Superseded,
    /// Required, but the person is exempted (it counts as not required).
    Exempt,
}

impl CellStatus {
    /// Every status.
    pub const ALL: [CellStatus; 8] = [
        CellStatus::NotRequired,
        CellStatus::Assigned,
        CellStatus::DueSoon,
        CellStatus::Overdue,
        CellStatus::Completed,
        CellStatus::Expired,
        CellStatus::Superseded,
        CellStatus::Exempt,
    ];

    /// The one-letter code of the compact matrix encoding.
    pub fn code(self) -> char {
        match self {
            CellStatus::NotRequired => '-',
            CellStatus::Assigned => 'a',
            CellStatus::DueSoon => 's',
            CellStatus::Overdue => 'o',
            CellStatus::Completed => 'c',
            CellStatus::Expired => 'e',
            CellStatus::Superseded => 'x',
            CellStatus::Exempt => 'n',
        }
    }

    /// From its one-letter code.
    pub fn from_code(c: char) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == c)
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            CellStatus::NotRequired => "Not required",
            CellStatus::Assigned => "Assigned",
            CellStatus::DueSoon => "Due soon",
            CellStatus::Overdue => "Overdue",
            CellStatus::Completed => "Completed",
            CellStatus::Expired => "Expired",
            CellStatus::Superseded => "Superseded",
            CellStatus::Exempt => "Exempt",
        }
    }

    /// A symbol that tells the status without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            CellStatus::NotRequired => "·",
            CellStatus::Assigned => "○",
            CellStatus::DueSoon => "◔",
            CellStatus::Overdue => "!",
            CellStatus::Completed => "✓",
            CellStatus::Expired => "×",
            CellStatus::Superseded => "↻",
            CellStatus::Exempt => "⊘",
        }
    }

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CellStatus::NotRequired => "not_required",
            CellStatus::Assigned => "assigned",
            CellStatus::DueSoon => "due_soon",
            CellStatus::Overdue => "overdue",
            CellStatus::Completed => "completed",
            CellStatus::Expired => "expired",
            CellStatus::Superseded => "superseded",
            CellStatus::Exempt => "exempt",
        }
    }

    /// Whether the person counts as trained (for the completion rate).
    pub fn is_current(self) -> bool {
        self == CellStatus::Completed
    }

    /// Whether the cell counts in the completion rate (required, and not exempted).
    pub fn counts_as_required(self) -> bool {
        !matches!(self, CellStatus::NotRequired | CellStatus::Exempt)
    }

    /// Parses a wire name ([`Self::as_str`]).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A person's last completion of a requirement, as far as the status needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// Whether it was on the revision the requirement now asks for (or one that a later
    /// "no retraining" revision kept valid); always true without a document.
    pub on_current_revision: bool,
    /// When it lapses, for a recurring requirement.
    pub expires_on: Option<NaiveDate>,
}

impl Completion {
    /// Whether it still counts on `today`.
    pub fn is_current(&self, today: NaiveDate) -> bool {
        self.on_current_revision && self.expires_on.is_none_or(|d| d > today)
    }
}

/// The status of a cell on `today`: whether the person's curricula hold the requirement,
/// the due date of their open assignment, and their last completion. The one function the
/// matrix, My training, the reports and the dashboard use.
pub fn cell_status(
    required: bool,
    open_due: Option<NaiveDate>,
    last: Option<Completion>,
    today: NaiveDate,
) -> CellStatus {
    cell_status_exempt(required, false, open_due, last, today)
}

/// [`cell_status`] for a person who may hold an active exemption: a required cell of an
/// exempted person is "Exempt", whatever was done before (it counts as not required).
pub fn cell_status_exempt(
    required: bool,
    exempt: bool,
    open_due: Option<NaiveDate>,
    last: Option<Completion>,
    today: NaiveDate,
) -> CellStatus {
    if !required {
        return CellStatus::NotRequired;
    }
    if exempt {
        return CellStatus::Exempt;
    }
    if let Some(c) = last
        && c.is_current(today)
    {
        return CellStatus::Completed;
    }
    if open_due.is_some_and(|d| d < today) {
        return CellStatus::Overdue;
    }
    match last {
        Some(c) if !c.on_current_revision => return CellStatus::Superseded,
        Some(_) => return CellStatus::Expired,
        None => {}
    }
    match open_due {
        Some(d) if (d - today).num_days() <= DUE_SOON_DAYS => CellStatus::DueSoon,
        _ => CellStatus::Assigned,
    }
}

/// When a person who must meet a requirement needs a new assignment, its due date: never while
/// one is open; when they have no current completion (`completion_days` from today, or the
/// train-by date a new revision carries); and for a recurring requirement, `completion_days`
/// before the completion lapses, due on its last valid day, so that the refresher is on time.
pub fn assignment_due(
    has_open: bool,
    last: Option<Completion>,
    completion_days: u32,
    train_by: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    if has_open {
        return None;
    }
    let fresh = || train_by.filter(|d| *d >= today).unwrap_or(today + Duration::days(i64::from(completion_days)));
    match last {
        None => Some(fresh()),
        Some(c) if !c.on_current_revision => Some(fresh()),
        Some(Completion { expires_on: Some(lapse), .. }) => {
            // Due on the last day the completion still counts (it lapses on `lapse`).
            let last_day = lapse - Duration::days(1);
            (lapse - Duration::days(i64::from(completion_days)) <= today).then_some(last_day.max(today))
        }
        Some(_) => None,
    }
}

/// When a completion on `completed` lapses, for a requirement recurring every `months`.
pub fn expires_on(completed: NaiveDate, months: Option<u32>) -> Option<NaiveDate> {
    months.and_then(|m| completed.checked_add_months(Months::new(m)))
}

/// One revision of a document as the training rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevisionFacts {
    /// Its sequence number.
    pub seq: u32,
    /// The day it took effect (none: not yet, or never).
    pub effective_from: Option<NaiveDate>,
    /// Whether it was approved as not needing retraining.
    pub no_retraining: bool,
}

/// The sequence number from which completions count, given a document's revisions up to the
/// one in question (`upto`): the newest one at or below it that needed retraining.
pub fn training_baseline(revisions: &[RevisionFacts], upto: u32) -> u32 {
    revisions.iter().filter(|r| r.seq <= upto && !r.no_retraining).map(|r| r.seq).max().unwrap_or(upto)
}

/// The revision in force on `day`: the newest that had taken effect by then.
pub fn in_force_on(revisions: &[RevisionFacts], day: NaiveDate) -> Option<u32> {
    revisions.iter().filter(|r| r.effective_from.is_some_and(|d| d <= day)).map(|r| r.seq).max()
}

/// The answer to "was this person trained on the revision in force on that day?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TrainedOn {
    /// The person.
    pub user_id: UserId,
    /// Their printed name.
    pub user_name: String,
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Its title.
    pub requirement_title: String,
    /// The day asked about.
    pub on: NaiveDate,
    /// The label of the revision in force that day, for a document requirement.
    pub revision_in_force: Option<String>,
    /// The answer.
    pub trained: bool,
    /// Why, in words.
    pub explanation: String,
    /// The completion that answers yes (or the latest one before the day, when no).
    pub evidence: Option<TrainingRecord>,
}

/// One person's standing on one requirement, for a document's "who is trained" list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TraineeStatus {
    /// The person.
    pub user_id: UserId,
    /// Their printed name.
    pub user_name: String,
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Its title.
    pub requirement_title: String,
    /// Their status today.
    pub status: CellStatus,
    /// The label of the revision they last completed, if any.
    pub completed_revision: Option<String>,
    /// When their open assignment is due.
    pub due_on: Option<NaiveDate>,
}

/// The training matrix, compactly: people × requirements, with one status letter per cell
/// ([`CellStatus::code`]), row by row (`cells[p * requirements.len() + r]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Matrix {
    /// The day the statuses are for.
    pub today: NaiveDate,
    /// The rows.
    pub people: Vec<MatrixPerson>,
    /// The columns.
    pub requirements: Vec<MatrixRequirement>,
    /// One letter per cell, row by row.
    pub cells: String,
}

impl Matrix {
    /// The status of a cell.
    pub fn cell(&self, person: usize, requirement: usize) -> CellStatus {
        self.cells
            .as_bytes()
            .get(person * self.requirements.len() + requirement)
            .and_then(|b| CellStatus::from_code(*b as char))
            .unwrap_or(CellStatus::NotRequired)
    }

    /// Completion rate per department: (department name, required cells, completed cells).
    pub fn completion_by_department(&self) -> Vec<DepartmentCompletion> {
        let mut out: Vec<DepartmentCompletion> = Vec::new();
        for (p, person) in self.people.iter().enumerate() {
            let name = person.department.clone().unwrap_or_else(|| "(no department)".into());
            let i = match out.iter().position(|d| d.department == name) {
                Some(i) => i,
                None => {
                    out.push(DepartmentCompletion { department: name, required: 0, completed: 0, percent: 0.0 });
                    out.len() - 1
                }
            };
            for r in 0..self.requirements.len() {
                let s = self.cell(p, r);
                if s.counts_as_required() {
                    out[i].required += 1;
                    out[i].completed += u32::from(s.is_current());
                }
            }
        }
        for d in &mut out {
            d.percent = completion_percent(d.completed, d.required);
        }
        out.sort_by(|a, b| a.department.cmp(&b.department));
        out
    }
}

/// The filters of the matrix and its exports (all optional; empty means none): a department
/// (by name), a role, one requirement (its column only), a status (people with at least one
/// such cell among the columns kept, by [`CellStatus::as_str`]) and part of a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
pub struct MatrixFilter {
    /// Only people of this department (its name).
    #[serde(default)]
    pub department: Option<String>,
    /// Only people holding this role (e.g. `staff`).
    #[serde(default)]
    pub role: Option<String>,
    /// Only this requirement's column.
    #[serde(default)]
    pub requirement_id: Option<i64>,
    /// Only people with a cell of this status (e.g. `overdue`).
    #[serde(default)]
    pub status: Option<String>,
    /// Only people whose name contains this (any case).
    #[serde(default)]
    pub q: Option<String>,
}

impl MatrixFilter {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// An unknown role or status is named.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if Self::given(&self.role).is_some_and(|r| Role::parse(r).is_none()) {
            e.add("role", INVALID);
        }
        if Self::given(&self.status).is_some_and(|s| CellStatus::parse(s).is_none()) {
            e.add("status", INVALID);
        }
        e.into_result()
    }
}

impl Matrix {
    /// The rows `keep` allows (a reader's scope) that pass `filter`, and the columns it keeps.
    pub fn select(&self, keep: impl Fn(&MatrixPerson) -> bool, filter: &MatrixFilter) -> Matrix {
        let cols: Vec<usize> = (0..self.requirements.len())
            .filter(|r| filter.requirement_id.is_none_or(|id| self.requirements[*r].id.0 == id))
            .collect();
        let department = MatrixFilter::given(&filter.department);
        let role = MatrixFilter::given(&filter.role).and_then(Role::parse);
        let status = MatrixFilter::given(&filter.status).and_then(CellStatus::parse);
        let name = MatrixFilter::given(&filter.q).map(str::to_lowercase);
        let width = self.requirements.len();
        let bytes = self.cells.as_bytes();
        let mut people = Vec::new();
        let mut cells = String::new();
        for (p, person) in self.people.iter().enumerate() {
            let row = &bytes[(p * width).min(bytes.len())..((p + 1) * width).min(bytes.len())];
            let code = |r: usize| row.get(r).map_or('-', |b| *b as char);
            let wanted = keep(person)
                && department.is_none_or(|d| person.department.as_deref() == Some(d))
                && role.is_none_or(|r| person.roles.contains(&r))
                && name.as_deref().is_none_or(|n| person.name.to_lowercase().contains(n))
                && status.is_none_or(|s| cols.iter().any(|r| code(*r) == s.code()));
            if wanted {
                people.push(person.clone());
                cells.extend(cols.iter().map(|r| code(*r)));
            }
        }
        Matrix {
            today: self.today,
            people,
            requirements: cols.iter().map(|r| self.requirements[*r].clone()).collect(),
            cells,
        }
    }
}

/// Completed of required, in percent (100 when nothing is required).
pub fn completion_percent(completed: u32, required: u32) -> f64 {
    if required == 0 { 100.0 } else { f64::from(completed) * 100.0 / f64::from(required) }
}

/// A row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MatrixPerson {
    /// The person.
    pub id: UserId,
    /// Printed name.
    pub name: String,
    /// Department name.
    pub department: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
}

/// A column of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MatrixRequirement {
    /// The requirement.
    pub id: RequirementId,
    /// Title.
    pub title: String,
    /// The document's number, if any.
    pub document_number: Option<String>,
}

/// A department's completion rate against the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DepartmentCompletion {
    /// The department.
    pub department: String,
    /// Cells where training is required.
    pub required: u32,
    /// Of those, completed and current.
    pub completed: u32,
    /// Completed of required, in percent.
    pub percent: f64,
}
