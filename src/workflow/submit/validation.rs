//! The typed fields of a submission, checked before any photo is decoded: each problem is
//! recorded under its field, so that the form shows them all at once.

use crate::registry::domains::{
    is_plausible_email, normalize_domain, parse_nameservers, DomainError,
};
use crate::workflow::input::said_document_type;
use crate::workflow::input::{FieldErrors, FieldProblem, TypedValues};
use crate::workflow::Field;
use crate::workflow::{parse, IdDocumentType, RequestKind, RequesterRelation};

const MAX_NAME_CHARS: usize = 200;
const MAX_PHONE_CHARS: usize = 32;

pub(super) struct ValidFields {
    pub(super) domain: String,
    pub(super) full_name: String,
    pub(super) email: String,
    pub(super) phone: Option<String>,
    pub(super) relation: RequesterRelation,
    pub(super) company_uid: Option<String>,
    pub(super) kind: RequestKind,
    /// One host name per line.
    pub(super) nameservers: Option<String>,
    /// The holder's name and address, when they verify directly.
    pub(super) holder: Option<(String, String)>,
    pub(super) id_document_type: Option<IdDocumentType>,
    /// The requester proves who they are with the e-ID: no photo.
    pub(super) eid: bool,
}

/// What this service offers besides the plain transfer-code request.
#[derive(Clone, Copy, Debug)]
pub struct Offers {
    /// Nameserver changes: a registry command carries them out.
    pub nameservers: bool,
    /// The holder verifying through their own link: only a mail delivers it to them alone.
    pub holder_verification: bool,
    /// Proving who one is with the e-ID (`TRANSFER_DESK_EID_VERIFIER_DID`).
    pub eid: bool,
}

impl Offers {
    pub const ALL: Offers = Offers {
        nameservers: true,
        holder_verification: true,
        eid: true,
    };

    pub fn of(settings: &crate::platform::config::Settings) -> Offers {
        Offers {
            nameservers: crate::registry::Registry::configured(settings).is_some(),
            holder_verification: settings.smtp_url.is_some(),
            eid: settings.eid.is_some(),
        }
    }
}

/// The domain as typed, normalised (lowercase, IDN as punycode) once for the whole
/// submission; a problem is recorded under its field.
pub(super) fn check_domain(input: &TypedValues, errors: &mut FieldErrors) -> Option<String> {
    match normalize_domain(&input.domain) {
        Ok(domain) => Some(domain),
        Err(DomainError::Empty) => {
            errors.insert(Field::Domain, FieldProblem::DomainMissing);
            None
        }
        Err(DomainError::Invalid(typed)) => {
            errors.insert(
                Field::Domain,
                FieldProblem::DomainInvalid(typed.chars().take(80).collect()),
            );
            None
        }
    }
}

/// Checks every typed field but the domain (see [`check_domain`]), each problem under its
/// field; the fields when all are right.
pub(super) fn validate_fields(
    input: &TypedValues,
    domain: Option<String>,
    offers: &Offers,
    errors: &mut FieldErrors,
) -> Option<ValidFields> {
    let (full_name, email) = person(&input.full_name, &input.email, Whose::Requester, errors);
    let phone = collapse_whitespace(&input.phone);
    let phone_ok = phone.chars().count() <= MAX_PHONE_CHARS
        && phone
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " ()-./".contains(c) || (i == 0 && c == '+'));
    if !phone_ok {
        errors.insert(Field::Phone, FieldProblem::PhoneInvalid);
    }
    let relation = parse(input.relation.trim());
    if relation.is_none() {
        errors.insert(Field::Relation, FieldProblem::RelationMissing);
    }
    let company_uid = match relation {
        Some(RequesterRelation::Signatory) if input.company_uid.trim().is_empty() => {
            errors.insert(Field::CompanyUid, FieldProblem::UidMissing);
            None
        }
        Some(RequesterRelation::Signatory) => {
            let uid = crate::platform::uid::normalize(&input.company_uid);
            if uid.is_none() {
                errors.insert(Field::CompanyUid, FieldProblem::UidInvalid);
            }
            uid
        }
        _ => None,
    };
    let kind = match input.kind.trim() {
        "" => Some(RequestKind::TransferCode),
        typed => parse::<RequestKind>(typed),
    };
    let nameservers = match kind {
        None => {
            errors.insert(Field::Kind, FieldProblem::KindInvalid);
            None
        }
        Some(RequestKind::Nameservers) if !offers.nameservers => {
            errors.insert(Field::Kind, FieldProblem::NameserversNotOffered);
            None
        }
        Some(RequestKind::Nameservers) => match parse_nameservers(&input.nameservers) {
            Ok(hosts) => Some(hosts.join("\n")),
            Err(problem) => {
                errors.insert(Field::Nameservers, FieldProblem::Nameservers(problem));
                None
            }
        },
        Some(RequestKind::TransferCode) => None,
    };
    let holder = if input.holder_verifies && !offers.holder_verification {
        errors.insert(
            Field::HolderVerifies,
            FieldProblem::HolderVerificationNeedsMail,
        );
        None
    } else if input.holder_verifies {
        validate_holder(input, relation, errors)
    } else {
        None
    };
    let eid = validate_proof(input, relation, offers, errors);
    let id_document_type = said_document_type(&input.id_document_type).unwrap_or_else(|problem| {
        errors.insert(Field::IdDocumentType, problem);
        None
    });
    if !input.consent {
        errors.insert(Field::Consent, FieldProblem::ConsentMissing);
    }
    match (domain, relation, kind) {
        (Some(domain), Some(relation), Some(kind)) if errors.is_empty() => Some(ValidFields {
            domain,
            full_name,
            email,
            phone: (!phone.is_empty()).then_some(phone),
            relation,
            company_uid,
            kind,
            nameservers,
            holder,
            id_document_type,
            eid,
        }),
        _ => None,
    }
}

/// Whether the requester proves who they are with the e-ID: offered here, and only to the
/// holder and a signatory (for themselves).
fn validate_proof(
    input: &TypedValues,
    relation: Option<RequesterRelation>,
    offers: &Offers,
    errors: &mut FieldErrors,
) -> bool {
    match input.proof.trim() {
        "" | "photos" => false,
        crate::workflow::input::PROOF_EID if !offers.eid => {
            errors.insert(Field::Proof, FieldProblem::EidNotOffered);
            false
        }
        crate::workflow::input::PROOF_EID => {
            if relation.is_some_and(|r| !crate::workflow::eid::offered_to(r)) {
                errors.insert(Field::Proof, FieldProblem::EidNotForRelation);
            }
            true
        }
        _ => {
            errors.insert(Field::Proof, FieldProblem::ProofInvalid);
            false
        }
    }
}

/// The holder's name and a working address, for a representative who asks them to verify.
fn validate_holder(
    input: &TypedValues,
    relation: Option<RequesterRelation>,
    errors: &mut FieldErrors,
) -> Option<(String, String)> {
    if relation.is_some_and(|r| r != RequesterRelation::Representative) {
        errors.insert(
            Field::HolderVerifies,
            FieldProblem::HolderVerifiesNotForRelation,
        );
        return None;
    }
    let (name, email) = person(
        &input.holder_name,
        &input.holder_email,
        Whose::Holder,
        errors,
    );
    let valid =
        !errors.contains_key(&Field::HolderName) && !errors.contains_key(&Field::HolderEmail);
    valid.then_some((name, email))
}

/// Whose name and address a form gives: the requester's own, or the holder's.
enum Whose {
    Requester,
    Holder,
}

/// A person's name as typed, its spaces collapsed (required, at most [`MAX_NAME_CHARS`]),
/// and their email address, trimmed (required, and one mail can be sent to).
fn person(name: &str, email: &str, whose: Whose, errors: &mut FieldErrors) -> (String, String) {
    use FieldProblem::*;
    let (name_field, email_field, name_missing, email_missing, email_invalid) = match whose {
        Whose::Requester => (
            Field::FullName,
            Field::Email,
            NameMissing,
            EmailMissing,
            EmailInvalid,
        ),
        Whose::Holder => (
            Field::HolderName,
            Field::HolderEmail,
            HolderNameMissing,
            HolderEmailMissing,
            HolderEmailInvalid,
        ),
    };
    let name = collapse_whitespace(name);
    if name.is_empty() {
        errors.insert(name_field, name_missing);
    } else if name.chars().count() > MAX_NAME_CHARS {
        let max_chars = MAX_NAME_CHARS;
        errors.insert(name_field, NameTooLong { max_chars });
    }
    let email = email.trim().to_owned();
    if email.is_empty() {
        errors.insert(email_field, email_missing);
    } else if !is_plausible_email(&email) {
        errors.insert(email_field, email_invalid);
    }
    (name, email)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace()
        .map(|part| part.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
