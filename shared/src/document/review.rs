//! Periodic review (domain/documents.md, "Periodic review"; ISO 9001:2015 7.5.2, ISO 13485:2016
//! 4.2.4): each document is reviewed at its interval; the review is signed and has one outcome.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validation;

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
    /// The reviewer's username, typed: required on the session's first signature
    /// ([`crate::signature::SignInput::username`]).
    #[serde(default)]
    pub username: Option<String>,
    /// Accepts the electronic-signature agreement (needed before a person's first signature).
    #[serde(default)]
    pub accept_agreement: bool,
}

impl PeriodicReviewInput {
    /// The field rules (the password is checked by the server); the username too on the
    /// session's first signature.
    pub fn validate(&self, first_in_session: bool) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "comment", self.comment.trim(), self.outcome.needs_comment(), TEXT_MAX);
        crate::signature::check_components(&mut e, self.username.as_deref(), &self.password, first_in_session);
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
            username: None,
            accept_agreement: false,
        };
        assert!(input(ReviewOutcome::NoChange, "").validate(false).is_ok());
        for outcome in [ReviewOutcome::Revise, ReviewOutcome::Obsolete] {
            assert!(input(outcome, " ").validate(false).unwrap_err().get("comment").is_some(), "{outcome:?}");
            assert!(input(outcome, "Process changed").validate(false).is_ok());
        }
        let no_password = PeriodicReviewInput { password: String::new(), ..input(ReviewOutcome::NoChange, "") };
        assert!(no_password.validate(false).unwrap_err().get("password").is_some());
        // A session's first signature: the username too.
        assert!(input(ReviewOutcome::NoChange, "").validate(true).unwrap_err().get("username").is_some());
        let typed = PeriodicReviewInput { username: Some("dana".into()), ..input(ReviewOutcome::NoChange, "") };
        assert!(typed.validate(true).is_ok());
    }
}
