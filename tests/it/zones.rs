//! The machine-readable zone: specimens drawn in OCR-B, degraded like phone photos, read by
//! tesseract after intake and shown to reviewers beside the photo, with the signals they
//! fire; and what stays of them on disk, in logs and in the evidence.
//!
//! Without tesseract and the OCR-B font a plain `cargo test` skips the OCR stories with one
//! line; `.ci/run` installs both and sets `TRANSFER_DESK_OCR_TESTS=required`, so that there
//! a missing tool fails.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ab_glyph::FontVec;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use transfer_desk::workflow::zones::read_waiting;

use crate::common::specimen::{self, Degradation};
use crate::common::{
    camera_photo, captured_logs, files_under, review_uri, Multipart, Staff, TestApp,
};

/// The OCR program and the font, or `None` (with one line) where a plain `cargo test` may
/// skip; with `TRANSFER_DESK_OCR_TESTS=required` a missing one fails the test.
pub(crate) fn ocr_tools() -> Option<(PathBuf, FontVec)> {
    let tool = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("tesseract"))
        .find(|path| path.is_file());
    let font = specimen::ocr_b();
    match (tool, font) {
        (Some(tool), Some(font)) => Some((tool, font)),
        _ if std::env::var("TRANSFER_DESK_OCR_TESTS").as_deref() == Ok("required") => {
            panic!("TRANSFER_DESK_OCR_TESTS=required, but tesseract or {} is missing (apt-get install tesseract-ocr tesseract-ocr-eng fonts-ocr-b)", specimen::OCR_B)
        }
        _ => {
            eprintln!("skipped: no tesseract or OCR-B font (set TRANSFER_DESK_OCR_TESTS=required to fail instead)");
            None
        }
    }
}

const TD3_SPECIMEN: [&str; 2] = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
];
const TD1_SPECIMEN: [&str; 3] = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
];

/// A valid passport zone for Anna Maria Eriksson, expiring in 2034.
fn current_passport() -> [String; 2] {
    let zone = mrz::format_td3(&mrz::Td3Fields {
        issuing_country: "UTO".into(),
        document_number: "X4R7Q2M81".into(),
        surname: "ERIKSSON".into(),
        given_names: "ANNA MARIA".into(),
        nationality: "UTO".into(),
        date_of_birth: mrz::MrzDate::Calendar(mrz::Date::new(1974, 8, 12)),
        sex: mrz::Sex::Female,
        date_of_expiry: mrz::MrzDate::Calendar(mrz::Date::new(2034, 3, 9)),
        ..Default::default()
    });
    let mut lines = zone.lines().map(str::to_owned);
    [lines.next().unwrap(), lines.next().unwrap()]
}

async fn app_reading_zones(tool: PathBuf) -> TestApp {
    let app = TestApp::with_staff(|settings| settings.ocr_command = Some(tool)).await;
    app.add_domain(
        "eriksson.example",
        "Anna Maria Eriksson",
        "anna@eriksson.example",
    )
    .await;
    app
}

fn request(kind: &str, front: &[u8]) -> Multipart {
    Multipart::new()
        .text("domain", "eriksson.example")
        .text("full_name", "Anna Eriksson")
        .text("email", "anna@eriksson.example")
        .text("relation", "holder")
        .text("id_document_type", kind)
        .text("consent", "yes")
        .file("id_front", "front.jpg", "image/jpeg", front)
}

/// The review page once every zone of the request has been read.
async fn page_once_read(app: &TestApp, staff: &Staff, id: uuid::Uuid) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let page = app.staff_page(staff, review_uri(id, "")).await;
        if !page.contains("MRZ: reading") {
            // The page reads the documents' rows before their zones: one rendered while the
            // reading was being recorded can show the zone without its signals. The next is
            // whole.
            return app.staff_page(staff, review_uri(id, "")).await;
        }
        assert!(Instant::now() < deadline, "the zone was never read");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_passport_zone_is_read_and_shown_beside_the_photo() {
    let Some((tool, font)) = ocr_tools() else {
        return;
    };
    let app = app_reading_zones(tool).await;
    let zone = current_passport();
    let lines: Vec<&str> = zone.iter().map(String::as_str).collect();
    let photo = specimen::document_with_zone(&font, &lines, Degradation::default());
    let (id, _) = app.submit_by_api(request("passport", &photo)).await;
    let alice = app.sign_in("alice").await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(page.contains("X4R7Q2M81"), "the number: {page}");
    assert!(page.contains("2034-03-09") && page.contains("1974-08-12"));
    assert!(page.contains("<td>ERIKSSON</td>"), "{page}");
    assert_eq!(
        page.matches("data-check=").count(),
        5,
        "TD3 has five check digits"
    );
    assert!(!page.contains("FAILS"), "every check digit holds");
    for signal in [
        "check digits fail",
        "document expired",
        "MRZ name differs",
        "another kind",
    ] {
        assert!(!page.contains(signal), "{signal} fired on a good passport");
    }
    // The page is stamped with who sees it, and the view is audited.
    assert!(page.contains("data-stamp=\"alice ·"));
    let views = app.audit_details("document_view").await;
    assert!(views.iter().any(|d| d == "id_front zone"), "{views:?}");
}

#[tokio::test]
async fn an_expired_card_fires_the_expiry_signal() {
    let Some((tool, font)) = ocr_tools() else {
        return;
    };
    let app = app_reading_zones(tool).await;
    let back = specimen::document_with_zone(
        &font,
        &TD1_SPECIMEN,
        Degradation {
            angle_degrees: -1.2,
            seed: 7,
            ..Default::default()
        },
    );
    let form =
        request("identity_card", &camera_photo()).file("id_back", "back.jpg", "image/jpeg", &back);
    let (id, _) = app.submit_by_api(form).await;
    let alice = app.sign_in("alice").await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(page.contains("D23145890"), "{page}");
    assert!(page.contains("2012-04-15"));
    assert!(page.contains("document expired"));
    // Tesseract reads some of this photo's optional-data fillers as letters, which are left
    // as read (the composite may then fail); the fields' own check digits hold.
    for field in ["document_number", "birth_date", "expiry_date"] {
        assert!(
            page.contains(&format!("class=\"ok\" data-check=\"{field}\"")),
            "{field}: {page}"
        );
    }
    // The front shows no zone, the back does: no "not found" signal for the card.
    assert!(page.contains("MRZ not found in this photo"));
    assert!(!page.contains("no MRZ found on a passport or identity card"));
}

#[tokio::test]
async fn an_altered_digit_fires_the_check_digit_signal() {
    let Some((tool, font)) = ocr_tools() else {
        return;
    };
    let app = app_reading_zones(tool).await;
    let [first, second] = current_passport();
    // The expiry moved from 2034 to 2039, its check digit left as it was.
    let forged = format!("{}9{}", &second[..22], &second[23..]);
    assert_ne!(forged, second);
    let photo = specimen::document_with_zone(&font, &[&first, &forged], Degradation::default());
    let (id, _) = app.submit_by_api(request("passport", &photo)).await;
    let alice = app.sign_in("alice").await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(page.contains("2039-03-09"), "{page}");
    assert!(page.contains("MRZ check digits fail"));
    assert!(page.contains("FAILS"));
}

#[tokio::test]
async fn a_passport_photo_without_a_zone_and_a_wrong_kind_are_signals() {
    let Some((tool, font)) = ocr_tools() else {
        return;
    };
    let app = app_reading_zones(tool).await;
    let (id, _) = app
        .submit_by_api(request("passport", &camera_photo()))
        .await;
    let alice = app.sign_in("alice").await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(page.contains("MRZ not found in this photo"), "{page}");
    assert!(page.contains("no MRZ found on a passport or identity card"));

    // An identity card's zone, said to be a passport.
    let card = specimen::document_with_zone(&font, &TD1_SPECIMEN, Degradation::default());
    let (id, _) = app.submit_by_api(request("passport", &card)).await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(
        page.contains("MRZ shows another kind of document"),
        "{page}"
    );
}

/// An OCR program that prints `body`'s output whatever it is shown: what the reader makes of
/// a zone, without tesseract. The program lives in the returned folder.
fn ocr_printing(body: &str) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ocr");
    std::fs::write(&path, format!("#!/bin/sh\ncat >/dev/null\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, path)
}

/// The review page of a passport photo whose zone the OCR program reads as `lines`.
async fn page_of_zone_read_as(lines: &[&str]) -> String {
    let echo: Vec<String> = lines.iter().map(|line| format!("echo '{line}'")).collect();
    let (_program_dir, program) = ocr_printing(&echo.join("\n"));
    let app = app_reading_zones(program).await;
    let (id, _) = app
        .submit_by_api(request("passport", &camera_photo()))
        .await;
    let alice = app.sign_in("alice").await;
    page_once_read(&app, &alice, id).await
}

/// The forgery: one digit of the number changed (9 to 1). Swapping `0` for `O`
/// elsewhere in the number would make both check digits agree, but a number holds letters and
/// digits alike: it is shown as read, and its check fails.
#[tokio::test]
async fn an_altered_document_number_is_not_repaired_into_holds() {
    let forged = [
        TD3_SPECIMEN[0],
        "L898102C36UTO7408122F1204159ZE184226B<<<<<10",
    ];
    let page = page_of_zone_read_as(&forged).await;
    assert!(page.contains("L898102C3"), "the number as read: {page}");
    assert!(!page.contains("L8981O2C3"), "{page}");
    assert!(page.contains("MRZ check digits fail"), "{page}");
    assert_eq!(
        page.matches("FAILS").count(),
        2,
        "the number's and the composite"
    );
}

/// A letter read where only a digit can stand (`O` in the birth date) is taken for the digit
/// it resembles when the check digits then agree, and the page says so and shows what was
/// read.
#[tokio::test]
async fn a_corrected_reading_is_shown_as_corrected() {
    let misread = [
        TD3_SPECIMEN[0],
        "L898902C36UTO74O8122F1204159ZE184226B<<<<<10",
    ];
    let page = page_of_zone_read_as(&misread).await;
    assert!(page.contains("1974-08-12"), "{page}");
    assert!(!page.contains("FAILS"), "{page}");
    assert_eq!(
        page.matches("holds once corrected").count(),
        2,
        "the birth date's and the composite: {page}"
    );
    assert!(page.contains("read as 74O8122"), "{page}");
    assert!(page.contains("class=\"corrected\" data-check=\"birth_date\""));
}

/// A forged card with correct check digits: they all hold, and the page says what that does
/// not prove.
#[tokio::test]
async fn check_digits_that_hold_are_said_not_to_prove_the_document_genuine() {
    let zone = current_passport();
    let lines: Vec<&str> = zone.iter().map(String::as_str).collect();
    let page = page_of_zone_read_as(&lines).await;
    assert_eq!(
        page.matches("class=\"ok\" data-check=").count(),
        5,
        "{page}"
    );
    assert!(
        page.contains("Check digits only show that the zone was read consistently"),
        "{page}"
    );
    assert!(page.contains("anyone can compute them"));
    assert!(page.contains("they do not prove that the document is genuine"));
}

/// The OCR program fails on the photo of a passport: a signal, as when no zone is found.
#[tokio::test]
async fn an_ocr_program_that_fails_on_a_passport_is_a_signal() {
    let (_program_dir, failing) = ocr_printing("exit 3");
    let app = app_reading_zones(failing).await;
    let (id, _) = app
        .submit_by_api(request("passport", &camera_photo()))
        .await;
    let alice = app.sign_in("alice").await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(
        page.contains("MRZ not read (the OCR program failed)"),
        "{page}"
    );
    assert!(
        page.contains("MRZ not read: the OCR program failed on a passport or identity card"),
        "{page}"
    );
    assert!(!page.contains("no MRZ found on a passport"));
}

#[tokio::test]
async fn without_an_ocr_program_the_page_says_the_zone_was_not_read() {
    let app = TestApp::with_staff(|settings| settings.ocr_command = None).await;
    let (id, _) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("MRZ not read (no OCR installed)"), "{page}");
}

/// Every row of a table, as `Debug` prints them.
async fn all_rows<E: EntityTrait>(db: &sea_orm::DatabaseConnection) -> String
where
    E::Model: std::fmt::Debug,
{
    format!("{:?}", E::find().all(db).await.unwrap())
}

/// A photo that came in while no OCR program was installed is read once one is (after the
/// operator installs it and the service starts again).
#[tokio::test]
async fn zones_left_unread_without_ocr_are_read_once_it_is_installed() {
    let Some((tool, font)) = ocr_tools() else {
        return;
    };
    let app = TestApp::with_staff(|settings| settings.ocr_command = None).await;
    app.add_domain(
        "eriksson.example",
        "Anna Maria Eriksson",
        "anna@eriksson.example",
    )
    .await;
    let photo = specimen::document_with_zone(&font, &TD3_SPECIMEN, Degradation::default());
    let (id, _) = app.submit_by_api(request("passport", &photo)).await;
    let alice = app.sign_in("alice").await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(page.contains("MRZ not read (no OCR installed)"), "{page}");
    let mut installed = app.services().clone();
    installed.settings.ocr_command = Some(tool);
    let report = read_waiting(&installed, chrono::Utc::now()).await.unwrap();
    assert_eq!(report.read, 1, "{report:?}");
    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(page.contains("L898902C3"), "{page}");
    let again = read_waiting(&installed, chrono::Utc::now()).await.unwrap();
    assert_eq!(again, Default::default(), "a zone is read once");
}

/// What the zone said is sealed with its document: never in clear in the database, the
/// store or the logs, gone with the document at the decision; the evidence keeps only
/// which signals fired.
#[tokio::test]
async fn the_zone_text_is_never_in_clear_and_goes_with_the_document() {
    let Some((tool, font)) = ocr_tools() else {
        return;
    };
    let app = app_reading_zones(tool).await;
    let photo = specimen::document_with_zone(&font, &TD3_SPECIMEN, Degradation::default());
    let (id, _) = app.submit_by_api(request("passport", &photo)).await;
    let alice = app.sign_in("alice").await;
    let page = page_once_read(&app, &alice, id).await;
    assert!(page.contains("L898902C3"), "the zone was read: {page}");
    let secrets = ["L898902C3", "ZE184226B", "P<UTOERIKSSON", "7408122"];
    let in_clear = |what: &str, haystack: &[u8]| {
        for secret in secrets {
            assert!(
                !haystack
                    .windows(secret.len())
                    .any(|w| w == secret.as_bytes()),
                "{secret} in clear in {what}"
            );
        }
    };
    let everywhere = async || {
        for path in files_under(app.dir.path()) {
            in_clear(&path.display().to_string(), &std::fs::read(&path).unwrap());
        }
        let documents = entities::document::Entity::find()
            .filter(entities::document::Column::RequestId.eq(id))
            .all(app.db())
            .await
            .unwrap();
        for document in &documents {
            in_clear("the signals", document.signals.as_bytes());
            in_clear(
                "the sealed zone",
                document.sealed_zone.as_deref().unwrap_or_default(),
            );
        }
        let audit = all_rows::<entities::audit_event::Entity>(app.db()).await;
        in_clear("the audit trail", audit.as_bytes());
        let events = all_rows::<entities::request_event::Entity>(app.db()).await;
        in_clear("the timeline", events.as_bytes());
        let mails = all_rows::<entities::outbox_mail::Entity>(app.db()).await;
        in_clear("the outbox", mails.as_bytes());
        in_clear("the logs", captured_logs().as_bytes());
        documents
    };
    let before = everywhere().await;
    assert!(before.iter().any(|d| d.sealed_zone.is_some()));

    // The photo fired signals: two reviewers approve.
    for staff in [&alice, &app.sign_in("bob").await] {
        let answer = app.claim_and_approve(staff, id).await;
        assert_eq!(answer.status(), rocket::http::Status::SeeOther);
    }
    let after = everywhere().await;
    for document in &after {
        assert!(document.sealed_zone.is_none() && document.wrapped_key.is_none());
    }
    let evidence: serde_json::Value = serde_json::from_str(&after[0].signals).unwrap();
    assert_eq!(
        evidence["zone"]["expired"], true,
        "the evidence keeps the outcome"
    );
    assert_eq!(evidence["zone"]["check_digits_fail"], false);
}

/// An OCR program that notes each run in `runs` and then hangs, as a reading does that the
/// service does not live to finish.
fn hanging_ocr_program(dir: &std::path::Path, runs: &std::path::Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("hanging-ocr");
    let script = format!(
        "#!/bin/sh\ncat >/dev/null\necho run >> '{}'\nexec sleep 30\n",
        runs.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn runs_so_far(runs: &std::path::Path) -> usize {
    std::fs::read_to_string(runs)
        .unwrap_or_default()
        .lines()
        .count()
}

/// A reading that the service did not live to finish (a picture built to exhaust its memory
/// takes it down) counts: a document whose reading was interrupted twice is marked failed,
/// with a signal reviewers see, and is not read a third time.
#[tokio::test]
async fn a_document_whose_reading_was_interrupted_twice_is_not_read_again() {
    let app = TestApp::with_staff(|settings| settings.ocr_command = None).await;
    let (id, _) = app.submit_example().await;
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let mut installed = app.services().clone();
    installed.settings.ocr_command = Some(hanging_ocr_program(dir.path(), &runs));
    let started = chrono::Utc::now();
    // Each reading is cut off while the program runs, as a crash would; the next pass comes
    // once the reading counts as abandoned.
    for (interrupted, at) in [(1, started), (2, started + chrono::Duration::minutes(3))] {
        let services = installed.clone();
        let reading = tokio::spawn(async move { read_waiting(&services, at).await });
        let deadline = Instant::now() + Duration::from_secs(60);
        while runs_so_far(&runs) < interrupted {
            assert!(
                Instant::now() < deadline,
                "reading {interrupted} never began"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        reading.abort();
        let _ = reading.await;
    }
    let later = started + chrono::Duration::minutes(6);
    read_waiting(&installed, later).await.unwrap();
    assert_eq!(runs_so_far(&runs), 2, "not read a third time");
    let [front] = &app.live_documents(id).await[..] else {
        panic!("one document");
    };
    assert_eq!(
        front.zone_status,
        Some(transfer_desk::workflow::ZoneStatus::Failed)
    );
    let signals: serde_json::Value = serde_json::from_str(&front.signals).unwrap();
    assert_eq!(signals["zone"]["reading_interrupted"], true, "{signals}");
    let again = read_waiting(&installed, later + chrono::Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(again, Default::default(), "given up for good");
    assert_eq!(runs_so_far(&runs), 2);
    let alice = app.sign_in("alice").await;
    let page = app.staff_page(&alice, review_uri(id, "")).await;
    assert!(
        page.contains("reading the MRZ was interrupted twice"),
        "{page}"
    );
}
