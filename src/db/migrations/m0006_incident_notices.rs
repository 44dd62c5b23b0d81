//! The host's incident notices.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncidentNotices {
    Table,
    Id,
    Severity,
    Texts,
    StartsAt,
    EndsAt,
    UpdatedAt,
    CreatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IncidentNotices::Table)
                    .col(uuid(IncidentNotices::Id).primary_key())
                    .col(string(IncidentNotices::Severity))
                    .col(text(IncidentNotices::Texts))
                    .col(timestamp_with_time_zone(IncidentNotices::StartsAt))
                    .col(timestamp_with_time_zone(IncidentNotices::EndsAt))
                    .col(timestamp_with_time_zone(IncidentNotices::UpdatedAt))
                    .col(string(IncidentNotices::CreatedBy))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IncidentNotices::Table).to_owned())
            .await
    }
}
