//! The machine-readable zone of identity documents: how far reading it got, what it said
//! (sealed under the document's own data key, so it is shredded with the document), and the
//! kind of document the requester said they photographed.

use sea_orm_migration::{prelude::*, schema::*};

use super::{columns, Change};

#[derive(DeriveIden)]
enum Documents {
    Table,
    ZoneStatus,
    SealedZone,
    ZoneUpdatedAt,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    IdDocumentType,
}

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            Documents::Table,
            [
                string_null(Documents::ZoneStatus),
                blob_null(Documents::SealedZone),
                timestamp_with_time_zone_null(Documents::ZoneUpdatedAt),
            ],
        ),
        columns(Requests::Table, [string_null(Requests::IdDocumentType)]),
    ]
    .concat()
}
