//! CAPAs: the register with the metrics of the last 12 months, the form the quality manager
//! opens one with, the CAPA's page (the lifecycle as a stepper, the investigation with 5 whys and
//! the fishbone's causes, the plan and the work it waits for, the signed approval, verification,
//! effectiveness, extensions) and its 8D report.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::auth::{Permission, UserId};
use shared::org::ProcessId;
use shared::quality::{
    ActionInput, Capa, CapaInput, CapaKind, CapaState, CapaStep, CapaSummary, CapaUpdate, Cause, CauseCategory,
    EffectivenessResult, ExtensionDecision, ExtensionInput, ExtensionState, Investigation, LinkKind, MetricsReport,
    OpenWork,
};
use shared::signature::Meaning;

use super::{DateInput, RootCauseSuggestions, StateBadge, settle, step_outcome};
use crate::api;
use crate::components::field::{SelectField, TextField};
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::components::signature::{SignArgs, SignaturePanel, sign_dialog};
use crate::components::status::{loaded, loaded_distinct, today_utc};
use crate::session::{can, changes_of, session};

// Two chunks: the register with the new CAPA's form (here), and a CAPA's record with its 8D
// report ([`record`]).
crate::area!(quality_capas, Page { Register => CapaRegister });

/// A CAPA's record and its 8D report, a chunk of their own (see [`crate::area`]).
pub mod record {
    crate::area!(capa_record, Page { Record => super::CapaPage, EightD => super::EightDReport });
}

fn capa_badge(state: CapaState) -> impl IntoView {
    view! { <StateBadge label=state.label() key=state.as_str() /> }
}

fn days(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".into(), |d| format!("{d:.1} days"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".into(), |p| format!("{p:.0} %"))
}

// The signing dialog, loaded when first opened.
crate::part!(capa_record__sign, sign_dialog(args: SignArgs));

/// `/quality/capas`
#[component]
pub fn CapaRegister() -> impl IntoView {
    crate::area::prefetch_next(record::prefetch);
    let s = session();
    let changes = changes_of("capa");
    let open_only = RwSignal::new(true);
    let capas = crate::data::resource(move || {
        changes.track();
        let q = if open_only.get() { "open=true" } else { "" };
        api::list_capas(q)
    });
    let metrics = crate::data::resource(move || {
        changes.track();
        api::capa_metrics("")
    });
    let creating = RwSignal::new(false);
    view! {
        <section>
            <header class="page-head">
                <h1>"CAPA"</h1>
                <div class="actions">
                    <button type="button" class="btn btn-primary" hidden=move || !can(s, &[Permission::ManageQuality]) on:click=move |_| creating.update(|c| *c = !*c)>"Open a CAPA"</button>
                </div>
            </header>
            {move || creating.get().then(|| view! { <NewCapa /> })}
            {loaded(metrics, "the CAPA metrics", |m: MetricsReport| {
                let t = m.total;
                view! {
                    <div class="kpis" aria-label="CAPA metrics, last 12 months" data-testid="capa-metrics">
                        <div class="kpi"><span class="kpi-label">"Closure time (median · p90)"</span><span class="kpi-value">{format!("{} · {}", days(t.closure_median_days), days(t.closure_p90_days))}</span></div>
                        <div class="kpi"><span class="kpi-label">"On time"</span><span class="kpi-value">{pct(t.on_time_rate)}</span></div>
                        <div class="kpi"><span class="kpi-label">"Root cause identified"</span><span class="kpi-value">{pct(t.root_cause_rate)}</span></div>
                        <div class="kpi"><span class="kpi-label">"Effective"</span><span class="kpi-value">{pct(t.effectiveness_rate)}</span></div>
                        <div class="kpi"><span class="kpi-label">"Reopened"</span><span class="kpi-value">{pct(t.reopen_rate)}</span></div>
                        <div class="kpi"><span class="kpi-label">"Time to open (median)"</span><span class="kpi-value">{days(t.time_to_open_days)}</span></div>
                        <div class="kpi"><span class="kpi-label">"Opened · closed"</span><span class="kpi-value">{format!("{} · {}", t.opened, t.closed)}</span></div>
                    </div>
                }
            })}
            <label class="check"><input type="checkbox" prop:checked=move || open_only.get() on:change=move |ev| open_only.set(event_target_checked(&ev)) />"Open CAPAs only"</label>
            {loaded(capas, "the CAPAs", |list: Vec<CapaSummary>| {
                let today = today_utc();
                if list.is_empty() {
                    return view! { <p class="empty">"No CAPA."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="CAPAs">
                        <thead><tr>
                            <th scope="col">"Number"</th><th scope="col">"Title"</th><th scope="col">"Stage"</th><th scope="col">"Risk"</th>
                            <th scope="col">"Owner"</th><th scope="col">"Verifier"</th><th scope="col">"Due"</th><th scope="col">"Opened"</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|c| {
                                let overdue = c.overdue(today);
                                let due = match (c.due_on, c.original_due_on) {
                                    (Some(d), Some(o)) if d != o => format!("{d} (first {o})"),
                                    (Some(d), _) => d.to_string(),
                                    _ => "—".into(),
                                };
                                view! {
                                    <tr data-testid="capa-row" class:overdue=overdue>
                                        <td class="nowrap"><A href=format!("/quality/capas/{}", c.id)>{c.number.clone()}</A></td>
                                        <td>{c.title.clone()}</td>
                                        <td>{capa_badge(c.state)}</td>
                                        <td>{c.risk.map(|r| r.label()).unwrap_or("—")}</td>
                                        <td>{c.owner_name.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{c.verifier_name.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td class="nowrap">{due}{overdue.then_some(view! { <span class="badge overdue">"Overdue"</span> })}</td>
                                        <td class="nowrap">{c.opened_on.to_string()}</td>
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

#[component]
fn NewCapa() -> impl IntoView {
    let processes = crate::data::resource(|| api::list_processes(false));
    let title = RwSignal::new(String::new());
    let kind = RwSignal::new("corrective".to_string());
    let process = RwSignal::new(String::new());
    let problem = RwSignal::new(String::new());
    let eight_d = RwSignal::new(false);
    let state = RwSignal::new(Submitted::default());
    let navigate = use_navigate();
    let save = crate::data::action(move |input: &CapaInput| {
        let input = input.clone();
        let navigate = navigate.clone();
        async move {
            match api::create_capa(&input).await {
                Ok(c) => navigate(&format!("/quality/capas/{}", c.id), Default::default()),
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |()| String::new())),
            }
        }
    });
    let errors = field_errors(state);
    view! {
        {loaded(processes, "the processes", move |processes| view! {
            <form class="form card" aria-label="Open a CAPA" novalidate on:submit=move |ev| {
                ev.prevent_default();
                let input = CapaInput {
                    title: title.get().trim().to_string(),
                    kind: CapaKind::parse(&kind.get()).unwrap_or(CapaKind::Corrective),
                    process_id: process.get().parse().ok().map(ProcessId),
                    problem: problem.get(),
                    nc_id: None,
                    complaint_id: None,
                    eight_d: eight_d.get(),
                };
                if passes(state, input.validate()) {
                    save.dispatch(input);
                }
            }>
                <h2>"Open a CAPA"</h2>
                <TextField name="title" label="Title" value=title errors required=true />
                <SelectField name="kind" label="Kind" value=kind errors empty="Choose…" required=true>
                    <option value="corrective">"Corrective"</option>
                    <option value="preventive">"Preventive"</option>
                </SelectField>
                <SelectField name="process_id" label="Process" value=process errors empty="No process">
                    {processes.into_iter().map(|p| view! { <option value=p.id.0.to_string()>{p.name}</option> }).collect_view()}
                </SelectField>
                <TextField name="problem" label="Problem" value=problem errors multiline=true />
                <label class="check"><input type="checkbox" prop:checked=move || eight_d.get() on:change=move |ev| eight_d.set(event_target_checked(&ev)) />"Work it as an 8D"</label>
                {outcome_view(state)}
                <div class="actions"><button type="submit" class="btn btn-primary">"Open the CAPA"</button></div>
            </form>
        })}
    }
}

/// The stages in order, the current one marked.
fn stepper(state: CapaState) -> impl IntoView {
    let order = &CapaState::ALL[..8];
    let at = order.iter().position(|s| *s == state);
    view! {
        <ol class="stepper" aria-label="Lifecycle">
            {order.iter().enumerate().map(|(i, s)| {
                let class = match at {
                    Some(a) if i < a => "done",
                    Some(a) if i == a => "current",
                    _ => "todo",
                };
                view! { <li class=class aria-current=(class == "current").then_some("step")>{s.label()}</li> }
            }).collect_view()}
        </ol>
    }
}

/// `/quality/capas/:id`
#[component]
pub fn CapaPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let changes = changes_of("capa");
    let data = crate::data::resource(move || {
        reload.track();
        changes.track();
        let id = id();
        async move { Ok((api::get_capa(id).await?, api::user_directory().await?)) }
    });
    let s = session();
    let state = RwSignal::new(Submitted::default());
    let action_form = NewActionForm::new();
    view! {
        <section>
            {loaded_distinct(data, "the CAPA", move |(capa, people): (Capa, Vec<shared::auth::UserSummary>)| {
                let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id)).unwrap_or(UserId(0));
                let manager = can(s, &[Permission::ManageQuality]);
                let actor = capa.actor(me, manager);
                let people: Vec<(UserId, String)> = people.into_iter().map(|p| (p.id, p.full_name)).collect();
                let open_work = OpenWork::of(&capa.actions);
                let st = capa.state;
                view! {
                    <header class="page-head">
                        <h1>{format!("{} · {}", capa.number, capa.title)}</h1>
                        {capa_badge(st)}
                        <A href=format!("/quality/capas/{}/8d", capa.id) attr:class="btn">"8D report"</A>
                    </header>
                    {stepper(st)}
                    <dl class="facts">
                        <dt>"Owner · verifier"</dt><dd>{format!("{} · {}", capa.owner_name.clone().unwrap_or_else(|| "—".into()), capa.verifier_name.clone().unwrap_or_else(|| "—".into()))}</dd>
                        <dt>"Risk"</dt><dd>{match (capa.risk, capa.severity, capa.likelihood) {
                            (Some(r), Some(sv), Some(l)) => format!("{} (severity {sv} × likelihood {l})", r.label()),
                            _ => "Not ranked yet".into(),
                        }}</dd>
                        <dt>"Due"</dt><dd data-testid="due">{match (capa.due_on, capa.original_due_on) {
                            (Some(d), Some(o)) if d != o => format!("{d} (extended; first due {o})"),
                            (Some(d), _) => d.to_string(),
                            _ => "Set at triage".into(),
                        }}</dd>
                        <dt>"From"</dt><dd>
                            {capa.nc.clone().map(|l| view! { <A href=format!("/quality/ncs/{}", l.id)>{l.number}</A>" " })}
                            {capa.complaint.clone().map(|l| view! { <A href=format!("/quality/complaints/{}", l.id)>{l.number}</A> })}
                            {(capa.nc.is_none() && capa.complaint.is_none()).then_some("—")}
                        </dd>
                        <dt>"Process"</dt><dd>{capa.process_name.clone().unwrap_or_else(|| "—".into())}</dd>
                        {(capa.reopen_count > 0).then(|| view! { <dt>"Reopened"</dt><dd data-testid="reopened">{format!("{} time(s) after an ineffective check", capa.reopen_count)}</dd> })}
                        {capa.verification.clone().map(|v| view! { <dt>"Verification"</dt><dd>{v}</dd> })}
                        {capa.meta.retired_reason.clone().map(|r| view! { <dt>"Cancelled"</dt><dd>{r}</dd> })}
                    </dl>
                    {step_outcome(state)}
                    <InvestigationEditor capa=capa.clone() may_edit=actor.owner || actor.manager state reload />
                    <Actions capa=capa.clone() people=people.clone() form=action_form me actor state reload />
                    {(!open_work.is_empty() && matches!(st, CapaState::Implementation)).then(|| view! {
                        <div class="alert alert-warn" role="status" data-testid="open-work">
                            <strong>"Verification waits for: "</strong>
                            <ul>{open_work.iter().map(|w| view! { <li>{w.description.clone()}</li> }).collect_view()}</ul>
                        </div>
                    })}
                    <Steps capa=capa.clone() people actor state reload />
                    {(st == CapaState::ActionPlan || capa.plan_version > 1 || !capa.actions.is_empty()).then(|| {
                        let plan = capa.plan_version;
                        view! {
                            <div class="approval" data-testid="plan-approval">
                                <h2>"Approval of the plan"</h2>
                                <SignaturePanel dialog=(capa_record__sign::view, capa_record__sign::prefetch)
                                    record_type="capa"
                                    record_id=capa.id.0
                                    version=Signal::derive(move || plan)
                                    meaning=Meaning::Approved
                                    what=Signal::derive({ let n = capa.number.clone(); move || format!("the action plan of {n}") })
                                    awaiting=if st == CapaState::ActionPlan { "Waiting for the quality manager's signed approval" } else { "Not approved in this form" }
                                    on_signed=Callback::new(move |_| reload.update(|n| *n += 1))
                                    open_to_signing=Signal::derive(move || st == CapaState::ActionPlan)
                                />
                            </div>
                        }
                    })}
                    <Extensions capa=capa.clone() actor state reload />
                    {(!capa.effectiveness.is_empty()).then(|| view! {
                        <h2>"Effectiveness checks"</h2>
                        <ul class="checks">{capa.effectiveness.iter().map(|c| view! {
                            <li data-testid="effectiveness-check">{format!("{}: {} — {} ({})", c.on, c.result.label(), c.note, c.by)}</li>
                        }).collect_view()}</ul>
                    })}
                }
            })}
        </section>
    }
}

/// One cause row of the fishbone editor: a signal per field, so typing in one re-renders nothing
/// else (the list changes only when a row is added).
#[derive(Clone, Copy)]
struct CauseRow {
    category: RwSignal<CauseCategory>,
    text: RwSignal<String>,
    confirmed: RwSignal<bool>,
    evidence: RwSignal<String>,
}

impl CauseRow {
    fn new(c: &Cause) -> Self {
        Self {
            category: RwSignal::new(c.category),
            text: RwSignal::new(c.text.clone()),
            confirmed: RwSignal::new(c.confirmed),
            evidence: RwSignal::new(c.evidence.clone()),
        }
    }

    fn get(self) -> Cause {
        Cause {
            category: self.category.get(),
            text: self.text.get(),
            confirmed: self.confirmed.get(),
            evidence: self.evidence.get(),
        }
    }
}

/// The investigation: the problem, containment, the 5 whys and the fishbone's causes, and the 8D
/// texts; editable by the owner or the quality manager until the plan is submitted.
#[component]
fn InvestigationEditor(capa: Capa, may_edit: bool, state: RwSignal<Submitted>, reload: RwSignal<u32>) -> impl IntoView {
    // The owner or the quality manager edits: the investigation until the plan is submitted, the
    // 8D texts while the CAPA is open.
    let editable = may_edit && capa.state.investigating();
    let inv = capa.investigation.clone();
    let problem = RwSignal::new(inv.problem.clone());
    let containment = RwSignal::new(inv.containment.clone());
    let mut first_whys: Vec<RwSignal<String>> = inv.whys.iter().map(|w| RwSignal::new(w.clone())).collect();
    if first_whys.is_empty() {
        first_whys.push(RwSignal::new(String::new()));
    }
    let whys = RwSignal::new(first_whys);
    let causes = RwSignal::new(inv.causes.iter().map(CauseRow::new).collect::<Vec<_>>());
    let team = RwSignal::new(inv.team.clone());
    let prevent = RwSignal::new(inv.prevent_recurrence.clone());
    let recognition = RwSignal::new(inv.recognition.clone());
    let (id, version, title, process, eight_d) =
        (capa.id.0, capa.meta.version, capa.title.clone(), capa.process_id, capa.eight_d);
    let open = capa.state.is_open() && may_edit;
    let save = crate::data::action(move |u: &CapaUpdate| {
        let u = u.clone();
        async move { settle(api::update_capa(id, &u).await, state, reload, "Investigation saved.") }
    });
    let errors = field_errors(state);
    let why_texts = move || whys.get().iter().map(|w| w.get()).collect::<Vec<_>>();
    let on_save = move |_| {
        let update = CapaUpdate {
            title: title.clone(),
            process_id: process,
            investigation: Investigation {
                problem: problem.get(),
                containment: containment.get(),
                whys: why_texts(),
                causes: causes.get().into_iter().map(CauseRow::get).collect(),
                team: team.get(),
                prevent_recurrence: prevent.get(),
                recognition: recognition.get(),
            },
            eight_d,
            due_on: None,
            version,
        }
        .normalized();
        save.dispatch(update);
    };
    view! {
        <div class="card investigation" data-testid="investigation">
            <h2>"Investigation"</h2>
            <fieldset disabled=!editable>
                <TextField name="investigation.problem" label="Problem (what, where, when, how many)" value=problem errors multiline=true />
                <TextField name="investigation.containment" label="Containment" value=containment errors multiline=true />
                <h3>"5 whys"</h3>
                <ol class="whys">
                    {move || whys.get().into_iter().enumerate().map(|(i, w)| view! {
                        <li>
                            <label class="sr-only" for=format!("why-{i}")>{format!("Why {}", i + 1)}</label>
                            <input id=format!("why-{i}") name=format!("why-{i}") type="text"
                                prop:value=move || w.get() on:input=move |ev| w.set(event_target_value(&ev)) />
                        </li>
                    }).collect_view()}
                </ol>
                <button type="button" class="btn btn-small" on:click=move |_| whys.update(|w| w.push(RwSignal::new(String::new())))>"Ask why again"</button>
                <RootCauseSuggestions text=Signal::derive(move || format!("{}. {}", problem.get(), why_texts().join(". "))) />
                <h3>"Causes (fishbone)"</h3>
                // The table is drawn again when a row is added (never while typing: each field has
                // its own signal); a reactive list directly inside <tbody> misplaces the rows.
                {move || view! {
                    <table class="grid causes" aria-label="Causes">
                        <thead><tr><th scope="col">"Category"</th><th scope="col">"Cause"</th><th scope="col">"Confirmed"</th><th scope="col">"Evidence"</th></tr></thead>
                        <tbody>
                            {causes.get().into_iter().enumerate().map(|(i, c)| view! {
                                <tr data-testid="cause-row">
                                    <td><select aria-label=format!("Category of cause {}", i + 1)
                                        prop:value=move || c.category.get().as_str()
                                        on:change=move |ev| if let Some(cat) = CauseCategory::parse(&event_target_value(&ev)) { c.category.set(cat) }>
                                        {CauseCategory::ALL.into_iter().map(|cat| view! { <option value=cat.as_str()>{cat.label()}</option> }).collect_view()}
                                    </select></td>
                                    <td><input type="text" aria-label=format!("Cause {}", i + 1) prop:value=move || c.text.get() on:input=move |ev| c.text.set(event_target_value(&ev)) /></td>
                                    <td><input type="checkbox" aria-label=format!("Cause {} confirmed", i + 1) prop:checked=move || c.confirmed.get() on:change=move |ev| c.confirmed.set(event_target_checked(&ev)) /></td>
                                    <td><input type="text" aria-label=format!("Evidence for cause {}", i + 1) prop:value=move || c.evidence.get() on:input=move |ev| c.evidence.set(event_target_value(&ev)) /></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }}
                <button type="button" class="btn btn-small" on:click=move |_| causes.update(|c| c.push(CauseRow::new(&Cause { category: CauseCategory::Method, text: String::new(), confirmed: false, evidence: String::new() })))>"Add a cause"</button>
            </fieldset>
            <fieldset disabled=!open>
                <TextField name="investigation.team" label="Team (8D D1)" value=team errors />
                <TextField name="investigation.prevent_recurrence" label="Prevent recurrence elsewhere (8D D7)" value=prevent errors multiline=true />
                <TextField name="investigation.recognition" label="Recognition of the team (8D D8)" value=recognition errors multiline=true />
            </fieldset>
            {open.then(|| view! { <div class="actions"><button type="button" class="btn btn-primary" on:click=on_save>"Save the investigation"</button></div> })}
        </div>
    }
}

/// The plan's actions with their linked work, the form to add one during the investigation, and
/// "done" for tasks during the implementation.
#[component]
fn Actions(
    capa: Capa,
    people: Vec<(UserId, String)>,
    form: NewActionForm,
    me: UserId,
    actor: shared::quality::Actor,
    state: RwSignal<Submitted>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let (id, version) = (capa.id.0, capa.meta.version);
    let planning = capa.state.investigating() && (actor.owner || actor.manager);
    let implementing = capa.state == CapaState::Implementation;
    let done = crate::data::action(move |action: &i64| {
        let action = *action;
        async move { settle(api::capa_action(id, action, "done", version, "").await, state, reload, "Marked done.") }
    });
    view! {
        <div class="card" data-testid="actions">
            <h2>"Action plan"</h2>
            {if capa.actions.is_empty() {
                view! { <p class="muted">"No action planned yet."</p> }.into_any()
            } else {
                view! {
                    <table class="grid" aria-label="Actions">
                        <thead><tr><th scope="col">"Action"</th><th scope="col">"Kind"</th><th scope="col">"Linked work"</th><th scope="col">"Owner"</th><th scope="col">"Due"</th><th scope="col">"Status"</th></tr></thead>
                        <tbody>
                            {capa.actions.iter().map(|a| {
                                let may_mark = implementing && a.kind == LinkKind::Task && a.done_on.is_none()
                                    && (actor.owner || actor.manager || a.owner_id == me);
                                let action = a.id.0;
                                view! {
                                    <tr data-testid="action-row" class:open=a.open>
                                        <td>{a.title.clone()}</td>
                                        <td>{a.kind.label()}</td>
                                        <td>{a.link_label.clone()}</td>
                                        <td>{a.owner_name.clone()}</td>
                                        <td class="nowrap">{a.due_on.to_string()}</td>
                                        <td>{if a.open { format!("Open ({})", a.link_status.replace('_', " ")) } else { "Done".to_string() }}
                                            {may_mark.then(|| view! { <button type="button" class="btn btn-small" on:click=move |_| { done.dispatch(action); }>"Mark done"</button> })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {planning.then(|| view! { <AddAction id version people form state reload /> })}
        </div>
    }
}

/// The add-an-action form's state, kept outside the part of the page that reloads: the page draws
/// again after every change of the CAPA, and what is being typed must survive it.
#[derive(Clone, Copy)]
struct NewActionForm {
    title: RwSignal<String>,
    kind: RwSignal<String>,
    link: RwSignal<String>,
    owner: RwSignal<String>,
    due: RwSignal<String>,
}

impl NewActionForm {
    fn new() -> Self {
        Self {
            title: RwSignal::new(String::new()),
            kind: RwSignal::new("task".to_string()),
            link: RwSignal::new(String::new()),
            owner: RwSignal::new(String::new()),
            due: RwSignal::new(String::new()),
        }
    }

    fn clear(self) {
        self.title.set(String::new());
        self.link.set(String::new());
    }
}

#[component]
fn AddAction(
    id: i64,
    version: i64,
    people: Vec<(UserId, String)>,
    form: NewActionForm,
    state: RwSignal<Submitted>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let NewActionForm { title, kind, link, owner, due } = form;
    // The document revisions in progress, to link a "revise the document" action to.
    let documents = crate::data::resource(|| async {
        let docs = api::list_documents().await?;
        let mut out = Vec::new();
        for d in docs {
            for r in api::list_document_revisions(d.id).await? {
                if matches!(r.status.as_str(), "draft" | "in_review" | "approved") {
                    out.push((r.id.0, format!("{} rev {} ({}) — {}", d.number, r.label, r.status.label(), d.title)));
                }
            }
        }
        Ok::<_, api::ApiError>(out)
    });
    let add = crate::data::action(move |input: &ActionInput| {
        let input = input.clone();
        async move {
            let r = api::add_capa_action(id, &input).await;
            if r.is_ok() {
                form.clear();
            }
            settle(r, state, reload, "Action added.")
        }
    });
    let errors = field_errors(state);
    view! {
        <form class="form step" aria-label="Add an action" novalidate on:submit=move |ev| {
            ev.prevent_default();
            let input = ActionInput {
                title: title.get().trim().to_string(),
                kind: LinkKind::parse(&kind.get()).unwrap_or(LinkKind::Task),
                link_id: link.get().trim().parse().ok(),
                owner_id: owner.get().parse().ok().map(UserId),
                due_on: due.get().parse().ok(),
                version,
            };
            if passes(state, input.validate(today_utc())) {
                add.dispatch(input);
            }
        }>
            <h3>"Add an action"</h3>
            <TextField name="title" label="Action" value=title errors required=true />
            <SelectField name="kind" label="Kind" value=kind errors empty="Choose…" required=true>
                {LinkKind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
            </SelectField>
            {move || match kind.get().as_str() {
                "document_revision" => view! {
                    {loaded(documents, "the document revisions", move |revisions| view! {
                        <SelectField name="link_id" label="Document revision" value=link errors empty="Choose a revision in progress…" required=true>
                            {revisions.into_iter().map(|(rid, label)| view! { <option value=rid.to_string()>{label}</option> }).collect_view()}
                        </SelectField>
                    })}
                }.into_any(),
                "task" => ().into_any(),
                _ => view! { <TextField name="link_id" label="Linked record's id (training assignment or FMEA row)" value=link errors required=true /> }.into_any(),
            }}
            <SelectField name="owner_id" label="Owner" value=owner errors empty="Choose…" required=true>
                {people.into_iter().map(|(u, n)| view! { <option value=u.0.to_string()>{n}</option> }).collect_view()}
            </SelectField>
            <DateInput name="due_on" label="Due" value=due />
            <div class="actions"><button type="submit" class="btn">"Add the action"</button></div>
        </form>
    }
}

/// The steps of the lifecycle that wait for this person.
#[component]
fn Steps(
    capa: Capa,
    people: Vec<(UserId, String)>,
    actor: shared::quality::Actor,
    state: RwSignal<Submitted>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let (id, version) = (capa.id.0, capa.meta.version);
    let run = crate::data::action(move |(step, done): &(CapaStep, &'static str)| {
        let (step, done) = (step.clone(), *done);
        async move { settle(api::capa_step(id, &step).await, state, reload, done) }
    });
    let errors = field_errors(state);
    let st = capa.state;
    let owner = RwSignal::new(capa.owner_id.map(|u| u.0.to_string()).unwrap_or_default());
    let verifier = RwSignal::new(capa.verifier_id.map(|u| u.0.to_string()).unwrap_or_default());
    let severity = RwSignal::new(capa.severity.map(|v| v.to_string()).unwrap_or_default());
    let likelihood = RwSignal::new(capa.likelihood.map(|v| v.to_string()).unwrap_or_default());
    let due = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let check_on = RwSignal::new(today_utc().to_string());
    let result = RwSignal::new("effective".to_string());
    let next_check = RwSignal::new(String::new());
    let person_options =
        move || people.iter().map(|(u, n)| view! { <option value=u.0.to_string()>{n.clone()}</option> }).collect_view();
    let options2 = person_options.clone();
    let verifier_side = !actor.owner && actor.verifier;
    view! {
        {(st == CapaState::Draft && (actor.owner || actor.manager)).then(|| view! {
            <div class="step"><button type="button" class="btn btn-primary" on:click=move |_| { run.dispatch((CapaStep::Submit { version }, "Submitted for triage.")); }>"Submit for triage"</button></div>
        })}
        {(st == CapaState::Triage && actor.manager).then(|| view! {
            <form class="form step" aria-label="Triage" novalidate on:submit=move |ev| {
                ev.prevent_default();
                run.dispatch((CapaStep::Triage {
                    severity: severity.get().parse().unwrap_or(0),
                    likelihood: likelihood.get().parse().unwrap_or(0),
                    owner_id: owner.get().parse().ok().map(UserId),
                    verifier_id: verifier.get().parse().ok().map(UserId),
                    due_on: due.get().parse().ok(),
                    version,
                }, "Triaged: the investigation starts."));
            }>
                <h2>"Triage"</h2>
                <SelectField name="severity" label="Severity (1–5)" value=severity errors empty="Choose…" required=true>
                    {(1..=5).map(|v| view! { <option value=v.to_string()>{v}</option> }).collect_view()}
                </SelectField>
                <SelectField name="likelihood" label="Likelihood of recurrence (1–5)" value=likelihood errors empty="Choose…" required=true>
                    {(1..=5).map(|v| view! { <option value=v.to_string()>{v}</option> }).collect_view()}
                </SelectField>
                <SelectField name="owner_id" label="Owner" value=owner errors empty="Choose…" required=true>{person_options()}</SelectField>
                <SelectField name="verifier_id" label="Verifier (not the owner)" value=verifier errors empty="Choose…" required=true>{options2()}</SelectField>
                <DateInput name="due_on" label="Due" value=due />
                <div class="actions"><button type="submit" class="btn btn-primary">"Rank and assign"</button></div>
            </form>
        })}
        {(st == CapaState::Investigation && (actor.owner || actor.manager)).then(|| view! {
            <div class="step"><button type="button" class="btn btn-primary" on:click=move |_| { run.dispatch((CapaStep::SubmitPlan { version }, "Plan submitted for approval.")); }>"Submit the plan for approval"</button></div>
        })}
        {(st == CapaState::Implementation && (actor.owner || actor.manager)).then(|| view! {
            <div class="step"><button type="button" class="btn btn-primary" on:click=move |_| { run.dispatch((CapaStep::CompleteImplementation { version }, "Implementation complete: waiting for verification.")); }>"Implementation complete"</button></div>
        })}
        {(st == CapaState::Verification && verifier_side).then(|| view! {
            <div class="form step" role="group" aria-label="Verification">
                <h2>"Verify the implementation"</h2>
                <TextField name="note" label="What you checked" value=note errors multiline=true />
                <DateInput name="effectiveness_due_on" label="Effectiveness check due" value=check_on />
                <div class="actions">
                    <button type="button" class="btn btn-primary" on:click=move |_| { run.dispatch((CapaStep::Verify { effectiveness_due_on: check_on.get().parse().ok(), note: note.get(), version }, "Verified: the effectiveness check is scheduled.")); }>"Verified"</button>
                </div>
                <TextField name="reason" label="Or send back: why" value=reason errors multiline=true />
                <button type="button" class="btn" on:click=move |_| { run.dispatch((CapaStep::RejectImplementation { reason: reason.get(), version }, "Sent back to implementation.")); }>"Send back"</button>
            </div>
        })}
        {(st == CapaState::Effectiveness && verifier_side).then(|| view! {
            <div class="form step" role="group" aria-label="Effectiveness check">
                <h2>"Effectiveness check"</h2>
                <SelectField name="result" label="Result" value=result errors empty="Choose…" required=true>
                    {[EffectivenessResult::Effective, EffectivenessResult::Ineffective, EffectivenessResult::Inconclusive].into_iter()
                        .map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </SelectField>
                <TextField name="note" label="Evidence" value=note errors multiline=true required=true />
                <DateInput name="next_check_on" label="Check again on (inconclusive)" value=next_check />
                <button type="button" class="btn btn-primary" on:click=move |_| {
                    let r = match result.get().as_str() { "ineffective" => EffectivenessResult::Ineffective, "inconclusive" => EffectivenessResult::Inconclusive, _ => EffectivenessResult::Effective };
                    run.dispatch((CapaStep::RecordEffectiveness { result: r, note: note.get(), next_check_on: next_check.get().parse().ok(), version }, "Effectiveness recorded."));
                }>"Record the check"</button>
            </div>
        })}
        {(st == CapaState::ActionPlan && actor.manager).then(|| view! {
            <details class="step">
                <summary>"Send the plan back"</summary>
                <TextField name="reason" form="return" label="Why" value=reason errors multiline=true required=true />
                <button type="button" class="btn" on:click=move |_| { run.dispatch((CapaStep::ReturnPlan { reason: reason.get(), version }, "Plan sent back.")); }>"Send back"</button>
            </details>
        })}
        {(st.is_open() && actor.manager).then(|| view! {
            <details class="step">
                <summary>"Cancel the CAPA"</summary>
                <TextField name="reason" form="cancel" label="Why" value=reason errors multiline=true required=true />
                <button type="button" class="btn" on:click=move |_| { run.dispatch((CapaStep::Cancel { reason: reason.get(), version }, "Cancelled.")); }>"Cancel the CAPA"</button>
            </details>
        })}
    }
}

/// Extension requests: asked by the owner with a reason, decided by the quality manager; the first
/// due date stays.
#[component]
fn Extensions(
    capa: Capa,
    actor: shared::quality::Actor,
    state: RwSignal<Submitted>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let (id, version) = (capa.id.0, capa.meta.version);
    let date = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let ask = crate::data::action(move |input: &ExtensionInput| {
        let input = input.clone();
        async move { settle(api::request_extension(id, &input).await, state, reload, "Extension requested.") }
    });
    let decide = crate::data::action(move |(x, d): &(i64, ExtensionDecision)| {
        let (x, d) = (*x, d.clone());
        async move { settle(api::decide_extension(id, x, &d).await, state, reload, "Decided.") }
    });
    let errors = field_errors(state);
    let may_ask = capa.state.is_open()
        && capa.due_on.is_some()
        && (actor.owner || actor.manager)
        && !capa.extensions.iter().any(|x| x.state == ExtensionState::Pending);
    view! {
        {(!capa.extensions.is_empty() || may_ask).then(|| view! {
            <div class="card" data-testid="extensions">
                <h2>"Due-date extensions"</h2>
                <ul>
                    {capa.extensions.iter().map(|x| {
                        let xid = x.id.0;
                        let pending = x.state == ExtensionState::Pending;
                        view! {
                            <li>{format!("{} → {}: {} ({}, {}) — {}", x.previous_due_on, x.requested_due_on, x.reason, x.requested_by, x.requested_on,
                                match x.state { ExtensionState::Pending => "pending".to_string(), s => format!("{} by {}", s.as_str(), x.decided_by.clone().unwrap_or_default()) })}
                                {(pending && actor.manager).then(|| view! {
                                    <button type="button" class="btn btn-small" on:click=move |_| { decide.dispatch((xid, ExtensionDecision { approve: true, reason: String::new(), version })); }>"Approve"</button>
                                    <button type="button" class="btn btn-small" on:click=move |_| { decide.dispatch((xid, ExtensionDecision { approve: false, reason: reason.get(), version })); }>"Reject (reason below)"</button>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {may_ask.then(|| view! {
                    <DateInput name="extension_due_on" label="New due date" value=date />
                    <TextField name="reason" form="extension" label="Reason" value=reason errors multiline=true required=true />
                    <button type="button" class="btn" on:click=move |_| { ask.dispatch(ExtensionInput { due_on: date.get().parse().ok(), reason: reason.get(), version }); }>"Request the extension"</button>
                })}
                {(!may_ask && actor.manager).then(|| view! { <TextField name="reason" form="decision" label="Reason (to reject)" value=reason errors /> })}
            </div>
        })}
    }
}

/// `/quality/capas/:id/8d`: the same CAPA as an 8D report, printable.
#[component]
pub fn EightDReport() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or_default();
    let capa = crate::data::resource(move || api::get_capa(id()));
    view! {
        <section class="report">
            {loaded(capa, "the 8D report", |c: Capa| view! {
                <header class="page-head">
                    <h1>{format!("8D report · {} · {}", c.number, c.title)}</h1>
                    <div class="actions no-print">
                        <A href=format!("/quality/capas/{}", c.id) attr:class="btn">"Back to the CAPA"</A>
                        <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                    </div>
                </header>
                <p class="muted">{format!("{} · opened {} · {}", c.state.label(), c.opened_on, c.process_name.clone().unwrap_or_default())}</p>
                {c.eight_d_sections().into_iter().map(|(heading, text)| view! {
                    <section class="eight-d" data-testid="eight-d">
                        <h2>{heading}</h2>
                        <p class="pre">{text}</p>
                    </section>
                }).collect_view()}
            })}
        </section>
    }
}
