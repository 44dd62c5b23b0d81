//! The kind of identity document the holder said they photographed, as the requester's
//! (m0010): the zone's kind is checked against it.

use sea_orm_migration::{prelude::*, schema::*};

use super::{columns, Change};

#[derive(DeriveIden)]
enum Requests {
    Table,
    HolderIdDocumentType,
}

pub(super) fn changes() -> Vec<Change> {
    columns(
        Requests::Table,
        [string_null(Requests::HolderIdDocumentType)],
    )
}
