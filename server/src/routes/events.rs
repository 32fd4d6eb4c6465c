//! Live updates over Server-Sent Events: `GET /api/v1/events` streams a [`RecordChanged`] for
//! every change, so that open pages refresh what someone else saved.
//!
//! The feed tails the audit trail, which already holds every committed change in order, in the
//! database that every instance shares: so an instance tells its browsers about changes made
//! through any instance, on SQLite and PostgreSQL alike, with one mechanism. One task per
//! instance polls the trail every [`POLL`] while anyone listens, and not at all otherwise.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use shared::auth::Permission;
use shared::events::{CHANGE, RecordChanged};
use tokio::sync::broadcast;

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::storage::Store;

/// How often the trail is polled for new entries.
/// (50 ms: a live update reaches other pages well inside the 300 ms target, for one indexed
/// query of the trail's head 20 times a second per instance, only while someone listens.)
pub const POLL: Duration = Duration::from_millis(50);
/// How often an open stream checks that its session is still live.
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

/// How soon a browser whose stream the server ended on its way down should connect again
/// (the SSE `retry:` field): to whichever instance answers then.
pub const RETRY_AFTER_STOP: Duration = Duration::from_millis(1000);

/// The changes feed of one server instance.
#[derive(Debug)]
pub struct Events {
    sender: broadcast::Sender<RecordChanged>,
    tailing: OnceLock<()>,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            tailing: OnceLock::new(),
            stopping: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Events {
    /// How many event streams are open now.
    pub fn open_streams(&self) -> usize {
        self.sender.receiver_count()
    }
}

impl Events {
    /// The server is stopping: every open stream ends at once with a `retry:` hint (a stream
    /// left open would hold its connection, and the stop, until the browser went away).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// A receiver of every change from now on; the first one starts tailing the trail.
    pub fn subscribe(self: &Arc<Self>, store: &Arc<dyn Store>) -> broadcast::Receiver<RecordChanged> {
        let receiver = self.sender.subscribe();
        self.tailing.get_or_init(|| {
            tokio::spawn(tail(store.clone(), self.sender.clone()));
        });
        receiver
    }
}

/// Sends each new audit entry's headline to the listeners.
async fn tail(store: Arc<dyn Store>, sender: broadcast::Sender<RecordChanged>) {
    let mut last = loop {
        match store.audit_head().await {
            Ok(head) => break head,
            Err(e) => {
                tracing::warn!(error = %e, "live updates: cannot read the audit trail's head; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut idle = false;
    loop {
        tick.tick().await;
        if sender.receiver_count() == 0 {
            // Nobody listens: no queries; when someone does again, start from the head.
            idle = true;
            continue;
        }
        if idle {
            match store.audit_head().await {
                Ok(head) => {
                    last = head;
                    idle = false;
                }
                Err(e) => tracing::warn!(error = %e, "live updates: cannot read the audit trail's head"),
            }
            continue;
        }
        match store.audit_since(last, 500).await {
            Ok(entries) => {
                for e in &entries {
                    last = e.seq;
                    let _ = sender.send(RecordChanged::from(e));
                }
            }
            Err(e) => tracing::warn!(error = %e, "live updates: cannot read the audit trail"),
        }
    }
}

/// Who may hear about a record type: user records only those who manage users.
fn may_see(user: &CurrentUser, change: &RecordChanged) -> bool {
    change.record_type != <shared::auth::User as shared::org::Record>::RECORD_TYPE || user.can(Permission::ManageUsers)
}

/// Stream changes as Server-Sent Events (`event: change`, `data: RecordChanged` as JSON,
/// `id: seq`). When the stream falls behind it sends `event: resync` (reload everything). It
/// closes when the session ends.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    responses((status = 200, content_type = "text/event-stream", body = RecordChanged,
               description = "A stream of `change` events"),
              (status = 401, body = shared::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: CurrentUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.events.subscribe(&state.store);
    let stopping = state.events.stopping.subscribe();
    let token = auth::session_cookie(&headers).map(|t| auth::token_hash(&t)).unwrap_or_default();
    let checks = tokio::time::interval_at(tokio::time::Instant::now() + SESSION_CHECK, SESSION_CHECK);
    let stream = futures_util::stream::unfold(
        (receiver, checks, state, token, user, stopping),
        |(mut receiver, mut checks, state, token, user, mut stop)| {
            async move {
                if *stop.borrow_and_update() {
                    // The stream ends after its `retry:` hint, or the server was stopping already.
                    return None;
                }
                loop {
                    tokio::select! {
                        _ = stop.changed() => {
                            let event = Event::default().retry(RETRY_AFTER_STOP).comment("the server is stopping");
                            return Some((Ok(event), (receiver, checks, state, token, user, stop)));
                        }
                        received = receiver.recv() => match received {
                            Ok(change) if may_see(&user, &change) => {
                                let data = serde_json::to_string(&change).unwrap_or_default();
                                let event = Event::default().event(CHANGE).id(change.seq.to_string()).data(data);
                                return Some((Ok(event), (receiver, checks, state, token, user, stop)));
                            }
                            Ok(_) => {}
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                let event = Event::default().event("resync").data("{}");
                                return Some((Ok(event), (receiver, checks, state, token, user, stop)));
                            }
                            Err(broadcast::error::RecvError::Closed) => return None,
                        },
                        _ = checks.tick() => {
                            let now = chrono::Utc::now();
                            let idle = chrono::Duration::from_std(state.passwords.config().idle_timeout).unwrap_or_default();
                            let live = matches!(
                                state.store.session_by_token(&token).await,
                                Ok(Some(s)) if s.ended_at.is_none() && !s.user_retired && now < s.expires_at
                                    && now - s.last_seen_at <= idle
                            );
                            if !live {
                                return None;
                            }
                        }
                    }
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
