//! Customer complaints: intake, investigation, links to NCs and CAPAs, the response to the
//! customer, closure; the reportable-event decision (medical devices: 21 CFR 803, EU MDR
//! vigilance) is recorded with its reason.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::nc::NcId;
use super::{LinkRef, NOT_QUALIFIED, SHORT_MAX, TEXT_MAX, TOO_EARLY, WRONG_STATE, check_not_future, check_reason};
use crate::FieldErrors;
use crate::org::{Record, RecordMeta, id_type};
use crate::validation::{self, REQUIRED};

id_type!(
    /// Identifies a complaint; never reused.
    ComplaintId
);

impl Record for Complaint {
    const RECORD_TYPE: &'static str = "complaint";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// How the complaint reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Email,
    /// Telephone.
    Phone,
    /// Web form or portal.
    Web,
    /// A sales or field service visit.
    FieldService,
    /// Letter or anything else.
    Other,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 5] = [Channel::Email, Channel::Phone, Channel::Web, Channel::FieldService, Channel::Other];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Web => "web",
            Channel::FieldService => "field_service",
            Channel::Other => "other",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Email => "E-mail",
            Channel::Phone => "Phone",
            Channel::Web => "Web",
            Channel::FieldService => "Field service",
            Channel::Other => "Other",
        }
    }
}

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintState {
    /// Logged, not yet investigated.
    Received,
    /// Under investigation.
    Investigating,
    /// The customer has had our response.
    Responded,
    /// Closed.
    Closed,
    /// Logged in error.
    Cancelled,
}

impl ComplaintState {
    /// Every state.
    pub const ALL: [ComplaintState; 5] = [
        ComplaintState::Received,
        ComplaintState::Investigating,
        ComplaintState::Responded,
        ComplaintState::Closed,
        ComplaintState::Cancelled,
    ];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintState::Received => "received",
            ComplaintState::Investigating => "investigating",
            ComplaintState::Responded => "responded",
            ComplaintState::Closed => "closed",
            ComplaintState::Cancelled => "cancelled",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ComplaintState::Received => "Received",
            ComplaintState::Investigating => "Investigating",
            ComplaintState::Responded => "Responded",
            ComplaintState::Closed => "Closed",
            ComplaintState::Cancelled => "Cancelled",
        }
    }
    /// Still being worked.
    pub fn is_open(self) -> bool {
        !matches!(self, ComplaintState::Closed | ComplaintState::Cancelled)
    }
}

/// What is entered at intake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComplaintInput {
    /// The customer.
    pub customer: String,
    /// The product.
    #[serde(default)]
    pub product: String,
    /// The lot or serial number.
    #[serde(default)]
    pub lot: String,
    /// The day we received it (not in the future).
    pub received_on: Option<NaiveDate>,
    /// How it reached us.
    pub channel: Channel,
    /// What the customer reports.
    pub description: String,
}

impl ComplaintInput {
    /// Trims the texts.
    pub fn normalized(mut self) -> Self {
        for s in [&mut self.customer, &mut self.product, &mut self.lot, &mut self.description] {
            *s = s.trim().to_string();
        }
        self
    }

    /// Field rules.
    pub fn validate(&self, today: NaiveDate) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "customer", &self.customer, true, SHORT_MAX);
        validation::text(&mut e, "product", &self.product, false, SHORT_MAX);
        validation::text(&mut e, "lot", &self.lot, false, SHORT_MAX);
        validation::text(&mut e, "description", &self.description, true, TEXT_MAX);
        check_not_future(&mut e, "received_on", self.received_on, today);
        e.into_result()
    }
}

/// A complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Complaint {
    /// Its id.
    pub id: ComplaintId,
    /// `CMP-00012`, never reused.
    pub number: String,
    /// The customer.
    pub customer: String,
    /// The product.
    pub product: String,
    /// The lot.
    pub lot: String,
    /// Received on.
    pub received_on: NaiveDate,
    /// Channel.
    pub channel: Channel,
    /// What the customer reports.
    pub description: String,
    /// Who logged it.
    pub logged_by: String,
    /// The investigation's findings.
    pub investigation: String,
    /// Whether it is a reportable event (to a regulator).
    pub reportable: Option<bool>,
    /// Why it is (or is not) reportable.
    pub reportable_reason: String,
    /// Our response to the customer.
    pub response: String,
    /// When we responded.
    pub responded_on: Option<NaiveDate>,
    /// The NCs raised from it.
    pub ncs: Vec<LinkRef>,
    /// The CAPAs opened for it.
    pub capas: Vec<LinkRef>,
    /// Where it stands.
    pub state: ComplaintState,
    /// When it closed.
    pub closed_on: Option<NaiveDate>,
    /// Version and life.
    pub meta: RecordMeta,
}

/// A step on a complaint (`POST /api/v1/complaints/{id}/steps`), with the version last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum ComplaintStep {
    /// Record the investigation (starts it, or updates its findings).
    Investigate {
        /// The findings so far.
        findings: String,
        /// Version last seen.
        version: i64,
    },
    /// Decide whether it is a reportable event, with the reason.
    Reportability {
        /// Reportable or not.
        reportable: bool,
        /// Why.
        reason: String,
        /// Version last seen.
        version: i64,
    },
    /// Link an NC (raised from this complaint, or found to concern it).
    LinkNc {
        /// The NC.
        nc_id: NcId,
        /// Version last seen.
        version: i64,
    },
    /// Record the response sent to the customer.
    Respond {
        /// What we told them.
        response: String,
        /// When.
        responded_on: Option<NaiveDate>,
        /// Version last seen.
        version: i64,
    },
    /// Close it (responded, reportability decided).
    Close {
        /// Version last seen.
        version: i64,
    },
    /// Cancel it (logged in error), with the reason.
    Cancel {
        /// Why.
        reason: String,
        /// Version last seen.
        version: i64,
    },
}

impl ComplaintStep {
    /// The version the step was based on.
    pub fn version(&self) -> i64 {
        match self {
            ComplaintStep::Investigate { version, .. }
            | ComplaintStep::Reportability { version, .. }
            | ComplaintStep::LinkNc { version, .. }
            | ComplaintStep::Respond { version, .. }
            | ComplaintStep::Close { version }
            | ComplaintStep::Cancel { version, .. } => *version,
        }
    }

    /// The name of the step.
    pub fn name(&self) -> &'static str {
        match self {
            ComplaintStep::Investigate { .. } => "investigate",
            ComplaintStep::Reportability { .. } => "reportability",
            ComplaintStep::LinkNc { .. } => "link_nc",
            ComplaintStep::Respond { .. } => "respond",
            ComplaintStep::Close { .. } => "close",
            ComplaintStep::Cancel { .. } => "cancel",
        }
    }

    /// Whether the complaint may take this step, from a quality manager (`qualified`) or not.
    /// Anyone logs a complaint; the quality manager works it.
    pub fn check(&self, c: &Complaint, qualified: bool, today: NaiveDate) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if !c.state.is_open() {
            e.add("state", WRONG_STATE);
            return Err(e);
        }
        if !qualified {
            e.add("step", NOT_QUALIFIED);
            return Err(e);
        }
        match self {
            ComplaintStep::Investigate { findings, .. } => {
                validation::text(&mut e, "findings", findings, true, TEXT_MAX);
            }
            ComplaintStep::Reportability { reason, .. } => check_reason(&mut e, "reason", reason),
            ComplaintStep::LinkNc { .. } => {}
            ComplaintStep::Respond { response, responded_on, .. } => {
                if c.state == ComplaintState::Received {
                    e.add("state", WRONG_STATE);
                }
                validation::text(&mut e, "response", response, true, TEXT_MAX);
                check_not_future(&mut e, "responded_on", *responded_on, today);
                if responded_on.is_some_and(|d| d < c.received_on) {
                    e.add("responded_on", TOO_EARLY);
                }
            }
            ComplaintStep::Close { .. } => {
                if c.state != ComplaintState::Responded {
                    e.add("response", REQUIRED);
                }
                if c.reportable.is_none() {
                    e.add("reportable", REQUIRED);
                }
            }
            ComplaintStep::Cancel { reason, .. } => check_reason(&mut e, "reason", reason),
        }
        e.into_result()
    }
}
