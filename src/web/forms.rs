//! The multipart forms (the request form, shared by the HTML form and the API, and the
//! tracking page's document form), read with a cap on every field.
//!
//! Rocket buffers a multipart text part up to the whole body's limit before any type sees
//! it, so a 20 MB "name" would be read, echoed and stored. These forms are read with
//! multer directly instead: each text field has its own small cap, each file the `file`
//! limit, and reading stops at the first field over its cap. Files stay in memory (never a
//! temp file) and are zeroed when dropped.

use std::collections::HashMap;

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::Status;
use rocket::request::Request;
use zeroize::Zeroizing;

use super::csrf::CarriesCsrf;
use crate::platform::i18n::Lang;
use crate::workflow::{SubmissionInput, TypedValues, Upload};

/// Why a multipart form was refused; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("not multipart/form-data")]
    NotMultipart,
    #[error("the field {0} is over its size limit")]
    FieldTooLarge(String),
    #[error("the request is over its size limit")]
    BodyTooLarge,
    #[error("the form could not be read: {0}")]
    Malformed(String),
    #[error("the upload was too slow or took too long")]
    TooSlow,
}

pub(super) const FILE_FIELDS: [&str; 6] = [
    "id_front",
    "id_back",
    "authorization",
    "document",
    "holder_id_front",
    "holder_id_back",
];

/// Caps of the text fields, in bytes: generous for any real value (a name of 200
/// characters of up to 4 bytes each), tiny against an attack.
pub(super) const TEXT_FIELDS: [(&str, u64); 17] = [
    ("csrf_token", 128),
    ("domain", 1024),
    ("full_name", 1024),
    ("email", 1024),
    ("phone", 256),
    ("relation", 64),
    ("company_uid", 64),
    ("consent", 16),
    ("kind", 64),
    ("nameservers", 4096),
    ("holder_verifies", 16),
    ("holder_name", 1024),
    ("holder_email", 1024),
    ("id_document_type", 64),
    ("holder_id_document_type", 64),
    ("send_anyway", 16),
    ("proof", 16),
];

/// The fields of one multipart body.
#[derive(Default)]
pub struct Parts {
    texts: HashMap<String, String>,
    files: HashMap<String, Upload>,
}

impl Parts {
    fn text(&self, name: &str) -> String {
        self.texts.get(name).cloned().unwrap_or_default()
    }

    fn file(&mut self, name: &str) -> Option<Upload> {
        self.files.remove(name)
    }

    /// Reads a multipart body: only the known fields, each within its cap.
    async fn read(req: &Request<'_>, data: Data<'_>) -> Result<Parts, UploadError> {
        let boundary = req
            .content_type()
            .filter(|ct| ct.is_form_data())
            .and_then(|ct| ct.param("boundary"))
            .ok_or(UploadError::NotMultipart)?;
        let body_limit = req.limits().get("data-form").unwrap_or(45.mebibytes());
        let file_limit = req.limits().get("file").unwrap_or(20.mebibytes());
        let mut sizes = multer::SizeLimit::new()
            .whole_stream(body_limit.as_u64())
            .per_field(file_limit.as_u64());
        for (name, cap) in TEXT_FIELDS {
            sizes = sizes.for_field(name, cap);
        }
        let constraints = multer::Constraints::new().size_limit(sizes);
        let pace = req
            .rocket()
            .state::<crate::workflow::services::Services>()
            .map(|services| services.settings.upload_pace)
            .unwrap_or_default();
        let progress = req
            .local_cache(|| super::guards::SlotProgress(None))
            .0
            .clone();
        let body = data.open(body_limit + 1.bytes());
        let reader = super::pacing::PacedReader::new(body, pace, progress);
        let mut multipart =
            multer::Multipart::with_reader_with_constraints(reader, boundary, constraints);
        let mut parts = Parts::default();
        while let Some(mut field) = multipart.next_field().await.map_err(refusal)? {
            let Some(name) = field.name().map(str::to_owned) else {
                continue;
            };
            let is_file = FILE_FIELDS.contains(&name.as_str());
            let known = is_file || TEXT_FIELDS.iter().any(|(known, _)| *known == name);
            let named_file = field.file_name().is_some_and(|n| !n.is_empty());
            let mut bytes = Zeroizing::new(Vec::new());
            while let Some(chunk) = field.chunk().await.map_err(refusal)? {
                if known {
                    bytes.extend_from_slice(&chunk);
                }
            }
            if !known {
                continue;
            }
            if is_file {
                // An empty part with no file name is a file input left empty.
                if named_file || !bytes.is_empty() {
                    parts.files.insert(name, Upload { bytes });
                }
            } else {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| UploadError::Malformed(format!("{name} is not UTF-8")))?;
                parts.texts.insert(name, text);
            }
        }
        Ok(parts)
    }
}

fn refusal(error: multer::Error) -> UploadError {
    match error {
        multer::Error::FieldSizeExceeded { field_name, .. } => {
            UploadError::FieldTooLarge(field_name.unwrap_or_default())
        }
        multer::Error::StreamSizeExceeded { .. } => UploadError::BodyTooLarge,
        other if super::pacing::is_too_slow(&other) => UploadError::TooSlow,
        other => UploadError::Malformed(other.to_string()),
    }
}

/// Forms read with [`Parts::read`], whose `csrf_token` field is their CSRF token.
macro_rules! multipart_form {
    ($($form:ident),+) => {
        $(
            #[rocket::async_trait]
            impl<'r> FromData<'r> for $form {
                type Error = UploadError;

                async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
                    match Parts::read(req, data).await {
                        Ok(parts) => data::Outcome::Success($form { parts }),
                        Err(error) => data::Outcome::Error((Status::from(&error), error)),
                    }
                }
            }

            impl CarriesCsrf for $form {
                fn csrf_token(&self) -> Option<&str> {
                    self.parts.texts.get("csrf_token").map(String::as_str)
                }
            }
        )+
    };
}

/// The request form, from the HTML page or the API.
pub struct RequestForm {
    parts: Parts,
}

/// The tracking page's form: the new document a reviewer asked for.
pub struct DocumentForm {
    parts: Parts,
}

/// The holder's page: the holder's own identity document.
pub struct HolderDocumentsForm {
    parts: Parts,
}

/// The tracking page of a request waiting for the e-ID: photos instead.
pub struct PhotosForm {
    parts: Parts,
}

multipart_form!(RequestForm, DocumentForm, HolderDocumentsForm, PhotosForm);

impl From<&UploadError> for Status {
    fn from(error: &UploadError) -> Status {
        match error {
            UploadError::NotMultipart => Status::UnsupportedMediaType,
            UploadError::FieldTooLarge(_) | UploadError::BodyTooLarge => Status::PayloadTooLarge,
            UploadError::Malformed(_) => Status::BadRequest,
            UploadError::TooSlow => Status::RequestTimeout,
        }
    }
}

/// A checkbox or API flag: "yes", "on", "true" or "1".
fn is_yes(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "yes" | "on" | "true" | "1"
    )
}

impl RequestForm {
    pub fn typed_values(&self) -> TypedValues {
        let parts = &self.parts;
        TypedValues {
            domain: parts.text("domain"),
            full_name: parts.text("full_name"),
            email: parts.text("email"),
            phone: parts.text("phone"),
            relation: parts.text("relation"),
            company_uid: parts.text("company_uid"),
            kind: parts.text("kind"),
            nameservers: parts.text("nameservers"),
            holder_verifies: is_yes(&parts.text("holder_verifies")),
            holder_name: parts.text("holder_name"),
            holder_email: parts.text("holder_email"),
            id_document_type: parts.text("id_document_type"),
            proof: parts.text("proof"),
            send_anyway: is_yes(&parts.text("send_anyway")),
            consent: is_yes(&parts.text("consent")),
        }
    }

    /// The workflow's input, from `client_addr`, whose requester reads `language`.
    pub fn into_input(mut self, client_addr: Option<String>, language: Lang) -> SubmissionInput {
        SubmissionInput {
            typed: self.typed_values(),
            id_front: self.parts.file("id_front"),
            id_back: self.parts.file("id_back"),
            authorization: self.parts.file("authorization"),
            client_addr,
            language,
        }
    }
}

impl HolderDocumentsForm {
    /// Which document the holder says it is, and its front and back.
    pub fn into_answer(mut self) -> (String, Option<Upload>, Option<Upload>) {
        (
            self.parts.text("holder_id_document_type"),
            self.parts.file("holder_id_front"),
            self.parts.file("holder_id_back"),
        )
    }
}

impl PhotosForm {
    /// Which document the requester says it is, and its front and back.
    pub fn into_photos(mut self) -> (String, Option<Upload>, Option<Upload>) {
        (
            self.parts.text("id_document_type"),
            self.parts.file("id_front"),
            self.parts.file("id_back"),
        )
    }
}

impl DocumentForm {
    pub fn into_upload(mut self) -> Option<Upload> {
        self.parts.file("document")
    }
}
