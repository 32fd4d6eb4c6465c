//! The training matrix's grid, virtualised in both directions: 2,000 people × 200 requirements
//! scroll like 20 × 10, because only the cells in view (and a margin) are in the page. The
//! person column and the requirement heads stay in place (sticky). ARIA grid pattern: the grid
//! keeps the focus, the active cell is its `aria-activedescendant`; arrows, Home/End,
//! Page Up/Down move it, Enter or Space opens it.

use std::sync::Arc;

use leptos::prelude::*;
use shared::training::Matrix;

/// Height of a row, in pixels (the CSS sets the same).
pub const ROW_H: f64 = 32.0;
/// Width of a requirement's column.
pub const COL_W: f64 = 46.0;
/// Width of the person column.
pub const NAME_W: f64 = 240.0;
/// Height of the heads (requirement titles, turned).
pub const HEAD_H: f64 = 150.0;
/// Rows and columns drawn beyond the view on each side.
const OVERSCAN: usize = 4;
/// Columns drawn together in a row: a sideways scroll redraws a row's cells only when the view
/// reaches another block, and then only that block's cells (not every cell of the row).
const BLOCK: usize = 6;

/// The cells in view: `first..last` of `len`, for a scroll offset and a viewport size.
pub fn window(offset: f64, viewport: f64, size: f64, len: usize) -> (usize, usize) {
    let first = ((offset.max(0.0) / size) as usize).saturating_sub(OVERSCAN);
    let count = (viewport.max(0.0) / size).ceil() as usize + 2 * OVERSCAN;
    (first.min(len), (first + count).min(len))
}

/// The grid. `rows` and `cols` are the people and requirements shown (indexes into the matrix,
/// after the filters); `generation` changes when the matrix is replaced (a live update).
/// `on_open(person, requirement)` opens a cell.
#[component]
pub fn MatrixGrid(
    matrix: RwSignal<Option<Arc<Matrix>>>,
    rows: Memo<Vec<usize>>,
    cols: Memo<Vec<usize>>,
    generation: RwSignal<u32>,
    on_open: Callback<(usize, usize)>,
) -> impl IntoView {
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll = RwSignal::new((0.0_f64, 0.0_f64));
    let viewport = RwSignal::new((800.0_f64, 1200.0_f64));
    // The active cell, as (row, column) positions among the ones shown.
    let active = RwSignal::new((0usize, 0usize));

    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            scroll.set((el.scroll_top() as f64, el.scroll_left() as f64));
            viewport.set((el.client_height() as f64 - HEAD_H, el.client_width() as f64 - NAME_W));
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    // Filters that shrink the list keep the active cell inside it.
    Effect::new(move |_| {
        let (nr, nc) = (rows.with(Vec::len), cols.with(Vec::len));
        let (r, c) = active.get_untracked();
        if r >= nr.max(1) || c >= nc.max(1) {
            active.set((r.min(nr.saturating_sub(1)), c.min(nc.saturating_sub(1))));
        }
    });

    let row_window = Memo::new(move |_| {
        let (top, _) = scroll.get();
        window(top, viewport.get().0, ROW_H, rows.with(Vec::len))
    });
    let col_window = Memo::new(move |_| {
        let (_, left) = scroll.get();
        window(left, viewport.get().1, COL_W, cols.with(Vec::len))
    });
    // The blocks of columns that hold the columns in view: changes only at a block's edge.
    let blocks = Memo::new(move |_| {
        let (a, b) = col_window.get();
        (a / BLOCK, b.div_ceil(BLOCK))
    });

    // Moves the active cell and scrolls it into view.
    let go = move |r: usize, c: usize| {
        let (nr, nc) = (rows.with_untracked(Vec::len), cols.with_untracked(Vec::len));
        if nr == 0 || nc == 0 {
            return;
        }
        let (r, c) = (r.min(nr - 1), c.min(nc - 1));
        active.set((r, c));
        if let Some(el) = scroller.get_untracked() {
            let (vh, vw) = viewport.get_untracked();
            let (top, left) = (r as f64 * ROW_H, c as f64 * COL_W);
            let (st, sl) = (el.scroll_top() as f64, el.scroll_left() as f64);
            if top < st {
                el.set_scroll_top(top as i32);
            } else if top + ROW_H > st + vh {
                el.set_scroll_top((top + ROW_H - vh) as i32);
            }
            if left < sl {
                el.set_scroll_left(left as i32);
            } else if left + COL_W > sl + vw {
                el.set_scroll_left((left + COL_W - vw) as i32);
            }
            measure();
        }
    };
    let open = move |r: usize, c: usize| {
        let p = rows.with_untracked(|v| v.get(r).copied());
        let q = cols.with_untracked(|v| v.get(c).copied());
        if let (Some(p), Some(q)) = (p, q) {
            on_open.run((p, q));
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let (r, c) = active.get_untracked();
        let page = (viewport.get_untracked().0 / ROW_H).max(1.0) as usize;
        let (nr, nc) = (rows.with_untracked(Vec::len), cols.with_untracked(Vec::len));
        let ctrl = ev.ctrl_key() || ev.meta_key();
        match ev.key().as_str() {
            "ArrowDown" => go(r + 1, c),
            "ArrowUp" => go(r.saturating_sub(1), c),
            "ArrowRight" => go(r, c + 1),
            "ArrowLeft" => go(r, c.saturating_sub(1)),
            "PageDown" => go(r + page, c),
            "PageUp" => go(r.saturating_sub(page), c),
            "Home" if ctrl => go(0, 0),
            "End" if ctrl => go(nr.saturating_sub(1), nc.saturating_sub(1)),
            "Home" => go(r, 0),
            "End" => go(r, nc.saturating_sub(1)),
            "Enter" | " " => open(r, c),
            _ => return,
        }
        ev.prevent_default();
    };

    // One handler for every cell: the cell clicked says where it is (`data-r`, `data-c`).
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let cell = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .and_then(|e| e.closest(".mc").ok().flatten());
        let at = |name: &str| cell.as_ref().and_then(|c| c.get_attribute(name)).and_then(|v| v.parse::<usize>().ok());
        if let (Some(r), Some(c)) = (at("data-r"), at("data-c")) {
            active.set((r, c));
            open(r, c);
        }
    };
    let width = move || NAME_W + cols.with(Vec::len) as f64 * COL_W;
    let height = move || rows.with(Vec::len) as f64 * ROW_H;

    let heads = move || {
        let (a, b) = col_window.get();
        let g = generation.get();
        (a..b).filter_map(move |vc| cols.with(|v| v.get(vc).copied()).map(|c| (vc, c, g))).collect::<Vec<_>>()
    };
    let visible_rows = move || {
        let (a, b) = row_window.get();
        let g = generation.get();
        (a..b).filter_map(move |vr| rows.with(|v| v.get(vr).copied()).map(|p| (vr, p, g))).collect::<Vec<_>>()
    };

    view! {
        <div
            class="mx"
            node_ref=scroller
            tabindex="0"
            role="grid"
            aria-label="Training matrix"
            aria-rowcount=move || rows.with(Vec::len) + 1
            aria-colcount=move || cols.with(Vec::len) + 1
            aria-activedescendant=move || {
                let (r, c) = active.get();
                (rows.with(|v| r < v.len()) && cols.with(|v| c < v.len())).then(|| format!("mx-{r}-{c}"))
            }
            on:scroll=move |_| measure()
            on:keydown=on_key
            on:click=on_click
            data-testid="matrix"
        >
            <div class="mx-canvas" style=move || format!("width: {}px", width())>
                <div class="mx-head" role="rowgroup" style=move || format!("width: {}px", width())>
                    <div role="row" aria-rowindex="1">
                        <div class="mx-corner" role="columnheader" aria-colindex="1">"Person"</div>
                        <For each=heads key=|(vc, c, g)| (*vc, *c, *g) let:item>
                            {
                                let (vc, c, _) = item;
                                matrix.with_untracked(|m| m.as_ref().and_then(|m| m.requirements.get(c).cloned())).map(|req| {
                                    let title = match &req.document_number {
                                        Some(n) => format!("{} ({n})", req.title),
                                        None => req.title.clone(),
                                    };
                                    let shown = title.clone();
                                    view! {
                                        <div class="mx-colhead" role="columnheader" aria-colindex=vc + 2 title=title
                                            style=format!("left: {}px", NAME_W + vc as f64 * COL_W)>
                                            <span>{shown}</span>
                                        </div>
                                    }
                                })
                            }
                        </For>
                    </div>
                </div>
                <div class="mx-body" role="rowgroup" style=move || format!("height: {}px; width: {}px", height(), width())>
                    // One outline for the active cell, moved by the arrow keys (no per-cell
                    // subscriptions).
                    <div class="mx-active" aria-hidden="true" style=move || {
                        let (r, c) = active.get();
                        format!("top: {}px; left: {}px", r as f64 * ROW_H, NAME_W + c as f64 * COL_W)
                    }></div>
                    <For each=visible_rows key=|(vr, p, g)| (*vr, *p, *g) let:item>
                        {
                            let (vr, p, _) = item;
                            let person = matrix.with_untracked(|m| m.as_ref().and_then(|m| m.people.get(p).cloned()));
                            let (name, department) = person
                                .map(|x| (x.name, x.department.unwrap_or_default()))
                                .unwrap_or_default();
                            // The row's cells in view, as one piece of markup per block of
                            // columns: a step of the scroll costs a string per new block, not a
                            // component per cell.
                            let cells = move |block: usize| {
                                matrix.with_untracked(|m| {
                                    cols.with(|cols| {
                                        m.as_ref()
                                            .map(|m| row_html(m, p, vr, cols, block * BLOCK, (block + 1) * BLOCK))
                                            .unwrap_or_default()
                                    })
                                })
                            };
                            let in_view = move || {
                                let (a, b) = blocks.get();
                                (a..b).collect::<Vec<_>>()
                            };
                            view! {
                                <div class="mx-row" role="row" aria-rowindex=vr + 2 data-testid="matrix-row" data-person=name.clone()
                                    style=format!("top: {}px", vr as f64 * ROW_H)>
                                    <div class="mx-name" role="rowheader" title=format!("{name}, {department}")>
                                        {name.clone()} " " <small class="muted">{department.clone()}</small>
                                    </div>
                                    <For each=in_view key=|block| *block let:block>
                                        <div class="mx-cells" inner_html=move || cells(block)></div>
                                    </For>
                                </div>
                            }
                        }
                    </For>
                </div>
            </div>
        </div>
    }
}

/// The markup of row `vr` (person `p`) for the columns `a..b` of those shown: each cell with its
/// id (the grid's active descendant), its status as colour, symbol and words, and where it is.
fn row_html(m: &Matrix, p: usize, vr: usize, cols: &[usize], a: usize, b: usize) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity((b.saturating_sub(a)) * 260);
    for (vc, &c) in cols.iter().enumerate().take(b).skip(a) {
        let Some(req) = m.requirements.get(c) else { continue };
        let s = m.cell(p, c);
        let label = escape(&format!("{}: {}", req.title, s.label()));
        let _ = write!(
            out,
            r#"<div id="mx-{vr}-{vc}" class="mc train-{status}" role="gridcell" aria-colindex="{col}" aria-label="{label}" title="{label}" data-requirement="{req}" data-status="{status}" data-r="{vr}" data-c="{vc}" style="left: {left}px">{symbol}</div>"#,
            status = s.as_str(),
            col = vc + 2,
            req = req.id.0,
            left = NAME_W + vc as f64 * COL_W,
            symbol = s.symbol(),
        );
    }
    out
}

/// Text for an HTML attribute or element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
