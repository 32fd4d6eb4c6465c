//! Document control: the queries of [`crate::storage::document`], compiled once per backend
//! (see [`crate::storage`]).

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use shared::audit::{AuditAction, diff};
use shared::auth::UserId;
use shared::document::{
    Document, DocumentFilter, DocumentHit, DocumentId, DocumentInput, DocumentPage, DocumentSettings, NoticeKind,
    Participant, ReviewOutcome, Revision, RevisionAction, RevisionFile, RevisionId, RevisionInput, RevisionScheme,
    RevisionStatus, after_signatures, next_review, takes_effect, workflow,
};
use shared::register::WorkItem;
use shared::signature::Meaning;
use shared::validation::{INVALID, REQUIRED};

use super::base::{active_reference, append_audit, finish, is_unique_violation, retire};
use super::trust::{SignedVersion, insert_signature, one_change, record_agreement};
use super::{Conn, DOCUMENT_SEARCH, FOR_UPDATE, SqlStore, WriteTx, search_any, search_match};
use crate::storage::common::{Audited, DEPARTMENTS, Draft, PROCESSES, USERS, Written, constraint_error, field_error};
use crate::storage::document::{
    DOCUMENT_SELECT, DocumentRow, DocumentStore, HistoricDocument, HitRow, READERS_SELECT, REVISION_SELECT,
    RevisionRow, document_order, document_where,
};
use crate::storage::risk::bind_filter;
use crate::storage::{AuditContext, Change, StoreError, StoreResult};

/// A document with its reviewers and approvers.
pub(super) async fn document_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Document>> {
    let sql = format!("{DOCUMENT_SELECT} where d.document_id = $1");
    let row: Option<DocumentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
    let Some(row) = row else { return Ok(None) };
    let people: Vec<(String, i64)> =
        sqlx::query_as("select role, user_id from document_people where document_id = $1 order by role, position")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let sql = format!("select kind, value from ({READERS_SELECT}) x where document_id = $1 order by kind, value");
    let readers: Vec<(String, String)> = sqlx::query_as(&sql).bind(id).fetch_all(&mut *conn).await?;
    row.into_document(&people, &readers).map(Some)
}

pub(super) async fn revision_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Revision>> {
    let sql = format!("{REVISION_SELECT} where r.revision_id = $1");
    let row: Option<RevisionRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    row.map(Revision::try_from).transpose()
}

/// A revision with its document.
pub(super) async fn revision_and_document(conn: &mut Conn, id: i64) -> StoreResult<Option<(Revision, Document)>> {
    let Some(r) = revision_by_id(&mut *conn, id).await? else { return Ok(None) };
    let doc = document_by_id(conn, r.document_id.0)
        .await?
        .ok_or_else(|| StoreError::unreadable("document", r.document_id.0))?;
    Ok(Some((r, doc)))
}

/// What a signature on a revision binds, with the content version it binds: the document's
/// number and title, the revision's label and body, its current file's SHA-256 ("" without one),
/// and their SHA-256.
pub(super) async fn revision_content_json(conn: &mut Conn, id: i64) -> StoreResult<Option<(i64, serde_json::Value)>> {
    let Some((r, doc)) = revision_and_document(conn, id).await? else { return Ok(None) };
    Ok(Some((r.content_version, shared::signature::content::document_revision(&r, &doc))))
}

/// The signatures on a revision's content version: (signer, meaning).
async fn revision_signatures(conn: &mut Conn, r: &Revision) -> StoreResult<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "select signer_id, meaning from signatures where record_type = 'document_revision' and record_id = $1 \
         and record_version = $2",
    )
    .bind(r.id.0)
    .bind(r.content_version)
    .fetch_all(conn)
    .await?)
}

/// Holds a revision's row until the transaction ends, before anything about it is read, so that
/// what the transaction then reads of it (status, version) stays true until it commits.
///
/// Every write of a revision's status takes its row (the `update`) and then the audit chain's
/// lock (the append), in that order. A signature, without this, took the chain's lock first (its
/// own audit entry) and the row second (the approval): against a concurrent cancellation on
/// PostgreSQL the two waited on each other and one died of a deadlock (a 500); and a signature
/// read the revision in review before a cancellation committed and was then kept on the
/// cancelled revision. Taking the row first orders them all: the second waits, then reads the
/// revision as the first left it. The minute clock takes it too, so that a second instance
/// finds the revision in force already and does nothing (it used to go as far as the version
/// check of the superseding `update` and roll back). (SQLite: `begin immediate` serialises
/// writers already; this is a plain read there.)
pub(super) async fn lock_revision(conn: &mut Conn, id: i64) -> StoreResult<()> {
    let sql = format!("select revision_id from document_revisions where revision_id = $1{FOR_UPDATE}");
    sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    Ok(())
}

/// Before a signature on a revision: the workflow must let this signer sign it with this
/// meaning now (a named reviewer or approver, not yet signed, never the author as approver).
pub(super) async fn check_revision_signer(
    conn: &mut Conn,
    id: i64,
    signer: UserId,
    meaning: Meaning,
) -> StoreResult<(Revision, Document)> {
    let action = match meaning {
        Meaning::Reviewed => RevisionAction::SignReviewed,
        Meaning::Approved => RevisionAction::SignApproved,
        _ => return Err(field_error("meaning", INVALID)),
    };
    let (r, doc) = revision_and_document(&mut *conn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("No revision {id}.")))?;
    let signed = revision_signatures(conn, &r).await?;
    let has = |m: &str| signed.iter().any(|(s, meaning)| *s == signer.0 && meaning == m);
    let who = Participant {
        signed_reviewed: has("reviewed"),
        signed_approved: has("approved"),
        ..doc.participant(Some(signer), r.author_id)
    };
    workflow(r.status, action, who).map_err(|e| refused(r.status, action, e.0))?;
    Ok((r, doc))
}

/// After a signature on a revision: the last required signature approves it, and it is in
/// force at once when its effective date has come (a later date takes effect when it comes).
pub(super) async fn settle_revision(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    r: &Revision,
    doc: &Document,
) -> StoreResult<()> {
    if r.status != RevisionStatus::InReview {
        return Ok(());
    }
    let signed = revision_signatures(tx, r).await?;
    let count = |people: &[UserId], meaning: &str| {
        people.iter().filter(|u| signed.iter().any(|(s, m)| *s == u.0 && m == meaning)).count()
    };
    let reviewed = count(&doc.reviewers, "reviewed");
    let approved = count(&doc.approvers, "approved");
    if after_signatures(doc.reviewers.len(), reviewed, doc.approvers.len(), approved) != RevisionStatus::Approved {
        return Ok(());
    }
    let approved = set_status(tx, ctx, r, RevisionStatus::Approved, "Every required signature given").await?;
    // Training follows in the same transaction: whoever must read it is assigned it now.
    super::assignment::on_revision_approved(tx, ctx, &approved, doc).await?;
    // Its people are told, those who must train on it among them (after the assignments above).
    super::notice::send_notices(tx, ctx, &approved, NoticeKind::Approved).await?;
    if takes_effect(RevisionStatus::Approved, approved.content.effective_date, Utc::now().date_naive()) {
        make_effective(tx, ctx, &approved).await?;
    }
    Ok(())
}

/// Puts an approved revision in force, superseding the one in force before it (first: the
/// database holds one revision in force per document).
pub(super) async fn make_effective(tx: &mut WriteTx, ctx: &AuditContext, r: &Revision) -> StoreResult<Revision> {
    let current: Option<(i64,)> =
        sqlx::query_as("select revision_id from document_revisions where document_id = $1 and status = 'effective'")
            .bind(r.document_id.0)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some((current,)) = current
        && let Some(old) = revision_by_id(tx, current).await?
    {
        let why = format!("Superseded by revision {}", r.label);
        set_status(tx, ctx, &old, RevisionStatus::Superseded, &why).await?;
    }
    let effective = set_status(tx, ctx, r, RevisionStatus::Effective, "In force").await?;
    super::notice::send_notices(tx, ctx, &effective, NoticeKind::Effective).await?;
    // The day it came into force, for "which revision was in force on D?" (a date that passed
    // while the server was down counts from that date).
    let today = Utc::now().date_naive();
    let from = r.content.effective_date.map_or(today, |d| d.min(today));
    sqlx::query("update document_revisions set in_force_from = $2 where revision_id = $1")
        .bind(r.id.0)
        .bind(from)
        .execute(&mut **tx)
        .await?;
    refresh_next_review(tx, r.document_id.0).await?;
    Ok(effective)
}

/// Writes a document's next periodic review date from what it depends on: the latest periodic
/// review's next date or, before any, the review interval after its first revision took effect
/// (in the transaction that changed either; the register filters and sorts by the column).
pub(super) async fn refresh_next_review(conn: &mut Conn, id: i64) -> StoreResult<()> {
    let reviewed: Option<(Option<NaiveDate>,)> = sqlx::query_as(
        "select next_review_on from document_reviews where document_id = $1 order by document_review_id desc limit 1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let (interval, first): (i64, Option<NaiveDate>) = sqlx::query_as(
        "select d.review_interval_months, (select min(r.in_force_from) from document_revisions r \
         where r.document_id = d.document_id) from documents d where d.document_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let interval = u32::try_from(interval).unwrap_or_default();
    let next = reviewed.and_then(|(n,)| n).or_else(|| first.map(|d| next_review(d, interval)));
    sqlx::query("update documents set next_review_on = $2 where document_id = $1")
        .bind(id)
        .bind(next)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves a revision to `status` if it is still as read (a concurrent change is a conflict),
/// and audits the move with `reason`.
async fn set_status(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    before: &Revision,
    status: RevisionStatus,
    reason: &str,
) -> StoreResult<Revision> {
    let moved = sqlx::query(
        "update document_revisions set status = $2, version = version + 1, updated_at = $3 \
         where revision_id = $1 and version = $4",
    )
    .bind(before.id.0)
    .bind(status.as_str())
    .bind(Utc::now())
    .bind(before.meta.version)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("Another revision of this document took effect at the same moment.".into())
        } else {
            StoreError::Database(e)
        }
    })?
    .rows_affected();
    if moved != 1 {
        return Err(StoreError::Conflict("This revision changed meanwhile; nothing was changed.".into()));
    }
    let after =
        revision_by_id(tx, before.id.0).await?.ok_or_else(|| StoreError::unreadable("revision", before.id.0))?;
    let audited = Audited {
        action: AuditAction::Update,
        record_id: before.id.0,
        before: Some(before),
        after: &after,
        version: after.meta.version,
        reason: Some(reason),
    };
    append_audit(tx, ctx, audited).await?;
    Ok(after)
}

/// The workflow's answer as a store error: 409 when no one could do it in this state, 403
/// when someone else could.
/// Revision `id` read for an edit of its content at `version`: the revision when the actor may
/// edit it (its author or the document's owner, while it is a draft; otherwise the workflow's
/// refusal), or the answer to give instead (not found, stale).
async fn draft_for_edit(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    id: RevisionId,
    version: i64,
) -> StoreResult<Result<Revision, Change<Revision>>> {
    let Some((before, doc)) = revision_and_document(tx, id.0).await? else { return Ok(Err(Change::NotFound)) };
    if before.meta.version != version {
        return Ok(Err(Change::Stale(before)));
    }
    let who = doc.participant(ctx.actor_id.map(UserId), before.author_id);
    workflow(before.status, RevisionAction::Edit, who)
        .map_err(|r| refused(before.status, RevisionAction::Edit, r.0))?;
    Ok(Ok(before))
}

fn refused(status: RevisionStatus, action: RevisionAction, message: &'static str) -> StoreError {
    let anyone = Participant {
        author: action != RevisionAction::SignApproved,
        owner: true,
        reviewer: true,
        approver: true,
        manager: true,
        ..Default::default()
    };
    if workflow(status, action, anyone).is_ok() {
        StoreError::Forbidden(message.into())
    } else {
        StoreError::Retired(message.into())
    }
}

/// The installation's document settings (its one row; letters when it is missing).
async fn document_settings_in(conn: &mut Conn) -> StoreResult<DocumentSettings> {
    let row: Option<(String,)> =
        sqlx::query_as("select revision_labels from installation_settings where installation_settings_id = 1")
            .fetch_optional(conn)
            .await?;
    let revision_labels = match row {
        None => RevisionScheme::default(),
        Some((s,)) => RevisionScheme::parse(&s)
            .ok_or_else(|| StoreError::Internal(format!("installation settings: revision labels `{s}`")))?,
    };
    Ok(DocumentSettings { revision_labels })
}

/// Every reviewer and approver must be an active user, every reader department an active
/// department.
async fn check_people(conn: &mut Conn, input: &DocumentInput) -> StoreResult<()> {
    for (field, ids) in [("reviewers", &input.reviewers), ("approvers", &input.approvers)] {
        for id in ids {
            active_reference(&mut *conn, USERS, field, id.0).await?;
        }
    }
    for d in &input.reader_department_ids {
        active_reference(&mut *conn, DEPARTMENTS, "reader_department_ids", d.0).await?;
    }
    Ok(())
}

/// Starts the next revision of `doc` as a draft written by the context's user (one revision in
/// progress at a time; an obsolete document takes none).
async fn insert_revision(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    doc: &Document,
    input: &RevisionInput,
) -> StoreResult<Revision> {
    if doc.meta.retired_at.is_some() {
        return Err(StoreError::Retired(format!("{} is obsolete: it takes no new revision.", doc.number)));
    }
    let in_progress = || {
        StoreError::Conflict(format!("{} already has a revision in progress: finish or cancel it first.", doc.number))
    };
    let (open,): (i64,) = sqlx::query_as(
        "select count(*) from document_revisions where document_id = $1 \
             and status in ('draft', 'in_review', 'approved')",
    )
    .bind(doc.id.0)
    .fetch_one(&mut **tx)
    .await?;
    if open > 0 {
        return Err(in_progress());
    }
    let author = ctx.actor_id.unwrap_or(doc.owner_id.0);
    let (last,): (Option<i64>,) = sqlx::query_as("select max(seq) from document_revisions where document_id = $1")
        .bind(doc.id.0)
        .fetch_one(&mut **tx)
        .await?;
    let seq = last.unwrap_or(0) + 1;
    let n = u32::try_from(seq).unwrap_or(u32::MAX);
    input.validate(n, false).map_err(StoreError::Invalid)?;
    // Labelled by the installation's scheme as it is now (read in this transaction).
    let scheme = document_settings_in(tx).await?.revision_labels;
    let now = Utc::now();
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "insert into document_revisions (document_id, seq, label, status, author_id, body, reason_for_change, \
                change_summary, requested_by, effective_date, train_by, no_retraining, no_retraining_reason, \
                version, created_at, updated_at) \
             values ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13) returning revision_id",
    )
    .bind(doc.id.0)
    .bind(seq)
    .bind(scheme.label(n))
    .bind(author)
    .bind(&input.body)
    .bind(&input.reason_for_change)
    .bind(&input.change_summary)
    .bind(&input.requested_by)
    .bind(input.effective_date)
    .bind(input.train_by)
    .bind(input.no_retraining)
    .bind(&input.no_retraining_reason)
    .bind(now)
    .fetch_one(&mut **tx)
    .await;
    let (id,) = match inserted {
        // Two started at once: the partial unique index lets one through.
        Err(e) if is_unique_violation(&e) => return Err(in_progress()),
        other => other?,
    };
    let revision = revision_by_id(tx, id).await?.ok_or_else(|| StoreError::unreadable("revision", id))?;
    let audited = Audited {
        action: AuditAction::Create,
        record_id: id,
        before: None,
        after: &revision,
        version: 1,
        reason: None,
    };
    append_audit(tx, ctx, audited).await?;
    Ok(revision)
}

/// Makes a document obsolete at `version`, with the reason, cancelling a revision in progress.
async fn obsolete_in(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    id: DocumentId,
    version: i64,
    reason: &str,
) -> StoreResult<Change<Document>> {
    let before = document_by_id(tx, id.0).await?;
    let done = retire(tx, "documents", "document_id", id.0, version, reason).await?;
    if done {
        let open: Vec<(i64,)> = sqlx::query_as(
            "select revision_id from document_revisions where document_id = $1 \
                 and status in ('draft', 'in_review', 'approved')",
        )
        .bind(id.0)
        .fetch_all(&mut **tx)
        .await?;
        for (revision,) in open {
            if let Some(r) = revision_by_id(tx, revision).await? {
                set_status(tx, ctx, &r, RevisionStatus::Cancelled, "The document was made obsolete").await?;
            }
        }
    }
    let after = document_by_id(tx, id.0).await?;
    let written = Written {
        action: AuditAction::Retire,
        record_id: id.0,
        reason: Some(reason),
        expected_version: version,
        done,
        before,
        after,
    };
    finish(tx, ctx, written).await
}

#[async_trait]
impl DocumentStore for SqlStore {
    async fn create_document(&self, ctx: &AuditContext, input: &DocumentInput) -> StoreResult<Document> {
        input.validate().map_err(StoreError::Invalid)?;
        let owner = input.owner_id.ok_or_else(|| field_error("owner_id", REQUIRED))?;
        let mut tx = self.write_tx().await?;
        active_reference(&mut tx, USERS, "owner_id", owner.0).await?;
        if let Some(process) = input.process_id {
            active_reference(&mut tx, PROCESSES, "process_id", process.0).await?;
        }
        check_people(&mut tx, input).await?;
        // The next number of the type: an upsert that holds the sequence's row until commit, so
        // concurrent creations queue on it (both databases) and never share a number.
        let (next,): (i64,) = sqlx::query_as(
            "insert into document_sequences (doc_type, last_value) values ($1, 1) \
             on conflict (doc_type) do update set last_value = document_sequences.last_value + 1 \
             returning last_value",
        )
        .bind(input.doc_type.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let number = input.doc_type.number(u32::try_from(next).unwrap_or(u32::MAX));
        let now = Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "insert into documents (number, doc_type, title, owner_id, process_id, review_interval_months, \
                retention_years, source, source_revision, version, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10) returning document_id",
        )
        .bind(&number)
        .bind(input.doc_type.as_str())
        .bind(&input.title)
        .bind(owner.0)
        .bind(input.process_id.map(|p| p.0))
        .bind(i64::from(input.review_interval_months))
        .bind(i64::from(input.retention_years))
        .bind(&input.source)
        .bind(&input.source_revision)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| constraint_error(e, "owner_id"))?;
        for (role, ids) in [("reviewer", &input.reviewers), ("approver", &input.approvers)] {
            for (position, user) in ids.iter().enumerate() {
                sqlx::query(
                    "insert into document_people (document_id, role, user_id, position) values ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(role)
                .bind(user.0)
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
            }
        }
        for role in &input.reader_roles {
            sqlx::query("insert into document_reader_roles (document_id, role) values ($1, $2)")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for department in &input.reader_department_ids {
            sqlx::query("insert into document_reader_departments (document_id, department_id) values ($1, $2)")
                .bind(id)
                .bind(department.0)
                .execute(&mut *tx)
                .await?;
        }
        let document = document_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("document", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &document,
            version: 1,
            reason: None,
        };
        append_audit(&mut tx, ctx, audited).await?;
        tx.commit().await?;
        Ok(document)
    }

    async fn get_document(&self, id: DocumentId) -> StoreResult<Option<Document>> {
        let mut conn = self.pool.acquire().await?;
        document_by_id(&mut conn, id.0).await
    }

    async fn find_documents(&self, f: &DocumentFilter, today: NaiveDate) -> StoreResult<DocumentPage> {
        let w = document_where(f, today);
        let order = document_order(f);
        let rows: Vec<DocumentRow> = match f.limit {
            Some(limit) => {
                let sql = format!("{DOCUMENT_SELECT} where {} {order} limit {} offset {}", w.sql, w.next(1), w.next(2));
                bind_filter!(sqlx::query_as(&sql), w)
                    .bind(i64::from(limit))
                    .bind(i64::from(f.offset))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("{DOCUMENT_SELECT} where {} {order}", w.sql);
                bind_filter!(sqlx::query_as(&sql), w).fetch_all(&self.pool).await?
            }
        };
        let total = if f.limit.is_some() {
            let sql = format!("select count(*) from documents d where {}", w.sql);
            let (total,): (i64,) = bind_filter!(sqlx::query_as(&sql), w).fetch_one(&self.pool).await?;
            total
        } else {
            rows.len() as i64
        };
        // The people and readers of the documents listed: of a page, only its own.
        let ids = rows.iter().map(|r| r.document_id.to_string()).collect::<Vec<_>>().join(", ");
        let only = |column: &str| if f.limit.is_some() { format!("where {column} in ({ids})") } else { String::new() };
        if rows.is_empty() {
            return Ok(DocumentPage { items: Vec::new(), total });
        }
        let people: Vec<(i64, String, i64)> = sqlx::query_as(&format!(
            "select document_id, role, user_id from document_people {} order by document_id, role, position",
            only("document_id")
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut by_document: std::collections::HashMap<i64, Vec<(String, i64)>> = std::collections::HashMap::new();
        for (document, role, user) in people {
            by_document.entry(document).or_default().push((role, user));
        }
        let readers: Vec<(i64, String, String)> = sqlx::query_as(&format!(
            "select document_id, kind, value from ({READERS_SELECT}) x {} order by 1, 2, 3",
            only("x.document_id")
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut readers_of: std::collections::HashMap<i64, Vec<(String, String)>> = std::collections::HashMap::new();
        for (document, kind, value) in readers {
            readers_of.entry(document).or_default().push((kind, value));
        }
        let items = rows
            .into_iter()
            .map(|r| {
                let people = by_document.remove(&r.document_id).unwrap_or_default();
                let readers = readers_of.remove(&r.document_id).unwrap_or_default();
                r.into_document(&people, &readers)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(DocumentPage { items, total })
    }

    async fn create_revision(
        &self,
        ctx: &AuditContext,
        document: DocumentId,
        input: &RevisionInput,
    ) -> StoreResult<Revision> {
        let mut tx = self.write_tx().await?;
        let doc = document_by_id(&mut tx, document.0)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("No document {}.", document.0)))?;
        let revision = insert_revision(&mut tx, ctx, &doc, input).await?;
        tx.commit().await?;
        Ok(revision)
    }

    async fn get_revision(&self, id: RevisionId) -> StoreResult<Option<Revision>> {
        let mut conn = self.pool.acquire().await?;
        revision_by_id(&mut conn, id.0).await
    }

    async fn list_revisions(&self, document: DocumentId) -> StoreResult<Vec<Revision>> {
        let sql = format!("{REVISION_SELECT} where r.document_id = $1 order by r.seq desc");
        let rows: Vec<RevisionRow> = sqlx::query_as(&sql).bind(document.0).fetch_all(&self.pool).await?;
        rows.into_iter().map(Revision::try_from).collect()
    }

    async fn update_draft(
        &self,
        ctx: &AuditContext,
        id: RevisionId,
        version: i64,
        input: &RevisionInput,
    ) -> StoreResult<Change<Revision>> {
        let mut tx = self.write_tx().await?;
        let before = match draft_for_edit(&mut tx, ctx, id, version).await? {
            Ok(before) => before,
            Err(answer) => return Ok(answer),
        };
        input.validate(before.seq, before.file.is_some()).map_err(StoreError::Invalid)?;
        let done = sqlx::query(
            "update document_revisions set body = $3, reason_for_change = $4, change_summary = $5, \
                requested_by = $6, effective_date = $7, train_by = $8, no_retraining = $9, \
                no_retraining_reason = $10, content_version = content_version + 1, version = version + 1, \
                updated_at = $11 \
             where revision_id = $1 and version = $2 and status = 'draft'",
        )
        .bind(id.0)
        .bind(version)
        .bind(&input.body)
        .bind(&input.reason_for_change)
        .bind(&input.change_summary)
        .bind(&input.requested_by)
        .bind(input.effective_date)
        .bind(input.train_by)
        .bind(input.no_retraining)
        .bind(&input.no_retraining_reason)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let after = revision_by_id(&mut tx, id.0).await?;
        let written = Written {
            action: AuditAction::Update,
            record_id: id.0,
            reason: None,
            expected_version: version,
            done,
            before: Some(before),
            after,
        };
        let change = finish(&mut tx, ctx, written).await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn move_revision(
        &self,
        ctx: &AuditContext,
        id: RevisionId,
        version: i64,
        action: RevisionAction,
        reason: &str,
        manager: bool,
    ) -> StoreResult<Change<Revision>> {
        let reason = reason.trim();
        if action.needs_reason() && reason.is_empty() {
            return Err(field_error("reason", REQUIRED));
        }
        if !matches!(action, RevisionAction::Submit | RevisionAction::SendBack | RevisionAction::Cancel) {
            return Err(field_error("action", INVALID));
        }
        let mut tx = self.write_tx().await?;
        let Some((before, doc)) = revision_and_document(&mut tx, id.0).await? else { return Ok(Change::NotFound) };
        if before.meta.version != version {
            return Ok(Change::Stale(before));
        }
        let who = Participant { manager, ..doc.participant(ctx.actor_id.map(UserId), before.author_id) };
        let status = workflow(before.status, action, who).map_err(|r| refused(before.status, action, r.0))?;
        let done = sqlx::query(
            "update document_revisions set status = $3, status_reason = $4, version = version + 1, updated_at = $5 \
             where revision_id = $1 and version = $2 and status = $6",
        )
        .bind(id.0)
        .bind(version)
        .bind(status.as_str())
        .bind(if action.needs_reason() { reason } else { "" })
        .bind(Utc::now())
        .bind(before.status.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let after = revision_by_id(&mut tx, id.0).await?;
        let written = Written {
            action: AuditAction::Update,
            record_id: id.0,
            reason: Some(reason).filter(|r| !r.is_empty()),
            expected_version: version,
            done,
            before: Some(before),
            after,
        };
        let change = finish(&mut tx, ctx, written).await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn attach_file(
        &self,
        ctx: &AuditContext,
        id: RevisionId,
        version: i64,
        name: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> StoreResult<Change<Revision>> {
        use sha2::Digest as _;
        let mut tx = self.write_tx().await?;
        // Attaching a file is an edit of the draft's content: the same people, the same state.
        let before = match draft_for_edit(&mut tx, ctx, id, version).await? {
            Ok(before) => before,
            Err(answer) => return Ok(answer),
        };
        let done = sqlx::query(
            "update document_revisions set content_version = content_version + 1, version = version + 1, \
                updated_at = $3 where revision_id = $1 and version = $2 and status = 'draft'",
        )
        .bind(id.0)
        .bind(version)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            sqlx::query("update document_files set current = false where revision_id = $1 and current")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "insert into document_files (revision_id, name, media_type, size, sha256, bytes, current, created_by, \
                    created_at) values ($1, $2, $3, $4, $5, $6, true, $7, $8)",
            )
            .bind(id.0)
            .bind(name)
            .bind(media_type)
            .bind(bytes.len() as i64)
            .bind(shared::audit::hex(&sha2::Sha256::digest(bytes)))
            .bind(bytes)
            .bind(ctx.actor_id)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
        }
        let after = revision_by_id(&mut tx, id.0).await?;
        let reason = format!("File attached: {name}");
        // The revision's `file` (name, media type, size, SHA-256) before and after: the bytes
        // are named by their hash, never copied into the trail.
        let written = Written {
            action: AuditAction::Update,
            record_id: id.0,
            reason: Some(&reason),
            expected_version: version,
            done,
            before: Some(before),
            after,
        };
        let change = finish(&mut tx, ctx, written).await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn revision_file(&self, id: RevisionId) -> StoreResult<Option<(RevisionFile, Vec<u8>)>> {
        let row: Option<(String, String, i64, String, Vec<u8>)> = sqlx::query_as(
            "select name, media_type, size, sha256, bytes from document_files where revision_id = $1 and current",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(name, media_type, size, sha256, bytes)| {
            (RevisionFile { name, media_type, size: u64::try_from(size).unwrap_or_default(), sha256 }, bytes)
        }))
    }

    async fn take_effect_due(&self, ctx: &AuditContext, today: chrono::NaiveDate) -> StoreResult<usize> {
        let due: Vec<(i64,)> = sqlx::query_as(
            "select revision_id from document_revisions where status = 'approved' \
             and (effective_date is null or effective_date <= $1) order by revision_id",
        )
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        let mut done = 0;
        for (id,) in due {
            let mut tx = self.write_tx().await?;
            // Read again in the write transaction, its row held (see `lock_revision`): another
            // instance may have done it meanwhile, and one doing it now waits for this one.
            lock_revision(&mut tx, id).await?;
            let Some(r) = revision_by_id(&mut tx, id).await? else { continue };
            if !takes_effect(r.status, r.content.effective_date, today) {
                continue;
            }
            match make_effective(&mut tx, ctx, &r).await {
                Ok(_) => {
                    tx.commit().await?;
                    done += 1;
                }
                // Another instance got there first: nothing to do.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    async fn obsolete_document(
        &self,
        ctx: &AuditContext,
        id: DocumentId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<Document>> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(field_error("reason", REQUIRED));
        }
        let mut tx = self.write_tx().await?;
        let change = obsolete_in(&mut tx, ctx, id, version, reason).await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn search_documents(&self, terms: &[String], limit: u32) -> StoreResult<Vec<DocumentHit>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<HitRow> = sqlx::query_as(DOCUMENT_SEARCH)
            .bind(search_match(terms))
            .bind(search_any(terms))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| r.into_hit(terms)).collect()
    }

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
    ) -> StoreResult<Document> {
        let comment = comment.trim();
        if outcome.needs_comment() && comment.is_empty() {
            return Err(field_error("comment", REQUIRED));
        }
        let mut tx = self.write_tx().await?;
        let doc = document_by_id(&mut tx, id.0)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("No document {}.", id.0)))?;
        if doc.meta.retired_at.is_some() {
            return Err(StoreError::Retired(format!("{} is obsolete: it is reviewed no more.", doc.number)));
        }
        // The signature "reviewed" binds the document as it was reviewed (its version and the
        // SHA-256 of its JSON), like any other signature (21 CFR 11.50, 11.70).
        let now = shared::audit::audit_time(Utc::now());
        if accept_agreement {
            record_agreement(&mut tx, ctx, reviewer, now).await?;
        }
        let reason = format!("Periodic review: {}", outcome.label());
        let signed = SignedVersion {
            record_type: "document",
            record_id: id.0,
            version: doc.meta.version,
            content: shared::signature::content::document(&doc),
        };
        let (signature_id, _) =
            insert_signature(&mut tx, ctx, &signed, reviewer, reviewer_name, Meaning::Reviewed, now, Some(&reason))
                .await?;
        let interval = doc.review_interval_months;
        let (next, revision) = match outcome {
            ReviewOutcome::NoChange => (Some(next_review(today, interval)), None),
            ReviewOutcome::Revise => {
                // A draft of the text in force (or, with nothing in force, of the latest text).
                let body: Option<(String,)> = sqlx::query_as(
                    "select body from document_revisions where document_id = $1 \
                     order by case when status = 'effective' then 0 else 1 end, seq desc limit 1",
                )
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
                let input = RevisionInput {
                    body: body.map(|b| b.0).unwrap_or_default(),
                    reason_for_change: "Periodic review".into(),
                    change_summary: comment.to_string(),
                    requested_by: "Periodic review".into(),
                    ..RevisionInput::default()
                };
                let draft = insert_revision(&mut tx, ctx, &doc, &input).await?;
                (Some(next_review(today, interval)), Some(draft.id.0))
            }
            ReviewOutcome::Obsolete => {
                match obsolete_in(&mut tx, ctx, id, doc.meta.version, comment).await? {
                    Change::Done(_) => {}
                    _ => {
                        return Err(StoreError::Conflict(
                            "The document changed meanwhile; nothing was changed.".into(),
                        ));
                    }
                }
                (None, None)
            }
        };
        let (review_id,): (i64,) = sqlx::query_as(
            "insert into document_reviews (document_id, outcome, comment, reviewed_on, next_review_on, reviewer_id, \
             signature_id, revision_id, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             returning document_review_id",
        )
        .bind(id.0)
        .bind(outcome.as_str())
        .bind(comment)
        .bind(today)
        .bind(next)
        .bind(reviewer.0)
        .bind(signature_id)
        .bind(revision)
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await?;
        refresh_next_review(&mut tx, id.0).await?;
        let after = serde_json::json!({
            "document_id": id.0,
            "number": doc.number,
            "outcome": outcome.as_str(),
            "comment": comment,
            "reviewed_on": today,
            "next_review_on": next,
            "signature_id": signature_id,
            "revision_id": revision,
        });
        let draft = Draft {
            action: AuditAction::Create,
            record_type: "document_review",
            record_id: review_id,
            record_version: 1,
            changes: diff(&serde_json::Value::Null, &after),
            reason: Some(&reason),
        };
        append_audit(&mut tx, ctx, draft).await?;
        let document = document_by_id(&mut tx, id.0).await?.ok_or_else(|| StoreError::unreadable("document", id.0))?;
        tx.commit().await?;
        Ok(document)
    }

    async fn review_items(
        &self,
        owner: Option<UserId>,
        today: NaiveDate,
        horizon: NaiveDate,
    ) -> StoreResult<Vec<WorkItem>> {
        let sql = format!("{DOCUMENT_SELECT} where d.retired_at is null and ($1 is null or d.owner_id = $1)");
        let rows: Vec<DocumentRow> = sqlx::query_as(&sql).bind(owner.map(|o| o.0)).fetch_all(&self.pool).await?;
        let mut items = Vec::new();
        for row in rows {
            let doc = row.into_document(&[], &[])?;
            if let Some(due) = doc.next_review_on.filter(|d| *d <= horizon) {
                items.push(WorkItem {
                    kind: "Periodic review".into(),
                    record_type: "document".into(),
                    record_id: doc.id.0,
                    reference: doc.number,
                    title: doc.title,
                    due,
                    overdue: due < today,
                });
            }
        }
        items.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.reference.cmp(&b.reference)));
        Ok(items)
    }

    async fn import_documents(&self, ctx: &AuditContext, documents: &[HistoricDocument]) -> StoreResult<usize> {
        use sha2::Digest as _;
        let mut tx = self.write_tx().await?;
        let now = Utc::now();
        let reason = Some("Brought into Caliper in force");
        let scheme = document_settings_in(&mut tx).await?.revision_labels;
        for d in documents {
            let (Some(first), Some(last)) = (d.revisions.first(), d.revisions.last()) else { continue };
            let (next,): (i64,) = sqlx::query_as(
                "insert into document_sequences (doc_type, last_value) values ($1, 1) \
                 on conflict (doc_type) do update set last_value = document_sequences.last_value + 1 \
                 returning last_value",
            )
            .bind(d.doc_type.as_str())
            .fetch_one(&mut *tx)
            .await?;
            let number = d.doc_type.number(u32::try_from(next).unwrap_or(u32::MAX));
            let next_review_on = next_review(first.in_force_from, d.review_interval_months);
            let (id,): (i64,) = sqlx::query_as(
                "insert into documents (number, doc_type, title, owner_id, process_id, review_interval_months, \
                    retention_years, source, source_revision, next_review_on, version, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) returning document_id",
            )
            .bind(&number)
            .bind(d.doc_type.as_str())
            .bind(&d.title)
            .bind(d.owner.0)
            .bind(d.process.map(|p| p.0))
            .bind(i64::from(d.review_interval_months))
            .bind(i64::from(d.retention_years))
            .bind(&d.source.0)
            .bind(&d.source.1)
            .bind(next_review_on)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for (role, ids) in [("reviewer", &d.reviewers), ("approver", &d.approvers)] {
                for (position, user) in ids.iter().enumerate() {
                    sqlx::query(
                        "insert into document_people (document_id, role, user_id, position) values ($1, $2, $3, $4)",
                    )
                    .bind(id)
                    .bind(role)
                    .bind(user.0)
                    .bind(position as i64)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let after = serde_json::json!({"number": number, "doc_type": d.doc_type, "title": d.title,
                "owner_id": d.owner, "process_id": d.process, "reviewers": d.reviewers, "approvers": d.approvers,
                "review_interval_months": d.review_interval_months, "retention_years": d.retention_years,
                "next_review_on": next_review_on});
            let draft = Draft {
                action: AuditAction::Create,
                record_type: "document",
                record_id: id,
                record_version: 1,
                changes: diff(&serde_json::Value::Null, &after),
                reason,
            };
            append_audit(&mut tx, ctx, draft).await?;
            for (i, r) in d.revisions.iter().enumerate() {
                let seq = i as i64 + 1;
                let label = scheme.label(u32::try_from(seq).unwrap_or(u32::MAX));
                let in_force = std::ptr::eq(r, last);
                // The one in force is written approved and then put in force, so that the
                // search index's trigger (on a change of status) indexes its text.
                let (revision,): (i64,) = sqlx::query_as(
                    "insert into document_revisions (document_id, seq, label, status, author_id, body, \
                        reason_for_change, change_summary, in_force_from, version, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10) returning revision_id",
                )
                .bind(id)
                .bind(seq)
                .bind(&label)
                .bind(if in_force { "approved" } else { "superseded" })
                .bind(d.owner.0)
                .bind(&r.body)
                .bind(&r.reason_for_change)
                .bind(&r.change_summary)
                .bind(r.in_force_from)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                if in_force {
                    sqlx::query("update document_revisions set status = 'effective' where revision_id = $1")
                        .bind(revision)
                        .execute(&mut *tx)
                        .await?;
                }
                let after = serde_json::json!({"document_id": id, "seq": seq, "label": label,
                    "status": if in_force { "effective" } else { "superseded" }, "author_id": d.owner,
                    "body_sha256": shared::audit::hex(&sha2::Sha256::digest(r.body.as_bytes())),
                    "body_chars": r.body.chars().count(), "reason_for_change": r.reason_for_change,
                    "change_summary": r.change_summary, "in_force_from": r.in_force_from});
                let draft = Draft {
                    action: AuditAction::Create,
                    record_type: "document_revision",
                    record_id: revision,
                    record_version: 1,
                    changes: diff(&serde_json::Value::Null, &after),
                    reason,
                };
                append_audit(&mut tx, ctx, draft).await?;
            }
        }
        tx.commit().await?;
        Ok(documents.len())
    }

    async fn backdate_in_force(&self, ctx: &AuditContext, id: RevisionId, from: NaiveDate) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = revision_by_id(&mut tx, id.0)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("No revision {}.", id.0)))?;
        if before.status != RevisionStatus::Effective {
            return Err(StoreError::Retired("Only the revision in force can be backdated.".into()));
        }
        sqlx::query("update document_revisions set in_force_from = $2 where revision_id = $1")
            .bind(id.0)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        refresh_next_review(&mut tx, before.document_id.0).await?;
        let reason = format!("In force since {from}, before it was brought into Caliper");
        let draft = Draft {
            action: AuditAction::Update,
            record_type: "document_revision",
            record_id: id.0,
            record_version: before.meta.version,
            changes: one_change("in_force_from", serde_json::Value::Null, serde_json::json!(from)),
            reason: Some(&reason),
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn document_settings(&self) -> StoreResult<DocumentSettings> {
        let mut conn = self.pool.acquire().await?;
        document_settings_in(&mut conn).await
    }

    async fn set_document_settings(
        &self,
        ctx: &AuditContext,
        settings: DocumentSettings,
    ) -> StoreResult<DocumentSettings> {
        let mut tx = self.write_tx().await?;
        // The row held first: two administrators changing it at once are audited one after the
        // other, each with what the other left as its "before".
        let lock = format!("select 1 from installation_settings where installation_settings_id = 1{FOR_UPDATE}");
        sqlx::query(&lock).fetch_optional(&mut *tx).await?;
        let before = document_settings_in(&mut tx).await?;
        if before == settings {
            return Ok(settings);
        }
        let (version,): (i64,) = sqlx::query_as(
            "insert into installation_settings (installation_settings_id, revision_labels, version, updated_at) \
             values (1, $1, 1, $2) on conflict (installation_settings_id) do update set revision_labels = $1, \
             version = installation_settings.version + 1, updated_at = $2 returning version",
        )
        .bind(settings.revision_labels.as_str())
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await?;
        let to_json = |s: DocumentSettings| serde_json::to_value(s).unwrap_or_default();
        let draft = Draft {
            action: AuditAction::Update,
            record_type: "installation_settings",
            record_id: 1,
            record_version: version,
            changes: diff(&to_json(before), &to_json(settings)),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(settings)
    }
}
