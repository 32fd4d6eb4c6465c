//! The dashboard on SQLite and PostgreSQL: measurements recorded, corrected (the old value kept
//! in the audit trail) and imported all-or-nothing; each tile's numbers checked against a hand
//! computation, not the same code called twice; a target change applies from its month on.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Datelike, Days, Utc};
use common::{Client, TestDb};
use serde_json::{Value, json};
use server::storage::{AuditContext, AuditFilter, HistoricTraining, Store};
use shared::auth::Role;
use shared::kpi::{Cadence, Period, Span};
use shared::training::{CurriculumLine, RequirementInput, RequirementKind};

fn tile<'a>(dashboard: &'a Value, kpi: &str) -> &'a Value {
    dashboard["tiles"].as_array().unwrap().iter().find(|t| t["kpi"] == kpi).unwrap()
}

async fn measurements_and_the_tiles_they_make(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let exec = Client::as_new_user(store.clone(), "eva.lindqvist", &[Role::Executive]).await;
    let this = Period::of(Utc::now().date_naive());
    let (last, before) = (this.prev(), this.prev().prev());

    // Bad rows are named by position; nothing is saved.
    let bad = json!([
        {"series": "units_produced", "period": last.to_string(), "value": 5000, "source": "MES"},
        {"series": "units_rejected", "period": last.to_string(), "value": 4.5, "source": "MES"},
        {"series": "units_rejected", "period": "2099-01", "value": 3, "source": ""}
    ]);
    assert_eq!(exec.json("POST", "/api/v1/measurements", &bad).await.status, StatusCode::FORBIDDEN);
    let r = qm.json("POST", "/api/v1/measurements", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    for field in ["[1].value", "[2].period", "[2].source"] {
        assert!(r.body["field_errors"][field].is_array(), "{field}: {}", r.text);
    }
    assert!(qm.get("/api/v1/measurements").await.body["items"].as_array().unwrap().is_empty());

    // Two months: 42 of 5,000 rejected last month (0.84 %), 60 of 4,000 the month before (1.5 %).
    let good = json!([
        {"series": "units_produced", "period": last.to_string(), "value": 5000, "source": "MES"},
        {"series": "units_rejected", "period": last.to_string(), "value": 40, "source": "MES"},
        {"series": "units_produced", "period": before.to_string(), "value": 4000, "source": "MES"},
        {"series": "units_rejected", "period": before.to_string(), "value": 60, "source": "MES"},
        {"series": "revenue", "period": last.to_string(), "value": 40000, "source": "Finance"},
        {"series": "scrap_cost", "period": last.to_string(), "value": 1200, "source": "Finance"},
        {"series": "warranty_cost", "period": last.to_string(), "value": 1600, "source": "Finance"}
    ]);
    let r = qm.json("POST", "/api/v1/measurements", &good).await;
    assert_eq!((r.status, r.body["changed"].as_i64()), (StatusCode::OK, Some(7)), "{}", r.text);
    // A correction: 40 → 42; the old value stays in the audit trail.
    let fix = json!({"series": "units_rejected", "period": last.to_string(), "value": 42, "source": "MES"});
    assert_eq!(qm.json("POST", "/api/v1/measurements", &fix).await.body["changed"], 1);
    assert_eq!(qm.json("POST", "/api/v1/measurements", &fix).await.body["changed"], 0, "unchanged");
    let listed = qm.get("/api/v1/measurements?series=units_rejected").await;
    let fixed =
        listed.body["items"].as_array().unwrap().iter().find(|m| m["period"] == last.to_string()).cloned().unwrap();
    assert_eq!((fixed["value"].as_f64(), fixed["version"].as_i64()), (Some(42.0), Some(2)));
    let trail = store
        .list_audit(&AuditFilter { record_type: Some("measurement".into()), limit: 50, ..Default::default() })
        .await
        .unwrap();
    let correction = trail.iter().find(|e| e.record_version == 2).expect("the correction is audited");
    assert_eq!(correction.changes["value"].old, json!(40.0));
    assert_eq!(correction.changes["value"].new, json!(42.0));

    // The tiles, against a hand computation.
    let d = exec.get("/api/v1/dashboard").await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let defect = tile(&d.body, "defect_rate");
    assert!((defect["value"].as_f64().unwrap() - 42.0 * 100.0 / 5000.0).abs() < 1e-9, "{defect}");
    assert_eq!(defect["period"], last.to_string(), "this month has no data yet: the headline is last month's");
    assert_eq!(defect["status"], "on_target");
    let trend = defect["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    assert_eq!(trend[10]["status"], "on_target", "last month");
    assert_eq!(trend[9]["status"], "at_risk", "1.5 % the month before: at risk against 1 %");
    assert!(trend[0]["value"].is_null(), "no data is null, never 0 or NaN");
    let copq = tile(&d.body, "copq");
    assert!((copq["value"].as_f64().unwrap() - 2800.0 * 100.0 / 40000.0).abs() < 1e-9, "{copq}");
    assert_eq!(copq["status"], "at_risk");
    assert!(tile(&d.body, "supplier_defect_rate")["value"].is_null());
    assert_eq!(tile(&d.body, "audit_findings")["needs"], "audits");
    // No CAPA closed and no complaint yet: no data for the first, zero for the second.
    assert!(tile(&d.body, "capa_closure_time")["needs"].is_null());
    assert!(tile(&d.body, "capa_closure_time")["value"].is_null());
    assert_eq!(tile(&d.body, "customer_complaints")["value"].as_f64(), Some(0.0));

    // A stricter target from last month on: last month is now at risk; the month before keeps 1 %.
    let target = json!({"kpi": "defect_rate", "from": last.to_string(), "value": 0.5, "at_risk": 1.0});
    assert_eq!(exec.json("POST", "/api/v1/dashboard/targets", &target).await.status, StatusCode::FORBIDDEN);
    let wrong_side = json!({"kpi": "defect_rate", "from": last.to_string(), "value": 0.5, "at_risk": 0.2});
    let r = qm.json("POST", "/api/v1/dashboard/targets", &wrong_side).await;
    assert!(r.body["field_errors"]["at_risk"].is_array(), "{}", r.text);
    assert_eq!(qm.json("POST", "/api/v1/dashboard/targets", &target).await.status, StatusCode::NO_CONTENT);
    let t = exec.get("/api/v1/dashboard/tiles/defect_rate").await;
    let trend = t.body["trend"].as_array().unwrap();
    let targets: Vec<_> = trend[9..].iter().map(|t| t["target"].as_f64().unwrap()).collect();
    assert_eq!(targets, vec![1.0, 0.5, 0.5]);
    assert_eq!(t.body["status"], "at_risk");
    assert_eq!(exec.get("/api/v1/dashboard/tiles/nonsense").await.status, StatusCode::NOT_FOUND);
}

async fn a_csv_imports_whole_or_names_every_bad_line(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let last = Period::of(Utc::now().date_naive()).prev();
    let bad = format!(
        "series,period,value,source\nunits_produced,{last},5000,MES\nwidgets,{last},1,MES\nunits_rejected,{last},4x,MES\n"
    );
    let r = qm.raw("POST", "/api/v1/measurements/import", "text/csv", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let problems: Vec<(i64, String)> = r.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_i64().unwrap(), p["column"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(problems, vec![(3, "series".to_string()), (4, "value".to_string())]);
    assert!(qm.get("/api/v1/measurements").await.body["items"].as_array().unwrap().is_empty(), "nothing imported");
    let good = format!(
        "\u{feff}series,period,value,source\r\nunits_produced,{last},5000,MES\r\nunits_rejected,{last},25,MES\r\n"
    );
    let r = qm.raw("POST", "/api/v1/measurements/import", "text/csv", good).await;
    assert_eq!((r.status, r.body["rows"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.text);
    let latin1 = vec![b's', b'e', 0xE9, b'\n'];
    assert_eq!(
        qm.raw("POST", "/api/v1/measurements/import", "text/csv", latin1).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

async fn overdue_work_and_training_completion_count_the_records(store: Arc<dyn Store>, _db: TestDb) {
    let qm = common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    let exec = Client::as_new_user(store.clone(), "eva.lindqvist", &[Role::Executive]).await;
    let staff: Vec<_> = staff_users(&store, &["a.one", "b.two", "c.three", "d.four"]).await;
    let ctx = AuditContext::tool("dashboard test");
    let req = store
        .create_requirement(
            &ctx,
            &RequirementInput {
                title: "Lathe set-up".into(),
                kind: RequirementKind::OnTheJob,
                document_id: None,
                quiz: None,
                recurrence_months: None,
                completion_days: 30,
            },
        )
        .await
        .unwrap()
        .id;
    let today = Utc::now().date_naive();
    // One completed, one overdue (from before Caliper), two assigned today by the curriculum.
    let history = |user, done: bool| HistoricTraining {
        user,
        requirement: req,
        revision: None,
        assigned_on: today - Days::new(40),
        due_on: today - Days::new(10),
        completed_at: done.then(|| Utc::now() - Days::new(12)),
        score: None,
        trainer: Some(qm),
    };
    store.import_history(&ctx, &[history(staff[0], true), history(staff[1], false)]).await.unwrap();
    let line = CurriculumLine { requirement_id: req, role: Some(Role::Staff), department_id: None };
    store.add_curriculum_line(&ctx, &line).await.unwrap();

    let d = exec.get("/api/v1/dashboard").await;
    // 1 of 4 staff cells completed (the QM and the executive hold no staff role).
    let training = tile(&d.body, "training_completion");
    assert_eq!(training["value"].as_f64(), Some(25.0), "{training}");
    assert_eq!(training["status"], "off_target");
    let overdue = tile(&d.body, "overdue_work");
    assert_eq!(overdue["value"].as_f64(), Some(1.0), "{overdue}");
    let items = exec.get("/api/v1/dashboard/overdue").await;
    let items = items.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["record_type"], "training_assignment");
    // The clock keeps this month's values; last month has none (no data, not zero).
    server::routes::dashboard::keep_month_end(store.as_ref(), today, &Default::default()).await.unwrap();
    let kept = store.list_snapshots(Period::of(today)).await.unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(tile(&d.body, "overdue_work")["trend"][10]["value"].is_null());
}

/// A request with `Authorization: Bearer <secret>` and no cookie (a script's).
fn with_token(method: &str, uri: &str, secret: &str, body: &Value) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {secret}"))
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

async fn a_script_posts_measurements_with_an_api_token(store: Arc<dyn Store>, db: TestDb) {
    let admin = Client::admin(store.clone()).await;
    let qm = common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    let exec = common::create_user(&store, "eva.lindqvist", &[Role::Executive]).await;
    let script = Client::new(store.clone());
    let last = Period::of(Utc::now().date_naive()).prev();
    let row = json!({"series": "units_produced", "period": last.to_string(), "value": 5000, "source": "MES"});
    let issue = |user: shared::auth::UserId, body: Value| {
        let admin = admin.clone();
        async move { admin.json("POST", &format!("/api/v1/users/{}/tokens", user.0), &body).await }
    };

    // The rules of a token: a name, no expiry in the past.
    let yesterday = Utc::now().date_naive() - Days::new(1);
    let r = issue(qm, json!({"name": " ", "expires_on": yesterday})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["name"].is_array() && r.body["field_errors"]["expires_on"].is_array(), "{}", r.text);
    assert_eq!(issue(shared::auth::UserId(9999), json!({"name": "x"})).await.status, StatusCode::NOT_FOUND);

    let r = issue(qm, json!({"name": "ERP monthly export"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let token_id = r.body["token"]["id"].as_i64().unwrap();
    assert!(secret.starts_with("cal_") && secret.len() > 40, "{secret}");
    // Only the SHA-256 of the secret is in the table, never the secret.
    let hashed = shared::audit::hex(&<sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()));
    assert_eq!(
        db.execute(&format!("update api_tokens set name = name where token_hash = '{hashed}'")).await.unwrap(),
        1
    );
    let clear = format!(
        "update api_tokens set name = name where token_hash like '%{}%' or name like '%{}%'",
        &secret[4..],
        &secret[4..]
    );
    assert_eq!(db.execute(&clear).await.unwrap(), 0, "the secret is not stored in clear");
    let listed = admin.get(&format!("/api/v1/users/{}/tokens", qm.0)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.text);
    assert!(!listed.text.contains(&secret[4..]), "a listed token never shows its secret");

    // No cookie, no CSRF token: the token's user (the quality manager) records the measurement.
    let r = script.send(with_token("POST", "/api/v1/measurements", &secret, &row)).await;
    assert_eq!((r.status, r.body["changed"].as_i64()), (StatusCode::OK, Some(1)), "{}", r.text);
    let trail = store
        .list_audit(&AuditFilter { record_type: Some("measurement".into()), limit: 5, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(trail[0].actor_id, Some(qm.0), "audited as the token's user");
    assert!(trail[0].source.session_id.contains("ERP monthly export"), "{:?}", trail[0].source);
    let used = admin.get(&format!("/api/v1/users/{}/tokens", qm.0)).await;
    assert!(used.body["items"][0]["last_used_at"].is_string(), "{}", used.text);

    // Unknown, expired and revoked tokens, a retired user's: 401 in our envelope.
    let unknown = script.send(with_token("POST", "/api/v1/measurements", "cal_0000", &row)).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.body["message"].is_string(), "{}", unknown.text);
    let r = issue(qm, json!({"name": "Short-lived", "expires_on": Utc::now().date_naive()})).await;
    let short = r.body["secret"].as_str().unwrap().to_string();
    assert_eq!(
        script.send(with_token("GET", "/api/v1/dashboard/targets", &short, &Value::Null)).await.status,
        StatusCode::OK
    );
    let yesterday_sql =
        if matches!(db, TestDb::Postgres(..)) { "current_date - 1".to_string() } else { format!("'{yesterday}'") };
    db.execute(&format!("update api_tokens set expires_on = {yesterday_sql} where name = 'Short-lived'"))
        .await
        .unwrap();
    assert_eq!(
        script.send(with_token("POST", "/api/v1/measurements", &short, &row)).await.status,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    let r = admin.json("POST", &format!("/api/v1/tokens/{token_id}/revoke"), &Value::Null).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["revoked_at"].is_string());
    assert_eq!(
        script.send(with_token("POST", "/api/v1/measurements", &secret, &row)).await.status,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
    let audited = store
        .list_audit(&AuditFilter { record_type: Some("api_token".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(audited.len(), 3, "two issued and one revoked: {audited:?}");
    assert_eq!(admin.json("POST", "/api/v1/tokens/9999/revoke", &Value::Null).await.status, StatusCode::NOT_FOUND);

    // A token of someone without the permission: 403, as for their session.
    let r = issue(exec, json!({"name": "Board pack"})).await;
    let exec_secret = r.body["secret"].as_str().unwrap().to_string();
    let r = script.send(with_token("GET", "/api/v1/dashboard", &exec_secret, &Value::Null)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        script.send(with_token("POST", "/api/v1/measurements", &exec_secret, &row)).await.status,
        StatusCode::FORBIDDEN
    );
    // Deactivated: the token stops working.
    let version = store.get_user(exec).await.unwrap().unwrap().meta.version;
    store.deactivate_user(&AuditContext::tool("test"), exec, version, "left").await.unwrap();
    assert_eq!(
        script.send(with_token("GET", "/api/v1/dashboard", &exec_secret, &Value::Null)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A token is not a session: no signature, no password change with it.
    let r = issue(qm, json!({"name": "Signer"})).await;
    let signer = r.body["secret"].as_str().unwrap().to_string();
    let r = script.send(with_token("POST", "/api/v1/session/password", &signer, &json!({}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

async fn quality_objectives_stand_against_their_kpis_latest_value(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let exec = Client::as_new_user(store.clone(), "eva.lindqvist", &[Role::Executive]).await;
    let owner = common::create_user(&store, "omar.haddad", &[Role::ProcessOwner]).await;
    let today = Utc::now().date_naive();
    let last = Period::of(today).prev();
    let rows = json!([
        {"series": "units_produced", "period": last.to_string(), "value": 5000, "source": "MES"},
        {"series": "units_rejected", "period": last.to_string(), "value": 42, "source": "MES"}
    ]);
    assert_eq!(qm.json("POST", "/api/v1/measurements", &rows).await.status, StatusCode::OK);
    // 42 ÷ 5,000 = 0.84 %; the defect rate's at-risk band is 0.5 percentage points wide (1 → 1.5).
    let objective = |title: &str, kpi: &str, target: f64, due: chrono::NaiveDate| json!({"title": title, "kpi": kpi, "target": target, "due_on": due, "owner_id": owner.0, "notes": ""});
    let (soon, past) = (today + Days::new(90), today - Days::new(1));
    let cases = [
        ("Defect rate under 0.9 %", "defect_rate", 0.9, soon, "achieved"),
        ("Defect rate under 0.5 %", "defect_rate", 0.5, soon, "on_track"),
        ("Defect rate under 0.2 %", "defect_rate", 0.2, soon, "at_risk"),
        ("Defect rate under 0.6 % by yesterday", "defect_rate", 0.6, past, "missed"),
        ("Supplier defect rate under 0.3 %", "supplier_defect_rate", 0.3, soon, "no_data"),
    ];
    let body = objective(cases[0].0, cases[0].1, cases[0].2, cases[0].3);
    assert_eq!(exec.json("POST", "/api/v1/dashboard/objectives", &body).await.status, StatusCode::FORBIDDEN);
    let mut ids = Vec::new();
    for (title, kpi, target, due, status) in cases {
        let r = qm.json("POST", "/api/v1/dashboard/objectives", &objective(title, kpi, target, due)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["status"], status, "{title}: {}", r.text);
        ids.push(r.body["id"].as_i64().unwrap());
    }
    let listed = exec.get("/api/v1/dashboard/objectives").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0]["title"], cases[3].0, "by due date: yesterday's first");
    let first = items.iter().find(|o| o["id"] == ids[0]).unwrap();
    assert!((first["latest"].as_f64().unwrap() - 42.0 * 100.0 / 5000.0).abs() < 1e-9, "{first}");
    assert_eq!(first["latest_period"], last.to_string());
    assert_eq!(first["owner_name"], "Omar Haddad");
    assert_eq!(first["version"], 1);
    let tile = exec.get("/api/v1/dashboard/tiles/defect_rate").await;
    assert_eq!(first["latest"], tile.body["value"], "the same number as the tile");

    // Bad input is named field by field; nothing is saved.
    let mut bad = objective(" ", "defect_rate", 150.0, soon);
    bad["owner_id"] = json!(9999);
    let r = qm.json("POST", "/api/v1/dashboard/objectives", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["title"].is_array() && r.body["field_errors"]["target"].is_array(), "{}", r.text);
    let r = qm
        .json(
            "POST",
            "/api/v1/dashboard/objectives",
            &json!({"title": "x", "kpi": "defect_rate", "target": 1, "due_on": soon, "owner_id": 9999}),
        )
        .await;
    assert!(r.body["field_errors"]["owner_id"].is_array(), "{}", r.text);
    let r = qm
        .json(
            "POST",
            "/api/v1/dashboard/objectives",
            &json!({"title": "x", "kpi": "nonsense", "target": 1, "due_on": soon, "owner_id": owner.0}),
        )
        .await;
    assert!(r.body["field_errors"]["kpi"].is_array(), "{}", r.text);

    // A change with the version last seen; a stale one gets 409 with the current record.
    let mut change = objective("Defect rate under 0.85 %", "defect_rate", 0.85, soon);
    change["version"] = json!(1);
    let uri = format!("/api/v1/dashboard/objectives/{}", ids[1]);
    let r = qm.json("PUT", &uri, &change).await;
    assert_eq!((r.status, r.body["version"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.text);
    assert_eq!(r.body["status"], "achieved");
    let r = qm.json("PUT", &uri, &change).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["current"]["version"], 2, "{}", r.text);
    assert_eq!(qm.json("PUT", "/api/v1/dashboard/objectives/9999", &change).await.status, StatusCode::NOT_FOUND);

    // Retired with a reason, never deleted; then no longer listed and closed to changes.
    let retire = format!("/api/v1/dashboard/objectives/{}/retire", ids[4]);
    let r = qm.json("POST", &retire, &json!({"reason": ""})).await;
    assert!(r.body["field_errors"]["reason"].is_array(), "{}", r.text);
    let r = qm.json("POST", &retire, &json!({"reason": "No supplier data until the ERP link is live"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["retired_at"].is_string());
    assert_eq!(exec.get("/api/v1/dashboard/objectives").await.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(qm.json("POST", &retire, &json!({"reason": "again"})).await.status, StatusCode::CONFLICT);
    let trail = store
        .list_audit(&AuditFilter { record_type: Some("quality_objective".into()), limit: 50, ..Default::default() })
        .await
        .unwrap();
    let actions: Vec<String> = trail.iter().map(|e| format!("{:?}", e.action)).collect();
    assert_eq!(trail.len(), 7, "5 created, 1 changed, 1 retired: {actions:?}");
    let retired = trail.iter().find(|e| e.record_id == ids[4] && e.record_version == 2).unwrap();
    assert_eq!(retired.reason.as_deref(), Some("No supplier data until the ERP link is live"));
}

async fn each_person_chooses_and_orders_their_tiles(store: Arc<dyn Store>, _db: TestDb) {
    let exec = Client::as_new_user(store.clone(), "eva.lindqvist", &[Role::Executive]).await;
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let all: Vec<Value> = shared::kpi::Kpi::ALL.iter().map(|k| json!(k.as_str())).collect();
    let r = exec.get("/api/v1/me/dashboard").await;
    assert_eq!((r.status, r.body["version"].as_i64()), (StatusCode::OK, Some(0)), "{}", r.text);
    assert_eq!(r.body["tiles"], json!(all), "the default: every KPI in order");

    let mine = json!({"tiles": ["copq", "defect_rate", "overdue_work"], "version": 0});
    let r = exec.json("PUT", "/api/v1/me/dashboard", &mine).await;
    assert_eq!((r.status, r.body["version"].as_i64()), (StatusCode::OK, Some(1)), "{}", r.text);
    let r = exec.get("/api/v1/me/dashboard").await;
    assert_eq!(r.body, json!({"tiles": ["copq", "defect_rate", "overdue_work"], "version": 1}));
    assert_eq!(qm.get("/api/v1/me/dashboard").await.body["tiles"], json!(all), "someone else's choice is theirs");

    // Stale: 409 with the saved layout.
    let r = exec.json("PUT", "/api/v1/me/dashboard", &json!({"tiles": ["copq"], "version": 0})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["current"]["version"], 1, "{}", r.text);
    // A repeat and an unknown KPI are named.
    let r = exec
        .json("PUT", "/api/v1/me/dashboard", &json!({"tiles": ["copq", "defect_rate", "copq"], "version": 1}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["tiles[2]"].is_array(), "{}", r.text);
    let r = exec.json("PUT", "/api/v1/me/dashboard", &json!({"tiles": ["copq", "widgets"], "version": 1})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["tiles[1]"].is_array() && r.body["field_errors"]["tiles"].is_array(), "{}", r.text);
    // Nothing changed by the refused ones; an empty choice is a choice.
    let r = exec.json("PUT", "/api/v1/me/dashboard", &json!({"tiles": [], "version": 1})).await;
    assert_eq!((r.status, r.body["version"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.text);
    assert_eq!(exec.get("/api/v1/me/dashboard").await.body["tiles"], json!([]));
}

/// A workbook of measurements: the header and `rows` of (series, period, value), each cell as a
/// person would type it (a number as a number, text as text, a date as a date).
fn workbook(rows: &[(&str, XCell, XCell)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["series", "period", "value", "source"].into_iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    let month = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm");
    for (i, (series, period, value)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *series).unwrap();
        for (c, cell) in [(1u16, period), (2, value)] {
            match cell {
                XCell::Text(t) => sheet.write_string(r, c, t).map(|_| ()).unwrap(),
                XCell::Number(n) => sheet.write_number(r, c, *n).map(|_| ()).unwrap(),
                XCell::Date(d) => {
                    let d = rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, 1).unwrap();
                    sheet.write_datetime_with_format(r, c, &d, &month).map(|_| ()).unwrap()
                }
            }
        }
        sheet.write_string(r, 3, "MES").unwrap();
    }
    book.save_to_buffer().unwrap()
}

enum XCell {
    Text(String),
    Number(f64),
    Date(chrono::NaiveDate),
}

async fn a_workbook_imports_whole_or_names_every_bad_cell(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let last = Period::of(Utc::now().date_naive()).prev();
    let text = |s: &str| XCell::Text(s.to_string());
    let bad = workbook(&[
        ("units_produced", text(&last.to_string()), XCell::Number(5000.0)),
        ("units_rejected", text(&last.to_string()), text("4x")),
        ("widgets", text(&last.to_string()), XCell::Number(3.0)),
    ]);
    let r = qm.raw("POST", "/api/v1/measurements/import", XLSX, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields = r.body["field_errors"].as_object().unwrap();
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["row 3, column C (value)", "row 4, column A (series)"], "{}", r.text);
    assert!(r.body["message"].as_str().unwrap().contains("row 3, column C (value): not a number"), "{}", r.text);
    assert!(qm.get("/api/v1/measurements").await.body["items"].as_array().unwrap().is_empty(), "nothing imported");

    // A good one, sent without its media type (recognised by its zip header); the month typed
    // into a date cell, as Excel does with `2026-11`.
    let good = workbook(&[
        ("units_produced", text(&last.to_string()), XCell::Number(5000.0)),
        ("units_rejected", XCell::Date(last.first_day()), XCell::Number(25.0)),
    ]);
    let r = qm.raw("POST", "/api/v1/measurements/import", "application/octet-stream", good).await;
    assert_eq!((r.status, r.body["rows"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.text);
    let listed = qm.get("/api/v1/measurements").await;
    let got: Vec<(String, String, f64)> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["series"].as_str().unwrap().into(), m["period"].as_str().unwrap().into(), m["value"].as_f64().unwrap())
        })
        .collect();
    let want =
        [("units_produced", 5000.0), ("units_rejected", 25.0)].map(|(s, v)| (s.to_string(), last.to_string(), v));
    assert_eq!(got, want);
    // Not a workbook at all, though it says so: 422 naming the file.
    let r = qm.raw("POST", "/api/v1/measurements/import", XLSX, b"PK\x03\x04 not really".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["file"].is_array(), "{}", r.text);
    // 65 MiB of spaces packs into well under the 1 MiB body limit: refused before it is read.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("xl/worksheets/sheet1.xml", zip::write::SimpleFileOptions::default()).unwrap();
    std::io::Write::write_all(&mut w, &vec![b' '; 65 * 1024 * 1024]).unwrap();
    let packed = w.finish().unwrap().into_inner();
    assert!(packed.len() < server::BODY_LIMIT_BYTES, "{}", packed.len());
    let r = qm.raw("POST", "/api/v1/measurements/import", XLSX, packed).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["message"].as_str().unwrap().contains("unpacks to 65 MiB"), "{}", r.text);
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The process of a record behind an overdue item, read from the record itself (not from the
/// per-process filter under test); a training assignment's is its person's department.
async fn process_of(store: &Arc<dyn Store>, item: &Value, today: chrono::NaiveDate) -> Value {
    let id = item["record_id"].as_i64().unwrap();
    let json = |v: Option<Value>| v.unwrap_or(Value::Null);
    match item["record_type"].as_str().unwrap() {
        "risk" => {
            json(store.get_risk(shared::register::RiskId(id)).await.unwrap().map(|r| serde_json::to_value(r).unwrap()))
                ["process_id"]
                .clone()
        }
        "fmea" => {
            json(store.get_fmea(shared::worksheet::FmeaId(id)).await.unwrap().map(|r| serde_json::to_value(r).unwrap()))
                ["process_id"]
                .clone()
        }
        "document" => json(
            store
                .get_document(shared::document::DocumentId(id))
                .await
                .unwrap()
                .map(|r| serde_json::to_value(r).unwrap()),
        )["process_id"]
            .clone(),
        "capa" => json(
            store.get_capa(shared::quality::CapaId(id)).await.unwrap().map(|r| serde_json::to_value(r).unwrap()),
        )["process_id"]
            .clone(),
        "nc" => json(store.get_nc(shared::quality::NcId(id)).await.unwrap().map(|r| serde_json::to_value(r).unwrap()))
            ["process_id"]
            .clone(),
        "training_assignment" => {
            let a = store.get_assignment(shared::training::AssignmentId(id), today).await.unwrap().unwrap();
            let user = store.get_user(a.user_id).await.unwrap().unwrap();
            json!({"department": user.department_id.map(|d| d.0)})
        }
        other => panic!("an overdue {other}"),
    }
}

async fn a_process_view_counts_only_its_records(store: Arc<dyn Store>, _db: TestDb) {
    server::seed::seed_demo(store.as_ref(), &server::auth::AuthConfig::for_tests()).await.unwrap();
    let qm = Client::as_new_user(store.clone(), "quinn.auditor", &[Role::QualityManager]).await;
    let today = Utc::now().date_naive();
    let org = qm.get("/api/v1/dashboard/overdue").await;
    let org: Vec<Value> = org.body["items"].as_array().unwrap().clone();
    let mut places = Vec::new();
    for item in &org {
        places.push(process_of(&store, item, today).await);
    }
    let org_dash = qm.get("/api/v1/dashboard").await;
    let org_defects = tile(&org_dash.body, "defect_rate").clone();
    let mut counted = 0;
    for p in store.list_processes(false).await.unwrap() {
        // The hand count: the organisation's overdue items whose record is this process's.
        let mine = |place: &Value| *place == json!(p.id.0) || place["department"] == json!(p.department_id.0);
        let mut want: Vec<(String, i64)> = org
            .iter()
            .zip(&places)
            .filter(|(_, place)| mine(place))
            .map(|(i, _)| (i["record_type"].as_str().unwrap().to_string(), i["record_id"].as_i64().unwrap()))
            .collect();
        want.sort();
        let r = qm.get(&format!("/api/v1/dashboard/overdue?process_id={}", p.id.0)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let mut got: Vec<(String, i64)> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["record_type"].as_str().unwrap().to_string(), i["record_id"].as_i64().unwrap()))
            .collect();
        got.sort();
        assert_eq!(got, want, "{}", p.name);
        let d = qm.get(&format!("/api/v1/dashboard?process_id={}", p.id.0)).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text);
        let overdue = tile(&d.body, "overdue_work");
        assert_eq!(overdue["value"].as_f64(), Some(want.len() as f64), "{}: {overdue}", p.name);
        assert_eq!(overdue["scope"], p.name.as_str());
        assert_eq!(overdue["drill"], format!("/dashboard/overdue?process_id={}", p.id.0));
        assert!(overdue["scope_note"].is_null());
        // Measurements are not kept per process: the organisation's tile, saying so.
        let defects = tile(&d.body, "defect_rate");
        assert_eq!(defects["scope_note"], shared::kpi::NOT_PER_PROCESS);
        assert!(defects["scope"].is_null());
        assert_eq!(defects["value"], org_defects["value"]);
        let one = qm.get(&format!("/api/v1/dashboard/tiles/overdue_work?process_id={}", p.id.0)).await;
        assert_eq!(one.body["value"], overdue["value"]);
        counted += want.len();
    }
    assert!(counted > 0, "the demo has overdue work in some process");

    // Training completion of a process is its department's.
    let assembly = store
        .list_processes(false)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.department_name.contains("Assembly"))
        .unwrap();
    let d = qm.get(&format!("/api/v1/dashboard?process_id={}", assembly.id.0)).await;
    let training = tile(&d.body, "training_completion");
    let rates = qm.get("/api/v1/training/completion").await;
    let row = rates.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["department"] == assembly.department_name.as_str())
        .unwrap()
        .clone();
    let want = row["completed"].as_f64().unwrap() * 100.0 / row["required"].as_f64().unwrap();
    assert!((training["value"].as_f64().unwrap() - want).abs() < 1e-9, "{training} vs {row}");
    assert!(training["drill"].as_str().unwrap().starts_with("/training/matrix?department="), "{training}");

    for uri in [
        "/api/v1/dashboard?process_id=9999",
        "/api/v1/dashboard/overdue?process_id=9999",
        "/api/v1/dashboard/tiles/copq?process_id=9999",
    ] {
        assert_eq!(qm.get(uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

/// Two instances on one database (as behind a load balancer): a complaint received through
/// instance A reaches a dashboard served by instance B within a second, as a change of a record
/// the complaints tile is made of; B's tile, read again, counts it.
async fn a_change_through_one_instance_reaches_a_dashboard_on_another(store: Arc<dyn Store>, db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    common::create_user(&store, "eva.lindqvist", &[Role::Executive]).await;
    let mut exec_b = Client::new(db.second_store());
    assert_eq!(exec_b.sign_in("eva.lindqvist", common::PASSWORD).await.status, StatusCode::OK);
    let tile_uri = "/api/v1/dashboard/tiles/customer_complaints";
    let before = exec_b.get(tile_uri).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let this = Period::of(Utc::now().date_naive()).to_string();
    let count = |tile: &Value| {
        tile["trend"].as_array().unwrap().iter().find(|p| p["period"] == this).unwrap()["value"].as_f64()
    };

    let (status, mut events) = exec_b.stream("/api/v1/events").await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(server::routes::events::POLL * 2).await;
    let complaint = json!({"customer": "Nordic Pumps AB", "product": "H-200", "lot": "L-2211",
        "received_on": Utc::now().date_naive(), "channel": "email", "description": "Housings leak at the bore"});
    let started = std::time::Instant::now();
    let r = qm.json("POST", "/api/v1/complaints", &complaint).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let inputs = shared::kpi::Kpi::CustomerComplaints.inputs();
    let heard = loop {
        let text =
            Client::next_text(&mut events, std::time::Duration::from_secs(1)).await.expect("an event within 1 s");
        let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
        let change: Value = serde_json::from_str(data).unwrap();
        if inputs.contains(&change["record_type"].as_str().unwrap_or_default()) {
            break change;
        }
    };
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!((heard["record_id"].clone(), heard["action"].as_str()), (r.body["id"].clone(), Some("create")));
    let after = exec_b.get(tile_uri).await;
    assert_eq!(count(&after.body), Some(count(&before.body).unwrap_or(0.0) + 1.0), "{}", after.text);
}

/// A KPI judged per quarter sums its months; per week counts its dated records by ISO week;
/// a week where measurements come per month is refused, naming the field. Checked against a
/// computation by hand in the test.
async fn a_kpi_is_judged_per_week_month_or_quarter(store: Arc<dyn Store>, _db: TestDb) {
    let qm = Client::as_new_user(store.clone(), "priya.natarajan", &[Role::QualityManager]).await;
    let today = Utc::now().date_naive();
    let this_month = Period::of(today).to_string();
    let quarter = Span::of(Cadence::Quarter, today);
    let last_quarter = quarter.prev();

    // Last quarter: 10 of 1,000, 30 of 2,000 and 20 of 3,000 rejected = 60 of 6,000 = 1 %.
    let mut rows = Vec::new();
    for (m, (produced, rejected)) in last_quarter.months().iter().zip([(1000, 10), (2000, 30), (3000, 20)]) {
        rows.push(json!({"series": "units_produced", "period": m.to_string(), "value": produced, "source": "MES"}));
        rows.push(json!({"series": "units_rejected", "period": m.to_string(), "value": rejected, "source": "MES"}));
    }
    assert_eq!(qm.json("POST", "/api/v1/measurements", &Value::Array(rows)).await.status, StatusCode::OK);

    // Weeks where measurements come per month: refused, nothing saved.
    let weekly_copq = json!({"kpi": "copq", "from": this_month, "value": 5, "at_risk": 8, "cadence": "week"});
    let r = qm.json("POST", "/api/v1/dashboard/targets", &weekly_copq).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["field_errors"]["cadence"].is_array(), "{}", r.text);
    assert!(qm.get("/api/v1/dashboard/targets").await.body["items"].as_array().unwrap().is_empty());

    // The defect rate per quarter from this month on, with a looser target.
    let quarterly =
        json!({"kpi": "defect_rate", "from": this_month, "value": 1.2, "at_risk": 1.5, "cadence": "quarter"});
    let r = qm.json("POST", "/api/v1/dashboard/targets", &quarterly).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let t = qm.get("/api/v1/dashboard/tiles/defect_rate").await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    let trend = t.body["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    assert_eq!(trend[11]["period"], quarter.to_string());
    assert_eq!(trend[10]["period"], last_quarter.to_string());
    assert_eq!(trend[0]["period"], Span::of(Cadence::Quarter, today).last(12)[0].to_string());
    assert!((trend[10]["value"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{}", trend[10]);
    // Last quarter ended before the change: the default target (1 %) applied; this one has 1.2.
    assert_eq!((trend[10]["target"].as_f64(), trend[11]["target"].as_f64()), (Some(1.0), Some(1.2)));
    assert_eq!(
        (t.body["period"].clone(), t.body["target"]["cadence"].clone()),
        (json!(last_quarter.to_string()), json!("quarter"))
    );
    let listed = qm.get("/api/v1/dashboard/targets").await;
    assert_eq!(listed.body["items"][0]["cadence"], "quarter", "{}", listed.text);

    // Complaints per ISO week: three this week or last, counted by the Monday of their week.
    let days = [today, today - Days::new(1), today - Days::new(7), today - Days::new(20)];
    for day in days {
        let c = json!({"customer": "Nordic Pumps AB", "product": "H-200", "lot": "L-1", "received_on": day,
            "channel": "email", "description": "Leaks"});
        assert_eq!(qm.json("POST", "/api/v1/complaints", &c).await.status, StatusCode::CREATED);
    }
    let weekly = json!({"kpi": "customer_complaints", "from": this_month, "value": 1, "at_risk": 2, "cadence": "week"});
    assert_eq!(qm.json("POST", "/api/v1/dashboard/targets", &weekly).await.status, StatusCode::NO_CONTENT);
    let t = qm.get("/api/v1/dashboard/tiles/customer_complaints").await;
    let trend = t.body["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    for point in trend {
        let start = chrono::NaiveDate::parse_from_str(&format!("{}-1", point["period"].as_str().unwrap()), "%G-W%V-%u")
            .unwrap_or_else(|e| panic!("{point}: {e}"));
        let by_hand = days.iter().filter(|d| start <= **d && **d < start + Days::new(7)).count();
        assert_eq!(point["value"].as_f64(), Some(by_hand as f64), "{point}");
    }
    let week = Span::of(Cadence::Week, today).to_string();
    assert_eq!(trend[11]["period"], week);
    assert!(trend[11]["value"].as_f64().unwrap() >= 1.0);
}

async fn staff_users(store: &Arc<dyn Store>, names: &[&str]) -> Vec<shared::auth::UserId> {
    let mut out = Vec::new();
    for n in names {
        out.push(common::create_user(store, n, &[Role::Staff]).await);
    }
    out
}

on_both_backends!(
    measurements_and_the_tiles_they_make,
    a_csv_imports_whole_or_names_every_bad_line,
    overdue_work_and_training_completion_count_the_records,
    a_script_posts_measurements_with_an_api_token,
    quality_objectives_stand_against_their_kpis_latest_value,
    each_person_chooses_and_orders_their_tiles,
    a_workbook_imports_whole_or_names_every_bad_cell,
    a_process_view_counts_only_its_records,
    a_change_through_one_instance_reaches_a_dashboard_on_another,
    a_kpi_is_judged_per_week_month_or_quarter,
);
