//! Demo training: requirements on the demo documents (one with a quiz, one recurring, one
//! signed off on the job), curricula by role and department, and some history from before
//! Caliper, so that the matrix shows every status: completed, expired, superseded, overdue,
//! due soon and assigned. The data is `server/demo/training.json`; the curricula are added
//! last, through the same call as a quality manager's, so today's assignments are made by the
//! same rule as in use.

use std::collections::HashMap;

use chrono::{Days, Utc};
use serde::Deserialize;
use shared::auth::{Role, UserId};
use shared::org::DepartmentId;
use shared::training::{CurriculumLine, Quiz, RequirementInput, RequirementKind};

use crate::storage::{AuditContext, HistoricTraining, Store, StoreError, StoreResult};

const TRAINING: &str = include_str!("../demo/training.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTraining {
    requirements: Vec<DemoRequirement>,
    history: Vec<DemoHistory>,
    curriculum: Vec<DemoLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRequirement {
    title: String,
    kind: RequirementKind,
    /// The document's title.
    #[serde(default)]
    document: Option<String>,
    #[serde(default)]
    quiz: Option<Quiz>,
    #[serde(default)]
    recurrence_months: Option<u32>,
    completion_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoHistory {
    user: String,
    requirement: String,
    /// The revision's label.
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    completed_days_ago: Option<u64>,
    #[serde(default)]
    assigned_days_ago: Option<u64>,
    #[serde(default)]
    due_days_ago: Option<u64>,
    #[serde(default)]
    trainer: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoLine {
    requirement: String,
    #[serde(default)]
    role: Option<Role>,
    /// The department's name.
    #[serde(default)]
    department: Option<String>,
}

/// Seeds the demo training once (nothing when a requirement exists): returns the requirements
/// (created, existing). `users` maps usernames to (id, printed name), `departments` names to ids.
pub async fn seed_training(
    store: &dyn Store,
    users: &HashMap<&str, (UserId, String)>,
    departments: &HashMap<String, DepartmentId>,
) -> StoreResult<(usize, usize)> {
    let existing = store.list_requirements().await?;
    if !existing.is_empty() {
        return Ok((0, existing.len()));
    }
    let demo: DemoTraining =
        serde_json::from_str(TRAINING).map_err(|e| StoreError::Internal(format!("demo/training.json: {e}")))?;
    let missing = |what: &str, name: &str| StoreError::Internal(format!("demo training: no {what} `{name}`"));
    let who = |username: &str| users.get(username).cloned().ok_or_else(|| missing("user", username));
    let (manager_id, manager_name) = who("priya.natarajan")?;
    let ctx = AuditContext {
        actor_id: Some(manager_id.0),
        actor_name: manager_name,
        ..AuditContext::tool("caliper seed-demo")
    };
    let documents = store.list_documents(true).await?;
    let mut requirements = HashMap::new();
    let mut created = 0;
    for r in &demo.requirements {
        let document = match &r.document {
            None => None,
            Some(title) => {
                Some(documents.iter().find(|d| &d.title == title).ok_or_else(|| missing("document", title))?)
            }
        };
        let input = RequirementInput {
            title: r.title.clone(),
            kind: r.kind,
            document_id: document.map(|d| d.id),
            quiz: r.quiz.clone(),
            recurrence_months: r.recurrence_months,
            completion_days: r.completion_days,
        };
        let requirement = store.create_requirement(&ctx, &input).await?;
        created += 1;
        requirements.insert(r.title.clone(), (requirement, document.map(|d| d.id)));
    }
    let now = Utc::now();
    let today = now.date_naive();
    let ago = |days: u64| today.checked_sub_days(Days::new(days)).unwrap_or(today);
    for h in &demo.history {
        let (requirement, document) =
            requirements.get(&h.requirement).ok_or_else(|| missing("requirement", &h.requirement))?;
        let revision = match (document, &h.revision) {
            (Some(doc), Some(label)) => Some(
                store
                    .list_revisions(*doc)
                    .await?
                    .into_iter()
                    .find(|r| &r.label == label)
                    .ok_or_else(|| missing("revision", label))?
                    .id,
            ),
            _ => None,
        };
        let completed_at = h.completed_days_ago.map(|d| now.checked_sub_days(Days::new(d)).unwrap_or(now));
        let assigned = h.assigned_days_ago.or(h.completed_days_ago.map(|d| d + 14)).unwrap_or(0);
        let row = HistoricTraining {
            user: who(&h.user)?.0,
            requirement: requirement.id,
            revision,
            assigned_on: ago(assigned),
            due_on: ago(h.due_days_ago.unwrap_or(assigned.saturating_sub(14))),
            completed_at,
            score: None,
            trainer: h.trainer.as_deref().map(who).transpose()?.map(|t| t.0),
        };
        store.import_history(&ctx, &row).await?;
    }
    for l in &demo.curriculum {
        let (requirement, _) =
            requirements.get(&l.requirement).ok_or_else(|| missing("requirement", &l.requirement))?;
        let department_id = match &l.department {
            None => None,
            Some(name) => Some(*departments.get(name).ok_or_else(|| missing("department", name))?),
        };
        store
            .add_curriculum_line(&ctx, &CurriculumLine { requirement_id: requirement.id, role: l.role, department_id })
            .await?;
    }
    Ok((created, 0))
}
