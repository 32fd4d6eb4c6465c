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
    /// People exempted from a requirement, with why.
    #[serde(default)]
    exemptions: Vec<DemoExemption>,
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
struct DemoExemption {
    user: String,
    requirement: String,
    reason: String,
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
        store.import_history(&ctx, &[row]).await?;
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
    for x in &demo.exemptions {
        let (requirement, _) =
            requirements.get(&x.requirement).ok_or_else(|| missing("requirement", &x.requirement))?;
        let input = shared::training::ExemptionInput {
            user_id: who(&x.user)?.0,
            requirement_id: requirement.id,
            reason: x.reason.clone(),
            until: None,
        };
        store.create_exemption(&ctx, &input, today).await?;
    }
    Ok((created, 0))
}

/// Generated training for benchmarks: `people` members of staff spread over the existing
/// departments and `requirements` requirements (classroom and on-the-job, a quarter recurring
/// yearly), each in one department's curriculum and every tenth in the staff role's too. About
/// 70 % of the required cells get a completion from the past year and a half (the recurring ones
/// older than a year are expired), 5 % an assignment already overdue; the curricula then assign
/// the rest, as in use. Returns (people, requirements, required cells).
pub async fn generate_training(
    store: &dyn Store,
    ctx: &AuditContext,
    auth: &crate::auth::AuthConfig,
    people: usize,
    requirements: usize,
) -> StoreResult<(usize, usize, usize)> {
    let departments = store.list_departments(false).await?;
    if departments.is_empty() {
        return Err(StoreError::Internal("no department: run `caliper seed-demo` first".into()));
    }
    let hash = crate::auth::hash_now(auth, crate::seed::DEMO_PASSWORD).map_err(StoreError::Internal)?;
    let stamp = Utc::now().timestamp();
    let mut made = Vec::with_capacity(people);
    for i in 0..people {
        let department = &departments[i % departments.len()];
        let input = shared::auth::UserInput {
            username: format!("trainee.{stamp}.{i:05}"),
            full_name: format!("Trainee {i:05}"),
            email: format!("trainee{i:05}@example.com"),
            department_id: Some(department.id),
            roles: vec![Role::Staff],
            password: None,
            version: None,
        };
        made.push((store.create_user(ctx, &input, &hash, false).await?.id, department.id));
    }
    let mut lines = Vec::new();
    for r in 0..requirements {
        let input = RequirementInput {
            title: format!("Generated skill {r:04}"),
            kind: if r % 3 == 0 { RequirementKind::Classroom } else { RequirementKind::OnTheJob },
            document_id: None,
            quiz: None,
            recurrence_months: (r % 4 == 0).then_some(12),
            completion_days: 30,
        };
        let q = store.create_requirement(ctx, &input).await?;
        let department = departments[r % departments.len()].id;
        lines.push(CurriculumLine { requirement_id: q.id, role: None, department_id: Some(department) });
        if r % 10 == 0 {
            lines.push(CurriculumLine { requirement_id: q.id, role: Some(Role::Staff), department_id: None });
        }
    }
    // History first, for the cells the curricula will require; a small deterministic generator.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let now = Utc::now();
    let today = now.date_naive();
    let mut history = Vec::new();
    let mut cells = 0;
    for (user, department) in &made {
        let required = shared::training::required_of(&lines, &[Role::Staff], Some(*department));
        for requirement in required {
            cells += 1;
            let roll = next() % 100;
            let days = 1 + next() % 540;
            let (assigned_on, due_on, completed_at) = if roll < 70 {
                let completed = now - Days::new(days);
                ((completed - Days::new(20)).date_naive(), (completed + Days::new(10)).date_naive(), Some(completed))
            } else if roll < 75 {
                (today - Days::new(60), today - Days::new(1 + days % 30), None)
            } else {
                continue;
            };
            history.push(HistoricTraining {
                user: *user,
                requirement,
                revision: None,
                assigned_on,
                due_on,
                completed_at,
                score: None,
                trainer: None,
            });
        }
    }
    for chunk in history.chunks(2_000) {
        store.import_history(ctx, chunk).await?;
    }
    for line in &lines {
        store.add_curriculum_line(ctx, line).await?;
    }
    Ok((people, requirements, cells))
}
