//! Validators (Last-Modified, a content-derived strong ETag; RFC 9110 §8.8), conditional requests
//! in the order of RFC 9110 §13.2.2, and byte ranges (RFC 9110 §14). This module holds the fixture
//! and the checks its three parts share.
//!
//! Most tests serve a root the test prepares itself (`root = '<temp dir>'`) so the files'
//! modification times are known before the server first sees them.

use crate::common::*;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

mod preconditions;
mod ranges;
mod validators;

/// The mtime of the fixture files: 2001-09-09 01:46:40 UTC, a Sunday.
const MTIME: u64 = 1_000_000_000;
const LAST_MODIFIED: &str = "Sun, 09 Sep 2001 01:46:40 GMT";
const LAST_MODIFIED_RFC850: &str = "Sunday, 09-Sep-01 01:46:40 GMT";
const LAST_MODIFIED_ASCTIME: &str = "Sun Sep  9 01:46:40 2001";
const DAY_AFTER: &str = "Mon, 10 Sep 2001 01:46:40 GMT";
const DAY_BEFORE: &str = "Sat, 08 Sep 2001 01:46:40 GMT";

const PAGE: &[u8] =
    b"<!DOCTYPE html>\n<title>page</title>\n<p>A page for conditional requests.</p>\n";
pub(crate) const PROBE: &[u8] = b"probe\n";
const DATA_LEN: usize = 1000;

// ---------------------------------------------------------------------------------------------
// Fixture and helpers
// ---------------------------------------------------------------------------------------------

/// A server over a root prepared by the test. Fields drop in order: the server stops before its
/// root is removed.
pub(crate) struct Fixture {
    pub(crate) server: Server,
    pub(crate) root: TempDir,
}

fn set_mtime(path: &Path, secs: u64) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {} to set its mtime: {e}", path.display()));
    file.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap_or_else(|e| panic!("set mtime of {}: {e}", path.display()));
}

/// Starts a server whose root is `root` (already filled), with extra config TOML (no `[server]`).
pub(crate) fn serve_root(root: TempDir, extra_toml: &str) -> Fixture {
    let config = format!(
        "[server]\nroot = {}\n\n{extra_toml}",
        toml_literal(&root.path().display().to_string())
    );
    let server = Server::builder().config(&config).start();
    Fixture { server, root }
}

/// page.html (rule: no-cache), data.txt (1000 pseudo-random bytes), probe.txt, all with mtime MTIME.
fn fixture() -> Fixture {
    let root = TempDir::new();
    for (rel, bytes) in [
        ("page.html", PAGE.to_vec()),
        ("data.txt", data()),
        ("probe.txt", PROBE.to_vec()),
    ] {
        let path = root.write(rel, &bytes);
        set_mtime(&path, MTIME);
    }
    serve_root(
        root,
        "[[rules]]\npattern = \"*.html\"\ncache_control = \"no-cache\"\n",
    )
}

fn data() -> Vec<u8> {
    pseudo_random_bytes(DATA_LEN, 4)
}

fn raw_request(server: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let fields: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    req(method, path, "HTTP/1.1", &server.host(), &fields)
}

/// One request on a fresh connection; the response (read without a body for HEAD).
fn send(server: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    server.request(raw_request(server, method, path, headers).as_bytes())
}

pub(crate) fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    send(server, "GET", path, headers)
}

/// Sends the request and, in the same write, `GET /probe.txt`; returns the first response after
/// checking that the second one is exactly the probe. A body on a 304 or HEAD response would be
/// read as the start of the second response and fail this.
pub(crate) fn send_then_probe(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut raw = raw_request(server, method, path, headers);
    raw.push_str(&raw_request(server, "GET", "/probe.txt", &[]));
    let mut conn = server.connect();
    conn.send(raw.as_bytes()).expect("send requests");
    let first = if method == "HEAD" {
        conn.read_head_response()
    } else {
        conn.read_response()
    };
    let probe = conn
        .try_read_response(false, IO_TIMEOUT)
        .unwrap_or_else(|e| {
            panic!("{method} {path} {headers:?}: the pipelined probe after it was not read: {e}")
        });
    assert_eq!(
        (probe.status, probe.body.as_slice()),
        (200, PROBE),
        "{method} {path} {headers:?}: the response after it was not the probe (a body was sent?)"
    );
    first
}

/// The ETag of a response, checked to be a strong entity-tag (RFC 9110 §8.8.3).
pub(crate) fn strong_etag(r: &Response, what: &str) -> String {
    let etag = r
        .header("etag")
        .unwrap_or_else(|| panic!("{what}: no ETag in {:?}", r.headers));
    let inner = etag
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{what}: ETag {etag:?} is not a strong entity-tag"));
    assert!(
        inner
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)),
        "{what}: ETag {etag:?} holds a character outside etagc"
    );
    etag.to_string()
}

fn last_modified(r: &Response, what: &str) -> u64 {
    let lm = r
        .header("last-modified")
        .unwrap_or_else(|| panic!("{what}: no Last-Modified in {:?}", r.headers));
    parse_imf_fixdate(lm)
        .unwrap_or_else(|| panic!("{what}: Last-Modified {lm:?} is not IMF-fixdate"))
}

fn assert_date_is_now(r: &Response, what: &str) {
    let date = r
        .header("date")
        .unwrap_or_else(|| panic!("{what}: no Date in {:?}", r.headers));
    let secs = parse_imf_fixdate(date)
        .unwrap_or_else(|| panic!("{what}: Date {date:?} is not IMF-fixdate"));
    assert!(
        secs.abs_diff(now_unix()) <= 5,
        "{what}: Date {date:?} is not the current time"
    );
}

/// A 200 with the whole file: body, Content-Length, validators, Date, Accept-Ranges, nosniff.
fn assert_full(r: &Response, expected: &[u8], what: &str) {
    assert_eq!(r.status, 200, "{what}: status ({:?})", r.headers);
    assert!(
        r.body == expected,
        "{what}: body differs from the file ({} bytes)",
        r.body.len()
    );
    assert_eq!(
        r.content_length(),
        Some(expected.len() as u64),
        "{what}: Content-Length"
    );
    assert!(
        r.header("content-range").is_none(),
        "{what}: a 200 with Content-Range"
    );
    strong_etag(r, what);
    last_modified(r, what);
    assert_date_is_now(r, what);
    assert_eq!(
        r.header("accept-ranges"),
        Some("bytes"),
        "{what}: Accept-Ranges"
    );
}

/// A 304 for `path` that agrees with the 200 `full` (RFC 9110 §15.4.5: Content-Length
/// absent or exactly the 200's, never 0). The body check is done by [`send_then_probe`].
pub(crate) fn assert_not_modified(r: &Response, full: &Response, what: &str) {
    assert_eq!(r.status, 304, "{what}: status ({:?})", r.headers);
    assert_eq!(
        r.header("etag"),
        full.header("etag"),
        "{what}: ETag on the 304"
    );
    assert_eq!(
        r.header("last-modified"),
        full.header("last-modified"),
        "{what}: Last-Modified on the 304"
    );
    assert_eq!(
        r.header("cache-control"),
        full.header("cache-control"),
        "{what}: Cache-Control on the 304"
    );
    assert_date_is_now(r, what);
    if let Some(len) = r.content_length() {
        assert_eq!(
            len,
            full.body.len() as u64,
            "{what}: a 304's Content-Length must be absent or the 200's"
        );
    }
    assert!(
        r.header("transfer-encoding").is_none(),
        "{what}: Transfer-Encoding on a 304"
    );
    assert!(
        r.header("content-range").is_none(),
        "{what}: Content-Range on a 304"
    );
}

pub(crate) fn assert_status(r: &Response, status: u16, what: &str) {
    assert_eq!(
        r.status, status,
        "{what}: status ({} {}; {:?})",
        r.status, r.reason, r.headers
    );
}

// ---------------------------------------------------------------------------------------------

/// Request header fields as (name, value) pairs.
pub(crate) type Fields<'a> = &'a [(&'a str, &'a str)];
