//! The quality objectives on the dashboard (ISO 9001 6.2): each a KPI's target to reach by a
//! day, with its owner, the KPI's latest value and where it stands (achieved, on track, at
//! risk, missed, no data: a symbol and a word, not colour alone); the quality manager adds one.

use leptos::prelude::*;
use shared::auth::UserId;
use shared::kpi::{Kpi, Objective, ObjectiveInput, ObjectiveStatus};

use crate::api::{self, ApiError};
use crate::components::field::error_lines;
use crate::components::status::loaded;
use crate::session::changes_of;

fn status_symbol(s: ObjectiveStatus) -> &'static str {
    match s {
        ObjectiveStatus::Achieved => "✓",
        ObjectiveStatus::OnTrack => "→",
        ObjectiveStatus::AtRisk => "!",
        ObjectiveStatus::Missed => "×",
        ObjectiveStatus::NoData => "–",
    }
}

/// The objectives, and for the quality manager the form that adds one.
#[component]
pub fn Objectives(can_manage: bool) -> impl IntoView {
    let changes = changes_of("quality_objective");
    let measurements = changes_of("measurement");
    let list = crate::data::resource(move || {
        changes.track();
        measurements.track();
        api::objectives()
    });
    let adding = RwSignal::new(false);
    view! {
        <section class="objectives" aria-labelledby="objectives-title">
            <div class="section-head">
                <h2 id="objectives-title">"Quality objectives"</h2>
                {can_manage.then(|| view! {
                    <button type="button" class="btn btn-small no-print" aria-expanded=move || adding.get().to_string()
                        on:pointerenter=|_| dashboard__new_objective::prefetch() on:focus=|_| dashboard__new_objective::prefetch()
                        on:click=move |_| adding.update(|a| *a = !*a)>"New objective"</button>
                })}
            </div>
            {move || adding.get().then(|| dashboard__new_objective::view(Callback::new(move |_| { adding.set(false); list.refetch(); })))}
            {loaded(list, "the objectives", |items: Vec<Objective>| if items.is_empty() {
                view! { <p class="empty">"No quality objective yet."</p> }.into_any()
            } else {
                view! {
                    <table class="grid" aria-label="Quality objectives">
                        <thead><tr>
                            <th scope="col">"Objective"</th><th scope="col">"KPI"</th><th scope="col">"Target"</th>
                            <th scope="col">"By"</th><th scope="col">"Owner"</th><th scope="col">"Latest"</th><th scope="col">"Status"</th>
                        </tr></thead>
                        <tbody>
                            {items.into_iter().map(|o| {
                                let def = o.kpi.def();
                                let unit = def.unit;
                                let sign = if def.direction == shared::kpi::Direction::AtMost { "≤" } else { "≥" };
                                view! {
                                    <tr data-testid="objective-row">
                                        <td>{o.title.clone()}{(!o.notes.is_empty()).then(|| view! { <small class="muted block">{o.notes.clone()}</small> })}</td>
                                        <td>{def.name}</td>
                                        <td class="nowrap">{format!("{sign} {}", unit.format(o.target))}</td>
                                        <td class="nowrap">{o.due_on.to_string()}</td>
                                        <td>{o.owner_name.clone()}</td>
                                        <td class="nowrap">{match (o.latest, o.latest_period) {
                                            (Some(v), Some(p)) => format!("{} ({})", unit.format(v), p.label()),
                                            (Some(v), None) => unit.format(v),
                                            _ => "No data".into(),
                                        }}</td>
                                        <td class="nowrap">
                                            <span class=format!("objective-status objective-{}", o.status.as_str()) data-status=o.status.as_str()>
                                                {status_symbol(o.status)}" "{o.status.label()}
                                            </span>
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

// The quality manager's form, opened by "New objective": a chunk of its own.
crate::part!(dashboard__new_objective, new_objective(on_done: Callback<()>));

fn new_objective(on_done: Callback<()>) -> impl IntoView {
    let people = crate::data::resource(api::user_directory);
    let title = RwSignal::new(String::new());
    let kpi = RwSignal::new(Kpi::ALL[0]);
    let target = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let owner = RwSignal::new(None::<UserId>);
    let notes = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let save = crate::data::action(move |input: &ObjectiveInput| {
        let input = input.clone();
        async move {
            match api::create_objective(&input).await {
                Ok(_) => on_done.run(()),
                Err(ApiError::Status(_, body)) if !body.field_errors.is_empty() => {
                    problems.set(error_lines(&body.field_errors))
                }
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut errors = shared::FieldErrors::new();
        let value = target.get().trim().replace(',', ".").parse::<f64>().ok();
        let day = due.get().parse::<chrono::NaiveDate>().ok();
        if value.is_none() {
            errors.add("target", shared::validation::INVALID);
        }
        if day.is_none() {
            errors.add("due_on", shared::validation::REQUIRED);
        }
        if owner.get().is_none() {
            errors.add("owner_id", shared::validation::REQUIRED);
        }
        let input = ObjectiveInput {
            title: title.get().trim().to_string(),
            kpi: kpi.get(),
            target: value.unwrap_or(0.0),
            due_on: day.unwrap_or_default(),
            owner_id: owner.get().unwrap_or(UserId(0)),
            notes: notes.get().trim().to_string(),
            version: None,
        };
        if let Err(e) = input.validate() {
            for (field, codes) in e.0 {
                for c in codes {
                    errors.add(field.clone(), c);
                }
            }
        }
        if errors.0.is_empty() {
            problems.set(Vec::new());
            save.dispatch(input);
        } else {
            problems.set(error_lines(&errors));
        }
    };
    view! {
        <form class="form card no-print" on:submit=on_submit novalidate aria-label="New objective">
            <label class="field">"Objective" <input name="title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) /></label>
            <label class="field">"KPI"
                <select name="kpi" on:change=move |ev| if let Some(k) = Kpi::parse(&event_target_value(&ev)) { kpi.set(k) }>
                    {Kpi::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=move || kpi.get() == k>{k.def().name}</option> }).collect_view()}
                </select>
            </label>
            <label class="field">{move || format!("Target ({})", if kpi.get().def().direction == shared::kpi::Direction::AtMost { "at most" } else { "at least" })}
                <input name="target" inputmode="decimal" prop:value=move || target.get() on:input=move |ev| target.set(event_target_value(&ev)) />
            </label>
            <label class="field">"To reach by" <input type="date" name="due_on" prop:value=move || due.get() on:input=move |ev| due.set(event_target_value(&ev)) /></label>
            <label class="field">"Owner"
                <select name="owner_id" on:change=move |ev| owner.set(event_target_value(&ev).parse::<i64>().ok().map(UserId))>
                    <option value="">"Choose…"</option>
                    {move || people.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|p| {
                        let id = p.id;
                        view! { <option value=id.0.to_string() selected=move || owner.get() == Some(id)>{p.full_name.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="field">"Notes" <textarea name="notes" rows="2" prop:value=move || notes.get() on:input=move |ev| notes.set(event_target_value(&ev))></textarea></label>
            <div class="actions">
                <button type="submit" class="btn btn-primary">"Add the objective"</button>
                <button type="button" class="btn" on:click=move |_| on_done.run(())>"Cancel"</button>
            </div>
            {move || (!problems.get().is_empty()).then(|| view! {
                <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            })}
        </form>
    }
}
