//! What the workflow's own tests start from: the whole set of services on an in-memory
//! SQLite database (shared by the pool's connections), and rows made the short way.

use chrono::{DateTime, Utc};
use entities::{document, request, reviewer};
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use super::{DocumentKind, RequestKind, RequestState, RequesterRelation};
use crate::config::Settings;
use crate::services::Services;

/// Services on a fresh in-memory database, with keys and store in a temporary directory.
pub async fn services() -> (Services, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::in_dir(dir.path().join("data"));
    settings.uploads_dir = dir.path().join("uploads");
    settings.database_url = format!(
        "sqlite:file:workflow-{}?mode=memory&cache=shared",
        Uuid::new_v4().simple()
    );
    let (services, _) = Services::start(settings).await.unwrap();
    (services, dir)
}

/// A request for `example.com` in `state`, created at `created_at`, with one live document
/// (a key that wraps nothing: these tests never open it).
pub async fn request(
    services: &Services,
    state: RequestState,
    created_at: DateTime<Utc>,
) -> request::Model {
    let id = Uuid::new_v4();
    let token = crate::crypto::TrackingToken::generate().unwrap();
    let recipient = crate::codes::RecipientKey::for_token(&token, id).unwrap();
    let found = request::ActiveModel {
        id: Set(id),
        domain: Set("example.com".into()),
        requester_name: Set("Anna Muster".into()),
        requester_email: Set("anna@example.org".into()),
        requester_phone: Set(None),
        relation: Set(RequesterRelation::Holder),
        state: Set(state),
        tracking_token_hash: Set(Uuid::new_v4().as_bytes().to_vec()),
        client_addr: Set(None),
        consent_at: Set(created_at),
        created_at: Set(created_at),
        updated_at: Set(created_at),
        claimed_by: Set(None),
        claim_expires_at: Set(None),
        requested_document: Set(None),
        requested_note: Set(None),
        decided_at: Set(None),
        code_recipient_key: Set(Some(recipient.0.to_vec())),
        personal_data_erased_at: Set(None),
        company_uid: Set(None),
        kind: Set(RequestKind::TransferCode),
        nameservers: Set(None),
        holder_name: Set(None),
        holder_email: Set(None),
        holder_token_hash: Set(None),
        holder_link_expires_at: Set(None),
        holder_answered_at: Set(None),
        awaiting_reply_since: Set(None),
        language: Set("en".into()),
        objection_token_hash: Set(None),
        objected_at: Set(None),
        objection_handled_at: Set(None),
        holder_link_sent_at: Set(None),
        hand_off_due_at: Set(None),
        nameservers_set_at: Set(None),
        previous_nameservers: Set(None),
        requester_messages: Set(0),
    }
    .insert(&services.db)
    .await
    .unwrap();
    document::ActiveModel {
        id: Set(Uuid::new_v4()),
        request_id: Set(id),
        kind: Set(DocumentKind::IdFront),
        format_version: Set(1),
        algorithm: Set("AES-256-GCM".into()),
        key_version: Set(1),
        wrap_version: Set(None),
        wrapped_key: Set(Some(vec![1, 2, 3])),
        storage_name: Set(format!("{}.sealed", Uuid::new_v4())),
        width: Set(10),
        height: Set(10),
        byte_len: Set(3),
        signals: Set(r#"{"camera":"FP5"}"#.into()),
        created_at: Set(created_at),
        shredded_at: Set(None),
    }
    .insert(&services.db)
    .await
    .unwrap();
    found
}

pub async fn reviewer(services: &Services, name: &str) -> reviewer::Model {
    crate::accounts::add_reviewer(&services.db, name, "a long enough password", false)
        .await
        .unwrap()
}
