//! Nonconformances: the register with its filters and Pareto chart, the form anyone uses to
//! raise one (the shared rules run in the browser first), and the NC's page with the quality
//! manager's steps: disposition, evaluation, a CAPA, closure.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use shared::FieldErrors;
use shared::auth::Permission;
use shared::org::ProcessId;
use shared::quality::{
    BAD_AMOUNT, CategoryId, CauseCategory, ComplaintId, Costs, Disposition, Nc, NcInput, NcSource, NcState, NcStep,
    ParetoBar, format_amount, parse_amount,
};

use super::{DateInput, RootCauseSuggestions, StateBadge, settle, step_outcome};
use crate::api;
use crate::components::field::{SelectField, TextField};
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::components::status::{loaded, loaded_distinct, today_utc};
use crate::session::{can, changes_of, session};

crate::area!(quality_ncs, Page { Register => NcRegister, New => NcNew, Record => NcPage });

fn nc_badge(state: NcState) -> impl IntoView {
    view! { <StateBadge label=state.label() key=state.as_str() /> }
}

/// `/quality/ncs`: the register, newest first, with filters and the Pareto of the last year.
#[component]
pub fn NcRegister() -> impl IntoView {
    let s = session();
    let changes = changes_of("nc");
    let state = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let pages = RwSignal::new(Vec::<i64>::new());
    let query = move || {
        let mut parts = vec!["limit=50".to_string()];
        for (k, v) in [("state", state.get()), ("source", source.get()), ("category_id", category.get())] {
            if !v.is_empty() {
                parts.push(format!("{k}={v}"));
            }
        }
        let text = q.get();
        if !text.trim().is_empty() {
            parts.push(format!("q={}", js_sys::encode_uri_component(text.trim())));
        }
        parts.join("&")
    };
    let categories = crate::data::resource(api::nc_categories);
    let ncs = crate::data::resource(move || {
        changes.track();
        let query = query();
        let before = pages.get().last().copied();
        async move {
            let q = match before {
                Some(b) => format!("{query}&before_id={b}"),
                None => query,
            };
            api::list_ncs(&q).await
        }
    });
    view! {
        <section>
            <header class="page-head">
                <h1>"Nonconformances"</h1>
                <div class="actions">
                    <A href="/quality/ncs/new" attr:class="btn btn-primary" attr:hidden=move || !can(s, &[Permission::ReportQuality])>"Raise a nonconformance"</A>
                </div>
            </header>
            <Pareto />
            <form class="filters" role="search" aria-label="Filter the register" on:submit=|ev| ev.prevent_default()>
                <label>"State "
                    <select name="state" on:change=move |ev| { pages.set(vec![]); state.set(event_target_value(&ev)); }>
                        <option value="">"Any"</option>
                        {NcState::ALL.into_iter().map(|st| view! { <option value=st.as_str()>{st.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Source "
                    <select name="source" on:change=move |ev| { pages.set(vec![]); source.set(event_target_value(&ev)); }>
                        <option value="">"Any"</option>
                        {NcSource::ALL.into_iter().map(|st| view! { <option value=st.as_str()>{st.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Category "
                    <select name="category" on:change=move |ev| { pages.set(vec![]); category.set(event_target_value(&ev)); }>
                        <option value="">"Any"</option>
                        {move || categories.get().and_then(Result::ok).unwrap_or_default().into_iter()
                            .map(|c| view! { <option value=c.id.0.to_string()>{c.name}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Search "
                    <input type="search" name="q" placeholder="Number, product, lot, words"
                        on:change=move |ev| { pages.set(vec![]); q.set(event_target_value(&ev)); } />
                </label>
            </form>
            {loaded(ncs, "the nonconformances", move |list: Vec<Nc>| {
                let today = today_utc();
                let last = list.last().map(|n| n.id.0);
                let full = list.len() == 50;
                view! {
                    {if list.is_empty() {
                        view! { <p class="empty">"No nonconformance matches."</p> }.into_any()
                    } else {
                        view! {
                            <table class="grid" aria-label="Nonconformances">
                                <thead><tr>
                                    <th scope="col">"Number"</th><th scope="col">"Found"</th><th scope="col">"Source"</th>
                                    <th scope="col">"Category"</th><th scope="col">"Process"</th><th scope="col">"Product"</th>
                                    <th scope="col">"Qty"</th><th scope="col">"Description"</th><th scope="col">"State"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|n| {
                                        let overdue = n.overdue(today);
                                        view! {
                                            <tr data-testid="nc-row" class:overdue=overdue>
                                                <td class="nowrap"><A href=format!("/quality/ncs/{}", n.id)>{n.number.clone()}</A></td>
                                                <td class="nowrap">{n.reported_on.to_string()}</td>
                                                <td>{n.source.label()}</td>
                                                <td>{n.category.clone()}</td>
                                                <td>{n.process_name.clone().unwrap_or_else(|| "—".into())}</td>
                                                <td>{n.product.clone()}</td>
                                                <td class="num">{n.quantity}</td>
                                                <td class="clip">{n.description.chars().take(90).collect::<String>()}</td>
                                                <td>{nc_badge(n.state)}{overdue.then_some(view! { <span class="badge overdue">"Overdue"</span> })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    <div class="actions">
                        <button type="button" class="btn" hidden=move || pages.with(Vec::is_empty) on:click=move |_| pages.set(vec![])>"Newest"</button>
                        <button type="button" class="btn" hidden=!full on:click=move |_| if let Some(l) = last { pages.update(|p| p.push(l)) }>"Older"</button>
                    </div>
                }
            })}
        </section>
    }
}

/// The Pareto of the last 12 months, by category or by process: bars largest first with the
/// cumulative line, and the numbers as a table for screen readers.
#[component]
fn Pareto() -> impl IntoView {
    let by = RwSignal::new("category".to_string());
    let today = today_utc();
    let from = RwSignal::new(
        today.checked_sub_months(chrono::Months::new(12)).and_then(|d| d.succ_opt()).unwrap_or(today).to_string(),
    );
    let to = RwSignal::new(today.to_string());
    let changes = changes_of("nc");
    let bars = crate::data::resource(move || {
        changes.track();
        let query = format!("by={}&from={}&to={}", by.get(), from.get(), to.get());
        async move { api::nc_pareto(&query).await }
    });
    view! {
        <div class="card pareto" data-testid="pareto">
            <div class="page-head">
                <h2>"Pareto"</h2>
                <div class="filters inline" role="group" aria-label="Pareto period">
                    <label>"By "
                        <select name="pareto-by" on:change=move |ev| by.set(event_target_value(&ev))>
                            <option value="category">"Category"</option>
                            <option value="process">"Process"</option>
                        </select>
                    </label>
                    <label>"From " <input type="date" name="pareto-from" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev)) /></label>
                    <label>"To " <input type="date" name="pareto-to" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev)) /></label>
                </div>
            </div>
            {loaded(bars, "the Pareto", |bars: Vec<ParetoBar>| {
                if bars.is_empty() {
                    return view! { <p class="muted">"No nonconformance in this period."</p> }.into_any();
                }
                let bars: Vec<ParetoBar> = bars.into_iter().take(12).collect();
                let max = bars.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64;
                let n = bars.len() as f64;
                let (w, h, left, top, bottom) = (640.0, 260.0, 64.0, 18.0, 78.0);
                let slot = (w - left) / n;
                let plot = h - top - bottom;
                let points = bars
                    .iter()
                    .enumerate()
                    .map(|(i, b)| format!("{:.1},{:.1}", left + slot * (i as f64 + 0.5), top + plot * (1.0 - b.cumulative_percent / 100.0)))
                    .collect::<Vec<_>>()
                    .join(" ");
                view! {
                    <svg class="pareto-chart" viewBox=format!("0 0 {w} {h}") role="img" aria-label="Pareto chart of nonconformances">
                        {bars.iter().enumerate().map(|(i, b)| {
                            let bh = plot * b.count as f64 / max;
                            let x = left + slot * i as f64 + slot * 0.15;
                            let cx = x + slot * 0.35;
                            let base = top + plot;
                            view! {
                                <g>
                                    <rect class="bar" x=format!("{x:.1}") y=format!("{:.1}", base - bh) width=format!("{:.1}", slot * 0.7) height=format!("{bh:.1}")>
                                        <title>{format!("{}: {} NCs ({:.0} % cumulative)", b.label, b.count, b.cumulative_percent)}</title>
                                    </rect>
                                    <text class="bar-value" x=format!("{cx:.1}") y=format!("{:.1}", base - bh - 4.0) text-anchor="middle">{b.count}</text>
                                    <text class="bar-label" x=format!("{cx:.1}") y=format!("{:.1}", base + 12.0) text-anchor="end"
                                        transform=format!("rotate(-35 {cx:.1} {:.1})", base + 12.0)>
                                        {b.label.chars().take(18).collect::<String>()}
                                    </text>
                                </g>
                            }
                        }).collect_view()}
                        <polyline class="cumulative" points=points fill="none" />
                        <text class="axis" x=format!("{:.1}", w - 2.0) y=format!("{:.1}", top - 6.0) text-anchor="end">"cumulative share (line)"</text>
                    </svg>
                    <table class="sr-only">
                        <caption>"Nonconformances by count, with the cumulative share"</caption>
                        <thead><tr><th scope="col">"Group"</th><th scope="col">"NCs"</th><th scope="col">"Units"</th><th scope="col">"Cost"</th><th scope="col">"Cumulative"</th></tr></thead>
                        <tbody>
                            {bars.into_iter().map(|b| view! {
                                <tr data-testid="pareto-row"><td>{b.label}</td><td>{b.count}</td><td>{b.quantity}</td><td>{format_amount(b.cost)}</td><td>{format!("{:.0} %", b.cumulative_percent)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </div>
    }
}

/// `/quality/ncs/new`: raise a nonconformance (from a complaint with `?complaint=ID`).
#[component]
pub fn NcNew() -> impl IntoView {
    let query = use_query_map();
    let complaint = query.with_untracked(|q| q.get("complaint").and_then(|c| c.parse::<i64>().ok()));
    let lists =
        crate::data::resource(|| async { Ok((api::nc_categories().await?, api::list_processes(false).await?)) });
    let source = RwSignal::new(if complaint.is_some() { "customer" } else { "internal" }.to_string());
    let category = RwSignal::new(String::new());
    let process = RwSignal::new(String::new());
    let product = RwSignal::new(String::new());
    let lot = RwSignal::new(String::new());
    let quantity = RwSignal::new("1".to_string());
    let description = RwSignal::new(String::new());
    let containment = RwSignal::new(String::new());
    let reported_on = RwSignal::new(today_utc().to_string());
    let costs = [(); 4].map(|()| RwSignal::new(String::new()));
    let state = RwSignal::new(Submitted::default());
    let navigate = use_navigate();
    let save = crate::data::action(move |input: &NcInput| {
        let input = input.clone();
        let navigate = navigate.clone();
        async move {
            match api::create_nc(&input).await {
                Ok(nc) => navigate(&format!("/quality/ncs/{}", nc.id), Default::default()),
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |()| String::new())),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut amounts = [0i64; 4];
        let mut money = FieldErrors::new();
        for (i, (field, value)) in
            ["costs.scrap", "costs.rework", "costs.warranty", "costs.returns"].into_iter().zip(costs).enumerate()
        {
            match parse_amount(&value.get()) {
                Some(c) => amounts[i] = c,
                None => money.add(field, BAD_AMOUNT),
            }
        }
        let input = NcInput {
            source: NcSource::parse(&source.get()).unwrap_or(NcSource::Internal),
            category_id: category.get().parse().ok().map(CategoryId),
            process_id: process.get().parse().ok().map(ProcessId),
            product: product.get(),
            lot: lot.get(),
            quantity: quantity.get().trim().parse().unwrap_or(0),
            description: description.get(),
            containment: containment.get(),
            reported_on: reported_on.get().parse().ok(),
            costs: Costs { scrap: amounts[0], rework: amounts[1], warranty: amounts[2], returns: amounts[3] },
            complaint_id: complaint.map(ComplaintId),
            version: None,
        }
        .normalized();
        let mut rules = input.validate(today_utc()).err().unwrap_or_default();
        if quantity.get().trim().parse::<u32>().is_err() {
            rules.add("quantity", shared::validation::FORMAT);
        }
        for (f, codes) in money.0 {
            for c in codes {
                rules.add(f.clone(), c);
            }
        }
        if passes(state, rules.into_result()) {
            save.dispatch(input);
        }
    };
    let errors = field_errors(state);
    view! {
        <section>
            <header class="page-head"><h1>"Raise a nonconformance"</h1></header>
            {complaint.map(|c| view! { <p class="muted">{format!("From complaint {c}: it will be linked.")}</p> })}
            {loaded(lists, "the categories", move |(categories, processes)| view! {
                <form class="form" on:submit=on_submit novalidate>
                    <SelectField name="source" label="Found" value=source errors empty="Choose…" required=true>
                        {NcSource::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </SelectField>
                    <SelectField name="category_id" label="Category" value=category errors empty="Choose a category…" required=true>
                        {categories.into_iter().map(|c| view! { <option value=c.id.0.to_string()>{c.name}</option> }).collect_view()}
                    </SelectField>
                    <SelectField name="process_id" label="Process" value=process errors empty="No process / not known">
                        {processes.into_iter().map(|p| view! { <option value=p.id.0.to_string()>{p.name}</option> }).collect_view()}
                    </SelectField>
                    <TextField name="product" label="Product or part number" value=product errors />
                    <TextField name="lot" label="Lot or batch" value=lot errors />
                    <TextField name="quantity" label="Units affected" value=quantity errors />
                    <TextField name="description" label="What is wrong (against which requirement)" value=description errors multiline=true required=true />
                    <RootCauseSuggestions text=Signal::derive(move || description.get()) />
                    <TextField name="containment" label="Containment done at once" value=containment errors multiline=true />
                    <DateInput name="reported_on" label="Found on" value=reported_on />
                    <fieldset class="costs">
                        <legend>"Cost (optional)"</legend>
                        <TextField name="costs.scrap" label="Scrap" value=costs[0] errors />
                        <TextField name="costs.rework" label="Rework" value=costs[1] errors />
                        <TextField name="costs.warranty" label="Warranty" value=costs[2] errors />
                        <TextField name="costs.returns" label="Returns" value=costs[3] errors />
                    </fieldset>
                    {outcome_view(state)}
                    <div class="actions">
                        <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>"Raise the nonconformance"</button>
                    </div>
                </form>
            })}
        </section>
    }
}

/// `/quality/ncs/:id`: one NC and the steps left on it.
#[component]
pub fn NcPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let changes = changes_of("nc");
    let nc = crate::data::resource(move || {
        reload.track();
        changes.track();
        api::get_nc(id())
    });
    let s = session();
    let state = RwSignal::new(Submitted::default());
    view! {
        <section>
            {loaded_distinct(nc, "the nonconformance", move |nc: Nc| {
                let manager = can(s, &[Permission::ManageQuality]);
                let qualified = can(s, &[Permission::DispositionNonconformances]);
                let open = nc.state == NcState::Open;
                view! {
                    <header class="page-head">
                        <h1>{format!("{} · {}", nc.number, nc.category)}</h1>
                        {nc_badge(nc.state)}
                    </header>
                    <dl class="facts">
                        <dt>"Found"</dt><dd>{format!("{} ({}), raised by {}", nc.reported_on, nc.source.label(), nc.reported_by_name)}</dd>
                        <dt>"Process"</dt><dd>{nc.process_name.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Product"</dt><dd>{format!("{} {} · {} units", nc.product, if nc.lot.is_empty() { String::new() } else { format!("lot {}", nc.lot) }, nc.quantity)}</dd>
                        <dt>"Description"</dt><dd class="pre">{nc.description.clone()}</dd>
                        <dt>"Containment"</dt><dd class="pre">{if nc.containment.is_empty() { "—".to_string() } else { nc.containment.clone() }}</dd>
                        <dt>"Cost"</dt><dd>{format!("{} (scrap {}, rework {}, warranty {}, returns {})", format_amount(nc.costs.total()),
                            format_amount(nc.costs.scrap), format_amount(nc.costs.rework), format_amount(nc.costs.warranty), format_amount(nc.costs.returns))}</dd>
                        <dt>"Disposition"</dt><dd data-testid="disposition">{match nc.disposition {
                            Some(d) => format!("{}{} — {}", d.label(), if nc.disposition_note.is_empty() { String::new() } else { format!(": {}", nc.disposition_note) }, nc.dispositioned_by.clone().unwrap_or_default()),
                            None => "Not decided".into(),
                        }}</dd>
                        <dt>"Evaluation"</dt><dd data-testid="evaluation">{match &nc.evaluation {
                            Some(e) => format!("{}: {} ({}, {}{})", if e.capa_needed { "CAPA needed" } else { "No CAPA needed" }, e.rationale, e.by, e.on,
                                e.root_cause.map(|c| format!("; root cause: {}", c.label())).unwrap_or_default()),
                            None => "Not evaluated".into(),
                        }}</dd>
                        <dt>"CAPA"</dt><dd>{match (nc.capa_id, nc.capa_number.clone()) {
                            (Some(c), Some(n)) => view! { <A href=format!("/quality/capas/{c}")>{n}</A> }.into_any(),
                            _ => view! { <span>"—"</span> }.into_any(),
                        }}</dd>
                        <dt>"Complaint"</dt><dd>{match (nc.complaint_id, nc.complaint_number.clone()) {
                            (Some(c), Some(n)) => view! { <A href=format!("/quality/complaints/{c}")>{n}</A> }.into_any(),
                            _ => view! { <span>"—"</span> }.into_any(),
                        }}</dd>
                        {nc.meta.retired_reason.clone().map(|r| view! { <dt>"Cancelled"</dt><dd>{r}</dd> })}
                    </dl>
                    {step_outcome(state)}
                    {(open && qualified).then(|| view! { <DispositionForm nc=nc.clone() state reload /> })}
                    {(open && manager).then(|| view! { <EvaluationForm nc=nc.clone() state reload /> })}
                    {(open && manager).then(|| view! { <NcClosure nc=nc.clone() state reload /> })}
                    {(open && !manager && !qualified).then(|| view! {
                        <p class="muted">"The quality manager decides the disposition, evaluates the NC and closes it."</p>
                    })}
                }
            })}
        </section>
    }
}

#[component]
fn DispositionForm(nc: Nc, state: RwSignal<Submitted>, reload: RwSignal<u32>) -> impl IntoView {
    let choice = RwSignal::new(nc.disposition.map(|d| d.as_str().to_string()).unwrap_or_default());
    let note = RwSignal::new(nc.disposition_note.clone());
    let (id, version) = (nc.id.0, nc.meta.version);
    let run = crate::data::action(move |step: &NcStep| {
        let step = step.clone();
        async move { settle(api::nc_step(id, &step).await, state, reload, "Disposition recorded.") }
    });
    let errors = field_errors(state);
    view! {
        <form class="form step" aria-label="Disposition" on:submit=move |ev| {
            ev.prevent_default();
            let Some(disposition) = Disposition::parse(&choice.get()) else {
                let mut e = FieldErrors::new();
                e.add("disposition", shared::validation::REQUIRED);
                state.set(Submitted { errors: e, message: Some((false, "Choose a disposition.".into())) });
                return;
            };
            run.dispatch(NcStep::Disposition { disposition, note: note.get(), version });
        }>
            <h2>"Disposition"</h2>
            <SelectField name="disposition" label="Disposition" value=choice errors empty="Choose…" required=true>
                {Disposition::ALL.into_iter().map(|d| view! { <option value=d.as_str()>{d.label()}</option> }).collect_view()}
            </SelectField>
            <TextField name="note" label="Justification (required for use as is)" value=note errors multiline=true />
            <div class="actions"><button type="submit" class="btn btn-primary">"Record the disposition"</button></div>
        </form>
    }
}

#[component]
fn EvaluationForm(nc: Nc, state: RwSignal<Submitted>, reload: RwSignal<u32>) -> impl IntoView {
    let needed = RwSignal::new(nc.evaluation.as_ref().is_some_and(|e| e.capa_needed));
    let rationale = RwSignal::new(nc.evaluation.as_ref().map(|e| e.rationale.clone()).unwrap_or_default());
    let root = RwSignal::new(
        nc.evaluation.as_ref().and_then(|e| e.root_cause).map(|c| c.as_str().to_string()).unwrap_or_default(),
    );
    let (id, version) = (nc.id.0, nc.meta.version);
    let has_capa = nc.capa_id.is_some();
    let wants_capa = nc.evaluation.as_ref().is_some_and(|e| e.capa_needed) && !has_capa;
    let run = crate::data::action(move |(step, done): &(NcStep, &'static str)| {
        let (step, done) = (step.clone(), *done);
        async move { settle(api::nc_step(id, &step).await, state, reload, done) }
    });
    let errors = field_errors(state);
    view! {
        <form class="form step" aria-label="Evaluation" on:submit=move |ev| {
            ev.prevent_default();
            run.dispatch((NcStep::Evaluate { capa_needed: needed.get(), rationale: rationale.get(), root_cause: CauseCategory::parse(&root.get()), version }, "Evaluation recorded."));
        }>
            <h2>"Evaluation: is a CAPA needed?"</h2>
            <fieldset class="choice">
                <legend>"CAPA needed"</legend>
                <label class="check"><input type="radio" name="capa_needed" prop:checked=move || needed.get() on:change=move |_| needed.set(true) />"Yes"</label>
                <label class="check"><input type="radio" name="capa_needed" prop:checked=move || !needed.get() on:change=move |_| needed.set(false) />"No"</label>
            </fieldset>
            <TextField name="rationale" label="Rationale (recurrence, risk, cost)" value=rationale errors multiline=true required=true />
            <RootCauseSuggestions text=Signal::derive({ let d = nc.description.clone(); move || d.clone() }) />
            <SelectField name="root_cause" label="Root-cause category (if known)" value=root errors empty="Not known yet">
                {CauseCategory::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
            </SelectField>
            <div class="actions">
                <button type="submit" class="btn btn-primary">"Record the evaluation"</button>
                {wants_capa.then(|| view! {
                    <button type="button" class="btn" on:click=move |_| { run.dispatch((NcStep::LinkCapa { capa_id: None, version }, "CAPA opened.")); }>"Open a CAPA for it"</button>
                })}
            </div>
        </form>
    }
}

#[component]
fn NcClosure(nc: Nc, state: RwSignal<Submitted>, reload: RwSignal<u32>) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let (id, version) = (nc.id.0, nc.meta.version);
    let run = crate::data::action(move |(step, done): &(NcStep, &'static str)| {
        let (step, done) = (step.clone(), *done);
        async move { settle(api::nc_step(id, &step).await, state, reload, done) }
    });
    let errors = field_errors(state);
    view! {
        <div class="form step" role="group" aria-label="Close or cancel">
            <h2>"Close"</h2>
            <p class="muted">"An NC closes once dispositioned and evaluated, with its CAPA when one is needed."</p>
            <div class="actions">
                <button type="button" class="btn btn-primary" on:click=move |_| { run.dispatch((NcStep::Close { version }, "Closed.")); }>"Close the nonconformance"</button>
            </div>
            <details>
                <summary>"Cancel it (raised in error)"</summary>
                <TextField name="reason" label="Reason" value=reason errors multiline=true required=true />
                <button type="button" class="btn" on:click=move |_| { run.dispatch((NcStep::Cancel { reason: reason.get(), version }, "Cancelled.")); }>"Cancel the nonconformance"</button>
            </details>
        </div>
    }
}
