use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub registrant_name: String,
    pub registrant_email: String,
    pub registrant_phone: Option<String>,
    pub imported_at: DateTimeUtc,
    /// The domain's current nameservers, one per line, when the portfolio provides them.
    pub nameservers: Option<String>,
    /// The registrant's language (`en`, `fr`, `de`, `it`) for the notices they receive.
    pub language: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
