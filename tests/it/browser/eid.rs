//! The e-ID as people use it: the form's choice, the QR code on the tracking page, the test
//! wallet answering, the page moving on by itself, and the reviewer reading the names.

use super::driver::{Browser, DESKTOP, PHONE};
use super::{sign_in, PASSWORD};
use crate::eid::Tamper;
use crate::eid_flow::{eid_desk, links_on};

#[tokio::test]
async fn a_holder_proves_who_they_are_with_the_eid_and_the_reviewer_sees_the_names() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let desk = eid_desk(&[]).await;
    let server = &desk.server;
    server.add_reviewer("alice", PASSWORD, false);
    let mut requester = browser
        .person(&server.base, "eid", "requester", PHONE)
        .await;
    requester.open("/", "form").await;
    requester.fill("Domain name", "example.com").await;
    requester.choose("the holder of the domain").await;
    requester.fill("Full name", "Anna Muster").await;
    requester.fill("Email address", "anna@example.org").await;
    requester
        .choose("Prove who I am with my swiyu e-ID (no photo needed)")
        .await;
    assert!(
        !requester.shows("Identity document, front").await,
        "no photo is asked for"
    );
    requester.choose("I agree").await;
    requester.press("Send my request", "tracking-page").await;
    assert!(requester.text().await.contains("waiting for your e-ID"));
    let page = requester.source().await;
    let qr = &page[page.find("class=\"eid-qr\"").expect("the QR code's figure")..];
    assert!(
        qr[..qr.find("</figure>").unwrap()].contains("<svg"),
        "the QR code is an SVG in its figure"
    );
    // Drawn large enough to scan on the phone's screen, not hidden.
    requester
        .wait_until(
            "const r = document.querySelector('figure.eid-qr svg').getBoundingClientRect(); \
             return r.width >= 200 && r.height >= 200;",
        )
        .await;
    assert!(
        requester.fits_width().await,
        "the waiting page fits a phone"
    );
    let (_, request_uri) = links_on(&page);

    let answered = desk
        .wallet
        .answer(&request_uri, Tamper::NoStatusReference)
        .await;
    assert_eq!(answered.reply.status, 200, "{}", answered.reply.body);
    // No reload: the page's poll sees the new state and moves on.
    requester
        .wait_until("return !document.querySelector('[data-eid-poll]');")
        .await;
    let text = requester.text().await;
    assert!(text.contains("waiting for review"), "{text}");
    assert!(
        text.contains("You proved who you are with the e-ID"),
        "{text}"
    );

    let mut reviewer = browser
        .person(&server.base, "eid", "reviewer", DESKTOP)
        .await;
    sign_in(&mut reviewer, "alice").await;
    reviewer.press("Claim next", "review").await;
    let review = reviewer.text().await;
    assert!(review.contains("Identity proven with the e-ID"), "{review}");
    assert!(review.contains("Anna Maria Muster"), "{review}");
    assert!(review.contains("No identity document was sent"), "{review}");
    assert!(
        reviewer.fits_width().await,
        "the issuer's DID and the digest wrap inside their column"
    );
}
