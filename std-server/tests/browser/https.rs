//! Chromium over HTTPS: the example site served by staticd's `[tls]` listener with a certificate
//! from a CA made for the test. Chromium trusts that one certificate by its public key
//! (`--ignore-certificate-errors-spki-list`, which needs the test's own profile), nothing else.
//! It starts at the plain listener, which redirects to HTTPS: the page must end on https, over
//! HTTP/1.1, with no console error and every image decoded.

use crate::chromium::{Driver, IMAGES_SCRIPT, artifacts_dir};
use crate::common::certs::Ca;
use crate::common::*;
use base64::Engine as _;
use rcgen::PublicKeyData as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

#[test]
fn chromium_follows_the_redirect_to_https_and_loads_the_site_with_its_images() {
    let site = repo_root().join("site");
    let certs = TempDir::new();
    let ca = Ca::new(&certs);
    let key = ca.leaf(&certs, "server", &["localhost", "127.0.0.1"]);
    let path = |f: &str| toml_literal(&certs.path().join(f).display().to_string());
    let server = Server::builder()
        .config(&format!(
            "[server]\nroot = {}\n\n[tls]\nport = 0\ncertificate = {}\nkey = {}\nredirect = true\n",
            toml_literal(&site.display().to_string()),
            path("server.pem"),
            path("server.key"),
        ))
        .start();
    let tls_port = wait_for_https_port(&server);

    let spki = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(key.subject_public_key_info()));
    let artifacts = artifacts_dir();
    let driver = Driver::start_with_args(
        &artifacts.join("chromedriver-https.log"),
        vec![format!("--ignore-certificate-errors-spki-list={spki}")],
    );

    driver.navigate(&server.url("/"));
    let landed = driver.execute(
        "const nav = performance.getEntriesByType('navigation')[0];
         return { href: location.href, ready: document.readyState, title: document.title,
                  protocol: nav.nextHopProtocol };",
    );
    println!("landed: {landed}");
    assert_eq!(
        landed["href"],
        json!(format!("https://127.0.0.1:{tls_port}/")),
        "the plain listener sent the browser to HTTPS: {landed}"
    );
    assert_eq!(landed["ready"], json!("complete"), "{landed}");
    assert!(
        landed["title"]
            .as_str()
            .is_some_and(|t| t.contains("staticd")),
        "the example page is what loaded: {landed}"
    );
    assert_eq!(landed["protocol"], json!("http/1.1"), "ALPN: {landed}");

    let images = driver.execute(IMAGES_SCRIPT);
    let images = images.as_array().expect("a list of images");
    assert!(images.len() >= 3, "the page has its images: {images:?}");
    for img in images {
        assert!(
            img["src"]
                .as_str()
                .is_some_and(|s| s.starts_with("https://")),
            "an image not over HTTPS: {img}"
        );
        assert!(
            img["complete"] == json!(true) && img["naturalWidth"].as_u64().unwrap_or(0) > 0,
            "an image did not decode: {img}"
        );
    }

    // A canary proves the console reaches the log this test reads.
    driver.execute("console.info('staticd-test https canary');");
    let log = driver.browser_log();
    assert!(
        log.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("staticd-test https canary"))),
        "the console canary is missing from the browser log: {log:?}"
    );
    let severe: Vec<&Value> = log
        .iter()
        .filter(|e| e["level"] == json!("SEVERE"))
        .collect();
    assert!(severe.is_empty(), "console errors: {severe:?}");
    drop(driver);

    // The plain listener answered 301, the TLS listener served the page.
    let lines = server.wait_access_log_lines(4, Duration::from_secs(5));
    let entries: Vec<AccessLine> = lines
        .iter()
        .map(|l| parse_access_line(l).unwrap_or_else(|| panic!("access log line {l:?}")))
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e.request == "GET / HTTP/1.1" && e.status == 301),
        "{lines:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e.request.starts_with("GET / ") && e.status == 200),
        "{lines:?}"
    );
}

/// The TLS port from the `staticd listening on https://127.0.0.1:PORT/` ready line.
fn wait_for_https_port(server: &Server) -> u16 {
    let mut port = None;
    let found = wait_until(Duration::from_secs(5), || {
        port = server.stdout_lines().iter().find_map(|l| {
            l.strip_prefix("staticd listening on https://127.0.0.1:")
                .and_then(|p| p.trim_end_matches('/').parse().ok())
        });
        port.is_some()
    });
    assert!(found, "no https ready line: {:?}", server.stdout_lines());
    port.unwrap_or_default()
}
