//! Admin: who is signed in (and ending their sessions), and failed sign-in attempts
//! (21 CFR 11.300(d)).

use leptos::prelude::*;

use crate::api;
use crate::components::form::{Submitted, outcome_view};
use crate::components::status::{format_utc, format_utc_seconds, loaded};

/// `/admin/sessions`
#[component]
pub fn SessionList() -> impl IntoView {
    let sessions = crate::data::resource(api::list_sessions);
    let state = RwSignal::new(Submitted::default());
    let current = crate::session::session().with_untracked(|s| s.as_ref().map_or(0, |s| s.session_id));
    let revoke = crate::data::action(move |(id, name): &(i64, String)| {
        let (id, name) = (*id, name.clone());
        async move {
            let result = api::revoke_session(id).await;
            if result.is_ok() {
                sessions.refetch();
            }
            state.set(Submitted::from_result(result, |()| format!("The session of {name} has ended.")));
        }
    });
    view! {
        <section>
            <h1>"Sessions"</h1>
            <p class="muted">"Everyone signed in now. Revoking a session signs that person out at once."</p>
            {outcome_view(state)}
            {loaded(sessions, "the sessions", move |list| {
                if list.is_empty() {
                    return view! { <p class="empty">"No one is signed in."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="Sessions">
                        <thead>
                            <tr>
                                <th scope="col">"User"</th>
                                <th scope="col">"Signed in"</th>
                                <th scope="col">"Last activity"</th>
                                <th scope="col">"Ends at the latest"</th>
                                <th scope="col">"From"</th>
                                <th scope="col">"Browser"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.into_iter().map(|s| {
                                let name = s.full_name.clone();
                                let agent = s.user_agent.clone();
                                view! {
                                    <tr>
                                        <td>
                                            {s.full_name} " " <span class="muted">"(" {s.username} ")"</span>
                                            {(s.id == current).then(|| view! { " " <span class="badge badge-active">"this session"</span> })}
                                        </td>
                                        <td class="nowrap">{format_utc(&s.created_at)}</td>
                                        <td class="nowrap">{format_utc(&s.last_seen_at)}</td>
                                        <td class="nowrap">{format_utc(&s.expires_at)}</td>
                                        <td>{s.client_address}</td>
                                        <td class="ua" title=agent>{s.user_agent}</td>
                                        <td>
                                            <button type="button" class="btn btn-danger" on:click=move |_| {
                                                revoke.dispatch((s.id, name.clone()));
                                            }>"Revoke"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// `/admin/security`
#[component]
pub fn FailedSignIns() -> impl IntoView {
    let attempts = crate::data::resource(api::failed_sign_ins);
    view! {
        <section>
            <h1>"Failed sign-ins"</h1>
            <p class="muted">
                "Wrong passwords, unknown usernames, and refused sign-ins to locked or deactivated accounts, \
                 newest first."
            </p>
            {loaded(attempts, "the failed sign-ins", |mut list| {
                list.sort_by_key(|f| std::cmp::Reverse(f.seq));
                if list.is_empty() {
                    return view! { <p class="empty">"No failed sign-ins."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="Failed sign-ins">
                        <thead>
                            <tr>
                                <th scope="col">"When (UTC)"</th>
                                <th scope="col">"Username"</th>
                                <th scope="col">"Reason"</th>
                                <th scope="col" class="num">"Attempts"</th>
                                <th scope="col">"From"</th>
                                <th scope="col">"Browser"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.into_iter().map(|f| {
                                let agent = f.user_agent.clone();
                                view! {
                                <tr>
                                    <td class="nowrap">{format_utc_seconds(&f.occurred_at)}</td>
                                    <td>{f.username}</td>
                                    <td>{f.reason}</td>
                                    <td class="num">{f.attempts}</td>
                                    <td>{f.client_address}</td>
                                    <td class="ua" title=agent>{f.user_agent}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}
