//! Carrying out a won approval: the code issued (and handed to the registry), or the
//! nameservers set (at once, or after the registrant's objection window); the registrant on
//! file told, with the link that undoes it; or, when the registry refuses, the request
//! returned to review.

use chrono::{DateTime, Duration, Utc};
use entities::{approval, domain, request, reviewer, transfer_code};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Set,
};
use uuid::Uuid;

use super::reviewer_closing;
use crate::evidence::audit::{self, Action, Actor};
use crate::mail::{Approved, Mail};
use crate::platform::crypto::{self, ObjectionToken};
use crate::platform::i18n::Lang;
use crate::registry::codes::{RecipientKey, TransferCode, SALT_LEN, VALIDITY_DAYS};
use crate::registry::{self, HandOff, Registry};
use crate::workflow::close::close;
use crate::workflow::links::Links;
use crate::workflow::notify::notify;
use crate::workflow::registry_refusal;
use crate::workflow::services::Services;
use crate::workflow::state::{self, Guard, Step};
use crate::workflow::{Reason, RequestState, ReviewError};

/// The final approval being carried out: by `me`, on `found` (in `issuing`), at `now`.
pub(super) struct Approval<'a> {
    pub services: &'a Services,
    pub found: &'a request::Model,
    pub me: &'a reviewer::Model,
    /// Why the reviewer approved although the domain is contested.
    pub contested_reason: Option<String>,
    /// The pages the mails link to.
    pub links: &'a dyn Links,
    pub now: DateTime<Utc>,
}

impl Approval<'_> {
    /// Begins the transaction that carries the approval out: the request leaves `issuing`
    /// for `approved` and the decision is recorded. `AlreadyDecided` when it had left
    /// `issuing` already.
    async fn begin_closing(&self) -> Result<DatabaseTransaction, ReviewError> {
        let txn = crate::platform::db::begin_writing(&self.services.db).await?;
        let guard = Guard::system(self.now);
        if !state::apply(&txn, self.found.id, Step::FinishIssuing, &guard, None).await? {
            return Err(ReviewError::AlreadyDecided);
        }
        let reason = self.contested_reason.clone().map(Reason::written);
        let closing = reviewer_closing(
            self.found,
            self.me,
            RequestState::Approved,
            reason.unwrap_or_default(),
            self.now,
        );
        close(self.services, &txn, closing).await?;
        Ok(txn)
    }

    /// Tells the registrant on file what was approved, in their own language, with the link
    /// that undoes it ("this was not me").
    async fn tell_registrant(
        &self,
        txn: &impl ConnectionTrait,
        approved: Approved,
        objection: &ObjectionToken,
    ) -> Result<(), DbErr> {
        let (services, found, now) = (self.services, self.found, self.now);
        let Some(registrant) = domain::Entity::find_by_id(found.domain.clone())
            .one(txn)
            .await?
        else {
            return Ok(());
        };
        request::Entity::update_many()
            .col_expr(
                request::Column::ObjectionTokenHash,
                Expr::value(Some(objection.hash().to_vec())),
            )
            .filter(request::Column::Id.eq(found.id))
            .exec(txn)
            .await?;
        let lang = registrant
            .language
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or(services.settings.default_language);
        let notice = Mail::ApprovalNotice {
            domain: found.domain.clone(),
            requester: found.requester_name.clone(),
            approved_at: now,
            approved,
            link: self.links.objection(objection.expose()),
        };
        notify(
            services,
            txn,
            found.id,
            &registrant.registrant_email,
            lang,
            notice,
            now,
        )
        .await
    }
}

/// Generates the code, hands it to the registry (when configured: the command or EPP), then records it with the
/// decision and shreds the documents. The request is in `issuing`, which only this caller
/// could make it.
pub(super) async fn issue_code(approval: Approval<'_>) -> Result<(), ReviewError> {
    let (services, found, now) = (approval.services, approval.found, approval.now);
    let objection = ObjectionToken::generate().map_err(|_| ReviewError::Unreadable)?;
    let request_id = found.id;
    let recipient = found
        .code_recipient_key
        .as_deref()
        .and_then(RecipientKey::from_bytes)
        .ok_or(ReviewError::Unreadable)?;
    let code = TransferCode::generate().map_err(|_| ReviewError::Unreadable)?;
    let salt = crypto::random_bytes::<SALT_LEN>().map_err(|_| ReviewError::Unreadable)?;
    let sealed = code
        .seal_to(&recipient, request_id)
        .map_err(|_| ReviewError::Unreadable)?;
    let (means, note) = match Registry::configured(&services.settings) {
        Some(registry) => {
            let order = HandOff {
                request: request_id,
                domain: &found.domain,
                action: registry::Action::SetTransferCode(&code),
            };
            let done = registry.hand_off(&services.db, &order).await?;
            (registry.means(), done.note())
        }
        None => ("tracking link", ""),
    };

    let txn = approval.begin_closing().await?;
    transfer_code::ActiveModel {
        request_id: Set(request_id),
        domain: Set(found.domain.clone()),
        salt: Set(salt.to_vec()),
        code_hash: Set(code.salted_hash(&salt).to_vec()),
        sealed_code: Set(Some(sealed)),
        recipient: Set(format!(
            "{} <{}>",
            found.requester_name, found.requester_email
        )),
        means: Set(means.to_owned()),
        issued_at: Set(now),
        expires_at: Set(now + Duration::days(VALIDITY_DAYS)),
    }
    .insert(&txn)
    .await?;
    let approved = Approved::Code {
        expires_at: now + Duration::days(VALIDITY_DAYS),
    };
    approval.tell_registrant(&txn, approved, &objection).await?;
    audit::record(
        &txn,
        Actor::Reviewer(&approval.me.name),
        Action::CodeIssued,
        Some(request_id),
        Some(&format!("{means}{note}")),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Approves a nameserver change: records the decision, tells the registrant on file (with
/// the link that undoes it) and shreds the documents. Without an objection window the
/// registry command sets the nameservers at once; with one, the sweeper hands them over once
/// the window has passed without an objection. The request is in `issuing`, which only this
/// caller could make it.
pub(super) async fn set_nameservers(approval: Approval<'_>) -> Result<(), ReviewError> {
    let (services, found, now) = (approval.services, approval.found, approval.now);
    let hosts: Vec<String> = found
        .nameservers
        .as_deref()
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    let registry =
        Registry::configured(&services.settings).ok_or(registry::RegistryError::NotConfigured)?;
    let objection = ObjectionToken::generate().map_err(|_| ReviewError::Unreadable)?;
    let window = Duration::hours(services.settings.objection_hours);
    let deferred = window > Duration::zero();
    let mut done = registry::Done::default();
    if !deferred {
        let order = HandOff {
            request: found.id,
            domain: &found.domain,
            action: registry::Action::SetNameservers(&hosts),
        };
        done = registry.hand_off(&services.db, &order).await?;
    }
    // What the registry said it held (EPP), else what the portfolio says; a deferred change
    // records the registry's once it is handed over.
    let previous = match done.previous_nameservers.take() {
        Some(held) => Some(held.join("\n")),
        None => domain::Entity::find_by_id(found.domain.clone())
            .one(&services.db)
            .await?
            .and_then(|d| d.nameservers),
    };
    let txn = approval.begin_closing().await?;
    let takes_effect_at = now + window;
    request::Entity::update_many()
        .col_expr(request::Column::PreviousNameservers, Expr::value(previous))
        .col_expr(
            request::Column::HandOffDueAt,
            Expr::value(deferred.then_some(takes_effect_at)),
        )
        .col_expr(
            request::Column::NameserversSetAt,
            Expr::value((!deferred).then_some(now)),
        )
        .filter(request::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    let detail = match deferred {
        false => format!("{}{}", hosts.join(" "), done.note()),
        true => format!(
            "{} (handed to the registry after the objection window, {})",
            hosts.join(" "),
            takes_effect_at.to_rfc3339()
        ),
    };
    let action = match deferred {
        false => Action::NameserversSet,
        true => Action::NameserversApproved,
    };
    audit::record(
        &txn,
        Actor::Reviewer(&approval.me.name),
        action,
        Some(found.id),
        Some(&detail),
    )
    .await?;
    let approved = Approved::Nameservers {
        hosts,
        takes_effect_at,
    };
    approval.tell_registrant(&txn, approved, &objection).await?;
    txn.commit().await?;
    Ok(())
}

/// Returns an issuing request to review after the hand-off failed; the final approval is
/// withdrawn so that it can be given again, and the audit trail says why. A permanent refusal
/// by the registry also marks the request for the reviewers, with the registry's message.
pub(super) async fn abandon_issuing(
    services: &Services,
    request_id: Uuid,
    me: &reviewer::Model,
    error: &ReviewError,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = crate::platform::db::begin_writing(&services.db).await?;
    if state::apply(
        &txn,
        request_id,
        Step::AbandonIssuing,
        &Guard::system(now),
        None,
    )
    .await?
    {
        approval::Entity::delete_many()
            .filter(approval::Column::RequestId.eq(request_id))
            .filter(approval::Column::ReviewerId.eq(me.id))
            .exec(&txn)
            .await?;
        let detail = error.to_string();
        audit::record(
            &txn,
            Actor::Reviewer(&me.name),
            Action::IssuingFailed,
            Some(request_id),
            Some(&detail),
        )
        .await?;
        if let ReviewError::Registry(refused) = error {
            registry_refusal::flag_if_permanent(&txn, request_id, refused, now).await?;
        }
    }
    txn.commit().await
}
