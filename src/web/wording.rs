//! The words requesters read about their input. The workflow says what is wrong
//! (`FieldProblem`, `IntakeError`, `MessageError`); saying it to a person, in their
//! language, happens here, in one place.

use std::collections::BTreeMap;

use crate::intake::{IntakeError, QualityProblem, ShapeProblem, Subject};
use crate::platform::i18n::{Lang, Text};
use crate::registry::domains::{NameserverError, MAX_NAMESERVERS, MIN_NAMESERVERS};
use crate::workflow::messages::{MessageError, MAX_MESSAGE_CHARS};
use crate::workflow::{FieldErrors, FieldProblem};

fn field_text(problem: &FieldProblem) -> Text {
    match problem {
        FieldProblem::DomainMissing => Text::new("problem-domain-missing"),
        FieldProblem::DomainInvalid(typed) => {
            Text::new("problem-domain-invalid").with("typed", typed.as_str())
        }
        FieldProblem::DomainNotOurs => Text::new("problem-domain-not-ours"),
        FieldProblem::NameMissing => Text::new("problem-name-missing"),
        FieldProblem::NameTooLong { max_chars } => {
            Text::new("problem-name-too-long").with("max", *max_chars)
        }
        FieldProblem::EmailMissing => Text::new("problem-email-missing"),
        FieldProblem::EmailInvalid | FieldProblem::HolderEmailInvalid => {
            Text::new("problem-email-invalid")
        }
        FieldProblem::PhoneInvalid => Text::new("problem-phone-invalid"),
        FieldProblem::RelationMissing => Text::new("problem-relation-missing"),
        FieldProblem::UidMissing => Text::new("problem-uid-missing"),
        FieldProblem::UidInvalid => Text::new("problem-uid-invalid"),
        FieldProblem::IdDocumentTypeInvalid => Text::new("problem-id-document-type-invalid"),
        FieldProblem::KindInvalid => Text::new("problem-kind-invalid"),
        FieldProblem::NameserversNotOffered => Text::new("problem-nameservers-not-offered"),
        FieldProblem::Nameservers(NameserverError::TooFew) => {
            Text::new("problem-nameservers-too-few").with("min", MIN_NAMESERVERS)
        }
        FieldProblem::Nameservers(NameserverError::TooMany) => {
            Text::new("problem-nameservers-too-many").with("max", MAX_NAMESERVERS)
        }
        FieldProblem::Nameservers(NameserverError::Invalid(typed)) => {
            Text::new("problem-nameserver-invalid").with("typed", typed.as_str())
        }
        FieldProblem::Nameservers(NameserverError::Duplicate(host)) => {
            Text::new("problem-nameserver-duplicate").with("host", host.as_str())
        }
        FieldProblem::HolderVerifiesNotForRelation => Text::new("problem-holder-verifies"),
        FieldProblem::HolderVerificationNeedsMail => Text::new("problem-holder-needs-mail"),
        FieldProblem::HolderNameMissing => Text::new("problem-holder-name-missing"),
        FieldProblem::HolderEmailMissing => Text::new("problem-holder-email-missing"),
        FieldProblem::ConsentMissing => Text::new("problem-consent-missing"),
        FieldProblem::FrontMissing => Text::new("problem-front-missing"),
        FieldProblem::ProofInvalid => Text::new("problem-proof-invalid"),
        FieldProblem::EidNotOffered => Text::new("problem-eid-not-offered"),
        FieldProblem::EidNotForRelation => Text::new("problem-eid-not-for-relation"),
        FieldProblem::AuthorizationMissing => Text::new("problem-authorization-missing"),
        FieldProblem::Image(error) => image_text(error),
        FieldProblem::Quality(problems) => {
            let key = match problems.first() {
                Some(QualityProblem::TooSmall) => "problem-quality-small",
                Some(QualityProblem::TooDark) => "problem-quality-dark",
                Some(QualityProblem::TooBright) => "problem-quality-bright",
                Some(QualityProblem::Blurred) | None => "problem-quality-blurred",
            };
            Text::new(key)
        }
        FieldProblem::NothingAsked => Text::new("problem-nothing-asked"),
        FieldProblem::DocumentMissing => Text::new("problem-document-missing"),
    }
}

fn image_text(error: &IntakeError) -> Text {
    match error {
        IntakeError::Empty => Text::new("problem-image-empty"),
        IntakeError::NotAnAcceptedImage => Text::new("problem-image-type"),
        IntakeError::TooManyPixels { width, height } if *width > 0 => {
            sized("problem-image-too-many-pixels-sized", *width, *height)
        }
        IntakeError::TooManyPixels { .. } => Text::new("problem-image-too-many-pixels"),
        IntakeError::TooNarrow {
            subject,
            width,
            height,
        } => sized(
            shape_key(*subject, ShapeProblem::TooNarrow),
            *width,
            *height,
        ),
        IntakeError::TooSmallToShow {
            subject,
            width,
            height,
        } => sized(shape_key(*subject, ShapeProblem::TooSmall), *width, *height),
        IntakeError::TooMuchImageData => Text::new("problem-image-too-much-data"),
        IntakeError::Undecodable => Text::new("problem-image-undecodable"),
        IntakeError::Processing => Text::new("problem-image-processing"),
    }
}

/// A message about a picture of `width` × `height` pixels.
fn sized(key: &'static str, width: u32, height: u32) -> Text {
    Text::new(key)
        .with("width", i64::from(width))
        .with("height", i64::from(height))
}

/// The message for a picture whose shape no photo of `subject` has.
fn shape_key(subject: Subject, problem: ShapeProblem) -> &'static str {
    match (subject, problem) {
        (Subject::IdentityDocument, ShapeProblem::TooNarrow) => "problem-image-narrow-identity",
        (Subject::Page, ShapeProblem::TooNarrow) => "problem-image-narrow-page",
        (Subject::IdentityDocument, ShapeProblem::TooSmall) => "problem-image-small-identity",
        (Subject::Page, ShapeProblem::TooSmall) => "problem-image-small-page",
    }
}

pub fn field_problem(problem: &FieldProblem, lang: Lang) -> String {
    field_text(problem).in_lang(lang)
}

pub fn message_problem(problem: &MessageError, lang: Lang) -> String {
    let text = match problem {
        MessageError::Empty => Text::new("problem-message-empty"),
        MessageError::TooLong => {
            Text::new("problem-message-too-long").with("max", MAX_MESSAGE_CHARS)
        }
        MessageError::TooMany => Text::new("problem-message-too-many"),
        MessageError::NotFound | MessageError::Database(_) => Text::new("problem-message-failed"),
    };
    text.in_lang(lang)
}

/// Every field's problem in words, in the order the page shows the fields.
pub fn field_error_list(errors: &FieldErrors, lang: Lang) -> Vec<(&'static str, String)> {
    errors
        .iter()
        .map(|(field, problem)| (field.name(), field_problem(problem, lang)))
        .collect()
}

/// Every field's problem in words, by field name (for the pages' `errors.<field>`).
pub fn field_errors(errors: &FieldErrors, lang: Lang) -> BTreeMap<&'static str, String> {
    field_error_list(errors, lang).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_errors_read_as_sentences_in_each_language() {
        assert_eq!(
            field_problem(&FieldProblem::Image(IntakeError::NotAnAcceptedImage), Lang::En),
            "This file is not a JPEG, PNG or WebP photo. Please send a photo or scan saved as JPEG, PNG or WebP."
        );
        let sized = FieldProblem::Image(IntakeError::TooManyPixels {
            width: 20_000,
            height: 100,
        });
        assert!(field_problem(&sized, Lang::En).contains("20000 × 100"));
        assert!(field_problem(&sized, Lang::De).contains("20000 × 100"));
        assert_ne!(
            field_problem(&sized, Lang::De),
            field_problem(&sized, Lang::En)
        );
    }
}
