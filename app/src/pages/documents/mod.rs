//! Document control (domain/documents.md): the list of documents and a new document
//! ([`DocumentList`], [`NewDocument`]), a document's page with the text in force, its revisions
//! and their comparison ([`page`]), one revision with the work on it: drafting, submitting,
//! sending back, signing ([`revision`]), and its controlled print ([`print`]).

pub mod page;
mod print;
mod review;
pub mod revision;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::auth::{Permission, Role, UserId, UserSummary};
use shared::document::{
    Document, DocumentFilter, DocumentHit, DocumentInput, DocumentPage, DocumentSort, DocumentStatus, DocumentType,
    Revision,
};
use shared::org::{DepartmentId, ProcessId, Record};

use crate::api;
use crate::components::field::{SelectField, TextField};
use crate::components::form::{Submitted, field_errors, outcome_view, passes};
use crate::components::status::loaded;
use crate::session::{can, changes_of, session};

// Three chunks: the list and the new document's form (here), a document's page
// ([`page::chunk`]), and a revision with its print view ([`revision::chunk`]).
crate::area!(documents, Page { List => DocumentList, New => NewDocument });

/// `/documents`, and `/documents?q=…`: the search's hits instead of the list.
#[component]
pub fn DocumentList() -> impl IntoView {
    crate::area::prefetch_next(page::chunk::prefetch);
    let s = session();
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let typed = RwSignal::new(q.get_untracked());
    let navigate = use_navigate();
    let on_search = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        let text = text.trim();
        let to = if text.is_empty() {
            "/documents".to_string()
        } else {
            format!("/documents?q={}", String::from(js_sys::encode_uri_component(text)))
        };
        navigate(&to, Default::default());
    };
    view! {
        <section>
            <header class="page-head">
                <h1>"Documents"</h1>
                {can(s, &[Permission::ManageDocuments]).then(|| view! {
                    <A href="/documents/new" attr:class="btn btn-primary">"New document"</A>
                })}
            </header>
            <form class="filters" role="search" on:submit=on_search>
                <label for="document-search">"Search documents"</label>
                <input id="document-search" type="search" name="q" placeholder="Number, title or a word of the text"
                    prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                <button type="submit" class="btn">"Search"</button>
            </form>
            {move || {
                let q = q.get();
                if q.trim().is_empty() { view! { <AllDocuments /> }.into_any() } else { view! { <SearchHits q /> }.into_any() }
            }}
        </section>
    }
}

/// The hits of a search, best first, each with its snippet (the words found marked).
#[component]
fn SearchHits(q: String) -> impl IntoView {
    let hits = crate::data::resource(move || {
        let q = q.clone();
        async move { api::search_documents(&q).await }
    });
    view! {
        {loaded(hits, "the search", |hits: Vec<DocumentHit>| {
            if hits.is_empty() {
                return view! { <p class="empty" role="status">"No document matches."</p> }.into_any();
            }
            view! {
                <p class="muted" role="status">{format!("{} found", hits.len())}</p>
                <ol class="search-hits" aria-label="Search results">
                    {hits.into_iter().map(|h| view! {
                        <li data-testid="search-hit">
                            <A href=format!("/documents/{}", h.document_id)>{format!("{} {}", h.number, h.title)}</A>
                            <span class="muted">{format!(" · {}", h.doc_type.label())}
                                {h.label.clone().map(|l| format!(" · revision {l} in force"))}</span>
                            <p class="snippet">{h.snippet.into_iter().map(|part| if part.hit {
                                view! { <mark>{part.text}</mark> }.into_any()
                            } else {
                                part.text.into_any()
                            }).collect_view()}</p>
                        </li>
                    }).collect_view()}
                </ol>
            }.into_any()
        })}
    }
}

/// The query string of a register filter (`type=sop&status=in_force&…`).
fn filter_query(f: &DocumentFilter) -> String {
    let q = f.to_query();
    let pairs = [
        ("type", q.doc_type),
        ("status", q.status),
        ("include_obsolete", q.include_obsolete),
        ("owner_id", q.owner_id),
        ("process_id", q.process_id),
        ("review_overdue", q.review_overdue),
        ("q", q.q),
        ("sort", q.sort),
        ("desc", q.desc),
        ("limit", q.limit),
        ("offset", q.offset),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", String::from(js_sys::encode_uri_component(&v)))))
        .collect::<Vec<_>>()
        .join("&")
}

/// Rows per page of the register.
const PAGE: u32 = 50;

/// The register: filters (type, state, owner, overdue review, number or title), order, pages of
/// 50 with the total, and the CSV of every match.
#[component]
fn AllDocuments() -> impl IntoView {
    let changes = changes_of(Revision::RECORD_TYPE);
    let documents = changes_of(Document::RECORD_TYPE);
    let doc_type = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let overdue = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let sort = RwSignal::new(DocumentSort::Number.as_str().to_string());
    let offset = RwSignal::new(0u32);
    let filter = Memo::new(move |_| DocumentFilter {
        doc_type: DocumentType::parse(&doc_type.get()),
        status: DocumentStatus::parse(&status.get()),
        owner_id: owner.get().parse().ok().map(UserId),
        review_overdue: overdue.get(),
        text: Some(text.get().trim().to_string()).filter(|t| !t.is_empty()),
        sort: DocumentSort::parse(&sort.get()).unwrap_or_default(),
        desc: sort.get() == "updated",
        limit: Some(PAGE),
        offset: offset.get(),
        ..DocumentFilter::default()
    });
    // A new filter starts again at the first page.
    Effect::new(move |_| {
        doc_type.track();
        status.track();
        owner.track();
        overdue.track();
        text.track();
        sort.track();
        offset.set(0);
    });
    let page = crate::data::resource(move || {
        changes.track();
        documents.track();
        let query = filter_query(&filter.get());
        async move { api::document_page(&query).await }
    });
    let people = crate::data::resource(api::user_directory);
    let csv = move || {
        let all = DocumentFilter { limit: None, offset: 0, ..filter.get() };
        format!("/api/v1/documents.csv?{}", filter_query(&all))
    };
    view! {
        <div class="filters" role="group" aria-label="Filter the documents">
            <label>"Type "
                <select name="type" prop:value=move || doc_type.get() on:change=move |ev| doc_type.set(event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {DocumentType::ALL.iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
                </select>
            </label>
            <label>"State "
                <select name="status" prop:value=move || status.get() on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="">"Not obsolete"</option>
                    {DocumentStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Owner "
                <select name="owner_id" prop:value=move || owner.get() on:change=move |ev| owner.set(event_target_value(&ev))>
                    <option value="">"Anyone"</option>
                    {move || people.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|p| view! {
                        <option value=p.id.0.to_string()>{p.full_name}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Number or title "
                <input type="text" name="text" prop:value=move || text.get() on:change=move |ev| text.set(event_target_value(&ev)) />
            </label>
            <label class="check">
                <input type="checkbox" name="review_overdue" prop:checked=move || overdue.get()
                    on:change=move |ev| overdue.set(event_target_checked(&ev)) />
                "Review overdue"
            </label>
            <label>"Order "
                <select name="sort" prop:value=move || sort.get() on:change=move |ev| sort.set(event_target_value(&ev))>
                    <option value="number">"Number"</option>
                    <option value="title">"Title"</option>
                    <option value="updated">"Last change, newest first"</option>
                </select>
            </label>
            <a class="btn" href=csv download>"Export CSV"</a>
        </div>
        {loaded(page, "the documents", move |page: DocumentPage| {
            if page.items.is_empty() {
                return view! { <p class="empty" role="status">"No document matches."</p> }.into_any();
            }
            let first = offset.get_untracked() + 1;
            let last = offset.get_untracked() + u32::try_from(page.items.len()).unwrap_or(0);
            let total = u32::try_from(page.total).unwrap_or(u32::MAX);
            view! {
                <p class="muted" role="status" data-testid="document-count">{format!("{first}–{last} of {total} document(s)")}</p>
                <table class="grid" aria-label="Documents">
                    <thead><tr>
                        <th scope="col">"Number"</th><th scope="col">"Title"</th><th scope="col">"Type"</th>
                        <th scope="col">"Owner"</th><th scope="col">"In force"</th><th scope="col">"State"</th>
                        <th scope="col">"Next review"</th>
                    </tr></thead>
                    <tbody>
                        {page.items.into_iter().map(|d| {
                            let (number, state) = (d.number.clone(), d.status_text());
                            view! {
                            <tr data-testid="document-row">
                                <td class="nowrap"><A href=format!("/documents/{}", d.id)>{number}</A></td>
                                <td>{d.title.clone()}</td>
                                <td>{d.doc_type.label()}</td>
                                <td>{d.owner_name.clone()}</td>
                                <td>{match d.in_force.clone() {
                                    Some(label) => format!("Revision {label}"),
                                    None => "None".to_string(),
                                }}</td>
                                <td>{state}</td>
                                <td class="nowrap">
                                    {d.next_review_on.map(|n| n.to_string()).unwrap_or_default()}
                                    {d.review_overdue.then(|| view! { " " <span class="badge overdue">"Overdue"</span> })}
                                </td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
                <div class="pager">
                    <button type="button" class="btn" disabled=first <= 1
                        on:click=move |_| offset.update(|o| *o = o.saturating_sub(PAGE))>"Previous"</button>
                    <button type="button" class="btn" disabled=last >= total
                        on:click=move |_| offset.update(|o| *o += PAGE)>"Next"</button>
                </div>
            }.into_any()
        })}
    }
}

/// Choices as a list of checkboxes named `name` (reviewers, approvers, reader roles and
/// departments): each option is its value and its label.
#[component]
fn CheckList<T>(
    name: &'static str,
    legend: &'static str,
    options: Vec<(T, String)>,
    chosen: RwSignal<Vec<T>>,
    errors: Signal<shared::FieldErrors>,
    #[prop(optional)] required: bool,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    let error_id = format!("field-{name}-error");
    view! {
        <fieldset class="field check-list" class:has-error=move || errors.with(|e| e.get(name).is_some())
            aria-describedby=error_id.clone()>
            <legend>{legend}{required.then_some(view! { <span class="req" aria-hidden="true">" *"</span> })}</legend>
            <div class="check-options">
                {options.into_iter().map(|(value, label)| view! {
                    <label class="check">
                        <input type="checkbox" name=name
                            prop:checked=move || chosen.with(|c| c.contains(&value))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| {
                                    c.retain(|x| *x != value);
                                    if on {
                                        c.push(value);
                                    }
                                });
                            } />
                        {label}
                    </label>
                }).collect_view()}
            </div>
            <crate::components::field::FieldError name errors id=error_id.clone() />
        </fieldset>
    }
}

/// `/documents/new`: a document manager creates a document (its number is given by the
/// server), names its owner, reviewers and approvers. The owner then drafts its first revision.
#[component]
pub fn NewDocument() -> impl IntoView {
    let navigate = use_navigate();
    let choices = crate::data::resource(|| async {
        Ok::<_, api::ApiError>((
            api::user_directory().await?,
            api::list_processes(false).await?,
            api::list_departments(false).await?,
        ))
    });
    let doc_type = RwSignal::new(DocumentType::Sop.as_str().to_string());
    let title = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let process = RwSignal::new(String::new());
    let reviewers = RwSignal::new(Vec::<UserId>::new());
    let approvers = RwSignal::new(Vec::<UserId>::new());
    let reader_roles = RwSignal::new(Vec::<Role>::new());
    let reader_departments = RwSignal::new(Vec::<DepartmentId>::new());
    let interval = RwSignal::new("24".to_string());
    let retention = RwSignal::new("10".to_string());
    let source = RwSignal::new(String::new());
    let source_revision = RwSignal::new(String::new());
    let state = RwSignal::new(Submitted::default());
    let errors = field_errors(state);
    let input = move || {
        DocumentInput {
            doc_type: DocumentType::parse(&doc_type.get()).unwrap_or(DocumentType::Sop),
            title: title.get(),
            owner_id: owner.get().parse().ok().map(UserId),
            process_id: process.get().parse().ok().map(ProcessId),
            reviewers: reviewers.get(),
            approvers: approvers.get(),
            // An unreadable number is out of range, so the shared rule names the field.
            review_interval_months: interval.get().trim().parse().unwrap_or(0),
            retention_years: retention.get().trim().parse().unwrap_or(0),
            source: source.get(),
            source_revision: source_revision.get(),
            reader_roles: reader_roles.get(),
            reader_department_ids: reader_departments.get(),
        }
        .normalized()
    };
    let create = crate::data::action(move |input: &DocumentInput| {
        let input = input.clone();
        let navigate = navigate.clone();
        async move {
            match api::create_document(&input).await {
                Ok(doc) => navigate(&format!("/documents/{}", doc.id), Default::default()),
                Err(e) => state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = input();
        if passes(state, input.validate()) {
            state.set(Submitted::default());
            create.dispatch(input);
        }
    };
    let external = move || doc_type.get() == DocumentType::External.as_str();
    view! {
        <section>
            <header class="page-head"><h1>"New document"</h1></header>
            {loaded(choices, "the people and processes", move |(people, processes, departments)| {
                let owners = people.clone();
                let person = |p: &UserSummary| (p.id, p.full_name.clone());
                let roles = Role::ALL.iter().map(|r| (*r, r.label().to_string())).collect::<Vec<_>>();
                let departments = departments.iter().map(|d| (d.id, d.name.clone())).collect::<Vec<_>>();
                view! {
                    <form class="form" on:submit=on_submit novalidate aria-label="New document">
                        {outcome_view(state)}
                        <SelectField name="doc_type" label="Type" value=doc_type errors empty="Choose a type…" required=true>
                            {DocumentType::ALL.iter().map(|t| view! {
                                <option value=t.as_str()>{format!("{} ({}-)", t.label(), t.prefix())}</option>
                            }).collect_view()}
                        </SelectField>
                        <TextField name="title" label="Title" value=title errors required=true />
                        <SelectField name="owner_id" label="Owner" value=owner errors empty="Choose the owner…" required=true>
                            {owners.iter().map(|p| view! { <option value=p.id.0.to_string()>{p.full_name.clone()}</option> }).collect_view()}
                        </SelectField>
                        <SelectField name="process_id" label="Process" value=process errors empty="No process">
                            {processes.iter().map(|p| view! { <option value=p.id.0.to_string()>{p.name.clone()}</option> }).collect_view()}
                        </SelectField>
                        <CheckList name="reviewers" legend="Reviewers" options=people.iter().map(person).collect() chosen=reviewers errors />
                        <CheckList name="approvers" legend="Approvers" options=people.iter().map(person).collect() chosen=approvers errors required=true />
                        <CheckList name="reader_roles" legend="Readers by role (told of new revisions)" options=roles chosen=reader_roles errors />
                        <CheckList name="reader_department_ids" legend="Readers by department" options=departments chosen=reader_departments errors />
                        <TextField name="review_interval_months" label="Periodic review every (months)" value=interval errors required=true />
                        <TextField name="retention_years" label="Keep revisions after they leave force for (years)" value=retention errors required=true />
                        <Show when=external>
                            <TextField name="source" label="Source (publisher, customer)" value=source errors required=true />
                            <TextField name="source_revision" label="The source's revision or edition" value=source_revision errors required=true />
                        </Show>
                        <div class="actions">
                            <A href="/documents" attr:class="btn">"Cancel"</A>
                            <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>"Create document"</button>
                        </div>
                    </form>
                }
            })}
        </section>
    }
}
