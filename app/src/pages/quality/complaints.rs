//! Customer complaints: the list with the monthly counts, the intake form anyone uses, and the
//! complaint's page with the quality manager's steps: investigation, reportability, linked NCs,
//! the response to the customer, closure.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::auth::Permission;
use shared::quality::{Channel, Complaint, ComplaintInput, ComplaintState, ComplaintStep, NcId};

use super::{DateInput, StateBadge, settle, step_outcome};
use crate::api;
use crate::components::field::{SelectField, TextField};
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::components::status::{loaded, loaded_distinct, today_utc};
use crate::session::{can, changes_of, session};

crate::area!(quality_complaints, Page { List => ComplaintList, New => ComplaintNew, Record => ComplaintPage });

fn complaint_badge(state: ComplaintState) -> impl IntoView {
    view! { <StateBadge label=state.label() key=state.as_str() /> }
}

/// `/quality/complaints`
#[component]
pub fn ComplaintList() -> impl IntoView {
    let s = session();
    let changes = changes_of("complaint");
    let data = crate::data::resource(move || {
        changes.track();
        async move { Ok((api::list_complaints().await?, api::complaint_counts().await?)) }
    });
    view! {
        <section>
            <header class="page-head">
                <h1>"Complaints"</h1>
                <div class="actions">
                    <A href="/quality/complaints/new" attr:class="btn btn-primary" attr:hidden=move || !can(s, &[Permission::ReportQuality])>"Log a complaint"</A>
                </div>
            </header>
            {loaded(data, "the complaints", |(list, counts)| view! {
                <table class="grid counts" aria-label="Complaints per month">
                    <thead><tr>{counts.iter().map(|c| view! { <th scope="col">{c.period.to_string()}</th> }).collect_view()}</tr></thead>
                    <tbody><tr>{counts.iter().map(|c| view! { <td class="num">{c.count}</td> }).collect_view()}</tr></tbody>
                </table>
                {if list.is_empty() {
                    view! { <p class="empty">"No complaint logged."</p> }.into_any()
                } else {
                    view! {
                        <table class="grid" aria-label="Complaints">
                            <thead><tr>
                                <th scope="col">"Number"</th><th scope="col">"Received"</th><th scope="col">"Customer"</th>
                                <th scope="col">"Product"</th><th scope="col">"Description"</th><th scope="col">"Linked"</th>
                                <th scope="col">"Reportable"</th><th scope="col">"State"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|c| view! {
                                    <tr data-testid="complaint-row">
                                        <td class="nowrap"><A href=format!("/quality/complaints/{}", c.id)>{c.number.clone()}</A></td>
                                        <td class="nowrap">{c.received_on.to_string()}</td>
                                        <td>{c.customer.clone()}</td>
                                        <td>{format!("{} {}", c.product, c.lot)}</td>
                                        <td class="clip">{c.description.chars().take(80).collect::<String>()}</td>
                                        <td>{c.ncs.iter().chain(c.capas.iter()).map(|l| l.number.clone()).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{match c.reportable { Some(true) => "Yes", Some(false) => "No", None => "Not decided" }}</td>
                                        <td>{complaint_badge(c.state)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            })}
        </section>
    }
}

/// `/quality/complaints/new`
#[component]
pub fn ComplaintNew() -> impl IntoView {
    let customer = RwSignal::new(String::new());
    let product = RwSignal::new(String::new());
    let lot = RwSignal::new(String::new());
    let received = RwSignal::new(today_utc().to_string());
    let channel = RwSignal::new("email".to_string());
    let description = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let navigate = use_navigate();
    let save = crate::data::action(move |input: &ComplaintInput| {
        let input = input.clone();
        let navigate = navigate.clone();
        async move {
            match api::create_complaint(&input).await {
                Ok(c) => navigate(&format!("/quality/complaints/{}", c.id), Default::default()),
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |()| String::new())),
            }
        }
    });
    let errors = field_errors(state);
    view! {
        <section>
            <header class="page-head"><h1>"Log a complaint"</h1></header>
            <form class="form" novalidate on:submit=move |ev| {
                ev.prevent_default();
                let input = ComplaintInput {
                    customer: customer.get(),
                    product: product.get(),
                    lot: lot.get(),
                    received_on: received.get().parse().ok(),
                    channel: Channel::parse(&channel.get()).unwrap_or(Channel::Other),
                    description: description.get(),
                }
                .normalized();
                if passes(state, input.validate(today_utc())) {
                    save.dispatch(input);
                }
            }>
                <TextField name="customer" label="Customer" value=customer errors required=true />
                <TextField name="product" label="Product" value=product errors />
                <TextField name="lot" label="Lot or serial number" value=lot errors />
                <DateInput name="received_on" label="Received on" value=received />
                <SelectField name="channel" label="Channel" value=channel errors empty="Choose…" required=true>
                    {Channel::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                </SelectField>
                <TextField name="description" label="What the customer reports" value=description errors multiline=true required=true />
                {outcome_view(state)}
                <div class="actions"><button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>"Log the complaint"</button></div>
            </form>
        </section>
    }
}

/// `/quality/complaints/:id`
#[component]
pub fn ComplaintPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let changes = changes_of("complaint");
    let data = crate::data::resource(move || {
        reload.track();
        changes.track();
        let id = id();
        async move { Ok((api::get_complaint(id).await?, api::list_ncs("state=open&limit=200").await?)) }
    });
    let s = session();
    let state = RwSignal::new(Submitted::default());
    view! {
        <section>
            {loaded_distinct(data, "the complaint", move |(c, open_ncs): (Complaint, Vec<shared::quality::Nc>)| {
                let manager = can(s, &[Permission::ManageQuality]);
                let open = c.state.is_open();
                view! {
                    <header class="page-head">
                        <h1>{format!("{} · {}", c.number, c.customer)}</h1>
                        {complaint_badge(c.state)}
                    </header>
                    <dl class="facts">
                        <dt>"Received"</dt><dd>{format!("{} by {}, logged by {}", c.received_on, c.channel.label(), c.logged_by)}</dd>
                        <dt>"Product"</dt><dd>{format!("{} {}", c.product, c.lot)}</dd>
                        <dt>"Description"</dt><dd class="pre">{c.description.clone()}</dd>
                        <dt>"Investigation"</dt><dd class="pre">{if c.investigation.is_empty() { "—".into() } else { c.investigation.clone() }}</dd>
                        <dt>"Reportable event"</dt><dd data-testid="reportable">{match c.reportable {
                            Some(r) => format!("{}: {}", if r { "Yes" } else { "No" }, c.reportable_reason),
                            None => "Not decided".into(),
                        }}</dd>
                        <dt>"Response"</dt><dd class="pre">{match c.responded_on { Some(d) => format!("{d}: {}", c.response), None => "—".into() }}</dd>
                        <dt>"Linked"</dt><dd data-testid="links">
                            {c.ncs.clone().into_iter().map(|l| view! { <A href=format!("/quality/ncs/{}", l.id)>{l.number}</A>" " }).collect_view()}
                            {c.capas.clone().into_iter().map(|l| view! { <A href=format!("/quality/capas/{}", l.id)>{l.number}</A>" " }).collect_view()}
                        </dd>
                    </dl>
                    {step_outcome(state)}
                    {(open && can(s, &[Permission::ReportQuality])).then(|| view! {
                        <p><A href=format!("/quality/ncs/new?complaint={}", c.id) attr:class="btn">"Raise an NC from this complaint"</A></p>
                    })}
                    {(open && manager).then(|| view! { <ComplaintSteps complaint=c.clone() open_ncs state reload /> })}
                }
            })}
        </section>
    }
}

#[component]
fn ComplaintSteps(
    complaint: Complaint,
    open_ncs: Vec<shared::quality::Nc>,
    state: RwSignal<Submitted>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let (id, version) = (complaint.id.0, complaint.meta.version);
    let findings = RwSignal::new(complaint.investigation.clone());
    let reportable = RwSignal::new(complaint.reportable.unwrap_or(false));
    let reason = RwSignal::new(complaint.reportable_reason.clone());
    let nc = RwSignal::new(String::new());
    let response = RwSignal::new(complaint.response.clone());
    let responded = RwSignal::new(complaint.responded_on.unwrap_or_else(today_utc).to_string());
    let cancel_reason = RwSignal::new(String::new());
    let run = crate::data::action(move |(step, done): &(ComplaintStep, &'static str)| {
        let (step, done) = (step.clone(), *done);
        async move { settle(api::complaint_step(id, &step).await, state, reload, done) }
    });
    let errors = field_errors(state);
    view! {
        <div class="form step" role="group" aria-label="Investigation">
            <h2>"Investigation"</h2>
            <TextField name="findings" label="Findings" value=findings errors multiline=true />
            <button type="button" class="btn" on:click=move |_| { run.dispatch((ComplaintStep::Investigate { findings: findings.get(), version }, "Investigation recorded.")); }>"Save the findings"</button>
        </div>
        <div class="form step" role="group" aria-label="Reportability">
            <h2>"Reportable event?"</h2>
            <fieldset class="choice">
                <legend>"Reportable to a regulator"</legend>
                <label class="check"><input type="radio" name="reportable" prop:checked=move || reportable.get() on:change=move |_| reportable.set(true) />"Yes"</label>
                <label class="check"><input type="radio" name="reportable" prop:checked=move || !reportable.get() on:change=move |_| reportable.set(false) />"No"</label>
            </fieldset>
            <TextField name="reason" label="Why" value=reason errors multiline=true required=true />
            <button type="button" class="btn" on:click=move |_| { run.dispatch((ComplaintStep::Reportability { reportable: reportable.get(), reason: reason.get(), version }, "Reportability recorded.")); }>"Record the decision"</button>
        </div>
        <div class="form step" role="group" aria-label="Link a nonconformance">
            <h2>"Link a nonconformance"</h2>
            <SelectField name="nc_id" label="Open nonconformance" value=nc errors empty="Choose…">
                {open_ncs.into_iter().map(|n| view! { <option value=n.id.0.to_string()>{format!("{} — {}", n.number, n.description.chars().take(60).collect::<String>())}</option> }).collect_view()}
            </SelectField>
            <button type="button" class="btn" on:click=move |_| {
                if let Ok(n) = nc.get().parse::<i64>() {
                    run.dispatch((ComplaintStep::LinkNc { nc_id: NcId(n), version }, "Linked."));
                }
            }>"Link"</button>
        </div>
        <div class="form step" role="group" aria-label="Response to the customer">
            <h2>"Response to the customer"</h2>
            <TextField name="response" label="What we told the customer" value=response errors multiline=true required=true />
            <DateInput name="responded_on" label="Responded on" value=responded />
            <button type="button" class="btn" on:click=move |_| { run.dispatch((ComplaintStep::Respond { response: response.get(), responded_on: responded.get().parse().ok(), version }, "Response recorded.")); }>"Record the response"</button>
        </div>
        <div class="form step" role="group" aria-label="Close or cancel">
            <h2>"Close"</h2>
            <div class="actions">
                <button type="button" class="btn btn-primary" on:click=move |_| { run.dispatch((ComplaintStep::Close { version }, "Closed.")); }>"Close the complaint"</button>
            </div>
            <details>
                <summary>"Cancel it (logged in error)"</summary>
                <TextField name="cancel_reason" label="Reason" value=cancel_reason errors multiline=true required=true />
                <button type="button" class="btn" on:click=move |_| { run.dispatch((ComplaintStep::Cancel { reason: cancel_reason.get(), version }, "Cancelled.")); }>"Cancel the complaint"</button>
            </details>
        </div>
    }
}
