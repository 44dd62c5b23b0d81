//! Asking the requester for a new document, and the requester sending it from the tracking
//! page: it goes through the same intake, and the document it replaces is destroyed.

use chrono::{DateTime, Utc};
use entities::{approval, document, request, reviewer};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::workflow::ids::RequestId;

use super::{held_request, reviewer_guard, text_for_requester};
use crate::evidence::audit::{self, Action, Actor};
use crate::mail::Mail;
use crate::platform::crypto::TrackingToken;
use crate::workflow::documents::{field_name, subject_of, write_then};
use crate::workflow::input::{
    Field, FieldErrors, FieldProblem, SubmitError, Upload, REQUESTER_DOCUMENTS,
};
use crate::workflow::notify::notify_requester;
use crate::workflow::rules::retention_cutoff;
use crate::workflow::services::Services;
use crate::workflow::shred::{shred_documents, unlink_after_commit};
use crate::workflow::state::{self, Guard, Step};
use crate::workflow::{limits, rules, DocumentKind, RequestState, ReviewError};

/// Asks the requester for a new document of `kind`; they see `note` on their tracking page.
/// Approvals given so far were given on the old document, so they are withdrawn.
pub async fn request_document(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
    kind: DocumentKind,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let request_id = request_id.0;
    if !REQUESTER_DOCUMENTS.contains(&kind) {
        return Err(ReviewError::NotRequesterDocument);
    }
    let note = text_for_requester(note, ReviewError::MissingNote)?;
    let found = held_request(services, request_id, me, now).await?;
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    let guard = reviewer_guard(services, me, now);
    if !state::apply(
        &txn,
        request_id,
        Step::AskForDocument,
        &guard,
        Some(note.clone()),
    )
    .await?
    {
        return Err(ReviewError::AlreadyDecided);
    }
    request::Entity::update_many()
        .col_expr(request::Column::RequestedDocument, Expr::value(kind))
        .col_expr(request::Column::RequestedNote, Expr::value(note.clone()))
        .filter(request::Column::Id.eq(request_id))
        .exec(&txn)
        .await?;
    let withdrawn = approval::Entity::delete_many()
        .filter(approval::Column::RequestId.eq(request_id))
        .exec(&txn)
        .await?
        .rows_affected;
    let mut detail = format!("{}: {note}", sea_orm::ActiveEnum::to_value(&kind));
    if withdrawn > 0 {
        detail.push_str(&format!(" ({withdrawn} approval(s) withdrawn)"));
    }
    audit::record(
        &txn,
        Actor::Reviewer(&me.name),
        Action::DocumentRequested,
        Some(request_id),
        Some(&detail),
    )
    .await?;
    let mail = Mail::DocumentRequested {
        domain: found.domain.clone(),
        document: kind,
        note,
    };
    notify_requester(services, &txn, &found, mail, now).await?;
    txn.commit().await?;
    services.mail_wake.notify_one();
    Ok(())
}
/// The requester sends the new document a reviewer asked for, from the tracking page. It
/// goes through the same intake; the document it replaces is shredded at once.
pub async fn provide_document(
    services: &Services,
    token: &TrackingToken,
    upload: Option<Upload>,
    client_addr: &str,
) -> Result<(), SubmitError> {
    let found = crate::workflow::rules::request_of_tracking_link(&services.db, token)
        .await?
        .ok_or(SubmitError::NotFound)?;
    let invalid = |problem: FieldProblem| {
        SubmitError::Invalid(FieldErrors::from([(Field::Document, problem)]))
    };
    let nothing_asked = || invalid(FieldProblem::NothingAsked);
    if found.state != RequestState::NeedsDocument
        || found.created_at <= retention_cutoff(&services.settings, Utc::now())
    {
        return Err(nothing_asked());
    }
    let kind = found.requested_document.ok_or_else(nothing_asked)?;
    let upload = upload.ok_or_else(|| invalid(FieldProblem::DocumentMissing))?;
    if let Some(retry_after) = limits::count_intake(services, client_addr, Utc::now()).await? {
        return Err(SubmitError::TooMany { retry_after });
    }
    let image = services
        .intake
        .sanitize(upload.bytes, subject_of(kind))
        .await
        .map_err(|error| invalid(FieldProblem::Image(error)))?;
    let now = Utc::now();
    let clean = [(kind, image)];
    write_then(services, found.id, &clean, now, async |mut documents| {
        let txn = crate::platform::db::begin_writing(&services.db).await?;
        let guard = Guard {
            created_after: Some(retention_cutoff(&services.settings, now)),
            ..Guard::system(now)
        };
        if !state::apply(&txn, found.id, Step::ReceiveDocument, &guard, None).await? {
            return Err(nothing_asked());
        }
        let replaced = document::Entity::find()
            .filter(document::Column::RequestId.eq(found.id))
            .filter(document::Column::Kind.eq(kind))
            .filter(rules::live_documents())
            .all(&txn)
            .await?;
        for old in replaced {
            shred_documents(&txn, found.id, Some(old.id), Actor::Requester, now).await?;
        }
        if let Some(document) = documents.pop() {
            document.insert(&txn).await?;
        }
        audit::record(
            &txn,
            Actor::Requester,
            Action::DocumentReplaced,
            Some(found.id),
            Some(field_name(kind).name()),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    })
    .await?;
    unlink_after_commit(services).await;
    Ok(())
}
