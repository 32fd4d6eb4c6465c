//! Admin: the organisation's structure.

use leptos::prelude::*;
use leptos_router::components::A;

use leptos::ev::SubmitEvent;
use shared::FieldErrors;
use shared::org::{DepartmentInput, SiteId, SiteInput};

use crate::api::{self, ApiError};
use crate::components::field::{FieldError, TextField};
use crate::components::status::{LifeBadge, NOT_SAVED, loaded};

/// What a create form shows after submitting: field errors (from the shared rules or the
/// server's 422) or a message.
#[derive(Debug, Clone, Default, PartialEq)]
struct Submitted {
    errors: FieldErrors,
    message: Option<(bool, String)>,
}

impl Submitted {
    fn from_result<T>(result: Result<T, ApiError>, saved: impl FnOnce(T) -> String) -> Self {
        match result {
            Ok(record) => Submitted { errors: FieldErrors::new(), message: Some((true, saved(record))) },
            Err(ApiError::Status(_, body)) if !body.field_errors.is_empty() => {
                Submitted { errors: body.field_errors, message: Some((false, body.message)) }
            }
            Err(e) => Submitted { errors: FieldErrors::new(), message: Some((false, e.to_string())) },
        }
    }
}

/// The shared rules, run before sending: true when the input may be sent; otherwise the
/// errors are shown next to their fields.
fn passes(state: RwSignal<Submitted>, rules: Result<(), FieldErrors>) -> bool {
    match rules {
        Ok(()) => true,
        Err(errors) => {
            state.set(Submitted { errors, message: Some((false, NOT_SAVED.into())) });
            false
        }
    }
}

/// The outcome line of a create form.
fn outcome_view(state: RwSignal<Submitted>) -> impl IntoView {
    move || {
        state.with(|s| s.message.clone()).map(|(ok, text)| {
            if ok {
                view! { <div class="alert alert-ok" role="status">{text}</div> }.into_any()
            } else {
                view! { <div class="alert alert-error" role="alert">{text}</div> }.into_any()
            }
        })
    }
}

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
    let sites = LocalResource::new(|| api::list_sites(false));
    let name = RwSignal::new(String::new());
    let site = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = Signal::derive(move || state.with(|s| s.errors.clone()));
    let create = Action::new_local(move |input: &DepartmentInput| {
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
            <details class="create">
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

/// Sites, read-only for now (managed through the API).
#[component]
pub fn SiteList() -> impl IntoView {
    let sites = LocalResource::new(|| api::list_sites(true));
    let code = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = Signal::derive(move || state.with(|s| s.errors.clone()));
    let create = Action::new_local(move |input: &SiteInput| {
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
            <details class="create">
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
