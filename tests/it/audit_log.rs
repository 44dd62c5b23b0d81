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

/// An Ed25519 key that is not the log's, and its verifier key under the log's name.
fn another_key() -> (ring::signature::Ed25519KeyPair, String) {
    use ring::signature::KeyPair;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let public: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
    let verifier = transfer_desk::platform::config::log_key::verifier_key(
        "localhost/transfer-desk/audit",
        &public,
    );
    (pair, verifier)
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
    let leaf = transfer_desk::evidence::log::leaf_hash(&transfer_desk::evidence::log::canonical(
        &forged, 0,
    ));
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
    let (other, _) = another_key();
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
        transfer_desk::evidence::log::open_note(note, "localhost/transfer-desk/audit", &key)
            .unwrap();
    assert_eq!(checkpoint.size, size);
    assert!(transfer_desk::evidence::log::verify_inclusion(
        &leaf,
        2,
        size,
        &path,
        &checkpoint.root
    ));
    assert!(!transfer_desk::evidence::log::verify_inclusion(
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
        s.smtp_url = Some(transfer_desk::platform::config::Secret::new(format!(
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
        signed = transfer_desk::evidence::log::latest_checkpoint(app.db())
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
    // With the log's public key, so that a key that changed shows in the mail archive.
    let key = app
        .client
        .get("/.well-known/transfer-desk/log-key")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(mails[0].body.contains(key.trim()), "{}", mails[0].body);

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
        receipt.starts_with("transfer-desk deletion receipt v2\n"),
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
    let key = app.services().log_key.as_ref().unwrap().key;
    let checkpoint = transfer_desk::evidence::log::open_note(&note, &origin, &key).unwrap();
    let proof: Vec<[u8; 32]> = field("proof").iter().map(|p| hash(p)).collect();
    assert!(transfer_desk::evidence::log::verify_inclusion(
        &hash(&field("shred-event-leaf")[0]),
        field("shred-event")[0].parse().unwrap(),
        checkpoint.size,
        &proof,
        &checkpoint.root,
    ));
    // The receipt carries what the shred event's leaf commits to: a verifier recomputes the
    // leaf from it and finds this request in it (and not the reviewer's name).
    let committed: String = field("shred-event-line")
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        transfer_desk::evidence::log::leaf_hash(committed.as_bytes()),
        hash(&field("shred-event-leaf")[0]),
        "{receipt}"
    );
    assert!(
        committed.contains(&format!("\nrequest {id}\n")),
        "{committed}"
    );
    assert!(committed.contains("\naction shred\n"), "{committed}");
    assert!(!committed.contains("bob"), "{committed}");

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
    let pinned = services.log_key.as_ref().unwrap();
    let origin = pinned.name.as_str();
    let sign_now = || {
        transfer_desk::evidence::log::checkpoint_if_due(
            app.db(),
            &services.master_key,
            pinned,
            &services.settings.data_dir,
            chrono::Duration::zero(),
            chrono::Utc::now(),
        )
    };
    let old_size = sign_now().await.unwrap().expect("a first checkpoint");
    let old = transfer_desk::evidence::log::latest_checkpoint(app.db())
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
    let key = pinned.key;
    let new = transfer_desk::evidence::log::open_note(note, origin, &key).unwrap();
    assert_eq!(new.size, new_size);
    let proof: Vec<[u8; 32]> = served
        .lines()
        .filter_map(|l| l.strip_prefix("proof "))
        .map(|p| b64.decode(p).unwrap().try_into().unwrap())
        .collect();
    let old_root: [u8; 32] = old.root.clone().try_into().unwrap();
    assert!(transfer_desk::evidence::log::verify_consistency(
        old_size, new_size, &old_root, &new.root, &proof
    ));
    let mut rewritten = old_root;
    rewritten[0] ^= 1;
    assert!(!transfer_desk::evidence::log::verify_consistency(
        old_size, new_size, &rewritten, &new.root, &proof
    ));
}

async fn count_rows(server: &Server, table: &str) -> i64 {
    use sea_orm::Statement;
    let db = server.database().await;
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// What a database writer can do to the log: edit an event, delete the checkpoints (and, with
/// `without_key`, the log's key), and recompute every public hash (the leaf hashes and the
/// subtrees) just as the service itself computes them.
async fn rewrite(server: &Server, without_key: bool) {
    if without_key {
        tamper(server, "DELETE FROM log_keys").await;
    }
    for sql in [
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_nodes",
        "UPDATE audit_events SET actor = 'mallory' WHERE leaf_index = 1",
        "UPDATE audit_events SET leaf_index = NULL, leaf_hash = NULL",
    ] {
        tamper(server, sql).await;
    }
    transfer_desk::evidence::log::sequence(&server.database().await)
        .await
        .unwrap();
}

/// The attack of issue 28: the key row and the checkpoints deleted, an event edited and the
/// hashes recomputed. `audit verify` says so and makes no key, the sweeper signs nothing
/// over the rewritten rows, and the service still serves the key it was started with.
#[rocket::async_test]
async fn a_log_rewritten_without_its_key_is_refused_everywhere() {
    let server = server_with_a_checkpoint().await;
    let mut client = crate::common::server::WebClient::default();
    let (_, served_before) = client.get(&server, "/.well-known/transfer-desk/log-key");
    rewrite(&server, true).await;

    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("no signing key"), "{said}");
    assert_eq!(
        count_rows(&server, "log_keys").await,
        0,
        "verify made a key"
    );

    let (code, said) = server.run_for_status(&["sweep"]);
    assert_eq!(code, Some(1), "{said}");
    assert_eq!(
        count_rows(&server, "audit_checkpoints").await,
        0,
        "a checkpoint was signed over the rewritten rows"
    );
    assert_eq!(
        count_rows(&server, "log_keys").await,
        0,
        "the sweep made a key"
    );

    let (status, served_after) = client.get(&server, "/.well-known/transfer-desk/log-key");
    assert_eq!(status, 200);
    assert_eq!(
        served_after, served_before,
        "the service serves another key"
    );
}

/// The same rewrite with the key left in place: the events no longer give the root of the
/// last checkpoint the service signed (kept outside the database), so `audit verify` fails
/// and the sweeper refuses to sign.
#[rocket::async_test]
async fn a_log_rewritten_under_its_own_key_is_not_signed_again() {
    let server = server_with_a_checkpoint().await;
    rewrite(&server, false).await;

    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("last checkpoint the service signed"),
        "{said}"
    );

    let (code, said) = server.run_for_status(&["sweep"]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("audit checkpoint"), "{said}");
    assert_eq!(count_rows(&server, "audit_checkpoints").await, 0, "{said}");
}

/// Events deleted from the end of the log, and the checkpoints with them: the log is smaller
/// than the last checkpoint the service signed.
#[rocket::async_test]
async fn a_log_smaller_than_the_last_signed_checkpoint_fails_verification() {
    let server = server_with_a_checkpoint().await;
    tamper(&server, "DELETE FROM audit_checkpoints").await;
    tamper(
        &server,
        "DELETE FROM audit_events WHERE leaf_index = (SELECT MAX(leaf_index) FROM audit_events)",
    )
    .await;
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("smaller than"), "{said}");
    let (code, said) = server.run_for_status(&["sweep"]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("fewer than"), "{said}");

    // A new event does not take the deleted one's place either.
    server.add_reviewer("dave", PASSWORD, false);
    let (code, said) = server.run_for_status(&["sweep"]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("events were deleted from its end"), "{said}");
    assert_eq!(count_rows(&server, "audit_checkpoints").await, 0, "{said}");
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("events were deleted from its end"), "{said}");
}

/// Events recorded longer ago than the checkpoint interval (60 minutes here) that no
/// checkpoint covers: the service stopped signing, or its checkpoints were removed.
#[rocket::async_test]
async fn events_older_than_the_checkpoint_interval_that_no_checkpoint_covers_fail() {
    use sea_orm::{ActiveModelTrait, Set};
    let server = server_with_a_checkpoint().await;
    entities::audit_event::ActiveModel {
        at: Set(chrono::Utc::now() - chrono::Duration::hours(2)),
        actor: Set("alice".into()),
        action: Set("logout".into()),
        ..Default::default()
    }
    .insert(&server.database().await)
    .await
    .unwrap();
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("no checkpoint covers"), "{said}");
}

/// An event without detail (a sign-out) is not recovered from its leaf hash, which proofs
/// make public (a consistency proof from one event to two is the second leaf hash), by
/// trying every actor and action at its known time and place.
#[rocket::async_test]
async fn a_sign_out_is_not_recovered_from_its_leaf_hash() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use transfer_desk::evidence::audit::{Action, Actor};
    let app = crate::common::TestApp::start().await;
    transfer_desk::evidence::audit::record(
        app.db(),
        Actor::Reviewer("alice"),
        Action::Logout,
        None,
        None,
    )
    .await
    .unwrap();
    transfer_desk::evidence::log::sequence(app.db())
        .await
        .unwrap();
    let event = entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::Action.eq("logout"))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let public_leaf = event.leaf_hash.clone().unwrap();
    let index = event.leaf_index.unwrap();
    let at = event
        .at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let actors = ["alice", "bob", "carol", "admin", "system", "requester"];
    let actions = [
        "login",
        "logout",
        "login_failed",
        "claim",
        "release",
        "approval",
    ];
    let mut recovered = Vec::new();
    for actor in actors {
        for action in actions {
            let guess = format!(
                "transfer-desk-audit-event/v1\nindex {index}\nat {at}\nactor {actor}\naction {action}\nrequest -\ndetail -\n"
            );
            if transfer_desk::evidence::log::leaf_hash(guess.as_bytes()).as_slice() == public_leaf {
                recovered.push((actor, action));
            }
        }
    }
    assert_eq!(recovered, [], "the leaf hash gives the event away");
}

/// The data directory pins the log's key on first start; `audit verify` checks the database
/// against it, or against a key given on the command line, and names a key that changed.
#[rocket::async_test]
async fn verify_checks_the_key_pinned_on_first_start_or_given() {
    let server = server_with_a_checkpoint().await;
    let mut client = crate::common::server::WebClient::default();
    let (_, served) = client.get(&server, "/.well-known/transfer-desk/log-key");
    let pinned = std::fs::read_to_string(server.data_dir().join("log-key.pub"))
        .expect("the key is pinned beside the master key");
    assert_eq!(pinned.trim(), served.trim());

    let (code, said) = server.run_for_status(&["audit", "verify", "--public-key", served.trim()]);
    assert_eq!(code, Some(0), "{said}");

    let (other, other_key) = another_key();
    let (code, said) = server.run_for_status(&["audit", "verify", "--public-key", &other_key]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("not the key"), "{said}");

    // A database writer puts another public key into the key's row.
    use ring::signature::KeyPair;
    let hex = transfer_desk::platform::crypto::hex(other.public_key().as_ref());
    let sql = match server.database().await.get_database_backend() {
        sea_orm::DbBackend::Postgres => format!("UPDATE log_keys SET public_key = '\\x{hex}'"),
        _ => format!("UPDATE log_keys SET public_key = X'{hex}'"),
    };
    tamper(&server, &sql).await;
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("not the key"), "{said}");
}

/// Instances whose data directory does not last are given the key in the environment: it is
/// the pin, served to the world and checked by `audit verify`, whatever the database holds.
#[rocket::async_test]
async fn a_key_given_in_the_environment_is_the_pin() {
    let mut server = server_with_a_checkpoint().await;
    let mut client = crate::common::server::WebClient::default();
    let (_, served) = client.get(&server, "/.well-known/transfer-desk/log-key");
    server.restart_with(&[("TRANSFER_DESK_LOG_KEY", served.trim())]);
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("TRANSFER_DESK_LOG_KEY"), "{said}");

    let (_, other_key) = another_key();
    server.restart_with(&[("TRANSFER_DESK_LOG_KEY", &other_key)]);
    let (_, served) = client.get(&server, "/.well-known/transfer-desk/log-key");
    assert_eq!(served.trim(), other_key);
    let (code, said) = verify(&server, None);
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("not the key pinned in TRANSFER_DESK_LOG_KEY"),
        "{said}"
    );
    server.add_reviewer("dave", PASSWORD, false);
    let (code, said) = server.run_for_status(&["sweep"]);
    assert_eq!(code, Some(1), "{said}");
    assert_eq!(count_rows(&server, "audit_checkpoints").await, 1, "{said}");
}
