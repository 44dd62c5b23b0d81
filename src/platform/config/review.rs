//! How requests are decided and how long they are kept: approvals required, reviewers'
//! passkeys, the registrant's window to object, and the days before undecided requests
//! expire and decided ones keep only their evidence.

use super::values::number;
use super::{invalid, ConfigError, Settings, Vars};

/// How many different reviewers must approve a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalPolicy {
    /// Two when any fraud signal fired, one otherwise.
    FourEyesOnSignals,
    Fixed(u8),
}
impl ApprovalPolicy {
    pub fn required(self, signals_fired: usize) -> usize {
        match self {
            Self::FourEyesOnSignals if signals_fired > 0 => 2,
            Self::FourEyesOnSignals => 1,
            Self::Fixed(n) => usize::from(n.max(1)),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::FourEyesOnSignals),
            n => n
                .parse()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .map(Self::Fixed),
        }
    }
}

/// Whether reviewers must use passkeys (`TRANSFER_DESK_STAFF_PASSKEYS`): offered to all, or
/// required (a reviewer who has one must sign in with it; one who has none adds one first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasskeyPolicy {
    Optional,
    Required,
}

pub(super) fn read(var: Vars, settings: &mut Settings) -> Result<(), ConfigError> {
    let positive: fn(&i64) -> bool = |d| *d > 0;
    for (name, days) in [
        ("TRANSFER_DESK_RETENTION_DAYS", &mut settings.retention_days),
        ("TRANSFER_DESK_EVIDENCE_DAYS", &mut settings.evidence_days),
    ] {
        if let Some(d) = number(name, var(name), positive, "a positive number of days")? {
            *days = d;
        }
    }
    if let Some(v) = var("TRANSFER_DESK_APPROVALS_REQUIRED") {
        settings.approvals = ApprovalPolicy::parse(v.trim())
            .ok_or_else(|| invalid("TRANSFER_DESK_APPROVALS_REQUIRED must be auto or 1 to 5"))?;
    }
    if let Some(hours) = var("TRANSFER_DESK_OBJECTION_HOURS") {
        settings.objection_hours = hours
            .trim()
            .parse()
            .ok()
            .filter(|h| (0..=24 * 30).contains(h))
            .ok_or_else(|| invalid("TRANSFER_DESK_OBJECTION_HOURS must be 0 to 720 hours"))?;
    }
    if let Some(policy) = var("TRANSFER_DESK_STAFF_PASSKEYS") {
        settings.staff_passkeys = match policy.trim() {
            "optional" => PasskeyPolicy::Optional,
            "required" => PasskeyPolicy::Required,
            _ => {
                return Err(invalid(
                    "TRANSFER_DESK_STAFF_PASSKEYS must be optional or required",
                ))
            }
        };
    }
    Ok(())
}

/// The registrant's window to object needs mail: read once the mail settings are.
pub(super) fn objection_needs_mail(settings: &Settings) -> Result<(), ConfigError> {
    if settings.objection_hours > 0 && settings.smtp_url.is_none() {
        return Err(invalid(
            "TRANSFER_DESK_OBJECTION_HOURS needs TRANSFER_DESK_SMTP_URL: without mail the registrant on file never receives the link to object, so the window would protect nobody while the requester is told it does. Set TRANSFER_DESK_SMTP_URL, or TRANSFER_DESK_OBJECTION_HOURS=0 (admins can still cancel a code or restore nameservers on the review page)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_eyes_apply_when_a_signal_fired() {
        let policy = ApprovalPolicy::parse("auto").unwrap();
        assert_eq!((policy.required(0), policy.required(3)), (1, 2));
        assert_eq!(ApprovalPolicy::parse("2").unwrap().required(0), 2);
        assert_eq!(ApprovalPolicy::parse("0"), None);
    }
}
