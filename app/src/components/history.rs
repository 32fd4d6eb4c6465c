//! Audit-trail display: a table of entries with old → new values, and a record's own history.

use leptos::prelude::*;
use shared::audit::{AuditEntry, display_value};

use crate::api;
use crate::components::status::{format_utc_seconds, loaded};

/// Entries as a table, newest first, with old → new values per field.
#[component]
pub fn AuditTable(
    /// The entries.
    entries: Vec<AuditEntry>,
) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty">"No audit entries match."</p> }.into_any();
    }
    view! {
        <table class="grid audit" aria-label="Audit trail">
            <thead>
                <tr>
                    <th scope="col" class="num">"#"</th>
                    <th scope="col">"When (UTC)"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Record"</th>
                    <th scope="col">"Changes (old → new)"</th>
                    <th scope="col">"Reason"</th>
                </tr>
            </thead>
            <tbody>
                {entries
                    .into_iter()
                    .map(|e| {
                        let source = format!(
                            "request {} · {} · {}",
                            e.source.request_id, e.source.client_address, e.source.user_agent
                        );
                        view! {
                            <tr>
                                <td class="num">{e.seq}</td>
                                <td class="nowrap">{format_utc_seconds(&e.occurred_at)}</td>
                                <td title=source>{e.actor_name}</td>
                                <td><span class=format!("badge badge-{}", e.action.as_str())>{e.action.as_str()}</span></td>
                                <td class="nowrap">{format!("{} {} v{}", e.record_type, e.record_id, e.record_version)}</td>
                                <td>
                                    <ul class="changes">
                                        {e.changes
                                            .iter()
                                            .map(|(field, c)| view! {
                                                <li>
                                                    <code>{field.clone()}</code> ": "
                                                    <del>{display_value(&c.old)}</del> " → "
                                                    <ins>{display_value(&c.new)}</ins>
                                                </li>
                                            })
                                            .collect_view()}
                                    </ul>
                                </td>
                                <td>{e.reason.unwrap_or_default()}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The history of one record (every audit entry about it), opened from its page.
#[component]
pub fn RecordHistory(
    /// `process`, `department`, `site`, …
    record_type: &'static str,
    /// Its id.
    record_id: i64,
) -> impl IntoView {
    let query = api::audit_query(&[
        ("record_type", record_type.to_string()),
        ("record_id", record_id.to_string()),
        ("limit", "500".to_string()),
    ]);
    let history = crate::data::resource(move || {
        let query = query.clone();
        async move { api::list_audit(&query).await }
    });
    view! {
        <details class="history">
            <summary>"History (audit trail)"</summary>
            {loaded(history, "the history", |page| view! { <AuditTable entries=page.items /> })}
            <p>
                <a href=format!("/admin/audit?record_type={record_type}&record_id={record_id}")>
                    "Open in the audit trail"
                </a>
            </p>
        </details>
    }
}
