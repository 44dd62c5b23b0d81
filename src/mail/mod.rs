//! Mail to requesters, holders, registrants and staff, through an outbox: the workflow adds a
//! mail in the same transaction as the change it reports, and a background job sends it
//! over SMTP with retries. Without SMTP, mails stay in the outbox for admins to read.

mod compose;
mod outbox;

pub use compose::{quoted, Approved, Mail, LINK_MARKER};
pub use outbox::{deliver_due, enqueue, purge_old, recent, DeliveryReport, Queued};
