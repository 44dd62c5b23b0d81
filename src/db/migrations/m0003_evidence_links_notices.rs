//! Evidence retention (when a decided request's personal data were erased, and an index to
//! find those due), one-time password links for named reviewers, the company UID of a
//! signatory, and the host's incident notices.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Requests {
    Table,
    DecidedAt,
    PersonalDataErasedAt,
    CompanyUid,
}

#[derive(DeriveIden)]
enum SetupTokens {
    Table,
    ReviewerId,
}

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

const DECIDED_INDEX: &str = "idx_requests_decided_at";

/// The added columns, one statement each (SQLite alters one column at a time).
fn added_columns() -> Vec<(DynIden, ColumnDef)> {
    vec![
        (
            Requests::Table.into_iden(),
            timestamp_with_time_zone_null(Requests::PersonalDataErasedAt),
        ),
        (
            Requests::Table.into_iden(),
            string_null(Requests::CompanyUid),
        ),
        (
            SetupTokens::Table.into_iden(),
            uuid_null(SetupTokens::ReviewerId),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::add_columns(manager, added_columns()).await?;
        manager
            .create_index(
                Index::create()
                    .name(DECIDED_INDEX)
                    .table(Requests::Table)
                    .col(Requests::DecidedAt)
                    .to_owned(),
            )
            .await?;
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
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(DECIDED_INDEX)
                    .table(Requests::Table)
                    .to_owned(),
            )
            .await?;
        super::drop_columns(manager, added_columns()).await
    }
}
