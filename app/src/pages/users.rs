//! Admin: users, their roles and passwords (21 CFR 11.10(d), 11.100, 11.300). Users are
//! deactivated, never deleted, and a username is never reused.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::auth::{ResetPasswordInput, Role, User, UserId, UserInput, check_password};
use shared::org::{Department, DepartmentId, Record, RetireInput};
use shared::{ErrorBody, FieldErrors};

use crate::api::{self, ApiError};
use crate::components::field::{FieldError, SelectField, TextField};
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::components::history::RecordHistory;
use crate::components::status::{format_utc, loaded};
use crate::session::role_labels;

/// The user's state as a badge: deactivated, locked (by failed sign-ins) or active.
fn status_badge(u: &User) -> impl IntoView + use<> {
    let now = web_sys::js_sys::Date::now() as i64;
    let (class, text) = if u.meta.retired_at.is_some() {
        ("badge badge-retired", "Deactivated")
    } else if u.locked_until.is_some_and(|t| t.timestamp_millis() > now) {
        ("badge badge-locked", "Locked")
    } else {
        ("badge badge-active", "Active")
    };
    view! { <span class=class>{text}</span> }
}

/// `/admin/users`
#[component]
pub fn UserList() -> impl IntoView {
    let users = crate::data::resource(api::list_users);
    view! {
        <section>
            <header class="page-head">
                <h1>"Users"</h1>
                <div class="tools">
                    <A href="/admin/users/new" attr:class="btn btn-primary">"New user"</A>
                </div>
            </header>
            {loaded(users, "the users", |list| view! {
                <table class="grid" aria-label="Users">
                    <thead>
                        <tr>
                            <th scope="col">"Username"</th>
                            <th scope="col">"Full name"</th>
                            <th scope="col">"Roles"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Password"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.into_iter().map(|u| {
                            let status = status_badge(&u);
                            view! {
                            <tr>
                                <td><A href=format!("/admin/users/{}", u.id)>{u.username.clone()}</A></td>
                                <td>{u.full_name.clone()}</td>
                                <td>{role_labels(&u.roles)}</td>
                                <td>{status}</td>
                                <td>{u.must_change_password.then_some("Must change at next sign-in")}</td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// `/admin/users/new`
#[component]
pub fn UserNew() -> impl IntoView {
    let departments = crate::data::resource(|| api::list_departments(true));
    view! {
        <section>
            <h1>"New user"</h1>
            {loaded(departments, "the departments", |departments| view! { <UserForm record=RwSignal::new(None) departments /> })}
        </section>
    }
}

/// `/admin/users/:id`
#[component]
pub fn UserEdit() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(UserId);
    let user = crate::data::resource(move || {
        let id = id();
        async move {
            let Some(id) = id else {
                return Err(ApiError::Status(404, ErrorBody::new("No such user.")));
            };
            Ok((api::get_user(id).await?, api::list_departments(true).await?))
        }
    });
    view! {
        <section>
            {loaded(user, "the user", |(user, departments)| {
                let heading = user.full_name.clone();
                let record = RwSignal::new(Some(user));
                let active = Memo::new(move |_| record.with(|r| r.as_ref().is_some_and(|u| u.meta.retired_at.is_none())));
                view! {
                    <h1>{heading}</h1>
                    {move || record.get().map(|u| view! {
                        <p class="meta">
                            {status_badge(&u)}
                            " Version " <span data-testid="version">{u.meta.version}</span>
                            {u.must_change_password.then_some(" · must change the password at the next sign-in")}
                            {u.locked_until
                                .filter(|t| t.timestamp_millis() > web_sys::js_sys::Date::now() as i64)
                                .map(|t| format!(" · locked until {}", format_utc(&t)))}
                            {u.meta.retired_reason.map(|r| format!(" · deactivated: {r}"))}
                        </p>
                    })}
                    <UserForm record departments />
                    <Show when=move || active.get()>
                        <ResetPassword record />
                        <Deactivate record />
                    </Show>
                    {move || record.with(|r| r.as_ref().map(|u| u.id)).map(|user| view! { <super::tokens::Tokens user /> })}
                    // Keyed on the version, so the history reloads after every change.
                    {move || record.get().map(|u| view! { <RecordHistory record_type=User::RECORD_TYPE record_id=u.id.0 /> })}
                }
            })}
        </section>
    }
}

/// Create (`record` holds `None`) or edit a user. The username is fixed once created.
#[component]
fn UserForm(
    /// The user being edited, as loaded and then as saved; `None` to create one.
    record: RwSignal<Option<User>>,
    /// Departments to choose from (retired ones only if already chosen).
    departments: Vec<Department>,
) -> impl IntoView {
    let navigate = use_navigate();
    let creating = record.with_untracked(Option::is_none);
    let start = record.with_untracked(|r| r.as_ref().map(UserInput::from_record).unwrap_or_default());
    let username = RwSignal::new(start.username);
    let full_name = RwSignal::new(start.full_name);
    let email = RwSignal::new(start.email);
    let department = RwSignal::new(start.department_id.map(|d| d.to_string()).unwrap_or_default());
    let roles = RwSignal::new(start.roles);
    // Separation of duties: nobody changes their own roles (the server refuses it too).
    let own = !creating
        && crate::session::session().with_untracked(|s| s.as_ref().map(|s| s.user.id))
            == record.with_untracked(|r| r.as_ref().map(|u| u.id));
    let password = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);

    let load = move |u: &User| {
        full_name.set(u.full_name.clone());
        email.set(u.email.clone());
        department.set(u.department_id.map(|d| d.to_string()).unwrap_or_default());
        roles.set(u.roles.clone());
        record.set(Some(u.clone()));
    };
    let input = move || {
        UserInput {
            username: username.get(),
            full_name: full_name.get(),
            email: email.get(),
            department_id: department.get().parse().ok().map(DepartmentId),
            roles: roles.get(),
            password: creating.then(|| password.get()),
            version: record.with(|r| r.as_ref().map(|u| u.meta.version)),
        }
        .normalized()
    };
    let save = crate::data::action(move |input: &UserInput| {
        let input = input.clone();
        let id = record.with_untracked(|r| r.as_ref().map(|u| u.id));
        let navigate = navigate.clone();
        async move {
            let Some(id) = id else {
                match api::create_user(&input).await {
                    Ok(user) => navigate(&format!("/admin/users/{}", user.id), Default::default()),
                    Err(e) => state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
                }
                return;
            };
            match api::update_user(id, &input).await {
                Ok(user) => {
                    load(&user);
                    state.set(Submitted::from_result(Ok(()), |()| "Saved.".into()));
                }
                Err(ApiError::Status(409, body)) => {
                    // Someone else saved first: show theirs, and say so.
                    let current = match body.current.and_then(|c| serde_json::from_value::<User>(c).ok()) {
                        Some(user) => Some(user),
                        None => api::get_user(id).await.ok(),
                    };
                    if let Some(user) = &current {
                        load(user);
                    }
                    state.set(Submitted::failed(format!(
                        "{} The form now shows the saved version; make your change again.",
                        body.message
                    )));
                }
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = input();
        if passes(state, input.validate(creating)) {
            state.set(Submitted::default());
            save.dispatch(input);
        }
    };

    let options = {
        let chosen = department.get_untracked();
        departments
            .into_iter()
            .filter(|d| d.meta.retired_at.is_none() || d.id.to_string() == chosen)
            .map(|d| view! { <option value=d.id.to_string()>{d.name}</option> })
            .collect_view()
    };
    let deactivated = move || record.with(|r| r.as_ref().is_some_and(|u| u.meta.retired_at.is_some()));
    let roles_invalid = move || errors.with(|e| e.get("roles").is_some());
    view! {
        <form class="form" on:submit=on_submit novalidate>
            {outcome_view(state)}
            <fieldset disabled=deactivated>
                <TextField name="username" label="Username" value=username errors required=true readonly=!creating />
                <TextField name="full_name" label="Full name" value=full_name errors required=true />
                <TextField name="email" label="E-mail" value=email errors required=true kind="email" />
                <SelectField name="department_id" label="Department" value=department errors empty="No department">
                    {options}
                </SelectField>
                <fieldset class="roles" class:has-error=roles_invalid aria-describedby="field-roles-error" disabled=own>
                    <legend>"Roles"<span class="req" aria-hidden="true">" *"</span></legend>
                    {own.then(|| view! {
                        <p class="muted">"You cannot change your own roles: ask another administrator."</p>
                    })}
                    {Role::ALL
                        .into_iter()
                        .map(|role| view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    name="roles"
                                    value=role.as_str()
                                    prop:checked=move || roles.with(|r| r.contains(&role))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        roles.update(|r| {
                                            r.retain(|x| *x != role);
                                            if on {
                                                r.push(role);
                                            }
                                        });
                                    }
                                />
                                {role.label()}
                            </label>
                        })
                        .collect_view()}
                    <FieldError name="roles" errors id="field-roles-error".to_string() />
                </fieldset>
                {creating.then(|| view! {
                    <TextField
                        name="password"
                        label="Initial password"
                        value=password
                        errors
                        required=true
                        kind="password"
                        autocomplete="new-password"
                    />
                    <p class="muted">"The user must choose a new password at the first sign-in."</p>
                })}
                <div class="actions">
                    <a class="btn" href="/admin/users">"Back to list"</a>
                    <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                        {if creating { "Create user" } else { "Save" }}
                    </button>
                </div>
            </fieldset>
        </form>
    }
}

/// Set a temporary password (which also unlocks the account).
#[component]
fn ResetPassword(
    /// The user.
    record: RwSignal<Option<User>>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let reset = crate::data::action(move |(id, input): &(UserId, ResetPasswordInput)| {
        let (id, input) = (*id, input.clone());
        async move {
            let result = api::reset_password(id, &input).await;
            if let Ok(user) = &result {
                password.set(String::new());
                record.set(Some(user.clone()));
            }
            state.set(Submitted::from_result(result, |u| {
                format!("Temporary password set. {} must choose a new one at the next sign-in.", u.full_name)
            }));
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some((id, username)) = record.with_untracked(|r| r.as_ref().map(|u| (u.id, u.username.clone()))) else {
            return;
        };
        let input = ResetPasswordInput { new_password: password.get() };
        let mut rules = FieldErrors::new();
        if let Err(code) = check_password(&username, &input.new_password) {
            rules.add("new_password", code);
        }
        if passes(state, rules.into_result()) {
            reset.dispatch((id, input));
        }
    };
    view! {
        <details class="section">
            <summary>"Reset password"</summary>
            <form class="form" on:submit=on_submit novalidate>
                <p class="muted">
                    "Sets a temporary password and unlocks the account. Give it to the user by a separate \
                     channel; they must choose a new one at the next sign-in."
                </p>
                {outcome_view(state)}
                <TextField
                    name="new_password"
                    label="Temporary password"
                    value=password
                    errors
                    required=true
                    kind="password"
                    autocomplete="new-password"
                />
                <div class="actions">
                    <button type="submit" class="btn btn-primary">"Set temporary password"</button>
                </div>
            </form>
        </details>
    }
}

/// Deactivate a user, with a reason: they can no longer sign in and their sessions end.
#[component]
fn Deactivate(
    /// The user, at the version the decision is based on.
    record: RwSignal<Option<User>>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let deactivate = crate::data::action(move |(id, input): &(UserId, RetireInput)| {
        let (id, input) = (*id, input.clone());
        async move {
            match api::deactivate_user(id, &input).await {
                Ok(user) => record.set(Some(user)),
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some((id, version)) = record.with_untracked(|r| r.as_ref().map(|u| (u.id, u.meta.version))) else {
            return;
        };
        let input = RetireInput { reason: reason.get(), version: Some(version) }.normalized();
        if passes(state, input.validate()) {
            deactivate.dispatch((id, input));
        }
    };
    view! {
        <details class="retire">
            <summary>"Deactivate this user"</summary>
            <form class="form" on:submit=on_submit novalidate>
                <p class="muted">
                    "A deactivated user can no longer sign in and their sessions end at once. Their name stays on \
                     every record and signature; the username is never given to anyone else."
                </p>
                {outcome_view(state)}
                <TextField name="reason" label="Reason for deactivating" value=reason errors required=true />
                <div class="actions">
                    <button type="submit" class="btn btn-danger">"Deactivate"</button>
                </div>
            </form>
        </details>
    }
}
