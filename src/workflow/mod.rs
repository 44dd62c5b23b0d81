//! The request workflow: states and transitions, in plain Rust with no HTTP in it.
//!
//! `state` holds the state machine; `submit` and `tracking` are the requester's side;
//! `queue` (claims), `view` (what a reviewer sees) and `decide` the reviewer's; `shred`
//! destroys documents and `sweep` runs the background jobs. `input` holds what people send
//! (uploads, typed values, field problems); `notify` adds a request's mails to the outbox.
//! This file only names the rooms and what the rest of the service takes from them.

pub mod close;
pub mod decide;
pub(crate) mod documents;
pub mod eid;
pub mod expiry;
pub mod holder;
mod ids;
mod input;
pub mod jobs;
pub mod limits;
pub mod links;
pub mod messages;
pub mod notices;
mod notify;
pub mod objection;
pub mod queue;
pub mod receipt;
pub mod registry_refusal;
mod review_error;
pub mod rules;
pub mod services;
pub mod shred;
pub mod state;
mod submit;
pub mod sweep;
mod tracking;
pub mod view;
pub mod zones;

#[cfg(test)]
pub(crate) mod testing;

pub use crate::evidence::reason::{self, Reason, REJECTION_REASONS};
pub use decide::provide_document;
pub use entities::enums::{
    DocumentKind, IdDocumentType, RequestKind, RequestState, RequesterRelation, ZoneStatus,
};
pub use ids::{short_id, DocumentId, RequestId};
pub use input::{
    parse, Field, FieldErrors, FieldProblem, SubmissionInput, SubmitError, Submitted, TypedValues,
    Upload, HOLDER_LINK_DAYS, REQUESTER_DOCUMENTS,
};
pub use limits::address_over_limit;
pub use review_error::ReviewError;
pub use state::Event;
pub use submit::{submit, Offers};
pub use tracking::{find_for_requester, first_tracking_view, TimelineEntry, TrackingView};
