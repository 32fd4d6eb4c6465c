//! Typed configuration from flags and environment, validated before anything starts.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};

/// `caliper`: Caliper's server and its maintenance commands.
#[derive(Debug, Parser)]
#[command(
    name = "caliper",
    version,
    about = "Caliper, an open-source quality management system: API server and tools."
)]
pub struct Cli {
    /// Database: `sqlite://PATH` (the file is created when missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/caliper.db", global = true)]
    pub database_url: DatabaseUrl,

    /// Most database connections held open.
    #[arg(long, env = "CALIPER_DB_MAX_CONNECTIONS", default_value_t = 16, global = true,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,

    /// Log filter, e.g. `info` or `server=debug,sqlx=warn` (tracing's EnvFilter syntax).
    #[arg(long, env = "CALIPER_LOG", default_value = "info", global = true, value_parser = parse_log_filter)]
    pub log: String,

    /// Log lines as text (for people) or JSON, one object per line (for a log collector).
    #[arg(long, env = "CALIPER_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations, then serve the API and the app.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Apply migrations, then add the demo organisation (sites, departments, processes) and
    /// one demo user per role, all with the password `Caliper-Demo-2026`. Safe to run again:
    /// records that exist are left alone. Never on a production database.
    SeedDemo,
    /// Add generated risks to the register (for benchmarks and load tests), scored on the
    /// first effective risk matrix, across the existing processes. Run `seed-demo` first.
    SeedRisks(SeedRisksArgs),
    /// Add a PFMEA of generated failure chains (for benchmarks and the end-to-end test) and
    /// print its id. Run `seed-demo` first.
    SeedFmea(SeedFmeaArgs),
    /// Add generated people (staff across the existing departments) and training requirements
    /// with curricula and a realistic mix of history (completed, expired, overdue, assigned), for
    /// benchmarks. Run `seed-demo` first.
    SeedTraining(SeedTrainingArgs),
    /// Add closed nonconformances and CAPAs of history (drawn from the demo texts with other
    /// dates), for benchmarks; run `seed-demo` first.
    SeedQuality(SeedQualityArgs),
    /// Add generated documents in force (about 2,000 words each), for benchmarks; run
    /// `seed-demo` first.
    SeedDocuments(SeedDocumentsArgs),
    /// Recompute the audit trail's hash chain. Exit 0 when intact; otherwise exit 2 and name
    /// the first broken entry and why. With checkpoints (`--checkpoints FILE`, `--expect-head
    /// SEQ:HASH`), also exit 2 when one of them is no longer in the trail (it was truncated or
    /// rewritten).
    VerifyAudit(VerifyAuditArgs),
    /// Re-verify every electronic signature: the content kept with it hashes to its hash, the
    /// audit trail's signing entry agrees (signer, meaning, hash), and a record still at the
    /// signed version hashes the same now. Prints one line per signature that is not valid or
    /// superseded, then the counts. Exit 0 when none is broken; otherwise exit 2.
    VerifySignatures,
    /// Write the audit trail's head (SEQ:HASH) down outside the database: to the log, standard
    /// output and the checkpoint file. The server does it every hour.
    Checkpoint(CheckpointArgs),
    /// Copy the database to FILE while the server runs (SQLite: `VACUUM INTO`; PostgreSQL:
    /// `pg_dump`), after checking its audit chain, and write FILE.manifest.json beside it
    /// (schema version, record counts, the audit head). A damaged chain is refused, naming the
    /// entry.
    Backup(BackupArgs),
    /// Restore a backup made by `caliper backup` into the database, then verify that its audit
    /// chain ends on the manifest's head and its counts match. A database that holds tables is
    /// replaced only with `--force` (stop the server first).
    Restore(RestoreArgs),
    /// Create a user (e.g. the first administrator). The password is read from the first line
    /// of standard input and must meet the policy (12+ characters, not the username, not a
    /// common password).
    CreateUser(CreateUserArgs),
    /// Set a user's password (read from the first line of standard input) and unlock the
    /// account.
    ResetPassword(ResetPasswordArgs),
}

/// Options of `caliper verify-audit`.
#[derive(Debug, Clone, Args)]
pub struct VerifyAuditArgs {
    /// Check every checkpoint in this file (as `caliper checkpoint` and the server write them).
    #[arg(long, value_name = "FILE")]
    pub checkpoints: Option<PathBuf>,
    /// Check that the entry at SEQ still has HASH (a head noted elsewhere); repeatable.
    #[arg(long, value_name = "SEQ:HASH", value_parser = crate::checkpoint::Checkpoint::parse)]
    pub expect_head: Vec<crate::checkpoint::Checkpoint>,
}

/// Options of `caliper checkpoint`.
#[derive(Debug, Clone, Args)]
pub struct CheckpointArgs {
    /// The checkpoint file to append to (default: beside a SQLite database,
    /// `<database>.checkpoints`; for PostgreSQL, standard output and the log only).
    #[arg(long, env = "CALIPER_CHECKPOINT_FILE", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Options of `caliper backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The backup file to write (its manifest goes to FILE.manifest.json).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// Folder of PostgreSQL's client tools (`pg_dump`, `pg_restore`) when they are not on the
    /// PATH (Debian's /usr/lib/postgresql/N/bin are searched too).
    #[arg(long, env = "CALIPER_PG_BIN", value_name = "DIR")]
    pub pg_bin: Option<PathBuf>,
}

/// Options of `caliper restore`.
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup file (with FILE.manifest.json beside it).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Replace a database that already holds tables (stop every server on it first). A SQLite
    /// file replaced is kept beside it as `…replaced-<time>`.
    #[arg(long)]
    pub force: bool,
    /// Folder of PostgreSQL's client tools, as for `backup`.
    #[arg(long, env = "CALIPER_PG_BIN", value_name = "DIR")]
    pub pg_bin: Option<PathBuf>,
}

/// Options of `caliper seed-risks`.
#[derive(Debug, Clone, Args)]
pub struct SeedRisksArgs {
    /// How many risks to add.
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
}

/// Options of `caliper seed-fmea`.
#[derive(Debug, Clone, Args)]
pub struct SeedFmeaArgs {
    /// How many rows (failure chains).
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,
}

/// Options of `caliper seed-training`.
#[derive(Debug, Clone, Args)]
pub struct SeedTrainingArgs {
    /// How many people.
    #[arg(long, default_value_t = 2_000)]
    pub people: usize,
    /// How many requirements.
    #[arg(long, default_value_t = 200)]
    pub requirements: usize,
}

/// Options of `caliper seed-documents`.
#[derive(Debug, Clone, Args)]
pub struct SeedDocumentsArgs {
    /// How many documents.
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
}

/// Options of `caliper seed-quality`.
#[derive(Debug, Clone, Args)]
pub struct SeedQualityArgs {
    /// How many closed nonconformances.
    #[arg(long, default_value_t = 100_000)]
    pub ncs: usize,
    /// How many closed CAPAs.
    #[arg(long, default_value_t = 10_000)]
    pub capas: usize,
}

/// Options of `caliper create-user`.
#[derive(Debug, Clone, Args)]
pub struct CreateUserArgs {
    /// Sign-in name (letters, digits, `.`, `-`, `_`); never reused.
    #[arg(long)]
    pub username: String,
    /// Printed name, shown with every change and signature.
    #[arg(long)]
    pub full_name: String,
    /// E-mail address.
    #[arg(long)]
    pub email: String,
    /// A role; repeat for several: admin, quality_manager, process_owner, auditor, staff,
    /// executive.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<shared::auth::Role>,
    /// The user must choose a new password at first sign-in.
    #[arg(long)]
    pub must_change_password: bool,
    /// How the password is hashed (as `serve` is configured).
    #[command(flatten)]
    pub hashing: HashArgs,
}

/// Options of `caliper reset-password`.
#[derive(Debug, Clone, Args)]
pub struct ResetPasswordArgs {
    /// Whose password.
    #[arg(long)]
    pub username: String,
    /// The user must choose a new password at the next sign-in.
    #[arg(long)]
    pub must_change_password: bool,
    /// How the password is hashed (as `serve` is configured).
    #[command(flatten)]
    pub hashing: HashArgs,
}

fn parse_role(s: &str) -> Result<shared::auth::Role, String> {
    shared::auth::Role::parse(s).ok_or_else(|| {
        let all: Vec<_> = shared::auth::Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role `{s}`; one of: {}", all.join(", "))
    })
}

/// How passwords are hashed: for the server, and for the commands that set a password
/// (`create-user`, `reset-password`), so that an operator's settings apply to both.
#[derive(Debug, Clone, Args)]
pub struct HashArgs {
    /// argon2id memory per hash, in KiB.
    #[arg(long, env = "CALIPER_ARGON2_MEMORY_KIB", default_value_t = 65536,
          value_parser = clap::value_parser!(u32).range(8192..=1048576))]
    pub argon2_memory_kib: u32,
    /// argon2id passes per hash.
    #[arg(long, env = "CALIPER_ARGON2_ITERATIONS", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub argon2_iterations: u32,
}

impl HashArgs {
    /// The default settings with these hashing parameters (for the commands).
    pub fn config(&self) -> crate::auth::AuthConfig {
        crate::auth::AuthConfig {
            argon2_memory_kib: self.argon2_memory_kib,
            argon2_iterations: self.argon2_iterations,
            ..crate::auth::AuthConfig::default()
        }
    }
}

/// Sign-in, session and password settings (21 CFR 11.10(d), 11.300).
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// Minutes without activity after which a session ends.
    #[arg(long, env = "CALIPER_IDLE_TIMEOUT_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub idle_timeout_minutes: u64,
    /// Hours after sign-in after which a session ends whatever happens.
    #[arg(long, env = "CALIPER_SESSION_LIFETIME_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u64).range(1..=168))]
    pub session_lifetime_hours: u64,
    /// Minutes an account stays locked after 5 failed sign-ins in a row.
    #[arg(long, env = "CALIPER_LOCKOUT_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=10080))]
    pub lockout_minutes: u64,
    /// Days after which a password must be changed (0: no ageing).
    #[arg(long, env = "CALIPER_PASSWORD_MAX_AGE_DAYS", default_value_t = 180)]
    pub password_max_age_days: u32,
    /// How new passwords are hashed.
    #[command(flatten)]
    pub hashing: HashArgs,
    /// Always mark the session cookie `Secure` (it is anyway when a proxy sends
    /// `X-Forwarded-Proto: https`).
    #[arg(long, env = "CALIPER_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Sign-in attempts a minute from one client address (also the burst); more get 429.
    #[arg(long, env = "CALIPER_SIGN_INS_PER_ADDRESS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub sign_ins_per_address: u32,
    /// Sign-in attempts a minute for one username (also the burst); more get 429.
    #[arg(long, env = "CALIPER_SIGN_INS_PER_USERNAME", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub sign_ins_per_username: u32,
    /// Seconds after a failed sign-in from an address on an account during which further
    /// failures from there are counted into one audit entry (written when they are over).
    #[arg(long, env = "CALIPER_SIGN_IN_BURST_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub sign_in_burst_seconds: u64,
}

impl AuthArgs {
    /// The settings these options describe.
    pub fn config(&self) -> crate::auth::AuthConfig {
        use std::time::Duration;
        crate::auth::AuthConfig {
            idle_timeout: Duration::from_secs(self.idle_timeout_minutes * 60),
            absolute_lifetime: Duration::from_secs(self.session_lifetime_hours * 3600),
            lockout: Duration::from_secs(self.lockout_minutes * 60),
            password_max_age: (self.password_max_age_days > 0)
                .then(|| chrono::Duration::days(i64::from(self.password_max_age_days))),
            argon2_memory_kib: self.hashing.argon2_memory_kib,
            argon2_iterations: self.hashing.argon2_iterations,
            secure_cookie: self.secure_cookies,
            sign_ins_per_address_per_minute: self.sign_ins_per_address,
            sign_ins_per_username_per_minute: self.sign_ins_per_username,
            failure_burst: Duration::from_secs(self.sign_in_burst_seconds),
            // Not an option: the wait for a hashing turn (10 s).
            ..crate::auth::AuthConfig::default()
        }
    }
}

/// Options of `caliper serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CALIPER_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Folder holding the built app (`app/dist`, from `cargo xtask build-app`); served with an
    /// SPA fallback to index.html.
    #[arg(long, env = "CALIPER_STATIC_DIR", default_value = "app/dist")]
    pub static_dir: PathBuf,

    /// Sign-in, session and password settings.
    #[command(flatten)]
    pub auth: AuthArgs,

    /// Where the server appends an audit checkpoint every hour (default: beside a SQLite
    /// database, `<database>.checkpoints`; for PostgreSQL, the log only unless this is set).
    #[arg(long, env = "CALIPER_CHECKPOINT_FILE", value_name = "FILE")]
    pub checkpoint_file: Option<PathBuf>,

    /// Serve Prometheus metrics at /metrics to requests bearing `Authorization: Bearer TOKEN`.
    #[arg(long, env = "CALIPER_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Serve Prometheus metrics at /metrics to connections from these addresses (comma-separated,
    /// e.g. `127.0.0.1,::1`). Not a load balancer's address: everyone behind it would be let in.
    #[arg(long, env = "CALIPER_METRICS_ALLOW", value_name = "IP,…", value_delimiter = ',')]
    pub metrics_allow: Vec<std::net::IpAddr>,

    /// The reverse proxies (load balancers) in front of Caliper, comma-separated: only from
    /// these does `X-Forwarded-For` name the client (in the audit trail and for the sign-in
    /// limits) and `X-Forwarded-Proto: https` mark the cookie `Secure`. From anyone else those
    /// headers are dropped.
    #[arg(long, env = "CALIPER_TRUSTED_PROXIES", value_name = "IP,…", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
}

impl ServeArgs {
    /// Who may read /metrics.
    pub fn metrics_access(&self) -> crate::telemetry::MetricsAccess {
        crate::telemetry::MetricsAccess {
            token: self.metrics_token.clone().filter(|t| !t.trim().is_empty()),
            allow: self.metrics_allow.clone(),
        }
    }
}

fn parse_log_filter(s: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(s).map(|_| s.to_string()).map_err(|e| e.to_string())
}

/// A database URL. Its `Debug` and `Display` hide the password, so it can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// True for `postgres://` and `postgresql://`.
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    /// The SQLite file this URL names, if it is a file-backed SQLite URL.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let rest = self.0.strip_prefix("sqlite://").or_else(|| self.0.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn redacted(&self) -> String {
        // scheme://user:password@host… → scheme://user:***@host…
        if let Some((scheme, rest)) = self.0.split_once("://")
            && let Some((userinfo, host)) = rest.split_once('@')
            && let Some((user, _password)) = userinfo.split_once(':')
        {
            return format!("{scheme}://{user}:***@{host}");
        }
        self.0.clone()
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(Self(s.to_string()))
        } else {
            Err("expected sqlite://PATH or postgres://USER:PASSWORD@HOST/DB".into())
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_debug_or_display() {
        let url: DatabaseUrl = "postgres://caliper:s3cret@db.local:5432/qms".parse().unwrap();
        assert!(url.is_postgres());
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.to_string(), "postgres://caliper:***@db.local:5432/qms");
        assert!(url.expose().contains("s3cret"));
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let url: DatabaseUrl = "sqlite://data/caliper.db?mode=rwc".parse().unwrap();
        assert_eq!(url.sqlite_file(), Some(PathBuf::from("data/caliper.db")));
        assert!(!url.is_postgres());
        let mem: DatabaseUrl = "sqlite::memory:".parse().unwrap();
        assert_eq!(mem.sqlite_file(), None);
    }

    #[test]
    fn other_schemes_are_refused_at_start() {
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
        assert!(Cli::try_parse_from(["caliper", "--database-url", "mysql://x", "migrate"]).is_err());
        assert!(Cli::try_parse_from(["caliper", "--log", "info,[", "migrate"]).is_err());
        assert!(Cli::try_parse_from(["caliper", "serve", "--bind", "not-an-address"]).is_err());
    }

    #[test]
    fn the_cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
