//! A passkey in software, for the refusal tests that a browser's authenticator cannot make:
//! a P-256 key (ring) answering WebAuthn options as a CTAP2 authenticator would, with a
//! signature counter the test can wind back.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_cbor_2::Value;
use serde_json::{json, Value as Json};

const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;

pub struct SoftPasskey {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    /// The signature counter the next assertion carries, plus one.
    pub counter: u32,
    origin: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

impl SoftPasskey {
    /// A new passkey for pages served at `origin` (`http://localhost`).
    pub fn new(origin: &str) -> SoftPasskey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        SoftPasskey {
            key,
            credential_id: ring::rand::generate::<[u8; 16]>(&rng)
                .unwrap()
                .expose()
                .to_vec(),
            user_handle: Vec::new(),
            counter: 0,
            origin: origin.to_owned(),
        }
    }

    fn client_data(&self, kind: &str, options: &Json) -> Vec<u8> {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    /// The COSE form of the public key: EC2, ES256, P-256, x and y.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let map = Value::Map(
            [
                (Value::Integer(1), Value::Integer(2)),
                (Value::Integer(3), Value::Integer(-7)),
                (Value::Integer(-1), Value::Integer(1)),
                (Value::Integer(-2), Value::Bytes(point[1..33].to_vec())),
                (Value::Integer(-3), Value::Bytes(point[33..65].to_vec())),
            ]
            .into_iter()
            .collect(),
        );
        serde_cbor_2::to_vec(&map).unwrap()
    }

    /// The answer to registration options (`navigator.credentials.create`), as `toJSON()`.
    pub fn register(&mut self, options: &Json) -> String {
        let rp_id = options["publicKey"]["rp"]["id"].as_str().unwrap();
        let user_id = options["publicKey"]["user"]["id"].as_str().unwrap();
        self.user_handle = URL_SAFE_NO_PAD.decode(user_id).unwrap();
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(USER_PRESENT | USER_VERIFIED | ATTESTED_CREDENTIAL);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0; 16]);
        auth_data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());
        let attestation = Value::Map(
            [
                (Value::Text("fmt".into()), Value::Text("none".into())),
                (
                    Value::Text("attStmt".into()),
                    Value::Map(Default::default()),
                ),
                (Value::Text("authData".into()), Value::Bytes(auth_data)),
            ]
            .into_iter()
            .collect(),
        );
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&serde_cbor_2::to_vec(&attestation).unwrap()),
                "clientDataJSON": b64(&self.client_data("webauthn.create", options)),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// The answer to authentication options (`navigator.credentials.get`), with the user
    /// verified or not; the counter goes up by one first.
    pub fn assert(&mut self, options: &Json, user_verified: bool) -> String {
        self.counter += 1;
        let rp_id = options["publicKey"]["rpId"].as_str().unwrap();
        let mut auth_data = sha256(rp_id.as_bytes());
        let flags = if user_verified {
            USER_PRESENT | USER_VERIFIED
        } else {
            USER_PRESENT
        };
        auth_data.push(flags);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let client_data = self.client_data("webauthn.get", options);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.as_ref()),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }
}
