//! One migration per schema change; never edited once released.

use sea_orm_migration::prelude::*;

mod m0001_requests;
mod m0002_review;
mod m0003_evidence_links_notices;
mod m0004_kinds_holders_messages;
mod m0005_document_blobs_queue_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_requests::Migration),
            Box::new(m0002_review::Migration),
            Box::new(m0003_evidence_links_notices::Migration),
            Box::new(m0004_kinds_holders_messages::Migration),
            Box::new(m0005_document_blobs_queue_indexes::Migration),
        ]
    }
}
