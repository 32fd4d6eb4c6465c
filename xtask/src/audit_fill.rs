//! Fills an empty database's audit trail with a valid hash chain of `n` entries, straight into
//! the table (through the `sqlite3` or `psql` command-line client), so that `caliper
//! verify-audit` can be timed on a million entries without making a million requests first.

use std::io::Write;
use std::process::{Command, Stdio};

use shared::audit::{AuditAction, AuditEntry, AuditSource, FieldChange, GENESIS_HASH};

use crate::Result;

const COLUMNS: &str = "seq, occurred_at, actor_id, actor_name, action, record_type, record_id, record_version, \
                       changes, reason, source, prev_hash, hash";

/// The `n` entries of a chain of process edits, in order, as (entry, changes JSON, source JSON).
fn entries(n: u64, mut each: impl FnMut(&AuditEntry, &str, &str) -> std::io::Result<()>) -> Result {
    let start: chrono::DateTime<chrono::Utc> = "2026-01-05T08:00:00Z".parse().map_err(|e| format!("{e}"))?;
    let mut prev = GENESIS_HASH.to_string();
    for seq in 1..=n as i64 {
        let mut changes = shared::audit::Changes::new();
        changes.insert(
            "description".into(),
            FieldChange {
                old: format!("Step {} of the route", seq - 1).into(),
                new: format!("Step {seq} of the route").into(),
            },
        );
        let mut e = AuditEntry {
            seq,
            occurred_at: start + chrono::Duration::milliseconds(seq * 37),
            actor_id: Some(1 + seq % 12),
            actor_name: format!("Bench User {}", 1 + seq % 12),
            action: AuditAction::Update,
            record_type: "process".into(),
            record_id: 1 + seq % 500,
            record_version: 1 + seq / 500,
            changes,
            reason: None,
            source: AuditSource {
                request_id: format!("00000000-0000-4000-8000-{seq:012}"),
                client_address: "127.0.0.1".into(),
                user_agent: "caliper bench".into(),
                session_id: (seq % 40).to_string(),
            },
            prev_hash: prev,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        let changes = serde_json::to_string(&e.changes).map_err(|e| e.to_string())?;
        let source = serde_json::to_string(&e.source).map_err(|e| e.to_string())?;
        each(&e, &changes, &source).map_err(|e| e.to_string())?;
        prev = e.hash;
    }
    Ok(())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The stored form of a timestamp (what sqlx writes for SQLite; PostgreSQL parses it).
fn time(e: &AuditEntry) -> String {
    e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

/// Appends `n` entries to the empty audit trail of the SQLite file `path`.
pub fn sqlite(path: &str, n: u64) -> Result {
    let mut child = Command::new("sqlite3")
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("sqlite3 (apt-get install sqlite3): {e}"))?;
    {
        let mut sql = std::io::BufWriter::new(child.stdin.take().ok_or("no stdin")?);
        writeln!(sql, "pragma journal_mode=wal; begin;").map_err(|e| e.to_string())?;
        entries(n, |e, changes, source| {
            writeln!(
                sql,
                "insert into audit_entries ({COLUMNS}) values ({}, {}, {}, {}, {}, {}, {}, {}, {}, null, {}, {}, {});",
                e.seq,
                quote(&time(e)),
                e.actor_id.unwrap_or_default(),
                quote(&e.actor_name),
                quote(e.action.as_str()),
                quote(&e.record_type),
                e.record_id,
                e.record_version,
                quote(changes),
                quote(source),
                quote(&e.prev_hash),
                quote(&e.hash),
            )
        })?;
        writeln!(sql, "commit;").map_err(|e| e.to_string())?;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("sqlite3 failed: {status}")) }
}

/// Appends `n` entries to the empty audit trail of the PostgreSQL database at `url`.
pub fn postgres(url: &str, n: u64) -> Result {
    let mut child = Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("\\copy audit_entries ({COLUMNS}) from stdin with (format csv)"))
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("psql: {e}"))?;
    {
        let mut csv = std::io::BufWriter::new(child.stdin.take().ok_or("no stdin")?);
        let cell = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        entries(n, |e, changes, source| {
            writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{},,{},{},{}",
                e.seq,
                cell(&time(e)),
                e.actor_id.unwrap_or_default(),
                cell(&e.actor_name),
                cell(e.action.as_str()),
                cell(&e.record_type),
                e.record_id,
                e.record_version,
                cell(changes),
                cell(source),
                cell(&e.prev_hash),
                cell(&e.hash),
            )
        })?;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("psql failed: {status}")) }
}
