//! Pages, per domain area.

pub mod admin;
pub mod processes;
