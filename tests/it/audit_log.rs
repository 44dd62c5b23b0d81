//! The audit trail as a Merkle log, checked as an operator (or anyone holding a checkpoint)
//! would: `audit verify` finds an edited, deleted or moved event, a checkpoint kept
//! elsewhere still fits, and one signed with another key does not.

use sea_orm::ConnectionTrait;

use crate::common::server::Server;
use crate::common::PASSWORD;

/// A server whose log holds a few events and one signed checkpoint.
async fn server_with_a_checkpoint() -> Server {
    let server = Server::start(&[]).await;
    for name in ["alice", "bob", "carol"] {
        server.add_reviewer(name, PASSWORD, false);
    }
    let swept = server.run(&["sweep"], "");
    assert!(swept.contains("signed an audit checkpoint of"), "{swept}");
    server
}

fn verify(server: &Server, since: Option<&std::path::Path>) -> (Option<i32>, String) {
    let mut args = vec!["audit".to_owned(), "verify".to_owned()];
    if let Some(file) = since {
        args.extend(["--since".to_owned(), file.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    server.run_for_status(&args)
}

async fn tamper(server: &Server, sql: &str) {
    server
        .database()
        .await
        .execute_unprepared(sql)
        .await
        .unwrap();
}

#[rocket::async_test]
async fn a_fresh_log_verifies_and_its_key_and_checkpoint_are_served() {
    let server = server_with_a_checkpoint().await;
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("consistent"), "{said}");

    let key = server.run(&["audit", "key"], "");
    let mut client = crate::common::server::WebClient::default();
    let (status, served) = client.get(&server, "/.well-known/transfer-desk/log-key");
    assert_eq!(status, 200);
    assert_eq!(key.lines().next(), served.lines().next());
    assert!(
        served.starts_with("localhost/transfer-desk/audit+"),
        "{served}"
    );
    let (status, pem) = client.get(&server, "/.well-known/transfer-desk/log-key.pem");
    assert_eq!(status, 200);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let (status, checkpoint) = client.get(&server, "/.well-known/transfer-desk/checkpoint");
    assert_eq!(status, 200);
    assert!(
        checkpoint.starts_with("localhost/transfer-desk/audit\n"),
        "{checkpoint}"
    );
    assert!(checkpoint.contains("\n\n\u{2014} localhost/transfer-desk/audit "));
}

#[rocket::async_test]
async fn an_edited_event_is_named() {
    let server = server_with_a_checkpoint().await;
    tamper(
        &server,
        "UPDATE audit_events SET actor = 'mallory' WHERE leaf_index = 1",
    )
    .await;
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("event 1 of the log"), "{said}");
    assert!(said.contains("changed since it entered the log"), "{said}");
}

#[rocket::async_test]
async fn a_deleted_or_moved_event_is_found() {
    let server = server_with_a_checkpoint().await;
    tamper(&server, "DELETE FROM audit_events WHERE leaf_index = 0").await;
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("event 0 of the log"), "{said}");
    assert!(said.contains("missing"), "{said}");

    let server = server_with_a_checkpoint().await;
    tamper(
        &server,
        "UPDATE audit_events SET leaf_index = 100 WHERE leaf_index = 1",
    )
    .await;
    tamper(
        &server,
        "UPDATE audit_events SET leaf_index = 1 WHERE leaf_index = 2",
    )
    .await;
    tamper(
        &server,
        "UPDATE audit_events SET leaf_index = 2 WHERE leaf_index = 100",
    )
    .await;
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("event 1 of the log"), "{said}");
}

/// Whoever edits an event and writes its new leaf hash too still cannot make the signed
/// checkpoints fit.
#[rocket::async_test]
async fn a_recomputed_leaf_hash_does_not_fool_the_checkpoint() {
    let server = server_with_a_checkpoint().await;
    let db = server.database().await;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
    let event = entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::LeafIndex.eq(0))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut forged = event.clone();
    forged.actor = "mallory".into();
    let leaf =
        transfer_desk::audit_log::leaf_hash(&transfer_desk::audit_log::canonical(&forged, 0));
    let mut active = event.into_active_model();
    active.actor = Set("mallory".into());
    active.leaf_hash = Set(Some(leaf.to_vec()));
    active.update(&db).await.unwrap();
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("does not fit"), "{said}");
    assert!(said.contains("changed, removed or moved"), "{said}");
}

#[rocket::async_test]
async fn a_checkpoint_kept_elsewhere_fits_and_a_forged_one_is_refused() {
    let server = server_with_a_checkpoint().await;
    let mut client = crate::common::server::WebClient::default();
    let (_, kept) = client.get(&server, "/.well-known/transfer-desk/checkpoint");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkpoint.txt");
    std::fs::write(&file, &kept).unwrap();
    server.add_reviewer("dave", PASSWORD, false);
    let (code, said) = verify(&server, Some(&file));
    assert_eq!(code, Some(0), "{said}");

    // The same text signed by a key that is not the log's.
    let rng = ring::rand::SystemRandom::new();
    let other = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let other = ring::signature::Ed25519KeyPair::from_pkcs8(other.as_ref()).unwrap();
    let body = kept.split("\n\n").next().unwrap().to_owned() + "\n";
    use base64::Engine;
    let mut signed = vec![0u8; 4];
    signed.extend_from_slice(other.sign(body.as_bytes()).as_ref());
    let forged = format!(
        "{body}\n\u{2014} localhost/transfer-desk/audit {}\n",
        base64::engine::general_purpose::STANDARD.encode(signed)
    );
    std::fs::write(&file, forged).unwrap();
    let (code, said) = verify(&server, Some(&file));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("no signature by the log's key"), "{said}");
}

/// An admin downloads an event's inclusion proof; anyone with the log's key checks it
/// against the signed checkpoint.
#[rocket::async_test]
async fn an_events_inclusion_proof_verifies_against_the_signed_checkpoint() {
    let server = Server::start(&[]).await;
    server.add_reviewer("root", PASSWORD, true);
    for name in ["alice", "bob", "carol", "dave"] {
        server.add_reviewer(name, PASSWORD, false);
    }
    server.run(&["sweep"], "");
    let mut admin = crate::common::server::WebClient::default();
    admin.sign_in(&server, "root", PASSWORD);
    let (status, page) = admin.get(&server, "/review/audit");
    assert_eq!(status, 200);
    assert!(
        page.contains("The log&#x27;s latest checkpoint")
            || page.contains("The log's latest checkpoint"),
        "{page}"
    );
    assert!(page.contains("/review/audit/2/proof"), "{page}");

    let (status, proof) = admin.get(&server, "/review/audit/2/proof");
    assert_eq!(status, 200, "{proof}");
    let field = |name: &str| -> Vec<String> {
        proof
            .lines()
            .filter_map(|line| line.strip_prefix(&format!("{name} ")))
            .map(str::to_owned)
            .collect()
    };
    use base64::Engine;
    let b64 = |text: &str| -> [u8; 32] {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
            .try_into()
            .unwrap()
    };
    let leaf = b64(&field("leaf")[0]);
    let size: u64 = field("size")[0].parse().unwrap();
    let path: Vec<[u8; 32]> = field("proof").iter().map(|p| b64(p)).collect();
    let note = proof.split("The signed checkpoint:\n").nth(1).unwrap();
    let (_, served_key) = admin.get(&server, "/.well-known/transfer-desk/log-key");
    // name+keyid+base64(0x01 ‖ key); the base64 may hold a '+' of its own.
    let key_b64 = served_key.trim().splitn(3, '+').nth(2).unwrap();
    let key_bytes = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .unwrap();
    let key: [u8; 32] = key_bytes[1..].try_into().unwrap();
    let checkpoint =
        transfer_desk::audit_log::open_note(note, "localhost/transfer-desk/audit", &key).unwrap();
    assert_eq!(checkpoint.size, size);
    assert!(transfer_desk::audit_log::verify_inclusion(
        &leaf,
        2,
        size,
        &path,
        &checkpoint.root
    ));
    assert!(!transfer_desk::audit_log::verify_inclusion(
        &leaf,
        3,
        size,
        &path,
        &checkpoint.root
    ));
    let (status, _) = admin.get(&server, "/review/audit/999/proof");
    assert_eq!(status, 404, "an event no checkpoint covers yet");
}

/// Each new checkpoint leaves the operator's hands by mail to the staff address.
#[rocket::async_test]
async fn each_new_checkpoint_is_mailed_to_the_staff_address() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = crate::common::TestApp::with_staff(|s| {
        s.smtp_url = Some(transfer_desk::config::Secret::new(format!(
            "smtp://127.0.0.1:{}",
            crate::common::server::free_port()
        )));
        s.staff_mail = Some("security@host.example".into());
    })
    .await;
    // The service's own start-up sweep may sign the first checkpoint before this sweep does,
    // or hold the sweep lock for a moment: either way one checkpoint is signed and mailed.
    let mut signed = None;
    for _ in 0..50 {
        let report =
            transfer_desk::workflow::sweep::sweep(app.services(), chrono::Utc::now()).await;
        assert!(report.failed.is_empty(), "{report:?}");
        signed = transfer_desk::audit_log::latest_checkpoint(app.db())
            .await
            .unwrap();
        if signed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let note = signed.expect("a sweep signs a checkpoint").note;
    let mails = entities::outbox_mail::Entity::find()
        .filter(entities::outbox_mail::Column::Kind.eq("staff_checkpoint"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipient, "security@host.example");
    assert!(mails[0].body.contains(note.trim_end()), "{}", mails[0].body);

    // Nothing new, nothing signed, nothing mailed.
    let again = transfer_desk::workflow::sweep::sweep(app.services(), chrono::Utc::now()).await;
    assert_eq!(again.checkpoint_signed, 0);
}

/// After a rejection the requester downloads the deletion receipt; it verifies offline with
/// `openssl` and the served key, its shred event is in the signed checkpoint, and one
/// changed byte breaks it.
#[rocket::async_test]
async fn a_deletion_receipt_verifies_with_openssl_and_one_changed_byte_breaks_it() {
    use base64::Engine;
    use rocket::http::Status;
    let b64 = base64::engine::general_purpose::STANDARD;
    let app = crate::common::TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let bob = app.sign_in("bob").await;
    app.staff_post(&bob, crate::common::review_uri(id, "/claim"), &[])
        .await;
    let rejected = app
        .staff_post(
            &bob,
            crate::common::review_uri(id, "/reject"),
            &[
                ("template", "reason-edited"),
                ("reason", "Please send an unedited photo."),
            ],
        )
        .await;
    assert_eq!(rejected.status(), Status::SeeOther);
    let tracking = app.page_text(&format!("/track/{token}")).await;
    assert!(
        tracking.contains("Download the deletion receipt"),
        "{tracking}"
    );

    let response = app
        .client
        .get(format!("/track/{token}/receipt"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    let receipt = response.into_string().await.unwrap();
    assert!(
        receipt.starts_with("transfer-desk deletion receipt v1\n"),
        "{receipt}"
    );
    assert!(receipt.contains(&format!("request {id}\n")));
    assert!(receipt.contains("domain example.com\n"));
    assert!(
        receipt.contains("document id_front sealed-sha256 "),
        "{receipt}"
    );
    assert!(!receipt.contains(&token), "never the tracking token");

    // Offline, with stock tools: the PEM key the service serves, and openssl.
    let pem = app
        .client
        .get("/.well-known/transfer-desk/log-key.pem")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let verify_with_openssl = |receipt: &str| {
        let (body, signature) = receipt.split_once("\n\n").unwrap();
        let signature = b64
            .decode(signature.split_whitespace().last().unwrap())
            .unwrap();
        std::fs::write(dir.path().join("body.txt"), format!("{body}\n")).unwrap();
        std::fs::write(dir.path().join("sig.bin"), &signature[4..]).unwrap();
        std::fs::write(dir.path().join("log-key.pem"), &pem).unwrap();
        std::process::Command::new("openssl")
            .current_dir(dir.path())
            .args([
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "log-key.pem",
                "-rawin",
            ])
            .args(["-in", "body.txt", "-sigfile", "sig.bin"])
            .output()
            .expect("openssl is installed (.ci/run installs it)")
            .status
            .success()
    };
    assert!(verify_with_openssl(&receipt));
    let forged = receipt.replacen("domain example.com", "domain example.org", 1);
    assert!(!verify_with_openssl(&forged), "one changed byte breaks it");

    // The shred event is in the checkpoint, whose own signature is the log's.
    let field = |name: &str| -> Vec<String> {
        receipt
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(str::to_owned)
            .collect()
    };
    let hash = |text: &str| -> [u8; 32] { b64.decode(text).unwrap().try_into().unwrap() };
    let (origin, size) = (field("log")[0].clone(), field("checkpoint-size")[0].clone());
    let root = field("checkpoint-root")[0].clone();
    let note = format!(
        "{origin}\n{size}\n{root}\n\n\u{2014} {origin} {}\n",
        field("checkpoint-signature")[0]
    );
    let key = transfer_desk::audit_log::signing_key(app.db(), &app.services().master_key, &origin)
        .await
        .unwrap()
        .public_key();
    let checkpoint = transfer_desk::audit_log::open_note(&note, &origin, &key).unwrap();
    let proof: Vec<[u8; 32]> = field("proof").iter().map(|p| hash(p)).collect();
    assert!(transfer_desk::audit_log::verify_inclusion(
        &hash(&field("shred-event-leaf")[0]),
        field("shred-event")[0].parse().unwrap(),
        checkpoint.size,
        &proof,
        &checkpoint.root,
    ));

    // Before the decision there is nothing to receipt.
    let (_, pending) = app.submit_example().await;
    let early = app
        .client
        .get(format!("/track/{pending}/receipt"))
        .dispatch()
        .await;
    assert_eq!(early.status(), Status::NotFound);
}

/// A witness that kept an older checkpoint checks the newer one against it with the served
/// consistency proof, without the log itself.
#[rocket::async_test]
async fn a_consistency_proof_between_two_checkpoints_verifies() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let app = crate::common::TestApp::with_staff(|_| {}).await;
    let services = app.services();
    let origin = "localhost/transfer-desk/audit";
    let sign_now = || {
        transfer_desk::audit_log::checkpoint_if_due(
            app.db(),
            &services.master_key,
            origin,
            chrono::Duration::zero(),
            chrono::Utc::now(),
        )
    };
    let old_size = sign_now().await.unwrap().expect("a first checkpoint");
    let old = transfer_desk::audit_log::latest_checkpoint(app.db())
        .await
        .unwrap()
        .unwrap();
    app.add_reviewer("carol", false).await;
    app.add_reviewer("dave", false).await;
    let new_size = sign_now().await.unwrap().expect("a second checkpoint");
    assert!(new_size > old_size);

    let served = app
        .client
        .get(format!("/.well-known/transfer-desk/consistency/{old_size}"))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    let note = served.split("The signed checkpoint:\n").nth(1).unwrap();
    let key = transfer_desk::audit_log::signing_key(app.db(), &services.master_key, origin)
        .await
        .unwrap()
        .public_key();
    let new = transfer_desk::audit_log::open_note(note, origin, &key).unwrap();
    assert_eq!(new.size, new_size);
    let proof: Vec<[u8; 32]> = served
        .lines()
        .filter_map(|l| l.strip_prefix("proof "))
        .map(|p| b64.decode(p).unwrap().try_into().unwrap())
        .collect();
    let old_root: [u8; 32] = old.root.clone().try_into().unwrap();
    assert!(transfer_desk::audit_log::verify_consistency(
        old_size, new_size, &old_root, &new.root, &proof
    ));
    let mut rewritten = old_root;
    rewritten[0] ^= 1;
    assert!(!transfer_desk::audit_log::verify_consistency(
        old_size, new_size, &rewritten, &new.root, &proof
    ));
}
