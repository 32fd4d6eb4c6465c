//! A document's periodic review on its page: when it is due (overdue marked), and for its owner
//! or a document manager the signed review with its one outcome (no change, revise, make
//! obsolete).

use leptos::html::Input;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::FieldErrors;
use shared::auth::Permission;
use shared::document::{Document, PeriodicReviewInput, ReviewOutcome, RevisionStatus};

use crate::api::{self, ApiError};
use crate::components::field::TextField;
use crate::components::signature::Agreement;
use crate::session::{can, session};

/// The outcomes, in the order offered.
const OUTCOMES: [ReviewOutcome; 3] = [ReviewOutcome::NoChange, ReviewOutcome::Revise, ReviewOutcome::Obsolete];

/// "Next periodic review" and the button that records one.
#[component]
pub(super) fn PeriodicReview(doc: Document) -> impl IntoView {
    let s = session();
    let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id));
    let obsolete = doc.meta.retired_at.is_some();
    let may = !obsolete && (me == Some(doc.owner_id) || can(s, &[Permission::ManageDocuments]));
    let open = RwSignal::new(false);
    let due = doc.next_review_on;
    let overdue = doc.review_overdue;
    (!obsolete).then(|| {
        view! {
            <p class="review-due" data-testid="review-due">
                {match due {
                    Some(d) => format!("Next periodic review: {d}"),
                    None => "Periodic review: once a revision is in force".to_string(),
                }}
                {overdue.then(|| view! { " " <span class="badge overdue">"Overdue"</span> })}
                {may.then(|| view! {
                    " " <button type="button" class="btn btn-small" on:click=move |_| open.set(true)>"Record periodic review…"</button>
                })}
            </p>
            {move || open.get().then(|| view! {
                <ReviewDialog doc=doc.clone() on_close=Callback::new(move |()| open.set(false)) />
            })}
        }
    })
}

/// The signed periodic review: outcome, comment (required to revise or make obsolete), the
/// password entered again, and the agreement before a first signature.
#[component]
fn ReviewDialog(doc: Document, on_close: Callback<()>) -> impl IntoView {
    let s = session();
    let (agreed, first_signature) =
        s.with_untracked(|s| s.as_ref().map_or((false, true), |s| (s.esign_agreed, !s.signed_in_session)));
    let username = RwSignal::new(String::new());
    let navigate = use_navigate();
    let outcome = RwSignal::new(ReviewOutcome::NoChange);
    let comment = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let accept = RwSignal::new(false);
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let id = doc.id;
    let send = crate::data::action(move |input: &PeriodicReviewInput| {
        let input = input.clone();
        let navigate = navigate.clone();
        async move {
            match api::periodic_review(id, &input).await {
                Ok(_) => {
                    s.update(|s| {
                        if let Some(s) = s {
                            s.esign_agreed = true;
                            s.signed_in_session = true;
                        }
                    });
                    on_close.run(());
                    // "Revise" opened a draft of the text in force: go on there.
                    if input.outcome == ReviewOutcome::Revise
                        && let Ok(revisions) = api::list_document_revisions(id).await
                        && let Some(draft) = revisions.iter().find(|r| r.status == RevisionStatus::Draft)
                    {
                        navigate(&format!("/documents/{id}/revisions/{}", draft.id), Default::default());
                    }
                }
                Err(e) => {
                    password.set(String::new());
                    if let ApiError::Status(_, body) = &e {
                        errors.set(body.field_errors.clone());
                    }
                    failure.set(Some(e.to_string()));
                }
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        let input = PeriodicReviewInput {
            outcome: outcome.get(),
            comment: comment.get().trim().to_string(),
            password: password.get(),
            username: first_signature.then(|| username.get().trim().to_string()),
            accept_agreement: accept.get(),
        };
        match input.validate(first_signature) {
            Ok(()) => {
                errors.set(FieldErrors::new());
                send.dispatch(input);
            }
            Err(e) => errors.set(e),
        }
    };
    let first = NodeRef::<Input>::new();
    first.on_load(|input| {
        let _ = input.focus();
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    };
    let errors_signal = Signal::from(errors);
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="review-title" on:keydown=on_keydown>
                <form class="form" on:submit=on_submit novalidate>
                    <h2 id="review-title">"Periodic review of " {doc.number.clone()}</h2>
                    <p>"Your review is signed with the meaning “Reviewed”."</p>
                    <fieldset class="field">
                        <legend>"Outcome"</legend>
                        {OUTCOMES.into_iter().enumerate().map(|(i, o)| {
                            let node = if i == 0 { first } else { NodeRef::new() };
                            view! {
                                <label class="check">
                                    <input type="radio" name="outcome" value=o.as_str() node_ref=node
                                        prop:checked=move || outcome.get() == o
                                        on:change=move |_| outcome.set(o) />
                                    {o.label()}
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                    <TextField name="comment" label="Comment (required to revise or make obsolete)" value=comment errors=errors_signal multiline=true />
                    {(!agreed).then(|| view! { <Agreement accept errors=errors_signal /> })}
                    {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
                    {first_signature.then(|| view! {
                        <p>"This is your first signature since you signed in: enter your username and your password."</p>
                        <TextField name="username" label="Username" value=username errors=errors_signal
                            autocomplete="username" required=true />
                    })}
                    <TextField name="password" label="Password" value=password errors=errors_signal kind="password"
                        autocomplete="current-password" required=true />
                    <div class="actions">
                        <button type="button" class="btn" on:click=move |_| on_close.run(())>"Cancel"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || send.pending().get()>"Sign the review"</button>
                    </div>
                </form>
            </div>
        </div>
    }
}
