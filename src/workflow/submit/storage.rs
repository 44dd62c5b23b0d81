//! Storing a valid submission: its documents sealed and written, then the request, its
//! documents, its first timeline event and its mails in one transaction.

use chrono::{DateTime, Utc};
use entities::{document, request};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};
use uuid::Uuid;

use super::validation::ValidFields;
use crate::intake::CleanImage;
use crate::mail::Mail;
use crate::platform::crypto::{HolderToken, TrackingToken};
use crate::platform::i18n::Lang;
use crate::registry::codes::RecipientKey;
use crate::workflow::documents::write_then;
use crate::workflow::input::{SubmitError, Submitted, HOLDER_LINK_DAYS};
use crate::workflow::links::Links;
use crate::workflow::notify::notify;
use crate::workflow::services::Services;
use crate::workflow::state::{record_event, Event};
use crate::workflow::{DocumentKind, RequestState};

/// Where a submission came from: the client, the requester's language, the service's address.
pub(super) struct Origin<'a> {
    pub(super) client_addr: Option<String>,
    pub(super) language: Lang,
    pub(super) links: &'a dyn Links,
}

/// Encrypts and writes every document, then records the request, its documents and its
/// mails in one transaction; on any failure the files written are removed.
pub(super) async fn store(
    services: &Services,
    fields: ValidFields,
    origin: Origin<'_>,
    clean: Vec<(DocumentKind, CleanImage)>,
) -> Result<Submitted, SubmitError> {
    let request_id = Uuid::new_v4();
    let tracking_token = TrackingToken::generate()?;
    let recipient_key = RecipientKey::for_token(&tracking_token, request_id)?;
    let holder_token = match fields.holder {
        Some(_) => Some(HolderToken::generate()?),
        None => None,
    };
    let state = match (&holder_token, fields.eid) {
        (_, true) => RequestState::AwaitingEid,
        (Some(_), false) => RequestState::AwaitingHolder,
        (None, false) => RequestState::Submitted,
    };
    let now = Utc::now();
    let document_count = clean.len();
    let new = NewRequest {
        id: request_id,
        state,
        tracking_token: &tracking_token,
        recipient_key: &recipient_key,
        holder_token: holder_token.as_ref(),
        now,
    };
    let (fields, origin) = (&fields, &origin);
    let eid_session = write_then(services, request_id, &clean, now, async move |documents| {
        let txn = crate::platform::db::begin_writing(&services.db).await?;
        new.row(fields, origin).insert(&txn).await?;
        document::Entity::insert_many(documents)
            .exec_without_returning(&txn)
            .await?;
        record_event(&txn, request_id, Event::Submitted, None, now).await?;
        let eid_session = match fields.eid {
            true => Some(
                crate::workflow::eid::sessions::create(
                    &txn,
                    &services.master_key,
                    request_id,
                    entities::enums::EidSubject::Requester,
                    now,
                )
                .await?,
            ),
            false => None,
        };
        new.mails(services, &txn, fields, origin).await?;
        txn.commit().await?;
        Ok(eid_session)
    })
    .await?;
    tracing::info!(request = %request_id, documents = document_count, "request submitted");
    crate::platform::meters::submission();
    services.mail_wake.notify_one();
    // The holder's link went into the holder's mail alone: the requester never sees it.
    Ok(Submitted {
        request_id,
        tracking_token,
        state,
        eid_session,
    })
}

/// What the service made for a new request: its id, state, tokens and time.
struct NewRequest<'a> {
    id: Uuid,
    state: RequestState,
    tracking_token: &'a TrackingToken,
    recipient_key: &'a RecipientKey,
    holder_token: Option<&'a HolderToken>,
    now: DateTime<Utc>,
}

impl NewRequest<'_> {
    /// The request's row.
    fn row(&self, fields: &ValidFields, origin: &Origin<'_>) -> request::ActiveModel {
        let (holder_name, holder_email) = fields.holder.clone().unzip();
        request::ActiveModel {
            id: Set(self.id),
            domain: Set(fields.domain.clone()),
            requester_name: Set(fields.full_name.clone()),
            requester_email: Set(fields.email.clone()),
            requester_phone: Set(fields.phone.clone()),
            relation: Set(fields.relation),
            state: Set(self.state),
            tracking_token_hash: Set(self.tracking_token.hash().to_vec()),
            client_addr: Set(origin.client_addr.clone()),
            consent_at: Set(self.now),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            claimed_by: Set(None),
            claim_expires_at: Set(None),
            requested_document: Set(None),
            requested_note: Set(None),
            decided_at: Set(None),
            code_recipient_key: Set(Some(self.recipient_key.0.to_vec())),
            personal_data_erased_at: Set(None),
            company_uid: Set(fields.company_uid.clone()),
            id_document_type: Set(fields.id_document_type),
            holder_id_document_type: Set(None),
            kind: Set(fields.kind),
            nameservers: Set(fields.nameservers.clone()),
            holder_name: Set(holder_name),
            holder_email: Set(holder_email),
            holder_token_hash: Set(self.holder_token.map(|t| t.hash().to_vec())),
            holder_link_expires_at: Set(self
                .holder_token
                .map(|_| self.now + chrono::Duration::days(HOLDER_LINK_DAYS))),
            holder_answered_at: Set(None),
            awaiting_reply_since: Set(None),
            language: Set(origin.language.code().to_owned()),
            objection_token_hash: Set(None),
            objected_at: Set(None),
            objection_handled_at: Set(None),
            holder_link_sent_at: Set(None),
            hand_off_due_at: Set(None),
            nameservers_set_at: Set(None),
            previous_nameservers: Set(None),
            requester_messages: Set(0),
            welcomed_at: Set(None),
            registry_refusal: Set(None),
            registry_refused_at: Set(None),
        }
    }

    /// The requester's receipt with their tracking link, and the holder's request with
    /// theirs (which the requester never sees).
    async fn mails(
        &self,
        services: &Services,
        txn: &impl ConnectionTrait,
        fields: &ValidFields,
        origin: &Origin<'_>,
    ) -> Result<(), DbErr> {
        let receipt = Mail::Receipt {
            domain: fields.domain.clone(),
            link: origin.links.tracking(self.tracking_token.expose()),
        };
        notify(
            services,
            txn,
            self.id,
            &fields.email,
            origin.language,
            receipt,
            self.now,
        )
        .await?;
        if let (Some(token), Some((holder, holder_email))) = (self.holder_token, &fields.holder) {
            let ask = Mail::HolderRequest {
                domain: fields.domain.clone(),
                kind: fields.kind,
                requester: fields.full_name.clone(),
                holder: holder.clone(),
                link: origin.links.holder(token.expose()),
            };
            notify(
                services,
                txn,
                self.id,
                holder_email,
                origin.language,
                ask,
                self.now,
            )
            .await?;
        }
        Ok(())
    }
}
