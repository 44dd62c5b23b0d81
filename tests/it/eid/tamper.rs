//! Everything the test wallet can do wrong on purpose: issue 29's "Proven by" list and the
//! other MUSTs of RFC 9901, SD-JWT VC, OpenID4VP 1.0, RFC 7516/7518 and the Token Status List
//! that a verifier has to enforce.

/// One change to the honest answer. The first four are honest variants a verifier must accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tamper {
    /// The honest answer: `given_name` and `family_name` disclosed, nothing else.
    Honest,
    /// Honest, but every disclosure is sent, the recursive `address` members and the array
    /// elements of `nationalities` included (a verifier must resolve them, not choke on them).
    DiscloseEverything,
    /// Honest, with the JWE's plaintext compressed (`zip: DEF`, raw DEFLATE).
    Compressed,
    /// Honest, with the credential's legacy `typ` `vc+sd-jwt`.
    LegacyTyp,
    /// The credential has no `status` claim: refused unless status is not required.
    NoStatusReference,

    // The key binding (RFC 9901 §4.3, §7.3).
    /// KB-JWT `nonce` is not the session's.
    OtherNonce,
    /// KB-JWT `aud` is another verifier's client_id.
    OtherAudience,
    /// KB-JWT `aud` is the verifier's DID without the `decentralized_identifier:` prefix (not
    /// the client_id exactly).
    AudienceWithoutPrefix,
    /// KB-JWT signed by another key than `cnf.jwk`.
    KeyBindingByOtherKey,
    /// No KB-JWT (the presentation ends with `~`).
    MissingKeyBinding,
    /// KB-JWT with `alg` `none` and no signature.
    KeyBindingAlgNone,
    /// KB-JWT with `typ` `JWT` instead of `kb+jwt`.
    KeyBindingWrongTyp,
    /// KB-JWT `sd_hash` over something else than the presentation.
    SdHashMismatch,
    /// KB-JWT `iat` more than 5 minutes old (400 s).
    KeyBindingTooOld,
    /// KB-JWT `iat` 400 s in the future.
    KeyBindingFromFuture,
    /// The credential has no `cnf`: nothing to bind the presentation to.
    NoCnf,

    // The issuer-signed JWT.
    /// `exp` an hour ago (beyond any clock leeway).
    Expired,
    /// `nbf` an hour ahead.
    NotYetValid,
    /// Signed by an issuer that is not in the trust file (its own `kid` and `iss`).
    UntrustedIssuer,
    /// Signed by the untrusted issuer with its own `kid`, but `iss` names the trusted issuer
    /// (the federal verifier's bypass: `iss` must be ignored).
    UntrustedKidTrustedIss,
    /// Signed by the untrusted issuer's key under the trusted issuer's `kid` and `iss`.
    TrustedKidForgedSignature,
    /// Header `alg` `none`, no signature.
    AlgNone,
    /// Header `typ` `JWT`.
    WrongTyp,
    /// A `vct` the verifier does not accept.
    OtherVct,
    /// `_sd_alg` `sha-512` (the profile allows sha-256 only).
    OtherSdAlg,
    /// The `given_name` digest also appears inside `address` (a digest referenced twice), and
    /// `address` is disclosed so that the verifier can see it.
    DuplicatedDigest,
    /// A plainly signed `given_name` beside the disclosed one (RFC 9901 §7.1: a disclosed
    /// name already present at that level is refused; the profile forbids plain personal claims).
    ClaimNameCollision,

    // The disclosures.
    /// The `given_name` disclosure with its value changed to "Eve".
    ChangedDisclosure,
    /// The `given_name` disclosure sent twice.
    DuplicatedDisclosure,
    /// `address.locality` sent without its parent `address` (its digest is not reachable).
    OrphanNestedDisclosure,

    // The status list (Token Status List).
    /// The credential's entry is revoked (status 1, INVALID).
    Revoked,
    /// The credential's entry is suspended (status 2).
    Suspended,
    /// The credential's index is beyond the list's end.
    StatusIndexOutOfRange,
    /// The credential points at a list with the same content signed by the untrusted issuer.
    StatusListOfStranger,

    // The envelope (OpenID4VP 1.0 §8.3, RFC 7516).
    /// `vp_token` and `state` as plain form fields, no `response`.
    UnencryptedForm,
    /// `response` holds the JSON payload in clear.
    UnencryptedJson,
    /// `response` holds a JWS (signed, not encrypted) of the payload.
    UnencryptedJws,
    /// `state` is not the session's.
    WrongState,
    /// No `state` in the payload.
    MissingState,
    /// A JWE of more than 256 KiB (incompressible padding in the payload).
    Oversized,
    /// `zip: DEF` whose plaintext inflates to 4 MiB (a compression bomb under 256 KiB).
    InflationBomb,
    /// `enc` `A128CBC-HS256`.
    UnsupportedEnc,
    /// `enc` `A128GCM`, correctly encrypted (the profile allows A256GCM only).
    A128GcmEnc,
    /// `alg` `ECDH-ES+A256KW`.
    UnsupportedAlg,
    /// Encrypted to another key, with the session key's `kid`.
    OtherRecipientKey,
    /// Encrypted to the session key, with another `kid`.
    WrongKid,
}

impl Tamper {
    /// The answers a verifier must accept (given `require_status`).
    pub const HONEST: [Tamper; 4] = [
        Tamper::Honest,
        Tamper::DiscloseEverything,
        Tamper::Compressed,
        Tamper::LegacyTyp,
    ];

    /// Every answer a verifier must refuse. [`Tamper::NoStatusReference`] is among them: it is
    /// refused unless status is not required. [`Tamper::UnencryptedForm`] has no `response`
    /// field: only an HTTP endpoint can be given it.
    pub const HOSTILE: [Tamper; 42] = [
        Tamper::NoStatusReference,
        Tamper::OtherNonce,
        Tamper::OtherAudience,
        Tamper::AudienceWithoutPrefix,
        Tamper::KeyBindingByOtherKey,
        Tamper::MissingKeyBinding,
        Tamper::KeyBindingAlgNone,
        Tamper::KeyBindingWrongTyp,
        Tamper::SdHashMismatch,
        Tamper::KeyBindingTooOld,
        Tamper::KeyBindingFromFuture,
        Tamper::NoCnf,
        Tamper::Expired,
        Tamper::NotYetValid,
        Tamper::UntrustedIssuer,
        Tamper::UntrustedKidTrustedIss,
        Tamper::TrustedKidForgedSignature,
        Tamper::AlgNone,
        Tamper::WrongTyp,
        Tamper::OtherVct,
        Tamper::OtherSdAlg,
        Tamper::DuplicatedDigest,
        Tamper::ClaimNameCollision,
        Tamper::ChangedDisclosure,
        Tamper::DuplicatedDisclosure,
        Tamper::OrphanNestedDisclosure,
        Tamper::Revoked,
        Tamper::Suspended,
        Tamper::StatusIndexOutOfRange,
        Tamper::StatusListOfStranger,
        Tamper::UnencryptedForm,
        Tamper::UnencryptedJson,
        Tamper::UnencryptedJws,
        Tamper::WrongState,
        Tamper::MissingState,
        Tamper::Oversized,
        Tamper::InflationBomb,
        Tamper::UnsupportedEnc,
        Tamper::A128GcmEnc,
        Tamper::UnsupportedAlg,
        Tamper::OtherRecipientKey,
        Tamper::WrongKid,
    ];
}
