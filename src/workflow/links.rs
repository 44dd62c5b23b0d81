//! The addresses mails link to. The web layer owns the routes, so it builds them
//! (`web::links::PageLinks`); the workflow only asks, for the token or request at hand.

use uuid::Uuid;

pub trait Links: Sync {
    /// The requester's private tracking page.
    fn tracking(&self, token: &str) -> String;
    /// The holder's private page, where they confirm or refuse.
    fn holder(&self, token: &str) -> String;
    /// The registrant's "this was not me" page.
    fn objection(&self, token: &str) -> String;
    /// A request's page in the review.
    fn review_request(&self, id: Uuid) -> String;
    /// Where a wallet posts its answer to an e-ID session (`response_uri`).
    fn eid_response(&self, session_id: Uuid) -> String;
    /// Where a same-device wallet sends the person back to, with the response code.
    fn eid_return(&self, response_code: &str) -> String;
}
