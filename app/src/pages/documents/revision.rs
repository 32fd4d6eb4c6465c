//! One revision of a document and the work on it, offered by the shared workflow to whoever's
//! step it is: the author (or owner) edits the draft and submits it; reviewers and approvers
//! sign with their password or send it back with a reason; the owner, the author or a document
//! manager cancels it. Anything not in force says so in a banner.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::auth::Permission;
use shared::document::{
    Document, DocumentId, Revision, RevisionAction, RevisionId, RevisionInput, RevisionStatus, allowed_actions,
};
use shared::org::Record;
use shared::signature::{Meaning, Signature};
use shared::{ErrorBody, FieldErrors};

use super::page::{ReasonDialog, RevisionSignatures, RevisionText};
use crate::api::{self, ApiError};
use crate::components::conflict::{ComparedField, ConflictPanel};
use crate::components::field::TextField;
use crate::components::form::{Submitted, field_errors, outcome_view};
use crate::components::signature::{SignArgs, SignaturePanel, sign_dialog};
use crate::components::status::{NOT_SAVED, format_utc, loaded_distinct};
use crate::session::{can, changes_of, session};

/// What the revision page loads: the document, the revision, its signatures.
type Loaded = (Document, Revision, Vec<Signature>);

/// The ids in the address.
pub(super) fn ids() -> (Memo<Option<DocumentId>>, Memo<Option<RevisionId>>) {
    let params = use_params_map();
    let number = move |key: &str| params.read().get(key).and_then(|s| s.parse::<i64>().ok());
    (Memo::new(move |_| number("id").map(DocumentId)), Memo::new(move |_| number("rev").map(RevisionId)))
}

/// Loads the document, one of its revisions and the revision's signatures.
pub(super) async fn load(doc: Option<DocumentId>, rev: Option<RevisionId>) -> Result<Loaded, ApiError> {
    let missing = || ApiError::Status(404, ErrorBody::new("No such revision."));
    let (Some(doc), Some(rev)) = (doc, rev) else { return Err(missing()) };
    let revision = api::get_revision(rev).await?;
    if revision.document_id != doc {
        return Err(missing());
    }
    let document = api::get_document(doc).await?;
    let signatures = api::list_signatures(Revision::RECORD_TYPE, Some(rev.0)).await?;
    Ok((document, revision, signatures))
}

/// The banner of a revision that is not the one in force (on screen and on paper).
pub(super) fn status_banner(doc: &Document, r: &Revision) -> Option<(&'static str, String)> {
    let obsolete = doc.meta.retired_at.is_some();
    match r.status {
        RevisionStatus::Effective if obsolete => {
            Some(("OBSOLETE", "The document was made obsolete: this revision is no longer in force.".into()))
        }
        RevisionStatus::Effective => None,
        RevisionStatus::Superseded => Some((
            "SUPERSEDED",
            match &doc.in_force {
                Some(label) => format!("Revision {label} is in force; this one is kept for the record."),
                None => "A later revision replaced this one; it is kept for the record.".into(),
            },
        )),
        RevisionStatus::Approved => Some((
            "APPROVED, NOT YET IN FORCE",
            match r.content.effective_date {
                Some(d) => format!("It takes effect on {d}."),
                None => "It takes effect at once.".into(),
            },
        )),
        RevisionStatus::Draft => Some(("DRAFT", "Not approved: not for use.".into())),
        RevisionStatus::InReview => Some(("IN REVIEW", "Not approved: not for use.".into())),
        RevisionStatus::Cancelled => Some(("CANCELLED", format!("Cancelled: {}", r.status_reason))),
    }
}

// The signing dialog, loaded when first opened.
crate::part!(document_revision__sign, sign_dialog(args: SignArgs));

/// `/documents/:id/revisions/:rev`
#[component]
pub fn RevisionPage() -> impl IntoView {
    let (doc, rev) = ids();
    let changes = changes_of(Revision::RECORD_TYPE);
    // While the draft has unsaved changes, live updates do not redraw it (what was typed stays;
    // saving over someone else's change then shows the conflict and the choice).
    let dirty = RwSignal::new(false);
    let live = Memo::new(move |previous: Option<&Option<i64>>| match previous {
        Some(p) if dirty.get_untracked() => *p,
        _ => changes.get(),
    });
    let data = crate::data::resource(move || {
        live.track();
        load(doc.get(), rev.get())
    });
    let refresh = Callback::new(move |()| data.refetch());
    view! {
        <section>
            {loaded_distinct(data, "the revision", move |(doc, r, signatures)| view! {
                <RevisionView doc r signatures refresh dirty />
            })}
        </section>
    }
}

#[component]
fn RevisionView(
    doc: Document,
    r: Revision,
    signatures: Vec<Signature>,
    refresh: Callback<()>,
    dirty: RwSignal<bool>,
) -> impl IntoView {
    let s = session();
    let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id));
    let signed = |meaning: Meaning| {
        signatures.iter().any(|sig| Some(sig.signer_id) == me && sig.meaning == meaning && !sig.superseded)
    };
    let mut who = doc.participant(me, r.author_id);
    who.signed_reviewed = signed(Meaning::Reviewed);
    who.signed_approved = signed(Meaning::Approved);
    who.manager = can(s, &[Permission::ManageDocuments]);
    let actions = allowed_actions(r.status, who);
    let may = |a: RevisionAction| actions.contains(&a);
    let banner = status_banner(&doc, &r);
    let void = signatures.iter().filter(|sig| sig.superseded && sig.meaning != Meaning::Acknowledged).count();
    let what = format!("{} {}, revision {}", doc.number, doc.title, r.label);
    let in_review = r.status == RevisionStatus::InReview;
    view! {
        <header class="page-head">
            <h1>{format!("{} {} — revision {}", doc.number, doc.title, r.label)}</h1>
            <div class="actions">
                <A href=format!("/documents/{}", doc.id) attr:class="btn">"The document"</A>
                <A href=format!("/documents/{}/revisions/{}/print", doc.id, r.id) attr:class="btn">"Print"</A>
            </div>
        </header>
        {banner.map(|(word, text)| view! {
            <p class="alert alert-error doc-banner" role="status" data-testid="revision-banner"><strong>{word}</strong>" " {text}</p>
        })}
        {(r.status == RevisionStatus::Draft && !r.status_reason.is_empty()).then(|| view! {
            <p class="alert alert-conflict" role="status" data-testid="sent-back">
                <strong>"Sent back: "</strong>{r.status_reason.clone()}
            </p>
        })}
        <p class="meta">
            {r.status.label()} " · by " {r.author_name.clone()} " · version " {r.meta.version}
            " · last changed " {format_utc(&r.meta.updated_at)}
        </p>
        {(void > 0).then(|| view! {
            <p class="alert alert-conflict" role="status" data-testid="void-signatures">
                {format!("{void} signature(s) given to an earlier content of this revision are void: the draft changed after signing.")}
            </p>
        })}
        {if may(RevisionAction::Edit) {
            view! { <Editor r=r.clone() may_submit=may(RevisionAction::Submit) refresh dirty /> }.into_any()
        } else {
            view! {
                <ChangeInfo r=r.clone() />
                <FileLink r=r.clone() />
                <RevisionText revision=r.clone() />
            }.into_any()
        }}
        <h2>"Signatures"</h2>
        {if in_review {
            let version = r.content_version;
            view! {
                {(!doc.reviewers.is_empty()).then(|| view! {
                    <h3>"Review"</h3>
                    <SignaturePanel dialog=(document_revision__sign::view, document_revision__sign::prefetch) record_type=Revision::RECORD_TYPE record_id=r.id.0 version=Signal::stored(version)
                        meaning=Meaning::Reviewed what=Signal::stored(what.clone())
                        awaiting="Awaiting the reviewers' signatures"
                        open_to_signing=Signal::stored(may(RevisionAction::SignReviewed))
                        on_signed=Callback::new(move |_| refresh.run(())) />
                })}
                <h3>"Approval"</h3>
                <SignaturePanel dialog=(document_revision__sign::view, document_revision__sign::prefetch) record_type=Revision::RECORD_TYPE record_id=r.id.0 version=Signal::stored(version)
                    meaning=Meaning::Approved what=Signal::stored(what.clone())
                    awaiting="Awaiting the approvers' signatures"
                    open_to_signing=Signal::stored(may(RevisionAction::SignApproved))
                    on_signed=Callback::new(move |_| refresh.run(())) />
            }.into_any()
        } else {
            view! { <RevisionSignatures revision=r.id /> }.into_any()
        }}
        <StepButtons r=r.clone() send_back=may(RevisionAction::SendBack) cancel=may(RevisionAction::Cancel) refresh />
    }
}

/// A revision's change information, read-only.
#[component]
fn ChangeInfo(r: Revision) -> impl IntoView {
    let c = r.content;
    let row =
        |term: &'static str, value: String| (!value.is_empty()).then(|| view! { <dt>{term}</dt><dd>{value}</dd> });
    view! {
        <dl class="facts" data-testid="change-info">
            {row("Reason for change", c.reason_for_change)}
            {row("What changed", c.change_summary)}
            {row("Asked for by", c.requested_by)}
            {row("Effective date", c.effective_date.map(|d| d.to_string()).unwrap_or_else(|| "At approval".into()))}
            {row("Train by", c.train_by.map(|d| d.to_string()).unwrap_or_default())}
            {row("No retraining needed", if c.no_retraining { c.no_retraining_reason } else { String::new() })}
        </dl>
    }
}

/// Send back and cancel, each with its reason.
#[component]
fn StepButtons(r: Revision, send_back: bool, cancel: bool, refresh: Callback<()>) -> impl IntoView {
    let asking = RwSignal::new(None::<RevisionAction>);
    let reason = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let (id, version) = (r.id, r.meta.version);
    let step = crate::data::action(move |(action, reason): &(RevisionAction, String)| {
        let (action, reason) = (*action, reason.clone());
        async move {
            match api::move_revision(id, action, version, &reason).await {
                Ok(_) => {
                    asking.set(None);
                    refresh.run(());
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
        }
    });
    view! {
        <div class="actions">
            {send_back.then(|| view! {
                <button type="button" class="btn" on:click=move |_| asking.set(Some(RevisionAction::SendBack))>"Send back…"</button>
            })}
            {cancel.then(|| view! {
                <button type="button" class="btn" on:click=move |_| asking.set(Some(RevisionAction::Cancel))>"Cancel revision…"</button>
            })}
        </div>
        {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
        {move || asking.get().map(|action| {
            let (title, explain, confirm) = if action == RevisionAction::SendBack {
                ("Send the revision back", "The author gets it back as a draft, with your reason. Signatures given so far stay until its content changes.", "Send back")
            } else {
                ("Cancel the revision", "The revision is abandoned and kept on record with your reason.", "Cancel revision")
            };
            view! {
                <ReasonDialog title explain confirm reason
                    busy=Signal::derive(move || step.pending().get())
                    on_confirm=Callback::new(move |r: String| { step.dispatch((action, r)); })
                    on_close=Callback::new(move |()| asking.set(None)) />
            }
        })}
    }
}

/// The fields of a draft as text, for the form and the conflict comparison.
#[derive(Debug, Clone, Default, PartialEq)]
struct Fields {
    body: String,
    reason_for_change: String,
    change_summary: String,
    requested_by: String,
    effective_date: String,
    train_by: String,
    no_retraining: bool,
    no_retraining_reason: String,
}

impl Fields {
    fn of(c: &RevisionInput) -> Self {
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        Fields {
            body: c.body.clone(),
            reason_for_change: c.reason_for_change.clone(),
            change_summary: c.change_summary.clone(),
            requested_by: c.requested_by.clone(),
            effective_date: date(c.effective_date),
            train_by: date(c.train_by),
            no_retraining: c.no_retraining,
            no_retraining_reason: c.no_retraining_reason.clone(),
        }
    }

    /// The input, or the date fields that cannot be read.
    fn input(&self) -> Result<RevisionInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut date = |name: &str, s: &str| {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            let d = s.parse::<NaiveDate>().ok();
            if d.is_none() {
                e.add(name, shared::validation::INVALID);
            }
            d
        };
        let effective_date = date("effective_date", &self.effective_date);
        let train_by = date("train_by", &self.train_by);
        e.into_result()?;
        Ok(RevisionInput {
            body: self.body.clone(),
            reason_for_change: self.reason_for_change.clone(),
            change_summary: self.change_summary.clone(),
            requested_by: self.requested_by.clone(),
            effective_date,
            train_by,
            no_retraining: self.no_retraining,
            no_retraining_reason: self.no_retraining_reason.clone(),
        }
        .normalized())
    }

    /// Three-way merge: my changes from `base` applied to `theirs`; `None` when both changed
    /// one field differently.
    fn merge(base: &Fields, mine: &Fields, theirs: &Fields) -> Option<Fields> {
        fn pick<T: PartialEq + Clone>(b: &T, m: &T, t: &T) -> Option<T> {
            if m == b || m == t {
                Some(t.clone())
            } else if t == b {
                Some(m.clone())
            } else {
                None
            }
        }
        Some(Fields {
            body: pick(&base.body, &mine.body, &theirs.body)?,
            reason_for_change: pick(&base.reason_for_change, &mine.reason_for_change, &theirs.reason_for_change)?,
            change_summary: pick(&base.change_summary, &mine.change_summary, &theirs.change_summary)?,
            requested_by: pick(&base.requested_by, &mine.requested_by, &theirs.requested_by)?,
            effective_date: pick(&base.effective_date, &mine.effective_date, &theirs.effective_date)?,
            train_by: pick(&base.train_by, &mine.train_by, &theirs.train_by)?,
            no_retraining: pick(&base.no_retraining, &mine.no_retraining, &theirs.no_retraining)?,
            no_retraining_reason: pick(
                &base.no_retraining_reason,
                &mine.no_retraining_reason,
                &theirs.no_retraining_reason,
            )?,
        })
    }
}

/// The draft's editor: the text in Markdown and the change information, checked by the shared
/// rules before sending; "Save" at the version loaded (a 409 shows what someone else saved and
/// offers to combine), "Submit for review" saves first when something changed.
#[component]
fn Editor(r: Revision, may_submit: bool, refresh: Callback<()>, dirty: RwSignal<bool>) -> impl IntoView {
    let base = RwSignal::new(Fields::of(&r.content));
    let version = RwSignal::new(r.meta.version);
    let (id, seq, has_file) = (r.id, r.seq, r.file.is_some());
    let body = RwSignal::new(r.content.body.clone());
    let reason = RwSignal::new(r.content.reason_for_change.clone());
    let summary = RwSignal::new(r.content.change_summary.clone());
    let requested = RwSignal::new(r.content.requested_by.clone());
    let effective = RwSignal::new(base.get_untracked().effective_date);
    let train_by = RwSignal::new(base.get_untracked().train_by);
    let no_retraining = RwSignal::new(r.content.no_retraining);
    let no_retraining_reason = RwSignal::new(r.content.no_retraining_reason.clone());
    let current = move || Fields {
        body: body.get(),
        reason_for_change: reason.get(),
        change_summary: summary.get(),
        requested_by: requested.get(),
        effective_date: effective.get(),
        train_by: train_by.get(),
        no_retraining: no_retraining.get(),
        no_retraining_reason: no_retraining_reason.get(),
    };
    let show = move |f: &Fields| {
        body.set(f.body.clone());
        reason.set(f.reason_for_change.clone());
        summary.set(f.change_summary.clone());
        requested.set(f.requested_by.clone());
        effective.set(f.effective_date.clone());
        train_by.set(f.train_by.clone());
        no_retraining.set(f.no_retraining);
        no_retraining_reason.set(f.no_retraining_reason.clone());
    };
    Effect::new(move |_| dirty.set(current() != base.get()));
    on_cleanup(move || dirty.set(false));
    let state = RwSignal::new(Submitted::default());
    let conflict = RwSignal::new(None::<(String, Box<Revision>)>);
    let errors = field_errors(state);
    // Save (when changed), then submit when asked.
    let save = crate::data::action(move |submit: &bool| {
        let submit = *submit;
        let fields = current();
        async move {
            let mut v = version.get_untracked();
            if fields != base.get_untracked() {
                let input = match fields.input() {
                    Ok(input) => input,
                    Err(errors) => return state.set(Submitted { errors, message: Some((false, NOT_SAVED.into())) }),
                };
                match api::update_revision(id, v, &input).await {
                    Ok(saved) => {
                        v = saved.meta.version;
                        version.set(v);
                        base.set(Fields::of(&saved.content));
                        state.set(Submitted { errors: FieldErrors::new(), message: Some((true, "Saved.".into())) });
                    }
                    Err(ApiError::Status(409, b)) => {
                        match b.current.clone().and_then(|c| serde_json::from_value::<Revision>(c).ok()) {
                            Some(theirs) => conflict.set(Some((b.message, Box::new(theirs)))),
                            None => state.set(Submitted::failed(b.message)),
                        }
                        return;
                    }
                    Err(e) => return state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
                }
            }
            if submit {
                match api::move_revision(id, RevisionAction::Submit, v, "").await {
                    Ok(_) => refresh.run(()),
                    Err(e) => state.set(Submitted::from_result::<()>(Err(e), |_| String::new())),
                }
            } else {
                refresh.run(());
            }
        }
    });
    let go = move |submit: bool| {
        conflict.set(None);
        let rules = current().input().and_then(|i| i.validate(seq, has_file).map(|()| i));
        match rules {
            Ok(_) => {
                state.set(Submitted::default());
                save.dispatch(submit);
            }
            Err(errors) => state.set(Submitted { errors, message: Some((false, NOT_SAVED.into())) }),
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        go(false);
    };
    let take_theirs = Callback::new(move |()| {
        if let Some((_, theirs)) = conflict.get_untracked() {
            let f = Fields::of(&theirs.content);
            show(&f);
            base.set(f);
            version.set(theirs.meta.version);
            conflict.set(None);
        }
    });
    let keep_mine = Callback::new(move |()| {
        if let Some((_, theirs)) = conflict.get_untracked() {
            base.set(Fields::of(&theirs.content));
            version.set(theirs.meta.version);
            go(false);
        }
    });
    let merge = Callback::new(move |()| {
        if let Some((_, theirs)) = conflict.get_untracked() {
            let t = Fields::of(&theirs.content);
            if let Some(m) = Fields::merge(&base.get_untracked(), &current(), &t) {
                show(&m);
                base.set(t);
                version.set(theirs.meta.version);
                go(false);
            }
        }
    });
    let later = seq > 1;
    view! {
        {move || conflict.get().map(|(message, theirs)| {
            let (b, m, t) = (base.get_untracked(), current(), Fields::of(&theirs.content));
            let row = |label, base: &String, mine: &String, theirs: &String| ComparedField {
                label, base: base.clone(), mine: mine.clone(), theirs: theirs.clone(),
            };
            let fields = vec![
                row("Text", &b.body, &m.body, &t.body),
                row("Reason for change", &b.reason_for_change, &m.reason_for_change, &t.reason_for_change),
                row("What changed", &b.change_summary, &m.change_summary, &t.change_summary),
                row("Asked for by", &b.requested_by, &m.requested_by, &t.requested_by),
                row("Effective date", &b.effective_date, &m.effective_date, &t.effective_date),
                row("Train by", &b.train_by, &m.train_by, &t.train_by),
            ];
            let combinable = Fields::merge(&b, &m, &t).is_some();
            view! {
                <ConflictPanel message fields base_version=version.get_untracked() their_version=theirs.meta.version
                    on_merge=combinable.then_some(merge) on_keep_mine=keep_mine on_take_theirs=take_theirs />
            }
        })}
        <form class="form revision-form" on:submit=on_submit novalidate aria-label="Draft">
            {outcome_view(state)}
            <div class="field" class:has-error=move || errors.with(|e| e.get("body").is_some())>
                <label for="field-body">"Text (Markdown)" <span class="req" aria-hidden="true">" *"</span></label>
                <textarea id="field-body" name="body" rows="18" class="doc-editor" aria-describedby="field-body-error"
                    prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                <crate::components::field::FieldError name="body" errors id="field-body-error".to_string() />
            </div>
            <TextField name="reason_for_change" label="Reason for change" value=reason errors multiline=true required=later />
            <TextField name="change_summary" label="What changed" value=summary errors multiline=true required=later />
            <TextField name="requested_by" label="Asked for by (change request, CAPA, periodic review)" value=requested errors />
            <TextField name="effective_date" label="Effective date (empty: at approval)" value=effective errors kind="date" />
            <TextField name="train_by" label="Train by" value=train_by errors kind="date" />
            <label class="check">
                <input type="checkbox" name="no_retraining" prop:checked=move || no_retraining.get()
                    on:change=move |ev| no_retraining.set(event_target_checked(&ev)) />
                "Minor change: no retraining needed"
            </label>
            <Show when=move || no_retraining.get()>
                <TextField name="no_retraining_reason" label="Why no retraining is needed" value=no_retraining_reason errors required=true />
            </Show>
            <Attachment r=r.clone() dirty refresh />
            <div class="actions">
                <button type="submit" class="btn" disabled=move || save.pending().get()>"Save draft"</button>
                {may_submit.then(|| view! {
                    <button type="button" class="btn btn-primary" disabled=move || save.pending().get()
                        on:click=move |_| go(true)>"Submit for review"</button>
                })}
            </div>
        </form>
    }
}

/// The attached file as a download link, with its size and the SHA-256 a signature binds.
#[component]
pub(super) fn FileLink(r: Revision) -> impl IntoView {
    r.file.map(|f| {
        let kb = f.size.div_ceil(1024);
        view! {
            <p class="doc-file" data-testid="doc-file">
                "Attached file: "
                <a href=format!("/api/v1/document-revisions/{}/file", r.id) download=f.name.clone()>{f.name.clone()}</a>
                {format!(" ({kb} KB, {}) · SHA-256 ", f.media_type)}<code class="hash">{f.sha256.clone()}</code>
            </p>
        }
    })
}

/// The draft's file: the one attached (if any) and a picker that attaches or replaces it at the
/// draft's version (the text's unsaved changes are saved first, by the person).
#[component]
fn Attachment(r: Revision, dirty: RwSignal<bool>, refresh: Callback<()>) -> impl IntoView {
    let (id, version) = (r.id, r.meta.version);
    let failure = RwSignal::new(None::<String>);
    let input = NodeRef::<leptos::html::Input>::new();
    let upload = crate::data::action(move |file: &send_wrapper::SendWrapper<web_sys::File>| {
        let file = file.clone();
        async move {
            match api::attach_file(id, version, &file).await {
                Ok(_) => refresh.run(()),
                Err(ApiError::Status(_, body)) => {
                    let named = crate::components::field::error_lines(&body.field_errors);
                    failure.set(Some(if named.is_empty() {
                        body.message
                    } else {
                        format!("{} {}", body.message, named.join("; "))
                    }));
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
        }
    });
    let on_change = move |_| {
        failure.set(None);
        let Some(file) = input.get().and_then(|i| i.files()).and_then(|files| files.get(0)) else { return };
        upload.dispatch(send_wrapper::SendWrapper::new(file));
    };
    view! {
        <div class="field">
            <FileLink r=r.clone() />
            <label for="field-file">{if r.file.is_some() { "Replace the attached file" } else { "Attach a file (PDF, Word, Excel, PowerPoint, PNG, JPEG, text; up to 20 MB)" }}</label>
            <input id="field-file" type="file" name="file" node_ref=input on:change=on_change
                accept=shared::document::MEDIA_TYPES.join(",")
                disabled=move || dirty.get() || upload.pending().get() aria-describedby="field-file-error" />
            {move || dirty.get().then(|| view! { <p class="muted">"Save the draft before attaching a file."</p> })}
            <p class="field-error" id="field-file-error" data-field="file" role="alert">{move || failure.get()}</p>
        </div>
    }
}

/// A revision and its print view, a chunk of their own (see [`crate::area`]).
pub mod chunk {
    crate::area!(document_revision, Page { Revision => super::RevisionPage, Print => super::super::print::PrintPage });
}
