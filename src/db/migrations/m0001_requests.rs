//! Portfolio, requests, their encrypted documents and their timeline.

use sea_orm_migration::{prelude::*, schema::*};

use super::{index, Change};

#[derive(DeriveIden)]
enum Domains {
    Table,
    Name,
    RegistrantName,
    RegistrantEmail,
    RegistrantPhone,
    ImportedAt,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    Id,
    Domain,
    RequesterName,
    RequesterEmail,
    RequesterPhone,
    Relation,
    State,
    TrackingTokenHash,
    ClientAddr,
    ConsentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    RequestId,
    Kind,
    FormatVersion,
    Algorithm,
    KeyVersion,
    WrappedKey,
    StorageName,
    Width,
    Height,
    ByteLen,
    Signals,
    CreatedAt,
    ShreddedAt,
}

#[derive(DeriveIden)]
enum RequestEvents {
    Table,
    Id,
    RequestId,
    At,
    Kind,
    Note,
}

pub(super) fn changes() -> Vec<Change> {
    vec![
        Change::Table(
            Table::create()
                .table(Domains::Table)
                .col(string(Domains::Name).primary_key())
                .col(string(Domains::RegistrantName))
                .col(string(Domains::RegistrantEmail))
                .col(string_null(Domains::RegistrantPhone))
                .col(timestamp_with_time_zone(Domains::ImportedAt))
                .to_owned(),
        ),
        Change::Table(
            Table::create()
                .table(Requests::Table)
                .col(pk_uuid(Requests::Id))
                .col(string(Requests::Domain))
                .col(string(Requests::RequesterName))
                .col(string(Requests::RequesterEmail))
                .col(string_null(Requests::RequesterPhone))
                .col(string(Requests::Relation))
                .col(string(Requests::State))
                .col(blob(Requests::TrackingTokenHash).unique_key())
                .col(string_null(Requests::ClientAddr))
                .col(timestamp_with_time_zone(Requests::ConsentAt))
                .col(timestamp_with_time_zone(Requests::CreatedAt))
                .col(timestamp_with_time_zone(Requests::UpdatedAt))
                .to_owned(),
        ),
        index(
            "idx_requests_state_created",
            Requests::Table,
            [Requests::State, Requests::CreatedAt],
        ),
        Change::Table(
            Table::create()
                .table(Documents::Table)
                .col(pk_uuid(Documents::Id))
                .col(uuid(Documents::RequestId))
                .col(string(Documents::Kind))
                .col(integer(Documents::FormatVersion))
                .col(string(Documents::Algorithm))
                .col(integer(Documents::KeyVersion))
                .col(blob_null(Documents::WrappedKey))
                .col(string(Documents::StorageName))
                .col(integer(Documents::Width))
                .col(integer(Documents::Height))
                .col(big_integer(Documents::ByteLen))
                .col(text(Documents::Signals))
                .col(timestamp_with_time_zone(Documents::CreatedAt))
                .col(timestamp_with_time_zone_null(Documents::ShreddedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Documents::Table, Documents::RequestId)
                        .to(Requests::Table, Requests::Id),
                )
                .to_owned(),
        ),
        index(
            "idx_documents_request",
            Documents::Table,
            [Documents::RequestId],
        ),
        Change::Table(
            Table::create()
                .table(RequestEvents::Table)
                .col(big_pk_auto(RequestEvents::Id))
                .col(uuid(RequestEvents::RequestId))
                .col(timestamp_with_time_zone(RequestEvents::At))
                .col(string(RequestEvents::Kind))
                .col(text_null(RequestEvents::Note))
                .foreign_key(
                    ForeignKey::create()
                        .from(RequestEvents::Table, RequestEvents::RequestId)
                        .to(Requests::Table, Requests::Id),
                )
                .to_owned(),
        ),
        index(
            "idx_request_events_request",
            RequestEvents::Table,
            [RequestEvents::RequestId],
        ),
    ]
}
