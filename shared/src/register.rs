//! The risk register (ISO 9001 6.1, ISO 14971; see `domain/risk.md`): risks scored on a
//! controlled, versioned risk matrix ([`crate::risk`]), their controls and the evidence those
//! controls rest on, and the rule for accepting a residual risk.
//!
//! A matrix revision takes effect only when approved by electronic signature; a risk records
//! the revision that scored it, and moving it onto a newer revision is an explicit, audited
//! change. Accepting a residual risk is itself a signature, which binds the rationale.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::auth::UserId;
use crate::org::{ProcessId, Record, RecordMeta};
use crate::risk::{MatrixDefinition, Zone};
use crate::validation::{self, REQUIRED};

/// Error code: a risk is accepted by signing its acceptance, not by setting the status.
pub const ACCEPT_BY_SIGNATURE: &str = "accept_by_signature";
/// Error code: an accepted risk's residual rating or rationale changed while it stays accepted.
pub const ACCEPTED_CHANGED: &str = "accepted_changed";
/// Error code: accepting a residual risk outside the acceptable zone needs a rationale.
pub const RATIONALE_REQUIRED: &str = "rationale_required";
/// Error code: a closed risk is not accepted.
pub const CLOSED: &str = "closed";
/// Error code: the matrix revision is not approved, or has been superseded, for new scores.
pub const REVISION_NOT_EFFECTIVE: &str = "revision_not_effective";

/// The sentence for a risk-register error code, or `None` for other codes.
pub fn describe(code: &str) -> Option<&'static str> {
    Some(match code {
        ACCEPT_BY_SIGNATURE => "A risk is accepted by signing its acceptance (Accept…), not by choosing the status.",
        ACCEPTED_CHANGED => {
            "Its acceptance was signed for the risk as it was: set the status back to treated to save a change, then accept it again."
        }
        RATIONALE_REQUIRED => {
            "A residual risk outside the acceptable zone can be accepted only with a benefit–risk rationale."
        }
        CLOSED => "A closed risk cannot be accepted.",
        REVISION_NOT_EFFECTIVE => {
            "Score on the matrix's effective (approved, current) revision: re-score the risk first."
        }
        _ => return None,
    })
}

use crate::org::id_type;

id_type!(
    /// Identifies a risk matrix (all its revisions).
    MatrixId
);
id_type!(
    /// Identifies one revision of a risk matrix.
    MatrixRevisionId
);
id_type!(
    /// Identifies a risk.
    RiskId
);

/// Where a matrix revision stands. Derived from its approval signatures, never set by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevisionStatus {
    /// Being edited; scores nothing until approved.
    Draft,
    /// The newest approved revision: new scores use it.
    Effective,
    /// Approved, then replaced by a newer approved revision; risks scored on it keep it until
    /// they are re-scored.
    Superseded,
}

impl RevisionStatus {
    /// As shown.
    pub fn label(self) -> &'static str {
        match self {
            RevisionStatus::Draft => "Draft",
            RevisionStatus::Effective => "Effective",
            RevisionStatus::Superseded => "Superseded",
        }
    }
}

/// One revision of a risk matrix. Frozen once approved: a change is a new revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MatrixRevision {
    /// This revision.
    pub id: MatrixRevisionId,
    /// The matrix it belongs to.
    pub matrix_id: MatrixId,
    /// 1, 2, 3… within the matrix.
    pub revision: i64,
    /// The axes, zones and colours.
    pub definition: MatrixDefinition,
    /// What changed and why.
    pub change_note: String,
    /// Draft, effective or superseded (from the approval signatures).
    pub status: RevisionStatus,
    /// Who approved it, when approved.
    pub approved_by: Option<String>,
    /// When it was approved (UTC).
    pub approved_at: Option<DateTime<Utc>>,
    /// Version and life.
    pub meta: RecordMeta,
}

impl Record for MatrixRevision {
    const RECORD_TYPE: &'static str = "risk_matrix_revision";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

impl MatrixRevision {
    /// "Default 5×5 rev. 2".
    pub fn title(&self) -> String {
        format!("{} rev. {}", self.definition.name, self.revision)
    }
}

/// Create a matrix (its first draft revision), start a new draft revision, or edit a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MatrixInput {
    /// The axes, zones and colours.
    pub definition: MatrixDefinition,
    /// What changed and why (required: a matrix is a controlled record).
    #[serde(default)]
    pub change_note: String,
    /// On update: the version the change is based on (or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl MatrixInput {
    /// The matrix rules and a change note.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = self.definition.validate().err().unwrap_or_default();
        let mut prefixed = FieldErrors::new();
        for (field, codes) in std::mem::take(&mut e).0 {
            for code in codes {
                prefixed.add(format!("definition.{field}"), code);
            }
        }
        validation::text(&mut prefixed, "change_note", &self.change_note, true, 1000);
        prefixed.into_result()
    }
}

/// A risk's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskStatus {
    /// Recorded, not yet scored in earnest.
    #[default]
    Identified,
    /// Inherent risk assessed.
    Assessed,
    /// Controls in place; residual risk assessed.
    Treated,
    /// Residual risk accepted by a signed decision.
    Accepted,
    /// No longer applies (kept on record).
    Closed,
}

impl RiskStatus {
    /// Every status, in life order.
    pub const ALL: [RiskStatus; 5] =
        [RiskStatus::Identified, RiskStatus::Assessed, RiskStatus::Treated, RiskStatus::Accepted, RiskStatus::Closed];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskStatus::Identified => "identified",
            RiskStatus::Assessed => "assessed",
            RiskStatus::Treated => "treated",
            RiskStatus::Accepted => "accepted",
            RiskStatus::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// As shown.
    pub fn label(self) -> &'static str {
        match self {
            RiskStatus::Identified => "Identified",
            RiskStatus::Assessed => "Assessed",
            RiskStatus::Treated => "Treated",
            RiskStatus::Accepted => "Accepted",
            RiskStatus::Closed => "Closed",
        }
    }
}

/// Kinds of record a control's evidence can be. Documents and CAPAs join as their modules
/// arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EvidenceType {
    /// A process of the organisation (the control is part of how it runs).
    Process,
    /// A failure chain of an FMEA worksheet (its controls and actions).
    FmeaRow,
}

impl EvidenceType {
    /// As shown.
    pub fn label(self) -> &'static str {
        match self {
            EvidenceType::Process => "Process",
            EvidenceType::FmeaRow => "FMEA row",
        }
    }
}

/// A reference to the record that shows a control is in place: a real record, checked when
/// saved, never a typed-in number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// The kind of record.
    pub record_type: EvidenceType,
    /// Which one.
    pub record_id: i64,
    /// Its name as it is now (filled in by the server; ignored on input).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

/// A control that reduces a risk, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Control {
    /// What the control is.
    pub description: String,
    /// The records showing it is implemented and effective.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// A risk in the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Risk {
    /// Its id.
    pub id: RiskId,
    /// "RSK-0042".
    pub reference: String,
    /// Short title.
    pub title: String,
    /// What could happen, and why.
    pub description: String,
    /// E.g. "Product", "Supplier", "Regulatory".
    pub category: String,
    /// The process it belongs to.
    pub process_id: ProcessId,
    /// That process's name.
    pub process_name: String,
    /// Who owns it.
    pub owner_id: UserId,
    /// The owner's name.
    pub owner_name: String,
    /// Where it stands.
    pub status: RiskStatus,
    /// When it is next reviewed.
    pub review_date: NaiveDate,
    /// The matrix that scored it.
    pub matrix_id: MatrixId,
    /// The matrix revision that scored it.
    pub matrix_revision_id: MatrixRevisionId,
    /// That revision's number.
    pub matrix_revision: i64,
    /// Before controls.
    pub inherent: Rating,
    /// After controls.
    pub residual: Rating,
    /// The controls and their evidence.
    pub controls: Vec<Control>,
    /// The benefit–risk rationale for accepting the residual risk.
    pub acceptance_rationale: String,
    /// Version and life.
    pub meta: RecordMeta,
}

impl Record for Risk {
    const RECORD_TYPE: &'static str = "risk";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// A likelihood × severity rating on a matrix, with its score and zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Rating {
    /// Likelihood level (1 = lowest).
    pub likelihood: u8,
    /// Severity level (1 = lowest).
    pub severity: u8,
    /// Likelihood × severity.
    pub score: u16,
    /// The matrix cell's zone.
    pub zone: Zone,
}

impl Rating {
    /// The rating of a cell of `matrix`; `None` outside it.
    pub fn on(matrix: &MatrixDefinition, likelihood: u8, severity: u8) -> Option<Rating> {
        Some(Rating {
            likelihood,
            severity,
            score: matrix.score(likelihood, severity)?,
            zone: matrix.zone(likelihood, severity)?,
        })
    }
}

/// The reference shown for a risk id.
pub fn reference(id: RiskId) -> String {
    format!("RSK-{:04}", id.0)
}

/// A risk as listed in the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RiskSummary {
    /// Its id.
    pub id: RiskId,
    /// "RSK-0042".
    pub reference: String,
    /// Short title.
    pub title: String,
    /// Category.
    pub category: String,
    /// The process's id.
    pub process_id: ProcessId,
    /// The process's name.
    pub process_name: String,
    /// The owner's id.
    pub owner_id: UserId,
    /// The owner's name.
    pub owner_name: String,
    /// Where it stands.
    pub status: RiskStatus,
    /// Next review.
    pub review_date: NaiveDate,
    /// The review date has passed and the risk is not closed.
    pub overdue: bool,
    /// The matrix revision that scored it.
    pub matrix_revision_id: MatrixRevisionId,
    /// Before controls.
    pub inherent: Rating,
    /// After controls.
    pub residual: Rating,
    /// Its version.
    pub version: i64,
}

/// Create or update a risk. Ratings are plain integers so that an out-of-range one is a field
/// error naming the field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RiskInput {
    /// Short title (required).
    #[serde(default)]
    pub title: String,
    /// What could happen, and why.
    #[serde(default)]
    pub description: String,
    /// Category (required).
    #[serde(default)]
    pub category: String,
    /// The process (required, active).
    #[serde(default)]
    pub process_id: Option<ProcessId>,
    /// The owner (required, an active user).
    #[serde(default)]
    pub owner_id: Option<UserId>,
    /// Status; `accepted` only through signing the acceptance.
    #[serde(default)]
    pub status: RiskStatus,
    /// Next review (required).
    #[serde(default)]
    pub review_date: Option<NaiveDate>,
    /// The matrix revision scoring it (required; the effective revision for new scores).
    #[serde(default)]
    pub matrix_revision_id: Option<MatrixRevisionId>,
    /// Inherent likelihood, on the matrix.
    #[serde(default)]
    pub inherent_likelihood: Option<i64>,
    /// Inherent severity, on the matrix.
    #[serde(default)]
    pub inherent_severity: Option<i64>,
    /// Residual likelihood, on the matrix.
    #[serde(default)]
    pub residual_likelihood: Option<i64>,
    /// Residual severity, on the matrix.
    #[serde(default)]
    pub residual_severity: Option<i64>,
    /// Controls and their evidence.
    #[serde(default)]
    pub controls: Vec<Control>,
    /// Benefit–risk rationale (set when accepting).
    #[serde(default)]
    pub acceptance_rationale: String,
    /// On update: the version the change is based on (or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// On update: why (required; a risk is a controlled record).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Most controls on one risk.
pub const MAX_CONTROLS: usize = 30;
/// Most evidence links on one control.
pub const MAX_EVIDENCE: usize = 10;

impl RiskInput {
    /// The input that would recreate `r` as it is now, at its current version (evidence keeps
    /// its labels for display; [`RiskInput::normalized`] drops them before a save).
    pub fn from_record(r: &Risk) -> Self {
        Self {
            title: r.title.clone(),
            description: r.description.clone(),
            category: r.category.clone(),
            process_id: Some(r.process_id),
            owner_id: Some(r.owner_id),
            status: r.status,
            review_date: Some(r.review_date),
            matrix_revision_id: Some(r.matrix_revision_id),
            inherent_likelihood: Some(r.inherent.likelihood.into()),
            inherent_severity: Some(r.inherent.severity.into()),
            residual_likelihood: Some(r.residual.likelihood.into()),
            residual_severity: Some(r.residual.severity.into()),
            controls: r.controls.clone(),
            acceptance_rationale: r.acceptance_rationale.clone(),
            version: Some(r.meta.version),
            reason: String::new(),
        }
    }

    /// Trims whitespace, as stored.
    pub fn normalized(mut self) -> Self {
        self.title = self.title.trim().to_string();
        self.description = self.description.trim().to_string();
        self.category = self.category.trim().to_string();
        self.acceptance_rationale = self.acceptance_rationale.trim().to_string();
        self.reason = self.reason.trim().to_string();
        for c in &mut self.controls {
            c.description = c.description.trim().to_string();
            for e in &mut c.evidence {
                e.label.clear();
            }
        }
        self
    }

    /// The rules for a risk: required fields, lengths, ratings on `matrix` (the revision named
    /// by `matrix_revision_id`, when known), controls, and the status rules against `before`
    /// (the risk as saved; `None` when creating).
    pub fn validate(&self, matrix: Option<&MatrixDefinition>, before: Option<&Risk>) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "title", &self.title, true, 200);
        validation::text(&mut e, "description", &self.description, false, 4000);
        validation::text(&mut e, "category", &self.category, true, 80);
        validation::text(&mut e, "acceptance_rationale", &self.acceptance_rationale, false, 4000);
        for (field, missing) in [
            ("process_id", self.process_id.is_none()),
            ("owner_id", self.owner_id.is_none()),
            ("review_date", self.review_date.is_none()),
            ("matrix_revision_id", self.matrix_revision_id.is_none()),
        ] {
            if missing {
                e.add(field, REQUIRED);
            }
        }
        for (l_field, s_field, l, s) in [
            ("inherent_likelihood", "inherent_severity", self.inherent_likelihood, self.inherent_severity),
            ("residual_likelihood", "residual_severity", self.residual_likelihood, self.residual_severity),
        ] {
            if l.is_none() {
                e.add(l_field, REQUIRED);
            }
            if s.is_none() {
                e.add(s_field, REQUIRED);
            }
            if let Some(m) = matrix {
                let mut cell = FieldErrors::new();
                m.check_cell(&mut cell, l_field, s_field, l.unwrap_or(1), s.unwrap_or(1));
                for (f, codes) in cell.0 {
                    for c in codes {
                        e.add(f.clone(), c);
                    }
                }
            }
        }
        if self.controls.len() > MAX_CONTROLS {
            e.add("controls", validation::TOO_LONG);
        }
        for (i, c) in self.controls.iter().enumerate() {
            validation::text(&mut e, &format!("controls[{i}].description"), &c.description, true, 500);
            if c.evidence.len() > MAX_EVIDENCE {
                e.add(format!("controls[{i}].evidence"), validation::TOO_LONG);
            }
        }
        if let Some(code) = self.status_problem(before) {
            e.add("status", code);
        }
        e.into_result()
    }

    /// [`RiskInput::validate`], and the reason a change to a saved risk needs.
    pub fn validate_update(&self, matrix: Option<&MatrixDefinition>, before: Option<&Risk>) -> Result<(), FieldErrors> {
        let mut e = self.validate(matrix, before).err().unwrap_or_default();
        validation::text(&mut e, "reason", &self.reason, true, 1000);
        e.into_result()
    }

    /// The status rules: `accepted` is reached only by signing the acceptance, and an accepted
    /// risk that changes in any way must leave `accepted` (and be accepted again). The
    /// acceptance signature binds the exact version signed (21 CFR 11.70), so an accepted risk
    /// whose saved content differs from it would show "Accepted" over a superseded signature.
    pub fn status_problem(&self, before: Option<&Risk>) -> Option<&'static str> {
        if self.status != RiskStatus::Accepted {
            return None;
        }
        let Some(b) = before.filter(|b| b.status == RiskStatus::Accepted) else {
            return Some(ACCEPT_BY_SIGNATURE);
        };
        let content = |i: &RiskInput| RiskInput { version: None, reason: String::new(), ..i.clone().normalized() };
        (content(self) != content(&RiskInput::from_record(b))).then_some(ACCEPTED_CHANGED)
    }

    /// The inherent and residual ratings on `matrix`, when both are on it.
    pub fn ratings(&self, matrix: &MatrixDefinition) -> Option<(Rating, Rating)> {
        let level = |v: Option<i64>| v.and_then(|v| u8::try_from(v).ok());
        Some((
            Rating::on(matrix, level(self.inherent_likelihood)?, level(self.inherent_severity)?)?,
            Rating::on(matrix, level(self.residual_likelihood)?, level(self.residual_severity)?)?,
        ))
    }
}

/// The rule for accepting a residual risk (with the signature that accepts it): a closed risk
/// is not accepted; one scored on a matrix revision that is no longer effective is re-scored
/// first (its zone may mean something else now); and a residual outside the acceptable zone
/// needs a rationale. Who may sign is the signature registry's rule (quality manager).
pub fn acceptance_problem(
    status: RiskStatus,
    revision: RevisionStatus,
    residual: Zone,
    rationale: &str,
) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    if status == RiskStatus::Closed {
        e.add("status", CLOSED);
    }
    if revision != RevisionStatus::Effective {
        e.add("matrix_revision_id", REVISION_NOT_EFFECTIVE);
    }
    if residual != Zone::Acceptable && rationale.trim().is_empty() {
        e.add("rationale", RATIONALE_REQUIRED);
    }
    validation::text(&mut e, "rationale", rationale, false, 4000);
    e.into_result()
}

/// Which rating a register filter or a heatmap looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Before controls.
    Inherent,
    /// After controls.
    #[default]
    Residual,
}

impl Basis {
    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Inherent => "inherent",
            Basis::Residual => "residual",
        }
    }
}

/// Register columns a list can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskSort {
    /// Reference (creation order).
    Reference,
    /// Title.
    Title,
    /// Residual score, highest first by default.
    #[default]
    ResidualScore,
    /// Inherent score.
    InherentScore,
    /// Review date.
    ReviewDate,
    /// Status.
    Status,
    /// Owner's name.
    Owner,
}

/// One page of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RiskPage {
    /// The risks on this page.
    pub items: Vec<RiskSummary>,
    /// How many risks match the filters in all.
    pub total: i64,
    /// Pass as `after` (with the same filters and sort) for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
    /// Pass as `before` for the previous page; absent when the page is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_before: Option<String>,
}

/// One cell of a heatmap: how many risks sit there before and after controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HeatCell {
    /// Likelihood level.
    pub likelihood: u8,
    /// Severity level.
    pub severity: u8,
    /// Risks whose inherent rating is this cell.
    pub inherent: i64,
    /// Risks whose residual rating is this cell.
    pub residual: i64,
}

/// How many risks moved from one cell (inherent) to another (residual).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HeatMove {
    /// Inherent likelihood.
    pub from_likelihood: u8,
    /// Inherent severity.
    pub from_severity: u8,
    /// Residual likelihood.
    pub to_likelihood: u8,
    /// Residual severity.
    pub to_severity: u8,
    /// How many risks.
    pub count: i64,
}

/// Risks scored on another revision of the same matrix (not on this heatmap until re-scored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RevisionCount {
    /// The revision.
    pub revision_id: MatrixRevisionId,
    /// Its number.
    pub revision: i64,
    /// How many open risks it scores.
    pub count: i64,
}

/// The heatmap of one matrix revision: every cell's counts (open risks, i.e. not closed), and
/// the moves from inherent to residual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Heatmap {
    /// The revision shown.
    pub revision: MatrixRevision,
    /// Every cell of the matrix, likelihood 1 first, severity 1 first.
    pub cells: Vec<HeatCell>,
    /// Inherent → residual moves (cells that differ), largest first.
    pub moves: Vec<HeatMove>,
    /// Open risks on the heatmap.
    pub total: i64,
    /// Open risks of this matrix still scored on other revisions.
    pub other_revisions: Vec<RevisionCount>,
}

impl Heatmap {
    /// Builds the cells and moves from `(inherent l, s, residual l, s, count)` groups.
    pub fn build(revision: MatrixRevision, groups: &[(u8, u8, u8, u8, i64)], other: Vec<RevisionCount>) -> Heatmap {
        let (rows, columns) = (revision.definition.likelihood.len() as u8, revision.definition.severity.len() as u8);
        let mut cells: Vec<HeatCell> = (1..=rows)
            .flat_map(|l| (1..=columns).map(move |s| HeatCell { likelihood: l, severity: s, inherent: 0, residual: 0 }))
            .collect();
        let index = |l: u8, s: u8| {
            (l >= 1 && l <= rows && s >= 1 && s <= columns)
                .then(|| usize::from(l - 1) * usize::from(columns) + usize::from(s - 1))
        };
        let mut moves = Vec::new();
        let mut total = 0;
        for &(il, is, rl, rs, count) in groups {
            total += count;
            if let Some(i) = index(il, is) {
                cells[i].inherent += count;
            }
            if let Some(i) = index(rl, rs) {
                cells[i].residual += count;
            }
            if (il, is) != (rl, rs) {
                moves.push(HeatMove {
                    from_likelihood: il,
                    from_severity: is,
                    to_likelihood: rl,
                    to_severity: rs,
                    count,
                });
            }
        }
        moves.sort_by_key(|m| std::cmp::Reverse(m.count));
        Heatmap { revision, cells, moves, total, other_revisions: other }
    }

    /// The count of a cell on `basis`.
    pub fn count(&self, basis: Basis, likelihood: u8, severity: u8) -> i64 {
        self.cells
            .iter()
            .find(|c| c.likelihood == likelihood && c.severity == severity)
            .map_or(0, |c| if basis == Basis::Inherent { c.inherent } else { c.residual })
    }
}

/// Something waiting for the signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WorkItem {
    /// What is to be done, e.g. "Risk review".
    pub kind: String,
    /// The record's kind (`risk`).
    pub record_type: String,
    /// The record.
    pub record_id: i64,
    /// Its reference, e.g. "RSK-0042".
    pub reference: String,
    /// Its title.
    pub title: String,
    /// When it is due.
    pub due: NaiveDate,
    /// Past due.
    pub overdue: bool,
}

impl WorkItem {
    /// Where the app shows the record: the risk, the FMEA worksheet holding the action, or the
    /// training assignment.
    pub fn href(&self) -> String {
        match self.record_type.as_str() {
            "fmea" => format!("/fmea/{}", self.record_id),
            "training_assignment" => format!("/training/assignments/{}", self.record_id),
            "capa" => format!("/quality/capas/{}", self.record_id),
            "nc" => format!("/quality/ncs/{}", self.record_id),
            "document" => format!("/documents/{}", self.record_id),
            _ => format!("/risks/{}", self.record_id),
        }
    }
}

/// The columns of the register's CSV export, in order.
pub const CSV_HEADER: [&str; 22] = [
    "Reference",
    "Title",
    "Category",
    "Process",
    "Owner",
    "Status",
    "Review date",
    "Overdue",
    "Matrix revision",
    "Inherent likelihood",
    "Inherent severity",
    "Inherent score",
    "Inherent zone",
    "Residual likelihood",
    "Residual severity",
    "Residual score",
    "Residual zone",
    "Controls",
    "Evidence",
    "Acceptance rationale",
    "Description",
    "Version",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::{default_5x5, medical_5x4};

    fn input() -> RiskInput {
        RiskInput {
            title: "Tool breakage".into(),
            category: "Process".into(),
            process_id: Some(ProcessId(1)),
            owner_id: Some(UserId(2)),
            review_date: NaiveDate::from_ymd_opt(2027, 1, 1),
            matrix_revision_id: Some(MatrixRevisionId(1)),
            inherent_likelihood: Some(4),
            inherent_severity: Some(5),
            residual_likelihood: Some(2),
            residual_severity: Some(5),
            ..Default::default()
        }
    }

    #[test]
    fn ratings_must_be_on_the_matrix() {
        let m = medical_5x4();
        assert_eq!(
            input().validate(Some(&m), None).unwrap_err().get("inherent_severity"),
            Some(&["outside_matrix".to_string()][..])
        );
        let mut i = input();
        i.inherent_severity = Some(4);
        i.residual_severity = Some(4);
        assert_eq!(i.validate(Some(&m), None), Ok(()));
        i.residual_likelihood = Some(0);
        i.inherent_likelihood = None;
        let e = i.validate(Some(&m), None).unwrap_err();
        assert_eq!(e.get("residual_likelihood"), Some(&["outside_matrix".to_string()][..]));
        assert!(e.get("inherent_likelihood").unwrap().contains(&REQUIRED.to_string()));
    }

    #[test]
    fn ratings_take_score_and_zone_from_the_matrix() {
        let (inherent, residual) = input().ratings(&default_5x5()).unwrap();
        assert_eq!((inherent.score, inherent.zone), (20, Zone::Unacceptable));
        assert_eq!((residual.score, residual.zone), (10, Zone::ReduceAsFarAsPossible));
        assert_eq!(input().ratings(&medical_5x4()), None);
    }

    #[test]
    fn accepted_only_by_signature_and_changes_leave_it() {
        let mut i = input();
        i.status = RiskStatus::Accepted;
        assert_eq!(i.status_problem(None), Some(ACCEPT_BY_SIGNATURE));
        let m = default_5x5();
        let (inherent, residual) = i.ratings(&m).unwrap();
        let meta = RecordMeta {
            version: 2,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            retired_at: None,
            retired_reason: None,
        };
        let saved = Risk {
            id: RiskId(1),
            reference: reference(RiskId(1)),
            title: i.title.clone(),
            description: String::new(),
            category: i.category.clone(),
            process_id: ProcessId(1),
            process_name: "P".into(),
            owner_id: UserId(2),
            owner_name: "O".into(),
            status: RiskStatus::Accepted,
            review_date: i.review_date.unwrap(),
            matrix_id: MatrixId(1),
            matrix_revision_id: MatrixRevisionId(1),
            matrix_revision: 1,
            inherent,
            residual,
            controls: vec![],
            acceptance_rationale: String::new(),
            meta,
        };
        let mut i = RiskInput { reason: "Periodic review".into(), ..RiskInput::from_record(&saved) };
        assert_eq!(i.status_problem(Some(&saved)), None, "the accepted risk as it is keeps its acceptance");
        i.title.push_str(" (edited)");
        assert_eq!(i.status_problem(Some(&saved)), Some(ACCEPTED_CHANGED), "a signed acceptance covers every field");
        i.title = saved.title.clone();
        i.residual_likelihood = Some(5);
        assert_eq!(i.status_problem(Some(&saved)), Some(ACCEPTED_CHANGED));
        i.status = RiskStatus::Treated;
        assert_eq!(i.status_problem(Some(&saved)), None);
    }

    #[test]
    fn acceptance_needs_a_rationale_outside_the_acceptable_zone() {
        let effective = RevisionStatus::Effective;
        assert!(acceptance_problem(RiskStatus::Treated, effective, Zone::Acceptable, "").is_ok());
        for zone in [Zone::ReduceAsFarAsPossible, Zone::Unacceptable] {
            let e = acceptance_problem(RiskStatus::Treated, effective, zone, "  ").unwrap_err();
            assert_eq!(e.get("rationale"), Some(&[RATIONALE_REQUIRED.to_string()][..]));
            assert!(acceptance_problem(RiskStatus::Treated, effective, zone, "Benefit outweighs the risk").is_ok());
        }
        assert!(
            acceptance_problem(RiskStatus::Closed, effective, Zone::Acceptable, "x")
                .unwrap_err()
                .get("status")
                .is_some()
        );
        // Scored on a revision that is no longer effective: re-score first.
        let e = acceptance_problem(RiskStatus::Treated, RevisionStatus::Superseded, Zone::Acceptable, "").unwrap_err();
        assert_eq!(e.get("matrix_revision_id"), Some(&[REVISION_NOT_EFFECTIVE.to_string()][..]));
    }

    #[test]
    fn heatmap_counts_cells_and_moves() {
        let meta = RecordMeta {
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            retired_at: None,
            retired_reason: None,
        };
        let revision = MatrixRevision {
            id: MatrixRevisionId(1),
            matrix_id: MatrixId(1),
            revision: 1,
            definition: medical_5x4(),
            change_note: String::new(),
            status: RevisionStatus::Effective,
            approved_by: None,
            approved_at: None,
            meta,
        };
        let h = Heatmap::build(revision, &[(5, 4, 2, 4, 3), (1, 1, 1, 1, 2), (5, 4, 5, 4, 1)], vec![]);
        assert_eq!(h.cells.len(), 20);
        assert_eq!(h.total, 6);
        assert_eq!(h.count(Basis::Inherent, 5, 4), 4);
        assert_eq!(h.count(Basis::Residual, 5, 4), 1);
        assert_eq!(h.count(Basis::Residual, 2, 4), 3);
        assert_eq!(h.count(Basis::Inherent, 1, 1), 2);
        assert_eq!(
            h.moves,
            vec![HeatMove { from_likelihood: 5, from_severity: 4, to_likelihood: 2, to_severity: 4, count: 3 }]
        );
        let sum: i64 = h.cells.iter().map(|c| c.residual).sum();
        assert_eq!(sum, h.total);
    }
}
