//! The addresses of the pages mails link to, from the routes this layer mounts: what the
//! workflow asks for when it writes a mail.

use uuid::Uuid;

use crate::workflow::links::Links;

/// Links under `base` (`https://desk.example`, as `HostUrl` found it).
pub struct PageLinks(pub String);

impl Links for PageLinks {
    fn tracking(&self, token: &str) -> String {
        format!("{}/track/{token}", self.0)
    }

    fn holder(&self, token: &str) -> String {
        format!("{}/holder/{token}", self.0)
    }

    fn objection(&self, token: &str) -> String {
        format!("{}/objection/{token}", self.0)
    }

    fn review_request(&self, id: Uuid) -> String {
        format!("{}/review/requests/{id}", self.0)
    }
}
