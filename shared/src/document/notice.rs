//! Notices in each person's inbox: revision notices (domain/documents.md, "Revision notices":
//! when a revision is approved and when it takes effect, the people who must read it or be trained
//! on it are told in the app) and training notices (an assignment made, whatever its cause, and an
//! assignment coming due). Each person chooses which revision notices they get; a notice that
//! carries a training assignment, and every training notice, cannot be turned off.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{DocumentId, RevisionId};
use crate::training::AssignmentId;

/// What happened to the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Every required signature is there (read it, train on it before it takes effect).
    Approved,
    /// It is in force.
    Effective,
    /// A training assignment was made for the reader (any cause but a revision's approval, which
    /// tells them with its `approved` notice).
    TrainingAssigned,
    /// An open training assignment of the reader is due within `DUE_SOON_DAYS`.
    TrainingDueSoon,
}

impl NoticeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Approved => "approved",
            NoticeKind::Effective => "effective",
            NoticeKind::TrainingAssigned => "training_assigned",
            NoticeKind::TrainingDueSoon => "training_due_soon",
        }
    }

    /// Every kind.
    pub const ALL: [NoticeKind; 4] =
        [NoticeKind::Approved, NoticeKind::Effective, NoticeKind::TrainingAssigned, NoticeKind::TrainingDueSoon];

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether it is about a training assignment (and always sent).
    pub fn is_training(self) -> bool {
        matches!(self, NoticeKind::TrainingAssigned | NoticeKind::TrainingDueSoon)
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
    /// The document (none: a training notice without one).
    pub document_id: Option<DocumentId>,
    /// Its number.
    pub number: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// The revision.
    pub revision_id: Option<RevisionId>,
    /// The revision's label.
    pub label: Option<String>,
    /// The training assignment (training notices).
    pub assignment_id: Option<AssignmentId>,
    /// Its requirement's title.
    pub requirement_title: Option<String>,
    /// When it is due.
    pub due_on: Option<NaiveDate>,
    /// When it was sent (UTC).
    pub created_at: DateTime<Utc>,
    /// When its reader marked it read.
    pub read_at: Option<DateTime<Utc>>,
    /// The reader has an open training assignment on this revision (such a notice is always sent).
    pub carries_training: bool,
}

impl Notice {
    /// The notice in words, e.g. "SOP-0001 Control of records: Revision C approved" or "Training
    /// assigned: Forklift safety, due 2026-12-20".
    pub fn headline(&self) -> String {
        let doc = match (&self.number, &self.title) {
            (Some(n), Some(t)) => format!("{n} {t}"),
            _ => String::new(),
        };
        let label = self.label.clone().unwrap_or_default();
        let training = |what: &str| {
            let title = self.requirement_title.clone().unwrap_or_default();
            match self.due_on {
                Some(d) => format!("{what}: {title}, due {d}"),
                None => format!("{what}: {title}"),
            }
        };
        match self.kind {
            NoticeKind::Approved => format!("{doc}: Revision {label} approved"),
            NoticeKind::Effective => format!("{doc}: Revision {label} in force"),
            NoticeKind::TrainingAssigned => training("Training assigned"),
            NoticeKind::TrainingDueSoon => training("Training due soon"),
        }
    }

    /// A notice of a revision (approved, in force) on which the reader has open training: the
    /// app marks it so. (Training notices are about training already, and say so.)
    pub fn marks_training(&self) -> bool {
        self.carries_training && matches!(self.kind, NoticeKind::Approved | NoticeKind::Effective)
    }

    /// Where the app shows what it is about: the assignment, or the revision.
    pub fn href(&self) -> String {
        match (self.assignment_id, self.document_id, self.revision_id) {
            (Some(a), _, _) => format!("/training/assignments/{a}"),
            (None, Some(d), Some(r)) => format!("/documents/{d}/revisions/{r}"),
            _ => "/training".to_string(),
        }
    }
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
                NoticeKind::TrainingAssigned | NoticeKind::TrainingDueSoon => true,
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
        // Training notices are always sent, whatever the person chose.
        for kind in [NoticeKind::TrainingAssigned, NoticeKind::TrainingDueSoon] {
            assert!(off.wants(kind, false) && kind.is_training());
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
        }
        assert!(!NoticeKind::Approved.is_training());
    }

    #[test]
    fn a_notice_says_what_and_where() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T08:00:00Z").unwrap().with_timezone(&Utc);
        let revision = Notice {
            id: 1,
            kind: NoticeKind::Approved,
            document_id: Some(DocumentId(3)),
            number: Some("SOP-0003".into()),
            title: Some("Control of records".into()),
            revision_id: Some(RevisionId(9)),
            label: Some("C".into()),
            assignment_id: None,
            requirement_title: None,
            due_on: None,
            created_at: at,
            read_at: None,
            carries_training: true,
        };
        assert_eq!(revision.headline(), "SOP-0003 Control of records: Revision C approved");
        assert_eq!(revision.href(), "/documents/3/revisions/9");
        assert!(revision.marks_training(), "a revision the reader has training on is marked");
        assert!(!Notice { carries_training: false, ..revision.clone() }.marks_training());
        let training = Notice {
            kind: NoticeKind::TrainingDueSoon,
            assignment_id: Some(AssignmentId(44)),
            requirement_title: Some("Forklift safety".into()),
            due_on: NaiveDate::from_ymd_opt(2026, 12, 9),
            ..revision
        };
        assert_eq!(training.headline(), "Training due soon: Forklift safety, due 2026-12-09");
        assert_eq!(training.href(), "/training/assignments/44");
        // A training notice (always sent, so stored as carrying training) is not marked again.
        assert!(training.carries_training && !training.marks_training());
    }
}
