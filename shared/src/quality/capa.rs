//! CAPA: the lifecycle of domain/capa.md as one state machine ([`next`]: which move is legal
//! from which state, for whom), the investigation (5 whys, fishbone causes with evidence), the
//! action plan with its linked work, extensions of the due date, effectiveness checks and the
//! 8D view of the same record.
//!
//! ```text
//! draft ─submit→ triage ─triage (risk, owner, verifier, due)→ investigation ─submit plan→ action plan
//!   action plan ─approve (signature)→ implementation ─complete (no open work)→ verification
//!   action plan ─return→ investigation          verification ─reject→ implementation
//!   verification ─verify (verifier ≠ owner)→ effectiveness ─effective→ closed
//!   effectiveness ─ineffective→ investigation (reopened)   effectiveness ─inconclusive→ effectiveness
//!   any open state ─cancel (reason)→ cancelled
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::complaint::ComplaintId;
pub use super::investigation::{Cause, Investigation};
use super::nc::NcId;
pub use super::plan::{
    Action, ActionId, ActionInput, EXTENSION_PENDING, Extension, ExtensionDecision, ExtensionId, ExtensionInput,
    ExtensionState, LinkKind, OpenWork,
};
use super::{
    NO_ACTIONS, NO_CONFIRMED_CAUSE, NOT_QUALIFIED, TEXT_MAX, TITLE_MAX, TOO_EARLY, USE_EXTENSION, VERIFIER_IS_OWNER,
    WORK_OPEN, WRONG_STATE, check_reason,
};
use crate::FieldErrors;
use crate::auth::UserId;
use crate::org::{ProcessId, Record, RecordMeta, id_type};
use crate::validation::{self, INVALID, REQUIRED};

id_type!(
    /// Identifies a CAPA; never reused.
    CapaId
);

impl Record for Capa {
    const RECORD_TYPE: &'static str = "capa";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// Error code: only the CAPA's owner (or the quality manager) may do this.
pub const NOT_OWNER: &str = "not_owner";
/// Error code: only the CAPA's verifier may do this.
pub const NOT_VERIFIER: &str = "not_verifier";
/// Most whys, causes and actions.
pub const LIST_MAX: usize = 30;

/// The stages of a CAPA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CapaState {
    /// Being written up.
    Draft,
    /// Waiting for the quality manager's risk ranking and assignment.
    Triage,
    /// Root-cause analysis; the plan is drafted.
    Investigation,
    /// The plan waits for the quality manager's signed approval.
    ActionPlan,
    /// The actions are carried out.
    Implementation,
    /// The verifier checks that the actions were implemented.
    Verification,
    /// The scheduled effectiveness check.
    Effectiveness,
    /// Closed as effective.
    Closed,
    /// Cancelled, with the reason.
    Cancelled,
}

impl CapaState {
    /// Every state, in lifecycle order.
    pub const ALL: [CapaState; 9] = [
        CapaState::Draft,
        CapaState::Triage,
        CapaState::Investigation,
        CapaState::ActionPlan,
        CapaState::Implementation,
        CapaState::Verification,
        CapaState::Effectiveness,
        CapaState::Closed,
        CapaState::Cancelled,
    ];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CapaState::Draft => "draft",
            CapaState::Triage => "triage",
            CapaState::Investigation => "investigation",
            CapaState::ActionPlan => "action_plan",
            CapaState::Implementation => "implementation",
            CapaState::Verification => "verification",
            CapaState::Effectiveness => "effectiveness",
            CapaState::Closed => "closed",
            CapaState::Cancelled => "cancelled",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            CapaState::Draft => "Draft",
            CapaState::Triage => "Triage",
            CapaState::Investigation => "Investigation",
            CapaState::ActionPlan => "Action plan",
            CapaState::Implementation => "Implementation",
            CapaState::Verification => "Verification",
            CapaState::Effectiveness => "Effectiveness check",
            CapaState::Closed => "Closed",
            CapaState::Cancelled => "Cancelled",
        }
    }
    /// Still being worked.
    pub fn is_open(self) -> bool {
        !matches!(self, CapaState::Closed | CapaState::Cancelled)
    }
    /// Whether the investigation (problem, whys, causes) may still change.
    pub fn investigating(self) -> bool {
        matches!(self, CapaState::Draft | CapaState::Triage | CapaState::Investigation)
    }
}

/// Who is acting, relative to one CAPA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actor {
    /// Holds the quality manager's permission to manage CAPAs.
    pub manager: bool,
    /// Is the CAPA's owner.
    pub owner: bool,
    /// Is the CAPA's verifier.
    pub verifier: bool,
}

/// A move of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Move {
    /// Draft → triage (owner or manager).
    Submit,
    /// Triage → investigation, with risk ranking and assignment (manager).
    Triage,
    /// Investigation → action plan (owner or manager).
    SubmitPlan,
    /// Action plan → investigation, with a reason (manager).
    ReturnPlan,
    /// Action plan → implementation, by the manager's signature.
    ApprovePlan,
    /// Implementation → verification, with no open work (owner or manager).
    CompleteImplementation,
    /// Verification → effectiveness (the verifier, never the owner).
    Verify,
    /// Verification → implementation, with a reason (the verifier).
    RejectImplementation,
    /// Effectiveness → closed (the verifier).
    Effective,
    /// Effectiveness → investigation, reopened (the verifier).
    Ineffective,
    /// Effectiveness → effectiveness, checked again later (the verifier).
    Inconclusive,
    /// Any open state → cancelled, with a reason (manager).
    Cancel,
}

impl Move {
    /// Every move.
    pub const ALL: [Move; 12] = [
        Move::Submit,
        Move::Triage,
        Move::SubmitPlan,
        Move::ReturnPlan,
        Move::ApprovePlan,
        Move::CompleteImplementation,
        Move::Verify,
        Move::RejectImplementation,
        Move::Effective,
        Move::Ineffective,
        Move::Inconclusive,
        Move::Cancel,
    ];
}

/// Why a move was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepError {
    /// Not possible from the current state.
    WrongState,
    /// Needs the quality manager.
    NotManager,
    /// Needs the owner (or the quality manager).
    NotOwner,
    /// Needs the verifier.
    NotVerifier,
    /// The verifier is the owner: nobody verifies their own CAPA.
    VerifierIsOwner,
}

impl StepError {
    /// The error code.
    pub fn code(self) -> &'static str {
        match self {
            StepError::WrongState => WRONG_STATE,
            StepError::NotManager => NOT_QUALIFIED,
            StepError::NotOwner => NOT_OWNER,
            StepError::NotVerifier => NOT_VERIFIER,
            StepError::VerifierIsOwner => VERIFIER_IS_OWNER,
        }
    }
    /// The field the error is reported against.
    pub fn field(self) -> &'static str {
        match self {
            StepError::WrongState => "state",
            _ => "step",
        }
    }
    /// As field errors.
    pub fn errors(self) -> FieldErrors {
        let mut e = FieldErrors::new();
        e.add(self.field(), self.code());
        e
    }
}

/// The state machine: where `mv` leads from `state` when `actor` makes it, or why it may not.
pub fn next(state: CapaState, mv: Move, actor: Actor) -> Result<CapaState, StepError> {
    use CapaState as S;
    let to = match (state, mv) {
        (S::Draft, Move::Submit) => S::Triage,
        (S::Triage, Move::Triage) => S::Investigation,
        (S::Investigation, Move::SubmitPlan) => S::ActionPlan,
        (S::ActionPlan, Move::ReturnPlan) => S::Investigation,
        (S::ActionPlan, Move::ApprovePlan) => S::Implementation,
        (S::Implementation, Move::CompleteImplementation) => S::Verification,
        (S::Verification, Move::Verify) => S::Effectiveness,
        (S::Verification, Move::RejectImplementation) => S::Implementation,
        (S::Effectiveness, Move::Effective) => S::Closed,
        (S::Effectiveness, Move::Ineffective) => S::Investigation,
        (S::Effectiveness, Move::Inconclusive) => S::Effectiveness,
        (s, Move::Cancel) if s.is_open() => S::Cancelled,
        _ => return Err(StepError::WrongState),
    };
    match mv {
        Move::Triage | Move::ReturnPlan | Move::ApprovePlan | Move::Cancel if !actor.manager => {
            Err(StepError::NotManager)
        }
        Move::Submit | Move::SubmitPlan | Move::CompleteImplementation if !(actor.owner || actor.manager) => {
            Err(StepError::NotOwner)
        }
        Move::Verify | Move::RejectImplementation | Move::Effective | Move::Ineffective | Move::Inconclusive => {
            if actor.owner {
                Err(StepError::VerifierIsOwner)
            } else if !actor.verifier {
                Err(StepError::NotVerifier)
            } else {
                Ok(to)
            }
        }
        _ => Ok(to),
    }
}

/// Corrective (a problem happened) or preventive (it could).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CapaKind {
    /// Removes the cause of a nonconformity that happened.
    Corrective,
    /// Removes the cause of a potential nonconformity.
    Preventive,
}

impl CapaKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CapaKind::Corrective => "corrective",
            CapaKind::Preventive => "preventive",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [CapaKind::Corrective, CapaKind::Preventive].into_iter().find(|k| k.as_str() == s)
    }
}

/// The triage's risk ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskRank {
    /// Score below 5 with severity below 4.
    Low,
    /// Score 5–14, or any severity of 4 or 5.
    Medium,
    /// Score 15 or more.
    High,
}

impl RiskRank {
    /// The rank of severity × likelihood (each 1–5): a severe consequence is never low,
    /// however unlikely.
    pub fn of(severity: u8, likelihood: u8) -> RiskRank {
        let score = u32::from(severity) * u32::from(likelihood);
        if score >= 15 {
            RiskRank::High
        } else if score >= 5 || severity >= 4 {
            RiskRank::Medium
        } else {
            RiskRank::Low
        }
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            RiskRank::Low => "Low",
            RiskRank::Medium => "Medium",
            RiskRank::High => "High",
        }
    }
}

/// What opening a CAPA takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CapaInput {
    /// A short title.
    pub title: String,
    /// Corrective or preventive.
    pub kind: CapaKind,
    /// The process it concerns.
    #[serde(default)]
    pub process_id: Option<ProcessId>,
    /// The problem.
    #[serde(default)]
    pub problem: String,
    /// The NC it comes from.
    #[serde(default)]
    pub nc_id: Option<NcId>,
    /// The complaint it comes from.
    #[serde(default)]
    pub complaint_id: Option<ComplaintId>,
    /// Shown as an 8D report.
    #[serde(default)]
    pub eight_d: bool,
}

impl CapaInput {
    /// Field rules.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "title", &self.title, true, TITLE_MAX);
        validation::text(&mut e, "problem", &self.problem, false, TEXT_MAX);
        e.into_result()
    }
}

/// A change of the CAPA's text (not its state: see [`CapaStep`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CapaUpdate {
    /// The title.
    pub title: String,
    /// The process.
    #[serde(default)]
    pub process_id: Option<ProcessId>,
    /// The investigation.
    pub investigation: Investigation,
    /// Shown as an 8D report.
    #[serde(default)]
    pub eight_d: bool,
    /// Never accepted: a due date changes through an extension (named error `use_extension`).
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// The version last seen.
    pub version: i64,
}

impl CapaUpdate {
    /// Trims the texts.
    pub fn normalized(mut self) -> Self {
        self.title = self.title.trim().to_string();
        self.investigation = self.investigation.normalized();
        self
    }

    /// Whether `actor` may make this change to `capa`: the owner or the quality manager, while
    /// it is open; the problem, whys and causes only until the plan is submitted.
    pub fn check(&self, capa: &Capa, actor: Actor) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if !capa.state.is_open() {
            e.add("state", WRONG_STATE);
            return Err(e);
        }
        if !(actor.owner || actor.manager) {
            e.add("step", NOT_OWNER);
            return Err(e);
        }
        if self.due_on.is_some() {
            e.add("due_on", USE_EXTENSION);
        }
        validation::text(&mut e, "title", &self.title, true, TITLE_MAX);
        self.investigation.validate(&mut e);
        let (a, b) = (&self.investigation, &capa.investigation);
        if !capa.state.investigating()
            && (a.problem != b.problem || a.whys != b.whys || a.causes != b.causes || a.containment != b.containment)
        {
            e.add("investigation", WRONG_STATE);
        }
        e.into_result()
    }
}

/// A step on a CAPA (`POST /api/v1/capas/{id}/steps`), with the version last seen. The plan's
/// approval is not a step: it is the quality manager's signature (`POST /api/v1/signatures`,
/// record type `capa`, meaning `approved`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum CapaStep {
    /// Draft → triage.
    Submit {
        /// Version last seen.
        version: i64,
    },
    /// Triage → investigation: rank the risk, name the owner and the verifier, set the due date.
    Triage {
        /// Severity of the problem, 1–5.
        severity: u8,
        /// Likelihood of recurrence, 1–5.
        likelihood: u8,
        /// The owner.
        owner_id: Option<UserId>,
        /// The verifier (not the owner).
        verifier_id: Option<UserId>,
        /// The due date of closure (after today; later changed only by extension).
        due_on: Option<NaiveDate>,
        /// Version last seen.
        version: i64,
    },
    /// Name a new owner or verifier (quality manager, while open).
    Assign {
        /// The owner.
        owner_id: Option<UserId>,
        /// The verifier (not the owner).
        verifier_id: Option<UserId>,
        /// Version last seen.
        version: i64,
    },
    /// Investigation → action plan: a confirmed root cause and at least one action.
    SubmitPlan {
        /// Version last seen.
        version: i64,
    },
    /// Action plan → investigation, with the reason.
    ReturnPlan {
        /// Why.
        reason: String,
        /// Version last seen.
        version: i64,
    },
    /// Implementation → verification: every action done and no linked work open.
    CompleteImplementation {
        /// Version last seen.
        version: i64,
    },
    /// Verification → effectiveness check, scheduled.
    Verify {
        /// When the effectiveness check is due (today or later).
        effectiveness_due_on: Option<NaiveDate>,
        /// What was checked.
        #[serde(default)]
        note: String,
        /// Version last seen.
        version: i64,
    },
    /// Verification → implementation, with the reason.
    RejectImplementation {
        /// Why.
        reason: String,
        /// Version last seen.
        version: i64,
    },
    /// Record the effectiveness check (on or after its due date).
    RecordEffectiveness {
        /// The result.
        result: EffectivenessResult,
        /// The evidence.
        note: String,
        /// For an inconclusive result: when to check again.
        #[serde(default)]
        next_check_on: Option<NaiveDate>,
        /// Version last seen.
        version: i64,
    },
    /// Cancel, with the reason.
    Cancel {
        /// Why.
        reason: String,
        /// Version last seen.
        version: i64,
    },
}

impl CapaStep {
    /// The version the step was based on.
    pub fn version(&self) -> i64 {
        match self {
            CapaStep::Submit { version }
            | CapaStep::Triage { version, .. }
            | CapaStep::Assign { version, .. }
            | CapaStep::SubmitPlan { version }
            | CapaStep::ReturnPlan { version, .. }
            | CapaStep::CompleteImplementation { version }
            | CapaStep::Verify { version, .. }
            | CapaStep::RejectImplementation { version, .. }
            | CapaStep::RecordEffectiveness { version, .. }
            | CapaStep::Cancel { version, .. } => *version,
        }
    }

    /// The state machine's move (none for an assignment, which is not a move).
    pub fn movement(&self) -> Option<Move> {
        Some(match self {
            CapaStep::Submit { .. } => Move::Submit,
            CapaStep::Triage { .. } => Move::Triage,
            CapaStep::Assign { .. } => return None,
            CapaStep::SubmitPlan { .. } => Move::SubmitPlan,
            CapaStep::ReturnPlan { .. } => Move::ReturnPlan,
            CapaStep::CompleteImplementation { .. } => Move::CompleteImplementation,
            CapaStep::Verify { .. } => Move::Verify,
            CapaStep::RejectImplementation { .. } => Move::RejectImplementation,
            CapaStep::RecordEffectiveness { result, .. } => match result {
                EffectivenessResult::Effective => Move::Effective,
                EffectivenessResult::Ineffective => Move::Ineffective,
                EffectivenessResult::Inconclusive => Move::Inconclusive,
            },
            CapaStep::Cancel { .. } => Move::Cancel,
        })
    }

    /// Where the step leads, or the field errors naming why not: the state machine first, then
    /// what the step needs (`open_work`: the plan's actions and linked work still open).
    pub fn check(
        &self,
        capa: &Capa,
        actor: Actor,
        open_work: &[OpenWork],
        today: NaiveDate,
    ) -> Result<CapaState, FieldErrors> {
        let to = match self.movement() {
            Some(mv) => next(capa.state, mv, actor).map_err(StepError::errors)?,
            None if !capa.state.is_open() => return Err(StepError::WrongState.errors()),
            None if !actor.manager => return Err(StepError::NotManager.errors()),
            None => capa.state,
        };
        let mut e = FieldErrors::new();
        match self {
            CapaStep::Submit { .. } => {
                validation::text(&mut e, "investigation.problem", &capa.investigation.problem, true, TEXT_MAX);
            }
            CapaStep::Triage { severity, likelihood, owner_id, verifier_id, due_on, .. } => {
                for (field, v) in [("severity", severity), ("likelihood", likelihood)] {
                    if !(1..=5).contains(v) {
                        e.add(field, INVALID);
                    }
                }
                check_people(&mut e, *owner_id, *verifier_id);
                match due_on {
                    None => e.add("due_on", REQUIRED),
                    Some(d) if *d <= today => e.add("due_on", TOO_EARLY),
                    Some(_) => {}
                }
            }
            CapaStep::Assign { owner_id, verifier_id, .. } => check_people(&mut e, *owner_id, *verifier_id),
            CapaStep::SubmitPlan { .. } => {
                if !capa.investigation.root_cause_found() {
                    e.add("investigation.causes", NO_CONFIRMED_CAUSE);
                }
                if capa.actions.is_empty() {
                    e.add("actions", NO_ACTIONS);
                }
            }
            CapaStep::CompleteImplementation { .. } => {
                if !open_work.is_empty() {
                    e.add("actions", WORK_OPEN);
                }
            }
            CapaStep::Verify { effectiveness_due_on, note, .. } => {
                match effectiveness_due_on {
                    None => e.add("effectiveness_due_on", REQUIRED),
                    Some(d) if *d < today => e.add("effectiveness_due_on", TOO_EARLY),
                    Some(_) => {}
                }
                validation::text(&mut e, "note", note, false, TEXT_MAX);
            }
            CapaStep::RecordEffectiveness { result, note, next_check_on, .. } => {
                validation::text(&mut e, "note", note, true, TEXT_MAX);
                if capa.effectiveness_due_on.is_some_and(|d| today < d) {
                    e.add("effectiveness_due_on", TOO_EARLY);
                }
                if *result == EffectivenessResult::Inconclusive {
                    match next_check_on {
                        None => e.add("next_check_on", REQUIRED),
                        Some(d) if *d <= today => e.add("next_check_on", TOO_EARLY),
                        Some(_) => {}
                    }
                }
            }
            CapaStep::ReturnPlan { reason, .. }
            | CapaStep::RejectImplementation { reason, .. }
            | CapaStep::Cancel { reason, .. } => check_reason(&mut e, "reason", reason),
        }
        e.into_result().map(|()| to)
    }
}

impl CapaStep {
    /// Applies this step, already checked and leading `to`, to `capa` (by the person named `by`
    /// on `today`); the storage then writes what changed.
    pub fn apply(&self, capa: &mut Capa, to: CapaState, by: &str, today: NaiveDate) {
        capa.state = to;
        match self {
            CapaStep::Triage { severity, likelihood, owner_id, verifier_id, due_on, .. } => {
                capa.severity = Some(*severity);
                capa.likelihood = Some(*likelihood);
                capa.risk = Some(RiskRank::of(*severity, *likelihood));
                capa.owner_id = *owner_id;
                capa.verifier_id = *verifier_id;
                capa.due_on = *due_on;
                if capa.original_due_on.is_none() {
                    capa.original_due_on = *due_on;
                }
            }
            CapaStep::Assign { owner_id, verifier_id, .. } => {
                capa.owner_id = *owner_id;
                capa.verifier_id = *verifier_id;
            }
            CapaStep::Verify { effectiveness_due_on, note, .. } => {
                capa.effectiveness_due_on = *effectiveness_due_on;
                capa.verification = Some(if note.trim().is_empty() {
                    format!("Implementation verified by {by} on {today}.")
                } else {
                    format!("Implementation verified by {by} on {today}: {}", note.trim())
                });
            }
            CapaStep::RecordEffectiveness { result, note, next_check_on, .. } => {
                capa.effectiveness.push(EffectivenessCheck {
                    result: *result,
                    note: note.trim().to_string(),
                    by: by.to_string(),
                    on: today,
                });
                match result {
                    EffectivenessResult::Effective => capa.closed_on = Some(today),
                    EffectivenessResult::Ineffective => {
                        capa.reopen_count += 1;
                        capa.effectiveness_due_on = None;
                        capa.verification = None;
                    }
                    EffectivenessResult::Inconclusive => capa.effectiveness_due_on = *next_check_on,
                }
            }
            CapaStep::Submit { .. }
            | CapaStep::SubmitPlan { .. }
            | CapaStep::ReturnPlan { .. }
            | CapaStep::CompleteImplementation { .. }
            | CapaStep::RejectImplementation { .. }
            | CapaStep::Cancel { .. } => {}
        }
    }

    /// The reason a step gives, for the audit trail.
    pub fn reason(&self) -> Option<&str> {
        match self {
            CapaStep::ReturnPlan { reason, .. }
            | CapaStep::RejectImplementation { reason, .. }
            | CapaStep::Cancel { reason, .. } => Some(reason),
            CapaStep::RecordEffectiveness { note, .. } => Some(note),
            _ => None,
        }
    }
}

fn check_people(e: &mut FieldErrors, owner: Option<UserId>, verifier: Option<UserId>) {
    if owner.is_none() {
        e.add("owner_id", REQUIRED);
    }
    match verifier {
        None => e.add("verifier_id", REQUIRED),
        Some(v) if Some(v) == owner => e.add("verifier_id", VERIFIER_IS_OWNER),
        Some(_) => {}
    }
}

/// The result of an effectiveness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EffectivenessResult {
    /// The problem has not recurred: close.
    Effective,
    /// It recurred: reopen the investigation.
    Ineffective,
    /// Too early to say: check again.
    Inconclusive,
}

impl EffectivenessResult {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EffectivenessResult::Effective => "effective",
            EffectivenessResult::Ineffective => "ineffective",
            EffectivenessResult::Inconclusive => "inconclusive",
        }
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            EffectivenessResult::Effective => "Effective",
            EffectivenessResult::Ineffective => "Ineffective",
            EffectivenessResult::Inconclusive => "Inconclusive",
        }
    }
}

/// A recorded effectiveness check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EffectivenessCheck {
    /// The result.
    pub result: EffectivenessResult,
    /// The evidence.
    pub note: String,
    /// Who checked.
    pub by: String,
    /// When.
    pub on: NaiveDate,
}

/// A CAPA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Capa {
    /// Its id.
    pub id: CapaId,
    /// `CAPA-0042`, never reused.
    pub number: String,
    /// A short title.
    pub title: String,
    /// Corrective or preventive.
    pub kind: CapaKind,
    /// Where it stands.
    pub state: CapaState,
    /// The NC it comes from.
    pub nc: Option<super::LinkRef>,
    /// The complaint it comes from.
    pub complaint: Option<super::LinkRef>,
    /// The process it concerns.
    pub process_id: Option<ProcessId>,
    /// The process's name.
    pub process_name: Option<String>,
    /// The owner.
    pub owner_id: Option<UserId>,
    /// The owner's name.
    pub owner_name: Option<String>,
    /// The verifier.
    pub verifier_id: Option<UserId>,
    /// The verifier's name.
    pub verifier_name: Option<String>,
    /// Severity, 1–5 (from triage).
    pub severity: Option<u8>,
    /// Likelihood, 1–5 (from triage).
    pub likelihood: Option<u8>,
    /// The risk rank (from triage).
    pub risk: Option<RiskRank>,
    /// The due date now (moved only by approved extensions).
    pub due_on: Option<NaiveDate>,
    /// The first due date, which on-time metrics count.
    pub original_due_on: Option<NaiveDate>,
    /// When the effectiveness check is due.
    pub effectiveness_due_on: Option<NaiveDate>,
    /// The investigation.
    pub investigation: Investigation,
    /// The plan's actions.
    pub actions: Vec<Action>,
    /// The extension requests.
    pub extensions: Vec<Extension>,
    /// The effectiveness checks.
    pub effectiveness: Vec<EffectivenessCheck>,
    /// How often an ineffective check reopened it.
    pub reopen_count: u32,
    /// Shown as an 8D report.
    pub eight_d: bool,
    /// Moves when the plan (problem, whys, causes, actions) changes: the plan's approval signs
    /// this version (`record_version` of the signature).
    pub plan_version: i64,
    /// The day it was opened.
    pub opened_on: NaiveDate,
    /// Who verified the implementation, and the note.
    pub verification: Option<String>,
    /// The day it closed.
    pub closed_on: Option<NaiveDate>,
    /// Version and life (cancelled: `retired_at` with the reason).
    pub meta: RecordMeta,
}

impl Capa {
    /// Who `user` is to this CAPA, given whether they hold the quality manager's permission.
    pub fn actor(&self, user: UserId, manager: bool) -> Actor {
        Actor { manager, owner: self.owner_id == Some(user), verifier: self.verifier_id == Some(user) }
    }

    /// Past its due date and still open.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.state.is_open() && self.due_on.is_some_and(|d| d < today)
    }

    /// The 8D report's sections (D0–D8) of this CAPA, as (heading, text) in order.
    pub fn eight_d_sections(&self) -> Vec<(&'static str, String)> {
        let inv = &self.investigation;
        let whys = inv.whys.iter().enumerate().map(|(i, w)| format!("Why {}: {w}", i + 1)).collect::<Vec<_>>();
        let causes = inv
            .causes
            .iter()
            .map(|c| {
                format!(
                    "{} — {} ({})",
                    c.category.label(),
                    c.text,
                    if c.confirmed { format!("confirmed: {}", c.evidence) } else { "not confirmed".into() }
                )
            })
            .collect::<Vec<_>>();
        let actions = self
            .actions
            .iter()
            .map(|a| {
                format!(
                    "{} — {}, due {}{}",
                    a.title,
                    a.owner_name,
                    a.due_on,
                    if a.open { " (open)".to_string() } else { " (done)".to_string() }
                )
            })
            .collect::<Vec<_>>();
        let checks = self
            .effectiveness
            .iter()
            .map(|c| format!("{}: {} ({}, {})", c.on, c.result.label(), c.note, c.by))
            .collect::<Vec<_>>();
        let or_dash = |s: String| if s.trim().is_empty() { "—".to_string() } else { s };
        vec![
            ("D0 Prepare and emergency response", or_dash(inv.containment.clone())),
            (
                "D1 Team",
                or_dash(
                    [self.owner_name.clone(), self.verifier_name.clone(), Some(inv.team.clone())]
                        .into_iter()
                        .flatten()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
            ("D2 Problem description", or_dash(inv.problem.clone())),
            ("D3 Interim containment", or_dash(inv.containment.clone())),
            ("D4 Root cause and escape point", or_dash([whys, causes].concat().join("\n"))),
            ("D5 Permanent corrective actions", or_dash(actions.join("\n"))),
            ("D6 Implementation and validation", or_dash(self.verification.clone().unwrap_or_default())),
            ("D7 Prevent recurrence", or_dash(inv.prevent_recurrence.clone())),
            ("D8 Recognise the team and close", or_dash([vec![inv.recognition.clone()], checks].concat().join("\n"))),
        ]
    }
}

/// A line of the CAPA register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CapaSummary {
    /// Its id.
    pub id: CapaId,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// Where it stands.
    pub state: CapaState,
    /// The process's name.
    pub process_name: Option<String>,
    /// The owner.
    pub owner_id: Option<UserId>,
    /// The owner's name.
    pub owner_name: Option<String>,
    /// The verifier.
    pub verifier_id: Option<UserId>,
    /// The verifier's name.
    pub verifier_name: Option<String>,
    /// The risk rank.
    pub risk: Option<RiskRank>,
    /// Due now.
    pub due_on: Option<NaiveDate>,
    /// The first due date.
    pub original_due_on: Option<NaiveDate>,
    /// When the effectiveness check is due.
    pub effectiveness_due_on: Option<NaiveDate>,
    /// The day it was opened.
    pub opened_on: NaiveDate,
    /// The day it closed.
    pub closed_on: Option<NaiveDate>,
}

impl CapaSummary {
    /// Past its due date and still open.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.state.is_open() && self.due_on.is_some_and(|d| d < today)
    }

    /// The line of `user`'s work list for this CAPA, if it waits for them (`manager`: they hold
    /// the quality manager's permission).
    pub fn work_item(&self, user: UserId, manager: bool, today: NaiveDate) -> Option<crate::register::WorkItem> {
        let kind = self.next_step_for(user, manager)?;
        let due = match self.state {
            CapaState::Effectiveness => self.effectiveness_due_on,
            _ => self.due_on,
        }
        .unwrap_or(self.opened_on);
        Some(crate::register::WorkItem {
            kind: kind.to_string(),
            record_type: "capa".into(),
            record_id: self.id.0,
            reference: self.number.clone(),
            title: self.title.clone(),
            due,
            overdue: due < today,
        })
    }

    /// What `user` has to do next on it, if anything.
    pub fn next_step_for(&self, user: UserId, manager: bool) -> Option<&'static str> {
        let owner = self.owner_id == Some(user);
        let verifier = self.verifier_id == Some(user);
        match self.state {
            CapaState::Triage if manager => Some("Triage the CAPA"),
            CapaState::ActionPlan if manager => Some("Approve the CAPA's plan"),
            CapaState::Draft if owner || manager => Some("Describe the problem and submit"),
            CapaState::Investigation if owner => Some("Find the root cause and plan the actions"),
            CapaState::Implementation if owner => Some("Carry out the actions"),
            CapaState::Verification if verifier => Some("Verify the implementation"),
            CapaState::Effectiveness if verifier => Some("Check effectiveness"),
            _ => None,
        }
    }
}

/// The CAPA register's filter (`GET /api/v1/capas`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
pub struct CapaFilter {
    /// Only in this state.
    pub state: Option<CapaState>,
    /// Only open ones.
    #[serde(default)]
    pub open: bool,
    /// Only this owner's.
    pub owner_id: Option<i64>,
    /// Only this process's.
    pub process_id: Option<i64>,
}
