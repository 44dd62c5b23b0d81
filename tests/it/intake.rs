//! Requesters submit requests with their identity documents, by form and by API.

use crate::common::*;
use entities::{document, request};
use image::ImageDecoder;
use rocket::http::{Header, Status};
use sea_orm::EntityTrait;
use transfer_desk::platform::crypto::DocumentBinding;
use transfer_desk::workflow::{DocumentKind, RequestState};

async fn app_with_example() -> TestApp {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app
}

async fn only_document(app: &TestApp) -> (request::Model, document::Model) {
    let request = request::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let document = document::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    (request, document)
}

fn binding(document: &document::Model) -> DocumentBinding {
    DocumentBinding {
        request_id: document.request_id,
        document_id: document.id,
        key_version: document.key_version as u32,
    }
}

/// Decrypts a stored document as a reviewer's view would.
async fn open_stored(app: &TestApp, document: &document::Model) -> Vec<u8> {
    let services = app.services();
    let sealed = services.store.get(&document.storage_name).await.unwrap();
    let key = services
        .master_key
        .unwrap(document.wrapped_key.as_ref().unwrap(), &binding(document))
        .unwrap();
    key.open_document(&binding(document), &sealed)
        .unwrap()
        .to_vec()
}

#[rocket::async_test]
async fn holder_submits_by_form_and_lands_on_the_tracking_page() {
    let app = app_with_example().await;
    let response = app
        .submit_form(valid_submission(
            "Example.COM.",
            &jpeg_photo(1600, 1200, None),
        ))
        .await;
    assert_status(&response, Status::SeeOther);
    let tracking = location(&response);
    assert!(tracking.starts_with("/track/"), "{tracking}");

    let page = app.client.get(tracking.clone()).dispatch().await;
    assert_status(&page, Status::Ok);
    let html = page.into_string().await.unwrap();
    assert!(html.contains("Save this private link"));
    assert!(html.contains("waiting for review"));
    assert!(html.contains("example.com"));
    assert!(
        !html.contains("Anna Muster"),
        "the tracking page shows nothing of the person"
    );

    // The welcome box shows on the first view only: a bookmark of the first address leads
    // to the clean one, which shows the request without it.
    let again = app.client.get(tracking.clone()).dispatch().await;
    assert_status(&again, Status::SeeOther);
    let clean = location(&again);
    assert_eq!(format!("{clean}?new=true"), tracking);
    let later = app.page_text(&clean).await;
    assert!(!later.contains("Save this private link"), "{later}");
    assert!(later.contains("waiting for review"), "{later}");

    let (request, document) = only_document(&app).await;
    assert_eq!(request.domain, "example.com");
    assert_eq!(request.state, RequestState::Submitted);
    assert_eq!(document.kind, DocumentKind::IdFront);
    assert_eq!((document.width, document.height), (1600, 1200));
    assert_eq!(app.stored_files().len(), 1);
}

#[rocket::async_test]
async fn stored_documents_are_ciphertext_bound_to_their_request() {
    let app = app_with_example().await;
    let photo = jpeg_photo(1200, 900, None);
    assert_status(
        &app.submit_form(valid_submission("example.com", &photo))
            .await,
        Status::SeeOther,
    );
    let (_, document) = only_document(&app).await;

    let sealed = std::fs::read(&app.stored_files()[0]).unwrap();
    assert!(
        !sealed.starts_with(&[0xFF, 0xD8]),
        "the file on disk is not a JPEG"
    );
    assert_eq!(document.algorithm, "AES-256-GCM");
    assert!(document.wrapped_key.as_ref().unwrap().len() >= 32 + 16);

    let plain = open_stored(&app, &document).await;
    assert!(
        plain.starts_with(&[0xFF, 0xD8, 0xFF]),
        "opens to a JPEG with the right AAD"
    );

    let services = app.services();
    let key = services
        .master_key
        .unwrap(document.wrapped_key.as_ref().unwrap(), &binding(&document))
        .unwrap();
    let other_request = DocumentBinding {
        request_id: uuid::Uuid::new_v4(),
        ..binding(&document)
    };
    assert!(key.open_document(&other_request, &sealed).is_err());
    assert!(services
        .master_key
        .unwrap(document.wrapped_key.as_ref().unwrap(), &other_request)
        .is_err());
    let mut flipped = sealed.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    assert!(key.open_document(&binding(&document), &flipped).is_err());
}

#[rocket::async_test]
async fn integrator_submits_by_api_and_reads_status_with_the_token() {
    let app = app_with_example().await;
    let form = valid_submission("example.com", &jpeg_photo(800, 600, None)).file(
        "id_back",
        "back.png",
        "image/png",
        &png_photo(900, 600),
    );
    let response = app.post_multipart("/api/v1/requests", form).await;
    assert_status(&response, Status::Created);
    let body: serde_json::Value = response.into_json().await.unwrap();
    let id = body["request_id"].as_str().unwrap().to_owned();
    let token = body["tracking_token"].as_str().unwrap().to_owned();
    assert_eq!(body["status"], "submitted");
    assert_eq!(token.len(), 43);
    assert!(body["tracking_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/track/{token}")));
    assert_eq!(app.stored_files().len(), 2);

    let status = app
        .client
        .get(format!("/api/v1/requests/{id}"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_status(&status, Status::Ok);
    let status: serde_json::Value = status.into_json().await.unwrap();
    assert_eq!(status["status"], "submitted");
    assert_eq!(status["timeline"][0]["event"], "submitted");

    let request = request::Entity::find()
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        request.tracking_token_hash,
        token.as_bytes(),
        "only the hash is stored"
    );
    assert_eq!(request.tracking_token_hash.len(), 32);
}

#[rocket::async_test]
async fn api_status_is_404_for_every_wrong_key() {
    let app = app_with_example().await;
    let mut created = Vec::new();
    for _ in 0..2 {
        let response = app
            .post_multipart(
                "/api/v1/requests",
                valid_submission("example.com", &jpeg_photo(800, 600, None)),
            )
            .await;
        let body: serde_json::Value = response.into_json().await.unwrap();
        created.push((
            body["request_id"].as_str().unwrap().to_owned(),
            body["tracking_token"].as_str().unwrap().to_owned(),
        ));
    }
    let (first_id, _) = &created[0];
    let (_, second_token) = &created[1];
    let cases = [
        (first_id.clone(), Some(format!("Bearer {second_token}"))),
        (first_id.clone(), Some(format!("Bearer {}", "A".repeat(43)))),
        (first_id.clone(), Some("Bearer short".to_owned())),
        (first_id.clone(), Some(second_token.clone())),
        (first_id.clone(), None),
        (
            "not-a-uuid".to_owned(),
            Some(format!("Bearer {second_token}")),
        ),
        (
            uuid::Uuid::new_v4().to_string(),
            Some(format!("Bearer {second_token}")),
        ),
    ];
    for (id, auth) in cases {
        let mut request = app.client.get(format!("/api/v1/requests/{id}"));
        if let Some(auth) = auth {
            request = request.header(Header::new("Authorization", auth));
        }
        let response = request.dispatch().await;
        assert_status(&response, Status::NotFound);
        let body: serde_json::Value = response.into_json().await.unwrap();
        assert!(body["error"].is_string());
    }
}

#[rocket::async_test]
async fn unknown_and_malformed_tracking_tokens_get_the_same_404_page() {
    let app = app_with_example().await;
    let unknown = app
        .client
        .get(format!("/track/{}", "B".repeat(43)))
        .dispatch()
        .await;
    assert_status(&unknown, Status::NotFound);
    let unknown = unknown.into_string().await.unwrap();
    let malformed = app.client.get("/track/../../etc/passwd").dispatch().await;
    assert_status(&malformed, Status::NotFound);
    let short = app.client.get("/track/abc").dispatch().await;
    assert_status(&short, Status::NotFound);
    assert_eq!(short.into_string().await.unwrap(), unknown);
}

fn png_photo(width: u32, height: u32) -> Vec<u8> {
    let pixels = document_pixels(width, height);
    let mut out = std::io::Cursor::new(Vec::new());
    pixels.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[rocket::async_test]
async fn exif_location_is_dropped_and_orientation_applied() {
    let app = app_with_example().await;
    // Left half red, right half blue; EXIF says "rotate 90° clockwise to view".
    let pixels = image::RgbImage::from_fn(400, 200, |x, _| {
        if x < 200 {
            image::Rgb([230, 20, 20])
        } else {
            image::Rgb([20, 20, 230])
        }
    });
    let exif = exif_tiff(&[
        exif::Field {
            tag: exif::Tag::Orientation,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Short(vec![6]),
        },
        ascii_field(exif::Tag::Make, "Fairphone"),
        ascii_field(exif::Tag::Model, "FP5"),
        ascii_field(exif::Tag::Software, "Photoshop 25.0"),
        ascii_field(exif::Tag::GPSLatitudeRef, "N"),
        exif::Field {
            tag: exif::Tag::GPSLatitude,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Rational(vec![(46, 1).into(), (57, 1).into(), (0, 1).into()]),
        },
    ]);
    let photo = encode_jpeg(&pixels, Some(exif));
    // Two flat colours are no readable document: sent as they are.
    let form = valid_submission("example.com", &photo).text("send_anyway", "yes");
    assert_status(&app.submit_form(form).await, Status::SeeOther);

    let (_, document) = only_document(&app).await;
    let clean = open_stored(&app, &document).await;
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&clean)).unwrap();
    assert_eq!(decoder.exif_metadata().unwrap(), None, "no EXIF survives");
    assert!(!clean.windows(4).any(|w| w == b"Exif"));
    let upright = image::load_from_memory(&clean).unwrap().into_rgb8();
    assert_eq!(upright.dimensions(), (200, 400), "rotated to portrait");
    let top = upright.get_pixel(100, 50);
    let bottom = upright.get_pixel(100, 350);
    assert!(
        top[0] > 180 && top[2] < 80,
        "the left (red) half is now on top: {top:?}"
    );
    assert!(bottom[2] > 180 && bottom[0] < 80, "{bottom:?}");

    let signals: serde_json::Value = serde_json::from_str(&document.signals).unwrap();
    assert_eq!(signals["editing_software"], "Photoshop 25.0");
    assert_eq!(signals["camera"], "Fairphone FP5");
    assert_eq!(signals["no_camera_data"], false);
    assert_eq!(signals["original_width"], 200);
}

/// A sharp document photo, blurred as a shaking hand would.
fn blurred_photo() -> Vec<u8> {
    let sharp = document_pixels(1600, 1200);
    encode_jpeg(&image::imageops::blur(&sharp, 6.0), None)
}

#[rocket::async_test]
async fn a_blurred_photo_is_explained_and_goes_through_when_sent_anyway() {
    let app = app_with_example().await;
    let first = app
        .submit_form(valid_submission("example.com", &blurred_photo()))
        .await;
    assert_status(&first, Status::UnprocessableEntity);
    let page = first.into_string().await.unwrap();
    assert!(page.contains("This photo looks blurred"), "{page}");
    assert!(
        page.contains("name=\"send_anyway\""),
        "the way to send it anyway"
    );
    assert_eq!(
        app.count(entities::request::Entity).await,
        0,
        "nothing stored"
    );

    let again = valid_submission("example.com", &blurred_photo()).text("send_anyway", "yes");
    assert_status(&app.submit_form(again).await, Status::SeeOther);
    let (_, document) = only_document(&app).await;
    let signals: serde_json::Value = serde_json::from_str(&document.signals).unwrap();
    let sharpness = signals["quality"]["sharpness"].as_f64().unwrap();
    assert!(
        sharpness < f64::from(transfer_desk::intake::MIN_SHARPNESS),
        "{signals}"
    );
}

#[rocket::async_test]
async fn the_api_names_the_quality_problem_and_takes_send_anyway() {
    let app = app_with_example().await;
    let dark = {
        let mut pixels = document_pixels(1200, 900);
        for p in pixels.pixels_mut() {
            for c in p.0.iter_mut() {
                *c /= 8;
            }
        }
        encode_jpeg(&pixels, None)
    };
    let refused = app
        .post_multipart("/api/v1/requests", valid_submission("example.com", &dark))
        .await;
    assert_status(&refused, Status::UnprocessableEntity);
    let body: serde_json::Value = refused.into_json().await.unwrap();
    assert!(body["errors"]["id_front"]
        .as_str()
        .unwrap()
        .contains("very dark"));
    let sent = app
        .post_multipart(
            "/api/v1/requests",
            valid_submission("example.com", &dark).text("send_anyway", "yes"),
        )
        .await;
    assert_status(&sent, Status::Created);
}

/// What the form hides (the holder's details and letter of a representative, the company UID
/// of a signatory) but still holds after a change of mind is not the holder's to answer for.
#[rocket::async_test]
async fn a_holder_is_not_held_to_fields_the_form_hid_from_them() {
    let app = app_with_example().await;
    let form = valid_submission("example.com", &jpeg_photo(1600, 1200, None))
        .text("holder_verifies", "yes")
        .text("holder_name", "Someone Else")
        .text("holder_email", "not an address")
        .text("company_uid", "CHE-000.000.000")
        .file(
            "authorization",
            "letter.jpg",
            "image/jpeg",
            &jpeg_photo(1200, 900, None),
        );
    let response = app.submit_form(form).await;
    assert_status(&response, Status::SeeOther);
    let (request, document) = only_document(&app).await;
    assert_eq!(request.holder_name, None);
    assert_eq!(request.company_uid, None);
    assert_eq!(
        document.kind,
        DocumentKind::IdFront,
        "the letter was not kept"
    );
}

/// The error summary lists the problems in the order a person meets the fields on the page.
#[rocket::async_test]
async fn the_error_summary_follows_the_order_of_the_page() {
    let app = TestApp::start_with(|s| {
        s.smtp_url = Some(transfer_desk::platform::config::Secret::new(
            "smtp://127.0.0.1:9".to_owned(),
        ));
        s.registry_command = Some("cat > /dev/null".to_owned());
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let nearly_empty = Multipart::new()
        .text("kind", "nameservers")
        .text("relation", "representative")
        .text("holder_verifies", "yes");
    let response = app.submit_form(nearly_empty).await;
    assert_status(&response, Status::UnprocessableEntity);
    let page = response.into_string().await.unwrap();
    let summary = regex::Regex::new(r##"<li><a href="#([a-z_]+)">"##).unwrap();
    let listed: Vec<&str> = summary
        .captures_iter(&page)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(listed.len() >= 6, "{listed:?}");
    let on_the_page: Vec<usize> = listed
        .iter()
        .map(|id| {
            page.find(&format!(" id=\"{id}\""))
                .unwrap_or_else(|| panic!("no field #{id}"))
        })
        .collect();
    assert!(
        on_the_page.windows(2).all(|pair| pair[0] < pair[1]),
        "{listed:?} at {on_the_page:?}"
    );
}

/// What a person typed beside a picture no document has: the refusal keeps it.
fn strip_submission(front: &[u8]) -> Multipart {
    Multipart::new()
        .text("domain", "example.com")
        .text("full_name", "Anna Muster")
        .text("email", "anna@example.org")
        .text("phone", "+41 44 000 00 00")
        .text("relation", "holder")
        .text("consent", "yes")
        .file("id_front", "front.png", "image/png", front)
}

/// A PNG of 1 × 2,000 px takes a few hundred bytes; read as a document it once took the service
/// down. Pictures whose shape no identity document has are refused in plain words, by form and by
/// API, what was typed is kept, and nothing is stored.
#[rocket::async_test]
async fn pictures_no_identity_document_has_are_refused_in_plain_words() {
    let app = app_with_example().await;
    let cases = [
        (
            (1, 2000),
            "too narrow to be a photo of an identity document",
        ),
        (
            (2000, 1),
            "too narrow to be a photo of an identity document",
        ),
        (
            (400, 2000),
            "too narrow to be a photo of an identity document",
        ),
        ((150, 150), "too small to show an identity document"),
        (
            (1600, 120),
            "too narrow to be a photo of an identity document",
        ),
    ];
    for ((width, height), expected) in cases {
        let picture = png_photo(width, height);
        let response = app.submit_form(strip_submission(&picture)).await;
        assert_status(&response, Status::UnprocessableEntity);
        let html = response.into_string().await.unwrap();
        assert!(html.contains(expected), "{width} × {height}: {html}");
        for typed in ["Anna Muster", "anna@example.org", "+41 44 000 00 00"] {
            assert!(html.contains(&format!("value=\"{typed}\"")), "{typed} kept");
        }

        let form = valid_submission("example.com", &camera_photo()).file(
            "id_back",
            "back.png",
            "image/png",
            &picture,
        );
        let api = app.post_multipart("/api/v1/requests", form).await;
        assert_status(&api, Status::UnprocessableEntity);
        let body: serde_json::Value = api.into_json().await.unwrap();
        let message = body["errors"]["id_back"].as_str().unwrap();
        assert!(message.contains(expected), "{width} × {height}: {message}");
    }
    assert_eq!(app.count(request::Entity).await, 0, "no request row");
    assert_eq!(app.count(document::Entity).await, 0, "no document row");
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}

/// A letter is a page: a long screenshot of one goes through, a strip does not.
#[rocket::async_test]
async fn an_authorisation_letter_may_be_a_long_page_but_not_a_strip() {
    let app = app_with_example().await;
    let with_letter = |letter: &[u8]| {
        Multipart::new()
            .text("domain", "example.com")
            .text("full_name", "Rita Agent")
            .text("email", "rita@agency.example")
            .text("relation", "representative")
            .text("consent", "yes")
            .text("send_anyway", "yes")
            .file("id_front", "front.jpg", "image/jpeg", &camera_photo())
            .file("authorization", "letter.png", "image/png", letter)
    };
    let strip = app
        .post_multipart("/api/v1/requests", with_letter(&png_photo(2000, 1)))
        .await;
    assert_status(&strip, Status::UnprocessableEntity);
    let body: serde_json::Value = strip.into_json().await.unwrap();
    let message = body["errors"]["authorization"].as_str().unwrap();
    assert!(
        message.contains("too narrow to be a photo of a page"),
        "{message}"
    );
    assert_eq!(app.count(request::Entity).await, 0);
    assert!(app.stored_files().is_empty());

    let long_page = with_letter(&png_photo(400, 2000));
    let (_, _) = app.submit_by_api(long_page).await;
    assert_eq!(app.count(document::Entity).await, 2);
}
