//! Revision notices (domain/documents.md, "Revision notices"): when a revision is approved and
//! when it takes effect, the people who must read it or be trained on it are told in the app.
//! Each person chooses which kinds they get; a notice that carries a training assignment cannot be
//! turned off.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DocumentId, RevisionId};

/// What happened to the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Every required signature is there (read it, train on it before it takes effect).
    Approved,
    /// It is in force.
    Effective,
}

impl NoticeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Approved => "approved",
            NoticeKind::Effective => "effective",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [NoticeKind::Approved, NoticeKind::Effective].into_iter().find(|k| k.as_str() == s)
    }
}

/// A notice in a person's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Notice {
    /// Its id.
    pub id: i64,
    /// What happened.
    pub kind: NoticeKind,
    /// The document.
    pub document_id: DocumentId,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// The revision.
    pub revision_id: RevisionId,
    /// The revision's label.
    pub label: String,
    /// When it was sent (UTC).
    pub created_at: DateTime<Utc>,
    /// When its reader marked it read.
    pub read_at: Option<DateTime<Utc>>,
    /// The reader has an open training assignment on this revision (such a notice is always sent).
    pub carries_training: bool,
}

/// How many notices are unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    /// Unread notices.
    pub count: u32,
}

/// Which notices a person gets (both by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NoticeSettings {
    /// When a revision is approved.
    pub approved: bool,
    /// When a revision takes effect.
    pub effective: bool,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        Self { approved: true, effective: true }
    }
}

impl NoticeSettings {
    /// Whether a notice of `kind` goes to this person: the kinds they chose, and always one that
    /// carries a training assignment.
    pub fn wants(self, kind: NoticeKind, carries_training: bool) -> bool {
        carries_training
            || match kind {
                NoticeKind::Approved => self.approved,
                NoticeKind::Effective => self.effective,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_with_training_cannot_be_turned_off() {
        let off = NoticeSettings { approved: false, effective: false };
        assert!(!off.wants(NoticeKind::Approved, false) && !off.wants(NoticeKind::Effective, false));
        assert!(off.wants(NoticeKind::Approved, true) && off.wants(NoticeKind::Effective, true));
        let on = NoticeSettings::default();
        assert!(on.wants(NoticeKind::Approved, false) && on.wants(NoticeKind::Effective, false));
        let only_effective = NoticeSettings { approved: false, effective: true };
        assert!(
            !only_effective.wants(NoticeKind::Approved, false) && only_effective.wants(NoticeKind::Effective, false)
        );
        assert_eq!(NoticeKind::parse("effective"), Some(NoticeKind::Effective));
    }
}
