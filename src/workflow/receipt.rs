//! The requester's deletion receipt: a text signed with the audit log's key (a C2SP signed
//! note) saying which documents of the request were destroyed and when, the SHA-256 of each
//! as it was sealed, and where the shred stands in the audit log, with the proof that the
//! log's signed checkpoint includes it, and what the shred event's leaf commits to, so that a
//! verifier ties the proof to this request. Never the tracking token, the code, or anything
//! read from the documents.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use entities::{audit_event, document};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::evidence::audit::Action;
use crate::evidence::log::{self, LogError};
use crate::platform::crypto::TrackingToken;
use crate::workflow::services::Services;

/// The first line of every receipt; a new layout gets a new version.
pub const RECEIPT_VERSION: &str = "transfer-desk deletion receipt v2";

/// The receipt for the request the token opens, once its documents are destroyed; `None`
/// for an unknown token or documents still kept.
pub async fn deletion_receipt(
    services: &Services,
    token: &TrackingToken,
    now: DateTime<Utc>,
) -> Result<Option<String>, LogError> {
    let db = &services.db;
    let Some(found) = super::rules::request_of_tracking_link(db, token).await? else {
        return Ok(None);
    };
    let documents = document::Entity::find()
        .filter(document::Column::RequestId.eq(found.id))
        .order_by_asc(document::Column::CreatedAt)
        .all(db)
        .await?;
    if documents.is_empty() || documents.iter().any(|d| d.shredded_at.is_none()) {
        return Ok(None);
    }
    let Some(shred) = last_shred(db, found.id).await? else {
        return Ok(None);
    };
    let pinned = services.log_key.as_ref().ok_or(LogError::NotPinned)?;
    let covered = |index: Option<i64>| async move {
        match index {
            Some(index) => log::inclusion(db, index as u64).await,
            None => Ok(None),
        }
    };
    let mut index = shred.leaf_index;
    if covered(index).await?.is_none() {
        // Not in a checkpoint yet: sign one now rather than make the requester wait.
        let dir = &services.settings.data_dir;
        log::checkpoint_if_due(db, &services.master_key, pinned, dir, Duration::zero(), now)
            .await?;
        index = last_shred(db, found.id).await?.and_then(|e| e.leaf_index);
    }
    let (Some(index), Some((checkpoint, event, proof))) = (index, covered(index).await?) else {
        return Ok(None);
    };
    let mut body = format!(
        "{RECEIPT_VERSION}\nrequest {}\ndomain {}\n",
        found.id.hyphenated(),
        found.domain
    );
    for document in &documents {
        let sealed = document
            .sealed_sha256
            .as_deref()
            .map_or_else(|| "unknown".to_owned(), crate::platform::crypto::hex);
        let destroyed = document
            .shredded_at
            .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_default();
        body.push_str(&format!(
            "document {} sealed-sha256 {sealed} key-destroyed {destroyed}\n",
            sea_orm::ActiveEnum::to_value(&document.kind),
        ));
    }
    let checkpoint_signature = checkpoint
        .note
        .lines()
        .last()
        .and_then(|line| line.rsplit(' ').next())
        .unwrap_or_default()
        .to_owned();
    body.push_str(&format!("log {}\nshred-event {index}\n", pinned.name));
    // What the shred event's leaf commits to, line by line: whoever recomputes the leaf
    // from them sees this request's id in it (and no reviewer's name, only its salted hash;
    // events recorded before salts name theirs, so their lines are left out).
    if event.starts_with(log::ENCODING.as_bytes()) {
        for line in String::from_utf8_lossy(&event).lines() {
            body.push_str(&format!("shred-event-line {line}\n"));
        }
    }
    body.push_str(&format!(
        "shred-event-leaf {}\ncheckpoint-size {}\ncheckpoint-root {}\ncheckpoint-signature {checkpoint_signature}\n",
        BASE64.encode(log::leaf_hash(&event)),
        checkpoint.size,
        BASE64.encode(&checkpoint.root),
    ));
    for hash in proof {
        body.push_str(&format!("proof {}\n", BASE64.encode(hash)));
    }
    let key = log::signing_key(db, &services.master_key, pinned).await?;
    Ok(Some(key.sign_note(&body)))
}

async fn last_shred(
    db: &sea_orm::DatabaseConnection,
    request_id: uuid::Uuid,
) -> Result<Option<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::RequestId.eq(request_id))
        .filter(audit_event::Column::Action.eq(Action::Shred.as_str()))
        .order_by_desc(audit_event::Column::Id)
        .one(db)
        .await
}
