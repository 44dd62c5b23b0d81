//! One migration per schema change; never edited once released (`db::tests` holds the schema
//! they make). Each is a list of changes: `up` makes them in order, `down` undoes them in
//! reverse order. Tables and columns are named as the database names them, once each: a
//! migration is history, so it does not follow the entities' later names.

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
mod m0011_holder_document_type;
mod m0012_passkey_enrolment;
mod m0013_zone_attempts;
mod m0014_event_salts;
mod m0015_eid;
mod m0016_registry_refusal;
mod m0017_eid_session_refusals;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        macro_rules! planned {
            ($($module:ident),*) => {
                vec![$(Box::new(Planned {
                    name: stringify!($module),
                    changes: $module::changes,
                }) as Box<dyn MigrationTrait>),*]
            };
        }
        planned![
            m0001_requests,
            m0002_review,
            m0003_evidence_links_notices,
            m0004_kinds_holders_messages,
            m0005_document_blobs_queue_indexes,
            m0006_side_doors,
            m0007_tracking_welcome,
            m0008_passkeys,
            m0009_audit_log,
            m0010_document_zones,
            m0011_holder_document_type,
            m0012_passkey_enrolment,
            m0013_zone_attempts,
            m0014_event_salts,
            m0015_eid,
            m0016_registry_refusal,
            m0017_eid_session_refusals
        ]
    }
}

/// A migration: its name as databases record it (the module's), and its changes.
struct Planned {
    name: &'static str,
    changes: fn() -> Vec<Change>,
}

impl MigrationName for Planned {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Planned {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for change in (self.changes)() {
            change.make(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for change in (self.changes)().into_iter().rev() {
            change.undo(manager).await?;
        }
        Ok(())
    }
}

/// One change to the schema.
#[derive(Clone)]
enum Change {
    Table(TableCreateStatement),
    Index {
        name: &'static str,
        table: DynIden,
        create: IndexCreateStatement,
    },
    /// One column added to a table (SQLite alters one column per statement).
    Column(DynIden, ColumnDef),
    /// Brings the rows already there in line with columns just added; undone with them.
    Data(&'static str),
}

/// A table named `name` with `columns`.
fn table(name: &'static str, columns: impl IntoIterator<Item = ColumnDef>) -> Change {
    let mut create = Table::create();
    create.table(name);
    for mut column in columns {
        create.col(&mut column);
    }
    Change::Table(create)
}

/// `definitions` added to `table`, one change each.
fn columns(table: impl IntoIden, definitions: impl IntoIterator<Item = ColumnDef>) -> Vec<Change> {
    let table = table.into_iden();
    definitions
        .into_iter()
        .map(|definition| Change::Column(table.clone(), definition))
        .collect()
}

/// An index named `name` on `columns` of `table`.
fn index<C: IntoIndexColumn>(
    name: &'static str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> Change {
    let table = table.into_iden();
    let mut create = Index::create();
    create.name(name).table(table.clone());
    for column in columns {
        create.col(column);
    }
    Change::Index {
        name,
        table,
        create,
    }
}

impl Change {
    /// The index allows each value once.
    fn unique(mut self) -> Self {
        if let Change::Index { create, .. } = &mut self {
            create.unique();
        }
        self
    }

    /// The index holds only the rows where `column` is set (a partial index).
    fn where_set(mut self, column: impl IntoIden) -> Self {
        if let Change::Index { create, .. } = &mut self {
            create.and_where(Expr::col(column.into_iden()).is_not_null());
        }
        self
    }

    /// The table's key is `columns` together.
    fn keyed_by<const N: usize>(mut self, columns: [&'static str; N]) -> Self {
        if let Change::Table(create) = &mut self {
            let mut key = Index::create();
            for column in columns {
                key.col(column);
            }
            create.primary_key(&mut key);
        }
        self
    }

    /// The table's `column` holds the `id` of a row of `parent`.
    fn refers(mut self, column: &'static str, parent: &'static str) -> Self {
        if let Change::Table(create) = &mut self {
            let table = create.get_table_name().cloned();
            let mut key = ForeignKey::create();
            if let Some(table) = table {
                key.from_tbl(table);
            }
            key.from_col(column).to(parent, "id");
            create.foreign_key(&mut key);
        }
        self
    }

    async fn make(self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        match self {
            Change::Table(create) => manager.create_table(create).await,
            Change::Index { create, .. } => manager.create_index(create).await,
            Change::Column(table, mut column) => {
                let mut alter = Table::alter();
                alter.table(table).add_column(&mut column);
                manager.alter_table(alter).await
            }
            Change::Data(statement) => manager
                .get_connection()
                .execute_unprepared(statement)
                .await
                .map(|_| ()),
        }
    }

    async fn undo(self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        match self {
            Change::Table(create) => {
                let name = create
                    .get_table_name()
                    .ok_or_else(|| DbErr::Migration("a table without a name".into()))?;
                manager
                    .drop_table(Table::drop().table(name.clone()).to_owned())
                    .await
            }
            Change::Index { name, table, .. } => {
                manager
                    .drop_index(Index::drop().name(name).table(table).to_owned())
                    .await
            }
            Change::Column(table, column) => {
                let mut alter = Table::alter();
                alter.table(table).drop_column(column.get_column_name());
                manager.alter_table(alter).await
            }
            Change::Data(_) => Ok(()),
        }
    }
}
