//! Every integration test in one crate, a module per story: the service is linked once
//! instead of once per file. `cargo test` runs them all; `cargo test --test it review::`
//! runs one story.

mod common;

mod accounts;
mod audit_log;
mod book;
mod browser;
mod cli;
mod decisions;
mod deploy;
mod eid;
mod eid_flow;
mod eid_holder;
mod eid_sessions;
mod eid_status;
mod epp;
mod hostile;
mod instances;
mod intake;
mod keys;
mod languages;
mod limits;
mod mail;
mod mutated_images;
mod notices;
mod outage;
mod passkeys;
mod privacy;
mod reading_memory;
mod review;
mod side_doors;
mod staff_security;
mod stores;
mod zones;
