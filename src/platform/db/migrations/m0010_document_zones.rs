//! The machine-readable zone of identity documents: how far reading it got, what it said
//! (sealed under the document's own data key, so it is shredded with the document), and the
//! kind of document the requester said they photographed.

use sea_orm_migration::schema::*;

use super::{columns, Change};

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            "documents",
            [
                string_null("zone_status"),
                blob_null("sealed_zone"),
                timestamp_with_time_zone_null("zone_updated_at"),
            ],
        ),
        columns("requests", [string_null("id_document_type")]),
    ]
    .concat()
}
