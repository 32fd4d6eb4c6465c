//! The risk register, its heatmap, the risk matrices, and each user's work list.

pub mod form;
mod inbox;
pub mod matrices;
pub mod register;
pub mod work;

crate::area!(risks, Page {
    Register => register::RiskRegister,
    New => form::RiskNew,
    Risk => form::RiskEdit,
    Matrices => matrices::MatrixList,
    Matrix => matrices::MatrixRevisionPage,
});
