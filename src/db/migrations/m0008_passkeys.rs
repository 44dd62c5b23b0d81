//! Reviewers' passkeys (WebAuthn credentials, each with its signature counter), the state of
//! passkey ceremonies under way (kept here, never in a cookie), and when a session last
//! proved itself with a passkey, and with which.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    ReviewerId,
    Name,
    CredentialId,
    Credential,
    SignCount,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyCeremonies {
    Table,
    IdHash,
    Purpose,
    ReviewerId,
    SessionHash,
    State,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    PasskeyAt,
    PasskeyId,
}

const REVIEWER_INDEX: &str = "idx_passkeys_reviewer";

fn added_columns() -> Vec<(DynIden, ColumnDef)> {
    vec![
        (
            Sessions::Table.into_iden(),
            timestamp_with_time_zone_null(Sessions::PasskeyAt),
        ),
        (Sessions::Table.into_iden(), uuid_null(Sessions::PasskeyId)),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(pk_uuid(Passkeys::Id))
                    .col(uuid(Passkeys::ReviewerId))
                    .col(string(Passkeys::Name))
                    .col(blob(Passkeys::CredentialId).unique_key())
                    .col(text(Passkeys::Credential))
                    .col(big_integer(Passkeys::SignCount))
                    .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(REVIEWER_INDEX)
                    .table(Passkeys::Table)
                    .col(Passkeys::ReviewerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasskeyCeremonies::Table)
                    .col(blob(PasskeyCeremonies::IdHash).primary_key())
                    .col(string(PasskeyCeremonies::Purpose))
                    .col(uuid_null(PasskeyCeremonies::ReviewerId))
                    .col(blob_null(PasskeyCeremonies::SessionHash))
                    .col(text(PasskeyCeremonies::State))
                    .col(timestamp_with_time_zone(PasskeyCeremonies::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        super::add_columns(manager, added_columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::drop_columns(manager, added_columns()).await?;
        for table in [
            PasskeyCeremonies::Table.into_iden(),
            Passkeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
