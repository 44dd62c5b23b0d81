//! SeaORM entities of Transfer Desk: one module per table, no logic.

pub mod document;
pub mod domain;
pub mod request;
pub mod request_event;
