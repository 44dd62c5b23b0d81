//! Each refusal of `verify_response`, made by a test wallet that does one thing wrong.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};

use crate::eid::protocol::jose::{b64, unb64};
use crate::eid::protocol::test_support::{
    disclosure, encrypt, map, status_list_token, Encryption, Lists, Signer,
};
use crate::eid::protocol::{
    verify_response, Expectations, ProvenIdentity, Refusal, SessionKey, TrustList,
};

const CLIENT_ID: &str = "decentralized_identifier:did:example:desk";
const NONCE: &str = "n0nce-n0nce-n0nce-n0nce";
const STATE: &str = "session-state-0123456789";
const VCT: &str = "urn:vct:ch.admin.bcs.betaid";
const STATUS_URI: &str = "https://status.example/list/1";
const IDX: u64 = 5;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()
}

/// What the test wallet sends; each test changes one part before it is assembled.
/// A change to the encoded disclosures of an answer.
type Tamper<'a> = dyn Fn(&mut Vec<String>) + 'a;

struct Answer<'a> {
    issuer_header: Value,
    issuer_claims: Map<String, Value>,
    /// Top-level disclosures `[salt, name, value]`.
    disclosed: Vec<Value>,
    /// Applied to the encoded disclosures after the digests were put in `_sd`.
    tamper: Box<Tamper<'a>>,
    issuer_signer: &'a Signer,
    kb_header: Value,
    kb_claims: Map<String, Value>,
    kb_signer: &'a Signer,
    with_key_binding: bool,
    /// Applied to the signed issuer JWT.
    after_signing: Box<dyn Fn(String) -> String + 'a>,
    vp_token: Option<Value>,
    vp_token_as_string: bool,
    state: Value,
    encryption: Encryption,
}

struct World {
    issuer: Signer,
    /// Another trusted issuer.
    colleague: Signer,
    holder: Signer,
    stranger: Signer,
    session: SessionKey,
    trust: TrustList,
    lists: Lists,
}

impl World {
    fn new() -> Self {
        let issuer = Signer::new("did:example:issuer");
        let stranger = Signer::new("did:example:stranger");
        let colleague = Signer::new("did:example:colleague");
        let trust = json!([issuer.trust_entry(), colleague.trust_entry()]);
        let trust = TrustList::from_json(&trust.to_string()).unwrap();
        let mut lists = Lists::default();
        let token = status_list_token(
            &issuer,
            STATUS_URI,
            &[(IDX - 1, 1), (IDX + 1, 2)],
            now().timestamp(),
        );
        lists.0.insert(STATUS_URI.into(), token);
        Self {
            issuer,
            colleague,
            holder: Signer::new("did:example:holder"),
            stranger,
            session: SessionKey::generate(),
            trust,
            lists,
        }
    }

    fn honest(&self) -> Answer<'_> {
        let t = now().timestamp();
        Answer {
            issuer_header: json!({ "alg": "ES256", "typ": "dc+sd-jwt", "kid": self.issuer.kid(),
                                   "profile_version": "swiss-profile-vc:1.0.0" }),
            issuer_claims: map(json!({
                "iss": self.issuer.did, "vct": VCT, "iat": t - 86_400, "nbf": t - 86_400,
                "exp": t + 86_400, "_sd_alg": "sha-256",
                "cnf": { "jwk": self.holder.public_jwk() },
                "status": { "status_list": { "idx": IDX, "uri": STATUS_URI } },
            })),
            disclosed: vec![
                json!(["salt-1", "given_name", "Ada"]),
                json!(["salt-2", "family_name", "Muster"]),
            ],
            tamper: Box::new(|_| {}),
            issuer_signer: &self.issuer,
            kb_header: json!({ "alg": "ES256", "typ": "kb+jwt" }),
            kb_claims: map(json!({ "aud": CLIENT_ID, "nonce": NONCE, "iat": t - 10 })),
            kb_signer: &self.holder,
            with_key_binding: true,
            after_signing: Box::new(|jwt| jwt),
            vp_token: None,
            vp_token_as_string: false,
            state: STATE.into(),
            encryption: Encryption::default(),
        }
    }

    fn seal(&self, answer: Answer<'_>) -> String {
        let mut claims = answer.issuer_claims;
        let (mut encoded, digests): (Vec<String>, Vec<String>) =
            answer.disclosed.iter().map(disclosure).unzip();
        let mut sd: Vec<Value> = claims
            .get("_sd")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        sd.extend(digests.into_iter().map(Value::from));
        claims.insert("_sd".into(), sd.into());
        (answer.tamper)(&mut encoded);
        let jwt = answer
            .issuer_signer
            .sign(&answer.issuer_header, &Value::Object(claims));
        let jwt = (answer.after_signing)(jwt);
        let mut presentation = format!("{jwt}~");
        for d in &encoded {
            presentation.push_str(d);
            presentation.push('~');
        }
        if answer.with_key_binding {
            let mut kb = answer.kb_claims;
            let sd_hash =
                b64(ring::digest::digest(&ring::digest::SHA256, presentation.as_bytes()).as_ref());
            kb.entry("sd_hash").or_insert(sd_hash.into());
            presentation.push_str(&answer.kb_signer.sign(&answer.kb_header, &Value::Object(kb)));
        }
        let mut vp_token = answer
            .vp_token
            .unwrap_or_else(|| json!({ "identity": [presentation] }));
        if answer.vp_token_as_string {
            vp_token = vp_token.to_string().into();
        }
        let payload = json!({ "vp_token": vp_token, "state": answer.state });
        encrypt(
            payload.to_string().as_bytes(),
            &self.session.public_jwk(),
            &answer.encryption,
        )
    }

    fn verify(&self, response: &str) -> Result<ProvenIdentity, Refusal> {
        self.verify_with(response, true)
    }

    fn verify_with(&self, response: &str, require_status: bool) -> Result<ProvenIdentity, Refusal> {
        let vcts = vec!["betaid-sdjwt".to_owned(), VCT.to_owned()];
        let expectations = Expectations {
            client_id: CLIENT_ID,
            nonce: NONCE,
            state: STATE,
            accepted_vcts: &vcts,
            require_status,
            trust: &self.trust,
            session_key: &self.session,
            now: now(),
        };
        block_on(verify_response(response, &expectations, &self.lists))
    }

    fn refusal<'s>(&'s self, edit: impl FnOnce(&mut Answer<'s>)) -> Refusal {
        let mut answer = self.honest();
        edit(&mut answer);
        self.verify(&self.seal(answer))
            .expect_err("the answer was accepted")
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn the_honest_answer_proves_the_names() {
    let world = World::new();
    let response = world.seal(world.honest());
    let proven = world.verify(&response).unwrap();
    assert_eq!(proven.given_name, "Ada");
    assert_eq!(proven.family_name, "Muster");
    assert_eq!(proven.issuer_did, "did:example:issuer");
    assert_eq!(proven.vct, VCT);
    let compressed = world.seal(Answer {
        encryption: Encryption {
            zip: true,
            ..Default::default()
        },
        ..world.honest()
    });
    assert_eq!(world.verify(&compressed).unwrap().family_name, "Muster");
}

#[test]
fn the_credential_digest_is_over_the_issuer_jwt() {
    let world = World::new();
    let answer = world.honest();
    let response = world.seal(answer);
    let proven = world.verify(&response).unwrap();
    assert_ne!(proven.credential_digest, [0u8; 32]);
    // Another credential (another salt) has another digest.
    let mut other = world.honest();
    other.disclosed[0] = json!(["salt-9", "given_name", "Ada"]);
    assert_ne!(
        world.verify(&world.seal(other)).unwrap().credential_digest,
        proven.credential_digest
    );
}

#[test]
fn the_legacy_type_and_a_vp_token_given_as_a_json_string_are_accepted() {
    let world = World::new();
    let mut answer = world.honest();
    answer.issuer_header["typ"] = "vc+sd-jwt".into();
    assert!(world.verify(&world.seal(answer)).is_ok());
    // The federal verifier accepts the DCQL object serialised in a string too.
    let answer = Answer {
        vp_token_as_string: true,
        ..world.honest()
    };
    assert_eq!(world.verify(&world.seal(answer)).unwrap().given_name, "Ada");
}

#[test]
fn an_oversized_answer_is_refused_before_parsing() {
    let world = World::new();
    assert_eq!(
        world.verify(&"a".repeat(256 * 1024 + 1)),
        Err(Refusal::TooLarge)
    );
}

#[test]
fn an_unencrypted_answer_is_refused() {
    let world = World::new();
    let jws = world.issuer.sign(
        &json!({"alg":"ES256"}),
        &json!({"vp_token":{}, "state": STATE}),
    );
    assert_eq!(world.verify(&jws), Err(Refusal::NotEncrypted));
    assert_eq!(
        world.verify(&json!({"vp_token":{}, "state": STATE}).to_string()),
        Err(Refusal::NotEncrypted)
    );
}

#[test]
fn another_state_is_refused() {
    let world = World::new();
    assert_eq!(
        world.refusal(|a| a.state = "another-sessions-state".into()),
        Refusal::WrongState
    );
    assert_eq!(
        world.refusal(|a| a.state = Value::Null),
        Refusal::WrongState
    );
}

#[test]
fn a_vp_token_not_in_the_dcql_shape_is_refused() {
    let world = World::new();
    for vp_token in [
        json!("eyJhbGciOiJFUzI1NiJ9.e30.c2ln~"),
        json!({ "other": ["x~"] }),
        json!({ "identity": "x~" }),
        json!({ "identity": ["x~", "y~"] }),
        json!({ "identity": [] }),
        json!({ "identity": ["x~"], "other": ["y~"] }),
    ] {
        let refusal = world.refusal(|a| a.vp_token = Some(vp_token.clone()));
        assert!(
            matches!(refusal, Refusal::MalformedPayload(_)),
            "{vp_token}: {refusal:?}"
        );
    }
}

#[test]
fn an_issuer_jwt_with_alg_none_or_hs256_or_another_type_is_refused() {
    let world = World::new();
    for alg in ["none", "HS256", "ES384", "EdDSA"] {
        let refusal = world.refusal(|a| a.issuer_header["alg"] = alg.into());
        assert_eq!(refusal, Refusal::AlgorithmRefused(alg.into()));
    }
    let refusal = world.refusal(|a| a.issuer_header["typ"] = "JWT".into());
    assert_eq!(refusal, Refusal::TypeRefused("JWT".into()));
    let refusal = world.refusal(|a| a.issuer_header["crit"] = json!(["x"]));
    assert!(matches!(refusal, Refusal::AlgorithmRefused(_)));
}

#[test]
fn an_issuer_not_in_the_trust_list_is_refused_even_with_a_trusted_iss() {
    let world = World::new();
    // The stranger signs with its own kid and names the trusted issuer in `iss`.
    let refusal = world.refusal(|a| {
        a.issuer_signer = &world.stranger;
        a.issuer_header["kid"] = world.stranger.kid().into();
    });
    assert_eq!(
        refusal,
        Refusal::UntrustedIssuer("did:example:stranger".into())
    );
    // The stranger's key under the trusted issuer's kid does not verify.
    assert_eq!(
        world.refusal(|a| a.issuer_signer = &world.stranger),
        Refusal::BadSignature
    );
    // A trusted kid with another `iss` is refused too.
    let refusal = world.refusal(|a| {
        a.issuer_claims
            .insert("iss".into(), "did:example:stranger".into());
    });
    assert!(matches!(refusal, Refusal::UntrustedIssuer(_)));
    let refusal = world.refusal(|a| a.issuer_header["kid"] = "did:example:issuer#key-2".into());
    assert!(matches!(refusal, Refusal::UntrustedIssuer(_)));
    let refusal = world.refusal(|a| {
        a.issuer_header.as_object_mut().unwrap().remove("kid");
    });
    assert!(matches!(refusal, Refusal::UntrustedIssuer(_)));
}

#[test]
fn a_changed_signed_payload_is_refused() {
    let world = World::new();
    // The payload re-encoded with another vct after signing.
    let refusal = world.refusal(|a| {
        a.after_signing = Box::new(|jwt| {
            let parts: Vec<&str> = jwt.split('.').collect();
            let claims = String::from_utf8(unb64(parts[1]).unwrap()).unwrap();
            let claims = claims.replace(VCT, "betaid-sdjwt");
            format!("{}.{}.{}", parts[0], b64(claims.as_bytes()), parts[2])
        });
    });
    assert_eq!(refusal, Refusal::BadSignature);
    assert_eq!(
        world.refusal(|a| a.issuer_signer = &world.holder),
        Refusal::BadSignature
    );
}

#[test]
fn a_vct_not_accepted_is_refused() {
    let world = World::new();
    let refusal = world.refusal(|a| {
        a.issuer_claims.insert("vct".into(), "urn:vct:other".into());
    });
    assert!(matches!(refusal, Refusal::VctRefused(_)));
}

#[test]
fn an_expired_or_future_credential_is_refused() {
    let world = World::new();
    let t = now().timestamp();
    assert_eq!(
        world.refusal(|a| {
            a.issuer_claims.insert("exp".into(), (t - 61).into());
        }),
        Refusal::Expired
    );
    assert_eq!(
        world.refusal(|a| {
            a.issuer_claims.insert("nbf".into(), (t + 61).into());
        }),
        Refusal::NotYetValid
    );
    assert_eq!(
        world.refusal(|a| {
            a.issuer_claims.insert("iat".into(), (t + 61).into());
        }),
        Refusal::NotYetValid
    );
    let refusal = world.refusal(|a| {
        a.issuer_claims.insert("exp".into(), "tomorrow".into());
    });
    assert!(matches!(refusal, Refusal::MalformedPresentation(_)));
}

#[test]
fn a_claim_signed_in_the_clear_is_refused() {
    let world = World::new();
    let refusal = world.refusal(|a| {
        a.disclosed.remove(1);
        a.issuer_claims
            .insert("family_name".into(), "Muster".into());
    });
    assert_eq!(refusal, Refusal::PlainClaim("family_name".into()));
}

#[test]
fn a_changed_or_duplicated_or_unreferenced_disclosure_is_refused() {
    let world = World::new();
    let changed = world.refusal(|a| {
        a.tamper = Box::new(|encoded| {
            encoded[1] = disclosure(&json!(["salt-2", "family_name", "Other"])).0
        });
    });
    assert_eq!(changed, Refusal::DisclosureUnknown);
    let duplicated =
        world.refusal(|a| a.tamper = Box::new(|encoded| encoded.push(encoded[0].clone())));
    assert_eq!(duplicated, Refusal::DisclosureDuplicated);
    let extra = world.refusal(|a| {
        a.tamper = Box::new(|encoded| encoded.push(disclosure(&json!(["s", "portrait", "x"])).0));
    });
    assert_eq!(extra, Refusal::DisclosureUnknown);
    let sd_alg = world.refusal(|a| {
        a.issuer_claims.insert("_sd_alg".into(), "sha-1".into());
    });
    assert!(matches!(sd_alg, Refusal::DigestAlgorithmRefused(_)));
}

#[test]
fn a_missing_or_non_string_name_is_refused() {
    let world = World::new();
    assert_eq!(
        world.refusal(|a| {
            a.disclosed.remove(0);
        }),
        Refusal::ClaimMissing("given_name")
    );
    let refusal = world.refusal(|a| a.disclosed[1] = json!(["salt-2", "family_name", ["Muster"]]));
    assert_eq!(refusal, Refusal::ClaimMissing("family_name"));
    let refusal =
        world.refusal(|a| a.disclosed[1] = json!(["salt-2", "family_name", "Mu\u{0}ster"]));
    assert!(matches!(refusal, Refusal::MalformedPresentation(_)));
}

#[test]
fn a_missing_key_binding_is_refused() {
    let world = World::new();
    assert_eq!(
        world.refusal(|a| a.with_key_binding = false),
        Refusal::KeyBindingMissing
    );
    let refusal = world.refusal(|a| {
        a.issuer_claims.remove("cnf");
    });
    assert!(matches!(refusal, Refusal::KeyBindingInvalid(_)));
}

#[test]
fn a_key_binding_by_another_key_or_of_another_type_is_refused() {
    let world = World::new();
    let refusal = world.refusal(|a| a.kb_signer = &world.stranger);
    assert!(
        matches!(refusal, Refusal::KeyBindingInvalid(_)),
        "{refusal:?}"
    );
    assert_eq!(
        world.refusal(|a| a.kb_header["typ"] = "JWT".into()),
        Refusal::TypeRefused("JWT".into())
    );
    assert_eq!(
        world.refusal(|a| a.kb_header["alg"] = "none".into()),
        Refusal::AlgorithmRefused("none".into())
    );
}

#[test]
fn a_key_binding_for_another_audience_or_nonce_is_refused() {
    let world = World::new();
    for aud in [
        json!("did:example:desk"),
        json!([CLIENT_ID]),
        json!("decentralized_identifier:did:example:other"),
    ] {
        assert_eq!(
            world.refusal(|a| {
                a.kb_claims.insert("aud".into(), aud.clone());
            }),
            Refusal::WrongAudience,
            "{aud}"
        );
    }
    let refusal = world.refusal(|a| {
        a.kb_claims
            .insert("nonce".into(), "n0nce-of-another-session".into());
    });
    assert_eq!(refusal, Refusal::WrongNonce);
    assert_eq!(
        world.refusal(|a| {
            a.kb_claims.remove("nonce");
        }),
        Refusal::WrongNonce
    );
}

#[test]
fn a_stale_or_future_key_binding_is_refused() {
    let world = World::new();
    let t = now().timestamp();
    assert_eq!(
        world.refusal(|a| {
            a.kb_claims.insert("iat".into(), (t - 301).into());
        }),
        Refusal::KeyBindingStale
    );
    assert_eq!(
        world.refusal(|a| {
            a.kb_claims.insert("iat".into(), (t + 61).into());
        }),
        Refusal::KeyBindingStale
    );
    let refusal = world.refusal(|a| {
        a.kb_claims.remove("iat");
    });
    assert!(matches!(refusal, Refusal::KeyBindingInvalid(_)));
}

#[test]
fn a_key_binding_over_other_disclosures_is_refused() {
    let world = World::new();
    let refusal = world.refusal(|a| {
        a.kb_claims.insert("sd_hash".into(), b64(&[0u8; 32]).into());
    });
    assert!(matches!(refusal, Refusal::KeyBindingInvalid(_)));
}

#[path = "verify_status_tests.rs"]
mod status;
