//! Reviewers' passkeys end to end: Chromium's virtual authenticator (W3C WebAuthn §11) plays
//! each reviewer's device. Served from `http://localhost:PORT`, a secure context.

use super::driver::{Page, DESKTOP};
use super::{claim_next_and_see_the_document, sign_in, start, submit_request, PHONE};

/// The same server as `localhost`, the relying party id passkeys are bound to on loopback.
fn on_localhost(base: &str) -> String {
    base.replace("127.0.0.1", "localhost")
}

async fn sign_out(reviewer: &mut Page) {
    reviewer.press("Sign out", "signed-out").await;
    assert_eq!(reviewer.path().await, "/review/login");
}

async fn sign_in_with_passkey(reviewer: &mut Page, shot: &str) {
    reviewer.open("/review/login", "sign-in").await;
    reviewer
        .press_for_passkey("Sign in with a passkey", shot)
        .await;
    assert_eq!(reviewer.passkey_refusal().await, None);
}

/// Adds a passkey named `name` on the account page, as the reviewer's device answers: the
/// first with the password typed again, a further one after a step-up with an existing one.
async fn add_passkey(reviewer: &mut Page, name: &str, first: bool) {
    reviewer.open("/review/account", "account").await;
    reviewer.fill("Name of the new passkey", name).await;
    if first {
        reviewer
            .fill(
                "Your current password (asked for the first passkey)",
                super::PASSWORD,
            )
            .await;
    }
    reviewer
        .press_for_passkey("Add a passkey", "account-with-passkey")
        .await;
    assert_eq!(reviewer.passkey_refusal().await, None);
    let text = reviewer.text().await;
    assert!(text.contains(name), "{text}");
}

#[tokio::test]
async fn reviewers_sign_in_with_passkeys_and_approving_asks_for_one_again() {
    let test = "passkeys";
    let Some((mut server, browser)) = start(&[("TRANSFER_DESK_APPROVALS_REQUIRED", "1")]).await
    else {
        return;
    };
    server.add_reviewer("alice", super::PASSWORD, true);
    server.add_reviewer("bob", super::PASSWORD, false);
    let base = on_localhost(&server.base);
    let mut requester = browser.person(&base, test, "requester", PHONE).await;
    let tracking = submit_request(&mut requester, &server).await;

    // Alice adds a passkey, signs out, and signs in with it: no name, no password.
    let mut alice = browser.person(&base, test, "alice", DESKTOP).await;
    let alices_device = alice.add_passkey_authenticator().await;
    sign_in(&mut alice, "alice").await;
    add_passkey(&mut alice, "work laptop", true).await;
    sign_out(&mut alice).await;
    sign_in_with_passkey(&mut alice, "signed-in-with-passkey").await;
    assert_eq!(alice.path().await, "/review", "signed in with the passkey");

    sign_out(&mut alice).await;
    sign_in(&mut alice, "alice").await;

    // Signed in with a password, approving asks for the passkey first; the device answers
    // and the approval goes through as chosen.
    claim_next_and_see_the_document(&mut alice).await;
    alice.press("Approve", "step-up-prompt").await;
    assert!(alice.text().await.contains("Confirm with your passkey"));
    alice.press_for_passkey("Use my passkey", "approved").await;
    assert_eq!(alice.passkey_refusal().await, None);
    let text = alice.text().await;
    assert!(text.contains("Approved. The transfer code"), "{text}");
    requester.open(&tracking, "tracking-page-approved").await;
    assert!(requester
        .text()
        .await
        .contains("Your transfer code for example.com"));
    alice.open("/review/audit", "audit").await;
    let audit = alice.text().await;
    assert!(audit.contains("passkey_step_up"), "{audit}");
    assert!(
        audit.contains("“work laptop”"),
        "the credential used is named: {audit}"
    );
    alice.open("/review/reviewers", "reviewers").await;
    let reviewers = alice.text().await;
    assert!(reviewers.contains("yes (1)"), "admins see who has one");
    assert!(
        reviewers.contains("Passkey changes") && reviewers.contains("“work laptop”"),
        "and each passkey added: {reviewers}"
    );

    // Without user verification on her device, the step-up is refused and nothing happens.
    sign_out(&mut alice).await;
    sign_in(&mut alice, "alice").await;
    alice.open("/review/reviewers", "reviewers").await;
    alice.press("Reset password of bob", "step-up-prompt").await;
    alice.set_user_verified(&alices_device, false).await;
    alice
        .press_for_passkey("Use my passkey", "step-up-refused")
        .await;
    assert!(alice.passkey_refusal().await.is_some());
    assert!(alice.text().await.contains("Confirm with your passkey"));
    alice.open("/review/reviewers", "reviewers").await;
    assert!(
        !alice.text().await.contains("One-time link for bob"),
        "no reset without the passkey"
    );
    alice.set_user_verified(&alices_device, true).await;

    // The operator makes passkeys required: a password alone no longer signs alice in.
    server.restart_with(&[("TRANSFER_DESK_STAFF_PASSKEYS", "required")]);
    sign_out(&mut alice).await;
    sign_in_page_refuses(&mut alice).await;
    sign_in_with_passkey(&mut alice, "signed-in-with-passkey").await;
    assert_eq!(alice.path().await, "/review");

    // Bob, who has none, cannot sign in with his password; an admin's one-time link adds
    // his first passkey, and he signs in with it.
    let mut bob = browser.person(&base, test, "bob", DESKTOP).await;
    bob.add_passkey_authenticator().await;
    bob.open("/review/login", "sign-in").await;
    bob.fill("Name", "bob").await;
    bob.fill("Password", super::PASSWORD).await;
    bob.press("Sign in", "password-refused").await;
    assert_eq!(bob.path().await, "/review/login");
    alice.open("/review/reviewers", "reviewers").await;
    alice.press("Passkey link for bob", "passkey-link").await;
    let link = alice.value("Link for bob").await;
    assert!(link.contains("/review/enrol/"), "{link}");
    bob.open(&link, "enrol").await;
    bob.fill("Name of the new passkey", "bob's phone").await;
    bob.press_for_passkey("Add a passkey", "enrolled").await;
    assert_eq!(bob.passkey_refusal().await, None);
    assert_eq!(bob.path().await, "/review/login");
    sign_in_with_passkey(&mut bob, "signed-in-with-passkey").await;
    bob.open("/review", "queue").await;
    assert_eq!(bob.path().await, "/review");

    // A removed passkey no longer signs in, though the device still holds it.
    bob.open("/review/account", "account").await;
    bob.press("Remove “bob's phone”", "passkey-removed").await;
    assert!(bob.text().await.contains("The passkey was removed."));
    sign_out(&mut bob).await;
    bob.press_for_passkey("Sign in with a passkey", "removed-passkey-refused")
        .await;
    assert_eq!(
        bob.passkey_refusal().await.as_deref(),
        Some("This passkey does not belong to an active reviewer here.")
    );
    assert_eq!(bob.path().await, "/review/login");
    for page in [requester, alice, bob] {
        page.close().await;
    }
}

/// The password sign-in of a reviewer who has a passkey, where passkeys are required.
async fn sign_in_page_refuses(alice: &mut Page) {
    alice.open("/review/login", "sign-in").await;
    alice.fill("Name", "alice").await;
    alice.fill("Password", super::PASSWORD).await;
    alice.press("Sign in", "password-refused").await;
    let text = alice.text().await;
    assert!(text.contains("signs in only with its passkey"), "{text}");
    assert_eq!(alice.path().await, "/review/login");
}
