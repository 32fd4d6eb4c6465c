//! The application shell: router and layout with navigation by area.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::components::not_available::NotAvailable;
use crate::pages::admin::{AdminHome, DepartmentList, SiteList};
use crate::pages::audit::AuditTrail;
use crate::pages::processes::edit::{ProcessEdit, ProcessNew};
use crate::pages::processes::list::ProcessList;

/// The areas of Caliper, in navigation order: (path, label, issue that builds it or `None`
/// when it exists).
pub const AREAS: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/documents", "Documents"),
    ("/training", "Training"),
    ("/fmea", "FMEA"),
    ("/risks", "Risks"),
    ("/capa", "CAPA"),
    ("/nonconformance", "Nonconformance"),
    ("/audits", "Audits"),
    ("/suppliers", "Suppliers"),
    ("/changes", "Changes"),
    ("/management-review", "Management review"),
    ("/admin", "Admin"),
];

/// The root component.
#[component]
pub fn App() -> impl IntoView {
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
                        <Route path=path!("/") view=|| view! { <NotAvailable area="Dashboard".to_string() /> } />
                        <Route path=path!("/:area") view=AreaPlaceholder />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// The left-hand navigation, one link per area.
#[component]
fn Nav() -> impl IntoView {
    view! {
        <nav class="nav" aria-label="Areas">
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                <span>"Caliper"</span>
            </a>
            <ul>
                {AREAS
                    .iter()
                    .map(|(href, label)| {
                        view! {
                            <li>
                                <A href=*href exact=*href == "/">{*label}</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// An area that is not built yet, named from the path.
#[component]
fn AreaPlaceholder() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    move || {
        let slug = params.read().get("area").unwrap_or_default();
        match AREAS.iter().find(|(href, _)| href.trim_start_matches('/') == slug) {
            Some((_, label)) => view! { <NotAvailable area=label.to_string() /> }.into_any(),
            None => view! { <NotAvailable area="This page".to_string() missing=true /> }.into_any(),
        }
    }
}
