//! Reviewer passwords: Argon2id, at least the argon2 crate's defaults (m=19456 KiB, t=2, p=1).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must have {MIN_CHARS} to {MAX_CHARS} characters")]
    Length,
    #[error("the password could not be hashed")]
    Hashing,
}

fn hasher() -> Argon2<'static> {
    Argon2::default()
}

pub fn check_length(password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if (MIN_CHARS..=MAX_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(PasswordError::Length)
    }
}

pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_length(password)?;
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Whether `password` matches `stored`, and whether `stored` should be rehashed because the
/// current parameters are stronger than the ones it was made with.
pub fn verify(password: &str, stored: &str) -> (bool, bool) {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return (false, false);
    };
    let ok = password.chars().count() <= MAX_CHARS
        && hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
    (ok, ok && needs_rehash(&parsed))
}

fn needs_rehash(parsed: &PasswordHash<'_>) -> bool {
    let current = hasher();
    let params = current.params();
    let value = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    parsed.algorithm.as_str() != "argon2id"
        || value("m") < params.m_cost()
        || value("t") < params.t_cost()
        || value("p") < params.p_cost()
}

/// A real hash to verify against when the account does not exist, so that unknown and
/// known names take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password that nobody has").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_at_least_the_default_cost() {
        let stored = hash("correct horse battery").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert_eq!(verify("correct horse battery", &stored), (true, false));
        assert_eq!(verify("wrong horse battery", &stored), (false, false));
    }

    #[test]
    fn weaker_hashes_are_flagged_for_rehash() {
        let weak = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert_eq!(verify("correct horse battery", &weak), (true, true));
    }

    #[test]
    fn length_is_12_to_128_characters() {
        assert_eq!(hash("short"), Err(PasswordError::Length));
        assert_eq!(hash(&"x".repeat(129)), Err(PasswordError::Length));
        assert!(hash(&"ü".repeat(12)).is_ok());
    }
}
