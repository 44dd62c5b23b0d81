//! The request workflow: states and transitions, in plain Rust with no HTTP in it.

pub mod review;
pub mod shred;
mod submit;
mod tracking;

pub use submit::{
    provide_document, submit, FieldErrors, SubmissionInput, SubmitError, Submitted, Upload,
};
pub use tracking::{find_for_requester, TimelineEntry, TrackingView};

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Received (or completed with a new document), waiting for a reviewer.
    Submitted,
    /// A reviewer asked the requester for a new document.
    NeedsDocument,
    Approved,
    Rejected,
    /// Not decided within the retention period; shredded.
    Expired,
}

impl RequestState {
    pub const ALL: [RequestState; 5] = [
        Self::Submitted,
        Self::NeedsDocument,
        Self::Approved,
        Self::Rejected,
        Self::Expired,
    ];
    /// States in which a request waits for a decision and still has documents.
    pub const PENDING: [RequestState; 2] = [Self::Submitted, Self::NeedsDocument];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::NeedsDocument => "needs_document",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    pub fn is_pending(self) -> bool {
        Self::PENDING.contains(&self)
    }
}

/// The requester's standing towards the domain's registrant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Holder,
    Representative,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holder => "holder",
            Self::Representative => "representative",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "holder" => Some(Self::Holder),
            "representative" => Some(Self::Representative),
            _ => None,
        }
    }
}

/// Which document an upload is; the name is also its form field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    IdFront,
    IdBack,
    Authorization,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 3] = [Self::IdFront, Self::IdBack, Self::Authorization];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// How the requester and reviewers read the kind.
    pub fn label(self) -> &'static str {
        match self {
            Self::IdFront => "identity document (front)",
            Self::IdBack => "identity document (back)",
            Self::Authorization => "authorisation letter",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdFront => "id_front",
            Self::IdBack => "id_back",
            Self::Authorization => "authorization",
        }
    }
}

/// Kinds of timeline events.
pub mod event {
    pub const SUBMITTED: &str = "submitted";
    pub const DOCUMENT_REQUESTED: &str = "document_requested";
    pub const DOCUMENT_RECEIVED: &str = "document_received";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    pub const EXPIRED: &str = "expired";
    pub const CODE_ERASED: &str = "code_erased";
}
