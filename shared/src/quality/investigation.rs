//! A CAPA's investigation: the problem, its containment, the 5 whys and the fishbone's causes,
//! each confirmed or not, a confirmed one with its evidence; and the 8D texts.

use serde::{Deserialize, Serialize};

use super::capa::LIST_MAX;
use super::{CauseCategory, SHORT_MAX, TEXT_MAX};
use crate::FieldErrors;
use crate::validation;

/// A cause on the fishbone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Cause {
    /// Its category (the six Ms).
    pub category: CauseCategory,
    /// The cause.
    pub text: String,
    /// Confirmed by evidence (not only suspected).
    #[serde(default)]
    pub confirmed: bool,
    /// The evidence (required to confirm).
    #[serde(default)]
    pub evidence: String,
}

/// The investigation: what happened, what was contained, why (5 whys) and the causes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Investigation {
    /// The problem (5W2H: what, where, when, who, why, how, how many).
    pub problem: String,
    /// Interim containment (8D D3).
    pub containment: String,
    /// The whys, in order: each answers "why?" of the one before.
    pub whys: Vec<String>,
    /// The fishbone's causes.
    pub causes: Vec<Cause>,
    /// The team (8D D1).
    pub team: String,
    /// What prevents recurrence elsewhere (8D D7: systems, procedures, similar products).
    pub prevent_recurrence: String,
    /// Recognition of the team at closure (8D D8).
    pub recognition: String,
}

impl Investigation {
    /// Trims the texts and drops empty whys.
    pub fn normalized(mut self) -> Self {
        for s in [
            &mut self.problem,
            &mut self.containment,
            &mut self.team,
            &mut self.prevent_recurrence,
            &mut self.recognition,
        ] {
            *s = s.trim().to_string();
        }
        self.whys = self.whys.into_iter().map(|w| w.trim().to_string()).filter(|w| !w.is_empty()).collect();
        for c in &mut self.causes {
            c.text = c.text.trim().to_string();
            c.evidence = c.evidence.trim().to_string();
        }
        self
    }

    /// Field rules: bounded texts; a confirmed cause has its evidence.
    pub fn validate(&self, e: &mut FieldErrors) {
        validation::text(e, "investigation.problem", &self.problem, false, TEXT_MAX);
        validation::text(e, "investigation.containment", &self.containment, false, TEXT_MAX);
        validation::text(e, "investigation.team", &self.team, false, SHORT_MAX * 5);
        validation::text(e, "investigation.prevent_recurrence", &self.prevent_recurrence, false, TEXT_MAX);
        validation::text(e, "investigation.recognition", &self.recognition, false, TEXT_MAX);
        if self.whys.len() > LIST_MAX {
            e.add("investigation.whys", validation::TOO_LONG);
        }
        for (i, w) in self.whys.iter().enumerate() {
            validation::text(e, &format!("investigation.whys.{i}"), w, false, 1000);
        }
        if self.causes.len() > LIST_MAX {
            e.add("investigation.causes", validation::TOO_LONG);
        }
        for (i, c) in self.causes.iter().enumerate() {
            validation::text(e, &format!("investigation.causes.{i}.text"), &c.text, true, 1000);
            validation::text(e, &format!("investigation.causes.{i}.evidence"), &c.evidence, c.confirmed, TEXT_MAX);
        }
    }

    /// Whether a root cause is confirmed.
    pub fn root_cause_found(&self) -> bool {
        self.causes.iter().any(|c| c.confirmed)
    }

    /// The category of the first confirmed cause: the record's label for the model.
    pub fn root_cause_category(&self) -> Option<CauseCategory> {
        self.causes.iter().find(|c| c.confirmed).map(|c| c.category)
    }
}
