//! Proving who one is with the e-ID, as the workflow sees it: a request waits in
//! `awaiting_eid` (or, for the holder, `awaiting_holder`) for a wallet's verified answer;
//! the answer moves it to review with no document stored. The requester may start a new
//! wallet session, or send photos instead. The protocol itself is in `crate::eid`.

mod acceptance;
mod pages;
pub mod sessions;
pub mod wallet;

pub use pages::*;
