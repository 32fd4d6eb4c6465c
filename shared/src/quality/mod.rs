//! Nonconformance, complaints and CAPA (domain/capa.md; ISO 9001:2015 8.7 and 10.2, ISO
//! 13485:2016 8.2.2, 8.3 and 8.5.2, 21 CFR 820.90, 820.100 and 820.198): what each record holds,
//! who may do what to it and when, the CAPA lifecycle as one state machine, the gate on linked
//! work, and the metrics the dashboard shows. Nothing here does I/O.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validation::{self, REQUIRED};

pub mod capa;
pub mod complaint;
pub mod investigation;
pub mod metrics;
pub mod nc;
pub mod plan;
pub mod suggestion;
#[cfg(test)]
mod tests;

pub use capa::{
    Action, ActionId, ActionInput, Actor, Capa, CapaFilter, CapaId, CapaInput, CapaKind, CapaState, CapaStep,
    CapaSummary, CapaUpdate, Cause, EffectivenessCheck, EffectivenessResult, Extension, ExtensionDecision, ExtensionId,
    ExtensionInput, ExtensionState, Investigation, LinkKind, OpenWork, RiskRank, StepError,
};
pub use complaint::{Channel, Complaint, ComplaintId, ComplaintInput, ComplaintState, ComplaintStep};
pub use metrics::{CapaFacts, CapaMetrics, MetricsReport, MonthCount, MonthMetrics, ParetoBar, pareto, percentile};
pub use nc::{
    Category, CategoryId, Costs, Disposition, Evaluation, Nc, NcFilter, NcId, NcInput, NcSource, NcState, NcStep,
    ParetoBy,
};
pub use suggestion::{CategoryGuess, ModelAccuracy, SimilarRecord, Suggestions};

/// Error code: the step is not possible in the record's current state.
pub const WRONG_STATE: &str = "wrong_state";
/// Error code: only the quality manager (or another qualified role) may do this.
pub const NOT_QUALIFIED: &str = "not_qualified";
/// Error code: the verifier may not be the CAPA's owner.
pub const VERIFIER_IS_OWNER: &str = "verifier_is_owner";
/// Error code: a due date changes only through an approved extension request.
pub const USE_EXTENSION: &str = "use_extension";
/// Error code: linked work is still open.
pub const WORK_OPEN: &str = "work_open";
/// Error code: a date lies in the future where only past or present dates make sense.
pub const FUTURE_DATE: &str = "future_date";
/// Error code: a date must lie after another (a due date after today, a response after receipt).
pub const TOO_EARLY: &str = "too_early";
/// Error code: the NC must be evaluated ("CAPA needed?") before it closes.
pub const NOT_EVALUATED: &str = "not_evaluated";
/// Error code: the NC needs a disposition before it closes.
pub const NO_DISPOSITION: &str = "no_disposition";
/// Error code: the evaluation said a CAPA is needed, and none is linked.
pub const CAPA_MISSING: &str = "capa_missing";
/// Error code: no root cause is confirmed yet.
pub const NO_CONFIRMED_CAUSE: &str = "no_confirmed_cause";
/// Error code: the plan has no action.
pub const NO_ACTIONS: &str = "no_actions";
/// Error code: an amount of money is negative or not in cents.
pub const BAD_AMOUNT: &str = "bad_amount";

/// An open NC reported longer ago than this many days is overdue (its disposition, evaluation
/// and closure are late).
pub const NC_DUE_DAYS: i64 = 30;

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest short text (product, lot, customer), in characters.
pub const SHORT_MAX: usize = 200;
/// Longest free text (description, containment, rationale), in characters.
pub const TEXT_MAX: usize = 8000;

/// The sentence the app shows for this module's error codes.
pub fn describe(code: &str) -> Option<&'static str> {
    Some(match code {
        WRONG_STATE => "This step is not possible in the record's current state.",
        NOT_QUALIFIED => "Only a qualified role (the quality manager) may decide this.",
        VERIFIER_IS_OWNER => "The verifier must be someone other than the CAPA's owner.",
        USE_EXTENSION => "A due date is changed only through an extension request that the quality manager approves.",
        WORK_OPEN => "Linked work is still open.",
        FUTURE_DATE => "This date cannot be in the future.",
        TOO_EARLY => "This date is too early.",
        NOT_EVALUATED => "Evaluate the nonconformance (is a CAPA needed?) before closing it.",
        NO_DISPOSITION => "Decide the disposition before closing the nonconformance.",
        CAPA_MISSING => "The evaluation says a CAPA is needed: open or link one first.",
        NO_CONFIRMED_CAUSE => "Confirm at least one root cause, with its evidence.",
        NO_ACTIONS => "Plan at least one action.",
        BAD_AMOUNT => "Enter an amount of zero or more, with at most two decimals.",
        _ => return None,
    })
}

/// The six root-cause categories of the fishbone (Ishikawa) diagram. The model's labels too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CauseCategory {
    /// People: skills, training, fatigue, communication.
    Man,
    /// Equipment and tools.
    Machine,
    /// Procedures, instructions, process design.
    Method,
    /// Raw materials, components, supplied parts.
    Material,
    /// Inspection, gauges, calibration, data.
    Measurement,
    /// Temperature, humidity, cleanliness, lighting.
    Environment,
}

impl CauseCategory {
    /// Every category, in the fishbone's order.
    pub const ALL: [CauseCategory; 6] = [
        CauseCategory::Man,
        CauseCategory::Machine,
        CauseCategory::Method,
        CauseCategory::Material,
        CauseCategory::Measurement,
        CauseCategory::Environment,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseCategory::Man => "man",
            CauseCategory::Machine => "machine",
            CauseCategory::Method => "method",
            CauseCategory::Material => "material",
            CauseCategory::Measurement => "measurement",
            CauseCategory::Environment => "environment",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            CauseCategory::Man => "People (man)",
            CauseCategory::Machine => "Machine",
            CauseCategory::Method => "Method",
            CauseCategory::Material => "Material",
            CauseCategory::Measurement => "Measurement",
            CauseCategory::Environment => "Environment",
        }
    }
}

/// A reference to another quality record, with its number for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LinkRef {
    /// The record's id.
    pub id: i64,
    /// Its number.
    pub number: String,
}

/// Which kind of quality record a number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbered {
    /// A nonconformance: `NC-00001`.
    Nc,
    /// A complaint: `CMP-00001`.
    Complaint,
    /// A CAPA: `CAPA-0001`.
    Capa,
}

impl Numbered {
    /// The sequence's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Numbered::Nc => "nc",
            Numbered::Complaint => "complaint",
            Numbered::Capa => "capa",
        }
    }

    /// The `n`th number of the kind; never reused.
    pub fn number(self, n: u32) -> String {
        match self {
            Numbered::Nc => format!("NC-{n:05}"),
            Numbered::Complaint => format!("CMP-{n:05}"),
            Numbered::Capa => format!("CAPA-{n:04}"),
        }
    }
}

/// Checks a reason (for a cancellation, a send-back, an extension): required, bounded, printable.
pub fn check_reason(errors: &mut FieldErrors, field: &str, reason: &str) {
    validation::text(errors, field, reason, true, crate::org::REASON_MAX);
}

/// `day` must not lie after `today`.
pub fn check_not_future(errors: &mut FieldErrors, field: &str, day: Option<NaiveDate>, today: NaiveDate) {
    match day {
        None => errors.add(field, REQUIRED),
        Some(d) if d > today => errors.add(field, FUTURE_DATE),
        Some(_) => {}
    }
}

/// Parses an amount of money typed by a person (`1234.5`, `1,234.50`, `0`) into cents.
pub fn parse_amount(s: &str) -> Option<i64> {
    let s: String = s.trim().chars().filter(|c| *c != ',' && *c != ' ').collect();
    if s.is_empty() {
        return Some(0);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() && frac.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

/// Cents as a person reads them: `1,234.50`.
pub fn format_amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let whole = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", c % 100)
}
