//! An FMEA's record: its kind, confidentiality and planning header (step 1 of the worksheet),
//! and who may read it.

use super::*;

/// Process or design FMEA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FmeaKind {
    /// Process FMEA.
    #[default]
    Pfmea,
    /// Design FMEA.
    Dfmea,
}

impl FmeaKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FmeaKind::Pfmea => "pfmea",
            FmeaKind::Dfmea => "dfmea",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [FmeaKind::Pfmea, FmeaKind::Dfmea].into_iter().find(|k| k.as_str() == s)
    }

    /// "PFMEA" or "DFMEA".
    pub fn label(self) -> &'static str {
        match self {
            FmeaKind::Pfmea => "PFMEA",
            FmeaKind::Dfmea => "DFMEA",
        }
    }
}

/// How widely an FMEA may be shared, enforced for every read of it (header, worksheet, rows,
/// exports, the list and live events): see [`Fmea::readable_by`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Confidentiality {
    /// Inside the company: everyone who may read FMEAs.
    #[default]
    BusinessUse,
    /// The people it names (team, responsible person, process owner), quality managers and
    /// auditors.
    Proprietary,
    /// The people it names and quality managers only.
    Confidential,
}

impl Confidentiality {
    /// Every level.
    pub const ALL: [Confidentiality; 3] =
        [Confidentiality::BusinessUse, Confidentiality::Proprietary, Confidentiality::Confidential];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidentiality::BusinessUse => "business_use",
            Confidentiality::Proprietary => "proprietary",
            Confidentiality::Confidential => "confidential",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// As shown.
    pub fn label(self) -> &'static str {
        match self {
            Confidentiality::BusinessUse => "Business use",
            Confidentiality::Proprietary => "Proprietary",
            Confidentiality::Confidential => "Confidential",
        }
    }
}

/// An FMEA: the planning header (step 1) of its worksheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Fmea {
    /// Its id.
    pub id: FmeaId,
    /// PFMEA or DFMEA.
    pub kind: FmeaKind,
    /// The FMEA ID as the team writes it, e.g. "PF-0001".
    pub fmea_number: String,
    /// Subject (what is analysed).
    pub subject: String,
    /// Company.
    pub company: String,
    /// Location (plant).
    pub location: String,
    /// Customer.
    pub customer: String,
    /// Model year / program.
    pub model_year: String,
    /// Start date.
    pub start_date: NaiveDate,
    /// Revision date.
    pub revision_date: NaiveDate,
    /// The process analysed (PFMEA) or the process that owns the design (DFMEA).
    pub process_id: ProcessId,
    /// Its name.
    pub process_name: String,
    /// The process's owner (who may edit the FMEA too).
    pub process_owner_id: Option<UserId>,
    /// Process / design responsibility.
    pub responsible_id: UserId,
    /// Their name.
    pub responsible_name: String,
    /// The cross-functional team.
    pub team: Vec<TeamMember>,
    /// Confidentiality level.
    pub confidentiality: Confidentiality,
    /// Rows (failure chains) in the worksheet.
    pub rows: i64,
    /// The worksheet's content version: it changes with every change to the header or any
    /// row. A baseline signature binds it (and is superseded when it changes).
    pub content_version: i64,
    /// Version and life (of the header).
    pub meta: RecordMeta,
}

impl Fmea {
    /// Whether the FMEA names `user`: on its team, its responsible person or its process's owner.
    pub fn names(&self, user: UserId) -> bool {
        self.responsible_id == user || self.process_owner_id == Some(user) || self.team.iter().any(|m| m.id == user)
    }

    /// Whether `user` holding `roles` may read this FMEA (its header, rows, exports and live
    /// events), by its [`Confidentiality`]. The one rule the API and the app apply.
    pub fn readable_by(&self, user: UserId, roles: &[Role]) -> bool {
        if !allowed(roles, Permission::ViewFmeas) {
            return false;
        }
        match self.confidentiality {
            Confidentiality::BusinessUse => true,
            Confidentiality::Proprietary => self.names(user) || allowed(roles, Permission::ViewRestrictedFmeas),
            Confidentiality::Confidential => self.names(user) || allowed(roles, Permission::ManageFmeas),
        }
    }
}

impl Record for Fmea {
    const RECORD_TYPE: &'static str = "fmea";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// A team member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TeamMember {
    /// The user.
    pub id: UserId,
    /// Their name.
    pub name: String,
}

/// Create or edit an FMEA's header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FmeaInput {
    /// PFMEA or DFMEA (fixed after creation).
    #[serde(default)]
    pub kind: FmeaKind,
    /// The FMEA ID (required).
    #[serde(default)]
    pub fmea_number: String,
    /// Subject (required).
    #[serde(default)]
    pub subject: String,
    /// Company.
    #[serde(default)]
    pub company: String,
    /// Location.
    #[serde(default)]
    pub location: String,
    /// Customer.
    #[serde(default)]
    pub customer: String,
    /// Model year / program.
    #[serde(default)]
    pub model_year: String,
    /// Start date (required).
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Revision date (required, not before the start).
    #[serde(default)]
    pub revision_date: Option<NaiveDate>,
    /// The process (required, active).
    #[serde(default)]
    pub process_id: Option<ProcessId>,
    /// Responsibility (required, an active user).
    #[serde(default)]
    pub responsible_id: Option<UserId>,
    /// Team members (active users).
    #[serde(default)]
    pub team: Vec<UserId>,
    /// Confidentiality.
    #[serde(default)]
    pub confidentiality: Confidentiality,
    /// On update: the version the change is based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// On update: why (required).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl FmeaInput {
    /// Trims whitespace; team members once each.
    pub fn normalized(mut self) -> Self {
        for s in [
            &mut self.fmea_number,
            &mut self.subject,
            &mut self.company,
            &mut self.location,
            &mut self.customer,
            &mut self.model_year,
            &mut self.reason,
        ] {
            *s = s.trim().to_string();
        }
        let mut seen = Vec::new();
        self.team.retain(|u| {
            let fresh = !seen.contains(u);
            seen.push(*u);
            fresh
        });
        self
    }

    /// The header rules.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "fmea_number", &self.fmea_number, true, 40);
        validation::text(&mut e, "subject", &self.subject, true, 200);
        for (field, value) in [
            ("company", &self.company),
            ("location", &self.location),
            ("customer", &self.customer),
            ("model_year", &self.model_year),
        ] {
            validation::text(&mut e, field, value, false, 120);
        }
        for (field, missing) in [
            ("start_date", self.start_date.is_none()),
            ("revision_date", self.revision_date.is_none()),
            ("process_id", self.process_id.is_none()),
            ("responsible_id", self.responsible_id.is_none()),
        ] {
            if missing {
                e.add(field, REQUIRED);
            }
        }
        if let (Some(s), Some(r)) = (self.start_date, self.revision_date)
            && r < s
        {
            e.add("revision_date", validation::FORMAT);
        }
        if self.team.len() > 50 {
            e.add("team", validation::TOO_LONG);
        }
        e.into_result()
    }

    /// [`FmeaInput::validate`] and the reason a change needs.
    pub fn validate_update(&self) -> Result<(), FieldErrors> {
        let mut e = self.validate().err().unwrap_or_default();
        validation::text(&mut e, "reason", &self.reason, true, 1000);
        e.into_result()
    }
}
