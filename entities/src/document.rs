use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    pub kind: crate::enums::DocumentKind,
    pub format_version: i32,
    pub algorithm: String,
    /// The master-key version the document was sealed under (bound into its ciphertext).
    pub key_version: i32,
    /// The version its data key is wrapped under now, after a rotation; `None`: `key_version`.
    pub wrap_version: Option<i32>,
    /// `None` once the document has been crypto-shredded.
    pub wrapped_key: Option<Vec<u8>>,
    pub storage_name: String,
    pub width: i32,
    pub height: i32,
    pub byte_len: i64,
    /// Fraud-relevant facts about the original upload, as JSON.
    pub signals: String,
    pub created_at: DateTimeUtc,
    pub shredded_at: Option<DateTimeUtc>,
    /// SHA-256 of the sealed file, as written (none for documents from before it was kept).
    pub sealed_sha256: Option<Vec<u8>>,
    /// How far reading the machine-readable zone got (none for a letter, or from before).
    pub zone_status: Option<crate::enums::ZoneStatus>,
    /// The zone as read, sealed under the document's data key (shredded with it).
    pub sealed_zone: Option<Vec<u8>>,
    /// When `zone_status` last changed.
    pub zone_updated_at: Option<DateTimeUtc>,
    /// Readings of the zone begun since one last finished: counted as each begins, so that a
    /// reading the service did not live to finish counts too.
    pub zone_attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::request::Entity",
        from = "Column::RequestId",
        to = "super::request::Column::Id"
    )]
    Request,
}

impl Related<super::request::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Request.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
