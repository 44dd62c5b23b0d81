//! A test issuer of SD-JWT VCs (RFC 9901, SD-JWT VC with `typ` `dc+sd-jwt`, the swiyu "Swiss
//! Profile VC"): its P-256 key, its DID and trust-file entry, credentials with flat, recursive
//! and array-element disclosures, and Token Status List tokens (`statuslist+jwt`).
//! Every field of [`CredentialSpec`] can be turned into what a forger would send.

use p256::ecdsa::SigningKey;
use serde_json::{json, Value};

use super::jose::{b64, new_signing_key, public_jwk, random_b64, sha256_b64, sign_es256};
use super::jose::{unsigned_jws, zlib};

/// The Beta-ID's type, the first of the verifier's default accepted `vct`s.
pub const BETA_ID_VCT: &str = "betaid-sdjwt";
pub const PROFILE_VC: &str = "swiss-profile-vc:1.0.0";

/// An issuer: a P-256 key and a did:webvh-like DID (unique per issuer).
pub struct TestIssuer {
    did: String,
    key: SigningKey,
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl TestIssuer {
    /// A fresh key and DID `did:webvh:<random scid>:issuer.transfer-desk.test`.
    pub fn new() -> Self {
        let scid = random_b64(16).replace(['-', '_'], "x");
        Self {
            did: format!("did:webvh:{scid}:issuer.transfer-desk.test"),
            key: new_signing_key(),
        }
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    /// The absolute key id `<did>#key-1` (swiss-profile-anchor: `kid` names the DID and key).
    pub fn kid(&self) -> String {
        format!("{}#key-1", self.did)
    }

    /// The public JWK with `kid` (absolute), `alg` ES256 and `use` sig.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = public_jwk(self.key.verifying_key());
        jwk["kid"] = json!(self.kid());
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        jwk
    }

    /// This issuer's entry of a trust file: `{"did": …, "keys": [JWK with kid]}`.
    pub fn trust_entry(&self) -> Value {
        json!({ "did": self.did, "keys": [self.public_jwk()] })
    }

    /// A trust file (`TRANSFER_DESK_EID_TRUST_FILE`) that trusts this issuer only.
    pub fn trust_file_json(&self) -> String {
        json!([self.trust_entry()]).to_string()
    }

    /// An SD-JWT VC (issuer-signed JWT and its disclosures, no key binding yet).
    pub fn issue(&self, spec: &CredentialSpec) -> Credential {
        let mut disclosures = Vec::new();
        let mut sd = Vec::new();
        for (name, value) in [
            ("given_name", json!(spec.given_name)),
            ("family_name", json!(spec.family_name)),
            ("birth_date", json!(spec.birth_date)),
        ] {
            sd.push(disclose(
                &mut disclosures,
                name,
                Disclosure::property(name, value),
            ));
        }
        sd.push(self.recursive_address(&mut disclosures, spec));
        sd.push(nationalities(&mut disclosures));
        sd.sort();
        let mut claims = json!({
            "_sd": sd,
            "_sd_alg": spec.sd_alg,
            "iss": spec.iss.clone().unwrap_or_else(|| self.did.clone()),
            "vct": spec.vct,
            "iat": spec.iat,
        });
        if let Some(exp) = spec.exp {
            claims["exp"] = json!(exp);
        }
        if let Some(nbf) = spec.nbf {
            claims["nbf"] = json!(nbf);
        }
        if let Some(holder) = &spec.holder {
            claims["cnf"] = json!({ "jwk": holder });
        }
        if let Some((uri, idx)) = &spec.status {
            claims["status"] = json!({ "status_list": { "idx": idx, "uri": uri } });
        }
        super::jose::merge(&mut claims, &spec.extra_claims);
        let header = json!({
            "alg": if spec.alg_none { "none" } else { "ES256" },
            "typ": spec.typ,
            "kid": spec.kid.clone().unwrap_or_else(|| self.kid()),
            "profile_version": PROFILE_VC,
        });
        let jwt = if spec.alg_none {
            unsigned_jws(&header, &claims)
        } else {
            sign_es256(&header, &claims, &self.key)
        };
        Credential { jwt, disclosures }
    }

    /// `address` is a disclosure whose object value holds only digests of its members'
    /// disclosures (RFC 9901 §6.3, recursive disclosures). With `duplicate_digest`, the
    /// `given_name` digest is also listed here (RFC 9901 §7.1: a digest seen twice is refused).
    fn recursive_address(
        &self,
        disclosures: &mut Vec<(String, Disclosure)>,
        spec: &CredentialSpec,
    ) -> String {
        let mut members = Vec::new();
        for (name, value) in [
            ("street_address", "Bundesgasse 3"),
            ("locality", "Bern"),
            ("postal_code", "3003"),
            ("country", "CH"),
        ] {
            let path = format!("address.{name}");
            members.push(disclose(
                disclosures,
                &path,
                Disclosure::property(name, json!(value)),
            ));
        }
        if spec.duplicate_digest {
            let given = disclosures
                .iter()
                .find(|(path, _)| path == "given_name")
                .map(|(_, d)| d.digest.clone())
                .expect("given_name is disclosed first");
            members.push(given);
        }
        members.sort();
        disclose(
            disclosures,
            "address",
            Disclosure::property("address", json!({ "_sd": members })),
        )
    }

    /// A status list token (Token Status List §5.1, swiss-profile-vc §5.1): `typ`
    /// `statuslist+jwt`, `kid` absolute, `sub` the list's URI, `exp` in the future.
    pub fn status_list_token(&self, uri: &str, list: &StatusList, now: i64) -> String {
        let header = json!({
            "alg": "ES256",
            "typ": "statuslist+jwt",
            "kid": self.kid(),
            "profile_version": PROFILE_VC,
        });
        let claims = json!({
            "sub": uri,
            "iat": now,
            "exp": now + 86_400,
            "ttl": 3_600,
            "status_list": { "bits": list.bits, "lst": b64(zlib(&list.bytes)) },
        });
        sign_es256(&header, &claims, &self.key)
    }
}

/// `nationalities` is a disclosure whose array value holds array-element digests
/// (`{"...": digest}`, RFC 9901 §4.2.2), each element its own disclosure.
fn nationalities(disclosures: &mut Vec<(String, Disclosure)>) -> String {
    let elements: Vec<Value> = ["CH", "FR"]
        .iter()
        .enumerate()
        .map(|(i, country)| {
            let path = format!("nationalities[{i}]");
            json!({ "...": disclose(disclosures, &path, Disclosure::element(json!(country))) })
        })
        .collect();
    disclose(
        disclosures,
        "nationalities",
        Disclosure::property("nationalities", json!(elements)),
    )
}

fn disclose(
    disclosures: &mut Vec<(String, Disclosure)>,
    path: &str,
    disclosure: Disclosure,
) -> String {
    let digest = disclosure.digest.clone();
    disclosures.push((path.to_owned(), disclosure));
    digest
}

/// What goes into a credential; [`CredentialSpec::honest`] is what a genuine issuer sends.
#[derive(Debug, Clone)]
pub struct CredentialSpec {
    /// The holder's public JWK for `cnf.jwk`; `None` leaves `cnf` out.
    pub holder: Option<Value>,
    pub vct: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub iat: i64,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    /// `status.status_list` `(uri, idx)`; `None` leaves `status` out.
    pub status: Option<(String, usize)>,
    pub typ: String,
    pub sd_alg: String,
    /// Header `alg` `none` and no signature.
    pub alg_none: bool,
    /// Header `kid` instead of this issuer's.
    pub kid: Option<String>,
    /// `iss` instead of this issuer's DID.
    pub iss: Option<String>,
    /// The `given_name` digest listed a second time (inside `address`).
    pub duplicate_digest: bool,
    /// Claims added to (or, when `null`, removed from) the payload.
    pub extra_claims: Value,
}

impl CredentialSpec {
    /// Anna Muster's Beta-ID, issued a day before `now`, valid a year, bound to `holder`.
    pub fn honest(holder: Value, status: Option<(String, usize)>, now: i64) -> Self {
        Self {
            holder: Some(holder),
            vct: BETA_ID_VCT.into(),
            given_name: "Anna Maria".into(),
            family_name: "Muster".into(),
            birth_date: "1990-04-01".into(),
            iat: now - 86_400,
            exp: Some(now + 365 * 86_400),
            nbf: Some(now - 86_400),
            status,
            typ: "dc+sd-jwt".into(),
            sd_alg: "sha-256".into(),
            alg_none: false,
            kid: None,
            iss: None,
            duplicate_digest: false,
            extra_claims: json!({}),
        }
    }
}

/// One disclosure (RFC 9901 §4.2): the base64url of a JSON array, and its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub encoded: String,
    pub digest: String,
}

impl Disclosure {
    /// `[salt, name, value]`, for an object property.
    pub fn property(name: &str, value: Value) -> Self {
        Self::from_array(&json!([random_b64(16), name, value]))
    }

    /// `[salt, value]`, for an array element.
    pub fn element(value: Value) -> Self {
        Self::from_array(&json!([random_b64(16), value]))
    }

    pub fn from_array(array: &Value) -> Self {
        let encoded = b64(array.to_string());
        let digest = sha256_b64(&encoded);
        Self { encoded, digest }
    }

    /// The decoded JSON array.
    pub fn array(&self) -> Value {
        let bytes = super::jose::unb64(&self.encoded).expect("our own base64url");
        serde_json::from_slice(&bytes).expect("our own JSON")
    }
}

/// An issued SD-JWT VC: the issuer-signed JWT and every disclosure with its claim path
/// (`given_name`, `address`, `address.locality`, `nationalities`, `nationalities[0]`, …).
#[derive(Debug, Clone)]
pub struct Credential {
    pub jwt: String,
    pub disclosures: Vec<(String, Disclosure)>,
}

impl Credential {
    pub fn disclosure(&self, path: &str) -> &Disclosure {
        &self
            .disclosures
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no disclosure at {path}"))
            .1
    }

    /// The disclosures a DCQL claims path (e.g. `["address", "locality"]`,
    /// `["nationalities", null]`) needs: the claim's own and those of the objects it sits in.
    pub fn disclosures_for(&self, path: &[Value]) -> Vec<&Disclosure> {
        let mut prefix = String::new();
        let mut wanted = Vec::new();
        for step in path {
            match step {
                Value::String(name) if prefix.is_empty() => prefix = name.clone(),
                Value::String(name) => prefix = format!("{prefix}.{name}"),
                Value::Null => {
                    wanted.push(prefix.clone());
                    prefix = format!("{prefix}[");
                    break;
                }
                Value::Number(i) => prefix = format!("{prefix}[{i}]"),
                _ => return Vec::new(),
            }
        }
        let mut chosen: Vec<&Disclosure> = Vec::new();
        for (p, disclosure) in &self.disclosures {
            let needed = p == &prefix
                || (prefix.ends_with('[') && p.starts_with(&prefix))
                || prefix.starts_with(&format!("{p}."))
                || prefix.starts_with(&format!("{p}["))
                || wanted.contains(p);
            if needed && !chosen.contains(&disclosure) {
                chosen.push(disclosure);
            }
        }
        chosen
    }
}

/// A status list (Token Status List §4): `bits` per entry, entry `i` in byte `i * bits / 8`
/// from the least significant bit on.
#[derive(Debug, Clone)]
pub struct StatusList {
    pub bits: u8,
    pub bytes: Vec<u8>,
}

pub const VALID: u8 = 0;
pub const INVALID: u8 = 1;
pub const SUSPENDED: u8 = 2;

impl StatusList {
    pub fn new(entries: usize, bits: u8) -> Self {
        assert!(matches!(bits, 1 | 2 | 4 | 8));
        Self {
            bits,
            bytes: vec![0; (entries * bits as usize).div_ceil(8)],
        }
    }

    pub fn set(&mut self, idx: usize, status: u8) {
        let bits = self.bits as usize;
        let (byte, shift) = (idx * bits / 8, (idx * bits) % 8);
        let mask = ((1u16 << bits) - 1) as u8;
        self.bytes[byte] &= !(mask << shift);
        self.bytes[byte] |= (status & mask) << shift;
    }

    pub fn get(&self, idx: usize) -> u8 {
        let bits = self.bits as usize;
        let (byte, shift) = (idx * bits / 8, (idx * bits) % 8);
        (self.bytes[byte] >> shift) & ((1u16 << bits) - 1) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9901 §4.2.1 / §5.1: the example disclosure of `family_name` "Möbius" and its digest.
    #[test]
    fn a_disclosure_digest_is_the_rfc_9901_example() {
        let encoded = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0";
        assert_eq!(
            sha256_b64(encoded),
            "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
        );
    }

    /// Token Status List §4.1's example: bits 1, statuses [1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1]
    /// make the bytes 0xB9 0xA3.
    #[test]
    fn a_status_list_packs_entries_as_the_draft_example() {
        let mut list = StatusList::new(16, 1);
        for (i, s) in [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
            .iter()
            .enumerate()
        {
            list.set(i, *s);
        }
        assert_eq!(list.bytes, [0xB9, 0xA3]);
        let mut two = StatusList::new(12, 2);
        two.set(1, SUSPENDED);
        two.set(2, INVALID);
        assert_eq!(
            (two.get(0), two.get(1), two.get(2)),
            (VALID, SUSPENDED, INVALID)
        );
        assert_eq!(two.bytes[0], 0b0001_1000);
    }

    #[test]
    fn the_payload_holds_only_digests_of_the_personal_claims() {
        let issuer = TestIssuer::new();
        let holder = public_jwk(new_signing_key().verifying_key());
        let credential = issuer.issue(&CredentialSpec::honest(holder, None, 1_800_000_000));
        let (_, claims) = super::super::jose::decode_jws(&credential.jwt).unwrap();
        assert!(claims.get("given_name").is_none() && claims.get("address").is_none());
        let top: Vec<&str> = claims["_sd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert!(top.contains(&credential.disclosure("given_name").digest.as_str()));
        assert!(!top.contains(&credential.disclosure("address.locality").digest.as_str()));
        let address = credential.disclosure("address").array();
        assert!(address[2]["_sd"]
            .as_array()
            .unwrap()
            .contains(&json!(credential.disclosure("address.locality").digest)));
        let locality = credential.disclosures_for(&[json!("address"), json!("locality")]);
        assert_eq!(locality.len(), 2);
        let all = credential.disclosures_for(&[json!("nationalities"), Value::Null]);
        assert_eq!(all.len(), 3);
    }
}
