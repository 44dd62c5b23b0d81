//! The kind of identity document the holder said they photographed, as the requester's
//! (m0010): the zone's kind is checked against it.

use sea_orm_migration::schema::*;

use super::{columns, Change};

pub(super) fn changes() -> Vec<Change> {
    columns("requests", [string_null("holder_id_document_type")])
}
