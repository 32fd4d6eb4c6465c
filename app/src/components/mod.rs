//! Reusable components.

pub mod conflict;
pub mod field;
pub mod history;
pub mod not_available;
pub mod status;
