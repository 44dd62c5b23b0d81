//! The typed values of string columns: a wrong value cannot be written, and the stored
//! strings (which the API also shows) stay as they were.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Where a request stands. The allowed moves between states are in `workflow::state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Received (or completed with a new document), waiting for a reviewer.
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// A reviewer asked the requester for a new document.
    #[sea_orm(string_value = "needs_document")]
    NeedsDocument,
    /// The holder was asked to verify through their own private link.
    #[sea_orm(string_value = "awaiting_holder")]
    AwaitingHolder,
    /// The requester chose to prove who they are with the e-ID; their wallet has not
    /// answered yet.
    #[sea_orm(string_value = "awaiting_eid")]
    AwaitingEid,
    /// The final approval won; the code is being handed to the registry.
    #[sea_orm(string_value = "issuing")]
    Issuing,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Not decided within the retention period; shredded.
    #[sea_orm(string_value = "expired")]
    Expired,
}

/// The requester's standing towards the domain's registrant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum RequesterRelation {
    #[sea_orm(string_value = "holder")]
    Holder,
    #[sea_orm(string_value = "representative")]
    Representative,
    /// An authorised signatory of the holder company, as the commercial register shows.
    #[sea_orm(string_value = "signatory")]
    Signatory,
}

/// Which document an upload is; the value is also its form field.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    #[sea_orm(string_value = "id_front")]
    IdFront,
    #[sea_orm(string_value = "id_back")]
    IdBack,
    #[sea_orm(string_value = "authorization")]
    Authorization,
    /// The holder's own identity document, uploaded on the holder's page.
    #[sea_orm(string_value = "holder_id_front")]
    HolderIdFront,
    #[sea_orm(string_value = "holder_id_back")]
    HolderIdBack,
}

impl DocumentKind {
    /// An identity document (the requester's or the holder's), which may carry a
    /// machine-readable zone; the authorisation letter does not.
    pub fn is_identity(self) -> bool {
        !matches!(self, DocumentKind::Authorization)
    }
}

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// The domain's transfer code (auth code, EPP code).
    #[sea_orm(string_value = "transfer_code")]
    TransferCode,
    /// New nameservers for the domain, so that it points to another host.
    #[sea_orm(string_value = "nameservers")]
    Nameservers,
}

/// The kind of identity document a requester says they photographed: passports and
/// identity cards carry a machine-readable zone, other documents may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum IdDocumentType {
    #[sea_orm(string_value = "passport")]
    Passport,
    #[sea_orm(string_value = "identity_card")]
    IdentityCard,
    /// A driving licence, a residence permit or another official photo document.
    #[sea_orm(string_value = "other")]
    Other,
}

/// How far reading an identity document's machine-readable zone got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ZoneStatus {
    /// Waiting for an OCR slot.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// An instance is reading it (since `zone_updated_at`).
    #[sea_orm(string_value = "reading")]
    Reading,
    /// A zone was found; it is in `sealed_zone`.
    #[sea_orm(string_value = "read")]
    Read,
    /// The OCR tool ran and found no zone.
    #[sea_orm(string_value = "not_found")]
    NotFound,
    /// No OCR tool was installed (or it was turned off) when the document came in.
    #[sea_orm(string_value = "no_ocr")]
    NoOcr,
    /// The OCR tool failed or took too long.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Whose identity an e-ID presentation proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum EidSubject {
    /// The requester (a holder or a signatory, for themselves).
    #[sea_orm(string_value = "requester")]
    Requester,
    /// The holder who verifies directly, on their own page.
    #[sea_orm(string_value = "holder")]
    Holder,
}
