use sea_orm::entity::prelude::*;

/// What an e-ID presentation proved, and nothing more: the disclosed names, the issuer, the
/// credential type, when, and the SHA-256 of the issuer-signed credential; with the signals
/// the names fired against the name typed and the registrant on file.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "eid_proofs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_id: Uuid,
    pub request_id: Uuid,
    pub subject: crate::enums::EidSubject,
    pub given_name: String,
    pub family_name: String,
    pub issuer_did: String,
    pub vct: String,
    pub credential_digest: Vec<u8>,
    pub proven_at: DateTimeUtc,
    /// The disclosed names are not the name typed on the form (the requester's own, or the
    /// holder's as the requester gave it).
    pub name_differs_from_typed: bool,
    /// The person should be the registrant on file, and the names are not the registrant's.
    pub name_differs_from_registrant: bool,
    /// When the proof counted for the request; `None` while a same-device answer waits for
    /// the browser that started it (it never counts otherwise).
    pub accepted_at: Option<DateTimeUtc>,
}

impl Model {
    /// How many signals the names fired (they count towards four-eyes as the zone's do).
    pub fn signals_fired(&self) -> usize {
        usize::from(self.name_differs_from_typed) + usize::from(self.name_differs_from_registrant)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
