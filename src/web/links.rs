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

    fn eid_response(&self, session_id: Uuid) -> String {
        format!("{}/eid/sessions/{}/response", self.0, session_id.simple())
    }

    fn eid_return(&self, response_code: &str) -> String {
        format!("{}/eid/return?response_code={response_code}", self.0)
    }
}

impl PageLinks {
    /// Where a wallet fetches an e-ID session's signed request: from the QR code, or from
    /// the link that opens the wallet on the same device.
    pub fn eid_request(&self, session_id: Uuid, same_device: bool) -> String {
        let flow = if same_device { "/same-device" } else { "" };
        format!(
            "{}/eid/sessions/{}/request{flow}",
            self.0,
            session_id.simple()
        )
    }
}
