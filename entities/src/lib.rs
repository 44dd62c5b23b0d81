//! SeaORM entities of Transfer Desk: one module per table, no logic.

pub mod approval;
pub mod audit_checkpoint;
pub mod audit_event;
pub mod audit_node;
pub mod decision;
pub mod deletion;
pub mod document;
pub mod document_blob;
pub mod domain;
pub mod eid_proof;
pub mod eid_session;
pub mod eid_verifier_key;
pub mod enums;
pub mod incident_notice;
pub mod log_key;
pub mod login_throttle;
pub mod outbox_mail;
pub mod passkey;
pub mod passkey_ceremony;
pub mod request;
pub mod request_event;
pub mod reviewer;
pub mod session;
pub mod setup_token;
pub mod transfer_code;
