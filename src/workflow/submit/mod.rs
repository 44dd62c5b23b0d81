//! Submitting a request: the typed fields checked first (`validation`), then every document
//! sanitised (`documents`), then everything stored at once (`storage`); the limits on what
//! one address may ask for are in `limits`.

mod storage;
mod validation;

use chrono::Utc;
use entities::domain;
use sea_orm::EntityTrait;

pub use validation::Offers;

use super::documents::{field_name, sanitize_all};
use super::input::{
    parse, Field, FieldErrors, FieldProblem, SubmissionInput, SubmitError, Submitted,
};
use super::limits;
use super::{DocumentKind, RequesterRelation};
use crate::workflow::links::Links;
use crate::workflow::services::Services;

/// Validates every typed field first, then sanitises every document, and only then stores
/// anything: a submission with one error leaves no row and no file, and no photo is decoded
/// while a typed field is wrong or for a domain we do not manage.
/// The mails link to the pages `links` names.
pub async fn submit(
    services: &Services,
    mut input: SubmissionInput,
    links: &dyn Links,
) -> Result<Submitted, SubmitError> {
    let now = Utc::now();
    let mut errors = FieldErrors::new();
    let domain = validation::check_domain(&input.typed, &mut errors);
    let offers = Offers::of(&services.settings);
    let fields = validation::validate_fields(&input.typed, domain.clone(), &offers, &mut errors);
    let domain_known = match domain {
        Some(domain) => domain::Entity::find_by_id(domain)
            .one(&services.db)
            .await?
            .is_some(),
        None => false,
    };
    if !domain_known && !errors.contains_key(&Field::Domain) {
        errors.insert(Field::Domain, FieldProblem::DomainNotOurs);
    }
    let with_eid = input.typed.proves_with_eid();
    if input.id_front.is_none() && !with_eid {
        errors.insert(Field::IdFront, FieldProblem::FrontMissing);
    }
    let representative =
        parse(input.typed.relation.trim()) == Some(RequesterRelation::Representative);
    if representative && !input.typed.holder_verifies && input.authorization.is_none() {
        errors.insert(Field::Authorization, FieldProblem::AuthorizationMissing);
    }
    let address = input
        .client_addr
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let fields = match fields {
        Some(fields) if errors.is_empty() => fields,
        _ => {
            limits::count_refused(services, &address, now).await?;
            return Err(SubmitError::Invalid(errors));
        }
    };
    if let Some(retry_after) = limits::count_intake(services, &address, now).await? {
        return Err(SubmitError::TooMany { retry_after });
    }

    // With the e-ID, no photo is decoded, let alone kept.
    let (front, back) = match fields.eid {
        true => (None, None),
        false => (input.id_front.take(), input.id_back.take()),
    };
    let uploads = [
        (DocumentKind::IdFront, front),
        (DocumentKind::IdBack, back),
        (DocumentKind::Authorization, input.authorization.take()),
    ];
    let (clean, mut errors) = sanitize_all(services, uploads).await;
    if !input.typed.send_anyway {
        for (kind, image) in &clean {
            let problems = image
                .signals
                .quality
                .map(|q| q.problems())
                .unwrap_or_default();
            if !problems.is_empty() {
                errors.insert(field_name(*kind), FieldProblem::Quality(problems));
            }
        }
    }
    if !errors.is_empty() {
        limits::count_refused(services, &address, now).await?;
        return Err(SubmitError::Invalid(errors));
    }
    let origin = storage::Origin {
        client_addr: input.client_addr,
        language: input.language,
        links,
    };
    storage::store(services, fields, origin, clean).await
}
