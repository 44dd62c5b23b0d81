//! What the registry's answers mean to the desk: EPP result codes (RFC 5730 §3) and
//! transport failures become typed outcomes, each either worth another session or not.

use instant_epp::response::ResultCode;

/// Why an EPP hand-off did not happen. The text is for staff and the audit trail: it holds
/// the registry's own message, never the password, the key or a transfer code.
#[derive(Debug, thiserror::Error)]
pub enum EppError {
    /// No connection: the registry is down or unreachable (retried).
    #[error("the registry cannot be reached: {0}")]
    Unreachable(String),
    /// The registry's certificate is not from the configured CA or names another host: the
    /// login was never sent (not retried).
    #[error("the registry's certificate is not trusted: {0}")]
    UntrustedServer(String),
    /// The TLS handshake failed otherwise, e.g. the registry refused our client certificate.
    #[error("the registry refused the TLS connection: {0}")]
    TlsRefused(String),
    /// The connection broke, or timed out, with a command on its way (retried, reconciled).
    #[error("the connection to the registry was lost during {command}: {why}")]
    ConnectionLost { command: &'static str, why: String },
    /// The registry answered with a result code that is not a success.
    #[error("the registry refused {command} ({code}): {message}")]
    Refused {
        command: &'static str,
        code: u16,
        refusal: Refusal,
        message: String,
    },
    /// An answer the client could not read.
    #[error("the registry's answer to {command} could not be read: {why}")]
    Unreadable { command: &'static str, why: String },
    /// The command could not be recorded before it was sent, so it was not sent.
    #[error("the registry command could not be recorded: {0}")]
    Journal(#[from] sea_orm::DbErr),
}

/// The kinds of refusal the desk tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 2400, 2500–2502: the registry failed for now; another session may succeed.
    Temporary,
    /// 2200, 2201, 2202: the account may not do this (or the login failed).
    Authorization,
    /// 2303: the registry has no such domain.
    NoSuchObject,
    /// 2304: the domain's status prohibits the change (e.g. serverUpdateProhibited).
    StatusProhibits,
    /// The command is not understood or not allowed as written (2000–2005, 2101–2103, 2306,
    /// 2308): the option may be unsupported by this registry.
    Syntax,
    /// Any other permanent refusal.
    Other,
}

impl Refusal {
    pub fn of(code: ResultCode) -> Self {
        use ResultCode::*;
        match code {
            CommandFailed
            | CommandFailedServerClosingConnection
            | AuthenticationErrorServerClosingConnection
            | SessionLimitExceededServerClosingConnection => Refusal::Temporary,
            AuthenticationError | AuthorizationError | InvalidAuthorizationInformation => {
                Refusal::Authorization
            }
            ObjectDoesNotExist => Refusal::NoSuchObject,
            ObjectStatusProhibitsOperation => Refusal::StatusProhibits,
            UnknownCommand
            | CommandSyntaxError
            | CommandUseError
            | RequiredParameterMissing
            | ParameterValueRangeError
            | ParameterValueSyntaxError
            | UnimplementedCommand
            | UnimplementedOption
            | UnimplementedExtension
            | ParameterValuePolicyError
            | DataManagementPolicyViolation => Refusal::Syntax,
            _ => Refusal::Other,
        }
    }
}

impl EppError {
    /// Whether another session may succeed: the registry's temporary failures and a lost or
    /// unreachable connection. A refusal on the merits, a certificate that is not trusted or
    /// a failure to record is not retried.
    pub fn is_transient(&self) -> bool {
        match self {
            EppError::Unreachable(_) | EppError::ConnectionLost { .. } => true,
            EppError::Refused { refusal, .. } => *refusal == Refusal::Temporary,
            EppError::UntrustedServer(_)
            | EppError::TlsRefused(_)
            | EppError::Unreadable { .. }
            | EppError::Journal(_) => false,
        }
    }

    /// Maps instant-epp's error for `command`.
    pub(super) fn from_client(command: &'static str, error: instant_epp::Error) -> Self {
        match error {
            instant_epp::Error::Command(status) => EppError::Refused {
                command,
                code: status.result.code as u16,
                refusal: Refusal::of(status.result.code),
                message: status.result.message.chars().take(300).collect(),
            },
            instant_epp::Error::Io(error) => EppError::ConnectionLost {
                command,
                why: error.to_string(),
            },
            instant_epp::Error::Timeout => EppError::ConnectionLost {
                command,
                why: "no answer in time".to_owned(),
            },
            other => EppError::Unreadable {
                command,
                why: other.to_string(),
            },
        }
    }

    /// Maps a failure to connect (TCP, TLS, the greeting).
    pub(super) fn from_connect(error: instant_epp::Error) -> Self {
        let instant_epp::Error::Io(io) = error else {
            return EppError::Unreachable(error.to_string());
        };
        match io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented) => {
                EppError::UntrustedServer(io.to_string())
            }
            Some(_) => EppError::TlsRefused(io.to_string()),
            None => EppError::Unreachable(io.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u16) -> EppError {
        let code = ResultCode::from_u16(code).unwrap();
        EppError::Refused {
            command: "domain:update",
            code: code as u16,
            refusal: Refusal::of(code),
            message: "m".into(),
        }
    }

    #[test]
    fn temporary_failures_are_retried_and_refusals_are_not() {
        for code in [2400, 2500, 2501, 2502] {
            assert!(refused(code).is_transient(), "{code}");
        }
        for code in [2201, 2303, 2304, 2200, 2005, 2306, 2308, 2105] {
            assert!(!refused(code).is_transient(), "{code}");
        }
        assert_eq!(
            Refusal::of(ResultCode::AuthorizationError),
            Refusal::Authorization
        );
        assert_eq!(
            Refusal::of(ResultCode::ObjectDoesNotExist),
            Refusal::NoSuchObject
        );
        assert_eq!(
            Refusal::of(ResultCode::ObjectStatusProhibitsOperation),
            Refusal::StatusProhibits
        );
        assert!(EppError::Unreachable("x".into()).is_transient());
        assert!(!EppError::UntrustedServer("x".into()).is_transient());
    }
}
