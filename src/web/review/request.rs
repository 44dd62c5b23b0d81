//! One request as a reviewer works on it: the review page, claims, the documents, messages,
//! and the decisions.

use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::{ContentType, Header, Status};
use rocket::request::{FlashMessage, Request};
use rocket::response::{self, Flash, Redirect, Responder};
use rocket::{get, post, Either, State};
use rocket_dyn_templates::{context, Template};
use uuid::Uuid;

use super::{after, back_to, back_with, OnRequest, Plain, UrlEncoded};
use crate::intake::mrz::Zone;
use crate::platform::i18n::Arg;
use crate::web::csrf::{carries_csrf, FormToken};
use crate::web::error::Error;
use crate::web::links::PageLinks;
use crate::web::passkeys::{step_up_needed, step_up_page};
use crate::web::session::{AdminSession, ReviewerSession};
use crate::web::{page, Chosen};
use crate::workflow::decide::{self, ApprovalInput, ApproveOutcome};
use crate::workflow::messages::{self, MessageError};
use crate::workflow::objection;
use crate::workflow::queue as claims;
use crate::workflow::registry_refusal;
use crate::workflow::services::Services;
use crate::workflow::zones;
use crate::workflow::{
    parse, view, DocumentId, DocumentKind, RequestId, RequestKind, RequestState, REJECTION_REASONS,
    REQUESTER_DOCUMENTS,
};

#[derive(FromForm)]
pub(super) struct ApproveForm {
    csrf_token: String,
    confirm_contested: bool,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    contested_reason: Option<String>,
    signatory_confirmed: bool,
}

#[derive(FromForm)]
pub(super) struct RejectForm {
    csrf_token: String,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    template: Option<String>,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    reason: Option<String>,
}

#[derive(FromForm)]
pub(super) struct RequestDocumentForm {
    csrf_token: String,
    kind: Option<String>,
    #[field(validate = len(..=decide::MAX_TEXT_CHARS * 4))]
    note: Option<String>,
}

#[derive(FromForm)]
pub(super) struct StaffMessageForm {
    csrf_token: String,
    #[field(validate = len(..=messages::MAX_MESSAGE_CHARS * 4))]
    message: String,
}

carries_csrf!(
    ApproveForm,
    RejectForm,
    RequestDocumentForm,
    StaffMessageForm
);

#[get("/requests/<id>")]
pub(super) async fn review_page(
    id: Option<Uuid>,
    session: ReviewerSession,
    flash: Option<FlashMessage<'_>>,
    chosen: Chosen,
    services: &State<Services>,
) -> Result<Template, Error> {
    let me = &session.0.reviewer;
    let id = RequestId(id.ok_or(Error::NotFound)?);
    let now = Utc::now();
    let view = view::review_view(services, id, me, now).await?;
    let zones: std::collections::HashMap<String, Zone> =
        zones::zones_for_review(services, id.0, &me.name)
            .await?
            .into_iter()
            .map(|(document, zone)| (document.to_string(), zone))
            .collect();
    let stamp = format!(
        "{} · {} · #{}",
        me.name,
        now.format("%Y-%m-%d %H:%M UTC"),
        view.short_id
    );
    let kinds = REQUESTER_DOCUMENTS;
    let earlier_reasons: Vec<String> = view
        .earlier_rejections
        .iter()
        .map(|r| r.reason.in_lang(chosen.lang))
        .collect();
    let decidable = matches!(
        view.state,
        RequestState::Submitted | RequestState::NeedsDocument
    );
    Ok(page(
        "review_request",
        &chosen,
        context! {
            me: &me.name, is_admin: me.is_admin, csrf_token: &session.0.csrf_token,
            contested: view.domain_contested(), decidable, view, kinds, reasons: REJECTION_REASONS,
            earlier_reasons, zones, stamp,
            flash: flash.map(|f| (f.kind().to_owned(), f.message().to_owned())),
            max_message_chars: messages::MAX_MESSAGE_CHARS,
        },
    ))
}

/// A reviewer writes to the requester; any reviewer may, without a claim.
#[post("/requests/<_>/messages", data = "<form>")]
pub(super) async fn send_message(
    on: OnRequest,
    form: UrlEncoded<StaffMessageForm>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let OnRequest { id, me, lang, .. } = on;
    let text = form.0.into_inner().message;
    match messages::from_staff(services, id, &me, &text, Utc::now()).await {
        Ok(()) => Ok(Flash::success(back_to(id), lang.t("review-message-sent"))),
        Err(MessageError::NotFound) => Err(Error::NotFound),
        Err(MessageError::Database(error)) => Err(error.into()),
        Err(problem) => Ok(Flash::error(
            back_to(id),
            crate::web::wording::message_problem(&problem, lang),
        )),
    }
}

#[post("/requests/<_>/claim", data = "<_checked>")]
pub(super) async fn claim(
    on: OnRequest,
    _checked: UrlEncoded<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let OnRequest { id, me, lang, .. } = on;
    claims::claim(&services.db, &services.settings, id, &me, Utc::now()).await?;
    Ok(Flash::success(back_to(id), lang.t("review-claimed")))
}

#[post("/requests/<_>/release", data = "<_checked>")]
pub(super) async fn release(
    on: OnRequest,
    _checked: UrlEncoded<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    claims::release(&services.db, on.id, &on.me).await?;
    Ok(Flash::success(
        Redirect::to("/review"),
        on.lang.t("review-released"),
    ))
}

/// A decrypted, watermarked document: never cached, never sniffed, never a page.
pub(super) struct DocumentView(Vec<u8>);

impl<'r> Responder<'r, 'static> for DocumentView {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        response::Response::build_from(self.0.respond_to(req)?)
            .header(ContentType::JPEG)
            .header(Header::new("Cache-Control", "no-store"))
            .header(Header::new("Content-Security-Policy", "default-src 'none'"))
            .header(Header::new("Content-Disposition", "inline"))
            .ok()
    }
}

#[get("/requests/<id>/documents/<document_id>")]
pub(super) async fn document(
    id: Option<Uuid>,
    document_id: Option<Uuid>,
    session: ReviewerSession,
    services: &State<Services>,
) -> Result<DocumentView, Error> {
    let (id, document_id) = id.zip(document_id).ok_or(Error::NotFound)?;
    let (id, document_id) = (RequestId(id), DocumentId(document_id));
    let me = &session.0.reviewer;
    let bytes = view::view_document(services, id, document_id, me, Utc::now()).await?;
    Ok(DocumentView(bytes))
}

#[post("/requests/<_>/approve", data = "<form>")]
pub(super) async fn approve(
    on: OnRequest,
    form: UrlEncoded<ApproveForm>,
    host: crate::web::HostUrl,
    chosen: Chosen,
    token: FormToken,
    services: &State<Services>,
) -> Result<Either<(Status, Template), Flash<Redirect>>, Error> {
    let form = form.0.into_inner();
    if on.step_up_needed {
        let action = format!("/review/requests/{}/approve", on.id.0);
        let fields = vec![
            ("confirm_contested", form.confirm_contested.to_string()),
            (
                "contested_reason",
                form.contested_reason.unwrap_or_default(),
            ),
            ("signatory_confirmed", form.signatory_confirmed.to_string()),
        ];
        let page = step_up_page(&on.me, &chosen, &token, &action, fields);
        return Ok(Either::Left(page));
    }
    approve_now(on, form, host, services)
        .await
        .map(Either::Right)
}

async fn approve_now(
    on: OnRequest,
    form: ApproveForm,
    host: crate::web::HostUrl,
    services: &Services,
) -> Result<Flash<Redirect>, Error> {
    let OnRequest { id, me, lang, .. } = on;
    let input = ApprovalInput {
        contested_reason: form.contested_reason.filter(|_| form.confirm_contested),
        signatory_confirmed: form.signatory_confirmed,
    };
    match decide::approve(services, id, &me, &input, &PageLinks(host.0), Utc::now()).await {
        Ok(ApproveOutcome::Approved(RequestKind::Nameservers)) => Ok(Flash::success(
            back_to(id),
            lang.t("review-approved-nameservers"),
        )),
        Ok(ApproveOutcome::Approved(RequestKind::TransferCode)) => {
            Ok(Flash::success(back_to(id), lang.t("review-approved-code")))
        }
        Ok(ApproveOutcome::ApprovalRecorded { have, need }) => Ok(Flash::success(
            Redirect::to("/review"),
            lang.t_with(
                "review-approval-recorded",
                &[("have", Arg::from(have)), ("need", Arg::from(need))],
            ),
        )),
        Err(error) => back_with(id, error, lang),
    }
}

#[post("/requests/<_>/reject", data = "<form>")]
pub(super) async fn reject(
    on: OnRequest,
    form: UrlEncoded<RejectForm>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let OnRequest { id, me, lang, .. } = on;
    let form = form.0.into_inner();
    let standard = form.template.as_deref().filter(|key| !key.is_empty());
    let words = form.reason.as_deref().unwrap_or_default();
    let rejected = decide::reject(services, id, &me, standard, words, Utc::now()).await;
    after(id, rejected, "review-rejected", lang)
}

#[post("/requests/<_>/request-document", data = "<form>")]
pub(super) async fn request_document(
    on: OnRequest,
    form: UrlEncoded<RequestDocumentForm>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    let OnRequest { id, me, lang, .. } = on;
    let form = form.0.into_inner();
    let Some(kind) = form.kind.as_deref().and_then(parse::<DocumentKind>) else {
        return Ok(Flash::error(back_to(id), lang.t("review-choose-document")));
    };
    let note = form.note.as_deref().unwrap_or("");
    let asked = decide::request_document(services, id, &me, kind, note, Utc::now()).await;
    after(id, asked, "review-document-asked", lang)
}

/// A reviewer has dealt with the registrant's objection.
#[post("/requests/<_>/objection-handled", data = "<_checked>")]
pub(super) async fn objection_handled(
    on: OnRequest,
    _checked: UrlEncoded<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    if !objection::mark_handled(services, on.id, &on.me, Utc::now()).await? {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        back_to(on.id),
        on.lang.t("review-objection-handled"),
    ))
}

/// A reviewer has dealt with the registry's refusal: the request loses its mark.
#[post("/requests/<_>/registry-refusal-handled", data = "<_checked>")]
pub(super) async fn registry_refusal_handled(
    on: OnRequest,
    _checked: UrlEncoded<Plain>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, Error> {
    if !registry_refusal::mark_handled(services, on.id, &on.me).await? {
        return Err(Error::NotFound);
    }
    Ok(Flash::success(
        back_to(on.id),
        on.lang.t("review-registry-refusal-handled"),
    ))
}

/// An admin cancels an approved request's code, or restores the nameservers of an approved
/// change, whatever the mail setup (the registrant's own link needs mail).
#[post("/requests/<id>/withdraw", data = "<_checked>")]
pub(super) async fn withdraw(
    id: Option<Uuid>,
    session: AdminSession,
    _checked: UrlEncoded<Plain>,
    chosen: Chosen,
    token: FormToken,
    services: &State<Services>,
) -> Result<Either<(Status, Template), Flash<Redirect>>, Error> {
    let id = RequestId(id.ok_or(Error::NotFound)?);
    if step_up_needed(&session.0) {
        let action = format!("/review/requests/{}/withdraw", id.0);
        let page = step_up_page(&session.0.reviewer, &chosen, &token, &action, vec![]);
        return Ok(Either::Left(page));
    }
    let me = &session.0.reviewer;
    if !objection::withdraw_by_admin(services, id, me, Utc::now()).await? {
        return Ok(Either::Right(Flash::error(
            back_to(id),
            chosen.lang.t("review-withdraw-nothing"),
        )));
    }
    Ok(Either::Right(Flash::success(
        back_to(id),
        chosen.lang.t("review-withdrawn"),
    )))
}
