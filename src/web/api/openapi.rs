//! The OpenAPI 3.1 document of `/api/v1`, derived from the handlers' annotations and the
//! answer types, served at `/api/v1/openapi.json`.

use rocket::get;
use rocket::serde::json::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{self, ObjectBuilder, RefOr, Schema, Type};
use utoipa::{Modify, OpenApi, ToSchema};

use super::answers::{
    ApiDocumentKind, ApiKind, ApiState, Created, ErrorAnswer, FieldErrorsAnswer, RequestAnswer,
    TimelineEvent,
};
use crate::workflow::Event;

/// The fields of `POST /api/v1/requests` (`multipart/form-data`), as the form reader
/// (`web::forms`) takes them; only for the document. A test compares these names with the
/// fields the reader accepts.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RequestFields {
    /// The domain name (an IDN is allowed); it must be in the portfolio.
    domain: String,
    /// The requester's full name.
    full_name: String,
    /// An address that works now.
    email: String,
    /// Digits, spaces and an optional leading `+`.
    phone: Option<String>,
    /// `holder`; `representative` (acting with the holder's signed authorisation); or
    /// `signatory` (an authorised signatory of the holder company, as the commercial
    /// register lists).
    #[schema(pattern = "^(holder|representative|signatory)$")]
    relation: String,
    /// For `signatory`: the holder company's Swiss UID (`CHE-123.456.788`); its check digit
    /// is verified.
    company_uid: Option<String>,
    /// `transfer_code` (the default) or `nameservers` (offered only when a registry command
    /// is configured).
    kind: Option<String>,
    /// For `nameservers`: 2 to 13 host names separated by spaces, commas or line breaks.
    nameservers: Option<String>,
    /// `yes`: a `representative` asks the holder to verify through their own private link
    /// instead of uploading an authorisation; only when the service sends mail.
    holder_verifies: Option<String>,
    /// With `holder_verifies`: the holder's full name.
    holder_name: Option<String>,
    /// With `holder_verifies`: an address at which the holder can be reached now.
    holder_email: Option<String>,
    /// `passport`, `identity_card` or `other`: which document the photos show.
    id_document_type: Option<String>,
    /// `photos` (the default) or `eid`: for a `holder` or a `signatory`, prove who one is with
    /// the swiyu e-ID instead of photos (offered only when the service verifies e-IDs); the
    /// request then waits in `awaiting_eid`, and its tracking page shows the wallet's QR code.
    #[schema(pattern = "^(photos|eid)$")]
    proof: Option<String>,
    /// `yes`: send photos that fail a quality check as they are.
    send_anyway: Option<String>,
    /// `yes`.
    consent: String,
    /// The identity document's front (required unless `proof` is `eid`): JPEG, PNG or WebP,
    /// at most 20 MiB, 10,000 px a side and 50 MP, at least 200 px on its shorter side.
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    id_front: Option<Vec<u8>>,
    /// The back, same rules.
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    id_back: Option<Vec<u8>>,
    /// For a `representative` without `holder_verifies`: the holder's signed authorisation
    /// letter, same rules (a page may be up to 6 times as long as it is wide).
    #[schema(value_type = Option<String>, content_media_type = "application/octet-stream")]
    authorization: Option<Vec<u8>>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Transfer Desk API",
        description = "Requests for a domain's transfer code or new nameservers, proven with \
            an identity document. The tracking token returned at creation is the requester's \
            only key. Errors are JSON: `{\"error\": …}`, or `{\"errors\": {field: …}}` for a \
            refused form.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    paths(super::create_request, super::request_status, openapi_json),
    components(schemas(
        RequestFields,
        Created,
        RequestAnswer,
        TimelineEvent,
        ApiState,
        ApiKind,
        ApiDocumentKind,
        ErrorAnswer,
        FieldErrorsAnswer
    )),
    modifiers(&TrackingTokenScheme, &TimelineEventNames),
    tags((name = "requests", description = "A requester's transfer requests"))
)]
struct ApiDoc;

/// `Authorization: Bearer <tracking_token>`.
struct TrackingTokenScheme;

impl Modify for TrackingTokenScheme {
    fn modify(&self, document: &mut openapi::OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("The tracking token given at creation.".into());
        components.add_security_scheme("tracking_token", SecurityScheme::Http(bearer));
    }
}

/// The timeline's event names, from the workflow's own list.
struct TimelineEventNames;

impl Modify for TimelineEventNames {
    fn modify(&self, document: &mut openapi::OpenApi) {
        let Some(components) = document.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(event))) = components.schemas.get_mut("TimelineEvent")
        else {
            return;
        };
        let names = Event::ALL.map(Event::as_str);
        let described = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("What happened."))
            .enum_values(Some(names))
            .build();
        event
            .properties
            .insert("event".into(), RefOr::T(Schema::Object(described)));
    }
}

/// The document, as served.
pub fn document() -> openapi::OpenApi {
    ApiDoc::openapi()
}

/// This document.
#[utoipa::path(
    context_path = "/api/v1",
    tag = "requests",
    responses((status = 200, description = "The OpenAPI 3.1 document of `/api/v1`.",
        content_type = "application/json"))
)]
#[get("/openapi.json")]
pub(super) fn openapi_json() -> Json<openapi::OpenApi> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::forms::{FILE_FIELDS, TEXT_FIELDS};

    /// Fields the form reader takes for other forms than the request's: the CSRF token of
    /// the HTML forms, the tracking page's new document and the holder's own.
    const NOT_THE_APIS: [&str; 5] = [
        "csrf_token",
        "document",
        "holder_id_document_type",
        "holder_id_front",
        "holder_id_back",
    ];

    #[test]
    fn the_documented_request_fields_are_the_ones_the_form_reader_takes() {
        let document = document();
        let Some(RefOr::T(Schema::Object(fields))) = document
            .components
            .as_ref()
            .and_then(|c| c.schemas.get("RequestFields"))
        else {
            panic!("no RequestFields schema");
        };
        let documented: std::collections::BTreeSet<&str> =
            fields.properties.keys().map(String::as_str).collect();
        let read: std::collections::BTreeSet<&str> = TEXT_FIELDS
            .iter()
            .map(|(name, _)| *name)
            .chain(FILE_FIELDS)
            .filter(|name| !NOT_THE_APIS.contains(name))
            .collect();
        assert_eq!(documented, read);
    }
}
