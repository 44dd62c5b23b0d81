//! The multipart request form, shared by the HTML form and the JSON API.

use rocket::data::ToByteUnit;
use rocket::form::{self, DataField, Errors, Form, FromForm, FromFormField, ValueField};
use rocket::http::Status;
use zeroize::Zeroizing;

use super::error::Error;
use crate::workflow::{SubmissionInput, Upload};

/// One file field, read into memory (never a temp file) up to the `file` limit.
pub struct FileField {
    /// Whether the browser named a file: an empty part with no name is "no file chosen".
    named: bool,
    bytes: Zeroizing<Vec<u8>>,
}

#[rocket::async_trait]
impl<'v> FromFormField<'v> for FileField {
    fn from_value(field: ValueField<'v>) -> form::Result<'v, Self> {
        Ok(FileField {
            named: false,
            bytes: Zeroizing::new(field.value.as_bytes().to_vec()),
        })
    }

    async fn from_data(field: DataField<'v, '_>) -> form::Result<'v, Self> {
        let limit = field.request.limits().get("file").unwrap_or(20.mebibytes());
        let named = field
            .file_name
            .is_some_and(|name| !name.dangerous_unsafe_unsanitized_raw().is_empty());
        let capped = field.data.open(limit).into_bytes().await?;
        if !capped.is_complete() {
            return Err((None, Some(limit.as_u64())).into());
        }
        Ok(FileField {
            named,
            bytes: Zeroizing::new(capped.into_inner()),
        })
    }
}

impl FileField {
    fn into_upload(self) -> Option<Upload> {
        (self.named || !self.bytes.is_empty()).then_some(Upload { bytes: self.bytes })
    }

    /// The upload of a file field, `None` when none was chosen; a file over the size limit
    /// refuses the whole form.
    pub fn into_upload_or_too_large(
        field: form::Result<'_, FileField>,
    ) -> Result<Option<Upload>, FormProblem> {
        match field {
            Ok(file) => Ok(file.into_upload()),
            Err(errors) if errors.status() == Status::PayloadTooLarge => Err(FormProblem::TooLarge),
            Err(_) => Ok(None),
        }
    }
}

#[derive(FromForm)]
pub struct RequestForm<'r> {
    pub csrf_token: Option<&'r str>,
    pub domain: Option<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub relation: Option<String>,
    pub consent: Option<String>,
    pub id_front: form::Result<'r, FileField>,
    pub id_back: form::Result<'r, FileField>,
    pub authorization: form::Result<'r, FileField>,
}

/// What the person typed, to show again beside the errors.
#[derive(Debug, Default, serde::Serialize)]
pub struct TypedValues {
    pub domain: String,
    pub full_name: String,
    pub email: String,
    pub phone: String,
    pub relation: String,
    pub consent: bool,
}

pub enum FormProblem {
    TooLarge,
}

impl From<FormProblem> for Error {
    fn from(FormProblem::TooLarge: FormProblem) -> Self {
        Error::TooLarge
    }
}

/// A parsed multipart form, or the error to answer: 413 when the body or a file was over
/// its limit, 400 when it could not be read as a form at all.
pub fn parsed<'r, T>(form: Result<Form<T>, Errors<'r>>) -> Result<T, Error> {
    match form {
        Ok(form) => Ok(form.into_inner()),
        Err(errors) if errors.status() == Status::PayloadTooLarge => Err(Error::TooLarge),
        Err(_) => Err(Error::BadRequest),
    }
}

impl super::csrf::CarriesCsrf for RequestForm<'_> {
    fn csrf_token(&self) -> Option<&str> {
        self.csrf_token
    }
}

impl<'r> RequestForm<'r> {
    pub fn typed_values(&self) -> TypedValues {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        TypedValues {
            domain: text(&self.domain),
            full_name: text(&self.full_name),
            email: text(&self.email),
            phone: text(&self.phone),
            relation: text(&self.relation),
            consent: self.consent.as_deref().is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "yes" | "on" | "true" | "1")
            }),
        }
    }

    /// The workflow's input; a file over the size limit refuses the whole submission.
    pub fn into_input(self, client_addr: Option<String>) -> Result<SubmissionInput, FormProblem> {
        let typed = self.typed_values();
        Ok(SubmissionInput {
            id_front: FileField::into_upload_or_too_large(self.id_front)?,
            id_back: FileField::into_upload_or_too_large(self.id_back)?,
            authorization: FileField::into_upload_or_too_large(self.authorization)?,
            domain: typed.domain,
            full_name: typed.full_name,
            email: typed.email,
            phone: typed.phone,
            relation: typed.relation,
            consent: typed.consent,
            client_addr,
        })
    }
}
