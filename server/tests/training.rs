//! Training on SQLite and PostgreSQL: assignments made in the transaction of their cause (a
//! curriculum line, a person created, a revision approved, a lapse), never twice when causes fire
//! at once; "read and understood" by signature; quizzes marked on the server with named
//! refusals; on-the-job sign-off by a qualified trainer only; the matrix and the auditor's
//! questions.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Days, Utc};
use common::{Client, PASSWORD, TestDb};
use serde_json::{Value, json};
use server::storage::{AuditContext, AuditFilter, Change, HistoricTraining, SignOutcome, Store};
use shared::auth::{Role, UserId};
use shared::document::{DocumentId, DocumentInput, DocumentType, RevisionAction, RevisionId, RevisionInput};
use shared::signature::{Meaning, SignInput};
use shared::training::{AssignmentCause, CurriculumLine, RequirementInput, RequirementKind};

fn by(user: UserId) -> AuditContext {
    AuditContext {
        actor_id: Some(user.0),
        actor_name: format!("user {}", user.0),
        ..AuditContext::tool("training test")
    }
}

/// A document with an owner, a reviewer and an approver.
async fn document(store: &Arc<dyn Store>, owner: UserId, reviewer: UserId, approver: UserId) -> DocumentId {
    let input = DocumentInput {
        doc_type: DocumentType::Sop,
        title: "Control of nonconforming product".into(),
        owner_id: Some(owner),
        process_id: None,
        reviewers: vec![reviewer],
        approvers: vec![approver],
        review_interval_months: 24,
        retention_years: 10,
        source: String::new(),
        source_revision: String::new(),
        reader_roles: Vec::new(),
        reader_department_ids: Vec::new(),
    };
    store.create_document(&by(approver), &input).await.unwrap().id
}

/// Drafts, submits and signs a revision through to approval (in force at once without an
/// effective date).
async fn approve(
    store: &Arc<dyn Store>,
    doc: DocumentId,
    (owner, reviewer, approver): (UserId, UserId, UserId),
    input: RevisionInput,
) -> RevisionId {
    let r = store.create_revision(&by(owner), doc, &input).await.unwrap();
    let Change::Done(r) =
        store.move_revision(&by(owner), r.id, r.meta.version, RevisionAction::Submit, "", false).await.unwrap()
    else {
        panic!("not submitted")
    };
    for (who, meaning) in [(reviewer, Meaning::Reviewed), (approver, Meaning::Approved)] {
        let sign = SignInput {
            record_type: "document_revision".into(),
            record_id: r.id.0,
            record_version: r.content_version,
            meaning,
            password: String::new(),
            username: None,
            accept_agreement: true,
            rationale: None,
        };
        assert!(matches!(store.sign(&by(who), who, "signer", &sign, true).await.unwrap(), SignOutcome::Signed(_)));
    }
    r.id
}

fn body(text: &str) -> RevisionInput {
    RevisionInput {
        body: text.into(),
        reason_for_change: "Audit finding".into(),
        change_summary: "Clearer steps".into(),
        ..Default::default()
    }
}

fn quiz_requirement(doc: DocumentId) -> Value {
    json!({
        "title": "Nonconforming product: read and pass the quiz",
        "kind": "quiz",
        "document_id": doc.0,
        "completion_days": 14,
        "quiz": {"pass_mark": 100, "attempts_allowed": 2, "questions": [
            {"text": "First step?", "options": ["Rework", "Tag and quarantine"], "correct": [1]},
            {"text": "Record holds? (all that apply)", "options": ["Quantity", "Description", "Shift"], "correct": [0, 1]}
        ]}
    })
}

async fn me(client: &Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

/// The letter of one person's cell for one requirement in the matrix.
fn cell(matrix: &Value, person: i64, requirement: i64) -> char {
    let people = matrix["people"].as_array().unwrap();
    let reqs = matrix["requirements"].as_array().unwrap();
    let p = people.iter().position(|p| p["id"] == person).expect("person in the matrix");
    let r = reqs.iter().position(|r| r["id"] == requirement).expect("requirement in the matrix");
    matrix["cells"].as_str().unwrap().chars().nth(p * reqs.len() + r).unwrap()
}

async fn staff_read_sign_and_pass_the_quiz(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let owner = common::create_user(&store, "tom.okafor", &[Role::ProcessOwner]).await;
    let reviewer = common::create_user(&store, "aisha.rahman", &[Role::ProcessOwner]).await;
    let lee = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let auditor = Client::as_new_user(store.clone(), "sam.reid", &[Role::Auditor]).await;
    let (qm_id, lee_id) = (UserId(me(&qm).await), me(&lee).await);
    let people = (owner, reviewer, qm_id);
    let doc = document(&store, owner, reviewer, qm_id).await;
    let rev_a = approve(&store, doc, people, body("Tag it. Quarantine it.")).await;

    // The requirement: bad fields named, the auditor refused, the key never shown.
    let mut bad = quiz_requirement(doc);
    bad["quiz"]["questions"][1]["correct"] = json!([7]);
    bad["completion_days"] = json!(0);
    let r = qm.json("POST", "/api/v1/training/requirements", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["quiz.questions[1].correct"].is_array(), "{}", r.text);
    assert!(r.body["field_errors"]["completion_days"].is_array(), "{}", r.text);
    let req = quiz_requirement(doc);
    assert_eq!(auditor.json("POST", "/api/v1/training/requirements", &req).await.status, StatusCode::FORBIDDEN);
    let r = qm.json("POST", "/api/v1/training/requirements", &req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let req_id = r.body["id"].as_i64().unwrap();
    assert!(!r.text.contains("correct"), "the key stays on the server: {}", r.text);

    // The staff curriculum assigns Lee in the same call; a person created later is assigned too.
    let line = json!({"requirement_id": req_id, "role": "staff"});
    assert_eq!(qm.json("POST", "/api/v1/training/curriculum", &line).await.status, StatusCode::CREATED);
    let again = qm.json("POST", "/api/v1/training/curriculum", &line).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.text);
    let mine = lee.get("/api/v1/training/my").await;
    let items = mine.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", mine.text);
    assert_eq!(items[0]["cause"], "curriculum_changed");
    assert_eq!(items[0]["status"], "assigned");
    assert_eq!(items[0]["revision_id"], rev_a.0);
    let assignment = items[0]["id"].as_i64().unwrap();
    let newcomer = common::create_user(&store, "new.starter", &[Role::Staff]).await;
    let theirs = store.list_assignments(Some(newcomer), true, Utc::now().date_naive()).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].cause, AssignmentCause::PersonChanged);

    // The quiz waits for "read and understood"; the sheet holds no key.
    let quiz = format!("/api/v1/training/assignments/{assignment}/quiz");
    let sheet = lee.get(&quiz).await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.text);
    assert!(!sheet.text.contains("correct"), "{}", sheet.text);
    assert_eq!(sheet.body["attempt"], 1);
    let right = json!({"attempt": 1, "answers": {"0": [1], "1": [0, 1]}});
    let r = lee.json("POST", &quiz, &right).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Acknowledging: only a trainee with an open assignment for this revision, once.
    let ack = json!({"record_type": "document_revision", "record_id": rev_a.0, "record_version": 1,
        "meaning": "acknowledged", "password": PASSWORD, "accept_agreement": true});
    assert_eq!(auditor.sign(&ack).await.status, StatusCode::FORBIDDEN);
    let r = qm.sign(&ack).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no assignment, no acknowledgment: {}", r.text);
    let r = lee.sign(&ack).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = lee.sign(&ack).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Someone else's quiz: not found for them. A wrong attempt is recorded; sending it again is
    // refused; the second attempt passes and completes the assignment.
    assert_eq!(qm.get(&quiz).await.status, StatusCode::NOT_FOUND);
    let wrong = json!({"attempt": 1, "answers": {"0": [1], "1": [0]}});
    let r = lee.json("POST", &quiz, &wrong).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["passed"].as_bool(), r.body["score"].as_i64()), (Some(false), Some(50)));
    assert_eq!(r.body["attempts_left"], 1);
    assert_eq!(lee.json("POST", &quiz, &wrong).await.status, StatusCode::CONFLICT, "answers sent twice");
    let bad = lee.json("POST", &quiz, &json!({"attempt": 2, "answers": {"0": [5]}})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let right = json!({"attempt": 2, "answers": {"0": [1], "1": [1, 0]}});
    let r = lee.json("POST", &quiz, &right).await;
    assert_eq!((r.body["passed"].as_bool(), r.body["score"].as_i64()), (Some(true), Some(100)), "{}", r.text);
    assert_eq!(r.body["assignment"]["state"], "completed");
    assert_eq!(lee.json("POST", &quiz, &json!({"attempt": 3, "answers": {}})).await.status, StatusCode::CONFLICT);

    // The matrix and the auditor's questions.
    assert_eq!(lee.get("/api/v1/training/matrix").await.status, StatusCode::FORBIDDEN);
    let m = auditor.get("/api/v1/training/matrix").await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert_eq!(cell(&m.body, lee_id, req_id), 'c');
    let today = Utc::now().date_naive();
    let ask = |day: chrono::NaiveDate| {
        format!("/api/v1/training/trained-on?user_id={lee_id}&requirement_id={req_id}&on={day}")
    };
    let yes = auditor.get(&ask(today)).await;
    assert_eq!(yes.status, StatusCode::OK, "{}", yes.text);
    assert_eq!(yes.body["trained"], true, "{}", yes.text);
    assert_eq!(yes.body["revision_in_force"], "A");
    assert_eq!(yes.body["evidence"]["score"], 100);
    assert!(yes.body["evidence"]["signature_id"].is_i64(), "{}", yes.text);
    let no = auditor.get(&ask(today - Days::new(1))).await;
    assert_eq!(no.body["trained"], false, "{}", no.text);
    let bad_day = auditor
        .get(&format!("/api/v1/training/trained-on?user_id={lee_id}&requirement_id={req_id}&on=yesterday"))
        .await;
    assert_eq!(bad_day.status, StatusCode::BAD_REQUEST, "{}", bad_day.text);
    let records = lee.get("/api/v1/training/records?user_id=1").await;
    assert!(records.body["items"].as_array().unwrap().iter().all(|r| r["user_id"] == lee_id), "own records only");

    // Revision B approved: Lee is assigned it at once, and his A completion is superseded.
    approve(&store, doc, people, body("Tag it. Quarantine it. Record it.")).await;
    let open = lee.get("/api/v1/training/my").await;
    let first = &open.body["items"][0];
    assert_eq!(
        (first["state"].as_str(), first["cause"].as_str()),
        (Some("open"), Some("revision_approved")),
        "{}",
        open.text
    );
    assert_eq!(first["revision_label"], "B");
    let m = auditor.get("/api/v1/training/matrix").await;
    assert_eq!(cell(&m.body, lee_id, req_id), 'x');
    let who = qm.get(&format!("/api/v1/training/documents/{}", doc.0)).await;
    let lee_row = who.body["items"].as_array().unwrap().iter().find(|t| t["user_id"] == lee_id).cloned().unwrap();
    assert_eq!((lee_row["status"].as_str(), lee_row["completed_revision"].as_str()), (Some("superseded"), Some("A")));
    // The superseded revision can no longer be acknowledged.
    let r = lee.sign(&ack).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Every step is in the audit trail.
    let trail = store
        .list_audit(&AuditFilter { record_type: Some("training_assignment".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert!(trail.len() >= 7, "{} entries", trail.len());
}

async fn causes_firing_at_once_assign_once(store: Arc<dyn Store>, db: TestDb) {
    let qm = common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    let owner = common::create_user(&store, "tom.okafor", &[Role::ProcessOwner]).await;
    let reviewer = common::create_user(&store, "aisha.rahman", &[Role::ProcessOwner]).await;
    let doc = document(&store, owner, reviewer, qm).await;
    approve(&store, doc, (owner, reviewer, qm), body("v1")).await;
    let dept = store
        .create_department(
            &by(qm),
            &shared::org::DepartmentInput { name: "Assembly".into(), site_id: None, version: None },
        )
        .await
        .unwrap()
        .id;
    let mut people = Vec::new();
    for i in 0..6 {
        let u = common::create_user(&store, &format!("operator.{i}"), &[Role::Staff]).await;
        let mut user = store.get_user(u).await.unwrap().unwrap();
        user.department_id = Some(dept);
        let input = shared::auth::UserInput::from_record(&user);
        store.update_user(&by(qm), u, user.meta.version, &input).await.unwrap();
        people.push(u);
    }
    let input = RequirementInput {
        title: "Read it".into(),
        kind: RequirementKind::ReadAndUnderstand,
        document_id: Some(doc),
        quiz: None,
        recurrence_months: None,
        completion_days: 14,
    };
    let req = store.create_requirement(&by(qm), &input).await.unwrap().id;
    // Two causes for the same people at once, through two stores (two instances).
    let other = db.second_store();
    let by_role = CurriculumLine { requirement_id: req, role: Some(Role::Staff), department_id: None };
    let by_dept = CurriculumLine { requirement_id: req, role: None, department_id: Some(dept) };
    let one = tokio::spawn({
        let store = store.clone();
        async move { store.add_curriculum_line(&by(qm), &by_role).await }
    });
    let two = tokio::spawn(async move { other.add_curriculum_line(&by(qm), &by_dept).await });
    one.await.unwrap().unwrap();
    two.await.unwrap().unwrap();
    let today = Utc::now().date_naive();
    let open = store.list_assignments(None, true, today).await.unwrap();
    for p in &people {
        assert_eq!(open.iter().filter(|a| a.user_id == *p).count(), 1, "one open assignment each");
    }
    assert_eq!(open.len(), people.len());
}

async fn a_trainer_signs_off_only_when_qualified_and_refreshers_come_on_time(store: Arc<dyn Store>, _db: TestDb) {
    let qm = common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    let trainee = common::create_user(&store, "lee.chen", &[Role::Staff]).await;
    let trainer = common::create_user(&store, "marta.kowalska", &[Role::Staff]).await;
    let novice = common::create_user(&store, "new.starter", &[Role::Staff]).await;
    let ojt = RequirementInput {
        title: "Lathe set-up".into(),
        kind: RequirementKind::OnTheJob,
        document_id: None,
        quiz: None,
        recurrence_months: Some(12),
        completion_days: 30,
    };
    let req = store.create_requirement(&by(qm), &ojt).await.unwrap().id;
    let now = Utc::now();
    let today = now.date_naive();
    // The trainer's own record, from before Caliper; the novice's lapsed 13 months ago.
    let history = |user, months_ago: u64| HistoricTraining {
        user,
        requirement: req,
        revision: None,
        assigned_on: today - Days::new(months_ago * 31 + 14),
        due_on: today - Days::new(months_ago * 31),
        completed_at: Some(now - Days::new(months_ago * 31)),
        score: None,
        trainer: Some(qm),
    };
    store.import_history(&by(qm), &[history(trainer, 2), history(novice, 13)]).await.unwrap();
    let line = CurriculumLine { requirement_id: req, role: Some(Role::Staff), department_id: None };
    store.add_curriculum_line(&by(qm), &line).await.unwrap();
    let open = store.list_assignments(Some(trainee), true, today).await.unwrap();
    assert_eq!(open.len(), 1);
    let id = open[0].id;
    let novice_open = store.list_assignments(Some(novice), true, today).await.unwrap();
    assert_eq!(novice_open.len(), 1, "the lapsed record brings a refresher");
    assert_eq!(novice_open[0].cause, AssignmentCause::Recurrence);
    // Nobody signs off their own; an unqualified trainer may not; a qualified one may.
    let refused = |e: server::storage::StoreError| matches!(e, server::storage::StoreError::Forbidden(_));
    assert!(refused(store.sign_off(&by(trainee), id, trainee, today).await.unwrap_err()));
    assert!(refused(store.sign_off(&by(novice), id, novice, today).await.unwrap_err()));
    let done = store.sign_off(&by(trainer), id, trainer, today).await.unwrap();
    assert_eq!(done.status, shared::training::CellStatus::Completed);
    let records = store.list_records(Some(trainee), Some(req)).await.unwrap();
    assert_eq!(records[0].trainer_name.as_deref(), Some(common::display_name("marta.kowalska").as_str()));
    assert_eq!(records[0].expires_on, now.date_naive().checked_add_months(chrono::Months::new(12)));
    // The minute clock: nothing more to assign now; a year on, the refreshers of both.
    assert_eq!(store.assign_refreshers(&AuditContext::tool("clock"), today).await.unwrap(), 0);
    let next_year = today.checked_add_months(chrono::Months::new(12)).unwrap();
    assert_eq!(store.assign_refreshers(&AuditContext::tool("clock"), next_year).await.unwrap(), 2);
    assert_eq!(store.assign_refreshers(&AuditContext::tool("clock"), next_year).await.unwrap(), 0);
}

/// "Read and understood" by `who` on revision `id`.
async fn acknowledge(store: &Arc<dyn Store>, who: UserId, id: RevisionId) -> Result<(), server::storage::StoreError> {
    let r = store.get_revision(id).await.unwrap().unwrap();
    let input = SignInput {
        record_type: "document_revision".into(),
        record_id: id.0,
        record_version: r.content_version,
        meaning: Meaning::Acknowledged,
        password: String::new(),
        username: None,
        accept_agreement: true,
        rationale: None,
    };
    store.sign(&by(who), who, "trainee", &input, true).await.map(|_| ())
}

async fn a_failed_round_means_reading_again_and_changes_cancel_what_is_no_longer_required(
    store: Arc<dyn Store>,
    _db: TestDb,
) {
    use server::storage::StoreError;
    use shared::training::{AssignmentState, Question, Quiz, QuizAnswers};
    let qm = common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    let owner = common::create_user(&store, "tom.okafor", &[Role::ProcessOwner]).await;
    let reviewer = common::create_user(&store, "aisha.rahman", &[Role::ProcessOwner]).await;
    let lee = common::create_user(&store, "lee.chen", &[Role::Staff]).await;
    let doc = document(&store, owner, reviewer, qm).await;
    let rev = approve(&store, doc, (owner, reviewer, qm), body("Tag it.")).await;
    let quiz = Quiz {
        questions: vec![Question { text: "Tag?".into(), options: vec!["No".into(), "Yes".into()], correct: vec![1] }],
        pass_mark: 100,
        attempts_allowed: 1,
    };
    let with_quiz = RequirementInput {
        title: "Read and pass".into(),
        kind: RequirementKind::Quiz,
        document_id: Some(doc),
        quiz: Some(quiz),
        recurrence_months: None,
        completion_days: 14,
    };
    let q = store.create_requirement(&by(qm), &with_quiz).await.unwrap().id;
    // A classroom session on the same document: the trainee's signature never completes it.
    let classroom = RequirementInput {
        title: "Classroom on it".into(),
        kind: RequirementKind::Classroom,
        document_id: Some(doc),
        quiz: None,
        recurrence_months: None,
        completion_days: 14,
    };
    let c = store.create_requirement(&by(qm), &classroom).await.unwrap().id;
    for requirement in [q, c] {
        let line = CurriculumLine { requirement_id: requirement, role: Some(Role::Staff), department_id: None };
        store.add_curriculum_line(&by(qm), &line).await.unwrap();
    }
    let today = Utc::now().date_naive();
    let mine = store.list_assignments(Some(lee), true, today).await.unwrap();
    assert_eq!(mine.len(), 2);
    acknowledge(&store, lee, rev).await.unwrap();
    let mine = store.list_assignments(Some(lee), true, today).await.unwrap();
    let quiz_a = mine.iter().find(|a| a.requirement_id == q).unwrap().clone();
    let class_a = mine.iter().find(|a| a.requirement_id == c).unwrap();
    assert!(quiz_a.acknowledged_at.is_some());
    assert!(class_a.acknowledged_at.is_none() && class_a.state == AssignmentState::Open, "a trainer completes it");
    assert!(matches!(acknowledge(&store, lee, rev).await, Err(StoreError::Conflict(_))), "signed already");

    // The one attempt of the round fails: read and sign again before the next.
    let wrong = QuizAnswers { attempt: 1, answers: [(0, vec![0])].into_iter().collect() };
    let r = store.submit_quiz(&by(lee), quiz_a.id, lee, &wrong, today).await.unwrap();
    assert!(!r.passed && r.read_again && r.attempts_left == 0);
    assert!(r.assignment.acknowledged_at.is_none());
    let right = QuizAnswers { attempt: 2, answers: [(0, vec![1])].into_iter().collect() };
    assert!(matches!(store.submit_quiz(&by(lee), quiz_a.id, lee, &right, today).await, Err(StoreError::Conflict(_))));
    acknowledge(&store, lee, rev).await.unwrap();
    let r = store.submit_quiz(&by(lee), quiz_a.id, lee, &right, today).await.unwrap();
    assert!(r.passed);
    assert_eq!(r.assignment.state, AssignmentState::Completed);

    // Lee moves from staff to auditor: the classroom session is no longer his to do.
    let mut user = store.get_user(lee).await.unwrap().unwrap();
    user.roles = vec![Role::Auditor];
    let input = shared::auth::UserInput::from_record(&user);
    store.update_user(&by(qm), lee, user.meta.version, &input).await.unwrap();
    assert!(store.list_assignments(Some(lee), true, today).await.unwrap().is_empty(), "nothing open any more");
    let all = store.list_assignments(Some(lee), false, today).await.unwrap();
    assert_eq!(all.iter().filter(|a| a.state == AssignmentState::Cancelled).count(), 1);
    // Someone who leaves: their open assignments are cancelled with them.
    let newcomer = common::create_user(&store, "new.starter", &[Role::Staff]).await;
    assert_eq!(store.list_assignments(Some(newcomer), true, today).await.unwrap().len(), 2);
    let u = store.get_user(newcomer).await.unwrap().unwrap();
    store.deactivate_user(&by(qm), newcomer, u.meta.version, "Left the company").await.unwrap();
    assert!(store.list_assignments(Some(newcomer), true, today).await.unwrap().is_empty());
}

/// A classroom requirement (no document) in the staff curriculum.
async fn staff_classroom(store: &Arc<dyn Store>, qm: UserId, title: &str) -> shared::training::RequirementId {
    let input = RequirementInput {
        title: title.into(),
        kind: RequirementKind::Classroom,
        document_id: None,
        quiz: None,
        recurrence_months: None,
        completion_days: 30,
    };
    let req = store.create_requirement(&by(qm), &input).await.unwrap().id;
    let line = CurriculumLine { requirement_id: req, role: Some(Role::Staff), department_id: None };
    store.add_curriculum_line(&by(qm), &line).await.unwrap();
    req
}

async fn an_exemption_stops_assignment_until_it_is_revoked_or_runs_out(store: Arc<dyn Store>, db: TestDb) {
    use shared::training::AssignmentState;
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let qm_id = UserId(me(&qm).await);
    let lee = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let lee_id = UserId(me(&lee).await);
    let marta = common::create_user(&store, "marta.kowalska", &[Role::Staff]).await;
    let auditor = Client::as_new_user(store.clone(), "sam.reid", &[Role::Auditor]).await;
    let req = staff_classroom(&store, qm_id, "Forklift safety").await;
    let today = Utc::now().date_naive();
    let open_of = |who: UserId| {
        let store = store.clone();
        async move {
            store
                .list_assignments(Some(who), true, Utc::now().date_naive())
                .await
                .unwrap()
                .into_iter()
                .filter(|a| a.requirement_id == req)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(open_of(lee_id).await.len(), 1);

    // Bad input is named; only a quality manager exempts.
    let url = "/api/v1/training/exemptions";
    let good = json!({"user_id": lee_id.0, "requirement_id": req.0, "reason": "Office work only; never drives"});
    let cases = [
        (json!({"user_id": lee_id.0, "requirement_id": req.0, "reason": "  "}), "reason"),
        (json!({"user_id": 999_999, "requirement_id": req.0, "reason": "x"}), "user_id"),
        (json!({"user_id": lee_id.0, "requirement_id": 999_999, "reason": "x"}), "requirement_id"),
        (json!({"user_id": lee_id.0, "requirement_id": req.0, "reason": "x", "until": today - Days::new(1)}), "until"),
    ];
    for (body, field) in cases {
        let r = qm.json("POST", url, &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.text);
        assert!(r.body["field_errors"][field].is_array(), "{field}: {}", r.text);
    }
    assert_eq!(auditor.json("POST", url, &good).await.status, StatusCode::FORBIDDEN);
    assert_eq!(lee.get(url).await.status, StatusCode::FORBIDDEN);

    // Granted: the open assignment is cancelled in the same call, the cell is exempt and not
    // counted; a second one is a conflict.
    let r = qm.json("POST", url, &good).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let exemption = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["user_name"], common::display_name("lee.chen"));
    assert_eq!(r.body["granted_by_name"], common::display_name("priya.natarajan"));
    assert!(r.body["revoked_at"].is_null() && r.body["until"].is_null(), "{}", r.text);
    assert_eq!(qm.json("POST", url, &good).await.status, StatusCode::CONFLICT);
    assert!(open_of(lee_id).await.is_empty());
    let all = store.list_assignments(Some(lee_id), false, today).await.unwrap();
    assert!(all.iter().any(|a| a.requirement_id == req && a.state == AssignmentState::Cancelled));
    let m = auditor.get("/api/v1/training/matrix").await;
    assert_eq!(cell(&m.body, lee_id.0, req.0), 'n');
    let csv = auditor.get("/api/v1/training/matrix.csv").await;
    assert!(csv.text.contains("Exempt"), "{}", csv.text);
    let listed = auditor.get(&format!("{url}?user_id={}&active=true", lee_id.0)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.text);

    // No cause assigns it while the exemption holds: a new role for Lee.
    let mut user = store.get_user(lee_id).await.unwrap().unwrap();
    user.roles = vec![Role::Staff, Role::Auditor];
    store
        .update_user(&by(qm_id), lee_id, user.meta.version, &shared::auth::UserInput::from_record(&user))
        .await
        .unwrap();
    assert!(open_of(lee_id).await.is_empty(), "never assigned while exempt");

    // Revoked (a reason required): assigned again at once, cause "exemption ended".
    let revoke = format!("{url}/{exemption}/revoke");
    let r = qm.json("POST", &revoke, &json!({"reason": ""})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["reason"].is_array());
    let r = qm.json("POST", &revoke, &json!({"reason": "Now drives in the warehouse"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["revoked_at"].is_string() && r.body["revoked_reason"] == "Now drives in the warehouse");
    assert_eq!(qm.json("POST", &revoke, &json!({"reason": "again"})).await.status, StatusCode::CONFLICT);
    let again = open_of(lee_id).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].cause, AssignmentCause::ExemptionEnded);
    assert_eq!(
        qm.json("POST", "/api/v1/training/exemptions/999999/revoke", &json!({"reason": "x"})).await.status,
        StatusCode::NOT_FOUND
    );

    // An exemption through today: the clock assigns Marta the day after, once.
    let until = json!({"user_id": marta.0, "requirement_id": req.0, "reason": "On leave", "until": today});
    assert_eq!(qm.json("POST", url, &until).await.status, StatusCode::CREATED);
    assert!(open_of(marta).await.is_empty());
    let clock = AuditContext::tool("clock");
    assert_eq!(store.assign_refreshers(&clock, today).await.unwrap(), 0, "still in force today");
    let tomorrow = today + Days::new(1);
    assert_eq!(store.assign_refreshers(&clock, tomorrow).await.unwrap(), 1);
    assert_eq!(store.assign_refreshers(&clock, tomorrow).await.unwrap(), 0);
    let hers = open_of(marta).await;
    assert_eq!((hers.len(), hers[0].cause), (1, AssignmentCause::ExemptionEnded));
    let ended = auditor.get(&format!("{url}?user_id={}&active=false", marta.0)).await;
    assert_eq!(ended.body["items"].as_array().unwrap().len(), 1, "{}", ended.text);

    // Every step is in the audit trail, and nothing is deleted.
    let trail = store
        .list_audit(&AuditFilter { record_type: Some("training_exemption".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(trail.len(), 4, "two granted, one revoked, one ended");
    assert!(db.execute("delete from training_exemptions").await.is_err());
}

/// A user in a department.
async fn in_department(store: &Arc<dyn Store>, qm: UserId, who: UserId, dept: shared::org::DepartmentId) {
    let mut user = store.get_user(who).await.unwrap().unwrap();
    user.department_id = Some(dept);
    store.update_user(&by(qm), who, user.meta.version, &shared::auth::UserInput::from_record(&user)).await.unwrap();
}

/// The first worksheet's XML of a workbook (its strings may be shared or inline: both are read).
fn sheet1(bytes: &[u8]) -> String {
    use std::io::Read as _;
    assert!(bytes.starts_with(b"PK"), "a zip container");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let mut out = String::new();
    for name in ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"] {
        if let Ok(mut f) = zip.by_name(name) {
            f.read_to_string(&mut out).unwrap();
        } else {
            assert_ne!(name, "xl/worksheets/sheet1.xml", "the workbook holds its first sheet");
        }
    }
    out
}

async fn a_process_owner_reads_only_their_peoples_training(store: Arc<dyn Store>, _db: TestDb) {
    use shared::org::{DepartmentInput, ProcessInput};
    let qm = common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let tom_id = UserId(me(&tom).await);
    let dept = |name: &str| DepartmentInput { name: name.into(), site_id: None, version: None };
    let assembly = store.create_department(&by(qm), &dept("Assembly")).await.unwrap().id;
    let quality = store.create_department(&by(qm), &dept("Quality")).await.unwrap().id;
    let process = ProcessInput {
        name: "Final assembly".into(),
        description: String::new(),
        owner_id: Some(tom_id),
        department_id: Some(assembly),
        version: None,
        reason: String::new(),
    };
    store.create_process(&by(qm), &process).await.unwrap();
    let ann = common::create_user(&store, "ann.fitter", &[Role::Staff]).await;
    let bob = common::create_user(&store, "bob.inspector", &[Role::Staff]).await;
    in_department(&store, qm, ann, assembly).await;
    in_department(&store, qm, bob, quality).await;
    let req = staff_classroom(&store, qm, "Torque wrench use").await;
    // Both have an overdue on-the-job assignment (history from before Caliper).
    let today = Utc::now().date_naive();
    let ojt = RequirementInput {
        title: "Ladder safety".into(),
        kind: RequirementKind::OnTheJob,
        document_id: None,
        quiz: None,
        recurrence_months: None,
        completion_days: 30,
    };
    let ladder = store.create_requirement(&by(qm), &ojt).await.unwrap().id;
    let overdue = |user| HistoricTraining {
        user,
        requirement: ladder,
        revision: None,
        assigned_on: today - Days::new(60),
        due_on: today - Days::new(30),
        completed_at: None,
        score: None,
        trainer: None,
    };
    store.import_history(&by(qm), &[overdue(ann), overdue(bob)]).await.unwrap();

    // The matrix and its exports: Ann's row and Tom's own, never Bob's.
    let m = tom.get("/api/v1/training/matrix").await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let rows: Vec<i64> = m.body["people"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert!(rows.contains(&ann.0) && rows.contains(&tom_id.0), "{rows:?}");
    assert!(!rows.contains(&bob.0), "{rows:?}");
    assert_eq!(cell(&m.body, ann.0, req.0), 'a');
    let csv = tom.get("/api/v1/training/matrix.csv").await;
    assert!(csv.text.contains(&common::display_name("ann.fitter")), "{}", csv.text);
    assert!(!csv.text.contains(&common::display_name("bob.inspector")), "{}", csv.text);
    let rates = tom.get("/api/v1/training/completion").await;
    let depts: Vec<&str> =
        rates.body["items"].as_array().unwrap().iter().filter_map(|d| d["department"].as_str()).collect();
    assert!(depts.contains(&"Assembly") && !depts.contains(&"Quality"), "{depts:?}");

    // Lists: only their people's.
    let list = tom.get("/api/v1/training/assignments").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let people: std::collections::BTreeSet<i64> =
        list.body["items"].as_array().unwrap().iter().map(|a| a["user_id"].as_i64().unwrap()).collect();
    assert!(people.contains(&ann.0) && !people.contains(&bob.0), "{people:?}");
    let bobs = store.list_assignments(Some(bob), true, today).await.unwrap();
    let bobs_one = format!("/api/v1/training/assignments/{}", bobs[0].id.0);
    assert_eq!(tom.get(&bobs_one).await.status, StatusCode::NOT_FOUND);
    let anns = store.list_assignments(Some(ann), true, today).await.unwrap();
    assert_eq!(tom.get(&format!("/api/v1/training/assignments/{}", anns[0].id.0)).await.status, StatusCode::OK);

    // The auditor's question: someone else's is not found; one's own people's is answered.
    let ask =
        |who: UserId| format!("/api/v1/training/trained-on?user_id={}&requirement_id={}&on={today}", who.0, req.0);
    assert_eq!(tom.get(&ask(bob)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(tom.get(&ask(ann)).await.status, StatusCode::OK);

    // The workbook: the same rows, each status in words; the filters of the page apply to both
    // exports.
    let x = tom.get("/api/v1/training/matrix.xlsx").await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text);
    let sheet = sheet1(&x.bytes);
    assert!(sheet.contains(&common::display_name("ann.fitter")) && sheet.contains("Assigned"), "{sheet}");
    assert!(!sheet.contains(&common::display_name("bob.inspector")));
    let qm_client = Client::as_new_user(store.clone(), "quality.lead", &[Role::QualityManager]).await;
    let only_bob = qm_client.get("/api/v1/training/matrix.csv?q=INSPECTOR").await;
    assert_eq!(only_bob.text.lines().count(), 2, "{}", only_bob.text);
    assert!(only_bob.text.contains(&common::display_name("bob.inspector")));
    let x = qm_client.get(&format!("/api/v1/training/matrix.xlsx?department=Quality&requirement_id={}", req.0)).await;
    let sheet = sheet1(&x.bytes);
    assert!(sheet.contains(&common::display_name("bob.inspector")) && sheet.contains("Torque wrench use"));
    assert!(!sheet.contains(&common::display_name("ann.fitter")) && !sheet.contains("Ladder safety"), "{sheet}");
    let late = qm_client.get("/api/v1/training/matrix?status=assigned&role=staff").await;
    let names: Vec<&str> = late.body["people"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names.len(), 2, "Ann and Bob: {names:?}");
    let bad = qm_client.get("/api/v1/training/matrix.csv?status=late").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.body["field_errors"]["status"].is_array(), "{}", bad.text);

    // The dashboard's overdue work: Ann's late training, not Bob's.
    let late = tom.get("/api/v1/dashboard/overdue").await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.text);
    let titles: Vec<&str> = late.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["record_type"] == "training_assignment")
        .filter_map(|w| w["title"].as_str())
        .collect();
    assert!(titles.iter().any(|t| t.starts_with(&common::display_name("ann.fitter"))), "{titles:?}");
    assert!(!titles.iter().any(|t| t.starts_with(&common::display_name("bob.inspector"))), "{titles:?}");
}

async fn a_classroom_session_completes_its_attendance_list_all_or_nothing(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let qm_id = UserId(me(&qm).await);
    let marta = Client::as_new_user(store.clone(), "marta.kowalska", &[Role::Staff]).await;
    let marta_id = UserId(me(&marta).await);
    let novice = Client::as_new_user(store.clone(), "new.starter", &[Role::Staff]).await;
    let ann = common::create_user(&store, "ann.fitter", &[Role::Staff]).await;
    let bob = common::create_user(&store, "bob.inspector", &[Role::Staff]).await;
    let carl = common::create_user(&store, "carl.visitor", &[Role::Auditor]).await;
    let classroom = RequirementInput {
        title: "Fire safety briefing".into(),
        kind: RequirementKind::Classroom,
        document_id: None,
        quiz: None,
        recurrence_months: None,
        completion_days: 30,
    };
    let req = store.create_requirement(&by(qm_id), &classroom).await.unwrap().id;
    let today = Utc::now().date_naive();
    // Marta's own record is current (from before Caliper): she is a qualified trainer, and the
    // staff curriculum then assigns it to everyone else.
    let history = HistoricTraining {
        user: marta_id,
        requirement: req,
        revision: None,
        assigned_on: today - Days::new(40),
        due_on: today - Days::new(10),
        completed_at: Some(Utc::now() - Days::new(20)),
        score: None,
        trainer: Some(qm_id),
    };
    store.import_history(&by(qm_id), &[history]).await.unwrap();
    let line = CurriculumLine { requirement_id: req, role: Some(Role::Staff), department_id: None };
    store.add_curriculum_line(&by(qm_id), &line).await.unwrap();
    let url = "/api/v1/training/sessions";
    let session = |held_on: chrono::NaiveDate, who: &[UserId]| {
        json!({"requirement_id": req.0, "held_on": held_on, "attendee_ids": who.iter().map(|u| u.0).collect::<Vec<_>>(),
            "notes": "Room 2; extinguisher drill"})
    };

    // Named refusals; nothing recorded by any of them.
    let r = novice.json("POST", url, &session(today, &[ann])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "not qualified: {}", r.text);
    let r = marta.json("POST", url, &session(today, &[ann, marta_id])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["attendee_ids[1]"].is_array(), "{}", r.text);
    let r = marta.json("POST", url, &session(today, &[ann, carl])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["attendee_ids[1]"].is_array(), "{}", r.text);
    assert!(r.body["message"].as_str().unwrap().contains(&common::display_name("carl.visitor")), "{}", r.text);
    let r = marta.json("POST", url, &session(today + Days::new(1), &[ann])).await;
    assert!(r.body["field_errors"]["held_on"].is_array(), "the future: {}", r.text);
    let r = marta.json("POST", url, &session(today - Days::new(3), &[ann])).await;
    assert!(r.body["field_errors"]["held_on"].is_array(), "before Ann was assigned: {}", r.text);
    let r = marta.json("POST", url, &json!({"requirement_id": req.0, "held_on": today, "attendee_ids": []})).await;
    assert!(r.body["field_errors"]["attendee_ids"].is_array(), "{}", r.text);
    let ojt = RequirementInput {
        title: "Ladder safety".into(),
        kind: RequirementKind::OnTheJob,
        document_id: None,
        quiz: None,
        recurrence_months: None,
        completion_days: 30,
    };
    let ladder = store.create_requirement(&by(qm_id), &ojt).await.unwrap().id;
    let r =
        marta.json("POST", url, &json!({"requirement_id": ladder.0, "held_on": today, "attendee_ids": [ann.0]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["requirement_id"].is_array(), "{}", r.text);
    assert_eq!(store.list_assignments(Some(ann), true, today).await.unwrap().len(), 1, "still open");

    // The list: both completed with Marta as trainer, on the day held.
    let r = marta.json("POST", url, &session(today, &[ann, bob])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["trainer_name"], common::display_name("marta.kowalska"));
    assert_eq!(r.body["attendees"].as_array().unwrap().len(), 2, "{}", r.text);
    for who in [ann, bob] {
        assert!(store.list_assignments(Some(who), true, today).await.unwrap().is_empty());
        let records = store.list_records(Some(who), Some(req)).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].trainer_name.as_deref(), Some(common::display_name("marta.kowalska").as_str()));
        assert_eq!(records[0].completed_at.date_naive(), today);
    }
    // Recorded once: the same list again finds no open assignments.
    let again = marta.json("POST", url, &session(today, &[ann])).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.text);

    let list = qm.get(&format!("{url}?requirement_id={}", req.0)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "{}", list.text);
    assert_eq!(list.body["items"][0]["notes"], "Room 2; extinguisher drill");
    assert_eq!(qm.get(&format!("{url}/{id}")).await.status, StatusCode::OK);
    assert_eq!(marta.get(&format!("{url}/{id}")).await.status, StatusCode::OK, "its trainer");
    assert_eq!(novice.get(&format!("{url}/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(novice.get(url).await.status, StatusCode::FORBIDDEN);
    let m = qm.get("/api/v1/training/matrix").await;
    assert_eq!(cell(&m.body, ann.0, req.0), 'c');
    let trail = store
        .list_audit(&AuditFilter { record_type: Some("training_session".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
}

async fn training_notices_reach_the_inbox_whatever_the_settings(store: Arc<dyn Store>, _db: TestDb) {
    let qm = common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    let lee = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let lee_id = UserId(me(&lee).await);
    // Lee turns every notice off: training notices come all the same.
    let off = json!({"approved": false, "effective": false});
    assert_eq!(lee.json("PUT", "/api/v1/me/notice-settings", &off).await.status, StatusCode::OK);
    let forklift = staff_classroom(&store, qm, "Forklift safety").await;
    let inbox = lee.get("/api/v1/notices").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.text);
    let items = inbox.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", inbox.text);
    let today = Utc::now().date_naive();
    let open = store.list_assignments(Some(lee_id), true, today).await.unwrap();
    assert_eq!(items[0]["kind"], "training_assigned");
    assert_eq!(open[0].requirement_id, forklift);
    assert_eq!(items[0]["assignment_id"], open[0].id.0);
    assert_eq!(items[0]["requirement_title"], "Forklift safety");
    assert_eq!(items[0]["due_on"], json!(open[0].due_on));
    assert!(items[0]["document_id"].is_null() && items[0]["label"].is_null(), "{}", inbox.text);
    assert_eq!(lee.get("/api/v1/notices/unread-count").await.body["count"], 1);
    // The same training in Lee's work: it has no document, so no reference.
    let work = lee.get("/api/v1/work").await.body;
    let item = work["items"].as_array().unwrap().iter().find(|w| w["title"] == "Forklift safety").cloned();
    let item = item.unwrap_or_else(|| panic!("Forklift safety in Lee's work: {work}"));
    assert_eq!((item["kind"].as_str(), item["reference"].as_str()), (Some("Training"), Some("—")), "{work}");

    // The minute clock: nothing due soon today (due in 30 days); 23 days on, one due-soon notice,
    // once.
    let clock = AuditContext::tool("clock");
    store.assign_refreshers(&clock, today).await.unwrap();
    assert_eq!(lee.get("/api/v1/notices").await.body["items"].as_array().unwrap().len(), 1);
    let later = today + Days::new(23);
    store.assign_refreshers(&clock, later).await.unwrap();
    store.assign_refreshers(&clock, later + Days::new(1)).await.unwrap();
    let inbox = lee.get("/api/v1/notices").await;
    let kinds: Vec<&str> = inbox.body["items"].as_array().unwrap().iter().filter_map(|n| n["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["training_due_soon", "training_assigned"], "{}", inbox.text);
    assert_eq!(inbox.body["items"][0]["assignment_id"], open[0].id.0);

    // A revision approved: its "approved" notice carries the training; no second notice for it.
    let owner = common::create_user(&store, "tom.okafor", &[Role::ProcessOwner]).await;
    let reviewer = common::create_user(&store, "aisha.rahman", &[Role::ProcessOwner]).await;
    let doc = document(&store, owner, reviewer, qm).await;
    approve(&store, doc, (owner, reviewer, qm), body("v1")).await;
    let read = RequirementInput {
        title: "Read the SOP".into(),
        kind: RequirementKind::ReadAndUnderstand,
        document_id: Some(doc),
        quiz: None,
        recurrence_months: None,
        completion_days: 14,
    };
    let read = store.create_requirement(&by(qm), &read).await.unwrap().id;
    let line = CurriculumLine { requirement_id: read, role: Some(Role::Staff), department_id: None };
    store.add_curriculum_line(&by(qm), &line).await.unwrap();
    let inbox = lee.get("/api/v1/notices").await;
    let first = &inbox.body["items"][0];
    assert_eq!((first["kind"].as_str(), first["document_id"].as_i64()), (Some("training_assigned"), Some(doc.0)));
    assert_eq!(first["label"], "A", "{}", inbox.text);
    // Lee reads and signs revision A; revision B's approval assigns it to him again (cause
    // revision approved): told by the approval's own notice, with the training, settings off or not.
    let rev_a = first["revision_id"].as_i64().map(RevisionId).unwrap();
    acknowledge(&store, lee_id, rev_a).await.unwrap();
    let told = lee.get("/api/v1/notices").await.body["items"].as_array().unwrap().len();
    approve(&store, doc, (owner, reviewer, qm), body("v2")).await;
    let mine = store.list_assignments(Some(lee_id), true, today).await.unwrap();
    let again = mine.iter().find(|a| a.requirement_id == read).unwrap();
    assert_eq!(again.cause, AssignmentCause::RevisionApproved);
    let inbox = lee.get("/api/v1/notices").await;
    let items = inbox.body["items"].as_array().unwrap();
    // Approved and (no effective date) in force at once: two revision notices, no third.
    assert_eq!(items.len(), told + 2, "no training notice besides: {}", inbox.text);
    let approved = items.iter().find(|n| n["kind"] == "approved" && n["label"] == "B").unwrap();
    assert_eq!(approved["carries_training"], true, "{}", inbox.text);
    assert!(!items.iter().any(|n| n["assignment_id"] == again.id.0), "{}", inbox.text);
    // The notices and assignments audited in batches still chain.
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn the_matrix_is_computed_again_only_when_one_of_its_records_changes(store: Arc<dyn Store>, _db: TestDb) {
    use server::routes::dashboard::{KpiCache, training_matrix};
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let qm_id = UserId(me(&qm).await);
    let lee = common::create_user(&store, "lee.chen", &[Role::Staff]).await;
    let req = staff_classroom(&store, qm_id, "Forklift safety").await;
    let today = Utc::now().date_naive();
    let cache = KpiCache::default();
    let first = training_matrix(store.as_ref(), today, Some(&cache)).await.unwrap();
    // Nothing the matrix is made of changed (a measurement, a sign-in): the same matrix.
    let r = qm
        .json(
            "POST",
            "/api/v1/measurements",
            &json!({"series": "revenue", "period": "2026-01", "value": 10, "source": "ERP"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let mut again_signed_in = Client::new(store.clone());
    assert_eq!(again_signed_in.sign_in("priya.natarajan", PASSWORD).await.status, StatusCode::OK);
    let again = training_matrix(store.as_ref(), today, Some(&cache)).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "a measurement and a sign-in must not recompute the matrix");
    // An exemption is one of its records: computed again, and the cell shows it.
    let r = qm
        .json(
            "POST",
            "/api/v1/training/exemptions",
            &json!({"user_id": lee.0, "requirement_id": req.0, "reason": "Never drives"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let after = training_matrix(store.as_ref(), today, Some(&cache)).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &after));
    let p = after.people.iter().position(|p| p.id == lee).unwrap();
    let c = after.requirements.iter().position(|r| r.id == req).unwrap();
    assert_eq!(after.cell(p, c), shared::training::CellStatus::Exempt);
}

on_both_backends!(
    the_matrix_is_computed_again_only_when_one_of_its_records_changes,
    a_failed_round_means_reading_again_and_changes_cancel_what_is_no_longer_required,
    staff_read_sign_and_pass_the_quiz,
    causes_firing_at_once_assign_once,
    a_trainer_signs_off_only_when_qualified_and_refreshers_come_on_time,
    an_exemption_stops_assignment_until_it_is_revoked_or_runs_out,
    a_process_owner_reads_only_their_peoples_training,
    a_classroom_session_completes_its_attendance_list_all_or_nothing,
    training_notices_reach_the_inbox_whatever_the_settings,
);
