//! Submitting a request: the typed fields checked first (`validation`), then every document
//! sanitised (`documents`), then everything stored at once (`storage`); the limits on what
//! one address may ask for are in `limits`.

mod input;
mod storage;
mod validation;

use chrono::Utc;
use entities::domain;
use sea_orm::EntityTrait;

pub use input::{
    Field, FieldErrors, FieldProblem, SubmissionInput, SubmitError, Submitted, TypedValues, Upload,
    HOLDER_LINK_DAYS,
};
pub use validation::Offers;

use super::documents::{field_name, sanitize_all};
use super::limits;
use super::{parse, DocumentKind, RequesterRelation};
use crate::workflow::services::Services;

/// Validates every typed field first, then sanitises every document, and only then stores
/// anything: a submission with one error leaves no row and no file, and no photo is decoded
/// while a typed field is wrong or for a domain we do not manage.
pub async fn submit(
    services: &Services,
    mut input: SubmissionInput,
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
    if input.id_front.is_none() {
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

    let uploads = [
        (DocumentKind::IdFront, input.id_front.take()),
        (DocumentKind::IdBack, input.id_back.take()),
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
        link_base: input.link_base,
    };
    storage::store(services, fields, origin, clean).await
}
