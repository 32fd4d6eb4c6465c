//! Reusable components.

pub mod conflict;
pub mod field;
pub mod form;
pub mod heatmap;
pub mod history;
pub mod not_available;
pub mod signature;
pub mod status;
