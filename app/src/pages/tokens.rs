//! A user's API tokens (administrator): for scripts and outside systems (an ERP posting its
//! monthly figures), which then need no browser session. A token acts as its user, with their
//! roles; its secret is shown once, when issued, and only its hash is kept; revoking one ends it
//! at once.

use leptos::prelude::*;
use shared::auth::{ApiToken, ApiTokenInput, UserId};

use crate::api::{self, ApiError};
use crate::components::field::error_lines;
use crate::components::status::{format_utc, loaded, today_utc};

/// The tokens of `user`, with "Issue a token" and "Revoke".
#[component]
pub fn Tokens(user: UserId) -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let tokens = crate::data::resource(move || {
        reload.track();
        api::user_tokens(user)
    });
    let name = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let secret = RwSignal::new(None::<String>);
    let issue = crate::data::action(move |input: &ApiTokenInput| {
        let input = input.clone();
        async move {
            match api::issue_token(user, &input).await {
                Ok(new) => {
                    secret.set(Some(new.secret));
                    name.set(String::new());
                    expires.set(String::new());
                    problems.set(Vec::new());
                    reload.update(|n| *n += 1);
                }
                Err(ApiError::Status(_, body)) if !body.field_errors.is_empty() => {
                    problems.set(error_lines(&body.field_errors))
                }
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let revoke = crate::data::action(move |id: &i64| {
        let id = *id;
        async move {
            match api::revoke_token(id).await {
                Ok(_) => reload.update(|n| *n += 1),
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        secret.set(None);
        let day = expires.get();
        let input = ApiTokenInput { name: name.get().trim().to_string(), expires_on: day.trim().parse().ok() };
        let mut lines = Vec::new();
        if input.name.is_empty() {
            lines.push("name: required".to_string());
        }
        if input.expires_on.is_some_and(|d| d < today_utc()) || (!day.trim().is_empty() && input.expires_on.is_none()) {
            lines.push("expires_on: not a day from today on".to_string());
        }
        if lines.is_empty() {
            issue.dispatch(input);
        } else {
            problems.set(lines);
        }
    };
    view! {
        <section class="card" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="muted">
                "For scripts and outside systems: send " <code>"Authorization: Bearer cal_…"</code>
                " and the request acts as this user, with their roles. The secret is shown once."
            </p>
            {loaded(tokens, "the tokens", move |list: Vec<ApiToken>| if list.is_empty() {
                view! { <p class="empty">"No token."</p> }.into_any()
            } else {
                view! {
                    <table class="grid" aria-label="API tokens">
                        <thead><tr>
                            <th scope="col">"Name"</th><th scope="col">"Issued"</th><th scope="col">"Expires"</th>
                            <th scope="col">"Last used"</th><th scope="col">"State"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|t| {
                                let id = t.id;
                                let live = t.revoked_at.is_none() && t.expires_on.is_none_or(|d| d >= today_utc());
                                view! {
                                    <tr data-testid="token-row">
                                        <td>{t.name.clone()}</td>
                                        <td class="nowrap">{format_utc(&t.created_at)}</td>
                                        <td class="nowrap">{t.expires_on.map(|d| d.to_string()).unwrap_or_else(|| "never".into())}</td>
                                        <td class="nowrap">{t.last_used_at.map(|d| format_utc(&d)).unwrap_or_else(|| "never".into())}</td>
                                        <td>{match t.revoked_at {
                                            Some(at) => format!("revoked {}", format_utc(&at)),
                                            None if live => "active".to_string(),
                                            None => "expired".to_string(),
                                        }}</td>
                                        <td>{live.then(|| view! {
                                            <button type="button" class="btn btn-small" aria-label=format!("Revoke {}", t.name)
                                                on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
            <form class="form form-inline" on:submit=on_submit novalidate aria-label="Issue a token">
                <label class="field-inline">"Name " <input name="name" placeholder="e.g. ERP monthly figures" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <label class="field-inline">"Expires (optional) " <input type="date" name="expires_on" prop:value=move || expires.get() on:input=move |ev| expires.set(event_target_value(&ev)) /></label>
                <button type="submit" class="btn">"Issue a token"</button>
            </form>
            {move || secret.get().map(|s| view! {
                <div class="alert alert-ok" role="status" data-testid="token-secret">
                    <p>"The token's secret, shown this once: copy it now."</p>
                    <p><code class="secret">{s}</code></p>
                </div>
            })}
            {move || (!problems.get().is_empty()).then(|| view! {
                <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            })}
        </section>
    }
}
