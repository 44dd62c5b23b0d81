use sea_orm::entity::prelude::*;

/// The desk's e-ID verifier key (ES256, P-256): its public JWK, and its private key
/// (PKCS#8) sealed under the master key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "eid_verifier_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub public_jwk: String,
    pub sealed_private: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
