//! FMEA worksheets through the real router, on SQLite and PostgreSQL: header and rows, row
//! versions and 409, the action workflow, authorisation by role and record, CSV export and
//! import with every bad row reported.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Days, Utc};
use common::{Client, TestDb};
use serde_json::{Value, json};
use server::storage::Store;
use shared::auth::Role;

struct World {
    qm: Client,
    tom: Client,
    tom_id: i64,
    marta: Client,
    fmea: i64,
}

async fn id_of(client: &Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

async fn world(store: &Arc<dyn Store>) -> World {
    let admin = Client::as_new_user(store.clone(), "ada.admin", &[Role::Admin]).await;
    let qm = Client::as_new_user(store.clone(), "quinn.manager", &[Role::QualityManager]).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let marta = Client::as_new_user(store.clone(), "marta.kowalska", &[Role::ProcessOwner]).await;
    let tom_id = id_of(&tom).await;
    let dept = admin.json("POST", "/api/v1/departments", &json!({"name": "Machining"})).await.body["id"].clone();
    let process = admin
        .json("POST", "/api/v1/processes", &json!({"name": "CNC machining", "owner_id": tom_id, "department_id": dept}))
        .await
        .body["id"]
        .clone();
    let today = Utc::now().date_naive();
    let r = tom
        .json(
            "POST",
            "/api/v1/fmeas",
            &json!({"kind": "pfmea", "fmea_number": "PF-001", "subject": "Shaft line", "start_date": today,
                    "revision_date": today, "process_id": process, "responsible_id": tom_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    World { qm, tom, tom_id, marta, fmea: r.body["id"].as_i64().unwrap() }
}

fn chain(mode: &str, s: i64, o: i64, d: i64) -> Value {
    json!({"structure_item": "Shaft line", "structure_step": "OP20 Turn", "structure_element": "Lathe",
           "element_type": "Machine", "failure_effect": "Noise", "severity": s, "failure_mode": mode,
           "failure_cause": "Tool wear", "occurrence": o, "detection": d})
}

async fn add(client: &Client, fmea: i64, row: &Value) -> Value {
    let r = client.json("POST", &format!("/api/v1/fmeas/{fmea}/rows"), row).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn rows_have_their_own_versions(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let a = add(&w.tom, w.fmea, &chain("Diameter oversize", 9, 4, 1)).await;
    let b = add(&w.tom, w.fmea, &chain("Thread stripped", 5, 3, 3)).await;
    assert_eq!((a["position"].as_i64(), b["position"].as_i64()), (Some(1), Some(2)));

    // Bad ratings and a missing failure mode: field errors, nothing saved.
    let r = w.tom.json("POST", &format!("/api/v1/fmeas/{}/rows", w.fmea), &chain("", 11, 0, 4)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["severity"], json!(["rating_out_of_range"]));
    assert_eq!(r.body["field_errors"]["occurrence"], json!(["rating_out_of_range"]));
    assert_eq!(r.body["field_errors"]["failure_mode"], json!(["required"]));
    let r = w
        .tom
        .json("POST", &format!("/api/v1/fmeas/{}/rows", w.fmea), &json!({"failure_mode": "x", "severity": 4.5}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field_errors"]["severity"], json!(["invalid"]), "a non-integer S names S: {}", r.text);
    let r = w
        .tom
        .json("POST", &format!("/api/v1/fmeas/{}/rows", w.fmea), &json!({"failure_mode": "x", "severty": 11}))
        .await;
    assert_eq!(
        r.body["field_errors"]["severty"],
        json!(["unknown_field"]),
        "a misspelt column is not dropped: {}",
        r.text
    );
    // Each row comes with what its ratings give, worked out by the shared rules.
    assert_eq!(
        (a["ap"].clone(), a["rpn"].clone(), a["management_review"].clone()),
        (json!("Medium"), json!(36), json!(true))
    );
    assert_eq!(a["ap_reason"], "S 9–10, O 4–5, D 1 → Medium");
    // A row read back and sent as it is (with its read-only fields) saves.
    let mut echoed = a.clone();
    echoed["remarks"] = json!("Checked on the line");
    let r = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{}", a["id"]), &echoed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a = r.body;

    // Two people, two rows: no conflict.
    let mut a_edit = chain("Diameter oversize", 9, 3, 1);
    a_edit["version"] = json!(2);
    let mut b_edit = chain("Thread stripped", 5, 2, 3);
    b_edit["version"] = json!(1);
    let r1 = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{}", a["id"]), &a_edit).await;
    let r2 = w.qm.json("PUT", &format!("/api/v1/fmea-rows/{}", b["id"]), &b_edit).await;
    assert_eq!((r1.status, r2.status), (StatusCode::OK, StatusCode::OK), "{} {}", r1.text, r2.text);
    assert_eq!(r2.body["updated_by"], "Quinn Manager");

    // The same row from a stale version: 409 with the row as saved, who saved it.
    let mut stale = chain("Diameter oversize", 9, 8, 1);
    stale["version"] = json!(2);
    let r = w.qm.json("PUT", &format!("/api/v1/fmea-rows/{}", a["id"]), &stale).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["current"]["occurrence"], 3);
    assert_eq!(r.body["current"]["version"], 3);
    assert!(r.body["message"].as_str().unwrap().contains("Tom Okafor"), "{}", r.text);

    // The worksheet: rows in order with their versions; the audit trail has each row's change.
    let sheet = w.qm.get(&format!("/api/v1/fmeas/{}/worksheet", w.fmea)).await.body;
    assert_eq!(sheet["rows"].as_array().unwrap().len(), 2);
    assert_eq!(sheet["fmea"]["rows"], 2);
    let trail = w.qm.get(&format!("/api/v1/audit?record_type=fmea_row&record_id={}", a["id"])).await.body;
    assert_eq!(trail["items"][0]["changes"]["occurrence"], json!({"old": 4, "new": 3}));

    // A row taken out of the worksheet stays on record; DELETE does not exist.
    let r = w
        .tom
        .json("POST", &format!("/api/v1/fmea-rows/{}/retire", b["id"]), &json!({"reason": "Duplicate", "version": 2}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        w.qm.get(&format!("/api/v1/fmeas/{}/worksheet", w.fmea)).await.body["rows"].as_array().unwrap().len(),
        1
    );
    assert_eq!(w.qm.get(&format!("/api/v1/fmea-rows/{}", b["id"])).await.status, StatusCode::NOT_FOUND);
}

async fn actions_follow_their_workflow(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let row = add(&w.tom, w.fmea, &chain("Diameter oversize", 9, 5, 5)).await;
    let id = row["id"].as_i64().unwrap();
    let today = Utc::now().date_naive();
    let past = today.checked_sub_days(Days::new(3)).unwrap();
    let soon = today.checked_add_days(Days::new(10)).unwrap();
    let mut body = chain("Diameter oversize", 9, 5, 5);
    body["prevention_action"] = json!("In-process gauging");
    body["version"] = json!(1);
    // An action needs a responsible person, a target date and a status.
    let r = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{id}"), &body).await;
    for f in ["responsible_id", "target_date", "action_status"] {
        assert_eq!(r.body["field_errors"][f], json!(["required"]), "{f}: {}", r.text);
    }
    body["responsible_id"] = json!(w.tom_id);
    body["action_status"] = json!("open");
    body["target_date"] = json!(past);
    let r = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{id}"), &body).await;
    assert_eq!(r.body["field_errors"]["target_date"], json!(["date_in_past"]));
    body["target_date"] = json!(soon);
    let r = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{id}"), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // It is in the responsible person's work list.
    let work = w.tom.get("/api/v1/work").await.body;
    assert!(
        work["items"].as_array().unwrap().iter().any(|i| i["kind"] == "FMEA action" && i["record_id"] == w.fmea),
        "{work}"
    );
    // Completing needs the action taken, evidence, completion date and revised ratings.
    body["action_status"] = json!("completed");
    body["version"] = json!(2);
    let r = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{id}"), &body).await;
    for f in
        ["action_taken", "evidence", "completion_date", "revised_severity", "revised_occurrence", "revised_detection"]
    {
        assert_eq!(r.body["field_errors"][f], json!(["needed_to_complete"]), "{f}");
    }
    body["action_taken"] = json!("Air gauge on every part");
    body["evidence"] = json!("Validation VR-7");
    body["completion_date"] = json!(today);
    body["revised_severity"] = json!(9);
    body["revised_occurrence"] = json!(2);
    body["revised_detection"] = json!(2);
    let r = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{id}"), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["action_status"], "completed");
    // A deactivated responsible person is refused.
    let gone = common::create_user(&store, "gone.person", &[Role::Staff]).await;
    store.deactivate_user(&server::storage::AuditContext::tool("test"), gone, 1, "left").await.unwrap();
    body["responsible_id"] = json!(gone.0);
    body["version"] = json!(3);
    let r = w.tom.json("PUT", &format!("/api/v1/fmea-rows/{id}"), &body).await;
    assert_eq!(r.body["field_errors"]["responsible_id"], json!(["retired"]), "{}", r.text);
}

async fn only_the_team_and_managers_edit(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let row = add(&w.tom, w.fmea, &chain("Burr", 4, 4, 4)).await;
    // Marta owns neither the process nor is on the team.
    let r = w.marta.json("POST", &format!("/api/v1/fmeas/{}/rows", w.fmea), &chain("x", 4, 4, 4)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut edit = chain("Burr", 4, 3, 4);
    edit["version"] = json!(1);
    assert_eq!(
        w.marta.json("PUT", &format!("/api/v1/fmea-rows/{}", row["id"]), &edit).await.status,
        StatusCode::FORBIDDEN
    );
    // The quality manager may; staff read only.
    assert_eq!(w.qm.json("PUT", &format!("/api/v1/fmea-rows/{}", row["id"]), &edit).await.status, StatusCode::OK);
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    assert_eq!(staff.get(&format!("/api/v1/fmeas/{}/worksheet", w.fmea)).await.status, StatusCode::OK);
    assert_eq!(
        staff.json("POST", &format!("/api/v1/fmeas/{}/rows", w.fmea), &chain("x", 4, 4, 4)).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn csv_round_trips_and_import_reports_every_bad_row(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let mut awkward = chain("Thread \"M8\", stripped\nat assembly", 7, 4, 6);
    awkward["failure_cause"] = json!("=cmd|' /C calc'!A0");
    awkward["remarks"] = json!("Ünïcödé — ok");
    add(&w.tom, w.fmea, &chain("Diameter oversize", 9, 4, 1)).await;
    add(&w.tom, w.fmea, &awkward).await;
    let export = w.tom.get(&format!("/api/v1/fmeas/{}/export.csv", w.fmea)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.text.starts_with("\u{feff}Process item,Process step,"),
        "BOM, then the header: {}",
        &export.text[..60]
    );
    assert!(export.text.contains("'=cmd"), "formula neutralised");

    // Into a new FMEA and out again: the same bytes.
    let today = Utc::now().date_naive();
    let copy = w
        .tom
        .json("POST", "/api/v1/fmeas", &json!({"kind": "pfmea", "fmea_number": "PF-002", "subject": "Copy", "start_date": today,
            "revision_date": today, "process_id": w.tom.get(&format!("/api/v1/fmeas/{}", w.fmea)).await.body["process_id"], "responsible_id": w.tom_id}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let r = w.tom.raw("POST", &format!("/api/v1/fmeas/{copy}/import"), "text/csv", export.text.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["imported"], 2);
    let again = w.tom.get(&format!("/api/v1/fmeas/{copy}/export.csv")).await;
    assert_eq!(again.text, export.text, "byte-identical round trip");

    // A file with bad rows: every problem with its line and column; nothing imported.
    let mut lines: Vec<String> = export.text.split("\r\n").map(str::to_string).collect();
    lines.truncate(2);
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[8] = "eleven".into();
    let bad_s = cells.join(",");
    // The export starts with a BOM already (one is enough).
    let text = format!("{}\r\n{}\r\n{}\r\n", lines[0], lines[1], bad_s);
    let r = w.tom.raw("POST", &format!("/api/v1/fmeas/{copy}/import"), "text/csv", text.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["imported"], 0);
    assert_eq!(r.body["problems"][0]["line"], 3);
    assert_eq!(r.body["problems"][0]["column"], "S");
    assert_eq!(w.tom.get(&format!("/api/v1/fmeas/{copy}")).await.body["rows"], 2, "nothing imported");
    // Only the good rows, when asked.
    let r = w.tom.raw("POST", &format!("/api/v1/fmeas/{copy}/import?skip_bad_rows=true"), "text/csv", text).await;
    assert_eq!((r.status, r.body["imported"].as_i64()), (StatusCode::OK, Some(1)), "{}", r.text);
    // Wrong headers, wrong encoding, too large.
    let r = w.tom.raw("POST", &format!("/api/v1/fmeas/{copy}/import"), "text/csv", "Item,Step\r\na,b\r\n").await;
    assert!(r.body["problems"][0]["reason"].as_str().unwrap().contains("Missing: Process item"), "{}", r.text);
    let latin1: Vec<u8> = b"Process item\r\nCaf\xe9\r\n".to_vec();
    let r = w.tom.raw("POST", &format!("/api/v1/fmeas/{copy}/import"), "text/csv", latin1).await;
    assert!(r.body["problems"][0]["reason"].as_str().unwrap().contains("not UTF-8"), "{}", r.text);
    let huge = vec![b'a'; 21 * 1024 * 1024];
    let r = w.tom.raw("POST", &format!("/api/v1/fmeas/{copy}/import"), "text/csv", huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body["message"].as_str().unwrap().contains("larger than 20 MB"), "the envelope says why: {}", r.text);
    assert_eq!(w.tom.get(&format!("/api/v1/fmeas/{copy}")).await.body["rows"], 3, "nothing more imported");
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn a_baseline_is_signed_and_an_excel_copy_exported(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let row = add(&w.tom, w.fmea, &chain("Diameter oversize", 9, 4, 1)).await;
    let header = w.qm.get(&format!("/api/v1/fmeas/{}", w.fmea)).await.body;
    let version = header["content_version"].as_i64().unwrap();
    assert!(version >= 2, "a row moved the content version on");
    let sign = |v: i64| {
        json!({"record_type": "fmea", "record_id": w.fmea, "record_version": v, "meaning": "approved",
               "password": common::PASSWORD, "accept_agreement": true})
    };
    // The responsible process owner cannot approve the baseline; the quality manager can.
    assert_eq!(w.tom.sign(&sign(version)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(w.qm.sign(&sign(version - 1)).await.status, StatusCode::CONFLICT);
    let r = w.qm.sign(&sign(version)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let list = |c: &Client| {
        let c = c.clone();
        let id = w.fmea;
        async move { c.get(&format!("/api/v1/signatures?record_type=fmea&record_id={id}")).await.body["items"][0].clone() }
    };
    assert_eq!(list(&w.qm).await["superseded"], false);
    assert_eq!(w.qm.verified(&r.body).await, "valid", "the baseline re-verifies");
    // Any row change supersedes it; what it signed still verifies.
    let mut edit = chain("Diameter oversize", 9, 3, 1);
    edit["version"] = row["version"].clone();
    assert_eq!(w.tom.json("PUT", &format!("/api/v1/fmea-rows/{}", row["id"]), &edit).await.status, StatusCode::OK);
    assert_eq!(list(&w.qm).await["superseded"], true);
    assert_eq!(w.qm.verified(&r.body).await, "superseded");

    let x = w.qm.get(&format!("/api/v1/fmeas/{}/export.xlsx", w.fmea)).await;
    assert_eq!(x.status, StatusCode::OK);
    assert_eq!(
        x.headers[axum::http::header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(x.text.starts_with("PK"), "a zip container");
}

async fn the_header_changes_with_a_reason_and_its_version(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let path = format!("/api/v1/fmeas/{}", w.fmea);
    let mut header = w.tom.get(&path).await.body;
    let marta = id_of(&w.marta).await;
    let mut edit = json!({"kind": "pfmea", "fmea_number": "PF-001", "subject": "Shaft line", "start_date": header["start_date"],
        "revision_date": header["revision_date"], "process_id": header["process_id"], "responsible_id": w.tom_id,
        "team": [w.tom_id, marta], "confidentiality": "proprietary", "version": 1});
    // A change needs its reason.
    let r = w.tom.json("PUT", &path, &edit).await;
    assert_eq!(r.body["field_errors"]["reason"], json!(["required"]), "{}", r.text);
    edit["reason"] = json!("Marta joins the team");
    let r = w.tom.json("PUT", &path, &edit).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    header = r.body;
    assert_eq!(header["team"].as_array().unwrap().len(), 2);
    assert_eq!(header["confidentiality"], "proprietary");
    // Now on the team, Marta may edit the worksheet.
    assert_eq!(
        w.marta.json("POST", &format!("/api/v1/fmeas/{}/rows", w.fmea), &chain("Burr", 4, 4, 4)).await.status,
        StatusCode::CREATED
    );
    // A stale version: 409 with the header as saved; nothing changed.
    edit["subject"] = json!("Stale edit");
    let r = w.qm.json("PUT", &path, &edit).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["current"]["subject"], "Shaft line");
    // A team member who is not an active user is refused, naming the team.
    let gone = common::create_user(&store, "gone.member", &[Role::Staff]).await;
    store.deactivate_user(&server::storage::AuditContext::tool("test"), gone, 1, "left").await.unwrap();
    edit["team"] = json!([w.tom_id, gone.0]);
    edit["version"] = header["meta"]["version"].clone();
    let r = w.tom.json("PUT", &path, &edit).await;
    assert_eq!(r.body["field_errors"]["team"], json!(["retired"]), "{}", r.text);
    let trail = w.qm.get(&format!("/api/v1/audit?record_type=fmea&record_id={}", w.fmea)).await.body;
    assert_eq!(trail["items"][0]["reason"], "Marta joins the team");
}

/// Security review, finding 6: a team member edits the header's words, not who is
/// responsible, the process, the team or who may read it; a quality manager may.
async fn the_header_names_are_changed_by_those_who_lead(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let path = format!("/api/v1/fmeas/{}", w.fmea);
    let marta = id_of(&w.marta).await;
    let header = w.tom.get(&path).await.body;
    let edit = |version: i64, subject: &str, responsible: i64, team: Value, confidentiality: &str, process: Value| {
        json!({"kind": "pfmea", "fmea_number": "PF-001", "subject": subject, "start_date": header["start_date"],
               "revision_date": header["revision_date"], "process_id": process, "responsible_id": responsible,
               "team": team, "confidentiality": confidentiality, "version": version, "reason": "Review"})
    };
    let process = header["process_id"].clone();
    let both = json!([w.tom_id, marta]);
    let r =
        w.tom.json("PUT", &path, &edit(1, "Shaft line", w.tom_id, both.clone(), "business_use", process.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "the responsible person sets the team: {}", r.text);
    for (body, field) in [
        (edit(2, "Shaft line", marta, both.clone(), "business_use", process.clone()), "responsible_id"),
        (edit(2, "Shaft line", w.tom_id, json!([marta]), "business_use", process.clone()), "team"),
        (edit(2, "Shaft line", w.tom_id, both.clone(), "confidential", process.clone()), "confidentiality"),
        (edit(2, "Shaft line", w.tom_id, both.clone(), "business_use", json!(999_999)), "process_id"),
    ] {
        let r = w.marta.json("PUT", &path, &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "a team member changes {field}: {}", r.text);
        assert_eq!(r.body["field_errors"][field], json!(["invalid"]), "{}", r.text);
    }
    let r = w
        .marta
        .json("PUT", &path, &edit(2, "Shaft line, turned", w.tom_id, both.clone(), "business_use", process.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "a team member edits the words: {}", r.text);
    let r = w.qm.json("PUT", &path, &edit(3, "Shaft line, turned", marta, both, "business_use", process)).await;
    assert_eq!((r.status, r.body["responsible_id"].clone()), (StatusCode::OK, json!(marta)), "{}", r.text);
}

/// Security review, finding 7: a proprietary FMEA is read only by the people it names, quality
/// managers and auditors; a confidential one by the people it names and quality managers: the
/// list, the header, the worksheet, a row and both exports.
async fn confidentiality_holds_for_every_read(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let row = add(&w.tom, w.fmea, &chain("Burr", 4, 4, 4)).await;
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let auditor = Client::as_new_user(store.clone(), "sam.reid", &[Role::Auditor]).await;
    let reads = [
        format!("/api/v1/fmeas/{}", w.fmea),
        format!("/api/v1/fmeas/{}/worksheet", w.fmea),
        format!("/api/v1/fmeas/{}/export.csv", w.fmea),
        format!("/api/v1/fmeas/{}/export.xlsx", w.fmea),
        format!("/api/v1/fmea-rows/{}", row["id"]),
    ];
    let listed = |client: &Client| {
        let client = client.clone();
        let id = w.fmea;
        async move { client.get("/api/v1/fmeas").await.body["items"].as_array().unwrap().iter().any(|f| f["id"] == id) }
    };
    assert!(listed(&staff).await, "business use: everyone reads it");
    let path = format!("/api/v1/fmeas/{}", w.fmea);
    let set = |level: &str, version: i64| {
        let header = json!({"kind": "pfmea", "fmea_number": "PF-001", "subject": "Shaft line",
            "start_date": Utc::now().date_naive(), "revision_date": Utc::now().date_naive(),
            "responsible_id": w.tom_id, "team": [w.tom_id], "confidentiality": level, "version": version,
            "reason": "Customer data"});
        (path.clone(), header)
    };
    let mut header = w.tom.get(&path).await.body;
    let (p, mut body) = set("proprietary", 1);
    body["process_id"] = header["process_id"].clone();
    let r = w.tom.json("PUT", &p, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    header = r.body;
    for uri in &reads {
        let r = staff.get(uri).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "staff read {uri}: {}", r.text);
        assert!(r.text.contains("proprietary"), "{}", r.text);
        assert_eq!(w.marta.get(uri).await.status, StatusCode::FORBIDDEN, "an owner of another process reads {uri}");
        assert_eq!(auditor.get(uri).await.status, StatusCode::OK, "the auditor reads {uri}");
        assert_eq!(w.tom.get(uri).await.status, StatusCode::OK, "the responsible person reads {uri}");
    }
    assert!(!listed(&staff).await, "not listed to who may not open it");
    assert!(listed(&auditor).await);

    let (p, mut body) = set("confidential", header["meta"]["version"].as_i64().unwrap());
    body["process_id"] = header["process_id"].clone();
    assert_eq!(w.tom.json("PUT", &p, &body).await.status, StatusCode::OK);
    for uri in &reads {
        assert_eq!(auditor.get(uri).await.status, StatusCode::FORBIDDEN, "the auditor reads {uri}");
        assert_eq!(w.qm.get(uri).await.status, StatusCode::OK, "the quality manager reads {uri}");
        assert_eq!(w.tom.get(uri).await.status, StatusCode::OK, "the responsible person reads {uri}");
    }
    assert!(!listed(&auditor).await);

    // Live events follow the same rule: the row's change reaches the quality manager only.
    let (_, mut staff_events) = staff.stream("/api/v1/events").await;
    let (_, mut qm_events) = w.qm.stream("/api/v1/events").await;
    tokio::time::sleep(server::routes::events::POLL * 2).await;
    add(&w.tom, w.fmea, &chain("Chatter", 5, 4, 4)).await;
    let heard = Client::next_text(&mut qm_events, std::time::Duration::from_secs(5)).await.unwrap_or_default();
    assert!(heard.contains("fmea_row"), "{heard}");
    let heard = Client::next_text(&mut staff_events, std::time::Duration::from_millis(800)).await;
    assert_eq!(heard.filter(|t| t.contains("change")), None);
}

/// Security review, finding 3: twenty rows added to one worksheet at once (on PostgreSQL, side
/// by side) take twenty different positions, one after the other.
async fn rows_added_at_once_take_their_own_positions(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let path = format!("/api/v1/fmeas/{}/rows", w.fmea);
    let bodies: Vec<Value> = (0..20).map(|i| chain(&format!("Mode {i}"), 5, 4, 3)).collect();
    let replies = futures_util::future::join_all(bodies.iter().map(|b| w.tom.json("POST", &path, b))).await;
    assert!(
        replies.iter().all(|r| r.status == StatusCode::CREATED),
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let mut positions: Vec<i64> = replies.iter().map(|r| r.body["position"].as_i64().unwrap()).collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=20).collect::<Vec<_>>());
    assert!(store.verify_audit().await.unwrap().intact);
}

on_both_backends!(
    rows_added_at_once_take_their_own_positions,
    the_header_names_are_changed_by_those_who_lead,
    confidentiality_holds_for_every_read,
    the_header_changes_with_a_reason_and_its_version,
    a_baseline_is_signed_and_an_excel_copy_exported,
    rows_have_their_own_versions,
    actions_follow_their_workflow,
    only_the_team_and_managers_edit,
    csv_round_trips_and_import_reports_every_bad_row,
);
