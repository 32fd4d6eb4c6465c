//! Electronic signatures (21 CFR 11.50, 11.70, 11.200, 11.10(j)).
//!
//! A signature binds the signer, the UTC time, the meaning and the SHA-256 of the canonical
//! serialisation of the exact record version signed ([`record_hash`]). It names its record, so
//! it cannot be copied to another one; when the record changes after signing the signature is
//! shown as superseded.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::FieldErrors;
use crate::auth::{Permission, UserId};
use crate::validation::REQUIRED;

/// What a signature means (11.50(a)(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    /// I wrote this.
    Authored,
    /// I reviewed this.
    Reviewed,
    /// I approve this.
    Approved,
    /// I have read and understood this.
    Acknowledged,
    /// I verified this.
    Verified,
}

impl Meaning {
    /// Every meaning.
    pub const ALL: [Meaning; 5] =
        [Meaning::Authored, Meaning::Reviewed, Meaning::Approved, Meaning::Acknowledged, Meaning::Verified];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Meaning::Authored => "authored",
            Meaning::Reviewed => "reviewed",
            Meaning::Approved => "approved",
            Meaning::Acknowledged => "acknowledged",
            Meaning::Verified => "verified",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Meaning> {
        Meaning::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// As shown in a signature manifestation.
    pub fn label(self) -> &'static str {
        match self {
            Meaning::Authored => "Authored",
            Meaning::Reviewed => "Reviewed",
            Meaning::Approved => "Approved",
            Meaning::Acknowledged => "Read and understood",
            Meaning::Verified => "Verified",
        }
    }
}

/// Which signatures exist: (record type, meaning) → the permission needed to sign, and what the
/// signature attests. A record type registers here to become signable.
pub const SIGNABLE: &[(&str, Meaning, Permission, &str)] = &[
    ("process", Meaning::Approved, Permission::ApproveProcessOwners, "the process owner's assignment"),
    ("risk_matrix_revision", Meaning::Approved, Permission::ApproveRiskMatrices, "the risk matrix revision"),
    // Signing a risk's approval accepts its residual risk, with the rationale signed alongside.
    ("risk", Meaning::Approved, Permission::AcceptRisks, "the acceptance of the residual risk"),
    ("fmea", Meaning::Approved, Permission::ApproveFmeas, "the FMEA worksheet baseline"),
    // Only the document's named reviewers and approvers, and never the author as approver
    // (`shared::document::workflow`); the last required signature approves the revision.
    ("document_revision", Meaning::Reviewed, Permission::SignDocuments, "the review of the document revision"),
    ("document_revision", Meaning::Approved, Permission::SignDocuments, "the approval of the document revision"),
    // Approving a CAPA's action plan moves it to implementation.
    ("capa", Meaning::Approved, Permission::ManageQuality, "the approval of the CAPA's action plan"),
    // Only by a trainee whose open assignment asks for this revision (`shared::training`); it
    // completes the assignment, or opens its quiz.
    (
        "document_revision",
        Meaning::Acknowledged,
        Permission::CompleteTraining,
        "reading and understanding the document revision",
    ),
];

/// Record types whose signature carries a statement the signer writes (`SignInput::rationale`),
/// stored with the record version it signs: (record type, meaning).
pub const WITH_RATIONALE: &[(&str, Meaning)] = &[("risk", Meaning::Approved)];

/// The permission needed to sign `record_type` with `meaning`, when that signature exists.
pub fn sign_permission(record_type: &str, meaning: Meaning) -> Option<Permission> {
    SIGNABLE.iter().find(|(t, m, _, _)| *t == record_type && *m == meaning).map(|(_, _, p, _)| *p)
}

/// The text of the electronic-signature agreement each user accepts once before their first
/// signature (11.10(j), 11.100(c)).
pub const AGREEMENT: &str = "I agree that my electronic signature in Caliper is the legally binding equivalent of \
     my handwritten signature. I will not share my password, and I will not let anyone sign in my name.";

/// SHA-256 (lower-case hex) of the canonical JSON of a record version: object keys sorted,
/// no whitespace. The same record hashes the same on either database and in the browser.
pub fn record_hash(record: &Value) -> String {
    // serde_json's map is ordered by key (no `preserve_order`), so this is canonical.
    let json = serde_json::to_string(record).unwrap_or_default();
    crate::audit::hex(&Sha256::digest(json.as_bytes()))
}

/// Sign a record version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInput {
    /// Kind of record, e.g. `process`.
    pub record_type: String,
    /// Which record.
    pub record_id: i64,
    /// The version being signed; a stale one gets 409.
    pub record_version: i64,
    /// What the signature means.
    pub meaning: Meaning,
    /// The signer's password, entered again (11.200(a)).
    #[serde(default)]
    pub password: String,
    /// The signer's username: required when this is not a continuous session's first
    /// signature, and always checked against the session's user when given.
    #[serde(default)]
    pub username: Option<String>,
    /// Accepts [`AGREEMENT`]; required before a user's first signature.
    #[serde(default)]
    pub accept_agreement: bool,
    /// The signer's statement, for the signatures that carry one ([`WITH_RATIONALE`]), e.g. the
    /// benefit–risk rationale that accepts a residual risk. Saved on the record, which the
    /// signature then binds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

impl SignInput {
    /// The fields a person must fill.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.password.is_empty() {
            e.add("password", REQUIRED);
        }
        if self.rationale.is_some() && !WITH_RATIONALE.contains(&(self.record_type.as_str(), self.meaning)) {
            e.add("rationale", crate::validation::UNKNOWN_FIELD);
        }
        e.into_result()
    }
}

/// A signature, as shown and exported (11.50).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Signature {
    /// Its id.
    pub id: i64,
    /// Kind of record signed.
    pub record_type: String,
    /// Which record.
    pub record_id: i64,
    /// Which version of it.
    pub record_version: i64,
    /// SHA-256 of that version's canonical JSON.
    pub record_hash: String,
    /// Who signed.
    pub signer_id: UserId,
    /// Their printed name at the time of signing.
    pub signer_name: String,
    /// What it means.
    pub meaning: Meaning,
    /// When (UTC, server clock).
    pub signed_at: DateTime<Utc>,
    /// True when the record has changed since: the signature no longer covers it.
    pub superseded: bool,
}

impl Signature {
    /// The manifestation line (11.50): printed name, date and time with zone, meaning.
    pub fn manifestation(&self) -> String {
        format!(
            "{} — {} — {} UTC{}",
            self.signer_name,
            self.meaning.label(),
            self.signed_at.format("%Y-%m-%d %H:%M:%S"),
            if self.superseded { " (superseded: the record changed after signing)" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_record_hash_is_canonical() {
        let a = json!({"name": "CNC", "owner_id": 3, "version": 2});
        let b: Value = serde_json::from_str(r#"{ "version": 2, "owner_id": 3, "name": "CNC" }"#).unwrap();
        assert_eq!(record_hash(&a), record_hash(&b));
        assert_eq!(
            record_hash(&json!({})),
            // SHA-256 of "{}"
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_ne!(record_hash(&a), record_hash(&json!({"name": "CNC", "owner_id": 4, "version": 2})));
    }

    #[test]
    fn signable_records_name_their_permission() {
        assert_eq!(sign_permission("process", Meaning::Approved), Some(Permission::ApproveProcessOwners));
        assert_eq!(sign_permission("process", Meaning::Authored), None);
        assert_eq!(sign_permission("site", Meaning::Approved), None);
        for m in Meaning::ALL {
            assert_eq!(Meaning::parse(m.as_str()), Some(m));
        }
    }

    #[test]
    fn the_manifestation_shows_name_time_zone_and_meaning() {
        let s = Signature {
            id: 1,
            record_type: "process".into(),
            record_id: 2,
            record_version: 3,
            record_hash: String::new(),
            signer_id: UserId(4),
            signer_name: "Quinn Manager".into(),
            meaning: Meaning::Approved,
            signed_at: "2026-11-25T09:14:03Z".parse().unwrap(),
            superseded: false,
        };
        assert_eq!(s.manifestation(), "Quinn Manager — Approved — 2026-11-25 09:14:03 UTC");
        assert!(Signature { superseded: true, ..s }.manifestation().contains("superseded"));
    }
}
