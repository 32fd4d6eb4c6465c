//! Document control, for readers: the list of documents with the revision in force, and a
//! document's page (the text in force, its revisions, and the difference between any two).
//! Drafting, review and signing run through the API for now (README: Document control). Those
//! who read training records also see who is trained on the document.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::ErrorBody;
use shared::document::{DiffLine, Document, DocumentId, Revision, RevisionId, RevisionStatus};
use shared::org::Record;

use shared::auth::Permission;
use shared::training::Assignment;

use crate::api::{self, ApiError};
use crate::components::status::loaded;
use crate::pages::training::StatusBadge;
use crate::session::{can, changes_of, session};

crate::area!(documents, Page { List => DocumentList, Document => DocumentPage });

/// `/documents`
#[component]
pub fn DocumentList() -> impl IntoView {
    let changes = changes_of(Revision::RECORD_TYPE);
    let documents = changes_of(Document::RECORD_TYPE);
    let list = LocalResource::new(move || {
        changes.track();
        documents.track();
        api::list_documents()
    });
    view! {
        <section>
            <header class="page-head"><h1>"Documents"</h1></header>
            {loaded(list, "the documents", |list| {
                if list.is_empty() {
                    return view! { <p class="empty">"No controlled document yet."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="Documents">
                        <thead><tr>
                            <th scope="col">"Number"</th><th scope="col">"Title"</th><th scope="col">"Type"</th>
                            <th scope="col">"Owner"</th><th scope="col">"In force"</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|d| view! {
                                <tr data-testid="document-row">
                                    <td class="nowrap"><A href=format!("/documents/{}", d.id)>{d.number.clone()}</A></td>
                                    <td>{d.title.clone()}</td>
                                    <td>{d.doc_type.label()}</td>
                                    <td>{d.owner_name.clone()}</td>
                                    <td>{match d.in_force.clone() {
                                        Some(label) => format!("Revision {label}"),
                                        None => "None yet".to_string(),
                                    }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// `/documents/:id`
#[component]
pub fn DocumentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(DocumentId);
    let changes = changes_of(Revision::RECORD_TYPE);
    let data = LocalResource::new(move || {
        changes.track();
        let id = id();
        async move {
            let Some(id) = id else { return Err(ApiError::Status(404, ErrorBody::new("No such document."))) };
            Ok((api::get_document(id).await?, api::list_document_revisions(id).await?))
        }
    });
    view! {
        <section>
            {loaded(data, "the document", |(doc, revisions)| {
                let in_force = revisions.iter().find(|r| r.status == RevisionStatus::Effective).cloned();
                let obsolete = doc.meta.retired_at.is_some();
                view! {
                    <header class="page-head">
                        <h1>{format!("{} {}", doc.number, doc.title)}</h1>
                    </header>
                    {obsolete.then(|| view! {
                        <p class="alert alert-error doc-banner" role="status">
                            <strong>"OBSOLETE"</strong>
                            {format!(": {}", doc.meta.retired_reason.clone().unwrap_or_default())}
                        </p>
                    })}
                    <p class="muted">
                        {format!("{} · owner {} · reviewed every {} months", doc.doc_type.label(), doc.owner_name, doc.review_interval_months)}
                    </p>
                    {match in_force {
                        Some(r) => view! {
                            <article class="doc-text" aria-label=format!("Revision {} in force", r.label)>
                                <p class="muted" data-testid="in-force">{if obsolete {
                                    format!("Revision {}, the last in force before the document was made obsolete", r.label)
                                } else {
                                    format!("Revision {} in force", r.label)
                                }}</p>
                                <pre class="doc-body">{r.content.body.clone()}</pre>
                            </article>
                        }.into_any(),
                        None => view! { <p class="empty">"No revision of this document is in force yet."</p> }.into_any(),
                    }}
                    <Revisions revisions=revisions />
                    <DocumentTraining id=doc.id />
                }
            })}
        </section>
    }
}

/// Who must be trained on this document and where each stands (for those who read training
/// records): before an approved revision's effective date, who is not yet trained on it.
#[component]
fn DocumentTraining(id: DocumentId) -> impl IntoView {
    let s = session();
    if !can(s, &[Permission::ViewTrainingRecords]) {
        return ().into_any();
    }
    let changes = changes_of(Assignment::RECORD_TYPE);
    let trainees = LocalResource::new(move || {
        changes.track();
        api::document_trainees(id)
    });
    view! {
        {loaded(trainees, "who is trained", |list| {
            if list.is_empty() {
                return ().into_any();
            }
            let current = list.iter().filter(|t| t.status.is_current()).count();
            view! {
                <section aria-label="Training on this document" data-testid="document-training">
                    <h2>"Training"</h2>
                    <p class="muted">{format!("{current} of {} people trained on the current revision", list.len())}</p>
                    <table class="grid">
                        <thead><tr>
                            <th scope="col">"Person"</th><th scope="col">"Requirement"</th><th scope="col">"Status"</th>
                            <th scope="col">"Last trained on"</th><th scope="col">"Due"</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|t| view! {
                                <tr>
                                    <td>{t.user_name.clone()}</td>
                                    <td>{t.requirement_title.clone()}</td>
                                    <td><StatusBadge status=t.status /></td>
                                    <td>{t.completed_revision.clone().map(|l| format!("Revision {l}")).unwrap_or_else(|| "—".into())}</td>
                                    <td class="nowrap">{t.due_on.map(|d| d.to_string()).unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }.into_any()
        })}
    }
    .into_any()
}

/// The revisions the reader may see, and the difference between two of them.
#[component]
fn Revisions(revisions: Vec<Revision>) -> impl IntoView {
    let newest = revisions.first().map(|r| r.id);
    let older = revisions.get(1).map(|r| r.id);
    let from = RwSignal::new(older);
    let to = RwSignal::new(newest);
    let diff = LocalResource::new(move || {
        let (from, to) = (from.get(), to.get());
        async move {
            match (from, to) {
                (Some(a), Some(b)) if a != b => api::diff_revisions(b, a).await.map(Some),
                _ => Ok(None),
            }
        }
    });
    let options = revisions.iter().map(|r| (r.id, format!("{} ({})", r.label, r.status.label()))).collect::<Vec<_>>();
    let select = move |label: &'static str, value: RwSignal<Option<RevisionId>>| {
        let options = options.clone();
        view! {
            <label class="field-inline">{label}" "
                <select on:change=move |ev| value.set(event_target_value(&ev).parse::<i64>().ok().map(RevisionId))>
                    {options.into_iter().map(|(id, text)| view! {
                        <option value=id.0.to_string() selected=move || value.get() == Some(id)>{text}</option>
                    }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <h2>"Revisions"</h2>
        <table class="grid" aria-label="Revisions">
            <thead><tr>
                <th scope="col">"Revision"</th><th scope="col">"Status"</th><th scope="col">"Author"</th>
                <th scope="col">"Reason for change"</th><th scope="col">"Last change (UTC)"</th>
            </tr></thead>
            <tbody>
                {revisions.iter().map(|r| view! {
                    <tr data-testid="revision-row">
                        <td>{r.label.clone()}</td>
                        <td>{r.status.label()}</td>
                        <td>{r.author_name.clone()}</td>
                        <td>{r.content.reason_for_change.clone()}</td>
                        <td class="nowrap">{r.meta.updated_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {(revisions.len() > 1).then(|| view! {
            <section class="doc-diff" aria-label="Compare revisions">
                <h2>"Compare"</h2>
                <div class="filters">{select("From", from)}{select("to", to)}</div>
                {loaded(diff, "the comparison", |diff| match diff {
                    None => view! { <p class="muted">"Choose two different revisions."</p> }.into_any(),
                    Some(d) => view! {
                        <p class="muted">{format!("From revision {} to revision {}", d.from_label, d.to_label)}</p>
                        <ol class="diff" data-testid="diff">
                            {d.lines.into_iter().map(|l| match l {
                                DiffLine::Same(t) => view! { <li class="diff-same"><span class="sr-only">"unchanged: "</span>{t}</li> }.into_any(),
                                DiffLine::Added(t) => view! { <li class="diff-added"><ins><span class="sr-only">"added: "</span>{t}</ins></li> }.into_any(),
                                DiffLine::Removed(t) => view! { <li class="diff-removed"><del><span class="sr-only">"removed: "</span>{t}</del></li> }.into_any(),
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                })}
            </section>
        })}
    }
}
