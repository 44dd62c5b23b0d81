//! When a decided request's personal data were erased, leaving only the evidence record;
//! an index for the sweeper's search for requests due to be erased.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Requests {
    Table,
    DecidedAt,
    PersonalDataErasedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Requests::Table)
                    .add_column(timestamp_with_time_zone_null(
                        Requests::PersonalDataErasedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_requests_decided_at")
                    .table(Requests::Table)
                    .col(Requests::DecidedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_requests_decided_at")
                    .table(Requests::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Requests::Table)
                    .drop_column(Requests::PersonalDataErasedAt)
                    .to_owned(),
            )
            .await
    }
}
