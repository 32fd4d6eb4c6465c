//! Nonconformances: raised by anyone, dispositioned only by a qualified role, evaluated ("is a
//! CAPA needed?", with a rationale) before they close; their costs feed the cost of poor quality.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::capa::CapaId;
use super::complaint::ComplaintId;
use super::{
    BAD_AMOUNT, CAPA_MISSING, CauseCategory, NO_DISPOSITION, NOT_EVALUATED, NOT_QUALIFIED, SHORT_MAX, TEXT_MAX,
    WRONG_STATE, check_not_future, check_reason,
};
use crate::FieldErrors;
use crate::auth::UserId;
use crate::org::{ProcessId, Record, RecordMeta, id_type};
use crate::validation::{self, REQUIRED};

id_type!(
    /// Identifies a nonconformance; never reused.
    NcId
);
id_type!(
    /// Identifies an NC category (the configurable list); never reused.
    CategoryId
);

impl Record for Nc {
    const RECORD_TYPE: &'static str = "nc";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// Where a nonconformance was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NcSource {
    /// In our own process (in-process or final inspection, the shop floor).
    Internal,
    /// In supplied material (incoming inspection).
    Supplier,
    /// By a customer.
    Customer,
    /// By an audit.
    Audit,
}

impl NcSource {
    /// Every source.
    pub const ALL: [NcSource; 4] = [NcSource::Internal, NcSource::Supplier, NcSource::Customer, NcSource::Audit];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NcSource::Internal => "internal",
            NcSource::Supplier => "supplier",
            NcSource::Customer => "customer",
            NcSource::Audit => "audit",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            NcSource::Internal => "Internal",
            NcSource::Supplier => "Supplier",
            NcSource::Customer => "Customer",
            NcSource::Audit => "Audit",
        }
    }
}

/// What is done with the nonconforming product (decided only by a qualified role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Accepted as it is (a concession), with the justification.
    UseAsIs,
    /// Reworked to conform.
    Rework,
    /// Scrapped.
    Scrap,
    /// Returned to the supplier.
    ReturnToSupplier,
}

impl Disposition {
    /// Every disposition.
    pub const ALL: [Disposition; 4] =
        [Disposition::UseAsIs, Disposition::Rework, Disposition::Scrap, Disposition::ReturnToSupplier];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::UseAsIs => "use_as_is",
            Disposition::Rework => "rework",
            Disposition::Scrap => "scrap",
            Disposition::ReturnToSupplier => "return_to_supplier",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Disposition::UseAsIs => "Use as is",
            Disposition::Rework => "Rework",
            Disposition::Scrap => "Scrap",
            Disposition::ReturnToSupplier => "Return to supplier",
        }
    }
}

/// Where a nonconformance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NcState {
    /// Raised; containment, disposition and evaluation under way.
    Open,
    /// Dispositioned, evaluated and closed.
    Closed,
    /// Raised in error, with the reason.
    Cancelled,
}

impl NcState {
    /// Every state.
    pub const ALL: [NcState; 3] = [NcState::Open, NcState::Closed, NcState::Cancelled];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NcState::Open => "open",
            NcState::Closed => "closed",
            NcState::Cancelled => "cancelled",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// As shown to people.
    pub fn label(self) -> &'static str {
        match self {
            NcState::Open => "Open",
            NcState::Closed => "Closed",
            NcState::Cancelled => "Cancelled",
        }
    }
}

/// An entry of the configurable category list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Category {
    /// Its id.
    pub id: CategoryId,
    /// Its name, unique among active categories.
    pub name: String,
}

/// The cost of a nonconformance by kind, in cents of the organisation's currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Costs {
    /// Scrap.
    #[serde(default)]
    pub scrap: i64,
    /// Rework.
    #[serde(default)]
    pub rework: i64,
    /// Warranty.
    #[serde(default)]
    pub warranty: i64,
    /// Returns.
    #[serde(default)]
    pub returns: i64,
}

impl Costs {
    /// The four together.
    pub fn total(self) -> i64 {
        self.scrap.saturating_add(self.rework).saturating_add(self.warranty).saturating_add(self.returns)
    }

    fn validate(self, errors: &mut FieldErrors) {
        for (field, v) in [
            ("costs.scrap", self.scrap),
            ("costs.rework", self.rework),
            ("costs.warranty", self.warranty),
            ("costs.returns", self.returns),
        ] {
            if !(0..=1_000_000_000_000).contains(&v) {
                errors.add(field, BAD_AMOUNT);
            }
        }
    }
}

/// The evaluation every NC gets: is a CAPA needed, and why (not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Evaluation {
    /// Whether a CAPA is needed.
    pub capa_needed: bool,
    /// Why (or why not): recurrence, risk, cost.
    pub rationale: String,
    /// The root-cause category, when known.
    pub root_cause: Option<CauseCategory>,
    /// Who evaluated it.
    pub by: String,
    /// When.
    pub on: NaiveDate,
}

/// What someone raising (or correcting) an NC enters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NcInput {
    /// Where it was found.
    pub source: NcSource,
    /// Its category (from the configurable list).
    pub category_id: Option<CategoryId>,
    /// The process it concerns.
    #[serde(default)]
    pub process_id: Option<ProcessId>,
    /// The product, part number or service.
    #[serde(default)]
    pub product: String,
    /// The lot or batch.
    #[serde(default)]
    pub lot: String,
    /// How many units are affected.
    #[serde(default)]
    pub quantity: u32,
    /// What is wrong, against which requirement.
    pub description: String,
    /// What was done at once to contain it (segregated, tagged, stopped the line).
    #[serde(default)]
    pub containment: String,
    /// The day it was found (not in the future).
    pub reported_on: Option<NaiveDate>,
    /// Its cost by kind.
    #[serde(default)]
    pub costs: Costs,
    /// The complaint it comes from.
    #[serde(default)]
    pub complaint_id: Option<ComplaintId>,
    /// On a correction: the version last seen.
    #[serde(default)]
    pub version: Option<i64>,
}

impl NcInput {
    /// Trims the texts.
    pub fn normalized(mut self) -> Self {
        for s in [&mut self.product, &mut self.lot, &mut self.description, &mut self.containment] {
            *s = s.trim().to_string();
        }
        self
    }

    /// Field rules (the server checks the references).
    pub fn validate(&self, today: NaiveDate) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.category_id.is_none() {
            e.add("category_id", REQUIRED);
        }
        validation::text(&mut e, "product", &self.product, false, SHORT_MAX);
        validation::text(&mut e, "lot", &self.lot, false, SHORT_MAX);
        validation::text(&mut e, "description", &self.description, true, TEXT_MAX);
        validation::text(&mut e, "containment", &self.containment, false, TEXT_MAX);
        check_not_future(&mut e, "reported_on", self.reported_on, today);
        self.costs.validate(&mut e);
        e.into_result()
    }
}

/// A nonconformance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Nc {
    /// Its id.
    pub id: NcId,
    /// `NC-00042`, never reused.
    pub number: String,
    /// Where it was found.
    pub source: NcSource,
    /// Its category.
    pub category_id: CategoryId,
    /// The category's name.
    pub category: String,
    /// The process it concerns.
    pub process_id: Option<ProcessId>,
    /// The process's name.
    pub process_name: Option<String>,
    /// The product.
    pub product: String,
    /// The lot.
    pub lot: String,
    /// Units affected.
    pub quantity: u32,
    /// What is wrong.
    pub description: String,
    /// Containment.
    pub containment: String,
    /// The day it was found.
    pub reported_on: NaiveDate,
    /// Who raised it.
    pub reported_by: UserId,
    /// Their name.
    pub reported_by_name: String,
    /// Cost by kind.
    pub costs: Costs,
    /// The disposition, once decided.
    pub disposition: Option<Disposition>,
    /// Its justification (required for "use as is").
    pub disposition_note: String,
    /// Who decided it.
    pub dispositioned_by: Option<String>,
    /// The evaluation, once made.
    pub evaluation: Option<Evaluation>,
    /// The CAPA it led to.
    pub capa_id: Option<CapaId>,
    /// That CAPA's number.
    pub capa_number: Option<String>,
    /// The complaint it comes from.
    pub complaint_id: Option<ComplaintId>,
    /// That complaint's number.
    pub complaint_number: Option<String>,
    /// Where it stands.
    pub state: NcState,
    /// When it closed.
    pub closed_on: Option<NaiveDate>,
    /// Version and life (cancelled: `retired_at` with the reason).
    pub meta: RecordMeta,
}

/// A step on an NC (`POST /api/v1/ncs/{id}/steps`), with the version last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum NcStep {
    /// Decide the disposition (qualified role only).
    Disposition {
        /// What is done with the product.
        disposition: Disposition,
        /// The justification (required for "use as is").
        #[serde(default)]
        note: String,
        /// Version last seen.
        version: i64,
    },
    /// Evaluate: is a CAPA needed? (quality manager).
    Evaluate {
        /// Whether a CAPA is needed.
        capa_needed: bool,
        /// Why (or why not).
        rationale: String,
        /// The root-cause category, when known.
        #[serde(default)]
        root_cause: Option<CauseCategory>,
        /// Version last seen.
        version: i64,
    },
    /// Open a CAPA for it (in draft, linked both ways), or link an existing open one.
    LinkCapa {
        /// An existing CAPA; without it a new one is opened.
        #[serde(default)]
        capa_id: Option<CapaId>,
        /// Version last seen.
        version: i64,
    },
    /// Close it (dispositioned and evaluated; a linked CAPA when one is needed).
    Close {
        /// Version last seen.
        version: i64,
    },
    /// Cancel it (raised in error), with the reason.
    Cancel {
        /// Why.
        reason: String,
        /// Version last seen.
        version: i64,
    },
}

impl NcStep {
    /// The version the step was based on.
    pub fn version(&self) -> i64 {
        match self {
            NcStep::Disposition { version, .. }
            | NcStep::Evaluate { version, .. }
            | NcStep::LinkCapa { version, .. }
            | NcStep::Close { version }
            | NcStep::Cancel { version, .. } => *version,
        }
    }

    /// The name of the step, for messages and the audit trail.
    pub fn name(&self) -> &'static str {
        match self {
            NcStep::Disposition { .. } => "disposition",
            NcStep::Evaluate { .. } => "evaluate",
            NcStep::LinkCapa { .. } => "link_capa",
            NcStep::Close { .. } => "close",
            NcStep::Cancel { .. } => "cancel",
        }
    }

    /// Whether `nc` may take this step from someone who is (`qualified`) or is not a quality
    /// manager: field errors naming what is missing. Every step needs an open NC; each is the
    /// quality manager's.
    pub fn check(&self, nc: &Nc, qualified: bool) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if nc.state != NcState::Open {
            e.add("state", WRONG_STATE);
            return Err(e);
        }
        if !qualified {
            e.add(if matches!(self, NcStep::Disposition { .. }) { "disposition" } else { "step" }, NOT_QUALIFIED);
            return Err(e);
        }
        match self {
            NcStep::Disposition { disposition, note, .. } => {
                validation::text(&mut e, "note", note, *disposition == Disposition::UseAsIs, TEXT_MAX);
            }
            NcStep::Evaluate { rationale, .. } => validation::text(&mut e, "rationale", rationale, true, TEXT_MAX),
            NcStep::LinkCapa { .. } => {}
            NcStep::Close { .. } => {
                if nc.disposition.is_none() && nc.quantity > 0 {
                    e.add("disposition", NO_DISPOSITION);
                }
                match &nc.evaluation {
                    None => e.add("evaluation", NOT_EVALUATED),
                    Some(ev) if ev.capa_needed && nc.capa_id.is_none() => e.add("capa_id", CAPA_MISSING),
                    Some(_) => {}
                }
            }
            NcStep::Cancel { reason, .. } => check_reason(&mut e, "reason", reason),
        }
        e.into_result()
    }
}

/// What a Pareto chart of NCs is drawn by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParetoBy {
    /// By category.
    #[default]
    Category,
    /// By process.
    Process,
}

impl Nc {
    /// Open and reported longer ago than [`super::NC_DUE_DAYS`].
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.state == NcState::Open && (today - self.reported_on).num_days() > super::NC_DUE_DAYS
    }
}

/// The register's filter (`GET /api/v1/ncs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
pub struct NcFilter {
    /// Only in this state.
    pub state: Option<NcState>,
    /// Only from this source.
    pub source: Option<NcSource>,
    /// Only of this category.
    pub category_id: Option<i64>,
    /// Only of this process.
    pub process_id: Option<i64>,
    /// Reported on or after.
    pub from: Option<NaiveDate>,
    /// Reported on or before.
    pub to: Option<NaiveDate>,
    /// Words in the number, product, lot or description.
    pub q: Option<String>,
    /// Page: the last id of the previous page (newest first).
    pub before_id: Option<i64>,
    /// Page size (at most 200; 50 when not given).
    pub limit: Option<i64>,
}
