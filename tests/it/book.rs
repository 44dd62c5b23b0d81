//! The book (`docs/`) and the OpenAPI document kept in step with the code: the settings
//! reference names exactly the variables the code reads, the invariants name tests that
//! exist, every relative link of the book resolves, and every `/api/v1` route and answer is
//! in the served OpenAPI document.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;
use rocket::http::{Header, Status};
use serde_json::Value;

use crate::common::{camera_photo, valid_submission, Multipart, TestApp};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// A source file without its unit tests (a `#[cfg(test)] mod tests` at its end, or a whole
/// `tests.rs`/`testing.rs`), which name variables the service never reads.
fn without_unit_tests(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    if name == "tests.rs" || name == "testing.rs" {
        return String::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    match Regex::new(r"#\[cfg\(test\)\]\s*mod tests")
        .unwrap()
        .find(&text)
    {
        Some(tests) => text[..tests.start()].to_owned(),
        None => text,
    }
}

/// The `TRANSFER_DESK_*` variables the code reads: string literals that begin with one. A
/// literal that ends in `_` is a prefix, named `PREFIX*` in the reference.
fn variables_in_code() -> BTreeSet<String> {
    let literal = Regex::new(r#""(TRANSFER_DESK_[A-Z0-9_]+)"#).unwrap();
    files_under(&repo().join("src"), "rs")
        .iter()
        .flat_map(|path| {
            let code = without_unit_tests(path);
            literal
                .captures_iter(&code)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .map(|name| match name.ends_with('_') {
            true => format!("{name}*"),
            false => name,
        })
        .collect()
}

/// The variables the settings reference's tables name, in their first column.
fn variables_in_reference() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("docs/src/settings.md")).unwrap();
    let name = Regex::new(r"`(TRANSFER_DESK_[A-Z0-9_]+\*?)`").unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix('|'))
        .filter_map(|row| row.split('|').next())
        .flat_map(|first| {
            name.captures_iter(first)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_settings_reference_names_exactly_the_variables_the_code_reads() {
    let code = variables_in_code();
    let reference = variables_in_reference();
    assert!(
        code.len() > 20,
        "the scan found too few variables: {code:?}"
    );
    let missing: Vec<_> = code.difference(&reference).collect();
    let stale: Vec<_> = reference.difference(&code).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/src/settings.md lacks a row for {missing:?} (read by src/), \
         and names {stale:?}, which no code reads"
    );
}

#[test]
fn every_test_the_invariants_name_exists() {
    let text = std::fs::read_to_string(repo().join("docs/src/security/invariants.md")).unwrap();
    let named = Regex::new(r"`(?:[a-z_]+::)+([a-z0-9_]+)`").unwrap();
    let mut sources = String::new();
    for dir in ["src", "tests"] {
        for path in files_under(&repo().join(dir), "rs") {
            sources.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let tests: Vec<String> = named
        .captures_iter(&text)
        .map(|c| c[1].to_owned())
        .collect();
    assert!(tests.len() >= 15, "{tests:?}");
    for test in tests {
        assert!(
            sources.contains(&format!("fn {test}(")),
            "the invariants name {test}, which is no test"
        );
    }
}

/// mdBook's id of a heading: lowercase letters, digits, `-` and `_`; spaces become `-`.
fn heading_id(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// A chapter's text outside its code blocks.
fn prose(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut in_code = false;
    let mut kept = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && !line.starts_with("    ") {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

fn anchors_of(path: &Path) -> BTreeSet<String> {
    let markup = Regex::new(r"[`*]|\[([^\]]*)\]\([^)]*\)").unwrap();
    prose(path)
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| {
            let text = line.trim_start_matches('#').trim();
            heading_id(&markup.replace_all(text, "$1"))
        })
        .collect()
}

#[test]
fn every_relative_link_of_the_book_resolves() {
    let src = repo().join("docs/src");
    let link = Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut broken = Vec::new();
    let chapters = files_under(&src, "md");
    assert!(chapters.len() > 30, "{chapters:?}");
    for chapter in &chapters {
        for target in link.captures_iter(&prose(chapter)).map(|c| c[1].to_owned()) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = match file {
                "" => chapter.clone(),
                file => chapter.parent().unwrap().join(file),
            };
            let fine = file.is_file() && (anchor.is_empty() || anchors_of(&file).contains(anchor));
            if !fine {
                broken.push(format!("{}: {target}", chapter.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// `/api/v1/requests/<id>` as OpenAPI writes it: `/api/v1/requests/{id}`.
fn openapi_path(rocket_uri: &str) -> String {
    Regex::new(r"<([a-z_]+)(\.\.)?>")
        .unwrap()
        .replace_all(rocket_uri, "{$1}")
        .into_owned()
}

async fn served_document(app: &TestApp) -> Value {
    let response = app.client.get("/api/v1/openapi.json").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    let body = response.into_string().await.unwrap();
    // For CI, which validates the document as served with openapi-spec-validator.
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi.json");
    std::fs::write(copy, &body).unwrap();
    serde_json::from_str(&body).unwrap()
}

#[rocket::async_test]
async fn every_api_route_is_in_the_openapi_document_and_nothing_else() {
    let app = TestApp::start().await;
    let document = served_document(&app).await;
    assert_eq!(document["openapi"], "3.1.0");
    let mounted: BTreeSet<(String, String)> = app
        .client
        .rocket()
        .routes()
        .filter(|route| route.uri.path().starts_with("/api/v1"))
        .map(|route| {
            let path = openapi_path(route.uri.path());
            (path, route.method.as_str().to_ascii_lowercase())
        })
        .collect();
    assert!(mounted.len() >= 3, "{mounted:?}");
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(|method| (path.clone(), method.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        mounted, documented,
        "the routes under /api/v1 and the OpenAPI document's operations differ"
    );
}

fn schema_fields(document: &Value, schema: &str) -> BTreeSet<String> {
    document["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn answer_fields(answer: &Value) -> BTreeSet<String> {
    answer.as_object().unwrap().keys().cloned().collect()
}

#[rocket::async_test]
async fn the_apis_answers_have_the_fields_the_document_describes() {
    let app = TestApp::start().await;
    app.add_domain("example.com", "Anna Muster", "anna@example.org")
        .await;
    let document = served_document(&app).await;

    let (content_type, body) = valid_submission("example.com", &camera_photo()).finish();
    let created = app.client.post("/api/v1/requests").header(content_type);
    let created: Value = created
        .body(body)
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(answer_fields(&created), schema_fields(&document, "Created"));

    let id = created["request_id"].as_str().unwrap();
    let token = created["tracking_token"].as_str().unwrap();
    let status = app.status_by_api(id.parse().unwrap(), token).await;
    assert_eq!(
        answer_fields(&status),
        schema_fields(&document, "RequestAnswer")
    );
    let event = &status["timeline"][0];
    assert_eq!(
        answer_fields(event),
        schema_fields(&document, "TimelineEvent")
    );
    let names = &document["components"]["schemas"]["TimelineEvent"]["properties"]["event"]["enum"];
    assert!(
        names.as_array().unwrap().contains(&event["event"]),
        "{names}"
    );

    let unknown = app
        .client
        .get(format!("/api/v1/requests/{id}"))
        .header(Header::new("Authorization", "Bearer nonsense"))
        .dispatch()
        .await;
    assert_eq!(unknown.status(), Status::NotFound);
    let unknown: Value = unknown.into_json().await.unwrap();
    assert_eq!(
        answer_fields(&unknown),
        schema_fields(&document, "ErrorAnswer")
    );

    let (content_type, body) = Multipart::new().text("domain", "example.com").finish();
    let refused = app.client.post("/api/v1/requests").header(content_type);
    let refused = refused.body(body).dispatch().await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let refused: Value = refused.into_json().await.unwrap();
    assert_eq!(
        answer_fields(&refused),
        schema_fields(&document, "FieldErrorsAnswer")
    );
}
