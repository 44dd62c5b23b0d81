use sea_orm::entity::prelude::*;

/// The evidence kept of a decision: who decided what, when, on which documents, and why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: Uuid,
    /// `None` for decisions the system takes (expiry).
    pub reviewer_id: Option<Uuid>,
    pub reviewer_name: String,
    pub outcome: crate::enums::RequestState,
    /// The decider's own words (free text, shown as written).
    pub reason: Option<String>,
    /// A standard reason's message key (`reason-…`), read in the reader's language.
    pub reason_key: Option<String>,
    /// Kinds of the documents the decision was taken on, comma-separated.
    pub document_kinds: String,
    pub decided_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
