//! The organisation's structure: sites, departments and processes (ISO 9001 4.4: the QMS and
//! its processes). Every record carries a `version` for optimistic concurrency and is retired,
//! never deleted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::auth::UserId;
use crate::validation::{self, FORMAT};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
/// The one way `shared` declares a record id (also used by the register and the worksheet).
pub(crate) use id_type;

id_type!(
    /// Identifies a site; never reused.
    SiteId
);
id_type!(
    /// Identifies a department; never reused.
    DepartmentId
);
id_type!(
    /// Identifies a process; never reused.
    ProcessId
);

/// Longest name of a site, department or process, in characters.
pub const NAME_MAX: usize = 120;
/// Longest site code, in characters.
pub const CODE_MAX: usize = 16;
/// Longest free-text description or address, in characters.
pub const TEXT_MAX: usize = 4000;
/// Longest reason for retiring a record, in characters.
pub const REASON_MAX: usize = 1000;

/// Fields common to every organisation record: its version and its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RecordMeta {
    /// Incremented by every change; send it back with an update (body `version` or
    /// `If-Match`), and a stale one gets 409.
    pub version: i64,
    /// When the record was created (UTC, server clock).
    pub created_at: DateTime<Utc>,
    /// When the record last changed (UTC, server clock).
    pub updated_at: DateTime<Utc>,
    /// When the record was retired; `None` while it is active.
    pub retired_at: Option<DateTime<Utc>>,
    /// Why it was retired.
    pub retired_reason: Option<String>,
}

/// What every organisation record shares: the name its kind goes by in the audit trail, and
/// its version and life.
pub trait Record {
    /// The kind's name in the audit trail (`record_type`).
    const RECORD_TYPE: &'static str;
    /// Version and life.
    fn meta(&self) -> &RecordMeta;
}

/// Every kind of record that has an audit trail, as (`record_type`, label) for filters.
pub const RECORD_TYPES: &[(&str, &str)] = &[
    (Process::RECORD_TYPE, "Process"),
    (Department::RECORD_TYPE, "Department"),
    (Site::RECORD_TYPE, "Site"),
    (crate::auth::User::RECORD_TYPE, "User"),
    (crate::register::Risk::RECORD_TYPE, "Risk"),
    (crate::register::MatrixRevision::RECORD_TYPE, "Risk matrix revision"),
    ("fmea", "FMEA"),
    ("fmea_row", "FMEA row"),
    ("document", "Document"),
    ("document_revision", "Document revision"),
    ("training_requirement", "Training requirement"),
    ("training_assignment", "Training assignment"),
    ("measurement", "Measurement"),
    (crate::quality::Nc::RECORD_TYPE, "Nonconformance"),
    (crate::quality::Complaint::RECORD_TYPE, "Complaint"),
    (crate::quality::Capa::RECORD_TYPE, "CAPA"),
    (crate::kpi::Objective::RECORD_TYPE, "Quality objective"),
    ("api_token", "API token"),
];

macro_rules! record {
    ($ty:ty, $name:literal) => {
        impl Record for $ty {
            const RECORD_TYPE: &'static str = $name;
            fn meta(&self) -> &RecordMeta {
                &self.meta
            }
        }
    };
}

record!(Site, "site");
record!(Department, "department");
record!(Process, "process");

/// A site (a location of the organisation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Site {
    /// Its id.
    pub id: SiteId,
    /// Short unique code, e.g. `HQ` or `PLANT-2`.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Postal address.
    pub address: String,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

/// Create or update a site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SiteInput {
    /// Short unique code: letters, digits and `-`, stored in upper case.
    #[serde(default)]
    pub code: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Postal address (optional).
    #[serde(default)]
    pub address: String,
    /// On update: the version the change is based on (or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl SiteInput {
    /// Trims whitespace and upper-cases the code, as stored.
    pub fn normalized(mut self) -> Self {
        self.code = self.code.trim().to_uppercase();
        self.name = self.name.trim().to_string();
        self.address = self.address.trim().to_string();
        self
    }

    /// The rules for a site. Call on the normalised input.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "code", &self.code, true, CODE_MAX);
        if e.get("code").is_none() && !self.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            e.add("code", FORMAT);
        }
        validation::text(&mut e, "name", &self.name, true, NAME_MAX);
        validation::text(&mut e, "address", &self.address, false, TEXT_MAX);
        e.into_result()
    }
}

/// A department of the organisation, optionally at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Department {
    /// Its id.
    pub id: DepartmentId,
    /// Its name, unique among active departments.
    pub name: String,
    /// The site it belongs to, if any.
    pub site_id: Option<SiteId>,
    /// That site's name, for display.
    pub site_name: Option<String>,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

/// Create or update a department.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The site it belongs to (optional).
    #[serde(default)]
    pub site_id: Option<SiteId>,
    /// On update: the version the change is based on (or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl DepartmentInput {
    /// Trims whitespace, as stored.
    pub fn normalized(mut self) -> Self {
        self.name = self.name.trim().to_string();
        self
    }

    /// The rules for a department. Call on the normalised input.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "name", &self.name, true, NAME_MAX);
        e.into_result()
    }
}

/// A process of the quality management system (ISO 9001 4.4), owned by a person and run by a
/// department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Process {
    /// Its id.
    pub id: ProcessId,
    /// Its name, unique among active processes.
    pub name: String,
    /// What the process does, its inputs and outputs.
    pub description: String,
    /// The process owner (a user). `None` only for processes recorded before users existed.
    pub owner_id: Option<UserId>,
    /// The process owner's printed name, for display.
    pub owner_name: String,
    /// The department that runs it.
    pub department_id: DepartmentId,
    /// That department's name, for display.
    pub department_name: String,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

/// Create or update a process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProcessInput {
    /// Its name (required).
    #[serde(default)]
    pub name: String,
    /// What the process does (optional).
    #[serde(default)]
    pub description: String,
    /// The process owner, an active user (required).
    #[serde(default)]
    pub owner_id: Option<UserId>,
    /// The department that runs it (required).
    #[serde(default)]
    pub department_id: Option<DepartmentId>,
    /// On update: the version the change is based on (or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// On update: why (required; a process is a controlled record, ALCOA+). Recorded in the
    /// audit trail with the change.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl ProcessInput {
    /// The input that would recreate `p` as it is now, at its current version.
    pub fn from_record(p: &Process) -> Self {
        Self {
            name: p.name.clone(),
            description: p.description.clone(),
            owner_id: p.owner_id,
            department_id: Some(p.department_id),
            version: Some(p.meta.version),
            reason: String::new(),
        }
    }

    /// Three-way merge after a version conflict: `base` is what the editor started from,
    /// `mine` what they typed, `theirs` what someone else saved meanwhile. Each field takes
    /// whichever side changed it; when both changed a field to different values, the merge is
    /// refused with those fields' names, for a person to decide. The result is based on
    /// `theirs`' version.
    pub fn merge(base: &Self, mine: &Self, theirs: &Self) -> Result<Self, Vec<&'static str>> {
        fn pick<T: PartialEq + Clone>(
            field: &'static str,
            base: &T,
            mine: &T,
            theirs: &T,
            clashes: &mut Vec<&'static str>,
        ) -> T {
            if mine == base || mine == theirs {
                theirs.clone()
            } else {
                if theirs != base {
                    clashes.push(field);
                }
                mine.clone()
            }
        }
        let mut clashes = Vec::new();
        let merged = Self {
            name: pick("name", &base.name, &mine.name, &theirs.name, &mut clashes),
            description: pick("description", &base.description, &mine.description, &theirs.description, &mut clashes),
            owner_id: pick("owner_id", &base.owner_id, &mine.owner_id, &theirs.owner_id, &mut clashes),
            department_id: pick(
                "department_id",
                &base.department_id,
                &mine.department_id,
                &theirs.department_id,
                &mut clashes,
            ),
            version: theirs.version,
            reason: mine.reason.clone(),
        };
        if clashes.is_empty() { Ok(merged) } else { Err(clashes) }
    }

    /// Trims whitespace, as stored.
    pub fn normalized(mut self) -> Self {
        self.name = self.name.trim().to_string();
        self.description = self.description.trim().to_string();
        self.reason = self.reason.trim().to_string();
        self
    }

    /// The rules for a process. Call on the normalised input. Whether the department exists
    /// and is active is checked by the server against the database (`not_found`, `retired`).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "name", &self.name, true, NAME_MAX);
        validation::text(&mut e, "description", &self.description, false, TEXT_MAX);
        if self.owner_id.is_none() {
            e.add("owner_id", validation::REQUIRED);
        }
        if self.department_id.is_none() {
            e.add("department_id", validation::REQUIRED);
        }
        validation::text(&mut e, "reason", &self.reason, false, REASON_MAX);
        e.into_result()
    }

    /// The rules for changing an existing process: those of [`Self::validate`], and a reason
    /// for the change.
    pub fn validate_update(&self) -> Result<(), FieldErrors> {
        let mut e = self.validate().err().unwrap_or_default();
        if self.reason.is_empty() && e.get("reason").is_none() {
            e.add("reason", validation::REQUIRED);
        }
        e.into_result()
    }
}

/// Retire a record: it stays readable (and in every history) but takes no new work.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetireInput {
    /// Why (required).
    #[serde(default)]
    pub reason: String,
    /// The version the decision is based on (or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl RetireInput {
    /// Trims whitespace, as stored.
    pub fn normalized(mut self) -> Self {
        self.reason = self.reason.trim().to_string();
        self
    }

    /// A reason is required (no silent retirement of a controlled record).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "reason", &self.reason, true, REASON_MAX);
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> ProcessInput {
        ProcessInput {
            name: "  CNC machining ".into(),
            description: "Turns bar stock into shafts".into(),
            owner_id: Some(UserId(5)),
            department_id: Some(DepartmentId(1)),
            version: None,
            reason: String::new(),
        }
        .normalized()
    }

    #[test]
    fn a_complete_process_is_valid_and_trimmed() {
        let p = process();
        assert_eq!(p.name, "CNC machining");
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn a_process_names_each_missing_field() {
        let p = ProcessInput { name: " ".into(), ..Default::default() }.normalized();
        let e = p.validate().unwrap_err();
        assert_eq!(e.get("name"), Some(&["required".to_string()][..]));
        assert_eq!(e.get("owner_id"), Some(&["required".to_string()][..]));
        assert_eq!(e.get("department_id"), Some(&["required".to_string()][..]));
        assert_eq!(e.get("description"), None);
    }

    #[test]
    fn a_change_to_a_process_needs_a_reason() {
        let p = ProcessInput { version: Some(2), reason: "  ".into(), ..process() }.normalized();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.validate_update().unwrap_err().get("reason"), Some(&["required".to_string()][..]));
        let p = ProcessInput { reason: "Owner left the company".into(), ..p };
        assert_eq!(p.validate_update(), Ok(()));
    }

    #[test]
    fn a_process_name_has_a_limit() {
        let p = ProcessInput { name: "x".repeat(NAME_MAX + 1), ..process() };
        assert_eq!(p.validate().unwrap_err().get("name"), Some(&["too_long".to_string()][..]));
    }

    #[test]
    fn site_codes_are_upper_cased_and_checked() {
        let s = SiteInput { code: " plant-2 ".into(), name: "Plant 2".into(), ..Default::default() }.normalized();
        assert_eq!(s.code, "PLANT-2");
        assert_eq!(s.validate(), Ok(()));
        let bad = SiteInput { code: "PL 2".into(), name: "x".into(), ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().get("code"), Some(&["format".to_string()][..]));
    }

    #[test]
    fn unknown_fields_are_refused_by_the_decoder() {
        let r: Result<ProcessInput, _> = serde_json::from_str(r#"{"name":"a","colour":"red"}"#);
        assert!(r.unwrap_err().to_string().contains("unknown field `colour`"));
    }

    #[test]
    fn merge_takes_each_side_s_own_changes() {
        let base = ProcessInput { version: Some(1), ..process() };
        let mine = ProcessInput { description: "Robot cell".into(), ..base.clone() };
        let theirs = ProcessInput { owner_id: Some(UserId(8)), version: Some(2), ..base.clone() };
        let merged = ProcessInput::merge(&base, &mine, &theirs).unwrap();
        assert_eq!((merged.description.as_str(), merged.owner_id), ("Robot cell", Some(UserId(8))));
        assert_eq!(merged.version, Some(2));
    }

    #[test]
    fn merge_refuses_when_both_changed_a_field_differently() {
        let base = ProcessInput { version: Some(1), ..process() };
        let mine = ProcessInput { owner_id: Some(UserId(9)), description: "x".into(), ..base.clone() };
        let theirs = ProcessInput { owner_id: Some(UserId(8)), version: Some(2), ..base.clone() };
        assert_eq!(ProcessInput::merge(&base, &mine, &theirs), Err(vec!["owner_id"]));
        // The same change on both sides is no clash.
        let same = ProcessInput { owner_id: Some(UserId(8)), ..base.clone() };
        assert_eq!(ProcessInput::merge(&base, &same, &theirs).unwrap().owner_id, Some(UserId(8)));
    }

    #[test]
    fn retiring_needs_a_reason() {
        let r = RetireInput { reason: "  ".into(), version: Some(1) }.normalized();
        assert_eq!(r.validate().unwrap_err().get("reason"), Some(&["required".to_string()][..]));
    }

    #[test]
    fn a_record_round_trips_through_json_with_flattened_meta() {
        let now = Utc::now();
        let p = Process {
            id: ProcessId(7),
            name: "n".into(),
            description: String::new(),
            owner_id: Some(UserId(4)),
            owner_name: "o".into(),
            department_id: DepartmentId(2),
            department_name: "d".into(),
            meta: RecordMeta { version: 3, created_at: now, updated_at: now, retired_at: None, retired_reason: None },
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["version"], 3);
        assert_eq!(v["id"], 7);
        assert_eq!(serde_json::from_value::<Process>(v).unwrap(), p);
    }
}
