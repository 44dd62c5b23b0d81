//! What can stop a reviewer's step; the web layer words it for people.

use sea_orm::DbErr;

/// Errors of the reviewer's side; the web layer words them for people.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such request")]
    NotFound,
    #[error("claimed by {holder}")]
    ClaimedByOther { holder: String },
    #[error("not the claim holder")]
    NotClaimHolder,
    #[error("already decided")]
    AlreadyDecided,
    #[error("already approved by this reviewer")]
    AlreadyApproved,
    #[error("waiting for a new document")]
    WaitingForDocument,
    #[error("no reason given")]
    MissingReason,
    #[error("no note for the requester")]
    MissingNote,
    #[error("another live code or approval exists for this domain")]
    ConfirmationRequired,
    #[error("the signatory's rights were not confirmed in the register")]
    SignatoryNotConfirmed,
    #[error("registry hand-off failed: {0}")]
    Registry(#[from] crate::registry::RegistryError),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("the document cannot be opened")]
    Unreadable,
    #[error("only the holder provides the holder's documents")]
    NotRequesterDocument,
}
