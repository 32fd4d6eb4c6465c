//! The risk heatmap: an SVG grid of a matrix revision (likelihood up, severity across) with the
//! count of risks in each cell, inherent or residual, or the move from one to the other.
//!
//! Usable with the keyboard alone: one cell is in the tab order at a time (arrow keys move it,
//! Enter or Space filters the register to that cell). Readable without colour: every cell names
//! its zone in text and unacceptable / reduce-as-far-as-possible cells carry a pattern.

use leptos::prelude::*;
use shared::register::{Basis, Heatmap};
use shared::risk::Zone;
use wasm_bindgen::JsCast;

/// What the heatmap shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatView {
    /// Counts before controls.
    Inherent,
    /// Counts after controls.
    Residual,
    /// Inherent → residual: both counts and arrows for the moves.
    Move,
}

impl HeatView {
    /// The rating a cell selection filters on.
    pub fn basis(self) -> Basis {
        if self == HeatView::Inherent { Basis::Inherent } else { Basis::Residual }
    }
}

const CELL_W: f64 = 104.0;
const CELL_H: f64 = 66.0;
const LEFT: f64 = 150.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 58.0;

fn short(zone: Zone) -> &'static str {
    match zone {
        Zone::Acceptable => "Acceptable",
        Zone::ReduceAsFarAsPossible => "Reduce (ALARP)",
        Zone::Unacceptable => "Unacceptable",
    }
}

fn pattern(zone: Zone) -> Option<&'static str> {
    match zone {
        Zone::Acceptable => None,
        Zone::ReduceAsFarAsPossible => Some("url(#heat-dots)"),
        Zone::Unacceptable => Some("url(#heat-hatch)"),
    }
}

/// Moves keyboard focus to a cell's element.
fn focus_cell(l: u8, s: u8) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(&format!("heat-{l}-{s}")))
        .and_then(|e| e.dyn_into::<web_sys::SvgElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The heatmap of `map`. `selected` is the cell the register is filtered to (toggled by a
/// click, Enter or Space).
#[component]
pub fn HeatmapView(
    /// The counts.
    map: Heatmap,
    /// Inherent, residual or the move.
    view_mode: Signal<HeatView>,
    /// The cell filtering the register, as (matrix revision id, likelihood, severity).
    selected: RwSignal<Option<(i64, u8, u8)>>,
) -> impl IntoView {
    let def = map.revision.definition.clone();
    let rid = map.revision.id.0;
    let rows = def.likelihood.len() as u8;
    let columns = def.severity.len() as u8;
    let width = LEFT + CELL_W * f64::from(columns) + 8.0;
    let height = TOP + CELL_H * f64::from(rows) + BOTTOM;
    // A live update re-creates the map: a keyboard user's cell keeps the focus.
    let had_focus = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| {
            let id = e.id();
            let (l, s) = id.strip_prefix("heat-")?.split_once('-')?;
            Some((l.parse::<u8>().ok()?, s.parse::<u8>().ok()?))
        })
        .filter(|(l, s)| *l <= rows && *s <= columns);
    if let Some((l, s)) = had_focus {
        request_animation_frame(move || focus_cell(l, s));
    }
    // The cell in the tab order (roving tabindex): the one that had the focus, the selected
    // one, else the top-left.
    let focused = RwSignal::new(had_focus.unwrap_or_else(|| {
        selected.get_untracked().filter(|(r, ..)| *r == rid).map(|(_, l, s)| (l, s)).unwrap_or((rows, 1))
    }));
    let toggle = move |l: u8, s: u8| {
        selected.update(|sel| *sel = if *sel == Some((rid, l, s)) { None } else { Some((rid, l, s)) });
    };
    let x = move |s: u8| LEFT + CELL_W * f64::from(s - 1);
    let y = move |l: u8| TOP + CELL_H * f64::from(rows - l);
    let colour = {
        let def = def.clone();
        move |zone: Zone| def.colours.iter().find(|c| c.zone == zone).map(|c| c.colour.clone()).unwrap_or_default()
    };
    let map = StoredValue::new(map);
    let on_key = move |ev: leptos::ev::KeyboardEvent, l: u8, s: u8| {
        let next = match ev.key().as_str() {
            "ArrowUp" => Some((l.saturating_add(1).min(rows), s)),
            "ArrowDown" => Some((l.saturating_sub(1).max(1), s)),
            "ArrowRight" => Some((l, s.saturating_add(1).min(columns))),
            "ArrowLeft" => Some((l, s.saturating_sub(1).max(1))),
            "Home" => Some((l, 1)),
            "End" => Some((l, columns)),
            "Enter" | " " => {
                ev.prevent_default();
                toggle(l, s);
                None
            }
            "Escape" => {
                selected.set(None);
                None
            }
            _ => None,
        };
        if let Some((nl, ns)) = next {
            ev.prevent_default();
            focused.set((nl, ns));
            focus_cell(nl, ns);
        }
    };

    let cells = (1..=rows)
        .rev()
        .flat_map(|l| (1..=columns).map(move |s| (l, s)))
        .filter_map(|(l, s)| {
            let zone = def.zone(l, s)?;
            let fill = colour(zone);
            let (cx, cy) = (x(s), y(l));
            let counts = map.with_value(|m| (m.count(Basis::Inherent, l, s), m.count(Basis::Residual, l, s)));
            // The shared wording ("likelihood 4, severity 5: 3 risks, unacceptable"); the view
            // switch, announced on its own, says whether the counts are inherent or residual.
            let said = def.clone();
            let label = move || {
                let n = match view_mode.get() {
                    HeatView::Inherent => counts.0,
                    HeatView::Residual | HeatView::Move => counts.1,
                };
                let label = said.cell_label(l, s, usize::try_from(n).unwrap_or_default()).unwrap_or_default();
                // The name begins with what the cell shows (WCAG 2.5.3, label in name), so that
                // a voice-control user can say what they see.
                match view_mode.get() {
                    HeatView::Move => format!("{} → {} {}: {label}; {} before controls", counts.0, counts.1, short(zone), counts.0),
                    _ => format!("{n} {}: {label}", short(zone)),
                }
            };
            let count_text = move || match view_mode.get() {
                HeatView::Inherent => counts.0.to_string(),
                HeatView::Residual => counts.1.to_string(),
                HeatView::Move => format!("{} → {}", counts.0, counts.1),
            };
            let empty = move || match view_mode.get() {
                HeatView::Inherent => counts.0 == 0,
                HeatView::Residual => counts.1 == 0,
                HeatView::Move => counts.0 == 0 && counts.1 == 0,
            };
            let is_selected = move || selected.get() == Some((rid, l, s));
            Some(view! {
                <g
                    class="heat-cell"
                    id=format!("heat-{l}-{s}")
                    role="button"
                    tabindex=move || if focused.get() == (l, s) { "0" } else { "-1" }
                    aria-label=label
                    aria-pressed=move || if is_selected() { "true" } else { "false" }
                    data-likelihood=l
                    data-severity=s
                    data-zone=shared::risk::Zone::label(zone)
                    on:click=move |_| {
                        focused.set((l, s));
                        toggle(l, s);
                    }
                    on:keydown=move |ev| on_key(ev, l, s)
                    on:focus=move |_| focused.set((l, s))
                >
                    <rect x=cx y=cy width=CELL_W height=CELL_H fill=fill.clone() class="heat-bg" />
                    {pattern(zone).map(|p| view! { <rect x=cx y=cy width=CELL_W height=CELL_H fill=p class="heat-pattern" /> })}
                    <rect
                        x=cx + 1.5
                        y=cy + 1.5
                        width=CELL_W - 3.0
                        height=CELL_H - 3.0
                        class="heat-outline"
                        class:selected=is_selected
                    />
                    <text x=cx + CELL_W / 2.0 y=cy + 30.0 class="heat-count" class:zero=empty text-anchor="middle" data-testid="heat-count">
                        {count_text}
                        // A space between the count and the zone, for what is read as the cell's text.
                        " "
                    </text>
                    <text x=cx + CELL_W / 2.0 y=cy + 52.0 class="heat-zone" text-anchor="middle">{short(zone)}</text>
                </g>
            })
        })
        .collect_view();

    let axis_l = def
        .likelihood
        .iter()
        .enumerate()
        .map(|(i, level)| {
            let l = i as u8 + 1;
            view! {
                <text x=LEFT - 8.0 y=y(l) + CELL_H / 2.0 + 4.0 text-anchor="end" class="heat-axis">
                    {format!("{l} {}", level.label)}
                    <title>{level.description.clone()}</title>
                </text>
            }
        })
        .collect_view();
    let axis_s = def
        .severity
        .iter()
        .enumerate()
        .map(|(i, level)| {
            let s = i as u8 + 1;
            view! {
                <text x=x(s) + CELL_W / 2.0 y=TOP + CELL_H * f64::from(rows) + 18.0 text-anchor="middle" class="heat-axis">
                    {format!("{s} {}", level.label)}
                    <title>{level.description.clone()}</title>
                </text>
            }
        })
        .collect_view();
    let arrows = move || {
        (view_mode.get() == HeatView::Move).then(|| {
            map.with_value(|m| {
                let biggest = m.moves.iter().map(|mv| mv.count).max().unwrap_or(1).max(1) as f64;
                m.moves
                    .iter()
                    .map(|mv| {
                        let (x1, y1) = (x(mv.from_severity) + CELL_W / 2.0, y(mv.from_likelihood) + CELL_H / 2.0 - 14.0);
                        let (x2, y2) = (x(mv.to_severity) + CELL_W / 2.0, y(mv.to_likelihood) + CELL_H / 2.0 - 14.0);
                        let w = 1.5 + 4.5 * (mv.count as f64 / biggest);
                        view! {
                            <line x1=x1 y1=y1 x2=x2 y2=y2 class="heat-arrow" stroke-width=w marker-end="url(#heat-head)">
                                <title>{format!("{} risk(s) from L{} S{} to L{} S{}", mv.count, mv.from_likelihood, mv.from_severity, mv.to_likelihood, mv.to_severity)}</title>
                            </line>
                        }
                    })
                    .collect_view()
            })
        })
    };

    view! {
        <svg
            class="heatmap"
            viewBox=format!("0 0 {width} {height}")
            width=width
            height=height
            role="group"
            aria-label=move || format!("Risk heatmap, {} view: likelihood up, severity across. Arrow keys move between cells; Enter filters the register.", match view_mode.get() { HeatView::Inherent => "inherent", HeatView::Residual => "residual", HeatView::Move => "inherent to residual" })
        >
            <defs>
                <pattern id="heat-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                    <line x1="0" y1="0" x2="0" y2="8" stroke="rgba(255,255,255,.35)" stroke-width="3" />
                </pattern>
                <pattern id="heat-dots" width="10" height="10" patternUnits="userSpaceOnUse">
                    <circle cx="3" cy="3" r="1.6" fill="rgba(0,0,0,.18)" />
                </pattern>
                <marker id="heat-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" fill="#14263a" />
                </marker>
            </defs>
            {cells}
            {arrows}
            {axis_l}
            {axis_s}
            <text x=LEFT + CELL_W * f64::from(columns) / 2.0 y=height - 8.0 text-anchor="middle" class="heat-title">"Severity →"</text>
            <text x=14.0 y=TOP + CELL_H * f64::from(rows) / 2.0 text-anchor="middle" class="heat-title" transform=format!("rotate(-90 14 {})", TOP + CELL_H * f64::from(rows) / 2.0)>"Likelihood →"</text>
        </svg>
    }
}
