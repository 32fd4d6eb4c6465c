//! Periodic review (domain/documents.md, "Periodic review"; ISO 9001:2015 7.5.2, ISO 13485:2016
//! 4.2.4): each document is reviewed at its interval; the review is signed and has one outcome.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validation::{self, REQUIRED};

use super::TEXT_MAX;

/// What a periodic review decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// Still right: the next review is the interval from today.
    NoChange,
    /// Needs revising: a draft of the text in force is opened, and the next review moves on.
    Revise,
    /// No longer needed: the document is made obsolete, the comment its reason.
    Obsolete,
}

impl ReviewOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::NoChange => "no_change",
            ReviewOutcome::Revise => "revise",
            ReviewOutcome::Obsolete => "obsolete",
        }
    }

    /// The name a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ReviewOutcome::NoChange => "No change needed",
            ReviewOutcome::Revise => "Revise",
            ReviewOutcome::Obsolete => "Make obsolete",
        }
    }

    /// Whether the outcome needs a comment (why it is revised or made obsolete).
    pub fn needs_comment(self) -> bool {
        self != ReviewOutcome::NoChange
    }
}

/// A periodic review, signed: the password is entered again (21 CFR 11.200(a)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PeriodicReviewInput {
    /// What the review decided.
    pub outcome: ReviewOutcome,
    /// Why (required to revise or make obsolete).
    #[serde(default)]
    pub comment: String,
    /// The reviewer's password, entered again.
    #[serde(default)]
    pub password: String,
    /// Accepts the electronic-signature agreement (needed before a person's first signature).
    #[serde(default)]
    pub accept_agreement: bool,
}

impl PeriodicReviewInput {
    /// The field rules (the password is checked by the server).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "comment", self.comment.trim(), self.outcome.needs_comment(), TEXT_MAX);
        if self.password.is_empty() {
            e.add("password", REQUIRED);
        }
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revising_or_making_obsolete_says_why() {
        let input = |outcome, comment: &str| PeriodicReviewInput {
            outcome,
            comment: comment.into(),
            password: "p".into(),
            accept_agreement: false,
        };
        assert!(input(ReviewOutcome::NoChange, "").validate().is_ok());
        for outcome in [ReviewOutcome::Revise, ReviewOutcome::Obsolete] {
            assert!(input(outcome, " ").validate().unwrap_err().get("comment").is_some(), "{outcome:?}");
            assert!(input(outcome, "Process changed").validate().is_ok());
        }
        let no_password = PeriodicReviewInput { password: String::new(), ..input(ReviewOutcome::NoChange, "") };
        assert!(no_password.validate().unwrap_err().get("password").is_some());
    }
}
