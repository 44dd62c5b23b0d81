//! One-time links also set a named reviewer's password (invitations and resets), not only
//! create the first admin: such a link names its reviewer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SetupTokens {
    Table,
    ReviewerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SetupTokens::Table)
                    .add_column(uuid_null(SetupTokens::ReviewerId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SetupTokens::Table)
                    .drop_column(SetupTokens::ReviewerId)
                    .to_owned(),
            )
            .await
    }
}
