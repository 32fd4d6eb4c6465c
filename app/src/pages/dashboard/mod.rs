//! The dashboard: one tile per KPI (value, status against the target of its month, a 12-month
//! sparkline with the target line, the records behind it), the risk heatmap, and the pages
//! behind the tiles: overdue work, and the measurements from outside systems with their import
//! and the KPI targets.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::auth::Permission;
use shared::kpi::{Direction, Kpi, KpiStatus, MeasurementInput, Period, Series, TargetInput, Tile, TrendPoint};

use crate::api::{self, ApiError};
use crate::components::field::error_lines;
use crate::components::heatmap::{HeatView, HeatmapView};
use crate::components::status::{loaded, today_utc};
use crate::session::{can, changes_of, session};

crate::area!(dashboard, Page { Home => Dashboard, Overdue => OverdueWork, Measurements => Measurements });

/// `/`: the dashboard.
#[component]
pub fn Dashboard() -> impl IntoView {
    let heatmap = LocalResource::new({
        let changes = changes_of("risk");
        move || {
            changes.track();
            api::risk_heatmap("")
        }
    });
    let selected = RwSignal::new(None::<(i64, u8, u8)>);
    view! {
        <section class="dashboard">
            <header class="page-head">
                <h1>"Dashboard"</h1>
                <div class="actions no-print">
                    <A href="/dashboard/measurements" attr:class="btn">"Measurements and targets"</A>
                    <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                </div>
            </header>
            <div class="tiles">
                {Kpi::ALL.into_iter().map(|kpi| view! { <KpiTile kpi /> }).collect_view()}
                <article class="tile tile-wide" aria-label="Risk heatmap">
                    <h2>"Risks (residual)"</h2>
                    {loaded(heatmap, "the heatmap", move |map| view! {
                        <HeatmapView map view_mode=Signal::derive(|| HeatView::Residual) selected />
                        <p><A href="/risks">"The risk register"</A></p>
                    })}
                </article>
            </div>
        </section>
    }
}

/// One KPI's tile; it reloads when a record it depends on changes, and no other tile does.
#[component]
fn KpiTile(kpi: Kpi) -> impl IntoView {
    let inputs: Vec<Memo<Option<i64>>> = kpi.inputs().iter().map(|t| changes_of(t)).collect();
    let tile = LocalResource::new(move || {
        for i in &inputs {
            i.track();
        }
        api::dashboard_tile(kpi)
    });
    view! {
        <article class="tile" data-kpi=kpi.as_str() aria-label=kpi.def().name>
            {loaded(tile, "the tile", |t: Tile| {
                let def = t.kpi.def();
                let target = format!(
                    "target {} {}",
                    if t.direction == Direction::AtMost { "≤" } else { "≥" },
                    t.unit.format(t.target.value)
                );
                let when = t.period.map(month_name).unwrap_or_default();
                view! {
                    <h2>{t.name.clone()}</h2>
                    {match &t.needs {
                        Some(module) => view! {
                            <p class="tile-value muted">"—"</p>
                            <p class="muted">{format!("Comes with the {module} module.")}</p>
                        }.into_any(),
                        None => view! {
                            <p class="tile-value" data-testid="tile-value">
                                {t.value.map(|v| t.unit.format(v)).unwrap_or_else(|| "No data".into())}
                            </p>
                            <p class="tile-meta">
                                <span class=format!("kpi-status kpi-{}", t.status.as_str()) data-status=t.status.as_str()>
                                    {status_symbol(t.status)}" "{t.status.label()}
                                </span>
                                " · "{target}{(!when.is_empty()).then(|| format!(" · {when}"))}
                            </p>
                            <Sparkline trend=t.trend.clone() unit=t.unit />
                            {(!t.drill.is_empty()).then(|| view! { <p><A href=t.drill.clone()>"The records behind it"</A></p> })}
                        }.into_any(),
                    }}
                    <p class="tile-formula muted">{def.formula}</p>
                }
            })}
        </article>
    }
}

fn status_symbol(s: KpiStatus) -> &'static str {
    match s {
        KpiStatus::OnTarget => "✓",
        KpiStatus::AtRisk => "!",
        KpiStatus::OffTarget => "×",
        KpiStatus::NoData => "–",
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn month_name(p: Period) -> String {
    format!("{} {}", MONTHS[(p.month as usize).saturating_sub(1) % 12], p.year)
}

/// A 12-month sparkline: the values (gaps where there is no data), the target that applied in
/// each month as a dashed step line, and the same numbers as a table for screen readers.
#[component]
fn Sparkline(trend: Vec<TrendPoint>, unit: shared::kpi::Unit) -> impl IntoView {
    const W: f64 = 240.0;
    const H: f64 = 56.0;
    let values: Vec<f64> = trend.iter().filter_map(|t| t.value).chain(trend.iter().map(|t| t.target)).collect();
    let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let (lo, hi) = if values.is_empty() {
        (0.0, 1.0)
    } else if hi - lo < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let n = trend.len().max(2) as f64;
    let x = move |i: usize| 4.0 + (W - 8.0) * i as f64 / (n - 1.0);
    let y = move |v: f64| H - 4.0 - (H - 8.0) * (v - lo) / (hi - lo);
    // Runs of consecutive months with data, each one polyline.
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    for (i, t) in trend.iter().enumerate() {
        match t.value {
            Some(v) => run.push_str(&format!("{:.1},{:.1} ", x(i), y(v))),
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    let target_line: String = trend
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let (a, b) = (x(i) - (W - 8.0) / (n - 1.0) / 2.0, x(i) + (W - 8.0) / (n - 1.0) / 2.0);
            [format!("{:.1},{:.1}", a.max(4.0), y(t.target)), format!("{:.1},{:.1}", b.min(W - 4.0), y(t.target))]
        })
        .collect::<Vec<_>>()
        .join(" ");
    let dots: Vec<_> =
        trend.iter().enumerate().filter_map(|(i, t)| t.value.map(|v| (x(i), y(v), t.status, t.period, v))).collect();
    let rows = trend.clone();
    view! {
        <svg class="spark" viewBox=format!("0 0 {W} {H}") role="img" aria-label="Trend of the last 12 months with the target line">
            <polyline class="spark-target" points=target_line />
            {runs.into_iter().map(|points| view! { <polyline class="spark-line" points=points /> }).collect_view()}
            {dots.into_iter().map(|(cx, cy, status, period, v)| view! {
                <circle class=format!("spark-dot kpi-{}", status.as_str()) cx=format!("{cx:.1}") cy=format!("{cy:.1}") r="3">
                    <title>{format!("{}: {} ({})", month_name(period), unit.format(v), status.label())}</title>
                </circle>
            }).collect_view()}
        </svg>
        <table class="sr-only">
            <caption>"The last 12 months"</caption>
            <thead><tr><th scope="col">"Month"</th><th scope="col">"Value"</th><th scope="col">"Target"</th><th scope="col">"Status"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|t| view! {
                    <tr>
                        <td>{month_name(t.period)}</td>
                        <td>{t.value.map(|v| unit.format(v)).unwrap_or_else(|| "No data".into())}</td>
                        <td>{unit.format(t.target)}</td>
                        <td>{t.status.label()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// `/dashboard/overdue`: every overdue item behind the tile.
#[component]
pub fn OverdueWork() -> impl IntoView {
    let changes: Vec<Memo<Option<i64>>> = Kpi::OverdueWork.inputs().iter().map(|t| changes_of(t)).collect();
    let items = LocalResource::new(move || {
        for c in &changes {
            c.track();
        }
        api::overdue_work()
    });
    view! {
        <section>
            <header class="page-head"><h1>"Overdue work"</h1></header>
            {loaded(items, "the overdue work", |items| {
                if items.is_empty() {
                    return view! { <p class="empty">"Nothing is overdue."</p> }.into_any();
                }
                view! {
                    <p class="muted">{format!("{} items past their due date, oldest first.", items.len())}</p>
                    <table class="grid" aria-label="Overdue work">
                        <thead><tr>
                            <th scope="col">"What"</th><th scope="col">"Reference"</th><th scope="col">"Title"</th><th scope="col">"Due"</th>
                        </tr></thead>
                        <tbody>
                            {items.into_iter().map(|w| view! {
                                <tr data-testid="overdue-row">
                                    <td>{w.kind.clone()}</td>
                                    <td class="nowrap">{w.reference.clone()}</td>
                                    <td><A href=w.href()>{w.title.clone()}</A></td>
                                    <td class="nowrap">{w.due.to_string()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// `/dashboard/measurements`: the measurements by month, recording one, importing a CSV, and
/// (for the quality manager) setting a KPI's target from a month on.
#[component]
pub fn Measurements() -> impl IntoView {
    let s = session();
    let query = use_query_map();
    let series = RwSignal::new(query.with_untracked(|q| q.get("series")).and_then(|s| Series::parse(&s)));
    let changes = changes_of("measurement");
    let list = LocalResource::new(move || {
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
    let save = Action::new_local(move |input: &MeasurementInput| {
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
    let import = Action::new_local(move |bytes: &Vec<u8>| {
        let bytes = bytes.clone();
        async move {
            outcome.set(Some(match api::import_measurements(bytes).await {
                Ok((200, body)) => Ok(format!(
                    "Imported {} rows ({} new or corrected).",
                    body["rows"].as_u64().unwrap_or(0),
                    body["changed"].as_u64().unwrap_or(0)
                )),
                Ok((_, body)) => {
                    let mut lines = vec![body["message"].as_str().unwrap_or("Not imported.").to_string()];
                    for p in body["problems"].as_array().into_iter().flatten() {
                        lines.push(format!(
                            "Line {}, column {}: {}",
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
            <summary>"Import a CSV"</summary>
            <p class="muted">"Columns " <code>"series,period,value,source"</code> " (e.g. " <code>"units_produced,2026-10,5000,MES"</code> "). Nothing is imported while a row is wrong."</p>
            <label class="field-inline">"CSV file " <input type="file" accept=".csv,text/csv" on:change=on_change /></label>
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
    let problems = RwSignal::new(Vec::<String>::new());
    let saved = RwSignal::new(false);
    let save = Action::new_local(move |input: &TargetInput| {
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
        let input =
            TargetInput { kpi: kpi.get(), from: from.get(), value: num(value.get()), at_risk: num(at_risk.get()) };
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
            <p class="muted">"From the month chosen on; earlier months keep the target they had."</p>
            <form class="form form-inline" on:submit=on_submit novalidate>
                <label class="field-inline">"KPI "
                    <select on:change=move |ev| if let Some(k) = Kpi::parse(&event_target_value(&ev)) { kpi.set(k) }>
                        {Kpi::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=move || kpi.get() == k>{k.def().name}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field-inline">"From " <input type="month" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) /></label>
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
