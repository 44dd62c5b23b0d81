//! Pages, errors and reasons in the reader's language: chosen from `Accept-Language`,
//! switched with a plain link, remembered in a cookie.

use crate::common::*;
use rocket::http::{Cookie, Header, Status};

async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> (Status, String) {
    let mut request = app.client.get(path.to_owned());
    if let Some(languages) = accept_language {
        request = request.header(Header::new("Accept-Language", languages.to_owned()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    (status, body.replace("&#x2F;", "/").replace("&#x27;", "'"))
}

fn html_lang(page: &str) -> &str {
    let start = page.find("<html lang=\"").expect("an html element") + 12;
    &page[start..start + page[start..].find('"').unwrap()]
}

#[rocket::async_test]
async fn the_browser_language_chooses_the_page_language() {
    let app = TestApp::start().await;
    for (header, lang, words) in [
        (None, "en", "Request your domain's transfer code"),
        (
            Some("de-CH,de;q=0.9,en;q=0.5"),
            "de",
            "Den Transfercode Ihrer Domain beantragen",
        ),
        (
            Some("fr-CH, fr;q=0.9"),
            "fr",
            "Demander le code de transfert de votre domaine",
        ),
        (
            Some("it"),
            "it",
            "Richiedere il codice di trasferimento del suo dominio",
        ),
        (
            Some("es-ES, pt"),
            "en",
            "Request your domain's transfer code",
        ),
    ] {
        let (status, body) = page(&app, "/", header).await;
        assert_eq!(status, Status::Ok);
        assert_eq!(html_lang(&body), lang, "{header:?}");
        assert!(body.contains(words), "{header:?}");
    }
}

#[rocket::async_test]
async fn the_switch_is_a_plain_link_and_the_choice_is_remembered() {
    let app = TestApp::start().await;
    let (_, english) = page(&app, "/status", None).await;
    assert!(english.contains("href=\"/status?lang=it\""), "{english}");
    let switched = app.client.get("/status?lang=it").dispatch().await;
    let remembered = switched
        .cookies()
        .get("td_lang")
        .map(|c| c.value().to_owned());
    assert_eq!(remembered.as_deref(), Some("it"));
    let body = switched.into_string().await.unwrap();
    assert!(body.contains("Stato del servizio"), "{body}");
    // The cookie now wins over the browser's language, on every page.
    let later = app
        .client
        .get("/")
        .cookie(Cookie::new("td_lang", "it"))
        .header(Header::new("Accept-Language", "de"))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(html_lang(&later), "it");
    let odd = app.client.get("/?lang=klingon").dispatch().await;
    assert!(
        odd.cookies().get("td_lang").is_none(),
        "only our languages are remembered"
    );
}

#[rocket::async_test]
async fn errors_speak_the_readers_language_in_pages_and_the_api() {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let (status, body) = page(&app, "/track/not-a-token", Some("de")).await;
    assert_eq!(status, Status::NotFound);
    assert!(body.contains("Nicht gefunden"), "{body}");
    let response = app
        .client
        .post("/api/v1/requests")
        .header(Header::new("Accept-Language", "fr"))
        .header(valid_submission("example.com", &camera_photo()).finish().0)
        .body(
            valid_submission("exa mple", &camera_photo())
                .text("consent", "")
                .finish()
                .1,
        )
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let answer: serde_json::Value = response.into_json().await.unwrap();
    let domain = answer["errors"]["domain"].as_str().unwrap();
    assert!(
        domain.contains("n'est pas un nom de domaine valide"),
        "{answer}"
    );
}

#[rocket::async_test]
async fn a_standard_reason_reaches_the_requester_in_their_language_and_free_text_as_written() {
    let app = TestApp::with_staff(|_| {}).await;
    let (id, token) = app.submit_example().await;
    let alice = app.sign_in("alice").await;
    app.staff_post(&alice, format!("/review/requests/{id}/claim"), &[])
        .await;
    app.staff_post(
        &alice,
        format!("/review/requests/{id}/reject"),
        &[("template", "<script>"), ("reason", "")],
    )
    .await;
    assert_eq!(
        app.status_by_api(id, &token).await["status"],
        "submitted",
        "an unknown reason key is no reason"
    );
    let rejected = app
        .staff_post(
            &alice,
            format!("/review/requests/{id}/reject"),
            &[
                ("template", "reason-edited"),
                ("reason", "Bitte ein unbearbeitetes Foto."),
            ],
        )
        .await;
    assert_eq!(rejected.status(), Status::SeeOther);
    let (_, german) = page(&app, &format!("/track/{token}"), Some("de")).await;
    assert!(
        german
            .contains("Das Foto scheint bearbeitet worden zu sein. Bitte ein unbearbeitetes Foto."),
        "{german}"
    );
    assert!(german.contains("nicht bewilligt"));
    let (_, italian) = page(&app, &format!("/track/{token}"), Some("it")).await;
    assert!(italian.contains("La foto sembra essere stata ritoccata."));
}

#[rocket::async_test]
async fn times_are_shown_in_the_service_time_zone_as_each_language_writes_them() {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.com")
        .await;
    let (_, token) = app.submit_example().await;
    let (_, german) = page(&app, &format!("/track/{token}"), Some("de")).await;
    let zurich = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Zurich);
    let today = zurich.format("%d.%m.%Y").to_string();
    assert!(german.contains(&today), "{today} in {german}");
    assert!(german.contains("CET") || german.contains("CEST"));
    let (_, english) = page(&app, &format!("/track/{token}"), None).await;
    assert!(english.contains(&zurich.format("%Y-%m-%d").to_string()));
}
