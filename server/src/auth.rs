//! Authentication and authorisation (21 CFR 11.10(d), 11.10(g), 11.300): password hashing,
//! session tokens, and the guard that every API request passes through.
//!
//! The guard looks up the matched route in [`ROUTES`] (method, path → who may call it), then
//! authenticates the session cookie, enforces the idle timeout and absolute lifetime, checks
//! the CSRF token on state-changing requests, and checks the permission against the shared
//! role table. A route missing from [`ROUTES`] is refused (fail closed); a test proves that
//! every documented operation is listed. Record-level rules ("only the owner") are checked by
//! the handlers, which receive the [`CurrentUser`].

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use shared::audit::hex;
use shared::auth::{Permission, Role, SessionInfo, UserId, UserSummary, allowed};
use tokio::sync::Semaphore;

use crate::AppState;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "caliper_session";
/// The session cookie's name over https: the `__Host-` prefix makes the browser refuse it unless
/// it is `Secure`, for the whole site (`Path=/`) and for this host only (no `Domain`), so that
/// neither a plain-http page nor a sibling subdomain can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-caliper_session";
/// The header that carries the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How many seconds ago the person last acted (a key, a click), as the app sends it with every
/// request: only a person's action extends a session's idle time, not the reloads an open page
/// makes by itself. A request without it (a script, `curl`) counts as an action at that moment.
pub const IDLE_HEADER: &str = "x-caliper-idle";

/// When the person behind `headers` last acted: `now`, or earlier by [`IDLE_HEADER`]'s seconds.
pub fn acted_at(headers: &HeaderMap, now: DateTime<Utc>) -> DateTime<Utc> {
    let idle = headers.get(IDLE_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u32>().ok());
    idle.map_or(now, |s| now - chrono::Duration::seconds(i64::from(s)))
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in, the OpenAPI document).
    Public,
    /// Any signed-in user, even one who must change their password first.
    Session,
    /// A signed-in user holding at least one of these permissions.
    Any(&'static [Permission]),
}

use Permission as P;

/// Who reads people's training: everyone's, or (process owners) their own people's; the handlers
/// filter the rows by `routes::training::training_scope`.
const TRAINING_READERS: &[Permission] = &[P::ViewTrainingRecords, P::ViewTeamTrainingRecords];
/// A trainee for their own records, or a reader of training for theirs.
const TRAINEES_AND_READERS: &[Permission] = &[P::CompleteTraining, P::ViewTrainingRecords, P::ViewTeamTrainingRecords];

/// Every API route: (method, path under `/api/v1`, access). The one place that says who may
/// call what; record-level rules come on top, in the handlers.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/openapi.json", Access::Public),
    ("POST", "/session", Access::Public),
    ("GET", "/session", Access::Session),
    ("DELETE", "/session", Access::Session),
    ("POST", "/session/password", Access::Session),
    ("GET", "/sites", Access::Any(&[P::ViewOrganisation])),
    ("POST", "/sites", Access::Any(&[P::ManageOrganisation])),
    ("GET", "/sites/{id}", Access::Any(&[P::ViewOrganisation])),
    ("PUT", "/sites/{id}", Access::Any(&[P::ManageOrganisation])),
    ("POST", "/sites/{id}/retire", Access::Any(&[P::ManageOrganisation])),
    ("GET", "/departments", Access::Any(&[P::ViewOrganisation])),
    ("POST", "/departments", Access::Any(&[P::ManageOrganisation])),
    ("GET", "/departments/{id}", Access::Any(&[P::ViewOrganisation])),
    ("PUT", "/departments/{id}", Access::Any(&[P::ManageOrganisation])),
    ("POST", "/departments/{id}/retire", Access::Any(&[P::ManageOrganisation])),
    ("GET", "/processes", Access::Any(&[P::ViewOrganisation])),
    ("POST", "/processes", Access::Any(&[P::ManageProcesses])),
    ("GET", "/processes/{id}", Access::Any(&[P::ViewOrganisation])),
    // Owners may edit their own processes: the handler checks the record.
    ("PUT", "/processes/{id}", Access::Any(&[P::ManageProcesses, P::EditOwnProcesses])),
    ("POST", "/processes/{id}/retire", Access::Any(&[P::ManageProcesses])),
    ("GET", "/audit", Access::Any(&[P::ViewAuditTrail])),
    ("GET", "/audit/export.csv", Access::Any(&[P::ViewAuditTrail])),
    ("GET", "/audit/verify", Access::Any(&[P::ViewAuditTrail])),
    ("GET", "/risk-matrices", Access::Any(&[P::ViewRisks])),
    ("POST", "/risk-matrices", Access::Any(&[P::ManageRiskMatrices])),
    ("POST", "/risk-matrices/{id}/revisions", Access::Any(&[P::ManageRiskMatrices])),
    ("GET", "/risk-matrix-revisions/{id}", Access::Any(&[P::ViewRisks])),
    ("PUT", "/risk-matrix-revisions/{id}", Access::Any(&[P::ManageRiskMatrices])),
    ("GET", "/risks", Access::Any(&[P::ViewRisks])),
    // Owners may record and edit their own risks: the handler checks the record.
    ("POST", "/risks", Access::Any(&[P::ManageRisks, P::EditOwnRisks])),
    ("GET", "/risks/export.csv", Access::Any(&[P::ViewRisks])),
    ("GET", "/risks/heatmap", Access::Any(&[P::ViewRisks])),
    ("GET", "/risks/{id}", Access::Any(&[P::ViewRisks])),
    ("PUT", "/risks/{id}", Access::Any(&[P::ManageRisks, P::EditOwnRisks])),
    ("GET", "/work", Access::Any(&[P::ViewOrganisation])),
    ("GET", "/fmeas", Access::Any(&[P::ViewFmeas])),
    // Process owners may start and edit FMEAs of their processes: the handlers check the record.
    ("POST", "/fmeas", Access::Any(&[P::ManageFmeas, P::EditOwnFmeas])),
    ("GET", "/fmeas/{id}", Access::Any(&[P::ViewFmeas])),
    ("PUT", "/fmeas/{id}", Access::Any(&[P::ManageFmeas, P::EditOwnFmeas])),
    ("GET", "/fmeas/{id}/worksheet", Access::Any(&[P::ViewFmeas])),
    ("POST", "/fmeas/{id}/rows", Access::Any(&[P::ManageFmeas, P::EditOwnFmeas])),
    ("GET", "/fmeas/{id}/export.csv", Access::Any(&[P::ViewFmeas])),
    ("GET", "/fmeas/{id}/export.xlsx", Access::Any(&[P::ViewFmeas])),
    ("POST", "/fmeas/{id}/import", Access::Any(&[P::ManageFmeas, P::EditOwnFmeas])),
    ("GET", "/fmea-rows/{id}", Access::Any(&[P::ViewFmeas])),
    ("PUT", "/fmea-rows/{id}", Access::Any(&[P::ManageFmeas, P::EditOwnFmeas])),
    ("POST", "/fmea-rows/{id}/retire", Access::Any(&[P::ManageFmeas, P::EditOwnFmeas])),
    ("GET", "/documents", Access::Any(&[P::ViewDocuments])),
    ("POST", "/documents", Access::Any(&[P::ManageDocuments])),
    ("GET", "/documents.csv", Access::Any(&[P::ViewDocuments])),
    ("GET", "/documents/search", Access::Any(&[P::ViewDocuments])),
    ("GET", "/documents/{id}", Access::Any(&[P::ViewDocuments])),
    ("POST", "/documents/{id}/obsolete", Access::Any(&[P::ManageDocuments])),
    // Record-level: the document's owner or a document manager (the handler checks).
    ("POST", "/documents/{id}/periodic-review", Access::Any(&[P::ViewDocuments])),
    ("GET", "/documents/{id}/revisions", Access::Any(&[P::ViewDocuments])),
    // Record-level: the document's owner or a document manager (the handler checks).
    ("POST", "/documents/{id}/revisions", Access::Any(&[P::ViewDocuments])),
    ("GET", "/document-revisions/{id}", Access::Any(&[P::ViewDocuments])),
    // Record-level: the shared workflow decides who may edit, submit, send back and cancel.
    ("PUT", "/document-revisions/{id}", Access::Any(&[P::ViewDocuments])),
    ("POST", "/document-revisions/{id}/move", Access::Any(&[P::ViewDocuments])),
    ("GET", "/document-revisions/{id}/diff", Access::Any(&[P::ViewDocuments])),
    // Attaching is an edit of a draft (its author or owner, checked by the workflow); reading as
    // the revision is read.
    ("GET", "/document-revisions/{id}/file", Access::Any(&[P::ViewDocuments])),
    ("PUT", "/document-revisions/{id}/file", Access::Any(&[P::ViewDocuments])),
    ("GET", "/document-revisions/{id}/html", Access::Any(&[P::ViewDocuments])),
    // Each person's own inbox and settings (the handlers read and change only the caller's).
    ("GET", "/notices", Access::Any(&[P::ViewDocuments])),
    ("GET", "/notices/unread-count", Access::Any(&[P::ViewDocuments])),
    ("POST", "/notices/read-all", Access::Any(&[P::ViewDocuments])),
    ("POST", "/notices/{id}/read", Access::Any(&[P::ViewDocuments])),
    ("GET", "/me/notice-settings", Access::Any(&[P::ViewDocuments])),
    ("PUT", "/me/notice-settings", Access::Any(&[P::ViewDocuments])),
    // The installation's document settings: read by whoever reads documents, changed by an
    // administrator.
    ("GET", "/settings/documents", Access::Any(&[P::ViewDocuments])),
    ("PUT", "/settings/documents", Access::Any(&[P::ManageOrganisation])),
    // Whoever reads training with the team permission (process owners) gets only their people's
    // rows: the handlers filter by routes::training::training_scope.
    ("GET", "/training/requirements", Access::Any(TRAINING_READERS)),
    ("POST", "/training/requirements", Access::Any(&[P::ManageTraining])),
    ("GET", "/training/curriculum", Access::Any(TRAINING_READERS)),
    ("POST", "/training/curriculum", Access::Any(&[P::ManageTraining])),
    ("GET", "/training/my", Access::Any(&[P::CompleteTraining])),
    ("GET", "/training/assignments", Access::Any(TRAINING_READERS)),
    // Record-level: the trainee, or whoever reads their training.
    ("GET", "/training/assignments/{id}", Access::Any(TRAINEES_AND_READERS)),
    // Record-level: only the trainee takes their quiz.
    ("GET", "/training/assignments/{id}/quiz", Access::Any(&[P::CompleteTraining])),
    ("POST", "/training/assignments/{id}/quiz", Access::Any(&[P::CompleteTraining])),
    // Record-level: a qualified trainer (own record current), never the trainee.
    ("POST", "/training/assignments/{id}/sign-off", Access::Any(&[P::CompleteTraining])),
    // Record-level: one's own records unless one reads others' training.
    ("GET", "/training/records", Access::Any(TRAINEES_AND_READERS)),
    ("GET", "/training/matrix", Access::Any(TRAINING_READERS)),
    ("GET", "/training/matrix.csv", Access::Any(TRAINING_READERS)),
    ("GET", "/training/matrix.xlsx", Access::Any(TRAINING_READERS)),
    ("GET", "/training/completion", Access::Any(TRAINING_READERS)),
    ("GET", "/training/trained-on", Access::Any(TRAINING_READERS)),
    ("GET", "/training/documents/{id}", Access::Any(TRAINING_READERS)),
    (
        "GET",
        "/training/exemptions",
        Access::Any(&[P::ViewTrainingRecords, P::ViewTeamTrainingRecords, P::ManageTraining]),
    ),
    ("POST", "/training/exemptions", Access::Any(&[P::ManageTraining])),
    ("POST", "/training/exemptions/{id}/revoke", Access::Any(&[P::ManageTraining])),
    ("GET", "/training/sessions", Access::Any(TRAINING_READERS)),
    // Record-level: a qualified trainer (own record current), never on the list.
    ("POST", "/training/sessions", Access::Any(&[P::CompleteTraining])),
    // Record-level: its trainer, or whoever reads an attendee's training.
    ("GET", "/training/sessions/{id}", Access::Any(TRAINEES_AND_READERS)),
    ("GET", "/nc-categories", Access::Any(&[P::ViewQuality])),
    ("POST", "/nc-categories", Access::Any(&[P::ManageQuality])),
    ("GET", "/ncs", Access::Any(&[P::ViewQuality])),
    ("POST", "/ncs", Access::Any(&[P::ReportQuality])),
    ("GET", "/ncs/pareto", Access::Any(&[P::ViewQuality])),
    ("GET", "/ncs/{id}", Access::Any(&[P::ViewQuality])),
    // Record-level: the person who raised it or the quality manager (the handler checks).
    ("PUT", "/ncs/{id}", Access::Any(&[P::ReportQuality])),
    // Record-level: the shared rules decide who takes which step (403 naming the rule).
    ("POST", "/ncs/{id}/steps", Access::Any(&[P::ReportQuality])),
    ("GET", "/complaints", Access::Any(&[P::ViewQuality])),
    ("POST", "/complaints", Access::Any(&[P::ReportQuality])),
    ("GET", "/complaints/counts", Access::Any(&[P::ViewQuality])),
    ("GET", "/complaints/{id}", Access::Any(&[P::ViewQuality])),
    ("POST", "/complaints/{id}/steps", Access::Any(&[P::ReportQuality])),
    ("GET", "/capas", Access::Any(&[P::ViewQuality])),
    ("POST", "/capas", Access::Any(&[P::ManageQuality])),
    ("GET", "/capas/metrics", Access::Any(&[P::ViewQuality])),
    ("GET", "/capas/{id}", Access::Any(&[P::ViewQuality])),
    // Record-level: the owner, the verifier or the quality manager, as the state machine says.
    ("PUT", "/capas/{id}", Access::Any(&[P::ManageQuality, P::WorkOnCapas])),
    ("POST", "/capas/{id}/steps", Access::Any(&[P::ManageQuality, P::WorkOnCapas])),
    ("POST", "/capas/{id}/actions", Access::Any(&[P::ManageQuality, P::WorkOnCapas])),
    ("POST", "/capas/{id}/actions/{action}/done", Access::Any(&[P::ManageQuality, P::WorkOnCapas])),
    ("POST", "/capas/{id}/actions/{action}/retire", Access::Any(&[P::ManageQuality, P::WorkOnCapas])),
    ("POST", "/capas/{id}/extensions", Access::Any(&[P::ManageQuality, P::WorkOnCapas])),
    ("POST", "/capas/{id}/extensions/{extension}/decision", Access::Any(&[P::ManageQuality])),
    ("POST", "/quality/suggestions", Access::Any(&[P::ReportQuality, P::WorkOnCapas, P::ManageQuality])),
    ("GET", "/quality/model", Access::Any(&[P::ViewQuality])),
    ("POST", "/quality/model", Access::Any(&[P::ManageQuality])),
    ("GET", "/dashboard", Access::Any(&[P::ViewDashboard])),
    ("GET", "/dashboard/tiles/{kpi}", Access::Any(&[P::ViewDashboard])),
    ("GET", "/dashboard/overdue", Access::Any(&[P::ViewDashboard])),
    ("GET", "/dashboard/targets", Access::Any(&[P::ViewDashboard])),
    ("POST", "/dashboard/targets", Access::Any(&[P::ManageMeasurements])),
    ("GET", "/measurements", Access::Any(&[P::ViewDashboard])),
    ("POST", "/measurements", Access::Any(&[P::ManageMeasurements])),
    ("POST", "/measurements/import", Access::Any(&[P::ManageMeasurements])),
    ("GET", "/dashboard/objectives", Access::Any(&[P::ViewDashboard])),
    ("POST", "/dashboard/objectives", Access::Any(&[P::ManageMeasurements])),
    ("PUT", "/dashboard/objectives/{id}", Access::Any(&[P::ManageMeasurements])),
    ("POST", "/dashboard/objectives/{id}/retire", Access::Any(&[P::ManageMeasurements])),
    // Each person's own tiles (the handlers read and change only the caller's).
    ("GET", "/me/dashboard", Access::Any(&[P::ViewDashboard])),
    ("PUT", "/me/dashboard", Access::Any(&[P::ViewDashboard])),
    ("GET", "/users/directory", Access::Any(&[P::ViewOrganisation])),
    ("GET", "/users", Access::Any(&[P::ManageUsers])),
    ("POST", "/users", Access::Any(&[P::ManageUsers])),
    ("GET", "/users/{id}", Access::Any(&[P::ManageUsers])),
    ("PUT", "/users/{id}", Access::Any(&[P::ManageUsers])),
    ("POST", "/users/{id}/deactivate", Access::Any(&[P::ManageUsers])),
    ("POST", "/users/{id}/reset-password", Access::Any(&[P::ManageUsers])),
    // API tokens: an administrator issues one for a person or a service account.
    ("GET", "/users/{id}/tokens", Access::Any(&[P::ManageUsers])),
    ("POST", "/users/{id}/tokens", Access::Any(&[P::ManageUsers])),
    ("POST", "/tokens/{id}/revoke", Access::Any(&[P::ManageUsers])),
    ("GET", "/sessions", Access::Any(&[P::ManageSessions])),
    ("POST", "/sessions/{id}/revoke", Access::Any(&[P::ManageSessions])),
    ("GET", "/security/failed-sign-ins", Access::Any(&[P::ManageSessions])),
    // Who may sign what is decided per record type and meaning (shared::signature::SIGNABLE).
    ("POST", "/signatures", Access::Session),
    ("GET", "/signatures", Access::Any(&[P::ViewOrganisation])),
    // It shows the content signed, of any record: for those who read the whole audit trail.
    ("GET", "/signatures/{id}/verification", Access::Any(&[P::ViewAuditTrail])),
    ("GET", "/events", Access::Any(&[P::ViewOrganisation])),
];

/// The access rule of `method` `path` (a matched route, with or without `/api/v1`): `None`
/// when the route is not listed, `Some(None)` when the path is listed for other methods only.
pub fn access_of(method: &str, path: &str) -> Option<Option<Access>> {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let mut listed = false;
    for (m, p, access) in ROUTES {
        if *p == path {
            if *m == method {
                return Some(Some(*access));
            }
            listed = true;
        }
    }
    listed.then_some(None)
}

/// Settings of sign-in, sessions and passwords.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session ends after this long without a request (11.10(d)).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, whatever happens.
    pub absolute_lifetime: Duration,
    /// How long an account stays locked after [`shared::auth::MAX_FAILED_SIGN_INS`] failures.
    pub lockout: Duration,
    /// Passwords older than this must be changed (`None`: no ageing).
    pub password_max_age: Option<chrono::Duration>,
    /// argon2id memory in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// How long a password check or hash may wait for its turn before the request is
    /// answered 503 with `Retry-After`: a sign-in storm beyond what the machine can hash gets a
    /// clear "try again" instead of a request that hangs for a minute.
    pub hash_wait: Duration,
    /// Mark the cookie `Secure` (always, or when the request came over https).
    pub secure_cookie: bool,
    /// Sign-in attempts a minute from one client address (also the burst).
    pub sign_ins_per_address_per_minute: u32,
    /// Sign-in attempts a minute for one username (also the burst).
    pub sign_ins_per_username_per_minute: u32,
    /// Failed sign-ins from one address on one account within this long after the first share
    /// one audit entry (see `crate::throttle`).
    pub failure_burst: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(15 * 60),
            absolute_lifetime: Duration::from_secs(12 * 3600),
            lockout: Duration::from_secs(15 * 60),
            password_max_age: Some(chrono::Duration::days(180)),
            argon2_memory_kib: 64 * 1024,
            argon2_iterations: 3,
            hash_wait: Duration::from_secs(10),
            secure_cookie: false,
            sign_ins_per_address_per_minute: 30,
            sign_ins_per_username_per_minute: 10,
            failure_burst: Duration::from_secs(60),
        }
    }
}

impl AuthConfig {
    /// Cheap hashing for tests that create many users (the production parameters are
    /// measured by the bench).
    pub fn for_tests() -> Self {
        Self { argon2_memory_kib: 256, argon2_iterations: 1, failure_burst: Duration::from_secs(1), ..Self::default() }
    }
}

/// `Retry-After` of the answer to a password check that found no hashing turn in time
/// ([`AuthConfig::hash_wait`]), in seconds.
const HASH_RETRY_AFTER_SECS: u32 = 5;

/// Hashes and verifies passwords off the async runtime, a bounded number at a time (argon2id
/// is deliberately expensive in memory and time; a burst of sign-ins must not starve other
/// requests or exhaust memory). A request waits at most [`AuthConfig::hash_wait`] for its turn,
/// then is answered 503 with `Retry-After`.
#[derive(Debug, Clone)]
pub struct Passwords {
    config: Arc<AuthConfig>,
    permits: Arc<Semaphore>,
    /// A hash of nothing, verified when the username is unknown so that the answer takes as
    /// long as for a real user (no username probing by timing). Made at first need, off the
    /// runtime, so that the server starts at once.
    dummy: Arc<std::sync::OnceLock<String>>,
}

impl Passwords {
    /// With `config`'s argon2 parameters.
    pub fn new(config: Arc<AuthConfig>) -> Self {
        Self::with_workers(config, std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
    }

    /// With `workers` hashes at a time.
    fn with_workers(config: Arc<AuthConfig>, workers: usize) -> Self {
        Self { config, permits: Arc::new(Semaphore::new(workers)), dummy: Arc::default() }
    }

    /// The settings.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// A hashing turn; 503 when none comes within [`AuthConfig::hash_wait`].
    async fn turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.config.hash_wait, self.permits.acquire()).await {
            Ok(permit) => permit.map_err(|_| ApiError::internal("hashing unavailable")),
            Err(_) => {
                crate::telemetry::password_hashing_busy();
                Err(ApiError::busy("Too many sign-ins at once: try again in a few seconds.", HASH_RETRY_AFTER_SECS))
            }
        }
    }

    /// An argon2id PHC string for `password`.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let _permit = self.turn().await?;
        let (config, password) = (self.config.clone(), password.to_string());
        tokio::task::spawn_blocking(move || hash_now(&config, &password))
            .await
            .map_err(|_| ApiError::internal("hashing failed"))?
            .map_err(|e| ApiError::internal(format!("hashing failed: {e}")))
    }

    /// Whether `password` matches `hash` (or, with no hash, spends the same time and fails).
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
        let _permit = self.turn().await?;
        let known = hash.is_some();
        let hash = hash.map(str::to_string);
        let (password, dummy, config) = (password.to_string(), self.dummy.clone(), self.config.clone());
        let ok = tokio::task::spawn_blocking(move || {
            let hash = hash.unwrap_or_else(|| {
                dummy.get_or_init(|| hash_now(&config, "caliper dummy password").unwrap_or_default()).clone()
            });
            PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        })
        .await
        .map_err(|_| ApiError::internal("hashing failed"))?;
        Ok(ok && known)
    }
}

/// Hashes on the calling thread (the CLI and [`Passwords`] use it).
pub fn hash_now(config: &AuthConfig, password: &str) -> Result<String, String> {
    let params = Params::new(config.argon2_memory_kib, config.argon2_iterations, 1, None).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the operating system's random source is available");
    buf
}

/// A new secret: 256 random bits as hex.
pub fn new_token() -> String {
    hex(&random_bytes::<32>())
}

/// What the database keeps of a session secret.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A session as the guard finds it in the database.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    /// The session's id.
    pub session_id: i64,
    /// The user.
    pub user: UserSummary,
    /// The CSRF token of this session.
    pub csrf_token: String,
    /// Signed in at.
    pub created_at: DateTime<Utc>,
    /// Last request at.
    pub last_seen_at: DateTime<Utc>,
    /// Ends at.
    pub expires_at: DateTime<Utc>,
    /// Ended (signed out, revoked, timed out) at.
    pub ended_at: Option<DateTime<Utc>>,
    /// The user is deactivated.
    pub user_retired: bool,
    /// The user must change the password.
    pub must_change_password: bool,
    /// The password was last set at.
    pub password_changed_at: DateTime<Utc>,
    /// The user accepted the e-signature agreement at.
    pub esign_agreed_at: Option<DateTime<Utc>>,
    /// The session has signed at least once.
    pub signed_in_session: bool,
}

/// The signed-in user of a request, put there by [`guard`].
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The session's id (recorded with every change made in it).
    pub session_id: i64,
    /// Who.
    pub id: UserId,
    /// Sign-in name.
    pub username: String,
    /// Printed name.
    pub full_name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// What the app needs to know about the session.
    pub info: SessionInfo,
    /// The API token the request came with (its id and name), instead of a session; then
    /// `session_id` is 0.
    pub api_token: Option<(i64, String)>,
}

impl CurrentUser {
    /// Whether this user holds `p`.
    pub fn can(&self, p: Permission) -> bool {
        allowed(&self.roles, p)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentUser>().cloned().ok_or_else(not_signed_in)
    }
}

fn not_signed_in() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "Sign in to continue.")
}

/// Records a failed password check (11.300(d)) and counts it towards the lockout: the time the
/// account is locked until, when this failure locked it.
pub async fn record_failure(
    state: &AppState,
    ctx: &crate::storage::AuditContext,
    username: &str,
    user: Option<UserId>,
    reason: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    crate::telemetry::sign_in_failed(reason);
    let lock_until = Utc::now() + chrono::Duration::from_std(state.passwords.config().lockout).unwrap_or_default();
    let audited = crate::throttle::failed_attempt(&state.sign_ins, &state.store, ctx, username, user, reason).await?;
    let failure = crate::storage::trust::SignInFailure { username, user, reason, audited };
    let locked =
        state.store.record_failed_sign_in(ctx, &failure, shared::auth::MAX_FAILED_SIGN_INS, lock_until).await?;
    Ok(locked.then_some(lock_until))
}

/// The outcome of asking the signed-in user for their password again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// The password is right.
    Right,
    /// It is wrong (recorded as a failed attempt); `locked` when that locked the account.
    Wrong {
        /// This failure locked the account.
        locked: bool,
    },
}

/// Checks the signed-in user's password again (to sign, or to change it); a wrong one counts
/// towards the lockout, recorded with `reason`.
pub async fn recheck_password(
    state: &AppState,
    ctx: &crate::storage::AuditContext,
    user: &CurrentUser,
    password: &str,
    reason: &str,
) -> Result<Recheck, ApiError> {
    let credentials = state.store.credentials(&user.username).await?;
    if state.passwords.verify(password, credentials.as_ref().map(|c| c.password_hash.as_str())).await? {
        return Ok(Recheck::Right);
    }
    let locked = record_failure(state, ctx, &user.username, Some(user.id), reason).await?.is_some();
    Ok(Recheck::Wrong { locked })
}

/// The session cookie's value, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let secure =
        headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
            |c| {
                let (name, value) = c.trim().split_once('=')?;
                (name == SECURE_SESSION_COOKIE && !value.is_empty()).then(|| value.to_string())
            },
        );
    secure.or_else(|| {
        headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
            |c| {
                let (name, value) = c.trim().split_once('=')?;
                (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_string())
            },
        )
    })
}

/// Whether the request came over https (directly or through a proxy that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that starts a session (no `Max-Age`: it ends with the browser, and
/// the server enforces the lifetime).
pub fn session_set_cookie(token: &str, secure: bool) -> String {
    if secure {
        format!("{SECURE_SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Secure")
    } else {
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
    }
}

/// The `Set-Cookie` value that removes it.
pub fn session_clear_cookie(secure: bool) -> String {
    if secure {
        format!("{SECURE_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure")
    } else {
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }
}

/// Builds what the app sees of a session.
pub fn session_info(s: &SessionAuth, config: &AuthConfig, now: DateTime<Utc>) -> SessionInfo {
    SessionInfo {
        session_id: s.session_id,
        user: s.user.clone(),
        csrf_token: s.csrf_token.clone(),
        idle_timeout_secs: config.idle_timeout.as_secs() as i64,
        expires_at: s.expires_at,
        must_change_password: s.must_change_password || password_expired(config, s.password_changed_at, now),
        esign_agreed: s.esign_agreed_at.is_some(),
        signed_in_session: s.signed_in_session,
    }
}

/// Whether a password set at `changed_at` is past the configured age.
pub fn password_expired(config: &AuthConfig, changed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    config.password_max_age.is_some_and(|age| changed_at + age < now)
}

/// How often a session's `last_seen_at` is written (a write per request would serialise every
/// read on SQLite); the idle timeout is enforced to within this.
fn touch_interval(config: &AuthConfig) -> chrono::Duration {
    chrono::Duration::from_std(config.idle_timeout / 20).unwrap_or_default().min(chrono::Duration::seconds(30))
}

/// The guard on every `/api/v1` route (see the module docs).
pub async fn guard(State(state): State<AppState>, matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    match check(&state, matched.as_ref().map(MatchedPath::as_str), req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, path: Option<&str>, mut req: Request) -> Result<Request, ApiError> {
    let method = req.method().clone();
    let access = match path.and_then(|p| access_of(method.as_str(), p)) {
        Some(Some(access)) => access,
        Some(None) => {
            return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "This endpoint does not accept that method."));
        }
        None => {
            tracing::error!(?path, %method, "route without an access rule refused");
            return Err(ApiError::new(StatusCode::FORBIDDEN, "This endpoint has no access rule."));
        }
    };
    if access == Access::Public {
        return Ok(req);
    }
    if let Some(secret) = bearer_token(req.headers()) {
        return check_token(state, access, &secret, req).await;
    }
    let token = session_cookie(req.headers()).ok_or_else(not_signed_in)?;
    let session = state.store.session_by_token(&token_hash(&token)).await?;
    let Some(session) = session.filter(|s| s.ended_at.is_none() && !s.user_retired) else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Your session has ended; sign in again."));
    };
    let config = state.passwords.config();
    let now = Utc::now();
    let idle = chrono::Duration::from_std(config.idle_timeout).unwrap_or_default();
    if now >= session.expires_at || now - session.last_seen_at > idle {
        let (reason, message) = if now >= session.expires_at {
            ("session lifetime reached", "Your session reached its maximum length; sign in again.")
        } else {
            ("idle timeout", "Your session ended after a period without activity; sign in again.")
        };
        let ctx = crate::storage::AuditContext {
            actor_id: Some(session.user.id.0),
            actor_name: session.user.full_name.clone(),
            source: crate::routes::audit::source_of(&req, Some(session.session_id)),
        };
        state.store.end_session(&ctx, session.session_id, reason, shared::audit::AuditAction::SignOut).await?;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, message));
    }
    if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !same_secret(sent, &session.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Missing or wrong CSRF token: send the session's token in the X-CSRF-Token header.",
            ));
        }
    }
    let info = session_info(&session, config, now);
    if let Access::Any(permissions) = access {
        if info.must_change_password {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "Change your password before continuing."));
        }
        if !permissions.iter().any(|p| allowed(&session.user.roles, *p)) {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "You do not have permission to do this."));
        }
    }
    // Only a person's action extends the session: not the live-events stream (its browser
    // reconnects by itself), and from the moment the app says the person last acted.
    let acted = acted_at(req.headers(), now);
    let events = path.is_some_and(|p| p.ends_with("/events"));
    if !events && acted - session.last_seen_at > touch_interval(config) {
        state.store.touch_session(session.session_id, acted).await?;
    }
    req.extensions_mut().insert(CurrentUser {
        session_id: session.session_id,
        id: session.user.id,
        username: session.user.username.clone(),
        full_name: session.user.full_name.clone(),
        roles: session.user.roles.clone(),
        info,
        api_token: None,
    });
    Ok(req)
}

/// The secret of an `Authorization: Bearer cal_…` header, if sent.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, secret) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim().to_string()).filter(|s| !s.is_empty())
}

/// The prefix of every API token's secret (so that a leaked one is recognisable in a log or a
/// repository scan).
pub const API_TOKEN_PREFIX: &str = "cal_";

/// A new API token's secret: the prefix and 256 random bits from the operating system's CSPRNG,
/// as hex.
pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", new_token())
}

/// How often a token's `last_used_at` is written (a write per request would serialise a
/// script's reads on SQLite).
const TOKEN_TOUCH_SECS: i64 = 60;

/// Authenticates a request that carries an API token instead of a session cookie: the token's
/// user with that user's permissions, through the same route table. No CSRF token: CSRF abuses
/// the cookies a browser sends by itself, and no browser sends an `Authorization` header by
/// itself. A token is no session: the routes that need one (signatures, password change) are
/// refused.
async fn check_token(state: &AppState, access: Access, secret: &str, mut req: Request) -> Result<Request, ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "This API token is not valid (unknown, revoked, expired, or its user is deactivated).",
        )
    };
    let found = state.store.api_token_by_hash(&token_hash(secret)).await?.ok_or_else(refused)?;
    let now = Utc::now();
    let today = now.date_naive();
    if found.token.revoked_at.is_some() || found.user_retired || found.token.expires_on.is_some_and(|d| d < today) {
        return Err(refused());
    }
    match access {
        Access::Public => {}
        Access::Session => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "This needs a signed-in session (password re-entry or a session of your own); an API token cannot do it.",
            ));
        }
        Access::Any(permissions) => {
            if !permissions.iter().any(|p| allowed(&found.user.roles, *p)) {
                return Err(ApiError::new(StatusCode::FORBIDDEN, "You do not have permission to do this."));
            }
        }
    }
    if found.token.last_used_at.is_none_or(|t| now - t >= chrono::Duration::seconds(TOKEN_TOUCH_SECS)) {
        state.store.touch_api_token(found.token.id, now).await?;
    }
    let expires_at = found
        .token
        .expires_on
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc());
    let info = SessionInfo {
        session_id: 0,
        user: found.user.clone(),
        csrf_token: String::new(),
        idle_timeout_secs: 0,
        expires_at,
        must_change_password: false,
        esign_agreed: false,
        signed_in_session: false,
    };
    req.extensions_mut().insert(CurrentUser {
        session_id: 0,
        id: found.user.id,
        username: found.user.username.clone(),
        full_name: found.user.full_name.clone(),
        roles: found.user.roles.clone(),
        info,
        api_token: Some((found.token.id, found.token.name.clone())),
    });
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_listed_once_and_found_with_or_without_the_prefix() {
        for (i, (m, p, _)) in ROUTES.iter().enumerate() {
            assert!(!ROUTES[..i].iter().any(|(m2, p2, _)| m2 == m && p2 == p), "{m} {p} listed twice");
        }
        assert_eq!(access_of("GET", "/api/v1/audit"), Some(Some(Access::Any(&[P::ViewAuditTrail]))));
        assert_eq!(access_of("POST", "/session"), Some(Some(Access::Public)));
        assert_eq!(access_of("PATCH", "/api/v1/sites/{id}"), Some(None));
        assert_eq!(access_of("GET", "/api/v1/nowhere"), None);
    }

    /// A check that finds no hashing turn within the wait is answered 503 with `Retry-After`;
    /// with time to wait, the same checks pass.
    #[tokio::test]
    async fn a_password_check_that_waits_too_long_for_its_turn_is_answered_busy() {
        // One hash at a time, of 16 MiB (tens of ms each), a wait of 1 ms.
        let slow = AuthConfig { argon2_memory_kib: 16 * 1024, argon2_iterations: 2, ..AuthConfig::default() };
        let hash = hash_now(&slow, "a long passphrase").unwrap();
        let config = Arc::new(AuthConfig { hash_wait: Duration::from_millis(1), ..slow });
        let passwords = Passwords::with_workers(config.clone(), 1);
        let checks = (0..4).map(|_| passwords.verify("a long passphrase", Some(&hash)));
        let answers = futures_util::future::join_all(checks).await;
        let busy: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
        assert!(!busy.is_empty(), "four checks at once, one at a time, with a 1 ms wait: some must be refused");
        for e in busy {
            assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        }
        let res = answers.into_iter().find_map(Result::err).unwrap().into_response();
        assert_eq!(res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("5"));
        // With time to wait, every check is answered (and a wrong password told apart).
        let patient = Passwords::with_workers(
            Arc::new(AuthConfig { hash_wait: Duration::from_secs(30), ..(*config).clone() }),
            1,
        );
        assert!(patient.verify("a long passphrase", Some(&hash)).await.unwrap());
        assert!(!patient.verify("another passphrase", Some(&hash)).await.unwrap());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
        assert_eq!(token_hash("x").len(), 64);
        assert_ne!(new_token(), new_token());
        let api = new_api_token();
        assert!(api.starts_with("cal_") && api.len() == 4 + 64, "{api}");
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer cal_abc".parse().unwrap());
        assert_eq!(bearer_token(&h).as_deref(), Some("cal_abc"));
        h.insert(header::AUTHORIZATION, "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, "bearer   ".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn cookies_are_read_from_any_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; caliper_session=tok; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h).as_deref(), Some("tok"));
        assert!(
            session_set_cookie("t", true)
                .starts_with("__Host-caliper_session=t; Path=/; HttpOnly; SameSite=Strict; Secure")
        );
        assert!(!session_set_cookie("t", false).contains("Secure"));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let config = AuthConfig::for_tests();
        let h = hash_now(&config, "correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse battery", &parsed).is_err());
    }
}
