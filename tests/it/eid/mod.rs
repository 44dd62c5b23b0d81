//! The Swiss e-ID (issue 29) from the wallet's side, written from the specifications alone as
//! an oracle for the verifier: a test issuer of SD-JWT VCs and status lists ([`TestIssuer`]),
//! a test wallet that answers request objects over HTTP or as a string ([`Wallet`]), every way
//! of answering wrongly ([`Tamper`]) and a loopback server of status lists ([`StatusServer`]).
//!
//! For an HTTP story against the running service:
//!
//! ```ignore
//! let status = StatusServer::start();                 // http://127.0.0.1:<port>/statuslists
//! let mut wallet = Wallet::new(status.base());
//! status.publish(wallet.status_tokens(chrono::Utc::now().timestamp()));
//! std::fs::write(&trust_file, wallet.trust_file_json())?;   // TRANSFER_DESK_EID_TRUST_FILE
//! // … start the service, then give the wallet the verifier's public JWK (`eid key`):
//! wallet.set_verifier_jwk(verifier_jwk);
//! let answered = wallet.answer(&request_uri, Tamper::Honest).await;     // or answer_link(link, …)
//! assert_eq!(answered.reply.status, 200);
//! let replay = Wallet::post(&answered.request.response_uri, &answered.answer).await;
//! ```
//!
//! For the library: [`request::read_request`] checks a request object with the verifier's JWK,
//! [`Wallet::present_at`] returns the [`Answer`] whose `response()` goes to `verify_response`.
#![allow(dead_code, unused_imports)]

pub mod desk;
pub mod http;
pub mod issuer;
pub mod jose;
pub mod request;
pub mod tamper;
pub mod tls;
pub mod wallet;

#[cfg(test)]
mod oracle;
#[cfg(test)]
mod refusals;

pub use http::{HttpReply, StatusServer};
pub use issuer::TestIssuer;
pub use request::Request;
pub use tamper::Tamper;
pub use wallet::{Answer, Answered, Wallet};
