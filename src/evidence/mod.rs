//! The evidence of what happened: the audit trail's events, the Merkle log that makes them
//! tamper-evident (checkpoints, receipts, verification), and why a request ended.

pub mod audit;
pub mod log;
pub mod reason;
