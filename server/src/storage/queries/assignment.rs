//! Training's assignment rules against the database, compiled once per backend (see
//! [`crate::storage`]): the facts [`shared::training`] decides from ([`Facts`]), and assignments
//! written in the transaction of their cause: a revision approved ([`on_revision_approved`]), a
//! person created or changed ([`assign_person`], [`cancel_person`]), a curriculum line added or a
//! recurrence lapsing ([`assign_missing`]); "read and understood" ([`check_acknowledgment`],
//! [`settle_acknowledgment`]) and completion ([`complete`]). The partial unique index on open
//! assignments makes two causes firing at once (on two instances) give one assignment.
//!
//! The store's reads and the trainee's and trainer's calls are in `training.rs`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use shared::audit::{AuditAction, diff};
use shared::auth::{Role, UserId};
use shared::document::{Document, DocumentId, NoticeKind, Revision};
use shared::org::{DepartmentId, RecordMeta};
use shared::training::{
    AssignmentCause, CellStatus, Completion, CurriculumLine, Requirement, RequirementId, RequirementKind,
    RevisionFacts, assignment_due, cell_status_exempt, exemption_active, expires_on, required_of, training_baseline,
};

use super::base::{append_audit, append_audits};
use super::notice::{TrainingNotice, send_training_notices};
use super::{Conn, Db, WriteTx};
use crate::storage::common::Draft;
use crate::storage::trust::parse_roles;
use crate::storage::{AuditContext, StoreError, StoreResult};

// ---- the facts the rules need ----

#[derive(sqlx::FromRow)]
pub(super) struct RequirementRow {
    pub(super) requirement_id: i64,
    pub(super) title: String,
    pub(super) kind: String,
    pub(super) document_id: Option<i64>,
    pub(super) document_number: Option<String>,
    pub(super) questions: i64,
    pub(super) pass_mark: i64,
    pub(super) attempts_allowed: i64,
    pub(super) recurrence_months: Option<i64>,
    pub(super) completion_days: i64,
    pub(super) version: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) retired_at: Option<DateTime<Utc>>,
    pub(super) retired_reason: Option<String>,
}

pub(super) const REQUIREMENT_SELECT: &str = "select q.requirement_id, q.title, q.kind, q.document_id, d.number \
     as document_number, \
     q.questions, q.pass_mark, q.attempts_allowed, q.recurrence_months, q.completion_days, q.version, q.created_at, \
     q.updated_at, q.retired_at, q.retired_reason from training_requirements q \
     left join documents d on d.document_id = q.document_id";

pub(super) fn count(v: i64) -> u32 {
    u32::try_from(v).unwrap_or_default()
}

impl TryFrom<RequirementRow> for Requirement {
    type Error = StoreError;

    fn try_from(r: RequirementRow) -> Result<Self, StoreError> {
        let kind = RequirementKind::parse(&r.kind)
            .ok_or_else(|| StoreError::Internal(format!("requirement {}: kind `{}`", r.requirement_id, r.kind)))?;
        Ok(Requirement {
            id: RequirementId(r.requirement_id),
            title: r.title,
            kind,
            document_id: r.document_id.map(DocumentId),
            document_number: r.document_number,
            questions: count(r.questions),
            pass_mark: count(r.pass_mark),
            attempts_allowed: count(r.attempts_allowed),
            recurrence_months: r.recurrence_months.map(count),
            completion_days: count(r.completion_days),
            meta: RecordMeta {
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
                retired_at: r.retired_at,
                retired_reason: r.retired_reason,
            },
        })
    }
}

/// A revision as training sees it.
#[derive(sqlx::FromRow, Clone)]
pub(super) struct RevisionFactRow {
    pub(super) document_id: i64,
    pub(super) revision_id: i64,
    pub(super) seq: i64,
    pub(super) label: String,
    pub(super) status: String,
    pub(super) in_force_from: Option<NaiveDate>,
    pub(super) no_retraining: bool,
    pub(super) train_by: Option<NaiveDate>,
}

impl RevisionFactRow {
    pub(super) fn facts(&self) -> RevisionFacts {
        RevisionFacts { seq: count(self.seq), effective_from: self.in_force_from, no_retraining: self.no_retraining }
    }
}

/// What a document's requirement asks for now: the newest approved or effective revision,
/// and the sequence from which completions count.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) revision_id: i64,
    pub(super) label: String,
    pub(super) train_by: Option<NaiveDate>,
    pub(super) baseline: u32,
}

#[derive(sqlx::FromRow)]
pub(super) struct PersonRow {
    pub(super) user_id: i64,
    pub(super) full_name: String,
    pub(super) department_id: Option<i64>,
    pub(super) department: Option<String>,
    pub(super) roles: String,
}

pub(super) struct Person {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) department_id: Option<i64>,
    pub(super) department: Option<String>,
    pub(super) roles: Vec<Role>,
}

/// A person's last completion of a requirement.
pub(super) struct LastRecord {
    pub(super) seq: Option<i64>,
    pub(super) expires_on: Option<NaiveDate>,
}

/// Everything the rules need, for everyone or for one person.
pub(super) struct Facts {
    pub(super) requirements: Vec<Requirement>,
    pub(super) targets: HashMap<i64, Target>,
    pub(super) lines: Vec<CurriculumLine>,
    pub(super) people: Vec<Person>,
    /// (user, requirement) → due date of the open assignment.
    pub(super) open: HashMap<(i64, i64), NaiveDate>,
    /// (user, requirement) → the last completion.
    pub(super) last: HashMap<(i64, i64), LastRecord>,
    /// (user, requirement) → the last day of an exemption neither revoked nor ended (none: until
    /// revoked).
    pub(super) exempt: HashMap<(i64, i64), Option<NaiveDate>>,
}

fn unreadable(what: &str) -> StoreError {
    StoreError::Internal(format!("training facts: unreadable {what}"))
}

fn packed_date(s: &str) -> StoreResult<NaiveDate> {
    s.parse::<NaiveDate>().map_err(|_| unreadable("date"))
}

/// Everyone's open assignments, read as one row per person: the pairs packed in a string
/// (`requirement:due,…`). The database driver's cost is per row, and the 100,000 rows of the
/// open assignments and completions of a 2,000 × 200 matrix took most of its time; 2,000 rows of
/// text parse in a few milliseconds.
async fn everyones_open(conn: &mut Conn) -> StoreResult<HashMap<(i64, i64), NaiveDate>> {
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
        "select user_id, string_agg(cast(requirement_id as text) || ':' || cast(due_on as text), ',') \
         from training_assignments where state = 'open' group by user_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut open = HashMap::with_capacity(rows.len() * 16);
    for (user, packed) in rows {
        for pair in packed.as_deref().unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
            let (r, due) = pair.split_once(':').ok_or_else(|| unreadable("assignment"))?;
            open.insert((user, r.parse::<i64>().map_err(|_| unreadable("requirement"))?), packed_date(due)?);
        }
    }
    Ok(open)
}

/// Everyone's last completion of each requirement, read as one row per person (as
/// [`everyones_open`]): `requirement:seq:expires,…` in completion order, the last of each pair
/// winning.
async fn everyones_last(conn: &mut Conn) -> StoreResult<HashMap<(i64, i64), LastRecord>> {
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
        "select t.user_id, string_agg(cast(t.requirement_id as text) || ':' || coalesce(cast(v.seq as text), '') \
         || ':' || coalesce(cast(t.expires_on as text), ''), ',' order by t.requirement_id, t.completed_at, \
         t.record_id) from training_records t left join document_revisions v on v.revision_id = t.revision_id \
         group by t.user_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut last = HashMap::with_capacity(rows.len() * 32);
    for (user, packed) in rows {
        for record in packed.as_deref().unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
            let mut parts = record.splitn(3, ':');
            let (Some(r), Some(seq), Some(expires)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(unreadable("record"));
            };
            let seq = if seq.is_empty() { None } else { Some(seq.parse::<i64>().map_err(|_| unreadable("seq"))?) };
            let expires_on = if expires.is_empty() { None } else { Some(packed_date(expires)?) };
            let r = r.parse::<i64>().map_err(|_| unreadable("requirement"))?;
            last.insert((user, r), LastRecord { seq, expires_on });
        }
    }
    Ok(last)
}

impl Facts {
    /// The facts for everyone or one person (`user`), on every requirement or one
    /// (`requirement`).
    pub(super) async fn load(conn: &mut Conn, user: Option<i64>, requirement: Option<i64>) -> StoreResult<Facts> {
        Self::load_parts(conn, user, requirement, true).await
    }

    /// Everyone's facts on every requirement, read on three connections side by side: the open
    /// assignments and the completions (most of the time of a 2,000 × 200 matrix) beside the rest.
    pub(super) async fn load_everyone(pool: &sqlx::Pool<Db>) -> StoreResult<Facts> {
        let mut a = pool.acquire().await?;
        // Two more connections if the pool has them at hand: waiting long for them while holding
        // one could starve the pool when many matrices are computed at once; without them, one
        // connection reads everything in turn.
        let spare = || tokio::time::timeout(std::time::Duration::from_millis(50), pool.acquire());
        let (Ok(Ok(mut b)), Ok(Ok(mut c))) = (spare().await, spare().await) else {
            return Self::load(&mut a, None, None).await;
        };
        let (mut facts, open, last) = tokio::try_join!(
            Self::load_parts(&mut a, None, None, false),
            everyones_open(&mut b),
            everyones_last(&mut c),
        )?;
        facts.open = open;
        facts.last = last;
        Ok(facts)
    }

    /// As [`Self::load`]; without the open assignments and completions unless `pairs`.
    async fn load_parts(
        conn: &mut Conn,
        user: Option<i64>,
        requirement: Option<i64>,
        pairs: bool,
    ) -> StoreResult<Facts> {
        let sql = format!(
            "{REQUIREMENT_SELECT} where q.retired_at is null and ($1 is null or q.requirement_id = $1) \
             order by lower(q.title), q.requirement_id"
        );
        let rows: Vec<RequirementRow> = sqlx::query_as(&sql).bind(requirement).fetch_all(&mut *conn).await?;
        let requirements = rows.into_iter().map(Requirement::try_from).collect::<StoreResult<Vec<_>>>()?;
        let rev_rows: Vec<RevisionFactRow> = sqlx::query_as(
            "select document_id, revision_id, seq, label, status, in_force_from, no_retraining, train_by \
             from document_revisions where status in ('approved', 'effective', 'superseded') \
             and document_id in (select document_id from training_requirements where document_id is not null) \
             order by document_id, seq",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut revisions: HashMap<i64, Vec<RevisionFactRow>> = HashMap::new();
        for r in rev_rows {
            revisions.entry(r.document_id).or_default().push(r);
        }
        let targets = revisions
            .iter()
            .filter_map(|(doc, revs)| {
                let t =
                    revs.iter().filter(|r| r.status == "approved" || r.status == "effective").max_by_key(|r| r.seq)?;
                let facts: Vec<RevisionFacts> = revs.iter().map(RevisionFactRow::facts).collect();
                Some((
                    *doc,
                    Target {
                        revision_id: t.revision_id,
                        label: t.label.clone(),
                        train_by: t.train_by,
                        baseline: training_baseline(&facts, count(t.seq)),
                    },
                ))
            })
            .collect();
        let line_rows: Vec<(i64, Option<String>, Option<i64>)> =
            sqlx::query_as("select requirement_id, role, department_id from curriculum_lines where retired_at is null")
                .fetch_all(&mut *conn)
                .await?;
        let lines = line_rows
            .into_iter()
            .map(|(r, role, dept)| CurriculumLine {
                requirement_id: RequirementId(r),
                role: role.as_deref().and_then(Role::parse),
                department_id: dept.map(DepartmentId),
            })
            .collect();
        let people_rows: Vec<PersonRow> = sqlx::query_as(
            "select u.user_id, u.full_name, u.department_id, d.name as department, u.roles from users u \
             left join departments d on d.department_id = u.department_id \
             where u.retired_at is null and ($1 is null or u.user_id = $1) order by lower(u.full_name), u.user_id",
        )
        .bind(user)
        .fetch_all(&mut *conn)
        .await?;
        let people = people_rows
            .into_iter()
            .map(|p| Person {
                id: p.user_id,
                name: p.full_name,
                department_id: p.department_id,
                department: p.department,
                roles: parse_roles(&p.roles),
            })
            .collect();
        let (open, last) = if !pairs {
            (HashMap::new(), HashMap::new())
        } else if user.is_none() && requirement.is_none() {
            (everyones_open(conn).await?, everyones_last(conn).await?)
        } else {
            let open_rows: Vec<(i64, i64, NaiveDate)> = sqlx::query_as(
                "select user_id, requirement_id, due_on from training_assignments where state = 'open' \
                 and ($1 is null or user_id = $1) and ($2 is null or requirement_id = $2)",
            )
            .bind(user)
            .bind(requirement)
            .fetch_all(&mut *conn)
            .await?;
            let open = open_rows.into_iter().map(|(u, r, d)| ((u, r), d)).collect();
            let record_rows: Vec<(i64, i64, Option<i64>, Option<NaiveDate>)> = sqlx::query_as(
                "select t.user_id, t.requirement_id, v.seq, t.expires_on from training_records t \
                 left join document_revisions v on v.revision_id = t.revision_id \
                 where ($1 is null or t.user_id = $1) and ($2 is null or t.requirement_id = $2) \
                 order by t.user_id, t.requirement_id, t.completed_at, t.record_id",
            )
            .bind(user)
            .bind(requirement)
            .fetch_all(&mut *conn)
            .await?;
            // In the order of the person's index (no sort of every record): the last of each
            // pair wins.
            let last = record_rows
                .into_iter()
                .map(|(u, r, seq, expires_on)| ((u, r), LastRecord { seq, expires_on }))
                .collect();
            (open, last)
        };
        let exempt_rows: Vec<(i64, i64, Option<NaiveDate>)> = sqlx::query_as(
            "select user_id, requirement_id, until from training_exemptions where revoked_at is null \
             and ended_at is null and ($1 is null or user_id = $1) and ($2 is null or requirement_id = $2)",
        )
        .bind(user)
        .bind(requirement)
        .fetch_all(&mut *conn)
        .await?;
        let exempt = exempt_rows.into_iter().map(|(u, r, until)| ((u, r), until)).collect();
        Ok(Facts { requirements, targets, lines, people, open, last, exempt })
    }

    /// Every cell's status letter, row by row (people × requirements, as [`Self::status`] decides
    /// each): the facts are laid out once in arrays indexed like the matrix, so the 400,000 cells
    /// of 2,000 people × 200 requirements are a scan, not several hash lookups each.
    pub(super) fn cells(&self, today: NaiveDate) -> String {
        let width = self.requirements.len();
        let size = self.people.len() * width;
        let column: HashMap<i64, usize> = self.requirements.iter().enumerate().map(|(i, q)| (q.id.0, i)).collect();
        let row: HashMap<i64, usize> = self.people.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let at = |user: i64, requirement: i64| Some(row.get(&user)? * width + column.get(&requirement)?);
        // Per requirement: whether it can be trained on, and the revision from which completions count.
        let trainable: Vec<bool> = self.requirements.iter().map(|q| self.trainable(q)).collect();
        let baseline: Vec<Option<u32>> = self.requirements.iter().map(|q| self.target(q).map(|t| t.baseline)).collect();
        let mut open: Vec<Option<NaiveDate>> = vec![None; size];
        for (&(u, r), due) in &self.open {
            if let Some(i) = at(u, r) {
                open[i] = Some(*due);
            }
        }
        let mut last: Vec<Option<&LastRecord>> = vec![None; size];
        for (&(u, r), record) in &self.last {
            if let Some(i) = at(u, r) {
                last[i] = Some(record);
            }
        }
        let mut exempt = vec![false; size];
        for (&(u, r), until) in &self.exempt {
            if let Some(i) = at(u, r) {
                exempt[i] = exemption_active(false, *until, today);
            }
        }
        let mut cells = String::with_capacity(size);
        let mut required = vec![false; width];
        for (p, person) in self.people.iter().enumerate() {
            required.fill(false);
            let department = person.department_id.map(DepartmentId);
            for line in self.lines.iter().filter(|l| l.applies(&person.roles, department)) {
                if let Some(&c) = column.get(&line.requirement_id.0) {
                    required[c] = true;
                }
            }
            for c in 0..width {
                let i = p * width + c;
                // As `status`: not required, or nobody can train on it yet.
                let s = if !required[c] || !trainable[c] {
                    CellStatus::NotRequired
                } else {
                    let completion = last[i].map(|l| Completion {
                        on_current_revision: baseline[c].is_none_or(|b| l.seq.is_some_and(|s| count(s) >= b)),
                        expires_on: l.expires_on,
                    });
                    cell_status_exempt(true, exempt[i], open[i], completion, today)
                };
                cells.push(s.code());
            }
        }
        cells
    }

    /// Whether `person` holds an exemption from `q` on `today`.
    pub(super) fn exempt(&self, person: i64, q: &Requirement, today: NaiveDate) -> bool {
        self.exempt.get(&(person, q.id.0)).is_some_and(|until| exemption_active(false, *until, today))
    }

    pub(super) fn target(&self, q: &Requirement) -> Option<&Target> {
        q.document_id.and_then(|d| self.targets.get(&d.0))
    }

    /// Whether a requirement can be trained on yet (a document requirement needs an approved
    /// revision).
    pub(super) fn trainable(&self, q: &Requirement) -> bool {
        q.document_id.is_none() || self.target(q).is_some()
    }

    pub(super) fn completion(&self, person: i64, q: &Requirement) -> Option<Completion> {
        let last = self.last.get(&(person, q.id.0))?;
        let on_current_revision = match self.target(q) {
            Some(t) => last.seq.is_some_and(|s| count(s) >= t.baseline),
            None => true,
        };
        Some(Completion { on_current_revision, expires_on: last.expires_on })
    }

    pub(super) fn required(&self, p: &Person) -> std::collections::BTreeSet<RequirementId> {
        required_of(&self.lines, &p.roles, p.department_id.map(DepartmentId))
    }

    /// A cell's status; a requirement nobody can train on yet (its document has no approved
    /// revision) is not required of anyone until it can be.
    pub(super) fn status(&self, p: &Person, q: &Requirement, required: bool, today: NaiveDate) -> CellStatus {
        // Most cells of a large matrix are not required: answer those without the lookups.
        if !required || !self.trainable(q) {
            return CellStatus::NotRequired;
        }
        let exempt = self.exempt(p.id, q, today);
        cell_status_exempt(true, exempt, self.open.get(&(p.id, q.id.0)).copied(), self.completion(p.id, q), today)
    }
}

// ---- assignments, in the transaction of their cause ----

/// Which pairs a run of [`assign_missing`] looks at.
#[derive(Clone, Copy)]
pub(super) enum Scope {
    /// One person (joined, new role or department).
    Person(i64),
    /// One requirement (new revision, new curriculum line).
    Requirement(i64),
    /// Everyone and everything, refreshers only (the minute clock).
    Refreshers,
    /// One person and one requirement (an exemption revoked or ended).
    Pair(i64, i64),
}

/// Assigns, within `tx`, every pair in scope that needs it by [`assignment_due`]; each new
/// assignment is an audit entry with its cause. Returns how many were made.
pub(super) async fn assign_missing(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    scope: Scope,
    cause: AssignmentCause,
    detail: &str,
    today: NaiveDate,
) -> StoreResult<usize> {
    let user = match scope {
        Scope::Person(u) | Scope::Pair(u, _) => Some(u),
        _ => None,
    };
    let requirement = match scope {
        Scope::Requirement(r) | Scope::Pair(_, r) => Some(r),
        _ => None,
    };
    let facts = Facts::load(tx, user, requirement).await?;
    // First what is due, then one multi-row insert per 500 and one batch of audit entries: an
    // approval assigning 2,000 people is a handful of statements, not 4,000.
    let mut pending = Vec::new();
    for p in &facts.people {
        let required = facts.required(p);
        for q in facts.requirements.iter().filter(|q| required.contains(&q.id)) {
            // Nobody is assigned what they are exempted from, whatever the cause.
            if matches!(scope, Scope::Requirement(r) if r != q.id.0)
                || !facts.trainable(q)
                || facts.exempt(p.id, q, today)
            {
                continue;
            }
            let last = facts.completion(p.id, q);
            let refresher = last.is_some_and(|c| c.on_current_revision && c.expires_on.is_some());
            if matches!(scope, Scope::Refreshers) && !refresher {
                continue;
            }
            let target = facts.target(q);
            // A revision approved for later carries its train-by date, whatever the cause.
            let train_by = target.and_then(|t| t.train_by);
            let has_open = facts.open.contains_key(&(p.id, q.id.0));
            let Some(due) = assignment_due(has_open, last, q.completion_days, train_by, today) else { continue };
            let (cause, detail) = if refresher {
                let lapse = last.and_then(|c| c.expires_on).unwrap_or(due);
                (AssignmentCause::Recurrence, format!("Refresher: the last completion lapses on {lapse}"))
            } else {
                (cause, detail.to_string())
            };
            pending.push(Pending { p, q, target, cause, detail, due });
        }
    }
    let now = Utc::now();
    let mut drafts = Vec::with_capacity(pending.len());
    let mut notices = Vec::new();
    // 10 values per row: 500 rows stay well under both databases' bind limits.
    for chunk in pending.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "insert into training_assignments (user_id, requirement_id, revision_id, cause, cause_detail, \
             assigned_on, due_on, state, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut v, a| {
            v.push_bind(a.p.id)
                .push_bind(a.q.id.0)
                .push_bind(a.target.map(|t| t.revision_id))
                .push_bind(a.cause.as_str())
                .push_bind(a.detail.clone())
                .push_bind(today)
                .push_bind(a.due)
                .push_bind("open")
                .push_bind(now)
                .push_bind(now);
        });
        // Another cause (on another instance) may have assigned some meanwhile: those are kept.
        qb.push(" on conflict do nothing returning assignment_id, user_id, requirement_id");
        let ids: Vec<(i64, i64, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        let ids: HashMap<(i64, i64), i64> = ids.into_iter().map(|(id, u, r)| ((u, r), id)).collect();
        for a in chunk {
            let Some(&id) = ids.get(&(a.p.id, a.q.id.0)) else { continue };
            let after = serde_json::json!({
                "user_id": a.p.id,
                "user_name": a.p.name,
                "requirement_id": a.q.id.0,
                "requirement_title": a.q.title,
                "revision_id": a.target.map(|t| t.revision_id),
                "revision_label": a.target.map(|t| t.label.clone()),
                "cause": a.cause.as_str(),
                "cause_detail": a.detail,
                "due_on": a.due,
                "state": "open",
            });
            drafts.push(Draft {
                action: AuditAction::Create,
                record_type: "training_assignment",
                record_id: id,
                record_version: 1,
                changes: diff(&serde_json::Value::Null, &after),
                reason: Some(a.cause.label()),
            });
            // The person is told, except of a revision's approval: its own notice, sent in the
            // same transaction, carries the training.
            if a.cause != AssignmentCause::RevisionApproved {
                notices.push(TrainingNotice {
                    user: a.p.id,
                    assignment: id,
                    document: a.q.document_id.map(|d| d.0),
                    revision: a.target.map(|t| t.revision_id),
                });
            }
        }
    }
    let made = drafts.len();
    append_audits(tx, ctx, drafts).await?;
    send_training_notices(tx, ctx, NoticeKind::TrainingAssigned, &notices).await?;
    Ok(made)
}

/// An assignment [`assign_missing`] is about to make.
struct Pending<'a> {
    p: &'a Person,
    q: &'a Requirement,
    target: Option<&'a Target>,
    cause: AssignmentCause,
    detail: String,
    due: NaiveDate,
}

/// A person was created, or got a new role or department: assign what their curricula now
/// hold, and cancel the open assignments they no longer need (same transaction).
pub(super) async fn assign_person(tx: &mut WriteTx, ctx: &AuditContext, user: i64) -> StoreResult<usize> {
    let today = Utc::now().date_naive();
    let why = "Joined, or new role or department";
    let made = assign_missing(tx, ctx, Scope::Person(user), AssignmentCause::PersonChanged, why, today).await?;
    let facts = Facts::load(tx, Some(user), None).await?;
    let required = facts.people.first().map(|p| facts.required(p)).unwrap_or_default();
    let open: Vec<(i64, i64)> = sqlx::query_as(
        "select assignment_id, requirement_id from training_assignments where user_id = $1 and state = 'open'",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await?;
    for (id, requirement) in open {
        if !required.contains(&RequirementId(requirement)) {
            cancel(tx, ctx, id, "No longer required: new role or department").await?;
        }
    }
    Ok(made)
}

/// A person left (deactivated): their open assignments are cancelled (same transaction).
pub(super) async fn cancel_person(tx: &mut WriteTx, ctx: &AuditContext, user: i64) -> StoreResult<()> {
    let open: Vec<(i64,)> =
        sqlx::query_as("select assignment_id from training_assignments where user_id = $1 and state = 'open'")
            .bind(user)
            .fetch_all(&mut **tx)
            .await?;
    for (id,) in open {
        cancel(tx, ctx, id, "No longer required: the person left").await?;
    }
    Ok(())
}

/// Cancels an open assignment, audited with the reason.
pub(super) async fn cancel(tx: &mut WriteTx, ctx: &AuditContext, id: i64, reason: &str) -> StoreResult<()> {
    let (version,): (i64,) = sqlx::query_as(
        "update training_assignments set state = 'cancelled', version = version + 1, updated_at = $2 \
         where assignment_id = $1 returning version",
    )
    .bind(id)
    .bind(Utc::now())
    .fetch_one(&mut **tx)
    .await?;
    let draft = Draft {
        action: AuditAction::Update,
        record_type: "training_assignment",
        record_id: id,
        record_version: version,
        changes: diff(&serde_json::json!({ "state": "open" }), &serde_json::json!({ "state": "cancelled" })),
        reason: Some(reason),
    };
    append_audit(tx, ctx, draft).await
}

/// A revision was approved (same transaction as the last signature): open assignments of its
/// document's requirements now ask for it, and everyone who must read it and has not is
/// assigned, due by its train-by date; nobody new when it was approved as needing no retraining.
pub(super) async fn on_revision_approved(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    r: &Revision,
    doc: &Document,
) -> StoreResult<()> {
    let requirements: Vec<(i64,)> = sqlx::query_as(
        "select requirement_id from training_requirements where document_id = $1 and retired_at is null",
    )
    .bind(doc.id.0)
    .fetch_all(&mut **tx)
    .await?;
    let moved: Vec<(i64, i64)> = sqlx::query_as(
        "update training_assignments set revision_id = $1, acknowledged_at = null, signature_id = null, \
         version = version + 1, updated_at = $3 where state = 'open' and revision_id <> $1 and requirement_id in \
         (select requirement_id from training_requirements where document_id = $2) returning assignment_id, version",
    )
    .bind(r.id.0)
    .bind(doc.id.0)
    .bind(Utc::now())
    .fetch_all(&mut **tx)
    .await?;
    let reason = format!("{} revision {} approved: the assignment now asks for it", doc.number, r.label);
    let changes =
        diff(&serde_json::Value::Null, &serde_json::json!({ "revision_id": r.id.0, "revision_label": r.label }));
    let drafts = moved
        .into_iter()
        .map(|(id, version)| Draft {
            action: AuditAction::Update,
            record_type: "training_assignment",
            record_id: id,
            record_version: version,
            changes: changes.clone(),
            reason: Some(&reason),
        })
        .collect();
    append_audits(tx, ctx, drafts).await?;
    if r.content.no_retraining {
        return Ok(());
    }
    let detail = format!("{} revision {} approved", doc.number, r.label);
    let today = Utc::now().date_naive();
    for (q,) in requirements {
        assign_missing(tx, ctx, Scope::Requirement(q), AssignmentCause::RevisionApproved, &detail, today).await?;
    }
    Ok(())
}

/// Whether `trainer` may sign off (or record a session of) `requirement` on `today`: their own
/// record on it is current. (Never their own training: the callers check that.)
pub(super) async fn qualified_trainer(
    conn: &mut Conn,
    trainer: i64,
    requirement: i64,
    today: NaiveDate,
) -> StoreResult<bool> {
    let facts = Facts::load(conn, Some(trainer), Some(requirement)).await?;
    Ok(facts
        .requirements
        .iter()
        .find(|q| q.id.0 == requirement)
        .and_then(|q| facts.completion(trainer, q))
        .is_some_and(|c| c.is_current(today)))
}

/// The refusal of someone who is not a qualified trainer.
pub(super) fn not_a_trainer() -> StoreError {
    StoreError::Forbidden(
        "Only a qualified trainer (someone whose own record is current on this requirement) signs it off; \
         nothing was recorded."
            .into(),
    )
}

/// Before a "read and understood" signature on a revision: the signer must have open
/// assignments asking for exactly this revision, not yet acknowledged, of requirements the
/// trainee completes (reading, or reading then a quiz; a classroom session or an on-the-job
/// sign-off is completed by a trainer, whatever the trainee signs). Returns those assignments.
pub(super) async fn check_acknowledgment(conn: &mut Conn, revision: i64, signer: UserId) -> StoreResult<Vec<i64>> {
    let status: Option<(String,)> = sqlx::query_as("select status from document_revisions where revision_id = $1")
        .bind(revision)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((status,)) = status else { return Err(StoreError::NotFound(format!("No revision {revision}."))) };
    if status != "approved" && status != "effective" {
        return Err(StoreError::Retired(
            "Only an approved revision or the one in force can be acknowledged; this one is not (superseded, in \
             progress or cancelled). Nothing was signed."
                .into(),
        ));
    }
    let open: Vec<(i64, Option<DateTime<Utc>>)> = sqlx::query_as(
        "select a.assignment_id, a.acknowledged_at from training_assignments a join training_requirements q \
         on q.requirement_id = a.requirement_id where a.user_id = $1 and a.revision_id = $2 and a.state = 'open' \
         and q.kind in ('read_and_understand', 'quiz') order by a.assignment_id",
    )
    .bind(signer.0)
    .bind(revision)
    .fetch_all(&mut *conn)
    .await?;
    if open.is_empty() {
        return Err(StoreError::Forbidden(
            "You have no open training assignment to read and sign for this revision; nothing was signed.".into(),
        ));
    }
    let waiting: Vec<i64> = open.iter().filter(|(_, at)| at.is_none()).map(|(id, _)| *id).collect();
    if waiting.is_empty() {
        return Err(StoreError::Conflict("You have already acknowledged this revision.".into()));
    }
    Ok(waiting)
}

/// After the "read and understood" signature on `revision`: each assignment records it (only
/// if it still asks for that revision and is still waiting: a revision approved meanwhile is a
/// conflict), and is complete unless a quiz is still to pass.
pub(super) async fn settle_acknowledgment(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    assignments: &[i64],
    revision: i64,
    signature: i64,
) -> StoreResult<()> {
    let now = Utc::now();
    for &assignment in assignments {
        let updated: Option<(i64, i64)> = sqlx::query_as(
            "update training_assignments set acknowledged_at = $2, signature_id = $3, version = version + 1, \
             updated_at = $2 where assignment_id = $1 and revision_id = $4 and acknowledged_at is null \
             and state = 'open' returning version, requirement_id",
        )
        .bind(assignment)
        .bind(now)
        .bind(signature)
        .bind(revision)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((version, requirement)) = updated else {
            return Err(StoreError::Conflict(
                "Your training assignment changed meanwhile (a new revision, or signed already); nothing was signed."
                    .into(),
            ));
        };
        let changes =
            diff(&serde_json::Value::Null, &serde_json::json!({ "acknowledged_at": now, "signature_id": signature }));
        let draft = Draft {
            action: AuditAction::Update,
            record_type: "training_assignment",
            record_id: assignment,
            record_version: version,
            changes,
            reason: Some("Read and understood, signed"),
        };
        append_audit(tx, ctx, draft).await?;
        let (questions,): (i64,) =
            sqlx::query_as("select questions from training_requirements where requirement_id = $1")
                .bind(requirement)
                .fetch_one(&mut **tx)
                .await?;
        if questions == 0 {
            complete(tx, ctx, assignment, version, None, None, now).await?;
        }
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
pub(super) struct CompletedRow {
    pub(super) user_id: i64,
    pub(super) requirement_id: i64,
    pub(super) revision_id: Option<i64>,
    pub(super) signature_id: Option<i64>,
    pub(super) version: i64,
}

/// Completes an open assignment at `version`: the training record (with the revision, the
/// signature, the score, the trainer and when it lapses), audited. `now` is the completion's time
/// (a classroom session's day, for its attendance list).
pub(super) async fn complete(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    assignment: i64,
    version: i64,
    score: Option<u32>,
    trainer: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let done: Option<CompletedRow> = sqlx::query_as(
        "update training_assignments set state = 'completed', completed_at = $3, version = version + 1, \
         updated_at = $4 where assignment_id = $1 and version = $2 and state = 'open' \
         returning user_id, requirement_id, revision_id, signature_id, version",
    )
    .bind(assignment)
    .bind(version)
    .bind(now)
    .bind(Utc::now().max(now))
    .fetch_optional(&mut **tx)
    .await?;
    let Some(CompletedRow {
        user_id: user,
        requirement_id: requirement,
        revision_id: revision,
        signature_id: signature,
        version,
    }) = done
    else {
        return Err(StoreError::Conflict("This assignment changed meanwhile; nothing was recorded.".into()));
    };
    let (months,): (Option<i64>,) =
        sqlx::query_as("select recurrence_months from training_requirements where requirement_id = $1")
            .bind(requirement)
            .fetch_one(&mut **tx)
            .await?;
    let lapse = expires_on(now.date_naive(), months.map(count));
    let (record,): (i64,) = sqlx::query_as(
        "insert into training_records (assignment_id, user_id, requirement_id, revision_id, completed_at, \
         signature_id, score, trainer_id, expires_on) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning record_id",
    )
    .bind(assignment)
    .bind(user)
    .bind(requirement)
    .bind(revision)
    .bind(now)
    .bind(signature)
    .bind(score.map(i64::from))
    .bind(trainer)
    .bind(lapse)
    .fetch_one(&mut **tx)
    .await?;
    let changes = diff(
        &serde_json::json!({ "state": "open" }),
        &serde_json::json!({
            "state": "completed",
            "completed_at": now,
            "training_record_id": record,
            "score": score,
            "trainer_id": trainer,
            "expires_on": lapse,
        }),
    );
    let draft = Draft {
        action: AuditAction::Update,
        record_type: "training_assignment",
        record_id: assignment,
        record_version: version,
        changes,
        reason: Some("Training completed"),
    };
    append_audit(tx, ctx, draft).await?;
    Ok(record)
}
