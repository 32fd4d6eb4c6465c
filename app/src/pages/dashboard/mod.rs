//! The dashboard: one tile per KPI (value, status against the target of its period, a
//! sparkline of 12 weeks, months or quarters with the target line, the records behind it), the risk heatmap, and the pages
//! behind the tiles: overdue work, and the measurements from outside systems with their import
//! and the KPI targets.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::auth::Permission;
use shared::kpi::{DashboardLayout, Direction, Kpi, KpiStatus, Tile, TrendPoint};

use crate::api::{self, ApiError};
use crate::components::heatmap::{HeatView, HeatmapView};
use crate::components::status::loaded;
use crate::session::{can, changes_of, session};

pub mod chart;
mod measurements;
mod objectives;

// Two chunks: the dashboard and the overdue work (here), and a KPI's chart with the
// measurements behind it ([`chart::chunk`]).
crate::area!(dashboard, Page { Home => Dashboard, Overdue => OverdueWork });

/// `/` (and `/?process_id=N` for one process's view): the dashboard, with the tiles the person
/// chose in their order (every KPI by default), the quality objectives and the risk heatmap.
#[component]
pub fn Dashboard() -> impl IntoView {
    let s = session();
    let query = use_query_map();
    let navigate = leptos_router::hooks::use_navigate();
    let process = Memo::new(move |_| query.with(|q| q.get("process_id").and_then(|p| p.parse::<i64>().ok())));
    let processes = crate::data::resource(|| api::list_processes(false));
    // The person's layout; the default (every tile) until it arrives, or if it cannot be read.
    let layout = RwSignal::new(DashboardLayout { tiles: Kpi::ALL.to_vec(), version: 0 });
    let saved_layout = crate::data::resource(api::my_dashboard);
    Effect::new(move |_| {
        if let Some(Ok(l)) = saved_layout.get() {
            layout.set(l);
        }
    });
    let customising = RwSignal::new(false);
    let heatmap = crate::data::resource({
        let changes = changes_of("risk");
        move || {
            changes.track();
            let q = process.get().map(|p| format!("process_id={p}")).unwrap_or_default();
            async move { api::risk_heatmap(&q).await }
        }
    });
    let selected = RwSignal::new(None::<(i64, u8, u8)>);
    let tiles = move || {
        let p = process.get();
        layout.with(|l| l.tiles.iter().map(|k| (*k, p)).collect::<Vec<_>>())
    };
    view! {
        <section class="dashboard">
            <header class="page-head">
                <h1>"Dashboard"</h1>
                <div class="actions no-print">
                    <label class="field-inline">"View "
                        <select name="process" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            navigate(&if v.is_empty() { "/".to_string() } else { format!("/?process_id={v}") }, Default::default());
                        }>
                            <option value="" selected=move || process.get().is_none()>"The whole organisation"</option>
                            {move || processes.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|p| {
                                let id = p.id.0;
                                view! { <option value=id.to_string() selected=move || process.get() == Some(id)>{format!("Process: {}", p.name)}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <button type="button" class="btn" aria-expanded=move || customising.get().to_string()
                        on:pointerenter=|_| dashboard__customise::prefetch() on:focus=|_| dashboard__customise::prefetch()
                        on:click=move |_| customising.update(|c| *c = !*c)>"Choose tiles"</button>
                    <A href="/dashboard/measurements" attr:class="btn">"Measurements and targets"</A>
                    <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                </div>
            </header>
            {move || customising.get().then(|| dashboard__customise::view(layout, Callback::new(move |_| customising.set(false))))}
            <objectives::Objectives can_manage=can(s, &[Permission::ManageMeasurements]) />
            <div class="tiles">
                <For each=tiles key=|item| *item let:item>
                    <KpiTile kpi=item.0 process=item.1 />
                </For>
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

// Opened by "Choose tiles": a chunk of its own, loaded when first opened.
crate::part!(dashboard__customise, customise(layout: RwSignal<DashboardLayout>, on_done: Callback<()>));

/// The person's choice of tiles and their order, saved on the server (their other devices and
/// tabs get it too).
fn customise(layout: RwSignal<DashboardLayout>, on_done: Callback<()>) -> impl IntoView {
    // The draft: every KPI, shown or not, in order (the shown ones first, as saved).
    let draft = RwSignal::new({
        let l = layout.get_untracked();
        let mut all: Vec<(Kpi, bool)> = l.tiles.iter().map(|k| (*k, true)).collect();
        all.extend(Kpi::ALL.into_iter().filter(|k| !l.tiles.contains(k)).map(|k| (k, false)));
        all
    });
    let problem = RwSignal::new(None::<String>);
    let save = crate::data::action(move |layout_in: &DashboardLayout| {
        let input = layout_in.clone();
        async move {
            match api::save_my_dashboard(&input).await {
                Ok(saved) => {
                    layout.set(saved);
                    problem.set(None);
                    on_done.run(());
                }
                Err(ApiError::Status(409, _)) => {
                    problem.set(Some("Your tiles were changed in another window: reloaded them; choose again.".into()));
                    if let Ok(l) = api::my_dashboard().await {
                        layout.set(l);
                    }
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        }
    });
    let shift = move |i: usize, up: bool| {
        draft.update(|d| {
            let j = if up { i.checked_sub(1) } else { (i + 1 < d.len()).then_some(i + 1) };
            if let Some(j) = j {
                d.swap(i, j);
            }
        })
    };
    view! {
        <section class="card customise no-print" aria-labelledby="customise-title">
            <h2 id="customise-title">"Your tiles"</h2>
            <p class="muted">"Tick the tiles you want and put them in order; saved for you on every device."</p>
            <ol class="tile-choices">
                {move || draft.get().into_iter().enumerate().map(|(i, (kpi, shown))| {
                    let name = kpi.def().name;
                    view! {
                        <li data-testid="tile-choice">
                            <label class="check">
                                <input type="checkbox" prop:checked=shown
                                    on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d[i].1 = on); } />
                                " " {name}
                            </label>
                            <button type="button" class="btn btn-small" aria-label=format!("Move {name} up") on:click=move |_| shift(i, true)>"↑"</button>
                            <button type="button" class="btn btn-small" aria-label=format!("Move {name} down") on:click=move |_| shift(i, false)>"↓"</button>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <div class="actions">
                <button type="button" class="btn btn-primary" on:click=move |_| {
                    let tiles: Vec<Kpi> = draft.get().into_iter().filter(|(_, on)| *on).map(|(k, _)| k).collect();
                    save.dispatch(DashboardLayout { tiles, version: layout.get_untracked().version });
                }>"Save my tiles"</button>
                <button type="button" class="btn" on:click=move |_| on_done.run(())>"Cancel"</button>
            </div>
            {move || problem.get().map(|p| view! { <p class="alert alert-error" role="alert">{p}</p> })}
        </section>
    }
}

/// A KPI's tile from the server, loaded again when a record of a kind it is made of changes
/// (`Kpi::inputs`), and not otherwise.
pub(crate) fn live_tile(kpi: Kpi, process: Option<i64>) -> crate::data::Res<Result<Tile, api::ApiError>> {
    let inputs: Vec<Memo<Option<i64>>> = kpi.inputs().iter().map(|t| changes_of(t)).collect();
    crate::data::resource(move || {
        for i in &inputs {
            i.track();
        }
        api::dashboard_tile_for(kpi, process)
    })
}

/// One KPI's tile (for the organisation, or for one process); it reloads when a record it
/// depends on changes, and no other tile does. Its name opens the KPI at full size.
#[component]
fn KpiTile(kpi: Kpi, process: Option<i64>) -> impl IntoView {
    let tile = live_tile(kpi, process);
    let full =
        format!("/dashboard/kpi/{}{}", kpi.as_str(), process.map(|p| format!("?process_id={p}")).unwrap_or_default());
    view! {
        <article class="tile" data-kpi=kpi.as_str() aria-label=kpi.def().name>
            {loaded(tile, "the tile", move |t: Tile| {
                let def = t.kpi.def();
                let target = format!(
                    "target {} {}",
                    if t.direction == Direction::AtMost { "≤" } else { "≥" },
                    t.unit.format(t.target.value)
                );
                let when = t.period.map(|p| p.label()).unwrap_or_default();
                view! {
                    <h2><A href=full.clone()>{t.name.clone()}</A></h2>
                    {t.scope_note.clone().map(|n| view! { <p class="muted tile-scope">{n}</p> })}
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

/// The points of a trend as polylines: one per run of consecutive months with data (a month
/// without data is a gap), with `x` and `y` placing a month's index and value.
pub(crate) fn value_runs(trend: &[TrendPoint], x: impl Fn(usize) -> f64, y: impl Fn(f64) -> f64) -> Vec<String> {
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
    runs
}

pub(crate) fn status_symbol(s: KpiStatus) -> &'static str {
    match s {
        KpiStatus::OnTarget => "✓",
        KpiStatus::AtRisk => "!",
        KpiStatus::OffTarget => "×",
        KpiStatus::NoData => "–",
    }
}

/// "months", "weeks" or "quarters": the periods of a trend.
pub(crate) fn plural(trend: &[TrendPoint]) -> &'static str {
    trend.first().map_or("months", |t| t.period.cadence().plural())
}

/// A sparkline of 12 periods: the values (gaps where there is no data), the target that applied
/// in each period as a dashed step line, and the same numbers as a table for screen readers.
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
    let runs = value_runs(&trend, x, y);
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
    let periods = plural(&trend);
    view! {
        <svg class="spark" viewBox=format!("0 0 {W} {H}") role="img" aria-label=format!("Trend of the last 12 {periods} with the target line")>
            <polyline class="spark-target" points=target_line />
            {runs.into_iter().map(|points| view! { <polyline class="spark-line" points=points /> }).collect_view()}
            {dots.into_iter().map(|(cx, cy, status, period, v)| view! {
                <circle class=format!("spark-dot kpi-{}", status.as_str()) cx=format!("{cx:.1}") cy=format!("{cy:.1}") r="3">
                    <title>{format!("{}: {} ({})", period.label(), unit.format(v), status.label())}</title>
                </circle>
            }).collect_view()}
        </svg>
        <table class="sr-only">
            <caption>{format!("The last 12 {periods}")}</caption>
            <thead><tr><th scope="col">"Period"</th><th scope="col">"Value"</th><th scope="col">"Target"</th><th scope="col">"Status"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|t| view! {
                    <tr>
                        <td>{t.period.label()}</td>
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
    let query = use_query_map();
    let process = Memo::new(move |_| query.with(|q| q.get("process_id").and_then(|p| p.parse::<i64>().ok())));
    let items = crate::data::resource(move || {
        for c in &changes {
            c.track();
        }
        api::overdue_work_for(process.get())
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
