use sea_orm::entity::prelude::*;

/// The host's notice about an incident, shown on the public pages while it is live.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `info`, `warning` or `outage`.
    pub severity: String,
    /// Title and text per language, as JSON: `{"en": {"title": …, "text": …}, "fr": …}`.
    pub texts: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
