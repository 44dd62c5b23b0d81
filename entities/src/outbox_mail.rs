use sea_orm::entity::prelude::*;

/// An email waiting to be sent, being retried, sent or given up. The one secret link a mail
/// may carry (a tracking, holder or objection link) is sealed under the master key and
/// erased once sent; `link_paragraph` says before which paragraph of the body it goes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_mails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Option<Uuid>,
    pub kind: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub sealed_link: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: DateTimeUtc,
    pub attempts: i32,
    pub sent_at: Option<DateTimeUtc>,
    /// When retrying was given up.
    pub failed_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// The paragraph (counted from 0, paragraphs separated by a blank line) the link is put
    /// before when the mail is sent; mails queued before this column hold a `[[link]]`
    /// paragraph instead.
    pub link_paragraph: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
