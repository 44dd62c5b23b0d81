//! Storing a valid submission: its documents sealed and written, then the request, its
//! documents, its first timeline event and its mails in one transaction.

use chrono::Utc;
use entities::{document, request};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::input::{SubmitError, Submitted, HOLDER_LINK_DAYS};
use super::validation::ValidFields;
use crate::codes::RecipientKey;
use crate::intake::CleanImage;
use crate::mail::Mail;
use crate::platform::crypto::{HolderToken, TrackingToken};
use crate::platform::i18n::Lang;
use crate::workflow::documents::write_then;
use crate::workflow::services::Services;
use crate::workflow::state::{record_event, Event};
use crate::workflow::{notify, DocumentKind, RequestState};

/// Where a submission came from: the client, the requester's language, the service's address.
pub(super) struct Origin {
    pub(super) client_addr: Option<String>,
    pub(super) language: Lang,
    pub(super) link_base: String,
}

/// Encrypts and writes every document, then records the request, its documents and its
/// mails in one transaction; on any failure the files written are removed.
pub(super) async fn store(
    services: &Services,
    fields: ValidFields,
    origin: Origin,
    clean: Vec<(DocumentKind, CleanImage)>,
) -> Result<Submitted, SubmitError> {
    let client_addr = origin.client_addr;
    let request_id = Uuid::new_v4();
    let tracking_token = TrackingToken::generate()?;
    let recipient_key = RecipientKey::for_token(&tracking_token, request_id)?;
    let holder_token = match fields.holder {
        Some(_) => Some(HolderToken::generate()?),
        None => None,
    };
    let (holder_name, holder_email) = fields.holder.clone().unzip();
    let domain = fields.domain.clone();
    let requester_email = fields.email.clone();
    let requester_name = fields.full_name.clone();
    let kind = fields.kind;
    let state = match holder_token {
        Some(_) => RequestState::AwaitingHolder,
        None => RequestState::Submitted,
    };
    let now = Utc::now();
    let document_count = clean.len();
    let token = &tracking_token;
    write_then(services, request_id, &clean, now, async move |documents| {
        let txn = crate::platform::db::begin_writing(&services.db).await?;
        request::ActiveModel {
            id: Set(request_id),
            domain: Set(fields.domain),
            requester_name: Set(fields.full_name),
            requester_email: Set(fields.email),
            requester_phone: Set(fields.phone),
            relation: Set(fields.relation),
            state: Set(state),
            tracking_token_hash: Set(token.hash().to_vec()),
            client_addr: Set(client_addr),
            consent_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            claimed_by: Set(None),
            claim_expires_at: Set(None),
            requested_document: Set(None),
            requested_note: Set(None),
            decided_at: Set(None),
            code_recipient_key: Set(Some(recipient_key.0.to_vec())),
            personal_data_erased_at: Set(None),
            company_uid: Set(fields.company_uid),
            id_document_type: Set(fields.id_document_type),
            holder_id_document_type: Set(None),
            kind: Set(fields.kind),
            nameservers: Set(fields.nameservers),
            holder_name: Set(holder_name),
            holder_email: Set(holder_email),
            holder_token_hash: Set(holder_token.as_ref().map(|t| t.hash().to_vec())),
            holder_link_expires_at: Set(holder_token
                .as_ref()
                .map(|_| now + chrono::Duration::days(HOLDER_LINK_DAYS))),
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
        }
        .insert(&txn)
        .await?;
        document::Entity::insert_many(documents)
            .exec_without_returning(&txn)
            .await?;
        record_event(&txn, request_id, Event::Submitted, None, now).await?;
        let link = format!("{}/track/{}", origin.link_base, token.expose());
        let receipt = Mail::Receipt {
            domain: domain.clone(),
            link,
        };
        notify(
            services,
            &txn,
            request_id,
            &requester_email,
            origin.language,
            receipt,
            now,
        )
        .await?;
        if let (Some(token), Some((holder, holder_email))) = (&holder_token, &fields.holder) {
            let ask = Mail::HolderRequest {
                domain: domain.clone(),
                kind,
                requester: requester_name.clone(),
                holder: holder.clone(),
                link: format!("{}/holder/{}", origin.link_base, token.expose()),
            };
            notify(
                services,
                &txn,
                request_id,
                holder_email,
                origin.language,
                ask,
                now,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(())
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
    })
}
