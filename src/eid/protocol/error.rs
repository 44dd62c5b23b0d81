//! What can go wrong: building the desk's own messages ([`ProtocolError`]), fetching a status
//! list ([`StatusFetchError`]) and, above all, a wallet's answer that is not accepted ([`Refusal`]).

/// The desk's own keys or request could not be made or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("the random number generator failed")]
    Random,
    #[error("the verifier key is not a P-256 PKCS#8 key")]
    VerifierKey,
    #[error("the session key is not a P-256 scalar")]
    SessionKey,
    #[error("the verifier DID is not a DID")]
    Did,
    #[error("signing failed")]
    Signing,
    #[error("the trust list is not valid: {0}")]
    TrustList(String),
    #[error("the request is not valid: {0}")]
    Request(&'static str),
}

/// A status list token could not be fetched (network, HTTP status, size cap, timeout).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("the status list could not be fetched: {0}")]
pub struct StatusFetchError(pub String);

/// Why a wallet's answer was refused. Each reason is its own variant so that tests and the
/// audit trail can tell them apart; the wallet only sees [`Refusal::oauth_error`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Refusal {
    #[error("the answer is larger than allowed")]
    TooLarge,
    #[error("the answer is not encrypted (a JWE is required)")]
    NotEncrypted,
    #[error("the encrypted answer is malformed: {0}")]
    MalformedJwe(&'static str),
    #[error("the encryption algorithm is refused: {0}")]
    EncryptionRefused(String),
    #[error("the answer is encrypted to another key")]
    WrongRecipient,
    #[error("the answer could not be decrypted")]
    Decryption,
    #[error("the compressed answer inflates beyond the limit or is corrupt")]
    Inflation,
    #[error("the answer's payload is malformed: {0}")]
    MalformedPayload(&'static str),
    #[error("the state does not match the session")]
    WrongState,
    #[error("the presentation is malformed: {0}")]
    MalformedPresentation(&'static str),
    #[error("the signature algorithm is refused: {0}")]
    AlgorithmRefused(String),
    #[error("the credential type is refused: {0}")]
    TypeRefused(String),
    #[error("the issuer is not trusted: {0}")]
    UntrustedIssuer(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the issuer signed a claim in the clear that must be selectively disclosed: {0}")]
    PlainClaim(String),
    #[error("the credential's vct is not accepted: {0}")]
    VctRefused(String),
    #[error("the credential has expired")]
    Expired,
    #[error("the credential is not yet valid")]
    NotYetValid,
    #[error("the digest algorithm is refused: {0}")]
    DigestAlgorithmRefused(String),
    #[error("a disclosure is not referenced by the credential")]
    DisclosureUnknown,
    #[error("a disclosure is given twice or its digest is referenced twice")]
    DisclosureDuplicated,
    #[error("a disclosure is malformed: {0}")]
    DisclosureMalformed(&'static str),
    #[error("the required claim is missing: {0}")]
    ClaimMissing(&'static str),
    #[error("the key binding is missing")]
    KeyBindingMissing,
    #[error("the key binding is invalid: {0}")]
    KeyBindingInvalid(&'static str),
    #[error("the key binding is for another audience")]
    WrongAudience,
    #[error("the key binding carries another nonce")]
    WrongNonce,
    #[error("the key binding is too old or from the future")]
    KeyBindingStale,
    #[error("the credential has no status reference")]
    StatusMissing,
    #[error("the status list could not be fetched: {0}")]
    StatusUnavailable(String),
    #[error("the status list is invalid: {0}")]
    StatusInvalid(&'static str),
    #[error("the credential is revoked")]
    Revoked,
    #[error("the credential is suspended")]
    Suspended,
}

impl Refusal {
    /// The longest account of a refusal that is logged, audited or sent back.
    pub const SUMMARY_CHARS: usize = 160;

    /// The refusal in words fit for a log line, the audit trail and the wallet: some carry
    /// what the sender wrote (a header's `alg`, a `kid`), so control characters are escaped
    /// and the text is cut at [`Self::SUMMARY_CHARS`].
    pub fn summary(&self) -> String {
        let mut summary = String::new();
        for (count, c) in self.to_string().chars().enumerate() {
            if count == Self::SUMMARY_CHARS {
                summary.push('…');
                break;
            }
            match c.is_control() {
                true => summary.extend(c.escape_default()),
                false => summary.push(c),
            }
        }
        summary
    }

    /// The error code for the wallet's JSON (RFC 6749 §4.1.2.1 and §5.2, as OpenID4VP 1.0 uses
    /// them): `invalid_request` for an answer that could not be read, `access_denied` for a
    /// credential that does not hold, `temporarily_unavailable` when the status list could not
    /// be fetched. (The federal verifier says `invalid_credential`, a code of its own.)
    pub fn oauth_error(&self) -> &'static str {
        match self {
            Refusal::TooLarge
            | Refusal::NotEncrypted
            | Refusal::MalformedJwe(_)
            | Refusal::EncryptionRefused(_)
            | Refusal::WrongRecipient
            | Refusal::Decryption
            | Refusal::Inflation
            | Refusal::MalformedPayload(_)
            | Refusal::WrongState => "invalid_request",
            Refusal::StatusUnavailable(_) => "temporarily_unavailable",
            _ => "access_denied",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wallet_hears_whether_the_answer_or_the_credential_failed() {
        assert_eq!(Refusal::NotEncrypted.oauth_error(), "invalid_request");
        assert_eq!(Refusal::WrongState.oauth_error(), "invalid_request");
        assert_eq!(Refusal::Revoked.oauth_error(), "access_denied");
        assert_eq!(Refusal::WrongNonce.oauth_error(), "access_denied");
        assert_eq!(
            Refusal::StatusUnavailable("x".into()).oauth_error(),
            "temporarily_unavailable"
        );
    }

    #[test]
    fn what_a_sender_wrote_is_escaped_and_cut_before_it_is_logged() {
        let forged = format!("ES256\nINFO forged log line{}", "A".repeat(100_000));
        let summary = Refusal::EncryptionRefused(forged).summary();
        assert!(!summary.contains('\n'), "{summary}");
        assert!(summary.contains("\\n"), "{summary}");
        assert!(
            summary.chars().count() <= Refusal::SUMMARY_CHARS + 2,
            "{}",
            summary.len()
        );
        assert!(summary.ends_with('…'));
        assert_eq!(Refusal::Revoked.summary(), Refusal::Revoked.to_string());
    }
}
