use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub domain: String,
    pub requester_name: String,
    pub requester_email: String,
    pub requester_phone: Option<String>,
    pub relation: crate::enums::RequesterRelation,
    pub state: crate::enums::RequestState,
    #[sea_orm(unique)]
    pub tracking_token_hash: Vec<u8>,
    pub client_addr: Option<String>,
    pub consent_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The reviewer holding the exclusive review lease, until `claim_expires_at`.
    pub claimed_by: Option<Uuid>,
    pub claim_expires_at: Option<DateTimeUtc>,
    /// What the requester is asked for while the state is `needs_document`.
    pub requested_document: Option<crate::enums::DocumentKind>,
    pub requested_note: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    /// Public key (derived from the tracking token) that an issued code is sealed to.
    pub code_recipient_key: Option<Vec<u8>>,
    /// When the requester's name, email, phone and address were erased (evidence period
    /// over); only the evidence record remains.
    pub personal_data_erased_at: Option<DateTimeUtc>,
    /// For a signatory: the holder company's Swiss UID (`CHE-123.456.788`).
    pub company_uid: Option<String>,
    pub kind: crate::enums::RequestKind,
    /// For a nameserver change: the host names asked for, one per line.
    pub nameservers: Option<String>,
    /// When the holder verifies directly: the holder's name and address as the requester
    /// gave them, the hash of the holder's private link, its end, and when they answered.
    pub holder_name: Option<String>,
    pub holder_email: Option<String>,
    pub holder_token_hash: Option<Vec<u8>>,
    pub holder_link_expires_at: Option<DateTimeUtc>,
    pub holder_answered_at: Option<DateTimeUtc>,
    /// Since when a message from the requester waits for a reviewer's answer.
    pub awaiting_reply_since: Option<DateTimeUtc>,
    /// The requester's language (`en`, `fr`, `de`, `it`), for the mails they receive.
    pub language: String,
    /// The hash of the "this was not me" link sent to the registrant on approval.
    pub objection_token_hash: Option<Vec<u8>>,
    /// When the registrant on file objected (the code was cancelled), and when a reviewer
    /// dealt with it.
    pub objected_at: Option<DateTimeUtc>,
    pub objection_handled_at: Option<DateTimeUtc>,
    /// When the holder's private link was handed to their mail server.
    pub holder_link_sent_at: Option<DateTimeUtc>,
    /// An approved nameserver change waits for the registrant's objection window: it is
    /// handed to the registry at this time, unless the registrant objects first.
    pub hand_off_due_at: Option<DateTimeUtc>,
    /// When the registry set the nameservers of an approved change.
    pub nameservers_set_at: Option<DateTimeUtc>,
    /// The nameservers before the change (from the portfolio), one per line: what an
    /// objection restores.
    pub previous_nameservers: Option<String>,
    /// Messages the requester sent, counted by one guarded update per message.
    pub requester_messages: i32,
    /// When the requester first saw their tracking page (with the welcome box).
    pub welcomed_at: Option<DateTimeUtc>,
    /// The kind of identity document the requester said they photographed, if they said.
    pub id_document_type: Option<crate::enums::IdDocumentType>,
    /// The kind of identity document the holder said they photographed, if they said.
    pub holder_id_document_type: Option<crate::enums::IdDocumentType>,
    /// The registry's last permanent refusal of a hand-off for this request (its own message,
    /// for staff only) and when; cleared when a later hand-off succeeds, when the request is
    /// decided, or when a reviewer has dealt with it.
    pub registry_refusal: Option<String>,
    pub registry_refused_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::document::Entity")]
    Document,
    #[sea_orm(has_many = "super::request_event::Entity")]
    RequestEvent,
}

impl Related<super::document::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Document.def()
    }
}

impl Related<super::request_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RequestEvent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
