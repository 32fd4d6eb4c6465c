//! Live updates: what `/api/v1/events` (Server-Sent Events) tells open pages, so that they
//! refresh what someone else changed. Every change is already an audit entry; an event is the
//! entry's headline, without its values.

use serde::{Deserialize, Serialize};

use crate::audit::{AuditAction, AuditEntry};
use crate::auth::{Permission, Role, allowed};

/// The name of the SSE event that carries a [`RecordChanged`].
pub const CHANGE: &str = "change";

/// A record changed (was created, updated, retired, signed, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RecordChanged {
    /// The audit entry's position (also the SSE event id).
    pub seq: i64,
    /// Kind of record.
    pub record_type: String,
    /// Which record.
    pub record_id: i64,
    /// Its version after the change.
    pub record_version: i64,
    /// What happened.
    pub action: AuditAction,
    /// Who, by printed name.
    pub actor_name: String,
}

impl From<&AuditEntry> for RecordChanged {
    fn from(e: &AuditEntry) -> Self {
        Self {
            seq: e.seq,
            record_type: e.record_type.clone(),
            record_id: e.record_id,
            record_version: e.record_version,
            action: e.action,
            actor_name: e.actor_name.clone(),
        }
    }
}

/// The permissions (any one of them) that let someone hear about changes to records of
/// `record_type`: the same that let them read such records. A kind not listed here is heard
/// only by the person it concerns (a notice's recipient, one's own settings) or by nobody, so
/// that a new kind of record is private until it is added. The server applies record-level
/// rules on top (an FMEA's confidentiality).
pub fn readers(record_type: &str) -> &'static [Permission] {
    use Permission as P;
    match record_type {
        "site" | "department" | "process" => &[P::ViewOrganisation],
        "user" | "installation_settings" => &[P::ManageUsers],
        "api_token" => &[P::ManageUsers, P::ManageSessions],
        "risk" | "risk_matrix_revision" => &[P::ViewRisks],
        "fmea" | "fmea_row" => &[P::ViewFmeas],
        "document" | "document_revision" | "document_review" => &[P::ViewDocuments],
        "training_requirement"
        | "training_assignment"
        | "training_exemption"
        | "training_session"
        | "curriculum_line" => {
            &[P::CompleteTraining, P::ViewTrainingRecords, P::ViewTeamTrainingRecords, P::ManageTraining]
        }
        "nc" | "complaint" | "capa" | "nc_category" => &[P::ViewQuality],
        "measurement" | "kpi_target" | "quality_objective" => &[P::ViewDashboard],
        _ => &[],
    }
}

/// Whether someone holding `roles` may hear about changes to records of `record_type` (see
/// [`readers`]).
pub fn may_hear(roles: &[Role], record_type: &str) -> bool {
    readers(record_type).iter().any(|p| allowed(roles, *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_heard_by_its_readers_only() {
        assert!(may_hear(&[Role::Staff], "document"));
        assert!(!may_hear(&[Role::Staff], "api_token"), "staff do not manage tokens");
        assert!(!may_hear(&[Role::Staff], "user"));
        assert!(may_hear(&[Role::Admin], "user"));
        assert!(!may_hear(&[Role::Executive], "user"));
        assert!(may_hear(&[Role::Auditor], "capa"));
        // Personal kinds and unknown ones: nobody by role.
        for kind in ["notice", "notice_settings", "dashboard_layout", "something_new"] {
            assert!(!may_hear(&Role::ALL, kind), "{kind}");
        }
        // Every kind the audit filter offers has readers.
        for (kind, _) in crate::org::RECORD_TYPES {
            assert!(!readers(kind).is_empty(), "{kind} has no readers");
        }
    }
}
