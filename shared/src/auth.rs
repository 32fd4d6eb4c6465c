//! Who may do what (21 CFR 11.10(d), 11.10(g), 11.100, 11.300): users, roles, the one
//! permission table, the password policy, and the sign-in and session types.
//!
//! The server checks [`ROLE_PERMISSIONS`] on every request (and record-level rules on every
//! record); the app reads the same table only to hide what the user cannot do.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::org::{DepartmentId, NAME_MAX, Record, RecordMeta};
use crate::validation::{self, FORMAT, REQUIRED, TOO_LONG};

/// Identifies a user; never reused or reassigned (11.100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A role; a person may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, roles, departments, sites, configuration.
    Admin,
    /// Runs the quality system: processes, approvals, CAPA, documents.
    QualityManager,
    /// Owns processes; edits the records of the processes they own.
    ProcessOwner,
    /// Plans and performs internal audits; reads the audit trail.
    Auditor,
    /// Completes training.
    Staff,
    /// Watches the dashboards.
    Executive,
}

impl Role {
    /// Every role, in the order the app lists them.
    pub const ALL: [Role; 6] =
        [Role::Admin, Role::QualityManager, Role::ProcessOwner, Role::Auditor, Role::Staff, Role::Executive];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::QualityManager => "quality_manager",
            Role::ProcessOwner => "process_owner",
            Role::Auditor => "auditor",
            Role::Staff => "staff",
            Role::Executive => "executive",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::QualityManager => "Quality manager",
            Role::ProcessOwner => "Process owner",
            Role::Auditor => "Auditor",
            Role::Staff => "Staff",
            Role::Executive => "Executive",
        }
    }
}

/// An operation that needs a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read sites, departments and processes, and the user directory (names only).
    ViewOrganisation,
    /// Create, edit and retire sites and departments.
    ManageOrganisation,
    /// Create, edit and retire any process, and assign its owner.
    ManageProcesses,
    /// Edit the processes one owns (a record-level rule: only when `owner_id` is oneself).
    EditOwnProcesses,
    /// Approve a process owner's assignment by electronic signature.
    ApproveProcessOwners,
    /// Read and export the audit trail and verify its chain.
    ViewAuditTrail,
    /// Create, edit and deactivate users, assign roles, reset passwords.
    ManageUsers,
    /// List and revoke sessions; read failed sign-in attempts.
    ManageSessions,
    /// Read the risk register, its heatmap and the risk matrices.
    ViewRisks,
    /// Create and edit any risk, and assign its owner.
    ManageRisks,
    /// Create risks one owns and edit them (a record-level rule: only when `owner_id` is oneself).
    EditOwnRisks,
    /// Accept a residual risk by electronic signature (with its benefit–risk rationale).
    AcceptRisks,
    /// Draft risk matrices and new revisions of them.
    ManageRiskMatrices,
    /// Approve a risk matrix revision by electronic signature (it then takes effect).
    ApproveRiskMatrices,
    /// Read FMEA worksheets.
    ViewFmeas,
    /// Read proprietary FMEAs that do not name oneself (quality managers and auditors; see
    /// `Fmea::readable_by`).
    ViewRestrictedFmeas,
    /// Create and edit any FMEA.
    ManageFmeas,
    /// Edit the FMEAs of one's own processes, or where one is responsible or on the team (a
    /// record-level rule).
    EditOwnFmeas,
    /// Approve an FMEA baseline by electronic signature.
    ApproveFmeas,
    /// Read controlled documents: every document and its revision in force (drafts only for
    /// the document's own people, document managers and auditors).
    ViewDocuments,
    /// Create documents, name their owners, reviewers and approvers, and act on any revision.
    ManageDocuments,
    /// Sign a document revision as its reviewer or approver (a record-level rule: only the people
    /// the document names, and never the author as approver).
    SignDocuments,
    /// Complete one's own training: see My training, sign "read and understood", take quizzes,
    /// and sign off others' on-the-job training when one's own record is current (a
    /// record-level rule).
    CompleteTraining,
    /// Read everyone's training: the matrix, the records, the auditor's questions.
    ViewTrainingRecords,
    /// Read the training of one's own people only, as [`Permission::ViewTrainingRecords`] shows
    /// everyone's: the active people of the departments that run an active process one owns, and
    /// oneself (a record-level rule the server applies to every training read).
    ViewTeamTrainingRecords,
    /// Define requirements, quizzes and curricula.
    ManageTraining,
    /// Read the dashboard: the KPIs, their trends and the records behind them.
    ViewDashboard,
    /// Record measurements from outside systems and set KPI targets.
    ManageMeasurements,
    /// Read nonconformances, complaints and CAPAs, their Pareto and metrics.
    ViewQuality,
    /// Raise a nonconformance or log a complaint.
    ReportQuality,
    /// Work nonconformances, complaints and CAPAs: evaluate, open and assign CAPAs, triage,
    /// approve plans (by signature) and extensions, close and cancel; keep the category list.
    ManageQuality,
    /// Decide an NC's disposition (use as is, rework, scrap, return to supplier): the
    /// qualified roles only.
    DispositionNonconformances,
    /// Work on the CAPAs one owns or verifies (a record-level rule).
    WorkOnCapas,
}

/// The permission table: role → allowed operations. The only place this is decided.
pub const ROLE_PERMISSIONS: &[(Role, &[Permission])] = &[
    (
        Role::Admin,
        &[
            Permission::ViewOrganisation,
            Permission::ManageOrganisation,
            Permission::ManageProcesses,
            Permission::ViewAuditTrail,
            Permission::ManageUsers,
            Permission::ManageSessions,
            Permission::ViewRisks,
            Permission::ManageRiskMatrices,
            Permission::ViewFmeas,
            Permission::ManageDocuments,
            Permission::ViewDocuments,
            Permission::SignDocuments,
            Permission::ViewTrainingRecords,
            Permission::CompleteTraining,
            Permission::ViewDashboard,
            Permission::ViewQuality,
            Permission::ReportQuality,
        ],
    ),
    (
        Role::QualityManager,
        &[
            Permission::ViewOrganisation,
            Permission::ManageProcesses,
            Permission::ApproveProcessOwners,
            Permission::ViewAuditTrail,
            Permission::ViewRisks,
            Permission::ManageRisks,
            Permission::AcceptRisks,
            Permission::ManageRiskMatrices,
            Permission::ApproveRiskMatrices,
            Permission::ViewFmeas,
            Permission::ViewRestrictedFmeas,
            Permission::ManageFmeas,
            Permission::ApproveFmeas,
            Permission::ManageDocuments,
            Permission::ViewDocuments,
            Permission::SignDocuments,
            Permission::CompleteTraining,
            Permission::ViewTrainingRecords,
            Permission::ManageTraining,
            Permission::ViewDashboard,
            Permission::ManageMeasurements,
            Permission::ViewQuality,
            Permission::ReportQuality,
            Permission::ManageQuality,
            Permission::DispositionNonconformances,
            Permission::WorkOnCapas,
        ],
    ),
    (
        Role::ProcessOwner,
        &[
            Permission::ViewOrganisation,
            Permission::EditOwnProcesses,
            Permission::ViewRisks,
            Permission::EditOwnRisks,
            Permission::ViewFmeas,
            Permission::EditOwnFmeas,
            Permission::ViewDocuments,
            Permission::SignDocuments,
            Permission::CompleteTraining,
            Permission::ViewTeamTrainingRecords,
            Permission::ViewDashboard,
            Permission::ViewQuality,
            Permission::ReportQuality,
            Permission::WorkOnCapas,
        ],
    ),
    (
        Role::Auditor,
        &[
            Permission::ViewOrganisation,
            Permission::ViewAuditTrail,
            Permission::ViewRisks,
            Permission::ViewFmeas,
            Permission::ViewRestrictedFmeas,
            Permission::ViewDocuments,
            Permission::ViewTrainingRecords,
            Permission::ViewDashboard,
            Permission::ViewQuality,
            Permission::ReportQuality,
        ],
    ),
    (
        Role::Staff,
        &[
            Permission::ViewOrganisation,
            Permission::ViewRisks,
            Permission::ViewFmeas,
            Permission::ViewDocuments,
            Permission::SignDocuments,
            Permission::CompleteTraining,
            Permission::ViewDashboard,
            Permission::ViewQuality,
            Permission::ReportQuality,
            Permission::WorkOnCapas,
        ],
    ),
    (
        Role::Executive,
        &[
            Permission::ViewOrganisation,
            Permission::ViewRisks,
            Permission::ViewFmeas,
            Permission::ViewDocuments,
            Permission::SignDocuments,
            Permission::CompleteTraining,
            Permission::ViewTrainingRecords,
            Permission::ViewDashboard,
            Permission::ViewQuality,
            Permission::ReportQuality,
        ],
    ),
];

impl Role {
    /// Whether this role may perform `p`.
    pub fn allows(self, p: Permission) -> bool {
        ROLE_PERMISSIONS.iter().any(|(r, ps)| *r == self && ps.contains(&p))
    }
}

/// Whether someone holding `roles` may perform `p`.
pub fn allowed(roles: &[Role], p: Permission) -> bool {
    roles.iter().any(|r| r.allows(p))
}

/// Longest username, in characters.
pub const USERNAME_MAX: usize = 64;
/// Shortest password, in characters (11.300 password policy).
pub const PASSWORD_MIN: usize = 12;
/// Longest password, in characters (argon2 hashes any length; this bounds the work).
pub const PASSWORD_MAX: usize = 256;
/// Consecutive failed sign-ins that lock an account.
pub const MAX_FAILED_SIGN_INS: i64 = 5;

/// Error code: the password is shorter than [`PASSWORD_MIN`].
pub const PASSWORD_TOO_SHORT: &str = "password_too_short";
/// Error code: the password is, or contains, the username.
pub const PASSWORD_IS_USERNAME: &str = "password_is_username";
/// Error code: the password is on the list of commonly used passwords.
pub const PASSWORD_COMMON: &str = "password_common";
/// Error code: the current password given is wrong.
pub const WRONG_PASSWORD: &str = "wrong_password";
/// Error code: the new password is the one in use.
pub const PASSWORD_UNCHANGED: &str = "password_unchanged";
/// Error code: a username is not changed after creation (11.100).
pub const IMMUTABLE: &str = "immutable";
/// Error code: at least one is needed.
pub const NONE_CHOSEN: &str = "none_chosen";

/// Commonly used passwords of 12 characters or more (shorter ones fail the length rule
/// anyway), compared ignoring case. One per line.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// The sentence for a password or account error code, or `None` for other codes.
pub fn describe(code: &str) -> Option<&'static str> {
    Some(match code {
        PASSWORD_TOO_SHORT => "Use at least 12 characters.",
        PASSWORD_IS_USERNAME => "The password must not contain the username.",
        PASSWORD_COMMON => "This password is too common; choose another.",
        WRONG_PASSWORD => "The password is not correct.",
        PASSWORD_UNCHANGED => "Choose a password different from the current one.",
        IMMUTABLE => "This cannot be changed once the record exists.",
        NONE_CHOSEN => "Choose at least one.",
        _ => return None,
    })
}

/// The password policy (11.300): at least 12 characters, not containing the username, not a
/// commonly used password. Returns the error code.
pub fn check_password(username: &str, password: &str) -> Result<(), &'static str> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(PASSWORD_TOO_SHORT);
    }
    if len > PASSWORD_MAX {
        return Err(TOO_LONG);
    }
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if !user.is_empty() && lower.contains(&user) {
        return Err(PASSWORD_IS_USERNAME);
    }
    if is_common(&lower) {
        return Err(PASSWORD_COMMON);
    }
    Ok(())
}

/// Whether `lower` (already lower-cased) is on the bundled list, or is one character repeated,
/// or a run of consecutive keys or digits.
fn is_common(lower: &str) -> bool {
    let chars: Vec<char> = lower.chars().collect();
    let repeated = chars.windows(2).all(|w| w[0] == w[1]);
    let ascending = chars.windows(2).all(|w| (w[1] as u32) == (w[0] as u32) + 1 || (w[0] == '9' && w[1] == '0'));
    repeated || ascending || COMMON_PASSWORDS.lines().map(str::trim).any(|c| !c.is_empty() && c == lower)
}

/// A username: letters, digits, `.`, `-`, `_`; stored in lower case.
pub fn check_username(e: &mut FieldErrors, username: &str) {
    if username.is_empty() {
        e.add("username", REQUIRED);
    } else if username.chars().count() > USERNAME_MAX {
        e.add("username", TOO_LONG);
    } else if !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
        e.add("username", FORMAT);
    }
}

/// A person who signs in. Deactivated, never deleted; the username is never reused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct User {
    /// Its id (never reused).
    pub id: UserId,
    /// Sign-in name, unique for ever (lower case).
    pub username: String,
    /// Printed name, shown with every change and signature.
    pub full_name: String,
    /// E-mail address.
    pub email: String,
    /// Department, if any.
    pub department_id: Option<DepartmentId>,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Must choose a new password at the next sign-in.
    pub must_change_password: bool,
    /// When the password was last set.
    pub password_changed_at: DateTime<Utc>,
    /// Locked by failed sign-ins until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the user accepted the electronic-signature agreement (11.10(j)).
    pub esign_agreed_at: Option<DateTime<Utc>>,
    /// Version and life (`retired_at` = deactivated).
    #[serde(flatten)]
    pub meta: RecordMeta,
}

impl Record for User {
    const RECORD_TYPE: &'static str = "user";
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
}

/// Create or update a user (admin).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Sign-in name; fixed once created.
    #[serde(default)]
    pub username: String,
    /// Printed name.
    #[serde(default)]
    pub full_name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: String,
    /// Department, if any.
    #[serde(default)]
    pub department_id: Option<DepartmentId>,
    /// At least one role.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// On create: the first password, which the user must change at first sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// On update: the version the change is based on (or send `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl UserInput {
    /// Trims, lower-cases the username, sorts and de-duplicates roles.
    pub fn normalized(mut self) -> Self {
        self.username = self.username.trim().to_lowercase();
        self.full_name = self.full_name.trim().to_string();
        self.email = self.email.trim().to_string();
        self.roles.sort();
        self.roles.dedup();
        self
    }

    /// The rules for a user. `creating` requires the first password.
    pub fn validate(&self, creating: bool) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        check_username(&mut e, &self.username);
        validation::text(&mut e, "full_name", &self.full_name, true, NAME_MAX);
        validation::text(&mut e, "email", &self.email, true, 254);
        if e.get("email").is_none() {
            let ok = self
                .email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
                && !self.email.chars().any(char::is_whitespace);
            if !ok {
                e.add("email", FORMAT);
            }
        }
        if self.roles.is_empty() {
            e.add("roles", NONE_CHOSEN);
        }
        match (&self.password, creating) {
            (Some(p), true) => {
                if let Err(code) = check_password(&self.username, p) {
                    e.add("password", code);
                }
            }
            (None, true) => e.add("password", REQUIRED),
            (Some(_), false) => e.add("password", validation::UNKNOWN_FIELD),
            (None, false) => {}
        }
        e.into_result()
    }

    /// The input that would recreate `u` as it is now, at its current version.
    pub fn from_record(u: &User) -> Self {
        Self {
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            email: u.email.clone(),
            department_id: u.department_id,
            roles: u.roles.clone(),
            password: None,
            version: Some(u.meta.version),
        }
    }
}

/// A user as others see them, for pickers (owner, responsible person, team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UserSummary {
    /// Its id.
    pub id: UserId,
    /// Sign-in name.
    pub username: String,
    /// Printed name.
    pub full_name: String,
    /// Roles held.
    pub roles: Vec<Role>,
}

/// Sign in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInInput {
    /// Username.
    #[serde(default)]
    pub username: String,
    /// Password.
    #[serde(default)]
    pub password: String,
}

/// The signed-in session, as the app needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// This session's id (as listed to administrators; not its secret).
    pub session_id: i64,
    /// The user.
    pub user: UserSummary,
    /// Send as `X-CSRF-Token` with every state-changing request.
    pub csrf_token: String,
    /// The session ends without activity after this many seconds.
    pub idle_timeout_secs: i64,
    /// The session ends at this time whatever happens.
    pub expires_at: DateTime<Utc>,
    /// The password must be changed before anything else.
    pub must_change_password: bool,
    /// The user has accepted the electronic-signature agreement.
    pub esign_agreed: bool,
    /// This session has signed before: a further signature needs the password alone; the
    /// first needs the username too (21 CFR 11.200(a)(1)(i)).
    #[serde(default)]
    pub signed_in_session: bool,
}

impl SessionInfo {
    /// Whether this user may perform `p` (the app hides what they cannot do).
    pub fn can(&self, p: Permission) -> bool {
        allowed(&self.user.roles, p)
    }
}

/// Change one's own password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordInput {
    /// The password in use.
    #[serde(default)]
    pub current_password: String,
    /// The new password.
    #[serde(default)]
    pub new_password: String,
}

impl ChangePasswordInput {
    /// The policy, for `username`.
    pub fn validate(&self, username: &str) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.current_password.is_empty() {
            e.add("current_password", REQUIRED);
        }
        if let Err(code) = check_password(username, &self.new_password) {
            e.add("new_password", code);
        } else if self.new_password == self.current_password {
            e.add("new_password", PASSWORD_UNCHANGED);
        }
        e.into_result()
    }
}

/// An admin sets a temporary password; the user must change it at the next sign-in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordInput {
    /// The temporary password.
    #[serde(default)]
    pub new_password: String,
}

/// A session, as an admin sees it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionRecord {
    /// Its id (not the secret).
    pub id: i64,
    /// Whose.
    pub user_id: UserId,
    /// Their username.
    pub username: String,
    /// Their printed name.
    pub full_name: String,
    /// Signed in at.
    pub created_at: DateTime<Utc>,
    /// Last request at.
    pub last_seen_at: DateTime<Utc>,
    /// Ends at, whatever happens.
    pub expires_at: DateTime<Utc>,
    /// Where from.
    pub client_address: String,
    /// Which browser or tool.
    pub user_agent: String,
}

/// An API token of a user: a script sends `Authorization: Bearer cal_…` and acts as that user,
/// with their permissions. Only the SHA-256 of the secret is kept (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Its id (not the secret).
    pub id: i64,
    /// Whose: the script acts as this user.
    pub user_id: UserId,
    /// What it is for (recorded with every change made with it).
    pub name: String,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// The last day it works, when it expires.
    pub expires_on: Option<NaiveDate>,
    /// Last used at (written at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked at.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The longest name of a token.
pub const TOKEN_NAME_MAX: usize = 100;

/// A token to issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApiTokenInput {
    /// What it is for, e.g. "ERP monthly export" (required, at most 100 characters).
    #[serde(default)]
    pub name: String,
    /// The last day it works (not in the past); none: until revoked.
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
}

impl ApiTokenInput {
    /// The rules: a name; an expiry, if any, today or later.
    pub fn validate(&self, today: NaiveDate) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        validation::text(&mut e, "name", &self.name, true, TOKEN_NAME_MAX);
        if self.expires_on.is_some_and(|d| d < today) {
            e.add("expires_on", validation::INVALID);
        }
        e.into_result()
    }
}

/// A token just issued, with its secret: shown this once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    /// The token.
    pub token: ApiToken,
    /// The secret (`cal_…`), for the `Authorization: Bearer` header.
    pub secret: String,
}

/// A failed sign-in, as admins review them (11.300(d)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FailedSignIn {
    /// Position in the audit trail.
    pub seq: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The username tried.
    pub username: String,
    /// The user, when the username exists.
    pub user_id: Option<UserId>,
    /// Why it failed, e.g. wrong password or account locked; for a burst, how many failed and
    /// why.
    pub reason: String,
    /// How many attempts the entry stands for: 1, or a burst's further attempts (from one
    /// address on one account within a minute of the first).
    pub attempts: u64,
    /// From where.
    pub client_address: String,
    /// Which browser or tool.
    pub user_agent: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table_names_every_role_once() {
        for role in Role::ALL {
            assert_eq!(ROLE_PERMISSIONS.iter().filter(|(r, _)| *r == role).count(), 1, "{role:?}");
            assert!(role.allows(Permission::ViewOrganisation), "every role can read the organisation");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn the_permission_table_separates_duties() {
        // 11.10(g): only authorised roles change records or sign.
        assert!(Role::Admin.allows(Permission::ManageUsers));
        assert!(!Role::QualityManager.allows(Permission::ManageUsers));
        // An administrator runs accounts, not approvals: admins cannot approve by signature.
        assert!(!Role::Admin.allows(Permission::ApproveProcessOwners));
        assert!(Role::QualityManager.allows(Permission::ApproveProcessOwners));
        assert!(!Role::ProcessOwner.allows(Permission::ManageProcesses));
        assert!(Role::ProcessOwner.allows(Permission::EditOwnProcesses));
        // A process owner reads their own people's training, not everyone's.
        assert!(Role::ProcessOwner.allows(Permission::ViewTeamTrainingRecords));
        assert!(!Role::ProcessOwner.allows(Permission::ViewTrainingRecords));
        assert!(Role::Auditor.allows(Permission::ViewTrainingRecords));
        for role in [Role::Staff, Role::Executive] {
            assert!(!role.allows(Permission::ViewAuditTrail));
            assert!(!role.allows(Permission::ManageProcesses));
        }
        assert!(Role::Auditor.allows(Permission::ViewAuditTrail));
        assert!(allowed(&[Role::Staff, Role::Auditor], Permission::ViewAuditTrail));
        assert!(!allowed(&[], Permission::ViewOrganisation));
    }

    #[test]
    fn the_password_policy() {
        assert_eq!(check_password("dana", "short-pw"), Err(PASSWORD_TOO_SHORT));
        assert_eq!(check_password("dana", "elevenchars"), Err(PASSWORD_TOO_SHORT));
        assert_eq!(check_password("dana.whitfield", "Dana.Whitfield"), Err(PASSWORD_IS_USERNAME));
        assert_eq!(check_password("dana.whitfield", "my-dana.whitfield-1"), Err(PASSWORD_IS_USERNAME));
        assert_eq!(check_password("dana", "Password1234"), Err(PASSWORD_COMMON));
        assert_eq!(check_password("dana", "123456789012"), Err(PASSWORD_COMMON));
        assert_eq!(check_password("dana", "aaaaaaaaaaaaaa"), Err(PASSWORD_COMMON));
        assert_eq!(check_password("dana", "abcdefghijklm"), Err(PASSWORD_COMMON));
        assert_eq!(check_password("dana", "qwertyuiop123"), Err(PASSWORD_COMMON));
        assert_eq!(check_password("dana", "correct horse battery"), Ok(()));
        assert_eq!(check_password("dana", "Tr1cky-Lathe-Oil"), Ok(()));
        // Length counts characters, not bytes.
        assert_eq!(check_password("dana", "äöüäöüäöüäö"), Err(PASSWORD_TOO_SHORT));
        assert_eq!(check_password("dana", &"x1".repeat(200)), Err(TOO_LONG));
    }

    #[test]
    fn user_input_rules() {
        let ok = UserInput {
            username: " Dana.Whitfield ".into(),
            full_name: "Dana Whitfield".into(),
            email: "dana@example.com".into(),
            roles: vec![Role::Staff, Role::ProcessOwner, Role::Staff],
            password: Some("Tr1cky-Lathe-Oil".into()),
            ..Default::default()
        }
        .normalized();
        assert_eq!(ok.username, "dana.whitfield");
        assert_eq!(ok.roles, vec![Role::ProcessOwner, Role::Staff]);
        assert_eq!(ok.validate(true), Ok(()));
        assert_eq!(ok.validate(false).unwrap_err().get("password"), Some(&["unknown_field".to_string()][..]));
        let bad = UserInput { username: "dana w".into(), email: "dana".into(), ..Default::default() };
        let e = bad.validate(true).unwrap_err();
        assert_eq!(e.get("username"), Some(&["format".to_string()][..]));
        assert_eq!(e.get("email"), Some(&["format".to_string()][..]));
        assert_eq!(e.get("full_name"), Some(&["required".to_string()][..]));
        assert_eq!(e.get("roles"), Some(&["none_chosen".to_string()][..]));
        assert_eq!(e.get("password"), Some(&["required".to_string()][..]));
    }

    #[test]
    fn every_code_has_its_own_text() {
        let codes = [
            PASSWORD_TOO_SHORT,
            PASSWORD_IS_USERNAME,
            PASSWORD_COMMON,
            WRONG_PASSWORD,
            PASSWORD_UNCHANGED,
            IMMUTABLE,
            NONE_CHOSEN,
        ];
        let texts: std::collections::BTreeSet<_> = codes.iter().filter_map(|c| describe(c)).collect();
        assert_eq!(texts.len(), codes.len());
    }
}
