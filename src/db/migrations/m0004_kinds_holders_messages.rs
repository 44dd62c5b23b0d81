//! A request's kind (a transfer code or a nameserver change) and the nameservers asked for;
//! the current nameservers of a domain from the portfolio; the holder who verifies
//! directly (their name, address and private link); and the mark of a requester's message
//! that no reviewer has answered yet; the standard reason of a decision as a message key, so
//! that each reader reads it in their own language.

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
}

#[derive(DeriveIden)]
enum Decisions {
    Table,
    ReasonKey,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Nameservers,
}

const HOLDER_TOKEN_INDEX: &str = "idx_requests_holder_token_hash";

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
        (Domains::Table.into_iden(), text_null(Domains::Nameservers)),
        (
            Decisions::Table.into_iden(),
            string_null(Decisions::ReasonKey),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in added_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(HOLDER_TOKEN_INDEX)
                    .table(Requests::Table)
                    .col(Requests::HolderTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(HOLDER_TOKEN_INDEX)
                    .table(Requests::Table)
                    .to_owned(),
            )
            .await?;
        for (table, column) in added_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(column.get_column_name())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
