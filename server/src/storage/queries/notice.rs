//! Revision notices: the queries of [`crate::storage::notice`], and the sending of notices that
//! document control calls in its own transactions. Compiled once per backend (see
//! [`crate::storage`]).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use shared::audit::{AuditAction, diff};
use shared::auth::UserId;
use shared::document::{Notice, NoticeKind, NoticeSettings, Revision};
use shared::training::DUE_SOON_DAYS;

use super::base::{append_audit, append_audits};
use super::document::document_by_id;
use super::{Conn, Db, SqlStore, WriteTx};
use crate::storage::common::Draft;
use crate::storage::notice::{NOTICE_SELECT, NoticeRow, NoticeStore};
use crate::storage::trust::parse_roles;
use crate::storage::{AuditContext, StoreError, StoreResult};

/// An audit draft about a notice (record type `notice`: its live-update event tells the app to
/// refresh the unread count).
fn notice_event<'a>(
    action: AuditAction,
    id: i64,
    version: i64,
    before: &serde_json::Value,
    after: &serde_json::Value,
    reason: Option<&'a str>,
) -> Draft<'a> {
    Draft {
        action,
        record_type: "notice",
        record_id: id,
        record_version: version,
        changes: diff(before, after),
        reason,
    }
}

/// Tells the people of revision `r` that it was approved or took effect, in the caller's
/// transaction: the document's readers (active people holding one of its reader roles or in one of
/// its reader departments), its owner, reviewers and approvers, and everyone with an open training
/// assignment on the revision (those notices carry training and are sent whatever the person chose).
/// One notice per person, kind and revision, each audited.
pub(super) async fn send_notices(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    r: &Revision,
    kind: NoticeKind,
) -> StoreResult<()> {
    let doc = document_by_id(tx, r.document_id.0)
        .await?
        .ok_or_else(|| StoreError::unreadable("document", r.document_id.0))?;
    let active: Vec<(i64, String, Option<i64>)> =
        sqlx::query_as("select user_id, roles, department_id from users where retired_at is null")
            .fetch_all(&mut **tx)
            .await?;
    let trainees: Vec<(i64,)> =
        sqlx::query_as("select distinct user_id from training_assignments where state = 'open' and revision_id = $1")
            .bind(r.id.0)
            .fetch_all(&mut **tx)
            .await?;
    let trainees: BTreeSet<i64> = trainees.into_iter().map(|t| t.0).collect();
    let named: BTreeSet<i64> = std::iter::once(doc.owner_id)
        .chain(doc.reviewers.iter().copied())
        .chain(doc.approvers.iter().copied())
        .map(|u| u.0)
        .collect();
    let settings: Vec<(i64, bool, bool)> =
        sqlx::query_as("select user_id, approved, effective from notice_settings").fetch_all(&mut **tx).await?;
    let settings: BTreeMap<i64, NoticeSettings> =
        settings.into_iter().map(|(u, approved, effective)| (u, NoticeSettings { approved, effective })).collect();
    let now = Utc::now();
    let mut to: Vec<(i64, bool)> = Vec::new();
    for (user, roles, department) in active {
        let reader = parse_roles(&roles).iter().any(|role| doc.reader_roles.contains(role))
            || department.is_some_and(|d| doc.reader_department_ids.iter().any(|r| r.0 == d));
        let training = trainees.contains(&user);
        if !(reader || training || named.contains(&user)) {
            continue;
        }
        if !settings.get(&user).copied().unwrap_or_default().wants(kind, training) {
            continue;
        }
        to.push((user, training));
    }
    // One multi-row insert per 500 people and one batch of audit entries (an approval that
    // assigns 2,000 people tells 2,000 people).
    let mut afters = Vec::with_capacity(to.len());
    for chunk in to.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "insert into notices (user_id, kind, document_id, revision_id, carries_training, created_at) ",
        );
        qb.push_values(chunk, |mut v, (user, training)| {
            v.push_bind(*user)
                .push_bind(kind.as_str())
                .push_bind(doc.id.0)
                .push_bind(r.id.0)
                .push_bind(*training)
                .push_bind(now);
        });
        qb.push(" on conflict do nothing returning notice_id, user_id");
        let sent: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        let sent: BTreeMap<i64, i64> = sent.into_iter().map(|(id, user)| (user, id)).collect();
        for (user, training) in chunk {
            let Some(&id) = sent.get(user) else { continue };
            let after = serde_json::json!({
                "user_id": user, "kind": kind.as_str(), "document_id": doc.id.0, "number": doc.number,
                "revision_id": r.id.0, "label": r.label, "carries_training": training,
            });
            afters.push((id, after));
        }
    }
    let drafts = afters
        .iter()
        .map(|(id, after)| notice_event(AuditAction::Create, *id, 1, &serde_json::Value::Null, after, None))
        .collect();
    append_audits(tx, ctx, drafts).await
}

/// A training notice to send: the person, their assignment, and its document and revision.
pub(super) struct TrainingNotice {
    pub(super) user: i64,
    pub(super) assignment: i64,
    pub(super) document: Option<i64>,
    pub(super) revision: Option<i64>,
}

/// Sends training notices of `kind` in the caller's transaction, whatever the people chose (they
/// cannot be turned off): one per person, kind and assignment (sent again: a no-op), each audited.
/// Returns how many were sent.
pub(super) async fn send_training_notices(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    kind: NoticeKind,
    notices: &[TrainingNotice],
) -> StoreResult<usize> {
    let now = Utc::now();
    let mut afters = Vec::with_capacity(notices.len());
    for chunk in notices.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "insert into notices (user_id, kind, document_id, revision_id, assignment_id, carries_training, \
             created_at) ",
        );
        qb.push_values(chunk, |mut v, n| {
            v.push_bind(n.user)
                .push_bind(kind.as_str())
                .push_bind(n.document)
                .push_bind(n.revision)
                .push_bind(n.assignment)
                .push_bind(true)
                .push_bind(now);
        });
        qb.push(" on conflict do nothing returning notice_id, assignment_id");
        let sent: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        let sent: BTreeMap<i64, i64> = sent.into_iter().map(|(id, assignment)| (assignment, id)).collect();
        for n in chunk {
            let Some(&id) = sent.get(&n.assignment) else { continue };
            let after = serde_json::json!({
                "user_id": n.user, "kind": kind.as_str(), "assignment_id": n.assignment,
                "document_id": n.document, "revision_id": n.revision, "carries_training": true,
            });
            afters.push((id, after));
        }
    }
    let drafts: Vec<Draft> = afters
        .iter()
        .map(|(id, after)| notice_event(AuditAction::Create, *id, 1, &serde_json::Value::Null, after, None))
        .collect();
    let sent = drafts.len();
    append_audits(tx, ctx, drafts).await?;
    Ok(sent)
}

/// The open assignments of active people due within `DUE_SOON_DAYS` of `today` (not yet past)
/// whose person has had no due-soon notice of them; at most `limit`.
async fn coming_due(conn: &mut Conn, today: NaiveDate, limit: i64) -> StoreResult<Vec<TrainingNotice>> {
    let until = today + chrono::Duration::days(DUE_SOON_DAYS);
    let rows: Vec<(i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "select a.user_id, a.assignment_id, v.document_id, a.revision_id from training_assignments a \
         join users u on u.user_id = a.user_id \
         left join document_revisions v on v.revision_id = a.revision_id \
         where a.state = 'open' and a.due_on >= $1 and a.due_on <= $2 and u.retired_at is null \
         and not exists (select 1 from notices n where n.assignment_id = a.assignment_id \
         and n.kind = 'training_due_soon') order by a.assignment_id limit $3",
    )
    .bind(today)
    .bind(until)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user, assignment, document, revision)| TrainingNotice { user, assignment, document, revision })
        .collect())
}

/// Whether the minute clock has due-soon notices to send on `today` (read before taking the
/// writer's turn).
pub(super) async fn due_soon_waiting(conn: &mut Conn, today: NaiveDate) -> StoreResult<bool> {
    Ok(!coming_due(conn, today, 1).await?.is_empty())
}

/// The minute clock's part: a due-soon notice for every open assignment that came within
/// `DUE_SOON_DAYS` of its due date, once per assignment. Returns how many were sent.
pub(super) async fn send_due_soon(tx: &mut WriteTx, ctx: &AuditContext, today: NaiveDate) -> StoreResult<usize> {
    let due = coming_due(tx, today, i64::MAX).await?;
    send_training_notices(tx, ctx, NoticeKind::TrainingDueSoon, &due).await
}

async fn notice_by_id(conn: &mut Conn, user: UserId, id: i64) -> StoreResult<Option<Notice>> {
    let sql = format!("{NOTICE_SELECT} where n.notice_id = $1 and n.user_id = $2");
    let row: Option<NoticeRow> = sqlx::query_as(&sql).bind(id).bind(user.0).fetch_optional(conn).await?;
    row.map(Notice::try_from).transpose()
}

/// Marks a notice read (it was unread) and audits it.
async fn audit_read(tx: &mut WriteTx, ctx: &AuditContext, id: i64, at: chrono::DateTime<Utc>) -> StoreResult<()> {
    let before = serde_json::json!({ "read_at": null });
    let after = serde_json::json!({ "read_at": at });
    append_audit(tx, ctx, notice_event(AuditAction::Update, id, 2, &before, &after, None)).await
}

#[async_trait]
impl NoticeStore for SqlStore {
    async fn list_notices(&self, user: UserId, unread_only: bool, limit: u32) -> StoreResult<Vec<Notice>> {
        let sql = format!(
            "{NOTICE_SELECT} where n.user_id = $1 and ($2 = false or n.read_at is null) order by n.notice_id \
             desc limit $3"
        );
        let rows: Vec<NoticeRow> =
            sqlx::query_as(&sql).bind(user.0).bind(unread_only).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.into_iter().map(Notice::try_from).collect()
    }

    async fn unread_notices(&self, user: UserId) -> StoreResult<u32> {
        let (count,): (i64,) = sqlx::query_as("select count(*) from notices where user_id = $1 and read_at is null")
            .bind(user.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn mark_notice_read(&self, ctx: &AuditContext, user: UserId, id: i64) -> StoreResult<Option<Notice>> {
        let mut tx = self.write_tx().await?;
        let now = shared::audit::audit_time(Utc::now());
        let done =
            sqlx::query("update notices set read_at = $3 where notice_id = $1 and user_id = $2 and read_at is null")
                .bind(id)
                .bind(user.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if done {
            audit_read(&mut tx, ctx, id, now).await?;
        }
        let notice = notice_by_id(&mut tx, user, id).await?;
        tx.commit().await?;
        Ok(notice)
    }

    async fn mark_all_notices_read(&self, ctx: &AuditContext, user: UserId) -> StoreResult<u32> {
        let mut tx = self.write_tx().await?;
        let now = shared::audit::audit_time(Utc::now());
        let read: Vec<(i64,)> = sqlx::query_as(
            "update notices set read_at = $2 where user_id = $1 and read_at is null returning notice_id",
        )
        .bind(user.0)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for (id,) in &read {
            audit_read(&mut tx, ctx, *id, now).await?;
        }
        tx.commit().await?;
        Ok(u32::try_from(read.len()).unwrap_or(u32::MAX))
    }

    async fn notice_settings(&self, user: UserId) -> StoreResult<NoticeSettings> {
        let row: Option<(bool, bool)> =
            sqlx::query_as("select approved, effective from notice_settings where user_id = $1")
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(approved, effective)| NoticeSettings { approved, effective }).unwrap_or_default())
    }

    async fn set_notice_settings(
        &self,
        ctx: &AuditContext,
        user: UserId,
        settings: NoticeSettings,
    ) -> StoreResult<NoticeSettings> {
        let mut tx = self.write_tx().await?;
        let before: Option<(bool, bool)> =
            sqlx::query_as("select approved, effective from notice_settings where user_id = $1")
                .bind(user.0)
                .fetch_optional(&mut *tx)
                .await?;
        let before = before.map(|(approved, effective)| NoticeSettings { approved, effective }).unwrap_or_default();
        let (version,): (i64,) = sqlx::query_as(
            "insert into notice_settings (user_id, approved, effective, version, updated_at) values ($1, $2, \
             $3, 1, $4) \
             on conflict (user_id) do update set approved = $2, effective = $3, \
             version = notice_settings.version + 1, updated_at = $4 returning version",
        )
        .bind(user.0)
        .bind(settings.approved)
        .bind(settings.effective)
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await?;
        let to_json = |s: NoticeSettings| serde_json::to_value(s).unwrap_or_default();
        let draft = Draft {
            action: if version == 1 { AuditAction::Create } else { AuditAction::Update },
            record_type: "notice_settings",
            record_id: user.0,
            record_version: version,
            changes: diff(&to_json(before), &to_json(settings)),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(settings)
    }
}
