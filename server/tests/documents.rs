//! Document control's storage, on SQLite and PostgreSQL: numbers per type that are never shared
//! (also when documents are created at once through two stores), and revisions through the
//! workflow of `shared::document`, every refusal with its kind.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::TestDb;
use server::storage::{AuditContext, AuditFilter, Change, SignOutcome, Store, StoreError};
use shared::audit::AuditAction;
use shared::auth::{Role, UserId};
use shared::document::{
    DocumentId, DocumentInput, DocumentType, RevisionAction, RevisionId, RevisionInput, RevisionStatus,
};
use shared::signature::{Meaning, SignInput};

/// The people of a document: its owner, a reviewer, an approver and someone else.
struct People {
    owner: UserId,
    reviewer: UserId,
    approver: UserId,
    reader: UserId,
}

async fn people(store: &Arc<dyn Store>) -> People {
    People {
        owner: common::create_user(store, "tom.okafor", &[Role::ProcessOwner]).await,
        reviewer: common::create_user(store, "aisha.rahman", &[Role::ProcessOwner]).await,
        approver: common::create_user(store, "priya.natarajan", &[Role::QualityManager]).await,
        reader: common::create_user(store, "lee.chen", &[Role::Staff]).await,
    }
}

fn sop(title: &str, p: &People) -> DocumentInput {
    DocumentInput {
        doc_type: DocumentType::Sop,
        title: title.into(),
        owner_id: Some(p.owner),
        process_id: None,
        reviewers: vec![p.reviewer],
        approvers: vec![p.approver],
        review_interval_months: 24,
        retention_years: 10,
        source: String::new(),
        source_revision: String::new(),
        reader_roles: Vec::new(),
        reader_department_ids: Vec::new(),
    }
}

/// A change made by `user`.
fn by(user: UserId) -> AuditContext {
    AuditContext {
        actor_id: Some(user.0),
        actor_name: format!("user {}", user.0),
        ..AuditContext::tool("documents test")
    }
}

fn body(text: &str) -> RevisionInput {
    RevisionInput { body: text.into(), ..Default::default() }
}

async fn numbers_are_per_type_and_never_shared(store: Arc<dyn Store>, db: TestDb) {
    let p = people(&store).await;
    let other = db.second_store();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = if i % 2 == 0 { store.clone() } else { other.clone() };
        let input = sop(&format!("Procedure {i}"), &p);
        tasks.push(tokio::spawn(async move { store.create_document(&AuditContext::tool("test"), &input).await }));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        numbers.insert(t.await.unwrap().unwrap().number);
    }
    let expected: BTreeSet<String> = (1..=12).map(|n| format!("SOP-{n:04}")).collect();
    assert_eq!(numbers, expected, "twelve created at once through two stores: twelve numbers");
    let wi = DocumentInput { doc_type: DocumentType::WorkInstruction, ..sop("Set up the lathe", &p) };
    assert_eq!(store.create_document(&by(p.approver), &wi).await.unwrap().number, "WI-0001");
    assert_eq!(store.list_documents(false).await.unwrap().len(), 13);

    // Bad references name their field; nothing is created and no number is used up.
    let nobody = DocumentInput { owner_id: Some(UserId(999)), ..sop("Orphan", &p) };
    let Err(StoreError::Invalid(e)) = store.create_document(&by(p.approver), &nobody).await else { panic!() };
    assert!(e.get("owner_id").is_some(), "{e:?}");
    let no_approver = DocumentInput { approvers: vec![], ..sop("Unapprovable", &p) };
    let Err(StoreError::Invalid(e)) = store.create_document(&by(p.approver), &no_approver).await else { panic!() };
    assert!(e.get("approvers").is_some(), "{e:?}");
    let next = store.create_document(&by(p.approver), &sop("Thirteenth", &p)).await.unwrap();
    assert_eq!(next.number, "SOP-0013");
    assert_eq!((next.reviewers.clone(), next.approvers.clone()), (vec![p.reviewer], vec![p.approver]));

    // The database refuses to delete a document.
    let err = db.execute("delete from documents").await.unwrap_err();
    assert!(err.to_string().contains("deleted") || err.to_string().contains("retired"), "{err}");
}

async fn revisions_follow_the_workflow(store: Arc<dyn Store>, _db: TestDb) {
    let p = people(&store).await;
    let doc = store.create_document(&by(p.approver), &sop("Control of documents", &p)).await.unwrap();
    let draft = store.create_revision(&by(p.owner), doc.id, &body("# Purpose\n")).await.unwrap();
    assert_eq!((draft.seq, draft.label.as_str(), draft.status), (1, "A", RevisionStatus::Draft));
    assert_eq!(draft.author_id, p.owner);

    // One revision in progress at a time.
    let Err(StoreError::Conflict(_)) = store.create_revision(&by(p.owner), doc.id, &body("again")).await else {
        panic!("a second revision in progress")
    };
    // Edits: only by the author or owner, at the current version.
    let edited = body("# Purpose\nTo control documents.\n");
    let Err(StoreError::Forbidden(_)) = store.update_draft(&by(p.reader), draft.id, 1, &edited).await else {
        panic!("someone else edits the draft")
    };
    let Change::Done(draft) = store.update_draft(&by(p.owner), draft.id, 1, &edited).await.unwrap() else { panic!() };
    assert_eq!(draft.meta.version, 2);
    let Change::Stale(current) = store.update_draft(&by(p.owner), draft.id, 1, &body("late")).await.unwrap() else {
        panic!("a stale edit")
    };
    assert_eq!(current.content.body, edited.body);

    // Submitting: the author may, a reader may not.
    let move_ = |who: UserId, version: i64, action: RevisionAction, reason: &'static str| {
        let store = store.clone();
        let id = draft.id;
        async move { store.move_revision(&by(who), id, version, action, reason, false).await }
    };
    let Err(StoreError::Forbidden(_)) = move_(p.reader, 2, RevisionAction::Submit, "").await else { panic!() };
    let Change::Done(in_review) = move_(p.owner, 2, RevisionAction::Submit, "").await.unwrap() else { panic!() };
    assert_eq!(in_review.status, RevisionStatus::InReview);
    // In review, nobody edits it: a state refusal (409), not a person's.
    let Err(StoreError::Retired(_)) = store.update_draft(&by(p.owner), draft.id, 3, &edited).await else { panic!() };
    // Sending back needs a reason, and a reviewer.
    let Err(StoreError::Invalid(e)) = move_(p.reviewer, 3, RevisionAction::SendBack, " ").await else { panic!() };
    assert!(e.get("reason").is_some());
    let Err(StoreError::Forbidden(_)) = move_(p.reader, 3, RevisionAction::SendBack, "No.").await else { panic!() };
    let Change::Done(back) = move_(p.reviewer, 3, RevisionAction::SendBack, "Scope is missing.").await.unwrap() else {
        panic!()
    };
    assert_eq!((back.status, back.status_reason.as_str()), (RevisionStatus::Draft, "Scope is missing."));
    // Cancelling it frees the document for a new revision, which needs its reasons.
    let Change::Done(cancelled) = move_(p.owner, 4, RevisionAction::Cancel, "Replaced by a rewrite.").await.unwrap()
    else {
        panic!()
    };
    assert_eq!(cancelled.status, RevisionStatus::Cancelled);
    let Err(StoreError::Retired(_)) = move_(p.owner, 5, RevisionAction::Submit, "").await else { panic!() };
    let Err(StoreError::Invalid(e)) = store.create_revision(&by(p.owner), doc.id, &body("# Rewrite\n")).await else {
        panic!("the second revision says why it changes")
    };
    assert!(e.get("reason_for_change").is_some() && e.get("change_summary").is_some(), "{e:?}");
    let second = RevisionInput {
        reason_for_change: "Rewrite after audit finding".into(),
        change_summary: "New structure".into(),
        ..body("# Rewrite\n")
    };
    let b = store.create_revision(&by(p.owner), doc.id, &second).await.unwrap();
    assert_eq!((b.seq, b.label.as_str()), (2, "B"));

    let revisions = store.list_revisions(doc.id).await.unwrap();
    assert_eq!(revisions.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(), vec!["B", "A"]);
    // Every step is in the audit trail, with its reason.
    let trail = store
        .list_audit(&AuditFilter {
            record_type: Some("document_revision".into()),
            record_id: Some(draft.id.0),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.len(), 5, "created, edited, submitted, sent back, cancelled");
    assert_eq!(trail[1].reason.as_deref(), Some("Scope is missing."));
    assert!(store.verify_audit().await.unwrap().intact);
}

/// `who` signs revision `id` at its current content version with `meaning`.
async fn sign(store: &Arc<dyn Store>, who: UserId, id: RevisionId, meaning: Meaning) -> Result<(), StoreError> {
    let r = store.get_revision(id).await.unwrap().unwrap();
    let input = SignInput {
        record_type: "document_revision".into(),
        record_id: id.0,
        record_version: r.content_version,
        meaning,
        password: String::new(),
        username: None,
        accept_agreement: true,
        rationale: None,
    };
    match store.sign(&by(who), who, &format!("user {}", who.0), &input, true).await? {
        SignOutcome::Signed(s) => {
            assert_eq!((s.record_version, s.meaning), (r.content_version, meaning));
            Ok(())
        }
        other => panic!("{other:?}"),
    }
}

/// A revision drafted by the owner and submitted: its id.
async fn submitted(store: &Arc<dyn Store>, p: &People, doc: DocumentId, input: RevisionInput) -> RevisionId {
    let r = store.create_revision(&by(p.owner), doc, &input).await.unwrap();
    let Change::Done(r) =
        store.move_revision(&by(p.owner), r.id, r.meta.version, RevisionAction::Submit, "", false).await.unwrap()
    else {
        panic!()
    };
    r.id
}

async fn status(store: &Arc<dyn Store>, id: RevisionId) -> RevisionStatus {
    store.get_revision(id).await.unwrap().unwrap().status
}

async fn signatures_approve_a_revision_and_the_next_one_supersedes_it(store: Arc<dyn Store>, db: TestDb) {
    let p = people(&store).await;
    let doc = store.create_document(&by(p.approver), &sop("Calibration", &p)).await.unwrap();
    let a = submitted(&store, &p, doc.id, body("# Calibration\n")).await;

    // Only the named people sign, each once, the author never as approver.
    let Err(StoreError::Forbidden(_)) = sign(&store, p.reader, a, Meaning::Reviewed).await else { panic!() };
    let Err(StoreError::Forbidden(_)) = sign(&store, p.owner, a, Meaning::Approved).await else { panic!() };
    let Err(StoreError::Invalid(_)) = sign(&store, p.approver, a, Meaning::Verified).await else { panic!() };
    sign(&store, p.approver, a, Meaning::Approved).await.unwrap();
    let Err(StoreError::Forbidden(_)) = sign(&store, p.approver, a, Meaning::Approved).await else { panic!() };
    assert_eq!(status(&store, a).await, RevisionStatus::InReview, "the reviewer has not signed yet");
    // The last required signature approves it; without an effective date it is in force at once.
    sign(&store, p.reviewer, a, Meaning::Reviewed).await.unwrap();
    assert_eq!(status(&store, a).await, RevisionStatus::Effective);
    let signatures = store.list_signatures("document_revision", Some(a.0)).await.unwrap();
    assert_eq!(signatures.len(), 2);
    assert!(signatures.iter().all(|s| !s.superseded), "status changes keep the signatures");
    let Err(StoreError::Retired(_)) = sign(&store, p.reviewer, a, Meaning::Reviewed).await else { panic!() };

    // Revision B: reviewed, sent back and edited: the review is void and must be given again.
    let second = |text: &str| RevisionInput {
        reason_for_change: "Periodic review".into(),
        change_summary: "Intervals shortened".into(),
        ..body(text)
    };
    let b = submitted(&store, &p, doc.id, second("# Calibration\nEvery 6 months.\n")).await;
    sign(&store, p.reviewer, b, Meaning::Reviewed).await.unwrap();
    let r = store.get_revision(b).await.unwrap().unwrap();
    let Change::Done(r) = store
        .move_revision(&by(p.approver), b, r.meta.version, RevisionAction::SendBack, "Say which gauges.", false)
        .await
        .unwrap()
    else {
        panic!()
    };
    let Change::Done(r) = store
        .update_draft(&by(p.owner), b, r.meta.version, &second("# Calibration\nGauges: every 6 months.\n"))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.content_version, 2);
    let void = store.list_signatures("document_revision", Some(b.0)).await.unwrap();
    assert!(void.len() == 1 && void[0].superseded, "the edit voids the review: {void:?}");
    store.move_revision(&by(p.owner), b, r.meta.version, RevisionAction::Submit, "", false).await.unwrap();
    sign(&store, p.approver, b, Meaning::Approved).await.unwrap();
    assert_eq!(status(&store, b).await, RevisionStatus::InReview, "the void review does not count");
    sign(&store, p.reviewer, b, Meaning::Reviewed).await.unwrap();
    assert_eq!(
        (status(&store, b).await, status(&store, a).await),
        (RevisionStatus::Effective, RevisionStatus::Superseded)
    );

    // Revision C with a later effective date: approved, and B stays in force until then.
    let later = RevisionInput {
        effective_date: Some(chrono::Utc::now().date_naive() + chrono::Days::new(30)),
        ..second("# Calibration\nGauges and masters: every 6 months.\n")
    };
    let c = submitted(&store, &p, doc.id, later).await;
    sign(&store, p.reviewer, c, Meaning::Reviewed).await.unwrap();
    sign(&store, p.approver, c, Meaning::Approved).await.unwrap();
    assert_eq!(
        (status(&store, c).await, status(&store, b).await),
        (RevisionStatus::Approved, RevisionStatus::Effective)
    );

    // When its date comes (the server's minute clock, or its start after downtime), C takes
    // effect and supersedes B; a second run, as another instance would, finds nothing to do.
    let clock = AuditContext::tool("effective dates");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(store.take_effect_due(&clock, today).await.unwrap(), 0);
    let due = today + chrono::Days::new(30);
    assert_eq!(store.take_effect_due(&clock, due).await.unwrap(), 1);
    assert_eq!(
        (status(&store, c).await, status(&store, b).await),
        (RevisionStatus::Effective, RevisionStatus::Superseded)
    );
    assert_eq!(db.second_store().take_effect_due(&clock, due).await.unwrap(), 0);

    // The database holds one revision in force per document, whatever writes to it.
    let err =
        db.execute(&format!("update document_revisions set status = 'effective' where revision_id = {}", a.0)).await;
    assert!(err.unwrap_err().to_string().to_lowercase().contains("unique"));
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn me(client: &common::Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

async fn the_api_runs_the_workflow_with_named_errors(store: Arc<dyn Store>, _db: TestDb) {
    use axum::http::StatusCode;
    use serde_json::json;
    let qm = common::Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let owner = common::Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let reviewer = common::Client::as_new_user(store.clone(), "aisha.rahman", &[Role::ProcessOwner]).await;
    let staff = common::Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let auditor = common::Client::as_new_user(store.clone(), "sam.reid", &[Role::Auditor]).await;
    let (owner_id, reviewer_id, qm_id) = (me(&owner).await, me(&reviewer).await, me(&qm).await);

    // Creating: document managers only; every bad field named.
    let doc = json!({"doc_type": "sop", "title": "Control of records", "owner_id": owner_id,
        "reviewers": [reviewer_id], "approvers": [qm_id], "review_interval_months": 24, "retention_years": 10});
    assert_eq!(owner.json("POST", "/api/v1/documents", &doc).await.status, StatusCode::FORBIDDEN);
    let bad = qm
        .json(
            "POST",
            "/api/v1/documents",
            &json!({"doc_type": "external", "title": "", "approvers": [],
        "review_interval_months": 0, "retention_years": 10}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    for field in ["title", "owner_id", "approvers", "review_interval_months", "source", "source_revision"] {
        assert!(bad.body["field_errors"][field].is_array(), "{field}: {}", bad.text);
    }
    let created = qm.json("POST", "/api/v1/documents", &doc).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["number"], "SOP-0001");
    let id = created.body["id"].as_i64().unwrap();

    // Drafting: the owner; a reader may not.
    let draft = json!({"body": "# Purpose\nKeep records."});
    let path = format!("/api/v1/documents/{id}/revisions");
    assert_eq!(staff.json("POST", &path, &draft).await.status, StatusCode::FORBIDDEN);
    let r = owner.json("POST", &path, &draft).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!((r.body["label"].as_str(), r.body["status"].as_str()), (Some("A"), Some("draft")));
    let rev = r.body["id"].as_i64().unwrap();
    // A draft is not for every reader's eyes; an auditor sees it.
    assert_eq!(staff.get(&format!("/api/v1/document-revisions/{rev}")).await.status, StatusCode::NOT_FOUND);
    assert!(staff.get(&path).await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(auditor.get(&format!("/api/v1/document-revisions/{rev}")).await.status, StatusCode::OK);

    // Editing needs the version; a stale one gets 409 with the current revision.
    let edit = |version: &str| {
        axum::http::Request::builder()
            .method("PUT")
            .uri(format!("/api/v1/document-revisions/{rev}"))
            .header("content-type", "application/json")
            .header("if-match", version)
            .body(axum::body::Body::from(r#"{"body": "Keep records for ten years."}"#))
            .unwrap()
    };
    let r = owner.send(edit("\"1\"")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = owner.send(edit("\"1\"")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["current"]["version"], 2);

    // Moving: the wrong person 403, the wrong state 409, a missing reason 422 naming it.
    let step =
        |action: &str, version: i64, reason: &str| json!({"action": action, "version": version, "reason": reason});
    let move_path = format!("/api/v1/document-revisions/{rev}/move");
    assert_eq!(staff.json("POST", &move_path, &step("submit", 2, "")).await.status, StatusCode::FORBIDDEN);
    let r = owner.json("POST", &move_path, &step("submit", 2, "")).await;
    assert_eq!((r.status, r.body["status"].as_str()), (StatusCode::OK, Some("in_review")), "{}", r.text);
    assert_eq!(owner.json("POST", &move_path, &step("submit", 3, "")).await.status, StatusCode::CONFLICT);
    let r = reviewer.json("POST", &move_path, &step("send_back", 3, "")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["field_errors"]["reason"].is_array(), "{}", r.text);

    // Signing through the signature endpoint: the reviewer, then the approver, who puts it in force.
    let sign = |meaning: &str, version: i64| {
        json!({"record_type": "document_revision", "record_id": rev, "record_version": version,
            "meaning": meaning, "password": common::PASSWORD, "accept_agreement": true})
    };
    assert_eq!(staff.sign(&sign("approved", 2)).await.status, StatusCode::FORBIDDEN);
    let r = reviewer.sign(&sign("reviewed", 2)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = qm.sign(&sign("approved", 2)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(qm.verified(&r.body).await, "valid", "a revision's approval re-verifies");
    let r = staff.get(&format!("/api/v1/document-revisions/{rev}")).await;
    assert_eq!((r.status, r.body["status"].as_str()), (StatusCode::OK, Some("effective")), "{}", r.text);
    assert_eq!(staff.get(&path).await.body["items"].as_array().unwrap().len(), 1, "the revision in force, for all");

    // Revision B, and the difference from A, line by line.
    let b = owner
        .json(
            "POST",
            &path,
            &json!({"body": "# Purpose\nKeep records for ten years.\nIndex them.",
            "reason_for_change": "Audit finding 7", "change_summary": "Indexing added"}),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let b = b.body["id"].as_i64().unwrap();
    let d = owner.get(&format!("/api/v1/document-revisions/{b}/diff?against={rev}")).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!((d.body["from_label"].as_str(), d.body["to_label"].as_str()), (Some("A"), Some("B")));
    let kinds: Vec<_> = d.body["lines"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    // A holds the one line of its last edit; B adds a heading before it and a line after.
    assert_eq!(kinds, ["added", "same", "added"], "{}", d.text);
    assert_eq!(d.body["lines"][1]["text"], "Keep records for ten years.");
    assert_eq!(
        staff.get(&format!("/api/v1/document-revisions/{b}/diff?against={rev}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Obsolete: with a reason, by a document manager; the draft in progress is cancelled.
    let obsolete = format!("/api/v1/documents/{id}/obsolete");
    assert_eq!(
        owner.json("POST", &obsolete, &json!({"reason": "x", "version": 1})).await.status,
        StatusCode::FORBIDDEN
    );
    let r = qm.json("POST", &obsolete, &json!({"reason": " ", "version": 1})).await;
    assert!(r.body["field_errors"]["reason"].is_array(), "{}", r.text);
    let r = qm.json("POST", &obsolete, &json!({"reason": "Merged into SOP-0002", "version": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["retired_reason"], "Merged into SOP-0002");
    let r = owner.get(&format!("/api/v1/document-revisions/{b}")).await;
    assert_eq!(r.body["status"], "cancelled", "{}", r.text);
    assert_eq!(
        owner.json("POST", &path, &draft).await.status,
        StatusCode::CONFLICT,
        "an obsolete document takes no revision"
    );
    assert!(qm.get("/api/v1/documents").await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(qm.get("/api/v1/documents?include_obsolete=true").await.body["items"][0]["number"], "SOP-0001");
}

/// The audit entries of revision `id` that moved its status to `status` (not its creation).
async fn moves_to(store: &Arc<dyn Store>, id: RevisionId, status: &str) -> Vec<shared::audit::AuditEntry> {
    let filter = AuditFilter {
        record_type: Some("document_revision".into()),
        record_id: Some(id.0),
        limit: 1000,
        ..Default::default()
    };
    let trail = store.list_audit(&filter).await.unwrap();
    trail
        .into_iter()
        .filter(|e| e.action == AuditAction::Update && e.changes.get("status").is_some_and(|c| c.new == status))
        .collect()
}

/// A document with the people's reviewer and two approvers whose revision A is in force, and
/// its revision B submitted and reviewed: B waits for the two approvers only. (A, B).
async fn awaiting_two_approvers(
    store: &Arc<dyn Store>,
    p: &People,
    second_approver: UserId,
    title: &str,
) -> (RevisionId, RevisionId) {
    let input = DocumentInput { approvers: vec![p.approver, second_approver], ..sop(title, p) };
    let doc = store.create_document(&by(p.approver), &input).await.unwrap();
    let a = submitted(store, p, doc.id, body("# Purpose\n")).await;
    sign(store, p.reviewer, a, Meaning::Reviewed).await.unwrap();
    sign(store, p.approver, a, Meaning::Approved).await.unwrap();
    sign(store, second_approver, a, Meaning::Approved).await.unwrap();
    assert_eq!(status(store, a).await, RevisionStatus::Effective);
    let next = RevisionInput {
        reason_for_change: "Audit finding".into(),
        change_summary: "Scope added".into(),
        ..body("# Purpose\n# Scope\n")
    };
    let b = submitted(store, p, doc.id, next).await;
    sign(store, p.reviewer, b, Meaning::Reviewed).await.unwrap();
    (a, b)
}

/// Two instances (two stores on one database) take the last two required signatures at the
/// same moment, twenty times: each time the revision is approved once and put in force once,
/// the one before superseded once, and its people told once of each.
async fn two_approvers_signing_at_once_approve_once(store: Arc<dyn Store>, db: TestDb) {
    let p = people(&store).await;
    let second = common::create_user(&store, "marta.quist", &[Role::QualityManager]).await;
    let other = db.second_store();
    for i in 0..20 {
        let (a, b) = awaiting_two_approvers(&store, &p, second, &format!("Procedure {i}")).await;
        let (s1, s2) = (store.clone(), other.clone());
        let first = tokio::spawn(async move { sign(&s1, p.approver, b, Meaning::Approved).await });
        let (approver2, s2b) = (second, s2.clone());
        let last = tokio::spawn(async move { sign(&s2b, approver2, b, Meaning::Approved).await });
        let (first, last) = (first.await.unwrap(), last.await.unwrap());
        assert!(first.is_ok() && last.is_ok(), "both approvers sign: {first:?} {last:?}");
        assert_eq!(
            (status(&store, b).await, status(&store, a).await),
            (RevisionStatus::Effective, RevisionStatus::Superseded),
            "round {i}: every signature is there, so B is in force"
        );
        let doc = store.get_revision(b).await.unwrap().unwrap().document_id;
        let in_force = store.list_revisions(doc).await.unwrap();
        assert_eq!(in_force.iter().filter(|r| r.status == RevisionStatus::Effective).count(), 1);
        assert_eq!(moves_to(&store, b, "approved").await.len(), 1, "round {i}: approved once");
        assert_eq!(moves_to(&store, b, "effective").await.len(), 1, "round {i}: in force once");
        assert_eq!(moves_to(&store, a, "superseded").await.len(), 1, "round {i}: superseded once");
        let notices = store.list_notices(p.owner, false, 1000).await.unwrap();
        let of_b: Vec<_> = notices.iter().filter(|n| n.revision_id == Some(b)).map(|n| n.kind).collect();
        assert_eq!(of_b.len(), 2, "round {i}: the owner is told once of each: {of_b:?}");
    }
    assert!(store.verify_audit().await.unwrap().intact);
}

/// The minute clock of two instances puts twenty approved revisions in force at the same
/// moment: each is put in force once, its predecessor superseded once, each change audited
/// once, and the instance that comes second does nothing, without an error.
async fn two_clocks_put_each_revision_in_force_once(store: Arc<dyn Store>, db: TestDb) {
    let p = people(&store).await;
    let other = db.second_store();
    let later = chrono::Utc::now().date_naive() + chrono::Days::new(30);
    let mut pairs = Vec::new();
    for i in 0..20 {
        let doc = store.create_document(&by(p.approver), &sop(&format!("Procedure {i}"), &p)).await.unwrap();
        let a = submitted(&store, &p, doc.id, body("# Purpose\n")).await;
        sign(&store, p.reviewer, a, Meaning::Reviewed).await.unwrap();
        sign(&store, p.approver, a, Meaning::Approved).await.unwrap();
        let next = RevisionInput {
            reason_for_change: "Audit finding".into(),
            change_summary: "Scope added".into(),
            effective_date: Some(later),
            ..body("# Purpose\n# Scope\n")
        };
        let b = submitted(&store, &p, doc.id, next).await;
        sign(&store, p.reviewer, b, Meaning::Reviewed).await.unwrap();
        sign(&store, p.approver, b, Meaning::Approved).await.unwrap();
        assert_eq!(status(&store, b).await, RevisionStatus::Approved);
        pairs.push((doc.id, a, b));
    }
    let clock = AuditContext::tool("effective dates");
    let (s1, s2, c1, c2) = (store.clone(), other.clone(), clock.clone(), clock.clone());
    let one = tokio::spawn(async move { s1.take_effect_due(&c1, later).await });
    let two = tokio::spawn(async move { s2.take_effect_due(&c2, later).await });
    let (one, two) = (one.await.unwrap(), two.await.unwrap());
    let (one, two) = (one.expect("no error on the first instance"), two.expect("no error on the second instance"));
    assert_eq!(one + two, 20, "each revision put in force by one of them: {one} + {two}");
    for (doc, a, b) in pairs {
        assert_eq!(
            (status(&store, b).await, status(&store, a).await),
            (RevisionStatus::Effective, RevisionStatus::Superseded)
        );
        let revisions = store.list_revisions(doc).await.unwrap();
        assert_eq!(revisions.iter().filter(|r| r.status == RevisionStatus::Effective).count(), 1);
        assert_eq!(moves_to(&store, b, "effective").await.len(), 1, "in force once");
        assert_eq!(moves_to(&store, a, "superseded").await.len(), 1, "superseded once");
        let notices = store.list_notices(p.owner, false, 1000).await.unwrap();
        assert_eq!(notices.iter().filter(|n| n.revision_id == Some(b)).count(), 2, "approved, then in force");
    }
    assert_eq!(other.take_effect_due(&clock, later).await.unwrap(), 0);
    assert!(store.verify_audit().await.unwrap().intact);
}

/// A signature and a cancellation of the same revision at the same moment through two
/// instances, twenty times: either the signature comes first (and is in the trail before the
/// cancellation) or it is refused with a 409-kind error; never a signature on a cancelled
/// revision. The last signature against a cancellation: one of them wins, the other is refused.
/// Two sends-back at once: one sends it back, the other finds it changed.
async fn signing_against_cancelling_and_sending_back_one_wins(store: Arc<dyn Store>, db: TestDb) {
    let p = people(&store).await;
    let second = common::create_user(&store, "marta.quist", &[Role::QualityManager]).await;
    let other = db.second_store();
    let cancel = |store: Arc<dyn Store>, who: UserId, id: RevisionId| async move {
        let r = store.get_revision(id).await.unwrap().unwrap();
        store.move_revision(&by(who), id, r.meta.version, RevisionAction::Cancel, "Not needed.", false).await
    };
    let refused = |e: &StoreError| matches!(e, StoreError::Retired(_) | StoreError::Conflict(_));
    for i in 0..20 {
        // A signature that is not the last one, against the owner's cancellation.
        let (_, b) = awaiting_two_approvers(&store, &p, second, &format!("Procedure {i}")).await;
        let s1 = store.clone();
        let signing = tokio::spawn(async move { sign(&s1, p.approver, b, Meaning::Approved).await });
        let cancelling = tokio::spawn(cancel(other.clone(), p.owner, b));
        let (signed, cancelled) = (signing.await.unwrap(), cancelling.await.unwrap());
        let Ok(Change::Done(_)) = cancelled else { panic!("round {i}: the cancellation: {cancelled:?}") };
        assert_eq!(status(&store, b).await, RevisionStatus::Cancelled);
        let signatures = store.list_signatures("document_revision", Some(b.0)).await.unwrap();
        let approvals = signatures.iter().filter(|s| s.meaning == Meaning::Approved).count();
        match signed {
            Ok(()) => {
                let filter = AuditFilter {
                    record_type: Some("document_revision".into()),
                    record_id: Some(b.0),
                    limit: 1000,
                    ..Default::default()
                };
                let trail = store.list_audit(&filter).await.unwrap();
                let signed_at =
                    trail.iter().find(|e| e.changes.get("signature_meaning").is_some_and(|c| c.new == "approved"));
                let cancelled_at = moves_to(&store, b, "cancelled").await;
                assert!(
                    signed_at.unwrap().seq < cancelled_at[0].seq,
                    "round {i}: a signature given after the revision was cancelled"
                );
                assert_eq!(approvals, 1);
            }
            Err(e) => {
                assert!(refused(&e), "round {i}: {e:?}");
                assert_eq!(approvals, 0, "round {i}: the refused signature is not kept");
            }
        }

        // The last signature against the cancellation: exactly one of them happens.
        let (_, b) = awaiting_two_approvers(&store, &p, second, &format!("Instruction {i}")).await;
        sign(&store, p.approver, b, Meaning::Approved).await.unwrap();
        let s1 = store.clone();
        let signing = tokio::spawn(async move { sign(&s1, second, b, Meaning::Approved).await });
        let cancelling = tokio::spawn(cancel(other.clone(), p.owner, b));
        let (signed, cancelled) = (signing.await.unwrap(), cancelling.await.unwrap());
        match (&signed, &cancelled) {
            (Ok(()), Ok(Change::Stale(_))) => assert_eq!(status(&store, b).await, RevisionStatus::Effective),
            (Ok(()), Err(e)) if refused(e) => assert_eq!(status(&store, b).await, RevisionStatus::Effective),
            (Err(e), Ok(Change::Done(_))) if refused(e) => {
                assert_eq!(status(&store, b).await, RevisionStatus::Cancelled);
                assert!(moves_to(&store, b, "approved").await.is_empty());
            }
            _ => panic!("round {i}: one must win: {signed:?} {cancelled:?}"),
        }

        // Two sends-back at once, by the reviewer and an approver.
        let (_, b) = awaiting_two_approvers(&store, &p, second, &format!("Form {i}")).await;
        let version = store.get_revision(b).await.unwrap().unwrap().meta.version;
        let (s1, s2) = (store.clone(), other.clone());
        let reviewer = tokio::spawn(async move {
            s1.move_revision(&by(p.reviewer), b, version, RevisionAction::SendBack, "Say more.", false).await
        });
        let approver = tokio::spawn(async move {
            s2.move_revision(&by(p.approver), b, version, RevisionAction::SendBack, "Say less.", false).await
        });
        let outcomes = [reviewer.await.unwrap(), approver.await.unwrap()];
        let done = outcomes.iter().filter(|o| matches!(o, Ok(Change::Done(_)))).count();
        let lost =
            outcomes.iter().filter(|o| matches!(o, Ok(Change::Stale(_))) || o.as_ref().is_err_and(refused)).count();
        assert_eq!((done, lost), (1, 1), "round {i}: {outcomes:?}");
        assert_eq!(moves_to(&store, b, "draft").await.len(), 1, "round {i}: sent back once");
    }
    assert!(store.verify_audit().await.unwrap().intact);
}

on_both_backends!(
    the_api_runs_the_workflow_with_named_errors,
    numbers_are_per_type_and_never_shared,
    revisions_follow_the_workflow,
    signatures_approve_a_revision_and_the_next_one_supersedes_it,
    two_approvers_signing_at_once_approve_once,
    two_clocks_put_each_revision_in_force_once,
    signing_against_cancelling_and_sending_back_one_wins,
);
