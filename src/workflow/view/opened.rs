//! A document as a reviewer sees it: decrypted in memory, watermarked with the viewer, the
//! time and the request, and audited.

use chrono::{DateTime, Utc};
use entities::{document, reviewer};
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter};

use crate::workflow::ids::{DocumentId, RequestId};

use crate::evidence::audit::{self, Action, Actor};
use crate::workflow::documents::data_key_of;
use crate::workflow::queue::renew;
use crate::workflow::services::Services;
use crate::workflow::{short_id, ReviewError};

/// Decrypts one document in memory and watermarks it with the viewer, the time and the
/// request. Only a live document of this very request, not past its retention, opens;
/// every view is audited.
pub async fn view_document(
    services: &Services,
    request_id: RequestId,
    document_id: DocumentId,
    viewer: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, ReviewError> {
    let request_id = request_id.0;
    let document_id = document_id.0;
    crate::workflow::expiry::expire_if_due(services, request_id, now).await?;
    let found = document::Entity::find_by_id(document_id)
        .filter(document::Column::RequestId.eq(request_id))
        .one(&services.db)
        .await?
        .ok_or(ReviewError::NotFound)?;
    if found.wrapped_key.is_none() {
        return Err(ReviewError::NotFound);
    }
    let (data_key, binding) = data_key_of(services, &found).map_err(|_| ReviewError::Unreadable)?;
    let wrap_version = found.wrap_version.unwrap_or(found.key_version);
    let kind = found.kind.to_value();
    let audited = |action: Action, detail: String| {
        let actor = Actor::Reviewer(&viewer.name);
        async move { audit::record(&services.db, actor, action, Some(request_id), Some(&detail)).await }
    };
    // The key use is recorded before the key is used; the file is read meanwhile.
    let (recorded, sealed) = tokio::join!(
        audited(
            Action::KeyUse,
            format!("{kind} (key version {wrap_version})"),
        ),
        services.store.get(&found.storage_name)
    );
    recorded?;
    let sealed = sealed.map_err(|_| ReviewError::Unreadable)?;
    let stamp = format!(
        "{} {} #{}",
        viewer.name,
        now.format("%Y-%m-%d %H:%M UTC"),
        short_id(request_id)
    );
    // Decoding, stamping and encoding take most of the time; the claim is renewed meanwhile.
    let watermarking = tokio::task::spawn_blocking(move || {
        let plain = data_key
            .open_document(&binding, &sealed)
            .map_err(|_| ReviewError::Unreadable)?;
        crate::intake::watermark::watermark_jpeg(&plain, &stamp)
            .map_err(|_| ReviewError::Unreadable)
    });
    let (viewed, renewed) =
        tokio::join!(watermarking, renew(&services.db, request_id, viewer, now));
    let viewed = viewed.map_err(|_| ReviewError::Unreadable)??;
    renewed?;
    audited(Action::DocumentView, kind).await?;
    Ok(viewed)
}
