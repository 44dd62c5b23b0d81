//! What admins read: the outbox and the audit trail.

use rocket::http::Header;
use rocket::{get, Responder, State};
use rocket_dyn_templates::{context, Template};
use uuid::Uuid;

use crate::evidence::audit::{self, AuditFilter};
use crate::web::error::Error;
use crate::web::session::AdminSession;
use crate::web::{page, Chosen};
use crate::workflow::services::Services;

/// What was mailed, is waiting or could not be sent, to whom: never a link or a code.
#[get("/outbox")]
pub(super) async fn outbox(
    session: AdminSession,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let mails = crate::mail::recent(&services.db, 200).await?;
    Ok(page(
        "review_outbox",
        &chosen,
        context! {
            me: &session.0.reviewer.name, is_admin: true, csrf_token: &session.0.csrf_token,
            mails, smtp: services.settings.smtp_url.is_some(), link_marker: crate::mail::LINK_MARKER,
        },
    ))
}

#[get("/audit?<actor>&<action>&<request>")]
pub(super) async fn audit_trail(
    session: AdminSession,
    actor: Option<&str>,
    action: Option<&str>,
    request: Option<&str>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let given = |text: Option<&str>| {
        text.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let request_id = given(request).map(|r| Uuid::parse_str(&r).ok());
    // A filter by something that is no request id shows nothing, rather than everything.
    let not_an_id = request_id == Some(None);
    let filter = AuditFilter {
        actor: given(actor),
        action: given(action),
        request_id: request_id.flatten(),
    };
    let events = if not_an_id {
        Vec::new()
    } else {
        audit::list(&services.db, &filter, 500).await?
    };
    let checkpoint = crate::evidence::log::latest_checkpoint(&services.db).await?;
    let covered = checkpoint.as_ref().map_or(0, |c| c.size);
    let checkpoint = checkpoint.map(|c| c.note);
    Ok(page(
        "review_audit",
        &chosen,
        context! {
            me: &session.0.reviewer.name, is_admin: true, csrf_token: &session.0.csrf_token, events,
            actor: actor.unwrap_or(""), action: action.unwrap_or(""), request: request.unwrap_or(""),
            not_an_id, checkpoint, covered,
        },
    ))
}

/// One event's inclusion proof in the latest checkpoint, to download and hand on.
#[get("/audit/<index>/proof")]
pub(super) async fn audit_proof(
    _session: AdminSession,
    index: u64,
    services: &State<Services>,
) -> Result<Download, Error> {
    let proof = crate::evidence::log::proof_document(&services.db, index)
        .await?
        .ok_or(Error::NotFound)?;
    let disposition = Header::new(
        "Content-Disposition",
        format!("attachment; filename=\"audit-event-{index}-proof.txt\""),
    );
    Ok(Download { proof, disposition })
}

/// A text to save, not to show.
#[derive(Responder)]
#[response(content_type = "text/plain")]
pub(super) struct Download {
    proof: String,
    disposition: Header<'static>,
}
