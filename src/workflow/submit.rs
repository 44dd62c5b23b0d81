//! Submitting a request: validate, sanitise the documents, encrypt, store, record.

use std::collections::BTreeMap;

use chrono::Utc;
use entities::{document, domain, request};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::limits;
use super::shred::{shred_documents, unlink_after_commit};
use super::state::{self, event, record_event, Guard, Step};
use super::{
    notify, parse, retention_cutoff, DocumentKind, RequestKind, RequestState, RequesterRelation,
};
use crate::audit;
use crate::codes::RecipientKey;
use crate::crypto::{self, CryptoError, DataKey, DocumentBinding, TrackingToken};
use crate::domains::{is_plausible_email, normalize_domain, parse_nameservers, DomainError};
use crate::i18n::Lang;
use crate::intake::{CleanImage, IntakeError, QualityProblem};
use crate::mail::Mail;
use crate::services::Services;

/// One uploaded file, held in memory only and zeroed when dropped.
pub struct Upload {
    pub bytes: Zeroizing<Vec<u8>>,
}

/// What a requester sends, from the form or the API alike. Text arrives as typed.
#[derive(Default)]
pub struct SubmissionInput {
    pub domain: String,
    pub full_name: String,
    pub email: String,
    pub phone: String,
    pub relation: String,
    /// For a signatory: the holder company's UID as typed.
    pub company_uid: String,
    /// `transfer_code` (also when empty) or `nameservers`.
    pub kind: String,
    /// For a nameserver change: host names separated by spaces, commas or line breaks.
    pub nameservers: String,
    /// A representative asks the holder to verify through their own link instead of
    /// uploading the holder's authorisation.
    pub holder_verifies: bool,
    pub holder_name: String,
    pub holder_email: String,
    pub consent: bool,
    /// Send photos that fail a quality check (too small, dark, bright or blurred) anyway.
    pub send_anyway: bool,
    /// The requester's language, for the mails they receive.
    pub language: Lang,
    /// Where the links in mails point (`https://desk.example`).
    pub link_base: String,
    pub id_front: Option<Upload>,
    pub id_back: Option<Upload>,
    pub authorization: Option<Upload>,
    pub client_addr: Option<String>,
}

/// What is wrong with a field; the web layer words it for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    DomainMissing,
    /// Not a domain name at all (what was typed, cut short).
    DomainInvalid(String),
    DomainNotOurs,
    NameMissing,
    NameTooLong {
        max_chars: usize,
    },
    EmailMissing,
    EmailInvalid,
    PhoneInvalid,
    RelationMissing,
    UidMissing,
    UidInvalid,
    KindInvalid,
    /// Nameserver changes need a registry command to carry them out.
    NameserversNotOffered,
    Nameservers(crate::domains::NameserverError),
    /// Only a representative can ask the holder to verify.
    HolderVerifiesNotForRelation,
    /// The holder's link goes only by mail, and no mail is configured.
    HolderVerificationNeedsMail,
    HolderNameMissing,
    HolderEmailMissing,
    HolderEmailInvalid,
    ConsentMissing,
    FrontMissing,
    AuthorizationMissing,
    Image(IntakeError),
    /// The photo may be hard to read; the requester may send it anyway.
    Quality(Vec<QualityProblem>),
    NothingAsked,
    DocumentMissing,
}

/// Problems by field name.
pub type FieldErrors = BTreeMap<&'static str, FieldProblem>;

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the submission has errors in {} field(s)", .0.len())]
    Invalid(FieldErrors),
    #[error("cannot store a document: {0}")]
    Storage(#[from] std::io::Error),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("encryption failed: {0}")]
    Crypto(#[from] CryptoError),
    #[error("no such request")]
    NotFound,
    #[error("too many submissions; retry after {retry_after}")]
    TooMany { retry_after: chrono::Duration },
}

pub struct Submitted {
    pub request_id: Uuid,
    pub tracking_token: TrackingToken,
    pub state: RequestState,
}

/// How long the holder's private link stays valid.
pub const HOLDER_LINK_DAYS: i64 = 7;

const MAX_NAME_CHARS: usize = 200;
const MAX_PHONE_CHARS: usize = 32;

struct ValidFields {
    domain: String,
    full_name: String,
    email: String,
    phone: Option<String>,
    relation: RequesterRelation,
    company_uid: Option<String>,
    kind: RequestKind,
    /// One host name per line.
    nameservers: Option<String>,
    /// The holder's name and address, when they verify directly.
    holder: Option<(String, String)>,
}

/// What this service offers besides the plain transfer-code request.
#[derive(Clone, Copy, Debug)]
pub struct Offers {
    /// Nameserver changes: a registry command carries them out.
    pub nameservers: bool,
    /// The holder verifying through their own link: only a mail delivers it to them alone.
    pub holder_verification: bool,
}

impl Offers {
    pub const ALL: Offers = Offers {
        nameservers: true,
        holder_verification: true,
    };

    pub fn of(settings: &crate::config::Settings) -> Offers {
        Offers {
            nameservers: settings.registry_command.is_some(),
            holder_verification: settings.smtp_url.is_some(),
        }
    }
}

/// Validates every typed field first, then sanitises every document, and only then stores
/// anything: a submission with one error leaves no row and no file, and no photo is decoded
/// while a typed field is wrong or for a domain we do not manage.
pub async fn submit(
    services: &Services,
    mut input: SubmissionInput,
) -> Result<Submitted, SubmitError> {
    let now = Utc::now();
    let mut errors = FieldErrors::new();
    let fields = validate_fields(&input, &Offers::of(&services.settings), &mut errors);
    let domain_known = match normalize_domain(&input.domain) {
        Ok(domain) => domain::Entity::find_by_id(domain)
            .one(&services.db)
            .await?
            .is_some(),
        Err(_) => false,
    };
    if !domain_known && !errors.contains_key("domain") {
        errors.insert("domain", FieldProblem::DomainNotOurs);
    }
    if input.id_front.is_none() {
        errors.insert("id_front", FieldProblem::FrontMissing);
    }
    let representative = parse(input.relation.trim()) == Some(RequesterRelation::Representative);
    if representative && !input.holder_verifies && input.authorization.is_none() {
        errors.insert("authorization", FieldProblem::AuthorizationMissing);
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
    if let Some(retry_after) = limits::domain_over_limit(services, &fields.domain, now).await? {
        return Err(SubmitError::TooMany { retry_after });
    }
    if let Some(retry_after) = limits::count_intake(services, &address, now).await? {
        return Err(SubmitError::TooMany { retry_after });
    }

    let uploads = [
        (DocumentKind::IdFront, input.id_front.take()),
        (DocumentKind::IdBack, input.id_back.take()),
        (DocumentKind::Authorization, input.authorization.take()),
    ];
    let mut clean = Vec::new();
    for (kind, upload) in uploads {
        let Some(upload) = upload else { continue };
        match services.intake.sanitize(upload.bytes).await {
            Ok(image) => {
                let problems = image
                    .signals
                    .quality
                    .map(|q| q.problems())
                    .unwrap_or_default();
                if !problems.is_empty() && !input.send_anyway {
                    errors.insert(field_name(kind), FieldProblem::Quality(problems));
                }
                clean.push((kind, image));
            }
            Err(error) => {
                errors.insert(field_name(kind), FieldProblem::Image(error));
            }
        }
    }
    if !errors.is_empty() {
        limits::count_refused(services, &address, now).await?;
        return Err(SubmitError::Invalid(errors));
    }
    let origin = Origin {
        client_addr: input.client_addr,
        language: input.language,
        link_base: input.link_base,
    };
    let domain = fields.domain.clone();
    let submitted = store(services, fields, origin, clean).await?;
    // Only what was stored spends the domain's budget: refused attempts cannot block the
    // real owner.
    limits::count_stored(services, &domain, now).await?;
    Ok(submitted)
}

fn validate_fields(
    input: &SubmissionInput,
    offers: &Offers,
    errors: &mut FieldErrors,
) -> Option<ValidFields> {
    let domain = match normalize_domain(&input.domain) {
        Ok(domain) => Some(domain),
        Err(DomainError::Empty) => {
            errors.insert("domain", FieldProblem::DomainMissing);
            None
        }
        Err(DomainError::Invalid(typed)) => {
            errors.insert(
                "domain",
                FieldProblem::DomainInvalid(typed.chars().take(80).collect()),
            );
            None
        }
    };
    let full_name = collapse_whitespace(&input.full_name);
    if full_name.is_empty() {
        errors.insert("full_name", FieldProblem::NameMissing);
    } else if full_name.chars().count() > MAX_NAME_CHARS {
        errors.insert(
            "full_name",
            FieldProblem::NameTooLong {
                max_chars: MAX_NAME_CHARS,
            },
        );
    }
    let email = input.email.trim().to_owned();
    if email.is_empty() {
        errors.insert("email", FieldProblem::EmailMissing);
    } else if !is_plausible_email(&email) {
        errors.insert("email", FieldProblem::EmailInvalid);
    }
    let phone = collapse_whitespace(&input.phone);
    let phone_ok = phone.chars().count() <= MAX_PHONE_CHARS
        && phone
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " ()-./".contains(c) || (i == 0 && c == '+'));
    if !phone_ok {
        errors.insert("phone", FieldProblem::PhoneInvalid);
    }
    let relation = parse(input.relation.trim());
    if relation.is_none() {
        errors.insert("relation", FieldProblem::RelationMissing);
    }
    let company_uid = match relation {
        Some(RequesterRelation::Signatory) if input.company_uid.trim().is_empty() => {
            errors.insert("company_uid", FieldProblem::UidMissing);
            None
        }
        Some(RequesterRelation::Signatory) => {
            let uid = crate::uid::normalize(&input.company_uid);
            if uid.is_none() {
                errors.insert("company_uid", FieldProblem::UidInvalid);
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
            errors.insert("kind", FieldProblem::KindInvalid);
            None
        }
        Some(RequestKind::Nameservers) if !offers.nameservers => {
            errors.insert("kind", FieldProblem::NameserversNotOffered);
            None
        }
        Some(RequestKind::Nameservers) => match parse_nameservers(&input.nameservers) {
            Ok(hosts) => Some(hosts.join("\n")),
            Err(problem) => {
                errors.insert("nameservers", FieldProblem::Nameservers(problem));
                None
            }
        },
        Some(RequestKind::TransferCode) => None,
    };
    let holder = if input.holder_verifies && !offers.holder_verification {
        errors.insert("holder_verifies", FieldProblem::HolderVerificationNeedsMail);
        None
    } else if input.holder_verifies {
        validate_holder(input, relation, errors)
    } else {
        None
    };
    if !input.consent {
        errors.insert("consent", FieldProblem::ConsentMissing);
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
        }),
        _ => None,
    }
}

/// The holder's name and a working address, for a representative who asks them to verify.
fn validate_holder(
    input: &SubmissionInput,
    relation: Option<RequesterRelation>,
    errors: &mut FieldErrors,
) -> Option<(String, String)> {
    if relation.is_some_and(|r| r != RequesterRelation::Representative) {
        errors.insert(
            "holder_verifies",
            FieldProblem::HolderVerifiesNotForRelation,
        );
        return None;
    }
    let name = collapse_whitespace(&input.holder_name);
    if name.is_empty() {
        errors.insert("holder_name", FieldProblem::HolderNameMissing);
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.insert(
            "holder_name",
            FieldProblem::NameTooLong {
                max_chars: MAX_NAME_CHARS,
            },
        );
    }
    let email = input.holder_email.trim().to_owned();
    if email.is_empty() {
        errors.insert("holder_email", FieldProblem::HolderEmailMissing);
    } else if !is_plausible_email(&email) {
        errors.insert("holder_email", FieldProblem::HolderEmailInvalid);
    }
    let valid = !errors.contains_key("holder_name") && !errors.contains_key("holder_email");
    valid.then_some((name, email))
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace()
        .map(|part| part.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a submission came from: the client, the requester's language, the service's address.
struct Origin {
    client_addr: Option<String>,
    language: Lang,
    link_base: String,
}

/// Encrypts and writes every document, then records the request, its documents and its
/// mails in one transaction. On any failure the files written so far are removed.
async fn store(
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
        Some(_) => Some(TrackingToken::generate()?),
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
    let mut written: Vec<String> = Vec::new();
    let result = async {
        let mut documents = Vec::with_capacity(clean.len());
        for (kind, image) in &clean {
            let (document, name) = seal_and_write(services, request_id, *kind, image, now).await?;
            written.push(name);
            documents.push(document);
        }
        let txn = services.db.begin().await?;
        request::ActiveModel {
            id: Set(request_id),
            domain: Set(fields.domain),
            requester_name: Set(fields.full_name),
            requester_email: Set(fields.email),
            requester_phone: Set(fields.phone),
            relation: Set(fields.relation),
            state: Set(state),
            tracking_token_hash: Set(tracking_token.hash().to_vec()),
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
        }
        .insert(&txn)
        .await?;
        document::Entity::insert_many(documents)
            .exec_without_returning(&txn)
            .await?;
        record_event(&txn, request_id, event::SUBMITTED, None, now).await?;
        let link = format!("{}/track/{}", origin.link_base, tracking_token.expose());
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
        Ok::<_, SubmitError>(())
    }
    .await;
    if let Err(error) = result {
        for name in &written {
            if let Err(remove_error) = services.store.remove(name).await {
                tracing::error!(%remove_error, "cannot remove a blob of a failed submission");
            }
        }
        return Err(error);
    }
    tracing::info!(request = %request_id, documents = clean.len(), "request submitted");
    metrics::counter!(crate::observe::SUBMISSIONS).increment(1);
    services.mail_wake.notify_one();
    // The holder's link went into the holder's mail alone: the requester never sees it.
    Ok(Submitted {
        request_id,
        tracking_token,
        state,
    })
}

/// Encrypts one sanitised document under a fresh data key and writes it to the store.
/// Returns its row (not yet inserted) and its file name.
pub(super) async fn seal_and_write(
    services: &Services,
    request_id: Uuid,
    kind: DocumentKind,
    image: &CleanImage,
    now: chrono::DateTime<Utc>,
) -> Result<(document::ActiveModel, String), SubmitError> {
    let document_id = Uuid::new_v4();
    let binding = DocumentBinding {
        request_id,
        document_id,
        key_version: services.master_key.version(),
    };
    let data_key = DataKey::generate()?;
    let sealed = data_key.seal_document(&binding, &image.jpeg)?;
    let wrapped_key = services.master_key.wrap(&data_key, &binding)?;
    let storage_name = crate::storage::name_for(document_id);
    services.store.put(&storage_name, sealed).await?;
    let document = document::ActiveModel {
        id: Set(document_id),
        request_id: Set(request_id),
        kind: Set(kind),
        format_version: Set(i32::from(crypto::FORMAT_VERSION)),
        algorithm: Set(crypto::ALGORITHM.to_owned()),
        key_version: Set(binding.key_version as i32),
        wrap_version: Set(None),
        wrapped_key: Set(Some(wrapped_key)),
        storage_name: Set(storage_name.clone()),
        width: Set(image.width as i32),
        height: Set(image.height as i32),
        byte_len: Set(image.jpeg.len() as i64),
        signals: Set(serde_json::to_string(&image.signals).unwrap_or_default()),
        created_at: Set(now),
        shredded_at: Set(None),
    };
    Ok((document, storage_name))
}

/// The requester sends the new document a reviewer asked for, from the tracking page. It
/// goes through the same intake; the document it replaces is shredded at once.
pub async fn provide_document(
    services: &Services,
    token: &TrackingToken,
    upload: Option<Upload>,
    client_addr: &str,
) -> Result<(), SubmitError> {
    let found = request::Entity::find()
        .filter(request::Column::TrackingTokenHash.eq(token.hash().to_vec()))
        .one(&services.db)
        .await?
        .ok_or(SubmitError::NotFound)?;
    let invalid =
        |problem: FieldProblem| SubmitError::Invalid(FieldErrors::from([("document", problem)]));
    let nothing_asked = || invalid(FieldProblem::NothingAsked);
    if found.state != RequestState::NeedsDocument
        || found.created_at <= retention_cutoff(&services.settings, Utc::now())
    {
        return Err(nothing_asked());
    }
    let kind = found.requested_document.ok_or_else(nothing_asked)?;
    let upload = upload.ok_or_else(|| invalid(FieldProblem::DocumentMissing))?;
    if let Some(retry_after) = limits::count_intake(services, client_addr, Utc::now()).await? {
        return Err(SubmitError::TooMany { retry_after });
    }
    let image = services
        .intake
        .sanitize(upload.bytes)
        .await
        .map_err(|error| invalid(FieldProblem::Image(error)))?;
    let now = Utc::now();
    let (document, name) = seal_and_write(services, found.id, kind, &image, now).await?;
    let result = async {
        let txn = services.db.begin().await?;
        let guard = Guard {
            created_after: Some(retention_cutoff(&services.settings, now)),
            ..Guard::system(now)
        };
        if !state::apply(&txn, found.id, Step::ReceiveDocument, &guard, None).await? {
            return Err(nothing_asked());
        }
        let replaced = document::Entity::find()
            .filter(document::Column::RequestId.eq(found.id))
            .filter(document::Column::Kind.eq(kind))
            .filter(document::Column::WrappedKey.is_not_null())
            .all(&txn)
            .await?;
        for old in replaced {
            shred_documents(&txn, found.id, Some(old.id), "requester", now).await?;
        }
        document.insert(&txn).await?;
        audit::record(
            &txn,
            "requester",
            audit::DOCUMENT_REPLACED,
            Some(found.id),
            Some(field_name(kind)),
        )
        .await?;
        txn.commit().await?;
        Ok::<_, SubmitError>(())
    }
    .await;
    if let Err(error) = result {
        let _ = services.store.remove(&name).await;
        return Err(error);
    }
    unlink_after_commit(services).await;
    Ok(())
}

/// The form field (and stored value) of a document kind.
pub(super) fn field_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::IdFront => "id_front",
        DocumentKind::IdBack => "id_back",
        DocumentKind::Authorization => "authorization",
        DocumentKind::HolderIdFront => "holder_id_front",
        DocumentKind::HolderIdBack => "holder_id_back",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_input() -> SubmissionInput {
        SubmissionInput {
            domain: "Example.com".into(),
            full_name: "  Anna   Muster ".into(),
            email: "anna@example.org".into(),
            phone: "+41 44 000 00 00".into(),
            relation: "holder".into(),
            consent: true,
            ..Default::default()
        }
    }

    #[test]
    fn valid_fields_are_normalised() {
        let mut errors = FieldErrors::new();
        let fields = validate_fields(&valid_input(), &Offers::ALL, &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!(fields.domain, "example.com");
        assert_eq!(fields.full_name, "Anna Muster");
        assert_eq!(fields.relation, RequesterRelation::Holder);
    }

    #[test]
    fn every_bad_field_gets_its_own_message() {
        let input = SubmissionInput {
            domain: "not a domain".into(),
            full_name: " ".into(),
            email: "anna".into(),
            phone: "call me maybe".into(),
            relation: "cousin".into(),
            consent: false,
            ..Default::default()
        };
        let mut errors = FieldErrors::new();
        assert!(validate_fields(&input, &Offers::ALL, &mut errors).is_none());
        let fields: Vec<_> = errors.keys().copied().collect();
        assert_eq!(
            fields,
            [
                "consent",
                "domain",
                "email",
                "full_name",
                "phone",
                "relation"
            ]
        );
    }

    #[test]
    fn a_signatory_gives_a_uid_with_a_right_check_digit() {
        let signatory = |uid: &str| SubmissionInput {
            relation: "signatory".into(),
            company_uid: uid.into(),
            ..valid_input()
        };
        let mut errors = FieldErrors::new();
        let fields =
            validate_fields(&signatory("che 123 456 788"), &Offers::ALL, &mut errors).unwrap();
        assert_eq!(fields.company_uid.as_deref(), Some("CHE-123.456.788"));
        for (uid, problem) in [
            ("CHE-123.456.789", FieldProblem::UidInvalid),
            ("", FieldProblem::UidMissing),
        ] {
            let mut errors = FieldErrors::new();
            assert!(validate_fields(&signatory(uid), &Offers::ALL, &mut errors).is_none());
            assert_eq!(errors.get("company_uid"), Some(&problem));
        }
    }

    #[test]
    fn a_nameserver_change_lists_its_hosts_and_needs_a_registry_command() {
        let change = |hosts: &str| SubmissionInput {
            kind: "nameservers".into(),
            nameservers: hosts.into(),
            ..valid_input()
        };
        let mut errors = FieldErrors::new();
        let fields = validate_fields(
            &change("ns1.new.ch, NS2.new.ch."),
            &Offers::ALL,
            &mut errors,
        )
        .unwrap();
        assert_eq!(fields.kind, RequestKind::Nameservers);
        assert_eq!(
            fields.nameservers.as_deref(),
            Some("ns1.new.ch\nns2.new.ch")
        );
        let mut errors = FieldErrors::new();
        assert!(validate_fields(&change("ns1.new.ch"), &Offers::ALL, &mut errors).is_none());
        assert!(matches!(
            errors.get("nameservers"),
            Some(FieldProblem::Nameservers(_))
        ));
        let mut errors = FieldErrors::new();
        assert!(validate_fields(
            &change("ns1.new.ch ns2.new.ch"),
            &Offers {
                nameservers: false,
                ..Offers::ALL
            },
            &mut errors
        )
        .is_none());
        assert_eq!(
            errors.get("kind"),
            Some(&FieldProblem::NameserversNotOffered)
        );
        let mut errors = FieldErrors::new();
        let odd = SubmissionInput {
            kind: "dns".into(),
            ..valid_input()
        };
        assert!(validate_fields(&odd, &Offers::ALL, &mut errors).is_none());
        assert_eq!(errors.get("kind"), Some(&FieldProblem::KindInvalid));
        let mut errors = FieldErrors::new();
        let plain = validate_fields(&valid_input(), &Offers::ALL, &mut errors).unwrap();
        assert_eq!(plain.kind, RequestKind::TransferCode);
        assert_eq!(plain.nameservers, None);
    }

    #[test]
    fn only_a_representative_asks_the_holder_with_a_name_and_an_address() {
        let asking = |relation: &str, name: &str, email: &str| SubmissionInput {
            relation: relation.into(),
            holder_verifies: true,
            holder_name: name.into(),
            holder_email: email.into(),
            ..valid_input()
        };
        let mut errors = FieldErrors::new();
        let fields = validate_fields(
            &asking("representative", " Hans  Halter", "hans@example.net"),
            &Offers::ALL,
            &mut errors,
        )
        .unwrap();
        assert_eq!(
            fields.holder,
            Some(("Hans Halter".into(), "hans@example.net".into()))
        );
        let mut errors = FieldErrors::new();
        assert!(validate_fields(
            &asking("holder", "Hans", "h@example.net"),
            &Offers::ALL,
            &mut errors
        )
        .is_none());
        assert_eq!(
            errors.get("holder_verifies"),
            Some(&FieldProblem::HolderVerifiesNotForRelation)
        );
        let mut errors = FieldErrors::new();
        assert!(validate_fields(
            &asking("representative", "", "hans"),
            &Offers::ALL,
            &mut errors
        )
        .is_none());
        assert_eq!(
            errors.get("holder_name"),
            Some(&FieldProblem::HolderNameMissing)
        );
        assert_eq!(
            errors.get("holder_email"),
            Some(&FieldProblem::HolderEmailInvalid)
        );
    }

    #[test]
    fn without_mail_the_holder_cannot_be_asked_to_verify() {
        let input = SubmissionInput {
            relation: "representative".into(),
            holder_verifies: true,
            holder_name: "Hans Halter".into(),
            holder_email: "hans@example.net".into(),
            ..valid_input()
        };
        let no_mail = Offers {
            holder_verification: false,
            ..Offers::ALL
        };
        let mut errors = FieldErrors::new();
        assert!(validate_fields(&input, &no_mail, &mut errors).is_none());
        assert_eq!(
            errors.get("holder_verifies"),
            Some(&FieldProblem::HolderVerificationNeedsMail)
        );
    }

    #[test]
    fn one_bad_field_is_enough_to_refuse() {
        for change in [
            |i: &mut SubmissionInput| i.consent = false,
            |i: &mut SubmissionInput| i.phone = "abc".into(),
            |i: &mut SubmissionInput| i.email = "x".into(),
        ] {
            let mut input = valid_input();
            change(&mut input);
            let mut errors = FieldErrors::new();
            assert!(validate_fields(&input, &Offers::ALL, &mut errors).is_none());
            assert_eq!(errors.len(), 1);
        }
    }
}
