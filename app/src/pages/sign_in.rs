//! Signing in, and the new password a user must choose before anything else (21 CFR 11.300).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::auth::{ChangePasswordInput, SignInInput};

use crate::api;
use crate::components::field::{MISMATCH, TextField};
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::session::session;

/// The sign-in page. `notice` says why it is shown (e.g. the session ended).
#[component]
pub fn SignIn(
    /// Why the user is here, when it is not the first visit.
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let s = session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let attempt = crate::data::action(move |input: &SignInInput| {
        let input = input.clone();
        async move {
            match api::sign_in(&input).await {
                Ok(info) => {
                    notice.set(None);
                    s.set(Some(info));
                }
                Err(e) => {
                    password.set(String::new());
                    state.set(Submitted::from_result::<()>(Err(e), |_| String::new()));
                }
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let input = SignInInput { username: username.get().trim().to_string(), password: password.get() };
        let mut missing = shared::FieldErrors::new();
        for (field, value) in [("username", &input.username), ("password", &input.password)] {
            if value.is_empty() {
                missing.add(field, shared::validation::REQUIRED);
            }
        }
        if missing.is_empty() {
            attempt.dispatch(input);
        } else {
            state
                .set(Submitted { errors: missing, message: Some((false, "Enter your username and password.".into())) });
        }
    };
    view! {
        <main class="gate" id="main">
            <form class="form gate-form" on:submit=on_submit novalidate>
                <p class="gate-brand"><img src="/favicon.svg" alt="" width="28" height="28" />" Caliper"</p>
                <h1>"Sign in"</h1>
                {move || notice.get().map(|n| view! { <div class="alert alert-conflict" role="status">{n}</div> })}
                {outcome_view(state)}
                <TextField name="username" label="Username" value=username errors autocomplete="username" />
                <TextField
                    name="password"
                    label="Password"
                    value=password
                    errors
                    kind="password"
                    autocomplete="current-password"
                />
                <div class="actions">
                    <button type="submit" class="btn btn-primary" disabled=move || attempt.pending().get()>
                        "Sign in"
                    </button>
                </div>
            </form>
        </main>
    }
}

/// The new password a user must choose after an administrator set a temporary one.
#[component]
pub fn ChangePassword() -> impl IntoView {
    let s = session();
    let username = s.with_untracked(|s| s.as_ref().map(|s| s.user.username.clone()).unwrap_or_default());
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let change = crate::data::action(move |input: &ChangePasswordInput| {
        let input = input.clone();
        async move {
            match api::change_password(&input).await {
                Ok(info) => s.set(Some(info)),
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = ChangePasswordInput { current_password: current.get(), new_password: new.get() };
        let mut rules = input.validate(&username).err().unwrap_or_default();
        if confirm.get() != input.new_password {
            rules.add("confirm_password", MISMATCH);
        }
        if passes(state, rules.into_result()) {
            change.dispatch(input);
        }
    };
    view! {
        <main class="gate" id="main">
            <form class="form gate-form" on:submit=on_submit novalidate>
                <h1>"Choose a new password"</h1>
                <p>
                    "Your password was set by an administrator, so only you know the new one. Use at least 12 \
                     characters; it must not contain your username or be a commonly used password."
                </p>
                {outcome_view(state)}
                <TextField
                    name="current_password"
                    label="Current password"
                    value=current
                    errors
                    kind="password"
                    autocomplete="current-password"
                    required=true
                />
                <TextField
                    name="new_password"
                    label="New password"
                    value=new
                    errors
                    kind="password"
                    autocomplete="new-password"
                    required=true
                />
                <TextField
                    name="confirm_password"
                    label="Confirm password"
                    value=confirm
                    errors
                    kind="password"
                    autocomplete="new-password"
                    required=true
                />
                <div class="actions">
                    <SignOut />
                    <button type="submit" class="btn btn-primary" disabled=move || change.pending().get()>
                        "Change password"
                    </button>
                </div>
            </form>
        </main>
    }
}

/// The "Sign out" button: ends the session on the server, then in the app.
#[component]
pub fn SignOut() -> impl IntoView {
    let s = session();
    let sign_out = crate::data::action(move |()| async move {
        // Signed out in the app whatever the server answers: the session is gone or will expire.
        let _ = api::sign_out().await;
        s.set(None);
    });
    view! {
        <button type="button" class="btn" on:click=move |_| { sign_out.dispatch(()); }>
            "Sign out"
        </button>
    }
}
