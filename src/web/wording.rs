//! The words requesters read about their input. The workflow says what is wrong
//! (`FieldProblem`, `IntakeError`); saying it to a person happens here, in one place.

use std::collections::BTreeMap;

use crate::domains::{NameserverError, MAX_NAMESERVERS, MIN_NAMESERVERS};
use crate::intake::IntakeError;
use crate::workflow::messages::{MessageError, MAX_MESSAGE_CHARS};
use crate::workflow::{FieldErrors, FieldProblem};

pub fn field_problem(problem: &FieldProblem) -> String {
    match problem {
        FieldProblem::DomainMissing => "Please enter the domain name, for example example.com.".into(),
        FieldProblem::DomainInvalid(typed) => {
            format!("“{typed}” is not a valid domain name. Please enter it like example.com.")
        }
        FieldProblem::DomainNotOurs => "We do not manage this domain. Check the spelling; if it is right, please contact your host's support.".into(),
        FieldProblem::NameMissing => "Please enter your full name.".into(),
        FieldProblem::NameTooLong { max_chars } => {
            format!("Please shorten your name to {max_chars} characters.")
        }
        FieldProblem::EmailMissing => "Please enter an email address we can reach you at.".into(),
        FieldProblem::EmailInvalid => {
            "This does not look like an email address (name@example.com).".into()
        }
        FieldProblem::PhoneInvalid => {
            "Please enter a phone number with digits, spaces and an optional leading +.".into()
        }
        FieldProblem::RelationMissing => {
            "Please say whether you hold the domain or represent its holder.".into()
        }
        FieldProblem::UidMissing => "As a signatory, please give the company's UID (CHE-123.456.788), as the commercial register shows it.".into(),
        FieldProblem::UidInvalid => "This is not a valid Swiss UID: its last digit does not match the others. Please copy it from the commercial register (CHE-123.456.788).".into(),
        FieldProblem::KindInvalid => "Please choose what you ask for: the transfer code or new nameservers.".into(),
        FieldProblem::NameserversNotOffered => "Nameserver changes cannot be requested online here. Please ask for the transfer code instead, or contact your host's support.".into(),
        FieldProblem::Nameservers(NameserverError::TooFew) => format!("Please give at least {MIN_NAMESERVERS} nameservers, for example ns1.new-host.ch and ns2.new-host.ch: your new host tells you which."),
        FieldProblem::Nameservers(NameserverError::TooMany) => format!("Please give at most {MAX_NAMESERVERS} nameservers."),
        FieldProblem::Nameservers(NameserverError::Invalid(typed)) => format!("“{typed}” is not a host name. Nameservers look like ns1.example.net."),
        FieldProblem::Nameservers(NameserverError::Duplicate(host)) => format!("{host} is listed twice. Please give each nameserver once."),
        FieldProblem::HolderVerifiesNotForRelation => "Only someone acting for the holder can ask the holder to verify. Please untick this box, or choose “acting for the holder”.".into(),
        FieldProblem::HolderNameMissing => "Please enter the holder's full name, as on their identity document.".into(),
        FieldProblem::HolderEmailMissing => "Please enter an email address at which the holder can be reached now.".into(),
        FieldProblem::HolderEmailInvalid => "This does not look like an email address (name@example.com).".into(),
        FieldProblem::ConsentMissing => {
            "We can only check your identity with your consent to this processing.".into()
        }
        FieldProblem::FrontMissing => {
            "Please add a photo of the front of your identity document.".into()
        }
        FieldProblem::AuthorizationMissing => {
            "As a representative, please add the holder's signed authorisation letter.".into()
        }
        FieldProblem::Image(error) => image_problem(error),
        FieldProblem::NothingAsked => "Nothing is asked of you for this request right now.".into(),
        FieldProblem::DocumentMissing => "Please choose the photo to send.".into(),
    }
}

fn image_problem(error: &IntakeError) -> String {
    match error {
        IntakeError::Empty => "This file is empty. Please take the photo again or choose another file.".into(),
        IntakeError::NotAnAcceptedImage => "This file is not a JPEG, PNG or WebP photo. Please send a photo or scan saved as JPEG, PNG or WebP.".into(),
        IntakeError::TooManyPixels { width, height } if *width > 0 => format!(
            "The photo is too large ({width} × {height} pixels); the limit is 10,000 pixels a side and 50 megapixels. Please send a smaller photo."
        ),
        IntakeError::TooManyPixels { .. } => "The photo is too large; the limit is 10,000 pixels a side and 50 megapixels. Please send a smaller photo.".into(),
        IntakeError::TooMuchImageData => "This photo holds too much image data to process (very many pixels at a high colour depth). Please send a smaller photo, or the same photo saved as JPEG.".into(),
        IntakeError::Undecodable => "This photo could not be read: it may be damaged or incomplete. Please take the photo again or choose another file.".into(),
        IntakeError::Processing => "This photo could not be processed. Please take the photo again or choose another file.".into(),
    }
}

pub fn message_problem(problem: &MessageError) -> String {
    match problem {
        MessageError::Empty => "Please write your message before sending it.".into(),
        MessageError::TooLong => format!(
            "Please shorten your message to {MAX_MESSAGE_CHARS} characters; it was kept below."
        ),
        MessageError::TooMany => {
            "This request has had too many messages. Please wait for our answer.".into()
        }
        MessageError::NotFound | MessageError::Database(_) => {
            "Your message could not be sent. Please try again later.".into()
        }
    }
}

/// Every field's problem in words.
pub fn field_errors(errors: &FieldErrors) -> BTreeMap<&'static str, String> {
    errors
        .iter()
        .map(|(field, problem)| (*field, field_problem(problem)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_errors_read_as_sentences() {
        assert_eq!(
            field_problem(&FieldProblem::Image(IntakeError::NotAnAcceptedImage)),
            "This file is not a JPEG, PNG or WebP photo. Please send a photo or scan saved as JPEG, PNG or WebP."
        );
        assert!(
            field_problem(&FieldProblem::Image(IntakeError::TooManyPixels {
                width: 20_000,
                height: 100
            }))
            .contains("20000 × 100")
        );
    }
}
