//! The storage conformance story: one narrative of what the organisation records must do,
//! run unchanged on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;

use common::TestDb;
use server::storage::{Change, Store, StoreError};
use shared::org::{DepartmentInput, ProcessInput, SiteInput};

fn process(name: &str, department: shared::org::DepartmentId) -> ProcessInput {
    ProcessInput {
        name: name.into(),
        description: "Turns bar stock into shafts".into(),
        owner_name: "Tom Okafor".into(),
        department_id: Some(department),
        version: None,
    }
}

fn field_code(err: StoreError, field: &str) -> String {
    match err {
        StoreError::Invalid(e) => e.get(field).unwrap_or_else(|| panic!("no error on {field}: {e:?}"))[0].clone(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn organisation_records_story(store: Arc<dyn Store>, db: TestDb) {
    // Migrations are forward-only and idempotent.
    store.migrate().await.unwrap();

    // Create a site, a department at it, and a process run by the department.
    let site = store
        .create_site(&SiteInput { code: "HQ".into(), name: "Headquarters".into(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(site.meta.version, 1);
    let dept = store
        .create_department(&DepartmentInput { name: "Machining".into(), site_id: Some(site.id), version: None })
        .await
        .unwrap();
    assert_eq!(dept.site_name.as_deref(), Some("Headquarters"));
    let p = store.create_process(&process("CNC machining", dept.id)).await.unwrap();
    assert_eq!((p.meta.version, p.department_name.as_str()), (1, "Machining"));
    assert_eq!(store.get_process(p.id).await.unwrap().unwrap(), p);

    // An update based on the current version succeeds and bumps the version.
    let edited = ProcessInput { description: "Turning and milling".into(), ..process("CNC machining", dept.id) };
    let Change::Done(v2) = store.update_process(p.id, 1, &edited).await.unwrap() else { panic!("update failed") };
    assert_eq!((v2.meta.version, v2.description.as_str()), (2, "Turning and milling"));
    assert!(v2.meta.updated_at >= p.meta.updated_at);

    // An update based on an old version is refused and returns the record as it is now.
    let late = ProcessInput { description: "Overwrites nothing".into(), ..process("CNC machining", dept.id) };
    match store.update_process(p.id, 1, &late).await.unwrap() {
        Change::Stale(current) => assert_eq!(current, v2),
        other => panic!("expected a stale update, got {other:?}"),
    }
    assert!(matches!(store.update_process(shared::org::ProcessId(999_999), 1, &late).await.unwrap(), Change::NotFound));

    // Names are unique among active records, ignoring case.
    let dup = store.create_process(&process("cnc MACHINING", dept.id)).await.unwrap_err();
    assert_eq!(field_code(dup, "name"), "taken");
    let dup_site = store
        .create_site(&SiteInput { code: "HQ".into(), name: "Other".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(field_code(dup_site, "code"), "taken");

    // A process needs a real, active department.
    let ghost = store.create_process(&process("Painting", shared::org::DepartmentId(424_242))).await.unwrap_err();
    assert_eq!(field_code(ghost, "department_id"), "not_found");

    // A department that still runs an active process cannot be retired.
    match store.retire_department(dept.id, dept.meta.version, "merged").await {
        Err(StoreError::InUse(msg)) => assert!(msg.contains("1 active process"), "{msg}"),
        other => panic!("expected in-use refusal, got {other:?}"),
    }

    // Retire the process: it stays readable, leaves the default list, and takes no changes.
    let Change::Done(retired) = store.retire_process(p.id, 2, "Moved to supplier").await.unwrap() else {
        panic!("retire failed")
    };
    assert_eq!(retired.meta.version, 3);
    assert_eq!(retired.meta.retired_reason.as_deref(), Some("Moved to supplier"));
    assert!(retired.meta.retired_at.is_some());
    assert!(store.list_processes(false).await.unwrap().is_empty());
    assert_eq!(store.list_processes(true).await.unwrap(), vec![retired.clone()]);
    assert!(matches!(store.update_process(p.id, 3, &edited).await.unwrap(), Change::Retired(_)));
    assert!(matches!(store.retire_process(p.id, 3, "again").await.unwrap(), Change::Retired(_)));

    // Its name is free again for a new, active process.
    let again = store.create_process(&process("CNC machining", dept.id)).await.unwrap();
    assert_ne!(again.id, p.id);
    let Change::Done(_) = store.retire_process(again.id, 1, "test").await.unwrap() else { panic!() };

    // Now the department can be retired, and then it cannot take new processes.
    let Change::Done(dept_retired) = store.retire_department(dept.id, 1, "merged into Production").await.unwrap()
    else {
        panic!("department retire failed")
    };
    let refused = store.create_process(&process("Grinding", dept_retired.id)).await.unwrap_err();
    assert_eq!(field_code(refused, "department_id"), "retired");

    // Nothing is ever hard-deleted: the database itself refuses.
    for table in ["processes", "departments", "sites"] {
        let err = db.execute(&format!("delete from {table}")).await.unwrap_err();
        assert!(err.to_string().contains("never deleted"), "{table}: {err}");
    }
    assert_eq!(store.list_processes(true).await.unwrap().len(), 2);
}

async fn concurrent_saves_of_one_row_let_exactly_one_win(store: Arc<dyn Store>, _db: TestDb) {
    let dept =
        store.create_department(&DepartmentInput { name: "Assembly".into(), ..Default::default() }).await.unwrap();
    let p = store.create_process(&process("Final assembly", dept.id)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let input = ProcessInput { owner_name: format!("Editor {i}"), ..process("Final assembly", dept.id) };
        tasks.push(tokio::spawn(async move { store.update_process(p.id, 1, &input).await.unwrap() }));
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
    let first = server::seed::seed_demo(store.as_ref()).await.unwrap();
    assert!(first.created >= 20, "{first:?}");
    assert_eq!(first.existing, 0);
    let second = server::seed::seed_demo(store.as_ref()).await.unwrap();
    assert_eq!((second.created, second.existing), (0, first.created));
    assert_eq!(store.list_processes(false).await.unwrap().len(), 12);
}

on_both_backends!(organisation_records_story, concurrent_saves_of_one_row_let_exactly_one_win, demo_seed_is_idempotent);
