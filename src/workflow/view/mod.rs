//! What a reviewer sees: the request beside the registrant on file, signals, history, other
//! claims on the same domain, and the documents (decrypted in memory, watermarked:
//! `opened`).

mod opened;

pub use opened::view_document;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entities::{approval, decision, document, domain, request, reviewer};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::workflow::ids::RequestId;

use super::queue::{lease_is_live, reviewer_names, ISSUANCE_DEADLINE};
use super::rules;
use super::state::is_pending;
use super::tracking::timeline;
use super::{
    short_id, DocumentKind, IdDocumentType, Reason, RequestKind, RequestState, RequesterRelation,
    ReviewError, TimelineEntry, ZoneStatus,
};
use crate::intake::Signals;
use crate::workflow::documents::parse_signals;
use crate::workflow::services::Services;

#[derive(Debug, serde::Serialize)]
pub struct DocumentSummary {
    pub id: Uuid,
    pub kind: DocumentKind,
    pub width: i32,
    pub height: i32,
    pub signals: Signals,
    /// What the quality checks found (the requester may have sent the photo anyway).
    pub quality_problems: Vec<crate::intake::QualityProblem>,
    pub readable: bool,
    /// How far reading its machine-readable zone got (none for a letter).
    pub zone_status: Option<ZoneStatus>,
}

/// Another request that shares something with this one.
#[derive(Debug, serde::Serialize)]
pub struct OtherRequest {
    pub id: Uuid,
    pub short_id: String,
    pub domain: String,
    pub created_at: DateTime<Utc>,
    pub state: RequestState,
}

#[derive(Debug, serde::Serialize)]
pub struct LiveCode {
    pub request_short_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, serde::Serialize)]
pub struct ReviewView {
    pub id: Uuid,
    pub short_id: String,
    pub state: RequestState,
    pub domain: String,
    pub requester_name: String,
    pub requester_email: String,
    pub requester_phone: Option<String>,
    pub relation: RequesterRelation,
    /// The kind of identity document the requester said they photographed.
    pub id_document_type: Option<IdDocumentType>,
    /// For a signatory: the company's UID, and where the public register shows it.
    pub company_uid: Option<String>,
    pub register_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub hours_left: i64,
    pub overdue: bool,
    pub registrant: Option<Registrant>,
    pub name_matches: bool,
    pub email_matches: bool,
    pub documents: Vec<DocumentSummary>,
    pub signal_count: usize,
    pub same_address_elsewhere: Vec<OtherRequest>,
    pub same_email_elsewhere: Vec<OtherRequest>,
    pub earlier_rejections: Vec<Rejection>,
    /// The other requests for this domain in the day before this one, when they are as
    /// many as its daily budget (`domain_budget`) or more.
    pub past_domain_budget: Option<u64>,
    pub domain_budget: u32,
    /// Other pending requests for this domain, and its live codes: approving this one would
    /// compete with them, so the reviewer must confirm.
    pub same_domain_pending: Vec<OtherRequest>,
    pub same_domain_live_codes: Vec<LiveCode>,
    pub approvals: Vec<String>,
    pub approvals_required: usize,
    pub holder: Option<String>,
    pub held_by_me: bool,
    pub requested_document: Option<DocumentKind>,
    pub timeline: Vec<TimelineEntry>,
    pub kind: RequestKind,
    /// For a nameserver change: what is asked for, beside what the portfolio has now.
    pub nameservers: Vec<String>,
    pub current_nameservers: Vec<String>,
    /// When the holder verifies directly: who the requester named, where the link was mailed
    /// (and whether that is the registrant's address on file), and when they confirmed.
    pub holder_part: Option<HolderPart>,
    /// Since when the requester's message waits for an answer.
    pub awaiting_reply_since: Option<DateTime<Utc>>,
    /// When the registrant on file objected to the issued code, and when a reviewer dealt
    /// with it.
    pub objected_at: Option<DateTime<Utc>>,
    pub objection_handled_at: Option<DateTime<Utc>>,
    /// The registry's own message when it refused the request's hand-off for good, and
    /// when (for staff only: the requester is told only that the registry step failed).
    pub registry_refusal: Option<String>,
    pub registry_refused_at: Option<DateTime<Utc>>,
    /// Who proved who they are with the e-ID, and what it disclosed.
    pub eid_proofs: Vec<EidProofView>,
}

/// An e-ID proof as a reviewer sees it: the disclosed names beside what the comparison with
/// the name typed and the registrant on file found.
#[derive(Debug, serde::Serialize)]
pub struct EidProofView {
    pub subject: entities::enums::EidSubject,
    pub given_name: String,
    pub family_name: String,
    pub issuer_did: String,
    pub vct: String,
    pub proven_at: DateTime<Utc>,
    pub credential_digest: String,
    pub name_differs_from_typed: bool,
    pub name_differs_from_registrant: bool,
}

impl EidProofView {
    /// The signals the proof fires: a name that differs from the one typed, or from the
    /// registrant on file.
    fn fired(&self) -> usize {
        usize::from(self.name_differs_from_typed) + usize::from(self.name_differs_from_registrant)
    }
}

impl From<entities::eid_proof::Model> for EidProofView {
    fn from(proof: entities::eid_proof::Model) -> Self {
        EidProofView {
            subject: proof.subject,
            credential_digest: crate::platform::crypto::hex(&proof.credential_digest),
            given_name: proof.given_name,
            family_name: proof.family_name,
            issuer_did: proof.issuer_did,
            vct: proof.vct,
            proven_at: proof.proven_at,
            name_differs_from_typed: proof.name_differs_from_typed,
            name_differs_from_registrant: proof.name_differs_from_registrant,
        }
    }
}

#[derive(Debug, serde::Serialize)]
pub struct HolderPart {
    /// The holder's name as the requester typed it: nobody verified it.
    pub name: String,
    /// The address the holder's link was mailed to, as the requester typed it.
    pub email: String,
    /// When the link was handed to that address's mail server; `None` while it was not.
    pub link_sent_at: Option<DateTime<Utc>>,
    /// The link went to the registrant's address on file: only then did the registrant's
    /// own mailbox take part.
    pub sent_to_registrant: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub link_expires_at: Option<DateTime<Utc>>,
    /// The kind of identity document the holder said they photographed.
    pub id_document_type: Option<IdDocumentType>,
}

fn host_lines(hosts: Option<&str>) -> Vec<String> {
    hosts
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

impl ReviewView {
    pub fn domain_contested(&self) -> bool {
        !self.same_domain_pending.is_empty() || !self.same_domain_live_codes.is_empty()
    }
}

#[derive(Debug, serde::Serialize)]
pub struct Registrant {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Rejection {
    pub decided_at: DateTime<Utc>,
    pub reason: Reason,
}

/// Names compared without accents, case or extra spaces: "JÖRG  müller" = "Jorg Muller".
pub fn names_match(a: &str, b: &str) -> bool {
    let fold = |s: &str| {
        deunicode::deunicode(s)
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (a, b) = (fold(a), fold(b));
    !a.is_empty() && a == b
}

/// A request as a reviewer sees it. One past its retention is expired first, so that it is
/// shown as what it is.
pub async fn review_view(
    services: &Services,
    request_id: RequestId,
    me: &reviewer::Model,
    now: DateTime<Utc>,
) -> Result<ReviewView, ReviewError> {
    let request_id = request_id.0;
    let db = &services.db;
    let found = as_of(services, request_id, now).await?;
    let (registrant, current_nameservers) = on_file(db, &found.domain).await?;
    let holder_part = holder_part(&found, registrant.as_ref());
    let documents = document_summaries(db, &found).await?;
    let eid_proofs = eid_proofs(db, request_id).await?;
    let signal_count =
        fired_on_readable(&documents) + eid_proofs.iter().map(EidProofView::fired).sum::<usize>();
    let (same_address_elsewhere, same_email_elsewhere) =
        same_requester_elsewhere(db, &found, now).await?;
    let (same_domain_pending, same_domain_live_codes) = same_domain(db, &found, now).await?;
    let earlier_rejections = earlier_rejections(db, &found).await?;
    let settings = &services.settings;
    let (domain, id, created_at) = (&found.domain, found.id, found.created_at);
    let past_domain_budget =
        super::limits::past_domain_budget(db, settings, domain, id, created_at).await?;
    let (approvals, names) = approvers(db, &found).await?;
    let timeline = timeline(db, request_id).await?;
    let live = lease_is_live(&found, now);
    let deadline = found.created_at + ISSUANCE_DEADLINE;
    Ok(ReviewView {
        id: found.id,
        short_id: short_id(found.id),
        state: found.state,
        name_matches: registrant
            .as_ref()
            .is_some_and(|r| names_match(&r.name, &found.requester_name)),
        email_matches: registrant
            .as_ref()
            .is_some_and(|r| r.email.eq_ignore_ascii_case(&found.requester_email)),
        registrant,
        approvals_required: services.settings.approvals.required(signal_count),
        signal_count,
        documents,
        same_address_elsewhere,
        same_email_elsewhere,
        earlier_rejections,
        past_domain_budget,
        domain_budget: settings.submissions_per_domain_per_day,
        same_domain_pending,
        same_domain_live_codes,
        approvals,
        holder: found
            .claimed_by
            .filter(|_| live)
            .and_then(|id| names.get(&id).cloned()),
        held_by_me: live && found.claimed_by == Some(me.id),
        requested_document: found.requested_document,
        hours_left: (deadline - now).num_hours(),
        overdue: is_pending(found.state) && deadline < now,
        timeline,
        domain: found.domain,
        requester_name: found.requester_name,
        requester_email: found.requester_email,
        requester_phone: found.requester_phone,
        relation: found.relation,
        id_document_type: found.id_document_type,
        register_url: found.company_uid.as_deref().map(register_url),
        company_uid: found.company_uid,
        created_at: found.created_at,
        kind: found.kind,
        nameservers: host_lines(found.nameservers.as_deref()),
        current_nameservers,
        holder_part,
        awaiting_reply_since: found.awaiting_reply_since,
        objected_at: found.objected_at,
        objection_handled_at: found.objection_handled_at,
        registry_refusal: found.registry_refusal.clone(),
        registry_refused_at: found.registry_refused_at,
        eid_proofs,
    })
}

/// The request as it stands at `now`: expired first if its time is up.
async fn as_of(
    services: &Services,
    request_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<request::Model, ReviewError> {
    super::expiry::expire_if_due(services, request_id, now).await?;
    request::Entity::find_by_id(request_id)
        .one(&services.db)
        .await?
        .ok_or(ReviewError::NotFound)
}

/// The e-ID proofs that count for the request, as the review shows them.
async fn eid_proofs(
    db: &impl sea_orm::ConnectionTrait,
    request_id: uuid::Uuid,
) -> Result<Vec<EidProofView>, sea_orm::DbErr> {
    let proofs = super::eid::accepted_proofs(db, request_id).await?;
    Ok(proofs.into_iter().map(EidProofView::from).collect())
}

/// The signals fired on the documents a reviewer can still open.
fn fired_on_readable(documents: &[DocumentSummary]) -> usize {
    documents
        .iter()
        .filter(|d| d.readable)
        .map(|d| d.signals.fired())
        .sum()
}

/// Who approved the request so far, in order, and the names of them and of the claim's
/// holder.
async fn approvers(
    db: &impl ConnectionTrait,
    found: &request::Model,
) -> Result<(Vec<String>, HashMap<Uuid, String>), DbErr> {
    let approvers: Vec<Uuid> = approval::Entity::find()
        .select_only()
        .column(approval::Column::ReviewerId)
        .filter(approval::Column::RequestId.eq(found.id))
        .order_by_asc(approval::Column::ApprovedAt)
        .into_tuple()
        .all(db)
        .await?;
    let names = reviewer_names(db, approvers.iter().copied().chain(found.claimed_by)).await?;
    let approvals = approvers
        .iter()
        .map(|id| names.get(id).cloned().unwrap_or_default())
        .collect();
    Ok((approvals, names))
}

/// The registrant on file for `domain`, and the domain's nameservers now.
async fn on_file(
    db: &impl ConnectionTrait,
    domain: &str,
) -> Result<(Option<Registrant>, Vec<String>), DbErr> {
    let on_file = domain::Entity::find_by_id(domain.to_owned())
        .one(db)
        .await?;
    let current_nameservers = host_lines(on_file.as_ref().and_then(|d| d.nameservers.as_deref()));
    let registrant = on_file.map(|d| Registrant {
        name: d.registrant_name,
        email: d.registrant_email,
        phone: d.registrant_phone,
    });
    Ok((registrant, current_nameservers))
}

/// The holder the requester named, when the holder verifies directly.
fn holder_part(found: &request::Model, registrant: Option<&Registrant>) -> Option<HolderPart> {
    let (Some(name), Some(email)) = (&found.holder_name, &found.holder_email) else {
        return None;
    };
    Some(HolderPart {
        link_sent_at: found.holder_link_sent_at,
        sent_to_registrant: found.holder_link_sent_at.is_some()
            && registrant.is_some_and(|r| r.email.eq_ignore_ascii_case(email)),
        name: name.clone(),
        email: email.clone(),
        answered_at: found.holder_answered_at,
        link_expires_at: found.holder_link_expires_at,
        id_document_type: found.holder_id_document_type,
    })
}

/// The request's documents with their signals; while it is pending, only those still readable.
async fn document_summaries(
    db: &impl ConnectionTrait,
    found: &request::Model,
) -> Result<Vec<DocumentSummary>, DbErr> {
    Ok(document::Entity::find()
        .filter(document::Column::RequestId.eq(found.id))
        .order_by_asc(document::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|d| d.wrapped_key.is_some() || !is_pending(found.state))
        .map(|d| {
            let signals = parse_signals(&d.signals);
            DocumentSummary {
                id: d.id,
                kind: d.kind,
                width: d.width,
                height: d.height,
                quality_problems: signals.quality.map(|q| q.problems()).unwrap_or_default(),
                signals,
                readable: d.wrapped_key.is_some(),
                zone_status: d.zone_status,
            }
        })
        .collect())
}

/// Requests of the last day for other domains from the same address, and with the same email.
async fn same_requester_elsewhere(
    db: &impl ConnectionTrait,
    found: &request::Model,
    now: DateTime<Utc>,
) -> Result<(Vec<OtherRequest>, Vec<OtherRequest>), DbErr> {
    let since = now - Duration::hours(24);
    let same_address = match &found.client_addr {
        Some(addr) => recent_elsewhere(db, request::Column::ClientAddr, addr, found, since).await?,
        None => Vec::new(),
    };
    let same_email = recent_elsewhere(
        db,
        request::Column::RequesterEmail,
        &found.requester_email,
        found,
        since,
    )
    .await?;
    Ok((same_address, same_email))
}

/// The domain's other pending requests and its live codes.
async fn same_domain(
    db: &impl ConnectionTrait,
    found: &request::Model,
    now: DateTime<Utc>,
) -> Result<(Vec<OtherRequest>, Vec<LiveCode>), DbErr> {
    let pending = rules::other_pending(&found.domain, found.id)
        .order_by_asc(request::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(other_request)
        .collect();
    let live_codes = rules::other_live_codes(&found.domain, found.id, now)
        .all(db)
        .await?
        .into_iter()
        .map(|c| LiveCode {
            request_short_id: short_id(c.request_id),
            issued_at: c.issued_at,
            expires_at: c.expires_at,
        })
        .collect();
    Ok((pending, live_codes))
}

/// The public commercial register's search (Zefix) for a company's UID.
pub fn register_url(uid: &str) -> String {
    format!("https://www.zefix.ch/en/search/entity/list?name={uid}&searchType=exact")
}

fn other_request(r: request::Model) -> OtherRequest {
    OtherRequest {
        id: r.id,
        short_id: short_id(r.id),
        domain: r.domain,
        created_at: r.created_at,
        state: r.state,
    }
}

/// Rejections of earlier requests for the same domain.
async fn earlier_rejections(
    db: &impl ConnectionTrait,
    found: &request::Model,
) -> Result<Vec<Rejection>, DbErr> {
    let same_domain: Vec<Uuid> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::Domain.eq(found.domain.as_str()))
        .filter(request::Column::Id.ne(found.id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(decision::Entity::find()
        .filter(decision::Column::RequestId.is_in(same_domain))
        .filter(decision::Column::Outcome.eq(RequestState::Rejected))
        .all(db)
        .await?
        .into_iter()
        .map(|d| Rejection {
            decided_at: d.decided_at,
            reason: Reason {
                key: d.reason_key,
                text: d.reason,
            },
        })
        .collect())
}

/// Other requests since `since`, for other domains, sharing `column = value` with `found`.
async fn recent_elsewhere(
    db: &impl ConnectionTrait,
    column: request::Column,
    value: &str,
    found: &request::Model,
    since: DateTime<Utc>,
) -> Result<Vec<OtherRequest>, DbErr> {
    Ok(request::Entity::find()
        .filter(column.eq(value))
        .filter(request::Column::Id.ne(found.id))
        .filter(request::Column::Domain.ne(found.domain.as_str()))
        .filter(request::Column::CreatedAt.gte(since))
        .all(db)
        .await?
        .into_iter()
        .map(other_request)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_accents_case_or_spacing() {
        assert!(names_match("Jörg Müller", "JORG  muller"));
        assert!(names_match("Élodie Dubois", "elodie dubois"));
        assert!(!names_match("Jörg Müller", "Jörg Meier"));
        assert!(!names_match("", ""));
    }
}
