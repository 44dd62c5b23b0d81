//! What the API answers, as types: each is both what is serialised and what the OpenAPI
//! document describes, so the two cannot drift apart.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::i18n::Lang;
use crate::web::links::PageLinks;
use crate::workflow::links::Links;
use crate::workflow::{self, DocumentKind, RequestKind, RequestState, TimelineEntry, TrackingView};

/// `201`: the request is stored.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The request's id, for `GET /api/v1/requests/{id}`.
    request_id: Uuid,
    /// The requester's only key to the request (256 random bits, base64url); only its
    /// SHA-256 is stored, so it is shown this once.
    #[schema(pattern = "^[A-Za-z0-9_-]{43}$")]
    tracking_token: String,
    /// The private tracking page, built from the public URL (or the request's host).
    tracking_url: String,
    status: ApiState,
}

impl Created {
    pub fn new(submitted: &workflow::Submitted, links: &PageLinks) -> Self {
        let token = submitted.tracking_token.expose();
        Created {
            request_id: submitted.request_id,
            tracking_token: token.to_owned(),
            tracking_url: links.tracking(token),
            status: submitted.state.into(),
        }
    }
}

/// `200`: a request as the holder of its tracking token may see it.
#[derive(Serialize, ToSchema)]
pub struct RequestAnswer {
    request_id: Uuid,
    /// The domain, as stored (lowercase; an IDN in punycode).
    domain: String,
    status: ApiState,
    created_at: DateTime<Utc>,
    /// Oldest first.
    timeline: Vec<TimelineEvent>,
    /// While `needs_document`: the document to send again (on the tracking page).
    requested_document: Option<ApiDocumentKind>,
    /// While `needs_document`: the reviewer's note saying why.
    requested_note: Option<String>,
    /// Once `rejected` or `expired`: why, in the language asked for (`?lang=`, else `Accept-Language`).
    reason: Option<String>,
    /// The standard reason's message key, when one was chosen (e.g. `reason-edited`).
    reason_key: Option<String>,
    /// Once `approved`, after any objection window and for 14 days: the transfer code.
    transfer_code: Option<String>,
    /// When `transfer_code` expires (and is erased).
    code_expires_at: Option<DateTime<Utc>>,
    kind: ApiKind,
    /// For a nameserver change: the host names asked for.
    nameservers: Option<Vec<String>>,
    /// For an approved nameserver change: when the registry set them.
    nameservers_set_at: Option<DateTime<Utc>>,
    /// When the holder verifies directly: the holder's name as the requester typed it.
    holder_name: Option<String>,
    /// When the registry refused to carry out the approved request and staff were told
    /// (the request waits for a reviewer again, or the approved change is not made yet);
    /// else null.
    registry_failed_at: Option<DateTime<Utc>>,
    /// With `registry_failed_at`: the same in a sentence for a person, in the language asked
    /// for. The registry's own words are for staff and are never given here.
    registry_notice: Option<String>,
}

impl RequestAnswer {
    pub fn new(view: TrackingView, lang: Lang) -> Self {
        RequestAnswer {
            request_id: view.request_id,
            domain: view.domain,
            status: view.state.into(),
            created_at: view.created_at,
            timeline: view.timeline.into_iter().map(TimelineEvent::from).collect(),
            requested_document: view.requested_document.map(ApiDocumentKind::from),
            requested_note: view.requested_note,
            reason: view.reason.as_ref().map(|r| r.in_lang(lang)),
            reason_key: view.reason.as_ref().and_then(|r| r.key.clone()),
            transfer_code: view.transfer_code,
            code_expires_at: view.code_expires_at,
            kind: view.kind.into(),
            nameservers: view.nameservers,
            nameservers_set_at: view.nameservers_set_at,
            holder_name: view.holder_name,
            registry_notice: view
                .registry_failed_at
                .map(|_| lang.t("track-registry-failed")),
            registry_failed_at: view.registry_failed_at,
        }
    }
}

/// One event of the request's timeline.
#[derive(Serialize, ToSchema)]
pub struct TimelineEvent {
    at: DateTime<Utc>,
    /// What happened (the names are listed in the document from the workflow's own list).
    event: String,
    /// A message's text (`message_from_requester`, `message_from_staff`), else mostly null.
    note: Option<String>,
}

impl From<TimelineEntry> for TimelineEvent {
    fn from(entry: TimelineEntry) -> Self {
        TimelineEvent {
            at: entry.at,
            event: entry.event,
            note: entry.note,
        }
    }
}

/// Where the request stands. `issuing` (the seconds of the registry hand-off) reads as
/// `submitted`.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiState {
    /// The holder was asked to verify through their own link and has not answered yet.
    AwaitingHolder,
    /// The requester chose to prove who they are with the e-ID; their wallet has not
    /// answered yet (the tracking page shows the QR code).
    AwaitingEid,
    /// Waiting for a reviewer.
    Submitted,
    /// A reviewer asked for a new document (`requested_document`).
    NeedsDocument,
    Approved,
    Rejected,
    /// Not decided within the retention period; the documents are destroyed.
    Expired,
}

impl From<RequestState> for ApiState {
    fn from(state: RequestState) -> Self {
        match state {
            RequestState::AwaitingHolder => ApiState::AwaitingHolder,
            RequestState::AwaitingEid => ApiState::AwaitingEid,
            RequestState::Submitted | RequestState::Issuing => ApiState::Submitted,
            RequestState::NeedsDocument => ApiState::NeedsDocument,
            RequestState::Approved => ApiState::Approved,
            RequestState::Rejected => ApiState::Rejected,
            RequestState::Expired => ApiState::Expired,
        }
    }
}

/// What the request asks for.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    TransferCode,
    Nameservers,
}

impl From<RequestKind> for ApiKind {
    fn from(kind: RequestKind) -> Self {
        match kind {
            RequestKind::TransferCode => ApiKind::TransferCode,
            RequestKind::Nameservers => ApiKind::Nameservers,
        }
    }
}

/// A document of the request.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiDocumentKind {
    IdFront,
    IdBack,
    Authorization,
    HolderIdFront,
    HolderIdBack,
}

impl From<DocumentKind> for ApiDocumentKind {
    fn from(kind: DocumentKind) -> Self {
        match kind {
            DocumentKind::IdFront => ApiDocumentKind::IdFront,
            DocumentKind::IdBack => ApiDocumentKind::IdBack,
            DocumentKind::Authorization => ApiDocumentKind::Authorization,
            DocumentKind::HolderIdFront => ApiDocumentKind::HolderIdFront,
            DocumentKind::HolderIdBack => ApiDocumentKind::HolderIdBack,
        }
    }
}

/// Every refusal but a form's: one sentence for a person, in the language asked for.
/// (Written by `web::error`, which answers JSON under `/api/`.)
#[derive(Serialize, ToSchema)]
pub struct ErrorAnswer {
    error: String,
}

/// `422`: each field that was refused, with why (in the language asked for).
#[derive(Serialize, ToSchema)]
pub struct FieldErrorsAnswer {
    #[schema(example = json!({"email": "This does not look like an email address (name@example.com)."}))]
    errors: BTreeMap<String, String>,
}
