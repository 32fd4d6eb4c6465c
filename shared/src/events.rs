//! Live updates: what `/api/v1/events` (Server-Sent Events) tells open pages, so that they
//! refresh what someone else changed. Every change is already an audit entry; an event is the
//! entry's headline, without its values.

use serde::{Deserialize, Serialize};

use crate::audit::{AuditAction, AuditEntry};

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
