//! Headless Chromium (Debian's, from scripts/setup-test-deps.sh) loads the site from the emulated
//! device over chromedriver's WebDriver API: the page loads with no console error, every image
//! decodes, and the video seeks and plays from Range answers. Fails (never skips) when Chromium,
//! chromedriver or QEMU is missing.

mod support;

use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};
use support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const BROWSER_WAIT: Duration = Duration::from_secs(30);

/// chromedriver in its own process group with one session; dropping it ends the session and
/// kills the group, so no browser outlives the test.
struct Browser {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    profile: PathBuf,
}

impl Browser {
    fn start() -> Browser {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: run `bash scripts/setup-test-deps.sh`"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("spawn chromedriver")
        };
        let profile = std::env::temp_dir().join(format!(
            "staticd-firmware-chromium-{}-{}",
            std::process::id(),
            port
        ));
        std::fs::create_dir_all(&profile).expect("a profile directory");
        let mut browser = Browser {
            child,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent: ureq::Agent::config_builder()
                .proxy(None)
                .http_status_as_error(false)
                .timeout_global(Some(BROWSER_WAIT + Duration::from_secs(15)))
                .build()
                .into(),
            profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser
            .agent
            .get(format!("{}/status", browser.base))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver not ready in 20 s");
            thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                    format!("--user-data-dir={}", browser.profile.display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
            "timeouts": {
                "pageLoad": BROWSER_WAIT.as_millis() as u64,
                "script": BROWSER_WAIT.as_millis() as u64,
            },
        }}});
        let value = browser.command("POST", "/session", Some(capabilities));
        browser.session = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {value}"))
            .to_string();
        browser
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let result = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self
                .agent
                .post(&url)
                .content_type("application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut response = result.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {text:.300}"));
        assert!(
            !value["value"]["error"].is_string(),
            "WebDriver {method} {path}: {} {}",
            value["value"]["error"],
            value["value"]["message"]
        );
        value["value"].clone()
    }

    fn session(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            &self.session("/execute/sync"),
            Some(json!({ "script": script, "args": [] })),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(format!("{}{}", self.base, self.session("")))
                .call();
        }
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Seeks the page's video to its middle and plays half a second of it; resolves with its state.
const VIDEO_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
const v = document.getElementById('demo-video');
const report = (ok, why) => done({ ok, why, src: v.currentSrc, currentTime: v.currentTime,
  duration: v.duration, error: v.error ? v.error.code + ' ' + v.error.message : null });
const timer = setTimeout(() => report(false, 'timeout'), 25000);
const finish = (ok, why) => { clearTimeout(timer); report(ok, why); };
v.muted = true;
v.addEventListener('error', () => finish(false, 'error event'));
new Promise((resolve) => {
  if (v.readyState >= 1 && isFinite(v.duration)) { resolve(); return; }
  v.addEventListener('loadedmetadata', resolve, { once: true });
  if (v.networkState === HTMLMediaElement.NETWORK_EMPTY) v.load();
}).then(() => new Promise((resolve) => {
  v.addEventListener('seeked', resolve, { once: true });
  v.currentTime = v.duration / 2;
})).then(() => {
  const from = v.currentTime;
  return v.play().then(() => new Promise((resolve) => {
    const poll = () => v.currentTime >= from + 0.5 ? resolve() : setTimeout(poll, 50);
    poll();
  }));
}).then(() => { v.pause(); finish(true, 'played'); })
  .catch((e) => finish(false, 'rejected: ' + e));
"#;

#[test]
fn chromium_loads_the_site_from_the_device_with_every_image_decoded_and_no_console_error() {
    let device = Device::boot();
    let browser = Browser::start();
    let url = format!("http://127.0.0.1:{}/", device.port);
    browser.command(
        "POST",
        &browser.session("/url"),
        Some(json!({ "url": url })),
    );
    assert_eq!(
        browser.execute("return document.readyState;"),
        json!("complete")
    );
    let title = browser.execute("return document.title;");
    assert!(
        title.as_str().is_some_and(|t| t.contains("staticd")),
        "the site's page loaded: title {title}"
    );
    let images = browser.execute(
        "return Array.from(document.images).map((img) => ({ src: img.currentSrc || img.src, \
         complete: img.complete, naturalWidth: img.naturalWidth }));",
    );
    let images = images.as_array().expect("a list of images");
    assert!(images.len() >= 3, "the page has its images: {images:?}");
    for img in images {
        assert!(
            img["complete"] == json!(true) && img["naturalWidth"].as_u64().unwrap_or(0) > 0,
            "an image did not decode: {img}"
        );
    }
    let video = browser.command(
        "POST",
        &browser.session("/execute/async"),
        Some(json!({ "script": VIDEO_SCRIPT, "args": [] })),
    );
    assert_eq!(
        video["ok"],
        json!(true),
        "the video seeks and plays: {video}"
    );

    browser.execute("console.info('staticd-firmware canary');");
    let log = browser.command(
        "POST",
        &browser.session("/se/log"),
        Some(json!({ "type": "browser" })),
    );
    let log = log.as_array().expect("a list of log entries");
    assert!(
        log.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("staticd-firmware canary"))),
        "the console reaches the log this test reads: {log:?}"
    );
    let severe: Vec<&Value> = log
        .iter()
        .filter(|e| e["level"] == json!("SEVERE"))
        .collect();
    assert!(severe.is_empty(), "console errors: {severe:?}");
    drop(browser);

    // The browser's requests are in the device's log, the video's as ranges.
    let lines = device.lines();
    assert!(
        lines.iter().any(|l| l.contains("\"GET / HTTP/1.1\" 200 ")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("GET /media/clip.") && l.contains("\" 206 ")),
        "{lines:#?}"
    );
    device.assert_healthy();
}
