//! Exemptions (a quality manager's decision that a person need not meet a requirement, for a
//! reason and possibly until a day) and classroom sessions (a trainer's attendance list that
//! completes each attendee's assignment). The rules both sides check; the server checks what
//! needs the database (the people, the requirement, the dates of the assignments).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{AssignmentId, RequirementId};
use crate::FieldErrors;
use crate::auth::UserId;
use crate::org::{Record, RecordMeta, id_type};
use crate::validation::{self, INVALID, REQUIRED};

id_type!(
    /// Identifies an exemption; never reused.
    ExemptionId
);
id_type!(
    /// Identifies a classroom session; never reused.
    ClassSessionId
);

/// Longest reason of an exemption or of its revocation, in characters.
pub const EXEMPTION_REASON_MAX: usize = 2000;
/// Longest notes of a classroom session, in characters.
pub const SESSION_NOTES_MAX: usize = 4000;

/// A person exempted from a requirement: while it is active (not revoked, and `until` is none
/// or not yet past) the cell is "Exempt", nobody assigns it to them, and it does not count in
/// the completion rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Exemption {
    /// Its id.
    pub id: ExemptionId,
    /// The person exempted.
    pub user_id: UserId,
    /// Their printed name.
    pub user_name: String,
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Its title.
    pub requirement_title: String,
    /// Why.
    pub reason: String,
    /// The last day it applies (none: until revoked).
    pub until: Option<NaiveDate>,
    /// Who granted it.
    pub granted_by_name: String,
    /// When (UTC).
    pub granted_at: DateTime<Utc>,
    /// When it was revoked (UTC).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    pub revoked_reason: Option<String>,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Record for Exemption {
    const RECORD_TYPE: &'static str = "training_exemption";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

impl Exemption {
    /// Whether it applies on `today`.
    pub fn is_active(&self, today: NaiveDate) -> bool {
        exemption_active(self.revoked_at.is_some(), self.until, today)
    }
}

/// Whether an exemption applies on `today`: not revoked, and `until` none or not yet past (it
/// applies on its `until` day).
pub fn exemption_active(revoked: bool, until: Option<NaiveDate>, today: NaiveDate) -> bool {
    !revoked && until.is_none_or(|u| u >= today)
}

/// Grant an exemption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExemptionInput {
    /// The person.
    pub user_id: UserId,
    /// The requirement.
    pub requirement_id: RequirementId,
    /// Why (required).
    #[serde(default)]
    pub reason: String,
    /// The last day it applies (none: until revoked); never in the past (checked by the server
    /// against its clock).
    #[serde(default)]
    pub until: Option<NaiveDate>,
}

impl ExemptionInput {
    /// Trims the reason.
    pub fn normalized(mut self) -> Self {
        self.reason = self.reason.trim().to_string();
        self
    }

    /// The rules that need no database; `today` (the server's day, or the browser's) checks
    /// that `until` is not past.
    pub fn validate(&self, today: Option<NaiveDate>) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "reason", &self.reason, true, EXEMPTION_REASON_MAX);
        if let (Some(until), Some(today)) = (self.until, today)
            && until < today
        {
            e.add("until", INVALID);
        }
        e.into_result()
    }
}

/// Revoke an exemption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    /// Why (required).
    #[serde(default)]
    pub reason: String,
}

impl RevokeInput {
    /// A reason is required.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "reason", self.reason.trim(), true, EXEMPTION_REASON_MAX);
        e.into_result()
    }
}

/// A classroom session held by a qualified trainer: its attendance list completed each
/// attendee's assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClassSession {
    /// Its id.
    pub id: ClassSessionId,
    /// The (classroom) requirement.
    pub requirement_id: RequirementId,
    /// Its title.
    pub requirement_title: String,
    /// The day it was held.
    pub held_on: NaiveDate,
    /// The trainer who recorded it.
    pub trainer_id: UserId,
    /// Their printed name.
    pub trainer_name: String,
    /// Notes (topics, materials, room).
    pub notes: String,
    /// Who attended.
    pub attendees: Vec<Attendee>,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Record for ClassSession {
    const RECORD_TYPE: &'static str = "training_session";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// One person on a session's attendance list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Attendee {
    /// The person.
    pub user_id: UserId,
    /// Their printed name.
    pub user_name: String,
    /// The assignment the session completed.
    pub assignment_id: AssignmentId,
}

/// Record a classroom session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClassSessionInput {
    /// The (classroom) requirement.
    pub requirement_id: RequirementId,
    /// The day it was held (not in the future, not before an attendee's assignment).
    pub held_on: NaiveDate,
    /// Who attended (at least one, each once).
    #[serde(default)]
    pub attendee_ids: Vec<UserId>,
    /// Notes.
    #[serde(default)]
    pub notes: String,
}

impl ClassSessionInput {
    /// Trims the notes.
    pub fn normalized(mut self) -> Self {
        self.notes = self.notes.trim().to_string();
        self
    }

    /// The rules that need no database; `today` checks that `held_on` is not in the future.
    pub fn validate(&self, today: Option<NaiveDate>) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.attendee_ids.is_empty() {
            e.add("attendee_ids", REQUIRED);
        }
        for (i, id) in self.attendee_ids.iter().enumerate() {
            if self.attendee_ids[..i].contains(id) {
                e.add(format!("attendee_ids[{i}]"), INVALID);
            }
        }
        validation::text(&mut e, "notes", &self.notes, false, SESSION_NOTES_MAX);
        if today.is_some_and(|t| self.held_on > t) {
            e.add("held_on", INVALID);
        }
        e.into_result()
    }
}
