//! What the workflow's own tests start from: the whole set of services on an in-memory
//! SQLite database (shared by the pool's connections), and rows made the short way.

use chrono::{DateTime, Utc};
use entities::{document, request, reviewer};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{DocumentKind, RequestKind, RequestState, RequesterRelation};
use crate::platform::config::Settings;
use crate::workflow::services::Services;

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
    let token = crate::platform::crypto::TrackingToken::generate().unwrap();
    let recipient = crate::registry::codes::RecipientKey::for_token(&token, id).unwrap();
    let found = request::ActiveModel {
        id: Set(id),
        domain: Set("example.com".into()),
        requester_name: Set("Anna Muster".into()),
        requester_email: Set("anna@example.org".into()),
        relation: Set(RequesterRelation::Holder),
        state: Set(state),
        tracking_token_hash: Set(Uuid::new_v4().as_bytes().to_vec()),
        consent_at: Set(created_at),
        created_at: Set(created_at),
        updated_at: Set(created_at),
        code_recipient_key: Set(Some(recipient.0.to_vec())),
        kind: Set(RequestKind::TransferCode),
        language: Set("en".into()),
        requester_messages: Set(0),
        // Every other column starts empty, as for a new request.
        ..Default::default()
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
        sealed_sha256: Set(None),
        zone_status: Set(None),
        sealed_zone: Set(None),
        zone_updated_at: Set(None),
        zone_attempts: Set(0),
    }
    .insert(&services.db)
    .await
    .unwrap();
    found
}

/// Services on a fresh database with one request in `state`, created at `created_at`.
pub async fn with_request(
    state: RequestState,
    created_at: DateTime<Utc>,
) -> (Services, tempfile::TempDir, request::Model) {
    let (services, dir) = services().await;
    let found = request(&services, state, created_at).await;
    (services, dir, found)
}

pub async fn reviewer(services: &Services, name: &str) -> reviewer::Model {
    crate::accounts::add_reviewer(&services.db, name, "a long enough password", false)
        .await
        .unwrap()
}

/// The first row of `E`, which the test must have made.
pub async fn first<E: EntityTrait>(services: &Services) -> E::Model {
    E::find().one(&services.db).await.unwrap().expect("a row")
}

/// The request `id` as it stands now.
pub async fn request_now(services: &Services, id: Uuid) -> request::Model {
    request::Entity::find_by_id(id)
        .one(&services.db)
        .await
        .unwrap()
        .expect("the request")
}

/// Links that name what they point to, for tests that never follow them.
pub struct NamedLinks;

impl crate::workflow::links::Links for NamedLinks {
    fn tracking(&self, token: &str) -> String {
        format!("tracking {token}")
    }

    fn holder(&self, token: &str) -> String {
        format!("holder {token}")
    }

    fn objection(&self, token: &str) -> String {
        format!("objection {token}")
    }

    fn eid_response(&self, session_id: Uuid) -> String {
        format!("e-ID response {session_id}")
    }

    fn eid_return(&self, response_code: &str) -> String {
        format!("e-ID return {response_code}")
    }

    fn review_request(&self, id: Uuid) -> String {
        format!("review {id}")
    }
}
