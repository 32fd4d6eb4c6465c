//! The signed-in session, shared by every page through a context. The server decides what is
//! allowed; the app reads the same permission table only to hide what the user cannot do.

use leptos::prelude::*;
use shared::auth::{Permission, Role, SessionInfo};
use shared::events::{CHANGE, RecordChanged};

/// The session as the app knows it: `None` while signed out.
pub type Session = RwSignal<Option<SessionInfo>>;

/// The session context.
pub fn session() -> Session {
    expect_context::<Session>()
}

/// Whether the signed-in user holds any of `ps` (reactive).
pub fn can(session: Session, ps: &[Permission]) -> bool {
    session.with(|s| s.as_ref().is_some_and(|s| ps.iter().any(|p| s.can(*p))))
}

/// Role names as a person reads them, comma-separated.
pub fn role_labels(roles: &[Role]) -> String {
    roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")
}

/// The latest change someone made, as heard on `/api/v1/events` (live updates).
#[derive(Debug, Clone, Copy)]
pub struct Changes(pub RwSignal<Option<RecordChanged>>);

/// Listens to `/api/v1/events` for as long as the calling component lives, and provides the
/// [`Changes`] context. A page that shows records of a type reloads when one of them changes.
pub fn listen_for_changes() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let latest = RwSignal::new(None::<RecordChanged>);
    provide_context(Changes(latest));
    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else { return };
    let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if let Some(change) = ev.data().as_string().and_then(|d| serde_json::from_str::<RecordChanged>(&d).ok()) {
            latest.set(Some(change));
        }
    });
    let _ = source.add_event_listener_with_callback(CHANGE, on_change.as_ref().unchecked_ref());
    on_change.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}

/// The position of the latest change to a record of `record_type`: read it inside a
/// resource's loader, and the resource reloads when such a record changes (and only then).
pub fn changes_of(record_type: &'static str) -> Memo<Option<i64>> {
    let latest = use_context::<Changes>().map(|c| c.0);
    Memo::new(move |previous: Option<&Option<i64>>| {
        match latest.and_then(|l| l.get()).filter(|c| c.record_type == record_type) {
            Some(change) => Some(change.seq),
            None => previous.copied().flatten(),
        }
    })
}
