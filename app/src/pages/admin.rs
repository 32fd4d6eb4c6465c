//! Admin: the organisation's structure.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::status::{LifeBadge, loaded};

/// The admin area's index.
#[component]
pub fn AdminHome() -> impl IntoView {
    view! {
        <section>
            <h1>"Admin"</h1>
            <ul class="cards">
                <li><A href="/admin/processes"><strong>"Processes"</strong><span>"QMS processes, their owners and departments (ISO 9001 4.4)"</span></A></li>
                <li><A href="/admin/departments"><strong>"Departments"</strong><span>"Who runs which processes, by site"</span></A></li>
                <li><A href="/admin/sites"><strong>"Sites"</strong><span>"The organisation's locations"</span></A></li>
                <li><A href="/admin/audit"><strong>"Audit trail"</strong><span>"Every change, old → new, hash-chained (21 CFR 11.10(e))"</span></A></li>
            </ul>
            <p class="muted">"Users, roles and electronic signatures are not available yet."</p>
        </section>
    }
}

/// Departments, read-only for now (managed through the API).
#[component]
pub fn DepartmentList() -> impl IntoView {
    let departments = LocalResource::new(|| api::list_departments(true));
    view! {
        <section>
            <h1>"Departments"</h1>
            {loaded(departments, "the departments", |list| view! {
                <table class="grid" aria-label="Departments">
                    <thead><tr><th>"Name"</th><th>"Site"</th><th>"Status"</th><th class="num">"Version"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|d| view! {
                            <tr>
                                <td>{d.name}</td>
                                <td>{d.site_name.unwrap_or_default()}</td>
                                <td><LifeBadge retired=d.meta.retired_at.is_some() /></td>
                                <td class="num">{d.meta.version}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// Sites, read-only for now (managed through the API).
#[component]
pub fn SiteList() -> impl IntoView {
    let sites = LocalResource::new(|| api::list_sites(true));
    view! {
        <section>
            <h1>"Sites"</h1>
            {loaded(sites, "the sites", |list| view! {
                <table class="grid" aria-label="Sites">
                    <thead><tr><th>"Code"</th><th>"Name"</th><th>"Address"</th><th>"Status"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|s| view! {
                            <tr>
                                <td><code>{s.code}</code></td>
                                <td>{s.name}</td>
                                <td>{s.address}</td>
                                <td><LifeBadge retired=s.meta.retired_at.is_some() /></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}
