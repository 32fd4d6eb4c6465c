//! The trust core's storage: users, sessions, failed sign-ins and electronic signatures. The
//! trait and the backend-independent rows; the queries are in `queries/trust.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::audit::AuditAction;
use shared::auth::{FailedSignIn, Role, SessionRecord, User, UserId, UserInput, UserSummary};
use shared::signature::{SignInput, Signature, SignatureCheck};

use super::{AuditContext, Change, StoreResult};
use crate::auth::SessionAuth;

/// What sign-in needs to know about a username.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The user.
    pub user: UserSummary,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Deactivated.
    pub retired: bool,
    /// Locked until then.
    pub locked_until: Option<DateTime<Utc>>,
}

/// A failed sign-in attempt.
#[derive(Debug, Clone, Copy)]
pub struct SignInFailure<'a> {
    /// The username as typed (normalised).
    pub username: &'a str,
    /// Its account, when there is one.
    pub user: Option<UserId>,
    /// Why it failed.
    pub reason: &'a str,
    /// Whether it gets an audit entry of its own.
    pub audited: bool,
}

/// The outcome of a signature request.
#[derive(Debug)]
pub enum SignOutcome {
    /// Signed.
    Signed(Signature),
    /// The record has changed since the version the signer saw: here it is now (HTTP 409).
    Stale(serde_json::Value),
    /// No such record, or its kind cannot be signed (HTTP 404).
    NotFound,
}

/// Where each signable kind of record lives: (record type, table, key column, the column a
/// signature's version binds). With `record_json` in `queries/trust.rs`, the registry a new
/// signable kind is added to.
pub(super) const SIGNED_TABLES: &[(&str, &str, &str, &str)] = &[
    ("process", "processes", "process_id", "version"),
    ("risk_matrix_revision", "risk_matrix_revisions", "revision_id", "version"),
    ("risk", "risks", "risk_id", "version"),
    // A baseline binds the whole worksheet: its content version moves with every row change.
    ("fmea", "fmeas", "fmea_id", "content_version"),
    // A signature binds a revision's content: a status change keeps it, an edit voids it.
    ("document_revision", "document_revisions", "revision_id", "content_version"),
    // An approval binds a CAPA's plan: a state change keeps it, a change of the plan voids it.
    ("capa", "capas", "capa_id", "plan_version"),
    // A periodic review ("reviewed") binds the document as it was reviewed.
    ("document", "documents", "document_id", "version"),
];

/// Roles as stored: comma-separated names.
pub(super) fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// Roles as read back (unknown names are ignored: they grant nothing).
pub(super) fn parse_roles(s: &str) -> Vec<Role> {
    s.split(',').filter_map(|r| Role::parse(r.trim())).collect()
}

/// Users, sessions, signatures. Part of [`super::Store`].
#[async_trait]
pub trait TrustStore: Send + Sync + 'static {
    /// Users, by username; deactivated ones only when asked.
    async fn list_users(&self, include_retired: bool) -> StoreResult<Vec<User>>;
    /// Active users, by printed name, for pickers.
    async fn user_directory(&self) -> StoreResult<Vec<UserSummary>>;
    /// One user.
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// Creates a user from validated, normalised input with an already hashed password.
    async fn create_user(
        &self,
        ctx: &AuditContext,
        input: &UserInput,
        password_hash: &str,
        must_change_password: bool,
    ) -> StoreResult<User>;
    /// Updates a user (not the username) if still at `version`.
    async fn update_user(
        &self,
        ctx: &AuditContext,
        id: UserId,
        version: i64,
        input: &UserInput,
    ) -> StoreResult<Change<User>>;
    /// Deactivates a user if still at `version`, ending their sessions.
    async fn deactivate_user(
        &self,
        ctx: &AuditContext,
        id: UserId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<User>>;
    /// Sets a new password hash (own change or admin reset), clearing any lock; a reset also
    /// ends the user's sessions.
    async fn set_password(
        &self,
        ctx: &AuditContext,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
        action: AuditAction,
    ) -> StoreResult<Option<User>>;
    /// The credentials of `username` (lower case), if it exists.
    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>>;
    /// Records a failed sign-in (11.300(d)). For a known user, counts it and locks the account
    /// until `lock_until` when this makes `max_failures` in a row; true when it locked it. The
    /// attempt gets its own audit entry only when `failure.audited` (the first of a burst; the
    /// rest are counted into one entry by [`TrustStore::record_failed_burst`]); a lock always
    /// gets one.
    async fn record_failed_sign_in(
        &self,
        ctx: &AuditContext,
        failure: &SignInFailure<'_>,
        max_failures: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// One audit entry for the further failed sign-ins of a burst (same client address, same
    /// account): how many, the first and last time, the usernames tried and why they failed.
    async fn record_failed_burst(
        &self,
        ctx: &AuditContext,
        user: Option<UserId>,
        changes: shared::audit::Changes,
        reason: &str,
    ) -> StoreResult<()>;
    /// Starts a session after a successful sign-in (resets the failure count); its id.
    async fn create_session(
        &self,
        ctx: &AuditContext,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// The session whose secret hashes to `token_hash`.
    async fn session_by_token(&self, token_hash: &str) -> StoreResult<Option<SessionAuth>>;
    /// Notes activity on a session.
    async fn touch_session(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()>;
    /// Ends a session (sign-out, revocation, timeout); false when it had already ended.
    async fn end_session(&self, ctx: &AuditContext, id: i64, reason: &str, action: AuditAction) -> StoreResult<bool>;
    /// Sessions that have not ended, expired, or been idle since `idle_since`.
    async fn list_sessions(&self, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> StoreResult<Vec<SessionRecord>>;
    /// The latest failed sign-ins, newest first.
    async fn failed_sign_ins(&self, limit: i64) -> StoreResult<Vec<FailedSignIn>>;
    /// Signs the record version named by `input` as `signer` (whose password has been
    /// checked), recording the agreement first when `accept_agreement`.
    async fn sign(
        &self,
        ctx: &AuditContext,
        signer: UserId,
        signer_name: &str,
        input: &SignInput,
        accept_agreement: bool,
    ) -> StoreResult<SignOutcome>;
    /// The signatures of a record (or, without `record_id`, of every record of the type),
    /// newest first, each marked superseded when its record has changed since.
    async fn list_signatures(&self, record_type: &str, record_id: Option<i64>) -> StoreResult<Vec<Signature>>;
    /// Re-verifies the signature `id`, or every signature (oldest first): its kept content
    /// against its hash, its entry in the audit trail, and its record as it is now.
    async fn verify_signatures(&self, id: Option<i64>) -> StoreResult<Vec<SignatureCheck>>;
}
