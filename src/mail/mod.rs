//! Mail to requesters, holders, registrants and staff, through an outbox: the workflow adds a
//! mail in the same transaction as the change it reports, and a background job sends it
//! over SMTP with retries. Without SMTP, mails stay in the outbox for admins to read.

mod body;
mod compose;
mod outbox;
mod quote;

pub use body::LINK_MARKER;
pub use compose::{Approved, Mail};
pub use outbox::{deliver_due, enqueue, purge_old, recent, DeliveryReport, Queued};
pub use quote::quoted;

use sea_orm::DatabaseConnection;

use crate::accounts::passkeys::PasskeyChange;
use crate::platform::config::Settings;
use crate::platform::keyring::KeyRing;

/// What queueing and sending mail needs of the running service: the database holding the
/// outbox, the keys that seal its links, the mail settings, and the sender's wake-up call.
#[derive(Clone, Copy)]
pub struct Mailer<'a> {
    pub db: &'a DatabaseConnection,
    pub keys: &'a KeyRing,
    pub settings: &'a Settings,
    pub wake: &'a tokio::sync::Notify,
}

/// Tells the reviewer (where their address is known) and the staff address that a passkey
/// was added to or removed from the reviewer's account.
pub async fn tell_passkey_change(
    mailer: Mailer<'_>,
    change: &PasskeyChange,
) -> Result<(), sea_orm::DbErr> {
    let mut recipients = vec![];
    for address in [&change.reviewer.email, &mailer.settings.staff_mail]
        .into_iter()
        .flatten()
    {
        if !recipients.contains(address) {
            recipients.push(address.clone());
        }
    }
    for recipient in &recipients {
        let mail = Mail::PasskeyChanged {
            reviewer: change.reviewer.name.clone(),
            what: change.what.clone(),
            by: change.by.clone(),
            at: change.at,
        };
        enqueue(
            mailer.db,
            mailer.keys,
            mailer.settings.smtp_url.is_some(),
            None,
            recipient,
            crate::platform::i18n::Lang::En,
            mail,
            change.at,
        )
        .await?;
    }
    if !recipients.is_empty() {
        mailer.wake.notify_one();
    }
    Ok(())
}
