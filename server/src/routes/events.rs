//! Live updates over Server-Sent Events: `GET /api/v1/events` streams a [`RecordChanged`] for
//! every change, so that open pages refresh what someone else saved.
//!
//! The feed tails the audit trail, which already holds every committed change in order, in the
//! database that every instance shares: so an instance tells its browsers about changes made
//! through any instance, on SQLite and PostgreSQL alike, with one mechanism. One task per
//! instance polls the trail every [`POLL`] while anyone listens, and not at all otherwise.
//!
//! Each stream hears only about records its user may read: the kind's read permission
//! (`shared::events::readers`), an FMEA's confidentiality, a notice's recipient. The user's roles
//! are read again as soon as the trail says their user record changed (roles, deactivation,
//! password, a session ended), and at least every [`SESSION_CHECK`]; a stream whose session
//! ended closes then.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use shared::audit::AuditEntry;
use shared::events::{CHANGE, RecordChanged, may_hear};
use shared::worksheet::{Confidentiality, Fmea, FmeaId, RowId};
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
    sender: broadcast::Sender<Arc<Heard>>,
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
    pub fn subscribe(self: &Arc<Self>, store: &Arc<dyn Store>) -> broadcast::Receiver<Arc<Heard>> {
        let receiver = self.sender.subscribe();
        self.tailing.get_or_init(|| {
            tokio::spawn(tail(store.clone(), self.sender.clone()));
        });
        receiver
    }
}

/// One change as the listeners get it: its headline and who may hear it.
#[derive(Debug)]
pub struct Heard {
    change: RecordChanged,
    audience: Audience,
    /// The user record this entry is about, when it is one (their roles or sessions changed).
    about_user: Option<i64>,
}

/// Who may hear about a change, beyond the read permission of its kind of record.
#[derive(Debug)]
enum Audience {
    /// Everyone who may read this kind of record.
    Readers,
    /// Only this person (a notice's recipient; one's own settings).
    Person(Option<i64>),
    /// Who may read this FMEA, by its confidentiality.
    Fmea(Box<Fmea>),
}

impl Heard {
    fn heard_by(&self, user: &CurrentUser) -> bool {
        match &self.audience {
            Audience::Person(person) => *person == Some(user.id.0),
            Audience::Fmea(fmea) => fmea.readable_by(user.id, &user.roles),
            Audience::Readers => may_hear(&user.roles, &self.change.record_type),
        }
    }
}

/// Who may hear about each of `entries`. FMEA entries look their FMEA up only when some FMEA is
/// not for business use (otherwise every reader of FMEAs may hear them).
async fn audiences(store: &dyn Store, entries: &[AuditEntry]) -> Vec<Heard> {
    let restricted: Vec<Fmea> = if entries.iter().any(|e| e.record_type.starts_with("fmea")) {
        match store.list_fmeas().await {
            Ok(fmeas) => fmeas.into_iter().filter(|f| f.confidentiality != Confidentiality::BusinessUse).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "live updates: cannot read the FMEAs' confidentiality");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let restricted_fmea = |id: FmeaId| restricted.iter().find(|f| f.id == id).cloned().map(Box::new);
    let mut heard = Vec::with_capacity(entries.len());
    for e in entries {
        let new_id = |field: &str| e.changes.get(field).and_then(|c| c.new.as_i64());
        let audience = match e.record_type.as_str() {
            "notice" => Audience::Person(new_id("user_id").or(e.actor_id)),
            "notice_settings" | "dashboard_layout" => Audience::Person(e.actor_id),
            "fmea" => restricted_fmea(FmeaId(e.record_id)).map_or(Audience::Readers, Audience::Fmea),
            "fmea_row" if !restricted.is_empty() => {
                let fmea = match store.get_row(RowId(e.record_id)).await {
                    Ok(Some(row)) => Ok(restricted_fmea(row.fmea_id)),
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                match fmea {
                    Ok(Some(f)) => Audience::Fmea(f),
                    Ok(None) => Audience::Readers,
                    // Not known: nobody but those the kind's permission and no FMEA would allow.
                    Err(err) => {
                        tracing::warn!(error = %err, "live updates: cannot read an FMEA row's FMEA");
                        Audience::Person(None)
                    }
                }
            }
            _ => Audience::Readers,
        };
        let about_user =
            (e.record_type == <shared::auth::User as shared::org::Record>::RECORD_TYPE).then_some(e.record_id);
        heard.push(Heard { change: RecordChanged::from(e), audience, about_user });
    }
    heard
}

/// Sends each new audit entry's headline to the listeners.
async fn tail(store: Arc<dyn Store>, sender: broadcast::Sender<Arc<Heard>>) {
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
                for heard in audiences(store.as_ref(), &entries).await {
                    last = heard.change.seq;
                    let _ = sender.send(Arc::new(heard));
                }
            }
            Err(e) => tracing::warn!(error = %e, "live updates: cannot read the audit trail"),
        }
    }
}

/// Whether the session behind a stream is still live; its user's roles as they are now.
async fn live_roles(state: &AppState, token: &str) -> Option<Vec<shared::auth::Role>> {
    let now = chrono::Utc::now();
    let idle = chrono::Duration::from_std(state.passwords.config().idle_timeout).unwrap_or_default();
    match state.store.session_by_token(token).await {
        Ok(Some(s))
            if s.ended_at.is_none() && !s.user_retired && now < s.expires_at && now - s.last_seen_at <= idle =>
        {
            Some(s.user.roles)
        }
        _ => None,
    }
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
        |(mut receiver, mut checks, state, token, mut user, mut stop)| {
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
                            Ok(heard) => {
                                if heard.about_user == Some(user.id.0) {
                                    // Their roles, password or sessions changed: look again now.
                                    let roles = live_roles(&state, &token).await?;
                                    user.roles = roles;
                                }
                                if heard.heard_by(&user) {
                                    let change = &heard.change;
                                    let data = serde_json::to_string(change).unwrap_or_default();
                                    let event = Event::default().event(CHANGE).id(change.seq.to_string()).data(data);
                                    return Some((Ok(event), (receiver, checks, state, token, user, stop)));
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                let event = Event::default().event("resync").data("{}");
                                return Some((Ok(event), (receiver, checks, state, token, user, stop)));
                            }
                            Err(broadcast::error::RecvError::Closed) => return None,
                        },
                        _ = checks.tick() => {
                            let roles = live_roles(&state, &token).await?;
                            user.roles = roles;
                        }
                    }
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
