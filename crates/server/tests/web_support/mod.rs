//! What the website tests share: a real headless Chromium driven over WebDriver,
//! and a plain HTTPS client with a hand-kept cookie jar for header-level checks.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::common::TestServer;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where screenshots of every page the tests visit are kept, as artifacts.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("web-screenshots")
}

pub fn base_url(t: &TestServer) -> String {
    format!("https://localhost:{}", t.server.passport_addr.unwrap().port())
}

/// Chromium must trust this test server only: the base64 SHA-256 of the server
/// certificate's public key, for `--ignore-certificate-errors-spki-list`.
fn server_spki_hash(t: &TestServer) -> String {
    let pem = std::fs::read_to_string(t.dir.path().join("tls").join("server-key.pem"))
        .expect("the server's TLS key is in the data folder");
    let key = rcgen::KeyPair::from_pem(&pem).expect("the server key parses");
    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("bound").port()
}

/// A headless Chromium with a fresh profile, driven through its own chromedriver.
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub downloads: tempfile::TempDir,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(t: &TestServer) -> (Self, Child) {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                Path::new(path).exists(),
                "the browser tests need {path}: install Debian's `{package}` package \
                 (apt-get install -y chromium chromium-driver; .ci/run does this)"
            );
        }
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let webdriver = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("a profile folder");
        let downloads = tempfile::tempdir().expect("a downloads folder");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--ignore-certificate-errors-spki-list={}", server_spki_hash(t)),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                },
            },
        });
        let capabilities = capabilities.as_object().expect("an object").clone();
        let mut last_error = String::new();
        for _ in 0..100 {
            if let Some(status) = driver.try_wait().expect("chromedriver status") {
                panic!("chromedriver exited at once: {status}");
            }
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => {
                    return (Browser { client, base: base_url(t), downloads, _profile: profile }, driver);
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("could not start a Chromium session through chromedriver: {last_error}");
    }

    /// Runs a story, then always closes the browser (a panic would otherwise
    /// leave Chromium running), then reports the story's panic if it had one.
    pub async fn run<F, Fut>(t: &TestServer, story: F)
    where
        F: FnOnce(Browser) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (browser, mut driver) = Browser::start(t).await;
        let client = browser.client.clone();
        let outcome = tokio::spawn(story(browser)).await;
        let _ = client.close().await;
        let _ = driver.kill().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    pub async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("navigation");
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("current url").path().to_string()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Clicks something that loads a new page (a link, a form's button) and
    /// waits until the new page has replaced the old one.
    pub async fn click(&self, css: &str) {
        let old_page = self.client.find(Locator::Css("html")).await.expect("a page is open");
        self.click_in_place(css).await;
        for _ in 0..200 {
            if old_page.tag_name().await.is_err() {
                return self.wait_loaded().await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {css} did not load a new page");
    }

    /// Clicks something that stays on this page (a tick box, a download).
    pub async fn click_in_place(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    async fn wait_loaded(&self) {
        for _ in 0..200 {
            let state = self.client.execute("return document.readyState;", vec![]).await;
            if state.ok().and_then(|s| s.as_str().map(str::to_string)).as_deref() == Some("complete") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page did not finish loading");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
            .text()
            .await
            .expect("element text")
    }

    /// What a form field holds.
    pub async fn value(&self, css: &str) -> String {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.prop("value").await.expect("a value property").unwrap_or_default()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.expect("find_all").len()
    }

    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Saves a whole-page screenshot as `target/web-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .ok()
            .and_then(|h| h.as_u64())
            .unwrap_or(900)
            .clamp(600, 4000);
        let _ = self.client.set_window_size(1280, u32::try_from(height).unwrap_or(900) + 160).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
        let _ = self.client.set_window_size(1280, 900).await;
    }

    /// Signs in through the sign-in page.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.open("/sign-in").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("#sign-in").await;
    }

    pub async fn sign_out(&self) {
        self.click("#sign-out").await;
        self.text("#notice").await;
    }

    /// Waits for a file to appear in the downloads folder and returns its contents.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.path().join(name);
        for _ in 0..100 {
            if let Ok(bytes) = std::fs::read(&path)
                && !bytes.is_empty()
            {
                return bytes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let present: Vec<_> = std::fs::read_dir(self.downloads.path())
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        panic!("{name} was not downloaded; the folder holds {present:?}");
    }
}

/// A plain HTTPS client for header-level checks: it trusts the server's CA,
/// follows no redirects, and keeps cookies by hand so the test sees every flag.
pub struct WebClient {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
}

impl WebClient {
    pub fn new(t: &TestServer) -> Self {
        let tls = (*t.trust.client_config().expect("TLS configuration")).clone();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTPS client");
        Self { http, base: base_url(t), cookies: HashMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str().expect("ASCII cookie");
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.keep_cookies(&response);
        response
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = serde_urlencoded_pairs(form);
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        self.keep_cookies(&response);
        response
    }

    /// The CSRF token in a page's forms.
    pub async fn csrf_on(&mut self, path: &str) -> String {
        let html = self.get(path).await.text().await.expect("page body");
        csrf_in(&html).unwrap_or_else(|| panic!("{path} has no CSRF field"))
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf_on("/sign-in").await;
        self.post("/sign-in", &[("csrf", &csrf), ("username", username), ("password", password)]).await
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

fn serde_urlencoded_pairs(form: &[(&str, &str)]) -> String {
    form.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))).collect::<Vec<_>>().join("&")
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
