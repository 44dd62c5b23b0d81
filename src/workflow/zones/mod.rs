//! Reading identity documents' machine-readable zones, after intake: the requester does
//! not wait for it, and a request can be decided before it is done. What a zone says is
//! sealed under its document's data key and shredded with it; only which signals fired
//! stays in the document's signals (the evidence).

use chrono::{DateTime, Duration, Utc};
use entities::{document, domain, request};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::documents::data_key_of;
use super::rules::live_documents;
use super::{DocumentKind, IdDocumentType, RequesterRelation, ZoneStatus};
use crate::evidence::audit::{self, Action, Actor};
use crate::intake::mrz::Zone;
use crate::intake::ZoneSignals;
use crate::workflow::documents::parse_signals;
use crate::workflow::services::Services;

/// A reading that has not finished after this long was interrupted (a restart): it is
/// taken up again.
const READING_ABANDONED_AFTER: Duration = Duration::minutes(2);

/// Readings of one document begun without one finishing, after which it is not taken up
/// again: a photo whose reading took the service down twice would do it again.
const MAX_ATTEMPTS: i32 = 2;

/// How many waiting documents one pass takes.
const BATCH: u64 = 20;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ZoneReport {
    pub read: usize,
    pub not_found: usize,
    pub failed: usize,
}

/// Reads the zones of the documents waiting for it, at most `TRANSFER_DESK_OCR_SLOTS` at
/// once; first gives up on those whose readings were interrupted too often.
pub async fn read_waiting(services: &Services, now: DateTime<Utc>) -> Result<ZoneReport, DbErr> {
    let mut report = ZoneReport {
        failed: give_up_interrupted(services, now).await?,
        ..ZoneReport::default()
    };
    let waiting: Vec<Uuid> = document::Entity::find()
        .select_only()
        .column(document::Column::Id)
        .filter(waiting(services, now))
        .filter(live_documents())
        .order_by_asc(document::Column::CreatedAt)
        .limit(BATCH)
        .into_tuple()
        .all(&services.db)
        .await?;
    let mut readings = tokio::task::JoinSet::new();
    for id in waiting {
        let Ok(slot) = services.ocr_slots.clone().acquire_owned().await else {
            break;
        };
        let services = services.clone();
        readings.spawn(async move {
            let outcome = read_one(&services, id, now).await;
            drop(slot);
            outcome
        });
    }
    while let Some(done) = readings.join_next().await {
        match done {
            Ok(Ok(Some(ZoneStatus::Read))) => report.read += 1,
            Ok(Ok(Some(ZoneStatus::NotFound))) => report.not_found += 1,
            Ok(Ok(Some(_))) => report.failed += 1,
            Ok(Ok(None)) => {}
            Ok(Err(error)) => return Err(error),
            Err(_) => report.failed += 1,
        }
    }
    Ok(report)
}

fn waiting(services: &Services, now: DateTime<Utc>) -> Condition {
    let waiting = Condition::any()
        .add(document::Column::ZoneStatus.eq(ZoneStatus::Pending))
        .add(abandoned(now).add(document::Column::ZoneAttempts.lt(MAX_ATTEMPTS)));
    // What came in while no OCR program was installed is read once one is.
    match services.settings.ocr_command {
        Some(_) => waiting.add(document::Column::ZoneStatus.eq(ZoneStatus::NoOcr)),
        None => waiting,
    }
}

/// Readings begun that did not finish in time: the service stopped during them.
fn abandoned(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(document::Column::ZoneStatus.eq(ZoneStatus::Reading))
        .add(document::Column::ZoneUpdatedAt.lt(now - READING_ABANDONED_AFTER))
}

/// Marks failed, with their signal, the documents whose readings were interrupted
/// `MAX_ATTEMPTS` times, instead of taking them up again. Returns how many.
async fn give_up_interrupted(services: &Services, now: DateTime<Utc>) -> Result<usize, DbErr> {
    let interrupted = document::Entity::find()
        .filter(abandoned(now).add(document::Column::ZoneAttempts.gte(MAX_ATTEMPTS)))
        .filter(live_documents())
        .all(&services.db)
        .await?;
    let mut given_up = 0;
    for found in interrupted {
        tracing::warn!(document = %found.id, attempts = found.zone_attempts, "a document's zone reading was interrupted too often: not read again");
        if finish(services, &found, Reading::Interrupted, now)
            .await?
            .is_some()
        {
            given_up += 1;
        }
    }
    Ok(given_up)
}

/// Reads one document's zone, unless another instance took it first or it was shredded.
/// Returns how far it got.
async fn read_one(
    services: &Services,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<ZoneStatus>, DbErr> {
    let claimed = document::Entity::update_many()
        .col_expr(
            document::Column::ZoneStatus,
            Expr::value(ZoneStatus::Reading),
        )
        .col_expr(document::Column::ZoneUpdatedAt, Expr::value(now))
        // Counted before the reading begins: a reading the service does not survive counts.
        .col_expr(
            document::Column::ZoneAttempts,
            Expr::col(document::Column::ZoneAttempts).add(1),
        )
        .filter(document::Column::Id.eq(id))
        .filter(waiting(services, now))
        .filter(live_documents())
        .exec(&services.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let Some(found) = document::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(None);
    };
    let Some(program) = services.settings.ocr_command.as_deref() else {
        return finish(services, &found, Reading::NoOcr, now).await;
    };
    let Ok((data_key, binding)) = data_key_of(services, &found) else {
        return finish(services, &found, Reading::Failed, now).await;
    };
    let kind = sea_orm::ActiveEnum::to_value(&found.kind);
    let detail = format!("{kind} zone read (key version {})", binding.key_version);
    audit::record(
        &services.db,
        Actor::System,
        Action::KeyUse,
        Some(found.request_id),
        Some(&detail),
    )
    .await?;
    let plain = match services.store.get(&found.storage_name).await {
        Ok(sealed) => data_key.open_document(&binding, &sealed).ok(),
        Err(_) => None,
    };
    let Some(plain) = plain else {
        return finish(services, &found, Reading::Failed, now).await;
    };
    let reading = match crate::intake::ocr::read_zone(program, &plain, now.date_naive()).await {
        Ok(Some(zone)) => {
            let sealed = serde_json::to_vec(&zone)
                .ok()
                .and_then(|json| data_key.seal_zone(&binding, &json).ok());
            match sealed {
                Some(sealed) => Reading::Read {
                    zone: Box::new(zone),
                    sealed,
                },
                None => Reading::Failed,
            }
        }
        Ok(None) => Reading::NotFound,
        Err(error) => {
            tracing::warn!(%error, document = %found.id, "cannot read a document's zone");
            Reading::Failed
        }
    };
    finish(services, &found, reading, now).await
}

enum Reading {
    Read {
        zone: Box<Zone>,
        sealed: Vec<u8>,
    },
    NotFound,
    NoOcr,
    Failed,
    /// Begun `MAX_ATTEMPTS` times, never finished.
    Interrupted,
}

/// Records a reading, with the signals it fired, if the document is still live and still
/// being read; then settles the request's "no zone found" signal.
async fn finish(
    services: &Services,
    found: &document::Model,
    reading: Reading,
    now: DateTime<Utc>,
) -> Result<Option<ZoneStatus>, DbErr> {
    let request = request::Entity::find_by_id(found.request_id)
        .one(&services.db)
        .await?;
    let (status, sealed, outcome) = match (reading, &request) {
        (Reading::Read { zone, sealed }, Some(request)) => {
            let outcome = zone_signals(services, found, request, &zone, now).await?;
            (ZoneStatus::Read, Some(sealed), Some(outcome))
        }
        (Reading::Read { sealed, .. }, None) => (ZoneStatus::Read, Some(sealed), None),
        (Reading::NotFound, _) => (ZoneStatus::NotFound, None, None),
        (Reading::NoOcr, _) => (ZoneStatus::NoOcr, None, None),
        (Reading::Failed, _) => (ZoneStatus::Failed, None, None),
        (Reading::Interrupted, _) => {
            let signals = ZoneSignals {
                reading_interrupted: true,
                ..ZoneSignals::default()
            };
            (ZoneStatus::Failed, None, Some(signals))
        }
    };
    let mut signals = parse_signals(&found.signals);
    signals.zone = outcome;
    let recorded = document::Entity::update_many()
        .col_expr(document::Column::ZoneStatus, Expr::value(status))
        .col_expr(document::Column::SealedZone, Expr::value(sealed))
        .col_expr(document::Column::ZoneUpdatedAt, Expr::value(now))
        .col_expr(document::Column::ZoneAttempts, Expr::value(0))
        .col_expr(
            document::Column::Signals,
            Expr::value(serde_json::to_string(&signals).unwrap_or_default()),
        )
        .filter(document::Column::Id.eq(found.id))
        .filter(document::Column::ZoneStatus.eq(ZoneStatus::Reading))
        .filter(live_documents())
        .exec(&services.db)
        .await?;
    if recorded.rows_affected == 0 {
        return Ok(None);
    }
    if let (Some(request), Some(person)) = (&request, Person::of(found.kind)) {
        settle_not_found(services, request, person).await?;
    }
    Ok(Some(status))
}

/// Which signals a zone fires for its request: check digits, expiry, the name against the
/// one typed (and the registrant's, where the person should be the registrant), and the
/// kind of document against what its person said.
async fn zone_signals(
    services: &Services,
    found: &document::Model,
    request: &request::Model,
    zone: &Zone,
    now: DateTime<Utc>,
) -> Result<ZoneSignals, DbErr> {
    let registrant = domain::Entity::find_by_id(request.domain.clone())
        .one(&services.db)
        .await?
        .map(|d| d.registrant_name);
    let person = Person::of(found.kind).unwrap_or(Person::Requester);
    let holders_own = person == Person::Holder;
    let should_be_registrant = holders_own || request.relation == RequesterRelation::Holder;
    let typed_name = if holders_own {
        request.holder_name.clone()
    } else {
        Some(request.requester_name.clone())
    };
    let type_differs = match person.said_type(request) {
        Some(IdDocumentType::Passport) => !zone.is_passport(),
        Some(IdDocumentType::IdentityCard) => !zone.is_identity_card(),
        _ => false,
    };
    Ok(ZoneSignals {
        check_digits_fail: !zone.all_checks_hold(),
        expired: zone.expired_on(now.date_naive()),
        name_differs_from_requester: typed_name.is_some_and(|n| !zone.names_agree_with(&n)),
        name_differs_from_registrant: should_be_registrant
            && registrant.is_some_and(|n| !zone.names_agree_with(&n)),
        type_differs,
        not_found: false,
        reading_interrupted: false,
        not_read: false,
    })
}

/// Whose identity document it is: the requester's, or the holder's who verifies directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Person {
    Requester,
    Holder,
}

impl Person {
    fn of(kind: DocumentKind) -> Option<Person> {
        match kind {
            DocumentKind::IdFront | DocumentKind::IdBack => Some(Person::Requester),
            DocumentKind::HolderIdFront | DocumentKind::HolderIdBack => Some(Person::Holder),
            _ => None,
        }
    }

    /// The front and the back of this person's document.
    fn documents(self) -> [DocumentKind; 2] {
        match self {
            Person::Requester => [DocumentKind::IdFront, DocumentKind::IdBack],
            Person::Holder => [DocumentKind::HolderIdFront, DocumentKind::HolderIdBack],
        }
    }

    /// The kind of document this person said it is.
    fn said_type(self, request: &request::Model) -> Option<IdDocumentType> {
        match self {
            Person::Requester => request.id_document_type,
            Person::Holder => request.holder_id_document_type,
        }
    }
}

/// When the person said passport or identity card and every photo of it has been read
/// without finding a zone, the front carries the "no zone found" signal; when the OCR
/// program failed on one of them (and found none on the others), the "not read" signal.
async fn settle_not_found(
    services: &Services,
    request: &request::Model,
    person: Person,
) -> Result<(), DbErr> {
    if !matches!(
        person.said_type(request),
        Some(IdDocumentType::Passport | IdDocumentType::IdentityCard)
    ) {
        return Ok(());
    }
    let [front_kind, _] = person.documents();
    let own = document::Entity::find()
        .filter(document::Column::RequestId.eq(request.id))
        .filter(document::Column::Kind.is_in(person.documents()))
        .filter(live_documents())
        .all(&services.db)
        .await?;
    let statuses: Vec<Option<ZoneStatus>> = own.iter().map(|d| d.zone_status).collect();
    let none_read = !statuses.is_empty()
        && statuses
            .iter()
            .all(|s| matches!(s, Some(ZoneStatus::NotFound | ZoneStatus::Failed)));
    let failed = statuses.contains(&Some(ZoneStatus::Failed));
    let Some(front) = own.iter().find(|d| d.kind == front_kind) else {
        return Ok(());
    };
    let mut signals = parse_signals(&front.signals);
    let mut zone = signals.zone.clone().unwrap_or_default();
    let (not_found, not_read) = (none_read && !failed, none_read && failed);
    if (zone.not_found, zone.not_read) == (not_found, not_read) {
        return Ok(());
    }
    zone.not_found = not_found;
    zone.not_read = not_read;
    signals.zone = Some(zone);
    document::Entity::update_many()
        .col_expr(
            document::Column::Signals,
            Expr::value(serde_json::to_string(&signals).unwrap_or_default()),
        )
        .filter(document::Column::Id.eq(front.id))
        .filter(live_documents())
        .exec(&services.db)
        .await?;
    Ok(())
}

/// What the zones of a request's live documents say, for a reviewer's page: opened from
/// their seals, each opening audited as a view of that document.
pub async fn zones_for_review(
    services: &Services,
    request_id: Uuid,
    viewer: &str,
) -> Result<Vec<(Uuid, Zone)>, DbErr> {
    let sealed = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .filter(document::Column::SealedZone.is_not_null())
        .filter(live_documents())
        .all(&services.db)
        .await?;
    let mut zones = Vec::new();
    for found in sealed {
        let Some(zone) = open_zone(services, &found) else {
            continue;
        };
        let detail = format!("{} zone", sea_orm::ActiveEnum::to_value(&found.kind));
        audit::record(
            &services.db,
            Actor::Reviewer(viewer),
            Action::DocumentView,
            Some(request_id),
            Some(&detail),
        )
        .await?;
        zones.push((found.id, zone));
    }
    Ok(zones)
}

fn open_zone(services: &Services, found: &document::Model) -> Option<Zone> {
    let (data_key, binding) = data_key_of(services, found).ok()?;
    let plain = data_key
        .open_zone(&binding, found.sealed_zone.as_deref()?)
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

#[cfg(test)]
mod tests;
