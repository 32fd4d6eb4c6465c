//! The risk register through the real router, on SQLite and PostgreSQL: matrix revisions and
//! their approval, risks with versions, the acceptance rule, authorisation, filters, the
//! heatmap, the CSV export and the work list.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Days, Utc};
use common::{Client, PASSWORD, TestDb};
use serde_json::{Value, json};
use server::storage::Store;
use shared::auth::Role;
use shared::risk::{default_5x5, medical_5x4};

struct World {
    qm: Client,
    admin: Client,
    tom: Client,
    tom_id: i64,
    qm_id: i64,
    process: i64,
    other_process: i64,
}

async fn id_of(client: &Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

async fn world(store: &Arc<dyn Store>) -> World {
    let admin = Client::as_new_user(store.clone(), "ada.admin", &[Role::Admin]).await;
    let qm = Client::as_new_user(store.clone(), "quinn.manager", &[Role::QualityManager]).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let (tom_id, qm_id) = (id_of(&tom).await, id_of(&qm).await);
    let r = admin.json("POST", "/api/v1/departments", &json!({"name": "Machining"})).await;
    let dept = r.body["id"].as_i64().unwrap();
    let mut processes = Vec::new();
    for name in ["CNC machining", "Final inspection"] {
        let r = admin
            .json("POST", "/api/v1/processes", &json!({"name": name, "owner_id": tom_id, "department_id": dept}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        processes.push(r.body["id"].as_i64().unwrap());
    }
    World { qm, admin, tom, tom_id, qm_id, process: processes[0], other_process: processes[1] }
}

/// Creates a matrix and approves its first revision; returns the revision.
async fn approved_matrix(w: &World, definition: Value) -> Value {
    let r =
        w.qm.json("POST", "/api/v1/risk-matrices", &json!({"definition": definition, "change_note": "First issue"}))
            .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "draft");
    approve(&w.qm, &r.body).await
}

async fn approve(client: &Client, revision: &Value) -> Value {
    let id = revision["id"].as_i64().unwrap();
    let sign = json!({"record_type": "risk_matrix_revision", "record_id": id,
        "record_version": revision["meta"]["version"], "meaning": "approved", "password": PASSWORD,
        "accept_agreement": true});
    let r = client.sign(&sign).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = client.get(&format!("/api/v1/risk-matrix-revisions/{id}")).await;
    assert_eq!(r.body["status"], "effective", "{}", r.text);
    r.body
}

fn risk(w: &World, revision: i64, owner: i64, inherent: (i64, i64), residual: (i64, i64)) -> Value {
    let review = Utc::now().date_naive().checked_add_days(Days::new(90)).unwrap();
    json!({"title": "Tool breakage on the lathe", "category": "Process", "process_id": w.process,
        "owner_id": owner, "review_date": review, "matrix_revision_id": revision,
        "inherent_likelihood": inherent.0, "inherent_severity": inherent.1,
        "residual_likelihood": residual.0, "residual_severity": residual.1, "status": "assessed"})
}

async fn create(client: &Client, body: &Value) -> Value {
    let r = client.json("POST", "/api/v1/risks", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

fn rev_id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn matrix_revisions_take_effect_when_approved(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;

    // Bad matrices: too small, a cell without a zone. Field errors name the cell; nothing saved.
    let mut small = serde_json::to_value(default_5x5()).unwrap();
    small["likelihood"] = json!([{"label": "Low"}, {"label": "High"}]);
    let r = w.qm.json("POST", "/api/v1/risk-matrices", &json!({"definition": small, "change_note": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field_errors"]["definition.likelihood"], json!(["matrix_size"]));
    let mut hole = serde_json::to_value(default_5x5()).unwrap();
    hole["zones"][2][3] = Value::Null;
    let r = w.qm.json("POST", "/api/v1/risk-matrices", &json!({"definition": hole, "change_note": "x"})).await;
    assert_eq!(r.body["field_errors"]["definition.zones[2][3]"], json!(["zone_missing"]));
    // Rows of different lengths: field errors, not a dropped connection.
    let mut ragged = serde_json::to_value(default_5x5()).unwrap();
    ragged["zones"][0] = json!(["acceptable", "acceptable"]);
    let r = w.qm.json("POST", "/api/v1/risk-matrices", &json!({"definition": ragged, "change_note": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field_errors"]["definition.zones[0][2]"], json!(["zone_missing"]), "{}", r.text);
    // Larger than 5×5.
    let mut large = serde_json::to_value(default_5x5()).unwrap();
    large["severity"].as_array_mut().unwrap().push(json!({"label": "Beyond catastrophic"}));
    let r = w.qm.json("POST", "/api/v1/risk-matrices", &json!({"definition": large, "change_note": "x"})).await;
    assert_eq!(r.body["field_errors"]["definition.severity"], json!(["matrix_size"]), "{}", r.text);
    assert!(w.qm.get("/api/v1/risk-matrices").await.body["items"].as_array().unwrap().is_empty());

    // A draft scores nothing.
    let r =
        w.qm.json("POST", "/api/v1/risk-matrices", &json!({"definition": default_5x5(), "change_note": "First issue"}))
            .await;
    let draft = r.body.clone();
    let r = w.qm.json("POST", "/api/v1/risks", &risk(&w, rev_id(&draft), w.tom_id, (4, 5), (2, 5))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["matrix_revision_id"], json!(["revision_not_effective"]));

    // Only a quality manager approves (an administrator drafts but cannot approve).
    let sign = json!({"record_type": "risk_matrix_revision", "record_id": rev_id(&draft), "record_version": 1,
        "meaning": "approved", "password": PASSWORD, "accept_agreement": true});
    assert_eq!(w.admin.sign(&sign).await.status, StatusCode::FORBIDDEN);
    let rev1 = approve(&w.qm, &draft).await;
    assert_eq!(rev1["approved_by"], "Quinn Manager");

    // Approved revisions are frozen.
    let r =
        w.qm.json(
            "PUT",
            &format!("/api/v1/risk-matrix-revisions/{}", rev_id(&rev1)),
            &json!({"definition": default_5x5(), "change_note": "tweak", "version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let scored = create(&w.qm, &risk(&w, rev_id(&rev1), w.tom_id, (4, 5), (2, 5))).await;
    assert_eq!(scored["inherent"], json!({"likelihood": 4, "severity": 5, "score": 20, "zone": "unacceptable"}));
    assert_eq!(scored["residual"]["zone"], "reduce_as_far_as_possible");
    assert_eq!(scored["matrix_revision"], 1);

    // Revision 2: a draft (only one at a time), edited, then approved; revision 1 is superseded.
    let matrix = rev1["matrix_id"].as_i64().unwrap();
    let mut stricter = default_5x5();
    stricter.zones[1][4] = Some(shared::risk::Zone::Unacceptable); // L2 × S5 becomes unacceptable
    stricter.zones[2][4] = Some(shared::risk::Zone::Unacceptable);
    let path = format!("/api/v1/risk-matrices/{matrix}/revisions");
    let r = w.admin.json("POST", &path, &json!({"definition": default_5x5(), "change_note": "Annual review"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rev2 = r.body.clone();
    assert_eq!((rev2["revision"].as_i64(), rev2["status"].as_str()), (Some(2), Some("draft")));
    assert_eq!(
        w.qm.json("POST", &path, &json!({"definition": default_5x5(), "change_note": "again"})).await.status,
        StatusCode::CONFLICT
    );
    let r = w
        .admin
        .json("PUT", &format!("/api/v1/risk-matrix-revisions/{}", rev_id(&rev2)),
            &json!({"definition": stricter, "change_note": "Severity 5 is unacceptable from likelihood 2", "version": 1}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rev2 = approve(&w.qm, &r.body).await;
    let r = w.qm.get(&format!("/api/v1/risk-matrix-revisions/{}", rev_id(&rev1))).await;
    assert_eq!(r.body["status"], "superseded");

    // The risk keeps the revision that scored it until it is re-scored, explicitly.
    let id = scored["id"].as_i64().unwrap();
    let r = w.qm.get(&format!("/api/v1/risks/{id}")).await;
    assert_eq!(
        (r.body["matrix_revision"].as_i64(), r.body["residual"]["zone"].as_str()),
        (Some(1), Some("reduce_as_far_as_possible"))
    );
    let mut edit = risk(&w, rev_id(&rev1), w.tom_id, (4, 5), (2, 5));
    edit["title"] = json!("Tool breakage on lathe 3");
    edit["version"] = json!(1);
    edit["reason"] = json!("Narrowed to lathe 3");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &edit).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["matrix_revision"], 1);
    // Its zone on revision 1 may mean something else now: it is re-scored before it is accepted.
    let accept = json!({"record_type": "risk", "record_id": id, "record_version": 2, "meaning": "approved",
        "password": PASSWORD, "rationale": "Benefit outweighs the risk"});
    let r = w.qm.sign(&accept).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field_errors"]["matrix_revision_id"], json!(["revision_not_effective"]), "{}", r.text);
    let mut rescore = edit.clone();
    rescore["matrix_revision_id"] = json!(rev_id(&rev2));
    rescore["version"] = json!(2);
    rescore["reason"] = json!("Re-scored on revision 2");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &rescore).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["matrix_revision"].as_i64(), r.body["residual"]["zone"].as_str()),
        (Some(2), Some("unacceptable"))
    );
    // Back onto the superseded revision: refused.
    let mut back = rescore.clone();
    back["matrix_revision_id"] = json!(rev_id(&rev1));
    back["version"] = json!(3);
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &back).await;
    assert_eq!(r.body["field_errors"]["matrix_revision_id"], json!(["revision_not_effective"]), "{}", r.text);
    // The re-scoring is in the audit trail, with its reason.
    let trail = w.qm.get(&format!("/api/v1/audit?record_type=risk&record_id={id}")).await.body["items"].clone();
    let rescored =
        trail.as_array().unwrap().iter().find(|e| e["reason"] == "Re-scored on revision 2").expect("re-score audited");
    assert_eq!(rescored["changes"]["matrix_revision"]["new"], 2);
}

async fn risks_have_versions_and_a_signed_acceptance(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let rev = approved_matrix(&w, serde_json::to_value(medical_5x4()).unwrap()).await;

    // Out of the 5×4 matrix, missing fields, a deactivated-looking reference: named fields.
    let r = w.qm.json("POST", "/api/v1/risks", &risk(&w, rev_id(&rev), w.tom_id, (6, 5), (0, 2))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["inherent_likelihood", "inherent_severity", "residual_likelihood"] {
        assert_eq!(r.body["field_errors"][field], json!(["outside_matrix"]), "{field}: {}", r.text);
    }
    let r = w.qm.json("POST", "/api/v1/risks", &json!({"inherent_likelihood": "high"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = w.qm.json("POST", "/api/v1/risks", &json!({})).await;
    for field in ["title", "category", "process_id", "owner_id", "review_date", "matrix_revision_id"] {
        assert_eq!(r.body["field_errors"][field], json!(["required"]), "{field}");
    }
    let mut bad_evidence = risk(&w, rev_id(&rev), w.tom_id, (5, 4), (4, 4));
    bad_evidence["controls"] =
        json!([{"description": "Interlock", "evidence": [{"record_type": "process", "record_id": 999999}]}]);
    let r = w.qm.json("POST", "/api/v1/risks", &bad_evidence).await;
    assert_eq!(r.body["field_errors"]["controls[0].evidence"], json!(["not_found"]), "{}", r.text);
    bad_evidence["controls"] =
        json!([{"description": "FMEA action", "evidence": [{"record_type": "fmea_row", "record_id": 999999}]}]);
    let r = w.qm.json("POST", "/api/v1/risks", &bad_evidence).await;
    assert_eq!(r.body["field_errors"]["controls[0].evidence"], json!(["not_found"]), "{}", r.text);
    // Nothing was saved by any of those.
    assert_eq!(w.qm.get("/api/v1/risks").await.body["total"], 0);

    let mut body = risk(&w, rev_id(&rev), w.tom_id, (5, 4), (4, 4));
    body["controls"] = json!([{"description": "Guard interlock", "evidence": [{"record_type": "process", "record_id": w.other_process}]}]);
    let saved = create(&w.qm, &body).await;
    let id = saved["id"].as_i64().unwrap();
    assert_eq!(saved["reference"], format!("RSK-{id:04}"));
    assert_eq!(saved["residual"]["zone"], "unacceptable");
    assert_eq!(saved["controls"][0]["evidence"][0]["label"], "Final inspection");

    // Stale version: 409 with the current record.
    let mut edit = body.clone();
    edit["version"] = json!(7);
    edit["reason"] = json!("x");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &edit).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["current"]["meta"]["version"], 1);
    // A change needs its reason.
    edit["version"] = json!(1);
    edit["reason"] = json!("");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &edit).await;
    assert_eq!(r.body["field_errors"]["reason"], json!(["required"]));

    // Accepting by typing the status: refused.
    edit["reason"] = json!("Accept it");
    edit["status"] = json!("accepted");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &edit).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["status"], json!(["accept_by_signature"]));

    // Accepting the unacceptable residual: a quality manager's signature with a rationale.
    let accept = |rationale: Option<&str>, version: i64| {
        let mut s = json!({"record_type": "risk", "record_id": id, "record_version": version, "meaning": "approved",
            "password": PASSWORD, "accept_agreement": true});
        if let Some(r) = rationale {
            s["rationale"] = json!(r);
        }
        s
    };
    let r = w.tom.sign(&accept(Some("I own it"), 1)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "an owner cannot accept: {}", r.text);
    let r = w.qm.sign(&accept(None, 1)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field_errors"]["rationale"], json!(["rationale_required"]));
    let r = w.qm.sign(&accept(Some("   "), 1)).await;
    assert_eq!(r.body["field_errors"]["rationale"], json!(["rationale_required"]));
    let r = w.qm.get(&format!("/api/v1/risks/{id}")).await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["meta"]["version"].as_i64()),
        (Some("assessed"), Some(1)),
        "nothing changed"
    );
    assert!(
        w.qm.get(&format!("/api/v1/signatures?record_type=risk&record_id={id}")).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let rationale = "Clinical benefit of the device outweighs the residual risk; no feasible further reduction.";
    let r = w.qm.sign(&accept(Some(rationale), 1)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["record_version"], 2, "the signature binds the accepted version");
    assert_eq!(r.body["signer_id"], w.qm_id);
    let accepted = w.qm.get(&format!("/api/v1/risks/{id}")).await.body;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["acceptance_rationale"], rationale);
    // The hash binds that version's own content, rationale included (not the names shown).
    let shown: shared::register::Risk = serde_json::from_value(accepted.clone()).unwrap();
    let own = shared::signature::content::risk(&shown);
    assert_eq!(own["acceptance_rationale"], rationale);
    assert_eq!(r.body["record_hash"], shared::signature::record_hash(&own));
    assert_eq!(w.qm.verified(&r.body).await, "valid");

    // Any change to an accepted risk (its signature binds the version signed) must leave `accepted`.
    let mut retitled = body.clone();
    retitled["status"] = json!("accepted");
    retitled["acceptance_rationale"] = json!(rationale);
    retitled["title"] = json!("Retitled while accepted");
    retitled["version"] = json!(2);
    retitled["reason"] = json!("Wording");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &retitled).await;
    assert_eq!(r.body["field_errors"]["status"], json!(["accepted_changed"]), "{}", r.text);
    let mut edit = body.clone();
    edit["status"] = json!("accepted");
    edit["acceptance_rationale"] = json!(rationale);
    edit["residual_likelihood"] = json!(5);
    edit["version"] = json!(2);
    edit["reason"] = json!("New field data");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &edit).await;
    assert_eq!(r.body["field_errors"]["status"], json!(["accepted_changed"]), "{}", r.text);
    edit["status"] = json!("treated");
    let r = w.qm.json("PUT", &format!("/api/v1/risks/{id}"), &edit).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Its acceptance now shows as superseded.
    let sigs = w.qm.get(&format!("/api/v1/signatures?record_type=risk&record_id={id}")).await.body;
    assert_eq!(sigs["items"][0]["superseded"], true);

    // An acceptable residual is accepted without a rationale.
    let easy = create(&w.qm, &risk(&w, rev_id(&rev), w.tom_id, (2, 2), (1, 1))).await;
    let s = json!({"record_type": "risk", "record_id": easy["id"], "record_version": 1, "meaning": "approved",
        "password": PASSWORD});
    assert_eq!(w.qm.sign(&s).await.status, StatusCode::CREATED);
    // A rationale on a signature that takes none is refused.
    let s = json!({"record_type": "risk_matrix_revision", "record_id": rev_id(&rev), "record_version": 1,
        "meaning": "approved", "password": PASSWORD, "rationale": "x"});
    assert_eq!(w.qm.sign(&s).await.body["field_errors"]["rationale"], json!(["unknown_field"]));
}

async fn owners_edit_their_own_risks(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let rev = approved_matrix(&w, serde_json::to_value(default_5x5()).unwrap()).await;
    // A process owner records risks they own; not for someone else.
    let own = create(&w.tom, &risk(&w, rev_id(&rev), w.tom_id, (3, 3), (2, 3))).await;
    let r = w.tom.json("POST", "/api/v1/risks", &risk(&w, rev_id(&rev), w.qm_id, (3, 3), (2, 3))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let theirs = create(&w.qm, &risk(&w, rev_id(&rev), w.qm_id, (3, 3), (2, 3))).await;
    let mut edit = risk(&w, rev_id(&rev), w.qm_id, (3, 3), (1, 3));
    edit["version"] = json!(1);
    edit["reason"] = json!("Lower");
    let r = w.tom.json("PUT", &format!("/api/v1/risks/{}", theirs["id"]), &edit).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Handing their own risk to someone else: refused; editing it: fine.
    let r = w.tom.json("PUT", &format!("/api/v1/risks/{}", own["id"]), &edit).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    edit["owner_id"] = json!(w.tom_id);
    let r = w.tom.json("PUT", &format!("/api/v1/risks/{}", own["id"]), &edit).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Staff read the register but change nothing.
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    assert_eq!(staff.get("/api/v1/risks").await.body["total"], 2);
    assert_eq!(
        staff.json("POST", "/api/v1/risks", &risk(&w, rev_id(&rev), w.tom_id, (3, 3), (2, 3))).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn register_filters_heatmap_export_and_work(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let rev = approved_matrix(&w, serde_json::to_value(default_5x5()).unwrap()).await;
    let r = rev_id(&rev);
    let yesterday = Utc::now().date_naive().checked_sub_days(Days::new(1)).unwrap();
    let cases = [
        ((5, 5), (3, 4), "Spindle crash"),
        ((4, 4), (2, 2), "Coolant leak"),
        ((5, 5), (3, 4), "Wrong drawing revision"),
        ((1, 1), (1, 1), "Label smudge, 100% = \"fine\""),
    ];
    let mut ids = Vec::new();
    for (i, (inh, res, title)) in cases.iter().enumerate() {
        let mut body = risk(&w, r, w.tom_id, *inh, *res);
        body["title"] = json!(title);
        if i == 1 {
            body["review_date"] = json!(yesterday);
        }
        if i == 3 {
            body["process_id"] = json!(w.other_process);
        }
        ids.push(create(&w.qm, &body).await["id"].as_i64().unwrap());
    }
    let list = |q: &str| {
        let c = w.qm.clone();
        let q = q.to_string();
        async move {
            let r = c.get(&format!("/api/v1/risks?{q}")).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
            r.body
        }
    };
    // Default order: residual score, highest first.
    let all = list("").await;
    assert_eq!(all["total"], 4);
    assert_eq!(all["items"][0]["residual"]["score"], 12);
    assert_eq!(all["items"][3]["title"], "Label smudge, 100% = \"fine\"");
    assert_eq!(list("zone=unacceptable&basis=inherent").await["total"], 3);
    assert_eq!(list("zone=unacceptable").await["total"], 0);
    assert_eq!(list("likelihood=3&severity=4").await["total"], 2);
    assert_eq!(list("likelihood=5&severity=5&basis=inherent").await["total"], 2);
    assert_eq!(list("q=COOLANT").await["total"], 1);
    assert_eq!(list("q=100%25").await["total"], 1, "% is literal");
    assert_eq!(list("q=_").await["total"], 0, "_ is literal");
    assert_eq!(list(&format!("process_id={}", w.other_process)).await["total"], 1);
    let overdue = list("overdue=true").await;
    assert_eq!((overdue["total"].as_i64(), overdue["items"][0]["overdue"].as_bool()), (Some(1), Some(true)));
    assert_eq!(list(&format!("owner_id={}", w.qm_id)).await["total"], 0);
    let page = list("sort=title&limit=2&offset=1").await;
    assert_eq!(
        (page["items"][0]["title"].as_str(), page["items"].as_array().unwrap().len()),
        (Some("Label smudge, 100% = \"fine\""), 2)
    );
    // Keyset paging: page by page forwards and back, every sort and direction, the same rows
    // in the same order as one long page (ties on the sort key included).
    let ids_of = |page: &serde_json::Value| -> Vec<i64> {
        page["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
    };
    for sort in ["reference", "title", "residual_score", "inherent_score", "review_date", "status", "owner"] {
        for desc in ["", "&desc=true"] {
            let order = format!("sort={sort}{desc}&include_closed=true");
            let whole = ids_of(&list(&format!("{order}&limit=500")).await);
            assert_eq!(whole.len(), 4, "{order}");
            let mut forwards = Vec::new();
            let mut page = list(&format!("{order}&limit=2")).await;
            assert!(page.get("prev_before").is_none(), "the first page has no previous one");
            loop {
                forwards.extend(ids_of(&page));
                let Some(after) = page["next_after"].as_str().map(str::to_string) else { break };
                page = list(&format!("{order}&limit=2&after={}", urlencode(&after))).await;
                assert_eq!(page["total"], 4);
            }
            assert_eq!(forwards, whole, "{order}: forwards");
            let mut backwards = ids_of(&page);
            while let Some(before) = page["prev_before"].as_str().map(str::to_string) {
                page = list(&format!("{order}&limit=2&before={}", urlencode(&before))).await;
                backwards.splice(0..0, ids_of(&page));
            }
            assert_eq!(backwards, whole, "{order}: backwards");
        }
    }
    let bad = w.qm.get("/api/v1/risks?sort=residual_score&after=12.high").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.body["field_errors"]["after"].is_array(), "{}", bad.text);
    assert_eq!(w.qm.get("/api/v1/risks?after=1&before=2").await.status, StatusCode::BAD_REQUEST);

    assert_eq!(w.qm.get("/api/v1/risks?limit=0").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(w.qm.get("/api/v1/risks?zone=purple").await.status, StatusCode::BAD_REQUEST);

    // The heatmap: every cell, inherent and residual counts, the moves.
    let h = w.qm.get("/api/v1/risks/heatmap").await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    let cells = h.body["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 25);
    let cell = |l: i64, s: i64| cells.iter().find(|c| c["likelihood"] == l && c["severity"] == s).unwrap().clone();
    assert_eq!((cell(5, 5)["inherent"].as_i64(), cell(5, 5)["residual"].as_i64()), (Some(2), Some(0)));
    assert_eq!(cell(3, 4)["residual"], 2);
    assert_eq!(h.body["total"], 4);
    assert_eq!(
        h.body["moves"][0],
        json!({"from_likelihood": 5, "from_severity": 5, "to_likelihood": 3, "to_severity": 4, "count": 2})
    );
    // Filters apply to the heatmap too; closed risks leave it.
    let h = w.qm.get(&format!("/api/v1/risks/heatmap?process_id={}", w.other_process)).await;
    assert_eq!(h.body["total"], 1);

    // CSV: one header row, a row per risk, read back with the shared reader.
    let csv = w.qm.get("/api/v1/risks/export.csv?sort=reference").await;
    assert_eq!(csv.status, StatusCode::OK);
    let rows = shared::csv::read(&csv.text).expect("well-formed CSV");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].cells, shared::register::CSV_HEADER.map(String::from).to_vec());
    assert_eq!(rows[4].cells[1], "Label smudge, 100% = \"fine\"");
    assert_eq!(rows[2].cells[7], "yes", "overdue");

    // The owner's work list: the overdue review first.
    let work = w.tom.get("/api/v1/work").await.body;
    assert_eq!(work["items"][0]["record_id"], ids[1]);
    assert_eq!(work["items"][0]["overdue"], true);
    assert!(w.qm.get("/api/v1/work").await.body["items"].as_array().unwrap().is_empty());
}

/// Security review, finding 3: twenty new revisions of one matrix started at once (on
/// PostgreSQL, side by side): one draft, every other request a 409 with that draft, no 500.
async fn one_draft_revision_under_concurrency(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let rev1 = approved_matrix(&w, json!(default_5x5())).await;
    let path = format!("/api/v1/risk-matrices/{}/revisions", rev1["matrix_id"]);
    let body = json!({"definition": default_5x5(), "change_note": "Annual review"});
    let replies = futures_util::future::join_all((0..20).map(|_| w.qm.json("POST", &path, &body))).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 19, "{statuses:?}");
    let draft = replies.iter().find(|r| r.status == StatusCode::CREATED).unwrap().body["id"].clone();
    assert!(replies.iter().filter(|r| r.status == StatusCode::CONFLICT).all(|r| r.body["current"]["id"] == draft));
    assert!(store.verify_audit().await.unwrap().intact);
}

/// Security review, finding 15: one lock order on PostgreSQL. A person's first signature (it
/// records the e-signature agreement on their user row and accepts a risk, which appends to the
/// audit chain) while the same person signs in elsewhere (their user row, then the chain): no
/// deadlock, no 500, every entry in the chain.
async fn a_first_signature_and_sign_ins_at_once(store: Arc<dyn Store>, _db: TestDb) {
    let w = world(&store).await;
    let rev = approved_matrix(&w, serde_json::to_value(medical_5x4()).unwrap()).await;
    for round in 0..6 {
        let name = format!("quinn.second{round}");
        let signer = Client::as_new_user(store.clone(), &name, &[Role::QualityManager]).await;
        let saved = create(&w.qm, &risk(&w, rev_id(&rev), w.tom_id, (5, 4), (4, 4))).await;
        let sign = json!({"record_type": "risk", "record_id": saved["id"], "record_version": 1, "meaning": "approved",
            "password": PASSWORD, "accept_agreement": true, "rationale": "Benefit outweighs the residual risk"});
        let signing = signer.sign(&sign);
        let sign_ins = futures_util::future::join_all((0..8).map(|_| {
            let (store, name) = (store.clone(), name.clone());
            async move { Client::new(store).sign_in(&name, PASSWORD).await.status }
        }));
        let (signed, statuses) = tokio::join!(signing, sign_ins);
        assert_eq!(signed.status, StatusCode::CREATED, "round {round}: {}", signed.text);
        assert!(statuses.iter().all(|s| *s == StatusCode::OK), "round {round}: {statuses:?}");
    }
    assert!(store.verify_audit().await.unwrap().intact);
}

on_both_backends!(
    a_first_signature_and_sign_ins_at_once,
    one_draft_revision_under_concurrency,
    matrix_revisions_take_effect_when_approved,
    risks_have_versions_and_a_signed_acceptance,
    owners_edit_their_own_risks,
    register_filters_heatmap_export_and_work,
);

/// A query parameter's value, percent-encoded.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
