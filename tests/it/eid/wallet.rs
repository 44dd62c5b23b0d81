//! A test wallet (the swiyu app's part of OpenID4VP 1.0 with `direct_post.jwt`): it holds a
//! Beta-ID-like credential of the [`TestIssuer`], reads the verifier's request object, discloses
//! what the DCQL query asks for, binds the presentation to the session with a KB-JWT
//! (RFC 9901 §4.3) and encrypts the answer to the session's key (ECDH-ES + A256GCM).
//! Each [`Tamper`] turns one step into what an attacker would send.

use p256::ecdsa::SigningKey;
use serde_json::{json, Value};

use super::http::{self, HttpReply};
use super::issuer::{Credential, CredentialSpec, Disclosure, StatusList, TestIssuer};
use super::issuer::{INVALID, SUSPENDED};
use super::jose::{self, b64, new_signing_key, public_jwk, random_b64, sha256_b64, JweOptions};
use super::request::{read_link, read_request, Request, RequestRejected};

pub use super::tamper::Tamper;

/// Status list entries of the list at `<status base>/1` (2 bits, 100 000 entries).
pub const VALID_IDX: usize = 1_234;
pub const REVOKED_IDX: usize = 4_711;
pub const SUSPENDED_IDX: usize = 4_712;
pub const STATUS_ENTRIES: usize = 100_000;

/// The wallet and the world around it: the trusted issuer, a stranger (an issuer not in the
/// trust file), the holder's key and another holder's key.
pub struct Wallet {
    pub issuer: TestIssuer,
    pub stranger: TestIssuer,
    holder: SigningKey,
    other_holder: SigningKey,
    status_base: String,
    verifier_jwk: Option<Value>,
}

/// What the wallet sends to `response_uri`: form fields, normally `response=<JWE>` alone.
#[derive(Debug, Clone)]
pub struct Answer {
    pub form: Vec<(String, String)>,
}

impl Answer {
    /// The `response` field: what [`transfer_desk::eid::protocol::verify_response`] takes.
    /// `None` for [`Tamper::UnencryptedForm`].
    pub fn response(&self) -> Option<&str> {
        self.form
            .iter()
            .find(|(n, _)| n == "response")
            .map(|(_, v)| v.as_str())
    }

    /// The `application/x-www-form-urlencoded` body.
    pub fn body(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.form)
            .finish()
    }
}

/// The wallet's round trip over HTTP: the request it read, what it sent and what came back.
#[derive(Debug)]
pub struct Answered {
    pub request: Request,
    pub answer: Answer,
    pub reply: HttpReply,
}

impl Wallet {
    /// A fresh world whose credentials point at status lists under `status_base` (e.g.
    /// [`super::StatusServer::base`], or any https URL for an in-memory source).
    pub fn new(status_base: &str) -> Self {
        Self {
            issuer: TestIssuer::new(),
            stranger: TestIssuer::new(),
            holder: new_signing_key(),
            other_holder: new_signing_key(),
            status_base: status_base.trim_end_matches('/').to_owned(),
            verifier_jwk: None,
        }
    }

    /// The verifier's public JWK (what `transfer-desk eid key` prints), with which the wallet
    /// checks request objects fetched over HTTP.
    pub fn set_verifier_jwk(&mut self, jwk: Value) {
        self.verifier_jwk = Some(jwk);
    }

    /// The trust file: the trusted issuer only (never the stranger).
    pub fn trust_file_json(&self) -> String {
        self.issuer.trust_file_json()
    }

    /// The URI of the trusted issuer's status list.
    pub fn status_uri(&self) -> String {
        format!("{}/1", self.status_base)
    }

    fn stranger_status_uri(&self) -> String {
        format!("{}/stranger", self.status_base)
    }

    /// Every status list token to serve, `(uri, token)`: the issuer's list (entry
    /// [`VALID_IDX`] valid, [`REVOKED_IDX`] revoked, [`SUSPENDED_IDX`] suspended) and one of
    /// the same content signed by the stranger.
    pub fn status_tokens(&self, now: i64) -> Vec<(String, String)> {
        let mut list = StatusList::new(STATUS_ENTRIES, 2);
        list.set(REVOKED_IDX, INVALID);
        list.set(SUSPENDED_IDX, SUSPENDED);
        let own = self
            .issuer
            .status_list_token(&self.status_uri(), &list, now);
        let stranger_uri = self.stranger_status_uri();
        let stranger = self.stranger.status_list_token(&stranger_uri, &list, now);
        vec![(self.status_uri(), own), (stranger_uri, stranger)]
    }

    /// The credential the wallet presents under `tamper`, issued at `now`.
    pub fn credential(&self, tamper: Tamper, now: i64) -> Credential {
        let status = match tamper {
            Tamper::NoStatusReference => None,
            Tamper::Revoked => Some((self.status_uri(), REVOKED_IDX)),
            Tamper::Suspended => Some((self.status_uri(), SUSPENDED_IDX)),
            Tamper::StatusIndexOutOfRange => Some((self.status_uri(), STATUS_ENTRIES * 4)),
            Tamper::StatusListOfStranger => Some((self.stranger_status_uri(), VALID_IDX)),
            _ => Some((self.status_uri(), VALID_IDX)),
        };
        let holder = public_jwk(self.holder.verifying_key());
        let mut spec = CredentialSpec::honest(holder, status, now);
        let mut issuer = &self.issuer;
        match tamper {
            Tamper::Expired => {
                (spec.iat, spec.nbf, spec.exp) =
                    (now - 90_000, Some(now - 90_000), Some(now - 3_600))
            }
            Tamper::NotYetValid => spec.nbf = Some(now + 3_600),
            Tamper::UntrustedIssuer => issuer = &self.stranger,
            Tamper::UntrustedKidTrustedIss => {
                issuer = &self.stranger;
                spec.iss = Some(self.issuer.did().to_owned());
            }
            Tamper::TrustedKidForgedSignature => {
                issuer = &self.stranger;
                spec.kid = Some(self.issuer.kid());
                spec.iss = Some(self.issuer.did().to_owned());
            }
            Tamper::AlgNone => spec.alg_none = true,
            Tamper::LegacyTyp => spec.typ = "vc+sd-jwt".into(),
            Tamper::WrongTyp => spec.typ = "JWT".into(),
            Tamper::OtherVct => spec.vct = "urn:vct:example:library-card".into(),
            Tamper::OtherSdAlg => spec.sd_alg = "sha-512".into(),
            Tamper::DuplicatedDigest => spec.duplicate_digest = true,
            Tamper::NoCnf => spec.holder = None,
            Tamper::ClaimNameCollision => spec.extra_claims = json!({ "given_name": "Eve" }),
            _ => {}
        }
        issuer.issue(&spec)
    }

    /// The answer to `request` under `tamper`, made at `now` (Unix seconds).
    pub fn present_at(&self, request: &Request, tamper: Tamper, now: i64) -> Answer {
        let credential = self.credential(tamper, now);
        let disclosures = self.disclosures(&credential, request, tamper);
        let mut sd_jwt = credential.jwt.clone();
        for disclosure in &disclosures {
            sd_jwt.push('~');
            sd_jwt.push_str(disclosure);
        }
        sd_jwt.push('~');
        let presentation = if tamper == Tamper::MissingKeyBinding {
            sd_jwt
        } else {
            let key_binding = self.key_binding(&sd_jwt, request, tamper, now);
            format!("{sd_jwt}{key_binding}")
        };
        let mut payload = json!({
            "vp_token": { request.query_id.clone(): [presentation] },
            "state": request.state,
        });
        match tamper {
            Tamper::WrongState => payload["state"] = json!(random_b64(32)),
            Tamper::Oversized => payload["padding"] = json!(random_padding(270_000)),
            Tamper::InflationBomb => payload["padding"] = json!(" ".repeat(4 << 20)),
            _ => {}
        }
        if tamper == Tamper::MissingState {
            payload.as_object_mut().unwrap().remove("state");
        }
        self.wrap(request, &payload, tamper)
    }

    /// The answer to `request` under `tamper`, made now.
    pub fn present(&self, request: &Request, tamper: Tamper) -> Answer {
        self.present_at(request, tamper, chrono::Utc::now().timestamp())
    }

    fn disclosures(
        &self,
        credential: &Credential,
        request: &Request,
        tamper: Tamper,
    ) -> Vec<String> {
        let mut chosen: Vec<&Disclosure> = Vec::new();
        if tamper == Tamper::DiscloseEverything {
            chosen.extend(credential.disclosures.iter().map(|(_, d)| d));
        }
        for path in &request.claim_paths {
            for disclosure in credential.disclosures_for(path) {
                if !chosen.contains(&disclosure) {
                    chosen.push(disclosure);
                }
            }
        }
        if tamper == Tamper::DuplicatedDigest {
            // The second copy of the digest sits in `address`: a verifier sees it only if
            // `address` is disclosed.
            chosen.push(credential.disclosure("address"));
        }
        let mut encoded: Vec<String> = chosen.iter().map(|d| d.encoded.clone()).collect();
        let given = credential.disclosure("given_name");
        match tamper {
            Tamper::ChangedDisclosure => {
                let mut array = given.array();
                array[2] = json!("Eve");
                let changed = Disclosure::from_array(&array).encoded;
                encoded
                    .iter_mut()
                    .filter(|e| **e == given.encoded)
                    .for_each(|e| *e = changed.clone());
            }
            Tamper::DuplicatedDisclosure => encoded.push(given.encoded.clone()),
            Tamper::OrphanNestedDisclosure => {
                encoded.push(credential.disclosure("address.locality").encoded.clone());
            }
            _ => {}
        }
        encoded
    }

    /// The KB-JWT (RFC 9901 §4.3): `typ` kb+jwt, signed by the `cnf` key, over `aud`, `nonce`,
    /// `iat` and `sd_hash` (the SHA-256 of everything before it, final `~` included).
    fn key_binding(&self, sd_jwt: &str, request: &Request, tamper: Tamper, now: i64) -> String {
        let mut header = json!({ "alg": "ES256", "typ": "kb+jwt" });
        let mut claims = json!({
            "iat": now,
            "aud": request.client_id,
            "nonce": request.nonce,
            "sd_hash": sha256_b64(sd_jwt),
        });
        match tamper {
            Tamper::OtherNonce => claims["nonce"] = json!(random_b64(32)),
            Tamper::OtherAudience => {
                claims["aud"] = json!("decentralized_identifier:did:web:elsewhere.example")
            }
            Tamper::AudienceWithoutPrefix => {
                let did = request
                    .client_id
                    .trim_start_matches("decentralized_identifier:");
                claims["aud"] = json!(did);
            }
            Tamper::SdHashMismatch => claims["sd_hash"] = json!(sha256_b64(&format!("{sd_jwt}x"))),
            Tamper::KeyBindingTooOld => claims["iat"] = json!(now - 400),
            Tamper::KeyBindingFromFuture => claims["iat"] = json!(now + 400),
            Tamper::KeyBindingWrongTyp => header["typ"] = json!("JWT"),
            Tamper::KeyBindingAlgNone => {
                header["alg"] = json!("none");
                return jose::unsigned_jws(&header, &claims);
            }
            _ => {}
        }
        let key = match tamper {
            Tamper::KeyBindingByOtherKey => &self.other_holder,
            _ => &self.holder,
        };
        jose::sign_es256(&header, &claims, key)
    }

    /// Encrypts the payload to the session's key (or, for the unencrypted variants, does not).
    fn wrap(&self, request: &Request, payload: &Value, tamper: Tamper) -> Answer {
        let form = |pairs: Vec<(&str, String)>| Answer {
            form: pairs.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
        };
        match tamper {
            Tamper::UnencryptedForm => {
                return form(vec![
                    ("vp_token", payload["vp_token"].to_string()),
                    ("state", request.state.clone()),
                ])
            }
            Tamper::UnencryptedJson => return form(vec![("response", payload.to_string())]),
            Tamper::UnencryptedJws => {
                let header = json!({ "alg": "ES256", "typ": "JWT" });
                return form(vec![(
                    "response",
                    jose::sign_es256(&header, payload, &self.holder),
                )]);
            }
            _ => {}
        }
        let session_key = jose::verifying_key(&request.encryption_jwk).expect("checked when read");
        let recipient = match tamper {
            Tamper::OtherRecipientKey => *new_signing_key().verifying_key(),
            _ => session_key,
        };
        let mut options = JweOptions {
            kid: request.encryption_jwk["kid"].as_str().map(str::to_owned),
            deflate: matches!(tamper, Tamper::Compressed | Tamper::InflationBomb),
            ..JweOptions::default()
        };
        match tamper {
            Tamper::WrongKid => options.kid = Some(format!("{}-not", random_b64(8))),
            Tamper::UnsupportedEnc => options.enc = "A128CBC-HS256".into(),
            Tamper::A128GcmEnc => options.enc = "A128GCM".into(),
            Tamper::UnsupportedAlg => options.alg = "ECDH-ES+A256KW".into(),
            _ => {}
        }
        let jwe = jose::encrypt_ecdh_es(payload.to_string().as_bytes(), &recipient, &options);
        form(vec![("response", jwe)])
    }

    /// GETs the request object at `request_uri` and checks it with the verifier's JWK (set by
    /// [`Wallet::set_verifier_jwk`]) as the swiyu app would.
    pub async fn fetch_request(&self, request_uri: &str) -> Result<Request, RequestRejected> {
        let reply = http::get(request_uri).await;
        if reply.status != 200 {
            return Err(RequestRejected(format!(
                "request_uri answered {}",
                reply.status
            )));
        }
        if !reply
            .content_type
            .starts_with("application/oauth-authz-req+jwt")
        {
            return Err(RequestRejected(format!(
                "content type {}",
                reply.content_type
            )));
        }
        let jwk = self
            .verifier_jwk
            .as_ref()
            .expect("set_verifier_jwk was called");
        read_request(reply.body.trim(), jwk)
    }

    /// The whole flow over HTTP: fetch the request object at `request_uri`, answer under
    /// `tamper`, POST the answer to its `response_uri`. Panics if the request object is not
    /// acceptable (use [`Wallet::fetch_request`] to see why).
    pub async fn answer(&self, request_uri: &str, tamper: Tamper) -> Answered {
        let request = self
            .fetch_request(request_uri)
            .await
            .unwrap_or_else(|e| panic!("the wallet refuses the request object: {}", e.0));
        let answer = self.present(&request, tamper);
        let reply = Self::post(&request.response_uri, &answer).await;
        Answered {
            request,
            answer,
            reply,
        }
    }

    /// As [`Wallet::answer`], from the same-device link (`swiyu-verify://?client_id=…&
    /// request_uri=…`): also checks that the link's `client_id` is the request object's
    /// (RFC 9101 §5: they MUST be identical).
    pub async fn answer_link(&self, link: &str, tamper: Tamper) -> Answered {
        let (client_id, request_uri) = read_link(link).unwrap_or_else(|e| panic!("{}", e.0));
        let answered = self.answer(&request_uri, tamper).await;
        assert_eq!(
            client_id, answered.request.client_id,
            "the link's client_id is the request's"
        );
        answered
    }

    /// POSTs `answer` to `response_uri` (again, for a replay).
    pub async fn post(response_uri: &str, answer: &Answer) -> HttpReply {
        http::post_form(response_uri, answer.body()).await
    }
}

/// Incompressible base64url text of `len` characters.
fn random_padding(len: usize) -> String {
    let mut text = String::with_capacity(len + 64);
    while text.len() < len {
        text.push_str(&b64(jose::random_bytes::<48>()));
    }
    text.truncate(len);
    text
}
