//! Pages, per domain area.

pub mod admin;
pub mod audit;
pub mod dashboard;
pub mod documents;
pub mod fmea;
pub mod processes;
pub mod quality;
pub mod risks;
pub mod security;
pub mod sign_in;
pub mod tokens;
pub mod training;
pub mod users;
