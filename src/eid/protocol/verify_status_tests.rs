//! The status list's refusals: a credential revoked, suspended or unlisted, a list by
//! another issuer, for another URI, stale, or without an end.

use serde_json::json;

use super::{now, Answer, World, IDX, STATUS_URI};
use crate::eid::protocol::test_support::{status_list_token, status_list_token_ending};
use crate::eid::protocol::Refusal;

#[test]
fn a_revoked_or_suspended_or_unlisted_credential_is_refused() {
    let world = World::new();
    let at = |idx: u64| {
        move |a: &mut Answer<'_>| {
            a.issuer_claims["status"]["status_list"]["idx"] = idx.into();
        }
    };
    assert_eq!(world.refusal(at(IDX - 1)), Refusal::Revoked);
    assert_eq!(world.refusal(at(IDX + 1)), Refusal::Suspended);
    assert!(matches!(
        world.refusal(at(1_000)),
        Refusal::StatusInvalid(_)
    ));
    let refusal = world.refusal(|a| {
        a.issuer_claims["status"]["status_list"]["uri"] = "https://status.example/gone".into()
    });
    assert!(matches!(refusal, Refusal::StatusUnavailable(_)));
}

#[test]
fn a_credential_without_status_is_refused_unless_status_is_not_required() {
    let world = World::new();
    let mut answer = world.honest();
    answer.issuer_claims.remove("status");
    let response = world.seal(answer);
    assert_eq!(world.verify(&response), Err(Refusal::StatusMissing));
    assert!(world.verify_with(&response, false).is_ok());
}

#[test]
fn a_status_list_by_another_issuer_or_for_another_uri_is_refused() {
    let mut world = World::new();
    let now = now().timestamp();
    let t = status_list_token(&world.stranger, STATUS_URI, &[], now);
    world.lists.0.insert(STATUS_URI.into(), t);
    assert!(matches!(world.refusal(|_| {}), Refusal::UntrustedIssuer(_)));
    let t = status_list_token(&world.colleague, STATUS_URI, &[], now);
    world.lists.0.insert(STATUS_URI.into(), t);
    assert!(matches!(world.refusal(|_| {}), Refusal::StatusInvalid(_)));
    let t = status_list_token(&world.issuer, "https://status.example/list/2", &[], now);
    world.lists.0.insert(STATUS_URI.into(), t);
    assert!(matches!(world.refusal(|_| {}), Refusal::StatusInvalid(_)));
    let t = status_list_token(&world.issuer, STATUS_URI, &[], now - 7200);
    world.lists.0.insert(STATUS_URI.into(), t);
    assert!(matches!(world.refusal(|_| {}), Refusal::StatusInvalid(_)));
    let forged = world.issuer.sign(
        &json!({ "alg": "ES256", "typ": "JWT", "kid": world.issuer.kid() }),
        &json!({ "sub": STATUS_URI, "status_list": { "bits": 1, "lst": "eNrbuRgAAhcBXQ" } }),
    );
    world.lists.0.insert(STATUS_URI.into(), forged);
    assert_eq!(world.refusal(|_| {}), Refusal::TypeRefused("JWT".into()));
}

#[test]
fn a_status_list_without_an_end_or_with_an_absurd_one_is_refused() {
    let mut world = World::new();
    let t = now().timestamp();
    let list = |exp| status_list_token_ending(&world.issuer, STATUS_URI, &[], t, exp);
    let (endless, past, far) = (
        list(None),
        list(Some(json!(-1e300))),
        list(Some(json!(1e300))),
    );
    for (token, why) in [(endless, "no exp"), (past, "expired")] {
        world.lists.0.insert(STATUS_URI.into(), token);
        assert_eq!(world.refusal(|_| {}), Refusal::StatusInvalid(why));
    }
    // An end far in the future saturates instead of overflowing, and the list is read.
    world.lists.0.insert(STATUS_URI.into(), far);
    assert!(world.verify(&world.seal(world.honest())).is_ok());
}
