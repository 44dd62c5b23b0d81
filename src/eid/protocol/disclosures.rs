//! Selective disclosure (RFC 9901 §7.1 steps 3–5): every disclosure given must be referenced
//! exactly once by a digest in the issuer-signed payload or in another disclosure (recursive
//! disclosures), no digest may appear twice, and a disclosed name may not replace a claim.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::error::Refusal;
use super::jose::{b64, unb64};
use super::json::parse_strict;

/// Claims that SD-JWT VC (draft 15 §3.2.2.2) and the Swiss profile keep out of disclosures.
pub(super) const NEVER_DISCLOSED: [&str; 10] = [
    "iss",
    "nbf",
    "exp",
    "iat",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
    "vct_metadata_uri",
    "vct_metadata_uri#integrity",
];

/// One disclosure: `[salt, name, value]` for an object member or `[salt, value]` for an
/// array element.
#[derive(Debug)]
struct Disclosure {
    name: Option<String>,
    value: Value,
}

/// The payload with every disclosure put in its place and the `_sd`, `_sd_alg` and
/// undisclosed `...` entries removed.
pub(crate) fn resolve(
    mut payload: Map<String, Value>,
    disclosures: &[&str],
) -> Result<Map<String, Value>, Refusal> {
    match payload.remove("_sd_alg") {
        None => {}
        Some(alg) if alg == "sha-256" => {}
        Some(other) => return Err(Refusal::DigestAlgorithmRefused(other.to_string())),
    }
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for encoded in disclosures {
        let digest = b64(ring::digest::digest(&ring::digest::SHA256, encoded.as_bytes()).as_ref());
        if by_digest.insert(digest, parse(encoded)?).is_some() {
            return Err(Refusal::DisclosureDuplicated);
        }
    }
    let mut walk = Walk {
        unused: by_digest,
        seen: HashSet::new(),
    };
    let resolved = walk.object(payload)?;
    if !walk.unused.is_empty() {
        return Err(Refusal::DisclosureUnknown);
    }
    Ok(resolved)
}

fn parse(encoded: &str) -> Result<Disclosure, Refusal> {
    let malformed = Refusal::DisclosureMalformed;
    let Some(Value::Array(items)) = unb64(encoded).and_then(|json| parse_strict(&json)) else {
        return Err(malformed("not a base64url JSON array"));
    };
    let mut items = items.into_iter();
    let (Some(Value::String(_salt)), Some(second)) = (items.next(), items.next()) else {
        return Err(malformed("no salt"));
    };
    match (second, items.next(), items.next()) {
        (value, None, None) => Ok(Disclosure { name: None, value }),
        (Value::String(name), Some(value), None) => {
            if name == "_sd" || name == "..." || NEVER_DISCLOSED.contains(&name.as_str()) {
                return Err(malformed("a reserved claim name is disclosed"));
            }
            Ok(Disclosure {
                name: Some(name),
                value,
            })
        }
        _ => Err(malformed("neither two nor three elements")),
    }
}

struct Walk {
    unused: HashMap<String, Disclosure>,
    /// Every digest met so far, disclosed or not: each may appear only once.
    seen: HashSet<String>,
}

impl Walk {
    fn object(&mut self, mut object: Map<String, Value>) -> Result<Map<String, Value>, Refusal> {
        let digests = match object.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(digests)) => digests,
            Some(_) => return Err(Refusal::DisclosureMalformed("_sd is not an array")),
        };
        let mut resolved = Map::with_capacity(object.len() + digests.len());
        for (name, value) in object {
            resolved.insert(name, self.value(value)?);
        }
        for digest in digests {
            let Some(disclosure) = self.take(digest)? else {
                continue;
            };
            let Some(name) = disclosure.name else {
                return Err(Refusal::DisclosureMalformed(
                    "an array element disclosed as a member",
                ));
            };
            let value = self.value(disclosure.value)?;
            if resolved.insert(name, value).is_some() {
                return Err(Refusal::DisclosureMalformed(
                    "a disclosed name replaces a claim",
                ));
            }
        }
        Ok(resolved)
    }

    fn array(&mut self, items: Vec<Value>) -> Result<Vec<Value>, Refusal> {
        let mut resolved = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::Object(object) if object.contains_key("...") => {
                    let mut entries = object.into_iter();
                    let (Some((_, digest)), None) = (entries.next(), entries.next()) else {
                        return Err(Refusal::DisclosureMalformed("\"...\" beside other members"));
                    };
                    let Some(disclosure) = self.take(digest)? else {
                        continue;
                    };
                    if disclosure.name.is_some() {
                        return Err(Refusal::DisclosureMalformed(
                            "a member disclosed as an array element",
                        ));
                    }
                    resolved.push(self.value(disclosure.value)?);
                }
                other => resolved.push(self.value(other)?),
            }
        }
        Ok(resolved)
    }

    fn value(&mut self, value: Value) -> Result<Value, Refusal> {
        Ok(match value {
            Value::Object(object) => Value::Object(self.object(object)?),
            Value::Array(items) => Value::Array(self.array(items)?),
            other => other,
        })
    }

    /// The disclosure of `digest`, if one was given; a digest met twice is refused.
    fn take(&mut self, digest: Value) -> Result<Option<Disclosure>, Refusal> {
        let Value::String(digest) = digest else {
            return Err(Refusal::DisclosureMalformed("a digest is not a string"));
        };
        if !self.seen.insert(digest.clone()) {
            return Err(Refusal::DisclosureDuplicated);
        }
        Ok(self.unused.remove(&digest))
    }
}

#[cfg(test)]
#[path = "disclosures_tests.rs"]
mod tests;
