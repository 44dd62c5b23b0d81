//! No plaintext identity document reaches the disk or the logs, and no token reaches a log.

use std::path::Path;

use crate::common::*;
use entities::{document, request};
use rocket::http::Status;
use sea_orm::EntityTrait;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    any_of(&[needle.to_vec()]).is_match(haystack)
}

/// One matcher for several byte strings (the regex engine is optimised even in test builds).
fn any_of(needles: &[Vec<u8>]) -> regex::bytes::Regex {
    let pattern = needles
        .iter()
        .map(|needle| {
            needle
                .iter()
                .map(|b| format!("\\x{b:02x}"))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|");
    regex::bytes::RegexBuilder::new(&pattern)
        .unicode(false)
        .build()
        .unwrap()
}

/// Every file under `roots` that contains any of `needles`.
fn files_containing(roots: &[&Path], needles: &[Vec<u8>]) -> Vec<String> {
    let matcher = any_of(needles);
    let mut hits = Vec::new();
    for root in roots {
        for path in files_under(root) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if matcher.is_match(&bytes) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[rocket::async_test]
async fn an_uploaded_document_leaves_no_plaintext_on_disk_or_in_logs() {
    // This process's temporary files go to a directory of its own, scanned below (the
    // machine's whole /tmp may hold gigabytes of other builds).
    let temp = process_temp_dir();
    let app = TestApp::start().await;
    assert!(app.dir.path().starts_with(temp));
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let marker = format!("MARKER-{}", uuid::Uuid::new_v4().simple());
    let exif = exif_tiff(&[
        ascii_field(exif::Tag::ImageDescription, &marker),
        ascii_field(exif::Tag::Artist, &marker),
        ascii_field(exif::Tag::Copyright, &marker),
    ]);
    let photo = encode_jpeg(
        &image::RgbImage::from_fn(1400, 1000, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
        }),
        Some(exif),
    );
    let by_form = app
        .submit_form(valid_submission("example.com", &photo))
        .await;
    assert_status(&by_form, Status::SeeOther);
    let token_from_form = location(&by_form)
        .trim_start_matches("/track/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let by_api = app
        .post_multipart("/api/v1/requests", valid_submission("example.com", &photo))
        .await;
    assert_status(&by_api, Status::Created);
    let body: serde_json::Value = by_api.into_json().await.unwrap();
    let token_from_api = body["tracking_token"].as_str().unwrap().to_owned();
    // The tracking page is visited too, so its route is in the log.
    assert_status(
        &app.client
            .get(format!("/track/{token_from_form}"))
            .dispatch()
            .await,
        Status::Ok,
    );

    // What a plaintext copy would contain: the marker, slices of the original, and slices
    // of the sanitised JPEG (decrypted here the way a reviewer's view will).
    let mut needles = vec![marker.as_bytes().to_vec()];
    // Offsets inside the entropy-coded data: headers (tables) are the same in every JPEG an
    // encoder writes at one quality, so they would match unrelated files.
    for start in [photo.len() / 4, photo.len() / 2, photo.len() - 300] {
        needles.push(photo[start..start + 48].to_vec());
    }
    let services = app.services();
    for document in document::Entity::find().all(app.db()).await.unwrap() {
        let binding = transfer_desk::platform::crypto::DocumentBinding {
            request_id: document.request_id,
            document_id: document.id,
            key_version: document.key_version as u32,
        };
        let key = services
            .master_key
            .unwrap(document.wrapped_key.as_ref().unwrap(), &binding)
            .unwrap();
        let clean = key
            .open_document(
                &binding,
                &services.store.get(&document.storage_name).await.unwrap(),
            )
            .unwrap();
        assert!(
            !contains(&clean, marker.as_bytes()),
            "the marker does not survive sanitising"
        );
        for start in [clean.len() / 4, clean.len() / 2, clean.len() - 300] {
            needles.push(clean[start..start + 48].to_vec());
        }
    }
    assert_eq!(
        request::Entity::find().all(app.db()).await.unwrap().len(),
        2
    );

    // The scan itself must be able to see a plaintext copy.
    let canary = app.dir.path().join("canary.bin");
    std::fs::write(
        &canary,
        [b"prefix".as_slice(), needles.last().unwrap()].concat(),
    )
    .unwrap();
    assert_eq!(
        files_containing(&[app.dir.path()], &needles),
        [canary.display().to_string()]
    );
    std::fs::remove_file(&canary).unwrap();

    let hits = files_containing(
        &[&app.data_dir(), services.store.files_dir().unwrap(), temp],
        &needles,
    );
    assert!(hits.is_empty(), "plaintext found in {hits:?}");

    let logs = captured_logs();
    assert!(logs.contains("request submitted"), "the log capture works");
    assert!(
        logs.contains("/track/<token>"),
        "requests are logged by route pattern"
    );
    for secret in [&marker, &token_from_form, &token_from_api] {
        assert!(!logs.contains(secret.as_str()), "a secret reached the log");
    }
    for needle in &needles {
        assert!(!contains(logs.as_bytes(), needle));
    }
}

#[rocket::async_test]
async fn a_storage_failure_leaves_no_row_and_no_file() {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let uploads = app.services().store.files_dir().unwrap().to_path_buf();
    std::fs::remove_dir_all(&uploads).unwrap();
    std::fs::write(&uploads, b"not a directory").unwrap();

    let form = valid_submission("example.com", &jpeg_photo(800, 600, None)).file(
        "id_back",
        "back.jpg",
        "image/jpeg",
        &jpeg_photo(800, 600, None),
    );
    let response = app.submit_form(form).await;
    assert_status(&response, Status::InternalServerError);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("Nothing was stored"));
    assert!(request::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
    assert!(document::Entity::find()
        .all(app.db())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(std::fs::read(&uploads).unwrap(), b"not a directory");
}
