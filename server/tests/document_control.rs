//! Document control beyond the revision workflow, through the API on SQLite and PostgreSQL:
//! full-text search of the revisions in force; signed periodic reviews and their work; revision
//! notices to a document's people and readers.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{Client, TestDb};
use serde_json::{Value, json};
use server::storage::Store;
use shared::auth::Role;

/// The people of the tests' documents, signed in.
struct Team {
    qm: Client,
    owner: Client,
    reviewer: Client,
    staff: Client,
    ids: (i64, i64, i64),
}

async fn me(client: &Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

async fn team(store: &Arc<dyn Store>) -> Team {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let owner = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let reviewer = Client::as_new_user(store.clone(), "aisha.rahman", &[Role::ProcessOwner]).await;
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let ids = (me(&owner).await, me(&reviewer).await, me(&qm).await);
    Team { qm, owner, reviewer, staff, ids }
}

impl Team {
    /// A new SOP (owner, one reviewer, the quality manager approving): its JSON.
    async fn document(&self, title: &str, extra: Value) -> Value {
        let (owner, reviewer, qm) = self.ids;
        let mut input = json!({"doc_type": "sop", "title": title, "owner_id": owner, "reviewers": [reviewer],
            "approvers": [qm], "review_interval_months": 24, "retention_years": 10});
        if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            input.extend(extra.clone());
        }
        let r = self.qm.json("POST", "/api/v1/documents", &input).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    /// A revision of `doc` with `body`, drafted by the owner and submitted: its JSON.
    async fn submitted(&self, doc: i64, body: &str) -> Value {
        let input = json!({"body": body, "reason_for_change": "Update", "change_summary": "Text changed"});
        let r = self.owner.json("POST", &format!("/api/v1/documents/{doc}/revisions"), &input).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let (id, version) = (r.body["id"].as_i64().unwrap(), r.body["version"].as_i64().unwrap());
        let step = json!({"action": "submit", "version": version});
        let r = self.owner.json("POST", &format!("/api/v1/document-revisions/{id}/move"), &step).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
    }

    /// Signs a submitted revision: reviewed, then approved (the last signature approves it).
    async fn approve(&self, revision: &Value) {
        let sign = |meaning: &str| {
            json!({"record_type": "document_revision", "record_id": revision["id"],
                "record_version": revision["content_version"], "meaning": meaning,
                "password": common::PASSWORD, "accept_agreement": true})
        };
        let r = self.reviewer.sign(&sign("reviewed")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let r = self.qm.sign(&sign("approved")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    /// A revision of `doc` with `body` put in force: its JSON as submitted.
    async fn in_force(&self, doc: i64, body: &str) -> Value {
        let r = self.submitted(doc, body).await;
        self.approve(&r).await;
        r
    }
}

async fn search(client: &Client, q: &str) -> Value {
    let r = client.get(&format!("/api/v1/documents/search?q={}", urlencode(q))).await;
    assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
    r.body
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn numbers(hits: &Value) -> Vec<&str> {
    hits["items"].as_array().unwrap().iter().map(|h| h["number"].as_str().unwrap()).collect()
}

async fn search_finds_the_text_in_force_by_word_and_number(store: Arc<dyn Store>, _db: TestDb) {
    let t = team(&store).await;
    let torque = t.document("Torque settings", json!({})).await;
    let torque_id = torque["id"].as_i64().unwrap();
    let old = "# Fastening\nUse the pneumatic driver for every joint.";
    let new = "# Fastening\nSet the calibrated wrench to 12 Nm, then mark each bolt with a paint pen.";
    t.in_force(torque_id, old).await;
    let b = t.in_force(torque_id, new).await;
    let gauges = t.document("Gauge calibration", json!({})).await;
    t.in_force(gauges["id"].as_i64().unwrap(), "Gauges are calibrated yearly against paint-free masters.").await;
    let retired = t.document("Paint booth cleaning", json!({})).await;
    let retired_id = retired["id"].as_i64().unwrap();
    t.in_force(retired_id, "Clean the booth weekly; wrench tight.").await;
    let r =
        t.qm.json(
            "POST",
            &format!("/api/v1/documents/{retired_id}/obsolete"),
            &json!({"reason": "Booth removed", "version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A word only in the body of the revision in force: found, its snippet marks it.
    let hits = search(&t.staff, "wrench").await;
    assert_eq!(numbers(&hits), ["SOP-0001"], "not the obsolete one: {hits}");
    let hit = &hits["items"][0];
    assert_eq!(hit["revision_id"], b["id"]);
    assert_eq!(
        (hit["label"].as_str(), hit["title"].as_str(), hit["doc_type"].as_str()),
        (Some("B"), Some("Torque settings"), Some("sop"))
    );
    let marked: Vec<_> = hit["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["wrench"], "{hit}");
    let text: String = hit["snippet"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert!(text.contains("Set the calibrated wrench to 12 Nm"), "{text}");
    // A word only in the superseded revision: not found.
    assert!(numbers(&search(&t.staff, "pneumatic").await).is_empty());
    // Prefixes, several words (all required), and the ranking: a title match first.
    assert_eq!(numbers(&search(&t.staff, "calib").await), ["SOP-0002", "SOP-0001"]);
    assert_eq!(numbers(&search(&t.staff, "paint bolt").await), ["SOP-0001"]);
    // By number, whole or a prefix; query syntax is only words.
    assert_eq!(numbers(&search(&t.staff, "SOP-0002").await), ["SOP-0002"]);
    assert_eq!(numbers(&search(&t.staff, "sop-000").await).len(), 2);
    for q in ["\"wrench", "wrench*", "-wrench", "wrench:", "(wrench) OR", "NEAR(wrench)", "wrench'; drop"] {
        let r = t.staff.get(&format!("/api/v1/documents/search?q={}", urlencode(q))).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
    }
    assert!(numbers(&search(&t.staff, "*:()").await).is_empty());

    // A bad query names `q` (or `limit`).
    for uri in ["/api/v1/documents/search", "/api/v1/documents/search?q=%20"] {
        let r = t.staff.get(uri).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert!(r.body["field_errors"]["q"].is_array(), "{}", r.text);
    }
    let r = t.staff.get(&format!("/api/v1/documents/search?q={}", "a".repeat(201))).await;
    assert!(r.body["field_errors"]["q"].is_array(), "{}", r.text);
    let r = t.staff.get("/api/v1/documents/search?q=wrench&limit=101").await;
    assert!(r.body["field_errors"]["limit"].is_array(), "{}", r.text);
    let r = t.staff.get("/api/v1/documents/search?q=sop&limit=1").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.text);
}

async fn search_ranks_number_and_title_matches_first_then_the_head_of_the_text(store: Arc<dyn Store>, _db: TestDb) {
    let t = team(&store).await;
    let filler = |n: usize| (0..n).map(|i| format!("step{i} done")).collect::<Vec<_>>().join(", ");
    // SOP-0001: the word three times at the start of its text; SOP-0002: the word in its title
    // only; SOP-0003: the word once, past the text's first 1,000 characters.
    let head = t.document("Gauge storage", json!({})).await;
    t.in_force(head["id"].as_i64().unwrap(), "# Torque\nTorque checks: torque every gauge before use.").await;
    let title = t.document("Torque wrench handling", json!({})).await;
    t.in_force(title["id"].as_i64().unwrap(), "# Handling\nKeep the tool in its case.").await;
    let deep = t.document("Painting", json!({})).await;
    let body = format!("# Painting\n{}.\n\nCheck the torque of the lid.", filler(150));
    assert!(body.find("torque").unwrap() > 1_000);
    t.in_force(deep["id"].as_i64().unwrap(), &body).await;

    // Every word of the number or title first, however often another text repeats it; then a
    // match in the head of the text; a match further down is found too, last.
    let hits = search(&t.staff, "torq").await;
    assert_eq!(numbers(&hits), ["SOP-0002", "SOP-0001", "SOP-0003"], "{hits}");
    let marked: Vec<_> = hits["items"][2]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["torque"], "the snippet is cut around the match far down: {hits}");
    // One word in the title and one in the text: not a title match, ranked with the others.
    let hits = search(&t.staff, "torque lid").await;
    assert_eq!(numbers(&hits), ["SOP-0003"], "{hits}");
    let hits = search(&t.staff, "gauge torque").await;
    assert_eq!(numbers(&hits), ["SOP-0001"], "{hits}");
    // The number: its document first, before those that only mention it.
    t.in_force(deep["id"].as_i64().unwrap(), &format!("{body}\nSee SOP-0002 for the wrench.")).await;
    assert_eq!(numbers(&search(&t.staff, "SOP-0002").await), ["SOP-0002", "SOP-0003"]);
    assert_eq!(numbers(&search(&t.staff, "wrench").await), ["SOP-0002", "SOP-0003"]);
    // A document made obsolete leaves both indexes.
    let r =
        t.qm.json(
            "POST",
            &format!("/api/v1/documents/{}/obsolete", title["id"]),
            &json!({"reason": "Tool retired", "version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(numbers(&search(&t.staff, "wrench").await), ["SOP-0003"]);
}

fn months_from(day: chrono::NaiveDate, months: u32) -> String {
    day.checked_add_months(chrono::Months::new(months)).unwrap().to_string()
}

async fn periodic_reviews_are_signed_and_move_the_next_review_on(store: Arc<dyn Store>, _db: TestDb) {
    use server::storage::AuditContext;
    let t = team(&store).await;
    let today = chrono::Utc::now().date_naive();
    let doc = t.document("Torque settings", json!({})).await;
    let id = doc["id"].as_i64().unwrap();
    assert!(doc["next_review_on"].is_null(), "nothing in force, nothing to review: {doc}");
    let a = t.in_force(id, "Set the wrench to 12 Nm.").await;
    let path = format!("/api/v1/documents/{id}");
    let r = t.staff.get(&path).await;
    assert_eq!(r.body["next_review_on"].as_str(), Some(months_from(today, 24).as_str()), "{}", r.text);
    assert_eq!(r.body["review_overdue"], false);

    // In force for 800 days (brought in from paper): the review is overdue, and it is work.
    let since = today - chrono::Days::new(800);
    let rev = shared::document::RevisionId(a["id"].as_i64().unwrap());
    store.backdate_in_force(&AuditContext::tool("test"), rev, since).await.unwrap();
    let r = t.staff.get(&path).await;
    assert_eq!(r.body["next_review_on"].as_str(), Some(months_from(since, 24).as_str()), "{}", r.text);
    assert_eq!(r.body["review_overdue"], true, "{}", r.text);
    let work = t.owner.get("/api/v1/work").await;
    let item = work.body["items"].as_array().unwrap().iter().find(|w| w["record_type"] == "document").cloned();
    let item = item.unwrap_or_else(|| panic!("the owner's work: {}", work.text));
    assert_eq!(
        (item["kind"].as_str(), item["reference"].as_str(), item["overdue"].as_bool()),
        (Some("Periodic review"), Some("SOP-0001"), Some(true))
    );
    assert!(
        t.reviewer.get("/api/v1/work").await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["record_type"] != "document")
    );
    let overdue = t.qm.get("/api/v1/dashboard/overdue").await;
    assert!(
        overdue.body["items"].as_array().unwrap().iter().any(|w| w["record_type"] == "document"),
        "{}",
        overdue.text
    );

    // Who, what and the password are checked before anything is signed.
    let review = format!("{path}/periodic-review");
    // The review is a signature: a session's first one takes the username too (as typed).
    let input = |outcome: &str, comment: &str, who: &Client| {
        json!({"outcome": outcome, "comment": comment, "password": common::PASSWORD, "accept_agreement": true,
               "username": who.username})
    };
    assert_eq!(t.staff.json("POST", &review, &input("no_change", "", &t.staff)).await.status, StatusCode::FORBIDDEN);
    let r = t.owner.json("POST", &review, &input("revise", " ", &t.owner)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["comment"].is_array(), "{}", r.text);
    let wrong =
        json!({"outcome": "no_change", "password": "not it", "accept_agreement": true, "username": t.owner.username});
    let r = t.owner.json("POST", &review, &wrong).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.body["field_errors"]["password"].is_array(), "{}", r.text);
    let no_username = json!({"outcome": "no_change", "password": common::PASSWORD, "accept_agreement": true});
    let r = t.owner.json("POST", &review, &no_username).await;
    assert_eq!(r.body["field_errors"]["username"], json!(["required"]), "{}", r.text);

    // No change: signed "reviewed" on the document, next review the interval from today.
    let r = t.owner.json("POST", &review, &input("no_change", "", &t.owner)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["next_review_on"].as_str(), Some(months_from(today, 24).as_str()), "{}", r.text);
    assert_eq!(r.body["review_overdue"], false);
    let signatures = t.qm.get(&format!("/api/v1/signatures?record_type=document&record_id={id}")).await;
    let s = &signatures.body["items"][0];
    assert_eq!(
        (s["meaning"].as_str(), s["signer_name"].as_str()),
        (Some("reviewed"), Some("Tom Okafor")),
        "{}",
        signatures.text
    );
    assert_eq!(t.qm.verified(s).await, "valid", "the review's signature binds the document's own fields");
    assert!(
        t.owner.get("/api/v1/work").await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["record_type"] != "document")
    );

    // Revise: a draft of the text in force, asked for by the periodic review; one at a time.
    let r = t.qm.json("POST", &review, &input("revise", "New wrench model", &t.qm)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revisions = t.owner.get(&format!("{path}/revisions")).await;
    let draft = &revisions.body["items"][0];
    assert_eq!((draft["label"].as_str(), draft["status"].as_str()), (Some("B"), Some("draft")), "{}", revisions.text);
    assert_eq!(draft["body"], "Set the wrench to 12 Nm.");
    assert_eq!(
        (draft["requested_by"].as_str(), draft["reason_for_change"].as_str()),
        (Some("Periodic review"), Some("Periodic review"))
    );
    assert_eq!(draft["change_summary"], "New wrench model");
    let r = t.owner.json("POST", &review, &input("revise", "Again", &t.owner)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Obsolete: with the comment as the reason; an obsolete document is reviewed no more.
    let r = t.owner.json("POST", &review, &input("obsolete", "Wrenches replaced by a torque station", &t.owner)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["retired_reason"], "Wrenches replaced by a torque station");
    assert!(r.body["next_review_on"].is_null());
    assert_eq!(t.owner.get(&format!("/api/v1/document-revisions/{}", draft["id"])).await.body["status"], "cancelled");
    assert_eq!(t.owner.json("POST", &review, &input("no_change", "", &t.owner)).await.status, StatusCode::CONFLICT);

    // Every review is in the audit trail, with its signature, and the chain holds.
    let trail = t.qm.get("/api/v1/audit?record_type=document_review").await;
    assert_eq!(trail.body["items"].as_array().map(Vec::len), Some(3), "{}", trail.text);
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn revision_notices_reach_the_readers_who_want_them(store: Arc<dyn Store>, _db: TestDb) {
    let t = team(&store).await;
    let quiet = Client::as_new_user(store.clone(), "mo.quiet", &[Role::Staff]).await;
    let auditor = Client::as_new_user(store.clone(), "sam.reid", &[Role::Auditor]).await;

    // Readers are validated: a department that does not exist is named.
    let (owner, reviewer, qm) = t.ids;
    let bad = json!({"doc_type": "sop", "title": "x", "owner_id": owner, "reviewers": [reviewer], "approvers": [qm],
        "review_interval_months": 24, "retention_years": 10, "reader_roles": ["staff", "staff"],
        "reader_department_ids": [999]});
    let r = t.qm.json("POST", "/api/v1/documents", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["reader_roles"].is_array(), "{}", r.text);

    // Settings: both kinds by default; one person turns off approvals.
    let r = quiet.get("/api/v1/me/notice-settings").await;
    assert_eq!(r.body, json!({"approved": true, "effective": true}), "{}", r.text);
    let r = quiet.json("PUT", "/api/v1/me/notice-settings", &json!({"approved": false, "effective": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(quiet.get("/api/v1/me/notice-settings").await.body["approved"], false);

    let doc = t.document("Torque settings", json!({"reader_roles": ["staff"]})).await;
    assert_eq!(doc["reader_roles"], json!(["staff"]), "{doc}");
    let id = doc["id"].as_i64().unwrap();
    let a = t.submitted(id, "Set the wrench to 12 Nm.").await;
    assert_eq!(t.staff.get("/api/v1/notices/unread-count").await.body["count"], 0, "nothing before approval");
    t.approve(&a).await;

    // Approved and in force at once: a reader gets both notices, newest first.
    let r = t.staff.get("/api/v1/notices").await;
    let kinds: Vec<_> = r.body["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["effective", "approved"], "{}", r.text);
    let n = &r.body["items"][0];
    assert_eq!(
        (n["number"].as_str(), n["label"].as_str(), n["title"].as_str()),
        (Some("SOP-0001"), Some("A"), Some("Torque settings"))
    );
    assert_eq!((n["revision_id"].clone(), n["document_id"].as_i64()), (a["id"].clone(), Some(id)));
    assert!(n["read_at"].is_null() && n["carries_training"] == false && n["created_at"].is_string(), "{n}");
    assert_eq!(t.staff.get("/api/v1/notices/unread-count").await.body, json!({"count": 2}));
    // Whoever turned approvals off gets only the other kind; the document's people get theirs; someone
    // who neither reads nor works on it gets none.
    let quiet_kinds = quiet.get("/api/v1/notices").await;
    assert_eq!(quiet_kinds.body["items"].as_array().map(Vec::len), Some(1), "{}", quiet_kinds.text);
    assert_eq!(quiet_kinds.body["items"][0]["kind"], "effective");
    for c in [&t.owner, &t.reviewer, &t.qm] {
        assert_eq!(c.get("/api/v1/notices/unread-count").await.body["count"], 2);
    }
    assert_eq!(auditor.get("/api/v1/notices/unread-count").await.body["count"], 0);

    // Reading: only one's own (404 otherwise), again without change; all at once; nothing deleted.
    let nid = n["id"].as_i64().unwrap();
    assert_eq!(
        quiet.json("POST", &format!("/api/v1/notices/{nid}/read"), &json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let first = t.staff.json("POST", &format!("/api/v1/notices/{nid}/read"), &json!({})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(first.body["read_at"].is_string(), "{}", first.text);
    let again = t.staff.json("POST", &format!("/api/v1/notices/{nid}/read"), &json!({})).await;
    assert_eq!(again.body["read_at"], first.body["read_at"], "idempotent");
    assert_eq!(t.staff.get("/api/v1/notices/unread-count").await.body["count"], 1);
    assert_eq!(t.staff.get("/api/v1/notices?unread=true").await.body["items"].as_array().map(Vec::len), Some(1));
    let r = t.staff.json("POST", "/api/v1/notices/read-all", &json!({})).await;
    assert_eq!((r.status, r.body["count"].as_u64()), (StatusCode::OK, Some(0)), "{}", r.text);
    assert!(t.staff.get("/api/v1/notices?unread=true").await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(t.staff.get("/api/v1/notices").await.body["items"].as_array().map(Vec::len), Some(2));

    // A later revision taking effect on its date: the effective notice comes from the clock.
    let later = chrono::Utc::now().date_naive() + chrono::Days::new(10);
    let input = json!({"body": "Set the wrench to 14 Nm.", "reason_for_change": "New joint", "change_summary": "14 Nm",
        "effective_date": later});
    let b = t.owner.json("POST", &format!("/api/v1/documents/{id}/revisions"), &input).await;
    let (bid, version) = (b.body["id"].as_i64().unwrap(), b.body["version"].as_i64().unwrap());
    let b = t
        .owner
        .json(
            "POST",
            &format!("/api/v1/document-revisions/{bid}/move"),
            &json!({"action": "submit", "version": version}),
        )
        .await;
    t.approve(&b.body).await;
    assert_eq!(t.staff.get("/api/v1/notices/unread-count").await.body["count"], 1, "approved, not yet in force");
    let clock = server::storage::AuditContext::tool("effective dates");
    assert_eq!(store.take_effect_due(&clock, later).await.unwrap(), 1);
    assert_eq!(t.staff.get("/api/v1/notices/unread-count").await.body["count"], 2);

    // Every notice and every reading is in the audit trail (record type `notice`: the live feed).
    let trail = t.qm.get("/api/v1/audit?record_type=notice&limit=500").await;
    assert!(trail.body["items"].as_array().unwrap().len() >= 12, "{}", trail.text);
    assert!(store.verify_audit().await.unwrap().intact);
}

/// The numbers of a list answer's items.
fn listed(r: &common::Reply) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().iter().map(|d| d["number"].as_str().unwrap().to_string()).collect()
}

async fn the_register_filters_sorts_pages_and_exports(store: Arc<dyn Store>, _db: TestDb) {
    use server::storage::AuditContext;
    use shared::org::{DepartmentInput, ProcessInput};
    let t = team(&store).await;
    let tool = AuditContext::tool("test");
    let dept = store
        .create_department(&tool, &DepartmentInput { name: "Assembly".into(), site_id: None, version: None })
        .await
        .unwrap();
    let process = store
        .create_process(
            &tool,
            &ProcessInput {
                name: "Final assembly".into(),
                owner_id: Some(shared::auth::UserId(t.ids.0)),
                department_id: Some(dept.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // SOP-0001 in force (in the process), SOP-0002 in review, WI-0001 a draft owned by the
    // reviewer, FRM-0001 nothing yet, POL-0001 obsolete, SOP-0003 in force and overdue for review.
    let torque = t.document("Torque settings", json!({"process_id": process.id.0})).await;
    t.in_force(torque["id"].as_i64().unwrap(), "Set the wrench to 12 Nm.").await;
    let gauges = t.document("Gauge calibration", json!({})).await;
    t.submitted(gauges["id"].as_i64().unwrap(), "Calibrate yearly.").await;
    let lathe = t.document("Lathe set-up", json!({"doc_type": "work_instruction", "owner_id": t.ids.1})).await;
    let r = t
        .reviewer
        .json("POST", &format!("/api/v1/documents/{}/revisions", lathe["id"]), &json!({"body": "Chuck"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    t.document("Paint log", json!({"doc_type": "form"})).await;
    let policy = t.document("Quality policy", json!({"doc_type": "policy"})).await;
    let r =
        t.qm.json(
            "POST",
            &format!("/api/v1/documents/{}/obsolete", policy["id"]),
            &json!({"reason": "Merged", "version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let old = t.document("Old practice", json!({})).await;
    let a = t.in_force(old["id"].as_i64().unwrap(), "As always.").await;
    let since = chrono::Utc::now().date_naive() - chrono::Days::new(900);
    store.backdate_in_force(&tool, shared::document::RevisionId(a["id"].as_i64().unwrap()), since).await.unwrap();

    // Without parameters: today's answer, every document not obsolete by number, no total.
    let all = t.staff.get("/api/v1/documents").await;
    assert_eq!(listed(&all), ["FRM-0001", "SOP-0001", "SOP-0002", "SOP-0003", "WI-0001"]);
    assert!(all.body.get("total").is_none(), "{}", all.text);
    assert_eq!(listed(&t.staff.get("/api/v1/documents?include_obsolete=true").await).len(), 6);

    // Each filter, alone and together; the status as the document shows it.
    let cases: &[(&str, &[&str])] = &[
        ("type=sop", &["SOP-0001", "SOP-0002", "SOP-0003"]),
        ("status=in_force", &["SOP-0001", "SOP-0003"]),
        ("status=in_review", &["SOP-0002"]),
        ("status=draft", &["WI-0001"]),
        ("status=no_revision", &["FRM-0001"]),
        ("status=obsolete", &["POL-0001"]),
        (&format!("owner_id={}", t.ids.1), &["WI-0001"]),
        (&format!("process_id={}", process.id.0), &["SOP-0001"]),
        ("review_overdue=true", &["SOP-0003"]),
        ("q=GAUGE", &["SOP-0002"]),
        ("q=wi-", &["WI-0001"]),
        ("q=100%25", &[]),
        ("type=sop&status=in_force&sort=title", &["SOP-0003", "SOP-0001"]),
        ("sort=title&desc=true", &["SOP-0001", "FRM-0001", "SOP-0003", "WI-0001", "SOP-0002"]),
        ("sort=number&desc=true&type=sop", &["SOP-0003", "SOP-0002", "SOP-0001"]),
    ];
    for (query, expected) in cases {
        let r = t.staff.get(&format!("/api/v1/documents?{query}")).await;
        assert_eq!(listed(&r), *expected, "{query}");
        for d in r.body["items"].as_array().unwrap() {
            let doc: shared::document::Document = serde_json::from_value(d.clone()).unwrap();
            let filter = shared::document::DocumentListQuery {
                status: query.strip_prefix("status=").map(String::from),
                ..Default::default()
            }
            .parse()
            .unwrap();
            assert!(filter.admits(&doc), "{query}: {d}");
        }
    }
    let r = t.staff.get("/api/v1/documents?status=in_review").await;
    assert_eq!(r.body["items"][0]["in_progress"], "in_review", "{}", r.text);
    // The last changed first: the overdue one was backdated last of all, but that is not a change
    // of the document or its revisions; the policy made obsolete is not listed.
    let r = t.staff.get("/api/v1/documents?sort=updated&desc=true").await;
    assert_eq!(listed(&r)[0], "SOP-0003", "{}", r.text);

    // Pages: the total that matches, the page asked for.
    let r = t.staff.get("/api/v1/documents?limit=2").await;
    assert_eq!((listed(&r), r.body["total"].as_i64()), (vec!["FRM-0001".into(), "SOP-0001".into()], Some(5)));
    let r = t.staff.get("/api/v1/documents?type=sop&limit=2&offset=2").await;
    assert_eq!((listed(&r), r.body["total"].as_i64()), (vec!["SOP-0003".to_string()], Some(3)));
    let r = t.staff.get("/api/v1/documents?type=sop&limit=2&offset=9").await;
    assert_eq!((listed(&r).len(), r.body["total"].as_i64()), (0, Some(3)));

    // A bad value is 422 naming its parameter.
    for (query, field) in [
        ("type=memo", "type"),
        ("status=effective", "status"),
        ("owner_id=tom", "owner_id"),
        ("process_id=0", "process_id"),
        ("review_overdue=yes", "review_overdue"),
        ("sort=owner", "sort"),
        ("desc=1", "desc"),
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("include_obsolete=maybe", "include_obsolete"),
    ] {
        for path in ["/api/v1/documents", "/api/v1/documents.csv"] {
            let r = t.staff.get(&format!("{path}?{query}")).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}?{query}: {}", r.text);
            assert!(r.body["field_errors"][field].is_array(), "{path}?{query}: {}", r.text);
        }
    }

    // The CSV: the same filters, every match, the columns a spreadsheet reads.
    let r = t.staff.get("/api/v1/documents.csv?type=sop&include_obsolete=true").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers[axum::http::header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let rows = shared::csv::read(&r.text).unwrap();
    assert_eq!(rows[0].cells, shared::document::CSV_HEADER);
    let cells: Vec<Vec<String>> = rows[1..].iter().map(|r| r.cells.clone()).collect();
    let next = |d: &Value| d["next_review_on"].as_str().unwrap_or_default().to_string();
    let sop1 = t.staff.get(&format!("/api/v1/documents/{}", torque["id"])).await.body;
    let sop3 = t.staff.get(&format!("/api/v1/documents/{}", old["id"])).await.body;
    assert_eq!(
        cells,
        [
            [
                "SOP-0001",
                "Torque settings",
                "Standard operating procedure",
                "In force",
                "A",
                "Tom Okafor",
                "Final assembly",
                &next(&sop1),
                "no"
            ]
            .map(String::from)
            .to_vec(),
            [
                "SOP-0002",
                "Gauge calibration",
                "Standard operating procedure",
                "In review",
                "",
                "Tom Okafor",
                "",
                "",
                "no"
            ]
            .map(String::from)
            .to_vec(),
            [
                "SOP-0003",
                "Old practice",
                "Standard operating procedure",
                "In force",
                "A",
                "Tom Okafor",
                "",
                &next(&sop3),
                "yes"
            ]
            .map(String::from)
            .to_vec(),
        ]
    );
    let r = t.staff.get("/api/v1/documents.csv?status=obsolete&limit=1").await;
    let rows = shared::csv::read(&r.text).unwrap();
    assert_eq!((rows.len(), rows[1].cells[3].as_str()), (2, "Obsolete"), "{}", r.text);
}

async fn generated_documents_are_in_force_searchable_and_audited(store: Arc<dyn Store>, _db: TestDb) {
    let t = team(&store).await;
    let tool = server::storage::AuditContext::tool("caliper seed-documents");
    assert_eq!(server::demo_documents::generate_documents(store.as_ref(), &tool, 40).await.unwrap(), 40);
    let all = t.staff.get("/api/v1/documents?limit=500").await;
    assert_eq!(all.body["total"], 40, "{}", all.text);
    let items = all.body["items"].as_array().unwrap();
    assert!(items.iter().all(|d| d["in_force"].is_string()), "every one in force");
    let types: std::collections::BTreeSet<&str> = items.iter().map(|d| d["doc_type"].as_str().unwrap()).collect();
    assert!(types.len() >= 4, "across the types: {types:?}");
    assert_eq!(items.iter().filter(|d| d["in_force"] == "B").count(), 2, "one in 30 with a superseded revision A");
    // About 2,000 words of text in force, which search finds by its words.
    let doc = &items[5];
    let revisions = t.staff.get(&format!("/api/v1/documents/{}/revisions", doc["id"])).await;
    let body = revisions.body["items"][0]["body"].as_str().unwrap().to_string();
    let words: Vec<&str> = body.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 3).collect();
    // (Counting words of four letters or more; the vocabulary is drawn from the demo data, so the
    // count moves a little when the demo changes.)
    assert!((1_500..2_600).contains(&words.len()), "{}", words.len());
    // A word of its text, with its number (every word must match: this one document).
    let word = words.iter().rev().find(|w| w.len() > 6).unwrap().to_lowercase();
    let q = format!("{} {word}", doc["number"].as_str().unwrap());
    let hits = search(&t.staff, &q).await;
    assert_eq!(numbers(&hits), [doc["number"].as_str().unwrap()], "{q}: {hits}");
    // Audited: a document and its revisions each, the chain intact.
    let trail = t.qm.get("/api/v1/audit?record_type=document_revision&limit=500").await;
    assert_eq!(trail.body["items"].as_array().map(Vec::len), Some(42), "{}", &trail.text[..300.min(trail.text.len())]);
    assert!(store.verify_audit().await.unwrap().intact);
}

/// `PUT /api/v1/document-revisions/{id}/file?name=…` as `client`, at `version`.
async fn put_file(
    client: &Client,
    revision: i64,
    version: i64,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> common::Reply {
    let req = axum::http::Request::builder()
        .method("PUT")
        .uri(format!("/api/v1/document-revisions/{revision}/file?name={}", urlencode(name)))
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .header(axum::http::header::IF_MATCH, format!("\"{version}\""))
        .body(axum::body::Body::from(bytes))
        .unwrap();
    client.send(req).await
}

/// `GET …/file` as `client`: the status, the headers and the bytes as they came.
async fn get_file(client: &Client, revision: i64) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut req = axum::http::Request::get(format!("/api/v1/document-revisions/{revision}/file"))
        .body(axum::body::Body::empty())
        .unwrap();
    if let Some((cookie, _)) = &client.session {
        req.headers_mut().insert(axum::http::header::COOKIE, cookie.parse().unwrap());
    }
    let res = client.router.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn files_attach_to_drafts_and_come_back_byte_for_byte(store: Arc<dyn Store>, db: TestDb) {
    use sha2::Digest as _;
    let t = team(&store).await;
    let doc = t.document("Torque settings", json!({})).await;
    let r = t
        .owner
        .json("POST", &format!("/api/v1/documents/{}/revisions", doc["id"]), &json!({"body": "See the drawing."}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rid = r.body["id"].as_i64().unwrap();
    let mut version = r.body["version"].as_i64().unwrap();
    assert!(r.body["file"].is_null(), "{}", r.text);

    // A small PDF, then a 5 MiB one: each comes back byte for byte, as a download, never sniffed.
    let small = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut big = b"%PDF-1.7\n".to_vec();
    while big.len() < 5 * 1024 * 1024 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        big.extend_from_slice(&seed.to_le_bytes());
    }
    for (name, bytes) in [("Torque drawing.pdf", small.clone()), ("Prüfplan \"B\".pdf", big.clone())] {
        let r = put_file(&t.owner, rid, version, name, "application/pdf", bytes.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", &r.text[..r.text.len().min(400)]);
        version = r.body["version"].as_i64().unwrap();
        let sha = shared::audit::hex(&sha2::Sha256::digest(&bytes));
        assert_eq!(
            r.body["file"],
            json!({"name": name, "media_type": "application/pdf", "size": bytes.len(), "sha256": sha})
        );
        let (status, headers, back) = get_file(&t.reviewer, rid).await;
        assert_eq!(status, StatusCode::OK);
        assert!(back == bytes, "byte-identical: {} of {} bytes", back.len(), bytes.len());
        assert_eq!(headers[axum::http::header::CONTENT_TYPE], "application/pdf");
        assert_eq!(headers[axum::http::header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[axum::http::header::CONTENT_DISPOSITION], shared::document::content_disposition(name));
    }
    let disposition = shared::document::content_disposition("Prüfplan \"B\".pdf");
    assert!(disposition.starts_with("attachment; filename=\"Pr_fplan _B_.pdf\""), "{disposition}");

    // The body may be empty now that a file stands for it.
    let r = t
        .owner
        .raw("PUT", &format!("/api/v1/document-revisions/{rid}"), "application/json", json!({"body": ""}).to_string())
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED, "the edit needs its version too: {}", r.text);
    let req = axum::http::Request::put(format!("/api/v1/document-revisions/{rid}"))
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header(axum::http::header::IF_MATCH, format!("\"{version}\""))
        .body(axum::body::Body::from(json!({"body": ""}).to_string()))
        .unwrap();
    let r = t.owner.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    version = r.body["version"].as_i64().unwrap();

    // Too large: 413 in the envelope; refused contents and names: 422 naming the field.
    let r = put_file(&t.owner, rid, version, "huge.pdf", "application/pdf", vec![b'%'; 20 * 1024 * 1024 + 1]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &r.text[..r.text.len().min(300)]);
    assert!(r.body["message"].as_str().unwrap().contains("20 MiB"), "{}", r.text);
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    for (name, content_type, bytes, field) in [
        ("empty.pdf", "application/pdf", Vec::new(), "file"),
        ("drawing.pdf", "application/pdf", png.clone(), "file"),
        (
            "drawing.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            small.clone(),
            "file",
        ),
        ("page.html", "text/html", b"<script>".to_vec(), "file"),
        ("notes.txt", "text/plain", b"caf\xe9".to_vec(), "file"),
        ("../drawing.pdf", "application/pdf", small.clone(), "name"),
        ("", "application/pdf", small.clone(), "name"),
        (&"x".repeat(201), "application/pdf", small.clone(), "name"),
    ] {
        let r = put_file(&t.owner, rid, version, name, content_type, bytes).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name} {content_type}: {}", r.text);
        assert!(r.body["field_errors"][field].is_array(), "{name} {content_type}: {}", r.text);
    }
    let r = put_file(&t.owner, rid, version, "photo.png", "image/png", png.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    version = r.body["version"].as_i64().unwrap();

    // Only the author or owner (403 for a reviewer), at the version last seen (409), and nobody
    // who may not see the draft (404, reading too).
    let r = put_file(&t.reviewer, rid, version, "x.pdf", "application/pdf", small.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = put_file(&t.owner, rid, version - 1, "x.pdf", "application/pdf", small.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["current"]["version"], version, "{}", r.text);
    let r = put_file(&t.staff, rid, version, "x.pdf", "application/pdf", small.clone()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(get_file(&t.staff, rid).await.0, StatusCode::NOT_FOUND);

    // A file replaced after a signature voids it, as an edit does.
    let r = t
        .owner
        .json(
            "POST",
            &format!("/api/v1/document-revisions/{rid}/move"),
            &json!({"action": "submit", "version": version}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sign = json!({"record_type": "document_revision", "record_id": rid, "record_version": r.body["content_version"],
        "meaning": "reviewed", "password": common::PASSWORD, "accept_agreement": true});
    let signed = t.reviewer.sign(&sign).await;
    assert_eq!(signed.status, StatusCode::CREATED, "{}", signed.text);
    let back = json!({"action": "send_back", "version": r.body["version"], "reason": "Wrong photo"});
    let r = t.reviewer.json("POST", &format!("/api/v1/document-revisions/{rid}/move"), &back).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let signatures = format!("/api/v1/signatures?record_type=document_revision&record_id={rid}");
    assert_eq!(t.qm.get(&signatures).await.body["items"][0]["superseded"], false, "sent back: still binds");
    let content_version = r.body["content_version"].as_i64().unwrap();
    let r = put_file(
        &t.owner,
        rid,
        r.body["version"].as_i64().unwrap(),
        "Torque drawing.pdf",
        "application/pdf",
        small.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["content_version"], content_version + 1);
    let sigs = t.qm.get(&signatures).await;
    assert_eq!(sigs.body["items"][0]["superseded"], true, "{}", sigs.text);
    assert_eq!(get_file(&t.owner, rid).await.2, small, "the replacement is the current file");

    // Audited by name, size, type and hash, never the bytes; nothing deleted.
    let trail = t.qm.get(&format!("/api/v1/audit?record_type=document_revision&record_id={rid}&limit=100")).await;
    assert!(trail.text.contains("File attached: photo.png"), "{}", &trail.text[..trail.text.len().min(500)]);
    assert!(trail.text.contains(&shared::audit::hex(&sha2::Sha256::digest(&png))), "the hash is in the trail");
    assert!(trail.text.len() < 200_000, "no bytes in the trail: {} characters", trail.text.len());
    assert!(db.execute("delete from document_files").await.is_err(), "files are never deleted");
    assert!(db.execute("update document_files set name = 'x.pdf'").await.is_err(), "nor changed");
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn the_text_is_rendered_once_on_the_server_and_safely(store: Arc<dyn Store>, _db: TestDb) {
    let t = team(&store).await;
    let doc = t.document("Rendered text", json!({})).await;
    let doc = doc["id"].as_i64().unwrap();
    let body = "# Scope\n\nApplies to **line 4**.\n\n<script>alert(1)</script>\n\n[run](javascript:alert(2))";
    let draft = t.submitted(doc, body).await;
    let html = format!("/api/v1/document-revisions/{}/html", draft["id"]);

    // Not readable by staff while in review: 404, like the revision itself.
    assert_eq!(t.staff.get(&html).await.status, StatusCode::NOT_FOUND);
    let r = t.reviewer.get(&html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let out = r.body["html"].as_str().unwrap();
    assert!(out.contains("<h2>Scope</h2>"), "the document's headings sit under the page's title: {out}");
    assert!(out.contains("<strong>line 4</strong>"), "{out}");
    assert!(!out.contains("<script") && out.contains("&lt;script&gt;"), "HTML in the source is text: {out}");
    assert!(!out.contains("javascript:"), "no script links: {out}");

    // In force, everyone reads it.
    t.approve(&draft).await;
    let r = t.staff.get(&html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["html"].as_str(), Some(out));
    assert_eq!(t.staff.get("/api/v1/document-revisions/999999/html").await.status, StatusCode::NOT_FOUND);
}

/// The labels of `doc`'s revisions, newest first.
async fn labels(client: &Client, doc: i64) -> Vec<String> {
    let r = client.get(&format!("/api/v1/documents/{doc}/revisions")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap().to_string()).collect()
}

async fn revision_labels_are_the_installations_choice(store: Arc<dyn Store>, db: TestDb) {
    let t = team(&store).await;
    let admin = Client::admin(store.clone()).await;
    // Another instance on the same database: it reads the setting from there.
    let mut elsewhere = Client::new(db.second_store());
    assert_eq!(elsewhere.sign_in("tom.okafor", common::PASSWORD).await.status, StatusCode::OK);
    let path = "/api/v1/settings/documents";

    // Letters by default: A, B.
    let r = t.staff.get(path).await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &json!({"revision_labels": "letters"})), "{}", r.text);
    let lettered = t.document("Control of records", json!({})).await["id"].as_i64().unwrap();
    t.in_force(lettered, "# Records\n").await;
    t.in_force(lettered, "# Records\nKept ten years.\n").await;
    assert_eq!(labels(&t.owner, lettered).await, ["B", "A"]);

    // Only an administrator changes it (not even the quality manager); a bad value names its field.
    let numbers = json!({"revision_labels": "numbers"});
    assert_eq!(t.staff.json("PUT", path, &numbers).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.qm.json("PUT", path, &numbers).await.status, StatusCode::FORBIDDEN);
    for bad in [json!({"revision_labels": "roman"}), json!({"revision_labels": "Letters"}), json!({})] {
        let r = admin.json("PUT", path, &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
        assert!(r.body["field_errors"]["revision_labels"].is_array(), "{bad}: {}", r.text);
    }
    assert_eq!(t.staff.get(path).await.body["revision_labels"], "letters", "nothing changed");
    let r = admin.json("PUT", path, &numbers).await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &numbers), "{}", r.text);
    assert_eq!(elsewhere.get(path).await.body, numbers, "every instance reads the same setting");

    // Revisions created afterwards are numbered, on every instance; earlier labels stay.
    let numbered = t.document("Control of documents", json!({})).await["id"].as_i64().unwrap();
    t.in_force(numbered, "# Documents\n").await;
    let input = json!({"body": "# Documents\nNumbered.\n", "reason_for_change": "Audit", "change_summary": "More"});
    let r = elsewhere.json("POST", &format!("/api/v1/documents/{numbered}/revisions"), &input).await;
    assert_eq!((r.status, r.body["label"].as_str()), (StatusCode::CREATED, Some("2")), "{}", r.text);
    assert_eq!(labels(&t.owner, numbered).await, ["2", "1"]);
    assert_eq!(labels(&t.owner, lettered).await, ["B", "A"], "existing labels never change");
    t.in_force(lettered, "# Records\nKept twelve years.\n").await;
    assert_eq!(labels(&t.owner, lettered).await, ["3", "B", "A"], "the third revision, labelled as now");

    // The change is in the audit trail, by whom; setting the same value again changes nothing.
    assert_eq!(admin.json("PUT", path, &numbers).await.status, StatusCode::OK);
    let filter = server::storage::AuditFilter {
        record_type: Some("installation_settings".into()),
        limit: 10,
        ..Default::default()
    };
    let trail = store.list_audit(&filter).await.unwrap();
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(trail[0].actor_name, "Ada Admin");
    let change = &trail[0].changes["revision_labels"];
    assert_eq!((&change.old, &change.new), (&json!("letters"), &json!("numbers")));

    // Back to letters: the next revision of the lettered document is its fourth, "D".
    let letters = json!({"revision_labels": "letters"});
    assert_eq!(admin.json("PUT", path, &letters).await.body, letters);
    t.in_force(lettered, "# Records\nKept fifteen years.\n").await;
    assert_eq!(labels(&t.owner, lettered).await, ["D", "3", "B", "A"]);
    assert_eq!(store.list_audit(&filter).await.unwrap().len(), 2);
    assert!(store.verify_audit().await.unwrap().intact);
}

on_both_backends!(
    search_finds_the_text_in_force_by_word_and_number,
    search_ranks_number_and_title_matches_first_then_the_head_of_the_text,
    periodic_reviews_are_signed_and_move_the_next_review_on,
    revision_notices_reach_the_readers_who_want_them,
    the_register_filters_sorts_pages_and_exports,
    generated_documents_are_in_force_searchable_and_audited,
    files_attach_to_drafts_and_come_back_byte_for_byte,
    the_text_is_rendered_once_on_the_server_and_safely,
    revision_labels_are_the_installations_choice,
);
