//! What closing the side doors around the anti-hijack protections needs: when the holder's
//! link was actually mailed; a nameserver change held until the objection window has passed,
//! when it was carried out and what the nameservers were before; the count of a requester's
//! messages, bumped by one guarded update; the registrant's language in the portfolio; and
//! where a mail's link goes, as a paragraph number instead of a marker in the text.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Requests {
    Table,
    HolderLinkSentAt,
    HandOffDueAt,
    NameserversSetAt,
    PreviousNameservers,
    RequesterMessages,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Language,
}

#[derive(DeriveIden)]
enum OutboxMails {
    Table,
    LinkParagraph,
}

const HAND_OFF_DUE_INDEX: &str = "idx_requests_hand_off_due";

/// The added columns.
fn added_columns() -> Vec<(DynIden, ColumnDef)> {
    let requests = || Requests::Table.into_iden();
    vec![
        (
            requests(),
            timestamp_with_time_zone_null(Requests::HolderLinkSentAt),
        ),
        (
            requests(),
            timestamp_with_time_zone_null(Requests::HandOffDueAt),
        ),
        (
            requests(),
            timestamp_with_time_zone_null(Requests::NameserversSetAt),
        ),
        (requests(), text_null(Requests::PreviousNameservers)),
        (
            requests(),
            integer(Requests::RequesterMessages).default(0).to_owned(),
        ),
        (Domains::Table.into_iden(), string_null(Domains::Language)),
        (
            OutboxMails::Table.into_iden(),
            integer_null(OutboxMails::LinkParagraph),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::add_columns(manager, added_columns()).await?;
        // Messages sent before this migration count against the limit too.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE requests SET requester_messages = (SELECT COUNT(*) FROM request_events \
                 WHERE request_events.request_id = requests.id \
                 AND request_events.kind = 'message_from_requester')",
            )
            .await?;
        // Nameserver changes already carried out were set when they were decided.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE requests SET nameservers_set_at = decided_at \
                 WHERE kind = 'nameservers' AND state = 'approved'",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(HAND_OFF_DUE_INDEX)
                    .table(Requests::Table)
                    .col(Requests::HandOffDueAt)
                    .and_where(Expr::col(Requests::HandOffDueAt).is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(HAND_OFF_DUE_INDEX)
                    .table(Requests::Table)
                    .to_owned(),
            )
            .await?;
        super::drop_columns(manager, added_columns()).await
    }
}
