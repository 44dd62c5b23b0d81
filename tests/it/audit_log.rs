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
