//! The controlled print of a revision (domain/documents.md, Part 11 §11.50): "Uncontrolled when
//! printed", who printed it and when, the document, the revision and its state (a banner when it
//! is not the one in force), the text, and each signature's printed name, meaning and time in
//! UTC and local time. The browser's print makes the paper or PDF; the print stylesheet hides the
//! app around it.

use chrono::DateTime;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::signature::Meaning;

use super::page::RevisionText;
use super::revision::{ids, load, status_banner};
use crate::components::signature::local_time;
use crate::components::status::{format_utc_seconds, loaded};
use crate::session::session;

/// `/documents/:id/revisions/:rev/print`
#[component]
pub fn PrintPage() -> impl IntoView {
    let (doc, rev) = ids();
    let data = crate::data::resource(move || load(doc.get(), rev.get()));
    let printer = session()
        .with_untracked(|s| s.as_ref().map(|s| format!("{} ({})", s.user.full_name, s.user.username)))
        .unwrap_or_default();
    let printed_at = DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default();
    view! {
        <section class="print-view">
            {loaded(data, "the revision", move |(doc, r, signatures)| {
                let banner = status_banner(&doc, &r);
                // Repeated at the foot of every printed page (a fixed element prints on each).
                let foot = format!(
                    "{} revision {}{} · Uncontrolled when printed",
                    doc.number,
                    r.label,
                    banner.as_ref().map(|(word, _)| format!(" · {word}")).unwrap_or_default(),
                );
                let signatures: Vec<_> =
                    signatures.into_iter().filter(|s| s.meaning != Meaning::Acknowledged).collect();
                view! {
                    <div class="print-controls no-print">
                        <A href=format!("/documents/{}/revisions/{}", doc.id, r.id) attr:class="btn">"Back"</A>
                        <button type="button" class="btn btn-primary" on:click=move |_| {
                            if let Some(w) = web_sys::window() {
                                let _ = w.print();
                            }
                        }>"Print…"</button>
                    </div>
                    <div class="print-stamp" data-testid="print-stamp">
                        <strong>"Uncontrolled when printed"</strong>
                        <span>{format!(
                            "Printed by {} on {} UTC ({} local time). Check the revision in force in Caliper before use.",
                            printer, format_utc_seconds(&printed_at), local_time(&printed_at),
                        )}</span>
                    </div>
                    <h1>{format!("{} {}", doc.number, doc.title)}</h1>
                    <p class="print-meta">
                        {format!("{} · Revision {} · {}", doc.doc_type.label(), r.label, r.status.label())}
                        {r.content.effective_date.map(|d| format!(" · effective {d}"))}
                    </p>
                    {banner.map(|(word, text)| view! {
                        <p class="doc-banner print-banner" data-testid="print-banner"><strong>{word}</strong>" " {text}</p>
                    })}
                    {r.file.clone().map(|f| view! {
                        <p class="print-file">{format!("Attached file: {} ({} bytes), SHA-256 {}", f.name, f.size, f.sha256)}</p>
                    })}
                    <RevisionText revision=r.clone() />
                    <h2>"Signatures"</h2>
                    {if signatures.is_empty() {
                        view! { <p>"No signature."</p> }.into_any()
                    } else {
                        view! {
                            <table class="grid print-signatures" aria-label="Signatures">
                                <thead><tr>
                                    <th scope="col">"Printed name"</th><th scope="col">"Meaning"</th>
                                    <th scope="col">"Signed (UTC)"</th><th scope="col">"Signed (local time)"</th>
                                </tr></thead>
                                <tbody>
                                    {signatures.into_iter().map(|s| view! {
                                        <tr>
                                            <td>{s.signer_name.clone()}</td>
                                            <td>{s.meaning.label()}{s.superseded.then_some(" (void: the content changed after signing)")}</td>
                                            <td class="nowrap">{format_utc_seconds(&s.signed_at)}</td>
                                            <td class="nowrap">{local_time(&s.signed_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    <p class="print-foot">{foot}</p>
                }
            })}
        </section>
    }
}
