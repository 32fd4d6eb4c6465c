//! The risk register, its heatmap, the risk matrices, and each user's work list.

pub mod form;
pub mod matrices;
pub mod register;
pub mod work;
