//! A request's kind (a transfer code or a nameserver change) and the nameservers asked for;
//! the current nameservers of a domain from the portfolio; the holder who verifies
//! directly (their name, address and private link); and the mark of a requester's message
//! that no reviewer has answered yet; the standard reason of a decision as a message key, so
//! that each reader reads it in their own language; the requester's language; the "this was
//! not me" objection of the registrant on file; the outbox of mails; and the master-key
//! version a document's key is wrapped under after a rotation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Requests {
    Table,
    Kind,
    Nameservers,
    HolderName,
    HolderEmail,
    HolderTokenHash,
    HolderLinkExpiresAt,
    HolderAnsweredAt,
    AwaitingReplySince,
    Language,
    ObjectionTokenHash,
    ObjectedAt,
    ObjectionHandledAt,
}

#[derive(DeriveIden)]
enum OutboxMails {
    Table,
    Id,
    RequestId,
    Kind,
    Recipient,
    Language,
    Subject,
    Body,
    SealedLink,
    CreatedAt,
    NextAttemptAt,
    Attempts,
    SentAt,
    FailedAt,
    LastError,
}

#[derive(DeriveIden)]
enum Decisions {
    Table,
    ReasonKey,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    WrapVersion,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Nameservers,
}

const HOLDER_TOKEN_INDEX: &str = "idx_requests_holder_token_hash";
const OBJECTION_TOKEN_INDEX: &str = "idx_requests_objection_token_hash";
const OUTBOX_DUE_INDEX: &str = "idx_outbox_mails_due";

/// The added columns, one statement each (SQLite alters one column at a time).
fn added_columns() -> Vec<(DynIden, ColumnDef)> {
    let requests = || Requests::Table.into_iden();
    vec![
        (
            requests(),
            string(Requests::Kind).default("transfer_code").to_owned(),
        ),
        (requests(), text_null(Requests::Nameservers)),
        (requests(), string_null(Requests::HolderName)),
        (requests(), string_null(Requests::HolderEmail)),
        (requests(), blob_null(Requests::HolderTokenHash)),
        (
            requests(),
            timestamp_with_time_zone_null(Requests::HolderLinkExpiresAt),
        ),
        (
            requests(),
            timestamp_with_time_zone_null(Requests::HolderAnsweredAt),
        ),
        (
            requests(),
            timestamp_with_time_zone_null(Requests::AwaitingReplySince),
        ),
        (
            requests(),
            string(Requests::Language).default("en").to_owned(),
        ),
        (requests(), blob_null(Requests::ObjectionTokenHash)),
        (
            requests(),
            timestamp_with_time_zone_null(Requests::ObjectedAt),
        ),
        (
            requests(),
            timestamp_with_time_zone_null(Requests::ObjectionHandledAt),
        ),
        (Domains::Table.into_iden(), text_null(Domains::Nameservers)),
        (
            Decisions::Table.into_iden(),
            string_null(Decisions::ReasonKey),
        ),
        (
            Documents::Table.into_iden(),
            integer_null(Documents::WrapVersion),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::add_columns(manager, added_columns()).await?;
        for (name, column) in [
            (HOLDER_TOKEN_INDEX, Requests::HolderTokenHash),
            (OBJECTION_TOKEN_INDEX, Requests::ObjectionTokenHash),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Requests::Table)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OutboxMails::Table)
                    .col(uuid(OutboxMails::Id).primary_key())
                    .col(uuid_null(OutboxMails::RequestId))
                    .col(string(OutboxMails::Kind))
                    .col(string(OutboxMails::Recipient))
                    .col(string(OutboxMails::Language))
                    .col(string(OutboxMails::Subject))
                    .col(text(OutboxMails::Body))
                    .col(blob_null(OutboxMails::SealedLink))
                    .col(timestamp_with_time_zone(OutboxMails::CreatedAt))
                    .col(timestamp_with_time_zone(OutboxMails::NextAttemptAt))
                    .col(integer(OutboxMails::Attempts))
                    .col(timestamp_with_time_zone_null(OutboxMails::SentAt))
                    .col(timestamp_with_time_zone_null(OutboxMails::FailedAt))
                    .col(text_null(OutboxMails::LastError))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(OUTBOX_DUE_INDEX)
                    .table(OutboxMails::Table)
                    .col(OutboxMails::SentAt)
                    .col(OutboxMails::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxMails::Table).to_owned())
            .await?;
        for name in [HOLDER_TOKEN_INDEX, OBJECTION_TOKEN_INDEX] {
            manager
                .drop_index(Index::drop().name(name).table(Requests::Table).to_owned())
                .await?;
        }
        super::drop_columns(manager, added_columns()).await
    }
}
