//! Storage of revision notices (domain/documents.md, "Revision notices"): each person's inbox and
//! choice of kinds. Notices are sent by document control in the transaction of the approval or of
//! the revision taking effect (`queries/notice.rs`, `send_notices`); the queries are in
//! `queries/notice.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::auth::UserId;
use shared::document::{DocumentId, Notice, NoticeKind, NoticeSettings, RevisionId};

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
    pub document_id: i64,
    pub number: String,
    pub title: String,
    pub revision_id: i64,
    pub label: String,
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
            document_id: DocumentId(r.document_id),
            number: r.number,
            title: r.title,
            revision_id: RevisionId(r.revision_id),
            label: r.label,
            created_at: r.created_at,
            read_at: r.read_at,
            carries_training: r.carries_training,
        })
    }
}

pub(super) const NOTICE_SELECT: &str = "select n.notice_id, n.kind, n.document_id, d.number, d.title, n.revision_id, \
     r.label, n.created_at, n.read_at, n.carries_training from notices n \
     join documents d on d.document_id = n.document_id join document_revisions r on r.revision_id = n.revision_id";
