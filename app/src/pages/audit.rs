//! The audit-trail page: filter by record, person and time; older pages on demand (keyset);
//! CSV export; and a check of the hash chain.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::audit::{AuditEntry, ChainReport};
use shared::org::RECORD_TYPES;

use crate::api::{self, ApiError};
use crate::components::history::AuditTable;

/// `/admin/audit`
#[component]
pub fn AuditTrail() -> impl IntoView {
    let url = use_query_map();
    let initial = |k: &str| url.with_untracked(|q| q.get(k).unwrap_or_default());
    let record_type = RwSignal::new(initial("record_type"));
    let record_id = RwSignal::new(initial("record_id"));
    let actor = RwSignal::new(initial("actor"));
    let from = RwSignal::new(initial("from"));
    let to = RwSignal::new(initial("to"));

    // The filters in force (applied on submit), as a query string.
    let filters = move || {
        let day = |d: String| if d.is_empty() { d } else { format!("{d}T00:00:00Z") };
        vec![
            ("record_type", record_type.get_untracked()),
            ("record_id", record_id.get_untracked()),
            ("actor", actor.get_untracked()),
            ("from", day(from.get_untracked())),
            ("to", day(to.get_untracked())),
        ]
    };
    let applied = RwSignal::new(api::audit_query(&filters()));

    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next_before = RwSignal::new(None::<i64>);
    let failure = RwSignal::new(None::<ApiError>);
    let load = crate::data::action(move |(query, append): &(String, bool)| {
        let (query, append) = (query.clone(), *append);
        async move {
            match api::list_audit(&query).await {
                Ok(page) => {
                    failure.set(None);
                    next_before.set(page.next_before);
                    if append {
                        entries.update(|e| e.extend(page.items));
                    } else {
                        entries.set(page.items);
                    }
                }
                Err(e) => failure.set(Some(e)),
            }
        }
    });
    Effect::new(move |_| {
        load.dispatch((applied.get(), false));
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        applied.set(api::audit_query(&filters()));
    };
    let older = move |_| {
        if let Some(before) = next_before.get_untracked() {
            let q = applied.get_untracked();
            let sep = if q.is_empty() { "" } else { "&" };
            load.dispatch((format!("{q}{sep}before={before}"), true));
        }
    };

    let verify = Action::new_local(|()| api::verify_audit());
    let verdict = move || {
        verify.value().get().map(|r: Result<ChainReport, ApiError>| match r {
            Ok(r) if r.intact => view! {
                <div class="alert alert-ok" role="status">
                    "Chain intact: " {r.entries} " entries verified. Head " <code>{r.head_hash.unwrap_or_default()}</code>
                </div>
            }
            .into_any(),
            Ok(r) => view! {
                <div class="alert alert-error" role="alert">
                    "Chain BROKEN at entry " {r.first_broken_seq.unwrap_or_default()} ": " {r.problem.unwrap_or_default()}
                </div>
            }
            .into_any(),
            Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
        })
    };

    let text = |label: &'static str, name: &'static str, value: RwSignal<String>, kind: &'static str| {
        view! {
            <label class="filter">
                <span>{label}</span>
                <input type=kind name=name prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };

    view! {
        <section>
            <header class="page-head">
                <h1>"Audit trail"</h1>
                <div class="tools">
                    <a class="btn" href=move || format!("/api/v1/audit/export.csv?{}", applied.get()) download="caliper-audit-trail.csv">
                        "Export CSV"
                    </a>
                    <button type="button" class="btn btn-primary" on:click=move |_| { verify.dispatch(()); }>
                        "Verify the chain"
                    </button>
                </div>
            </header>
            {verdict}
            <form class="filters" on:submit=on_submit>
                <label class="filter">
                    <span>"Record type"</span>
                    <select name="record_type" prop:value=move || record_type.get() on:change=move |ev| record_type.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        {RECORD_TYPES
                            .iter()
                            .map(|(value, label)| view! { <option value=*value>{*label}</option> })
                            .collect_view()}
                    </select>
                </label>
                {text("Record id", "record_id", record_id, "number")}
                {text("Who", "actor", actor, "text")}
                {text("From (UTC)", "from", from, "date")}
                {text("Before (UTC)", "to", to, "date")}
                <button type="submit" class="btn">"Apply filters"</button>
            </form>
            {move || failure.get().map(|e| view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> })}
            {move || view! { <AuditTable entries=entries.get() /> }}
            <div class="actions">
                {move || next_before.get().map(|_| view! {
                    <button type="button" class="btn" on:click=older>"Load older entries"</button>
                })}
            </div>
        </section>
    }
}
