//! Electronic signatures (21 CFR 11.50, 11.200): how a signature is shown, and the panel that
//! lists a record's signatures and signs it with the password entered again.

use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use shared::FieldErrors;
use shared::signature::{AGREEMENT, Meaning, SignInput, Signature, sign_permission};

use crate::api::{self, ApiError};
use crate::components::field::{FieldError, TextField};
use crate::components::status::{format_utc_seconds, loaded};
use crate::session::{can, session};

/// `t` in the browser's time zone and locale.
pub fn local_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t.timestamp_millis() as f64));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

/// A signature's manifestation (11.50): printed name, meaning, date and time with zone, and
/// whether the record changed after signing.
#[component]
pub fn SignatureManifestation(
    /// The signature.
    signature: Signature,
    /// One line for a table cell: without the version.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let when = format_utc_seconds(&signature.signed_at);
    let datetime = format!("{}Z", when.replace(' ', "T"));
    view! {
        <div class="signature" class:superseded=signature.superseded class:compact=compact role="note" aria-label="Electronic signature">
            <span class="sig-name">{signature.signer_name}</span>
            " · " <strong class="sig-meaning">{signature.meaning.label()}</strong>
            " · " <time datetime=datetime>{when} " UTC"</time>
            <span class="sig-local muted">" (" {local_time(&signature.signed_at)} " local time)"</span>
            {(!compact).then(|| view! {
                <span class="sig-version muted">" · version " {signature.record_version}</span>
            })}
            {signature.superseded.then(|| view! {
                <span class="badge sig sig-superseded">"Superseded — the record changed after signing"</span>
            })}
        </div>
    }
}

/// A record's signatures of one meaning, newest first, and the "Sign…" button for those allowed
/// to sign.
#[component]
pub fn SignaturePanel(
    /// Kind of record, e.g. `process` (see `shared::signature::SIGNABLE`).
    record_type: &'static str,
    /// Which record.
    record_id: i64,
    /// The record's current version (the one a new signature signs); the list reloads when it
    /// changes.
    #[prop(into)]
    version: Signal<i64>,
    /// What the signature means.
    meaning: Meaning,
    /// What is signed, in words (e.g. "the process owner's assignment of CNC machining").
    #[prop(into)]
    what: Signal<String>,
    /// Shown while no signature covers the current version (e.g. "Awaiting approval").
    awaiting: &'static str,
    /// Called with each new signature.
    #[prop(optional, into)]
    on_signed: Option<Callback<Signature>>,
    /// For signatures that carry the signer's rationale (`shared::signature::WITH_RATIONALE`):
    /// whether it is required for the record as it is now.
    #[prop(optional, into)]
    rationale: Option<Signal<bool>>,
    /// Whether the record takes this signature now (e.g. a CAPA's plan only while it waits for
    /// approval); without it, whenever the user may sign.
    #[prop(optional, into)]
    open_to_signing: Option<Signal<bool>>,
    /// The signing dialog as a part of the page (loaded when first opened, prefetched when the
    /// pointer or the focus reaches "Sign…"): `(page__sign::view, page__sign::prefetch)` of the
    /// page's `crate::part!(page__sign, sign_dialog(args: SignArgs))`.
    dialog: SignPart,
) -> impl IntoView {
    let (dialog, prefetch_dialog) = dialog;
    let s = session();
    let signatures = crate::data::resource(move || {
        version.track();
        api::list_signatures(record_type, Some(record_id))
    });
    let open = RwSignal::new(false);
    let may_sign = move || {
        open_to_signing.is_none_or(|o| o.get()) && sign_permission(record_type, meaning).is_some_and(|p| can(s, &[p]))
    };
    let signed = Callback::new(move |signature: Signature| {
        open.set(false);
        signatures.refetch();
        s.update(|s| {
            if let Some(s) = s {
                s.esign_agreed = true;
                s.signed_in_session = true;
            }
        });
        if let Some(f) = on_signed {
            f.run(signature);
        }
    });
    view! {
        <div class="signatures">
            {loaded(signatures, "the signatures", move |list| {
                let current = list.iter().any(|sig| sig.meaning == meaning && !sig.superseded);
                let list: Vec<_> = list.into_iter().filter(|sig| sig.meaning == meaning).collect();
                view! {
                    {(!current).then(|| view! { <p class="sig-status" data-testid="signature-status">{awaiting}</p> })}
                    {list.into_iter().map(|signature| view! { <SignatureManifestation signature /> }).collect_view()}
                }
            })}
            <div class="actions" hidden=move || !may_sign()>
                <button type="button" class="btn btn-primary" on:pointerenter=move |_| prefetch_dialog()
                    on:focus=move |_| prefetch_dialog() on:click=move |_| open.set(true)>"Sign…"</button>
            </div>
            {move || open.get().then(|| dialog(SignArgs {
                record_type,
                record_id,
                version: version.get_untracked(),
                meaning,
                what: what.get_untracked(),
                rationale: rationale.map(|r| r.get_untracked()),
                on_signed: signed,
                on_close: Callback::new(move |()| open.set(false)),
            }))}
        </div>
    }
}

/// A page's signing dialog as a part: its view and its prefetch.
pub type SignPart = (fn(SignArgs) -> AnyView, fn());

/// What the signing dialog signs, and what it calls back.
#[derive(Clone)]
pub struct SignArgs {
    pub record_type: &'static str,
    pub record_id: i64,
    pub version: i64,
    pub meaning: Meaning,
    pub what: String,
    pub rationale: Option<bool>,
    pub on_signed: Callback<Signature>,
    pub on_close: Callback<()>,
}

/// [`SignDialog`], for a page's part (`crate::part!(page__sign, sign_dialog(args: SignArgs))`).
pub fn sign_dialog(args: SignArgs) -> impl IntoView {
    let SignArgs { record_type, record_id, version, meaning, what, rationale, on_signed, on_close } = args;
    view! { <SignDialog record_type record_id version meaning what rationale on_signed on_close /> }
}

/// The electronic-signature agreement, asked before a person's first signature (11.100(c)).
#[component]
pub fn Agreement(accept: RwSignal<bool>, errors: Signal<FieldErrors>) -> impl IntoView {
    view! {
        <div class="agreement" class:has-error=move || errors.with(|e| e.get("accept_agreement").is_some())>
            <p>{AGREEMENT}</p>
            <label class="check">
                <input
                    type="checkbox"
                    name="accept_agreement"
                    aria-describedby="field-accept_agreement-error"
                    prop:checked=move || accept.get()
                    on:change=move |ev| accept.set(event_target_checked(&ev))
                />
                "I accept the electronic-signature agreement"
            </label>
            <FieldError name="accept_agreement" errors id="field-accept_agreement-error".to_string() />
        </div>
    }
}

/// The signing dialog: what is signed and what it means, the agreement before a first
/// signature, and the password entered again.
#[component]
pub fn SignDialog(
    record_type: &'static str,
    record_id: i64,
    version: i64,
    meaning: Meaning,
    what: String,
    /// `Some(required)` when the signature carries a rationale.
    rationale: Option<bool>,
    on_signed: Callback<Signature>,
    on_close: Callback<()>,
) -> impl IntoView {
    let s = session();
    let (name, username, agreed, first) = s
        .with_untracked(|s| {
            s.as_ref()
                .map(|s| (s.user.full_name.clone(), s.user.username.clone(), s.esign_agreed, !s.signed_in_session))
        })
        .unwrap_or_default();
    let signer = format!("{name} ({username})");
    // The session's first signature takes every component: the username typed too.
    let typed_username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let accept = RwSignal::new(false);
    let statement = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let sign = crate::data::action(move |input: &SignInput| {
        let input = input.clone();
        async move {
            match api::sign(&input).await {
                Ok(signature) => on_signed.run(signature),
                Err(e) => {
                    password.set(String::new());
                    if let ApiError::Status(_, body) = &e {
                        errors.set(body.field_errors.clone());
                    }
                    failure.set(Some(e.to_string()));
                }
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        let input = SignInput {
            record_type: record_type.to_string(),
            record_id,
            record_version: version,
            meaning,
            password: password.get(),
            username: first.then(|| typed_username.get().trim().to_string()),
            accept_agreement: accept.get(),
            rationale: rationale.map(|_| statement.get()),
        };
        let mut problems = input.validate(first).err().unwrap_or_default();
        if rationale == Some(true) && statement.get().trim().is_empty() {
            problems.add("rationale", shared::register::RATIONALE_REQUIRED);
        }
        match problems.into_result() {
            Ok(()) => {
                errors.set(FieldErrors::new());
                sign.dispatch(input);
            }
            Err(e) => errors.set(e),
        }
    };
    // The first field (the username, or the password) takes the focus when the dialog opens;
    // Escape closes it.
    let focus = NodeRef::<Input>::new();
    focus.on_load(|input| {
        let _ = input.focus();
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    };
    let label = meaning.label();
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="sign-title" on:keydown=on_keydown>
                <form class="form" on:submit=on_submit novalidate>
                    <h2 id="sign-title">"Sign: " {label}</h2>
                    <p>
                        "You are signing " <strong>{what}</strong> " (version " {version} ") with the meaning "
                        <strong>"“" {label} "”"</strong> ", as " <strong>{signer}</strong> "."
                    </p>
                    {(!agreed).then(|| view! { <Agreement accept errors=Signal::from(errors) /> })}
                    {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
                    {rationale.map(|required| view! {
                        <TextField
                            name="rationale"
                            label=if required { "Benefit–risk rationale" } else { "Rationale (optional)" }
                            value=statement
                            errors=Signal::from(errors)
                            multiline=true
                            required
                        />
                    })}
                    {first.then(|| view! {
                        <p>"This is your first signature since you signed in: enter your username and your password."</p>
                        <TextField
                            name="username"
                            label="Username"
                            value=typed_username
                            errors=Signal::from(errors)
                            autocomplete="username"
                            required=true
                            node_ref=focus
                        />
                    })}
                    <TextField
                        name="password"
                        label="Password"
                        value=password
                        errors=Signal::from(errors)
                        kind="password"
                        autocomplete="current-password"
                        required=true
                        node_ref=if first { NodeRef::new() } else { focus }
                    />
                    <div class="actions">
                        <button type="button" class="btn" on:click=move |_| on_close.run(())>"Cancel"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || sign.pending().get()>"Sign"</button>
                    </div>
                </form>
            </div>
        </div>
    }
}
