use serde_json::json;

use super::*;
use crate::eid::protocol::test_support::{disclosure, map};

/// RFC 9901 §4.2.1 and §4.2.2: the published disclosures and their digests.
const MOBIUS: &str = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0";
const MOBIUS_DIGEST: &str = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0";
const FR: &str = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0";
const FR_DIGEST: &str = "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs";

#[test]
fn the_rfc_examples_resolve_by_their_digests() {
    let payload = map(json!({
        "_sd": [MOBIUS_DIGEST, "undisclosed-decoy-digest"],
        "_sd_alg": "sha-256",
        "nationalities": [{ "...": FR_DIGEST }, { "...": "another-undisclosed" }, "DE"],
    }));
    let resolved = resolve(payload, &[FR, MOBIUS]).unwrap();
    assert_eq!(
        Value::Object(resolved),
        json!({ "family_name": "Möbius", "nationalities": ["FR", "DE"] })
    );
}

#[test]
fn recursive_disclosures_resolve_inside_objects_and_arrays() {
    let (street, street_digest) = disclosure(&json!(["s1", "street", "Bahnhofstrasse 1"]));
    let (address, address_digest) =
        disclosure(&json!(["s2", "address", { "_sd": [street_digest], "country": "CH" }]));
    let (item, item_digest) = disclosure(&json!(["s3", { "_sd": [address_digest] }]));
    let payload = map(json!({ "places": [{ "...": item_digest }] }));
    let resolved = resolve(payload, &[&street, &item, &address]).unwrap();
    assert_eq!(
        Value::Object(resolved),
        json!({ "places": [{ "address": { "country": "CH", "street": "Bahnhofstrasse 1" } }] })
    );
}

#[test]
fn a_disclosure_whose_digest_appears_nowhere_is_refused() {
    let payload = map(json!({ "_sd": [MOBIUS_DIGEST] }));
    assert_eq!(
        resolve(payload.clone(), &[MOBIUS, FR]),
        Err(Refusal::DisclosureUnknown)
    );
    // A changed disclosure (its salt "_26b" made "_26c", still valid JSON) has another digest.
    let changed = MOBIUS.replacen("WyJfMjZi", "WyJfMjZj", 1);
    assert_ne!(changed, MOBIUS);
    assert_eq!(
        resolve(payload, &[&changed]),
        Err(Refusal::DisclosureUnknown)
    );
}

#[test]
fn a_disclosure_given_twice_or_a_digest_referenced_twice_is_refused() {
    let payload = map(json!({ "_sd": [MOBIUS_DIGEST] }));
    assert_eq!(
        resolve(payload, &[MOBIUS, MOBIUS]),
        Err(Refusal::DisclosureDuplicated)
    );
    let twice = map(json!({ "_sd": [MOBIUS_DIGEST], "x": { "_sd": [MOBIUS_DIGEST] } }));
    assert_eq!(
        resolve(twice, &[MOBIUS]),
        Err(Refusal::DisclosureDuplicated)
    );
    let undisclosed_twice = map(json!({ "_sd": ["d1", "d1"] }));
    assert_eq!(
        resolve(undisclosed_twice, &[]),
        Err(Refusal::DisclosureDuplicated)
    );
}

#[test]
fn a_disclosed_name_that_replaces_a_claim_is_refused() {
    let payload = map(json!({ "_sd": [MOBIUS_DIGEST], "family_name": "Plain" }));
    assert!(matches!(
        resolve(payload, &[MOBIUS]),
        Err(Refusal::DisclosureMalformed(_))
    ));
    let (again, again_digest) = disclosure(&json!(["other salt", "family_name", "Other"]));
    let payload = map(json!({ "_sd": [MOBIUS_DIGEST, again_digest] }));
    assert!(matches!(
        resolve(payload, &[MOBIUS, &again]),
        Err(Refusal::DisclosureMalformed(_))
    ));
}

#[test]
fn reserved_and_registered_names_in_disclosures_are_refused() {
    for name in [
        "_sd", "...", "iss", "exp", "nbf", "cnf", "vct", "status", "iat",
    ] {
        let (encoded, digest) = disclosure(&json!(["salt", name, "x"]));
        let payload = map(json!({ "_sd": [digest] }));
        assert!(
            matches!(
                resolve(payload, &[&encoded]),
                Err(Refusal::DisclosureMalformed(_))
            ),
            "{name}"
        );
    }
}

#[test]
fn a_disclosure_in_the_wrong_place_or_shape_is_refused() {
    // An array element disclosure referenced from `_sd`, and a member from `...`.
    let payload = map(json!({ "_sd": [FR_DIGEST] }));
    assert!(matches!(
        resolve(payload, &[FR]),
        Err(Refusal::DisclosureMalformed(_))
    ));
    let payload = map(json!({ "a": [{ "...": MOBIUS_DIGEST }] }));
    assert!(matches!(
        resolve(payload, &[MOBIUS]),
        Err(Refusal::DisclosureMalformed(_))
    ));
    for items in [
        json!(["salt"]),
        json!(["s", "n", "v", "x"]),
        json!([1, "n", "v"]),
        json!({}),
    ] {
        let (encoded, digest) = disclosure(&items);
        let payload = map(json!({ "_sd": [digest] }));
        assert!(resolve(payload, &[&encoded]).is_err(), "{items}");
    }
    let payload = map(json!({ "a": [{ "...": FR_DIGEST, "b": 1 }] }));
    assert!(resolve(payload, &[FR]).is_err());
}

#[test]
fn only_sha_256_is_accepted_as_the_digest_algorithm() {
    let payload = map(json!({ "_sd": [MOBIUS_DIGEST], "_sd_alg": "sha-512" }));
    assert!(matches!(
        resolve(payload, &[MOBIUS]),
        Err(Refusal::DigestAlgorithmRefused(_))
    ));
}
