//! What a requester or holder sends, from the form or the API alike, read as the workflow's
//! values, and what can be wrong with it.

use std::collections::BTreeMap;

use sea_orm::DbErr;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::intake::{IntakeError, QualityProblem};
use crate::platform::crypto::{CryptoError, TrackingToken};
use crate::platform::i18n::Lang;
use sea_orm::ActiveEnum;

use crate::workflow::{DocumentKind, IdDocumentType, RequestKind, RequestState, RequesterRelation};

/// One uploaded file, held in memory only and zeroed when dropped.
pub struct Upload {
    pub bytes: Zeroizing<Vec<u8>>,
}

/// What a requester typed, as typed: checked by validation, and shown again beside the
/// errors when one field is wrong.
#[derive(Debug, Default, serde::Serialize)]
pub struct TypedValues {
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
    /// `passport`, `identity_card` or `other`; empty when the requester did not say.
    pub id_document_type: String,
    /// How the requester proves who they are: `photos` (also when empty) or `eid`.
    pub proof: String,
    /// Send photos that fail a quality check (too small, dark, bright or blurred) anyway.
    pub send_anyway: bool,
    pub consent: bool,
}

impl TypedValues {
    /// The requester chose to prove who they are with the e-ID instead of photos.
    pub fn proves_with_eid(&self) -> bool {
        self.proof.trim() == PROOF_EID
    }
}

/// The `proof` value that chooses the e-ID.
pub const PROOF_EID: &str = "eid";

/// What a requester sends, from the form or the API alike.
#[derive(Default)]
pub struct SubmissionInput {
    pub typed: TypedValues,
    /// The requester's language, for the mails they receive.
    pub language: Lang,
    pub id_front: Option<Upload>,
    pub id_back: Option<Upload>,
    pub authorization: Option<Upload>,
    pub client_addr: Option<String>,
}

impl SubmissionInput {
    /// Forgets what does not apply to the chosen kind and relation: the nameservers unless
    /// new nameservers are asked for, the company UID unless a signatory asks, the holder's
    /// details and letter unless a representative does, and the letter when the holder
    /// confirms directly.
    pub fn keep_only_what_applies(&mut self) {
        let typed = &mut self.typed;
        if parse(typed.kind.trim()) != Some(RequestKind::Nameservers) {
            typed.nameservers.clear();
        }
        let relation = parse(typed.relation.trim());
        if relation != Some(RequesterRelation::Signatory) {
            typed.company_uid.clear();
        }
        if relation != Some(RequesterRelation::Representative) {
            typed.holder_verifies = false;
            self.authorization = None;
        }
        if !typed.holder_verifies {
            typed.holder_name.clear();
            typed.holder_email.clear();
        } else {
            self.authorization = None;
        }
        if typed.proves_with_eid() {
            typed.id_document_type.clear();
            typed.send_anyway = false;
            self.id_front = None;
            self.id_back = None;
        }
    }
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
    Nameservers(crate::registry::domains::NameserverError),
    /// Only a representative can ask the holder to verify.
    HolderVerifiesNotForRelation,
    /// The holder's link goes only by mail, and no mail is configured.
    HolderVerificationNeedsMail,
    HolderNameMissing,
    HolderEmailMissing,
    HolderEmailInvalid,
    ConsentMissing,
    IdDocumentTypeInvalid,
    /// `proof` is neither `photos` nor `eid`.
    ProofInvalid,
    /// The e-ID is not offered here (`TRANSFER_DESK_EID_VERIFIER_DID` unset).
    EidNotOffered,
    /// Only the holder and a signatory can prove themselves with the e-ID on the form.
    EidNotForRelation,
    FrontMissing,
    AuthorizationMissing,
    Image(IntakeError),
    /// The photo may be hard to read; the requester may send it anyway.
    Quality(Vec<QualityProblem>),
    NothingAsked,
    DocumentMissing,
}

/// The fields of the pages' forms (the request form, the tracking page's document, the
/// holder's page), in the order a person meets them: problems are listed, and focus goes to
/// the first one, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Kind,
    Domain,
    Nameservers,
    Relation,
    FullName,
    Email,
    Phone,
    CompanyUid,
    HolderVerifies,
    HolderName,
    HolderEmail,
    Proof,
    IdDocumentType,
    IdFront,
    IdBack,
    Authorization,
    SendAnyway,
    Consent,
    Document,
    HolderIdDocumentType,
    HolderIdFront,
    HolderIdBack,
    Reason,
}

impl Field {
    /// The field's name in the form and in the API's answers.
    pub fn name(self) -> &'static str {
        match self {
            Field::Domain => "domain",
            Field::FullName => "full_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Relation => "relation",
            Field::CompanyUid => "company_uid",
            Field::Kind => "kind",
            Field::Nameservers => "nameservers",
            Field::HolderVerifies => "holder_verifies",
            Field::HolderName => "holder_name",
            Field::HolderEmail => "holder_email",
            Field::IdDocumentType => "id_document_type",
            Field::Proof => "proof",
            Field::HolderIdDocumentType => "holder_id_document_type",
            Field::IdFront => "id_front",
            Field::IdBack => "id_back",
            Field::Authorization => "authorization",
            Field::SendAnyway => "send_anyway",
            Field::Consent => "consent",
            Field::Document => "document",
            Field::HolderIdFront => "holder_id_front",
            Field::HolderIdBack => "holder_id_back",
            Field::Reason => "reason",
        }
    }
}

/// Problems by field.
pub type FieldErrors = BTreeMap<Field, FieldProblem>;

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
    #[error("cannot start the e-ID session: {0}")]
    Eid(#[from] super::eid::sessions::SessionError),
}

impl SubmitError {
    /// The one field that is wrong, and why.
    pub fn in_field(field: Field, problem: FieldProblem) -> Self {
        SubmitError::Invalid(FieldErrors::from([(field, problem)]))
    }
}

pub struct Submitted {
    pub request_id: Uuid,
    pub tracking_token: TrackingToken,
    pub state: RequestState,
    /// The wallet session, when the requester proves who they are with the e-ID.
    pub eid_session: Option<super::eid::sessions::NewSession>,
}

/// How long the holder's private link stays valid.
pub const HOLDER_LINK_DAYS: i64 = 7;

/// A value as stored (`"needs_document"`, `"id_front"`), if it is one.
pub fn parse<E: ActiveEnum<Value = String>>(text: &str) -> Option<E> {
    E::try_from_value(&text.to_owned()).ok()
}

/// Which identity document a person said they photographed: nothing said, or one of the
/// kinds the form offers.
pub fn said_document_type(typed: &str) -> Result<Option<IdDocumentType>, FieldProblem> {
    match typed.trim() {
        "" => Ok(None),
        typed => parse(typed)
            .map(Some)
            .ok_or(FieldProblem::IdDocumentTypeInvalid),
    }
}

/// The documents a requester provides (and can be asked for again); the holder's own are
/// uploaded on the holder's page.
pub const REQUESTER_DOCUMENTS: [DocumentKind; 3] = [
    DocumentKind::IdFront,
    DocumentKind::IdBack,
    DocumentKind::Authorization,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_parse_back_and_nothing_else_does() {
        assert_eq!(
            parse::<RequestState>("needs_document"),
            Some(RequestState::NeedsDocument)
        );
        assert_eq!(parse::<DocumentKind>("id_back"), Some(DocumentKind::IdBack));
        assert_eq!(parse::<RequestState>("Submitted"), None);
        assert_eq!(parse::<RequesterRelation>(""), None);
    }

    fn upload() -> Option<Upload> {
        Some(Upload {
            bytes: Zeroizing::new(vec![1, 2, 3]),
        })
    }

    /// A form in which someone typed into every field before settling on `relation`.
    fn everything_typed(relation: &str, holder_verifies: bool) -> SubmissionInput {
        SubmissionInput {
            typed: TypedValues {
                relation: relation.into(),
                kind: "transfer_code".into(),
                nameservers: "ns1.example.net".into(),
                company_uid: "CHE-123.456.788".into(),
                holder_verifies,
                holder_name: "Anna Muster".into(),
                holder_email: "anna@example.com".into(),
                ..TypedValues::default()
            },
            authorization: upload(),
            ..SubmissionInput::default()
        }
    }

    #[test]
    fn a_holder_keeps_none_of_the_other_relations_fields() {
        let mut input = everything_typed("holder", true);
        input.keep_only_what_applies();
        let typed = &input.typed;
        assert!(typed.company_uid.is_empty() && typed.nameservers.is_empty());
        assert!(!typed.holder_verifies && typed.holder_name.is_empty());
        assert!(typed.holder_email.is_empty() && input.authorization.is_none());
    }

    #[test]
    fn a_representative_keeps_either_the_letter_or_the_holders_details() {
        let mut with_letter = everything_typed("representative", false);
        with_letter.keep_only_what_applies();
        assert!(with_letter.authorization.is_some());
        assert!(with_letter.typed.holder_name.is_empty());
        assert!(with_letter.typed.company_uid.is_empty());

        let mut confirming = everything_typed("representative", true);
        confirming.keep_only_what_applies();
        assert!(confirming.authorization.is_none());
        assert_eq!(confirming.typed.holder_name, "Anna Muster");
        assert_eq!(confirming.typed.holder_email, "anna@example.com");
    }

    #[test]
    fn a_signatory_keeps_the_uid_and_a_nameserver_change_its_hosts() {
        let mut input = everything_typed("signatory", false);
        input.typed.kind = "nameservers".into();
        input.keep_only_what_applies();
        assert_eq!(input.typed.company_uid, "CHE-123.456.788");
        assert_eq!(input.typed.nameservers, "ns1.example.net");
        assert!(input.authorization.is_none());
    }
}
