//! Form fields with their label and inline errors (from the shared validation or the server).

use leptos::html::Input;
use leptos::prelude::*;
use shared::FieldErrors;
use shared::validation::describe;

/// Error code of the app's own: a confirmation does not repeat the value it confirms.
pub const MISMATCH: &str = "mismatch";

/// The error texts for `field` in `errors`.
fn messages(errors: &FieldErrors, field: &str) -> Vec<&'static str> {
    let text = |c: &String| if c == MISMATCH { "The two passwords do not match." } else { describe(c) };
    errors.get(field).map(|codes| codes.iter().map(text).collect()).unwrap_or_default()
}

/// Every field's errors as one line each (`field: text, text`), for compact forms that list
/// them together.
pub fn error_lines(errors: &FieldErrors) -> Vec<String> {
    errors.0.keys().map(|field| format!("{field}: {}", messages(errors, field).join(" "))).collect()
}

/// A labelled text input bound to `value`, showing `field`'s errors beneath it.
#[component]
pub fn TextField(
    /// The field's name in the shared input type (also its id and `name`).
    name: &'static str,
    /// Its label.
    label: &'static str,
    /// Its value.
    value: RwSignal<String>,
    /// Errors to show.
    errors: Signal<FieldErrors>,
    /// Multi-line.
    #[prop(optional)]
    multiline: bool,
    /// Marked as required.
    #[prop(optional)]
    required: bool,
    /// The input's `type` (`text`, `password`, `email`).
    #[prop(default = "text")]
    kind: &'static str,
    /// The input's `autocomplete` hint (e.g. `username`, `current-password`, `new-password`).
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    /// Shown but not editable.
    #[prop(optional)]
    readonly: bool,
    /// The single-line input element, e.g. to focus it.
    #[prop(optional)]
    node_ref: NodeRef<Input>,
    /// Which form on the page this field belongs to, when two forms have a field of the same
    /// name (keeps element ids unique, so each label names its own input).
    #[prop(optional)]
    form: &'static str,
) -> impl IntoView {
    let id = if form.is_empty() { format!("field-{name}") } else { format!("{form}-field-{name}") };
    let error_id = format!("{id}-error");
    let has_error = move || errors.with(|e| e.get(name).is_some());
    let input = if multiline {
        view! {
            <textarea
                id=id.clone()
                name=name
                rows="4"
                aria-invalid=move || has_error().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=id.clone()
                name=name
                type=kind
                node_ref=node_ref
                autocomplete=autocomplete
                readonly=readonly
                aria-invalid=move || has_error().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        }
        .into_any()
    };
    view! {
        <div class="field" class:has-error=has_error>
            <label for=id>{label}{required.then_some(view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            {input}
            <FieldError name=name errors=errors id=error_id />
        </div>
    }
}

/// A labelled `<select>` bound to `value` (the chosen option's value, empty for none), showing
/// `name`'s errors beneath it. `children` are the options after the empty one.
#[component]
pub fn SelectField(
    /// The field's name in the shared input type (also its id and `name`).
    name: &'static str,
    /// Its label.
    label: &'static str,
    /// The chosen value.
    value: RwSignal<String>,
    /// Errors to show.
    errors: Signal<FieldErrors>,
    /// The text of the empty option (e.g. "Choose a department…").
    empty: &'static str,
    /// Marked as required.
    #[prop(optional)]
    required: bool,
    /// The options.
    children: Children,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:has-error=move || errors.with(|e| e.get(name).is_some())>
            <label for=id.clone()>{label}{required.then_some(view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            <select
                id=id
                name=name
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                <option value="">{empty}</option>
                {children()}
            </select>
            <FieldError name=name errors=errors id=error_id />
        </div>
    }
}

/// The inline error list of one field (empty when it has none).
#[component]
pub fn FieldError(
    /// The field.
    name: &'static str,
    /// All errors.
    errors: Signal<FieldErrors>,
    /// Element id, for `aria-describedby`.
    id: String,
) -> impl IntoView {
    view! {
        <p class="field-error" id=id data-field=name role="alert">
            {move || errors.with(|e| messages(e, name).join(" "))}
        </p>
    }
}
