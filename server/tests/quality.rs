//! Nonconformance, complaints and CAPA on SQLite and PostgreSQL, through the real router: an NC
//! from the shop floor to its CAPA; the CAPA's lifecycle with every refusal named and nothing
//! changed (a disposition by an unqualified role, a verifier who is the owner, a due date edited
//! directly, verification while linked work is open); the plan approved by signature; the
//! effectiveness check that reopens; two people on one step; extensions; complaints; the Pareto
//! and the metrics.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Days, Utc};
use common::{Client, PASSWORD, TestDb};
use serde_json::{Value, json};
use server::storage::{AuditContext, AuditFilter, Change, SignOutcome, Store};
use shared::auth::{Role, UserId};
use shared::document::{DocumentInput, DocumentType, RevisionAction, RevisionInput};
use shared::signature::{Meaning, SignInput};

async fn me(client: &Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

fn days(n: u64) -> String {
    Utc::now().date_naive().checked_add_days(Days::new(n)).unwrap().to_string()
}

fn today() -> String {
    Utc::now().date_naive().to_string()
}

fn codes(r: &common::Reply, field: &str) -> Vec<String> {
    r.body["field_errors"][field]
        .as_array()
        .map(|a| a.iter().map(|c| c.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

async fn category(client: &Client, name: &str) -> i64 {
    let list = client.get("/api/v1/nc-categories").await;
    list.body["items"].as_array().unwrap().iter().find(|c| c["name"] == name).expect("category")["id"].as_i64().unwrap()
}

async fn audit_count(store: &Arc<dyn Store>, record_type: &str, id: i64) -> usize {
    let filter = AuditFilter {
        record_type: Some(record_type.into()),
        record_id: Some(id),
        limit: 500,
        ..AuditFilter::default()
    };
    store.list_audit(&filter).await.unwrap().len()
}

async fn step(client: &Client, uri: &str, body: Value) -> common::Reply {
    client.json("POST", uri, &body).await
}

async fn an_nc_from_the_shop_floor_to_its_capa(store: Arc<dyn Store>, _db: TestDb) {
    let lee = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let dimensional = category(&lee, "Dimensional").await;

    // Bad input names every field; nothing is saved.
    let bad = lee
        .json(
            "POST",
            "/api/v1/ncs",
            &json!({"source": "internal", "description": " ", "reported_on": days(3),
            "costs": {"scrap": -5}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(codes(&bad, "category_id"), ["required"]);
    assert_eq!(codes(&bad, "description"), ["required"]);
    assert_eq!(codes(&bad, "reported_on"), ["future_date"]);
    assert_eq!(codes(&bad, "costs.scrap"), ["bad_amount"]);
    assert!(lee.get("/api/v1/ncs").await.body["items"].as_array().unwrap().is_empty());

    let raised = lee
        .json(
            "POST",
            "/api/v1/ncs",
            &json!({"source": "internal", "category_id": dimensional, "product": "Housing H-200",
            "lot": "L-2211", "quantity": 12, "description": "Bore diameter 0.05 mm over tolerance on 12 housings",
            "containment": "Lot tagged and moved to the quarantine rack", "reported_on": today(),
            "costs": {"scrap": 48000}}),
        )
        .await;
    assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.text);
    let nc = raised.body["id"].as_i64().unwrap();
    assert!(raised.body["number"].as_str().unwrap().starts_with("NC-"), "{}", raised.text);
    assert_eq!(raised.body["reported_by_name"], common::display_name("lee.chen"));
    let uri = format!("/api/v1/ncs/{nc}/steps");

    // Only a qualified role decides the disposition: the process owner is refused, by name.
    let r = step(&tom, &uri, json!({"step": "disposition", "disposition": "scrap", "version": 1})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(codes(&r, "disposition"), ["not_qualified"]);
    // "Use as is" needs its justification.
    let r = step(&qm, &uri, json!({"step": "disposition", "disposition": "use_as_is", "version": 1})).await;
    assert_eq!((r.status, codes(&r, "note")), (StatusCode::UNPROCESSABLE_ENTITY, vec!["required".to_string()]));
    let r = step(&qm, &uri, json!({"step": "disposition", "disposition": "scrap", "version": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["dispositioned_by"], common::display_name("priya.natarajan"));
    // A stale version gets the current record.
    let r = step(&qm, &uri, json!({"step": "close", "version": 1})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["current"]["meta"]["version"], 2);
    // Not evaluated: refused, named.
    let r = step(&qm, &uri, json!({"step": "close", "version": 2})).await;
    assert_eq!((r.status, codes(&r, "evaluation")), (StatusCode::UNPROCESSABLE_ENTITY, vec!["not_evaluated".into()]));
    let r = step(
        &qm,
        &uri,
        json!({"step": "evaluate", "capa_needed": true, "rationale": "Third bore NC this quarter",
        "root_cause": "machine", "version": 2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = step(&qm, &uri, json!({"step": "close", "version": 3})).await;
    assert_eq!(codes(&r, "capa_id"), ["capa_missing"]);
    // Open a CAPA from the NC: linked both ways, in draft, the problem carried over.
    // Two clicks at once: one CAPA is opened, the other click gets 409 and opens nothing.
    let (a, b) = tokio::join!(
        step(&qm, &uri, json!({"step": "link_capa", "version": 3})),
        step(&qm, &uri, json!({"step": "link_capa", "version": 3}))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.text, b.text);
    let r = if a.status == StatusCode::OK { a } else { b };
    assert_eq!(qm.get("/api/v1/capas").await.body["items"].as_array().unwrap().len(), 1);
    let capa = r.body["capa_id"].as_i64().unwrap();
    let c = qm.get(&format!("/api/v1/capas/{capa}")).await;
    assert_eq!(c.body["state"], "draft");
    assert_eq!(c.body["nc"]["id"], nc);
    assert!(c.body["investigation"]["problem"].as_str().unwrap().contains("Bore diameter"));
    let r = step(&qm, &uri, json!({"step": "close", "version": 4})).await;
    assert_eq!((r.status, &r.body["state"]), (StatusCode::OK, &json!("closed")), "{}", r.text);
    // Closed: nothing more.
    let r = step(&qm, &uri, json!({"step": "cancel", "reason": "x", "version": 5})).await;
    assert_eq!((r.status, codes(&r, "state")), (StatusCode::CONFLICT, vec!["wrong_state".into()]));
    // Every change is in the trail: raised, dispositioned, evaluated, linked, closed.
    assert_eq!(audit_count(&store, "nc", nc).await, 5);
    // The Pareto counts it under its category; the staff member reads the register.
    let p = lee.get("/api/v1/ncs/pareto?by=category").await;
    assert_eq!(p.body["items"][0]["label"], "Dimensional", "{}", p.text);
    assert_eq!(p.body["items"][0]["count"], 1);
    assert_eq!(p.body["items"][0]["cost"], 48000);
    // The Pareto follows a correction and a cancellation (the database keeps its counts).
    let material = category(&lee, "Material").await;
    let body = json!({"source": "supplier", "category_id": material, "description": "Porous casting",
        "reported_on": today(), "quantity": 2});
    let second = lee.json("POST", "/api/v1/ncs", &body).await;
    let second_id = second.body["id"].as_i64().unwrap();
    let labels = |r: &common::Reply| {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["label"].as_str().unwrap().to_string(), b["count"].as_i64().unwrap()))
            .collect::<Vec<_>>()
    };
    let p = lee.get("/api/v1/ncs/pareto").await;
    assert_eq!(labels(&p), [("Dimensional".to_string(), 1), ("Material".to_string(), 1)]);
    let mut corrected = body.clone();
    corrected["category_id"] = json!(dimensional);
    corrected["version"] = json!(1);
    let r = lee.json("PUT", &format!("/api/v1/ncs/{second_id}"), &corrected).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(labels(&lee.get("/api/v1/ncs/pareto").await), [("Dimensional".to_string(), 2)]);
    let r = step(
        &qm,
        &format!("/api/v1/ncs/{second_id}/steps"),
        json!({"step": "cancel", "reason": "Raised twice", "version": 2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(labels(&lee.get("/api/v1/ncs/pareto?by=process").await), [("No process".to_string(), 1)]);
    let filtered = lee.get(&format!("/api/v1/ncs?state=closed&category_id={dimensional}&q=bore")).await;
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1, "{}", filtered.text);
    assert!(lee.get("/api/v1/ncs?state=open").await.body["items"].as_array().unwrap().is_empty());
}

/// Signs `record` as `signer` through the API.
async fn sign(client: &Client, record_type: &str, id: i64, version: i64, meaning: &str) -> common::Reply {
    client
        .sign(&json!({"record_type": record_type, "record_id": id, "record_version": version,
            "meaning": meaning, "password": PASSWORD, "accept_agreement": true}))
        .await
}

async fn the_capa_lifecycle_and_its_gate(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let sam = Client::as_new_user(store.clone(), "sam.verifier", &[Role::ProcessOwner]).await;
    let (qm_id, tom_id, sam_id) = (me(&qm).await, me(&tom).await, me(&sam).await);

    // The document revision the plan will wait for: a draft of an SOP.
    let ctx = AuditContext { actor_id: Some(qm_id), actor_name: "qm".into(), ..AuditContext::tool("test") };
    let doc = store
        .create_document(
            &ctx,
            &DocumentInput {
                doc_type: DocumentType::Sop,
                title: "Bore machining".into(),
                owner_id: Some(UserId(tom_id)),
                process_id: None,
                reviewers: vec![UserId(sam_id)],
                approvers: vec![UserId(qm_id)],
                review_interval_months: 24,
                retention_years: 10,
                source: String::new(),
                source_revision: String::new(),
                reader_roles: Vec::new(),
                reader_department_ids: Vec::new(),
            },
        )
        .await
        .unwrap();
    let tom_ctx = AuditContext { actor_id: Some(tom_id), actor_name: "tom".into(), ..AuditContext::tool("test") };
    let rev = store
        .create_revision(
            &tom_ctx,
            doc.id,
            &RevisionInput {
                body: "Check the tool offset every 50 parts.".into(),
                reason_for_change: "CAPA".into(),
                change_summary: "Offset check".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // The quality manager opens a CAPA; nobody else may.
    let body = json!({"title": "Oversize bores on H-200", "kind": "corrective", "problem": "Bores 0.05 mm over"});
    assert_eq!(tom.json("POST", "/api/v1/capas", &body).await.status, StatusCode::FORBIDDEN);
    let c = qm.json("POST", "/api/v1/capas", &body).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let id = c.body["id"].as_i64().unwrap();
    let uri = format!("/api/v1/capas/{id}/steps");
    assert_eq!(step(&qm, &uri, json!({"step": "submit", "version": 1})).await.status, StatusCode::OK);
    // Triage: the verifier may not be the owner; the due date lies ahead.
    let r = step(
        &qm,
        &uri,
        json!({"step": "triage", "severity": 4, "likelihood": 4, "owner_id": tom_id,
        "verifier_id": tom_id, "due_on": today(), "version": 2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(codes(&r, "verifier_id"), ["verifier_is_owner"]);
    assert_eq!(codes(&r, "due_on"), ["too_early"]);
    let r = step(
        &qm,
        &uri,
        json!({"step": "triage", "severity": 4, "likelihood": 4, "owner_id": tom_id,
        "verifier_id": sam_id, "due_on": days(30), "version": 2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["risk"], "high");
    assert_eq!(r.body["original_due_on"], days(30));

    // The owner investigates: 5 whys and a confirmed cause. A due date cannot be edited here.
    let inv = json!({"problem": "Bores 0.05 mm over", "whys": ["Tool wore", "Offset not checked", "No check in the SOP"],
        "causes": [{"category": "method", "text": "SOP has no offset check", "confirmed": true, "evidence": "SOP-0001 rev A step 4"},
                   {"category": "machine", "text": "Spindle runout", "confirmed": false}]});
    let r = tom
        .json(
            "PUT",
            &format!("/api/v1/capas/{id}"),
            &json!({"title": "Oversize bores on H-200", "investigation": inv,
            "due_on": days(60), "version": 3}),
        )
        .await;
    assert_eq!((r.status, codes(&r, "due_on")), (StatusCode::UNPROCESSABLE_ENTITY, vec!["use_extension".into()]));
    // A confirmed cause needs its evidence.
    let r = tom
        .json(
            "PUT",
            &format!("/api/v1/capas/{id}"),
            &json!({"title": "Oversize bores on H-200",
            "investigation": {"causes": [{"category": "method", "text": "x", "confirmed": true}]}, "version": 3}),
        )
        .await;
    assert_eq!(codes(&r, "investigation.causes.0.evidence"), ["required"]);
    let r = tom
        .json(
            "PUT",
            &format!("/api/v1/capas/{id}"),
            &json!({"title": "Oversize bores on H-200", "investigation": inv,
            "version": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Submitting a plan without actions is refused, named.
    let r = step(&tom, &uri, json!({"step": "submit_plan", "version": 4})).await;
    assert_eq!(codes(&r, "actions"), ["no_actions"]);
    let r = tom
        .json(
            "POST",
            &format!("/api/v1/capas/{id}/actions"),
            &json!({"title": "Add the offset check to the SOP",
            "kind": "document_revision", "link_id": rev.id.0, "owner_id": tom_id, "due_on": days(20), "version": 4}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = tom
        .json(
            "POST",
            &format!("/api/v1/capas/{id}/actions"),
            &json!({"title": "Replace the boring bar",
            "kind": "task", "owner_id": tom_id, "due_on": days(10), "version": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["actions"][0]["link_status"], "draft");
    let task = r.body["actions"][1]["id"].as_i64().unwrap();
    let r = step(&tom, &uri, json!({"step": "submit_plan", "version": 6})).await;
    assert_eq!((r.status, &r.body["state"]), (StatusCode::OK, &json!("action_plan")), "{}", r.text);
    let plan_version = r.body["plan_version"].as_i64().unwrap();

    // The plan is approved by the quality manager's signature, not by the owner.
    assert_eq!(sign(&tom, "capa", id, plan_version, "approved").await.status, StatusCode::FORBIDDEN);
    let s = sign(&qm, "capa", id, plan_version, "approved").await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    let c = qm.get(&format!("/api/v1/capas/{id}")).await;
    assert_eq!(c.body["state"], "implementation");
    let version = c.body["meta"]["version"].as_i64().unwrap();

    // The draft revision holds the CAPA before verification, and the refusal names it.
    let r = step(&tom, &uri, json!({"step": "complete_implementation", "version": version})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains(&doc.number) && r.text.contains("draft"), "{}", r.text);
    assert!(r.text.contains("Replace the boring bar"), "{}", r.text);
    let r = tom.json("POST", &format!("/api/v1/capas/{id}/actions/{task}/done"), &json!({"version": version})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let version = r.body["meta"]["version"].as_i64().unwrap();
    // The revision goes through review and approval and is effective: the gate opens.
    let Change::Done(moved) =
        store.move_revision(&tom_ctx, rev.id, rev.meta.version, RevisionAction::Submit, "", false).await.unwrap()
    else {
        panic!("not submitted")
    };
    for (who, meaning) in [(sam_id, Meaning::Reviewed), (qm_id, Meaning::Approved)] {
        let sign = SignInput {
            record_type: "document_revision".into(),
            record_id: rev.id.0,
            record_version: moved.content_version,
            meaning,
            password: String::new(),
            username: None,
            accept_agreement: true,
            rationale: None,
        };
        let ctx = AuditContext { actor_id: Some(who), ..ctx.clone() };
        assert!(matches!(store.sign(&ctx, UserId(who), "s", &sign, true).await.unwrap(), SignOutcome::Signed(_)));
    }
    let c = qm.get(&format!("/api/v1/capas/{id}")).await;
    assert_eq!(c.body["actions"][0]["link_status"], "effective", "{}", c.text);
    let r = step(&tom, &uri, json!({"step": "complete_implementation", "version": version})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let version = r.body["meta"]["version"].as_i64().unwrap();

    // The owner never verifies; the quality manager is not the verifier either.
    let verify = json!({"step": "verify", "effectiveness_due_on": today(), "note": "Bar replaced, SOP in force",
        "version": version});
    let r = step(&tom, &uri, verify.clone()).await;
    assert_eq!((r.status, codes(&r, "step")), (StatusCode::FORBIDDEN, vec!["verifier_is_owner".into()]));
    let r = step(&qm, &uri, verify.clone()).await;
    assert_eq!(codes(&r, "step"), ["not_verifier"]);
    // Two people at once on the same version: one wins, the other gets 409 with the current CAPA.
    let (a, b) = tokio::join!(step(&sam, &uri, verify.clone()), step(&sam, &uri, verify.clone()));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.text, b.text);
    let loser = if a.status == StatusCode::CONFLICT { &a } else { &b };
    assert_eq!(loser.body["current"]["state"], "effectiveness");
    let version = version + 1;
    // Ineffective: the CAPA is reopened to the investigation.
    let r = step(
        &sam,
        &uri,
        json!({"step": "record_effectiveness", "result": "ineffective",
        "note": "Two oversize bores in lot L-2301", "version": version}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "investigation");
    assert_eq!(r.body["reopen_count"], 1);
    assert_eq!(r.body["effectiveness"][0]["result"], "ineffective");
    // The signed plan's approval stays valid (the state moved, the plan did not)...
    let sigs = qm.get(&format!("/api/v1/signatures?record_type=capa&record_id={id}")).await;
    assert_eq!(sigs.body["items"][0]["superseded"], false, "{}", sigs.text);
    assert_eq!(qm.verified(&sigs.body["items"][0]).await, "valid");
    // ...until the reopened investigation changes the plan.
    let version = r.body["meta"]["version"].as_i64().unwrap();
    let mut inv2 = inv.clone();
    inv2["whys"].as_array_mut().unwrap().push(json!("Offset check done by eye"));
    let r = tom
        .json(
            "PUT",
            &format!("/api/v1/capas/{id}"),
            &json!({"title": "Oversize bores on H-200", "investigation": inv2,
            "version": version}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sigs = qm.get(&format!("/api/v1/signatures?record_type=capa&record_id={id}")).await;
    assert_eq!(sigs.body["items"][0]["superseded"], true);
    assert_eq!(qm.verified(&sigs.body["items"][0]).await, "superseded");
    // Illegal transitions are refused and change nothing.
    let before = qm.get(&format!("/api/v1/capas/{id}")).await.body;
    let r = step(
        &sam,
        &uri,
        json!({"step": "verify", "effectiveness_due_on": today(), "version": before["meta"]["version"]}),
    )
    .await;
    assert_eq!((r.status, codes(&r, "state")), (StatusCode::CONFLICT, vec!["wrong_state".into()]));
    assert_eq!(qm.get(&format!("/api/v1/capas/{id}")).await.body, before);
    // My work: the owner sees the reopened CAPA.
    let work = tom.get("/api/v1/work").await;
    assert!(
        work.body["items"].as_array().unwrap().iter().any(|w| w["record_type"] == "capa" && w["record_id"] == id),
        "{}",
        work.text
    );
}

async fn extensions_complaints_and_metrics(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let exec = Client::as_new_user(store.clone(), "eva.lindqvist", &[Role::Executive]).await;
    let sam = common::create_user(&store, "sam.reid", &[Role::Auditor]).await;
    let tom_id = me(&tom).await;
    let c = qm
        .json("POST", "/api/v1/capas", &json!({"title": "Late deliveries", "kind": "preventive", "problem": "x"}))
        .await;
    let id = c.body["id"].as_i64().unwrap();
    let uri = format!("/api/v1/capas/{id}/steps");
    step(&qm, &uri, json!({"step": "submit", "version": 1})).await;
    let r = step(
        &qm,
        &uri,
        json!({"step": "triage", "severity": 2, "likelihood": 2, "owner_id": tom_id,
        "verifier_id": sam.0, "due_on": days(20), "version": 2}),
    )
    .await;
    assert_eq!(r.body["risk"], "low");
    // The owner asks for more time; a second request waits for the first decision.
    let ext = format!("/api/v1/capas/{id}/extensions");
    let r = tom.json("POST", &ext, &json!({"due_on": days(10), "reason": "Supplier late", "version": 3})).await;
    assert_eq!(codes(&r, "due_on"), ["too_early"]);
    let r = tom.json("POST", &ext, &json!({"due_on": days(45), "reason": "Supplier late", "version": 3})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let x = r.body["extensions"][0]["id"].as_i64().unwrap();
    let r = tom.json("POST", &ext, &json!({"due_on": days(50), "reason": "Again", "version": 4})).await;
    assert_eq!(codes(&r, "due_on"), ["extension_pending"]);
    // Only the quality manager decides.
    let decide = format!("/api/v1/capas/{id}/extensions/{x}/decision");
    assert_eq!(tom.json("POST", &decide, &json!({"approve": true, "version": 4})).await.status, StatusCode::FORBIDDEN);
    let r = qm.json("POST", &decide, &json!({"approve": true, "version": 4})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["due_on"], days(45));
    assert_eq!(r.body["original_due_on"], days(20));
    assert_eq!(r.body["extensions"][0]["state"], "approved");

    // A complaint, linked to an NC raised from it; closed only when answered and decided.
    let r = exec
        .json(
            "POST",
            "/api/v1/complaints",
            &json!({"customer": "Nordic Pumps AB", "product": "H-200",
        "lot": "L-2211", "received_on": today(), "channel": "email", "description": "Housings leak at the bore"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let complaint = r.body["id"].as_i64().unwrap();
    let curi = format!("/api/v1/complaints/{complaint}/steps");
    let cat = category(&qm, "Dimensional").await;
    let nc = qm
        .json(
            "POST",
            "/api/v1/ncs",
            &json!({"source": "customer", "category_id": cat, "description": "Leaking bores",
            "reported_on": today(), "quantity": 3}),
        )
        .await;
    let nc = nc.body["id"].as_i64().unwrap();
    assert_eq!(
        step(&exec, &curi, json!({"step": "investigate", "findings": "x", "version": 1})).await.status,
        StatusCode::FORBIDDEN
    );
    let r = step(&qm, &curi, json!({"step": "link_nc", "nc_id": nc, "version": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["ncs"][0]["id"], nc);
    assert_eq!(qm.get(&format!("/api/v1/ncs/{nc}")).await.body["complaint_id"], complaint);
    let r = step(
        &qm,
        &curi,
        json!({"step": "respond", "response": "Replacement shipped", "responded_on": today(), "version": 2}),
    )
    .await;
    assert_eq!((r.status, codes(&r, "state")), (StatusCode::CONFLICT, vec!["wrong_state".into()]), "{}", r.text);
    step(&qm, &curi, json!({"step": "investigate", "findings": "Oversize bores", "version": 2})).await;
    let r = step(
        &qm,
        &curi,
        json!({"step": "respond", "response": "Replacement shipped", "responded_on": today(), "version": 3}),
    )
    .await;
    assert_eq!(r.body["state"], "responded", "{}", r.text);
    let r = step(&qm, &curi, json!({"step": "close", "version": 4})).await;
    assert_eq!(codes(&r, "reportable"), ["required"]);
    let r = step(&qm, &curi, json!({"step": "reportability", "reportable": false, "reason": "No injury, no malfunction of a device", "version": 4})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = step(&qm, &curi, json!({"step": "close", "version": 5})).await;
    assert_eq!(r.body["state"], "closed", "{}", r.text);
    let counts = exec.get("/api/v1/complaints/counts").await;
    assert_eq!(counts.body["items"][11]["count"], 1, "{}", counts.text);

    // Metrics from live records: one CAPA opened, none closed (no data, not zero).
    let m = exec.get("/api/v1/capas/metrics").await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert_eq!(m.body["total"]["opened"], 1);
    assert!(m.body["total"]["closure_median_days"].is_null());
    assert_eq!(m.body["months"].as_array().unwrap().len(), 13);
    // A cancellation needs its reason and keeps the record.
    let r = step(&qm, &uri, json!({"step": "cancel", "reason": "", "version": 5})).await;
    assert_eq!(codes(&r, "reason"), ["required"]);
    let r = step(&qm, &uri, json!({"step": "cancel", "reason": "Duplicate of another CAPA", "version": 5})).await;
    assert_eq!(r.body["state"], "cancelled", "{}", r.text);
    assert_eq!(r.body["meta"]["retired_reason"], "Duplicate of another CAPA");
    assert!(store.get_capa(shared::quality::CapaId(id)).await.unwrap().is_some());
}

on_both_backends!(
    an_nc_from_the_shop_floor_to_its_capa,
    the_capa_lifecycle_and_its_gate,
    extensions_complaints_and_metrics
);
