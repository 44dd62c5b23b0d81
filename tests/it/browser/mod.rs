//! The pages as people use them: headless Chromium against the real binary on loopback.
//!
//! Without Chromium a plain `cargo test` skips these with one line; `.ci/run` installs it and
//! sets `TRANSFER_DESK_BROWSER_TESTS=required`, so that there a missing browser fails.

mod driver;
mod eid;
mod passkeys;
use crate::common;

use crate::common::server::Server;
use driver::{Browser, Page, DESKTOP, PHONE};

const PASSWORD: &str = "correct horse battery staple";
const PORTFOLIO: &str =
    "domain,registrant_name,registrant_email\nexample.com,Anna Muster,anna@example.com\n";

/// The first link starting with `path` in a mail to `to` that the SMTP server received,
/// waiting for the service's mail sender.
async fn mailed_link(sink: &common::smtp::SmtpSink, to: &str, path: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        for raw in sink.messages() {
            let Some(message) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            let addressed = message
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .is_some_and(|a| a == to);
            let text = message.body_text(0).unwrap_or_default().into_owned();
            if !addressed {
                continue;
            }
            if let Some(start) = text.find(path) {
                let rest: String = text[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
                    .collect();
                return rest;
            }
        }
        assert!(std::time::Instant::now() < deadline, "no mail to {to}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A server with the sample portfolio, and a browser; `None` when browser tests are skipped.
async fn start(settings: &[(&str, &str)]) -> Option<(Server, Browser)> {
    let browser = Browser::start()?;
    let server = Server::start(settings).await;
    server.import_domains(PORTFOLIO);
    Some((server, browser))
}

/// A requester fills in the whole form correctly and reaches the tracking page; returns the
/// private tracking link.
async fn submit_request(requester: &mut Page, server: &Server) -> String {
    submit_request_with(requester, server, &common::camera_photo(), None).await
}

/// The same, with `front` as the photo, saying which document it is when `document` names
/// one.
async fn submit_request_with(
    requester: &mut Page,
    server: &Server,
    front: &[u8],
    document: Option<&str>,
) -> String {
    let photo = server.write_file("front.jpg", front);
    requester.open("/", "form").await;
    requester.fill("Domain name", "example.com").await;
    requester.choose("the holder of the domain").await;
    requester.fill("Full name", "Anna Muster").await;
    requester.fill("Email address", "anna@example.org").await;
    if let Some(document) = document {
        requester.select("Which document is it?", document).await;
    }
    requester.attach("Identity document, front", &photo).await;
    requester.choose("I agree").await;
    requester.press("Send my request", "tracking-page").await;
    assert!(requester
        .text()
        .await
        .contains("We have received your request"));
    requester.value("Your private link").await
}

async fn sign_in(reviewer: &mut Page, name: &str) {
    reviewer.open("/review/login", "sign-in").await;
    reviewer.fill("Name", name).await;
    reviewer.fill("Password", PASSWORD).await;
    reviewer.press("Sign in", "queue").await;
    assert_eq!(reviewer.path().await, "/review", "{name} is signed in");
}

/// Claims the oldest waiting request and checks that its document image really loads.
async fn claim_next_and_see_the_document(reviewer: &mut Page) {
    reviewer.press("Claim next", "review").await;
    assert!(reviewer.text().await.contains("held by"));
    reviewer
        .wait_until(
            "const img = document.querySelector('figure.document img'); \
             return !!img && img.complete && img.naturalWidth > 0;",
        )
        .await;
    let width = reviewer
        .script("return document.querySelector('figure.document img').naturalWidth;")
        .await;
    assert!(
        width.parse::<u32>().unwrap() > 0,
        "the watermarked document loads"
    );
}

#[tokio::test]
async fn a_requester_on_a_phone_corrects_mistakes_and_reaches_the_tracking_page() {
    let test = "requester-mistakes";
    let Some((server, browser)) = start(&[]).await else {
        return;
    };
    let mut requester = browser.person(&server.base, test, "requester", PHONE).await;
    requester.open("/", "form").await;
    requester.fill("Domain name", "example.com").await;
    requester.choose("the holder of the domain").await;
    assert!(
        requester.text().await.contains("Accepted:"),
        "says what is accepted before upload"
    );

    // A wrong email and no photo.
    requester.fill("Full name", "Anna Muster").await;
    requester.fill("Email address", "anna.example.org").await;
    requester.fill("Phone number", "+41 44 000 00 00").await;
    requester.choose("I agree").await;
    requester.press("Send my request", "form-with-errors").await;

    let text = requester.text().await;
    assert!(text.contains("Please correct 2 things"), "{text}");
    // What the person typed is still there.
    assert_eq!(requester.value("Domain name").await, "example.com");
    assert_eq!(requester.value("Full name").await, "Anna Muster");
    assert_eq!(requester.value("Email address").await, "anna.example.org");
    assert_eq!(requester.value("Phone number").await, "+41 44 000 00 00");
    assert!(requester.is_chosen("the holder of the domain").await);
    assert!(requester.is_chosen("I agree").await);
    // Each error is beside its field and announced with it; focus is on the first one.
    for (label, id) in [
        ("Email address", "email"),
        ("Identity document, front", "id_front"),
    ] {
        let field = requester.field(label).await;
        assert_eq!(
            field.attr("aria-invalid").await.unwrap().as_deref(),
            Some("true")
        );
        let described_by = field.attr("aria-describedby").await.unwrap().unwrap();
        assert_eq!(described_by, format!("{id}-error"));
        let message = requester
            .script(&format!(
                "const e = document.getElementById('{described_by}'); \
                 return e && e.closest('.field') === document.getElementById('{id}').closest('.field') ? e.textContent : '';"
            ))
            .await;
        assert!(
            !message.trim().is_empty(),
            "the {id} error sits in its field"
        );
    }
    assert_eq!(
        requester
            .field("Domain name")
            .await
            .attr("aria-invalid")
            .await
            .unwrap(),
        None
    );
    assert_eq!(requester.focused_id().await, "email");

    // Corrected, with the photo: the form shows it, with its size, before it is sent.
    let photo = server.write_file("front.jpg", &common::camera_photo());
    requester.fill("Email address", "anna@example.org").await;
    assert!(requester.text().await.contains("A good photo:"));
    requester.attach("Identity document, front", &photo).await;
    requester
        .wait_until(
            "const img = document.querySelector('#id_front ~ figure.preview img'); \
             return !!img && img.complete && img.naturalWidth > 0;",
        )
        .await;
    let caption = requester
        .script(
            "return document.querySelector('#id_front ~ figure.preview figcaption').textContent;",
        )
        .await;
    assert!(caption.contains("Chosen: front.jpg"), "{caption}");
    assert!(caption.contains("1300×900 px"), "{caption}");
    requester.shot("form-with-preview").await;
    requester.press("Send my request", "tracking-page").await;
    assert!(requester.path().await.starts_with("/track/"));
    assert!(requester
        .text()
        .await
        .contains("We have received your request"));
    let link = requester.value("Your private link").await;
    assert!(
        link.starts_with(&format!("{}/track/", server.base)),
        "{link}"
    );
    requester.open(&link, "tracking-page-later").await;
    assert!(requester.text().await.contains("waiting for review"));
    requester.close().await;
}

#[tokio::test]
async fn the_first_admin_and_a_second_reviewer_approve_and_the_requester_reads_the_code() {
    let test = "four-eyes";
    let Some((server, browser)) = start(&[("TRANSFER_DESK_APPROVALS_REQUIRED", "2")]).await else {
        return;
    };
    let mut requester = browser.person(&server.base, test, "requester", PHONE).await;
    let link = submit_request(&mut requester, &server).await;

    // The operator opens the one-time link and creates the first admin.
    let mut alice = browser.person(&server.base, test, "alice", DESKTOP).await;
    let setup_link = server.setup_link();
    alice.open(&setup_link, "setup").await;
    alice.fill("Name", "alice").await;
    alice.fill("Password (12 to 128", PASSWORD).await;
    alice.fill("The same password again", PASSWORD).await;
    alice.press("Create admin", "after-setup").await;
    // The setup goes on to adding a passkey; she does that later.
    assert!(alice.path().await.starts_with("/review/enrol/"));
    alice
        .follow("Not now: sign in with your password", "sign-in")
        .await;
    assert_eq!(alice.path().await, "/review/login");
    alice.open(&setup_link, "setup-link-used").await;
    assert!(
        alice.text().await.contains("Not found"),
        "the link works once"
    );

    // Alice adds Bob; Bob sets his own password through the one-time link she passes on.
    sign_in(&mut alice, "alice").await;
    alice.open("/review/reviewers", "reviewers").await;
    alice.fill("Name", "bob").await;
    alice.press("Add reviewer", "reviewer-added").await;
    let bob_link = alice.value("Link for bob").await;
    let mut bob = browser.person(&server.base, test, "bob", DESKTOP).await;
    bob.open(&bob_link, "set-password").await;
    bob.fill("Password (12", PASSWORD).await;
    bob.fill("The same password again", PASSWORD).await;
    bob.press("Set password", "password-set").await;
    assert!(bob.path().await.starts_with("/review/enrol/"));
    bob.follow("Not now: sign in with your password", "sign-in")
        .await;
    assert_eq!(bob.path().await, "/review/login");

    alice.open("/review", "queue").await;
    assert!(alice.text().await.contains("example.com"));
    assert!(alice.text().await.contains("1 waiting"));
    // "?" lists the keyboard shortcuts.
    alice.type_keys("?").await;
    assert_eq!(
        alice
            .script("return document.getElementById('shortcuts').open;")
            .await,
        "true"
    );
    alice.shot("shortcuts").await;
    claim_next_and_see_the_document(&mut alice).await;
    alice.press("Approve", "approved-once").await;
    assert!(alice
        .text()
        .await
        .contains("Your approval is recorded (1 of 2)"));

    // Signing out ends the session: the queue asks to sign in again.
    alice.press("Sign out", "signed-out").await;
    alice.open("/review", "queue-after-sign-out").await;
    assert_eq!(alice.path().await, "/review/login");
    assert!(alice.button("Sign in").await.is_displayed().await.unwrap());

    sign_in(&mut bob, "bob").await;
    claim_next_and_see_the_document(&mut bob).await;
    assert!(bob.text().await.contains("approvals 1 of 2 (alice)"));
    bob.press("Approve", "approved-twice").await;
    assert!(bob.text().await.contains("Approved."));

    requester.open(&link, "tracking-page-approved").await;
    assert!(requester.text().await.contains("Status: approved"));
    let code = requester.value("Your transfer code").await;
    assert_eq!(code.len(), 26, "a transfer code: {code:?}");
    for page in [requester, alice, bob] {
        page.close().await;
    }
}

/// A requester says "Passport" and photographs it; the reviewer finds the zone read beside
/// the photo, every check digit holding, once the OCR program is done.
#[tokio::test]
async fn a_reviewer_reads_the_passport_zone_beside_the_photo() {
    let test = "zone";
    let Some((tool, font)) = crate::zones::ocr_tools() else {
        return;
    };
    let tool = tool.display().to_string();
    let Some((server, browser)) = start(&[("TRANSFER_DESK_OCR_COMMAND", &tool)]).await else {
        return;
    };
    server.add_reviewer("alice", PASSWORD, true);
    let zone = mrz::format_td3(&mrz::Td3Fields {
        issuing_country: "CHE".into(),
        document_number: "X4R7A2M96".into(),
        surname: "MUSTER".into(),
        given_names: "ANNA".into(),
        nationality: "CHE".into(),
        date_of_birth: mrz::MrzDate::Calendar(mrz::Date::new(1981, 6, 30)),
        sex: mrz::Sex::Female,
        date_of_expiry: mrz::MrzDate::Calendar(mrz::Date::new(2033, 10, 1)),
        ..Default::default()
    });
    let lines: Vec<&str> = zone.lines().collect();
    let passport = common::specimen::document_with_zone(&font, &lines, Default::default());
    let mut requester = browser.person(&server.base, test, "requester", PHONE).await;
    submit_request_with(&mut requester, &server, &passport, Some("Passport")).await;

    let mut alice = browser.person(&server.base, test, "alice", DESKTOP).await;
    sign_in(&mut alice, "alice").await;
    claim_next_and_see_the_document(&mut alice).await;
    let request = alice.path().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while alice.text().await.contains("MRZ: reading") {
        assert!(
            std::time::Instant::now() < deadline,
            "the zone was never read"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        alice.open(&request, "review-reading").await;
    }
    alice.shot("review-zone-read").await;
    let text = alice.text().await;
    assert!(text.contains("Passport"), "{text}");
    assert!(
        text.contains("X4R7A2M96") && text.contains("2033-10-01"),
        "{text}"
    );
    assert!(
        !text.contains("FAILS") && !text.contains("MRZ name differs"),
        "{text}"
    );
    assert!(text.contains("document: Passport"));
    for page in [requester, alice] {
        page.close().await;
    }
}

#[tokio::test]
async fn a_rejected_requester_reads_the_reason() {
    let test = "reject";
    let Some((server, browser)) = start(&[("TRANSFER_DESK_APPROVALS_REQUIRED", "1")]).await else {
        return;
    };
    server.add_reviewer("carol", PASSWORD, true);
    let mut requester = browser.person(&server.base, test, "requester", PHONE).await;
    let link = submit_request(&mut requester, &server).await;

    let mut carol = browser.person(&server.base, test, "carol", DESKTOP).await;
    sign_in(&mut carol, "carol").await;

    // Carol, an admin, tells every requester what is going on.
    carol.open("/review/notices", "notices").await;
    carol.select("How serious", "outage").await;
    carol.fill("Title (en)", "Our mail servers are down").await;
    carol
        .fill(
            "Text (en)",
            "Give an email address elsewhere; we answer on this page.",
        )
        .await;
    carol.press("Post notice", "notice-posted").await;
    assert!(carol.text().await.contains("The notice is live"));
    carol.open("/review", "queue").await;

    claim_next_and_see_the_document(&mut carol).await;
    carol
        .select(
            "Reject: reason the requester will read",
            "The identity document is expired or not an accepted identity document.",
        )
        .await;
    carol.fill("Details", "The card expired in 2019.").await;
    carol.press("Reject", "rejected").await;
    assert!(carol.text().await.contains("Rejected."));

    requester.open(&link, "tracking-page-rejected").await;
    let text = requester.text().await;
    assert!(
        text.contains("Our mail servers are down"),
        "the notice shows: {text}"
    );
    assert!(text.contains("Status: not approved"), "{text}");
    assert!(text.contains("The identity document is expired or not an accepted identity document. The card expired in 2019."), "{text}");
    requester.close().await;
    carol.close().await;
}

#[tokio::test]
async fn a_requester_sends_the_new_document_asked_for_and_is_approved() {
    let test = "new-document";
    let Some((server, browser)) = start(&[("TRANSFER_DESK_APPROVALS_REQUIRED", "1")]).await else {
        return;
    };
    server.add_reviewer("dave", PASSWORD, false);
    let mut requester = browser.person(&server.base, test, "requester", PHONE).await;
    let link = submit_request(&mut requester, &server).await;

    let mut dave = browser.person(&server.base, test, "dave", DESKTOP).await;
    sign_in(&mut dave, "dave").await;
    claim_next_and_see_the_document(&mut dave).await;
    dave.select("Ask for a new document", "identity document (front)")
        .await;
    dave.fill(
        "What is wrong with it",
        "The photo is blurred; please take it again in daylight.",
    )
    .await;
    dave.press("Ask for it", "document-asked").await;
    assert!(dave
        .text()
        .await
        .contains("The requester is asked for a new document."));

    requester.open(&link, "tracking-page-asked").await;
    let text = requester.text().await;
    assert!(text.contains("we need a new document from you"), "{text}");
    assert!(text.contains("please take it again in daylight"), "{text}");
    let photo = server.write_file("front-again.jpg", &common::camera_photo());
    requester
        .attach("New identity document (front)", &photo)
        .await;
    requester
        .press("Send the new document", "tracking-page-document-sent")
        .await;
    assert!(requester.text().await.contains("waiting for review"));

    dave.open("/review", "queue").await;
    claim_next_and_see_the_document(&mut dave).await;
    dave.press("Approve", "approved").await;
    assert!(dave.text().await.contains("Approved."));

    requester.open(&link, "tracking-page-approved").await;
    assert_eq!(requester.value("Your transfer code").await.len(), 26);
    requester.close().await;
    dave.close().await;
}

#[tokio::test]
async fn an_agent_asks_for_new_nameservers_the_holder_confirms_and_they_exchange_messages() {
    let test = "outage-customers";
    let received = tempfile::tempdir().unwrap();
    let record = received.path().join("registry-input");
    let command = format!("cat > '{}'", record.display());
    // The holder's link goes only by mail: a real SMTP server on loopback receives it.
    if !common::smtp::available() {
        return;
    }
    let sink = common::smtp::SmtpSink::start(common::server::free_port());
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let Some((server, browser)) = start(&[
        ("TRANSFER_DESK_APPROVALS_REQUIRED", "1"),
        ("TRANSFER_DESK_REGISTRY_COMMAND", &command),
        ("TRANSFER_DESK_SMTP_URL", &smtp),
    ])
    .await
    else {
        return;
    };
    server.add_reviewer("erin", PASSWORD, false);

    // Rita, who registered the domain for Anna, asks for new nameservers; Anna confirms.
    let mut rita = browser.person(&server.base, test, "rita", PHONE).await;
    let photo = server.write_file("rita.jpg", &common::camera_photo());
    rita.open("/", "form").await;
    rita.choose("new nameservers").await;
    rita.fill("Domain name", "example.com").await;
    rita.fill("New nameservers", "ns1.new-host.ch\nns2.new-host.ch")
        .await;
    rita.choose("acting for the holder").await;
    rita.choose("directly:").await;
    rita.fill("Full name", "Rita Agent").await;
    rita.fill("Email address", "rita@agency.example").await;
    rita.fill("Holder's full name", "Anna Muster").await;
    rita.fill("Holder's email address", "anna@example.com")
        .await;
    rita.attach("Identity document, front", &photo).await;
    rita.choose("I agree").await;
    rita.press("Send my request", "tracking-page").await;
    let text = rita.text().await;
    assert!(text.contains("waiting for the holder"), "{text}");
    assert!(
        !rita.source().await.contains("/holder/"),
        "never shown to the requester"
    );
    let tracking_link = rita.value("Your private link").await;
    let holder_link = mailed_link(&sink, "anna@example.com", "/holder/").await;

    let mut anna = browser.person(&server.base, test, "anna", PHONE).await;
    anna.open(&holder_link, "holder-page").await;
    let text = anna.text().await;
    assert!(text.contains("Rita Agent asks to act for you"), "{text}");
    assert!(text.contains("ns2.new-host.ch"), "{text}");
    let own = server.write_file("anna.jpg", &common::camera_photo());
    anna.select("Which document is it?", "Identity card").await;
    anna.attach("Your identity document, front", &own).await;
    anna.press("I confirm: Rita Agent acts for me", "confirmed")
        .await;
    assert!(anna.text().await.contains("You confirmed on"));

    rita.open(&tracking_link, "tracking-page-confirmed").await;
    assert!(rita.text().await.contains("The holder confirmed"));
    rita.fill(
        "Your message",
        "Our mail is down; please call 079 000 00 00.",
    )
    .await;
    rita.press("Send the message", "message-sent").await;
    assert!(rita.text().await.contains("Your message was sent"));

    let mut erin = browser.person(&server.base, test, "erin", DESKTOP).await;
    sign_in(&mut erin, "erin").await;
    let queue = erin.text().await;
    assert!(queue.contains("new message"), "{queue}");
    assert!(queue.contains("nameservers"), "{queue}");
    claim_next_and_see_the_document(&mut erin).await;
    let review = erin.text().await;
    assert!(
        review.contains("The holder, verifying directly"),
        "{review}"
    );
    assert!(
        review.contains("holder's identity document (front)"),
        "{review}"
    );
    assert!(review.contains("document: Identity card"), "{review}");
    assert!(review.contains("please call 079 000 00 00"), "{review}");
    erin.fill(
        "Message (the requester reads it",
        "Thank you, we are on it.",
    )
    .await;
    erin.press("Send the message", "message-sent").await;
    assert!(erin
        .text()
        .await
        .contains("on the requester's tracking page"));
    erin.press("Approve", "approved").await;
    assert!(erin
        .text()
        .await
        .contains("The registry command set the new nameservers"));
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        "version 1\naction set_nameservers\ndomain example.com\n\
         nameserver ns1.new-host.ch\nnameserver ns2.new-host.ch\n"
    );

    rita.open(&tracking_link, "tracking-page-approved").await;
    let text = rita.text().await;
    assert!(text.contains("The new nameservers were set on"), "{text}");
    assert!(text.contains("Thank you, we are on it."), "{text}");

    // Anna, the registrant on file, reads the notice's page, where she could undo the change.
    let objection = mailed_link(&sink, "anna@example.com", "/objection/").await;
    anna.open(&objection, "objection-page").await;
    let text = anna.text().await;
    assert!(text.contains("New nameservers for example.com"), "{text}");
    for page in [rita, anna, erin] {
        page.close().await;
    }
}

#[tokio::test]
async fn requesters_submit_in_french_and_in_german_and_read_their_own_language() {
    let test = "languages";
    let Some((server, browser)) = start(&[]).await else {
        return;
    };
    let photo = server.write_file("front.jpg", &common::camera_photo());

    // Claire's browser asks for English; she switches to French with the link on the page.
    let mut claire = browser.person(&server.base, test, "claire", PHONE).await;
    claire.open("/", "form").await;
    assert_eq!(claire.language().await, "en");
    claire.follow("Français", "form-in-french").await;
    assert_eq!(claire.language().await, "fr");
    claire.fill("Nom de domaine", "example.com").await;
    claire.choose("le titulaire du domaine").await;
    claire.fill("Nom complet", "Claire Dubois").await;
    claire.fill("Adresse e-mail", "claire@example.org").await;
    claire.choose("J'accepte").await;
    claire.press("Envoyer ma demande", "form-with-errors").await;
    let text = claire.text().await;
    assert!(text.contains("Veuillez corriger 1 point"), "{text}");
    assert!(
        text.contains("Veuillez ajouter une photo du recto de votre pièce d'identité."),
        "{text}"
    );
    assert_eq!(claire.value("Nom complet").await, "Claire Dubois");
    claire.attach("Pièce d'identité, recto", &photo).await;
    claire.press("Envoyer ma demande", "tracking-page").await;
    assert_eq!(claire.language().await, "fr", "the choice is remembered");
    let text = claire.text().await;
    assert!(text.contains("Nous avons reçu votre demande"), "{text}");
    assert!(text.contains("en attente d'examen"), "{text}");
    let link = claire.value("Votre lien privé").await;
    assert!(link.contains("/track/"), "{link}");

    // Jörg's browser asks for Swiss German: the pages are German from the start.
    let mut jorg = browser
        .person_speaking(&server.base, test, "jorg", PHONE, "de-CH,de;q=0.9")
        .await;
    jorg.open("/", "form").await;
    assert_eq!(jorg.language().await, "de");
    jorg.fill("Domainname", "example.com").await;
    jorg.choose("der Inhaber der Domain").await;
    jorg.fill("Vollständiger Name", "Jörg Müller").await;
    jorg.fill("E-Mail-Adresse", "joerg@example.org").await;
    jorg.attach("Ausweis, Vorderseite", &photo).await;
    jorg.choose("Ich bin einverstanden").await;
    jorg.press("Antrag senden", "tracking-page").await;
    assert_eq!(jorg.language().await, "de");
    let text = jorg.text().await;
    assert!(text.contains("Wir haben Ihren Antrag erhalten"), "{text}");
    assert!(text.contains("wartet auf Prüfung"), "{text}");
    let link = jorg.value("Ihr privater Link").await;
    jorg.open(&link, "tracking-page-later").await;
    assert!(jorg.text().await.contains("Was bisher geschah"));
    claire.close().await;
    jorg.close().await;
}

/// What a person sees of the request form: which of these fields are shown.
async fn shown(page: &Page, labels: &[&str]) -> Vec<bool> {
    let mut shown = Vec::new();
    for label in labels {
        shown.push(page.shows(label).await);
    }
    shown
}

const RELATION_FIELDS: [&str; 7] = [
    "Full name",
    "Identity document, front",
    "Company's UID",
    "with their signed authorisation letter",
    "Authorisation letter signed by the holder",
    "Holder's full name",
    "Holder's email address",
];

#[tokio::test]
async fn the_form_asks_each_relation_only_what_applies_to_it() {
    let test = "form-relations";
    if !common::smtp::available() {
        return;
    }
    // Holder verification needs mail, and nameserver changes a registry command: all offered.
    let sink = common::smtp::SmtpSink::start(common::server::free_port());
    let smtp = format!("smtp://127.0.0.1:{}", sink.port);
    let Some((server, browser)) = start(&[
        ("TRANSFER_DESK_SMTP_URL", &smtp),
        ("TRANSFER_DESK_REGISTRY_COMMAND", "cat > /dev/null"),
        ("TRANSFER_DESK_SUBMISSIONS_PER_DOMAIN_PER_DAY", "0"),
        ("TRANSFER_DESK_SUBMISSIONS_PER_HOUR", "0"),
    ])
    .await
    else {
        return;
    };
    let photo = server.write_file("front.jpg", &common::camera_photo());
    let letter = server.write_file("letter.jpg", &common::camera_photo());
    let mut person = browser.person(&server.base, test, "person", PHONE).await;
    let mut heights = Vec::new();

    // Before a choice: what is needed, the domain and "You are"; nothing else yet.
    person.open("/", "form-before-a-choice").await;
    assert_eq!(person.script("return window.innerWidth;").await, "390");
    heights.push(("no relation chosen", person.height().await));
    assert!(person.shows("the transfer code").await);
    assert!(person.shows("Domain name").await);
    assert!(person.shows("the holder of the domain").await);
    assert_eq!(shown(&person, &RELATION_FIELDS).await, [false; 7]);
    assert!(!person.shows("New nameservers").await);
    person.choose("new nameservers").await;
    assert!(person.shows("New nameservers").await);
    person.choose("the transfer code").await;
    assert!(!person.shows("New nameservers").await);

    // A representative first types the holder's details, then settles on being the holder:
    // the hidden fields are neither shown nor required.
    person.choose("acting for the holder").await;
    assert_eq!(
        shown(&person, &RELATION_FIELDS).await,
        [true, true, false, true, true, false, false],
        "a representative: their own identity and the holder's letter"
    );
    person.shot("form-representative-with-letter").await;
    heights.push(("representative, with a letter", person.height().await));
    person.choose("directly:").await;
    assert_eq!(
        shown(&person, &RELATION_FIELDS).await,
        [true, true, false, true, false, true, true],
        "the holder confirms directly: their name and email instead of a letter"
    );
    person.fill("Holder's full name", "Someone Else").await;
    person
        .fill("Holder's email address", "not an address")
        .await;
    person.shot("form-representative-holder-confirms").await;
    heights.push(("representative, holder confirms", person.height().await));

    person.choose("the holder of the domain").await;
    assert_eq!(
        shown(&person, &RELATION_FIELDS).await,
        [true, true, false, false, false, false, false],
        "the holder: their identity document only"
    );
    person.shot("form-holder").await;
    heights.push(("holder", person.height().await));
    person.fill("Domain name", "example.com").await;
    person.fill("Full name", "Anna Muster").await;
    person.fill("Email address", "anna@example.org").await;
    person.attach("Identity document, front", &photo).await;
    person.choose("I agree").await;
    person.press("Send my request", "holder-sent").await;
    assert!(
        person
            .text()
            .await
            .contains("We have received your request"),
        "the holder's request went through, the representative's hidden fields ignored"
    );

    // A signatory gives the company's UID.
    person.open("/", "form-again").await;
    person.choose("an authorised signatory").await;
    assert_eq!(
        shown(&person, &RELATION_FIELDS).await,
        [true, true, true, false, false, false, false],
        "a signatory: the UID, no letter"
    );
    person.shot("form-signatory").await;
    heights.push(("signatory", person.height().await));
    person.fill("Domain name", "example.com").await;
    person.fill("Company's UID", "CHE-123.456.788").await;
    person.fill("Full name", "Sandra Signer").await;
    person.fill("Email address", "sandra@example.org").await;
    person.attach("Identity document, front", &photo).await;
    person.choose("I agree").await;
    person.press("Send my request", "signatory-sent").await;
    assert!(person
        .text()
        .await
        .contains("We have received your request"));

    // A representative forgets the letter: the form comes back as a representative's, with
    // everything typed kept, and takes the letter.
    person.open("/", "form-again").await;
    person.fill("Domain name", "example.com").await;
    person.choose("acting for the holder").await;
    person.fill("Full name", "Rita Agent").await;
    person.fill("Email address", "rita@agency.example").await;
    person.attach("Identity document, front", &photo).await;
    person.choose("I agree").await;
    person
        .press("Send my request", "representative-without-letter")
        .await;
    let text = person.text().await;
    assert!(text.contains("Please correct 1 thing"), "{text}");
    assert!(person.is_chosen("acting for the holder").await);
    assert!(
        person
            .is_chosen("with their signed authorisation letter")
            .await
    );
    assert!(
        person
            .shows("Authorisation letter signed by the holder")
            .await
    );
    assert!(!person.shows("Company's UID").await);
    assert_eq!(person.value("Full name").await, "Rita Agent");
    assert_eq!(person.value("Domain name").await, "example.com");
    person.attach("Identity document, front", &photo).await;
    person
        .attach("Authorisation letter signed by the holder", &letter)
        .await;
    person.press("Send my request", "representative-sent").await;
    assert!(person
        .text()
        .await
        .contains("We have received your request"));

    for (form, height) in &heights {
        eprintln!("request form on a 390 px phone, {form}: {height} px tall");
    }
    let holder = heights
        .iter()
        .find(|(form, _)| *form == "holder")
        .unwrap()
        .1;
    assert!(
        holder <= 1_800,
        "the holder's form (with the choice of document) fits in about 1,750 px on a phone: {holder} px"
    );
    person.close().await;
}

#[tokio::test]
async fn with_scripts_off_a_representative_still_sends_a_letter() {
    let test = "no-scripts";
    let Some((server, browser)) = start(&[]).await else {
        return;
    };
    let photo = server.write_file("front.jpg", &common::camera_photo());
    let letter = server.write_file("letter.jpg", &common::camera_photo());
    let mut rita = browser
        .person_without_scripts(&server.base, test, "rita", PHONE)
        .await;
    rita.open("/", "form").await;
    assert!(!rita.shows("Full name").await, "the choice comes first");
    rita.fill("Domain name", "example.com").await;
    rita.choose("acting for the holder").await;
    rita.fill("Full name", "Rita Agent").await;
    rita.fill("Email address", "rita@agency.example").await;
    rita.attach("Identity document, front", &photo).await;
    rita.attach("Authorisation letter signed by the holder", &letter)
        .await;
    assert_eq!(
        rita.script("return document.querySelectorAll('figure.preview').length;")
            .await,
        "0",
        "the page's own script did not run"
    );
    rita.choose("I agree").await;
    rita.press("Send my request", "tracking-page").await;
    let text = rita.text().await;
    assert!(text.contains("We have received your request"), "{text}");
    assert!(text.contains("waiting for review"), "{text}");
    rita.close().await;
}

#[tokio::test]
async fn password_fields_look_like_every_other_field() {
    let test = "password-fields";
    let Some((server, browser)) = start(&[]).await else {
        return;
    };
    let mut alice = browser.person(&server.base, test, "alice", DESKTOP).await;
    let looks = |id: &str| {
        format!(
            "const s = getComputedStyle(document.getElementById('{id}')); \
             return [s.width, s.padding, s.fontSize, s.borderTop, s.borderRadius].join(' / ');"
        )
    };
    alice.open(&server.setup_link(), "setup").await;
    assert_eq!(
        alice.script(&looks("password")).await,
        alice.script(&looks("name")).await,
        "setting the first password"
    );
    alice.fill("Name", "alice").await;
    alice.fill("Password (12 to 128", PASSWORD).await;
    alice.fill("The same password again", PASSWORD).await;
    alice.press("Create admin", "after-setup").await;
    alice.open("/review/login", "sign-in").await;
    assert_eq!(
        alice.script(&looks("password")).await,
        alice.script(&looks("name")).await,
        "signing in"
    );
    alice.close().await;
}
