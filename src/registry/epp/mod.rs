//! The registry hand-off in EPP (RFC 5730–5734): one session per attempt, the domain commands
//! of RFC 5731, RFC 9154's transfer codes. Sessions that fail for a while (2400, 2500–2502,
//! a lost connection) are tried again with back-off; refusals on the merits are not.
//!
//! Resending is safe: a code set twice is the same code, an unset twice stays unset, and a
//! nameserver change always reads `domain:info` first and sends only what is still missing,
//! so an update whose answer was lost is not sent again once the registry holds it.

pub mod commands;
pub mod outcome;
pub mod session;

use instant_epp::domain::DomainInfo;
use instant_epp::response::{Response, ResultCode};
use sea_orm::DatabaseConnection;

use self::commands::{NameserverChange, UnsetAuthInfo};
use self::outcome::{EppError, Refusal};
use self::session::{Session, TrIds};
use super::{Action, Done, HandOff};
pub use crate::platform::config::epp::EppSettings;
use crate::registry::codes::TransferCode;

/// Carries `order` out, in as many sessions as the settings allow.
pub async fn hand_off(
    settings: &EppSettings,
    db: &DatabaseConnection,
    order: &HandOff<'_>,
) -> Result<Done, EppError> {
    let mut wait = settings.backoff;
    let mut attempt = 1;
    loop {
        let ids = TrIds::for_request(db, order.request).await?;
        match round(settings, ids, order).await {
            Err(error) if error.is_transient() && attempt < settings.attempts => {
                tracing::warn!(request = %order.request, attempt, %error, "the registry failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// One session: log in, carry the action out, log out.
async fn round(
    settings: &EppSettings,
    ids: TrIds<'_>,
    order: &HandOff<'_>,
) -> Result<Done, EppError> {
    let mut session = Session::open(settings, ids).await?;
    let done = match order.action {
        Action::SetTransferCode(code) => set_code(&mut session, order.domain, code).await,
        Action::CancelTransferCode => unset_code(&mut session, order.domain).await,
        Action::SetNameservers(hosts) => set_nameservers(&mut session, order.domain, hosts).await,
    };
    // After a lost connection there is no one to log out from.
    if !matches!(done, Err(EppError::ConnectionLost { .. })) {
        session.close().await;
    }
    done
}

async fn set_code(
    session: &mut Session<'_>,
    domain: &str,
    code: &TransferCode,
) -> Result<Done, EppError> {
    let update = commands::set_auth_info(domain, code.expose());
    let answer = session.send("domain:update", &update).await?;
    Ok(Done {
        pending: is_pending(&answer),
        ..Done::default()
    })
}

/// The registry answered 1001: accepted, carried out later (RFC 5730 §3).
fn is_pending<D, E>(answer: &Response<D, E>) -> bool {
    answer.result.code == ResultCode::CommandCompletedSuccessfullyActionPending
}

/// Unsets the code with `<domain:null/>`; where the registry refuses that as written (it
/// implements RFC 5731 without RFC 9154), a fresh random code that nobody is told.
async fn unset_code(session: &mut Session<'_>, domain: &str) -> Result<Done, EppError> {
    match session
        .send("domain:update", &UnsetAuthInfo::new(domain))
        .await
    {
        Err(EppError::Refused {
            refusal: Refusal::Syntax,
            ..
        }) => {
            let unknown = TransferCode::generate()
                .map_err(|_| EppError::Unreachable("no randomness for a code".to_owned()))?;
            let update = commands::set_auth_info(domain, unknown.expose());
            let answer = session.send("domain:update", &update).await?;
            Ok(Done {
                unset_with_unknown_code: true,
                pending: is_pending(&answer),
                ..Done::default()
            })
        }
        sent => sent.map(|answer| Done {
            pending: is_pending(&answer),
            ..Done::default()
        }),
    }
}

/// Reads the registry's nameservers, then adds and removes what differs from `hosts`.
pub async fn current_nameservers(
    session: &mut Session<'_>,
    domain: &str,
) -> Result<Vec<String>, EppError> {
    let answer = session
        .send("domain:info", &DomainInfo::new(domain, None))
        .await?;
    let info = answer.res_data().ok_or(EppError::Unreadable {
        command: "domain:info",
        why: "no domain data in the answer".to_owned(),
    })?;
    Ok(commands::nameservers_of(info))
}

async fn set_nameservers(
    session: &mut Session<'_>,
    domain: &str,
    hosts: &[String],
) -> Result<Done, EppError> {
    let current = current_nameservers(session, domain).await?;
    let change = NameserverChange::between(&current, hosts);
    let mut pending = false;
    if !change.is_empty() {
        let update = commands::change_nameservers(domain, &change);
        pending = is_pending(&session.send("domain:update", &update).await?);
    }
    Ok(Done {
        previous_nameservers: Some(current),
        pending,
        ..Done::default()
    })
}
