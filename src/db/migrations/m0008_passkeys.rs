//! Reviewers' passkeys (WebAuthn credentials, each with its signature counter), the state of
//! passkey ceremonies under way (kept here, never in a cookie), and when a session last
//! proved itself with a passkey, and with which.

use sea_orm_migration::{prelude::*, schema::*};

use super::{columns, index, Change};

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    ReviewerId,
    Name,
    CredentialId,
    Credential,
    SignCount,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyCeremonies {
    Table,
    IdHash,
    Purpose,
    ReviewerId,
    SessionHash,
    State,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    PasskeyAt,
    PasskeyId,
}

const REVIEWER_INDEX: &str = "idx_passkeys_reviewer";

pub(super) fn changes() -> Vec<Change> {
    [
        vec![
            Change::Table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(pk_uuid(Passkeys::Id))
                    .col(uuid(Passkeys::ReviewerId))
                    .col(string(Passkeys::Name))
                    .col(blob(Passkeys::CredentialId).unique_key())
                    .col(text(Passkeys::Credential))
                    .col(big_integer(Passkeys::SignCount))
                    .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .to_owned(),
            ),
            index(REVIEWER_INDEX, Passkeys::Table, [Passkeys::ReviewerId]),
            Change::Table(
                Table::create()
                    .table(PasskeyCeremonies::Table)
                    .col(blob(PasskeyCeremonies::IdHash).primary_key())
                    .col(string(PasskeyCeremonies::Purpose))
                    .col(uuid_null(PasskeyCeremonies::ReviewerId))
                    .col(blob_null(PasskeyCeremonies::SessionHash))
                    .col(text(PasskeyCeremonies::State))
                    .col(timestamp_with_time_zone(PasskeyCeremonies::ExpiresAt))
                    .to_owned(),
            ),
        ],
        columns(
            Sessions::Table,
            [
                timestamp_with_time_zone_null(Sessions::PasskeyAt),
                uuid_null(Sessions::PasskeyId),
            ],
        ),
    ]
    .concat()
}
