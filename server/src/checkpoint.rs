//! Audit checkpoints: the trail's head (position and hash) written down outside the database,
//! so that a truncated or rewritten trail is noticed. The hash chain proves every entry up to
//! the head, but not that the head is the real one: someone with database access who deletes the
//! newest entries leaves a shorter chain that still verifies. A checkpoint anchors the head
//! where the database cannot rewrite it alone: a line in a checkpoint file (by default beside a
//! SQLite database, `caliper.db.checkpoints`) and in the log, written by the server every hour
//! and by `caliper checkpoint` on demand. `caliper verify-audit --checkpoints FILE` (or
//! `--expect-head SEQ:HASH`) then checks that each one is still in the chain.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::DatabaseUrl;
use crate::storage::{AuditFilter, Store, StoreError};

/// One checkpoint: the entry at `seq` has `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// When it was taken (absent in a `--expect-head` given by hand).
    pub at: Option<DateTime<Utc>>,
    /// The entry's position.
    pub seq: i64,
    /// The entry's hash.
    pub hash: String,
}

impl Checkpoint {
    /// `SEQ:HASH`, as printed and as `--expect-head` takes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (seq, hash) = text.trim().split_once(':').ok_or("expected SEQ:HASH, e.g. 1341:2d6dce…")?;
        let seq = seq.trim().parse::<i64>().map_err(|_| format!("`{seq}` is not an entry position"))?;
        let hash = hash.trim();
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{text}` is not SEQ:HASH (a position from 1, a SHA-256 hash in hex)"));
        }
        Ok(Self { at: None, seq, hash: hash.to_ascii_lowercase() })
    }

    /// A line of a checkpoint file: `TIME SEQ:HASH`.
    fn parse_line(line: &str) -> Result<Self, String> {
        let (at, rest) = line.trim().split_once(' ').ok_or("expected `TIME SEQ:HASH`")?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|e| format!("`{at}`: {e}"))?.with_timezone(&Utc);
        Ok(Self { at: Some(at), ..Self::parse(rest)? })
    }
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// The default checkpoint file of a database: beside a SQLite file; none for PostgreSQL (name
/// one with `--checkpoint-file`, on another machine's disk or a mounted share).
pub fn default_file(url: &DatabaseUrl) -> Option<PathBuf> {
    url.sqlite_file().map(|f| {
        let mut name = f.into_os_string();
        name.push(".checkpoints");
        PathBuf::from(name)
    })
}

/// The trail's head now, or `None` while it is empty.
pub async fn head(store: &dyn Store) -> Result<Option<Checkpoint>, StoreError> {
    let newest = store.list_audit(&AuditFilter { limit: 1, ..Default::default() }).await?;
    Ok(newest.into_iter().next().map(|e| Checkpoint { at: Some(Utc::now()), seq: e.seq, hash: e.hash }))
}

/// Takes a checkpoint: logs it and appends it to `file` (when given). `None` while the trail is
/// empty.
pub async fn take(store: &dyn Store, file: Option<&Path>) -> Result<Option<Checkpoint>, String> {
    let Some(checkpoint) = head(store).await.map_err(|e| e.to_string())? else { return Ok(None) };
    tracing::info!(seq = checkpoint.seq, hash = %checkpoint.hash, "audit checkpoint");
    if let Some(file) = file {
        let at = checkpoint.at.unwrap_or_else(Utc::now).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let line = format!("{at} {checkpoint}\n");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| f.write_all(line.as_bytes()).and_then(|()| f.sync_data()))
            .map_err(|e| format!("cannot append to {}: {e}", file.display()))?;
    }
    Ok(Some(checkpoint))
}

/// The checkpoints in `file`, in order.
pub fn read_file(file: &Path) -> Result<Vec<Checkpoint>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| Checkpoint::parse_line(l).map_err(|e| format!("{} line {}: {e}", file.display(), n + 1)))
        .collect()
}

/// The first checkpoint the trail no longer holds, and why; `None` when it holds them all.
pub async fn first_missing(store: &dyn Store, checkpoints: &[Checkpoint]) -> Result<Option<String>, StoreError> {
    for c in checkpoints {
        let found =
            store.list_audit(&AuditFilter { before_seq: Some(c.seq + 1), limit: 1, ..Default::default() }).await?;
        let why = match found.first() {
            Some(e) if e.seq == c.seq && e.hash == c.hash => continue,
            Some(e) if e.seq == c.seq => format!("entry {} now has hash {}: the trail was rewritten", c.seq, e.hash),
            _ => format!("entry {} is gone: the trail was truncated", c.seq),
        };
        let at = c.at.map(|t| format!(" (taken {})", t.to_rfc3339())).unwrap_or_default();
        return Ok(Some(format!("checkpoint {c}{at} is not in the trail: {why}")));
    }
    Ok(None)
}
