//! What the holder of a tracking token may see: state and timeline, nothing of the person.

use chrono::{DateTime, Utc};
use entities::{request, request_event};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::RequestState;
use crate::crypto::TrackingToken;

#[derive(Debug, serde::Serialize)]
pub struct TrackingView {
    pub request_id: Uuid,
    pub domain: String,
    pub state: RequestState,
    pub created_at: DateTime<Utc>,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, serde::Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub event: String,
    pub note: Option<String>,
}

/// The request that `token` opens, optionally required to be `request_id`. Every miss —
/// unknown token, token of another request — is the same `None`.
pub async fn find_for_requester(
    db: &impl ConnectionTrait,
    token: &TrackingToken,
    request_id: Option<Uuid>,
) -> Result<Option<TrackingView>, DbErr> {
    let mut query = request::Entity::find()
        .filter(request::Column::TrackingTokenHash.eq(token.hash().to_vec()));
    if let Some(id) = request_id {
        query = query.filter(request::Column::Id.eq(id));
    }
    let Some(found) = query.one(db).await? else {
        return Ok(None);
    };
    let Some(state) = RequestState::parse(&found.state) else {
        return Err(DbErr::Custom(format!(
            "unknown request state {:?}",
            found.state
        )));
    };
    let timeline = request_event::Entity::find()
        .filter(request_event::Column::RequestId.eq(found.id))
        .order_by_asc(request_event::Column::At)
        .order_by_asc(request_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| TimelineEntry {
            at: e.at,
            event: e.kind,
            note: e.note,
        })
        .collect();
    Ok(Some(TrackingView {
        request_id: found.id,
        domain: found.domain,
        state,
        created_at: found.created_at,
        timeline,
    }))
}
