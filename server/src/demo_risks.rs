//! Demo risk register: the default 5×5 matrix and a medical-device 5×4 matrix, both approved
//! by the quality manager, and about 60 risks across the demo processes: some overdue for
//! review, a few unacceptable residuals accepted with a signed benefit–risk rationale.
//! Also the generator of large registers for the bench (`caliper seed-risks`).
//!
//! The risks are data: `server/demo/risks.csv`, read with the shared CSV reader
//! ([`shared::csv::read`]), one risk a line with its matrix, ratings, status, review date in
//! days from today, its control and the records that evidence it.

use std::collections::HashMap;

use chrono::Utc;
use shared::auth::UserId;
use shared::org::ProcessId;
use shared::register::{Control, Evidence, EvidenceType, MatrixInput, MatrixRevision, RiskInput, RiskStatus};
use shared::risk::{MatrixDefinition, default_5x5, medical_5x4};
use shared::signature::{Meaning, SignInput};

use crate::demo_fmea::days_from;
use crate::storage::{AuditContext, Store, StoreError, StoreResult};

const RISKS: &str = include_str!("../demo/risks.csv");

/// The columns of `demo/risks.csv`, in order.
const COLUMNS: [&str; 14] = [
    "Matrix",
    "Title",
    "Category",
    "Process",
    "Inherent likelihood",
    "Inherent severity",
    "Residual likelihood",
    "Residual severity",
    "Status",
    "Review in days",
    "Control",
    "Control evidence (process)",
    "Control evidence (FMEA: failure mode)",
    "Acceptance rationale",
];

/// One line of `demo/risks.csv`.
#[derive(Debug)]
struct DemoRisk {
    /// `general` (the 5×5 matrix) or `medical` (the 5×4 one).
    matrix: String,
    title: String,
    category: String,
    process: String,
    inherent: (i64, i64),
    residual: (i64, i64),
    status: RiskStatus,
    review_in_days: i64,
    control: String,
    /// The process whose records evidence the control.
    evidence_process: String,
    /// FMEA failure chains the control also cites: (FMEA ID, failure mode).
    fmea_chains: Vec<(String, String)>,
    /// For an accepted risk: the benefit–risk rationale signed with the acceptance.
    rationale: String,
}

/// The demo risks, or the first line that does not read.
fn demo_risks() -> StoreResult<Vec<DemoRisk>> {
    let bad = |line: usize, what: &str| StoreError::Internal(format!("demo/risks.csv line {line}: {what}"));
    let records = shared::csv::read(RISKS).map_err(|e| bad(e.line, &e.reason))?;
    let Some((header, lines)) = records.split_first() else { return Err(bad(1, "empty")) };
    if header.cells != COLUMNS {
        return Err(bad(1, "the header is not the expected one"));
    }
    lines
        .iter()
        .map(|r| {
            let [
                matrix,
                title,
                category,
                process,
                il,
                is,
                rl,
                rs,
                status,
                review,
                control,
                evidence,
                chains,
                rationale,
            ] = <[String; 14]>::try_from(r.cells.clone()).map_err(|_| bad(r.line, "not 14 cells"))?;
            let num = |v: &str, what: &str| v.parse::<i64>().map_err(|_| bad(r.line, what));
            let fmea_chains = chains
                .split("; ")
                .filter(|c| !c.is_empty())
                .map(|c| {
                    c.split_once(": ")
                        .map(|(f, m)| (f.to_string(), m.to_string()))
                        .ok_or_else(|| bad(r.line, "an FMEA chain is `FMEA ID: failure mode`"))
                })
                .collect::<StoreResult<_>>()?;
            Ok(DemoRisk {
                inherent: (num(&il, "inherent likelihood")?, num(&is, "inherent severity")?),
                residual: (num(&rl, "residual likelihood")?, num(&rs, "residual severity")?),
                status: RiskStatus::parse(&status).ok_or_else(|| bad(r.line, "unknown status"))?,
                review_in_days: num(&review, "review in days")?,
                matrix,
                title,
                category,
                process,
                control,
                evidence_process: evidence,
                fmea_chains,
                rationale,
            })
        })
        .collect()
}

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
    let risks = demo_risks()?;
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
    for demo in &risks {
        let revision = if demo.matrix == "medical" { &medical } else { &general };
        let Some((process_id, owner)) = processes.get(&demo.process) else { continue };
        let owner = users.get(owner.as_str()).copied().unwrap_or(approver.0);
        let evidence = processes.get(&demo.evidence_process).map(|(id, _)| Evidence {
            record_type: EvidenceType::Process,
            record_id: id.0,
            label: String::new(),
        });
        let cited = demo.fmea_chains.iter().filter_map(|c| chains.get(c)).map(|row| Evidence {
            record_type: EvidenceType::FmeaRow,
            record_id: row.0,
            label: String::new(),
        });
        let accepted = demo.status == RiskStatus::Accepted;
        let input = RiskInput {
            title: demo.title.clone(),
            description: String::new(),
            category: demo.category.clone(),
            process_id: Some(*process_id),
            owner_id: Some(owner),
            // Accepted ones are accepted by signature below.
            status: if accepted { RiskStatus::Treated } else { demo.status },
            review_date: Some(days_from(today, demo.review_in_days)),
            matrix_revision_id: Some(revision.id),
            inherent_likelihood: Some(demo.inherent.0),
            inherent_severity: Some(demo.inherent.1),
            residual_likelihood: Some(demo.residual.0),
            residual_severity: Some(demo.residual.1),
            controls: vec![Control {
                description: demo.control.clone(),
                evidence: evidence.into_iter().chain(cited).collect(),
            }],
            acceptance_rationale: String::new(),
            version: None,
            reason: String::new(),
        };
        let risk = store.create_risk(ctx, &input).await?;
        created += 1;
        if accepted {
            let sign = SignInput {
                record_type: "risk".into(),
                record_id: risk.id.0,
                record_version: risk.meta.version,
                meaning: Meaning::Approved,
                password: String::new(),
                username: None,
                accept_agreement: true,
                rationale: Some(demo.rationale.clone()).filter(|r| !r.is_empty()),
            };
            store.sign(&approving, approver.0, approver.1, &sign, true).await?;
        }
    }
    Ok((created, 0))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_risks_read_and_every_acceptance_has_its_rationale() {
        let risks = demo_risks().unwrap();
        assert_eq!(risks.len(), 60);
        assert!(risks.iter().any(|r| r.matrix == "medical") && risks.iter().any(|r| r.matrix == "general"));
        let accepted: Vec<_> = risks.iter().filter(|r| r.status == RiskStatus::Accepted).collect();
        assert!(!accepted.is_empty());
        assert!(accepted.iter().all(|r| !r.rationale.is_empty()), "an acceptance is signed with its rationale");
        assert!(risks.iter().any(|r| r.review_in_days < 0), "some are overdue for review");
        assert_eq!(risks.iter().map(|r| r.fmea_chains.len()).sum::<usize>(), 6);
    }
}
