//! The risk register: the heatmap of a matrix revision beside the filtered, sorted list. A cell
//! of the heatmap filters the list; both reload when someone else changes a risk.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::auth::Permission;
use shared::org::Record;
use shared::register::{Rating, RevisionStatus, Risk, RiskStatus, RiskSummary};
use shared::risk::Zone;

use crate::api::{self, audit_query};
use crate::components::heatmap::{HeatView, HeatmapView};
use crate::components::status::loaded;
use crate::session::{can, changes_of, session};

/// Rows per page.
const PAGE: i64 = 50;

/// A rating as text and colour-independent label: "20 · Unacceptable".
#[component]
pub fn RatingBadge(rating: Rating) -> impl IntoView {
    let class = match rating.zone {
        Zone::Acceptable => "zone zone-acceptable",
        Zone::ReduceAsFarAsPossible => "zone zone-alarp",
        Zone::Unacceptable => "zone zone-unacceptable",
    };
    let zone = match rating.zone {
        Zone::Acceptable => "Acceptable",
        Zone::ReduceAsFarAsPossible => "ALARP",
        Zone::Unacceptable => "Unacceptable",
    };
    view! {
        <span class=class title=format!("Likelihood {} × severity {}", rating.likelihood, rating.severity)>
            {format!("{} · {zone}", rating.score)}
        </span>
    }
}

/// `/risks`
#[component]
pub fn RiskRegister() -> impl IntoView {
    crate::area::prefetch_next(super::form::chunk::prefetch);
    let s = session();
    let changes = changes_of(Risk::RECORD_TYPE);
    let matrix_changes = changes_of(shared::register::MatrixRevision::RECORD_TYPE);
    let choices = crate::data::resource(move || {
        matrix_changes.track();
        async move {
            Ok::<_, api::ApiError>((
                api::list_matrix_revisions().await?,
                api::list_processes(false).await?,
                api::user_directory().await?,
            ))
        }
    });

    let q = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let process = RwSignal::new(String::new());
    let zone = RwSignal::new(String::new());
    let overdue = RwSignal::new(false);
    let revision = RwSignal::new(String::new());
    let mode = RwSignal::new(HeatView::Residual);
    let selected = RwSignal::new(None::<(i64, u8, u8)>);
    let sort = RwSignal::new("residual_score".to_string());
    let desc = RwSignal::new(false);
    // Which page: where it starts (keyset cursors from the previous answer, so that a deep page
    // is as fast as the first) and its position, for the count line.
    let at = RwSignal::new(PageStart::default());

    // Any filter or sort change goes back to the first page.
    Effect::new(move |_| {
        sort.track();
        desc.track();
        q.track();
        status.track();
        owner.track();
        process.track();
        zone.track();
        overdue.track();
        selected.track();
        mode.track();
        at.set(PageStart::default());
    });

    let common = move || {
        vec![
            ("q", q.get()),
            ("status", status.get()),
            ("owner_id", owner.get()),
            ("process_id", process.get()),
            ("overdue", if overdue.get() { "true".to_string() } else { String::new() }),
        ]
    };
    let heat = crate::data::resource(move || {
        changes.track();
        // A newly approved revision becomes the one the default heatmap shows.
        matrix_changes.track();
        let mut pairs = common();
        pairs.push(("matrix_revision_id", revision.get()));
        let query = audit_query(&pairs);
        async move { api::risk_heatmap(&query).await }
    });
    let page = crate::data::resource(move || {
        changes.track();
        let mut pairs = common();
        pairs.push(("basis", mode.get().basis().as_str().to_string()));
        pairs.push(("zone", zone.get()));
        if let Some((rid, l, sev)) = selected.get() {
            pairs.push(("matrix_revision_id", rid.to_string()));
            pairs.push(("likelihood", l.to_string()));
            pairs.push(("severity", sev.to_string()));
        }
        pairs.push(("sort", sort.get()));
        pairs.push(("desc", if desc.get() { "true".to_string() } else { String::new() }));
        pairs.push(("limit", PAGE.to_string()));
        let start = at.get();
        match start.cursor {
            Some(Cursor::After(c)) => pairs.push(("after", c)),
            Some(Cursor::Before(c)) => pairs.push(("before", c)),
            None => {}
        }
        let query = audit_query(&pairs);
        async move { api::list_risks(&query).await }
    });
    let export_href = move || {
        let mut pairs = common();
        pairs.push(("basis", mode.get().basis().as_str().to_string()));
        pairs.push(("zone", zone.get()));
        if let Some((rid, l, sev)) = selected.get() {
            pairs.push(("matrix_revision_id", rid.to_string()));
            pairs.push(("likelihood", l.to_string()));
            pairs.push(("severity", sev.to_string()));
        }
        pairs.push(("sort", sort.get()));
        format!("/api/v1/risks/export.csv?{}", audit_query(&pairs))
    };

    let sort_header = move |key: &'static str, label: &'static str| {
        let active = move || sort.get() == key;
        // Scores list highest first unless reversed; the other columns lowest first.
        let descending = move || desc.get() != matches!(key, "residual_score" | "inherent_score");
        view! {
            <th scope="col" aria-sort=move || if active() { if descending() { "descending" } else { "ascending" } } else { "none" }>
                <button type="button" class="th-sort" on:click=move |_| {
                    if sort.get_untracked() == key { desc.update(|d| *d = !*d) } else { sort.set(key.to_string()); desc.set(false) }
                }>
                    {label}
                    {move || active().then(|| if descending() { " ▼" } else { " ▲" })}
                </button>
            </th>
        }
    };

    view! {
        <section>
            <header class="page-head">
                <h1>"Risk register"</h1>
                <div class="tools">
                    <A href="/risks/matrices" attr:class="btn">"Risk matrices"</A>
                    <a class="btn" href=export_href download="caliper-risk-register.csv">"Export CSV"</a>
                    <Show when=move || can(s, &[Permission::ManageRisks, Permission::EditOwnRisks])>
                        <A href="/risks/new" attr:class="btn btn-primary">"New risk"</A>
                    </Show>
                </div>
            </header>
            {loaded(choices, "the filters", move |(revisions, processes, directory)| {
                let effective: Vec<_> = revisions.iter().filter(|r| r.status == RevisionStatus::Effective).cloned().collect();
                view! {
                    <div class="filters" role="search" aria-label="Filter the register">
                        <label class="filter">"Search"
                            <input type="search" name="q" placeholder="Title, description, category"
                                prop:value=move || q.get() on:change=move |ev| q.set(event_target_value(&ev)) />
                        </label>
                        <label class="filter">"Status"
                            <select name="status" on:change=move |ev| status.set(event_target_value(&ev))>
                                <option value="">"Open (not closed)"</option>
                                {RiskStatus::ALL.iter().map(|st| view! { <option value=st.as_str()>{st.label()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="filter">"Owner"
                            <select name="owner_id" on:change=move |ev| owner.set(event_target_value(&ev))>
                                <option value="">"Anyone"</option>
                                {directory.iter().map(|u| view! { <option value=u.id.to_string()>{u.full_name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="filter">"Process"
                            <select name="process_id" on:change=move |ev| process.set(event_target_value(&ev))>
                                <option value="">"Any process"</option>
                                {processes.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="filter">"Zone"
                            <select name="zone" on:change=move |ev| zone.set(event_target_value(&ev))>
                                <option value="">"Any zone"</option>
                                <option value="unacceptable">"Unacceptable"</option>
                                <option value="reduce_as_far_as_possible">"Reduce as far as possible"</option>
                                <option value="acceptable">"Acceptable"</option>
                            </select>
                        </label>
                        <label class="check filter-check">
                            <input type="checkbox" name="overdue" prop:checked=move || overdue.get()
                                on:change=move |ev| overdue.set(event_target_checked(&ev)) />
                            "Review overdue"
                        </label>
                        {(effective.len() > 1).then(|| view! {
                            <label class="filter">"Heatmap matrix"
                                <select name="matrix_revision_id" on:change=move |ev| { selected.set(None); revision.set(event_target_value(&ev)) }>
                                    {effective.iter().map(|r| view! { <option value=r.id.to_string()>{r.title()}</option> }).collect_view()}
                                </select>
                            </label>
                        })}
                    </div>
                }
            })}
            <div class="register">
                <section class="heat-panel" aria-labelledby="heat-title">
                    <div class="heat-head">
                        <h2 id="heat-title">"Heatmap"</h2>
                        <div class="segmented" role="radiogroup" aria-label="Heatmap view">
                            {[(HeatView::Inherent, "Inherent"), (HeatView::Residual, "Residual"), (HeatView::Move, "Inherent → residual")]
                                .into_iter()
                                .map(|(m, label)| view! {
                                    <button type="button" role="radio" aria-checked=move || if mode.get() == m { "true" } else { "false" }
                                        class:active=move || mode.get() == m on:click=move |_| mode.set(m)>{label}</button>
                                })
                                .collect_view()}
                        </div>
                    </div>
                    {loaded(heat, "the heatmap", move |map| {
                        let title = map.revision.title();
                        let total = map.total;
                        let others = map.other_revisions.clone();
                        view! {
                            <p class="muted heat-caption">
                                {title} " · " {total} " open risk(s)"
                                {others.into_iter().map(|o| view! {
                                    <span class="badge badge-update">{format!(" {} still scored on rev. {} — re-score them", o.count, o.revision)}</span>
                                }).collect_view()}
                            </p>
                            <HeatmapView map view_mode=Signal::derive(move || mode.get()) selected />
                        }
                    })}
                    {move || selected.get().map(|(_, l, sev)| view! {
                        <p class="cell-filter" role="status">
                            {format!("Showing risks at likelihood {l}, severity {sev} ({}). ", if mode.get() == HeatView::Inherent { "inherent" } else { "residual" })}
                            <button type="button" class="btn" on:click=move |_| selected.set(None)>"Show all"</button>
                        </p>
                    })}
                </section>
                <section class="register-list" aria-label="Risks">
                    {loaded(page, "the register", move |p| {
                        let total = p.total;
                        let from = at.with_untracked(|a| a.from);
                        let shown = p.items.len() as i64;
                        let (next, prev) = (p.next_after.clone(), p.prev_before.clone());
                        if p.items.is_empty() {
                            return view! { <p class="empty">"No risks match these filters."</p> }.into_any();
                        }
                        view! {
                            <p class="muted" data-testid="risk-count">{format!("{}–{} of {total} risk(s)", from + 1, from + p.items.len() as i64)}</p>
                            <table class="grid risks" aria-label="Risk register">
                                <thead>
                                    <tr>
                                        {sort_header("reference", "Ref.")}
                                        {sort_header("title", "Title")}
                                        <th scope="col">"Process"</th>
                                        {sort_header("owner", "Owner")}
                                        {sort_header("status", "Status")}
                                        {sort_header("inherent_score", "Inherent")}
                                        {sort_header("residual_score", "Residual")}
                                        {sort_header("review_date", "Review")}
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.items.into_iter().map(|r| view! { <RiskRow risk=r /> }).collect_view()}
                                </tbody>
                            </table>
                            <div class="pager">
                                <button type="button" class="btn" disabled={prev.is_none() || from == 0} on:click=move |_| {
                                    let back = (from - PAGE).max(0);
                                    // The first page is asked for as such, so that it is whole even if rows were added.
                                    let cursor = if back == 0 { None } else { prev.clone().map(Cursor::Before) };
                                    at.set(PageStart { cursor, from: back });
                                }>"Previous"</button>
                                <button type="button" class="btn" disabled={next.is_none()} on:click=move |_| {
                                    at.set(PageStart { cursor: next.clone().map(Cursor::After), from: from + shown });
                                }>"Next"</button>
                            </div>
                        }.into_any()
                    })}
                </section>
            </div>
        </section>
    }
}

#[component]
fn RiskRow(risk: RiskSummary) -> impl IntoView {
    view! {
        <tr data-testid="risk-row">
            <td class="nowrap">{risk.reference.clone()}</td>
            <td><A href=format!("/risks/{}", risk.id)>{risk.title}</A></td>
            <td>{risk.process_name}</td>
            <td>{risk.owner_name}</td>
            <td>{risk.status.label()}</td>
            <td><RatingBadge rating=risk.inherent /></td>
            <td><RatingBadge rating=risk.residual /></td>
            <td class="nowrap">
                {risk.review_date.to_string()}
                {risk.overdue.then(|| view! { <span class="badge badge-locked">" Overdue"</span> })}
            </td>
        </tr>
    }
}

/// Where a register page starts: a cursor from the page before or after (none: the first page).
#[derive(Debug, Clone, PartialEq, Default)]
struct PageStart {
    cursor: Option<Cursor>,
    /// The position of the page's first row, for "51–100 of 400".
    from: i64,
}

/// A keyset cursor and its direction.
#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    After(String),
    Before(String),
}
