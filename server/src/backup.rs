//! `caliper backup` and `caliper restore`: a consistent copy of the database taken while the
//! server runs, with a manifest that says what it holds, and a restore that proves the copy
//! came back whole (its audit chain verifies and ends at the manifest's head).
//!
//! A backup is two files: the copy (`FILE`) and its manifest (`FILE.manifest.json`: when,
//! which backend, schema version, record counts per table, the audit trail's length and head
//! hash, and the copy's size and SHA-256).
//! - **SQLite**: `VACUUM INTO` writes the copy from one read transaction, so it is consistent
//!   while writers carry on (WAL lets them). The copy's own chain is then verified, read only:
//!   a damaged chain is refused, naming the entry, and no backup is left behind.
//! - **PostgreSQL**: `pg_dump --format=custom` reads a snapshot this command exports from a
//!   `repeatable read` transaction, in which the counts and the head are read too; the live
//!   chain is then verified up to that head.
//!
//! A restore checks the copy against its manifest (size, SHA-256), refuses to replace a
//! database that holds tables unless `--force` is given, restores, verifies the chain and
//! compares its length, head and counts with the manifest. On SQLite the copy is verified
//! before it replaces anything, and a database it replaces is kept beside it
//! (`…replaced-<time>`), never deleted.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::{Connection as _, Executor as _};

use crate::config::DatabaseUrl;
use crate::storage::{PostgresStore, SqliteStore, StoreError};

/// What a backup file holds, written beside it as `FILE.manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The Caliper version that took it.
    pub caliper_version: String,
    /// When the copy was taken (UTC).
    pub taken_at: DateTime<Utc>,
    /// `sqlite` or `postgres`: what the file is (a SQLite database, or a `pg_dump` archive).
    pub backend: String,
    /// The newest migration applied to the copied database.
    pub schema_version: i64,
    /// How many migrations were applied.
    pub migrations: i64,
    /// Rows per table.
    pub counts: BTreeMap<String, i64>,
    /// Audit entries in the copy.
    pub audit_entries: i64,
    /// The position of the newest audit entry (0 when empty).
    pub audit_head_seq: i64,
    /// The newest audit entry's hash, which a restore's chain check must end on.
    pub audit_head_hash: Option<String>,
    /// The copy's file name (beside the manifest).
    pub file: String,
    /// The copy's size in bytes.
    pub bytes: u64,
    /// The copy's SHA-256, hex.
    pub sha256: String,
}

/// The manifest's `format`.
pub const MANIFEST_FORMAT: &str = "caliper-backup/1";

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Refused, with the reason and what to do.
    #[error("{0}")]
    Refused(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let at = format!("{what} {}", path.display());
    move |e| BackupError::Io(format!("{at}: {e}"))
}

/// Where the manifest of backup `file` is.
pub fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Backs the database at `url` up to `to` (and `to.manifest.json`); `pg_bin` is the folder of
/// PostgreSQL's client tools, when they are not on the `PATH`.
pub async fn backup(url: &DatabaseUrl, to: &Path, pg_bin: Option<&Path>) -> Result<Manifest, BackupError> {
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
    }
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let made = if url.is_postgres() {
        backup_postgres(url, &partial, pg_bin).await
    } else {
        backup_sqlite(url, &partial).await
    };
    let mut manifest = match made {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let (bytes, sha256) = digest(&partial)?;
    manifest.bytes = bytes;
    manifest.sha256 = sha256;
    manifest.file = to.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let manifest_file = manifest_path(to);
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| BackupError::Io(e.to_string()))?;
    let manifest_partial = with_suffix(&manifest_file, ".partial");
    std::fs::write(&manifest_partial, text + "\n").map_err(io("cannot write", &manifest_partial))?;
    std::fs::rename(&partial, to).map_err(io("cannot write", to))?;
    std::fs::rename(&manifest_partial, &manifest_file).map_err(io("cannot write", &manifest_file))?;
    Ok(manifest)
}

async fn backup_sqlite(url: &DatabaseUrl, partial: &Path) -> Result<Manifest, BackupError> {
    let source = url.sqlite_file().ok_or_else(|| BackupError::Refused("an in-memory database has no backup".into()))?;
    if !source.is_file() {
        return Err(BackupError::Refused(format!("no database at {}", source.display())));
    }
    {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url.expose())?
            .create_if_missing(false)
            .busy_timeout(std::time::Duration::from_secs(30));
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
        // One read transaction: the copy is the database as of its start; writers go on (WAL).
        sqlx::query("vacuum into $1").bind(partial.to_string_lossy().as_ref()).execute(&mut conn).await?;
        conn.close().await?;
    }
    // The copy is checked on its own, read only, so what was verified is what was written.
    let pool = open_sqlite_read_only(partial).await?;
    let checked = check_copy(SqliteStore::new(pool.clone())).await;
    let counted = async {
        let mut conn = pool.acquire().await?;
        sqlite_facts(&mut conn).await
    }
    .await;
    pool.close().await;
    let (head_seq, head_hash) = checked?;
    let (schema_version, migrations, counts) = counted?;
    Ok(manifest("sqlite", schema_version, migrations, counts, head_seq, head_hash))
}

async fn open_sqlite_read_only(file: &Path) -> Result<sqlx::SqlitePool, BackupError> {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true);
    Ok(sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).connect_with(options).await?)
}

/// Verifies a whole copy's chain: its head, or a refusal naming the first broken entry.
async fn check_copy(store: impl crate::storage::Store) -> Result<(i64, Option<String>), BackupError> {
    let report = store.verify_audit().await?;
    if !report.intact {
        return Err(broken(report.first_broken_seq, report.problem.as_deref()));
    }
    Ok((store.audit_head().await?, report.head_hash))
}

fn broken(seq: Option<i64>, problem: Option<&str>) -> BackupError {
    BackupError::Refused(format!(
        "the audit trail is broken at entry {}: {}; no backup was made (`caliper verify-audit` names the \
         entry; restore the last good backup or investigate before backing up)",
        seq.unwrap_or_default(),
        problem.unwrap_or("unknown problem")
    ))
}

/// Schema version, migrations applied and rows per table of a SQLite database.
async fn sqlite_facts(conn: &mut sqlx::SqliteConnection) -> Result<(i64, i64, BTreeMap<String, i64>), BackupError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select name from pragma_table_list where schema = 'main' and type = 'table' \
         and name not like 'sqlite_%' order by name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = BTreeMap::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from \"{table}\"")).fetch_one(&mut *conn).await?;
        counts.insert(table, n);
    }
    let (version, migrations): (Option<i64>, i64) = sqlx::query_as(MIGRATIONS_APPLIED).fetch_one(&mut *conn).await?;
    Ok((version.unwrap_or_default(), migrations, counts))
}

/// Schema version, migrations applied and rows per table of a PostgreSQL database (its
/// current schema), in the connection's transaction.
async fn postgres_facts(conn: &mut sqlx::PgConnection) -> Result<(i64, i64, BTreeMap<String, i64>), BackupError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables \
         where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = BTreeMap::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from \"{table}\"")).fetch_one(&mut *conn).await?;
        counts.insert(table, n);
    }
    let (version, migrations): (Option<i64>, i64) = sqlx::query_as(MIGRATIONS_APPLIED).fetch_one(&mut *conn).await?;
    Ok((version.unwrap_or_default(), migrations, counts))
}

const MIGRATIONS_APPLIED: &str = "select max(version), count(*) from _sqlx_migrations where success";

fn manifest(
    backend: &str,
    schema_version: i64,
    migrations: i64,
    counts: BTreeMap<String, i64>,
    head_seq: i64,
    head_hash: Option<String>,
) -> Manifest {
    Manifest {
        format: MANIFEST_FORMAT.into(),
        caliper_version: env!("CARGO_PKG_VERSION").into(),
        taken_at: Utc::now(),
        backend: backend.into(),
        schema_version,
        migrations,
        audit_entries: counts.get("audit_entries").copied().unwrap_or_default(),
        counts,
        audit_head_seq: head_seq,
        audit_head_hash: head_hash,
        file: String::new(),
        bytes: 0,
        sha256: String::new(),
    }
}

async fn backup_postgres(url: &DatabaseUrl, partial: &Path, pg_bin: Option<&Path>) -> Result<Manifest, BackupError> {
    let pg_dump = pg_tool("pg_dump", pg_bin)?;
    let mut conn = sqlx::PgConnection::connect(url.expose()).await?;
    // The snapshot pg_dump reads is the one the counts and the head are read in.
    conn.execute("begin transaction isolation level repeatable read, read only").await?;
    let snapshot: String = sqlx::query_scalar("select pg_export_snapshot()").fetch_one(&mut conn).await?;
    let (schema_version, migrations, counts) = postgres_facts(&mut conn).await?;
    let head: Option<(i64, String)> = sqlx::query_as("select seq, hash from audit_entries order by seq desc limit 1")
        .fetch_optional(&mut conn)
        .await?;
    let dump = tokio::process::Command::new(&pg_dump)
        .arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--file={}", partial.display()))
        .arg(format!("--dbname={}", url.expose()))
        .output()
        .await
        .map_err(|e| BackupError::Io(format!("cannot run {}: {e}", pg_dump.display())))?;
    conn.execute("commit").await?;
    conn.close().await?;
    if !dump.status.success() {
        return Err(BackupError::Refused(format!(
            "pg_dump failed ({}): {}",
            dump.status,
            String::from_utf8_lossy(&dump.stderr).trim()
        )));
    }
    // The chain as it is now contains the snapshot's: verified up to now, and the head entry
    // is the one the snapshot saw.
    let (head_seq, head_hash) = head.map_or((0, None), |(seq, hash)| (seq, Some(hash)));
    let store = crate::storage::connect(url, &crate::storage::PoolSettings::default()).await?;
    let report = store.verify_audit().await?;
    if let Some(seq) = report.first_broken_seq.filter(|&seq| !report.intact && seq <= head_seq) {
        return Err(broken(Some(seq), report.problem.as_deref()));
    }
    if let Some(hash) = &head_hash {
        let now: Option<String> = sqlx::query_scalar("select hash from audit_entries where seq = $1")
            .bind(head_seq)
            .fetch_optional(&mut sqlx::PgConnection::connect(url.expose()).await?)
            .await?;
        if now.as_ref() != Some(hash) {
            return Err(broken(Some(head_seq), Some("the entry changed while the backup was taken")));
        }
    }
    Ok(manifest("postgres", schema_version, migrations, counts, head_seq, head_hash))
}

/// Restores backup `from` into the database at `url`. Refuses a database that holds tables
/// unless `force`.
pub async fn restore(
    url: &DatabaseUrl,
    from: &Path,
    force: bool,
    pg_bin: Option<&Path>,
) -> Result<Manifest, BackupError> {
    let manifest_file = manifest_path(from);
    let text = std::fs::read_to_string(&manifest_file).map_err(io("cannot read the manifest", &manifest_file))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        BackupError::Refused(format!("{} is not a Caliper backup manifest: {e}", manifest_file.display()))
    })?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(BackupError::Refused(format!("unknown backup format `{}`", manifest.format)));
    }
    let backend = if url.is_postgres() { "postgres" } else { "sqlite" };
    if manifest.backend != backend {
        return Err(BackupError::Refused(format!(
            "this is a {} backup and the database is {backend}: restore it into a {} database",
            manifest.backend, manifest.backend
        )));
    }
    let (bytes, sha256) = digest(from)?;
    if bytes != manifest.bytes || sha256 != manifest.sha256 {
        return Err(BackupError::Refused(format!(
            "{} is not the file its manifest describes ({bytes} bytes, SHA-256 {sha256}; the manifest says {} bytes, \
             {}): it is damaged or from another backup",
            from.display(),
            manifest.bytes,
            manifest.sha256
        )));
    }
    if url.is_postgres() {
        restore_postgres(url, from, force, pg_bin, &manifest).await?;
    } else {
        restore_sqlite(url, from, force, &manifest).await?;
    }
    Ok(manifest)
}

async fn restore_sqlite(url: &DatabaseUrl, from: &Path, force: bool, manifest: &Manifest) -> Result<(), BackupError> {
    let target = url.sqlite_file().ok_or_else(|| BackupError::Refused("restore needs a SQLite file".into()))?;
    let in_use = if target.is_file() {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url.expose())?.create_if_missing(false);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
        let tables: i64 =
            sqlx::query_scalar("select count(*) from sqlite_master where type = 'table'").fetch_one(&mut conn).await?;
        // Whatever a writer left in the WAL goes into the file before it is set aside.
        conn.execute("pragma wal_checkpoint(truncate)").await?;
        conn.close().await?;
        tables > 0
    } else {
        false
    };
    if in_use && !force {
        return Err(BackupError::Refused(format!(
            "{} already holds a database: stop the server, then add --force to replace it (it is kept as \
             {}.replaced-<time>)",
            target.display(),
            target.display()
        )));
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
    }
    // Copied beside the target, verified there, then moved into place in one rename.
    let incoming = with_suffix(&target, ".restoring");
    let _ = std::fs::remove_file(&incoming);
    std::fs::copy(from, &incoming).map_err(io("cannot copy to", &incoming))?;
    let pool = open_sqlite_read_only(&incoming).await?;
    let checked = async {
        let (_, _, counts) = sqlite_facts(&mut *pool.acquire().await?).await?;
        check_restored(SqliteStore::new(pool.clone()), &counts, manifest).await
    }
    .await;
    pool.close().await;
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&incoming);
        return Err(e);
    }
    if target.is_file() {
        let aside = with_suffix(&target, &format!(".replaced-{}", Utc::now().format("%Y%m%dT%H%M%SZ")));
        std::fs::rename(&target, &aside).map_err(io("cannot set aside", &target))?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(with_suffix(&target, suffix));
        }
    }
    std::fs::rename(&incoming, &target).map_err(io("cannot move into place", &target))?;
    Ok(())
}

async fn restore_postgres(
    url: &DatabaseUrl,
    from: &Path,
    force: bool,
    pg_bin: Option<&Path>,
    manifest: &Manifest,
) -> Result<(), BackupError> {
    let pg_restore = pg_tool("pg_restore", pg_bin)?;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url.expose()).await?;
    let tables: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_schema = current_schema() \
         and table_type = 'BASE TABLE'",
    )
    .fetch_one(&pool)
    .await?;
    if tables > 0 && !force {
        pool.close().await;
        return Err(BackupError::Refused(format!(
            "the database already holds {tables} tables: stop the servers, then add --force to replace them, \
             or restore into a new database (createdb)"
        )));
    }
    let mut command = tokio::process::Command::new(&pg_restore);
    command.args(["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]);
    if tables > 0 {
        command.args(["--clean", "--if-exists"]);
    }
    let done = command
        .arg(format!("--dbname={}", url.expose()))
        .arg(from)
        .output()
        .await
        .map_err(|e| BackupError::Io(format!("cannot run {}: {e}", pg_restore.display())))?;
    if !done.status.success() {
        pool.close().await;
        return Err(BackupError::Refused(format!(
            "pg_restore failed ({}), nothing was restored: {}",
            done.status,
            String::from_utf8_lossy(&done.stderr).trim()
        )));
    }
    let checked = async {
        let (_, _, counts) = postgres_facts(&mut *pool.acquire().await?).await?;
        check_restored(PostgresStore::new(pool.clone()), &counts, manifest).await
    }
    .await;
    pool.close().await;
    checked
}

/// The restored chain verifies, ends on the manifest's head, and every table holds the count
/// the manifest gives (`counts`, read from the restored database).
async fn check_restored(
    store: impl crate::storage::Store,
    counts: &BTreeMap<String, i64>,
    manifest: &Manifest,
) -> Result<(), BackupError> {
    let report = store.verify_audit().await?;
    if !report.intact {
        return Err(BackupError::Refused(format!(
            "the restored audit trail is broken at entry {}: {}",
            report.first_broken_seq.unwrap_or_default(),
            report.problem.as_deref().unwrap_or("unknown problem")
        )));
    }
    if i64::try_from(report.entries).ok() != Some(manifest.audit_entries)
        || report.head_hash != manifest.audit_head_hash
    {
        return Err(BackupError::Refused(format!(
            "the restored audit trail has {} entries ending at {}, the manifest says {} ending at {}",
            report.entries,
            report.head_hash.as_deref().unwrap_or("(empty)"),
            manifest.audit_entries,
            manifest.audit_head_hash.as_deref().unwrap_or("(empty)")
        )));
    }
    for (table, expected) in &manifest.counts {
        let n = counts.get(table).copied().unwrap_or_default();
        if n != *expected {
            return Err(BackupError::Refused(format!(
                "the restored table {table} holds {n} rows, the manifest says {expected}"
            )));
        }
    }
    Ok(())
}

/// A PostgreSQL client tool: in `dir` when given, else on the `PATH`, else in Debian's
/// versioned folders (newest first).
fn pg_tool(name: &str, dir: Option<&Path>) -> Result<PathBuf, BackupError> {
    if let Some(dir) = dir {
        return Ok(dir.join(name));
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin").join(name))))
        .collect();
    debian.sort_by_key(|d| std::cmp::Reverse(d.0));
    on_path.into_iter().chain(debian.into_iter().map(|(_, p)| p)).find(|p| p.is_file()).ok_or_else(|| {
        BackupError::Refused(format!(
            "`{name}` is not installed: install PostgreSQL's client tools (apt-get install postgresql-client) \
             or name their folder with --pg-bin"
        ))
    })
}

/// A file's size and SHA-256 (hex).
fn digest(file: &Path) -> Result<(u64, String), BackupError> {
    let mut f = std::fs::File::open(file).map_err(io("cannot read", file))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io("cannot read", file))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((bytes, hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()))
}
