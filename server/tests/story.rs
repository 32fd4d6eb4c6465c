//! The storage conformance story: one narrative of what the organisation records must do,
//! run unchanged on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;

use common::TestDb;
use server::storage::{AuditContext, AuditFilter, Change, Store, StoreError};
use shared::audit::AuditAction;
use shared::auth::{Role, UserId};
use shared::org::{DepartmentInput, ProcessInput, SiteInput};

fn process(name: &str, department: shared::org::DepartmentId, owner: UserId) -> ProcessInput {
    ProcessInput {
        name: name.into(),
        description: "Turns bar stock into shafts".into(),
        owner_id: Some(owner),
        department_id: Some(department),
        version: None,
        reason: "Story test".into(),
    }
}

/// A process owner (the first audit entry of a test that uses one).
async fn owner(store: &Arc<dyn Store>) -> UserId {
    common::create_user(store, "tom.okafor", &[Role::ProcessOwner]).await
}

fn ctx() -> AuditContext {
    AuditContext::tool("story test")
}

fn field_code(err: StoreError, field: &str) -> String {
    match err {
        StoreError::Invalid(e) => e.get(field).unwrap_or_else(|| panic!("no error on {field}: {e:?}"))[0].clone(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn organisation_records_story(store: Arc<dyn Store>, db: TestDb) {
    let owner = owner(&store).await;
    // Migrations are forward-only and idempotent.
    store.migrate().await.unwrap();

    // Create a site, a department at it, and a process run by the department.
    let site = store
        .create_site(&ctx(), &SiteInput { code: "HQ".into(), name: "Headquarters".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(site.meta.version, 1);
    let dept = store
        .create_department(&ctx(), &DepartmentInput { name: "Machining".into(), site_id: Some(site.id), version: None })
        .await
        .unwrap();
    assert_eq!(dept.site_name.as_deref(), Some("Headquarters"));
    let p = store.create_process(&ctx(), &process("CNC machining", dept.id, owner)).await.unwrap();
    assert_eq!((p.meta.version, p.department_name.as_str()), (1, "Machining"));
    assert_eq!(store.get_process(p.id).await.unwrap().unwrap(), p);

    // An update based on the current version succeeds and bumps the version.
    let edited = ProcessInput { description: "Turning and milling".into(), ..process("CNC machining", dept.id, owner) };
    let Change::Done(v2) = store.update_process(&ctx(), p.id, 1, &edited).await.unwrap() else {
        panic!("update failed")
    };
    assert_eq!((v2.meta.version, v2.description.as_str()), (2, "Turning and milling"));
    assert!(v2.meta.updated_at >= p.meta.updated_at);

    // An update based on an old version is refused and returns the record as it is now.
    let late = ProcessInput { description: "Overwrites nothing".into(), ..process("CNC machining", dept.id, owner) };
    match store.update_process(&ctx(), p.id, 1, &late).await.unwrap() {
        Change::Stale(current) => assert_eq!(current, v2),
        other => panic!("expected a stale update, got {other:?}"),
    }
    assert!(matches!(
        store.update_process(&ctx(), shared::org::ProcessId(999_999), 1, &late).await.unwrap(),
        Change::NotFound
    ));

    // Names are unique among active records, ignoring case.
    let dup = store.create_process(&ctx(), &process("cnc MACHINING", dept.id, owner)).await.unwrap_err();
    assert_eq!(field_code(dup, "name"), "taken");
    let dup_site = store
        .create_site(&ctx(), &SiteInput { code: "HQ".into(), name: "Other".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(field_code(dup_site, "code"), "taken");

    // A process needs a real, active department.
    let ghost = store
        .create_process(&ctx(), &process("Painting", shared::org::DepartmentId(424_242), owner))
        .await
        .unwrap_err();
    assert_eq!(field_code(ghost, "department_id"), "not_found");

    // A department that still runs an active process cannot be retired.
    match store.retire_department(&ctx(), dept.id, dept.meta.version, "merged").await {
        Err(StoreError::InUse(msg)) => assert!(msg.contains("1 active process"), "{msg}"),
        other => panic!("expected in-use refusal, got {other:?}"),
    }

    // Retire the process: it stays readable, leaves the default list, and takes no changes.
    let Change::Done(retired) = store.retire_process(&ctx(), p.id, 2, "Moved to supplier").await.unwrap() else {
        panic!("retire failed")
    };
    assert_eq!(retired.meta.version, 3);
    assert_eq!(retired.meta.retired_reason.as_deref(), Some("Moved to supplier"));
    assert!(retired.meta.retired_at.is_some());
    assert!(store.list_processes(false).await.unwrap().is_empty());
    assert_eq!(store.list_processes(true).await.unwrap(), vec![retired.clone()]);
    assert!(matches!(store.update_process(&ctx(), p.id, 3, &edited).await.unwrap(), Change::Retired(_)));
    assert!(matches!(store.retire_process(&ctx(), p.id, 3, "again").await.unwrap(), Change::Retired(_)));

    // Its name is free again for a new, active process.
    let again = store.create_process(&ctx(), &process("CNC machining", dept.id, owner)).await.unwrap();
    assert_ne!(again.id, p.id);
    let Change::Done(_) = store.retire_process(&ctx(), again.id, 1, "test").await.unwrap() else { panic!() };

    // Now the department can be retired, and then it cannot take new processes.
    let Change::Done(dept_retired) =
        store.retire_department(&ctx(), dept.id, 1, "merged into Production").await.unwrap()
    else {
        panic!("department retire failed")
    };
    let refused = store.create_process(&ctx(), &process("Grinding", dept_retired.id, owner)).await.unwrap_err();
    assert_eq!(field_code(refused, "department_id"), "retired");

    // Nothing is ever hard-deleted: the database itself refuses.
    for table in ["processes", "departments", "sites"] {
        let err = db.execute(&format!("delete from {table}")).await.unwrap_err();
        assert!(err.to_string().contains("never deleted"), "{table}: {err}");
    }
    assert_eq!(store.list_processes(true).await.unwrap().len(), 2);
}

async fn concurrent_saves_of_one_row_let_exactly_one_win(store: Arc<dyn Store>, _db: TestDb) {
    let owner = owner(&store).await;
    let dept = store
        .create_department(&ctx(), &DepartmentInput { name: "Assembly".into(), ..Default::default() })
        .await
        .unwrap();
    let p = store.create_process(&ctx(), &process("Final assembly", dept.id, owner)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let input = ProcessInput { description: format!("Editor {i}"), ..process("Final assembly", dept.id, owner) };
        tasks.push(tokio::spawn(async move { store.update_process(&ctx(), p.id, 1, &input).await.unwrap() }));
    }
    let mut done = Vec::new();
    let mut stale = 0;
    for t in tasks {
        match t.await.unwrap() {
            Change::Done(r) => done.push(r),
            Change::Stale(r) => {
                assert_eq!(r.meta.version, 2);
                stale += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((done.len(), stale), (1, 7));
    let now = store.get_process(p.id).await.unwrap().unwrap();
    assert_eq!(now, done[0], "the stored record is the winner's, not a mix");
}

async fn demo_seed_is_idempotent(store: Arc<dyn Store>, _db: TestDb) {
    let first = server::seed::seed_demo(store.as_ref(), &server::auth::AuthConfig::for_tests()).await.unwrap();
    assert!(first.created >= 20, "{first:?}");
    assert_eq!(first.existing, 0);
    let second = server::seed::seed_demo(store.as_ref(), &server::auth::AuthConfig::for_tests()).await.unwrap();
    assert_eq!((second.created, second.existing), (0, first.created));
    // Three quality objectives, judged by their KPIs' demo trends as the API judges them.
    let mut objectives = store.list_objectives(false).await.unwrap();
    let today = chrono::Utc::now().date_naive();
    server::routes::dashboard::objectives::judge_objectives(store.as_ref(), None, &mut objectives, today)
        .await
        .unwrap();
    let mut statuses: Vec<&str> = objectives.iter().map(|o| o.status.as_str()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["achieved", "at_risk", "on_track"], "{objectives:?}");
    assert_eq!(store.list_processes(false).await.unwrap().len(), 12);
    // Documents: most in force, one revision in review, one approved for later, one draft, one
    // obsolete; a second run adds none.
    let documents = store.list_documents(true).await.unwrap();
    assert_eq!(documents.len(), 30);
    assert_eq!(documents.iter().filter(|d| d.meta.retired_at.is_some()).count(), 1);
    assert_eq!(documents.iter().filter(|d| d.in_force.is_some()).count(), 29, "all but the draft-only one");
    let sop = documents.iter().find(|d| d.title == "Control of documents and records").unwrap();
    assert_eq!(sop.in_force.as_deref(), Some("B"));
    let revisions = store.list_revisions(sop.id).await.unwrap();
    let states: Vec<_> = revisions.iter().map(|r| r.status).collect();
    use shared::document::RevisionStatus as S;
    assert_eq!(states, vec![S::InReview, S::Effective, S::Superseded]);
    // Training: the matrix shows every status but "not required" somewhere, from the demo's
    // history and today's assignments.
    let matrix = store.matrix(chrono::Utc::now().date_naive()).await.unwrap();
    assert_eq!(matrix.requirements.len(), 7);
    for status in shared::training::CellStatus::ALL {
        assert!(matrix.cells.contains(status.code()), "no demo cell {status:?}: {}", matrix.cells);
    }
    // One demo user per role at least, and every demo process has a real owner.
    let users = store.list_users(false).await.unwrap();
    for role in shared::auth::Role::ALL {
        assert!(users.iter().any(|u| u.roles.contains(&role)), "no demo {role:?}");
    }
    assert!(store.list_processes(false).await.unwrap().iter().all(|p| p.owner_id.is_some()));
    // Most owner assignments are approved by the quality manager's signature; three await it.
    let approvals = store.list_signatures("process", None).await.unwrap();
    assert_eq!(approvals.len(), 9, "the second run signs nothing again");
    assert!(approvals.iter().all(|s| s.signer_name == "Priya Natarajan" && !s.superseded));
    // The risk register: two approved matrices, 60 risks, three accepted by signature.
    let revisions = store.list_matrix_revisions().await.unwrap();
    assert_eq!(revisions.len(), 2);
    assert!(revisions.iter().all(|r| r.status == shared::register::RevisionStatus::Effective));
    let today = chrono::Utc::now().date_naive();
    let all = server::storage::RiskFilter { include_closed: true, limit: 500, ..Default::default() };
    let risks = store.list_risks(&all, today).await.unwrap();
    assert_eq!(risks.total, 60);
    assert!(risks.items.iter().filter(|r| r.overdue).count() >= 5, "some reviews are overdue");
    let accepted: Vec<_> = risks.items.iter().filter(|r| r.status == shared::register::RiskStatus::Accepted).collect();
    assert_eq!(accepted.len(), 3);
    assert!(accepted.iter().all(|r| r.residual.zone == shared::risk::Zone::Unacceptable));
    // The demo PFMEA's failure chains cited by risks show those risks; the risks name them.
    let fmeas = store.list_fmeas().await.unwrap();
    assert_eq!(fmeas.len(), 2);
    let pf = fmeas.iter().find(|f| f.fmea_number == "PF-GB200").unwrap();
    assert_eq!(pf.rows, 40);
    let sheet = store.worksheet(pf.id, None).await.unwrap().unwrap();
    let cited: Vec<_> = sheet.rows.iter().filter(|r| !r.risks.is_empty()).collect();
    assert_eq!(cited.len(), 4);
    let bolt = cited.iter().find(|r| r.cells.failure_mode == "Under-torqued bolt").unwrap();
    let risk = store.get_risk(shared::register::RiskId(bolt.risks[0].id)).await.unwrap().unwrap();
    assert_eq!(risk.title, "Bolt torque not reached on cover");
    let label = &risk.controls[0]
        .evidence
        .iter()
        .find(|e| e.record_type == shared::register::EvidenceType::FmeaRow)
        .unwrap()
        .label;
    assert_eq!(label, &format!("PF-GB200 row {}: Under-torqued bolt", bolt.position));
    let acceptances = store.list_signatures("risk", None).await.unwrap();
    assert_eq!(acceptances.len(), 3);
    assert!(acceptances.iter().all(|s| !s.superseded));
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn every_write_is_in_the_audit_trail_with_old_and_new_values(store: Arc<dyn Store>, _db: TestDb) {
    let owner = owner(&store).await;
    let dept =
        store.create_department(&ctx(), &DepartmentInput { name: "QA".into(), ..Default::default() }).await.unwrap();
    let p = store.create_process(&ctx(), &process("Calibration", dept.id, owner)).await.unwrap();
    let dev = common::create_user(&store, "dev.malhotra", &[Role::ProcessOwner]).await;
    let edited = ProcessInput { owner_id: Some(dev), ..process("Calibration", dept.id, owner) };
    let Change::Done(_) = store.update_process(&ctx(), p.id, 1, &edited).await.unwrap() else { panic!() };
    // A refused write (stale version) leaves no entry.
    let Change::Stale(_) = store.update_process(&ctx(), p.id, 1, &edited).await.unwrap() else { panic!() };
    let Change::Done(_) = store.retire_process(&ctx(), p.id, 2, "Outsourced to a lab").await.unwrap() else { panic!() };

    let all = store.list_audit(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![6, 5, 4, 3, 2, 1], "newest first, no gaps");
    let history = store
        .list_audit(&AuditFilter {
            record_type: Some("process".into()),
            record_id: Some(p.id.0),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<_> = history.iter().map(|e| (e.action, e.record_version)).collect();
    assert_eq!(actions, vec![(AuditAction::Retire, 3), (AuditAction::Update, 2), (AuditAction::Create, 1)]);
    let update = &history[1];
    assert_eq!(update.changes.keys().collect::<Vec<_>>(), vec!["owner_id", "owner_name"]);
    assert_eq!(
        (update.changes["owner_id"].old.as_i64(), update.changes["owner_id"].new.as_i64()),
        (Some(owner.0), Some(dev.0))
    );
    assert_eq!(update.changes["owner_name"].old, "Tom Okafor");
    assert_eq!(update.changes["owner_name"].new, "Dev Malhotra");
    assert_eq!(update.actor_name, "system");
    assert_eq!(update.source.user_agent, "story test");
    assert_eq!(history[0].reason.as_deref(), Some("Outsourced to a lab"));
    assert_eq!(update.reason.as_deref(), Some("Story test"), "the reason for a change is in the trail");
    assert_eq!(history[2].changes["name"].new, "Calibration");
    assert!(history[2].changes["name"].old.is_null());

    let report = store.verify_audit().await.unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!((report.entries, report.head_hash.as_deref()), (6, Some(all[0].hash.as_str())));

    // Keyset pagination: two pages of two.
    let page = store.list_audit(&AuditFilter { before_seq: Some(3), limit: 2, ..Default::default() }).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 1]);
}

async fn concurrent_writers_never_fork_the_chain(store: Arc<dyn Store>, _db: TestDb) {
    let owner = owner(&store).await;
    let dept =
        store.create_department(&ctx(), &DepartmentInput { name: "Ops".into(), ..Default::default() }).await.unwrap();
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                store.create_process(&ctx(), &process(&format!("Step {writer}-{i}"), dept.id, owner)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = store.verify_audit().await.unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.entries, 82, "one user, one department, 80 processes");
}

async fn two_stores_on_one_database_write_at_once(store: Arc<dyn Store>, db: TestDb) {
    // Two instances on one PostgreSQL database, or the server and a tool on one SQLite file:
    // each keeps its own state, neither loses a write, and the chain stays one chain.
    let other = db.second_store();
    let owner = owner(&store).await;
    let dept = store
        .create_department(&ctx(), &DepartmentInput { name: "Shared".into(), ..Default::default() })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = if writer % 2 == 0 { store.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                store.create_process(&ctx(), &process(&format!("Cell {writer}-{i}"), dept.id, owner)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // The other store wrote last: this one's idea of the chain's head is behind, and its next
    // write still joins the chain after the real head.
    other.create_process(&ctx(), &process("Last by the other", dept.id, owner)).await.unwrap();
    store.create_process(&ctx(), &process("Then this one", dept.id, owner)).await.unwrap();
    assert_eq!(store.list_processes(false).await.unwrap().len(), 82, "no write lost");
    for report in [store.verify_audit().await.unwrap(), other.verify_audit_in_parts(10).await.unwrap()] {
        assert!(report.intact, "{report:?}");
        assert_eq!(report.entries, 84, "one user, one department, 82 processes");
    }
}

async fn the_database_refuses_to_alter_the_audit_trail(store: Arc<dyn Store>, db: TestDb) {
    store.create_department(&ctx(), &DepartmentInput { name: "HR".into(), ..Default::default() }).await.unwrap();
    for sql in ["update audit_entries set actor_name = 'someone else'", "delete from audit_entries"] {
        let err = db.execute(sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    if matches!(db, TestDb::Postgres(..)) {
        let err = db.execute("truncate audit_entries").await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn tampering_is_reported_at_its_exact_position(store: Arc<dyn Store>, db: TestDb) {
    let owner = owner(&store).await;
    let dept =
        store.create_department(&ctx(), &DepartmentInput { name: "Lab".into(), ..Default::default() }).await.unwrap();
    for i in 0..5 {
        store.create_process(&ctx(), &process(&format!("Test {i}"), dept.id, owner)).await.unwrap();
    }
    // Someone with database access removes the guard and edits entry 4.
    match &db {
        TestDb::Sqlite(..) => db.execute("drop trigger audit_entries_no_update").await.unwrap(),
        TestDb::Postgres(..) => {
            db.execute("alter table audit_entries disable trigger audit_entries_no_update").await.unwrap()
        }
    };
    db.execute("update audit_entries set actor_name = 'Nobody' where seq = 4").await.unwrap();
    let report = store.verify_audit().await.unwrap();
    assert!(!report.intact);
    assert_eq!(report.first_broken_seq, Some(4));
    assert!(report.problem.as_deref().unwrap().contains("altered"));
    assert_eq!(report.head_hash, None);
    // Read in parts side by side (entry 4 inside the second of three), the same verdict.
    assert_eq!(store.verify_audit_in_parts(3).await.unwrap(), report);

    // Re-hashing the edited entry hides it from its own check, not from the next entry's link,
    // even where that link crosses from one part to the next.
    let rehashed = store.list_audit(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    let mut fourth = rehashed.iter().find(|e| e.seq == 4).unwrap().clone();
    fourth.actor_name = "Nobody".into();
    let forged = fourth.compute_hash();
    db.execute(&format!("update audit_entries set hash = '{forged}' where seq = 4")).await.unwrap();
    for report in [store.verify_audit().await.unwrap(), store.verify_audit_in_parts(4).await.unwrap()] {
        assert_eq!(report.first_broken_seq, Some(5), "{report:?}");
        assert!(report.problem.unwrap().contains("prev_hash"));
    }

    // Through the command line: exit 2, naming the entry (the re-hashed one's successor).
    if let TestDb::Sqlite(_, path) = &db {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_caliper"))
            .arg("verify-audit")
            .env("DATABASE_URL", format!("sqlite://{}", path.display()))
            .env("CALIPER_LOG", "warn")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("BROKEN at entry 5"), "{stdout}");
    }
}

/// Security review, finding 3: retiring a site while departments are added to it, side by side
/// (PostgreSQL does not serialise the two): either the retirement is refused as in use, or it
/// wins and the additions are refused as naming a retired site; never a retired site with an
/// active department, never a database error.
async fn a_site_is_not_retired_under_new_departments(store: Arc<dyn Store>, _db: TestDb) {
    for round in 0..5 {
        let site = store
            .create_site(
                &ctx(),
                &SiteInput { code: format!("S{round}"), name: format!("Site {round}"), ..Default::default() },
            )
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..10 {
            let store = store.clone();
            let input = DepartmentInput { name: format!("Dept {round}-{i}"), site_id: Some(site.id), version: None };
            tasks.push(tokio::spawn(async move { store.create_department(&ctx(), &input).await.map(drop) }));
        }
        let retiring = {
            let store = store.clone();
            tokio::spawn(async move {
                store.retire_site(&ctx(), site.id, 1, "closed").await.map(|c| matches!(c, Change::Done(_)))
            })
        };
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) | Err(StoreError::Invalid(_)) => {}
                Err(e) => panic!("adding a department: {e:?}"),
            }
        }
        let retired = match retiring.await.unwrap() {
            Ok(done) => done,
            Err(StoreError::InUse(_)) => false,
            Err(e) => panic!("retiring the site: {e:?}"),
        };
        let active =
            store.list_departments(false).await.unwrap().into_iter().filter(|d| d.site_id == Some(site.id)).count();
        assert!(!(retired && active > 0), "round {round}: the site was retired with {active} active department(s)");
    }
    assert!(store.verify_audit().await.unwrap().intact);
}

/// The same one level down: retiring a department while processes are added to it, side by side
/// (the process insert holds the department itself, in the same statement): never a retired
/// department with an active process, never a database error.
async fn a_department_is_not_retired_under_new_processes(store: Arc<dyn Store>, db: TestDb) {
    let owner = common::create_user(&store, "owner.of.processes", &[Role::ProcessOwner]).await;
    for round in 0..5 {
        let input = DepartmentInput { name: format!("Retiring {round}"), site_id: None, version: None };
        let department = store.create_department(&ctx(), &input).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..10 {
            let store = store.clone();
            let input = ProcessInput {
                name: format!("Process {round}-{i}"),
                department_id: Some(department.id),
                owner_id: Some(owner),
                ..Default::default()
            };
            tasks.push(tokio::spawn(async move { store.create_process(&ctx(), &input).await.map(drop) }));
        }
        let retiring = {
            let store = store.clone();
            tokio::spawn(async move {
                store.retire_department(&ctx(), department.id, 1, "merged").await.map(|c| matches!(c, Change::Done(_)))
            })
        };
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) | Err(StoreError::Invalid(_)) => {}
                Err(e) => panic!("adding a process: {e:?}"),
            }
        }
        let retired = match retiring.await.unwrap() {
            Ok(done) => done,
            Err(StoreError::InUse(_)) => false,
            Err(e) => panic!("retiring the department: {e:?}"),
        };
        let active =
            store.list_processes(false).await.unwrap().into_iter().filter(|p| p.department_id == department.id).count();
        assert!(!(retired && active > 0), "round {round}: the department was retired with {active} active process(es)");
    }
    if let TestDb::Postgres(pool, _) = &db {
        // The interleaving itself: a retirement holds the department's row (as retire_department
        // does) and has not committed yet. A process added meanwhile waits for it, then finds
        // the department retired (without the insert's own lock, it would be added: the foreign
        // key's check waits too, but then finds the row still there).
        let input = DepartmentInput { name: "Held".into(), site_id: None, version: None };
        let department = store.create_department(&ctx(), &input).await.unwrap();
        let mut retiring = pool.begin().await.unwrap();
        sqlx::query("select 1 from departments where department_id = $1 for update")
            .bind(department.id.0)
            .execute(&mut *retiring)
            .await
            .unwrap();
        let adding = {
            let store = store.clone();
            let input = ProcessInput {
                name: "Added meanwhile".into(),
                department_id: Some(department.id),
                owner_id: Some(owner),
                ..Default::default()
            };
            tokio::spawn(async move { store.create_process(&ctx(), &input).await })
        };
        let waiting = std::time::Instant::now();
        loop {
            let (blocked,): (i64,) =
                sqlx::query_as("select count(*) from pg_locks where not granted").fetch_one(pool).await.unwrap();
            if blocked > 0 {
                break;
            }
            assert!(waiting.elapsed() < std::time::Duration::from_secs(10), "the insert never waited for the row");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        sqlx::query("update departments set retired_at = now(), version = version + 1 where department_id = $1")
            .bind(department.id.0)
            .execute(&mut *retiring)
            .await
            .unwrap();
        retiring.commit().await.unwrap();
        match adding.await.unwrap() {
            Err(StoreError::Invalid(fields)) => assert!(fields.get("department_id").is_some(), "{fields:?}"),
            other => panic!("a process added to a department retired meanwhile: {other:?}"),
        }
    }
    assert!(store.verify_audit().await.unwrap().intact);
}

/// Writes whose requests go away midway (the future dropped after 0 to 6 ms, so at every step
/// of the transaction) leave nothing half-written: each process saved has its audit entry and
/// each entry its process, the chain verifies, and the next write goes through at once.
async fn writes_dropped_midway_leave_nothing_half_written(store: Arc<dyn Store>, _db: TestDb) {
    let owner = owner(&store).await;
    let site = store
        .create_site(&ctx(), &SiteInput { code: "HQ".into(), name: "Headquarters".into(), ..Default::default() })
        .await
        .unwrap();
    let dept = store
        .create_department(&ctx(), &DepartmentInput { name: "Machining".into(), site_id: Some(site.id), version: None })
        .await
        .unwrap();
    let mut finished = 0;
    for i in 0..120u64 {
        let input = process(&format!("Dropped {i}"), dept.id, owner);
        let by = ctx();
        let write = store.create_process(&by, &input);
        if tokio::time::timeout(std::time::Duration::from_micros(i * 50), write).await.is_ok() {
            finished += 1;
        }
    }
    assert!(finished < 120, "some writes were dropped midway");
    let last = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.create_process(&ctx(), &process("After the drops", dept.id, owner)),
    )
    .await
    .expect("the next write is not held up")
    .unwrap();
    let saved: std::collections::BTreeSet<i64> =
        store.list_processes(true).await.unwrap().into_iter().map(|p| p.id.0).collect();
    assert!(saved.contains(&last.id.0));
    let audited: std::collections::BTreeSet<i64> = store
        .audit_since(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record_type == "process" && e.action == AuditAction::Create)
        .map(|e| e.record_id)
        .collect();
    assert_eq!(saved, audited, "every process saved has its audit entry, and every entry its process");
    assert!(store.verify_audit().await.unwrap().intact);
}

async fn any_text_is_chained_as_it_is_stored(store: Arc<dyn Store>, _db: TestDb) {
    // Text beyond ASCII, quotes, backslashes and dollar quotes (PostgreSQL's append sends the
    // values as literals and hashes them in the database): the chain verifies, and what was
    // saved reads back unchanged.
    let owner = owner(&store).await;
    let name = "Qualité – «Prüfung» 检验 'it''s' \\n $c$ $$ \u{1F527}$";
    let dept =
        store.create_department(&ctx(), &DepartmentInput { name: name.into(), ..Default::default() }).await.unwrap();
    assert_eq!(dept.name, name);
    let mut input = process("Prüfstand $c1$ «Ölpumpe»", dept.id, owner);
    input.description = "Line one\nline two\t\"quoted\" \\ back".into();
    let p = store.create_process(&ctx(), &input).await.unwrap();
    let back = store.get_process(p.id).await.unwrap().unwrap();
    assert_eq!((back.name.as_str(), back.description.as_str()), (input.name.as_str(), input.description.as_str()));
    let entries = store.audit_since(0, 100).await.unwrap();
    assert!(entries.iter().any(|e| e.record_type == "department" && format!("{:?}", e.changes).contains("«Prüfung»")));
    let report = store.verify_audit().await.unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.entries, 3, "the owner, the department, the process");
}

on_both_backends!(
    any_text_is_chained_as_it_is_stored,
    a_site_is_not_retired_under_new_departments,
    a_department_is_not_retired_under_new_processes,
    organisation_records_story,
    concurrent_saves_of_one_row_let_exactly_one_win,
    demo_seed_is_idempotent,
    every_write_is_in_the_audit_trail_with_old_and_new_values,
    concurrent_writers_never_fork_the_chain,
    two_stores_on_one_database_write_at_once,
    the_database_refuses_to_alter_the_audit_trail,
    tampering_is_reported_at_its_exact_position,
    writes_dropped_midway_leave_nothing_half_written,
);
