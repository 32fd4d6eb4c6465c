//! The training matrix (people × requirements, live) with the completion rate per department,
//! and the auditor's question "was this person trained on the revision in force that day?".

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::auth::{Permission, Role, UserId};
use shared::org::Record;
use shared::training::{
    Assignment, COMPLETION_TARGET_PERCENT, CellStatus, Exemption, ExemptionInput, Matrix, MatrixPerson,
    MatrixRequirement, RequirementId, RevokeInput, TrainedOn,
};

use super::StatusBadge;
use super::grid::MatrixGrid;
use crate::api::{self, ApiError};
use crate::components::field::error_lines;
use crate::components::status::{format_utc, loaded, today_utc};
use crate::session::{can, changes_of, session};

/// `/training/matrix`
#[component]
pub fn TrainingMatrix() -> impl IntoView {
    let changes = changes_of(Assignment::RECORD_TYPE);
    let exemptions = changes_of(EXEMPTION);
    let fetched = crate::data::resource(move || {
        changes.track();
        exemptions.track();
        api::training_matrix()
    });
    // The matrix on screen: replaced when a new one arrives, so that a live update keeps the
    // grid, its scroll position and its filters.
    let matrix = RwSignal::new(None::<Arc<Matrix>>);
    let generation = RwSignal::new(0u32);
    let failure = RwSignal::new(None::<String>);
    Effect::new(move |_| match fetched.get() {
        Some(Ok(m)) => {
            failure.set(None);
            matrix.set(Some(Arc::new(m)));
            generation.update(|g| *g += 1);
        }
        Some(Err(e)) => failure.set(Some(e.to_string())),
        None => {}
    });
    let f = Filters::default();
    let rows = Memo::new(move |_| matrix.with(|m| m.as_ref().map(|m| f.rows(m)).unwrap_or_default()));
    let cols = Memo::new(move |_| matrix.with(|m| m.as_ref().map(|m| f.cols(m)).unwrap_or_default()));
    let opened = RwSignal::new(None::<(usize, usize)>);
    let export = move |ext: &str| format!("/api/v1/training/matrix.{ext}{}", f.query());
    view! {
        <section class="training-matrix">
            <header class="page-head">
                <h1>"Training matrix"</h1>
                <div class="actions">
                    <a class="btn" href=move || export("csv") download="caliper-training-matrix.csv">"Export CSV"</a>
                    <a class="btn" href=move || export("xlsx") download="caliper-training-matrix.xlsx">"Export XLSX"</a>
                    <A href="/training/trained-on" attr:class="btn">"Was … trained on … ?"</A>
                </div>
            </header>
            {move || failure.get().map(|e| view! {
                <div class="alert alert-error" role="alert"><strong>"Could not load the training matrix. "</strong>{e}</div>
            })}
            {move || matrix.with(|m| m.is_none()).then(|| view! { <p class="muted">"Loading the training matrix…"</p> })}
            {move || matrix.get().map(|m| view! { <Rates matrix=m /> })}
            <MatrixFilters matrix f />
            <p class="legend muted">
                {CellStatus::ALL.into_iter().map(|s| view! { <StatusBadge status=s /> " " }).collect_view()}
            </p>
            <p class="muted" role="status">{move || {
                let (r, c) = (rows.with(Vec::len), cols.with(Vec::len));
                let all = matrix.with(|m| m.as_ref().map(|m| (m.people.len(), m.requirements.len())).unwrap_or_default());
                format!("{r} of {} people × {c} of {} requirements. Arrow keys move, Enter opens a cell.", all.0, all.1)
            }}</p>
            <MatrixGrid matrix rows cols generation on_open=Callback::new(move |cell| opened.set(Some(cell))) />
            {move || opened.get().and_then(|(p, r)| {
                matrix.with_untracked(|m| m.as_ref().and_then(|m| Some((m.people.get(p)?.clone(), m.requirements.get(r)?.clone()))))
            }).map(|(person, req)| {
                // The status follows live updates without drawing the panel (and its form) again.
                let (uid, rid) = (person.id, req.id);
                let status = Signal::derive(move || matrix.with(|m| m.as_ref().and_then(|m| {
                    let p = m.people.iter().position(|x| x.id == uid)?;
                    let r = m.requirements.iter().position(|x| x.id == rid)?;
                    Some(m.cell(p, r))
                }).unwrap_or(CellStatus::NotRequired)));
                view! { <CellPanel person req status on_close=Callback::new(move |_| {
                    opened.set(None);
                    // Back to the grid, on the cell that was opened.
                    if let Some(grid) = document().query_selector("[data-testid=matrix]").ok().flatten() {
                        let _ = wasm_bindgen::JsCast::unchecked_into::<web_sys::HtmlElement>(grid).focus();
                    }
                }) /> }
            })}
        </section>
    }
}

/// The record type of an exemption, for live updates.
const EXEMPTION: &str = <Exemption as Record>::RECORD_TYPE;

/// The matrix's filters.
#[derive(Clone, Copy, Default)]
struct Filters {
    person: RwSignal<String>,
    department: RwSignal<String>,
    role: RwSignal<String>,
    requirement: RwSignal<String>,
    status: RwSignal<String>,
}

impl Filters {
    /// The people shown: those matching the person, department and role filters, and with the
    /// status filter, those with a cell of that status among the requirements shown.
    fn rows(self, m: &Matrix) -> Vec<usize> {
        let (name, dept, role, status) =
            (self.person.get().trim().to_lowercase(), self.department.get(), self.role.get(), self.status.get());
        let role = Role::parse(&role);
        let status = CellStatus::ALL.into_iter().find(|s| s.as_str() == status);
        let cols = self.cols(m);
        (0..m.people.len())
            .filter(|&p| {
                let person = &m.people[p];
                (dept.is_empty() || person.department.as_deref() == Some(dept.as_str()))
                    && (name.is_empty() || person.name.to_lowercase().contains(&name))
                    && role.is_none_or(|r| person.roles.contains(&r))
                    && status.is_none_or(|s| cols.iter().any(|&r| m.cell(p, r) == s))
            })
            .collect()
    }

    /// The requirements shown: all, or the one chosen.
    fn cols(self, m: &Matrix) -> Vec<usize> {
        let wanted = self.requirement.get().parse::<i64>().ok();
        (0..m.requirements.len()).filter(|&r| wanted.is_none_or(|id| m.requirements[r].id.0 == id)).collect()
    }

    /// The same filters as the exports' query.
    fn query(self) -> String {
        let mut q: Vec<String> = Vec::new();
        for (key, value) in [
            ("q", self.person.get()),
            ("department", self.department.get()),
            ("role", self.role.get()),
            ("requirement_id", self.requirement.get()),
            ("status", self.status.get()),
        ] {
            if !value.trim().is_empty() {
                q.push(format!("{key}={}", js_sys::encode_uri_component(value.trim())));
            }
        }
        if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) }
    }
}

#[component]
fn MatrixFilters(matrix: RwSignal<Option<Arc<Matrix>>>, f: Filters) -> impl IntoView {
    let departments = Memo::new(move |_| {
        matrix.with(|m| {
            let mut d: Vec<String> =
                m.iter().flat_map(|m| m.people.iter().filter_map(|p| p.department.clone())).collect();
            d.sort();
            d.dedup();
            d
        })
    });
    let requirements = Memo::new(move |_| {
        matrix.with(|m| {
            m.iter().flat_map(|m| m.requirements.iter().map(|r| (r.id.0, r.title.clone()))).collect::<Vec<_>>()
        })
    });
    view! {
        <div class="filters">
            <label class="field-inline">"Person "
                <input type="search" placeholder="Name" prop:value=move || f.person.get() on:input=move |ev| f.person.set(event_target_value(&ev)) />
            </label>
            <label class="field-inline">"Department "
                <select on:change=move |ev| f.department.set(event_target_value(&ev))>
                    <option value="">"All"</option>
                    {move || departments.get().into_iter().map(|d| {
                        let chosen = d.clone();
                        view! { <option value=d.clone() selected=move || f.department.get() == chosen>{d.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="field-inline">"Role "
                <select on:change=move |ev| f.role.set(event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </select>
            </label>
            <label class="field-inline">"Requirement "
                <select on:change=move |ev| f.requirement.set(event_target_value(&ev))>
                    <option value="">"All"</option>
                    {move || requirements.get().into_iter().map(|(id, title)| {
                        let value = id.to_string();
                        let chosen = value.clone();
                        view! { <option value=value selected=move || f.requirement.get() == chosen>{title}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="field-inline">"Status "
                <select on:change=move |ev| f.status.set(event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {CellStatus::ALL.into_iter().filter(|s| *s != CellStatus::NotRequired).map(|s| view! {
                        <option value=s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
        </div>
    }
}

/// The completion rate per department against the target.
#[component]
fn Rates(matrix: Arc<Matrix>) -> impl IntoView {
    let rates = matrix.completion_by_department();
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
    }
}

/// One cell opened: the person and requirement, the status, their assignments of it with links
/// to each record, the auditor's question, and (for those who manage training) the exemption.
#[component]
fn CellPanel(
    person: MatrixPerson,
    req: MatrixRequirement,
    status: Signal<CellStatus>,
    on_close: Callback<()>,
) -> impl IntoView {
    let (uid, rid) = (person.id, req.id);
    let changes = changes_of(Assignment::RECORD_TYPE);
    let assignments = crate::data::resource(move || {
        changes.track();
        async move {
            Ok(api::training_assignments(&format!("user_id={uid}"))
                .await?
                .into_iter()
                .filter(|a| a.requirement_id == rid)
                .collect::<Vec<_>>())
        }
    });
    let close = move || on_close.run(());
    // Escape closes it wherever the focus is (a form's button that was replaced leaves it on
    // the page).
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            close();
        }
    });
    on_cleanup(move || escape.remove());
    view! {
        <aside class="cell-panel" role="dialog" aria-modal="false" aria-labelledby="cell-panel-title">
            <header>
                <h2 id="cell-panel-title">{format!("{} — {}", person.name, req.title)}</h2>
                <button type="button" class="btn" on:click=move |_| close() autofocus>"Close"</button>
            </header>
            <p>
                {person.department.clone().unwrap_or_else(|| "No department".into())}
                {req.document_number.clone().map(|n| format!(" · {n}"))}
                " · " {move || view! { <StatusBadge status=status.get() /> }}
            </p>
            <p><A href=format!("/training/trained-on?user={uid}&requirement={rid}")>"Was this person trained on it on a given day? The evidence"</A></p>
            {can(session(), &[Permission::ManageTraining]).then(|| view! { <ExemptionPanel person=uid requirement=rid status /> })}
            <h3>"Assignments"</h3>
            {loaded(assignments, "the assignments", |list: Vec<Assignment>| if list.is_empty() {
                view! { <p class="muted">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {list.into_iter().map(|a| view! {
                            <li>
                                <A href=format!("/training/assignments/{}", a.id)>{format!("{} — {}", a.cause.label(), a.cause_detail)}</A>
                                " " <StatusBadge status=a.status />
                                <small class="muted">{format!(" assigned {}, due {}", a.assigned_on, a.due_on)}</small>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </aside>
    }
}

/// A person's exemption from a requirement (quality manager): the active one with "Revoke", or
/// the form that grants one, with a reason and an optional last day. Granting cancels their open
/// assignment of it; revoking assigns it again when their curriculum still holds it.
#[component]
fn ExemptionPanel(person: UserId, requirement: RequirementId, status: Signal<CellStatus>) -> impl IntoView {
    let changes = changes_of(EXEMPTION);
    let active = crate::data::resource(move || {
        changes.track();
        let query = format!("user_id={person}&requirement_id={requirement}&active=true");
        async move { api::training_exemptions(&query).await }
    });
    let reason = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let done = RwSignal::new(None::<&'static str>);
    let fail = move |e: ApiError| match e {
        ApiError::Status(_, body) if !body.field_errors.is_empty() => problems.set(error_lines(&body.field_errors)),
        e => problems.set(vec![e.to_string()]),
    };
    let grant = crate::data::action(move |input: &ExemptionInput| {
        let input = input.clone();
        async move {
            match api::grant_exemption(&input).await {
                Ok(_) => {
                    reason.set(String::new());
                    problems.set(Vec::new());
                    done.set(Some("Exempted."));
                    active.refetch();
                }
                Err(e) => fail(e),
            }
        }
    });
    let revoke = crate::data::action(move |(id, input): &(shared::training::ExemptionId, RevokeInput)| {
        let (id, input) = (*id, input.clone());
        async move {
            match api::revoke_exemption(id, &input).await {
                Ok(_) => {
                    reason.set(String::new());
                    problems.set(Vec::new());
                    done.set(Some("Exemption revoked."));
                    active.refetch();
                }
                Err(e) => fail(e),
            }
        }
    });
    let messages = move || {
        view! {
            {move || done.get().map(|d| view! { <p class="alert-ok" role="status">{d}</p> })}
            {move || (!problems.get().is_empty()).then(|| view! {
                <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            })}
        }
    };
    view! {
        <h3>"Exemption"</h3>
        {loaded(active, "the exemption", move |list: Vec<Exemption>| match list.into_iter().next() {
            Some(x) => {
                let id = x.id;
                view! {
                    <p data-testid="exemption">
                        {format!("Exempt since {} by {}: {}", format_utc(&x.granted_at), x.granted_by_name, x.reason)}
                        {x.until.map(|u| format!(" (until {u})"))}
                    </p>
                    <form class="form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        done.set(None);
                        let input = RevokeInput { reason: reason.get().trim().to_string() };
                        match input.validate() {
                            Ok(()) => { revoke.dispatch((id, input)); }
                            Err(e) => problems.set(error_lines(&e)),
                        }
                    }>
                        <label class="field">"Why revoke it"
                            <textarea rows="2" name="reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                        </label>
                        <button type="submit" class="btn">"Revoke the exemption"</button>
                        {messages()}
                    </form>
                }.into_any()
            }
            None if status.get_untracked() == CellStatus::NotRequired => view! {
                <p class="muted">"Not required of this person: nothing to exempt them from."</p>
            }.into_any(),
            None => view! {
                <form class="form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    done.set(None);
                    let day = until.get();
                    let input = ExemptionInput {
                        user_id: person,
                        requirement_id: requirement,
                        reason: reason.get(),
                        until: day.trim().parse().ok(),
                    }.normalized();
                    let mut check = input.validate(Some(today_utc()));
                    if !day.trim().is_empty() && input.until.is_none() {
                        let mut e = check.err().unwrap_or_default();
                        e.add("until", shared::validation::INVALID);
                        check = Err(e);
                    }
                    match check {
                        Ok(()) => { grant.dispatch(input); }
                        Err(e) => problems.set(error_lines(&e)),
                    }
                }>
                    <label class="field">"Reason for the exemption"
                        <textarea rows="2" name="reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    </label>
                    <label class="field">"Until (optional, last day)"
                        <input type="date" name="until" prop:value=move || until.get() on:input=move |ev| until.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class="btn">"Grant the exemption"</button>
                    {messages()}
                </form>
            }.into_any(),
        })}
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
        crate::data::resource(|| async { Ok((api::user_directory().await?, api::training_requirements().await?)) });
    let changes = changes_of(Assignment::RECORD_TYPE);
    let answer = crate::data::resource(move || {
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

/// The matrix and the auditor's question, a chunk of their own (see [`crate::area`]).
pub mod records {
    crate::area!(training_records, Page { Matrix => super::TrainingMatrix, TrainedOn => super::TrainedOnPage });
}
