//! Demo data: a small manufacturer with two sites, its departments and its QMS processes.
//! Idempotent: a record whose name already exists (active) is left alone, so running it again
//! changes nothing.

use std::collections::HashMap;

use shared::auth::{Role, UserId, UserInput};
use shared::org::{DepartmentInput, ProcessInput, SiteInput};
use shared::signature::{Meaning, SignInput};

use crate::auth::AuthConfig;
use crate::storage::{AuditContext, Store, StoreError, StoreResult};

/// The password of every demo user (printed by `cargo xtask demo`; demo users need not change
/// it). Never use demo data in production.
pub const DEMO_PASSWORD: &str = "Caliper-Demo-2026";

/// The demo users: (username, printed name, roles, department). One per role first; the
/// other process owners own the demo processes.
pub const DEMO_USERS: &[(&str, &str, &[Role], &str)] = &[
    ("alex.morgan", "Alex Morgan", &[Role::Admin], "Quality Assurance"),
    ("priya.natarajan", "Priya Natarajan", &[Role::QualityManager, Role::ProcessOwner], "Quality Assurance"),
    ("tom.okafor", "Tom Okafor", &[Role::ProcessOwner], "Production — Machining"),
    ("sam.reid", "Sam Reid", &[Role::Auditor], "Quality Assurance"),
    ("lee.chen", "Lee Chen", &[Role::Staff], "Production — Assembly"),
    ("eva.lindqvist", "Eva Lindqvist", &[Role::Executive], "Sales & Customer Service"),
    ("marta.kowalska", "Marta Kowalska", &[Role::ProcessOwner], "Production — Assembly"),
    ("graham.lees", "Graham Lees", &[Role::ProcessOwner], "Purchasing"),
    ("aisha.rahman", "Aisha Rahman", &[Role::ProcessOwner], "Engineering"),
    ("owen.price", "Owen Price", &[Role::ProcessOwner], "Sales & Customer Service"),
    ("helen.brooks", "Helen Brooks", &[Role::ProcessOwner], "Human Resources"),
    ("dev.malhotra", "Dev Malhotra", &[Role::ProcessOwner], "Maintenance"),
];

const SITES: &[(&str, &str, &str)] = &[
    ("HQ", "Headquarters & Plant 1", "12 Foundry Lane, Sheffield S1 2AB, United Kingdom"),
    ("PLANT-2", "Plant 2 — Assembly", "Unit 4, Riverside Park, Rotherham S60 1BZ, United Kingdom"),
];

const DEPARTMENTS: &[(&str, &str)] = &[
    ("Quality Assurance", "HQ"),
    ("Production — Machining", "HQ"),
    ("Production — Assembly", "PLANT-2"),
    ("Engineering", "HQ"),
    ("Purchasing", "HQ"),
    ("Sales & Customer Service", "HQ"),
    ("Human Resources", "HQ"),
    ("Maintenance", "PLANT-2"),
];

// (name, description, owner, department) — ISO 9001 clause in the description where it helps.
const PROCESSES: &[(&str, &str, &str, &str)] = &[
    (
        "Document control",
        "Create, review, approve and distribute controlled documents (ISO 9001 7.5).",
        "Priya Natarajan",
        "Quality Assurance",
    ),
    (
        "CNC machining",
        "Turn and mill shafts and housings from bar stock to drawing.",
        "Tom Okafor",
        "Production — Machining",
    ),
    (
        "Final assembly",
        "Assemble gearbox units, torque-check and label for dispatch.",
        "Marta Kowalska",
        "Production — Assembly",
    ),
    (
        "Incoming inspection",
        "Sample and inspect purchased parts against specification.",
        "Priya Natarajan",
        "Quality Assurance",
    ),
    (
        "Supplier management",
        "Approve, evaluate and re-evaluate external providers (ISO 9001 8.4).",
        "Graham Lees",
        "Purchasing",
    ),
    ("Design and development", "Plan, verify and validate new products (ISO 9001 8.3).", "Aisha Rahman", "Engineering"),
    (
        "Customer complaints",
        "Receive, investigate and answer customer complaints.",
        "Owen Price",
        "Sales & Customer Service",
    ),
    (
        "Training and competence",
        "Define competence, train staff and keep records (ISO 9001 7.2).",
        "Helen Brooks",
        "Human Resources",
    ),
    (
        "Calibration",
        "Keep measuring equipment calibrated and traceable (ISO 9001 7.1.5).",
        "Dev Malhotra",
        "Maintenance",
    ),
    (
        "Preventive maintenance",
        "Plan and record machine maintenance to keep processes capable.",
        "Dev Malhotra",
        "Maintenance",
    ),
    (
        "Internal audit",
        "Plan and perform internal audits of the QMS (ISO 9001 9.2).",
        "Priya Natarajan",
        "Quality Assurance",
    ),
    (
        "Corrective action (CAPA)",
        "Investigate root causes and act on nonconformities (ISO 9001 10.2).",
        "Priya Natarajan",
        "Quality Assurance",
    ),
];

/// What the seeding did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Records added by this run.
    pub created: usize,
    /// Records that were already there.
    pub existing: usize,
}

/// Adds the demo organisation and users where they are missing.
pub async fn seed_demo(store: &dyn Store, auth: &AuthConfig) -> StoreResult<SeedReport> {
    let mut report = SeedReport::default();
    let ctx = AuditContext::tool("caliper seed-demo");

    let mut sites = HashMap::new();
    let existing = store.list_sites(false).await?;
    for &(code, name, address) in SITES {
        let id = match existing.iter().find(|s| s.code == code) {
            Some(s) => {
                report.existing += 1;
                s.id
            }
            None => {
                report.created += 1;
                let input = SiteInput { code: code.into(), name: name.into(), address: address.into(), version: None };
                store.create_site(&ctx, &input.normalized()).await?.id
            }
        };
        sites.insert(code, id);
    }

    let mut departments = HashMap::new();
    let existing = store.list_departments(false).await?;
    for &(name, site) in DEPARTMENTS {
        let id = match existing.iter().find(|d| d.name == name) {
            Some(d) => {
                report.existing += 1;
                d.id
            }
            None => {
                report.created += 1;
                let input = DepartmentInput { name: name.into(), site_id: sites.get(site).copied(), version: None };
                store.create_department(&ctx, &input.normalized()).await?.id
            }
        };
        departments.insert(name, id);
    }

    let mut users = HashMap::new();
    let existing = store.list_users(true).await?;
    let mut hash = None;
    for &(username, full_name, roles, department) in DEMO_USERS {
        let id = match existing.iter().find(|u| u.username == username) {
            Some(u) => {
                report.existing += 1;
                u.id
            }
            None => {
                report.created += 1;
                let hash = match &hash {
                    Some(h) => h,
                    None => hash.insert(crate::auth::hash_now(auth, DEMO_PASSWORD).map_err(StoreError::Internal)?),
                };
                let input = UserInput {
                    username: username.into(),
                    full_name: full_name.into(),
                    email: format!("{username}@example.com"),
                    department_id: departments.get(department).copied(),
                    roles: roles.to_vec(),
                    password: None,
                    version: None,
                };
                store.create_user(&ctx, &input.normalized(), hash, false).await?.id
            }
        };
        users.insert(full_name, id);
    }

    let existing = store.list_processes(false).await?;
    for &(name, description, owner, department) in PROCESSES {
        if existing.iter().any(|p| p.name == name) {
            report.existing += 1;
            continue;
        }
        report.created += 1;
        let input = ProcessInput {
            name: name.into(),
            description: description.into(),
            owner_id: users.get(owner).copied(),
            department_id: departments.get(department).copied(),
            version: None,
            reason: String::new(),
        };
        let process = store.create_process(&ctx, &input.normalized()).await?;
        // The quality manager has approved most owner assignments by signature; the rest wait.
        if let Some(&approver) = users.get(APPROVER)
            && !AWAITING_APPROVAL.contains(&name)
        {
            let sign = SignInput {
                record_type: "process".into(),
                record_id: process.id.0,
                record_version: process.meta.version,
                meaning: Meaning::Approved,
                password: String::new(),
                username: None,
                accept_agreement: true,
                rationale: None,
            };
            let approving = AuditContext { actor_id: Some(approver.0), actor_name: APPROVER.into(), ..ctx.clone() };
            store.sign(&approving, approver, APPROVER, &sign, true).await?;
        }
    }

    let processes = store
        .list_processes(false)
        .await?
        .into_iter()
        .map(|p| (p.name.clone(), (p.id, p.owner_name.clone())))
        .collect();
    // The FMEAs first: some demo risks cite their failure chains as evidence.
    let by_username: HashMap<&str, UserId> =
        DEMO_USERS.iter().filter_map(|u| users.get(u.1).map(|id| (u.0, *id))).collect();
    let (created, existing) = crate::demo_fmea::seed_fmeas(store, &ctx, &processes, &by_username).await?;
    report.created += created;
    report.existing += existing;
    if let Some(&approver) = users.get(APPROVER) {
        let (created, existing) =
            crate::demo_risks::seed_risks(store, &ctx, (approver, APPROVER), &processes, &users).await?;
        report.created += created;
        report.existing += existing;
    }
    let people: HashMap<&str, (UserId, String)> =
        DEMO_USERS.iter().filter_map(|u| users.get(u.1).map(|id| (u.0, (*id, u.1.to_string())))).collect();
    let process_ids = processes.iter().map(|(name, (id, _))| (name.clone(), *id)).collect();
    let (created, existing) = crate::demo_documents::seed_documents(store, &people, &process_ids).await?;
    report.created += created;
    report.existing += existing;
    let department_ids = departments.iter().map(|(name, id)| ((*name).to_string(), *id)).collect();
    let (created, existing) = crate::demo_training::seed_training(store, &people, &department_ids).await?;
    report.created += created;
    report.existing += existing;
    let (created, existing) = crate::demo_quality::seed_quality(store, &people, &process_ids).await?;
    report.created += created;
    report.existing += existing;
    let (created, existing) = crate::demo_dashboard::seed_dashboard(store, &ctx).await?;
    report.created += created;
    report.existing += existing;
    let (created, existing) = crate::demo_dashboard::seed_objectives(store, &ctx, &people).await?;
    report.created += created;
    report.existing += existing;
    Ok(report)
}

/// Who approves the demo owner assignments.
const APPROVER: &str = "Priya Natarajan";

/// Demo processes whose owner assignment still awaits approval.
const AWAITING_APPROVAL: &[&str] = &["Customer complaints", "Preventive maintenance", "Calibration"];
