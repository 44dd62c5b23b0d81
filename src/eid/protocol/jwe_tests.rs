use super::*;
use crate::eid::protocol::jose::b64;
use crate::eid::protocol::test_support::{encrypt, Encryption};

/// RFC 7518 Appendix C: Z from Bob's key and Alice's ephemeral key, then the Concat KDF
/// for A128GCM with apu "Alice" and apv "Bob" gives the published key.
#[test]
fn the_concat_kdf_gives_the_rfc_7518_appendix_c_key() {
    let bob =
        p256::SecretKey::from_slice(&unb64("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw").unwrap())
            .unwrap();
    let alice_epk = EcKey::from_jwk(&serde_json::json!({
        "kty": "EC", "crv": "P-256",
        "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
        "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
    }))
    .unwrap();
    let alice_epk = p256::PublicKey::from_sec1_bytes(alice_epk.sec1()).unwrap();
    let z = bob.diffie_hellman(&alice_epk);
    let key = concat_kdf::<16>(
        z.raw_secret_bytes().as_slice(),
        b"A128GCM",
        b"Alice",
        b"Bob",
    );
    assert_eq!(b64(key.as_ref()), "VqqN6vgjbSBcIijNcacQGg");
}

#[test]
fn an_answer_encrypted_to_the_session_key_opens_with_and_without_deflate() {
    let session = SessionKey::generate();
    for zip in [false, true] {
        let jwe = encrypt(
            b"{\"hello\":1}",
            &session.public_jwk(),
            &Encryption {
                zip,
                ..Default::default()
            },
        );
        assert_eq!(decrypt(&jwe, &session).unwrap(), b"{\"hello\":1}");
    }
}

#[test]
fn an_unencrypted_answer_is_refused() {
    let session = SessionKey::generate();
    assert_eq!(
        decrypt("eyJhbGciOiJFUzI1NiJ9.e30.c2ln", &session),
        Err(Refusal::NotEncrypted)
    );
    assert_eq!(
        decrypt("{\"vp_token\":{}}", &session),
        Err(Refusal::NotEncrypted)
    );
    // JSON whose SD-JWT brings exactly the four dots of a compact JWE.
    let json = r#"{"vp_token":{"identity":["a.b.c~d.e.f"]},"state":"s"}"#;
    assert_eq!(decrypt(json, &session), Err(Refusal::NotEncrypted));
    assert!(matches!(
        decrypt("a.b.c.d", &session),
        Err(Refusal::MalformedJwe(_))
    ));
}

#[test]
fn another_algorithm_encryption_or_compression_is_refused() {
    let session = SessionKey::generate();
    let jwk = session.public_jwk();
    for (alg, enc, zip) in [
        ("ECDH-ES+A256KW", "A256GCM", None),
        ("RSA-OAEP", "A256GCM", None),
        ("dir", "A256GCM", None),
        ("ECDH-ES", "A128GCM", None),
        ("ECDH-ES", "A256CBC-HS512", None),
        ("ECDH-ES", "A256GCM", Some("GZIP")),
    ] {
        let options = Encryption {
            alg: alg.into(),
            enc: enc.into(),
            zip_header: zip.map(Into::into),
            ..Default::default()
        };
        let jwe = encrypt(b"{}", &jwk, &options);
        assert!(
            matches!(decrypt(&jwe, &session), Err(Refusal::EncryptionRefused(_))),
            "{alg} {enc} {zip:?}"
        );
    }
}

#[test]
fn an_answer_for_another_key_or_with_a_bad_epk_or_tampered_is_refused() {
    let session = SessionKey::generate();
    let other = SessionKey::generate();
    let jwe = encrypt(b"{}", &other.public_jwk(), &Encryption::default());
    assert_eq!(decrypt(&jwe, &session), Err(Refusal::WrongRecipient));
    let no_kid = Encryption {
        kid: false,
        ..Default::default()
    };
    let jwe = encrypt(b"{}", &other.public_jwk(), &no_kid);
    assert_eq!(decrypt(&jwe, &session), Err(Refusal::Decryption));

    let off_curve = Encryption {
        epk_off_curve: true,
        ..Default::default()
    };
    let jwe = encrypt(b"{}", &session.public_jwk(), &off_curve);
    assert!(matches!(
        decrypt(&jwe, &session),
        Err(Refusal::MalformedJwe(_))
    ));

    let jwe = encrypt(b"{\"a\":1}", &session.public_jwk(), &Encryption::default());
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let mut ciphertext = unb64(&parts[3]).unwrap();
    ciphertext[0] ^= 1;
    parts[3] = b64(&ciphertext);
    assert_eq!(
        decrypt(&parts.join("."), &session),
        Err(Refusal::Decryption)
    );
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    parts[1] = "AAAA".into();
    assert!(matches!(
        decrypt(&parts.join("."), &session),
        Err(Refusal::MalformedJwe(_))
    ));
}

#[test]
fn an_over_inflating_answer_is_refused() {
    let session = SessionKey::generate();
    let bomb = vec![b' '; (MAX_INFLATED + 1) as usize];
    let jwe = encrypt(
        &bomb,
        &session.public_jwk(),
        &Encryption {
            zip: true,
            ..Default::default()
        },
    );
    assert!(jwe.len() < 16 * 1024, "{}", jwe.len());
    assert_eq!(decrypt(&jwe, &session), Err(Refusal::Inflation));
    let exactly = vec![b' '; MAX_INFLATED as usize];
    let jwe = encrypt(
        &exactly,
        &session.public_jwk(),
        &Encryption {
            zip: true,
            ..Default::default()
        },
    );
    assert_eq!(
        decrypt(&jwe, &session).unwrap().len(),
        MAX_INFLATED as usize
    );
}
