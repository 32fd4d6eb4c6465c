//! Caliper's shared domain crate: typed records, request/response types, the JSON error
//! envelope and every rule that both the browser and the server need. It performs no I/O and
//! compiles for `wasm32-unknown-unknown` as well as for the server.
//!
//! A rule lives here once: the app's forms call the same validation function that the
//! server's handlers call, so the browser shows exactly the error the API would return.

pub mod audit;
pub mod auth;
pub mod csv;
pub mod document;
pub mod error;
pub mod events;
pub mod fmea;
pub mod kpi;
pub mod org;
pub mod quality;
pub mod register;
pub mod risk;
pub mod signature;
pub mod training;
pub mod validation;
pub mod worksheet;

pub use error::{ErrorBody, FieldErrors};

/// A list response. Wrapped in an object so that pagination fields can be added later without
/// breaking clients.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct List<T> {
    /// The records, in the order the endpoint documents.
    pub items: Vec<T>,
}
