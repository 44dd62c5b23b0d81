//! Headless Chromium driven through ChromeDriver (WebDriver), finding things as a person does:
//! fields by their label, buttons by their text. Every page visited is saved as a screenshot
//! under `target/browser-screens/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Set to `required` (as `.ci/run` does) to make a missing browser a failure, not a skip.
const REQUIRED_VARIABLE: &str = "TRANSFER_DESK_BROWSER_TESTS";
/// axe-core's `axe.min.js`, which `.ci/run` brings from npm; every page a story visits is
/// checked with it.
const AXE_VARIABLE: &str = "TRANSFER_DESK_AXE_JS";
const AXE_DEFAULT: &str = "/tmp/td-axe-4.10.3/axe.min.js";
/// What axe checks: WCAG 2.1 A and AA, and its best practices.
const AXE_TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub const PHONE: (u32, u32) = (390, 844);
pub const DESKTOP: (u32, u32) = (1280, 900);

/// One ChromeDriver; each person gets their own browser (own cookies) from it.
pub struct Browser {
    driver: Child,
    url: String,
    profiles: tempfile::TempDir,
    /// axe-core's source, when it is there (required where the browser is).
    axe: Option<std::sync::Arc<String>>,
}

fn required() -> bool {
    std::env::var(REQUIRED_VARIABLE).is_ok_and(|v| v == "required")
}

/// axe-core's source; `None` (after saying so) where it is missing and not required.
fn load_axe() -> Option<std::sync::Arc<String>> {
    let path = std::env::var(AXE_VARIABLE).unwrap_or_else(|_| AXE_DEFAULT.to_owned());
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(std::sync::Arc::new(source)),
        Err(error) => {
            assert!(
                !required(),
                "{REQUIRED_VARIABLE}=required but axe-core is missing at {path} ({error}); .ci/run brings it from npm"
            );
            eprintln!("not checking accessibility: axe-core is missing at {path} (see .ci/run)");
            None
        }
    }
}

impl Browser {
    /// `None` (after saying so once) when no browser is installed and none is required.
    pub fn start() -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|path| !std::path::Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            assert!(
                !required(),
                "{REQUIRED_VARIABLE}=required but {missing:?} is missing (apt-get install chromium chromium-driver)"
            );
            eprintln!(
                "skipping browser test: {missing:?} not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = crate::common::server::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Browser {
            driver,
            url: format!("http://127.0.0.1:{port}"),
            profiles: tempfile::tempdir().unwrap(),
            axe: load_axe(),
        })
    }

    /// A new browser window for one person, with its own profile and viewport, whose
    /// browser asks for English pages.
    pub async fn person(&self, base: &str, screens: &str, who: &str, size: (u32, u32)) -> Page {
        self.person_speaking(base, screens, who, size, "en-GB,en")
            .await
    }

    /// A person whose browser sends `languages` as its `Accept-Language`.
    pub async fn person_speaking(
        &self,
        base: &str,
        screens: &str,
        who: &str,
        size: (u32, u32),
        languages: &str,
    ) -> Page {
        self.new_page(base, screens, who, size, languages, true)
            .await
    }

    /// A person whose browser runs no scripts of the pages (a profile with JavaScript off).
    pub async fn person_without_scripts(
        &self,
        base: &str,
        screens: &str,
        who: &str,
        size: (u32, u32),
    ) -> Page {
        self.new_page(base, screens, who, size, "en-GB,en", false)
            .await
    }

    async fn new_page(
        &self,
        base: &str,
        screens: &str,
        who: &str,
        size: (u32, u32),
        languages: &str,
        scripts: bool,
    ) -> Page {
        // Screenshots of an earlier run of this test and person would read as this run's.
        let prefix = format!("{screens}-{who}-");
        if let Ok(entries) = std::fs::read_dir(screens_dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let profile = self.profiles.path().join(who);
        let options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--password-store=basic",
                format!("--lang={}", languages.split(',').next().unwrap_or("en")),
                format!("--window-size={},{}", size.0, size.1),
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "intl.accept_languages": languages,
                // 2 blocks: the pages' own scripts do not run (WebDriver's still do).
                "profile.managed_default_content_settings.javascript": if scripts { 1 } else { 2 },
            },
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        let phone = (size.0 < DESKTOP.0).then_some(size);
        let page = Page {
            client,
            base: base.to_owned(),
            screens: format!("{screens}-{who}"),
            step: 0,
            // axe-core runs in the page, and needs its timers: only where scripts run.
            axe: self.axe.clone().filter(|_| scripts),
            phone,
        };
        if let Some((width, height)) = phone {
            page.emulate_phone(width, height).await;
        }
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One person's browser window.
pub struct Page {
    client: Client,
    base: String,
    screens: String,
    step: u32,
    axe: Option<std::sync::Arc<String>>,
    /// A phone's viewport, emulated: Chromium's windows are never narrower than 500 px.
    phone: Option<(u32, u32)>,
}

/// A WebDriver command on the session that fantoccini has no method for: Chrome DevTools
/// through ChromeDriver's `goog/cdp/execute`, or the W3C virtual authenticators.
#[derive(Debug)]
struct SessionCommand {
    method: http::Method,
    /// After `session/{id}/`.
    path: String,
    body: Option<serde_json::Value>,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(|body| body.to_string()),
        )
    }
}

impl Page {
    /// Opens `path` (relative to the server, or a whole URL) and saves a screenshot.
    pub async fn open(&mut self, path: &str, shot: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.client.goto(&url).await.unwrap();
        self.shot(shot).await;
    }

    /// Saves a screenshot of the whole page as `target/browser-screens/<test>-<who>-NN-<shot>.png`,
    /// and checks the page with axe-core: any violation fails the test.
    pub async fn shot(&mut self, name: &str) {
        self.step += 1;
        self.check_accessibility(name).await;
        let png = match self.phone {
            Some((width, viewport)) => {
                // The emulated screen grows to the page's height for the screenshot.
                let height = self.height().await.max(u64::from(viewport)) as u32;
                self.emulate_phone(width, height).await;
                let png = self.client.screenshot().await.unwrap();
                self.emulate_phone(width, viewport).await;
                png
            }
            None => self.whole_window_screenshot().await,
        };
        let dir = screens_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{}-{:02}-{name}.png", self.screens, self.step));
        std::fs::write(file, png).unwrap();
    }

    /// The page on a phone's screen: `width` × `height` CSS pixels, touch, mobile layout.
    async fn emulate_phone(&self, width: u32, height: u32) {
        let metrics = SessionCommand {
            method: http::Method::POST,
            path: "goog/cdp/execute".into(),
            body: Some(json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {
                    "width": width, "height": height, "deviceScaleFactor": 1, "mobile": true,
                },
            })),
        };
        self.client.issue_cmd(metrics).await.unwrap();
    }

    /// Gives this browser a passkey authenticator of its own (W3C WebAuthn §11: a virtual
    /// CTAP2 platform authenticator that keeps discoverable credentials and verifies its
    /// user); returns its id.
    pub async fn add_passkey_authenticator(&self) -> String {
        let added = self
            .client
            .issue_cmd(SessionCommand {
                method: http::Method::POST,
                path: "webauthn/authenticator".into(),
                body: Some(json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserVerified": true,
                })),
            })
            .await
            .unwrap();
        added.as_str().unwrap().to_owned()
    }

    /// Whether the authenticator's user verification (its PIN or fingerprint) succeeds.
    pub async fn set_user_verified(&self, authenticator: &str, verified: bool) {
        self.client
            .issue_cmd(SessionCommand {
                method: http::Method::POST,
                path: format!("webauthn/authenticator/{authenticator}/uv"),
                body: Some(json!({ "isUserVerified": verified })),
            })
            .await
            .unwrap();
    }

    /// A desktop window grown to the page's height, so that the screenshot shows all of it.
    async fn whole_window_screenshot(&self) -> Vec<u8> {
        let (width, viewport) = self.client.get_window_size().await.unwrap();
        let height = self.height().await;
        self.client
            .set_window_size(width as u32, height.max(viewport) as u32)
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client
            .set_window_size(width as u32, viewport as u32)
            .await
            .unwrap();
        png
    }

    /// Runs axe-core on the page as it is now; panics listing each violation and where.
    async fn check_accessibility(&self, name: &str) {
        let Some(axe) = &self.axe else {
            return;
        };
        let loaded = self
            .client
            .execute(&format!("{axe}\n;return typeof axe === 'object';"), vec![])
            .await
            .unwrap();
        assert_eq!(loaded, serde_json::Value::Bool(true), "axe-core loads");
        let script = format!(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: {AXE_TAGS} }} }})\
               .then(result => done(result.violations.map(v => v.id + ' (' + v.impact + '): ' \
                 + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\
               .catch(error => done(['axe-core failed: ' + error]));"
        );
        let violations = self.client.execute_async(&script, vec![]).await.unwrap();
        let violations: Vec<String> = serde_json::from_value(violations).unwrap();
        assert!(
            violations.is_empty(),
            "{} on {name} ({}): {violations:#?}",
            self.screens,
            self.client.current_url().await.unwrap()
        );
    }

    /// The page's height in CSS pixels, as tall as a person scrolls.
    pub async fn height(&self) -> u64 {
        self.script("return document.documentElement.scrollHeight;")
            .await
            .parse()
            .unwrap()
    }

    /// Whether the page fits its window's width: nothing to scroll sideways.
    pub async fn fits_width(&self) -> bool {
        self.script(
            "return String(document.documentElement.scrollWidth <= document.documentElement.clientWidth);",
        )
        .await
            == "true"
    }

    /// Whether the control labelled `label` is shown (not hidden by the page's styles).
    pub async fn shows(&self, label: &str) -> bool {
        self.field(label).await.is_displayed().await.unwrap()
    }

    /// The form control whose `<label>` starts with `label`.
    pub async fn field(&self, label: &str) -> Element {
        let label = self
            .client
            .find(Locator::XPath(&format!(
                "//label[starts-with(normalize-space(.), {})]",
                literal(label)
            )))
            .await
            .unwrap_or_else(|_| panic!("no label {label:?}"));
        match label.attr("for").await.unwrap() {
            Some(id) => self.client.find(Locator::Id(&id)).await.unwrap(),
            None => label.find(Locator::XPath(".//input")).await.unwrap(),
        }
    }

    pub async fn fill(&self, label: &str, text: &str) {
        let field = self.field(label).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Ticks a checkbox or picks a radio button by its label.
    pub async fn choose(&self, label: &str) {
        let field = self.field(label).await;
        if !field.is_selected().await.unwrap() {
            field.click().await.unwrap();
        }
    }

    /// Picks the option shown as `option` in the select labelled `label`.
    pub async fn select(&self, label: &str, option: &str) {
        self.field(label)
            .await
            .select_by_label(option)
            .await
            .unwrap();
    }

    /// Chooses a file for the file input labelled `label`.
    pub async fn attach(&self, label: &str, path: &str) {
        self.field(label).await.send_keys(path).await.unwrap();
    }

    pub async fn value(&self, label: &str) -> String {
        self.field(label)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    pub async fn is_chosen(&self, label: &str) -> bool {
        self.field(label).await.is_selected().await.unwrap()
    }

    /// The page's language, as its `<html lang>` says.
    pub async fn language(&self) -> String {
        self.script("return document.documentElement.lang;").await
    }

    /// Follows the link whose text is `text` and saves a screenshot.
    pub async fn follow(&mut self, text: &str, shot: &str) {
        self.client
            .execute("window.__leaving = true;", vec![])
            .await
            .unwrap();
        self.client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|_| panic!("no link {text:?}"))
            .click()
            .await
            .unwrap();
        self.wait_until(
            "return window.__leaving === undefined && document.readyState === 'complete';",
        )
        .await;
        self.shot(shot).await;
    }

    /// The button whose own text is `text` (a shortcut hint in `<kbd>` may follow).
    pub async fn button(&self, text: &str) -> Element {
        let text = literal(text);
        self.client
            .find(Locator::XPath(&format!(
                "//button[normalize-space(text()[1])={text} or normalize-space(.)={text}]"
            )))
            .await
            .unwrap_or_else(|_| panic!("no button {text}"))
    }

    /// Presses a button that sends a form, waits for the next page and saves a screenshot.
    pub async fn press(&mut self, text: &str, shot: &str) {
        self.client
            .execute("window.__leaving = true;", vec![])
            .await
            .unwrap();
        self.button(text).await.click().await.unwrap();
        self.wait_until(
            "return window.__leaving === undefined && document.readyState === 'complete';",
        )
        .await;
        self.shot(shot).await;
    }

    /// Presses a button that asks for a passkey, and waits until the page that follows has
    /// loaded, or the page says why the passkey was refused; saves a screenshot.
    pub async fn press_for_passkey(&mut self, text: &str, shot: &str) {
        self.client
            .execute("window.__leaving = true;", vec![])
            .await
            .unwrap();
        self.button(text).await.click().await.unwrap();
        self.wait_until(
            "const s = document.querySelector('[data-passkey-status]'); \
             return (window.__leaving === undefined && document.readyState === 'complete') \
               || (!!s && !s.hidden);",
        )
        .await;
        self.shot(shot).await;
    }

    /// What the page says of the passkey it asked for, when it was refused.
    pub async fn passkey_refusal(&self) -> Option<String> {
        let said = self
            .script(
                "const s = document.querySelector('[data-passkey-status]'); \
                 return s && !s.hidden ? s.textContent : '';",
            )
            .await;
        (!said.is_empty()).then_some(said)
    }

    /// Waits (up to 20 s) until `script` returns true.
    pub async fn wait_until(&self, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let done = self.client.execute(script, vec![]).await;
            if matches!(done, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {script}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's HTML as the browser holds it.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Types `keys` into whatever has the keyboard focus, as a person would.
    pub async fn type_keys(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys(keys)
            .await
            .unwrap();
    }

    /// The `id` of the element that has the keyboard focus.
    pub async fn focused_id(&self) -> String {
        self.script("return document.activeElement ? document.activeElement.id : '';")
            .await
    }

    pub async fn script(&self, script: &str) -> String {
        match self.client.execute(script, vec![]).await.unwrap() {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn screens_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("browser-screens")
}

/// `text` as an XPath string literal, whatever quotes it holds.
fn literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}
