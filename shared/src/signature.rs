//! Electronic signatures (21 CFR 11.50, 11.70, 11.200, 11.10(j)).
//!
//! A signature binds the signer, the UTC time, the meaning and the SHA-256 of the canonical
//! serialisation of the exact record version signed ([`record_hash`]). It names its record, so
//! it cannot be copied to another one; when the record changes after signing the signature is
//! shown as superseded.
//!
//! What is hashed is the record's own content ([`content`]): the fields the record holds,
//! never a name joined from another record (a person's or a process's name, an evidence
//! label), nor anything derived from today's date. Renaming a user therefore leaves every
//! signature they appear in verifiable, and the hash of a record at the signed version is the
//! same whenever it is recomputed ([`HASH_SCHEME`]). The content hashed is kept with the
//! signature, so a signature is re-verified ([`SignatureCheck`]) even after its record moved on.

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
    text_hash(&canonical(record))
}

/// How a signature's hash was computed, stored with each signature:
/// - `1` (signatures made before 2026-12): the record as the API showed it, which included
///   names joined from other records; re-verifiable only while nothing it showed has changed.
/// - `2`: the record's own content ([`content`]), kept with the signature.
pub const HASH_SCHEME: i64 = 2;

/// The record's own content that a signature of each record type binds (hash scheme 2): a
/// plain JSON object of the fields the record holds, built in one place so that the server,
/// a script and the browser compute the same hash.
pub mod content {
    use serde_json::{Value, json};

    use crate::document::{Document, Revision, RevisionContent};
    use crate::org::Process;
    use crate::quality::capa::Capa;
    use crate::register::{MatrixRevision, Risk};
    use crate::worksheet::{Fmea, Row};

    /// A process: its owner's assignment (the owner's id, not their name).
    pub fn process(p: &Process) -> Value {
        json!({
            "id": p.id, "name": p.name, "description": p.description, "owner_id": p.owner_id,
            "department_id": p.department_id, "version": p.meta.version,
        })
    }

    /// A risk matrix revision: its definition and change note.
    pub fn risk_matrix_revision(r: &MatrixRevision) -> Value {
        json!({
            "id": r.id, "matrix_id": r.matrix_id, "revision": r.revision, "definition": r.definition,
            "change_note": r.change_note, "version": r.meta.version,
        })
    }

    /// A risk: its assessment, controls (evidence by id, not by its current label) and the
    /// acceptance rationale.
    pub fn risk(r: &Risk) -> Value {
        let controls: Vec<Value> = r
            .controls
            .iter()
            .map(|c| {
                let evidence: Vec<Value> = c
                    .evidence
                    .iter()
                    .map(|e| json!({"record_type": e.record_type, "record_id": e.record_id}))
                    .collect();
                json!({"description": c.description, "evidence": evidence})
            })
            .collect();
        json!({
            "id": r.id, "reference": r.reference, "title": r.title, "description": r.description,
            "category": r.category, "process_id": r.process_id, "owner_id": r.owner_id, "status": r.status,
            "review_date": r.review_date, "matrix_revision_id": r.matrix_revision_id, "inherent": r.inherent,
            "residual": r.residual, "controls": controls, "acceptance_rationale": r.acceptance_rationale,
            "version": r.meta.version,
        })
    }

    /// An FMEA baseline: the header (team by id) and every active row's cells.
    pub fn fmea(f: &Fmea, rows: &[Row]) -> Value {
        let team: Vec<i64> = f.team.iter().map(|m| m.id.0).collect();
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| json!({"id": r.id, "position": r.position, "version": r.version, "cells": r.cells}))
            .collect();
        json!({
            "id": f.id, "kind": f.kind, "fmea_number": f.fmea_number, "subject": f.subject, "company": f.company,
            "location": f.location, "customer": f.customer, "model_year": f.model_year, "start_date": f.start_date,
            "revision_date": f.revision_date, "process_id": f.process_id, "responsible_id": f.responsible_id,
            "team": team, "confidentiality": f.confidentiality, "version": f.meta.version,
            "content_version": f.content_version, "rows": rows,
        })
    }

    /// A document revision: what [`RevisionContent`] covers (a document's number and title never
    /// change), and its hash.
    pub fn document_revision(r: &Revision, d: &Document) -> Value {
        let content = RevisionContent {
            number: &d.number,
            title: &d.title,
            label: &r.label,
            body: &r.content.body,
            file_sha256: r.file.as_ref().map_or("", |f| f.sha256.as_str()),
        };
        json!({
            "number": content.number, "title": content.title, "label": content.label, "body": content.body,
            "file_sha256": content.file_sha256, "content_hash": content.hash(),
        })
    }

    /// A CAPA's action plan: the problem, the analysis and the actions (owners by id).
    pub fn capa_plan(c: &Capa) -> Value {
        let actions: Vec<Value> = c
            .actions
            .iter()
            .map(|a| {
                json!({"title": a.title, "kind": a.kind, "link_id": a.link_id, "owner_id": a.owner_id,
                    "due_on": a.due_on})
            })
            .collect();
        json!({
            "number": c.number, "title": c.title, "problem": c.investigation.problem,
            "whys": c.investigation.whys, "causes": c.investigation.causes, "actions": actions,
        })
    }

    /// A document as periodically reviewed: its identity, owner, readers and settings (not the
    /// dates a review moves on, nor what is derived from today).
    pub fn document(d: &Document) -> Value {
        json!({
            "id": d.id, "number": d.number, "doc_type": d.doc_type, "title": d.title, "owner_id": d.owner_id,
            "process_id": d.process_id, "review_interval_months": d.review_interval_months,
            "retention_years": d.retention_years, "source": d.source, "source_revision": d.source_revision,
            "reviewers": d.reviewers, "approvers": d.approvers, "reader_roles": d.reader_roles,
            "reader_department_ids": d.reader_department_ids, "version": d.meta.version,
        })
    }
}

/// The canonical text that [`record_hash`] hashes: kept with a signature.
pub fn canonical(record: &Value) -> String {
    // serde_json's map is ordered by key (no `preserve_order`), so this is canonical.
    serde_json::to_string(record).unwrap_or_default()
}

/// SHA-256 (lower-case hex) of a canonical text.
pub fn text_hash(canonical: &str) -> String {
    crate::audit::hex(&Sha256::digest(canonical.as_bytes()))
}

/// The signature components a person enters (11.200(a)(1)): the password every time, and the
/// username too on a session's first signature. Every way of signing checks them here.
pub fn check_components(e: &mut FieldErrors, username: Option<&str>, password: &str, first_in_session: bool) {
    if first_in_session && username.is_none_or(|u| u.trim().is_empty()) {
        e.add("username", REQUIRED);
    }
    if password.is_empty() {
        e.add("password", REQUIRED);
    }
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
    /// The signer's username, typed by the signer: required on the first signature of a
    /// session (11.200(a)(1)(i): all components the first time, the password alone after
    /// that within the same continuous session), and always checked against the session's
    /// user when given.
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
    /// The fields a person must fill; the username too on a session's first signature.
    pub fn validate(&self, first_in_session: bool) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        check_components(&mut e, self.username.as_deref(), &self.password, first_in_session);
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

/// What re-verifying a signature found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// The record is at the signed version and its content hashes to the signed hash; the
    /// kept content and the audit trail's entry agree.
    Valid,
    /// The kept content hashes to the signed hash and the audit trail's entry agrees; the
    /// record has changed since (a later version), so the signature no longer covers it.
    Superseded,
    /// A scheme-1 signature whose record moved on or whose shown names changed: the audit
    /// trail's entry agrees, but the signed content cannot be recomputed.
    Unverifiable,
    /// Something does not match: see `problems`.
    Broken,
}

/// The result of re-verifying one signature (`GET /api/v1/signatures/{id}/verification`,
/// `caliper verify-signatures`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignatureCheck {
    /// The signature.
    pub signature: Signature,
    /// How its hash was computed ([`HASH_SCHEME`]).
    pub hash_scheme: i64,
    /// What was found.
    pub status: SignatureStatus,
    /// The record's current version (none when the record cannot be found).
    pub current_version: Option<i64>,
    /// Each mismatch, in words; empty unless broken or unverifiable.
    pub problems: Vec<String>,
    /// The content the signature binds, as kept with it (scheme 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub signed_content: Option<Value>,
}

/// What the hash of a signature's kept content and of its record now say, given the audit
/// trail's agreement: the one rule [`SignatureCheck::status`] follows.
///
/// - `kept`: the kept canonical content (scheme 2) or `None` (scheme 1);
/// - `current`: the record's current version and the hash of its content now, by the
///   signature's scheme (`None` when the record cannot be read);
/// - `audited`: the audit trail holds the signature's entry with this hash and signer.
pub fn judge(
    s: &Signature,
    kept: Option<&str>,
    current: Option<(i64, String)>,
    audited: bool,
) -> (SignatureStatus, Vec<String>) {
    let mut problems = Vec::new();
    if let Some(text) = kept
        && text_hash(text) != s.record_hash
    {
        problems.push("the content kept with the signature does not hash to the signed hash".to_string());
    }
    if !audited {
        problems.push(
            "the audit trail has no signing entry by this signer with this hash for this record version".to_string(),
        );
    }
    // `Some(true)`: the record moved on; `Some(false)`: it is at the signed version and hashes the
    // same; `None`: it cannot be compared (not found, or scheme 1 and a shown name changed).
    let mut legacy = None;
    let moved_on = match &current {
        None => {
            problems.push(format!("{} {} cannot be found", s.record_type, s.record_id));
            None
        }
        Some((version, _)) if *version != s.record_version => Some(true),
        Some((_, hash)) if *hash == s.record_hash => Some(false),
        Some(_) if kept.is_none() => {
            legacy = Some(
                "signed under hash scheme 1, which covered names shown from other records; one of them has \
                 changed, so the signed content cannot be recomputed",
            );
            None
        }
        Some(_) => {
            problems.push(
                "the record is still at the signed version but its content no longer hashes to the signed hash: \
                 it was changed without a new version"
                    .to_string(),
            );
            None
        }
    };
    if moved_on == Some(true) && kept.is_none() {
        legacy = Some("signed under hash scheme 1 and the record has changed since: the signed content was not kept");
    }
    match (problems.is_empty(), legacy, moved_on) {
        (false, ..) => (SignatureStatus::Broken, problems),
        (true, Some(why), _) => (SignatureStatus::Unverifiable, vec![why.to_string()]),
        (true, None, Some(true)) => (SignatureStatus::Superseded, problems),
        (true, None, _) => (SignatureStatus::Valid, problems),
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

    fn signature(hash: &str) -> Signature {
        Signature {
            id: 1,
            record_type: "process".into(),
            record_id: 2,
            record_version: 3,
            record_hash: hash.into(),
            signer_id: UserId(4),
            signer_name: "Quinn Manager".into(),
            meaning: Meaning::Approved,
            signed_at: "2026-11-25T09:14:03Z".parse().unwrap(),
            superseded: false,
        }
    }

    #[test]
    fn a_signature_is_judged_by_its_kept_content_the_record_now_and_the_audit_trail() {
        let text = canonical(&json!({"id": 2, "name": "CNC", "version": 3}));
        let hash = text_hash(&text);
        let s = signature(&hash);
        let at = |v: i64, h: &str| Some((v, h.to_string()));
        assert_eq!(judge(&s, Some(&text), at(3, &hash), true), (SignatureStatus::Valid, vec![]));
        assert_eq!(judge(&s, Some(&text), at(4, "other"), true), (SignatureStatus::Superseded, vec![]));
        // Kept content altered, the audit entry missing, the record changed in place, gone.
        let (status, problems) = judge(&s, Some("{}"), at(3, &hash), true);
        assert_eq!((status, problems.len()), (SignatureStatus::Broken, 1), "{problems:?}");
        assert!(problems[0].contains("kept"));
        let (status, problems) = judge(&s, Some(&text), at(3, &hash), false);
        assert!(status == SignatureStatus::Broken && problems[0].contains("audit trail"), "{problems:?}");
        let (status, problems) = judge(&s, Some(&text), at(3, "other"), true);
        assert!(status == SignatureStatus::Broken && problems[0].contains("without a new version"), "{problems:?}");
        assert_eq!(judge(&s, Some(&text), None, true).0, SignatureStatus::Broken);
        // Scheme 1 (no kept content): valid while the record hashes the same, unverifiable
        // once it or a name it showed changed, broken when the audit trail disagrees.
        assert_eq!(judge(&s, None, at(3, &hash), true).0, SignatureStatus::Valid);
        assert_eq!(judge(&s, None, at(3, "renamed"), true).0, SignatureStatus::Unverifiable);
        assert_eq!(judge(&s, None, at(5, "other"), true).0, SignatureStatus::Unverifiable);
        assert_eq!(judge(&s, None, at(3, "renamed"), false).0, SignatureStatus::Broken);
    }

    #[test]
    fn the_first_signature_of_a_session_needs_the_username() {
        let input = SignInput {
            record_type: "process".into(),
            record_id: 1,
            record_version: 1,
            meaning: Meaning::Approved,
            password: "pw".into(),
            username: None,
            accept_agreement: false,
            rationale: None,
        };
        assert_eq!(input.validate(true).unwrap_err().get("username"), Some(&[REQUIRED.to_string()][..]));
        assert!(input.validate(false).is_ok());
        let blank = SignInput { username: Some("  ".into()), ..input.clone() };
        assert!(blank.validate(true).is_err());
        assert!(SignInput { username: Some("quinn".into()), ..input }.validate(true).is_ok());
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
