//! The application shell: the session gate (sign in, change a temporary password), then the
//! router and layout with navigation by area.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use shared::auth::Permission;

use crate::api::{self, ApiError};
use crate::components::not_available::NotAvailable;
use crate::pages::admin::{AdminHome, DepartmentList, SiteList};
use crate::pages::audit::AuditTrail;
use crate::pages::dashboard::{Dashboard, Measurements, OverdueWork};
use crate::pages::documents::{DocumentList, DocumentPage};
use crate::pages::fmea::{FmeaHeaderEdit, FmeaList, FmeaNew, FmeaWorksheet};
use crate::pages::processes::edit::{ProcessEdit, ProcessNew};
use crate::pages::processes::list::ProcessList;
use crate::pages::quality::capas::{CapaPage, CapaRegister, EightDReport};
use crate::pages::quality::complaints::{ComplaintList, ComplaintNew, ComplaintPage};
use crate::pages::quality::ncs::{NcNew, NcPage, NcRegister};
use crate::pages::risks::form::{RiskEdit, RiskNew};
use crate::pages::risks::matrices::{MatrixList, MatrixRevisionPage};
use crate::pages::risks::register::RiskRegister;
use crate::pages::risks::work::MyWork;
use crate::pages::security::{FailedSignIns, SessionList};
use crate::pages::sign_in::{ChangePassword, SignIn, SignOut};
use crate::pages::training::matrix::{TrainedOnPage, TrainingMatrix};
use crate::pages::training::setup::TrainingSetup;
use crate::pages::training::{AssignmentPage, MyTraining};
use crate::pages::users::{UserEdit, UserList, UserNew};
use crate::session::{Session, can, role_labels, session};

/// Shown on the sign-in page when a request found the session ended.
pub const SESSION_ENDED: &str = "Your session has ended; sign in again.";

/// Who sees an area that every signed-in user may read.
const ANYONE: &[Permission] = &[Permission::ViewOrganisation];

/// The areas of Caliper, in navigation order: (path, label, permissions of which one is needed
/// to see it).
pub const AREAS: &[(&str, &str, &[Permission])] = &[
    ("/", "Dashboard", &[Permission::ViewDashboard]),
    ("/work", "My work", ANYONE),
    ("/documents", "Documents", &[Permission::ViewDocuments]),
    ("/training", "Training", &[Permission::CompleteTraining, Permission::ViewTrainingRecords]),
    ("/fmea", "FMEA", &[Permission::ViewFmeas]),
    ("/risks", "Risks", &[Permission::ViewRisks]),
    ("/quality/ncs", "Nonconformance", &[Permission::ViewQuality]),
    ("/quality/complaints", "Complaints", &[Permission::ViewQuality]),
    ("/quality/capas", "CAPA", &[Permission::ViewQuality]),
    ("/audits", "Audits", ANYONE),
    ("/suppliers", "Suppliers", ANYONE),
    ("/changes", "Changes", ANYONE),
    ("/management-review", "Management review", ANYONE),
    (
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
                        <Route path=path!("/admin") view=AdminHome />
                        <Route path=path!("/admin/processes") view=ProcessList />
                        <Route path=path!("/admin/processes/new") view=ProcessNew />
                        <Route path=path!("/admin/processes/:id") view=ProcessEdit />
                        <Route path=path!("/admin/departments") view=DepartmentList />
                        <Route path=path!("/admin/sites") view=SiteList />
                        <Route path=path!("/admin/audit") view=AuditTrail />
                        <Route path=path!("/admin/users") view=UserList />
                        <Route path=path!("/admin/users/new") view=UserNew />
                        <Route path=path!("/admin/users/:id") view=UserEdit />
                        <Route path=path!("/admin/sessions") view=SessionList />
                        <Route path=path!("/admin/security") view=FailedSignIns />
                        <Route path=path!("/documents") view=DocumentList />
                        <Route path=path!("/documents/:id") view=DocumentPage />
                        <Route path=path!("/training") view=MyTraining />
                        <Route path=path!("/training/matrix") view=TrainingMatrix />
                        <Route path=path!("/training/setup") view=TrainingSetup />
                        <Route path=path!("/training/trained-on") view=TrainedOnPage />
                        <Route path=path!("/training/assignments/:id") view=AssignmentPage />
                        <Route path=path!("/fmea") view=FmeaList />
                        <Route path=path!("/fmea/new") view=FmeaNew />
                        <Route path=path!("/fmea/:id") view=FmeaWorksheet />
                        <Route path=path!("/fmea/:id/header") view=FmeaHeaderEdit />
                        <Route path=path!("/risks") view=RiskRegister />
                        <Route path=path!("/risks/new") view=RiskNew />
                        <Route path=path!("/risks/matrices") view=MatrixList />
                        <Route path=path!("/risks/matrices/:id") view=MatrixRevisionPage />
                        <Route path=path!("/risks/:id") view=RiskEdit />
                        <Route path=path!("/quality/ncs") view=NcRegister />
                        <Route path=path!("/quality/ncs/new") view=NcNew />
                        <Route path=path!("/quality/ncs/:id") view=NcPage />
                        <Route path=path!("/quality/complaints") view=ComplaintList />
                        <Route path=path!("/quality/complaints/new") view=ComplaintNew />
                        <Route path=path!("/quality/complaints/:id") view=ComplaintPage />
                        <Route path=path!("/quality/capas") view=CapaRegister />
                        <Route path=path!("/quality/capas/:id") view=CapaPage />
                        <Route path=path!("/quality/capas/:id/8d") view=EightDReport />
                        <Route path=path!("/work") view=MyWork />
                        <Route path=path!("/") view=Dashboard />
                        <Route path=path!("/dashboard/overdue") view=OverdueWork />
                        <Route path=path!("/dashboard/measurements") view=Measurements />
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
                        .filter(|(.., needs)| can(s, needs))
                        .map(|(href, label, _)| {
                            view! {
                                <li>
                                    <A href=*href exact=*href == "/">{*label}</A>
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

/// An area that is not built yet, named from the path.
#[component]
fn AreaPlaceholder() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    move || {
        let slug = params.read().get("area").unwrap_or_default();
        match AREAS.iter().find(|(href, ..)| href.trim_start_matches('/') == slug) {
            Some((_, label, _)) => view! { <NotAvailable area=label.to_string() /> }.into_any(),
            None => view! { <NotAvailable area="This page".to_string() missing=true /> }.into_any(),
        }
    }
}
