//! Pages, per domain area.

pub mod admin;
pub mod audit;
pub mod processes;
