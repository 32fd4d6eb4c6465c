//! The risk register, its heatmap, the risk matrices, and each user's work list.

pub mod form;
mod inbox;
pub mod matrices;
pub mod register;
pub mod work;

// Three chunks: the register (here), a risk's record ([`form::chunk`]), and the risk matrices
// ([`matrices::chunk`]).
crate::area!(risks, Page { Register => register::RiskRegister });
