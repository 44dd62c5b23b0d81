//! Mail: the SMTP server (without one, mails stay in the outbox for admins to read), the
//! sender, and the staff's address.

use super::{invalid, ConfigError, Secret, Settings, Vars};

pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    settings.smtp_url = var("TRANSFER_DESK_SMTP_URL").map(Secret::new);
    if let Some(from) = var("TRANSFER_DESK_MAIL_FROM") {
        from.parse::<lettre::message::Mailbox>().map_err(|_| {
            invalid(
                "TRANSFER_DESK_MAIL_FROM must be an address, e.g. Transfer Desk <desk@example.net>",
            )
        })?;
        settings.mail_from = from;
    }
    if let Some(staff) = var("TRANSFER_DESK_STAFF_MAIL") {
        staff
            .parse::<lettre::Address>()
            .map_err(|_| invalid("TRANSFER_DESK_STAFF_MAIL must be an email address"))?;
        settings.staff_mail = Some(staff);
    }
    Ok(())
}
