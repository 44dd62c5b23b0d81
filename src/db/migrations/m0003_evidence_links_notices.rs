//! Evidence retention (when a decided request's personal data were erased, and an index to
//! find those due), one-time password links for named reviewers, the company UID of a
//! signatory, and the host's incident notices.

use sea_orm_migration::{prelude::*, schema::*};

use super::{columns, index, Change};

#[derive(DeriveIden)]
enum Requests {
    Table,
    DecidedAt,
    PersonalDataErasedAt,
    CompanyUid,
}

#[derive(DeriveIden)]
enum SetupTokens {
    Table,
    ReviewerId,
}

#[derive(DeriveIden)]
enum IncidentNotices {
    Table,
    Id,
    Severity,
    Texts,
    StartsAt,
    EndsAt,
    UpdatedAt,
    CreatedBy,
}

const DECIDED_INDEX: &str = "idx_requests_decided_at";

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            Requests::Table,
            [
                timestamp_with_time_zone_null(Requests::PersonalDataErasedAt),
                string_null(Requests::CompanyUid),
            ],
        ),
        columns(SetupTokens::Table, [uuid_null(SetupTokens::ReviewerId)]),
        vec![
            index(DECIDED_INDEX, Requests::Table, [Requests::DecidedAt]),
            Change::Table(
                Table::create()
                    .table(IncidentNotices::Table)
                    .col(uuid(IncidentNotices::Id).primary_key())
                    .col(string(IncidentNotices::Severity))
                    .col(text(IncidentNotices::Texts))
                    .col(timestamp_with_time_zone(IncidentNotices::StartsAt))
                    .col(timestamp_with_time_zone(IncidentNotices::EndsAt))
                    .col(timestamp_with_time_zone(IncidentNotices::UpdatedAt))
                    .col(string(IncidentNotices::CreatedBy))
                    .to_owned(),
            ),
        ],
    ]
    .concat()
}
