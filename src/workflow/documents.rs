//! Sealing documents: each sanitised upload is encrypted under a data key of its own, written
//! to the store, and recorded by the caller's transaction; when that transaction fails, the
//! files written for it are removed again.

use chrono::{DateTime, Utc};
use entities::document;
use sea_orm::Set;
use uuid::Uuid;

use super::{DocumentKind, IdDocumentType, ZoneStatus};
use crate::intake::{CleanImage, Signals, Subject};
use crate::platform::crypto::{self, CryptoError, DataKey, DocumentBinding};
use crate::workflow::input::{
    said_document_type, Field, FieldErrors, FieldProblem, SubmitError, Upload,
};
use crate::workflow::services::Services;

/// Sanitises each upload (none where `None`); what fails intake is a problem of its field.
pub(super) async fn sanitize_all(
    services: &Services,
    uploads: impl IntoIterator<Item = (DocumentKind, Option<Upload>)>,
) -> (Vec<(DocumentKind, CleanImage)>, FieldErrors) {
    let mut clean = Vec::new();
    let mut errors = FieldErrors::new();
    for (kind, upload) in uploads {
        let Some(upload) = upload else { continue };
        match services
            .intake
            .sanitize(upload.bytes, subject_of(kind))
            .await
        {
            Ok(image) => clean.push((kind, image)),
            Err(error) => {
                errors.insert(field_name(kind), FieldProblem::Image(error));
            }
        }
    }
    (clean, errors)
}

/// Whose identity document a person photographs on their own page: the requester's (sent
/// instead of the e-ID) or the holder's (confirming a request).
#[derive(Clone, Copy)]
pub(super) enum IdentityOf {
    Requester,
    Holder,
}

impl IdentityOf {
    fn kinds(self) -> [DocumentKind; 2] {
        match self {
            IdentityOf::Requester => [DocumentKind::IdFront, DocumentKind::IdBack],
            IdentityOf::Holder => [DocumentKind::HolderIdFront, DocumentKind::HolderIdBack],
        }
    }

    fn type_field(self) -> Field {
        match self {
            IdentityOf::Requester => Field::IdDocumentType,
            IdentityOf::Holder => Field::HolderIdDocumentType,
        }
    }

    /// The field a problem with the request as a whole is shown at.
    pub fn front_field(self) -> Field {
        field_name(self.kinds()[0])
    }
}

/// Photos of one identity document as sent: its type as the person said it, the front
/// (required) and the back (optional).
pub(super) struct IdentityPhotos<'a> {
    pub said_type: &'a str,
    pub front: Option<Upload>,
    pub back: Option<Upload>,
}

/// Checks the said type and the front, counts the upload against `client_addr`'s intake
/// budget, and sanitises both sides through the form's intake.
pub(super) async fn sanitize_identity_photos(
    services: &Services,
    whose: IdentityOf,
    photos: IdentityPhotos<'_>,
    client_addr: &str,
    now: DateTime<Utc>,
) -> Result<(Option<IdDocumentType>, Vec<(DocumentKind, CleanImage)>), SubmitError> {
    let said_type = said_document_type(photos.said_type)
        .map_err(|problem| SubmitError::in_field(whose.type_field(), problem))?;
    let front = photos
        .front
        .ok_or_else(|| SubmitError::in_field(whose.front_field(), FieldProblem::FrontMissing))?;
    if let Some(retry_after) = super::limits::count_intake(services, client_addr, now).await? {
        return Err(SubmitError::TooMany { retry_after });
    }
    let [front_kind, back_kind] = whose.kinds();
    let uploads = [(front_kind, Some(front)), (back_kind, photos.back)];
    let (clean, errors) = sanitize_all(services, uploads).await;
    if !errors.is_empty() {
        return Err(SubmitError::Invalid(errors));
    }
    Ok((said_type, clean))
}

/// Seals and writes every document of `clean`, then runs `record` with their rows (not yet
/// inserted): the transaction that inserts them with whatever else the step records. On any
/// failure the files written are removed, so that a failed step leaves no file behind.
pub(super) async fn write_then<T>(
    services: &Services,
    request_id: Uuid,
    clean: &[(DocumentKind, CleanImage)],
    now: DateTime<Utc>,
    record: impl AsyncFnOnce(Vec<document::ActiveModel>) -> Result<T, SubmitError>,
) -> Result<T, SubmitError> {
    let mut written = Vec::with_capacity(clean.len());
    let result = async {
        let mut documents = Vec::with_capacity(clean.len());
        for (kind, image) in clean {
            let (document, name) = seal_and_write(services, request_id, *kind, image, now).await?;
            written.push(name);
            documents.push(document);
        }
        record(documents).await
    }
    .await;
    if result.is_ok() {
        // Identity documents wait for their zone to be read.
        services.zone_wake.notify_one();
    }
    if result.is_err() {
        for name in &written {
            if let Err(remove_error) = services.store.remove(name).await {
                tracing::error!(%remove_error, "cannot remove a document of a failed step");
            }
        }
    }
    result
}

/// Encrypts one sanitised document under a fresh data key and writes it to the store.
/// Returns its row (not yet inserted) and its file name.
async fn seal_and_write(
    services: &Services,
    request_id: Uuid,
    kind: DocumentKind,
    image: &CleanImage,
    now: chrono::DateTime<Utc>,
) -> Result<(document::ActiveModel, String), SubmitError> {
    let document_id = Uuid::new_v4();
    let binding = DocumentBinding {
        request_id,
        document_id,
        key_version: services.master_key.version(),
    };
    let data_key = DataKey::generate()?;
    let sealed = data_key.seal_document(&binding, &image.jpeg)?;
    let wrapped_key = services.master_key.wrap(&data_key, &binding)?;
    let storage_name = crate::platform::storage::name_for(document_id);
    let sealed_sha256 = crypto::sha256(&sealed).to_vec();
    services.store.put(&storage_name, sealed).await?;
    let document = document::ActiveModel {
        id: Set(document_id),
        request_id: Set(request_id),
        kind: Set(kind),
        format_version: Set(i32::from(crypto::FORMAT_VERSION)),
        algorithm: Set(crypto::ALGORITHM.to_owned()),
        key_version: Set(binding.key_version as i32),
        wrap_version: Set(None),
        wrapped_key: Set(Some(wrapped_key)),
        storage_name: Set(storage_name.clone()),
        width: Set(image.width as i32),
        height: Set(image.height as i32),
        byte_len: Set(image.jpeg.len() as i64),
        signals: Set(serde_json::to_string(&image.signals).unwrap_or_default()),
        created_at: Set(now),
        shredded_at: Set(None),
        sealed_sha256: Set(Some(sealed_sha256)),
        zone_status: Set(kind.is_identity().then_some(
            if services.settings.ocr_command.is_some() {
                ZoneStatus::Pending
            } else {
                ZoneStatus::NoOcr
            },
        )),
        sealed_zone: Set(None),
        zone_updated_at: Set(kind.is_identity().then_some(now)),
        zone_attempts: Set(0),
    };
    Ok((document, storage_name))
}

/// What a photo of a document kind shows, for intake to check its shape against.
pub(crate) fn subject_of(kind: DocumentKind) -> Subject {
    if kind.is_identity() {
        Subject::IdentityDocument
    } else {
        Subject::Page
    }
}

/// The form field (and stored value) of a document kind.
pub(crate) fn field_name(kind: DocumentKind) -> Field {
    match kind {
        DocumentKind::IdFront => Field::IdFront,
        DocumentKind::IdBack => Field::IdBack,
        DocumentKind::Authorization => Field::Authorization,
        DocumentKind::HolderIdFront => Field::HolderIdFront,
        DocumentKind::HolderIdBack => Field::HolderIdBack,
    }
}

/// A live document's data key and binding, unwrapped by the master key (after a rotation the
/// key is wrapped under a later version than the document was sealed under).
pub(crate) fn data_key_of(
    services: &Services,
    found: &document::Model,
) -> Result<(DataKey, DocumentBinding), CryptoError> {
    let wrapped = found.wrapped_key.as_ref().ok_or(CryptoError::Open)?;
    let version = |v: i32| u32::try_from(v).map_err(|_| CryptoError::Open);
    let binding = DocumentBinding {
        request_id: found.request_id,
        document_id: found.id,
        key_version: version(found.key_version)?,
    };
    let wrapping = DocumentBinding {
        key_version: version(found.wrap_version.unwrap_or(found.key_version))?,
        ..binding
    };
    let data_key = services.master_key.unwrap(wrapped, &wrapping)?;
    Ok((data_key, binding))
}

/// A document's stored signals. Unreadable signals count as fired, so that they can only
/// make the four-eyes rule stricter, never looser.
pub(crate) fn parse_signals(json: &str) -> Signals {
    serde_json::from_str(json).unwrap_or(Signals {
        no_camera_data: true,
        ..Signals::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_signals_count_as_fired() {
        assert_eq!(parse_signals("not json").fired(), 1);
        let clean = Signals {
            camera: Some("FP5".into()),
            ..Signals::default()
        };
        assert_eq!(
            parse_signals(&serde_json::to_string(&clean).unwrap()).fired(),
            0
        );
    }
}
