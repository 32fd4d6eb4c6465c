//! Sign-in limits: how often one client address, and one username, may try to sign in, and
//! how failed attempts reach the audit trail.
//!
//! - **Rate limits** (GCRA, the `governor` crate): per client address and per username, each a
//!   number of attempts per minute with a burst of as many. An attempt over either limit is
//!   refused before its password is hashed, with `429 Too Many Requests` in the usual envelope
//!   and `Retry-After`.
//! - **Bursts**: the first failed attempt from one address on one account (or on unknown
//!   usernames) gets its own audit entry, as before; further failures from there within
//!   a minute (refused by the limit or not) are counted, and written as one entry when
//!   the burst is over: how many, the first and last time, the usernames tried and why each
//!   failed. So a flood of attempts costs the trail one entry a minute per address and account,
//!   and the trail still says who tried, when and how many times (11.300(d)). A failure still
//!   counts towards the account's lockout at once, and a lock still gets its own entry.
//!
//! A burst not yet written when the server stops is written on the way down; one lost to a crash
//! loses only its count (its first attempt is in the trail).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use shared::audit::{Changes, FieldChange};
use shared::auth::UserId;

use crate::storage::{AuditContext, Store, StoreResult};

/// How often finished bursts are written (at most).
const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Most usernames a burst's entry lists (the count covers them all).
const USERNAMES_LISTED: usize = 20;

/// The reason recorded for an attempt refused by a rate limit.
pub const RATE_LIMITED: &str = "too many attempts (rate limit)";

/// The sign-in limits of one server instance.
pub struct SignInLimits {
    by_address: DefaultKeyedRateLimiter<String>,
    by_username: DefaultKeyedRateLimiter<String>,
    bursts: Mutex<HashMap<(String, i64), Burst>>,
    window: Duration,
    flusher: OnceLock<()>,
}

impl std::fmt::Debug for SignInLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLimits").finish_non_exhaustive()
    }
}

/// Further failed attempts from one address on one account.
#[derive(Debug)]
struct Burst {
    opened: Instant,
    user: Option<UserId>,
    source: AuditContext,
    first_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
    attempts: u64,
    usernames: BTreeSet<String>,
    reasons: BTreeMap<String, u64>,
}

impl SignInLimits {
    /// Limits of `per_address` and `per_username` attempts a minute (each also the burst);
    /// failed attempts counted into bursts of `window`.
    pub fn new(per_address: u32, per_username: u32, window: Duration) -> Self {
        let quota =
            |n: u32| Quota::per_minute(std::num::NonZeroU32::new(n.max(1)).unwrap_or(std::num::NonZeroU32::MIN));
        Self {
            by_address: DefaultKeyedRateLimiter::keyed(quota(per_address)),
            by_username: DefaultKeyedRateLimiter::keyed(quota(per_username)),
            bursts: Mutex::default(),
            window,
            flusher: OnceLock::new(),
        }
    }

    /// Whether an attempt from `address` for `username` may go ahead; otherwise how long until
    /// one may.
    pub fn admit(&self, address: &str, username: &str) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        let now = clock.now();
        self.by_address.check_key(&address.to_string()).map_err(|n| n.wait_time_from(now))?;
        self.by_username.check_key(&username.to_string()).map_err(|n| n.wait_time_from(now))
    }

    /// Notes a failed attempt. True when it gets its own audit entry (it opens a burst); false
    /// when it is counted into its burst's entry. A burst that was over and not yet written is
    /// returned, to be written first.
    fn note(&self, ctx: &AuditContext, username: &str, user: Option<UserId>, reason: &str) -> (bool, Option<Burst>) {
        let key = (ctx.source.client_address.clone(), user.map_or(0, |u| u.0));
        let mut bursts = self.bursts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(burst) = bursts.get_mut(&key).filter(|b| b.opened.elapsed() < self.window) {
            let now = Utc::now();
            burst.first_at.get_or_insert(now);
            burst.last_at = Some(now);
            burst.attempts += 1;
            if burst.usernames.len() < USERNAMES_LISTED {
                burst.usernames.insert(username.to_string());
            }
            *burst.reasons.entry(reason.to_string()).or_default() += 1;
            return (false, None);
        }
        let opened = Burst {
            opened: Instant::now(),
            user,
            source: ctx.clone(),
            first_at: None,
            last_at: None,
            attempts: 0,
            usernames: BTreeSet::new(),
            reasons: BTreeMap::new(),
        };
        let over = bursts.insert(key, opened).filter(|b| b.attempts > 0);
        (true, over)
    }

    /// The bursts that are over (all of them with `all`), taken out.
    fn take_over(&self, all: bool) -> Vec<Burst> {
        let mut bursts = self.bursts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let over: Vec<_> =
            bursts.iter().filter(|(_, b)| all || b.opened.elapsed() >= self.window).map(|(k, _)| k.clone()).collect();
        over.into_iter().filter_map(|k| bursts.remove(&k)).filter(|b| b.attempts > 0).collect()
    }

    /// Writes every burst now, finished or not (the server is stopping).
    pub async fn flush_all(&self, store: &dyn Store) {
        for burst in self.take_over(true) {
            if let Err(e) = write(store, burst, self.window).await {
                tracing::error!(error = %e, "a burst of failed sign-ins was not written to the audit trail");
            }
        }
    }

    /// Starts writing finished bursts every few seconds (once per instance).
    fn start_flusher(self: &Arc<Self>, store: &Arc<dyn Store>) {
        self.flusher.get_or_init(|| {
            let (limits, store) = (Arc::downgrade(self), store.clone());
            tokio::spawn(async move {
                let every = FLUSH_EVERY.min(limits.upgrade().map_or(FLUSH_EVERY, |l| l.window / 2));
                let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
                loop {
                    tick.tick().await;
                    let Some(limits) = limits.upgrade() else { return };
                    for burst in limits.take_over(false) {
                        if let Err(e) = write(store.as_ref(), burst, limits.window).await {
                            tracing::error!(error = %e, "a burst of failed sign-ins was not written to the audit trail");
                        }
                    }
                    limits.by_address.retain_recent();
                    limits.by_username.retain_recent();
                }
            });
        });
    }
}

/// Notes a failed attempt (see the module docs): whether it gets an audit entry of its own.
/// Writes a finished burst it replaces.
pub async fn failed_attempt(
    limits: &Arc<SignInLimits>,
    store: &Arc<dyn Store>,
    ctx: &AuditContext,
    username: &str,
    user: Option<UserId>,
    reason: &str,
) -> StoreResult<bool> {
    limits.start_flusher(store);
    let (own_entry, over) = limits.note(ctx, username, user, reason);
    if let Some(burst) = over {
        write(store.as_ref(), burst, limits.window).await?;
    }
    Ok(own_entry)
}

/// One audit entry for a burst's further attempts.
async fn write(store: &dyn Store, burst: Burst, window: Duration) -> StoreResult<()> {
    let new = |v: serde_json::Value| FieldChange { old: serde_json::Value::Null, new: v };
    let mut changes = Changes::new();
    changes.insert("attempts".into(), new(burst.attempts.into()));
    changes.insert("first_at".into(), new(serde_json::json!(burst.first_at)));
    changes.insert("last_at".into(), new(serde_json::json!(burst.last_at)));
    changes.insert("usernames".into(), new(serde_json::json!(burst.usernames)));
    changes.insert("reasons".into(), new(serde_json::json!(burst.reasons)));
    let address = &burst.source.source.client_address;
    let why: Vec<_> = burst.reasons.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
    let reason = format!(
        "{} further failed sign-in{} from {} within {} s: {}",
        burst.attempts,
        if burst.attempts == 1 { "" } else { "s" },
        if address.is_empty() { "an unknown address" } else { address },
        window.as_secs().max(1),
        why.join(", ")
    );
    let names: Vec<_> = burst.usernames.iter().cloned().collect();
    let ctx = AuditContext { actor_id: None, actor_name: names.join(", "), source: burst.source.source.clone() };
    store.record_failed_burst(&ctx, burst.user, changes, &reason).await
}
