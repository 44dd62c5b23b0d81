//! One migration per schema change; never edited once released.

use sea_orm_migration::prelude::*;

mod m0001_requests;
mod m0002_review;
mod m0003_evidence;
mod m0004_password_links;
mod m0005_company_uid;
mod m0006_incident_notices;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_requests::Migration),
            Box::new(m0002_review::Migration),
            Box::new(m0003_evidence::Migration),
            Box::new(m0004_password_links::Migration),
            Box::new(m0005_company_uid::Migration),
            Box::new(m0006_incident_notices::Migration),
        ]
    }
}
