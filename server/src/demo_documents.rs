//! Demo documents: about a dozen controlled documents across the types, several with two or
//! three revisions, one revision in review, one draft, one approved with a later effective date
//! and a train-by date, one document obsolete. The data is `server/demo/documents.json`; every
//! revision goes through the same workflow and signatures as a user's.

use std::collections::HashMap;

use chrono::{Days, Utc};
use serde::Deserialize;
use shared::auth::UserId;
use shared::document::{DocumentInput, DocumentType, RevisionAction, RevisionInput};
use shared::org::ProcessId;
use shared::signature::{Meaning, SignInput};

use crate::storage::{AuditContext, Change, Store, StoreError, StoreResult};

const DOCUMENTS: &str = include_str!("../demo/documents.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoDocument {
    doc_type: DocumentType,
    title: String,
    /// Usernames.
    owner: String,
    process: Option<String>,
    reviewers: Vec<String>,
    approvers: Vec<String>,
    review_interval_months: u32,
    retention_years: u32,
    #[serde(default)]
    source: String,
    #[serde(default)]
    source_revision: String,
    /// Made obsolete, with this reason.
    #[serde(default)]
    obsolete: Option<String>,
    revisions: Vec<DemoRevision>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRevision {
    /// `effective`, `approved_later`, `in_review` or `draft`.
    state: String,
    body: String,
    #[serde(default)]
    reason_for_change: String,
    #[serde(default)]
    change_summary: String,
    #[serde(default)]
    requested_by: String,
    /// For `approved_later`: days from today to the effective date.
    #[serde(default)]
    effective_in_days: u64,
    /// For `approved_later`: days from today to the train-by date.
    #[serde(default)]
    train_in_days: Option<u64>,
    /// In force since this many days ago (brought into Caliper from paper): its periodic review
    /// counts from then, so a long one is overdue for review.
    #[serde(default)]
    in_force_since_days: Option<u64>,
}

/// Seeds the demo documents once (nothing when a document exists): returns (created, existing).
/// `users` maps usernames to (id, printed name), `processes` process names to ids.
pub async fn seed_documents(
    store: &dyn Store,
    users: &HashMap<&str, (UserId, String)>,
    processes: &HashMap<String, ProcessId>,
) -> StoreResult<(usize, usize)> {
    let existing = store.list_documents(true).await?;
    if !existing.is_empty() {
        return Ok((0, existing.len()));
    }
    let demo: Vec<DemoDocument> =
        serde_json::from_str(DOCUMENTS).map_err(|e| StoreError::Internal(format!("demo/documents.json: {e}")))?;
    let who = |username: &str| {
        users.get(username).cloned().ok_or_else(|| StoreError::Internal(format!("no demo user `{username}`")))
    };
    let as_user = |(id, name): &(UserId, String)| AuditContext {
        actor_id: Some(id.0),
        actor_name: name.clone(),
        ..AuditContext::tool("caliper seed-demo")
    };
    let today = Utc::now().date_naive();
    let manager = who("priya.natarajan")?;
    let mut created = 0;
    for d in &demo {
        let ids = |names: &[String]| names.iter().map(|n| who(n).map(|u| u.0)).collect::<StoreResult<Vec<_>>>();
        let input = DocumentInput {
            doc_type: d.doc_type,
            title: d.title.clone(),
            owner_id: Some(who(&d.owner)?.0),
            process_id: d.process.as_ref().and_then(|p| processes.get(p).copied()),
            reviewers: ids(&d.reviewers)?,
            approvers: ids(&d.approvers)?,
            review_interval_months: d.review_interval_months,
            retention_years: d.retention_years,
            source: d.source.clone(),
            source_revision: d.source_revision.clone(),
            reader_roles: Vec::new(),
            reader_department_ids: Vec::new(),
        };
        let doc = store.create_document(&as_user(&manager), &input).await?;
        created += 1;
        let owner = who(&d.owner)?;
        for r in &d.revisions {
            let later = r.state == "approved_later";
            let input = RevisionInput {
                body: r.body.clone(),
                reason_for_change: r.reason_for_change.clone(),
                change_summary: r.change_summary.clone(),
                requested_by: r.requested_by.clone(),
                effective_date: later.then(|| today + Days::new(r.effective_in_days)),
                train_by: r.train_in_days.map(|n| today + Days::new(n)),
                ..Default::default()
            };
            let revision = store.create_revision(&as_user(&owner), doc.id, &input).await?;
            if r.state == "draft" {
                continue;
            }
            let (author, submit) = (as_user(&owner), RevisionAction::Submit);
            let moved = store.move_revision(&author, revision.id, revision.meta.version, submit, "", false).await?;
            let Change::Done(revision) = moved else {
                return Err(StoreError::Internal(format!("demo revision of {} not submitted", doc.number)));
            };
            if r.state == "in_review" {
                continue;
            }
            for (names, meaning) in [(&d.reviewers, Meaning::Reviewed), (&d.approvers, Meaning::Approved)] {
                for name in names {
                    let signer = who(name)?;
                    let sign = SignInput {
                        record_type: "document_revision".into(),
                        record_id: revision.id.0,
                        record_version: revision.content_version,
                        meaning,
                        password: String::new(),
                        username: None,
                        accept_agreement: true,
                        rationale: None,
                    };
                    store.sign(&as_user(&signer), signer.0, &signer.1, &sign, true).await?;
                }
            }
            if let Some(days) = r.in_force_since_days {
                store.backdate_in_force(&as_user(&manager), revision.id, today - Days::new(days)).await?;
            }
        }
        if let Some(reason) = &d.obsolete {
            let doc = store.get_document(doc.id).await?.unwrap_or(doc);
            store.obsolete_document(&as_user(&manager), doc.id, doc.meta.version, reason).await?;
        }
    }
    Ok((created, 0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_documents_read_and_never_ask_an_author_to_approve() {
        let demo: Vec<super::DemoDocument> = serde_json::from_str(super::DOCUMENTS).unwrap();
        assert!(demo.len() >= 12);
        let overdue = demo.iter().filter(|d| {
            d.revisions
                .iter()
                .any(|r| r.in_force_since_days.is_some_and(|n| n > u64::from(d.review_interval_months) * 31))
        });
        assert_eq!(overdue.count(), 1, "one document overdue for its periodic review");
        for d in &demo {
            assert!(!d.approvers.contains(&d.owner), "{}: the owner drafts, someone else approves", d.title);
            let states = ["effective", "approved_later", "in_review", "draft"];
            assert!(d.revisions.iter().all(|r| states.contains(&r.state.as_str())), "{}", d.title);
            assert!(d.revisions.iter().all(|r| r.in_force_since_days.is_none() || r.state == "effective"));
        }
    }
}
