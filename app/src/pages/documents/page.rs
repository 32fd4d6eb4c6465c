//! A document's page: the text in force (from its Markdown) with its signatures, the revision in
//! progress for the people working on it, the revisions and the comparison of any two, the
//! owner's "New revision", the manager's "Make obsolete", and (for those who read training
//! records) who is trained on it.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::ErrorBody;
use shared::auth::Permission;
use shared::document::{DiffLine, Document, DocumentId, Revision, RevisionId, RevisionInput, RevisionStatus};
use shared::org::{Record, RetireInput};
use shared::training::Assignment;

use crate::api::{self, ApiError};
use crate::components::field::TextField;
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::components::signature::SignatureManifestation;
use crate::components::status::loaded;
use crate::pages::training::StatusBadge;
use crate::session::{can, changes_of, session};

/// `/documents/:id`
#[component]
pub fn DocumentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(DocumentId);
    let changes = changes_of(Revision::RECORD_TYPE);
    let documents = changes_of(Document::RECORD_TYPE);
    let data = crate::data::resource(move || {
        changes.track();
        documents.track();
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
                let in_progress = revisions
                    .iter()
                    .find(|r| matches!(r.status, RevisionStatus::Draft | RevisionStatus::InReview | RevisionStatus::Approved))
                    .cloned();
                let obsolete = doc.meta.retired_at.is_some();
                view! {
                    <header class="page-head">
                        <h1>{format!("{} {}", doc.number, doc.title)}</h1>
                        <DocumentActions doc=doc.clone() in_force=in_force.clone() in_progress=in_progress.is_some()
                            next_seq=u32::try_from(revisions.len() + 1).unwrap_or(u32::MAX) />
                    </header>
                    {obsolete.then(|| view! {
                        <p class="alert alert-error doc-banner" role="status">
                            <strong>"OBSOLETE"</strong>
                            {format!(": {}", doc.meta.retired_reason.clone().unwrap_or_default())}
                        </p>
                    })}
                    <p class="muted">
                        {format!("{} · owner {} · reviewed every {} months", doc.doc_type.label(), doc.owner_name, doc.review_interval_months)}
                        {(!doc.source.is_empty()).then(|| format!(" · source {} ({})", doc.source, doc.source_revision))}
                    </p>
                    <super::review::PeriodicReview doc=doc.clone() />
                    {in_progress.map(|r| view! {
                        <p class="alert alert-info" role="status" data-testid="in-progress">
                            {format!("Revision {} is {}", r.label, r.status.label().to_lowercase())}
                            {(r.status == RevisionStatus::Approved).then(|| r.content.effective_date.map(|d| format!(": it takes effect on {d}")))}
                            ". "
                            <A href=format!("/documents/{}/revisions/{}", doc.id, r.id)>{format!("Open revision {}", r.label)}</A>
                        </p>
                    })}
                    {match in_force {
                        Some(r) => view! {
                            <article class="doc-text" aria-label=format!("Revision {} in force", r.label)>
                                <p class="muted">
                                    <span data-testid="in-force">{if obsolete {
                                        format!("Revision {}, the last in force before the document was made obsolete", r.label)
                                    } else {
                                        format!("Revision {} in force", r.label)
                                    }}</span>
                                    " · " <A href=format!("/documents/{}/revisions/{}/print", doc.id, r.id)>"Print a copy"</A>
                                </p>
                                <super::revision::FileLink r=r.clone() />
                                <RevisionText revision=r.clone() />
                                <RevisionSignatures revision=r.id />
                            </article>
                        }.into_any(),
                        None => view! { <p class="empty">"No revision of this document is in force yet."</p> }.into_any(),
                    }}
                    <Revisions document=doc.id revisions=revisions />
                    <DocumentTraining id=doc.id />
                }
            })}
        </section>
    }
}

/// A revision's text, rendered from its Markdown by the server (HTML in the source is shown as
/// text).
#[component]
pub(super) fn RevisionText(revision: Revision) -> impl IntoView {
    let id = revision.id;
    let html = crate::data::resource(move || api::revision_html(id));
    view! {
        {loaded(html, "the text", |text| view! {
            <div class="doc-body markdown" data-testid="doc-body" inner_html=text.html></div>
        })}
    }
}

/// The signatures given to a revision, each with its printed name, meaning and time (11.50).
#[component]
pub(super) fn RevisionSignatures(revision: RevisionId) -> impl IntoView {
    let signatures = crate::data::resource(move || api::list_signatures(Revision::RECORD_TYPE, Some(revision.0)));
    view! {
        <div class="signatures" role="group" aria-label="Signatures">
            {loaded(signatures, "the signatures", |list| {
                list.into_iter()
                    .filter(|s| s.meaning != shared::signature::Meaning::Acknowledged)
                    .map(|signature| view! { <SignatureManifestation signature /> })
                    .collect_view()
            })}
        </div>
    }
}

/// The owner's "New revision" (a draft starting from the text in force) and a document
/// manager's "Make obsolete".
#[component]
fn DocumentActions(doc: Document, in_force: Option<Revision>, in_progress: bool, next_seq: u32) -> impl IntoView {
    let s = session();
    let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id));
    let obsolete = doc.meta.retired_at.is_some();
    let may_draft = !obsolete && !in_progress && me == Some(doc.owner_id);
    let may_retire = !obsolete && can(s, &[Permission::ManageDocuments]);
    let failure = RwSignal::new(None::<String>);
    let id = doc.id;
    let drafting = RwSignal::new(false);
    let retiring = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let version = doc.meta.version;
    let retire = crate::data::action(move |reason: &String| {
        let input = RetireInput { reason: reason.clone(), version: Some(version) };
        async move {
            match api::obsolete_document(id, &input).await {
                Ok(_) => retiring.set(false),
                Err(e) => failure.set(Some(e.to_string())),
            }
        }
    });
    view! {
        <div class="actions">
            {may_draft.then(|| view! {
                <button type="button" class="btn btn-primary" on:click=move |_| drafting.set(true)>"New revision"</button>
            })}
            {may_retire.then(|| view! {
                <button type="button" class="btn" on:click=move |_| retiring.set(true)>"Make obsolete…"</button>
            })}
        </div>
        {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
        {move || drafting.get().then(|| view! {
            <NewRevisionDialog doc=id seq=next_seq in_force=in_force.clone() on_close=Callback::new(move |()| drafting.set(false)) />
        })}
        {move || retiring.get().then(|| view! {
            <ReasonDialog
                title="Make the document obsolete"
                explain="It leaves every point of use and stays on record; its number is never given again. A revision in progress is cancelled."
                confirm="Make obsolete"
                reason
                busy=Signal::derive(move || retire.pending().get())
                on_confirm=Callback::new(move |r: String| { retire.dispatch(r); })
                on_close=Callback::new(move |()| retiring.set(false))
            />
        })}
    }
}

/// The owner's new revision: why it changes (from the second revision) and what asked for it;
/// the text starts as the one in force (the first revision's text is written here). Checked by
/// the shared rules before sending; the draft then opens for editing.
#[component]
fn NewRevisionDialog(doc: DocumentId, seq: u32, in_force: Option<Revision>, on_close: Callback<()>) -> impl IntoView {
    let navigate = use_navigate();
    let first = in_force.is_none();
    let body = RwSignal::new(in_force.map(|r| r.content.body).unwrap_or_default());
    let reason = RwSignal::new(String::new());
    let summary = RwSignal::new(String::new());
    let requested = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let create = crate::data::action(move |input: &RevisionInput| {
        let input = input.clone();
        let navigate = navigate.clone();
        async move {
            match api::create_revision(doc, &input).await {
                Ok(r) => {
                    on_close.run(());
                    navigate(&format!("/documents/{doc}/revisions/{}", r.id), Default::default());
                }
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = RevisionInput {
            body: body.get(),
            reason_for_change: reason.get(),
            change_summary: summary.get(),
            requested_by: requested.get(),
            ..RevisionInput::default()
        }
        .normalized();
        if passes(state, input.validate(seq, false)) {
            create.dispatch(input);
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="new-revision-title" on:keydown=on_keydown>
                <form class="form" on:submit=on_submit novalidate>
                    <h2 id="new-revision-title">"New revision"</h2>
                    {outcome_view(state)}
                    {if first {
                        view! { <TextField name="body" label="Text (Markdown)" value=body errors multiline=true required=true /> }.into_any()
                    } else {
                        view! {
                            <p>"The draft starts from the text in force; you edit it next."</p>
                            <TextField name="reason_for_change" label="Reason for change" value=reason errors multiline=true required=true />
                            <TextField name="change_summary" label="What changes" value=summary errors multiline=true required=true />
                        }.into_any()
                    }}
                    <TextField name="requested_by" label="Asked for by (change request, CAPA, periodic review)" value=requested errors />
                    <div class="actions">
                        <button type="button" class="btn" on:click=move |_| on_close.run(())>"Cancel"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>"Create draft"</button>
                    </div>
                </form>
            </div>
        </div>
    }
}

/// A dialog asking for a reason (send back, cancel, make obsolete): the reason is required.
#[component]
pub(super) fn ReasonDialog(
    title: &'static str,
    explain: &'static str,
    confirm: &'static str,
    reason: RwSignal<String>,
    #[prop(into)] busy: Signal<bool>,
    on_confirm: Callback<String>,
    on_close: Callback<()>,
) -> impl IntoView {
    let missing = RwSignal::new(false);
    let area = NodeRef::<leptos::html::Textarea>::new();
    area.on_load(|a| {
        let _ = a.focus();
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = reason.get().trim().to_string();
        missing.set(r.is_empty());
        if !r.is_empty() {
            on_confirm.run(r);
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="reason-title" on:keydown=on_keydown>
                <form class="form" on:submit=on_submit novalidate>
                    <h2 id="reason-title">{title}</h2>
                    <p>{explain}</p>
                    <div class="field" class:has-error=move || missing.get()>
                        <label for="field-reason">"Reason" <span class="req" aria-hidden="true">" *"</span></label>
                        <textarea id="field-reason" name="reason" rows="3" node_ref=area aria-describedby="field-reason-error"
                            aria-invalid=move || missing.get().to_string()
                            prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                        <p class="field-error" id="field-reason-error" data-field="reason" role="alert">
                            {move || missing.get().then_some("Required.")}
                        </p>
                    </div>
                    <div class="actions">
                        <button type="button" class="btn" on:click=move |_| on_close.run(())>"Back"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || busy.get()>{confirm}</button>
                    </div>
                </form>
            </div>
        </div>
    }
}

/// Who must be trained on this document and where each stands (for those who read training
/// records): before an approved revision's effective date, who is not yet trained on it.
#[component]
fn DocumentTraining(id: DocumentId) -> impl IntoView {
    let s = session();
    if !can(s, &[Permission::ViewTrainingRecords, Permission::ViewTeamTrainingRecords]) {
        return ().into_any();
    }
    let changes = changes_of(Assignment::RECORD_TYPE);
    let trainees = crate::data::resource(move || {
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
fn Revisions(document: DocumentId, revisions: Vec<Revision>) -> impl IntoView {
    let newest = revisions.first().map(|r| r.id);
    let older = revisions.get(1).map(|r| r.id);
    let from = RwSignal::new(older);
    let to = RwSignal::new(newest);
    let diff = crate::data::resource(move || {
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
                {revisions.iter().map(|r| {
                    let label = r.label.clone();
                    view! {
                    <tr data-testid="revision-row">
                        <td><A href=format!("/documents/{document}/revisions/{}", r.id)>{label}</A></td>
                        <td>{r.status.label()}</td>
                        <td>{r.author_name.clone()}</td>
                        <td>{r.content.reason_for_change.clone()}</td>
                        <td class="nowrap">{r.meta.updated_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                    </tr>
                }}).collect_view()}
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

/// A document's page, a chunk of its own (see [`crate::area`]).
pub mod chunk {
    crate::area!(document_record, Page { Document => super::DocumentPage });
}
