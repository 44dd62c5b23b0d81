//! Reviewers, sessions, throttling, claims, decisions, transfer codes, deletion outbox, audit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            uuid_null(Requests::ClaimedBy),
            timestamp_with_time_zone_null(Requests::ClaimExpiresAt),
            string_null(Requests::RequestedDocument),
            text_null(Requests::RequestedNote),
            timestamp_with_time_zone_null(Requests::DecidedAt),
            blob_null(Requests::CodeRecipientKey),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Requests::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
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
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(blob(Sessions::IdHash).primary_key())
                    .col(uuid(Sessions::ReviewerId))
                    .col(string(Sessions::CsrfToken))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_reviewer")
                    .table(Sessions::Table)
                    .col(Sessions::ReviewerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .col(string(LoginThrottle::Key).primary_key())
                    .col(integer(LoginThrottle::Failures))
                    .col(timestamp_with_time_zone(LoginThrottle::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SetupTokens::Table)
                    .col(blob(SetupTokens::TokenHash).primary_key())
                    .col(timestamp_with_time_zone(SetupTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SetupTokens::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
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
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_decisions_request")
                    .table(Decisions::Table)
                    .col(Decisions::RequestId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
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
            )
            .await?;
        manager
            .create_table(
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
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeletionOutbox::Table)
                    .col(big_pk_auto(DeletionOutbox::Id))
                    .col(string(DeletionOutbox::StorageName))
                    .col(timestamp_with_time_zone(DeletionOutbox::CreatedAt))
                    .col(integer(DeletionOutbox::Attempts))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(string(AuditEvents::Actor))
                    .col(string(AuditEvents::Action))
                    .col(uuid_null(AuditEvents::RequestId))
                    .col(text_null(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            DeletionOutbox::Table.into_iden(),
            TransferCodes::Table.into_iden(),
            Approvals::Table.into_iden(),
            Decisions::Table.into_iden(),
            SetupTokens::Table.into_iden(),
            LoginThrottle::Table.into_iden(),
            Sessions::Table.into_iden(),
            Reviewers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            Requests::ClaimedBy.into_iden(),
            Requests::ClaimExpiresAt.into_iden(),
            Requests::RequestedDocument.into_iden(),
            Requests::RequestedNote.into_iden(),
            Requests::DecidedAt.into_iden(),
            Requests::CodeRecipientKey.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Requests::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
