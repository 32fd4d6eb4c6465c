//! Storage of document control: documents numbered per type and their revisions through the
//! workflow of [`shared::document`]. The trait and the backend-independent rows; the queries
//! are in `queries/document.rs`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared::auth::{Role, UserId};
use shared::document::{
    Document, DocumentFilter, DocumentHit, DocumentId, DocumentInput, DocumentPage, DocumentSettings, DocumentSort,
    DocumentStatus, DocumentType, ReviewOutcome, Revision, RevisionAction, RevisionFile, RevisionId, RevisionInput,
    RevisionStatus, review_overdue, snippet,
};
use shared::org::{DepartmentId, ProcessId, RecordMeta};
use shared::register::WorkItem;

use super::common::MetaRow;
use super::risk::{Arg, Where};
use super::{AuditContext, Change, StoreError, StoreResult};

/// Document queries.
#[async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// Creates a document with the next number of its type (unique, never reused, also when
    /// several are created at once on several instances).
    async fn create_document(&self, ctx: &AuditContext, input: &DocumentInput) -> StoreResult<Document>;
    /// One document (obsolete ones too).
    async fn get_document(&self, id: DocumentId) -> StoreResult<Option<Document>>;
    /// Every document, by number; obsolete ones only when asked.
    async fn list_documents(&self, include_obsolete: bool) -> StoreResult<Vec<Document>> {
        let filter = DocumentFilter { include_obsolete, ..DocumentFilter::default() };
        Ok(self.find_documents(&filter, Utc::now().date_naive()).await?.items)
    }
    /// The documents `filter` admits (review overdue: due before `today`), in its order, the page
    /// it asks for (all without a limit), with how many match in all. Only the filters given are
    /// in the SQL, so that each query can use the index that fits it.
    async fn find_documents(&self, filter: &DocumentFilter, today: NaiveDate) -> StoreResult<DocumentPage>;
    /// Starts the next revision of a document as a draft written by the context's user (one
    /// revision in progress at a time).
    async fn create_revision(
        &self,
        ctx: &AuditContext,
        document: DocumentId,
        input: &RevisionInput,
    ) -> StoreResult<Revision>;
    /// One revision.
    async fn get_revision(&self, id: RevisionId) -> StoreResult<Option<Revision>>;
    /// A document's revisions, newest first.
    async fn list_revisions(&self, document: DocumentId) -> StoreResult<Vec<Revision>>;
    /// Changes a draft's content if it is still at `version` (its author or the owner).
    async fn update_draft(
        &self,
        ctx: &AuditContext,
        id: RevisionId,
        version: i64,
        input: &RevisionInput,
    ) -> StoreResult<Change<Revision>>;
    /// Submits, sends back or cancels a revision at `version`, as the workflow allows the
    /// context's user (`reason` for sending back and cancelling; `manager` when the user
    /// manages documents).
    async fn move_revision(
        &self,
        ctx: &AuditContext,
        id: RevisionId,
        version: i64,
        action: RevisionAction,
        reason: &str,
        manager: bool,
    ) -> StoreResult<Change<Revision>>;
    /// Attaches a file to a draft at `version` (its author or the document's owner, as an edit),
    /// replacing the current one (kept, no longer current): the content version moves, so a
    /// signature given before no longer binds it. `media_type` and `name` are checked already.
    async fn attach_file(
        &self,
        ctx: &AuditContext,
        id: RevisionId,
        version: i64,
        name: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> StoreResult<Change<Revision>>;
    /// The current file of a revision: its description and bytes.
    async fn revision_file(&self, id: RevisionId) -> StoreResult<Option<(RevisionFile, Vec<u8>)>>;
    /// Makes a document obsolete at `version`, with the reason: it stays on record and its
    /// number is never given again; a revision in progress is cancelled with it.
    async fn obsolete_document(
        &self,
        ctx: &AuditContext,
        id: DocumentId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<Document>>;
    /// Puts in force every approved revision whose effective date is `today` or earlier,
    /// superseding the one before; returns how many. The server runs it at start (so a date that
    /// passed while it was down is caught up) and every minute; safe on several instances at once.
    async fn take_effect_due(&self, ctx: &AuditContext, today: NaiveDate) -> StoreResult<usize>;
    /// Documents that are not obsolete whose number, title or revision in force holds every one
    /// of `terms` (word prefixes, from `shared::document::search_terms`), best first, at most
    /// `limit`, each with a snippet of its revision in force around the first match.
    async fn search_documents(&self, terms: &[String], limit: u32) -> StoreResult<Vec<DocumentHit>>;
    /// Records a signed periodic review of a document by `reviewer` (the signature "reviewed"
    /// on the document at its current version, in the same transaction; `accept_agreement` at
    /// the reviewer's first signature) and carries out its outcome: the next review the interval
    /// from `today`; a draft of the text in force opened ("revise": 409 when a revision is in
    /// progress); the document made obsolete with `comment` as the reason. 409 when it is
    /// obsolete already.
    #[expect(clippy::too_many_arguments, reason = "the signature's parts, as `sign` takes them")]
    async fn periodic_review(
        &self,
        ctx: &AuditContext,
        id: DocumentId,
        reviewer: UserId,
        reviewer_name: &str,
        outcome: ReviewOutcome,
        comment: &str,
        accept_agreement: bool,
        today: NaiveDate,
    ) -> StoreResult<Document>;
    /// Periodic reviews due on or before `horizon` of the documents `owner` owns (everyone's
    /// without an owner), as work (overdue when due before `today`), soonest first.
    async fn review_items(
        &self,
        owner: Option<UserId>,
        today: NaiveDate,
        horizon: NaiveDate,
    ) -> StoreResult<Vec<WorkItem>>;
    /// Writes documents in force from before Caliper (the bench's `seed-documents`), in one
    /// transaction: each with the next number of its type, its reviewers and approvers, its
    /// earlier revisions superseded and its last in force (so that search indexes it), every
    /// document and revision audited (the revision's text by its SHA-256). Returns how many.
    async fn import_documents(&self, ctx: &AuditContext, documents: &[HistoricDocument]) -> StoreResult<usize>;
    /// Records that a revision in force has been in force since `from` (a document brought into
    /// Caliper from paper, or the demo's history): its periodic review counts from then. Audited.
    async fn backdate_in_force(&self, ctx: &AuditContext, id: RevisionId, from: NaiveDate) -> StoreResult<()>;
    /// Document control's settings of the installation, read from the database (never cached,
    /// so that every instance labels revisions alike).
    async fn document_settings(&self) -> StoreResult<DocumentSettings>;
    /// Changes the installation's document settings, audited as record type
    /// `installation_settings` (record 1; no change, no entry). Revisions created afterwards are
    /// labelled by the new scheme; existing labels never change.
    async fn set_document_settings(
        &self,
        ctx: &AuditContext,
        settings: DocumentSettings,
    ) -> StoreResult<DocumentSettings>;
}

/// A document in force from before Caliper (see [`DocumentStore::import_documents`]).
#[derive(Debug, Clone)]
pub struct HistoricDocument {
    /// Its type (its number is the next of the type).
    pub doc_type: DocumentType,
    /// Title.
    pub title: String,
    /// Its owner, who also wrote its revisions.
    pub owner: UserId,
    /// Its process.
    pub process: Option<ProcessId>,
    /// Its reviewers.
    pub reviewers: Vec<UserId>,
    /// Its approvers.
    pub approvers: Vec<UserId>,
    /// Months between periodic reviews.
    pub review_interval_months: u32,
    /// Years kept.
    pub retention_years: u32,
    /// For an external document: its source and the source's revision.
    pub source: (String, String),
    /// Its revisions, oldest first: the last is in force, the others superseded.
    pub revisions: Vec<HistoricRevision>,
}

/// A revision of a [`HistoricDocument`].
#[derive(Debug, Clone)]
pub struct HistoricRevision {
    /// Its Markdown text.
    pub body: String,
    /// Why it changed (from the second revision).
    pub reason_for_change: String,
    /// What changed (from the second revision).
    pub change_summary: String,
    /// The day it came into force.
    pub in_force_from: NaiveDate,
}

/// A search hit as read, with the body its snippet is cut from.
#[derive(sqlx::FromRow)]
pub(super) struct HitRow {
    pub document_id: i64,
    pub number: String,
    pub title: String,
    pub doc_type: String,
    pub revision_id: Option<i64>,
    pub label: Option<String>,
    pub body: Option<String>,
}

impl HitRow {
    /// The hit, with the snippet for `terms`.
    pub(super) fn into_hit(self, terms: &[String]) -> Result<DocumentHit, StoreError> {
        let doc_type = DocumentType::parse(&self.doc_type)
            .ok_or_else(|| StoreError::Internal(format!("document {}: type `{}`", self.document_id, self.doc_type)))?;
        Ok(DocumentHit {
            document_id: DocumentId(self.document_id),
            number: self.number,
            title: self.title,
            doc_type,
            revision_id: self.revision_id.map(RevisionId),
            label: self.label,
            snippet: self.body.map(|b| snippet(&b, terms)).unwrap_or_default(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DocumentRow {
    pub document_id: i64,
    pub number: String,
    pub doc_type: String,
    pub title: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub process_id: Option<i64>,
    pub review_interval_months: i64,
    pub retention_years: i64,
    pub source: String,
    pub source_revision: String,
    pub in_force: Option<String>,
    /// The status of its revision in progress.
    pub in_progress: Option<String>,
    /// When its next periodic review is due (kept by `refresh_next_review`).
    pub next_review_on: Option<NaiveDate>,
    /// When it or one of its revisions last changed.
    pub changed_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub meta: MetaRow,
}

impl DocumentRow {
    /// The document, with its reviewers and approvers (`people`: role, user) and its readers
    /// (`readers`: `role` and the role's name, or `department` and the department's id).
    pub(super) fn into_document(
        self,
        people: &[(String, i64)],
        readers: &[(String, String)],
    ) -> Result<Document, StoreError> {
        let doc_type = DocumentType::parse(&self.doc_type)
            .ok_or_else(|| StoreError::Internal(format!("document {}: type `{}`", self.document_id, self.doc_type)))?;
        let of = |role: &str| people.iter().filter(|(r, _)| r == role).map(|(_, id)| UserId(*id)).collect();
        // An obsolete document is reviewed no more.
        let next_review_on = self.next_review_on.filter(|_| self.meta.retired_at.is_none());
        let in_progress = match self.in_progress.as_deref() {
            None => None,
            Some(s) => Some(RevisionStatus::parse(s).ok_or_else(|| {
                StoreError::Internal(format!("document {}: revision status `{s}`", self.document_id))
            })?),
        };
        let today = Utc::now().date_naive();
        Ok(Document {
            id: DocumentId(self.document_id),
            number: self.number,
            doc_type,
            title: self.title,
            owner_id: UserId(self.owner_id),
            owner_name: self.owner_name,
            process_id: self.process_id.map(ProcessId),
            review_interval_months: u32::try_from(self.review_interval_months).unwrap_or_default(),
            retention_years: u32::try_from(self.retention_years).unwrap_or_default(),
            source: self.source,
            source_revision: self.source_revision,
            reviewers: of("reviewer"),
            approvers: of("approver"),
            reader_roles: readers.iter().filter(|(k, _)| k == "role").filter_map(|(_, r)| Role::parse(r)).collect(),
            reader_department_ids: readers
                .iter()
                .filter(|(k, _)| k == "department")
                .filter_map(|(_, d)| d.parse().ok().map(DepartmentId))
                .collect(),
            in_force: self.in_force,
            next_review_on,
            review_overdue: next_review_on.is_some_and(|d| review_overdue(d, today)),
            in_progress,
            changed_at: self.changed_at,
            meta: RecordMeta::from(self.meta),
        })
    }
}

/// A document's readers as `(document_id, kind, value)`: roles by name, departments by id (the
/// `where` clause is appended).
pub(super) const READERS_SELECT: &str = "select document_id, 'role' as kind, role as value from document_reader_roles \
     union all select document_id, 'department' as kind, cast(department_id as text) as value \
     from document_reader_departments";

pub(super) const DOCUMENT_SELECT: &str = "select d.document_id, d.number, d.doc_type, d.title, d.owner_id, \
     u.full_name as owner_name, d.process_id, d.review_interval_months, d.retention_years, d.source, \
     d.source_revision, (select e.label from document_revisions e where e.document_id = d.document_id \
     and e.status = 'effective') as in_force, (select o.status from document_revisions o \
     where o.document_id = d.document_id and o.status in ('draft', 'in_review', 'approved')) as in_progress, \
     d.next_review_on, d.changed_at, d.version, d.created_at, d.updated_at, d.retired_at, d.retired_reason \
     from documents d join users u on u.user_id = d.owner_id";

#[derive(sqlx::FromRow)]
pub(super) struct RevisionRow {
    pub revision_id: i64,
    pub document_id: i64,
    pub seq: i64,
    pub label: String,
    pub status: String,
    pub author_id: i64,
    pub author_name: String,
    pub status_reason: String,
    pub body: String,
    pub reason_for_change: String,
    pub change_summary: String,
    pub requested_by: String,
    pub effective_date: Option<NaiveDate>,
    pub train_by: Option<NaiveDate>,
    pub no_retraining: bool,
    pub no_retraining_reason: String,
    pub content_version: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub file_name: Option<String>,
    pub file_media_type: Option<String>,
    pub file_size: Option<i64>,
    pub file_sha256: Option<String>,
}

impl TryFrom<RevisionRow> for Revision {
    type Error = StoreError;

    fn try_from(r: RevisionRow) -> Result<Self, StoreError> {
        let status = RevisionStatus::parse(&r.status)
            .ok_or_else(|| StoreError::Internal(format!("revision {}: status `{}`", r.revision_id, r.status)))?;
        Ok(Revision {
            id: RevisionId(r.revision_id),
            document_id: DocumentId(r.document_id),
            seq: u32::try_from(r.seq).unwrap_or_default(),
            label: r.label,
            status,
            author_id: UserId(r.author_id),
            author_name: r.author_name,
            status_reason: r.status_reason,
            content_version: r.content_version,
            file: match (r.file_name, r.file_media_type, r.file_size, r.file_sha256) {
                (Some(name), Some(media_type), Some(size), Some(sha256)) => {
                    Some(RevisionFile { name, media_type, size: u64::try_from(size).unwrap_or_default(), sha256 })
                }
                _ => None,
            },
            content: RevisionInput {
                body: r.body,
                reason_for_change: r.reason_for_change,
                change_summary: r.change_summary,
                requested_by: r.requested_by,
                effective_date: r.effective_date,
                train_by: r.train_by,
                no_retraining: r.no_retraining,
                no_retraining_reason: r.no_retraining_reason,
            },
            meta: RecordMeta {
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
                retired_at: None,
                retired_reason: None,
            },
        })
    }
}

pub(super) const REVISION_SELECT: &str = "select r.revision_id, r.document_id, r.seq, r.label, r.status, \
     r.author_id, u.full_name as author_name, r.status_reason, r.body, r.reason_for_change, r.change_summary, \
     r.requested_by, r.effective_date, r.train_by, r.no_retraining, r.no_retraining_reason, r.content_version, \
     r.version, \
     r.created_at, r.updated_at, f.name as file_name, f.media_type as file_media_type, f.size as file_size, \
     f.sha256 as file_sha256 from document_revisions r join users u on u.user_id = r.author_id \
     left join document_files f on f.revision_id = r.revision_id and f.current";

/// The register's `where` over `documents d` (see [`DocumentStore::find_documents`]): only the
/// filters given, each with its own index (type, owner, process, next review; the revisions'
/// status).
pub(super) fn document_where(f: &DocumentFilter, today: NaiveDate) -> Where {
    let mut w = Where::default();
    match f.status {
        None if f.include_obsolete => {}
        None => w.and("d.retired_at is null", None),
        Some(DocumentStatus::Obsolete) => w.and("d.retired_at is not null", None),
        Some(status) => {
            w.and("d.retired_at is null", None);
            w.and(
                match status {
                    DocumentStatus::InForce => {
                        "exists (select 1 from document_revisions e where e.document_id = d.document_id \
                         and e.status = 'effective')"
                    }
                    DocumentStatus::InReview => {
                        "d.document_id in (select o.document_id from document_revisions o where o.status = 'in_review')"
                    }
                    DocumentStatus::Draft => {
                        "d.document_id in (select o.document_id from document_revisions o where o.status = 'draft')"
                    }
                    _ => {
                        "not exists (select 1 from document_revisions o where o.document_id = d.document_id \
                         and o.status in ('effective', 'draft', 'in_review', 'approved'))"
                    }
                },
                None,
            );
        }
    }
    if let Some(t) = f.doc_type {
        w.and("d.doc_type = ?", Some(Arg::Text(t.as_str().into())));
    }
    if let Some(o) = f.owner_id {
        w.and("d.owner_id = ?", Some(Arg::Int(o.0)));
    }
    if let Some(p) = f.process_id {
        w.and("d.process_id = ?", Some(Arg::Int(p.0)));
    }
    if f.review_overdue {
        w.and("d.retired_at is null", None);
        w.and("d.next_review_on < ?", Some(Arg::Date(today)));
    }
    if let Some(text) = &f.text {
        // `%`, `_` and `\` taken literally.
        let escaped: String = text
            .to_lowercase()
            .chars()
            .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
            .collect();
        w.and(
            "(lower(d.number) like ? escape '\\' or lower(d.title) like ? escape '\\')",
            Some(Arg::Text(format!("%{escaped}%"))),
        );
    }
    if w.sql.is_empty() {
        w.and("1 = 1", None);
    }
    w
}

/// The register's `order by` (a whitelist, never user text); ties broken by the unique number or id.
pub(super) fn document_order(f: &DocumentFilter) -> String {
    let dir = if f.desc { "desc" } else { "asc" };
    match f.sort {
        DocumentSort::Number => format!("order by d.number {dir}"),
        DocumentSort::Title => format!("order by lower(d.title) {dir}, d.number {dir}"),
        DocumentSort::Updated => format!("order by d.changed_at {dir}, d.document_id {dir}"),
    }
}
