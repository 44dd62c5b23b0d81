//! The `db` document store: one row per sealed document, for deployments of several
//! instances without shared storage. A row is inserted whole or not at all.

use std::io;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use entities::document_blob;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

#[derive(Clone, Debug)]
pub struct DatabaseStore {
    db: DatabaseConnection,
}

fn failed(error: sea_orm::DbErr) -> io::Error {
    io::Error::other(error.to_string())
}

impl DatabaseStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn row(name: &str, sealed: Vec<u8>) -> document_blob::ActiveModel {
        document_blob::ActiveModel {
            storage_name: Set(name.to_owned()),
            sealed: Set(sealed),
            created_at: Set(Utc::now()),
        }
    }

    pub async fn put(&self, name: &str, sealed: Vec<u8>) -> io::Result<()> {
        document_blob::Entity::insert(Self::row(name, sealed))
            .exec_without_returning(&self.db)
            .await
            .map_err(failed)?;
        Ok(())
    }

    pub async fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        document_blob::Entity::find_by_id(name.to_owned())
            .select_only()
            .column(document_blob::Column::Sealed)
            .into_tuple::<Vec<u8>>()
            .one(&self.db)
            .await
            .map_err(failed)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such document"))
    }

    pub async fn remove(&self, name: &str) -> io::Result<()> {
        document_blob::Entity::delete_by_id(name.to_owned())
            .exec(&self.db)
            .await
            .map_err(failed)?;
        Ok(())
    }

    pub async fn entries_older_than(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        document_blob::Entity::find()
            .select_only()
            .column(document_blob::Column::StorageName)
            .filter(document_blob::Column::CreatedAt.lte(DateTime::<Utc>::from(cutoff)))
            .into_tuple::<String>()
            .all(&self.db)
            .await
            .map_err(failed)
    }

    /// Inserts a row and rolls it back.
    pub async fn probe(&self) -> io::Result<()> {
        let txn = crate::platform::db::begin_writing(&self.db)
            .await
            .map_err(failed)?;
        Self::row(&format!("probe-{}", uuid::Uuid::new_v4()), Vec::new())
            .insert(&txn)
            .await
            .map_err(failed)?;
        txn.rollback().await.map_err(failed)
    }
}
