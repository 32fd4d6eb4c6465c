//! `/dashboard/kpi/:kpi`: one KPI at full size. The 12 periods (weeks, months or quarters) as a
//! chart (values, the target that applied in each as a dashed step line, the at-risk band), each
//! period's point reachable by Tab and by the arrow keys and named for screen readers; its status
//! as a marker shape and a word, never by colour alone; the same numbers as a table beneath.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shared::kpi::{Direction, Kpi, KpiStatus, Tile, TrendPoint, Unit};

use super::{live_tile, plural, status_symbol, value_runs};
use crate::components::status::loaded;

const W: f64 = 760.0;
const H: f64 = 320.0;
/// Room for the axis labels.
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 16.0;
const RIGHT: f64 = 16.0;

/// `/dashboard/kpi/:kpi`
#[component]
pub fn KpiPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let kpi = Memo::new(move |_| params.with(|p| p.get("kpi").and_then(|k| Kpi::parse(&k))));
    let process = Memo::new(move |_| query.with(|q| q.get("process_id").and_then(|p| p.parse::<i64>().ok())));
    view! {
        {move || match kpi.get() {
            None => view! {
                <section><h1>"No such KPI"</h1><p><A href="/">"The dashboard"</A></p></section>
            }.into_any(),
            Some(kpi) => view! { <KpiChart kpi process=process.get() /> }.into_any(),
        }}
    }
}

#[component]
fn KpiChart(kpi: Kpi, process: Option<i64>) -> impl IntoView {
    let tile = live_tile(kpi, process);
    let def = kpi.def();
    view! {
        <section class="kpi-page">
            <header class="page-head">
                <h1>{def.name}</h1>
                <div class="actions no-print">
                    <A href=process.map(|p| format!("/?process_id={p}")).unwrap_or_else(|| "/".into()) attr:class="btn">"The dashboard"</A>
                    <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                </div>
            </header>
            <p class="muted">{def.formula}</p>
            {loaded(tile, "the KPI", move |t: Tile| view! {
                <p class="kpi-headline">
                    <span class="tile-value" data-testid="kpi-value">{t.value.map(|v| t.unit.format(v)).unwrap_or_else(|| "No data".into())}</span>
                    " "
                    <span class=format!("kpi-status kpi-{}", t.status.as_str())>{status_symbol(t.status)}" "{t.status.label()}</span>
                    {t.period.map(|p| format!(" · {}", p.label()))}
                    {t.scope.clone().map(|s| view! { " · " <strong>{s}</strong> })}
                </p>
                {t.scope_note.clone().map(|n| view! { <p class="muted">{n}</p> })}
                {match t.needs.clone() {
                    Some(module) => view! { <p class="muted">{format!("Comes with the {module} module.")}</p> }.into_any(),
                    None => view! {
                        <Chart trend=t.trend.clone() unit=t.unit direction=t.direction />
                        <Legend />
                        <DataTable trend=t.trend.clone() unit=t.unit />
                        {(!t.drill.is_empty()).then(|| view! { <p><A href=t.drill.clone()>"The records behind it"</A></p> })}
                    }.into_any(),
                }}
            })}
        </section>
    }
}

/// The marker of a status: its shape (and the colour the CSS gives it).
fn marker(status: KpiStatus, x: f64, y: f64) -> String {
    match status {
        KpiStatus::OnTarget => format!("M {} {} a 6 6 0 1 0 12 0 a 6 6 0 1 0 -12 0", x - 6.0, y),
        KpiStatus::AtRisk => format!("M {x} {} L {} {} L {} {} Z", y - 7.0, x + 7.0, y + 6.0, x - 7.0, y + 6.0),
        KpiStatus::OffTarget => format!("M {} {} h 12 v 12 h -12 Z", x - 6.0, y - 6.0),
        KpiStatus::NoData => format!("M {} {y} h 12", x - 6.0),
    }
}

/// Rounded axis ticks covering `lo..hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(raw);
    let first = (lo / step).floor() * step;
    // Up to the first tick at or above the highest value, so that the top has a label.
    let mut out = Vec::new();
    for i in 0..=10 {
        let v = first + step * i as f64;
        out.push(v);
        if v >= hi - step * 0.01 {
            break;
        }
    }
    out
}

#[component]
fn Chart(trend: Vec<TrendPoint>, unit: Unit, direction: Direction) -> impl IntoView {
    let values: Vec<f64> = trend.iter().filter_map(|t| t.value).chain(trend.iter().map(|t| t.target)).collect();
    let (mut lo, mut hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if values.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if lo >= 0.0 && lo < (hi - lo) {
        lo = 0.0;
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let ys = ticks(lo, hi);
    let (lo, hi) = (ys.first().copied().unwrap_or(lo).min(lo), ys.last().copied().unwrap_or(hi).max(hi));
    let n = trend.len().max(2) as f64;
    let step = (W - LEFT - RIGHT) / n;
    let x = move |i: usize| LEFT + step * (i as f64 + 0.5);
    let y = move |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - lo) / (hi - lo));
    let runs = value_runs(&trend, x, y);
    let target_line = trend
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let (a, b) = (x(i) - step / 2.0, x(i) + step / 2.0);
            [format!("{a:.1},{:.1}", y(t.target)), format!("{b:.1},{:.1}", y(t.target))]
        })
        .collect::<Vec<_>>()
        .join(" ");
    let focused = RwSignal::new(None::<usize>);
    let points: Vec<(usize, TrendPoint)> = trend.iter().cloned().enumerate().collect();
    let count = points.len();
    let tip = trend.clone();
    let better = if direction == Direction::AtMost { "lower is better" } else { "higher is better" };
    let periods = plural(&trend);
    view! {
        <figure class="kpi-chart">
            <svg viewBox=format!("0 0 {W} {H}") role="group" aria-label=format!("The last 12 {periods} and the target; {better}. Tab or the arrow keys go from one to the next.")>
                {ys.iter().map(|v| view! {
                    <g class="axis" aria-hidden="true">
                        <line x1=LEFT x2=W - RIGHT y1=y(*v) y2=y(*v) class="gridline" />
                        <text x=LEFT - 8.0 y=y(*v) + 4.0 text-anchor="end">{unit.format(*v)}</text>
                    </g>
                }).collect_view()}
                {trend.iter().enumerate().map(|(i, t)| view! {
                    <text class="axis" aria-hidden="true" x=x(i) y=H - 12.0 text-anchor="middle">{t.period.short()}</text>
                }).collect_view()}
                <polyline class="chart-target" points=target_line aria-hidden="true" />
                {runs.into_iter().map(|p| view! { <polyline class="chart-line" points=p aria-hidden="true" /> }).collect_view()}
                {points.into_iter().map(|(i, t)| {
                    let label = format!(
                        "{}: {}, target {} {}, {}",
                        t.period.label(),
                        t.value.map(|v| unit.format(v)).unwrap_or_else(|| "no data".into()),
                        if direction == Direction::AtMost { "at most" } else { "at least" },
                        unit.format(t.target),
                        t.status.label(),
                    );
                    let (cx, cy) = (x(i), t.value.map(y).unwrap_or(H - BOTTOM));
                    view! {
                        <g class="chart-point" tabindex="0" role="img" aria-label=label data-testid="chart-point" data-index=i
                            on:focus=move |_| focused.set(Some(i))
                            on:blur=move |_| focused.set(None)
                            on:mouseenter=move |_| focused.set(Some(i))
                            on:mouseleave=move |_| focused.set(None)
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                let next = match ev.key().as_str() {
                                    "ArrowRight" => Some((i + 1).min(count - 1)),
                                    "ArrowLeft" => Some(i.saturating_sub(1)),
                                    "Home" => Some(0),
                                    "End" => Some(count - 1),
                                    _ => None,
                                };
                                if let Some(n) = next {
                                    ev.prevent_default();
                                    if let Some(el) = document().query_selector(&format!("[data-testid=chart-point][data-index=\"{n}\"]")).ok().flatten() {
                                        let _ = wasm_bindgen::JsCast::unchecked_into::<web_sys::SvgElement>(el).focus();
                                    }
                                }
                            }>
                            <rect x=cx - step / 2.0 y=TOP width=step height=H - TOP - BOTTOM class="hit" />
                            <path d=marker(t.status, cx, cy) class=format!("mark kpi-{}", t.status.as_str()) />
                        </g>
                    }
                }).collect_view()}
                {move || focused.get().and_then(|i| tip.get(i).cloned().map(|t| (i, t))).map(|(i, t)| {
                    let text = format!(
                        "{}: {} (target {})",
                        t.period.label(),
                        t.value.map(|v| unit.format(v)).unwrap_or_else(|| "no data".into()),
                        unit.format(t.target)
                    );
                    let width = 8.0 * text.chars().count() as f64 + 16.0;
                    let left = (x(i) - width / 2.0).clamp(LEFT, W - RIGHT - width);
                    view! {
                        <g class="chart-tip" aria-hidden="true">
                            <rect x=left y=TOP width=width height="26" rx="4" />
                            <text x=left + 8.0 y=TOP + 17.0>{text}</text>
                        </g>
                    }
                })}
            </svg>
        </figure>
    }
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <p class="chart-legend muted">
            <span><svg width="16" height="16" aria-hidden="true"><path d=marker(KpiStatus::OnTarget, 8.0, 8.0) class="mark kpi-on_target" /></svg>" On target"</span>
            <span><svg width="16" height="16" aria-hidden="true"><path d=marker(KpiStatus::AtRisk, 8.0, 9.0) class="mark kpi-at_risk" /></svg>" At risk"</span>
            <span><svg width="16" height="16" aria-hidden="true"><path d=marker(KpiStatus::OffTarget, 8.0, 8.0) class="mark kpi-off_target" /></svg>" Off target"</span>
            <span><svg width="24" height="10" aria-hidden="true"><line x1="0" x2="24" y1="5" y2="5" class="chart-target" /></svg>" Target then"</span>
        </p>
    }
}

#[component]
fn DataTable(trend: Vec<TrendPoint>, unit: Unit) -> impl IntoView {
    let periods = plural(&trend);
    view! {
        <table class="grid kpi-table" aria-label=format!("The last 12 {periods}")>
            <thead><tr><th scope="col">"Period"</th><th scope="col">"Value"</th><th scope="col">"Target"</th><th scope="col">"Status"</th></tr></thead>
            <tbody>
                {trend.into_iter().rev().map(|t| view! {
                    <tr data-testid="kpi-month">
                        <td>{t.period.label()}</td>
                        <td>{t.value.map(|v| unit.format(v)).unwrap_or_else(|| "No data".into())}</td>
                        <td>{unit.format(t.target)}</td>
                        <td>{status_symbol(t.status)}" "{t.status.label()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A KPI's page and the measurements, a chunk of their own (see [`crate::area`]).
pub mod chunk {
    crate::area!(dashboard_kpis, Page { Kpi => super::KpiPage, Measurements => super::super::measurements::Measurements });
}
