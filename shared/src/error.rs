//! The JSON error envelope every API error uses (DESIGN.md, "API conventions"):
//! `{"message": "...", "field_errors": {"field": ["code", ...]}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Field name → list of error codes (see [`crate::validation::describe`] for their text).
/// A `BTreeMap` so that the serialised order is stable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `code` against `field`.
    pub fn add(&mut self, field: impl Into<String>, code: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(code.into());
    }

    /// True when no field has an error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The codes recorded against `field`, if any.
    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// `Ok(())` when empty, otherwise `Err(self)`: the end of every validation function.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A sentence a person can read.
    pub message: String,
    /// Per-field error codes; empty when the error is not about a field.
    #[serde(default)]
    pub field_errors: FieldErrors,
    /// On 409 (version conflict): the record as it is now, so the client can show both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub current: Option<serde_json::Value>,
    /// On 500: the request id to quote when reporting the problem (details are in the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorBody {
    /// An error with a message and nothing else.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), field_errors: FieldErrors::new(), current: None, request_id: None }
    }
}
