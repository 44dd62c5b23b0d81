//! Ids by what they name, so that a document's id cannot be passed where a request's is
//! expected. Stored as the plain UUIDs they wrap.

use uuid::Uuid;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl From<$name> for sea_orm::Value {
            fn from(id: $name) -> Self {
                id.0.into()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

ids!(
    /// A request's id.
    RequestId,
    /// A document's id (under its request).
    DocumentId,
);

/// The first eight hex digits of an id, as people quote it.
pub fn short_id(id: Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_eight_hex_digits() {
        let id = Uuid::new_v4();
        assert_eq!(short_id(id).len(), 8);
        assert!(id.simple().to_string().starts_with(&short_id(id)));
    }
}
