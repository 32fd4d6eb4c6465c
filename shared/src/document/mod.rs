//! Document control's rules (domain/documents.md; ISO 9001:2015 7.5, ISO 13485:2016 4.2.4):
//! document types and their numbers, revision labels, the one revision workflow the server
//! enforces and the app asks for its buttons, input validation, review and retention dates,
//! the hash a signature binds.
//!
//! The storage, API and pages of document control build on this module; nothing here does I/O.
//! The line diff between two revisions is in [`diff`]; search's query words and snippets in
//! [`search`].

mod diff;
mod file;
mod markdown;
mod notice;
mod register;
mod review;
mod search;

pub use diff::{DiffLine, RevisionDiff, diff_lines};
pub use file::{
    FILE_CONTENT_MISMATCH, FILE_MAX_BYTES, FILE_NAME_MAX, FILE_NOT_UTF8, FILE_TYPE_UNSUPPORTED, MEDIA_TYPES,
    RevisionFile, check_file, check_file_name, content_disposition, describe as describe_file_error,
};
pub use markdown::RenderedText;
pub use notice::{Notice, NoticeKind, NoticeSettings, UnreadCount};
pub use register::{
    CSV_HEADER, DocumentFilter, DocumentListQuery, DocumentPage, DocumentSort, DocumentStatus, PAGE_MAX,
    TEXT_FILTER_MAX,
};
pub use review::{PeriodicReviewInput, ReviewOutcome};
pub use search::{
    DocumentHit, LIMIT_DEFAULT as SEARCH_LIMIT_DEFAULT, LIMIT_MAX as SEARCH_LIMIT_MAX, QUERY_MAX, SnippetPart,
    search_terms, snippet,
};

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::FieldErrors;
use crate::auth::{Role, UserId};
use crate::org::{DepartmentId, ProcessId, Record, RecordMeta, id_type};
use crate::validation::{self, INVALID, REQUIRED};

id_type!(
    /// Identifies a controlled document; never reused.
    DocumentId
);
id_type!(
    /// Identifies one revision of a document; never reused.
    RevisionId
);

/// A controlled document: its identity and who looks after it. Its text lives in its
/// revisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Document {
    /// Its id.
    pub id: DocumentId,
    /// Its number (`SOP-0001`): unique, never reused.
    pub number: String,
    /// Its type.
    pub doc_type: DocumentType,
    /// Title.
    pub title: String,
    /// The person who owns it and drafts its revisions.
    pub owner_id: UserId,
    /// The owner's printed name.
    pub owner_name: String,
    /// The process it belongs to.
    pub process_id: Option<ProcessId>,
    /// Months between periodic reviews.
    pub review_interval_months: u32,
    /// Years a revision is kept after it stops being in force.
    pub retention_years: u32,
    /// For an external document: its source.
    pub source: String,
    /// For an external document: the source's revision.
    pub source_revision: String,
    /// Who reviews its revisions.
    pub reviewers: Vec<UserId>,
    /// Who approves its revisions (at least one).
    pub approvers: Vec<UserId>,
    /// Everyone holding one of these roles reads it (and is told of its revisions).
    #[serde(default)]
    pub reader_roles: Vec<Role>,
    /// Everyone in one of these departments reads it (and is told of its revisions).
    #[serde(default)]
    pub reader_department_ids: Vec<DepartmentId>,
    /// The label of the revision in force, if one is.
    pub in_force: Option<String>,
    /// When its next periodic review is due: the review interval after its first revision took
    /// effect, moved on by each periodic review ([`next_review`]); none before anything is in
    /// force and once obsolete.
    #[serde(default)]
    pub next_review_on: Option<NaiveDate>,
    /// The periodic review is past due (today, UTC, is after `next_review_on`).
    #[serde(default)]
    pub review_overdue: bool,
    /// The status of its revision in progress (draft, in review, or approved and waiting for its
    /// effective date), if one is (there is one at most).
    #[serde(default)]
    pub in_progress: Option<RevisionStatus>,
    /// When it or one of its revisions last changed (the register's `updated` order).
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
    /// Version and life (retired: made obsolete, with the reason).
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Document {
    /// Who `user` is to a revision of this document written by `author` (signatures and
    /// document-manager rights are added by the caller, who knows them).
    pub fn participant(&self, user: Option<UserId>, author: UserId) -> Participant {
        let is = |id: UserId| user == Some(id);
        Participant {
            author: is(author),
            owner: is(self.owner_id),
            reviewer: self.reviewers.iter().any(|r| is(*r)),
            approver: self.approvers.iter().any(|a| is(*a)),
            ..Participant::default()
        }
    }
}

impl Record for Document {
    const RECORD_TYPE: &'static str = "document";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// One revision of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Revision {
    /// Its id.
    pub id: RevisionId,
    /// The document.
    pub document_id: DocumentId,
    /// 1 for the first revision, 2 for the next…
    pub seq: u32,
    /// Its label (`A`, `B`… or `1`, `2`…).
    pub label: String,
    /// Where it is in its life.
    pub status: RevisionStatus,
    /// Who wrote it.
    pub author_id: UserId,
    /// The author's printed name.
    pub author_name: String,
    /// Why it was last sent back or cancelled (empty otherwise).
    pub status_reason: String,
    /// Moves only when the content changes: the version a signature binds (`record_version`
    /// of a signature on a `document_revision`), so that a status change keeps the signatures
    /// and an edit voids them.
    pub content_version: i64,
    /// The file attached to it, if one is (the current one: a replaced file is kept, no longer
    /// current). Its SHA-256 is part of what a signature binds.
    #[serde(default)]
    pub file: Option<RevisionFile>,
    /// Its content and change information.
    #[serde(flatten)]
    pub content: RevisionInput,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Record for Revision {
    const RECORD_TYPE: &'static str = "document_revision";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// What kind of document: decides its number's prefix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    /// The quality manual.
    QualityManual,
    /// A policy.
    Policy,
    /// A standard operating procedure.
    #[default]
    Sop,
    /// A work instruction.
    WorkInstruction,
    /// A form or template.
    Form,
    /// A specification.
    Specification,
    /// A document from outside (a standard, a customer drawing), with its source and revision.
    External,
}

impl DocumentType {
    /// Every type, in the order lists show them.
    pub const ALL: [DocumentType; 7] = [
        DocumentType::QualityManual,
        DocumentType::Policy,
        DocumentType::Sop,
        DocumentType::WorkInstruction,
        DocumentType::Form,
        DocumentType::Specification,
        DocumentType::External,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::QualityManual => "quality_manual",
            DocumentType::Policy => "policy",
            DocumentType::Sop => "sop",
            DocumentType::WorkInstruction => "work_instruction",
            DocumentType::Form => "form",
            DocumentType::Specification => "specification",
            DocumentType::External => "external",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The name a person reads.
    pub fn label(self) -> &'static str {
        match self {
            DocumentType::QualityManual => "Quality manual",
            DocumentType::Policy => "Policy",
            DocumentType::Sop => "Standard operating procedure",
            DocumentType::WorkInstruction => "Work instruction",
            DocumentType::Form => "Form / template",
            DocumentType::Specification => "Specification",
            DocumentType::External => "External document",
        }
    }

    /// The prefix of this type's numbers.
    pub fn prefix(self) -> &'static str {
        match self {
            DocumentType::QualityManual => "QM",
            DocumentType::Policy => "POL",
            DocumentType::Sop => "SOP",
            DocumentType::WorkInstruction => "WI",
            DocumentType::Form => "FRM",
            DocumentType::Specification => "SPEC",
            DocumentType::External => "EXT",
        }
    }

    /// The number of the `sequence`-th document of this type (1-based): `SOP-0001`; four
    /// digits at least, more when the sequence needs them (`SOP-12345`).
    pub fn number(self, sequence: u32) -> String {
        format!("{}-{sequence:04}", self.prefix())
    }
}

/// How an installation labels revisions, chosen once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevisionScheme {
    /// A, B, … Z, AA, AB, … (as a spreadsheet names its columns).
    #[default]
    Letters,
    /// 1, 2, 3, …
    Numbers,
}

impl RevisionScheme {
    /// The stored name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionScheme::Letters => "letters",
            RevisionScheme::Numbers => "numbers",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [RevisionScheme::Letters, RevisionScheme::Numbers].into_iter().find(|r| r.as_str() == s)
    }

    /// The label of the `n`-th revision of a document (1-based; 0 has no label and gives "").
    pub fn label(self, n: u32) -> String {
        match self {
            RevisionScheme::Numbers => {
                if n == 0 {
                    String::new()
                } else {
                    n.to_string()
                }
            }
            RevisionScheme::Letters => {
                // Bijective base 26: 1 → A, 26 → Z, 27 → AA, 702 → ZZ, 703 → AAA.
                let mut n = n;
                let mut label = Vec::new();
                while n > 0 {
                    let digit = (n - 1) % 26;
                    label.push(b'A' + digit as u8);
                    n = (n - 1) / 26;
                }
                label.reverse();
                String::from_utf8(label).unwrap_or_default()
            }
        }
    }
}

/// Document control's settings of the installation (one for every instance, kept in the
/// database; an administrator changes them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    /// How revisions are labelled: `letters` (A, B, …, the default) or `numbers` (1, 2, …). A
    /// change labels the revisions created after it; a label once given never changes.
    pub revision_labels: RevisionScheme,
}

/// Where a revision is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevisionStatus {
    /// Being written by its author; may be edited.
    Draft,
    /// Submitted: reviewers and approvers comment, send it back or sign. Not editable.
    InReview,
    /// Every required signature is there; waits for its effective date.
    Approved,
    /// The revision in force (one per document at most).
    Effective,
    /// Was effective; a later revision took its place.
    Superseded,
    /// A draft or a revision in review abandoned, with a reason.
    Cancelled,
}

impl RevisionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionStatus::Draft => "draft",
            RevisionStatus::InReview => "in_review",
            RevisionStatus::Approved => "approved",
            RevisionStatus::Effective => "effective",
            RevisionStatus::Superseded => "superseded",
            RevisionStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            RevisionStatus::Draft,
            RevisionStatus::InReview,
            RevisionStatus::Approved,
            RevisionStatus::Effective,
            RevisionStatus::Superseded,
            RevisionStatus::Cancelled,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// The name a person reads.
    pub fn label(self) -> &'static str {
        match self {
            RevisionStatus::Draft => "Draft",
            RevisionStatus::InReview => "In review",
            RevisionStatus::Approved => "Approved",
            RevisionStatus::Effective => "Effective",
            RevisionStatus::Superseded => "Superseded",
            RevisionStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether the revision's content may still change.
    pub fn editable(self) -> bool {
        self == RevisionStatus::Draft
    }
}

/// What a person asks of a revision (the signatures themselves go through the signature
/// mechanism; [`workflow`] says whether signing is open to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevisionAction {
    /// Edit the draft's content.
    Edit,
    /// Hand the draft to its reviewers and approvers.
    Submit,
    /// Send a revision in review back to its author, with a reason.
    SendBack,
    /// Sign as a reviewer ("reviewed").
    SignReviewed,
    /// Sign as an approver ("approved").
    SignApproved,
    /// Abandon a draft or a revision in review, with a reason.
    Cancel,
}

impl RevisionAction {
    /// Every action.
    pub const ALL: [RevisionAction; 6] = [
        RevisionAction::Edit,
        RevisionAction::Submit,
        RevisionAction::SendBack,
        RevisionAction::SignReviewed,
        RevisionAction::SignApproved,
        RevisionAction::Cancel,
    ];

    /// Whether the action needs a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, RevisionAction::SendBack | RevisionAction::Cancel)
    }
}

/// Who is asking, as the workflow sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Participant {
    /// Wrote this revision.
    pub author: bool,
    /// Owns the document.
    pub owner: bool,
    /// Is named as one of this revision's reviewers.
    pub reviewer: bool,
    /// Is named as one of this revision's approvers.
    pub approver: bool,
    /// Already signed this revision with that meaning (reviewed, approved).
    pub signed_reviewed: bool,
    /// Already signed this revision as approved.
    pub signed_approved: bool,
    /// Manages documents (quality manager, admin).
    pub manager: bool,
}

/// Why a workflow action is refused: a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

/// The one revision workflow: whether `who` may do `action` to a revision in `status`, and the
/// status it leaves the revision in (signing leaves it as it is: [`after_signatures`] decides
/// when the last required signature approves it). The server enforces this; the app shows only
/// the actions it allows.
pub fn workflow(status: RevisionStatus, action: RevisionAction, who: Participant) -> Result<RevisionStatus, Refusal> {
    use RevisionAction as A;
    use RevisionStatus as S;
    match (status, action) {
        (S::Draft, A::Edit | A::Submit) if who.author || who.owner => {
            Ok(if action == A::Submit { S::InReview } else { S::Draft })
        }
        (S::Draft, A::Edit | A::Submit) => {
            Err(Refusal("Only the document's owner or the revision's author may do this."))
        }
        (S::InReview, A::SendBack) if who.reviewer || who.approver || who.manager => Ok(S::Draft),
        (S::InReview, A::SendBack) => Err(Refusal("Only a reviewer or an approver of this revision may send it back.")),
        (S::InReview, A::SignReviewed) if !who.reviewer => Err(Refusal("You are not a reviewer of this revision.")),
        (S::InReview, A::SignReviewed) if who.signed_reviewed => Err(Refusal("You have already signed this revision.")),
        (S::InReview, A::SignReviewed) => Ok(S::InReview),
        (S::InReview, A::SignApproved) if who.author => Err(Refusal("The author of a revision cannot approve it.")),
        (S::InReview, A::SignApproved) if !who.approver => Err(Refusal("You are not an approver of this revision.")),
        (S::InReview, A::SignApproved) if who.signed_approved => Err(Refusal("You have already signed this revision.")),
        (S::InReview, A::SignApproved) => Ok(S::InReview),
        (S::Draft | S::InReview, A::Cancel) if who.author || who.owner || who.manager => Ok(S::Cancelled),
        (S::Draft | S::InReview, A::Cancel) => {
            Err(Refusal("Only the owner, the author or a document manager may cancel a revision."))
        }
        (S::Draft, _) => Err(Refusal("A draft must be submitted for review first.")),
        (S::InReview, A::Edit) => Err(Refusal("A revision in review cannot be edited: send it back first.")),
        (S::InReview, _) => Err(Refusal("This revision is already in review.")),
        (S::Approved | S::Effective, _) => Err(Refusal("This revision is approved: its content is final.")),
        (S::Superseded, _) => Err(Refusal("This revision is superseded: a later one is in force.")),
        (S::Cancelled, _) => Err(Refusal("This revision was cancelled.")),
    }
}

/// Whether a revision in `status` may be read by `who`: everyone reads the revision in force, the
/// ones it superseded (which say so) and an approved one awaiting its effective date (people train
/// on it before it takes effect); drafts, revisions in review and cancelled ones are for the
/// document's people and, when `privileged`, document managers and auditors.
pub fn readable(status: RevisionStatus, who: Participant, privileged: bool) -> bool {
    matches!(status, RevisionStatus::Effective | RevisionStatus::Superseded | RevisionStatus::Approved)
        || privileged
        || who.author
        || who.owner
        || who.reviewer
        || who.approver
}

/// The actions `who` may take on a revision in `status` (the app's buttons).
pub fn allowed_actions(status: RevisionStatus, who: Participant) -> Vec<RevisionAction> {
    RevisionAction::ALL.into_iter().filter(|a| workflow(status, *a, who).is_ok()).collect()
}

/// Where a revision in review stands after a signature: approved once every named reviewer
/// has signed "reviewed" and every named approver "approved" (at least one approver).
pub fn after_signatures(reviewers: usize, reviewed: usize, approvers: usize, approved: usize) -> RevisionStatus {
    if approvers > 0 && approved >= approvers && reviewed >= reviewers {
        RevisionStatus::Approved
    } else {
        RevisionStatus::InReview
    }
}

/// Whether an approved revision is in force on `today`: its effective date has come (a date
/// on or before the approval day makes it effective at once; a later date is picked up when
/// it comes, whenever that is checked).
pub fn takes_effect(status: RevisionStatus, effective_date: Option<NaiveDate>, today: NaiveDate) -> bool {
    status == RevisionStatus::Approved && effective_date.is_none_or(|d| d <= today)
}

/// The most characters of a title.
pub const TITLE_MAX: usize = 200;
/// The most characters of a reason, a change summary or a source.
pub const TEXT_MAX: usize = 2000;
/// The most characters of a revision's Markdown body.
pub const BODY_MAX: usize = 2_000_000;
/// Review intervals, in months.
pub const REVIEW_MONTHS: std::ops::RangeInclusive<u32> = 1..=120;
/// Retention periods, in years.
pub const RETENTION_YEARS: std::ops::RangeInclusive<u32> = 1..=100;

/// A document as created or edited by a document manager.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DocumentInput {
    /// Its type (fixed once created: the number depends on it).
    pub doc_type: DocumentType,
    /// Title.
    pub title: String,
    /// The owner (required; an active user).
    #[serde(default)]
    pub owner_id: Option<UserId>,
    /// The process it belongs to, if any (an active process).
    #[serde(default)]
    pub process_id: Option<ProcessId>,
    /// Who reviews its revisions.
    #[serde(default)]
    pub reviewers: Vec<UserId>,
    /// Who approves its revisions (at least one).
    #[serde(default)]
    pub approvers: Vec<UserId>,
    /// Months between periodic reviews.
    pub review_interval_months: u32,
    /// Years a revision is kept after it stops being in force.
    pub retention_years: u32,
    /// For an external document: where it comes from (publisher, customer).
    #[serde(default)]
    pub source: String,
    /// For an external document: the source's own revision or edition.
    #[serde(default)]
    pub source_revision: String,
    /// Everyone holding one of these roles reads it (told of each revision approved and in force).
    #[serde(default)]
    pub reader_roles: Vec<Role>,
    /// Everyone in one of these departments (active ones) reads it.
    #[serde(default)]
    pub reader_department_ids: Vec<DepartmentId>,
}

impl DocumentInput {
    /// Trims the text fields.
    pub fn normalized(mut self) -> Self {
        self.title = self.title.trim().to_string();
        self.source = self.source.trim().to_string();
        self.source_revision = self.source_revision.trim().to_string();
        self
    }

    /// The field rules (the owner and process references are checked by the server).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "title", &self.title, true, TITLE_MAX);
        if self.owner_id.is_none() {
            e.add("owner_id", REQUIRED);
        }
        if self.approvers.is_empty() {
            e.add("approvers", REQUIRED);
        }
        let unique = |ids: &[UserId]| ids.iter().collect::<std::collections::BTreeSet<_>>().len() == ids.len();
        if !unique(&self.reviewers) {
            e.add("reviewers", INVALID);
        }
        if !unique(&self.approvers) {
            e.add("approvers", INVALID);
        }
        if self.reader_roles.iter().collect::<std::collections::BTreeSet<_>>().len() != self.reader_roles.len() {
            e.add("reader_roles", INVALID);
        }
        let departments: std::collections::BTreeSet<_> = self.reader_department_ids.iter().map(|d| d.0).collect();
        if departments.len() != self.reader_department_ids.len() {
            e.add("reader_department_ids", INVALID);
        }
        if !REVIEW_MONTHS.contains(&self.review_interval_months) {
            e.add("review_interval_months", INVALID);
        }
        if !RETENTION_YEARS.contains(&self.retention_years) {
            e.add("retention_years", INVALID);
        }
        let external = self.doc_type == DocumentType::External;
        validation::text(&mut e, "source", &self.source, external, TEXT_MAX);
        validation::text(&mut e, "source_revision", &self.source_revision, external, TEXT_MAX);
        e.into_result()
    }
}

/// A revision's content and change information as its author writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RevisionInput {
    /// The text, in Markdown (may be empty when a file is attached).
    #[serde(default)]
    pub body: String,
    /// Why the document changes (required from the second revision).
    #[serde(default)]
    pub reason_for_change: String,
    /// What changed (required from the second revision).
    #[serde(default)]
    pub change_summary: String,
    /// What asked for the change (a change request, a CAPA, a periodic review), if anything.
    #[serde(default)]
    pub requested_by: String,
    /// When it takes effect once approved (none: at approval).
    #[serde(default)]
    pub effective_date: Option<NaiveDate>,
    /// The people who must be trained on it are trained by this date (on or before the
    /// effective date).
    #[serde(default)]
    pub train_by: Option<NaiveDate>,
    /// A minor change: nobody needs retraining.
    #[serde(default)]
    pub no_retraining: bool,
    /// Why no retraining is needed (required with `no_retraining`).
    #[serde(default)]
    pub no_retraining_reason: String,
}

impl RevisionInput {
    /// Trims the text fields (the body keeps its own whitespace).
    pub fn normalized(mut self) -> Self {
        self.reason_for_change = self.reason_for_change.trim().to_string();
        self.change_summary = self.change_summary.trim().to_string();
        self.requested_by = self.requested_by.trim().to_string();
        self.no_retraining_reason = self.no_retraining_reason.trim().to_string();
        self
    }

    /// The field rules for the `n`-th revision (1-based) of a document; `has_file` when a file
    /// is attached (then the body may be empty).
    pub fn validate(&self, n: u32, has_file: bool) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.body.chars().count() > BODY_MAX {
            e.add("body", validation::TOO_LONG);
        } else if self.body.trim().is_empty() && !has_file {
            e.add("body", REQUIRED);
        }
        let later = n > 1;
        validation::text(&mut e, "reason_for_change", &self.reason_for_change, later, TEXT_MAX);
        validation::text(&mut e, "change_summary", &self.change_summary, later, TEXT_MAX);
        validation::text(&mut e, "requested_by", &self.requested_by, false, TEXT_MAX);
        validation::text(&mut e, "no_retraining_reason", &self.no_retraining_reason, self.no_retraining, TEXT_MAX);
        if let (Some(train_by), Some(effective)) = (self.train_by, self.effective_date)
            && train_by > effective
        {
            e.add("train_by", INVALID);
        }
        if self.no_retraining && self.train_by.is_some() {
            e.add("train_by", INVALID);
        }
        e.into_result()
    }
}

/// The next periodic review after a review (or the revision taking effect) on `from`: the
/// interval later, on the same day of the month or the month's last day when it has fewer.
pub fn next_review(from: NaiveDate, interval_months: u32) -> NaiveDate {
    from.checked_add_months(Months::new(interval_months)).unwrap_or(NaiveDate::MAX)
}

/// Whether the periodic review due on `due` is overdue on `today`.
pub fn review_overdue(due: NaiveDate, today: NaiveDate) -> bool {
    due < today
}

/// The first day a revision that stopped being in force on `ended` may be disposed of: never
/// before the retention period has passed.
pub fn retained_until(ended: NaiveDate, retention_years: u32) -> NaiveDate {
    ended.checked_add_months(Months::new(retention_years.saturating_mul(12))).unwrap_or(NaiveDate::MAX)
}

/// What a signature on a revision binds: the document's number and title, the revision's
/// label and body, and the attached file's SHA-256 (empty without a file).
#[derive(Debug, Clone, Copy)]
pub struct RevisionContent<'a> {
    /// The document's number.
    pub number: &'a str,
    /// The document's title.
    pub title: &'a str,
    /// The revision's label.
    pub label: &'a str,
    /// The Markdown body.
    pub body: &'a str,
    /// The attached file's SHA-256 (lower-case hex), or "".
    pub file_sha256: &'a str,
}

impl RevisionContent<'_> {
    /// SHA-256 (lower-case hex) of the content's canonical JSON: any change to any part, even
    /// one space, gives another hash, so a signature given before the change no longer matches.
    pub fn hash(&self) -> String {
        let json = serde_json::json!({
            "number": self.number,
            "title": self.title,
            "label": self.label,
            "body": self.body,
            "file_sha256": self.file_sha256,
        });
        crate::audit::hex(&Sha256::digest(json.to_string().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn numbers_are_per_type_and_grow_past_four_digits() {
        assert_eq!(DocumentType::Sop.number(1), "SOP-0001");
        assert_eq!(DocumentType::WorkInstruction.number(42), "WI-0042");
        assert_eq!(DocumentType::QualityManual.number(12345), "QM-12345");
        let prefixes: std::collections::BTreeSet<_> = DocumentType::ALL.iter().map(|t| t.prefix()).collect();
        assert_eq!(prefixes.len(), DocumentType::ALL.len(), "one prefix per type");
        for t in DocumentType::ALL {
            assert_eq!(DocumentType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn revision_labels_count_like_spreadsheet_columns_or_numbers() {
        let letters: Vec<_> = [1, 2, 26, 27, 28, 52, 53, 702, 703].map(|n| RevisionScheme::Letters.label(n)).into();
        assert_eq!(letters, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
        assert_eq!(RevisionScheme::Numbers.label(3), "3");
        for scheme in [RevisionScheme::Letters, RevisionScheme::Numbers] {
            assert_eq!(RevisionScheme::parse(scheme.as_str()), Some(scheme));
            assert_eq!(serde_json::to_value(scheme).unwrap(), scheme.as_str());
        }
        assert_eq!(RevisionScheme::parse("roman"), None);
        assert_eq!(RevisionScheme::Letters.label(0), "");
    }

    /// The workflow as a table: (status, action, who, outcome).
    #[test]
    fn the_workflow_allows_each_step_only_to_the_right_person() {
        use RevisionAction as A;
        use RevisionStatus as S;
        let author = Participant { author: true, ..Default::default() };
        let owner = Participant { owner: true, ..Default::default() };
        let reviewer = Participant { reviewer: true, ..Default::default() };
        let approver = Participant { approver: true, ..Default::default() };
        let author_approver = Participant { author: true, approver: true, ..Default::default() };
        let manager = Participant { manager: true, ..Default::default() };
        let reader = Participant::default();
        let signed = Participant { approver: true, signed_approved: true, ..Default::default() };
        let cases: &[(S, A, Participant, Option<S>)] = &[
            (S::Draft, A::Edit, author, Some(S::Draft)),
            (S::Draft, A::Edit, owner, Some(S::Draft)),
            (S::Draft, A::Edit, reviewer, None),
            (S::Draft, A::Submit, author, Some(S::InReview)),
            (S::Draft, A::Submit, reader, None),
            (S::Draft, A::SignApproved, approver, None),
            (S::Draft, A::Cancel, author, Some(S::Cancelled)),
            (S::Draft, A::Cancel, manager, Some(S::Cancelled)),
            (S::Draft, A::Cancel, reviewer, None),
            (S::InReview, A::Edit, author, None),
            (S::InReview, A::SendBack, reviewer, Some(S::Draft)),
            (S::InReview, A::SendBack, approver, Some(S::Draft)),
            (S::InReview, A::SendBack, reader, None),
            (S::InReview, A::SignReviewed, reviewer, Some(S::InReview)),
            (S::InReview, A::SignReviewed, approver, None),
            (S::InReview, A::SignApproved, approver, Some(S::InReview)),
            (S::InReview, A::SignApproved, author_approver, None),
            (S::InReview, A::SignApproved, signed, None),
            (S::InReview, A::SignApproved, reviewer, None),
            (S::InReview, A::Cancel, owner, Some(S::Cancelled)),
            (S::Approved, A::Edit, author, None),
            (S::Approved, A::SignApproved, approver, None),
            (S::Approved, A::Cancel, manager, None),
            (S::Effective, A::Edit, owner, None),
            (S::Superseded, A::SignApproved, approver, None),
            (S::Cancelled, A::Submit, author, None),
        ];
        for &(status, action, who, outcome) in cases {
            assert_eq!(workflow(status, action, who).ok(), outcome, "{status:?} {action:?} by {who:?}");
        }
        assert_eq!(
            workflow(S::InReview, A::SignApproved, author_approver),
            Err(Refusal("The author of a revision cannot approve it."))
        );
        assert_eq!(allowed_actions(S::Draft, author), vec![A::Edit, A::Submit, A::Cancel]);
        assert_eq!(allowed_actions(S::InReview, approver), vec![A::SendBack, A::SignApproved]);
        assert!(allowed_actions(S::Effective, manager).is_empty());
        assert!(A::SendBack.needs_reason() && A::Cancel.needs_reason() && !A::Submit.needs_reason());
        // Reading: what is or was in force, for everyone; the rest for the document's people.
        assert!(readable(S::Superseded, reader, false) && readable(S::Effective, reader, false));
        assert!(!readable(S::Draft, reader, false) && !readable(S::InReview, reader, false));
        assert!(readable(S::Approved, reader, false), "trained on before it takes effect");
        assert!(!readable(S::Cancelled, reader, false));
        assert!(readable(S::Draft, reviewer, false) && readable(S::Cancelled, reader, true));
    }

    #[test]
    fn a_revision_is_approved_by_its_last_required_signature_and_effective_on_its_date() {
        assert_eq!(after_signatures(1, 1, 2, 1), RevisionStatus::InReview, "one approver still to sign");
        assert_eq!(after_signatures(1, 0, 1, 1), RevisionStatus::InReview, "the reviewer still to sign");
        assert_eq!(after_signatures(1, 1, 2, 2), RevisionStatus::Approved);
        assert_eq!(after_signatures(0, 0, 0, 0), RevisionStatus::InReview, "nobody to approve it");
        let today = day("2026-12-02");
        assert!(takes_effect(RevisionStatus::Approved, None, today));
        assert!(takes_effect(RevisionStatus::Approved, Some(day("2026-11-30")), today));
        assert!(takes_effect(RevisionStatus::Approved, Some(today), today));
        assert!(!takes_effect(RevisionStatus::Approved, Some(day("2026-12-03")), today));
        assert!(!takes_effect(RevisionStatus::InReview, None, today));
    }

    #[test]
    fn inputs_name_every_bad_field() {
        let doc = DocumentInput {
            doc_type: DocumentType::External,
            title: " ".into(),
            owner_id: None,
            process_id: None,
            reviewers: vec![UserId(2), UserId(2)],
            approvers: vec![],
            review_interval_months: 0,
            retention_years: 101,
            source: String::new(),
            source_revision: String::new(),
            reader_roles: vec![Role::Staff, Role::Staff],
            reader_department_ids: vec![],
        }
        .normalized();
        let e = doc.validate().unwrap_err();
        for field in [
            "title",
            "owner_id",
            "reviewers",
            "approvers",
            "review_interval_months",
            "retention_years",
            "source",
            "source_revision",
            "reader_roles",
        ] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let sop = DocumentInput {
            doc_type: DocumentType::Sop,
            title: "Control of documents".into(),
            owner_id: Some(UserId(1)),
            process_id: None,
            reviewers: vec![UserId(2)],
            approvers: vec![UserId(3)],
            review_interval_months: 24,
            retention_years: 10,
            source: String::new(),
            source_revision: String::new(),
            reader_roles: vec![Role::Staff],
            reader_department_ids: vec![DepartmentId(1)],
        };
        assert!(sop.validate().is_ok());

        let first = RevisionInput { body: "# Purpose".into(), ..Default::default() };
        assert!(first.validate(1, false).is_ok(), "the first revision needs no reason for change");
        let e = first.validate(2, false).unwrap_err();
        assert!(e.get("reason_for_change").is_some() && e.get("change_summary").is_some());
        assert_eq!(
            RevisionInput::default().validate(1, false).unwrap_err().get("body"),
            Some(&[REQUIRED.to_string()][..])
        );
        assert!(RevisionInput::default().validate(1, true).is_ok(), "a file may stand for the body");
        let late = RevisionInput {
            effective_date: Some(day("2027-01-01")),
            train_by: Some(day("2027-01-02")),
            no_retraining: true,
            ..first.clone()
        };
        let e = late.validate(1, false).unwrap_err();
        assert!(e.get("train_by").is_some() && e.get("no_retraining_reason").is_some(), "{e:?}");
    }

    #[test]
    fn review_and_retention_dates_follow_the_calendar() {
        assert_eq!(next_review(day("2026-01-31"), 1), day("2026-02-28"));
        assert_eq!(next_review(day("2024-02-29"), 24), day("2026-02-28"));
        assert_eq!(next_review(day("2026-12-02"), 24), day("2028-12-02"));
        assert!(review_overdue(day("2026-12-01"), day("2026-12-02")));
        assert!(!review_overdue(day("2026-12-02"), day("2026-12-02")));
        assert_eq!(retained_until(day("2026-12-02"), 10), day("2036-12-02"));
    }

    #[test]
    fn the_signed_hash_changes_with_any_part_of_the_content() {
        let c = RevisionContent { number: "SOP-0001", title: "Doc control", label: "B", body: "x", file_sha256: "" };
        let h = c.hash();
        assert_eq!(h.len(), 64);
        assert_eq!(h, c.hash(), "the same content, the same hash");
        for changed in [
            RevisionContent { body: "x ", ..c },
            RevisionContent { label: "C", ..c },
            RevisionContent { title: "Doc Control", ..c },
            RevisionContent { number: "SOP-0002", ..c },
            RevisionContent { file_sha256: "ab", ..c },
        ] {
            assert_ne!(changed.hash(), h, "{changed:?}");
        }
    }
}
