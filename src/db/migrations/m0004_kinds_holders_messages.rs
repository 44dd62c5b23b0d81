//! A request's kind (a transfer code or a nameserver change) and the nameservers asked for;
//! the current nameservers of a domain from the portfolio; the holder who verifies
//! directly (their name, address and private link); and the mark of a requester's message
//! that no reviewer has answered yet; the standard reason of a decision as a message key, so
//! that each reader reads it in their own language; the requester's language; the "this was
//! not me" objection of the registrant on file; the outbox of mails; and the master-key
//! version a document's key is wrapped under after a rotation.

use sea_orm_migration::{prelude::*, schema::*};

use super::{columns, index, Change};

#[derive(DeriveIden)]
enum Requests {
    Table,
    Kind,
    Nameservers,
    HolderName,
    HolderEmail,
    HolderTokenHash,
    HolderLinkExpiresAt,
    HolderAnsweredAt,
    AwaitingReplySince,
    Language,
    ObjectionTokenHash,
    ObjectedAt,
    ObjectionHandledAt,
}

#[derive(DeriveIden)]
enum OutboxMails {
    Table,
    Id,
    RequestId,
    Kind,
    Recipient,
    Language,
    Subject,
    Body,
    SealedLink,
    CreatedAt,
    NextAttemptAt,
    Attempts,
    SentAt,
    FailedAt,
    LastError,
}

#[derive(DeriveIden)]
enum Decisions {
    Table,
    ReasonKey,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    WrapVersion,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Nameservers,
}

const HOLDER_TOKEN_INDEX: &str = "idx_requests_holder_token_hash";
const OBJECTION_TOKEN_INDEX: &str = "idx_requests_objection_token_hash";
const OUTBOX_DUE_INDEX: &str = "idx_outbox_mails_due";

pub(super) fn changes() -> Vec<Change> {
    [
        columns(
            Requests::Table,
            [
                string(Requests::Kind).default("transfer_code").to_owned(),
                text_null(Requests::Nameservers),
                string_null(Requests::HolderName),
                string_null(Requests::HolderEmail),
                blob_null(Requests::HolderTokenHash),
                timestamp_with_time_zone_null(Requests::HolderLinkExpiresAt),
                timestamp_with_time_zone_null(Requests::HolderAnsweredAt),
                timestamp_with_time_zone_null(Requests::AwaitingReplySince),
                string(Requests::Language).default("en").to_owned(),
                blob_null(Requests::ObjectionTokenHash),
                timestamp_with_time_zone_null(Requests::ObjectedAt),
                timestamp_with_time_zone_null(Requests::ObjectionHandledAt),
            ],
        ),
        columns(Domains::Table, [text_null(Domains::Nameservers)]),
        columns(Decisions::Table, [string_null(Decisions::ReasonKey)]),
        columns(Documents::Table, [integer_null(Documents::WrapVersion)]),
        vec![
            index(
                HOLDER_TOKEN_INDEX,
                Requests::Table,
                [Requests::HolderTokenHash],
            )
            .unique(),
            index(
                OBJECTION_TOKEN_INDEX,
                Requests::Table,
                [Requests::ObjectionTokenHash],
            )
            .unique(),
            Change::Table(
                Table::create()
                    .table(OutboxMails::Table)
                    .col(uuid(OutboxMails::Id).primary_key())
                    .col(uuid_null(OutboxMails::RequestId))
                    .col(string(OutboxMails::Kind))
                    .col(string(OutboxMails::Recipient))
                    .col(string(OutboxMails::Language))
                    .col(string(OutboxMails::Subject))
                    .col(text(OutboxMails::Body))
                    .col(blob_null(OutboxMails::SealedLink))
                    .col(timestamp_with_time_zone(OutboxMails::CreatedAt))
                    .col(timestamp_with_time_zone(OutboxMails::NextAttemptAt))
                    .col(integer(OutboxMails::Attempts))
                    .col(timestamp_with_time_zone_null(OutboxMails::SentAt))
                    .col(timestamp_with_time_zone_null(OutboxMails::FailedAt))
                    .col(text_null(OutboxMails::LastError))
                    .to_owned(),
            ),
            index(
                OUTBOX_DUE_INDEX,
                OutboxMails::Table,
                [OutboxMails::SentAt, OutboxMails::NextAttemptAt],
            ),
        ],
    ]
    .concat()
}
