//! When a requester first saw their tracking page: the welcome box (with the private link
//! to save) shows on that first view only, however often a bookmark of it is opened.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Requests {
    Table,
    WelcomedAt,
}

fn added_columns() -> Vec<(DynIden, ColumnDef)> {
    vec![(
        Requests::Table.into_iden(),
        timestamp_with_time_zone_null(Requests::WelcomedAt),
    )]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::add_columns(manager, added_columns()).await?;
        // Requests made before this migration had their first view already.
        manager
            .get_connection()
            .execute_unprepared("UPDATE requests SET welcomed_at = created_at")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::drop_columns(manager, added_columns()).await
    }
}
