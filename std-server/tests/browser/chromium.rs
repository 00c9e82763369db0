//! A real browser end to end: Debian's Chromium (installed by scripts/setup-test-deps.sh),
//! driven headless over the W3C WebDriver HTTP API of chromedriver, loads the example site from
//! staticd. The page must load with no console error, every image must decode, and the `<video>`
//! must seek to its middle and play — which needs correct 206 answers, also checked in the access
//! log. A screenshot goes to target/test-artifacts/browser-index.png.
//!
//! The test fails (it never skips) when Chromium or chromedriver is missing.

use crate::common::*;
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Upper bound for each browser-side wait (page load, scripts, the video).
const BROWSER_WAIT: Duration = Duration::from_secs(30);

/// target/test-artifacts (or under CARGO_TARGET_DIR), created.
pub(crate) fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

/// chromedriver in its own process group, and one WebDriver session. Dropping it deletes the
/// session (Chromium quits) and then kills the whole group, so no browser outlives the test.
pub(crate) struct Driver {
    child: Child,
    base: String,
    session: Option<String>,
    agent: ureq::Agent,
    /// More Chromium flags for this session.
    extra_args: Vec<String>,
    _profile: TempDir,
}

impl Driver {
    pub(crate) fn start(log_path: &Path) -> Driver {
        Driver::start_with_args(log_path, Vec::new())
    }

    /// [`Driver::start`] with more Chromium flags.
    pub(crate) fn start_with_args(log_path: &Path, extra_args: Vec<String>) -> Driver {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: run `bash scripts/setup-test-deps.sh` (Debian chromium, chromium-driver)"
            );
        }
        let port = free_port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log_path.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("spawn chromedriver")
        };
        let mut driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            session: None,
            agent: ureq::Agent::config_builder()
                .proxy(None)
                .http_status_as_error(false)
                .timeout_global(Some(BROWSER_WAIT + Duration::from_secs(15)))
                .build()
                .into(),
            extra_args,
            _profile: TempDir::new(),
        };
        driver.wait_ready();
        driver.new_session();
        driver
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited at start: {status}");
            }
            let ready = self
                .agent
                .get(format!("{}/status", self.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .is_some_and(|v| v["value"]["ready"] == json!(true));
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready within 20 s"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// One WebDriver command; panics on a transport error or a WebDriver error value.
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .content_type("application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut response = result.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let text = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: reading the answer: {e}"));
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {text:.500}"));
        if value["value"]["error"].is_string() {
            panic!(
                "WebDriver {method} {path}: {} {}",
                value["value"]["error"], value["value"]["message"]
            );
        }
        value["value"].clone()
    }

    fn new_session(&mut self) {
        let profile = self._profile.path().display().to_string();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--mute-audio",
            "--autoplay-policy=no-user-gesture-required",
            "--window-size=1280,1400",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(format!("--user-data-dir={profile}"));
        args.extend(self.extra_args.iter().cloned());
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": args,
                    },
                    "goog:loggingPrefs": { "browser": "ALL" },
                    "timeouts": {
                        "pageLoad": BROWSER_WAIT.as_millis() as u64,
                        "script": BROWSER_WAIT.as_millis() as u64,
                    },
                }
            }
        });
        let value = self.command("POST", "/session", Some(capabilities));
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {value}"));
        self.session = Some(id.to_string());
    }

    fn session_path(&self, rest: &str) -> String {
        format!(
            "/session/{}{rest}",
            self.session.as_deref().expect("a session")
        )
    }

    pub(crate) fn navigate(&self, url: &str) {
        self.command(
            "POST",
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        );
    }

    /// Reloads the current page (WebDriver "Refresh"), returning once it has loaded.
    pub(crate) fn refresh(&self) {
        self.command("POST", &self.session_path("/refresh"), Some(json!({})));
    }

    pub(crate) fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({ "script": script, "args": [] })),
        )
    }

    pub(crate) fn execute_async(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            &self.session_path("/execute/async"),
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Console and network messages gathered by goog:loggingPrefs (chromedriver's legacy endpoint).
    pub(crate) fn browser_log(&self) -> Vec<Value> {
        match self.command(
            "POST",
            &self.session_path("/se/log"),
            Some(json!({ "type": "browser" })),
        ) {
            Value::Array(entries) => entries,
            other => panic!("browser log is not a list: {other}"),
        }
    }

    fn screenshot_png(&self) -> Vec<u8> {
        let value = self.command("GET", &self.session_path("/screenshot"), None);
        let b64 = value.as_str().expect("screenshot is a base64 string");
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("screenshot is valid base64")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.session.is_some() {
            // Bounded by the agent's global timeout; quits Chromium cleanly.
            let _ = self
                .agent
                .delete(format!("{}{}", self.base, self.session_path("")))
                .call();
        }
        // The group holds chromedriver and every Chromium process it started.
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(pid, Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resolves with the video's state after: metadata, a seek to duration/2 (`seeked` fired), and
/// play() with currentTime advancing by at least 0.5 s of media. Reports failure on an error or
/// after 25 s. `arguments[0]`: null for the page's own source choice, or a URL to load instead.
const VIDEO_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
const v = document.getElementById('demo-video');
if (arguments[0]) { v.src = arguments[0]; v.load(); }
const report = (ok, why, extra) => done(Object.assign({
  ok, why, readyState: v.readyState, networkState: v.networkState,
  error: v.error ? v.error.code + ' ' + v.error.message : null,
  src: v.currentSrc, currentTime: v.currentTime, duration: v.duration,
}, extra || {}));
const timer = setTimeout(() => report(false, 'timeout'), 25000);
const finish = (ok, why, extra) => { clearTimeout(timer); report(ok, why, extra); };
v.muted = true;
v.addEventListener('error', () => finish(false, 'error event'));
const metadata = new Promise((resolve) => {
  if (v.readyState >= 1 && isFinite(v.duration)) { resolve(); return; }
  v.addEventListener('loadedmetadata', resolve, { once: true });
  if (v.networkState === HTMLMediaElement.NETWORK_EMPTY) v.load();
});
metadata.then(() => {
  const target = v.duration / 2;
  return new Promise((resolve) => {
    v.addEventListener('seeked', () => resolve(target), { once: true });
    v.currentTime = target;
  });
}).then((target) => {
  const seekedAt = v.currentTime;
  const startedAt = performance.now();
  return v.play().then(() => new Promise((resolve) => {
    const poll = () => {
      if (v.currentTime >= seekedAt + 0.5) {
        resolve({ target, seekedAt, playedTo: v.currentTime, wallMs: performance.now() - startedAt });
      } else {
        setTimeout(poll, 50);
      }
    };
    poll();
  }));
}).then((extra) => { v.pause(); finish(true, 'played', extra); })
  .catch((e) => finish(false, 'rejected: ' + e));
"#;

/// Resolves with the page's navigation sizes and the `content-encoding` of a fetch of the style
/// sheet (also put on the console, so the browser log shows it).
const ENCODING_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
const nav = performance.getEntriesByType('navigation')[0];
fetch('/css/style.css', { cache: 'no-store' }).then(async (r) => {
  const coding = r.headers.get('content-encoding');
  const text = await r.text();
  console.info('staticd-test content-encoding of /css/style.css: ' + coding);
  done({ page: { encoded: nav.encodedBodySize, decoded: nav.decodedBodySize },
         css: coding, cssDecodes: text.includes('{') });
}).catch((e) => done({ error: String(e) }));
"#;

pub(crate) const IMAGES_SCRIPT: &str = r#"
return Array.from(document.images).map((img) => ({
  src: img.currentSrc || img.src, complete: img.complete, naturalWidth: img.naturalWidth,
}));
"#;

#[test]
fn chromium_loads_the_example_site_decodes_images_and_seeks_and_plays_the_video() {
    let site = repo_root().join("site");
    assert!(site.join("index.html").is_file(), "site/index.html missing");
    let server = Server::builder()
        .config(&format!(
            "[server]\nroot = {}\n",
            toml_literal(&site.display().to_string())
        ))
        .start();
    let artifacts = artifacts_dir();
    let driver = Driver::start(&artifacts.join("chromedriver.log"));

    // The text files' encodings are made on the fly in the background: once made, the browser
    // gets them (before, it gets the files themselves).
    for path in ["/index.html", "/css/style.css", "/js/app.js"] {
        let made = wait_until(Duration::from_secs(10), || {
            let raw = format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: br\r\n\r\n",
                server.host()
            );
            server.request(raw.as_bytes()).header("content-encoding") == Some("br")
        });
        assert!(made, "no brotli encoding of {path} within 10 s");
    }

    driver.navigate(&server.url("/"));
    let ready = driver.execute("return document.readyState;");
    assert_eq!(ready, json!("complete"), "the page finished loading");
    let title = driver.execute("return document.title;");
    assert!(
        title.as_str().is_some_and(|t| t.contains("staticd")),
        "the example page is what loaded: title {title}"
    );

    // The page and its style sheet came compressed and decoded (RFC 9110 §8.4): fewer bytes on
    // the wire than in the document, and the coding the browser saw, put on its console.
    let coded = driver.execute_async(ENCODING_SCRIPT, json!([]));
    println!("encodings: {coded}");
    let page = &coded["page"];
    assert!(
        page["encoded"].as_u64().unwrap_or(0) > 0
            && page["encoded"].as_u64() < page["decoded"].as_u64(),
        "the page was not sent compressed: {coded}"
    );
    assert_eq!(
        coded["css"],
        json!("br"),
        "the style sheet's coding: {coded}"
    );
    assert_eq!(
        coded["cssDecodes"],
        json!(true),
        "the style sheet decoded: {coded}"
    );

    let images = driver.execute(IMAGES_SCRIPT);
    let images = images.as_array().expect("a list of images");
    assert!(images.len() >= 3, "the page has its images: {images:?}");
    for img in images {
        assert!(
            img["complete"] == json!(true) && img["naturalWidth"].as_u64().unwrap_or(0) > 0,
            "an image did not decode: {img}"
        );
    }

    // The page's own choice (WebM first), then the MP4 source explicitly.
    for source in [Value::Null, json!("media/clip.mp4")] {
        let video = driver.execute_async(VIDEO_SCRIPT, json!([source]));
        println!("video: {video}");
        assert_eq!(
            video["ok"],
            json!(true),
            "the video seeks to the middle and plays: {video}"
        );
        let duration = video["duration"].as_f64().expect("a duration");
        let seeked_at = video["seekedAt"].as_f64().expect("seekedAt");
        assert!(duration > 1.0, "a real clip: {video}");
        assert!(
            (seeked_at - duration / 2.0).abs() < 0.25,
            "the seek landed at the middle: {video}"
        );
        assert!(
            video["playedTo"].as_f64().expect("playedTo") >= seeked_at + 0.5,
            "playback advanced: {video}"
        );
        if source.is_string() {
            assert!(
                video["src"]
                    .as_str()
                    .is_some_and(|s| s.ends_with("/media/clip.mp4")),
                "the MP4 played: {video}"
            );
        }
    }

    let png = driver.screenshot_png();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );
    let shot = artifacts.join("browser-index.png");
    std::fs::write(&shot, &png).expect("write the screenshot");
    println!("screenshot: {} ({} bytes)", shot.display(), png.len());

    // A canary proves the console reaches the log this test reads.
    driver.execute("console.info('staticd-test canary');");
    let log = driver.browser_log();
    assert!(
        log.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("staticd-test canary"))),
        "the console canary is missing from the browser log: {log:?}"
    );
    for entry in &log {
        println!("browser log: {} {}", entry["level"], entry["message"]);
    }
    let severe: Vec<&Value> = log
        .iter()
        .filter(|e| e["level"] == json!("SEVERE"))
        .collect();
    assert!(severe.is_empty(), "console errors: {severe:?}");
    drop(driver);

    // The video's bytes came as ranges: staticd logged 206 answers for it.
    let deadline = Instant::now() + Duration::from_secs(3);
    let media_statuses = loop {
        let statuses: Vec<(String, u16)> = server
            .access_log()
            .lines()
            .map(|l| parse_access_line(l).unwrap_or_else(|| panic!("access log line {l:?}")))
            .filter(|l| l.request.contains("/media/clip."))
            .map(|l| (l.request, l.status))
            .collect();
        let both = ["webm", "mp4"]
            .iter()
            .all(|ext| statuses.iter().any(|(r, s)| *s == 206 && r.contains(ext)));
        if both || Instant::now() >= deadline {
            break statuses;
        }
        thread::sleep(Duration::from_millis(100));
    };
    println!("video requests: {media_statuses:?}");
    for clip in ["/media/clip.webm", "/media/clip.mp4"] {
        assert!(
            media_statuses
                .iter()
                .any(|(r, s)| *s == 206 && r.contains(clip)),
            "no 206 for {clip} in the access log: {media_statuses:?}"
        );
    }
    assert!(
        media_statuses
            .iter()
            .all(|(_, s)| matches!(s, 200 | 206 | 304)),
        "a video request was refused: {media_statuses:?}"
    );
}
