//! Reviewers, sessions, throttling, claims, decisions, transfer codes, deletion outbox, audit.

use sea_orm_migration::{prelude::*, schema::*};

use super::{columns, index, Change};

#[derive(DeriveIden)]
enum Requests {
    Table,
    ClaimedBy,
    ClaimExpiresAt,
    RequestedDocument,
    RequestedNote,
    DecidedAt,
    CodeRecipientKey,
}

#[derive(DeriveIden)]
enum Reviewers {
    Table,
    Id,
    Name,
    PasswordHash,
    IsAdmin,
    Disabled,
    CreatedAt,
    PasswordChangedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    ReviewerId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
}

#[derive(DeriveIden)]
enum SetupTokens {
    Table,
    TokenHash,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Decisions {
    Table,
    Id,
    RequestId,
    ReviewerId,
    ReviewerName,
    Outcome,
    Reason,
    DocumentKinds,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Approvals {
    Table,
    RequestId,
    ReviewerId,
    ApprovedAt,
}

#[derive(DeriveIden)]
enum TransferCodes {
    Table,
    RequestId,
    Domain,
    Salt,
    CodeHash,
    SealedCode,
    Recipient,
    Means,
    IssuedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum DeletionOutbox {
    Table,
    Id,
    StorageName,
    CreatedAt,
    Attempts,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Actor,
    Action,
    RequestId,
    Detail,
}

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            Requests::Table,
            [
                uuid_null(Requests::ClaimedBy),
                timestamp_with_time_zone_null(Requests::ClaimExpiresAt),
                string_null(Requests::RequestedDocument),
                text_null(Requests::RequestedNote),
                timestamp_with_time_zone_null(Requests::DecidedAt),
                blob_null(Requests::CodeRecipientKey),
            ],
        ),
        vec![
            Change::Table(
                Table::create()
                    .table(Reviewers::Table)
                    .col(pk_uuid(Reviewers::Id))
                    .col(string_uniq(Reviewers::Name))
                    .col(string(Reviewers::PasswordHash))
                    .col(boolean(Reviewers::IsAdmin))
                    .col(boolean(Reviewers::Disabled))
                    .col(timestamp_with_time_zone(Reviewers::CreatedAt))
                    .col(timestamp_with_time_zone(Reviewers::PasswordChangedAt))
                    .to_owned(),
            ),
            Change::Table(
                Table::create()
                    .table(Sessions::Table)
                    .col(blob(Sessions::IdHash).primary_key())
                    .col(uuid(Sessions::ReviewerId))
                    .col(string(Sessions::CsrfToken))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .to_owned(),
            ),
            index(
                "idx_sessions_reviewer",
                Sessions::Table,
                [Sessions::ReviewerId],
            ),
            Change::Table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .col(string(LoginThrottle::Key).primary_key())
                    .col(integer(LoginThrottle::Failures))
                    .col(timestamp_with_time_zone(LoginThrottle::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                    .to_owned(),
            ),
            Change::Table(
                Table::create()
                    .table(SetupTokens::Table)
                    .col(blob(SetupTokens::TokenHash).primary_key())
                    .col(timestamp_with_time_zone(SetupTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SetupTokens::UsedAt))
                    .to_owned(),
            ),
            Change::Table(
                Table::create()
                    .table(Decisions::Table)
                    .col(big_pk_auto(Decisions::Id))
                    .col(uuid(Decisions::RequestId))
                    .col(uuid_null(Decisions::ReviewerId))
                    .col(string(Decisions::ReviewerName))
                    .col(string(Decisions::Outcome))
                    .col(text_null(Decisions::Reason))
                    .col(string(Decisions::DocumentKinds))
                    .col(timestamp_with_time_zone(Decisions::DecidedAt))
                    .to_owned(),
            ),
            index(
                "idx_decisions_request",
                Decisions::Table,
                [Decisions::RequestId],
            ),
            Change::Table(
                Table::create()
                    .table(Approvals::Table)
                    .col(uuid(Approvals::RequestId))
                    .col(uuid(Approvals::ReviewerId))
                    .col(timestamp_with_time_zone(Approvals::ApprovedAt))
                    .primary_key(
                        Index::create()
                            .col(Approvals::RequestId)
                            .col(Approvals::ReviewerId),
                    )
                    .to_owned(),
            ),
            Change::Table(
                Table::create()
                    .table(TransferCodes::Table)
                    .col(pk_uuid(TransferCodes::RequestId))
                    .col(string(TransferCodes::Domain))
                    .col(blob(TransferCodes::Salt))
                    .col(blob(TransferCodes::CodeHash))
                    .col(blob_null(TransferCodes::SealedCode))
                    .col(string(TransferCodes::Recipient))
                    .col(string(TransferCodes::Means))
                    .col(timestamp_with_time_zone(TransferCodes::IssuedAt))
                    .col(timestamp_with_time_zone(TransferCodes::ExpiresAt))
                    .to_owned(),
            ),
            Change::Table(
                Table::create()
                    .table(DeletionOutbox::Table)
                    .col(big_pk_auto(DeletionOutbox::Id))
                    .col(string(DeletionOutbox::StorageName))
                    .col(timestamp_with_time_zone(DeletionOutbox::CreatedAt))
                    .col(integer(DeletionOutbox::Attempts))
                    .to_owned(),
            ),
            Change::Table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(string(AuditEvents::Actor))
                    .col(string(AuditEvents::Action))
                    .col(uuid_null(AuditEvents::RequestId))
                    .col(text_null(AuditEvents::Detail))
                    .to_owned(),
            ),
            index("idx_audit_events_at", AuditEvents::Table, [AuditEvents::At]),
        ],
    ]
    .concat()
}
