//! Demo nonconformance, complaints and CAPA: two years of closed NCs and CAPAs with their
//! confirmed root causes (`server/demo/quality_history.csv`, the history the suggestion model
//! learns from and the Pareto draws), and today's work made through the same calls as a user's:
//! NCs of every source and state, complaints linked to NCs, and CAPAs in every stage, one
//! reopened after an ineffective check and one waiting on a document revision.
//!
//! `caliper seed-quality --ncs N --capas M` writes a larger history (for the bench) by drawing
//! on the same texts with other dates and amounts.

use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use shared::auth::UserId;
use shared::document::RevisionInput;
use shared::org::ProcessId;
use shared::quality::{
    ActionInput, CapaId, CapaInput, CapaKind, CapaStep, CapaUpdate, CategoryId, Cause, CauseCategory, Channel,
    ComplaintInput, ComplaintStep, Costs, Disposition, EffectivenessResult, Investigation, LinkKind, NcId, NcInput,
    NcSource, NcStep,
};
use shared::signature::{Meaning, SignInput};

use crate::storage::{AuditContext, Change, HistoricQuality, QualityActor, Store, StoreError, StoreResult};

const HISTORY: &str = include_str!("../demo/quality_history.csv");

/// The records made today through the users' calls: 5 NCs and the customer's, 3 complaints, and
/// 9 CAPAs besides the one the customer's NC opened.
const LIVE_RECORDS: usize = 18;

/// One row of the history file.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// A CAPA (else an NC).
    pub capa: bool,
    /// The NC category's name.
    pub category: String,
    /// The process's name.
    pub process: String,
    /// The confirmed root cause.
    pub root_cause: CauseCategory,
    /// Where it was found.
    pub source: NcSource,
    /// Days before today it was found.
    pub days_ago: u64,
    /// Units.
    pub quantity: u32,
    /// Scrap cost, cents.
    pub scrap: i64,
    /// Rework cost, cents.
    pub rework: i64,
    /// Short title.
    pub title: String,
    /// What was found and why.
    pub text: String,
}

/// The demo history file, parsed (a bad line is a build-time mistake: it fails loudly).
pub fn history() -> Result<Vec<HistoryRow>, String> {
    let records = shared::csv::read(HISTORY).map_err(|e| format!("line {}: {}", e.line, e.reason))?;
    let mut out = Vec::new();
    for r in records.iter().skip(1) {
        let c = |i: usize| r.cells.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
        let bad = |what: &str| format!("quality_history.csv line {}: bad {what}", r.line);
        out.push(HistoryRow {
            capa: match c(0).as_str() {
                "capa" => true,
                "nc" => false,
                _ => return Err(bad("kind")),
            },
            category: c(1),
            process: c(2),
            root_cause: CauseCategory::parse(&c(3)).ok_or_else(|| bad("root_cause"))?,
            source: NcSource::parse(&c(4)).ok_or_else(|| bad("source"))?,
            days_ago: c(5).parse().map_err(|_| bad("days_ago"))?,
            quantity: c(6).parse().map_err(|_| bad("quantity"))?,
            scrap: c(7).parse().map_err(|_| bad("scrap"))?,
            rework: c(8).parse().map_err(|_| bad("rework"))?,
            title: c(9),
            text: c(10),
        });
    }
    Ok(out)
}

/// The history rows as records to import: names resolved to ids, `people` taking turns as
/// reporters, owners and verifiers.
pub fn to_historic(
    rows: &[HistoryRow],
    categories: &HashMap<String, CategoryId>,
    processes: &HashMap<String, ProcessId>,
    people: &[UserId],
    today: NaiveDate,
) -> StoreResult<Vec<HistoricQuality>> {
    let n = people.len().max(1);
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let category = *categories
                .get(&r.category)
                .ok_or_else(|| StoreError::Internal(format!("no NC category `{}`", r.category)))?;
            let found_on = today.checked_sub_days(Days::new(r.days_ago)).unwrap_or(today);
            // A CAPA is opened a few days after the problem is found, and closes weeks later.
            let lag = if r.capa { 1 + (i as u64 * 5) % 9 } else { 0 };
            let opened_on = found_on.checked_add_days(Days::new(lag)).unwrap_or(found_on).min(today);
            let span = if r.capa { 12 + (i as u64 * 7) % 45 } else { 2 + (i as u64 * 3) % 20 };
            let closed_on = opened_on.checked_add_days(Days::new(span)).unwrap_or(today).min(today);
            Ok(HistoricQuality {
                capa: r.capa,
                category,
                process: processes.get(&r.process).copied(),
                root_cause: r.root_cause,
                source: r.source,
                found_on,
                opened_on,
                closed_on,
                quantity: r.quantity,
                costs: Costs { scrap: r.scrap, rework: r.rework, warranty: 0, returns: 0 },
                title: r.title.clone(),
                text: r.text.clone(),
                person: people.get(i % n).copied().unwrap_or(UserId(1)),
                verifier: people.get((i + 1) % n).copied().filter(|v| Some(*v) != people.get(i % n).copied()),
            })
        })
        .collect()
}

fn ctx_of(user: (UserId, &str)) -> AuditContext {
    AuditContext { actor_id: Some(user.0.0), actor_name: user.1.to_string(), ..AuditContext::tool("seed-demo") }
}

fn done<T>(c: Change<T>) -> StoreResult<T> {
    match c {
        Change::Done(t) => Ok(t),
        _ => Err(StoreError::Internal("a demo step did not go through".into())),
    }
}

/// Seeds the demo quality records once (nothing when an NC exists): returns (created, existing).
pub async fn seed_quality(
    store: &dyn Store,
    users: &HashMap<&str, (UserId, String)>,
    processes: &HashMap<String, ProcessId>,
) -> StoreResult<(usize, usize)> {
    let rows = history().map_err(StoreError::Internal)?;
    if !store.list_ncs(&Default::default()).await?.is_empty() {
        return Ok((0, rows.len() + LIVE_RECORDS));
    }
    let person = |u: &str| -> StoreResult<(UserId, &str)> {
        users
            .get(u)
            .map(|(id, name)| (*id, name.as_str()))
            .ok_or_else(|| StoreError::Internal(format!("no demo user {u}")))
    };
    let qm = person("priya.natarajan")?;
    let today = Utc::now().date_naive();
    let categories: HashMap<String, CategoryId> =
        store.list_categories().await?.into_iter().map(|c| (c.name, c.id)).collect();
    // Two years of closed history.
    let crew: Vec<UserId> = ["tom.okafor", "marta.kowalska", "dev.malhotra", "aisha.rahman", "graham.lees", "lee.chen"]
        .iter()
        .filter_map(|u| users.get(u).map(|p| p.0))
        .collect();
    let historic = to_historic(&rows, &categories, processes, &crew, today)?;
    store.import_quality_history(&ctx_of(qm), &historic).await?;

    let manager = |u: (UserId, &str)| QualityActor { user: u.0, manager: true, disposition: true };
    let worker = |u: (UserId, &str)| QualityActor { user: u.0, manager: false, disposition: false };
    let cat = |name: &str| categories.get(name).copied();
    let process = |name: &str| processes.get(name).copied();
    let ago = |d: u64| today.checked_sub_days(Days::new(d));
    let later = |d: u64| today.checked_add_days(Days::new(d));
    let (lee, tom, marta, dev, aisha, graham, owen) = (
        person("lee.chen")?,
        person("tom.okafor")?,
        person("marta.kowalska")?,
        person("dev.malhotra")?,
        person("aisha.rahman")?,
        person("graham.lees")?,
        person("owen.price")?,
    );
    let nc =
        |source, category: &str, process_name: &str, qty, text: &str, containment: &str, days: u64, scrap| NcInput {
            source,
            category_id: cat(category),
            process_id: process(process_name),
            product: "GB-200".into(),
            lot: format!("L-{}", 2400 + days),
            quantity: qty,
            description: text.into(),
            containment: containment.into(),
            reported_on: ago(days),
            costs: Costs { scrap, ..Costs::default() },
            complaint_id: None,
            version: None,
        };

    // Today's NCs, of every source and state.
    store
        .create_nc(&ctx_of(lee), lee.0, &nc(NcSource::Internal, "Workmanship", "Final assembly", 3,
            "Three GB-200 units left the torque station with cover bolts below 22 Nm; found at the end-of-line audit.",
            "Units held at the end of line and re-torqued before packing.", 1, 0))
        .await?;
    let supplier = store
        .create_nc(
            &ctx_of(lee),
            lee.0,
            &nc(
                NcSource::Supplier,
                "Material",
                "Incoming inspection",
                40,
                "Seals from SealTech lot ST-8812 measured 78 Shore A against the specified 70 ± 5.",
                "Lot quarantined in the incoming cage, supplier informed.",
                4,
                0,
            ),
        )
        .await?;
    done(
        store
            .nc_step(
                &ctx_of(qm),
                supplier.id,
                &NcStep::Disposition {
                    disposition: Disposition::ReturnToSupplier,
                    note: "Whole lot returned; replacement requested".into(),
                    version: 1,
                },
                manager(qm),
            )
            .await?,
    )?;
    let overdue = store
        .create_nc(&ctx_of(tom), tom.0, &nc(NcSource::Internal, "Dimensional", "CNC machining", 12,
            "Bore of H-200 housings 0.04 mm oversize on the second shift; tool offset not updated after insert change.",
            "Parts segregated, 100 % bore check on the lot.", 41, 96_000))
        .await?;
    let audited = store
        .create_nc(
            &ctx_of(aisha),
            aisha.0,
            &nc(
                NcSource::Audit,
                "Documentation",
                "Document control",
                0,
                "Internal audit: two work instructions at the assembly line were superseded revisions.",
                "Obsolete copies removed from the line.",
                9,
                0,
            ),
        )
        .await?;
    done(store.nc_step(&ctx_of(qm), audited.id, &NcStep::Evaluate { capa_needed: false,
        rationale: "Isolated: the line's document binder was missed in one distribution; corrected at once.".into(),
        root_cause: Some(CauseCategory::Method), version: 1 }, manager(qm)).await?)?;
    done(store.nc_step(&ctx_of(qm), audited.id, &NcStep::Close { version: 2 }, manager(qm)).await?)?;
    let mistaken = store
        .create_nc(
            &ctx_of(lee),
            lee.0,
            &nc(
                NcSource::Internal,
                "Labelling",
                "Final assembly",
                1,
                "Label printer misprint on one carton.",
                "",
                2,
                0,
            ),
        )
        .await?;
    done(
        store
            .nc_step(
                &ctx_of(qm),
                mistaken.id,
                &NcStep::Cancel {
                    reason: "Raised twice: the same carton is NC already recorded at packing.".into(),
                    version: 1,
                },
                manager(qm),
            )
            .await?,
    )?;

    // A complaint with its NC and a CAPA; another just received; one closed.
    let complaint = store
        .create_complaint(
            &ctx_of(owen),
            owen.0,
            &ComplaintInput {
                customer: "Nordic Pumps AB".into(),
                product: "GB-200 gearbox".into(),
                lot: "L-2397".into(),
                received_on: ago(12),
                channel: Channel::Email,
                description: "Two gearboxes leak oil at the output shaft seal after 40 hours on the test rig.".into(),
            },
        )
        .await?;
    let mut customer_nc = nc(
        NcSource::Customer,
        "Material",
        "Final assembly",
        2,
        "Output shaft seals leaking on two gearboxes returned by Nordic Pumps; seal lip damaged.",
        "Stock of the seal lot blocked; 20 assembled units re-tested.",
        11,
        0,
    );
    customer_nc.complaint_id = Some(complaint.id);
    customer_nc.costs = Costs { returns: 180_000, warranty: 65_000, ..Costs::default() };
    let customer_nc = store.create_nc(&ctx_of(owen), owen.0, &customer_nc).await?;
    done(
        store
            .complaint_step(
                &ctx_of(qm),
                complaint.id,
                &ComplaintStep::Investigate {
                    findings: "Seal lips nicked at assembly: the press-fit tool has a sharp edge.".into(),
                    version: 1,
                },
                manager(qm),
                today,
            )
            .await?,
    )?;
    done(
        store
            .complaint_step(
                &ctx_of(qm),
                complaint.id,
                &ComplaintStep::Reportability {
                    reportable: false,
                    reason: "Industrial gearbox, no injury: not a reportable event.".into(),
                    version: 2,
                },
                manager(qm),
                today,
            )
            .await?,
    )?;
    done(
        store
            .nc_step(
                &ctx_of(qm),
                customer_nc.id,
                &NcStep::Disposition {
                    disposition: Disposition::Rework,
                    note: "Replace the seals on returned and blocked units".into(),
                    version: 1,
                },
                manager(qm),
            )
            .await?,
    )?;
    done(
        store
            .nc_step(
                &ctx_of(qm),
                customer_nc.id,
                &NcStep::Evaluate {
                    capa_needed: true,
                    rationale: "Customer-found, repeat of a 2025 leak: CAPA needed.".into(),
                    root_cause: None,
                    version: 2,
                },
                manager(qm),
            )
            .await?,
    )?;
    let linked = done(
        store
            .nc_step(&ctx_of(qm), customer_nc.id, &NcStep::LinkCapa { capa_id: None, version: 3 }, manager(qm))
            .await?,
    )?;
    store
        .create_complaint(
            &ctx_of(owen),
            owen.0,
            &ComplaintInput {
                customer: "Hansen Conveyors".into(),
                product: "GB-200 gearbox".into(),
                lot: "L-2402".into(),
                received_on: ago(1),
                channel: Channel::Phone,
                description: "Customer reports a whining noise at full load on one unit.".into(),
            },
        )
        .await?;
    let answered = store
        .create_complaint(
            &ctx_of(owen),
            owen.0,
            &ComplaintInput {
                customer: "Baltic Mills".into(),
                product: "GB-140 gearbox".into(),
                lot: "L-2321".into(),
                received_on: ago(40),
                channel: Channel::Web,
                description: "Delivery note listed the wrong ratio.".into(),
            },
        )
        .await?;
    for (v, step) in [
        ComplaintStep::Investigate { findings: "Ratio typed by hand on the delivery note.".into(), version: 1 },
        ComplaintStep::Reportability { reportable: false, reason: "Paperwork only.".into(), version: 2 },
        ComplaintStep::Respond { response: "Corrected delivery note sent.".into(), responded_on: ago(38), version: 3 },
        ComplaintStep::Close { version: 4 },
    ]
    .into_iter()
    .enumerate()
    {
        let _ = v;
        done(store.complaint_step(&ctx_of(qm), answered.id, &step, manager(qm), today).await?)?;
    }

    // CAPAs in every stage.
    let open = |title: &str, problem: &str, process_name: &str, nc_id: Option<NcId>| CapaInput {
        title: title.into(),
        kind: CapaKind::Corrective,
        process_id: process(process_name),
        problem: problem.into(),
        nc_id,
        complaint_id: None,
        eight_d: false,
    };
    // Draft.
    store
        .create_capa(
            &ctx_of(qm),
            &open("Label printer misprints", "Cartons printed with smeared barcodes.", "Final assembly", None),
            today,
        )
        .await?;
    // Triage.
    let c = store
        .create_capa(
            &ctx_of(qm),
            &open("Late incoming inspection", "Incoming lots wait 5 days for inspection.", "Incoming inspection", None),
            today,
        )
        .await?;
    capa_step(store, qm, c.id, CapaStep::Submit { version: 1 }, manager(qm)).await?;
    // Investigation: the CAPA opened from the customer's NC, with whys and a suspected cause.
    let leak = linked.capa_id.ok_or_else(|| StoreError::Internal("no CAPA linked".into()))?;
    let triage = |owner: (UserId, &str), verifier: (UserId, &str), version| CapaStep::Triage {
        severity: 4,
        likelihood: 3,
        owner_id: Some(owner.0),
        verifier_id: Some(verifier.0),
        due_on: later(30),
        version,
    };
    capa_step(store, qm, leak, CapaStep::Submit { version: 1 }, manager(qm)).await?;
    let c = capa_step(store, qm, leak, triage(marta, graham, 2), manager(qm)).await?;
    let investigation = |causes: Vec<Cause>| Investigation {
        problem: c.investigation.problem.clone(),
        containment: "Seal lot blocked; assembled units re-tested.".into(),
        whys: vec![
            "The seal lip was nicked".into(),
            "The press-fit tool touched the lip".into(),
            "The tool's lead-in chamfer is worn sharp".into(),
        ],
        causes,
        ..Investigation::default()
    };
    done(
        store
            .update_capa(
                &ctx_of(marta),
                leak,
                &CapaUpdate {
                    title: c.title.clone(),
                    process_id: c.process_id,
                    investigation: investigation(vec![Cause {
                        category: CauseCategory::Machine,
                        text: "Press-fit tool chamfer worn".into(),
                        confirmed: false,
                        evidence: String::new(),
                    }]),
                    eight_d: true,
                    due_on: None,
                    version: c.meta.version,
                },
                worker(marta),
            )
            .await?,
    )?;

    // Implementation, waiting on a document revision still in draft.
    let docs = store.list_documents(false).await?;
    let waiting_on = match docs.first() {
        Some(d) => {
            let owner = (d.owner_id, d.owner_name.as_str());
            let input = RevisionInput {
                body: "Check the lead-in chamfer of the press-fit tool before each shift.".into(),
                reason_for_change: "CAPA: seal damage at press fit".into(),
                change_summary: "Tool check added".into(),
                ..Default::default()
            };
            match store.create_revision(&ctx_of(owner), d.id, &input).await {
                Ok(r) => Some(r.id.0),
                Err(_) => store
                    .list_revisions(d.id)
                    .await?
                    .into_iter()
                    .find(|r| matches!(r.status.as_str(), "draft" | "in_review"))
                    .map(|r| r.id.0),
            }
        }
        None => None,
    };
    let c = store
        .create_capa(
            &ctx_of(qm),
            &open(
                "Bore oversize after insert changes",
                "H-200 bores oversize after insert changes on the second shift.",
                "CNC machining",
                Some(overdue.id),
            ),
            today,
        )
        .await?;
    capa_step(store, qm, c.id, CapaStep::Submit { version: 1 }, manager(qm)).await?;
    let c = capa_step(store, qm, c.id, triage(tom, dev, 2), manager(qm)).await?;
    let plan = |c: &shared::quality::Capa, why: &str, cause: CauseCategory| CapaUpdate {
        title: c.title.clone(),
        process_id: c.process_id,
        investigation: Investigation {
            problem: c.investigation.problem.clone(),
            whys: vec![why.into(), "The offset update is not in the work instruction".into()],
            causes: vec![Cause {
                category: cause,
                text: why.into(),
                confirmed: true,
                evidence: "Shift log and offset history".into(),
            }],
            ..Investigation::default()
        },
        eight_d: false,
        due_on: None,
        version: c.meta.version,
    };
    let c = done(
        store
            .update_capa(
                &ctx_of(tom),
                c.id,
                &plan(&c, "Offset not updated after insert change", CauseCategory::Method),
                worker(tom),
            )
            .await?,
    )?;
    let task = |title: &str, kind: LinkKind, link: Option<i64>, version| ActionInput {
        title: title.into(),
        kind,
        link_id: link,
        owner_id: Some(tom.0),
        due_on: later(14),
        version,
    };
    let first = match waiting_on {
        Some(rev) => {
            task("Add the offset update to the work instruction", LinkKind::DocumentRevision, Some(rev), c.meta.version)
        }
        None => task("Brief the second shift", LinkKind::Task, None, c.meta.version),
    };
    let c = done(store.add_action(&ctx_of(tom), c.id, &first, worker(tom), today).await?)?;
    let c = capa_step(store, tom, c.id, CapaStep::SubmitPlan { version: c.meta.version }, worker(tom)).await?;
    approve(store, qm, &c).await?;

    // Verification, effectiveness due, closed, reopened: plain tasks carried through.
    let carried = [
        (
            "Cartons crushed in transit to Nordic Pumps",
            "Three cartons arrived crushed: the pallet was stacked two high against the packing instruction.",
            "Final assembly",
            CauseCategory::Man,
            0,
        ),
        (
            "Chips in gearbox housings",
            "Swarf found inside two housings at assembly.",
            "CNC machining",
            CauseCategory::Method,
            1,
        ),
        (
            "Torque wrench TW-15 out of calibration",
            "TW-15 read 8 % low at its calibration.",
            "Calibration",
            CauseCategory::Measurement,
            2,
        ),
        (
            "Corroded bearings from Baltic Bearings",
            "Bearings arrived with rust spots on two lots.",
            "Supplier management",
            CauseCategory::Material,
            3,
        ),
        (
            "Night-shift skips the leak test",
            "Leak test records missing for 14 units on nights.",
            "Final assembly",
            CauseCategory::Man,
            4,
        ),
        (
            "Coolant concentration drift",
            "Surface finish out on shafts when coolant ran lean.",
            "CNC machining",
            CauseCategory::Environment,
            5,
        ),
    ];
    for (title, problem, process_name, cause, stage) in carried {
        let c = store.create_capa(&ctx_of(qm), &open(title, problem, process_name, None), today).await?;
        capa_step(store, qm, c.id, CapaStep::Submit { version: 1 }, manager(qm)).await?;
        let c = capa_step(store, qm, c.id, triage(dev, aisha, 2), manager(qm)).await?;
        let c = done(store.update_capa(&ctx_of(dev), c.id, &plan(&c, problem, cause), worker(dev)).await?)?;
        let c = done(
            store
                .add_action(
                    &ctx_of(dev),
                    c.id,
                    &ActionInput {
                        owner_id: Some(dev.0),
                        ..task("Fix and brief the team", LinkKind::Task, None, c.meta.version)
                    },
                    worker(dev),
                    today,
                )
                .await?,
        )?;
        let c = capa_step(store, dev, c.id, CapaStep::SubmitPlan { version: c.meta.version }, worker(dev)).await?;
        if stage == 0 {
            continue; // the plan waits for the quality manager's signature
        }
        let c = approve(store, qm, &c).await?;
        let action = c.actions[0].id;
        let c = done(store.complete_action(&ctx_of(dev), c.id, action, c.meta.version, worker(dev), today).await?)?;
        let c = capa_step(store, dev, c.id, CapaStep::CompleteImplementation { version: c.meta.version }, worker(dev))
            .await?;
        if stage == 1 {
            continue; // verification
        }
        let due = if stage == 2 { later(60) } else { Some(today) };
        let c = capa_step(
            store,
            aisha,
            c.id,
            CapaStep::Verify {
                effectiveness_due_on: due,
                note: "Checked on the floor".into(),
                version: c.meta.version,
            },
            worker(aisha),
        )
        .await?;
        let check = |result, note: &str, version| CapaStep::RecordEffectiveness {
            result,
            note: note.into(),
            next_check_on: if result == EffectivenessResult::Inconclusive { later(30) } else { None },
            version,
        };
        match stage {
            3 => {
                capa_step(
                    store,
                    aisha,
                    c.id,
                    check(
                        EffectivenessResult::Inconclusive,
                        "Only two lots received since: check again",
                        c.meta.version,
                    ),
                    worker(aisha),
                )
                .await?;
            }
            4 => {
                capa_step(
                    store,
                    aisha,
                    c.id,
                    check(EffectivenessResult::Ineffective, "Two leak tests missing again in week 3", c.meta.version),
                    worker(aisha),
                )
                .await?;
            }
            5 => {
                let c = capa_step(
                    store,
                    qm,
                    c.id,
                    CapaStep::Cancel {
                        reason: "Merged into the coolant management CAPA".into(),
                        version: c.meta.version,
                    },
                    manager(qm),
                )
                .await;
                c?;
            }
            _ => {}
        }
    }
    // A due-date extension waiting for the quality manager.
    let c = store.get_capa(leak).await?.ok_or_else(|| StoreError::Internal("no CAPA".into()))?;
    done(
        store
            .request_extension(
                &ctx_of(marta),
                leak,
                &shared::quality::ExtensionInput {
                    due_on: later(45),
                    reason: "New press-fit tool has a 5-week lead time".into(),
                    version: c.meta.version,
                },
                worker(marta),
                today,
            )
            .await?,
    )?;
    Ok((rows.len() + LIVE_RECORDS, 0))
}

/// A step of a demo CAPA, taken by `by`.
async fn capa_step(
    store: &dyn Store,
    by: (UserId, &str),
    id: CapaId,
    step: CapaStep,
    acting: QualityActor,
) -> StoreResult<shared::quality::Capa> {
    done(store.capa_step(&ctx_of(by), id, &step, acting, Utc::now().date_naive()).await?)
}

/// The quality manager signs the plan of `capa` (it moves to implementation).
async fn approve(
    store: &dyn Store,
    qm: (UserId, &str),
    capa: &shared::quality::Capa,
) -> StoreResult<shared::quality::Capa> {
    let sign = SignInput {
        record_type: "capa".into(),
        record_id: capa.id.0,
        record_version: capa.plan_version,
        meaning: Meaning::Approved,
        password: String::new(),
        username: None,
        accept_agreement: true,
        rationale: None,
    };
    store.sign(&ctx_of(qm), qm.0, qm.1, &sign, true).await?;
    store.get_capa(capa.id).await?.ok_or_else(|| StoreError::Internal("no CAPA".into()))
}

/// Writes `ncs` NCs and `capas` CAPAs of history (for the bench), drawn from the demo texts with
/// other dates and amounts, in batches of 5,000.
pub async fn generate_history(
    store: &dyn Store,
    ctx: &AuditContext,
    ncs: usize,
    capas: usize,
) -> StoreResult<(usize, usize)> {
    let rows = history().map_err(StoreError::Internal)?;
    let today = Utc::now().date_naive();
    let categories: HashMap<String, CategoryId> =
        store.list_categories().await?.into_iter().map(|c| (c.name, c.id)).collect();
    let processes: HashMap<String, ProcessId> =
        store.list_processes(false).await?.into_iter().map(|p| (p.name, p.id)).collect();
    let people: Vec<UserId> = store.list_users(false).await?.into_iter().map(|u| u.id).collect();
    let (nc_rows, capa_rows): (Vec<&HistoryRow>, Vec<&HistoryRow>) = rows.iter().partition(|r| !r.capa);
    let make = |i: usize, pool: &[&HistoryRow], capa: bool| {
        let r = pool[i % pool.len()];
        HistoryRow {
            capa,
            days_ago: (r.days_ago * 7 + i as u64 * 13) % 720 + 1,
            quantity: (r.quantity + i as u32 % 17) % 500,
            title: format!("{} ({})", r.title, i / pool.len() + 1),
            ..r.clone()
        }
    };
    let mut written = (0, 0);
    let all: Vec<HistoryRow> =
        (0..ncs).map(|i| make(i, &nc_rows, false)).chain((0..capas).map(|i| make(i, &capa_rows, true))).collect();
    for chunk in all.chunks(5000) {
        let historic = to_historic(chunk, &categories, &processes, &people, today)?;
        let (a, b) = store.import_quality_history(ctx, &historic).await?;
        written.0 += a;
        written.1 += b;
    }
    store.analyze().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_history_file_reads() {
        let rows = super::history().unwrap();
        assert!(rows.len() >= 300, "{}", rows.len());
        assert!(rows.iter().any(|r| r.capa));
        assert!(rows.iter().all(|r| !r.text.is_empty() && !r.title.is_empty()));
    }
}
