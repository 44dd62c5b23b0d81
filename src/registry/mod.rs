//! The registry: what the desk asks of it (a transfer code set or unset, nameservers set),
//! and the two ways to reach it, behind one interface: the operator's command
//! ([`command`]) or EPP ([`epp`]). The workflow does not care which.
//!
//! Also here: the transfer codes themselves ([`codes`]), the domain portfolio and host names
//! ([`domains`]), and the operator's check of the EPP account ([`check`]).

pub mod check;
pub mod codes;
pub mod command;
pub mod domains;
pub mod epp;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use self::codes::TransferCode;
use self::epp::EppSettings;
use crate::platform::config::Settings;

/// What the registry is asked to do.
pub enum Action<'a> {
    SetTransferCode(&'a TransferCode),
    SetNameservers(&'a [String]),
    /// The registrant on file objected (or an admin withdrew the approval): the issued code
    /// must stop working.
    CancelTransferCode,
}

/// One hand-off: `action` on `domain`, for `request`.
pub struct HandOff<'a> {
    pub request: Uuid,
    pub domain: &'a str,
    pub action: Action<'a>,
}

/// What the registry did, where it said more than "done".
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Done {
    /// The nameservers the registry held before a change (EPP reads them with
    /// `domain:info`; the command cannot tell).
    pub previous_nameservers: Option<Vec<String>>,
    /// The registry refused `<domain:null/>`: the code was replaced by one nobody knows.
    pub unset_with_unknown_code: bool,
    /// The registry answered 1001: it accepted the update and carries it out later (RFC 5730
    /// §3). The desk counts it as done (see the book's registry chapter for why).
    pub pending: bool,
}

impl Done {
    /// What the audit trail adds to the detail of the action done.
    pub fn note(&self) -> &'static str {
        match self.pending {
            true => " (the registry accepted it and acts later: 1001, action pending)",
            false => "",
        }
    }
}

/// The way to the registry the operator configured.
#[derive(Clone, Copy, Debug)]
pub enum Registry<'a> {
    Command(&'a str),
    Epp(&'a EppSettings),
}

impl<'a> Registry<'a> {
    /// The configured way, if any (the settings refuse to start with both).
    pub fn configured(settings: &'a Settings) -> Option<Self> {
        match (&settings.epp, &settings.registry_command) {
            (Some(epp), _) => Some(Registry::Epp(epp)),
            (None, Some(command)) => Some(Registry::Command(command)),
            (None, None) => None,
        }
    }

    /// How a code reached the registry, as the code's record says.
    pub fn means(&self) -> &'static str {
        match self {
            Registry::Command(_) => "tracking link; registry command",
            Registry::Epp(_) => "tracking link; registry (EPP)",
        }
    }

    /// Carries `order` out. The command way runs once; EPP retries what is worth retrying.
    pub async fn hand_off(
        &self,
        db: &DatabaseConnection,
        order: &HandOff<'_>,
    ) -> Result<Done, RegistryError> {
        match self {
            Registry::Command(command) => {
                command::hand_off(command, order.domain, &order.action).await?;
                Ok(Done::default())
            }
            Registry::Epp(settings) => Ok(epp::hand_off(settings, db, order).await?),
        }
    }
}

/// Why a hand-off did not happen, in words a reviewer can act on; a code or a password never
/// appears in it.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the registry command {0}")]
    Run(#[from] crate::platform::external::RunError),
    /// It ran and refused: its exit status and the start of what it said on stderr.
    #[error("the registry command failed ({status}){}", said.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    CommandRefused {
        status: std::process::ExitStatus,
        said: Option<String>,
    },
    #[error(transparent)]
    Epp(#[from] epp::outcome::EppError),
    /// There is no way to the registry to carry the action out.
    #[error("no registry is configured to set nameservers")]
    NotConfigured,
}

impl RegistryError {
    /// Whether a later try may succeed (the sweeper tries nameserver hand-offs again after
    /// their lease). A command's failure may be anything: it is tried again.
    pub fn is_permanent(&self) -> bool {
        match self {
            RegistryError::Epp(error) => !error.is_transient(),
            RegistryError::NotConfigured => true,
            RegistryError::Run(_) | RegistryError::CommandRefused { .. } => false,
        }
    }
}
