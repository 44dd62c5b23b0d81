use sea_orm::entity::prelude::*;

/// One e-ID presentation a wallet is asked for: 15 minutes, single use.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "eid_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    /// Whose identity the session proves: the requester's or the holder's.
    pub subject: crate::enums::EidSubject,
    /// The nonce the key binding must carry; emptied once answered or expired.
    pub nonce: String,
    /// The OAuth `state` the answer must carry; emptied with the nonce.
    pub oauth_state: String,
    /// The session's ECDH private key, sealed under the master key; deleted once answered.
    pub sealed_key: Option<Vec<u8>>,
    /// The hash of the secret the browser that started the session holds in a cookie.
    pub browser_binding_hash: Option<Vec<u8>>,
    /// The wallet fetched the request through the same-device link: the answer counts only
    /// once the browser that started the session brings back the response code.
    pub same_device: bool,
    pub created_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
    /// The hash of the response code handed to a same-device wallet's redirect.
    pub response_code_hash: Option<Vec<u8>>,
    /// Answers refused so far; past `MAX_REFUSED_ANSWERS` the session is closed.
    pub refused_answers: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
