//! One migration per schema change; never edited once released.

use sea_orm_migration::prelude::*;

mod m0001_requests;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_requests::Migration)]
    }
}
