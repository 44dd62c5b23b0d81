//! The background jobs, started once the service listens: the sweeper (expiry, interrupted
//! issuing, code expiry, nameserver hand-offs, file deletion, orphans, old personal data),
//! the mail sender, the zone reader, and the incident notices' refresher. Each is a plain
//! loop over a workflow function.

use std::fmt::{Debug, Display};
use std::time::Duration;

use tokio::sync::Notify;

use crate::workflow::services::Services;

/// How often the sweeper runs (after its pass at start-up).
pub const SWEEP_EVERY: Duration = Duration::from_secs(300);

/// Starts every job on the runtime.
pub fn start(services: &Services) {
    tokio::spawn(sweeper(services.clone()));
    tokio::spawn(notice_refresher(services.clone()));
    tokio::spawn(mail_sender(services.clone()));
    tokio::spawn(zone_reader(services.clone()));
}

/// Reads identity documents' machine-readable zones: at once when documents came in, and
/// every minute for what other instances received or a restart interrupted.
async fn zone_reader(services: Services) {
    if services.settings.ocr_command.is_none() {
        tracing::info!("no OCR program (TRANSFER_DESK_OCR_COMMAND): document zones are not read");
    }
    loop {
        let round = crate::workflow::zones::read_waiting(&services, chrono::Utc::now()).await;
        log_round("zones", round, "cannot read document zones");
        until_woken(&services.zone_wake, Duration::from_secs(60)).await;
    }
}

/// Expiry, the deletion outbox and orphaned files: at start-up, then every five minutes.
async fn sweeper(services: Services) {
    loop {
        let report = crate::workflow::sweep::sweep(&services, chrono::Utc::now()).await;
        if report.left_to_another_instance {
            tracing::debug!("another instance is sweeping the database");
        } else if report != Default::default() {
            tracing::info!(?report, "sweep");
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

/// Sends the outbox: at once when the workflow adds a mail, and every 20 seconds for the
/// retries that are due (and what other instances added).
async fn mail_sender(services: Services) {
    if services.settings.smtp_url.is_none() {
        tracing::info!("no TRANSFER_DESK_SMTP_URL: mails stay in the outbox for admins to read");
        return;
    }
    if !services.settings.send_mail_in_background {
        return;
    }
    loop {
        let round = crate::mail::deliver_due(services.mailer(), chrono::Utc::now()).await;
        log_round("mail", round, "cannot read the outbox");
        until_woken(&services.mail_wake, Duration::from_secs(20)).await;
    }
}

/// Reloads the incident notices every minute, so that what another instance posted shows
/// here too.
async fn notice_refresher(services: Services) {
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        if let Err(error) = services
            .notices
            .refresh(&services.db, chrono::Utc::now())
            .await
        {
            tracing::warn!(%error, "cannot reload the incident notices; will retry");
        }
    }
}

/// Logs what one round did, when it did anything, or why it failed (`failing`).
fn log_round<R: Debug + Default + PartialEq, E: Display>(
    job: &str,
    round: Result<R, E>,
    failing: &str,
) {
    match round {
        Ok(report) if report != R::default() => tracing::info!(?report, "{job}"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "{failing}; will retry"),
    }
}

/// Waits for `period`, or less when the workflow wakes the job.
async fn until_woken(wake: &Notify, period: Duration) {
    let _ = tokio::time::timeout(period, wake.notified()).await;
}
