//! Whether a request still waits for a person's e-ID, and what a verified answer does to it:
//! the signals its names fire, and the step that moves the request on.

use chrono::{DateTime, Utc};
use entities::enums::EidSubject;
use entities::{domain, eid_proof, request};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::eid::protocol::ProvenIdentity;
use crate::evidence::audit::{self, Action, Actor};
use crate::intake::mrz::disclosed_names_agree_with;
use crate::workflow::rules::retention_cutoff;
use crate::workflow::services::Services;
use crate::workflow::state::{self, Guard, HolderLink, Step};
use crate::workflow::{RequestState, RequesterRelation};

/// Whether `found` still waits for `subject`'s e-ID at `now`.
pub fn waits_for(
    services: &Services,
    found: &request::Model,
    subject: EidSubject,
    now: DateTime<Utc>,
) -> bool {
    let within_retention = found.created_at > retention_cutoff(&services.settings, now);
    within_retention
        && match subject {
            EidSubject::Requester => found.state == RequestState::AwaitingEid,
            EidSubject::Holder => {
                found.state == RequestState::AwaitingHolder
                    && found.holder_link_expires_at.is_some_and(|end| end > now)
            }
        }
}

/// The signals the disclosed names fire, as a zone's names do: they are not the name typed
/// for this person, and (where the person should be the registrant) not the registrant's.
pub async fn name_signals(
    db: &impl ConnectionTrait,
    found: &request::Model,
    subject: EidSubject,
    proven: &ProvenIdentity,
) -> Result<(bool, bool), DbErr> {
    let agree =
        |typed: &str| disclosed_names_agree_with(&proven.family_name, &proven.given_name, typed);
    let typed = match subject {
        EidSubject::Requester => Some(found.requester_name.as_str()),
        EidSubject::Holder => found.holder_name.as_deref(),
    };
    let should_be_registrant =
        subject == EidSubject::Holder || found.relation == RequesterRelation::Holder;
    let registrant = domain::Entity::find_by_id(found.domain.clone())
        .one(db)
        .await?
        .map(|d| d.registrant_name);
    Ok((
        typed.is_some_and(|typed| !agree(typed)),
        should_be_registrant && registrant.is_some_and(|name| !agree(&name)),
    ))
}

/// The verified answer counts for its request: the request moves on to review (the holder's
/// confirmation, for the holder), in the caller's transaction. `false` when the request no
/// longer waits for it (expired meanwhile, or photos were sent instead).
pub async fn accept(
    txn: &impl ConnectionTrait,
    services: &Services,
    proof: &eid_proof::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let guard = Guard {
        created_after: Some(retention_cutoff(&services.settings, now)),
        holder_link: (proof.subject == EidSubject::Holder).then_some(HolderLink::Live),
        ..Guard::system(now)
    };
    let (step, actor) = match proof.subject {
        EidSubject::Requester => (Step::EidProven, Actor::Requester),
        EidSubject::Holder => (Step::HolderConfirms, Actor::Holder),
    };
    if !state::apply(txn, proof.request_id, step, &guard, None).await? {
        return Ok(false);
    }
    if proof.subject == EidSubject::Holder {
        request::Entity::update_many()
            .col_expr(request::Column::HolderAnsweredAt, Expr::value(Some(now)))
            .filter(request::Column::Id.eq(proof.request_id))
            .exec(txn)
            .await?;
    }
    eid_proof::Entity::update_many()
        .col_expr(eid_proof::Column::AcceptedAt, Expr::value(Some(now)))
        .filter(eid_proof::Column::SessionId.eq(proof.session_id))
        .exec(txn)
        .await?;
    let detail = format!("session {}", crate::workflow::short_id(proof.session_id));
    audit::record(
        txn,
        actor,
        Action::EidAccepted,
        Some(proof.request_id),
        Some(&detail),
    )
    .await?;
    if proof.subject == EidSubject::Holder {
        audit::record(
            txn,
            actor,
            Action::HolderConfirmed,
            Some(proof.request_id),
            None,
        )
        .await?;
    }
    Ok(true)
}
