//! Master-key rotation: a new version becomes current, document keys are re-wrapped in
//! batches by a process of its own (as `transfer-desk keys rotate` is), the rotation can be
//! interrupted and run again, documents stay readable throughout, and a version nothing uses
//! is retired for good.

use crate::common::*;
use entities::{document, eid_session, reviewer};
use sea_orm::EntityTrait;
use transfer_desk::eid::keys as eid_keys;
use transfer_desk::platform::keyring::{self, RotateError};
use transfer_desk::workflow::view::view_document;

async fn every_document_opens(app: &TestApp) {
    let alice = reviewer::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    for doc in document::Entity::find().all(app.db()).await.unwrap() {
        let shown = view_document(
            app.services(),
            transfer_desk::workflow::RequestId(doc.request_id),
            transfer_desk::workflow::DocumentId(doc.id),
            &alice,
            chrono::Utc::now(),
        )
        .await
        .expect("the document opens");
        assert_eq!(&shown[..2], &[0xFF, 0xD8]);
    }
}

#[rocket::async_test]
async fn an_interrupted_rotation_finishes_on_a_rerun_and_documents_open_throughout() {
    let app = TestApp::with_staff(|_| {}).await;
    for _ in 0..3 {
        app.submit_example().await;
    }
    // The command line's own key ring, from the same data directory.
    let prepared = app.services().settings.prepare().unwrap();
    let cli_ring = transfer_desk::workflow::services::key_ring(
        prepared.master_key,
        &prepared.master_key_source,
    )
    .unwrap();
    // The audit log's signing key, made on the first start and sealed under version 1.
    let pinned = app.services().log_key.clone().unwrap();
    let log_key = |ring| transfer_desk::evidence::log::signing_key(app.db(), ring, &pinned);
    let public_key = log_key(&cli_ring).await.unwrap().public_key();
    let (verifier, _) = eid_keys::load_or_make(app.db(), &cli_ring, EID_DID)
        .await
        .unwrap();
    let session = live_eid_session(&app, &cli_ring).await;

    let first = keyring::rotate(app.db(), &cli_ring, 1, Some(1))
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.version, 2);
    assert_eq!(
        (first.rewrapped, first.remaining),
        (1, 2),
        "interrupted half-way"
    );
    // The service learns of version 2 from the key file when it first meets it.
    every_document_opens(&app).await;
    let usage = keyring::usage(app.db(), &cli_ring).await.unwrap();
    assert_eq!(usage, [(1, 2), (2, 1)]);
    assert!(matches!(
        keyring::retire(app.db(), &cli_ring, 1).await,
        Err(RotateError::InUse {
            version: 1,
            documents: 2
        })
    ));

    let rerun = keyring::rotate(app.db(), &cli_ring, 1, None).await.unwrap();
    assert!(
        !rerun.created,
        "a rerun finishes the rotation it interrupted"
    );
    assert_eq!((rerun.version, rerun.rewrapped, rerun.remaining), (2, 2, 0));
    every_document_opens(&app).await;
    // New documents are wrapped under the new version by the service too.
    app.submit_example().await;
    assert_eq!(
        keyring::usage(app.db(), &cli_ring).await.unwrap(),
        [(1, 0), (2, 4)]
    );

    keyring::retire(app.db(), &cli_ring, 1).await.unwrap();
    let data_dir = &app.services().settings.data_dir;
    assert!(
        !data_dir.join("master.key").exists(),
        "version 1 is destroyed"
    );
    assert!(matches!(
        keyring::retire(app.db(), &cli_ring, 2).await,
        Err(RotateError::CannotRetire(2))
    ));
    every_document_opens(&app).await;
    assert_eq!(
        log_key(&cli_ring).await.unwrap().public_key(),
        public_key,
        "the log's key outlives the version it was first sealed under"
    );
    let (reopened, made) = eid_keys::load_or_make(app.db(), &cli_ring, EID_DID)
        .await
        .unwrap();
    assert!(!made, "the same verifier key, not a new one");
    assert_eq!(
        reopened.public_jwk(),
        verifier.public_jwk(),
        "the e-ID verifier key outlives the version it was first sealed under"
    );
    let (id, public_jwk) = session;
    let stored = eid_session::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let opened = eid_keys::open_session_key(&cli_ring, id, &stored.sealed_key.unwrap()).unwrap();
    assert_eq!(
        opened.public_jwk(),
        public_jwk,
        "a live wallet session's key outlives it too"
    );
}

const EID_DID: &str = "did:tdw:desk.example";

/// A wallet session waiting for its answer, its key sealed under the current version: its id
/// and public key.
async fn live_eid_session(
    app: &TestApp,
    ring: &keyring::KeyRing,
) -> (uuid::Uuid, serde_json::Value) {
    use sea_orm::{ActiveModelTrait, Set};
    let id = uuid::Uuid::new_v4();
    let key = transfer_desk::eid::protocol::SessionKey::generate();
    let request_id = entities::request::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    eid_session::ActiveModel {
        id: Set(id),
        request_id: Set(request_id),
        subject: Set(entities::enums::EidSubject::Requester),
        nonce: Set("n".repeat(22)),
        oauth_state: Set("s".repeat(22)),
        sealed_key: Set(Some(eid_keys::seal_session_key(ring, id, &key).unwrap())),
        browser_binding_hash: Set(None),
        same_device: Set(false),
        created_at: Set(chrono::Utc::now()),
        answered_at: Set(None),
        response_code_hash: Set(None),
        refused_answers: Set(0),
    }
    .insert(app.db())
    .await
    .unwrap();
    (id, key.public_jwk())
}
