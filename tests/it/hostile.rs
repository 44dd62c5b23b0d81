//! Bad input gets a clear answer and changes nothing.

use crate::common::*;
use entities::{document, request};
use rocket::http::{ContentType, Header, Status};

async fn app_with_example() -> TestApp {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    app
}

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.count(request::Entity).await, 0, "no request row");
    assert_eq!(app.count(document::Entity).await, 0, "no document row");
    assert!(
        app.stored_files().is_empty(),
        "no file in uploads: {:?}",
        app.stored_files()
    );
}

#[rocket::async_test]
async fn hostile_files_are_refused_in_plain_words() {
    let app = app_with_example().await;
    let photo = jpeg_photo(800, 600, None);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("huge.png", png_declaring(100_000, 100_000), "too large"),
        ("wide.png", png_declaring(12_000, 10), "too large"),
        (
            "truncated.jpg",
            photo[..photo.len() / 3].to_vec(),
            "could not be read",
        ),
        ("header-only.jpg", photo[..3].to_vec(), "could not be read"),
        (
            "page.jpg",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
            "not a JPEG, PNG or WebP",
        ),
        (
            "drawing.jpg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            "not a JPEG, PNG or WebP",
        ),
        (
            "letter.jpg",
            b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec(),
            "not a JPEG, PNG or WebP",
        ),
        (
            "scan.jpg",
            b"II*\x00\x08\x00\x00\x00\x00\x00".to_vec(),
            "not a JPEG, PNG or WebP",
        ),
        ("empty.jpg", Vec::new(), "empty"),
    ];
    for (name, bytes, expected) in cases {
        let form =
            valid_submission("example.com", &photo).file("id_back", name, "image/jpeg", &bytes);
        let response = app.submit_form(form).await;
        assert_status(&response, Status::UnprocessableEntity);
        let html = response.into_string().await.unwrap();
        assert!(html.contains(expected), "{name}: expected “{expected}”");
        let api = app
            .post_multipart(
                "/api/v1/requests",
                valid_submission("example.com", &photo).file("id_back", name, "image/jpeg", &bytes),
            )
            .await;
        assert_status(&api, Status::UnprocessableEntity);
        let body: serde_json::Value = api.into_json().await.unwrap();
        assert!(
            body["errors"]["id_back"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{name}"
        );
        assert_nothing_stored(&app).await;
    }
}

#[rocket::async_test]
async fn a_file_over_20_mb_is_refused_with_413() {
    let app = app_with_example().await;
    let mut big = jpeg_photo(64, 64, None);
    big.resize(21 * 1024 * 1024, 0);
    let response = app.submit_form(valid_submission("example.com", &big)).await;
    assert_status(&response, Status::PayloadTooLarge);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("at most 20 MB"));
    let api = app
        .post_multipart("/api/v1/requests", valid_submission("example.com", &big))
        .await;
    assert_status(&api, Status::PayloadTooLarge);
    let body: serde_json::Value = api.into_json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("20 MB"));
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn a_request_over_45_mb_is_refused_with_413() {
    let app = app_with_example().await;
    let mut part = jpeg_photo(64, 64, None);
    part.resize(16 * 1024 * 1024, 0);
    let form = valid_submission("example.com", &part)
        .file("id_back", "b.jpg", "image/jpeg", &part)
        .file("authorization", "c.jpg", "image/jpeg", &part);
    let response = app.post_multipart("/api/v1/requests", form).await;
    assert_status(&response, Status::PayloadTooLarge);
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn missing_fields_are_named_and_typed_values_kept() {
    let app = app_with_example().await;
    let form = Multipart::new()
        .text("domain", "example.com")
        .text("full_name", "")
        .text("email", "anna-at-example.org")
        .text("phone", "+41 44 000 00 00")
        .text("relation", "representative");
    let response = app.submit_form(form).await;
    assert_status(&response, Status::UnprocessableEntity);
    let html = response.into_string().await.unwrap();
    for message in [
        "Please enter your full name.",
        "This does not look like an email address",
        "Please add a photo of the front of your identity document.",
        "please add the holder&#x27;s signed authorisation letter",
        "only check your identity with your consent",
        "please choose your documents again",
    ] {
        assert!(html.contains(message), "missing “{message}”");
    }
    assert!(
        html.contains("value=\"anna-at-example.org\""),
        "typed email kept"
    );
    assert!(
        html.contains("value=\"+41 44 000 00 00\""),
        "typed phone kept"
    );
    assert!(
        html.contains("value=\"representative\" checked"),
        "choice kept"
    );
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn an_unknown_domain_is_refused_with_advice() {
    let app = app_with_example().await;
    let response = app
        .post_multipart(
            "/api/v1/requests",
            valid_submission("not-ours.example", &jpeg_photo(640, 480, None)),
        )
        .await;
    assert_status(&response, Status::UnprocessableEntity);
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert!(body["errors"]["domain"]
        .as_str()
        .unwrap()
        .contains("We do not manage this domain"));
    assert_eq!(body["errors"].as_object().unwrap().len(), 1);
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn xss_payloads_in_every_text_field_are_rendered_inert() {
    let app = app_with_example().await;
    let payload = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";
    let mut form = Multipart::new();
    for field in ["domain", "full_name", "email", "phone", "relation"] {
        form = form.text(field, payload);
    }
    let response = app.submit_form(form).await;
    assert_status(&response, Status::UnprocessableEntity);
    let html = response.into_string().await.unwrap();
    assert!(!html.contains("<script>alert"), "payload is escaped");
    assert!(!html.contains("<img src=x"), "payload is escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn a_form_post_without_its_csrf_token_is_forbidden() {
    let app = app_with_example().await;
    app.csrf_token().await;
    let (content_type, body) = valid_submission("example.com", &jpeg_photo(640, 480, None))
        .text("csrf_token", "forged-token")
        .finish();
    let response = app
        .client
        .post("/requests")
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    assert_status(&response, Status::Forbidden);
    let (content_type, body) =
        valid_submission("example.com", &jpeg_photo(640, 480, None)).finish();
    let response = app
        .client
        .post("/requests")
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    assert_status(&response, Status::Forbidden);
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn cross_origin_posts_are_forbidden() {
    let app = app_with_example().await;
    let token = app.csrf_token().await;
    for (name, value) in [
        ("Origin", "https://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
    ] {
        for path in ["/requests", "/api/v1/requests"] {
            let (content_type, body) = valid_submission("example.com", &jpeg_photo(640, 480, None))
                .text("csrf_token", &token)
                .finish();
            let response = app
                .client
                .post(path)
                .header(content_type)
                .header(Header::new("Host", "localhost"))
                .header(Header::new(name, value))
                .body(body)
                .dispatch()
                .await;
            assert_status(&response, Status::Forbidden);
        }
    }
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn every_response_carries_the_security_headers() {
    let app = app_with_example().await;
    let responses = vec![
        app.client.get("/").dispatch().await,
        app.client.get("/track/nothing").dispatch().await,
        app.client.get("/no/such/page").dispatch().await,
        app.client.get("/api/v1/requests/x").dispatch().await,
        app.client.post("/requests").dispatch().await,
        app.client.get("/static/style.css").dispatch().await,
    ];
    for response in responses {
        let headers = response.headers();
        let csp = headers.get_one("Content-Security-Policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(headers.get_one("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(headers.get_one("Referrer-Policy"), Some("no-referrer"));
    }
}

#[rocket::async_test]
async fn the_form_says_what_is_accepted_before_upload() {
    let app = app_with_example().await;
    let html = app.page("/").await;
    for text in [
        "JPEG, PNG or WebP",
        "20 MB",
        "encrypted",
        "destroyed",
        "30 days",
    ] {
        assert!(html.contains(text), "{text}");
    }
    for field in [
        "domain",
        "full_name",
        "email",
        "phone",
        "id_front",
        "id_back",
        "authorization",
        "consent",
    ] {
        assert!(
            html.contains(&format!("for=\"{field}\"")) || field == "consent",
            "label for {field}"
        );
    }
    assert!(!html.contains("<script>"), "no inline script");
}

#[rocket::async_test]
async fn the_browser_finds_a_favicon() {
    let app = app_with_example().await;
    let response = app.client.get("/favicon.ico").dispatch().await;
    assert_status(&response, Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::Icon));
    let bytes = response.into_bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
}

#[rocket::async_test]
async fn requests_for_other_host_names_get_421_and_change_nothing() {
    let app = app_with_example().await;
    for host in ["evil.example", "127.0.0.1:8000@evil.example", "example.com"] {
        let page = app
            .client
            .get("/")
            .header(Header::new("Host", host))
            .dispatch()
            .await;
        assert_status(&page, Status::MisdirectedRequest);
        let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
        let api = app
            .client
            .post("/api/v1/requests")
            .header(content_type)
            .header(Header::new("Host", host))
            .body(body)
            .dispatch()
            .await;
        assert_status(&api, Status::MisdirectedRequest);
        assert!(api.into_string().await.unwrap().len() < 4096);
    }
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn tracking_links_use_the_public_url_whatever_the_host_says() {
    let app = TestApp::start_with(|s| {
        s.public_url = Some("https://desk.example.net".into());
    })
    .await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let created = app
        .client
        .post("/api/v1/requests")
        .header(content_type)
        .header(Header::new("Host", "127.0.0.1:8000"))
        .body(body)
        .dispatch()
        .await;
    assert_status(&created, Status::Created);
    let hsts = created
        .headers()
        .get_one("Strict-Transport-Security")
        .map(str::to_owned);
    let answer: serde_json::Value = created.into_json().await.unwrap();
    assert!(answer["tracking_url"]
        .as_str()
        .unwrap()
        .starts_with("https://desk.example.net/track/"));
    assert!(
        hsts.is_some_and(|h| h.contains("max-age=")),
        "HTTPS sends HSTS"
    );
}

#[rocket::async_test]
async fn a_request_without_host_still_gets_a_whole_tracking_link() {
    let app = app_with_example().await;
    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let created = app
        .client
        .post("/api/v1/requests")
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    assert_status(&created, Status::Created);
    assert!(created
        .headers()
        .get_one("Strict-Transport-Security")
        .is_none());
    let answer: serde_json::Value = created.into_json().await.unwrap();
    let url = answer["tracking_url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!url.contains(":///"), "{url}");
}

#[rocket::async_test]
async fn a_json_body_is_told_what_the_api_takes() {
    let app = app_with_example().await;
    let refused = app
        .client
        .post("/api/v1/requests")
        .header(ContentType::JSON)
        .body(r#"{"domain": "example.com"}"#)
        .dispatch()
        .await;
    assert_status(&refused, Status::UnsupportedMediaType);
    let answer: serde_json::Value = refused.into_json().await.unwrap();
    let message = answer["error"].as_str().unwrap();
    assert!(
        message.contains("multipart/form-data") && message.contains("id_front"),
        "{message}"
    );
    assert!(!message.contains("try again in a few minutes"));
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn cookies_are_secure_except_on_loopback() {
    // A client that keeps no cookies: each page sets a fresh one.
    let app = TestApp::start_for_staff(|s| s.allowed_hosts = vec!["desk.internal".into()]).await;
    let cookie_of = |host: &'static str| {
        let app = &app;
        async move {
            let page = app
                .client
                .get("/")
                .header(Header::new("Host", host))
                .dispatch()
                .await;
            page.headers()
                .get_one("Set-Cookie")
                .unwrap_or_default()
                .to_owned()
        }
    };
    let remote = cookie_of("desk.internal").await;
    assert!(
        remote.starts_with("td_csrf=") && remote.contains("Secure"),
        "{remote}"
    );
    let local = cookie_of("127.0.0.1:8000").await;
    assert!(
        local.starts_with("td_csrf=") && !local.contains("Secure"),
        "{local}"
    );
}

#[rocket::async_test]
async fn one_address_cannot_flood_the_queue() {
    let app = TestApp::start_with(|s| s.submissions_per_hour = 3).await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    for _ in 0..3 {
        app.submit_example().await;
    }
    for _ in 0..2 {
        let refused = app
            .post_multipart(
                "/api/v1/requests",
                valid_submission("example.com", &camera_photo()),
            )
            .await;
        assert_status(&refused, Status::TooManyRequests);
        let wait: i64 = refused
            .headers()
            .get_one("Retry-After")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=3601).contains(&wait), "{wait}");
        let answer: serde_json::Value = refused.into_json().await.unwrap();
        assert!(answer["error"].as_str().unwrap().contains("try again in"));
    }
    assert_eq!(app.count(request::Entity).await, 3);
}

#[rocket::async_test]
async fn nothing_is_decoded_for_a_domain_we_do_not_manage() {
    let app = app_with_example().await;
    let response = app
        .post_multipart(
            "/api/v1/requests",
            valid_submission("not-ours.example", &png_declaring(100_000, 100_000)),
        )
        .await;
    assert_status(&response, Status::UnprocessableEntity);
    let answer: serde_json::Value = response.into_json().await.unwrap();
    let errors = answer["errors"].as_object().unwrap();
    assert!(errors.contains_key("domain"));
    assert!(
        !errors.contains_key("id_front"),
        "the photo was never looked at: {errors:?}"
    );
}

#[rocket::async_test]
async fn a_small_png_that_would_decode_to_hundreds_of_megabytes_is_refused_unread() {
    let app = app_with_example().await;
    // 10,000 × 5,000 is within the 50 MP limit, but at 16-bit RGBA it decodes to 400 MB.
    let png = png_with_header(10_000, 5_000, 16, 6);
    assert!(png.len() < 1024);
    let response = app
        .post_multipart("/api/v1/requests", valid_submission("example.com", &png))
        .await;
    assert_status(&response, Status::UnprocessableEntity);
    let answer: serde_json::Value = response.into_json().await.unwrap();
    let message = answer["errors"]["id_front"].as_str().unwrap();
    assert!(message.contains("too much image data"), "{message}");
    assert_nothing_stored(&app).await;
}

#[rocket::async_test]
async fn load_balancers_can_ask_whether_an_instance_is_alive_and_ready() {
    let app = app_with_example().await;
    // A balancer probes by the instance's address, which is no allowed host name.
    let alive = app
        .client
        .get("/healthz")
        .header(Header::new("Host", "10.0.0.7:8000"))
        .dispatch()
        .await;
    assert_status(&alive, Status::Ok);
    let ready = app.client.get("/readyz").dispatch().await;
    assert_status(&ready, Status::Ok);
    let parts: serde_json::Value = ready.into_json().await.unwrap();
    assert_eq!(parts["database"], "ok");
    assert_eq!(parts["document_store"], "ok");

    // Without its document store the instance is alive but not ready.
    std::fs::remove_dir_all(app.services().store.files_dir().unwrap()).unwrap();
    let not_ready = app.client.get("/readyz").dispatch().await;
    assert_status(&not_ready, Status::ServiceUnavailable);
    let parts: serde_json::Value = not_ready.into_json().await.unwrap();
    assert_eq!(parts["document_store"], "failing");
    assert_status(&app.client.get("/healthz").dispatch().await, Status::Ok);
}
