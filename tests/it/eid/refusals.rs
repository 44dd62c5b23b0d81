//! The verifier library (`transfer_desk::eid::protocol`) against the test wallet: the request
//! object is what the profile asks, the honest answers prove the names, and every hostile
//! answer is refused for its own reason.

use serde_json::json;
use sha2::{Digest, Sha256};
use transfer_desk::eid::protocol::{verify_response, Refusal};

use super::desk::{MemoryStatus, Session};
use super::Tamper;

#[test]
fn the_request_object_asks_for_the_names_only_as_the_profile_says() {
    let session = Session::new();
    let request = &session.request;
    assert_eq!(request.header["kid"], json!(session.verifier.key_id()));
    assert_eq!(request.client_id, session.verifier.client_id());
    assert_eq!(
        request.claim_paths,
        [vec![json!("given_name")], vec![json!("family_name")]],
        "never the portrait, the AHV number or the birth date"
    );
    assert_eq!(request.vct_values, session.accepted_vcts);
    assert_eq!(request.trusted_dids, [session.wallet.issuer.did()]);
    assert_eq!(
        (request.nonce.as_str(), request.state.as_str()),
        (session.nonce.as_str(), session.state.as_str())
    );
    let session_jwk = session.session_key.public_jwk();
    assert_eq!(
        (&request.encryption_jwk["x"], &request.encryption_jwk["y"]),
        (&session_jwk["x"], &session_jwk["y"]),
        "the answer is encrypted to the session's own key"
    );
    assert_eq!(request.enc_values, ["A256GCM"], "the profile's only enc");
    let purpose = request.claims.to_string();
    assert!(
        purpose.contains("transfer code for example.ch"),
        "the wallet shows the purpose"
    );
}

#[tokio::test]
async fn the_honest_answers_prove_the_names_issuer_vct_and_digest() {
    let session = Session::new();
    for tamper in Tamper::HONEST {
        let answer = session.answer(tamper);
        let proven = session
            .verify(&answer, true)
            .await
            .unwrap_or_else(|refusal| panic!("{tamper:?} is refused: {refusal:?}"));
        let payload = session.open(&answer);
        let presentation = payload["vp_token"][&session.request.query_id][0]
            .as_str()
            .unwrap();
        let issuer_jwt = presentation.split('~').next().unwrap();
        assert_eq!(
            (proven.given_name.as_str(), proven.family_name.as_str()),
            ("Anna Maria", "Muster"),
            "{tamper:?}"
        );
        assert_eq!(proven.issuer_did, session.wallet.issuer.did(), "{tamper:?}");
        assert_eq!(proven.vct, "betaid-sdjwt", "{tamper:?}");
        assert_eq!(
            proven.credential_digest,
            <[u8; 32]>::from(Sha256::digest(issuer_jwt)),
            "{tamper:?}"
        );
    }
}

#[tokio::test]
async fn a_credential_without_status_is_accepted_only_when_status_is_not_required() {
    let session = Session::new();
    let answer = session.answer(Tamper::NoStatusReference);
    let refused = session.verify(&answer, true).await;
    assert!(
        matches!(refused, Err(Refusal::StatusMissing)),
        "{refused:?}"
    );
    let accepted = session.verify(&answer, false).await;
    assert_eq!(
        accepted.map(|p| p.family_name).ok().as_deref(),
        Some("Muster")
    );
}

/// Whether `refusal` is the reason a verifier must give for `tamper`. Where the
/// specifications allow the failure to show at more than one step, each is accepted.
fn is_expected(tamper: Tamper, refusal: &Refusal) -> bool {
    use Refusal as R;
    use Tamper as T;
    match tamper {
        T::NoStatusReference => matches!(refusal, R::StatusMissing),
        T::OtherNonce => matches!(refusal, R::WrongNonce),
        T::OtherAudience | T::AudienceWithoutPrefix => matches!(refusal, R::WrongAudience),
        T::KeyBindingByOtherKey | T::SdHashMismatch => matches!(refusal, R::KeyBindingInvalid(_)),
        T::KeyBindingWrongTyp => matches!(refusal, R::KeyBindingInvalid(_) | R::TypeRefused(_)),
        T::KeyBindingAlgNone => matches!(refusal, R::KeyBindingInvalid(_) | R::AlgorithmRefused(_)),
        T::MissingKeyBinding => matches!(refusal, R::KeyBindingMissing),
        T::KeyBindingTooOld | T::KeyBindingFromFuture => matches!(refusal, R::KeyBindingStale),
        T::NoCnf => matches!(
            refusal,
            R::KeyBindingInvalid(_) | R::KeyBindingMissing | R::MalformedPresentation(_)
        ),
        T::Expired => matches!(refusal, R::Expired),
        T::NotYetValid => matches!(refusal, R::NotYetValid),
        T::UntrustedIssuer | T::UntrustedKidTrustedIss => matches!(refusal, R::UntrustedIssuer(_)),
        T::TrustedKidForgedSignature => matches!(refusal, R::BadSignature),
        T::AlgNone => matches!(refusal, R::AlgorithmRefused(_)),
        T::WrongTyp => matches!(refusal, R::TypeRefused(_)),
        T::OtherVct => matches!(refusal, R::VctRefused(_)),
        T::OtherSdAlg => matches!(refusal, R::DigestAlgorithmRefused(_)),
        T::DuplicatedDigest | T::DuplicatedDisclosure => matches!(refusal, R::DisclosureDuplicated),
        T::ClaimNameCollision => matches!(
            refusal,
            R::PlainClaim(_) | R::DisclosureMalformed(_) | R::DisclosureDuplicated
        ),
        T::ChangedDisclosure | T::OrphanNestedDisclosure => matches!(refusal, R::DisclosureUnknown),
        T::Revoked => matches!(refusal, R::Revoked),
        T::Suspended => matches!(refusal, R::Suspended),
        T::StatusIndexOutOfRange => matches!(refusal, R::StatusInvalid(_)),
        T::StatusListOfStranger => matches!(
            refusal,
            R::StatusInvalid(_) | R::UntrustedIssuer(_) | R::BadSignature
        ),
        T::UnencryptedForm | T::UnencryptedJson | T::UnencryptedJws => {
            matches!(refusal, R::NotEncrypted)
        }
        T::WrongState => matches!(refusal, R::WrongState),
        T::MissingState => matches!(refusal, R::WrongState | R::MalformedPayload(_)),
        T::Oversized => matches!(refusal, R::TooLarge),
        T::InflationBomb => matches!(refusal, R::Inflation),
        T::UnsupportedEnc | T::A128GcmEnc | T::UnsupportedAlg => {
            matches!(refusal, R::EncryptionRefused(_))
        }
        T::OtherRecipientKey => matches!(refusal, R::Decryption),
        T::WrongKid => matches!(refusal, R::WrongRecipient),
        T::Honest | T::DiscloseEverything | T::Compressed | T::LegacyTyp => false,
    }
}

/// Every hostile answer of [`Tamper::HOSTILE`] that has a `response` field, each refused for
/// its own reason; the test lists every miss at once.
#[tokio::test]
async fn each_hostile_answer_is_refused_for_its_reason() {
    let session = Session::new();
    let mut misses = Vec::new();
    for tamper in Tamper::HOSTILE {
        if tamper == Tamper::UnencryptedForm {
            continue; // no `response` field: the endpoint's refusal (eid-web)
        }
        let answer = session.answer(tamper);
        match session.verify(&answer, true).await {
            Ok(proven) => misses.push(format!("{tamper:?}: ACCEPTED as {proven:?}")),
            Err(refusal) if !is_expected(tamper, &refusal) => misses.push(format!(
                "{tamper:?}: refused as {refusal:?}, another reason"
            )),
            Err(refusal) => assert!(
                matches!(
                    refusal.oauth_error(),
                    "invalid_request" | "access_denied" | "temporarily_unavailable"
                ),
                "{tamper:?}: oauth error {}",
                refusal.oauth_error()
            ),
        }
    }
    assert!(
        misses.is_empty(),
        "refusals that do not hold:\n{}",
        misses.join("\n")
    );
}

#[tokio::test]
async fn an_answer_for_one_session_is_refused_by_another() {
    let (first, second) = (Session::new(), Session::new());
    let answer = first.answer(Tamper::Honest);
    let response = answer.response().unwrap();
    let refused = verify_response(response, &second.expectations(true), &first.status).await;
    assert!(
        matches!(refused, Err(Refusal::WrongRecipient | Refusal::Decryption)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_status_list_that_cannot_be_fetched_refuses_the_answer() {
    let session = Session::new();
    let answer = session.answer(Tamper::Honest);
    let response = answer.response().unwrap();
    let refused = verify_response(
        response,
        &session.expectations(true),
        &MemoryStatus::default(),
    )
    .await;
    assert!(
        matches!(refused, Err(Refusal::StatusUnavailable(_))),
        "{refused:?}"
    );
}
