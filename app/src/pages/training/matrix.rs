//! The training matrix (people × requirements, live) with the completion rate per department,
//! and the auditor's question "was this person trained on the revision in force that day?".

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::auth::UserId;
use shared::org::Record;
use shared::training::{Assignment, COMPLETION_TARGET_PERCENT, CellStatus, Matrix, RequirementId, TrainedOn};

use super::StatusBadge;
use crate::api;
use crate::components::status::{format_utc, loaded, today_utc};
use crate::session::changes_of;

/// `/training/matrix`
#[component]
pub fn TrainingMatrix() -> impl IntoView {
    let changes = changes_of(Assignment::RECORD_TYPE);
    let matrix = LocalResource::new(move || {
        changes.track();
        api::training_matrix()
    });
    let department = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let person = RwSignal::new(String::new());
    view! {
        <section class="training-matrix">
            <header class="page-head">
                <h1>"Training matrix"</h1>
                <div class="actions">
                    <a class="btn" href="/api/v1/training/matrix.csv" download="caliper-training-matrix.csv">"Export CSV"</a>
                    <A href="/training/trained-on" attr:class="btn">"Was … trained on … ?"</A>
                </div>
            </header>
            {loaded(matrix, "the training matrix", move |m: Matrix| {
                let departments: Vec<String> = {
                    let mut d: Vec<String> = m.people.iter().filter_map(|p| p.department.clone()).collect();
                    d.sort();
                    d.dedup();
                    d
                };
                let rates = m.completion_by_department();
                let m = StoredValue::new(m);
                view! {
                    <table class="grid rates" aria-label="Completion per department">
                        <thead><tr>
                            <th scope="col">"Department"</th><th scope="col">"Completed"</th>
                            <th scope="col">{format!("Rate (target {COMPLETION_TARGET_PERCENT:.0} %)")}</th>
                        </tr></thead>
                        <tbody>
                            {rates.into_iter().map(|d| {
                                let ok = d.percent >= COMPLETION_TARGET_PERCENT;
                                view! {
                                    <tr>
                                        <td>{d.department.clone()}</td>
                                        <td>{format!("{} of {}", d.completed, d.required)}</td>
                                        <td class=if ok { "rate-ok" } else { "rate-low" }>
                                            {format!("{:.1} % {}", d.percent, if ok { "✓ on target" } else { "below target" })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="filters">
                        <label class="field-inline">"Person "
                            <input type="search" placeholder="Name" on:input=move |ev| person.set(event_target_value(&ev)) />
                        </label>
                        <label class="field-inline">"Department "
                            <select on:change=move |ev| department.set(event_target_value(&ev))>
                                <option value="">"All"</option>
                                {departments.into_iter().map(|d| view! { <option value=d.clone()>{d.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="field-inline">"Status "
                            <select on:change=move |ev| status.set(event_target_value(&ev))>
                                <option value="">"Any"</option>
                                {CellStatus::ALL.into_iter().filter(|s| *s != CellStatus::NotRequired).map(|s| view! {
                                    <option value=s.code().to_string()>{s.label()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    </div>
                    <p class="legend muted">
                        {CellStatus::ALL.into_iter().map(|s| view! { <StatusBadge status=s /> " " }).collect_view()}
                    </p>
                    <div class="matrix-scroll" tabindex="0" role="region" aria-label="Training matrix, scrollable">
                        <table class="grid matrix" aria-label="Training matrix">
                            <thead><tr>
                                <th scope="col" class="matrix-person">"Person"</th>
                                {m.with_value(|m| m.requirements.iter().map(|r| view! {
                                    <th scope="col" class="matrix-req" title=r.title.clone()>
                                        <span>{r.title.clone()}</span>
                                        {r.document_number.clone().map(|n| view! { <small class="muted">{n}</small> })}
                                    </th>
                                }).collect_view())}
                            </tr></thead>
                            <tbody>
                                {move || {
                                    let (dept, wanted, name) = (department.get(), status.get(), person.get().to_lowercase());
                                    m.with_value(|m| m.people.iter().enumerate().filter(|(p, person)| {
                                        (dept.is_empty() || person.department.as_deref() == Some(dept.as_str()))
                                            && (name.is_empty() || person.name.to_lowercase().contains(&name))
                                            && (wanted.is_empty()
                                                || (0..m.requirements.len()).any(|r| m.cell(*p, r).code().to_string() == wanted))
                                    }).map(|(p, person)| {
                                        let uid = person.id;
                                        view! {
                                            <tr data-testid="matrix-row" data-person=person.name.clone()>
                                                <th scope="row" class="matrix-person">
                                                    {person.name.clone()}
                                                    <small class="muted">{person.department.clone().unwrap_or_default()}</small>
                                                </th>
                                                {m.requirements.iter().enumerate().map(|(r, req)| {
                                                    let s = m.cell(p, r);
                                                    let label = format!("{}: {}", req.title, s.label());
                                                    let title = label.clone();
                                                    view! {
                                                        <td class=format!("mcell train-{}", s.as_str()) data-status=s.as_str() data-requirement=req.id.0.to_string() title=title>
                                                            {(s != CellStatus::NotRequired).then(move || view! {
                                                                <A href=format!("/training/trained-on?user={uid}&requirement={}", req.id)>
                                                                    <span aria-hidden="true">{s.symbol()}</span>
                                                                    <span class="sr-only">{label}</span>
                                                                </A>
                                                            })}
                                                        </td>
                                                    }
                                                }).collect_view()}
                                            </tr>
                                        }
                                    }).collect_view())
                                }}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        </section>
    }
}

/// `/training/trained-on?user=…&requirement=…&on=…`: the auditor's question, answered with the
/// evidence.
#[component]
pub fn TrainedOnPage() -> impl IntoView {
    let query = use_query_map();
    let initial = |key: &str| query.with_untracked(|q| q.get(key).and_then(|v| v.parse::<i64>().ok()));
    let user = RwSignal::new(initial("user").map(UserId));
    let requirement = RwSignal::new(initial("requirement").map(RequirementId));
    let day = RwSignal::new(
        query
            .with_untracked(|q| q.get("on").and_then(|v| v.parse::<chrono::NaiveDate>().ok()))
            .unwrap_or_else(today_utc),
    );
    let choices =
        LocalResource::new(|| async { Ok((api::user_directory().await?, api::training_requirements().await?)) });
    let changes = changes_of(Assignment::RECORD_TYPE);
    let answer = LocalResource::new(move || {
        changes.track();
        let (u, r, d) = (user.get(), requirement.get(), day.get());
        async move {
            match (u, r) {
                (Some(u), Some(r)) => api::trained_on(u, r, d).await.map(Some),
                _ => Ok(None),
            }
        }
    });
    view! {
        <section>
            <header class="page-head"><h1>"Was … trained on … ?"</h1></header>
            <p class="muted">"Whether a person was trained on the revision in force on a given day, with the evidence."</p>
            {loaded(choices, "the people and requirements", move |(people, requirements)| view! {
                <div class="filters">
                    <label class="field-inline">"Person "
                        <select name="user" on:change=move |ev| user.set(event_target_value(&ev).parse::<i64>().ok().map(UserId))>
                            <option value="">"Choose…"</option>
                            {people.into_iter().map(|p| view! {
                                <option value=p.id.0.to_string() selected=move || user.get() == Some(p.id)>{p.full_name.clone()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field-inline">"Requirement "
                        <select name="requirement" on:change=move |ev| requirement.set(event_target_value(&ev).parse::<i64>().ok().map(RequirementId))>
                            <option value="">"Choose…"</option>
                            {requirements.into_iter().map(|r| view! {
                                <option value=r.id.0.to_string() selected=move || requirement.get() == Some(r.id)>{r.title.clone()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field-inline">"On "
                        <input
                            type="date"
                            name="on"
                            prop:value=move || day.get().to_string()
                            on:change=move |ev| if let Ok(d) = event_target_value(&ev).parse() { day.set(d) }
                        />
                    </label>
                </div>
            })}
            {loaded(answer, "the answer", |answer: Option<TrainedOn>| match answer {
                None => view! { <p class="muted">"Choose a person and a requirement."</p> }.into_any(),
                Some(a) => view! {
                    <div class=if a.trained { "answer answer-yes" } else { "answer answer-no" } data-testid="answer" role="status">
                        <p class="answer-word">{if a.trained { "Yes" } else { "No" }}</p>
                        <p>{format!("{} — {} — on {}", a.user_name, a.requirement_title, a.on)}</p>
                        <p>{a.explanation.clone()}</p>
                        {a.evidence.map(|r| view! {
                            <dl class="cert-facts" aria-label="Evidence">
                                <dt>"Completed"</dt><dd>{format_utc(&r.completed_at)}</dd>
                                {r.document_number.clone().map(|n| view! {
                                    <dt>"Revision"</dt><dd>{format!("{n} revision {}", r.revision_label.clone().unwrap_or_default())}</dd>
                                })}
                                {r.signature_id.map(|s| view! { <dt>"Signature"</dt><dd>{format!("“Read and understood”, signature {s}")}</dd> })}
                                {r.score.map(|s| view! { <dt>"Quiz score"</dt><dd>{format!("{s} %")}</dd> })}
                                {r.trainer_name.clone().map(|t| view! { <dt>"Trainer"</dt><dd>{t}</dd> })}
                                <dt>"Record"</dt><dd><A href=format!("/training/assignments/{}", r.assignment_id)>{format!("training record {}", r.id)}</A></dd>
                            </dl>
                        })}
                    </div>
                }.into_any(),
            })}
        </section>
    }
}
