//! Admin: the organisation's structure.

use leptos::prelude::*;
use leptos_router::components::A;

use leptos::ev::SubmitEvent;
use shared::auth::Permission;
use shared::org::{DepartmentInput, SiteId, SiteInput};

use crate::api;
use crate::components::field::{FieldError, TextField};
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::components::status::{LifeBadge, loaded};
use crate::session::{can, session};

crate::area!(admin, Page {
    Home => AdminHome,
    Processes => crate::pages::processes::list::ProcessList,
    ProcessNew => crate::pages::processes::edit::ProcessNew,
    Process => crate::pages::processes::edit::ProcessEdit,
    Departments => DepartmentList,
    Sites => SiteList,
});

/// People: users, their sessions and failed sign-ins, a chunk of its own (see [`crate::area`]).
pub mod people {
    crate::area!(admin_people, Page {
        Users => crate::pages::users::UserList,
        UserNew => crate::pages::users::UserNew,
        User => crate::pages::users::UserEdit,
        Sessions => crate::pages::security::SessionList,
        FailedSignIns => crate::pages::security::FailedSignIns,
    });
}

/// The audit trail, a chunk of its own (see [`crate::area`]).
pub mod audit {
    crate::area!(admin_audit, Page { Trail => crate::pages::audit::AuditTrail });
}

/// The admin area's cards: (path, title, what it holds, who may open it).
const CARDS: &[(&str, &str, &str, &[Permission])] = &[
    (
        "/admin/processes",
        "Processes",
        "QMS processes, their owners and departments (ISO 9001 4.4)",
        &[Permission::ViewOrganisation],
    ),
    ("/admin/departments", "Departments", "Who runs which processes, by site", &[Permission::ViewOrganisation]),
    ("/admin/sites", "Sites", "The organisation's locations", &[Permission::ViewOrganisation]),
    (
        "/admin/audit",
        "Audit trail",
        "Every change, old → new, hash-chained (21 CFR 11.10(e))",
        &[Permission::ViewAuditTrail],
    ),
    (
        "/admin/users",
        "Users",
        "Accounts, roles, temporary passwords (21 CFR 11.10(d), 11.300)",
        &[Permission::ManageUsers],
    ),
    ("/admin/sessions", "Sessions", "Who is signed in now; end a session", &[Permission::ManageSessions]),
    (
        "/admin/security",
        "Failed sign-ins",
        "Failed and refused sign-in attempts (11.300(d))",
        &[Permission::ManageSessions],
    ),
];

/// The admin area's index: the cards the user may open.
#[component]
pub fn AdminHome() -> impl IntoView {
    let s = session();
    view! {
        <section>
            <h1>"Admin"</h1>
            <ul class="cards">
                {move || {
                    CARDS
                        .iter()
                        .filter(|(.., needs)| can(s, needs))
                        .map(|(href, title, text, _)| view! {
                            <li><A href=*href><strong>{*title}</strong><span>{*text}</span></A></li>
                        })
                        .collect_view()
                }}
            </ul>
            {can(s, &[Permission::ManageOrganisation]).then(|| view! { <DocumentSettingsForm /> })}
        </section>
    }
}

/// The installation's document settings: how revisions are labelled (letters or numbers; a
/// change labels the revisions created after it, a label once given never changes).
#[component]
fn DocumentSettingsForm() -> impl IntoView {
    use shared::document::{DocumentSettings, RevisionScheme};
    let current = crate::data::resource(api::document_settings);
    let choice = RwSignal::new(None::<RevisionScheme>);
    let state = RwSignal::new(Submitted::default());
    let save = crate::data::action(move |settings: &DocumentSettings| {
        let settings = *settings;
        async move {
            state.set(Submitted::from_result(api::set_document_settings(&settings).await, |_| {
                "Saved: revisions created from now on are labelled this way.".to_string()
            }));
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(revision_labels) = choice.get() {
            save.dispatch(DocumentSettings { revision_labels });
        }
    };
    view! {
        <section class="card" aria-labelledby="document-settings-title">
            <h2 id="document-settings-title">"Document control"</h2>
            {loaded(current, "the document settings", move |settings: DocumentSettings| {
                if choice.get_untracked().is_none() {
                    choice.set(Some(settings.revision_labels));
                }
                let option = move |scheme: RevisionScheme, label: &'static str| view! {
                    <label class="check">
                        <input type="radio" name="revision_labels" value=scheme.as_str()
                            prop:checked=move || choice.get() == Some(scheme) on:change=move |_| choice.set(Some(scheme)) />
                        {label}
                    </label>
                };
                view! {
                    <form class="form" on:submit=on_submit novalidate>
                        {outcome_view(state)}
                        <fieldset class="field">
                            <legend>"Revision labels"</legend>
                            {option(RevisionScheme::Letters, "Letters: A, B, C … Z, AA")}
                            {option(RevisionScheme::Numbers, "Numbers: 1, 2, 3 …")}
                        </fieldset>
                        <p class="muted">"Revisions already labelled keep their labels."</p>
                        <div class="actions"><button type="submit" class="btn btn-primary">"Save"</button></div>
                    </form>
                }
            })}
        </section>
    }
}

/// Departments, and a form for those who manage the organisation.
#[component]
pub fn DepartmentList() -> impl IntoView {
    let departments = crate::data::resource(|| api::list_departments(true));
    let sites = crate::data::resource(|| api::list_sites(false));
    let name = RwSignal::new(String::new());
    let site = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let manager = session();
    let create = crate::data::action(move |input: &DepartmentInput| {
        let input = input.clone();
        async move {
            let result = api::create_department(&input).await;
            if result.is_ok() {
                name.set(String::new());
                departments.refetch();
            }
            state.set(Submitted::from_result(result, |d| format!("Department “{}” created.", d.name)));
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = DepartmentInput { name: name.get(), site_id: site.get().parse().ok().map(SiteId), version: None }
            .normalized();
        if passes(state, input.validate()) {
            create.dispatch(input);
        }
    };
    view! {
        <section>
            <h1>"Departments"</h1>
            <details class="create" hidden=move || !can(manager, &[Permission::ManageOrganisation])>
                <summary>"New department"</summary>
                <form class="form" on:submit=on_submit novalidate>
                    {outcome_view(state)}
                    <TextField name="name" label="Name" value=name errors required=true />
                    <div class="field">
                        <label for="field-site_id">"Site"</label>
                        <select id="field-site_id" name="site_id" prop:value=move || site.get() on:change=move |ev| site.set(event_target_value(&ev))>
                            <option value="">"No particular site"</option>
                            {move || sites.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|s| view! {
                                <option value=s.id.to_string()>{s.name}</option>
                            }).collect_view()}
                        </select>
                        <FieldError name="site_id" errors id="field-site_id-error".to_string() />
                    </div>
                    <div class="actions"><button type="submit" class="btn btn-primary">"Create department"</button></div>
                </form>
            </details>
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

/// Sites, and a form for those who manage the organisation.
#[component]
pub fn SiteList() -> impl IntoView {
    let sites = crate::data::resource(|| api::list_sites(true));
    let code = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let manager = session();
    let create = crate::data::action(move |input: &SiteInput| {
        let input = input.clone();
        async move {
            let result = api::create_site(&input).await;
            if result.is_ok() {
                for field in [code, name, address] {
                    field.set(String::new());
                }
                sites.refetch();
            }
            state.set(Submitted::from_result(result, |s| format!("Site {} “{}” created.", s.code, s.name)));
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input =
            SiteInput { code: code.get(), name: name.get(), address: address.get(), version: None }.normalized();
        if passes(state, input.validate()) {
            create.dispatch(input);
        }
    };
    view! {
        <section>
            <h1>"Sites"</h1>
            <details class="create" hidden=move || !can(manager, &[Permission::ManageOrganisation])>
                <summary>"New site"</summary>
                <form class="form" on:submit=on_submit novalidate>
                    {outcome_view(state)}
                    <TextField name="code" label="Code (letters, digits, -)" value=code errors required=true />
                    <TextField name="name" label="Name" value=name errors required=true />
                    <TextField name="address" label="Address" value=address errors multiline=true />
                    <div class="actions"><button type="submit" class="btn btn-primary">"Create site"</button></div>
                </form>
            </details>
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
