//! Storage of notices (domain/documents.md, "Revision notices"; training notices): each person's
//! inbox and choice of kinds. Revision notices are sent by document control in the transaction of
//! the approval or of the revision taking effect (`queries/notice.rs`, `send_notices`), training
//! notices by training in the transaction of the assignment or by the minute clock when one comes
//! due (`send_training_notices`, `send_due_soon`); the queries are in `queries/notice.rs`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared::auth::UserId;
use shared::document::{DocumentId, Notice, NoticeKind, NoticeSettings, RevisionId};
use shared::training::AssignmentId;

use super::{AuditContext, StoreError, StoreResult};

/// Notice queries.
#[async_trait]
pub trait NoticeStore: Send + Sync + 'static {
    /// `user`'s notices, newest first (only the unread ones when asked), at most `limit`.
    async fn list_notices(&self, user: UserId, unread_only: bool, limit: u32) -> StoreResult<Vec<Notice>>;
    /// How many of `user`'s notices are unread.
    async fn unread_notices(&self, user: UserId) -> StoreResult<u32>;
    /// Marks one of `user`'s notices read (again: nothing changes); `None` when it is not theirs.
    async fn mark_notice_read(&self, ctx: &AuditContext, user: UserId, id: i64) -> StoreResult<Option<Notice>>;
    /// Marks every unread notice of `user` read; returns how many.
    async fn mark_all_notices_read(&self, ctx: &AuditContext, user: UserId) -> StoreResult<u32>;
    /// Which notices `user` gets.
    async fn notice_settings(&self, user: UserId) -> StoreResult<NoticeSettings>;
    /// Sets which notices `user` gets. Audited.
    async fn set_notice_settings(
        &self,
        ctx: &AuditContext,
        user: UserId,
        settings: NoticeSettings,
    ) -> StoreResult<NoticeSettings>;
}

#[derive(sqlx::FromRow)]
pub(super) struct NoticeRow {
    pub notice_id: i64,
    pub kind: String,
    pub document_id: Option<i64>,
    pub number: Option<String>,
    pub title: Option<String>,
    pub revision_id: Option<i64>,
    pub label: Option<String>,
    pub assignment_id: Option<i64>,
    pub requirement_title: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub carries_training: bool,
}

impl TryFrom<NoticeRow> for Notice {
    type Error = StoreError;

    fn try_from(r: NoticeRow) -> Result<Self, StoreError> {
        let kind = NoticeKind::parse(&r.kind)
            .ok_or_else(|| StoreError::Internal(format!("notice {}: kind `{}`", r.notice_id, r.kind)))?;
        Ok(Notice {
            id: r.notice_id,
            kind,
            document_id: r.document_id.map(DocumentId),
            number: r.number,
            title: r.title,
            revision_id: r.revision_id.map(RevisionId),
            label: r.label,
            assignment_id: r.assignment_id.map(AssignmentId),
            requirement_title: r.requirement_title,
            due_on: r.due_on,
            created_at: r.created_at,
            read_at: r.read_at,
            carries_training: r.carries_training,
        })
    }
}

pub(super) const NOTICE_SELECT: &str = "select n.notice_id, n.kind, n.document_id, d.number, d.title, n.revision_id, \
     r.label, n.assignment_id, q.title as requirement_title, a.due_on, n.created_at, n.read_at, n.carries_training \
     from notices n left join documents d on d.document_id = n.document_id \
     left join document_revisions r on r.revision_id = n.revision_id \
     left join training_assignments a on a.assignment_id = n.assignment_id \
     left join training_requirements q on q.requirement_id = a.requirement_id";
