//! The signed-in session, shared by every page through a context. The server decides what is
//! allowed; the app reads the same permission table only to hide what the user cannot do.

use leptos::prelude::*;
use shared::auth::{Permission, Role, SessionInfo};

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
