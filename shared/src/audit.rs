//! The audit trail's record format and its hash chain (21 CFR 11.10(e), ALCOA+).
//!
//! Each entry stores the previous entry's hash, and its own hash is SHA-256 over
//! `previous hash ‖ "\n" ‖ canonical JSON of the entry`. The canonical JSON has a fixed field
//! order, sorted object keys, and timestamps at microsecond precision in UTC with a `Z`, so the
//! same entry hashes the same on SQLite, on PostgreSQL and in the browser.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// The record was created.
    Create,
    /// Fields of the record changed.
    Update,
    /// The record was retired (never deleted); for a user, deactivated.
    Retire,
    /// The record version was signed electronically.
    Sign,
    /// A user accepted the electronic-signature agreement.
    AcceptAgreement,
    /// A user signed in.
    SignIn,
    /// A sign-in failed (wrong password, locked or deactivated account, unknown user).
    FailedSignIn,
    /// The account was locked after repeated failures.
    Lock,
    /// A user signed out.
    SignOut,
    /// An administrator revoked a session.
    RevokeSession,
    /// A user changed their own password.
    ChangePassword,
    /// An administrator set a temporary password.
    ResetPassword,
}

/// Every action with its stored name.
const ACTIONS: [(AuditAction, &str); 12] = [
    (AuditAction::Create, "create"),
    (AuditAction::Update, "update"),
    (AuditAction::Retire, "retire"),
    (AuditAction::Sign, "sign"),
    (AuditAction::AcceptAgreement, "accept_agreement"),
    (AuditAction::SignIn, "sign_in"),
    (AuditAction::FailedSignIn, "failed_sign_in"),
    (AuditAction::Lock, "lock"),
    (AuditAction::SignOut, "sign_out"),
    (AuditAction::RevokeSession, "revoke_session"),
    (AuditAction::ChangePassword, "change_password"),
    (AuditAction::ResetPassword, "reset_password"),
];

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        ACTIONS.iter().find(|(a, _)| *a == self).map_or("unknown", |(_, s)| s)
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        ACTIONS.iter().find(|(_, n)| *n == s).map(|(a, _)| *a)
    }
}

/// One field's old and new value (`null` where there was none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// Before.
    #[cfg_attr(feature = "server", schema(value_type = Value))]
    pub old: Value,
    /// After.
    #[cfg_attr(feature = "server", schema(value_type = Value))]
    pub new: Value,
}

/// Field name → old and new value. Sorted, so its JSON is canonical.
pub type Changes = BTreeMap<String, FieldChange>;

/// Where a change came from (11.10(h)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditSource {
    /// The request id (also in the server log).
    pub request_id: String,
    /// The client's address, when known.
    pub client_address: String,
    /// The client's user agent, or the tool that made the change (e.g. `caliper seed-demo`).
    pub user_agent: String,
    /// The session the change was made in (its id, never its secret); absent for tools.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session_id: String,
}

/// An entry of the audit trail as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the chain: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When (UTC, server clock, microseconds).
    pub occurred_at: DateTime<Utc>,
    /// Who: user id, once users exist.
    pub actor_id: Option<i64>,
    /// Who: printed name.
    pub actor_name: String,
    /// What happened.
    pub action: AuditAction,
    /// Kind of record (`process`, `department`, `site`, …).
    pub record_type: String,
    /// The record's id.
    pub record_id: i64,
    /// The record's version after the change.
    pub record_version: i64,
    /// Old → new values of the fields that changed.
    pub changes: Changes,
    /// Why, where given.
    pub reason: Option<String>,
    /// Where the change came from.
    pub source: AuditSource,
    /// Hash of the previous entry ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 of this entry, see [`AuditEntry::compute_hash`].
    pub hash: String,
}

/// A timestamp as the audit trail keeps it: UTC, microseconds (PostgreSQL's precision).
pub fn audit_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

impl AuditEntry {
    /// The entry in its stored form (`changes` and `source` as their compact JSON text).
    fn stored<'a>(&'a self, changes: &'a str, source: &'a str) -> StoredEntry<'a> {
        StoredEntry {
            seq: self.seq,
            occurred_at: self.occurred_at,
            actor_id: self.actor_id,
            actor_name: &self.actor_name,
            action: self.action.as_str(),
            record_type: &self.record_type,
            record_id: self.record_id,
            record_version: self.record_version,
            changes,
            reason: self.reason.as_deref(),
            source,
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }

    /// The canonical JSON this entry's hash covers.
    pub fn canonical_json(&self) -> String {
        let (changes, source) = self.json_parts();
        self.stored(&changes, &source).canonical_json()
    }

    /// SHA-256 (lower-case hex) of `prev_hash ‖ "\n" ‖ canonical JSON`.
    pub fn compute_hash(&self) -> String {
        let (changes, source) = self.json_parts();
        self.stored(&changes, &source).compute_hash()
    }

    /// The canonical JSON after its opening `{"seq":<seq>`: everything the hash covers but the
    /// position and the link, for a database that chains the entry itself after the head it
    /// finds, as `SHA-256(prev_hash ‖ "\n" ‖ {"seq":<seq> ‖ this)` (PostgreSQL's append).
    pub fn canonical_after_seq(&self) -> String {
        let (changes, source) = self.json_parts();
        let json = self.stored(&changes, &source).canonical_json();
        let position = format!("{{\"seq\":{}", self.seq);
        json.strip_prefix(&position).expect("the canonical JSON opens with the position").to_string()
    }

    /// `changes` and `source` as compact JSON: exactly the text the database stores.
    pub fn json_parts(&self) -> (String, String) {
        let changes = serde_json::to_string(&self.changes).expect("changes always serialise");
        let source = serde_json::to_string(&self.source).expect("a source always serialises");
        (changes, source)
    }
}

/// An audit entry as stored, borrowed from a database row: `changes` and `source` are the JSON
/// text written by [`AuditEntry::json_parts`]. The hash is computed over this stored text, so
/// checking a chain needs no JSON parsing, and any edit to the text — even one that leaves it
/// meaning the same — breaks the hash.
#[derive(Debug, Clone, Copy)]
pub struct StoredEntry<'a> {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who: user id.
    pub actor_id: Option<i64>,
    /// Who: printed name.
    pub actor_name: &'a str,
    /// The action's stored name.
    pub action: &'a str,
    /// Kind of record.
    pub record_type: &'a str,
    /// The record's id.
    pub record_id: i64,
    /// The record's version after the change.
    pub record_version: i64,
    /// The changes' JSON text.
    pub changes: &'a str,
    /// Why.
    pub reason: Option<&'a str>,
    /// The source's JSON text.
    pub source: &'a str,
    /// Hash of the previous entry.
    pub prev_hash: &'a str,
    /// The stored hash of this entry.
    pub hash: &'a str,
}

impl StoredEntry<'_> {
    /// The canonical JSON: the entry without its own hash and link, fields in a fixed order,
    /// the time in UTC at microseconds with a `Z`.
    pub fn canonical_json(&self) -> String {
        use std::fmt::Write;
        let t = audit_time(self.occurred_at);
        let mut s = String::with_capacity(160 + self.changes.len() + self.source.len() + self.actor_name.len());
        let text = |s: &mut String, v: &str| s.push_str(&serde_json::to_string(v).expect("text always serialises"));
        let _ = write!(
            s,
            "{{\"seq\":{},\"occurred_at\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z\",\"actor_id\":",
            self.seq,
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_micros().min(999_999),
        );
        match self.actor_id {
            Some(id) => {
                let _ = write!(s, "{id}");
            }
            None => s.push_str("null"),
        }
        s.push_str(",\"actor_name\":");
        text(&mut s, self.actor_name);
        s.push_str(",\"action\":");
        text(&mut s, self.action);
        s.push_str(",\"record_type\":");
        text(&mut s, self.record_type);
        let _ = write!(s, ",\"record_id\":{},\"record_version\":{},\"changes\":", self.record_id, self.record_version);
        s.push_str(self.changes);
        s.push_str(",\"reason\":");
        match self.reason {
            Some(r) => text(&mut s, r),
            None => s.push_str("null"),
        }
        s.push_str(",\"source\":");
        s.push_str(self.source);
        s.push('}');
        s
    }

    /// SHA-256 (lower-case hex) of `prev_hash ‖ "\n" ‖ canonical JSON`.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(b"\n");
        h.update(self.canonical_json().as_bytes());
        hex(&h.finalize())
    }
}

/// Lower-case hex of `bytes` (hashes, tokens).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// The fields that changed between two JSON objects (a record before and after), leaving out
/// the id (the entry names its record) and bookkeeping that changes on every write (`version`,
/// `created_at`, `updated_at`). `before` is
/// `null` for a creation.
pub fn diff(before: &Value, after: &Value) -> Changes {
    const SKIP: [&str; 4] = ["id", "version", "created_at", "updated_at"];
    let empty = serde_json::Map::new();
    let old = before.as_object().unwrap_or(&empty);
    let new = after.as_object().unwrap_or(&empty);
    old.keys()
        .chain(new.keys())
        .filter(|k| !SKIP.contains(&k.as_str()))
        .filter_map(|k| {
            let (o, n) = (old.get(k).cloned().unwrap_or(Value::Null), new.get(k).cloned().unwrap_or(Value::Null));
            (o != n).then(|| (k.clone(), FieldChange { old: o, new: n }))
        })
        .collect()
}

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// The entries.
    pub items: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A changed value as a person reads it: text without quotes, `—` for nothing.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::String(s) if s.is_empty() => "(empty)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChainReport {
    /// Entries read.
    pub entries: u64,
    /// True when every entry's hash and link are right and the sequence has no gap.
    pub intact: bool,
    /// The first entry that is wrong.
    pub first_broken_seq: Option<i64>,
    /// Why it is wrong.
    pub problem: Option<String>,
    /// Hash of the last entry (the chain's head), when intact.
    pub head_hash: Option<String>,
}

/// Checks a chain entry by entry, as read in `seq` order; feed every entry to
/// [`ChainVerifier::check`], then call [`ChainVerifier::finish`].
#[derive(Debug)]
pub struct ChainVerifier {
    entries: u64,
    expected_seq: i64,
    prev_hash: String,
    broken: Option<(i64, String)>,
    /// For a part of the chain checked on its own: where it starts, and the first entry's
    /// `prev_hash`, taken on trust until [`ChainVerifier::join`] checks it.
    part: Option<(i64, Option<String>)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { entries: 0, expected_seq: 1, prev_hash: GENESIS_HASH.to_string(), broken: None, part: None }
    }
}

impl ChainVerifier {
    /// A verifier for the part of the chain from entry `seq` on, so that parts can be read and
    /// checked side by side; [`ChainVerifier::join`] then checks the links between them.
    pub fn part_from(seq: i64) -> Self {
        Self { expected_seq: seq, prev_hash: String::new(), part: Some((seq, None)), ..Self::default() }
    }

    /// The verdict on a chain checked in consecutive parts (the first from entry 1, the
    /// others from [`ChainVerifier::part_from`]), as if it had been checked in one pass.
    pub fn join(parts: impl IntoIterator<Item = ChainVerifier>) -> ChainReport {
        let mut parts = parts.into_iter();
        let Some(mut whole) = parts.next() else { return ChainVerifier::default().finish() };
        for part in parts {
            if whole.broken.is_some() {
                break;
            }
            let first_prev = part.part.as_ref().and_then(|(_, prev)| prev.as_deref());
            let problem = match first_prev {
                None => Some(format!("sequence gap: expected entry {}, found none", whole.expected_seq)),
                Some(_) if part.part.as_ref().map(|(start, _)| *start) != Some(whole.expected_seq) => {
                    Some(format!("sequence gap: expected entry {}", whole.expected_seq))
                }
                Some(prev) if prev != whole.prev_hash => Some(
                    "its prev_hash does not match the previous entry's hash (an entry was removed or reordered)".into(),
                ),
                Some(_) => None,
            };
            if let Some(p) = problem {
                whole.entries += 1;
                whole.broken = Some((whole.expected_seq, p));
                break;
            }
            whole.entries += part.entries;
            whole.expected_seq = part.expected_seq;
            whole.prev_hash = part.prev_hash;
            whole.broken = part.broken;
        }
        whole.finish()
    }

    /// Checks the next entry; returns false once the chain is broken (stop reading).
    pub fn check(&mut self, e: &AuditEntry) -> bool {
        let (changes, source) = e.json_parts();
        self.check_stored(&e.stored(&changes, &source))
    }

    /// Checks the next entry as stored; returns false once the chain is broken (stop reading).
    pub fn check_stored(&mut self, e: &StoredEntry<'_>) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if let Some((_, first_prev @ None)) = &mut self.part {
            *first_prev = Some(e.prev_hash.to_string());
            self.prev_hash = e.prev_hash.to_string();
        }
        self.entries += 1;
        let problem = if e.seq != self.expected_seq {
            Some(format!("sequence gap: expected entry {}, found {}", self.expected_seq, e.seq))
        } else if e.prev_hash != self.prev_hash {
            Some("its prev_hash does not match the previous entry's hash (an entry was removed or reordered)".into())
        } else if e.compute_hash() != e.hash {
            Some("its content does not match its hash (the entry was altered)".into())
        } else {
            None
        };
        if let Some(p) = problem {
            self.broken = Some((self.expected_seq.min(e.seq), p));
            return false;
        }
        self.expected_seq += 1;
        self.prev_hash.clear();
        self.prev_hash.push_str(e.hash);
        true
    }

    /// The verdict.
    pub fn finish(self) -> ChainReport {
        let intact = self.broken.is_none();
        let (first_broken_seq, problem) = match self.broken {
            Some((seq, p)) => (Some(seq), Some(p)),
            None => (None, None),
        };
        ChainReport {
            entries: self.entries,
            intact,
            first_broken_seq,
            problem,
            head_hash: intact.then_some(self.prev_hash),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(seq: i64, prev_hash: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            occurred_at: "2026-11-25T09:14:03.123456789Z".parse().unwrap(),
            actor_id: None,
            actor_name: "Priya Natarajan".into(),
            action: AuditAction::Update,
            record_type: "process".into(),
            record_id: 7,
            record_version: 2,
            changes: diff(&json!({"name": "A", "version": 1}), &json!({"name": "B", "version": 2})),
            reason: Some("typo".into()),
            source: AuditSource {
                request_id: "r1".into(),
                client_address: "127.0.0.1".into(),
                user_agent: "t".into(),
                session_id: String::new(),
            },
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    #[test]
    fn canonical_json_is_fixed_and_microsecond_precise() {
        let e = entry(1, GENESIS_HASH);
        assert_eq!(
            e.canonical_json(),
            r#"{"seq":1,"occurred_at":"2026-11-25T09:14:03.123456Z","actor_id":null,"actor_name":"Priya Natarajan","action":"update","record_type":"process","record_id":7,"record_version":2,"changes":{"name":{"old":"A","new":"B"}},"reason":"typo","source":{"request_id":"r1","client_address":"127.0.0.1","user_agent":"t"}}"#
        );
    }

    #[test]
    fn the_hash_is_sha256_of_prev_and_canonical_json() {
        let e = entry(1, GENESIS_HASH);
        let mut h = Sha256::new();
        h.update(format!("{GENESIS_HASH}\n{}", e.canonical_json()).as_bytes());
        let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(e.hash, expected);
        assert_eq!(e.hash.len(), 64);
        // Any change to any field changes the hash.
        let mut altered = e.clone();
        altered.actor_name = "Someone Else".into();
        assert_ne!(altered.compute_hash(), e.hash);
    }

    #[test]
    fn a_database_chaining_the_entry_from_what_follows_its_position_gets_the_same_hash() {
        let head = entry(41, GENESIS_HASH);
        let e = entry(42, &head.hash);
        // As PostgreSQL's append computes it: the position and the link are the database's.
        let mut h = Sha256::new();
        h.update(format!("{}\n{{\"seq\":{}{}", head.hash, 42, e.canonical_after_seq()).as_bytes());
        assert_eq!(hex(&h.finalize()), e.hash);
        assert!(e.canonical_after_seq().starts_with(",\"occurred_at\":"));
    }

    #[test]
    fn the_stored_form_hashes_like_the_entry_and_any_edit_of_its_text_breaks_it() {
        let mut e = entry(1, GENESIS_HASH);
        e.source.session_id = "42".into();
        e.actor_name = "Zoë \"Q\" O'Brien".into();
        e.hash = e.compute_hash();
        let (changes, source) = e.json_parts();
        let stored = e.stored(&changes, &source);
        assert_eq!(stored.compute_hash(), e.hash);
        let mut v = ChainVerifier::default();
        assert!(v.check_stored(&stored));
        // Same meaning, different text: still an alteration.
        let spaced = changes.replace(':', ": ");
        let mut v = ChainVerifier::default();
        assert!(!v.check_stored(&StoredEntry { changes: &spaced, ..stored }));
    }

    #[test]
    fn values_display_as_a_person_reads_them() {
        assert_eq!(display_value(&json!("Tom")), "Tom");
        assert_eq!(display_value(&Value::Null), "—");
        assert_eq!(display_value(&json!("")), "(empty)");
        assert_eq!(display_value(&json!(12)), "12");
    }

    #[test]
    fn diff_names_changed_fields_only() {
        let d =
            diff(&json!({"name": "A", "owner": "X", "version": 1}), &json!({"name": "B", "owner": "X", "version": 2}));
        assert_eq!(d.keys().collect::<Vec<_>>(), vec!["name"]);
        let created = diff(&Value::Null, &json!({"name": "A"}));
        assert_eq!(created["name"], FieldChange { old: Value::Null, new: json!("A") });
    }

    /// Checks `entries` in parts starting at the given positions (indexes into `entries`).
    fn in_parts(entries: &[AuditEntry], starts: &[usize]) -> ChainReport {
        let mut parts = Vec::new();
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(entries.len());
            let mut v = if k == 0 { ChainVerifier::default() } else { ChainVerifier::part_from(start as i64 + 1) };
            for e in &entries[start..end] {
                if !v.check(e) {
                    break;
                }
            }
            parts.push(v);
        }
        ChainVerifier::join(parts)
    }

    #[test]
    fn a_chain_checked_in_parts_gets_the_verdict_of_one_pass() {
        let mut chain = vec![entry(1, GENESIS_HASH)];
        for seq in 2..=9 {
            let prev = chain.last().map(|e: &AuditEntry| e.hash.clone()).unwrap_or_default();
            chain.push(entry(seq, &prev));
        }
        let whole = {
            let mut v = ChainVerifier::default();
            chain.iter().all(|e| v.check(e));
            v.finish()
        };
        assert!(whole.intact);
        assert_eq!(in_parts(&chain, &[0, 3, 6]), whole);
        assert_eq!(in_parts(&chain, &[0, 1, 8]), whole);

        // An altered entry inside a later part, or the first entry of a part.
        for at in [4, 3, 6] {
            let mut altered = chain.clone();
            altered[at].reason = Some("quietly changed".into());
            let report = in_parts(&altered, &[0, 3, 6]);
            assert_eq!(report.first_broken_seq, Some(at as i64 + 1), "altered entry {}", at + 1);
            assert!(!report.intact);
        }
        // An entry re-hashed to hide an edit breaks the link to the next part.
        let mut rehashed = chain.clone();
        rehashed[2].reason = Some("edited and re-hashed".into());
        rehashed[2].hash = rehashed[2].compute_hash();
        let report = in_parts(&rehashed, &[0, 3, 6]);
        assert_eq!(report.first_broken_seq, Some(4));
        assert!(report.problem.unwrap().contains("prev_hash"));
        // A part whose entries were all removed is a gap where it starts.
        let mut gap = chain.clone();
        gap.drain(3..6);
        let parts = vec![
            {
                let mut v = ChainVerifier::default();
                gap[..3].iter().all(|e| v.check(e));
                v
            },
            ChainVerifier::part_from(4),
            {
                let mut v = ChainVerifier::part_from(7);
                gap[3..].iter().all(|e| v.check(e));
                v
            },
        ];
        let report = ChainVerifier::join(parts);
        assert_eq!((report.intact, report.first_broken_seq), (false, Some(4)));
    }

    #[test]
    fn the_verifier_finds_the_first_broken_entry() {
        let e1 = entry(1, GENESIS_HASH);
        let e2 = entry(2, &e1.hash);
        let e3 = entry(3, &e2.hash);
        let mut v = ChainVerifier::default();
        assert!([&e1, &e2, &e3].iter().all(|e| v.check(e)));
        let report = v.finish();
        assert!(report.intact);
        assert_eq!((report.entries, report.head_hash), (3, Some(e3.hash.clone())));

        let mut altered = e2.clone();
        altered.reason = Some("quietly changed".into());
        let mut v = ChainVerifier::default();
        v.check(&e1);
        assert!(!v.check(&altered));
        let report = v.finish();
        assert_eq!(report.first_broken_seq, Some(2));
        assert!(report.problem.unwrap().contains("altered"));

        let mut v = ChainVerifier::default();
        v.check(&e1);
        v.check(&e3);
        assert_eq!(v.finish().first_broken_seq, Some(2), "a removed entry is a gap at its position");
    }
}
