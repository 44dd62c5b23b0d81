use sea_orm::entity::prelude::*;

/// Append-only audit trail. Never holds document bytes, tokens, codes or passwords.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor: String,
    pub action: String,
    pub request_id: Option<Uuid>,
    pub detail: Option<String>,
    /// The event's place in the Merkle log, once sequenced, and its leaf hash then.
    pub leaf_index: Option<i64>,
    pub leaf_hash: Option<Vec<u8>>,
    /// Events of the log's encoding v1 (recorded before v2): the salt of the detail, to
    /// which the log commits as SHA-256(salt ‖ detail), never to the text itself.
    pub detail_salt: Option<Vec<u8>>,
    /// Events of the encoding v2: the event's own random salt, never published; the log
    /// commits to the actor and the detail only as hashes salted with it.
    pub salt: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
