//! Operating Caliper (issue 19), with the real binary: a stop with live pages open, backup and
//! restore, and crash safety under write load (the last two on both databases).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestDb;
use common::process::{Server, caliper, request, request_with, sign_in};
use server::storage::{AuditContext, Store};
use shared::auth::Role;
use shared::org::DepartmentInput;

async fn departments(store: &Arc<dyn Store>, names: &[&str]) {
    for name in names {
        let input = DepartmentInput { name: (*name).into(), ..Default::default() };
        store.create_department(&AuditContext::tool("test"), &input).await.unwrap();
    }
}

fn manifest(file: &std::path::Path) -> server::backup::Manifest {
    let text = std::fs::read_to_string(server::backup::manifest_path(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ok(out: &std::process::Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

fn refused(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected a refusal: {}", String::from_utf8_lossy(&out.stdout));
    text
}

#[tokio::test]
async fn backup_and_restore_round_trip_on_sqlite() {
    let (store, db) = TestDb::sqlite().await;
    round_trip(store, db).await;
}

#[tokio::test]
async fn backup_and_restore_round_trip_on_postgres() {
    let (store, db) = TestDb::postgres().await;
    round_trip(store, db).await;
}

/// Backed up, restored onto a fresh database (the same chain head and counts), refused over
/// a database that holds one unless forced, and refused when the chain is damaged.
async fn round_trip(store: Arc<dyn Store>, db: TestDb) {
    common::create_user(&store, "priya.natarajan", &[Role::QualityManager]).await;
    departments(&store, &["Assembly", "Machining", "Quality"]).await;
    let dir = std::env::temp_dir().join(format!("caliper-backup-{}", uuid::Uuid::new_v4().simple()));
    let file = dir.join("first.backup");
    let said = ok(&caliper(&db.url(), &["backup", "--to", file.to_str().unwrap()]));
    let first = manifest(&file);
    let live = store.verify_audit().await.unwrap();
    assert_eq!(first.audit_head_hash, live.head_hash, "{said}");
    assert_eq!(first.audit_entries, 4, "a user and three departments");
    assert_eq!(first.counts["departments"], 3);
    assert_eq!(first.counts["users"], 1);
    assert_eq!(first.backend, store.backend());
    assert!(first.schema_version >= 20_261_125_000_001 && first.migrations > 20, "{first:?}");
    assert!(said.contains(live.head_hash.as_deref().unwrap()), "{said}");

    // Onto a fresh database: the chain verifies and ends on the manifest's head.
    let target = db.fresh_url().await;
    ok(&caliper(&target, &["restore", "--from", file.to_str().unwrap()]));
    let verified = ok(&caliper(&target, &["verify-audit"]));
    assert!(verified.contains(first.audit_head_hash.as_deref().unwrap()), "{verified}");
    let restored =
        server::storage::connect(&target.parse().unwrap(), &Default::default()).await.expect("open the restored");
    assert_eq!(restored.list_departments(false).await.unwrap().len(), 3);

    // Over a database that holds one: refused without --force, nothing changed.
    departments(&store, &["Shipping"]).await;
    let second = dir.join("second.backup");
    ok(&caliper(&db.url(), &["backup", "--to", second.to_str().unwrap()]));
    let said = refused(&caliper(&target, &["restore", "--from", second.to_str().unwrap()]));
    assert!(said.contains("--force"), "{said}");
    assert_eq!(restored.list_departments(false).await.unwrap().len(), 3);
    drop(restored);
    ok(&caliper(&target, &["restore", "--from", second.to_str().unwrap(), "--force"]));
    let restored = server::storage::connect(&target.parse().unwrap(), &Default::default()).await.unwrap();
    assert_eq!(restored.list_departments(false).await.unwrap().len(), 4);
    assert_eq!(restored.verify_audit().await.unwrap().head_hash, manifest(&second).audit_head_hash);

    // A copy that is not the file its manifest describes is refused.
    let mut bytes = std::fs::read(&second).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&second, bytes).unwrap();
    let said = refused(&caliper(&db.fresh_url().await, &["restore", "--from", second.to_str().unwrap()]));
    assert!(said.contains("not the file its manifest describes"), "{said}");

    // A damaged chain is refused, naming the entry, and leaves no backup behind.
    match &db {
        TestDb::Sqlite(..) => db.execute("drop trigger audit_entries_no_update").await.unwrap(),
        TestDb::Postgres(..) => {
            db.execute("alter table audit_entries disable trigger audit_entries_no_update").await.unwrap()
        }
    };
    db.execute("update audit_entries set actor_name = 'Nobody' where seq = 3").await.unwrap();
    let third = dir.join("third.backup");
    let said = refused(&caliper(&db.url(), &["backup", "--to", third.to_str().unwrap()]));
    assert!(said.contains("broken at entry 3"), "{said}");
    assert!(!third.exists() && !server::backup::manifest_path(&third).exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kills_on_sqlite() {
    let (store, db) = TestDb::sqlite().await;
    crash_test(store, db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kills_on_postgres() {
    let (store, db) = TestDb::postgres().await;
    crash_test(store, db).await;
}

/// How many times the crash test kills the server (`CALIPER_CRASH_KILLS`; 5 in the test
/// command, 20 or more in `cargo xtask bench ops`).
fn kills() -> usize {
    std::env::var("CALIPER_CRASH_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(5)
}

/// Eight clients make audited writes (departments) while the server is killed with SIGKILL at
/// a random moment; after each kill the database opens, `verify-audit` passes, every write
/// that got a 2xx is there, and no write is half there (a row without its audit entry, or an
/// entry without its row).
async fn crash_test(store: Arc<dyn Store>, db: TestDb) {
    common::create_user(&store, "alex.morgan", &[Role::Admin]).await;
    let url = db.url();
    let mut session = None;
    let mut acknowledged: BTreeMap<String, i64> = BTreeMap::new();
    let mut unanswered = 0;
    for round in 0..kills() {
        let mut server = Server::start(&url);
        let session = session.get_or_insert_with(|| sign_in(&server.addr, "alex.morgan", common::PASSWORD)).clone();
        let acked = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let clients: Vec<_> = (0..8)
            .map(|client| {
                let (addr, session, acked, errors) =
                    (server.addr.clone(), session.clone(), acked.clone(), errors.clone());
                std::thread::spawn(move || {
                    for n in 0.. {
                        let name = format!("Crash {round}-{client}-{n}");
                        let body = serde_json::json!({"name": name}).to_string();
                        match request(&addr, "POST", "/api/v1/departments", Some(&session), Some(&body)) {
                            Ok(a) if a.status == 201 => {
                                acked.lock().unwrap().push((name, a.json()["id"].as_i64().unwrap()))
                            }
                            Ok(a) => errors.lock().unwrap().push(format!("{name}: {} {}", a.status, a.body)),
                            // Killed: the request was cut off, acknowledged or not.
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        let wait = 100 + (uuid::Uuid::new_v4().as_u128() % 600) as u64;
        std::thread::sleep(Duration::from_millis(wait));
        server.kill();
        for client in clients {
            client.join().unwrap();
        }
        let errors = std::mem::take(&mut *errors.lock().unwrap());
        assert!(
            errors.is_empty(),
            "round {round}: {} answers other than 201, the first: {:?}",
            errors.len(),
            &errors[..errors.len().min(3)]
        );
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        assert!(!acked.is_empty(), "round {round}: no write was acknowledged in {wait} ms");
        acknowledged.extend(acked);

        let verified = caliper(&url, &["verify-audit"]);
        assert!(verified.status.success(), "round {round}: {}", String::from_utf8_lossy(&verified.stdout));
        let reopened = server::storage::connect(&url.parse().unwrap(), &Default::default()).await.unwrap();
        let there: BTreeMap<String, i64> =
            reopened.list_departments(true).await.unwrap().into_iter().map(|d| (d.name, d.id.0)).collect();
        for (name, id) in &acknowledged {
            assert_eq!(there.get(name), Some(id), "round {round}: acknowledged write {name} lost");
        }
        let audited: std::collections::BTreeSet<i64> = reopened
            .list_audit(&server::storage::AuditFilter {
                record_type: Some("department".into()),
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.record_id)
            .collect();
        let rows: std::collections::BTreeSet<i64> = there.values().copied().collect();
        assert_eq!(rows, audited, "round {round}: every department has its audit entry and no entry lacks its row");
        // Writes committed whose answer the kill cut off: there, though never acknowledged.
        unanswered = there.len() - acknowledged.len();
    }
    println!(
        "crash test on {}: {} kills, {} acknowledged writes, all present; {unanswered} more committed but cut off before their answer; chain intact",
        store.backend(),
        kills(),
        acknowledged.len()
    );
}

/// Raw HTTP/1.1 over `stream`: the request, then the status line and headers (the body, if any,
/// stays in the stream).
fn send_raw(stream: &mut std::net::TcpStream, request: &str) -> String {
    use std::io::{Read as _, Write as _};
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).to_string()
}

/// A stop with live pages open (issue 19): SIGTERM ends every event stream at once with a
/// `retry:` hint, and the real server exits in seconds instead of waiting for the browsers to
/// leave.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_the_open_event_streams_and_exits() {
    use std::io::Read as _;
    use std::time::{Duration, Instant};
    let (store, db) = TestDb::sqlite().await;
    common::create_user(&store, "lee.chen", &[Role::Staff]).await;
    let mut server = Server::start(&db.url());
    let addr = server.addr.clone();
    let cookie = sign_in(&addr, "lee.chen", common::PASSWORD).cookie;

    // Twenty open pages, each holding its stream.
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let head = send_raw(&mut s, &format!("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"), "{head}");
        streams.push(s);
    }
    let stopped = Instant::now();
    let killed = std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let exit = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > Duration::from_secs(15) {
            server.kill();
            panic!("still running 15 s after SIGTERM with open streams");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = stopped.elapsed();
    assert!(exit.success(), "{exit:?}");
    assert!(took < Duration::from_secs(5), "exited {took:?} after SIGTERM");
    // Each stream got the hint to connect again, then its end.
    for mut s in streams {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut rest = String::new();
        let _ = s.read_to_string(&mut rest);
        assert!(rest.contains("retry: 1000"), "{rest:?}");
    }
}

/// `/metrics`: off unless configured; then only with the token or from an allowed address; it
/// counts requests by route pattern (never the raw path), sign-in failures, open streams, pool
/// use and the audit head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_operators_only_and_count_by_route() {
    let (store, db) = TestDb::sqlite().await;
    common::create_user(&store, "lee.chen", &[Role::Staff]).await;
    let off = Server::start(&db.url());
    assert_eq!(request(&off.addr, "GET", "/metrics", None, None).unwrap().status, 404);
    drop(off);

    let server =
        Server::start_with(&db.url(), &["--metrics-token", "a-long-metrics-token", "--metrics-allow", "10.9.8.7"]);
    let scrape = |auth: &str| request_with(&server.addr, "GET", "/metrics", None, None, &[auth]).unwrap();
    assert_eq!(scrape("Authorization: Bearer wrong-token").status, 403, "a wrong token");
    assert_eq!(request(&server.addr, "GET", "/metrics", None, None).unwrap().status, 403, "127.0.0.1 is not allowed");

    let session = sign_in(&server.addr, "lee.chen", common::PASSWORD);
    let wrong = serde_json::json!({"username": "lee.chen", "password": "not the password"}).to_string();
    assert_eq!(request(&server.addr, "POST", "/api/v1/session", None, Some(&wrong)).unwrap().status, 401);
    for id in [1, 2, 3] {
        request(&server.addr, "GET", &format!("/api/v1/sites/{id}"), Some(&session), None).unwrap();
    }
    let answer = scrape("Authorization: Bearer a-long-metrics-token");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let text = answer.body;
    assert!(
        text.contains(r#"caliper_http_requests_total{method="GET",route="/api/v1/sites/{id}",status="404"} 3"#),
        "{text}"
    );
    assert!(!text.contains("/api/v1/sites/1"), "raw paths are not labels");
    assert!(
        text.contains(r#"caliper_http_request_duration_seconds_bucket{method="POST",route="/api/v1/session",le="#),
        "{text}"
    );
    assert!(text.contains(r#"caliper_sign_in_failures_total{reason="wrong password"} 1"#), "{text}");
    assert!(text.contains("caliper_event_streams_open 0"), "{text}");
    assert!(text.contains(r#"caliper_db_connections{state="max"} 16"#), "{text}");
    let head = store.audit_head().await.unwrap();
    assert!(text.contains(&format!("caliper_audit_head {head}")), "head {head}: {text}");
}

#[tokio::test]
async fn checkpoints_notice_a_truncated_trail_on_sqlite() {
    let (store, db) = TestDb::sqlite().await;
    truncation_is_caught(store, db).await;
}

#[tokio::test]
async fn checkpoints_notice_a_truncated_trail_on_postgres() {
    let (store, db) = TestDb::postgres().await;
    truncation_is_caught(store, db).await;
}

/// Finding 12 of the security review: deleting the newest entries leaves a shorter chain that
/// still verifies. A checkpoint written outside the database catches it, naming the entry.
async fn truncation_is_caught(store: Arc<dyn Store>, db: TestDb) {
    departments(&store, &["Assembly", "Machining", "Quality", "Shipping"]).await;
    let file = std::env::temp_dir().join(format!("caliper-checkpoints-{}", uuid::Uuid::new_v4().simple()));
    let file_arg = file.to_str().unwrap();
    let said = ok(&caliper(&db.url(), &["checkpoint", "--file", file_arg]));
    let head = store.verify_audit().await.unwrap().head_hash.unwrap();
    assert_eq!(said.trim(), format!("4:{head}"));
    assert!(std::fs::read_to_string(&file).unwrap().trim_end().ends_with(&format!(" 4:{head}")));
    let said = ok(&caliper(&db.url(), &["verify-audit", "--checkpoints", file_arg]));
    assert!(said.contains("1 checkpoints found in it"), "{said}");
    ok(&caliper(&db.url(), &["verify-audit", "--expect-head", &format!("4:{head}")]));
    let bad = caliper(&db.url(), &["verify-audit", "--expect-head", "four:abc"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("not an entry position"));

    // Someone with database access removes the guard and the newest two entries.
    match &db {
        TestDb::Sqlite(..) => db.execute("drop trigger audit_entries_no_delete").await.unwrap(),
        TestDb::Postgres(..) => {
            db.execute("alter table audit_entries disable trigger audit_entries_no_update").await.unwrap()
        }
    };
    db.execute("delete from audit_entries where seq >= 3").await.unwrap();
    let unanchored = caliper(&db.url(), &["verify-audit"]);
    assert!(unanchored.status.success(), "without a checkpoint the shorter chain still verifies");
    let caught = caliper(&db.url(), &["verify-audit", "--checkpoints", file_arg]);
    assert_eq!(caught.status.code(), Some(2));
    let said = String::from_utf8_lossy(&caught.stdout);
    assert!(
        said.contains(&format!("checkpoint 4:{head}")) && said.contains("entry 4 is gone: the trail was truncated"),
        "{said}"
    );
    let _ = std::fs::remove_file(file);
}
