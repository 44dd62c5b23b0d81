//! Why a request ended: a standard reason (stored as its message key, so that each reader
//! reads it in their own language) and the decider's own words. A room of its own, so that
//! the mail and the workflow both use it without one reaching up to the other.

use crate::platform::i18n::Lang;

/// Why a request was rejected or expired: a standard reason, stored as its message key so
/// that each reader reads it in their own language, and the decider's own words as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    pub key: Option<String>,
    pub text: Option<String>,
}

impl Reason {
    pub fn standard(key: &str) -> Self {
        Reason {
            key: Some(key.to_owned()),
            text: None,
        }
    }

    pub fn written(text: impl Into<String>) -> Self {
        Reason {
            key: None,
            text: Some(text.into()),
        }
    }

    /// The reason in `lang`: the standard reason, then the decider's words.
    pub fn in_lang(&self, lang: Lang) -> String {
        let standard = self.key.as_deref().map(|key| lang.t(key));
        [standard, self.text.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn is_empty(&self) -> bool {
        self.key.is_none() && self.text.is_none()
    }
}

/// The standard reasons reviewers pick from when they reject; the requester reads them in
/// their own language.
pub const REJECTION_REASONS: [&str; 4] = [
    "reason-name-mismatch",
    "reason-document-invalid",
    "reason-edited",
    "reason-authorization-incomplete",
];

/// The reasons the system gives.
pub const HOLDER_REFUSED: &str = "reason-holder-refused";
pub const HOLDER_SILENT: &str = "reason-holder-silent";
pub const NOT_DECIDED: &str = "reason-not-decided";
