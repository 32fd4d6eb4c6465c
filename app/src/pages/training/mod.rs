//! Training: My training (what is assigned, due and done), one assignment (read the revision,
//! sign "read and understood", take the quiz, or a trainer's sign-off; the certificate once
//! complete), and for those who read training records the matrix and the auditor's question
//! ([`matrix`]).

mod grid;
pub mod matrix;
pub mod sessions;
pub mod setup;

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::ErrorBody;
use shared::auth::Permission;
use shared::org::Record;
use shared::signature::{Meaning, Signature};
use shared::training::{
    Assignment, AssignmentId, AssignmentState, CellStatus, QuizAnswers, QuizResult, QuizSheet, Step,
};

use crate::api::{self, ApiError};
use crate::components::signature::SignDialog;
use crate::components::status::{format_utc, loaded};
use crate::session::{can, changes_of, session};

// Three chunks: what every trainee opens (here), the records readers' matrix
// ([`matrix::records`]), and the quality manager's set-up and class sessions ([`setup::admin`]).
crate::area!(training, Page { Mine => MyTraining, Assignment => AssignmentPage });

/// A status as a badge: colour, a symbol and the words (readable without colour).
#[component]
pub fn StatusBadge(status: CellStatus) -> impl IntoView {
    view! {
        <span class=format!("badge train-{}", status.as_str()) data-status=status.as_str()>
            <span aria-hidden="true">{status.symbol()}" "</span>{status.label()}
        </span>
    }
}

/// `/training`: My training.
#[component]
pub fn MyTraining() -> impl IntoView {
    let s = session();
    let changes = changes_of(Assignment::RECORD_TYPE);
    let mine = crate::data::resource(move || {
        changes.track();
        api::my_training()
    });
    let reader = move || can(s, &[Permission::ViewTrainingRecords, Permission::ViewTeamTrainingRecords]);
    view! {
        <section>
            <header class="page-head">
                <h1>"My training"</h1>
                <div class="actions">
                    <A href="/training/setup" attr:class="btn" attr:hidden=move || !can(s, &[Permission::ManageTraining])>"Requirements and curricula"</A>
                    <A href="/training/matrix" attr:class="btn" attr:hidden=move || !reader()>"Training matrix"</A>
                    <A href="/training/trained-on" attr:class="btn" attr:hidden=move || !reader()>"Was … trained on … ?"</A>
                    <A href="/training/sessions" attr:class="btn" attr:hidden=move || !can(s, &[Permission::CompleteTraining])>"Classroom sessions"</A>
                </div>
            </header>
            {loaded(mine, "your training", |list| {
                // Cancelled assignments (no longer required) are on record, not on one's list.
                let (open, done): (Vec<_>, Vec<_>) = list
                    .into_iter()
                    .filter(|a| a.state != AssignmentState::Cancelled)
                    .partition(|a| a.state == AssignmentState::Open);
                view! {
                    <h2>"To do"</h2>
                    {if open.is_empty() {
                        view! { <p class="empty">"Nothing to do: your training is up to date."</p> }.into_any()
                    } else {
                        view! {
                            <table class="grid" aria-label="Training to do">
                                <thead><tr>
                                    <th scope="col">"Training"</th><th scope="col">"Document"</th>
                                    <th scope="col">"Why"</th><th scope="col">"Due"</th><th scope="col">"Status"</th>
                                </tr></thead>
                                <tbody>
                                    {open.into_iter().map(|a| {
                                        let document = document_label(&a);
                                        view! {
                                        <tr data-testid="assignment-row">
                                            <td><A href=format!("/training/assignments/{}", a.id)>{a.requirement_title.clone()}</A></td>
                                            <td class="nowrap">{document}</td>
                                            <td>{a.cause_detail.clone()}</td>
                                            <td class="nowrap">{a.due_on.to_string()}</td>
                                            <td><StatusBadge status=a.status /></td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    <h2>"Completed"</h2>
                    {if done.is_empty() {
                        view! { <p class="muted">"No completed training yet."</p> }.into_any()
                    } else {
                        view! {
                            <table class="grid" aria-label="Completed training">
                                <thead><tr>
                                    <th scope="col">"Training"</th><th scope="col">"Document"</th>
                                    <th scope="col">"Completed (UTC)"</th><th scope="col">"Certificate"</th>
                                </tr></thead>
                                <tbody>
                                    {done.into_iter().map(|a| {
                                        let document = document_label(&a);
                                        view! {
                                        <tr data-testid="completed-row">
                                            <td>{a.requirement_title.clone()}</td>
                                            <td class="nowrap">{document}</td>
                                            <td class="nowrap">{a.completed_at.as_ref().map(format_utc).unwrap_or_default()}</td>
                                            <td><A href=format!("/training/assignments/{}", a.id)>"View"</A></td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                }
            })}
        </section>
    }
}

fn document_label(a: &Assignment) -> String {
    match (&a.document_number, &a.revision_label) {
        (Some(n), Some(l)) => format!("{n} rev. {l}"),
        (Some(n), None) => n.clone(),
        _ => "—".to_string(),
    }
}

/// `/training/assignments/:id`: do the training, or see its certificate.
#[component]
pub fn AssignmentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(AssignmentId);
    let reload = RwSignal::new(0u32);
    let data = crate::data::resource(move || {
        reload.track();
        let id = id();
        async move {
            let Some(id) = id else { return Err(ApiError::Status(404, ErrorBody::new("No such assignment."))) };
            let a = api::get_assignment(id).await?;
            let revision = match a.revision_id {
                Some(r) => Some(api::get_revision(r).await?),
                None => None,
            };
            Ok((a, revision))
        }
    });
    let s = session();
    // Said above the page, so that it survives the reload after a quiz round is failed.
    let notice = RwSignal::new(None::<String>);
    view! {
        <section>
            {move || notice.get().map(|n| view! { <div class="alert alert-error" role="status" data-testid="notice">{n}</div> })}
            {loaded(data, "the training", move |(a, revision)| {
                let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id));
                let mine = me == Some(a.user_id);
                let step = a.next_step();
                view! {
                    <header class="page-head">
                        <h1>{a.requirement_title.clone()}</h1>
                        <StatusBadge status=a.status />
                    </header>
                    <p class="muted">
                        {format!("{} · for {} · {} · assigned {} · due {}",
                            a.kind.label(), a.user_name, a.cause_detail, a.assigned_on, a.due_on)}
                    </p>
                    {(a.state == AssignmentState::Completed).then(|| view! { <Certificate assignment=a.clone() /> })}
                    {revision.map(|r| view! {
                        <article class="doc-text" aria-label=format!("{} revision {}", a.document_number.clone().unwrap_or_default(), r.label)>
                            <p class="muted">{format!("{} revision {} ({})", a.document_number.clone().unwrap_or_default(), r.label, r.status.label())}</p>
                            <pre class="doc-body">{r.content.body.clone()}</pre>
                        </article>
                    })}
                    {match step {
                        Some(Step::Acknowledge) if mine => view! { <Acknowledge assignment=a.clone() reload notice /> }.into_any(),
                        Some(Step::Quiz) if mine => view! { <QuizForm assignment=a.clone() reload notice /> }.into_any(),
                        Some(Step::Trainer) => view! { <TrainerSignOff assignment=a.clone() mine reload /> }.into_any(),
                        Some(_) => view! { <p class="muted">{format!("Waiting for {} to complete it.", a.user_name)}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                }
            })}
        </section>
    }
}

/// Step 1: sign "read and understood" for the revision above.
#[component]
fn Acknowledge(assignment: Assignment, reload: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let revision = assignment.revision_id.map(|r| r.0).unwrap_or_default();
    let what = format!("that you have read and understood {}", document_label(&assignment));
    let version = crate::data::resource(move || async move {
        api::get_revision(shared::document::RevisionId(revision)).await.map(|r| r.content_version)
    });
    let signed = Callback::new(move |_: Signature| {
        open.set(false);
        notice.set(None);
        reload.update(|n| *n += 1);
    });
    view! {
        <div class="approval" data-testid="acknowledge">
            <h2>"Read and understood"</h2>
            <p>"Read the whole revision above, then sign with your password."
                {(assignment.questions > 0).then_some(" A quiz follows.")}</p>
            <div class="actions">
                <button type="button" class="btn btn-primary" on:click=move |_| open.set(true)>"Sign “Read and understood”…"</button>
            </div>
            {move || {
                let what = what.clone();
                open.get().then(|| view! {
                    {loaded(version, "the revision", move |version| {
                        let what = what.clone();
                        view! {
                            <SignDialog
                                record_type="document_revision"
                                record_id=revision
                                version
                                meaning=Meaning::Acknowledged
                                what
                                rationale=None
                                on_signed=signed
                                on_close=Callback::new(move |()| open.set(false))
                            />
                        }
                    })}
                })
            }}
        </div>
    }
}

/// Step 2: the quiz, marked on the server; a failed attempt shows the score and offers the next.
#[component]
fn QuizForm(assignment: Assignment, reload: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let id = assignment.id;
    let attempt = RwSignal::new(0u32);
    let sheet = crate::data::resource(move || {
        attempt.track();
        api::quiz_sheet(id)
    });
    let result = RwSignal::new(None::<QuizResult>);
    let failure = RwSignal::new(None::<String>);
    view! {
        <div class="approval quiz" data-testid="quiz">
            <h2>"Quiz"</h2>
            {move || result.get().map(|r| {
                let text = if r.passed {
                    format!("Passed with {} %. Your training is complete.", r.score)
                } else if r.read_again {
                    format!("Not passed: {} %. Read the revision again and sign; then you can try again.", r.score)
                } else {
                    format!("Not passed: {} %. {} attempt(s) left.", r.score, r.attempts_left)
                };
                view! {
                    <div class=if r.passed { "alert alert-ok" } else { "alert alert-error" } role="status" data-testid="quiz-result">{text}</div>
                }
            })}
            {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
            {loaded(sheet, "the quiz", move |sheet: QuizSheet| {
                let chosen = RwSignal::new(BTreeMap::<u32, BTreeSet<u32>>::new());
                let submit = crate::data::action(move |answers: &QuizAnswers| {
                    let answers = answers.clone();
                    async move {
                        match api::submit_quiz(id, &answers).await {
                            Ok(r) => {
                                let passed = r.passed;
                                let again = r.read_again;
                                result.set(Some(r));
                                failure.set(None);
                                if again {
                                    notice.set(result.get_untracked().map(|r| format!(
                                        "Not passed: {} %. Read the revision again and sign “Read and understood”; then you can take the quiz again.",
                                        r.score
                                    )));
                                }
                                if passed || again {
                                    reload.update(|n| *n += 1);
                                } else {
                                    attempt.update(|n| *n += 1);
                                }
                            }
                            Err(e) => failure.set(Some(e.to_string())),
                        }
                    }
                });
                let number = sheet.attempt;
                let total = sheet.questions.len();
                let on_submit = move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    let answers = chosen.get().into_iter().map(|(q, set)| (q, set.into_iter().collect())).collect();
                    submit.dispatch(QuizAnswers { attempt: number, answers });
                };
                view! {
                    <form class="form" on:submit=on_submit>
                        <p class="muted">{format!("Attempt {} of {} · pass mark {} %", sheet.try_in_round, sheet.attempts_allowed, sheet.pass_mark)}</p>
                        {sheet.questions.into_iter().enumerate().map(|(n, q)| {
                            let qi = q.index;
                            let several = q.several;
                            view! {
                                <fieldset class="question" data-testid="question">
                                    <legend>{format!("{}. {}", n + 1, q.text)}{several.then_some(" (choose all that apply)")}</legend>
                                    {q.options.into_iter().enumerate().map(|(oi, text)| {
                                        let oi = oi as u32;
                                        let on_change = move |ev: leptos::ev::Event| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                let set = c.entry(qi).or_default();
                                                if !several {
                                                    set.clear();
                                                }
                                                if on { set.insert(oi); } else { set.remove(&oi); }
                                            });
                                        };
                                        view! {
                                            <label class="check">
                                                <input
                                                    type=if several { "checkbox" } else { "radio" }
                                                    name=format!("q{qi}-{number}")
                                                    // The state decides what is ticked: a new
                                                    // attempt's sheet may reuse the last one's
                                                    // inputs, which must not keep their ticks.
                                                    prop:checked=move || chosen.with(|c| c.get(&qi).is_some_and(|s| s.contains(&oi)))
                                                    on:change=on_change
                                                />
                                                {text}
                                            </label>
                                        }
                                    }).collect_view()}
                                </fieldset>
                            }
                        }).collect_view()}
                        <div class="actions">
                            <button
                                type="submit"
                                class="btn btn-primary"
                                disabled=move || submit.pending().get() || chosen.with(|c| c.values().filter(|s| !s.is_empty()).count() < total)
                            >"Submit answers"</button>
                        </div>
                    </form>
                }
            })}
        </div>
    }
}

/// A classroom session or on-the-job sign-off: a qualified trainer completes it.
#[component]
fn TrainerSignOff(assignment: Assignment, mine: bool, reload: RwSignal<u32>) -> impl IntoView {
    let s = session();
    let failure = RwSignal::new(None::<String>);
    let id = assignment.id;
    let sign = crate::data::action(move |_: &()| async move {
        match api::sign_off(id).await {
            Ok(_) => reload.update(|n| *n += 1),
            Err(e) => failure.set(Some(e.to_string())),
        }
    });
    let may = !mine && can(s, &[Permission::CompleteTraining]);
    view! {
        <div class="approval">
            <h2>"Trainer's sign-off"</h2>
            <p>"A qualified trainer (someone whose own training on this is current) signs it off. Nobody signs off their own."</p>
            {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
            {may.then(|| view! {
                <div class="actions">
                    <button type="button" class="btn btn-primary" on:click=move |_| { sign.dispatch(()); }>
                        {format!("Sign off {} as trainer", assignment.user_name)}
                    </button>
                </div>
            })}
        </div>
    }
}

/// The certificate of a completed assignment, printable.
#[component]
fn Certificate(assignment: Assignment) -> impl IntoView {
    let query = format!("user_id={}&requirement_id={}", assignment.user_id, assignment.requirement_id);
    let id = assignment.id;
    let record = crate::data::resource(move || {
        let query = query.clone();
        async move { api::training_records(&query).await.map(|list| list.into_iter().find(|r| r.assignment_id == id)) }
    });
    view! {
        {loaded(record, "the certificate", move |record| record.map(|r| view! {
            <div class="certificate" data-testid="certificate" aria-label="Training certificate">
                <p class="cert-title">"Certificate of training"</p>
                <p class="cert-name">{r.user_name.clone()}</p>
                <p>"completed"</p>
                <p class="cert-what">{r.requirement_title.clone()}</p>
                <dl class="cert-facts">
                    {r.document_number.clone().map(|n| view! {
                        <dt>"Document"</dt><dd>{format!("{n} revision {}", r.revision_label.clone().unwrap_or_default())}</dd>
                    })}
                    <dt>"Completed"</dt><dd>{format_utc(&r.completed_at)}</dd>
                    {r.signature_id.map(|s| view! { <dt>"Read and understood"</dt><dd>{format!("signed (signature {s})")}</dd> })}
                    {r.score.map(|s| view! { <dt>"Quiz score"</dt><dd>{format!("{s} %")}</dd> })}
                    {r.trainer_name.clone().map(|t| view! { <dt>"Signed off by"</dt><dd>{t}</dd> })}
                    {r.expires_on.map(|d| view! { <dt>"Valid until"</dt><dd>{d.to_string()}</dd> })}
                    <dt>"Record"</dt><dd>{format!("training record {}", r.id)}</dd>
                </dl>
                <div class="actions no-print">
                    <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                </div>
            </div>
        }))}
    }
}
