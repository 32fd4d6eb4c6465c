//! A CAPA's plan and its time: the actions, each a task or a link to work in another module that
//! holds verification until it is done (the gate), and the extension requests that alone move
//! the due date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::capa::{Actor, Capa, NOT_OWNER};
use super::{NOT_QUALIFIED, TITLE_MAX, TOO_EARLY, WRONG_STATE, check_reason};
use crate::FieldErrors;
use crate::auth::UserId;
use crate::org::id_type;
use crate::validation::{self, REQUIRED};

id_type!(
    /// Identifies an action of a CAPA's plan; never reused.
    ActionId
);
id_type!(
    /// Identifies an extension request; never reused.
    ExtensionId
);

/// Error code: an extension request is already waiting for a decision.
pub const EXTENSION_PENDING: &str = "extension_pending";

/// What an action of the plan is: a plain task, or a link to work in another module that must be
/// finished before the CAPA can go to verification. A new kind (a change request, a supplier
/// corrective action) joins by a variant here and one line in the server's open-work query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A task, done when its owner marks it done.
    Task,
    /// A document revision, done when it is effective.
    DocumentRevision,
    /// A training assignment, done when completed (or cancelled as no longer required).
    TrainingAssignment,
    /// An FMEA row's optimization action, done when completed (or decided not implemented).
    FmeaRow,
}

impl LinkKind {
    /// Every kind.
    pub const ALL: [LinkKind; 4] =
        [LinkKind::Task, LinkKind::DocumentRevision, LinkKind::TrainingAssignment, LinkKind::FmeaRow];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Task => "task",
            LinkKind::DocumentRevision => "document_revision",
            LinkKind::TrainingAssignment => "training_assignment",
            LinkKind::FmeaRow => "fmea_row",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Whether linked work of this kind in `status` is finished: the gate's one rule per kind.
    pub fn done(self, status: &str) -> bool {
        match self {
            LinkKind::Task => status == "done",
            LinkKind::DocumentRevision => matches!(status, "effective" | "superseded"),
            LinkKind::TrainingAssignment => matches!(status, "completed" | "cancelled"),
            LinkKind::FmeaRow => matches!(status, "completed" | "not_implemented"),
        }
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            LinkKind::Task => "Task",
            LinkKind::DocumentRevision => "Document revision",
            LinkKind::TrainingAssignment => "Training assignment",
            LinkKind::FmeaRow => "FMEA action",
        }
    }
}

/// An action to add to the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// What is to be done.
    pub title: String,
    /// Its kind.
    pub kind: LinkKind,
    /// The linked record (required unless a task): a revision, an assignment or an FMEA row.
    #[serde(default)]
    pub link_id: Option<i64>,
    /// Who does it.
    pub owner_id: Option<UserId>,
    /// By when.
    pub due_on: Option<NaiveDate>,
    /// The CAPA's version last seen.
    pub version: i64,
}

impl ActionInput {
    /// Field rules.
    pub fn validate(&self, today: NaiveDate) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "title", &self.title, true, TITLE_MAX);
        if self.kind != LinkKind::Task && self.link_id.is_none() {
            e.add("link_id", REQUIRED);
        }
        if self.owner_id.is_none() {
            e.add("owner_id", REQUIRED);
        }
        match self.due_on {
            None => e.add("due_on", REQUIRED),
            Some(d) if d < today => e.add("due_on", TOO_EARLY),
            Some(_) => {}
        }
        e.into_result()
    }
}

/// An action of the plan, with where its linked work stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Action {
    /// Its id.
    pub id: ActionId,
    /// What is to be done.
    pub title: String,
    /// Its kind.
    pub kind: LinkKind,
    /// The linked record.
    pub link_id: Option<i64>,
    /// The linked record as people know it (`SOP-0003 rev C`).
    pub link_label: String,
    /// Where the linked record stands (`draft`, `effective`, `open`, `completed`).
    pub link_status: String,
    /// Who does it.
    pub owner_id: UserId,
    /// Their name.
    pub owner_name: String,
    /// By when.
    pub due_on: NaiveDate,
    /// When a task was marked done.
    pub done_on: Option<NaiveDate>,
    /// Still open: a task not done, or linked work not finished.
    pub open: bool,
}

/// Work still open that holds the CAPA before verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OpenWork {
    /// The action.
    pub action_id: ActionId,
    /// What it is, for the page: `Document revision SOP-0003 rev C is draft`.
    pub description: String,
}

impl OpenWork {
    /// The open work of a plan.
    pub fn of(actions: &[Action]) -> Vec<OpenWork> {
        actions
            .iter()
            .filter(|a| a.open)
            .map(|a| OpenWork {
                action_id: a.id,
                description: if a.kind == LinkKind::Task {
                    format!("Task “{}” is not done", a.title)
                } else {
                    format!("{} {} is {}", a.kind.label(), a.link_label, a.link_status.replace('_', " "))
                },
            })
            .collect()
    }
}

/// A request to move the due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// The date asked for (after the current due date).
    pub due_on: Option<NaiveDate>,
    /// Why.
    pub reason: String,
    /// The CAPA's version last seen.
    pub version: i64,
}

impl ExtensionInput {
    /// Field rules against the CAPA, from its owner or the quality manager.
    pub fn check(&self, capa: &Capa, actor: Actor) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if !capa.state.is_open() || capa.due_on.is_none() {
            e.add("state", WRONG_STATE);
            return Err(e);
        }
        if !(actor.owner || actor.manager) {
            e.add("step", NOT_OWNER);
            return Err(e);
        }
        if capa.extensions.iter().any(|x| x.state == ExtensionState::Pending) {
            e.add("due_on", EXTENSION_PENDING);
        }
        match self.due_on {
            None => e.add("due_on", REQUIRED),
            Some(d) if capa.due_on.is_some_and(|due| d <= due) => e.add("due_on", TOO_EARLY),
            Some(_) => {}
        }
        check_reason(&mut e, "reason", &self.reason);
        e.into_result()
    }
}

/// The quality manager's decision on a pending extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecision {
    /// Approve (the due date moves) or reject.
    pub approve: bool,
    /// Why (required to reject).
    #[serde(default)]
    pub reason: String,
    /// The CAPA's version last seen.
    pub version: i64,
}

impl ExtensionDecision {
    /// Field rules.
    pub fn check(&self, capa: &Capa, extension: &Extension, actor: Actor) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if !capa.state.is_open() || extension.state != ExtensionState::Pending {
            e.add("state", WRONG_STATE);
            return Err(e);
        }
        if !actor.manager {
            e.add("step", NOT_QUALIFIED);
            return Err(e);
        }
        validation::text(&mut e, "reason", &self.reason, !self.approve, crate::org::REASON_MAX);
        e.into_result()
    }
}

/// Where an extension request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExtensionState {
    /// Waiting for the quality manager.
    Pending,
    /// Approved: the due date moved.
    Approved,
    /// Rejected.
    Rejected,
}

impl ExtensionState {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionState::Pending => "pending",
            ExtensionState::Approved => "approved",
            ExtensionState::Rejected => "rejected",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [ExtensionState::Pending, ExtensionState::Approved, ExtensionState::Rejected]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// An extension request and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Extension {
    /// Its id.
    pub id: ExtensionId,
    /// The due date before the request.
    pub previous_due_on: NaiveDate,
    /// The date asked for.
    pub requested_due_on: NaiveDate,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_on: NaiveDate,
    /// Where it stands.
    pub state: ExtensionState,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why (a rejection's reason, an approval's remark).
    pub decision_reason: String,
}
