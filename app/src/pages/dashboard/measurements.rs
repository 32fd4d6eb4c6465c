//! `/dashboard/measurements`: the measurements from outside systems by month and series, a form
//! for one value, the CSV or XLSX import (all or none, every problem named), and the KPI targets.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::auth::Permission;
use shared::kpi::{Cadence, Kpi, MeasurementInput, Period, Series, TargetInput};

use crate::api::{self, ApiError};
use crate::components::field::error_lines;
use crate::components::status::{loaded, today_utc};
use crate::session::{can, changes_of, session};

/// `/dashboard/measurements`: the measurements by month, recording one, importing a CSV, and
/// (for the quality manager) setting a KPI's target from a month on.
#[component]
pub fn Measurements() -> impl IntoView {
    let s = session();
    let query = use_query_map();
    let series = RwSignal::new(query.with_untracked(|q| q.get("series")).and_then(|s| Series::parse(&s)));
    let changes = changes_of("measurement");
    let list = crate::data::resource(move || {
        changes.track();
        let series = series.get();
        async move { api::list_measurements(series).await }
    });
    let manage = can(s, &[Permission::ManageMeasurements]);
    view! {
        <section>
            <header class="page-head"><h1>"Measurements and targets"</h1></header>
            <p class="muted">"Numbers from outside systems (ERP, MES, finance), one value per series and month. A new value for a month corrects it; the audit trail keeps the old one."</p>
            {manage.then(|| view! { <RecordMeasurement /> <ImportMeasurements /> <SetTarget /> })}
            <div class="filters">
                <label class="field-inline">"Series "
                    <select on:change=move |ev| series.set(Series::parse(&event_target_value(&ev)))>
                        <option value="">"All"</option>
                        {Series::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=move || series.get() == Some(s)>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            {loaded(list, "the measurements", |list| {
                // One row per month (newest first), one column per series shown.
                let mut months: Vec<Period> = list.iter().map(|m| m.period).collect();
                months.sort();
                months.dedup();
                months.reverse();
                let columns: Vec<Series> = Series::ALL.into_iter().filter(|s| list.iter().any(|m| m.series == *s)).collect();
                if list.is_empty() {
                    return view! { <p class="empty">"No measurement yet."</p> }.into_any();
                }
                let list = std::rc::Rc::new(list);
                view! {
                    <div class="matrix-scroll" tabindex="0" role="region" aria-label="Measurements, scrollable">
                        <table class="grid measurements" aria-label="Measurements">
                            <thead><tr>
                                <th scope="col">"Month"</th>
                                {columns.iter().map(|s| view! { <th scope="col" class="num">{s.label()}</th> }).collect_view()}
                            </tr></thead>
                            <tbody>
                                {months.into_iter().map(|p| {
                                    let list = list.clone();
                                    view! {
                                        <tr data-testid="measurement-row">
                                            <th scope="row" class="nowrap">{p.to_string()}</th>
                                            {columns.iter().map(|s| {
                                                let m = list.iter().find(|m| m.period == p && m.series == *s);
                                                match m {
                                                    Some(m) => view! {
                                                        <td class="num" title=format!("{} · version {}", m.source, m.version)>
                                                            {format!("{}", m.value)}
                                                            {(m.version > 1).then(|| view! { <span class="muted">" (corrected)"</span> })}
                                                        </td>
                                                    }.into_any(),
                                                    None => view! { <td class="num muted">"—"</td> }.into_any(),
                                                }
                                            }).collect_view()}
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn RecordMeasurement() -> impl IntoView {
    let series = RwSignal::new(Series::UnitsProduced);
    let period = RwSignal::new(Period::of(today_utc()).prev().to_string());
    let value = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let saved = RwSignal::new(None::<String>);
    let save = crate::data::action(move |input: &MeasurementInput| {
        let input = input.clone();
        async move {
            match api::record_measurement(&input).await {
                Ok(r) => {
                    saved.set(Some(if r.changed == 0 { "Unchanged.".into() } else { "Saved.".into() }));
                    problems.set(Vec::new());
                }
                Err(ApiError::Status(_, body)) => problems.set(error_lines(&body.field_errors)),
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        let Ok(v) = value.get().trim().parse::<f64>() else {
            problems.set(vec!["value: not a number".into()]);
            return;
        };
        let input = MeasurementInput {
            series: series.get(),
            period: period.get(),
            value: v,
            source: source.get().trim().into(),
        };
        match input.validate(today_utc()) {
            Ok(_) => {
                save.dispatch(input);
            }
            Err(e) => problems.set(error_lines(&e)),
        }
    };
    view! {
        <details class="create">
            <summary>"Record a value"</summary>
            <form class="form form-inline" on:submit=on_submit novalidate>
                <label class="field-inline">"Series "
                    <select on:change=move |ev| if let Some(s) = Series::parse(&event_target_value(&ev)) { series.set(s) }>
                        {Series::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field-inline">"Month " <input type="month" prop:value=move || period.get() on:input=move |ev| period.set(event_target_value(&ev)) /></label>
                <label class="field-inline">"Value " <input inputmode="decimal" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /></label>
                <label class="field-inline">"Source " <input prop:value=move || source.get() on:input=move |ev| source.set(event_target_value(&ev)) /></label>
                <button type="submit" class="btn btn-primary">"Save"</button>
                {move || saved.get().map(|s| view! { <span class="alert-ok" role="status">{s}</span> })}
                {move || (!problems.get().is_empty()).then(|| view! {
                    <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                })}
            </form>
        </details>
    }
}

#[component]
fn ImportMeasurements() -> impl IntoView {
    let outcome = RwSignal::new(None::<Result<String, Vec<String>>>);
    let import = crate::data::action(move |bytes: &Vec<u8>| {
        let bytes = bytes.clone();
        let workbook = bytes.starts_with(b"PK");
        async move {
            outcome.set(Some(match api::import_measurements(bytes).await {
                Ok((200, body)) => Ok(format!(
                    "Imported {} rows ({} new or corrected).",
                    body["rows"].as_u64().unwrap_or(0),
                    body["changed"].as_u64().unwrap_or(0)
                )),
                Ok((_, body)) => {
                    let problems = body["problems"].as_array().map_or(0, Vec::len);
                    let mut lines = vec![if problems == 0 {
                        body["message"].as_str().unwrap_or("Not imported.").to_string()
                    } else {
                        format!(
                            "{problems} problem(s) in the {}; nothing was imported.",
                            if workbook { "workbook" } else { "file" }
                        )
                    }];
                    let unit = if workbook { "Row" } else { "Line" };
                    for p in body["problems"].as_array().into_iter().flatten() {
                        lines.push(format!(
                            "{unit} {}, column {}: {}",
                            p["line"],
                            p["column"].as_str().unwrap_or(""),
                            shared::validation::describe(p["code"].as_str().unwrap_or(""))
                        ));
                    }
                    Err(lines)
                }
                Err(e) => Err(vec![e.to_string()]),
            }));
        }
    });
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        leptos::task::spawn_local(async move {
            if let Ok(buffer) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                import.dispatch(js_sys::Uint8Array::new(&buffer).to_vec());
            }
        });
    };
    view! {
        <details class="create">
            <summary>"Import a CSV or Excel file"</summary>
            <p class="muted">"Columns " <code>"series,period,value,source"</code> " (e.g. " <code>"units_produced,2026-10,5000,MES"</code> "), in a CSV file or the first sheet of a workbook (.xlsx). Nothing is imported while a row is wrong."</p>
            <label class="field-inline">"CSV or XLSX file " <input type="file" accept=".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" on:change=on_change /></label>
            {move || outcome.get().map(|o| match o {
                Ok(text) => view! { <p class="alert alert-ok" role="status" data-testid="import-result">{text}</p> }.into_any(),
                Err(lines) => view! {
                    <ul class="alert alert-error" role="alert" data-testid="import-problems">
                        {lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </details>
    }
}

#[component]
fn SetTarget() -> impl IntoView {
    let kpi = RwSignal::new(Kpi::DefectRate);
    let from = RwSignal::new(Period::of(today_utc()).to_string());
    let value = RwSignal::new(String::new());
    let at_risk = RwSignal::new(String::new());
    let cadence = RwSignal::new(Cadence::Month);
    let problems = RwSignal::new(Vec::<String>::new());
    let saved = RwSignal::new(false);
    let save = crate::data::action(move |input: &TargetInput| {
        let input = input.clone();
        async move {
            match api::set_target(&input).await {
                Ok(()) => {
                    saved.set(true);
                    problems.set(Vec::new());
                }
                Err(ApiError::Status(_, body)) => problems.set(error_lines(&body.field_errors)),
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let num = |s: String| s.trim().parse::<f64>().unwrap_or(f64::NAN);
        let input = TargetInput {
            kpi: kpi.get(),
            from: from.get(),
            value: num(value.get()),
            at_risk: num(at_risk.get()),
            cadence: cadence.get(),
        };
        match input.validate() {
            Ok(_) => {
                save.dispatch(input);
            }
            Err(e) => problems.set(error_lines(&e)),
        }
    };
    view! {
        <details class="create">
            <summary>"Change a target"</summary>
            <p class="muted">"From the month chosen on; earlier periods keep the target they had. The trend is drawn per week, month or quarter as the target in force says (weeks only for KPIs counted from dated records: measurements come per month)."</p>
            <form class="form form-inline" on:submit=on_submit novalidate>
                <label class="field-inline">"KPI "
                    <select on:change=move |ev| if let Some(k) = Kpi::parse(&event_target_value(&ev)) {
                        kpi.set(k);
                        if !k.cadences().contains(&cadence.get_untracked()) { cadence.set(Cadence::Month) }
                    }>
                        {Kpi::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=move || kpi.get() == k>{k.def().name}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field-inline">"From " <input type="month" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) /></label>
                <label class="field-inline">"Judged "
                    <select name="cadence" aria-label="Judged" on:change=move |ev| if let Some(c) = Cadence::parse(&event_target_value(&ev)) { cadence.set(c) }>
                        {move || kpi.get().cadences().iter().map(|c| {
                            let c = *c;
                            view! { <option value=c.as_str() selected=move || cadence.get() == c>{c.label()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="field-inline">"Target " <input inputmode="decimal" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /></label>
                <label class="field-inline">"At-risk limit " <input inputmode="decimal" prop:value=move || at_risk.get() on:input=move |ev| at_risk.set(event_target_value(&ev)) /></label>
                <button type="submit" class="btn btn-primary">"Set target"</button>
                {move || saved.get().then(|| view! { <span class="alert-ok" role="status">"Saved."</span> })}
                {move || (!problems.get().is_empty()).then(|| view! {
                    <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                })}
            </form>
        </details>
    }
}
