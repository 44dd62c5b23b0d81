//! One migration per schema change; never edited once released.

use sea_orm_migration::prelude::*;

mod m0001_requests;
mod m0002_review;
mod m0003_evidence_links_notices;
mod m0004_kinds_holders_messages;
mod m0005_document_blobs_queue_indexes;
mod m0006_side_doors;
mod m0007_tracking_welcome;
mod m0008_passkeys;
mod m0009_audit_log;
mod m0010_document_zones;

pub struct Migrator;

/// Adds each column with its own statement (SQLite alters one column at a time).
async fn add_columns(
    manager: &SchemaManager<'_>,
    columns: Vec<(DynIden, ColumnDef)>,
) -> Result<(), DbErr> {
    for (table, mut column) in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// Drops the columns [`add_columns`] added.
async fn drop_columns(
    manager: &SchemaManager<'_>,
    columns: Vec<(DynIden, ColumnDef)>,
) -> Result<(), DbErr> {
    for (table, column) in columns {
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

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_requests::Migration),
            Box::new(m0002_review::Migration),
            Box::new(m0003_evidence_links_notices::Migration),
            Box::new(m0004_kinds_holders_messages::Migration),
            Box::new(m0005_document_blobs_queue_indexes::Migration),
            Box::new(m0006_side_doors::Migration),
            Box::new(m0007_tracking_welcome::Migration),
            Box::new(m0008_passkeys::Migration),
            Box::new(m0009_audit_log::Migration),
            Box::new(m0010_document_zones::Migration),
        ]
    }
}
