//! The application shell: the session gate (sign in, change a temporary password), then the
//! router and layout with navigation by area.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use shared::auth::Permission;

use crate::api::{self, ApiError};
use crate::components::not_available::NotAvailable;
use crate::pages::risks::work;
use crate::pages::sign_in::{ChangePassword, SignIn, SignOut};
use crate::pages::{admin, dashboard, documents, fmea, quality, risks, training};
use crate::session::{Session, can, role_labels, session};

/// Shown on the sign-in page when a request found the session ended.
pub const SESSION_ENDED: &str = "Your session has ended; sign in again.";

/// Who sees an area that every signed-in user may read.
const ANYONE: &[Permission] = &[Permission::ViewOrganisation];

/// An area in the navigation.
pub struct Area {
    pub href: &'static str,
    pub label: &'static str,
    /// Permissions of which one is needed to see it.
    pub needs: &'static [Permission],
    /// Starts loading the area's chunk (on hover or focus of its link); `None` for an area that
    /// is not built yet.
    pub prefetch: Option<fn()>,
}

const fn area(href: &'static str, label: &'static str, needs: &'static [Permission], prefetch: Option<fn()>) -> Area {
    Area { href, label, needs, prefetch }
}

/// The areas of Caliper, in navigation order.
pub const AREAS: &[Area] = &[
    area("/", "Dashboard", &[Permission::ViewDashboard], Some(dashboard::prefetch)),
    area("/work", "My work", ANYONE, Some(work::prefetch)),
    area("/inbox", "Inbox", ANYONE, Some(work::prefetch)),
    area("/documents", "Documents", &[Permission::ViewDocuments], Some(documents::prefetch)),
    area(
        "/training",
        "Training",
        &[Permission::CompleteTraining, Permission::ViewTrainingRecords, Permission::ViewTeamTrainingRecords],
        Some(training::prefetch),
    ),
    area("/fmea", "FMEA", &[Permission::ViewFmeas], Some(fmea::prefetch)),
    area("/risks", "Risks", &[Permission::ViewRisks], Some(risks::prefetch)),
    area("/quality/ncs", "Nonconformance", &[Permission::ViewQuality], Some(quality::ncs::prefetch)),
    area("/quality/complaints", "Complaints", &[Permission::ViewQuality], Some(quality::complaints::prefetch)),
    area("/quality/capas", "CAPA", &[Permission::ViewQuality], Some(quality::capas::prefetch)),
    area("/audits", "Audits", ANYONE, None),
    area("/suppliers", "Suppliers", ANYONE, None),
    area("/changes", "Changes", ANYONE, None),
    area("/management-review", "Management review", ANYONE, None),
    area(
        "/admin",
        "Admin",
        &[
            Permission::ManageUsers,
            Permission::ManageSessions,
            Permission::ManageOrganisation,
            Permission::ManageProcesses,
            Permission::EditOwnProcesses,
            Permission::ViewAuditTrail,
        ],
        Some(admin::prefetch),
    ),
];

/// Where the app is in the session's life.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Starting,
    SignedOut,
    MustChangePassword,
    SignedIn,
}

/// The root component: asks the server for the session, then shows the sign-in page, the
/// password change, or the app.
#[component]
pub fn App() -> impl IntoView {
    let session: Session = RwSignal::new(None);
    provide_context(session);
    // A person's actions, for the session's idle time (see api::IDLE_HEADER).
    api::watch_actions();
    let started = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    api::on_session_end(move || {
        if session.with_untracked(Option::is_some) {
            session.set(None);
            notice.set(Some(SESSION_ENDED.into()));
        }
    });
    leptos::task::spawn_local(async move {
        match api::get_session().await {
            Ok(info) => session.set(Some(info)),
            Err(ApiError::Status(401, _)) => {}
            Err(e) => notice.set(Some(e.to_string())),
        }
        started.set(true);
    });
    // Only the stage re-renders the page; other session changes (e.g. the signature agreement)
    // update in place.
    let stage = Memo::new(move |_| match session.with(|s| s.as_ref().map(|s| s.must_change_password)) {
        _ if !started.get() => Stage::Starting,
        None => Stage::SignedOut,
        Some(true) => Stage::MustChangePassword,
        Some(false) => Stage::SignedIn,
    });
    move || match stage.get() {
        Stage::Starting => view! { <p class="muted gate" role="status">"Loading Caliper…"</p> }.into_any(),
        Stage::SignedOut => view! { <SignIn notice /> }.into_any(),
        Stage::MustChangePassword => view! { <ChangePassword /> }.into_any(),
        Stage::SignedIn => view! { <Shell /> }.into_any(),
    }
}

/// The signed-in app: navigation and pages.
#[component]
fn Shell() -> impl IntoView {
    crate::session::listen_for_changes();
    view! {
        <Router>
            <div class="shell">
                <Nav />
                <main class="content" id="main">
                    <Routes fallback=|| view! { <NotAvailable area="This page".to_string() missing=true /> }>
                        <Route path=path!("/admin") view=|| admin::route(admin::Page::Home) />
                        <Route path=path!("/admin/processes") view=|| admin::route(admin::Page::Processes) />
                        <Route path=path!("/admin/processes/new") view=|| admin::route(admin::Page::ProcessNew) />
                        <Route path=path!("/admin/processes/:id") view=|| admin::route(admin::Page::Process) />
                        <Route path=path!("/admin/departments") view=|| admin::route(admin::Page::Departments) />
                        <Route path=path!("/admin/sites") view=|| admin::route(admin::Page::Sites) />
                        <Route path=path!("/admin/audit") view=|| admin::audit::route(admin::audit::Page::Trail) />
                        <Route path=path!("/admin/users") view=|| admin::people::route(admin::people::Page::Users) />
                        <Route path=path!("/admin/users/new") view=|| admin::people::route(admin::people::Page::UserNew) />
                        <Route path=path!("/admin/users/:id") view=|| admin::people::route(admin::people::Page::User) />
                        <Route path=path!("/admin/sessions") view=|| admin::people::route(admin::people::Page::Sessions) />
                        <Route path=path!("/admin/security") view=|| admin::people::route(admin::people::Page::FailedSignIns) />
                        <Route path=path!("/documents") view=|| documents::route(documents::Page::List) />
                        <Route path=path!("/documents/new") view=|| documents::route(documents::Page::New) />
                        <Route path=path!("/documents/:id") view=|| documents::page::chunk::route(documents::page::chunk::Page::Document) />
                        <Route path=path!("/documents/:id/revisions/:rev") view=|| documents::revision::chunk::route(documents::revision::chunk::Page::Revision) />
                        <Route path=path!("/documents/:id/revisions/:rev/print") view=|| documents::revision::chunk::route(documents::revision::chunk::Page::Print) />
                        <Route path=path!("/training") view=|| training::route(training::Page::Mine) />
                        <Route path=path!("/training/matrix") view=|| training::matrix::records::route(training::matrix::records::Page::Matrix) />
                        <Route path=path!("/training/setup") view=|| training::setup::admin::route(training::setup::admin::Page::Setup) />
                        <Route path=path!("/training/trained-on") view=|| training::matrix::records::route(training::matrix::records::Page::TrainedOn) />
                        <Route path=path!("/training/sessions") view=|| training::setup::admin::route(training::setup::admin::Page::Sessions) />
                        <Route path=path!("/training/assignments/:id") view=|| training::route(training::Page::Assignment) />
                        <Route path=path!("/fmea") view=|| fmea::route(fmea::Page::List) />
                        <Route path=path!("/fmea/new") view=|| fmea::route(fmea::Page::New) />
                        <Route path=path!("/fmea/:id") view=|| fmea::worksheet::route(fmea::worksheet::Page::Worksheet) />
                        <Route path=path!("/fmea/:id/header") view=|| fmea::route(fmea::Page::Header) />
                        <Route path=path!("/risks") view=|| risks::route(risks::Page::Register) />
                        <Route path=path!("/risks/new") view=|| risks::form::chunk::route(risks::form::chunk::Page::New) />
                        <Route path=path!("/risks/matrices") view=|| risks::matrices::chunk::route(risks::matrices::chunk::Page::List) />
                        <Route path=path!("/risks/matrices/:id") view=|| risks::matrices::chunk::route(risks::matrices::chunk::Page::Revision) />
                        <Route path=path!("/risks/:id") view=|| risks::form::chunk::route(risks::form::chunk::Page::Risk) />
                        <Route path=path!("/quality/ncs") view=|| quality::ncs::route(quality::ncs::Page::Register) />
                        <Route path=path!("/quality/ncs/new") view=|| quality::ncs::route(quality::ncs::Page::New) />
                        <Route path=path!("/quality/ncs/:id") view=|| quality::ncs::route(quality::ncs::Page::Record) />
                        <Route path=path!("/quality/complaints") view=|| quality::complaints::route(quality::complaints::Page::List) />
                        <Route path=path!("/quality/complaints/new") view=|| quality::complaints::route(quality::complaints::Page::New) />
                        <Route path=path!("/quality/complaints/:id") view=|| quality::complaints::route(quality::complaints::Page::Record) />
                        <Route path=path!("/quality/capas") view=|| quality::capas::route(quality::capas::Page::Register) />
                        <Route path=path!("/quality/capas/:id") view=|| quality::capas::record::route(quality::capas::record::Page::Record) />
                        <Route path=path!("/quality/capas/:id/8d") view=|| quality::capas::record::route(quality::capas::record::Page::EightD) />
                        <Route path=path!("/work") view=|| work::route(work::Page::Mine) />
                        <Route path=path!("/inbox") view=|| work::route(work::Page::Inbox) />
                        <Route path=path!("/") view=|| dashboard::route(dashboard::Page::Home) />
                        <Route path=path!("/dashboard/overdue") view=|| dashboard::route(dashboard::Page::Overdue) />
                        <Route path=path!("/dashboard/measurements") view=|| dashboard::chart::chunk::route(dashboard::chart::chunk::Page::Measurements) />
                        <Route path=path!("/dashboard/kpi/:kpi") view=|| dashboard::chart::chunk::route(dashboard::chart::chunk::Page::Kpi) />
                        <Route path=path!("/:area") view=AreaPlaceholder />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// The left-hand navigation: one link per area the user may see, and who is signed in.
#[component]
fn Nav() -> impl IntoView {
    let s = session();
    view! {
        <nav class="nav" aria-label="Areas">
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                <span>"Caliper"</span>
            </a>
            <ul>
                {move || {
                    AREAS
                        .iter()
                        .filter(|a| can(s, a.needs))
                        .map(|a| {
                            // Hover or focus starts loading the area's code, so the click
                            // usually finds it ready.
                            let prefetch = move || {
                                if let Some(f) = a.prefetch {
                                    f();
                                }
                            };
                            view! {
                                <li on:pointerenter=move |_| prefetch() on:focusin=move |_| prefetch()>
                                    <A href=a.href exact=a.href == "/">
                                        {a.label}
                                        {(a.href == "/inbox").then(|| view! { <UnreadBadge /> })}
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <div class="user" role="group" aria-label="Signed-in user" data-testid="signed-in-user">
                {move || {
                    s.with(|s| {
                        s.as_ref().map(|s| {
                            view! {
                                <strong class="user-name">{s.user.full_name.clone()}</strong>
                                <span class="user-roles">{role_labels(&s.user.roles)}</span>
                            }
                        })
                    })
                }}
                <SignOut />
            </div>
        </nav>
    }
}

/// The number of unread notices, beside "Inbox" (nothing when none); it follows live updates.
#[component]
fn UnreadBadge() -> impl IntoView {
    let changes = crate::session::changes_of("notice");
    let unread = crate::data::resource(move || {
        changes.track();
        api::unread_notices()
    });
    move || match unread.get() {
        Some(Ok(n)) if n > 0 => Some(view! {
            " " <span class="count-badge" data-testid="unread-count">{n}<span class="sr-only">" unread"</span></span>
        }),
        _ => None,
    }
}

/// An area that is not built yet, named from the path.
#[component]
fn AreaPlaceholder() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    move || {
        let slug = params.read().get("area").unwrap_or_default();
        match AREAS.iter().find(|a| a.href.trim_start_matches('/') == slug) {
            Some(a) => view! { <NotAvailable area=a.label.to_string() /> }.into_any(),
            None => view! { <NotAvailable area="This page".to_string() missing=true /> }.into_any(),
        }
    }
}
