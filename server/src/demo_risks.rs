//! Demo risk register: the default 5×5 matrix and a medical-device 5×4 matrix, both approved
//! by the quality manager, and about 60 risks across the demo processes: some overdue for
//! review, a few unacceptable residuals accepted with a signed benefit–risk rationale.
//! Also the generator of large registers for the bench (`caliper seed-risks`).

use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use shared::auth::UserId;
use shared::org::ProcessId;
use shared::register::{Control, Evidence, EvidenceType, MatrixInput, MatrixRevision, RiskInput, RiskStatus};
use shared::risk::{MatrixDefinition, default_5x5, medical_5x4};
use shared::signature::{Meaning, SignInput};

use crate::storage::{AuditContext, Store, StoreResult};

/// (title, category, process, inherent (L, S), residual (L, S), status, review in days from
/// today (negative: overdue), control, the process that evidences the control).
type DemoRisk =
    (&'static str, &'static str, &'static str, (i64, i64), (i64, i64), RiskStatus, i64, &'static str, &'static str);

use RiskStatus::{Accepted as Acc, Assessed as Ass, Identified as Idn, Treated as Trt};

const GENERAL: &[DemoRisk] = &[
    (
        "Spindle crash from wrong tool offset",
        "Process",
        "CNC machining",
        (3, 4),
        (2, 3),
        Trt,
        60,
        "Tool offsets verified by probing before first cut",
        "Calibration",
    ),
    (
        "Bore diameter drifts with thermal growth",
        "Product",
        "CNC machining",
        (4, 3),
        (2, 3),
        Trt,
        45,
        "Warm-up cycle and in-process gauging every 10 parts",
        "CNC machining",
    ),
    (
        "Wrong drawing revision used at the machine",
        "Process",
        "CNC machining",
        (3, 4),
        (1, 4),
        Trt,
        -12,
        "Drawings issued only from the document system; obsolete copies withdrawn",
        "Document control",
    ),
    (
        "Coolant contamination causes corrosion on shafts",
        "Product",
        "CNC machining",
        (3, 3),
        (2, 2),
        Trt,
        90,
        "Weekly coolant concentration and pH check",
        "Preventive maintenance",
    ),
    (
        "Burrs left on keyways injure assemblers",
        "Health & safety",
        "CNC machining",
        (4, 2),
        (2, 2),
        Trt,
        30,
        "Deburr step with visual check in the routing",
        "CNC machining",
    ),
    (
        "Single CNC programmer: knowledge loss",
        "Business",
        "CNC machining",
        (3, 3),
        (3, 3),
        Ass,
        -30,
        "Cross-training plan for a second programmer",
        "Training and competence",
    ),
    (
        "Bearing pressed in misaligned",
        "Product",
        "Final assembly",
        (3, 4),
        (2, 4),
        Trt,
        20,
        "Press fixture with alignment pin and force monitoring",
        "Final assembly",
    ),
    (
        "Bolt torque not reached on cover",
        "Product",
        "Final assembly",
        (4, 4),
        (2, 3),
        Trt,
        75,
        "DC nutrunners with torque/angle traceability",
        "Calibration",
    ),
    (
        "Wrong oil grade filled",
        "Product",
        "Final assembly",
        (2, 4),
        (1, 4),
        Trt,
        120,
        "Colour-coded, poka-yoke filling nozzles",
        "Final assembly",
    ),
    (
        "Mixed labels between gearbox variants",
        "Customer",
        "Final assembly",
        (3, 3),
        (1, 3),
        Trt,
        -5,
        "Label printed from the scanned serial only",
        "Final assembly",
    ),
    (
        "Seal lip damaged on installation",
        "Product",
        "Final assembly",
        (3, 3),
        (2, 3),
        Ass,
        14,
        "Installation sleeve used for every seal",
        "Final assembly",
    ),
    (
        "Manual handling injuries lifting housings",
        "Health & safety",
        "Final assembly",
        (4, 3),
        (2, 3),
        Trt,
        180,
        "Vacuum lifter at stations 3 and 4",
        "Preventive maintenance",
    ),
    (
        "Sampling plan misses a bad supplier lot",
        "Supplier",
        "Incoming inspection",
        (3, 4),
        (2, 4),
        Trt,
        40,
        "AQL sampling tightened after any rejection",
        "Incoming inspection",
    ),
    (
        "Certificate of conformity not checked",
        "Regulatory",
        "Incoming inspection",
        (3, 3),
        (1, 3),
        Trt,
        -20,
        "CoC check is a mandatory field at goods-in",
        "Incoming inspection",
    ),
    (
        "Inspection gauges out of calibration",
        "Product",
        "Incoming inspection",
        (2, 4),
        (1, 4),
        Trt,
        60,
        "Gauges tagged and recalled by the calibration system",
        "Calibration",
    ),
    (
        "Single-source supplier for housings",
        "Supplier",
        "Supplier management",
        (4, 5),
        (4, 4),
        Ass,
        -45,
        "Second source qualification project",
        "Supplier management",
    ),
    (
        "Supplier changes process without notice",
        "Supplier",
        "Supplier management",
        (3, 4),
        (2, 4),
        Trt,
        90,
        "Change-notification clause in quality agreements",
        "Supplier management",
    ),
    (
        "Supplier insolvency",
        "Business",
        "Supplier management",
        (2, 5),
        (2, 4),
        Trt,
        150,
        "Annual financial check of key suppliers",
        "Supplier management",
    ),
    (
        "Steel price volatility",
        "Business",
        "Supplier management",
        (4, 3),
        (4, 2),
        Trt,
        30,
        "Quarterly price agreements",
        "Supplier management",
    ),
    (
        "Conflict minerals in purchased electronics",
        "Regulatory",
        "Supplier management",
        (2, 3),
        (1, 3),
        Trt,
        200,
        "Supplier declarations collected yearly",
        "Supplier management",
    ),
    (
        "Complaint not logged by sales staff",
        "Customer",
        "Customer complaints",
        (3, 4),
        (2, 4),
        Trt,
        25,
        "Single complaint inbox; weekly reconciliation",
        "Customer complaints",
    ),
    (
        "Complaint response later than 10 days",
        "Customer",
        "Customer complaints",
        (4, 3),
        (3, 3),
        Ass,
        -3,
        "Due dates tracked in the complaints log",
        "Customer complaints",
    ),
    (
        "Field failure not fed back to design",
        "Product",
        "Customer complaints",
        (3, 4),
        (2, 4),
        Idn,
        10,
        "Monthly complaint review with engineering",
        "Corrective action (CAPA)",
    ),
    (
        "Operators not trained on revised instructions",
        "Process",
        "Training and competence",
        (4, 3),
        (2, 3),
        Trt,
        -8,
        "Read-and-understood sign-off before the revision takes effect",
        "Training and competence",
    ),
    (
        "Training records incomplete for audits",
        "Regulatory",
        "Training and competence",
        (3, 3),
        (1, 3),
        Trt,
        120,
        "Training matrix reviewed quarterly",
        "Training and competence",
    ),
    (
        "Temporary staff work without induction",
        "Health & safety",
        "Training and competence",
        (3, 4),
        (2, 4),
        Trt,
        35,
        "Badge access only after induction",
        "Training and competence",
    ),
    (
        "Calibration overdue on torque tools",
        "Product",
        "Calibration",
        (3, 4),
        (1, 4),
        Trt,
        50,
        "Recall list issued two weeks ahead",
        "Calibration",
    ),
    (
        "Master gauge damaged or lost",
        "Product",
        "Calibration",
        (2, 4),
        (2, 3),
        Trt,
        300,
        "Spare master kept at the external lab",
        "Calibration",
    ),
    (
        "Calibration lab loses accreditation",
        "Supplier",
        "Calibration",
        (1, 4),
        (1, 3),
        Trt,
        365,
        "Accreditation checked at each order",
        "Supplier management",
    ),
    (
        "Unplanned breakdown of the heat-treatment furnace",
        "Business",
        "Preventive maintenance",
        (3, 5),
        (2, 5),
        Trt,
        -60,
        "Quarterly burner and thermocouple service",
        "Preventive maintenance",
    ),
    (
        "Hydraulic leak on press",
        "Environment",
        "Preventive maintenance",
        (3, 3),
        (2, 2),
        Trt,
        80,
        "Drip trays and weekly leak round",
        "Preventive maintenance",
    ),
    (
        "Spare parts for old lathes unavailable",
        "Business",
        "Preventive maintenance",
        (3, 4),
        (3, 3),
        Ass,
        15,
        "Critical spares stocked; retrofit plan",
        "Preventive maintenance",
    ),
    (
        "Machine guard bypassed",
        "Health & safety",
        "Preventive maintenance",
        (2, 5),
        (1, 5),
        Trt,
        30,
        "Safety-rated interlocks checked monthly",
        "Preventive maintenance",
    ),
    (
        "Audit programme not covering all processes",
        "Regulatory",
        "Internal audit",
        (3, 3),
        (1, 3),
        Trt,
        100,
        "Three-year audit plan covering every process",
        "Internal audit",
    ),
    (
        "Auditors auditing their own work",
        "Regulatory",
        "Internal audit",
        (2, 3),
        (1, 3),
        Trt,
        240,
        "Auditor independence checked in the plan",
        "Internal audit",
    ),
    (
        "Corrective actions closed without effectiveness check",
        "Process",
        "Corrective action (CAPA)",
        (4, 4),
        (2, 4),
        Trt,
        45,
        "Effectiveness check mandatory before closure",
        "Corrective action (CAPA)",
    ),
    (
        "Root cause analysis superficial",
        "Process",
        "Corrective action (CAPA)",
        (4, 3),
        (3, 3),
        Ass,
        -15,
        "5-Why and fishbone training for CAPA owners",
        "Training and competence",
    ),
    (
        "Obsolete document in circulation",
        "Regulatory",
        "Document control",
        (3, 4),
        (1, 4),
        Trt,
        70,
        "Controlled copies only; periodic shop-floor check",
        "Document control",
    ),
    (
        "Document approval by unauthorised person",
        "Regulatory",
        "Document control",
        (2, 4),
        (1, 4),
        Trt,
        200,
        "Approval restricted by role and signature",
        "Document control",
    ),
    (
        "Loss of the document server",
        "Business",
        "Document control",
        (2, 5),
        (1, 5),
        Trt,
        160,
        "Nightly backups restored quarterly",
        "Document control",
    ),
    (
        "Ransomware stops production planning",
        "Information security",
        "Document control",
        (3, 5),
        (2, 5),
        Trt,
        -25,
        "Offline backups and patching policy",
        "Document control",
    ),
    (
        "Gear tooth fatigue under peak load",
        "Product",
        "Final assembly",
        (3, 5),
        (2, 5),
        Trt,
        55,
        "Design FMEA action: case-hardening depth verified per lot",
        "Incoming inspection",
    ),
    (
        "Customer-specific requirements missed at order entry",
        "Customer",
        "Customer complaints",
        (3, 4),
        (2, 3),
        Trt,
        90,
        "Contract review checklist",
        "Customer complaints",
    ),
    (
        "Noise above limit at end-of-line test",
        "Product",
        "Final assembly",
        (3, 3),
        (2, 3),
        Trt,
        65,
        "100% acoustic end-of-line test",
        "Final assembly",
    ),
    (
        "Heat-treatment subcontractor distortion",
        "Supplier",
        "Supplier management",
        (3, 4),
        (2, 4),
        Trt,
        -2,
        "First-article inspection after any process change",
        "Incoming inspection",
    ),
    (
        "Fire in the paint booth",
        "Health & safety",
        "Preventive maintenance",
        (2, 5),
        (1, 5),
        Trt,
        210,
        "Sprinkler inspection and filter cleaning schedule",
        "Preventive maintenance",
    ),
    (
        "Chip and swarf disposal breaches permit",
        "Environment",
        "CNC machining",
        (2, 3),
        (1, 3),
        Trt,
        130,
        "Licensed waste carrier; monthly log",
        "CNC machining",
    ),
    (
        "New gearbox launch slips because PPAP is late",
        "Customer",
        "Supplier management",
        (4, 4),
        (3, 4),
        Idn,
        7,
        "PPAP tracker reviewed weekly",
        "Supplier management",
    ),
    (
        "Key customer dual-sources its gearboxes",
        "Business",
        "Customer complaints",
        (3, 4),
        (3, 4),
        Ass,
        40,
        "Quarterly business review with the customer",
        "Customer complaints",
    ),
    (
        "Measurement system not capable for runout",
        "Product",
        "Calibration",
        (3, 4),
        (2, 3),
        Trt,
        85,
        "Gauge R&R study before release of new gauges",
        "Calibration",
    ),
    (
        "Residual stress cracks on induction-hardened shafts",
        "Product",
        "CNC machining",
        (4, 5),
        (3, 5),
        Acc,
        180,
        "Magnetic-particle inspection of every shaft",
        "Incoming inspection",
    ),
    (
        "Legacy press without light curtain",
        "Health & safety",
        "Final assembly",
        (3, 5),
        (3, 5),
        Acc,
        120,
        "Two-hand control and restricted access while the replacement is procured",
        "Preventive maintenance",
    ),
];

const MEDICAL: &[DemoRisk] = &[
    (
        "Hospital-bed gearbox: sudden loss of lift drive",
        "Product safety",
        "Final assembly",
        (3, 4),
        (2, 4),
        Trt,
        60,
        "Self-locking worm stage verified at end-of-line",
        "Final assembly",
    ),
    (
        "Hospital-bed gearbox: lubricant leak onto linen",
        "Product safety",
        "Final assembly",
        (3, 2),
        (1, 2),
        Trt,
        90,
        "Double-lip seals and leak test",
        "Final assembly",
    ),
    (
        "Pinch point at the actuator housing",
        "Product safety",
        "Final assembly",
        (2, 3),
        (1, 3),
        Trt,
        150,
        "Housing guard redesigned; design review record",
        "Document control",
    ),
    (
        "Biocompatibility of the housing coating",
        "Product safety",
        "Supplier management",
        (2, 3),
        (1, 3),
        Trt,
        -10,
        "Supplier declaration and ISO 10993 test report",
        "Supplier management",
    ),
    (
        "Electromagnetic interference from the motor",
        "Product safety",
        "Final assembly",
        (3, 3),
        (2, 3),
        Ass,
        30,
        "EMC test at an accredited lab",
        "Supplier management",
    ),
    (
        "Cleaning agents crack the housing",
        "Product safety",
        "Incoming inspection",
        (3, 3),
        (2, 2),
        Trt,
        110,
        "Chemical resistance test with the hospital's cleaning agents",
        "Incoming inspection",
    ),
    (
        "Gear failure under patient overload",
        "Product safety",
        "CNC machining",
        (4, 4),
        (3, 4),
        Acc,
        200,
        "Overload clutch and 150% static load test",
        "Final assembly",
    ),
    (
        "Noise disturbs patients at night",
        "Product safety",
        "Final assembly",
        (4, 1),
        (2, 1),
        Trt,
        75,
        "Helical gear set and acoustic test",
        "Final assembly",
    ),
];

/// Benefit–risk rationales of the demo acceptances, by title.
const RATIONALES: &[(&str, &str)] = &[
    (
        "Residual stress cracks on induction-hardened shafts",
        "Shafts are 100% crack-tested; no lower-risk hardening process meets the torque rating. \
         Accepted until the new tempering furnace is qualified (CAPA-style project in budget).",
    ),
    (
        "Legacy press without light curtain",
        "Replacement press on order (delivery in 16 weeks); interim two-hand control and access restriction \
         reduce exposure to trained operators only. Stopping the line would stop supply to three customers.",
    ),
    (
        "Gear failure under patient overload",
        "The clinical benefit of powered height adjustment outweighs the residual risk; overload clutch and \
         static test are state of the art and no further reduction is practicable (ISO 14971 clause 7.4).",
    ),
];

/// Demo risks whose control also cites an FMEA failure chain: (risk title, FMEA ID, failure mode).
const FMEA_LINKS: &[(&str, &str, &str)] = &[
    ("Residual stress cracks on induction-hardened shafts", "PF-GB200", "Quench cracks"),
    ("Bolt torque not reached on cover", "PF-GB200", "Under-torqued bolt"),
    ("Bearing pressed in misaligned", "PF-GB200", "Bearing not fully seated"),
    ("Wrong oil grade filled", "PF-GB200", "Wrong oil grade"),
    ("Gear tooth fatigue under peak load", "DF-GB200-SHAFT", "Fatigue crack at keyway root"),
    ("Gear failure under patient overload", "DF-GB200-SHAFT", "Fatigue crack at keyway root"),
];

/// Seeds the demo matrices and risks once (nothing when a matrix exists): returns the risks
/// created and the risks already there. `users` maps printed names to ids, `processes` process
/// names to (id, owner's printed name).
pub async fn seed_risks(
    store: &dyn Store,
    ctx: &AuditContext,
    approver: (UserId, &str),
    processes: &HashMap<String, (ProcessId, String)>,
    users: &HashMap<&str, UserId>,
) -> StoreResult<(usize, usize)> {
    if !store.list_matrix_revisions().await?.is_empty() {
        let all = crate::storage::RiskFilter { include_closed: true, limit: 1, ..Default::default() };
        let existing = store.list_risks(&all, Utc::now().date_naive()).await?.total;
        return Ok((0, usize::try_from(existing).unwrap_or_default()));
    }
    let approving = AuditContext { actor_id: Some(approver.0.0), actor_name: approver.1.into(), ..ctx.clone() };
    let general = approved_matrix(store, &approving, approver, default_5x5()).await?;
    let medical = approved_matrix(store, &approving, approver, medical_5x4()).await?;
    let today = Utc::now().date_naive();
    // The failure chains the demo risks cite, found by FMEA ID and failure mode.
    let mut chains = HashMap::new();
    for fmea in store.list_fmeas().await? {
        if let Some(sheet) = store.worksheet(fmea.id, None).await? {
            for row in sheet.rows {
                chains.entry((fmea.fmea_number.clone(), row.cells.failure_mode.clone())).or_insert(row.id);
            }
        }
    }
    let mut created = 0;
    for (set, revision) in [(GENERAL, &general), (MEDICAL, &medical)] {
        for &(title, category, process, inherent, residual, status, review, control, evidence) in set {
            let Some((process_id, owner)) = processes.get(process) else { continue };
            let owner = users.get(owner.as_str()).copied().unwrap_or(approver.0);
            let evidence = processes.get(evidence).map(|(id, _)| Evidence {
                record_type: EvidenceType::Process,
                record_id: id.0,
                label: String::new(),
            });
            let input = RiskInput {
                title: title.into(),
                description: String::new(),
                category: category.into(),
                process_id: Some(*process_id),
                owner_id: Some(owner),
                // Accepted ones are accepted by signature below.
                status: if status == Acc { Trt } else { status },
                review_date: Some(days_from(today, review)),
                matrix_revision_id: Some(revision.id),
                inherent_likelihood: Some(inherent.0),
                inherent_severity: Some(inherent.1),
                residual_likelihood: Some(residual.0),
                residual_severity: Some(residual.1),
                controls: vec![Control {
                    description: control.into(),
                    evidence: evidence
                        .into_iter()
                        .chain(
                            FMEA_LINKS
                                .iter()
                                .filter(|(t, ..)| *t == title)
                                .filter_map(|(_, f, m)| chains.get(&((*f).to_string(), (*m).to_string())))
                                .map(|row| Evidence {
                                    record_type: EvidenceType::FmeaRow,
                                    record_id: row.0,
                                    label: String::new(),
                                }),
                        )
                        .collect(),
                }],
                acceptance_rationale: String::new(),
                version: None,
                reason: String::new(),
            };
            let risk = store.create_risk(ctx, &input).await?;
            created += 1;
            if status == Acc {
                let rationale = RATIONALES.iter().find(|(t, _)| *t == title).map(|(_, r)| (*r).to_string());
                let sign = SignInput {
                    record_type: "risk".into(),
                    record_id: risk.id.0,
                    record_version: risk.meta.version,
                    meaning: Meaning::Approved,
                    password: String::new(),
                    username: None,
                    accept_agreement: true,
                    rationale,
                };
                store.sign(&approving, approver.0, approver.1, &sign, true).await?;
            }
        }
    }
    Ok((created, 0))
}

fn days_from(today: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        today.checked_add_days(Days::new(days.unsigned_abs())).unwrap_or(today)
    } else {
        today.checked_sub_days(Days::new(days.unsigned_abs())).unwrap_or(today)
    }
}

async fn approved_matrix(
    store: &dyn Store,
    approving: &AuditContext,
    approver: (UserId, &str),
    definition: MatrixDefinition,
) -> StoreResult<MatrixRevision> {
    let input = MatrixInput { definition, change_note: "First issue".into(), version: None };
    let revision = store.create_matrix(approving, &input).await?;
    let sign = SignInput {
        record_type: "risk_matrix_revision".into(),
        record_id: revision.id.0,
        record_version: revision.meta.version,
        meaning: Meaning::Approved,
        password: String::new(),
        username: None,
        accept_agreement: true,
        rationale: None,
    };
    store.sign(approving, approver.0, approver.1, &sign, true).await?;
    Ok(store.get_matrix_revision(revision.id).await?.unwrap_or(revision))
}

/// Adds `count` generated risks on the effective revision of the first matrix (for the bench):
/// every process, owner and cell is used, review dates spread over a year either side of today.
pub async fn generate_risks(store: &dyn Store, ctx: &AuditContext, count: usize) -> StoreResult<usize> {
    let revisions = store.list_matrix_revisions().await?;
    let Some(revision) = revisions.iter().find(|r| r.status == shared::register::RevisionStatus::Effective) else {
        return Ok(0);
    };
    let processes = store.list_processes(false).await?;
    let owners: Vec<UserId> = processes.iter().filter_map(|p| p.owner_id).collect();
    if processes.is_empty() || owners.is_empty() {
        return Ok(0);
    }
    let (rows, columns) = (revision.definition.likelihood.len() as i64, revision.definition.severity.len() as i64);
    let today = Utc::now().date_naive();
    let categories = ["Product", "Process", "Supplier", "Customer", "Regulatory", "Health & safety", "Business"];
    for i in 0..count {
        let n = i as i64;
        let (il, is) = (n % rows + 1, (n / rows) % columns + 1);
        let (rl, rs) = ((il - (n % 3)).max(1), (is - (n / 7 % 2)).max(1));
        let process = &processes[i % processes.len()];
        let input = RiskInput {
            title: format!("Generated risk {} — {}", i + 1, process.name),
            description: "Generated for the bench.".into(),
            category: categories[i % categories.len()].into(),
            process_id: Some(process.id),
            owner_id: Some(owners[i % owners.len()]),
            status: [RiskStatus::Identified, RiskStatus::Assessed, RiskStatus::Treated][i % 3],
            review_date: Some(days_from(today, n % 730 - 365)),
            matrix_revision_id: Some(revision.id),
            inherent_likelihood: Some(il),
            inherent_severity: Some(is),
            residual_likelihood: Some(rl),
            residual_severity: Some(rs),
            controls: vec![],
            acceptance_rationale: String::new(),
            version: None,
            reason: String::new(),
        };
        store.create_risk(ctx, &input).await?;
    }
    Ok(count)
}
