//! The request workflow: states and transitions, in plain Rust with no HTTP in it.

mod submit;
mod tracking;

pub use submit::{submit, FieldErrors, SubmissionInput, SubmitError, Submitted, Upload};
pub use tracking::{find_for_requester, TimelineEntry, TrackingView};

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Received, waiting for a reviewer.
    Submitted,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "submitted" => Some(Self::Submitted),
            _ => None,
        }
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
}
