//! What a form shows after submitting, and the one way forms run the shared rules first.

use leptos::prelude::*;
use shared::FieldErrors;

use crate::api::ApiError;
use crate::components::status::NOT_SAVED;

/// What a form shows after submitting: field errors (from the shared rules or the server's
/// 422) or a message (`true` when it reports success).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submitted {
    /// Errors per field.
    pub errors: FieldErrors,
    /// The outcome line.
    pub message: Option<(bool, String)>,
}

impl Submitted {
    /// The outcome of a call: `saved` words a success; an error shows the server's message and
    /// its field errors.
    pub fn from_result<T>(result: Result<T, ApiError>, saved: impl FnOnce(T) -> String) -> Self {
        match result {
            Ok(record) => Submitted { errors: FieldErrors::new(), message: Some((true, saved(record))) },
            Err(ApiError::Status(_, body)) => {
                Submitted { errors: body.field_errors, message: Some((false, body.message)) }
            }
            Err(e) => Submitted { errors: FieldErrors::new(), message: Some((false, e.to_string())) },
        }
    }

    /// A failure with `message` only.
    pub fn failed(message: impl Into<String>) -> Self {
        Submitted { errors: FieldErrors::new(), message: Some((false, message.into())) }
    }
}

/// The shared rules, run before sending: true when the input may be sent; otherwise the
/// errors are shown next to their fields.
pub fn passes(state: RwSignal<Submitted>, rules: Result<(), FieldErrors>) -> bool {
    match rules {
        Ok(()) => true,
        Err(errors) => {
            state.set(Submitted { errors, message: Some((false, NOT_SAVED.into())) });
            false
        }
    }
}

/// The field errors of `state`, for the fields.
pub fn field_errors(state: RwSignal<Submitted>) -> Signal<FieldErrors> {
    Signal::derive(move || state.with(|s| s.errors.clone()))
}

/// The outcome line of a form.
pub fn outcome_view(state: RwSignal<Submitted>) -> impl IntoView {
    move || {
        state.with(|s| s.message.clone()).map(|(ok, text)| {
            if ok {
                view! { <div class="alert alert-ok" role="status">{text}</div> }.into_any()
            } else {
                view! { <div class="alert alert-error" role="alert">{text}</div> }.into_any()
            }
        })
    }
}
