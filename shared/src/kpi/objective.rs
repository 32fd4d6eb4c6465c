//! Quality objectives (ISO 9001 6.2): measurable (a KPI and a target for it) and time-bound (a
//! due date), with an owner; and the one rule that says where an objective stands.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Direction, Kpi, Span, Unit};
use crate::FieldErrors;
use crate::auth::UserId;
use crate::org::{Record, RecordMeta, id_type};
use crate::validation::{self, INVALID};

id_type!(
    /// Identifies a quality objective; never reused.
    ObjectiveId
);

/// Longest title of an objective, in characters.
pub const OBJECTIVE_TITLE_MAX: usize = 200;
/// Longest notes of an objective, in characters.
pub const OBJECTIVE_NOTES_MAX: usize = 2000;

/// Where an objective stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    /// The latest value meets the target.
    Achieved,
    /// Not yet, but within the KPI's at-risk band of the target, and not yet due.
    OnTrack,
    /// Beyond that band, and not yet due.
    AtRisk,
    /// Not achieved by its due date.
    Missed,
    /// No value to judge.
    NoData,
}

impl ObjectiveStatus {
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ObjectiveStatus::Achieved => "Achieved",
            ObjectiveStatus::OnTrack => "On track",
            ObjectiveStatus::AtRisk => "At risk",
            ObjectiveStatus::Missed => "Missed",
            ObjectiveStatus::NoData => "No data",
        }
    }

    /// The CSS and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectiveStatus::Achieved => "achieved",
            ObjectiveStatus::OnTrack => "on_track",
            ObjectiveStatus::AtRisk => "at_risk",
            ObjectiveStatus::Missed => "missed",
            ObjectiveStatus::NoData => "no_data",
        }
    }
}

/// Where an objective on `kpi` with `target`, due on `due_on`, stands on `today` with the KPI's
/// `latest` value (the same as its tile's):
/// - achieved when the value meets the target in the KPI's good direction (at most / at least);
/// - missed when it does not and the due date is past;
/// - otherwise on track within the KPI's at-risk band of the target (the width of the band
///   between the KPI's default target and its at-risk limit, the same idea as the tile's "at
///   risk"), else at risk;
/// - no data without a value.
pub fn objective_status(
    kpi: Kpi,
    target: f64,
    latest: Option<f64>,
    due_on: NaiveDate,
    today: NaiveDate,
) -> ObjectiveStatus {
    let Some(v) = latest.filter(|v| v.is_finite()) else { return ObjectiveStatus::NoData };
    let def = kpi.def();
    let band = (def.target.at_risk - def.target.value).abs();
    let (met, near) = match def.direction {
        Direction::AtMost => (v <= target, v <= target + band),
        Direction::AtLeast => (v >= target, v >= target - band),
    };
    if met {
        ObjectiveStatus::Achieved
    } else if due_on < today {
        ObjectiveStatus::Missed
    } else if near {
        ObjectiveStatus::OnTrack
    } else {
        ObjectiveStatus::AtRisk
    }
}

/// A quality objective, with where it stands today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Objective {
    /// Its id.
    pub id: ObjectiveId,
    /// What is to be achieved, e.g. "Reduce complaints to 3 a month".
    pub title: String,
    /// The KPI that measures it.
    pub kpi: Kpi,
    /// The KPI's value to reach (in the KPI's unit and good direction).
    pub target: f64,
    /// By when.
    pub due_on: NaiveDate,
    /// Who is responsible.
    pub owner_id: UserId,
    /// Their printed name.
    pub owner_name: String,
    /// How it is to be achieved, resources, evaluation (6.2.2).
    pub notes: String,
    /// The KPI's latest value (the same as its tile's).
    pub latest: Option<f64>,
    /// The period of that value (the KPI's cadence: `2026-W49`, `2026-11`, `2026-Q4`).
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, example = "2026-11"))]
    pub latest_period: Option<Span>,
    /// Where it stands ([`objective_status`]).
    pub status: ObjectiveStatus,
    /// Version and life.
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Record for Objective {
    const RECORD_TYPE: &'static str = "quality_objective";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// Create or update a quality objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ObjectiveInput {
    /// What is to be achieved (required, at most 200 characters).
    #[serde(default)]
    pub title: String,
    /// The KPI that measures it.
    pub kpi: Kpi,
    /// The value to reach: finite, within the KPI's unit (a percentage 0–100; days and counts
    /// from 0).
    pub target: f64,
    /// By when.
    pub due_on: NaiveDate,
    /// Who is responsible (an active user).
    pub owner_id: UserId,
    /// How (at most 2,000 characters).
    #[serde(default)]
    pub notes: String,
    /// The version last seen (updates; or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl ObjectiveInput {
    /// Trims the text, as stored.
    pub fn normalized(mut self) -> Self {
        self.title = self.title.trim().to_string();
        self.notes = self.notes.trim().to_string();
        self
    }

    /// The rules, naming each field: a title, a target that the KPI's unit can hold, notes
    /// within their length.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "title", &self.title, true, OBJECTIVE_TITLE_MAX);
        let range = match self.kpi.def().unit {
            Unit::Percent => 0.0..=100.0,
            // Ten years of days; a million of anything counted a month.
            Unit::Days => 0.0..=3650.0,
            Unit::Count => 0.0..=1_000_000.0,
        };
        if !self.target.is_finite() || !range.contains(&self.target) {
            e.add("target", INVALID);
        }
        validation::text(&mut e, "notes", &self.notes, false, OBJECTIVE_NOTES_MAX);
        e.into_result()
    }
}
