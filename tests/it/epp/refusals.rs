//! The registry says no. A refusal on the merits (2201, 2303, 2304…) is not retried: the
//! request is marked in the reviewers' queue with the registry's message, and the requester is
//! told only that the registry step failed and that staff were told. A temporary failure
//! leaves no mark; a later hand-off that succeeds, or a reviewer who dealt with it, clears it.
//! And 1001, "action pending", counts as done.

use super::*;
use sea_orm::{ColumnTrait, QueryFilter};

/// Words of the registry's that only staff may read.
const REGISTRY_WORDS: &str = "Object does not exist (ref 4711-NOT-SPONSORED)";

/// What only a marked request's row in the queue says.
const QUEUE_MARK: &str = "the registry refused to carry out the approval";

/// What the requester is told, on the page and by the API.
const REQUESTER_SENTENCE: &str = "The registry step failed";

/// The queue's HTML as alice sees it, with `query`.
async fn queue(desk: &Desk, query: &str) -> String {
    let alice = desk.app.sign_in("alice").await;
    desk.app.staff_page(&alice, format!("/review{query}")).await
}

/// The requester is told the registry step failed and staff were told, in plain words and
/// without the registry's.
async fn requester_told(desk: &Desk, id: uuid::Uuid, token: &str) {
    let page = desk.app.page_text(&format!("/track/{token}")).await;
    assert!(page.contains(REQUESTER_SENTENCE), "{page}");
    assert!(page.contains("Our staff were told"), "{page}");
    let status = desk.app.status_by_api(id, token).await;
    assert!(status["registry_failed_at"].is_string(), "{status}");
    let notice = status["registry_notice"].as_str().unwrap_or_default();
    assert!(notice.starts_with(REQUESTER_SENTENCE), "{status}");
    for said in [page, status.to_string()] {
        assert!(!said.contains("4711"), "the registry's words: {said}");
        assert!(
            !said.contains("does not exist"),
            "the registry's words: {said}"
        );
    }
    let french = desk.app.page_text(&format!("/track/{token}?lang=fr")).await;
    assert!(french.contains("auprès du registre a échoué"), "{french}");
}

/// Nothing of the refusal is shown any more, to staff or the requester.
async fn no_mark(desk: &Desk, id: uuid::Uuid, token: &str) {
    assert!(!queue(desk, "").await.contains(QUEUE_MARK));
    let status = desk.app.status_by_api(id, token).await;
    assert!(status["registry_failed_at"].is_null(), "{status}");
    assert!(status["registry_notice"].is_null(), "{status}");
    let page = desk.app.page_text(&format!("/track/{token}")).await;
    assert!(!page.contains(REQUESTER_SENTENCE), "{page}");
}

/// A refusal on the merits stops the approval once, with the registry's message for staff
/// and a mark in the queue.
async fn refused_once(code: u16, message: &'static str) -> Desk {
    let desk = desk(Trust::Both, &[]).await;
    desk.script("update", &[Answer::Code(code, message)]);
    let (id, token) = refused_approval(&desk, message).await;
    assert_eq!(desk.with(|r| r.of_kind("update").len()), 1, "not retried");
    assert_eq!(desk.with(|r| r.of_kind("login").len()), 1);
    let status = desk.app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "submitted");
    let failed = desk.app.audit_details("issuing_failed").await;
    assert!(
        failed[0].contains(&format!("({code})")) && failed[0].contains(message),
        "{failed:?}"
    );
    let queued = queue(&desk, "").await;
    assert!(queued.contains(QUEUE_MARK), "{queued}");
    let alice = desk.app.sign_in("alice").await;
    let review = desk.app.staff_page(&alice, review_uri(id, "")).await;
    assert!(
        review.contains("The registry refused the hand-off on"),
        "{review}"
    );
    assert!(review.contains(message), "{review}");
    desk
}

#[rocket::async_test]
async fn an_authorization_error_2201_is_not_retried_and_marks_the_request() {
    refused_once(2201, "Authorization error: not sponsoring registrar").await;
}

#[rocket::async_test]
async fn a_2303_on_approval_marks_the_request_for_staff_and_tells_the_requester_without_its_words()
{
    let desk = refused_once(2303, REGISTRY_WORDS).await;
    let id = desk.app.submit_example().await;
    // The marked request comes first, and the filter shows only it.
    let marked = queue(&desk, "?refused=true").await;
    assert!(marked.contains(QUEUE_MARK));
    assert!(
        !marked.contains(&format!("/review/requests/{}", id.0)),
        "an unmarked request is filtered out"
    );
    let found = request::Entity::find()
        .all(desk.app.db())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.registry_refused_at.is_some())
        .unwrap();
    assert!(found.registry_refusal.unwrap().contains("(2303)"));
}

#[rocket::async_test]
async fn the_requester_of_a_refused_approval_is_told_in_plain_words() {
    let desk = desk(Trust::Both, &[]).await;
    desk.script("update", &[Answer::Code(2303, REGISTRY_WORDS)]);
    let (id, token) = refused_approval(&desk, REGISTRY_WORDS).await;
    requester_told(&desk, id, &token).await;
}

#[rocket::async_test]
async fn a_later_approval_the_registry_accepts_clears_the_mark() {
    let desk = desk(Trust::Both, &[]).await;
    desk.script(
        "update",
        &[Answer::Code(2304, "Object status prohibits operation")],
    );
    let (id, token) = refused_approval(&desk, "(2304)").await;
    let alice = desk.app.sign_in("alice").await;
    assert!(queue(&desk, "").await.contains(QUEUE_MARK));
    // The registrar lifted the lock; the reviewer approves again.
    let approved = desk.app.claim_and_approve(&alice, id).await;
    assert_eq!(approved.status(), Status::SeeOther);
    let code = requesters_code(&desk, id, &token).await;
    assert_eq!(desk.with(|r| r.auth_info.clone()), Some(code));
    no_mark(&desk, id, &token).await;
}

#[rocket::async_test]
async fn a_temporary_failure_leaves_no_mark() {
    let desk = desk(Trust::Both, &[]).await;
    let busy = Answer::Code(2400, "Command failed");
    desk.script("update", &[busy.clone(), busy.clone(), busy]);
    let (id, token) = refused_approval(&desk, "(2400)").await;
    assert_eq!(desk.with(|r| r.of_kind("update").len()), 3, "retried");
    no_mark(&desk, id, &token).await;
}

/// A nameserver change approved with an objection window, whose hand-off by the sweeper the
/// registry refuses with 2303.
async fn refused_when_due() -> (Desk, uuid::Uuid, String) {
    let desk = desk_with(Trust::Both, &["ns1.old-host.ch", "ns2.old-host.ch"], |s| {
        s.objection_hours = 48
    })
    .await;
    let (id, token) = approved_change(&desk, "ns1.new-host.ch ns2.new-host.ch").await;
    desk.script("update", &[Answer::Code(2303, REGISTRY_WORDS)]);
    let later = chrono::Utc::now() + chrono::Duration::hours(49);
    let swept = sweep::sweep(desk.app.services(), later).await;
    assert_eq!(swept.nameservers_handed_off, 0);
    let again = sweep::sweep(desk.app.services(), later + chrono::Duration::hours(1)).await;
    assert_eq!(again.nameservers_handed_off, 0);
    assert_eq!(desk.with(|r| r.of_kind("update").len()), 1, "not retried");
    (desk, id, token)
}

#[rocket::async_test]
async fn a_2303_on_the_deferred_nameserver_hand_off_marks_the_approved_request() {
    let (desk, id, token) = refused_when_due().await;
    let queued = queue(&desk, "").await;
    assert!(
        queued.contains(QUEUE_MARK),
        "an approved request, back in the queue"
    );
    let alice = desk.app.sign_in("alice").await;
    let review = desk.app.staff_page(&alice, review_uri(id, "")).await;
    assert!(review.contains("4711-NOT-SPONSORED"), "{review}");
    assert!(review.contains("will not be retried"), "{review}");
    let failed = desk.app.audit_details("nameservers_hand_off_failed").await;
    assert!(failed[0].contains("not retried"), "{failed:?}");
    let status = desk.app.status_by_api(id, &token).await;
    assert_eq!(status["status"], "approved");
    assert!(status["nameservers_set_at"].is_null());
    requester_told(&desk, id, &token).await;
}

#[rocket::async_test]
async fn a_reviewer_who_dealt_with_the_refusal_clears_the_mark() {
    let (desk, id, token) = refused_when_due().await;
    let alice = desk.app.sign_in("alice").await;
    let handled = desk
        .app
        .staff_post(&alice, review_uri(id, "/registry-refusal-handled"), &[])
        .await;
    assert_eq!(handled.status(), Status::SeeOther);
    no_mark(&desk, id, &token).await;
    let handled = entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::Action.eq("registry_refusal_handled"))
        .all(desk.app.db())
        .await
        .unwrap();
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].actor, "alice");
    let twice = desk
        .app
        .staff_post(&alice, review_uri(id, "/registry-refusal-handled"), &[])
        .await;
    assert_eq!(
        twice.status(),
        Status::NotFound,
        "nothing left to deal with"
    );
}

/// RFC 5730 §3: 1001 is a success; the registry has accepted the update and acts later (its
/// outcome comes as a poll message, which the desk does not read). The desk counts it as done,
/// does not send it again, and the audit trail says that the registry acts later.
#[rocket::async_test]
async fn an_update_answered_1001_action_pending_counts_as_done_and_is_not_resent() {
    let desk = desk(Trust::Both, &[]).await;
    desk.script("update", &[Answer::Pending]);
    let (id, token) = approved_code(&desk).await;
    let code = requesters_code(&desk, id, &token).await;
    assert_eq!(desk.with(|r| r.of_kind("update").len()), 1, "not resent");
    assert_ne!(desk.with(|r| r.auth_info.clone()), Some(code));
    let issued = desk.app.audit_details("code_issued").await;
    assert!(issued[0].contains("1001, action pending"), "{issued:?}");
    no_mark(&desk, id, &token).await;
}
