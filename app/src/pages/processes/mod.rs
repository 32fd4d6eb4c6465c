//! Processes (ISO 9001 4.4): the list, and the create/edit form.

pub mod edit;
pub mod form;
pub mod list;
