use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

use super::*;
use crate::workflow::testing;
use crate::workflow::RequestState;

/// A holder who verifies directly and said `said`, with their front photo being read.
async fn holder_document(
    services: &Services,
    said: IdDocumentType,
) -> (request::Model, document::Model) {
    let now = Utc::now();
    let requester = testing::request(services, RequestState::Submitted, now).await;
    let mut request = requester.into_active_model();
    request.holder_name = Set(Some("Anna Maria Eriksson".into()));
    request.holder_id_document_type = Set(Some(said));
    let request = request.update(&services.db).await.unwrap();
    let requesters_front = document::Entity::find()
        .filter(document::Column::RequestId.eq(request.id))
        .one(&services.db)
        .await
        .unwrap()
        .unwrap();
    let mut front = requesters_front.into_active_model();
    front.id = Set(Uuid::new_v4());
    front.kind = Set(DocumentKind::HolderIdFront);
    front.zone_status = Set(Some(ZoneStatus::Reading));
    front.storage_name = Set(format!("{}.sealed", Uuid::new_v4()));
    let front = front.insert(&services.db).await.unwrap();
    (request, front)
}

fn zone_signals_of(found: &document::Model) -> ZoneSignals {
    parse_signals(&found.signals).zone.unwrap_or_default()
}

/// The holder said passport: no zone found on their front, or the OCR program failed on it,
/// is a signal on their front, and only there.
#[tokio::test]
async fn a_holders_passport_without_a_zone_or_not_read_is_a_signal_on_their_front() {
    let (services, _dir) = testing::services().await;
    for (reading, status) in [
        (Reading::NotFound, ZoneStatus::NotFound),
        (Reading::Failed, ZoneStatus::Failed),
    ] {
        let (request, front) = holder_document(&services, IdDocumentType::Passport).await;
        let done = finish(&services, &front, reading, Utc::now()).await;
        assert_eq!(done.unwrap(), Some(status));
        let documents = document::Entity::find()
            .filter(document::Column::RequestId.eq(request.id))
            .all(&services.db)
            .await
            .unwrap();
        for found in documents {
            let holders = found.kind == DocumentKind::HolderIdFront;
            let fired = zone_signals_of(&found);
            assert_eq!(
                (fired.not_found, fired.not_read),
                (
                    holders && status == ZoneStatus::NotFound,
                    holders && status == ZoneStatus::Failed
                ),
                "{:?}",
                found.kind
            );
        }
    }
}

#[tokio::test]
async fn a_card_the_holder_called_a_passport_is_a_signal() {
    let (services, _dir) = testing::services().await;
    let (request, front) = holder_document(&services, IdDocumentType::Passport).await;
    let card = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    let now = Utc::now();
    let zone = crate::intake::mrz::find(&card.join("\n"), now.date_naive()).unwrap();
    let fired = zone_signals(&services, &front, &request, &zone, now)
        .await
        .unwrap();
    assert!(fired.type_differs, "{fired:?}");
    assert!(!fired.name_differs_from_requester, "{fired:?}");
    let mut card_said = request.clone().into_active_model();
    card_said.holder_id_document_type = Set(Some(IdDocumentType::IdentityCard));
    let request = card_said.update(&services.db).await.unwrap();
    let fired = zone_signals(&services, &front, &request, &zone, now)
        .await
        .unwrap();
    assert!(!fired.type_differs, "{fired:?}");
}
