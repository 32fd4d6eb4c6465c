//! Nonconformance, complaints and CAPA: the registers, the forms anyone uses to raise an NC or
//! log a complaint, and the record pages where each step is offered to the person whose step it
//! is (the server decides again, with the same shared rules, and names any refusal).

pub mod capas;
pub mod complaints;
pub mod ncs;

use leptos::prelude::*;
use shared::FieldErrors;

use crate::api::ApiError;
use crate::components::field::error_lines;
use crate::components::form::Submitted;

/// The outcome of a step: on success reload the record and say `done`; on failure keep what was
/// typed and show the server's message with its field errors, one line each.
pub(crate) fn settle<T>(result: Result<T, ApiError>, state: RwSignal<Submitted>, reload: RwSignal<u32>, done: &str) {
    match result {
        Ok(_) => {
            state.set(Submitted { errors: FieldErrors::new(), message: Some((true, done.to_string())) });
            reload.update(|n| *n += 1);
        }
        Err(e) => state.set(Submitted::from_result::<()>(Err(e), |()| String::new())),
    }
}

/// The outcome line and the field errors of a step, one line each.
pub(crate) fn step_outcome(state: RwSignal<Submitted>) -> impl IntoView {
    move || {
        state.with(|s| {
            s.message.clone().map(|(ok, text)| {
                let lines = error_lines(&s.errors);
                view! {
                    <div class=if ok { "alert alert-ok" } else { "alert alert-error" } role=if ok { "status" } else { "alert" } data-testid="step-outcome">
                        <p>{text}</p>
                        {(!lines.is_empty()).then(|| view! { <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul> })}
                    </div>
                }
            })
        })
    }
}

/// A date input bound to a text signal (`YYYY-MM-DD`).
#[component]
pub(crate) fn DateInput(name: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type="date" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
        </div>
    }
}

/// A state as a badge with its words.
#[component]
pub(crate) fn StateBadge(label: &'static str, key: &'static str) -> impl IntoView {
    view! { <span class=format!("badge q-{key}") data-state=key>{label}</span> }
}

/// Root-cause suggestions for a description, on request: the likely fishbone categories with
/// their confidence and the most similar closed records. Suggestions only: nothing is filled in.
#[component]
pub(crate) fn RootCauseSuggestions(#[prop(into)] text: Signal<String>) -> impl IntoView {
    let result = RwSignal::new(None::<Result<shared::quality::Suggestions, String>>);
    let ask = crate::data::action(move |t: &String| {
        let t = t.clone();
        async move { result.set(Some(crate::api::suggest(&t).await.map_err(|e| e.to_string()))) }
    });
    view! {
        <div class="suggestions" data-testid="suggestions">
            <button type="button" class="btn btn-small" disabled=move || ask.pending().get()
                on:click=move |_| { ask.dispatch(text.get_untracked()); }>"Suggest root causes"</button>
            <div aria-live="polite">
                {move || result.get().map(|r| match r {
                    Ok(s) => view! {
                        <p class="muted">{format!("Suggested from {} closed records of ours. Not filled in: confirm a cause with evidence.", s.trained_on)}</p>
                        <ol class="guesses" aria-label="Likely root-cause categories">
                            {s.categories.into_iter().map(|g| view! {
                                <li data-testid="suggested-category">{format!("{} — {:.0} %", g.category.label(), g.confidence * 100.0)}</li>
                            }).collect_view()}
                        </ol>
                        {(!s.similar.is_empty()).then(|| view! {
                            <h4>"Similar closed records"</h4>
                            <ul class="similar">
                                {s.similar.into_iter().map(|r| view! {
                                    <li data-testid="similar-record"><strong>{r.number}</strong>{format!(" ({}, {:.0} % alike): {}", r.category.label(), r.similarity * 100.0, r.excerpt)}</li>
                                }).collect_view()}
                            </ul>
                        })}
                    }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e}</div> }.into_any(),
                })}
            </div>
        </div>
    }
}
