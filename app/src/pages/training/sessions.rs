//! `/training/sessions`: classroom sessions. A qualified trainer records a session held (the
//! requirement, the day, the attendance list, notes); each attendee's open assignment is
//! completed with the trainer's name, all or none. The sessions held, newest first.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::auth::UserId;
use shared::org::Record;
use shared::training::{Assignment, ClassSession, ClassSessionInput, Requirement, RequirementId, RequirementKind};

use crate::api::{self, ApiError};
use crate::components::field::error_lines;
use crate::components::status::{loaded, today_utc};
use crate::session::changes_of;

/// Who may be on the list: the people with an open assignment of a classroom requirement (for
/// those who read training records), else everyone (the server names anyone not assigned).
#[derive(Clone, Debug, PartialEq)]
struct Candidate {
    id: UserId,
    name: String,
    requirement: Option<RequirementId>,
}

async fn candidates() -> Result<Vec<Candidate>, ApiError> {
    match api::training_assignments("open=true").await {
        Ok(list) => Ok(list
            .into_iter()
            .filter(|a: &Assignment| a.kind == RequirementKind::Classroom)
            .map(|a| Candidate { id: a.user_id, name: a.user_name, requirement: Some(a.requirement_id) })
            .collect()),
        Err(ApiError::Status(403, _)) => Ok(api::user_directory()
            .await?
            .into_iter()
            .map(|u| Candidate { id: u.id, name: u.full_name, requirement: None })
            .collect()),
        Err(e) => Err(e),
    }
}

/// `/training/sessions`
#[component]
pub fn ClassSessions() -> impl IntoView {
    let sessions_changed = changes_of(ClassSession::RECORD_TYPE);
    let assignments_changed = changes_of(Assignment::RECORD_TYPE);
    let choices = crate::data::resource(move || {
        assignments_changed.track();
        async move {
            let requirements: Vec<Requirement> = api::training_requirements()
                .await?
                .into_iter()
                .filter(|r| r.kind == RequirementKind::Classroom)
                .collect();
            Ok((requirements, candidates().await?))
        }
    });
    let held = crate::data::resource(move || {
        sessions_changed.track();
        api::class_sessions("")
    });
    let form = SessionForm::new();
    view! {
        <section>
            <header class="page-head">
                <h1>"Classroom sessions"</h1>
                <div class="actions"><A href="/training" attr:class="btn">"My training"</A></div>
            </header>
            <p class="muted">
                "A qualified trainer (their own training on the requirement is current) records the session and who attended: "
                "each attendee's assignment is completed, with the trainer's name. Nobody signs off their own attendance."
            </p>
            {loaded(choices, "the classroom requirements", move |(requirements, people)| view! {
                <RecordSession requirements people form />
            })}
            <h2>"Sessions held"</h2>
            {loaded(held, "the sessions", |list: Vec<ClassSession>| if list.is_empty() {
                view! { <p class="empty">"No session recorded yet."</p> }.into_any()
            } else {
                view! {
                    <table class="grid" aria-label="Sessions held">
                        <thead><tr>
                            <th scope="col">"Held on"</th><th scope="col">"Requirement"</th><th scope="col">"Trainer"</th>
                            <th scope="col">"Attendance"</th><th scope="col">"Notes"</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|s| view! {
                                <tr data-testid="session-row">
                                    <td class="nowrap">{s.held_on.to_string()}</td>
                                    <td>{s.requirement_title.clone()}</td>
                                    <td>{s.trainer_name.clone()}</td>
                                    <td>
                                        {s.attendees.clone().into_iter().enumerate().map(|(i, a)| view! {
                                            {(i > 0).then_some(", ")}
                                            <A href=format!("/training/assignments/{}", a.assignment_id)>{a.user_name.clone()}</A>
                                        }).collect_view()}
                                    </td>
                                    <td>{s.notes.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// The form's state, kept outside the part of the page that reloads on live updates.
#[derive(Clone, Copy)]
struct SessionForm {
    requirement: RwSignal<Option<RequirementId>>,
    held_on: RwSignal<String>,
    attendees: RwSignal<Vec<UserId>>,
    notes: RwSignal<String>,
    problems: RwSignal<Vec<String>>,
    saved: RwSignal<Option<String>>,
}

impl SessionForm {
    fn new() -> Self {
        Self {
            requirement: RwSignal::new(None),
            held_on: RwSignal::new(today_utc().to_string()),
            attendees: RwSignal::new(Vec::new()),
            notes: RwSignal::new(String::new()),
            problems: RwSignal::new(Vec::new()),
            saved: RwSignal::new(None),
        }
    }
}

#[component]
fn RecordSession(requirements: Vec<Requirement>, people: Vec<Candidate>, form: SessionForm) -> impl IntoView {
    let SessionForm { requirement, held_on, attendees, notes, problems, saved } = form;
    if requirement.get_untracked().is_none() {
        requirement.set(requirements.first().map(|r| r.id));
    }
    let people = StoredValue::new(people);
    // The people to choose from for the requirement chosen, each once, by name.
    let listed = move || {
        let r = requirement.get();
        let mut list: Vec<(UserId, String)> = people.with_value(|p| {
            p.iter().filter(|c| c.requirement.is_none() || c.requirement == r).map(|c| (c.id, c.name.clone())).collect()
        });
        list.sort_by(|a, b| a.1.cmp(&b.1));
        list.dedup_by_key(|c| c.0);
        list
    };
    let names = move |ids: &[UserId]| {
        people.with_value(|p| {
            ids.iter()
                .map(|id| p.iter().find(|c| c.id == *id).map(|c| c.name.clone()).unwrap_or_else(|| id.to_string()))
                .collect::<Vec<_>>()
        })
    };
    // Field errors name `attendee_ids[i]`: shown with the person's name.
    let readable = move |errors: &shared::FieldErrors, ids: &[UserId]| {
        let shown = names(ids);
        error_lines(errors)
            .into_iter()
            .map(|line| {
                let index = line
                    .strip_prefix("attendee_ids[")
                    .and_then(|rest| rest.split_once(']'))
                    .and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest)));
                match index {
                    Some((i, rest)) if i < shown.len() => format!("{}{rest}", shown[i]),
                    _ => line,
                }
            })
            .collect::<Vec<_>>()
    };
    let save = crate::data::action(move |input: &ClassSessionInput| {
        let input = input.clone();
        async move {
            match api::record_class_session(&input).await {
                Ok(s) => {
                    problems.set(Vec::new());
                    attendees.set(Vec::new());
                    notes.set(String::new());
                    saved.set(Some(format!("Recorded: {} attendee(s) trained.", s.attendees.len())));
                }
                Err(ApiError::Status(_, body)) if !body.field_errors.is_empty() => {
                    let lines = readable(&body.field_errors, &input.attendee_ids);
                    problems.set(if body.message.is_empty() { lines } else { [vec![body.message], lines].concat() });
                }
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        let Some(requirement_id) = requirement.get() else {
            problems.set(vec!["requirement_id: required (there is no classroom requirement yet)".into()]);
            return;
        };
        let Ok(day) = held_on.get().parse() else {
            problems.set(vec!["held_on: invalid".into()]);
            return;
        };
        let input =
            ClassSessionInput { requirement_id, held_on: day, attendee_ids: attendees.get(), notes: notes.get() }
                .normalized();
        match input.validate(Some(today_utc())) {
            Ok(()) => {
                save.dispatch(input);
            }
            Err(e) => problems.set(readable(&e, &input.attendee_ids)),
        }
    };
    view! {
        <form class="form" on:submit=on_submit novalidate aria-label="Record a session">
            <h2>"Record a session"</h2>
            <label class="field">"Requirement"
                <select name="requirement_id" on:change=move |ev| {
                    requirement.set(event_target_value(&ev).parse::<i64>().ok().map(RequirementId));
                    attendees.set(Vec::new());
                }>
                    {requirements.into_iter().map(|r| view! {
                        <option value=r.id.0.to_string() selected=move || requirement.get() == Some(r.id)>{r.title.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field">"Held on"
                <input type="date" name="held_on" prop:value=move || held_on.get() on:input=move |ev| held_on.set(event_target_value(&ev)) />
            </label>
            <fieldset class="checklist">
                <legend>"Attendance"</legend>
                {move || {
                    let list = listed();
                    if list.is_empty() {
                        view! { <p class="muted">"Nobody has this requirement open."</p> }.into_any()
                    } else {
                        list.into_iter().map(|(id, name)| view! {
                            <label class="check">
                                <input type="checkbox" prop:checked=move || attendees.with(|a| a.contains(&id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        attendees.update(|a| if on { if !a.contains(&id) { a.push(id) } } else { a.retain(|x| *x != id) });
                                    } />
                                " " {name}
                            </label>
                        }).collect_view().into_any()
                    }
                }}
            </fieldset>
            <label class="field">"Notes (topics, materials, room)"
                <textarea rows="2" name="notes" prop:value=move || notes.get() on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
            </label>
            <button type="submit" class="btn btn-primary">"Record the session"</button>
            {move || saved.get().map(|m| view! { <p class="alert-ok" role="status">{m}</p> })}
            {move || (!problems.get().is_empty()).then(|| view! {
                <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            })}
        </form>
    }
}
