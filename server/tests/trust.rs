//! The trust core over HTTP, on both databases: who may call what (generated from the route
//! table and the shared permission table), sign-in and lockout (11.300), sessions and their
//! timeouts (11.10(d)), CSRF, record-level rules (11.10(g)), and electronic signatures
//! (11.50, 11.70, 11.200, 11.10(j)).

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Client, PASSWORD, TestDb, create_user};
use serde_json::{Value, json};
use server::auth::{Access, ROUTES};
use server::storage::Store;
use shared::auth::{Role, allowed};

async fn department(client: &Client) -> i64 {
    let r = client.json("POST", "/api/v1/departments", &json!({"name": "Machining"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

async fn create_process(client: &Client, name: &str, owner: i64, dept: i64) -> Value {
    let r = client
        .json("POST", "/api/v1/processes", &json!({"name": name, "owner_id": owner, "department_id": dept}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

fn message(r: &common::Reply) -> String {
    r.body["message"].as_str().unwrap_or_default().to_string()
}

/// 11.10(d), 11.10(g): every route × every role, from the route table and the permission
/// table: 401 without a session, 403 without the permission, through to the handler with it.
async fn every_endpoint_for_every_role(store: Arc<dyn Store>, _db: TestDb) {
    let anonymous = Client::new(store.clone());
    // Sign-out goes last, as it ends the session the other calls use.
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|(m, p, _)| (*m == "DELETE" && *p == "/session", *p));
    let call = |client: &Client, method: &str, path: &str| {
        let (client, method) = (client.clone(), method.to_string());
        let uri = format!("/api/v1{}", path.replace("{id}", "999999"));
        async move {
            let body = if method == "GET" { "" } else { "{}" };
            client.raw(&method, &uri, "application/json", body).await
        }
    };
    for (method, path, access) in &routes {
        let r = call(&anonymous, method, path).await;
        if *access == Access::Public {
            assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{method} {path} is public");
        } else {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path} without a session: {}", r.text);
        }
    }
    for role in Role::ALL {
        let client = Client::as_new_user(store.clone(), &format!("user.{}", role.as_str()), &[role]).await;
        for (method, path, access) in &routes {
            let r = call(&client, method, path).await;
            let expected_allowed = match access {
                Access::Public | Access::Session => true,
                Access::Any(permissions) => permissions.iter().any(|p| allowed(&[role], *p)),
            };
            if expected_allowed {
                assert!(
                    r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
                    "{role:?} may {method} {path} but got {}: {}",
                    r.status,
                    r.text
                );
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?} may not {method} {path}: {}", r.text);
            }
        }
    }
}

/// Every route the router answers and the OpenAPI document lists has an access rule (the guard
/// refuses routes without one; this keeps the table complete).
async fn every_documented_operation_has_an_access_rule(store: Arc<dyn Store>, _db: TestDb) {
    let doc = Client::new(store).get("/api/v1/openapi.json").await;
    for (path, ops) in doc.body["paths"].as_object().unwrap() {
        let Some(path) = path.strip_prefix("/api/v1") else { continue };
        for method in ops.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            assert!(
                ROUTES.iter().any(|(m, p, _)| *m == method && *p == path),
                "{method} {path} is documented but has no access rule"
            );
        }
    }
}

async fn sign_in_lockout_and_password_rules(store: Arc<dyn Store>, db: TestDb) {
    let admin = Client::admin(store.clone()).await;
    create_user(&store, "tom.okafor", &[Role::ProcessOwner]).await;

    // The cookie is HttpOnly and SameSite=Strict, and Secure behind https.
    let mut tom = Client::new(store.clone());
    let r = tom.sign_in("Tom.Okafor", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"),
        "{cookie}"
    );
    assert_eq!(r.body["user"]["username"], "tom.okafor");
    assert_eq!(r.body["csrf_token"].as_str().unwrap().len(), 64);
    // Behind a trusted proxy (--trusted-proxy, finding 14 of the security review),
    // X-Forwarded-Proto: https marks the cookie Secure and X-Forwarded-For names the client in
    // the trail; from anyone else both headers are ignored.
    let mut state = server::AppState::new(store.clone(), None, server::auth::AuthConfig::for_tests());
    state.trusted_proxies = server::middleware::TrustedProxies(vec!["10.0.0.2".parse().unwrap()].into());
    let behind = Client::with_state(state);
    let from = |peer: &str| {
        let mut req = Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "203.0.113.9, 10.0.0.2")
            .body(Body::from(json!({"username": "tom.okafor", "password": PASSWORD}).to_string()))
            .unwrap();
        let peer = std::net::SocketAddr::new(peer.parse().unwrap(), 40000);
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        req
    };
    let r = behind.send(from("10.0.0.2")).await;
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-caliper_session=") && cookie.contains("; Secure"), "{cookie}");
    // The __Host- cookie is the session.
    let token = cookie.split(';').next().unwrap().to_string();
    let mine = Request::get("/api/v1/session").header(header::COOKIE, format!("other=1; {token}")).body(Body::empty());
    assert_eq!(behind.send(mine.unwrap()).await.status, StatusCode::OK);
    let r = behind.send(from("198.51.100.7")).await;
    assert!(!r.headers[header::SET_COOKIE].to_str().unwrap().contains("Secure"), "not from a trusted proxy");
    let trail = admin.get("/api/v1/audit?record_type=user").await.body;
    let addresses: Vec<_> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sign_in")
        .map(|e| e["source"]["client_address"].as_str().unwrap().to_string())
        .collect();
    assert!(addresses.contains(&"203.0.113.9".to_string()), "{addresses:?}");
    assert!(addresses.contains(&"198.51.100.7".to_string()), "{addresses:?}");
    assert!(!addresses.contains(&"10.0.0.2".to_string()), "{addresses:?}");

    // Empty fields are field errors; a wrong password and an unknown user get the same answer.
    let mut probe = Client::new(store.clone());
    let r = probe.sign_in("", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["username"], json!(["required"]));
    let unknown = probe.sign_in("nobody", "whatever-password").await;
    let wrong = probe.sign_in("tom.okafor", "wrong-password-1").await;
    assert_eq!((unknown.status, wrong.status), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(message(&unknown), message(&wrong));

    // Five failures in a row lock the account (the first was above); then even the right
    // password is refused. A locked account answers exactly as an unknown username does, so
    // the lockout cannot tell anyone which usernames exist (finding 2 of the security review).
    for _ in 0..3 {
        assert_eq!(probe.sign_in("tom.okafor", "wrong-password-1").await.status, StatusCode::UNAUTHORIZED);
    }
    let fifth = probe.sign_in("tom.okafor", "wrong-password-1").await;
    assert_eq!(fifth.status, StatusCode::UNAUTHORIZED, "{}", fifth.text);
    assert!(message(&fifth).contains("locked for 15 minutes"), "{}", fifth.text);
    let right = probe.sign_in("tom.okafor", PASSWORD).await;
    let mut nobody = probe.sign_in("nobody", "whatever-password").await;
    for _ in 0..5 {
        nobody = probe.sign_in("nobody", "whatever-password").await;
    }
    assert_eq!((right.status, message(&right)), (nobody.status, message(&nobody)), "{}", right.text);
    assert_eq!((right.status, message(&right)), (unknown.status, message(&unknown)));
    assert_eq!(right.status, StatusCode::UNAUTHORIZED);
    // An existing session is not affected; a new one cannot start.
    assert_eq!(tom.get("/api/v1/processes").await.status, StatusCode::OK);

    // Failed attempts are listed to administrators (11.300(d)) and are in the audit trail: the
    // first from an address on an account in an entry of its own, the rest of the burst (here
    // a second, in tests) in one entry with their count and reasons, once the burst is over.
    let tom_id = r_id(&tom).await;
    let failed = written_bursts(&admin, 4).await;
    let items = failed.body["items"].as_array().unwrap().clone();
    let of_tom: Vec<_> = items.iter().filter(|f| f["user_id"] == tom_id).collect();
    assert_eq!(of_tom.len(), 2, "{}", failed.text);
    assert_eq!(of_tom.iter().map(|f| f["attempts"].as_u64().unwrap()).sum::<u64>(), 6, "{}", failed.text);
    assert!(of_tom.iter().any(|f| f["reason"] == "wrong password" && f["attempts"] == 1));
    assert!(
        of_tom.iter().any(|f| f["reason"]
            == "5 further failed sign-ins from an unknown address within 1 s: 1 account locked, 4 wrong password"),
        "{}",
        failed.text
    );
    let unknown: Vec<_> = items.iter().filter(|f| f["user_id"].is_null()).collect();
    assert_eq!(unknown.iter().map(|f| f["attempts"].as_u64().unwrap()).sum::<u64>(), 7, "{}", failed.text);
    let locks = admin.get("/api/v1/audit?record_type=user").await;
    assert!(locks.body["items"].as_array().unwrap().iter().any(|e| e["action"] == "lock"), "{}", locks.text);

    // An admin's reset unlocks the account; the temporary password must be changed first.
    let r = admin
        .json("POST", &format!("/api/v1/users/{tom_id}/reset-password"), &json!({"new_password": "password1234"}))
        .await;
    assert_eq!(r.body["field_errors"]["new_password"], json!(["password_common"]));
    let r = admin
        .json("POST", &format!("/api/v1/users/{tom_id}/reset-password"), &json!({"new_password": "Temporary-Pass-77"}))
        .await;
    assert_eq!((r.status, r.body["must_change_password"].clone()), (StatusCode::OK, json!(true)), "{}", r.text);
    let mut tom2 = Client::new(store.clone());
    let r = tom2.sign_in("tom.okafor", "Temporary-Pass-77").await;
    assert_eq!((r.status, r.body["must_change_password"].clone()), (StatusCode::OK, json!(true)));
    let r = tom2.get("/api/v1/processes").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(message(&r).contains("Change your password"));
    let pw = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let r = tom2.json("POST", "/api/v1/session/password", &pw("not-it-at-all", "Brand-New-Lathe-9")).await;
    assert_eq!(r.body["field_errors"]["current_password"], json!(["wrong_password"]));
    let r = tom2.json("POST", "/api/v1/session/password", &pw("Temporary-Pass-77", "tom.okafor-2026!")).await;
    assert_eq!(r.body["field_errors"]["new_password"], json!(["password_is_username"]));
    let r = tom2.json("POST", "/api/v1/session/password", &pw("Temporary-Pass-77", "short")).await;
    assert_eq!(r.body["field_errors"]["new_password"], json!(["password_too_short"]));
    // Tom is also signed in on another machine: changing the password there ends it.
    let mut elsewhere = Client::new(store.clone());
    assert_eq!(elsewhere.sign_in("tom.okafor", "Temporary-Pass-77").await.status, StatusCode::OK);
    assert_eq!(elsewhere.get("/api/v1/session").await.status, StatusCode::OK);
    let r = tom2.json("POST", "/api/v1/session/password", &pw("Temporary-Pass-77", "Brand-New-Lathe-9")).await;
    assert_eq!((r.status, r.body["must_change_password"].clone()), (StatusCode::OK, json!(false)), "{}", r.text);
    assert_eq!(tom2.get("/api/v1/processes").await.status, StatusCode::OK);
    assert_eq!(elsewhere.get("/api/v1/session").await.status, StatusCode::UNAUTHORIZED, "the other session ended");

    // Password ageing: a password older than the limit must be changed.
    db.execute("update users set password_changed_at = '2020-01-01T00:00:00+00:00' where username = 'tom.okafor'")
        .await
        .unwrap();
    let r = tom2.get("/api/v1/session").await;
    assert_eq!(r.body["must_change_password"], json!(true));
    assert_eq!(tom2.get("/api/v1/processes").await.status, StatusCode::FORBIDDEN);
}

async fn r_id(client: &Client) -> i64 {
    client.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap()
}

async fn sessions_time_out_end_and_need_csrf(store: Arc<dyn Store>, db: TestDb) {
    let admin = Client::admin(store.clone()).await;
    let dept = department(&admin).await;
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let lee_id = r_id(&staff).await;

    // CSRF: a state-changing request with the cookie but without the token changes nothing.
    let (cookie, _) = admin.session.clone().unwrap();
    let forged = Request::post("/api/v1/departments")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, cookie.as_str())
        .header("x-csrf-token", "0".repeat(64))
        .body(Body::from(json!({"name": "Forged"}).to_string()))
        .unwrap();
    let r = Client::new(store.clone()).send(forged).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(message(&r).contains("CSRF"));
    let names: Vec<_> = admin.get("/api/v1/departments").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Machining")]);
    let _ = dept;

    // Admins see live sessions and can revoke one; that user is signed out at once.
    let sessions = admin.get("/api/v1/sessions").await;
    let lee_session = sessions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_id"] == lee_id)
        .expect("lee's session is listed")["id"]
        .as_i64()
        .unwrap();
    assert!(!sessions.text.contains(staff.cookie().unwrap().trim_start_matches("caliper_session=")), "no secrets");
    let own = admin.get("/api/v1/session").await.body["session_id"].clone();
    assert!(sessions.body["items"].as_array().unwrap().iter().any(|s| s["id"] == own), "the app can mark its own");
    let r = admin.raw("POST", &format!("/api/v1/sessions/{lee_session}/revoke"), "application/json", "{}").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = staff.get("/api/v1/processes").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Idle timeout (default 15 minutes): a session unused for longer is over.
    let mut idle = Client::new(store.clone());
    idle.sign_in("lee.chen", PASSWORD).await;
    db.execute("update sessions set last_seen_at = '2020-01-01T00:00:00+00:00' where ended_at is null and user_id = (select user_id from users where username = 'lee.chen')")
        .await
        .unwrap();
    let r = idle.get("/api/v1/processes").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(message(&r).contains("without activity"), "{}", r.text);
    let trail = admin.get(&format!("/api/v1/audit?record_type=user&record_id={lee_id}")).await;
    let entries = trail.body["items"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "sign_out" && e["reason"] == "idle timeout"), "{}", trail.text);
    assert!(entries.iter().any(|e| e["action"] == "revoke_session" && e["actor_name"] == "Ada Admin"));

    // Signing in again from the same browser replaces its session instead of leaving two.
    let mut twice = Client::new(store.clone());
    twice.sign_in("lee.chen", PASSWORD).await;
    twice.sign_in("lee.chen", PASSWORD).await;
    let live = admin.get("/api/v1/sessions").await.body["items"].clone();
    assert_eq!(live.as_array().unwrap().iter().filter(|s| s["user_id"] == lee_id).count(), 1, "{live}");

    // Absolute lifetime.
    let mut old = Client::new(store.clone());
    old.sign_in("lee.chen", PASSWORD).await;
    db.execute("update sessions set expires_at = '2020-01-01T00:00:00+00:00' where ended_at is null and user_id = (select user_id from users where username = 'lee.chen')")
        .await
        .unwrap();
    let r = old.get("/api/v1/session").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(message(&r).contains("maximum length"), "{}", r.text);

    // Sign-out ends the session and clears the cookie.
    let mut leaving = Client::new(store.clone());
    leaving.sign_in("lee.chen", PASSWORD).await;
    let r = leaving.raw("DELETE", "/api/v1/session", "application/json", "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(leaving.get("/api/v1/session").await.status, StatusCode::UNAUTHORIZED);

    // A deactivated user's sessions end, they cannot sign in, and the username is never reused.
    let mut lee = Client::new(store.clone());
    lee.sign_in("lee.chen", PASSWORD).await;
    let user = admin.get(&format!("/api/v1/users/{lee_id}")).await;
    let version = user.body["version"].as_i64().unwrap();
    let r = admin
        .json("POST", &format!("/api/v1/users/{lee_id}/deactivate"), &json!({"reason": "Left", "version": version}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(lee.get("/api/v1/processes").await.status, StatusCode::UNAUTHORIZED);
    let r = Client::new(store.clone()).sign_in("lee.chen", PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(message(&r).contains("deactivated"));
    let again = json!({"username": "lee.chen", "full_name": "Another Lee", "email": "lee2@example.com",
                       "roles": ["staff"], "password": "Another-Lee-Pass-1"});
    let r = admin.json("POST", "/api/v1/users", &again).await;
    assert_eq!(r.body["field_errors"]["username"], json!(["taken"]), "{}", r.text);
    // Users are never deleted: the database refuses.
    let err = db.execute("delete from users").await.unwrap_err();
    assert!(err.to_string().contains("never deleted"), "{err}");
}

async fn record_rules_and_role_escalation(store: Arc<dyn Store>, _db: TestDb) {
    let admin = Client::admin(store.clone()).await;
    let dept = department(&admin).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let marta = Client::as_new_user(store.clone(), "marta.kowalska", &[Role::ProcessOwner]).await;
    let (tom_id, marta_id) = (r_id(&tom).await, r_id(&marta).await);
    let mine = create_process(&admin, "CNC machining", tom_id, dept).await;
    let theirs = create_process(&admin, "Final assembly", marta_id, dept).await;
    let edit = |p: &Value, owner: i64| {
        json!({"name": p["name"], "description": "Edited by the owner", "owner_id": owner,
               "department_id": dept, "version": p["version"], "reason": "Describe the process"})
    };

    // Tom edits his own process; not Marta's; and cannot give his away.
    let r = tom.json("PUT", &format!("/api/v1/processes/{}", mine["id"]), &edit(&mine, tom_id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["description"], "Edited by the owner");
    let r = tom.json("PUT", &format!("/api/v1/processes/{}", theirs["id"]), &edit(&theirs, marta_id)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let mine_now = tom.get(&format!("/api/v1/processes/{}", mine["id"])).await.body;
    let r = tom.json("PUT", &format!("/api/v1/processes/{}", mine["id"]), &edit(&mine_now, marta_id)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.get(&format!("/api/v1/processes/{}", theirs["id"])).await.body["version"], 1, "nothing changed");

    // Role escalation through the API: a process owner cannot touch users or roles.
    let me = json!({"username": "tom.okafor", "full_name": "Tom Okafor", "email": "tom@example.com",
                    "roles": ["admin"], "version": 1});
    let r = tom.json("PUT", &format!("/api/v1/users/{tom_id}"), &me).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = tom
        .json(
            "POST",
            "/api/v1/users",
            &json!({"username": "evil", "full_name": "E", "email": "e@example.com", "roles": ["admin"],
                    "password": "Evil-Admin-Pass-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(tom.get("/api/v1/session").await.body["user"]["roles"], json!(["process_owner"]));

    // The admin assigns roles; the username cannot be changed.
    let user = admin.get(&format!("/api/v1/users/{tom_id}")).await.body;
    let mut input = json!({"username": "tom.okafor", "full_name": "Tom Okafor", "email": "tom@example.com",
                           "roles": ["process_owner", "auditor"], "version": user["version"]});
    let r = admin.json("PUT", &format!("/api/v1/users/{tom_id}"), &input).await;
    assert_eq!(
        (r.status, r.body["roles"].clone()),
        (StatusCode::OK, json!(["process_owner", "auditor"])),
        "{}",
        r.text
    );
    input["username"] = json!("thomas");
    input["version"] = r.body["version"].clone();
    let r = admin.json("PUT", &format!("/api/v1/users/{tom_id}"), &input).await;
    assert_eq!(r.body["field_errors"]["username"], json!(["immutable"]));
    assert_eq!(tom.get("/api/v1/audit").await.status, StatusCode::OK, "the new role applies at once");

    // Separation of duties: nobody changes their own roles, not even an administrator (who
    // could otherwise make themselves quality manager and approve by signature); their name,
    // yes.
    let ada = r_id(&admin).await;
    let me = admin.get(&format!("/api/v1/users/{ada}")).await.body;
    for roles in [json!(["admin", "quality_manager", "auditor"]), json!(["quality_manager"]), json!(["admin"])] {
        let change = json!({"username": me["username"], "full_name": me["full_name"], "email": me["email"],
                            "roles": roles, "version": me["version"]});
        let r = admin.json("PUT", &format!("/api/v1/users/{ada}"), &change).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert!(message(&r).contains("your own roles"), "{}", r.text);
    }
    let rename = json!({"username": me["username"], "full_name": "Ada B. Admin", "email": me["email"],
                        "roles": ["quality_manager", "admin"], "version": me["version"]});
    let r = admin.json("PUT", &format!("/api/v1/users/{ada}"), &rename).await;
    assert_eq!((r.status, r.body["full_name"].clone()), (StatusCode::OK, json!("Ada B. Admin")), "{}", r.text);
}

/// The last active administrator stays one under concurrency: two administrators take the role
/// from each other, ten requests each, all at once. One wins; the others get 409 (stale, or the
/// last-administrator rule) or 403 (the loser is no longer an administrator), never a 500; an
/// administrator is left, and the trail agrees.
async fn the_last_administrator_holds_under_concurrency(store: Arc<dyn Store>, _db: TestDb) {
    let ada = Client::as_new_user(store.clone(), "ada.admin", &[Role::Admin]).await;
    let bo = Client::as_new_user(store.clone(), "bo.admin", &[Role::Admin]).await;
    let (ada_id, bo_id) = (r_id(&ada).await, r_id(&bo).await);
    let demote = |id: i64, user: &Value| {
        (
            format!("/api/v1/users/{id}"),
            json!({"username": user["username"], "full_name": user["full_name"], "email": user["email"],
                   "roles": ["auditor"], "version": user["version"]}),
        )
    };
    let (to_bo, bo_demoted) = demote(bo_id, &ada.get(&format!("/api/v1/users/{bo_id}")).await.body);
    let (to_ada, ada_demoted) = demote(ada_id, &bo.get(&format!("/api/v1/users/{ada_id}")).await.body);
    let mut requests = Vec::new();
    for _ in 0..10 {
        requests.push(ada.json("PUT", &to_bo, &bo_demoted));
        requests.push(bo.json("PUT", &to_ada, &ada_demoted));
    }
    let replies = futures_util::future::join_all(requests).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    // The loser's later requests may also find them no longer an administrator (403: the new
    // roles apply at once).
    assert!(
        statuses.iter().all(|s| [StatusCode::OK, StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(s)),
        "{statuses:?}"
    );
    let admins: Vec<_> =
        store.list_users(false).await.unwrap().into_iter().filter(|u| u.roles.contains(&Role::Admin)).collect();
    assert_eq!(admins.len(), 1, "{admins:?}");
    let role_changes = store
        .list_audit(&server::storage::AuditFilter {
            record_type: Some("user".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == shared::audit::AuditAction::Update)
        .count();
    assert_eq!(role_changes, 1, "one change made, one entry");
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn signatures_bind_a_record_version(store: Arc<dyn Store>, db: TestDb) {
    // An administrator only (no quality-manager role).
    let admin = Client::as_new_user(store.clone(), "ada.admin", &[Role::Admin]).await;
    let dept = department(&admin).await;
    let tom = Client::as_new_user(store.clone(), "tom.okafor", &[Role::ProcessOwner]).await;
    let qm = Client::as_new_user(store.clone(), "quinn.manager", &[Role::QualityManager]).await;
    let process = create_process(&admin, "CNC machining", r_id(&tom).await, dept).await;
    let id = process["id"].as_i64().unwrap();
    // As the quality manager types it: with the username (a session's first signature needs it).
    let sign = |password: &str, version: i64, agree: bool| {
        json!({"record_type": "process", "record_id": id, "record_version": version, "meaning": "approved",
               "password": password, "accept_agreement": agree, "username": "quinn.manager"})
    };
    let signatures = |client: &Client| {
        let client = client.clone();
        async move {
            client.get(&format!("/api/v1/signatures?record_type=process&record_id={id}")).await.body["items"].clone()
        }
    };
    let verify = |sid: i64| {
        let admin = admin.clone();
        async move { admin.get(&format!("/api/v1/signatures/{sid}/verification")).await }
    };

    // Not authorised to approve: the owner and the administrator (who cannot sign for anyone).
    for (who, client) in [("owner", &tom), ("admin", &admin)] {
        let mut body = sign(PASSWORD, 1, true);
        body.as_object_mut().unwrap().remove("username");
        let r = client.sign(&body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.text);
    }
    // The agreement must be accepted before the first signature (11.10(j)).
    let r = qm.json("POST", "/api/v1/signatures", &sign(PASSWORD, 1, false)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field_errors"]["accept_agreement"], json!(["required"]));
    // The session's first signature needs every component: the username typed too
    // (11.200(a)(1)(i)); the session says so.
    assert_eq!(qm.get("/api/v1/session").await.body["signed_in_session"], false);
    let mut no_username = sign(PASSWORD, 1, true);
    no_username.as_object_mut().unwrap().remove("username");
    let r = qm.json("POST", "/api/v1/signatures", &no_username).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["field_errors"]["username"], json!(["required"]));
    no_username["username"] = json!("  ");
    assert_eq!(qm.json("POST", "/api/v1/signatures", &no_username).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A wrong password signs nothing (11.200(a)).
    let r = qm.json("POST", "/api/v1/signatures", &sign("not-my-password", 1, true)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.body["field_errors"]["password"], json!(["wrong_password"]));
    // Someone else's username: refused.
    let mut as_tom = sign(PASSWORD, 1, true);
    as_tom["username"] = json!("tom.okafor");
    assert_eq!(qm.json("POST", "/api/v1/signatures", &as_tom).await.status, StatusCode::FORBIDDEN);
    // A meaning this record type does not take.
    let mut authored = sign(PASSWORD, 1, true);
    authored["meaning"] = json!("authored");
    let r = qm.json("POST", "/api/v1/signatures", &authored).await;
    assert_eq!(r.body["field_errors"]["meaning"], json!(["invalid"]));
    // A forged request for a version that is not the current one: 409, nothing signed.
    let r = qm.json("POST", "/api/v1/signatures", &sign(PASSWORD, 7, true)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["current"]["version"], 1);
    assert_eq!(signatures(&qm).await, json!([]));

    // The right password, the agreement accepted: signed, bound to the hash of the version's
    // own content (not the names shown with it), as anyone can recompute from the record.
    let r = qm.json("POST", "/api/v1/signatures", &sign(PASSWORD, 1, true)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let first = r.body["id"].as_i64().unwrap();
    let current = admin.get(&format!("/api/v1/processes/{id}")).await.body;
    let shown: shared::org::Process = serde_json::from_value(current.clone()).unwrap();
    let own = shared::signature::content::process(&shown);
    assert_eq!(r.body["record_hash"], json!(shared::signature::record_hash(&own)));
    assert_ne!(r.body["record_hash"], json!(shared::signature::record_hash(&current)), "names are not hashed");
    assert_eq!((r.body["signer_name"].clone(), r.body["meaning"].clone()), (json!("Quinn Manager"), json!("approved")));
    assert_eq!(r.body["superseded"], false);
    let session = qm.get("/api/v1/session").await.body;
    assert_eq!((session["esign_agreed"].clone(), session["signed_in_session"].clone()), (json!(true), json!(true)));
    // The next signature of the session needs neither the agreement nor the username again.
    let r = qm.json("POST", "/api/v1/signatures", &no_username).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // A new session starts over: its first signature needs the username.
    let mut qm2 = Client::new(store.clone());
    qm2.sign_in("quinn.manager", PASSWORD).await;
    let r = qm2.json("POST", "/api/v1/signatures", &no_username).await;
    assert_eq!(r.body["field_errors"]["username"], json!(["required"]), "{}", r.text);

    // Re-verified: valid. Renaming the owner and the department, whose names the process shows,
    // leaves it valid (they are not the process's own content).
    let check = verify(first).await;
    assert_eq!((check.status, check.body["status"].as_str()), (StatusCode::OK, Some("valid")), "{}", check.text);
    assert_eq!((check.body["hash_scheme"].clone(), check.body["signed_content"].clone()), (json!(2), own.clone()));
    let tom_id = r_id(&tom).await;
    let user = admin.get(&format!("/api/v1/users/{tom_id}")).await.body;
    let renamed = json!({"username": user["username"], "full_name": "Tomás Okafor", "email": user["email"],
                         "roles": user["roles"], "version": user["version"]});
    let r = admin.json("PUT", &format!("/api/v1/users/{tom_id}"), &renamed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(admin.get(&format!("/api/v1/processes/{id}")).await.body["owner_name"], "Tomás Okafor");
    assert_eq!(verify(first).await.body["status"], "valid");
    assert_eq!(tom.get("/api/v1/signatures/1/verification").await.status, StatusCode::FORBIDDEN, "auditors' view");
    assert_eq!(verify(first + 100).await.status, StatusCode::NOT_FOUND);

    // An edit supersedes the signatures, visibly; each still verifies against what it signed.
    let edit = json!({"name": "CNC machining", "description": "New fixture", "owner_id": current["owner_id"],
                      "department_id": dept, "version": 1, "reason": "New fixture"});
    assert_eq!(admin.json("PUT", &format!("/api/v1/processes/{id}"), &edit).await.status, StatusCode::OK);
    let listed = signatures(&tom).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed.as_array().unwrap().iter().all(|s| s["superseded"] == true && s["record_version"] == 1));
    let check = verify(first).await.body;
    assert_eq!((check["status"].as_str(), check["current_version"].as_i64()), (Some("superseded"), Some(2)));
    assert_eq!(check["signed_content"], own, "what was signed is kept");
    // Listed for the whole record type too (the process list shows each one's approval).
    let other = create_process(&admin, "Final assembly", r_id(&tom).await, dept).await;
    let all = tom.get("/api/v1/signatures?record_type=process").await.body["items"].clone();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert!(all.as_array().unwrap().iter().all(|s| s["record_id"] == id && s["record_id"] != other["id"]));
    assert_eq!(tom.get("/api/v1/signatures?record_type=site").await.body["items"], json!([]));

    // A change behind the application's back (the record edited in place, its version kept)
    // breaks the signature of that version, named.
    let r = qm.json("POST", "/api/v1/signatures", &sign(PASSWORD, 2, false)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let latest = r.body["id"].as_i64().unwrap();
    assert_eq!(verify(latest).await.body["status"], "valid");
    db.execute(&format!("update processes set description = 'Old fixture' where process_id = {id}")).await.unwrap();
    let check = verify(latest).await.body;
    assert_eq!(check["status"], "broken", "{check}");
    assert!(check["problems"][0].as_str().unwrap().contains("without a new version"), "{check}");
    assert_eq!(verify(first).await.body["status"], "superseded", "the older one is untouched");

    // The trail records the agreement and each signature, attributed to the signer.
    let trail = admin.get(&format!("/api/v1/audit?record_type=process&record_id={id}")).await;
    let signs: Vec<_> = trail.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "sign").collect();
    assert_eq!(signs.len(), 3);
    assert_eq!(signs[0]["actor_name"], "Quinn Manager");
    assert_eq!(signs[0]["changes"]["signature_meaning"]["new"], "approved");
    let user_trail = admin.get("/api/v1/audit?record_type=user").await;
    let agreements =
        user_trail.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "accept_agreement").count();
    assert_eq!(agreements, 1);
    assert_eq!(admin.get("/api/v1/audit/verify").await.body["intact"], true);
    // Every signature, re-verified by the store as `caliper verify-signatures` does it.
    let checks = store.verify_signatures(None).await.unwrap();
    let statuses: Vec<_> = checks.iter().map(|c| (c.signature.id, c.status)).collect();
    use shared::signature::SignatureStatus::{Broken, Superseded};
    assert_eq!(statuses, vec![(first, Superseded), (first + 1, Superseded), (latest, Broken)]);
    // ...and by the command, which names the broken one and exits 2.
    let url = match &db {
        TestDb::Sqlite(_, path) => format!("sqlite://{}", path.display()),
        TestDb::Postgres(_, url) => url.clone(),
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_caliper"))
        .arg("verify-signatures")
        .env("DATABASE_URL", url)
        .env("CALIPER_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!("signature {latest} (process {id} version 2, approved by Quinn Manager)")),
        "{stdout}"
    );
    assert!(stdout.contains("without a new version"), "{stdout}");
    assert!(
        stdout.contains("3 signatures: 0 valid, 2 superseded, 0 unverifiable (hash scheme 1), 1 broken"),
        "{stdout}"
    );
}

/// The first administrator comes from the command line (`caliper create-user`), and a locked
/// administrator is rescued by `caliper reset-password`; both read the password from stdin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_the_first_admin_and_resets_a_password() {
    use std::io::Write;
    let (store, db) = TestDb::sqlite().await;
    let TestDb::Sqlite(_, path) = &db else { unreachable!() };
    let cli = |args: &[&str], stdin: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_caliper"))
            .args(args)
            .env("DATABASE_URL", format!("sqlite://{}", path.display()))
            .env("CALIPER_LOG", "warn")
            // The operator's hashing settings apply to the commands too.
            .env("CALIPER_ARGON2_MEMORY_KIB", "9216")
            .env("CALIPER_ARGON2_ITERATIONS", "2")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let create = [
        "create-user",
        "--username",
        "Dana.Whitfield",
        "--full-name",
        "Dana Whitfield",
        "--email",
        "dana@example.com",
        "--role",
        "admin",
        "--role",
        "quality_manager",
    ];
    // The policy applies on the command line too.
    let weak = cli(&create, "password1234\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too common"), "{weak:?}");
    let made = cli(&create, "Harbour-Lantern-41\n");
    assert!(made.status.success(), "{made:?}");
    let mut dana = Client::new(store.clone());
    let r = dana.sign_in("dana.whitfield", "Harbour-Lantern-41").await;
    assert_eq!((r.status, r.body["user"]["roles"].clone()), (StatusCode::OK, json!(["admin", "quality_manager"])));
    assert_eq!(r.body["must_change_password"], false);
    let hashed = |store: &Arc<dyn Store>| {
        let store = store.clone();
        async move { store.credentials("dana.whitfield").await.unwrap().unwrap().password_hash }
    };
    let hash = hashed(&store).await;
    assert!(hash.starts_with("$argon2id$v=19$m=9216,t=2,p=1$"), "{hash}");
    // The username is never reused.
    assert!(!cli(&create, "Another-Pass-2026\n").status.success());

    // Locked out, then rescued from the command line.
    for _ in 0..5 {
        Client::new(store.clone()).sign_in("dana.whitfield", "wrong-password-0").await;
    }
    assert_eq!(
        Client::new(store.clone()).sign_in("dana.whitfield", "Harbour-Lantern-41").await.status,
        StatusCode::UNAUTHORIZED,
        "locked: even the right password is refused, as any failure is"
    );
    let reset = cli(&["reset-password", "--username", "dana.whitfield"], "Quay-Lantern-2027\n");
    assert!(reset.status.success(), "{reset:?}");
    let hash = hashed(&store).await;
    assert!(hash.starts_with("$argon2id$v=19$m=9216,t=2,p=1$"), "{hash}");
    // The reset ended the session that had the old password.
    assert_eq!(dana.get("/api/v1/session").await.status, StatusCode::UNAUTHORIZED);
    let r = dana.sign_in("dana.whitfield", "Quay-Lantern-2027").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let trail = dana.get("/api/v1/audit?record_type=user").await;
    let by_tool = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"]["user_agent"] == "caliper reset-password")
        .count();
    assert_eq!(by_tool, 1);
}

/// Live updates: a signed-in page hears of every change made through the API, as it commits;
/// user records only if it manages users; nothing without a session.
async fn changes_are_streamed_to_open_pages(store: Arc<dyn Store>, _db: TestDb) {
    let admin = Client::admin(store.clone()).await;
    let dept = department(&admin).await;
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    assert_eq!(Client::new(store.clone()).stream("/api/v1/events").await.0, StatusCode::UNAUTHORIZED);
    let (status, mut body) = staff.stream("/api/v1/events").await;
    assert_eq!(status, StatusCode::OK);
    let wait = std::time::Duration::from_secs(5);
    // Give the feed a moment to find the trail's head, then change things.
    tokio::time::sleep(server::routes::events::POLL * 2).await;
    let created = create_process(&admin, "Heat treatment", r_id(&admin).await, dept).await;
    create_user(&store, "new.starter", &[Role::Staff]).await;
    let r =
        admin.json("POST", &format!("/api/v1/departments/{dept}/retire"), &json!({"reason": "x", "version": 1})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the department still runs a process: no change, no event");
    let text = Client::next_text(&mut body, wait).await.expect("an event for the new process");
    assert!(text.contains("event: change"), "{text}");
    let data: Value = serde_json::from_str(text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(
        (data["record_type"].clone(), data["record_id"].clone(), data["action"].clone(), data["actor_name"].clone()),
        (json!("process"), created["id"].clone(), json!("create"), json!("Ada Admin"))
    );
    // The new user is not staff's business: nothing more arrives.
    assert_eq!(
        Client::next_text(&mut body, std::time::Duration::from_millis(800)).await.filter(|t| t.contains("change")),
        None
    );
}

/// Security review, finding 8: a stream hears only about records its user may read (not an
/// API token issued to someone else, not a user record without the right to manage users);
/// a change of the user's roles applies to the open stream at once, and revoking the session
/// closes the stream at once (not at the next periodic check).
async fn streams_hear_only_what_their_user_may_read(store: Arc<dyn Store>, _db: TestDb) {
    let admin = Client::admin(store.clone()).await;
    let admin_id = r_id(&admin).await;
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let lee_id = staff.get("/api/v1/session").await.body["user"]["id"].as_i64().unwrap();
    let (status, mut body) = staff.stream("/api/v1/events").await;
    assert_eq!(status, StatusCode::OK);
    let wait = std::time::Duration::from_secs(5);
    tokio::time::sleep(server::routes::events::POLL * 2).await;
    let next_change = |body: &mut Body| {
        let body = std::mem::replace(body, Body::empty());
        async move {
            let mut body = body;
            let mut found = None;
            while let Some(text) = Client::next_text(&mut body, wait).await {
                if let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
                    found = serde_json::from_str::<Value>(data).ok();
                    break;
                }
            }
            (body, found)
        }
    };
    // An API token for the administrator, then a department: staff hear the department only.
    let r = admin.json("POST", &format!("/api/v1/users/{admin_id}/tokens"), &json!({"name": "MES"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let dept = department(&admin).await;
    let (b, seen) = next_change(&mut body).await;
    body = b;
    let seen = seen.expect("an event");
    assert_eq!((seen["record_type"].clone(), seen["record_id"].clone()), (json!("department"), json!(dept)), "{seen}");

    // Lee becomes an administrator too: the open stream now hears of users.
    let user = admin.get(&format!("/api/v1/users/{lee_id}")).await.body;
    let input = json!({"username": "lee.chen", "full_name": user["full_name"], "email": user["email"],
                       "roles": ["staff", "admin"], "version": user["version"]});
    assert_eq!(admin.json("PUT", &format!("/api/v1/users/{lee_id}"), &input).await.status, StatusCode::OK);
    let starter = create_user(&store, "new.starter", &[Role::Staff]).await;
    let mut heard_starter = false;
    for _ in 0..5 {
        let (b, seen) = next_change(&mut body).await;
        body = b;
        let Some(seen) = seen else { break };
        if seen["record_type"] == "user" && seen["record_id"] == json!(starter.0) {
            heard_starter = true;
            break;
        }
    }
    assert!(heard_starter, "the new role applies to the open stream");

    // The session is revoked: the stream closes at once.
    let sessions = admin.get("/api/v1/sessions").await.body;
    let lee_session =
        sessions["items"].as_array().unwrap().iter().find(|s| s["user_id"] == lee_id).unwrap()["id"].as_i64().unwrap();
    let revoked = std::time::Instant::now();
    let r = admin.raw("POST", &format!("/api/v1/sessions/{lee_session}/revoke"), "application/json", "{}").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let ended = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), http_body_util::BodyExt::frame(&mut body)).await
        {
            Ok(None) => break true,
            Ok(Some(_)) => continue,
            Err(_) => break false,
        }
    };
    assert!(ended && revoked.elapsed() < std::time::Duration::from_secs(5), "closed after {:?}", revoked.elapsed());
}

/// Security review, finding 4: an open page's own reloads (the app says how long ago the person
/// last acted) and its live-events stream do not extend the session; a person's action does.
async fn only_a_persons_action_extends_the_session(store: Arc<dyn Store>, db: TestDb) {
    let staff = Client::as_new_user(store.clone(), "lee.chen", &[Role::Staff]).await;
    let at = |minutes: i64| (chrono::Utc::now() - chrono::Duration::minutes(minutes)).format("%Y-%m-%dT%H:%M:%S+00:00");
    let who = "user_id = (select user_id from users where username = 'lee.chen') and ended_at is null";
    db.execute(&format!("update sessions set last_seen_at = '{}' where {who}", at(14))).await.unwrap();
    // Whether the session still counts as last seen 13+ minutes ago (an update that changes nothing).
    let untouched = || {
        let sql = format!("update sessions set user_agent = user_agent where {who} and last_seen_at < '{}'", at(13));
        let db = &db;
        async move { db.execute(&sql).await.unwrap() == 1 }
    };
    let (status, _stream) = staff.stream("/api/v1/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(untouched().await, "opening the live-events stream is no action");
    let reload = Request::get("/api/v1/processes").header("x-caliper-idle", "840").body(Body::empty()).unwrap();
    assert_eq!(staff.send(reload).await.status, StatusCode::OK, "still inside the 15 minutes");
    assert!(untouched().await, "a reload 14 minutes after the last action does not extend the session");
    let acted = Request::get("/api/v1/processes").header("x-caliper-idle", "2").body(Body::empty()).unwrap();
    assert_eq!(staff.send(acted).await.status, StatusCode::OK);
    assert!(!untouched().await, "a person's action does");
}

/// The failed sign-ins once at least `entries` of them are written: a burst's entry is written
/// when the burst is over (a second, in tests), by a task of the server.
async fn written_bursts(admin: &Client, entries: usize) -> common::Reply {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let failed = admin.get("/api/v1/security/failed-sign-ins").await;
        if failed.body["items"].as_array().is_some_and(|i| i.len() >= entries) || std::time::Instant::now() > deadline {
            return failed;
        }
    }
}

/// Security review, finding 1: sign-ins are rate limited per username and per client address
/// (429 with Retry-After, before any password is hashed), and a flood of failures costs the
/// trail one entry per burst and account, with how many and why.
async fn sign_ins_are_rate_limited(store: Arc<dyn Store>, _db: TestDb) {
    create_user(&store, "tom.okafor", &[Role::ProcessOwner]).await;
    let admin = Client::admin(store.clone()).await;
    let mut probe = Client::new(store.clone());
    // Ten a minute for one username (the default): the eleventh is refused, right password or not.
    for _ in 0..10 {
        assert_eq!(probe.sign_in("tom.okafor", "wrong-password-1").await.status, StatusCode::UNAUTHORIZED);
    }
    let r = probe.sign_in("tom.okafor", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let retry: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(message(&r).starts_with("Too many sign-in attempts"), "{}", r.text);
    // Thirty a minute from one address: other usernames go on until then (the eleven above
    // count), then every attempt is refused.
    let mut attempts = 11;
    let refused_at = loop {
        let r = probe.sign_in(&format!("nobody{attempts}"), "whatever-password").await;
        attempts += 1;
        if r.status == StatusCode::TOO_MANY_REQUESTS || attempts > 45 {
            break attempts;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    };
    assert!((31..=35).contains(&refused_at), "the address limit took {refused_at} attempts");
    // The trail: the first failure on tom's account and the first on unknown names get their
    // own entries; the rest are two entries with their counts.
    let failed = written_bursts(&admin, 4).await;
    let items = failed.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 4, "{}", failed.text);
    assert_eq!(items.iter().map(|f| f["attempts"].as_u64().unwrap()).sum::<u64>(), refused_at, "{}", failed.text);
    assert!(
        items.iter().any(|f| f["reason"].as_str().unwrap().ends_with("1 too many attempts (rate limit)")
            || f["reason"] == "too many attempts (rate limit)"),
        "{}",
        failed.text
    );
}

on_both_backends!(
    sign_ins_are_rate_limited,
    only_a_persons_action_extends_the_session,
    streams_hear_only_what_their_user_may_read,
    changes_are_streamed_to_open_pages,
    every_endpoint_for_every_role,
    every_documented_operation_has_an_access_rule,
    sign_in_lockout_and_password_rules,
    sessions_time_out_end_and_need_csrf,
    record_rules_and_role_escalation,
    the_last_administrator_holds_under_concurrency,
    signatures_bind_a_record_version,
);
