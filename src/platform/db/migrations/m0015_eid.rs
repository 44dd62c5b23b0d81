//! Proving who one is with the Swiss e-ID: the verifier's key (sealed under the master key),
//! the wallet sessions (15 minutes, single use; the session's private key is deleted once
//! answered), and what an answer proved (the disclosed names, the issuer, the credential
//! type, when, and the credential's digest; never the presentation).

use sea_orm_migration::schema::*;

use super::{index, table, Change};

pub(super) fn changes() -> Vec<Change> {
    vec![
        table(
            "eid_verifier_keys",
            [
                string("name").primary_key().to_owned(),
                text("public_jwk"),
                blob("sealed_private"),
                timestamp_with_time_zone("created_at"),
            ],
        ),
        table(
            "eid_sessions",
            [
                pk_uuid("id"),
                uuid("request_id"),
                string("subject"),
                string("nonce"),
                string("oauth_state"),
                blob_null("sealed_key"),
                blob_null("browser_binding_hash"),
                boolean("same_device"),
                timestamp_with_time_zone("created_at"),
                timestamp_with_time_zone_null("answered_at"),
                blob_null("response_code_hash"),
            ],
        )
        .refers("request_id", "requests"),
        index("idx_eid_sessions_request", "eid_sessions", ["request_id"]),
        table(
            "eid_proofs",
            [
                pk_uuid("session_id"),
                uuid("request_id"),
                string("subject"),
                string("given_name"),
                string("family_name"),
                string("issuer_did"),
                string("vct"),
                blob("credential_digest"),
                timestamp_with_time_zone("proven_at"),
                boolean("name_differs_from_typed"),
                boolean("name_differs_from_registrant"),
                timestamp_with_time_zone_null("accepted_at"),
            ],
        )
        .refers("request_id", "requests"),
        index("idx_eid_proofs_request", "eid_proofs", ["request_id"]),
    ]
}
