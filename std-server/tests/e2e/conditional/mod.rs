//! Issue 4 at the wire: validators (Last-Modified, a content-derived strong ETag), conditional
//! requests in the order of RFC 9110 §13.2.2 (with the issue 8 details), byte ranges (RFC 9110 §14),
//! per-pattern Cache-Control and extra headers, MIME types, nosniff, OPTIONS and 405.
//!
//! Most tests serve a root the test prepares itself (`root = '<temp dir>'`) so the files'
//! modification times are known before the server first sees them.

use crate::common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// The mtime of the fixture files: 2001-09-09 01:46:40 UTC, a Sunday.
const MTIME: u64 = 1_000_000_000;
const LAST_MODIFIED: &str = "Sun, 09 Sep 2001 01:46:40 GMT";
const LAST_MODIFIED_RFC850: &str = "Sunday, 09-Sep-01 01:46:40 GMT";
const LAST_MODIFIED_ASCTIME: &str = "Sun Sep  9 01:46:40 2001";
const DAY_AFTER: &str = "Mon, 10 Sep 2001 01:46:40 GMT";
const DAY_BEFORE: &str = "Sat, 08 Sep 2001 01:46:40 GMT";

const PAGE: &[u8] =
    b"<!DOCTYPE html>\n<title>page</title>\n<p>A page for conditional requests.</p>\n";
const PROBE: &[u8] = b"probe\n";
const DATA_LEN: usize = 1000;

// ---------------------------------------------------------------------------------------------
// Fixture and helpers
// ---------------------------------------------------------------------------------------------

/// A server over a root prepared by the test. Fields drop in order: the server stops before its
/// root is removed.
struct Fixture {
    server: Server,
    root: TempDir,
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
fn serve_root(root: TempDir, extra_toml: &str) -> Fixture {
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
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", server.host());
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    raw
}

/// One request on a fresh connection; the response (read without a body for HEAD).
fn send(server: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    server.request(raw_request(server, method, path, headers).as_bytes())
}

fn get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    send(server, "GET", path, headers)
}

/// Sends the request and, in the same write, `GET /probe.txt`; returns the first response after
/// checking that the second one is exactly the probe. A body on a 304 or HEAD response would be
/// read as the start of the second response and fail this.
fn send_then_probe(
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
fn strong_etag(r: &Response, what: &str) -> String {
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

/// A 304 for `path` that agrees with the 200 `full` (RFC 9110 §15.4.5; issue 8: Content-Length
/// absent or exactly the 200's, never 0). The body check is done by [`send_then_probe`].
fn assert_not_modified(r: &Response, full: &Response, what: &str) {
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

fn assert_status(r: &Response, status: u16, what: &str) {
    assert_eq!(
        r.status, status,
        "{what}: status ({} {}; {:?})",
        r.status, r.reason, r.headers
    );
}

// ---------------------------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------------------------

#[test]
fn the_date_constants_are_what_they_claim() {
    assert_eq!(parse_imf_fixdate(LAST_MODIFIED), Some(MTIME));
    assert_eq!(parse_imf_fixdate(DAY_AFTER), Some(MTIME + 86_400));
    assert_eq!(parse_imf_fixdate(DAY_BEFORE), Some(MTIME - 86_400));
}

#[test]
fn every_200_for_a_file_has_last_modified_and_a_strong_etag() {
    let f = fixture();
    for path in ["/page.html", "/data.txt", "/probe.txt"] {
        let r = get(&f.server, path, &[]);
        let bytes = std::fs::read(f.root.path().join(&path[1..])).unwrap();
        assert_full(&r, &bytes, path);
        assert_eq!(r.header("last-modified"), Some(LAST_MODIFIED), "{path}");

        let head = send_then_probe(&f.server, "HEAD", path, &[]);
        assert_status(&head, 200, &format!("HEAD {path}"));
        assert_eq!(
            head.header("etag"),
            r.header("etag"),
            "HEAD {path}: same ETag as GET"
        );
        assert_eq!(
            head.header("last-modified"),
            Some(LAST_MODIFIED),
            "HEAD {path}"
        );
        assert_eq!(
            head.content_length(),
            Some(bytes.len() as u64),
            "HEAD {path}"
        );
    }
}

#[test]
fn the_etag_follows_the_bytes_not_the_mtime_inode_or_machine() {
    let content = b"the same bytes in several files\n".to_vec();
    let other = b"other  bytes in several files!!\n".to_vec();
    assert_eq!(content.len(), other.len());
    let now = now_unix();
    let make_root = || {
        let root = TempDir::new();
        set_mtime(&root.write("epoch.txt", &content), 0);
        set_mtime(&root.write("y2001.txt", &content), MTIME);
        set_mtime(&root.write("deep/recent.txt", &content), now - 1000);
        set_mtime(&root.write("other.txt", &other), MTIME);
        root
    };
    let f = serve_root(make_root(), "");
    let etag_of = |server: &Server, path: &str| {
        let r = get(server, path, &[]);
        assert_status(&r, 200, path);
        (strong_etag(&r, path), last_modified(&r, path))
    };
    let (epoch, epoch_lm) = etag_of(&f.server, "/epoch.txt");
    let (y2001, y2001_lm) = etag_of(&f.server, "/y2001.txt");
    let (recent, recent_lm) = etag_of(&f.server, "/deep/recent.txt");
    assert_eq!((epoch_lm, y2001_lm, recent_lm), (0, MTIME, now - 1000));
    assert_eq!(epoch, y2001, "same bytes, mtimes 1970 and 2001: one ETag");
    assert_eq!(
        epoch, recent,
        "same bytes, another mtime and directory: one ETag"
    );
    let (other_tag, _) = etag_of(&f.server, "/other.txt");
    assert_ne!(
        other_tag, epoch,
        "other bytes of the same size and mtime: another ETag"
    );

    // A second replica: other inodes, another process.
    let replica = serve_root(make_root(), "");
    assert_eq!(
        etag_of(&replica.server, "/epoch.txt").0,
        epoch,
        "a replica gives the same ETag"
    );

    // New content (another length) -> new ETag; the old bytes again -> the old ETag again.
    let path = f.root.path().join("y2001.txt");
    let changed = b"changed content, and a different length\n";
    std::fs::write(&path, changed).unwrap();
    let r = wait_until_served(&f.server, "/y2001.txt", changed, None);
    let changed_tag = strong_etag(&r, "changed");
    assert_ne!(changed_tag, epoch, "changed content -> a new ETag");
    std::fs::write(&path, &content).unwrap();
    set_mtime(&path, MTIME + 5);
    let r = wait_until_served(&f.server, "/y2001.txt", &content, Some(MTIME + 5));
    assert_eq!(
        strong_etag(&r, "restored"),
        epoch,
        "the old bytes again -> the old ETag"
    );
}

/// Polls `path`, on fresh connections (so on whichever workers the kernel picks), until it
/// carries `bytes` and Last-Modified `mtime`, then checks that eight more do too; returns the
/// last. Call it right after changing the file. staticd checks a cached version against the disk
/// at most once a second, one check shared by all workers (REVALIDATE_MS in files.rs): the change
/// is answered within 1 s (0.3 s slack for a busy machine), and once one response shows it, no
/// later response shows the old version.
fn wait_until_served(server: &Server, path: &str, bytes: &[u8], mtime: Option<u64>) -> Response {
    let changed = Instant::now();
    let within = Duration::from_millis(1300);
    let is_current =
        |r: &Response| r.body == bytes && mtime.is_none_or(|m| last_modified(r, path) == m);
    loop {
        let r = get(server, path, &[]);
        if is_current(&r) {
            break;
        }
        assert!(
            changed.elapsed() < within,
            "{path}: the changed file is not served within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = changed.elapsed();
    let mut last = None;
    for i in 0..8 {
        let r = get(server, path, &[]);
        assert!(
            is_current(&r),
            "{path}: the old version again (response {i} after the new one was first seen at \
             {seen:?}): {} bytes, Last-Modified {:?}",
            r.body.len(),
            r.header("last-modified")
        );
        last = Some(r);
    }
    last.expect("eight responses")
}

#[test]
fn a_large_file_gets_the_same_content_derived_etag_as_its_copy() {
    let big = pseudo_random_bytes(3 * 1024 * 1024 + 17, 9);
    let mut other = big.clone();
    let middle = other.len() / 2;
    other[middle] ^= 1;
    let root = TempDir::new();
    set_mtime(&root.write("a/big.txt", &big), 0);
    set_mtime(&root.write("b/big.txt", &big), MTIME);
    set_mtime(&root.write("c/big.txt", &other), MTIME);
    let f = serve_root(root, "");
    let tag = |path: &str| {
        let r = head_ok(&f.server, path);
        strong_etag(&r, path)
    };
    assert_eq!(
        tag("/a/big.txt"),
        tag("/b/big.txt"),
        "same 3 MiB, other mtime: one ETag"
    );
    assert_ne!(
        tag("/a/big.txt"),
        tag("/c/big.txt"),
        "one bit changed in the middle: another ETag"
    );
}

/// HEAD `path` (any file in the root) on a fresh connection.
fn head_ok(server: &Server, path: &str) -> Response {
    let r = send(server, "HEAD", path, &[]);
    assert_status(&r, 200, &format!("HEAD {path}"));
    r
}

#[test]
fn last_modified_is_never_later_than_date() {
    // RFC 9110 §8.8.2.1: an origin server MUST NOT send a Last-Modified later than its Date; a
    // future mtime is replaced by the Date, and preconditions compare against the value sent.
    let root = TempDir::new();
    let body = b"from the future\n";
    set_mtime(&root.write("future.txt", body), now_unix() + 86_400);
    let f = serve_root(root, "");
    let r = get(&f.server, "/future.txt", &[]);
    assert_status(&r, 200, "future.txt");
    let lm = last_modified(&r, "future.txt");
    let date = parse_imf_fixdate(r.header("date").expect("Date")).expect("Date is IMF-fixdate");
    assert!(
        lm <= date,
        "Last-Modified {:?} is after Date {:?}",
        r.header("last-modified"),
        r.header("date")
    );
    assert_eq!(
        lm, date,
        "a future mtime is sent as the Date ({:?})",
        r.headers
    );
    let etag = strong_etag(&r, "future.txt");

    // Half a day ahead: after the value sent, before the mtime on disk.
    let between = imf_fixdate(now_unix() + 43_200);
    let r = get(
        &f.server,
        "/future.txt",
        &[("If-Unmodified-Since", &between)],
    );
    assert_full(
        &r,
        body,
        "future.txt If-Unmodified-Since after the Last-Modified sent",
    );
    let r = get(&f.server, "/future.txt", &[("If-Modified-Since", &between)]);
    assert_status(
        &r,
        304,
        "future.txt If-Modified-Since after the Last-Modified sent",
    );
    let sent = last_modified(&r, "future.txt 304");
    let date = parse_imf_fixdate(r.header("date").expect("Date")).expect("Date is IMF-fixdate");
    assert!(
        sent <= date,
        "304: Last-Modified after Date ({:?})",
        r.headers
    );

    // A Last-Modified equal to its Date is not a strong validator (RFC 9110 §13.1.5), so If-Range
    // by that date sends the whole file; by the ETag the range still applies.
    let lm_sent = imf_fixdate(lm);
    let r = get(
        &f.server,
        "/future.txt",
        &[("Range", "bytes=0-3"), ("If-Range", &lm_sent)],
    );
    assert_full(
        &r,
        body,
        "future.txt If-Range with the clamped Last-Modified",
    );
    let r = get(
        &f.server,
        "/future.txt",
        &[("Range", "bytes=0-3"), ("If-Range", &etag)],
    );
    assert_status(&r, 206, "future.txt If-Range with the ETag");
    assert_eq!(r.body, b"from", "future.txt If-Range with the ETag");
}

/// IMF-fixdate of a Unix time (Howard Hinnant's civil_from_days).
fn imf_fixdate(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let text = format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    assert_eq!(parse_imf_fixdate(&text), Some(secs), "{text}");
    text
}

#[test]
fn an_empty_file_has_validators_and_no_satisfiable_int_range() {
    let root = TempDir::new();
    set_mtime(&root.write("empty.txt", b""), MTIME);
    let f = serve_root(root, "");
    let r = get(&f.server, "/empty.txt", &[]);
    assert_full(&r, b"", "empty.txt");
    let etag = strong_etag(&r, "empty.txt");
    let r304 = get(&f.server, "/empty.txt", &[("If-None-Match", etag.as_str())]);
    assert_status(&r304, 304, "empty.txt If-None-Match");
    for range in ["bytes=0-", "bytes=0-0"] {
        let r = get(&f.server, "/empty.txt", &[("Range", range)]);
        assert_status(&r, 416, &format!("empty.txt {range}"));
        assert_eq!(
            r.header("content-range"),
            Some("bytes */0"),
            "empty.txt {range}"
        );
    }
}

#[test]
fn preconditions_do_not_turn_a_404_into_412_or_304() {
    // RFC 9110 §13.2.1: preconditions are ignored when the response without them would not be
    // 2xx or 412.
    let f = fixture();
    for (name, value) in [
        ("If-Match", "*"),
        ("If-None-Match", "*"),
        ("If-None-Match", "\"x\""),
        ("If-Unmodified-Since", DAY_BEFORE),
        ("If-Modified-Since", DAY_AFTER),
    ] {
        let r = get(&f.server, "/missing.txt", &[(name, value)]);
        assert_status(&r, 404, &format!("missing file with {name}: {value}"));
    }
}

// ---------------------------------------------------------------------------------------------
// If-None-Match and If-Modified-Since
// ---------------------------------------------------------------------------------------------

#[test]
fn if_none_match_exact_weak_list_and_star_give_304() {
    let f = fixture();
    let full = get(&f.server, "/page.html", &[]);
    assert_full(&full, PAGE, "GET /page.html");
    assert_eq!(full.header("cache-control"), Some("no-cache"));
    let etag = strong_etag(&full, "page");
    let weak = format!("W/{etag}");
    let list = format!("\"nope\", {etag}, \"other\"");
    let tight_list = format!("\"nope\",{weak}");
    for value in [etag.as_str(), &weak, &list, &tight_list, "*"] {
        for method in ["GET", "HEAD"] {
            let what = format!("{method} If-None-Match: {value}");
            let r = send_then_probe(&f.server, method, "/page.html", &[("If-None-Match", value)]);
            assert_not_modified(&r, &full, &what);
        }
    }
    // Also on a file without a Cache-Control rule: none on the 304 either.
    let data_full = get(&f.server, "/data.txt", &[]);
    let tag = strong_etag(&data_full, "data");
    let r = send_then_probe(
        &f.server,
        "GET",
        "/data.txt",
        &[("If-None-Match", tag.as_str())],
    );
    assert_not_modified(&r, &data_full, "data.txt If-None-Match");
}

#[test]
fn if_none_match_mismatch_gives_200() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/page.html", &[]), "page");
    let unquoted = etag.trim_matches('"').to_string();
    let other = format!("\"x{}", &etag[1..]);
    for value in ["\"nope\"", "W/\"nope\"", "\"a\", \"b\"", &other, &unquoted] {
        let r = get(&f.server, "/page.html", &[("If-None-Match", value)]);
        assert_full(&r, PAGE, &format!("If-None-Match: {value}"));
    }
}

#[test]
fn if_modified_since_equal_or_later_is_304_earlier_is_200() {
    let f = fixture();
    let full = get(&f.server, "/page.html", &[]);
    for value in [
        LAST_MODIFIED,
        LAST_MODIFIED_RFC850,
        LAST_MODIFIED_ASCTIME,
        DAY_AFTER,
        "Sunday, 09-Sep-01 01:46:41 GMT",
        "Mon Sep 10 01:46:40 2001",
    ] {
        let what = format!("If-Modified-Since: {value}");
        let r = send_then_probe(
            &f.server,
            "GET",
            "/page.html",
            &[("If-Modified-Since", value)],
        );
        assert_not_modified(&r, &full, &what);
        let r = send_then_probe(
            &f.server,
            "HEAD",
            "/page.html",
            &[("If-Modified-Since", value)],
        );
        assert_not_modified(&r, &full, &format!("HEAD {what}"));
    }
    for value in [
        DAY_BEFORE,
        "Sun, 09 Sep 2001 01:46:39 GMT",
        "Saturday, 08-Sep-01 01:46:40 GMT",
        "Sun Sep  9 01:46:39 2001",
    ] {
        let r = get(&f.server, "/page.html", &[("If-Modified-Since", value)]);
        assert_full(&r, PAGE, &format!("If-Modified-Since: {value}"));
    }
}

#[test]
fn if_modified_since_is_ignored_with_if_none_match_or_when_not_one_valid_date() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/page.html", &[]), "page");
    // RFC 9110 §13.1.3: a recipient MUST ignore If-Modified-Since if If-None-Match is present.
    let r = get(
        &f.server,
        "/page.html",
        &[
            ("If-None-Match", "\"nope\""),
            ("If-Modified-Since", DAY_AFTER),
        ],
    );
    assert_full(
        &r,
        PAGE,
        "If-None-Match mismatch with If-Modified-Since later",
    );
    let list = format!("{LAST_MODIFIED}, {LAST_MODIFIED}");
    for value in [
        "yesterday",
        "Sun, 09 Sep 2001 01:46:40",
        "Sun, 32 Sep 2001 01:46:40 GMT",
        "1000000000",
        "",
        list.as_str(),
    ] {
        let r = get(&f.server, "/page.html", &[("If-Modified-Since", value)]);
        assert_full(&r, PAGE, &format!("If-Modified-Since: {value:?}"));
    }
    // Two fields are a list too (RFC 9110 §5.3).
    let r = get(
        &f.server,
        "/page.html",
        &[
            ("If-Modified-Since", LAST_MODIFIED),
            ("If-Modified-Since", DAY_AFTER),
        ],
    );
    assert_full(&r, PAGE, "two If-Modified-Since fields");
    // And with If-None-Match matching, the 304 comes from If-None-Match whatever the date says.
    let r = send_then_probe(
        &f.server,
        "GET",
        "/page.html",
        &[
            ("If-None-Match", etag.as_str()),
            ("If-Modified-Since", DAY_BEFORE),
        ],
    );
    assert_status(
        &r,
        304,
        "If-None-Match match with an earlier If-Modified-Since",
    );
}

// ---------------------------------------------------------------------------------------------
// If-Match and If-Unmodified-Since
// ---------------------------------------------------------------------------------------------

#[test]
fn if_match_uses_the_strong_comparison() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/data.txt", &[]), "data");
    let list = format!("\"nope\", {etag}");
    for value in ["*", etag.as_str(), &list] {
        let r = get(&f.server, "/data.txt", &[("If-Match", value)]);
        assert_full(&r, &data(), &format!("If-Match: {value}"));
    }
    let weak = format!("W/{etag}");
    let weak_list = format!("\"nope\", {weak}");
    for value in ["\"nope\"", weak.as_str(), &weak_list] {
        let r = get(&f.server, "/data.txt", &[("If-Match", value)]);
        assert_status(&r, 412, &format!("If-Match: {value}"));
        assert!(
            r.body != data(),
            "If-Match: {value}: the 412 carries the file"
        );
        let head = send_then_probe(&f.server, "HEAD", "/data.txt", &[("If-Match", value)]);
        assert_status(&head, 412, &format!("HEAD If-Match: {value}"));
    }
}

#[test]
fn if_unmodified_since_earlier_is_412_and_it_is_ignored_with_if_match_or_when_invalid() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/data.txt", &[]), "data");
    for value in [
        DAY_BEFORE,
        "Sun, 09 Sep 2001 01:46:39 GMT",
        "Sat Sep  8 01:46:40 2001",
    ] {
        let r = get(&f.server, "/data.txt", &[("If-Unmodified-Since", value)]);
        assert_status(&r, 412, &format!("If-Unmodified-Since: {value}"));
    }
    for value in [
        LAST_MODIFIED,
        DAY_AFTER,
        LAST_MODIFIED_RFC850,
        "not a date",
        "",
    ] {
        let r = get(&f.server, "/data.txt", &[("If-Unmodified-Since", value)]);
        assert_full(&r, &data(), &format!("If-Unmodified-Since: {value:?}"));
    }
    // RFC 9110 §13.1.4: ignored when If-Match is present.
    let r = get(
        &f.server,
        "/data.txt",
        &[
            ("If-Match", etag.as_str()),
            ("If-Unmodified-Since", DAY_BEFORE),
        ],
    );
    assert_full(
        &r,
        &data(),
        "If-Match match with an earlier If-Unmodified-Since",
    );
}

/// Request fields as (name, value).
type Fields<'a> = &'a [(&'a str, &'a str)];

#[test]
fn preconditions_are_evaluated_in_the_order_of_rfc_9110_13_2_2() {
    let f = fixture();
    let full = get(&f.server, "/data.txt", &[]);
    let etag = strong_etag(&full, "data");
    let cases: &[(Fields, u16, &str)] = &[
        // Step 1 before step 3: a failed If-Match wins over a matching If-None-Match.
        (
            &[("If-Match", "\"nope\""), ("If-None-Match", etag.as_str())],
            412,
            "If-Match fails first",
        ),
        (
            &[
                ("If-Match", etag.as_str()),
                ("If-None-Match", etag.as_str()),
            ],
            304,
            "If-Match passes, If-None-Match matches",
        ),
        (
            &[("If-Match", etag.as_str()), ("If-None-Match", "\"nope\"")],
            200,
            "both pass",
        ),
        // Step 2 before step 3.
        (
            &[
                ("If-Unmodified-Since", DAY_BEFORE),
                ("If-None-Match", etag.as_str()),
            ],
            412,
            "If-Unmodified-Since fails first",
        ),
        (
            &[
                ("If-Unmodified-Since", DAY_AFTER),
                ("If-None-Match", etag.as_str()),
            ],
            304,
            "If-Unmodified-Since passes",
        ),
        // Step 2 before step 4.
        (
            &[
                ("If-Unmodified-Since", DAY_BEFORE),
                ("If-Modified-Since", DAY_AFTER),
            ],
            412,
            "If-Unmodified-Since fails before If-Modified-Since",
        ),
        // Steps 1-4 before step 5 and the Range.
        (
            &[("If-Match", "\"nope\""), ("Range", "bytes=0-9")],
            412,
            "If-Match fails before Range",
        ),
        (
            &[("If-None-Match", etag.as_str()), ("Range", "bytes=0-9")],
            304,
            "If-None-Match before Range",
        ),
        (
            &[("If-Modified-Since", LAST_MODIFIED), ("Range", "bytes=0-9")],
            304,
            "If-Modified-Since before Range",
        ),
        (
            &[("If-Match", etag.as_str()), ("Range", "bytes=0-9")],
            206,
            "If-Match passes, then Range",
        ),
        (
            &[
                ("If-None-Match", "\"nope\""),
                ("Range", "bytes=0-9"),
                ("If-Range", etag.as_str()),
            ],
            206,
            "all pass, then If-Range",
        ),
    ];
    for (headers, status, what) in cases {
        let r = send_then_probe(&f.server, "GET", "/data.txt", headers);
        assert_status(&r, *status, &format!("{what}: {headers:?}"));
        match status {
            304 => assert_not_modified(&r, &full, what),
            200 => assert!(r.body == data(), "{what}: the full file"),
            206 => assert!(r.body == data()[..10], "{what}: the first 10 bytes"),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

/// `bytes FIRST-LAST/COMPLETE` -> (first, last, complete).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.strip_prefix("bytes ")?;
    let (span, complete) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    Some((
        first.parse().ok()?,
        last.parse().ok()?,
        complete.parse().ok()?,
    ))
}

/// A 206 with one part: Content-Range `bytes start-end/len`, the exact slice, validators.
fn assert_single_range(r: &Response, file: &[u8], start: u64, end: u64, what: &str) {
    assert_status(r, 206, what);
    let expected = format!("bytes {start}-{end}/{}", file.len());
    assert_eq!(
        r.header("content-range"),
        Some(expected.as_str()),
        "{what}: Content-Range"
    );
    assert_eq!(
        r.content_length(),
        Some(end - start + 1),
        "{what}: Content-Length"
    );
    assert!(
        r.body == file[start as usize..=end as usize],
        "{what}: the body is not bytes {start}-{end} of the file"
    );
    strong_etag(r, what);
    assert_date_is_now(r, what);
}

/// The parts of a multipart/byteranges 206 as (first, last), each checked byte-exact against `file`
/// with its own Content-Range and Content-Type (RFC 9110 §14.6).
fn parse_byteranges(r: &Response, file: &[u8], part_type: &str, what: &str) -> Vec<(u64, u64)> {
    assert_status(r, 206, what);
    assert!(
        r.header("content-range").is_none(),
        "{what}: Content-Range on a multipart 206"
    );
    assert_eq!(
        r.content_length(),
        Some(r.body.len() as u64),
        "{what}: Content-Length"
    );
    let content_type = r.header("content-type").unwrap_or_default();
    let (essence, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    assert!(
        essence.trim().eq_ignore_ascii_case("multipart/byteranges"),
        "{what}: Content-Type {content_type:?}"
    );
    let boundary = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("{what}: no boundary in {content_type:?}"));
    assert!(
        !boundary.is_empty() && boundary.len() <= 70,
        "{what}: boundary {boundary:?}"
    );
    let delimiter = format!("--{boundary}");
    let body = r.body.as_slice();
    let mut at = find(body, delimiter.as_bytes())
        .unwrap_or_else(|| panic!("{what}: no delimiter {delimiter:?} in the body"));
    assert!(
        at == 0 || body[..at].ends_with(b"\r\n"),
        "{what}: the first delimiter does not start a line"
    );
    let mut parts = Vec::new();
    loop {
        at += delimiter.len();
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            let epilogue = &rest[2..];
            assert!(
                epilogue.is_empty() || epilogue.starts_with(b"\r\n"),
                "{what}: bytes after the close delimiter: {:?}",
                String::from_utf8_lossy(epilogue)
            );
            break;
        }
        assert!(
            rest.starts_with(b"\r\n"),
            "{what}: no CRLF after a delimiter"
        );
        let head_end = find(rest, b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{what}: a part without the end of its header section"));
        let head = std::str::from_utf8(&rest[2..head_end]).expect("part head is UTF-8");
        let mut range = None;
        let mut ty = None;
        for line in head.split("\r\n") {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("{what}: part header line {line:?}"));
            if name.eq_ignore_ascii_case("content-range") {
                range = parse_content_range(value.trim());
            } else if name.eq_ignore_ascii_case("content-type") {
                ty = Some(value.trim().to_string());
            }
        }
        let (first, last, complete) = range
            .unwrap_or_else(|| panic!("{what}: a part without a valid Content-Range: {head:?}"));
        assert_eq!(
            complete,
            file.len() as u64,
            "{what}: complete length in a part"
        );
        assert!(
            first <= last && last < complete,
            "{what}: part range {first}-{last}"
        );
        assert_eq!(ty.as_deref(), Some(part_type), "{what}: part Content-Type");
        let data_start = head_end + 4;
        let data_len = (last - first + 1) as usize;
        let data = rest
            .get(data_start..data_start + data_len)
            .unwrap_or_else(|| panic!("{what}: part {first}-{last} is cut short"));
        assert!(
            data == &file[first as usize..=last as usize],
            "{what}: part {first}-{last} does not hold those bytes of the file"
        );
        let after = &rest[data_start + data_len..];
        assert!(
            after.starts_with(b"\r\n") && after[2..].starts_with(delimiter.as_bytes()),
            "{what}: part {first}-{last} is not followed by CRLF and the delimiter"
        );
        parts.push((first, last));
        at += data_start + data_len + 2;
    }
    parts
}

/// The (first, last) spans a 206 delivered, single part or multipart, each checked byte-exact.
fn delivered_spans(r: &Response, file: &[u8], part_type: &str, what: &str) -> Vec<(u64, u64)> {
    match r.header("content-range") {
        Some(value) => {
            let (first, last, _) = parse_content_range(value)
                .unwrap_or_else(|| panic!("{what}: Content-Range {value:?}"));
            assert_single_range(r, file, first, last, what);
            vec![(first, last)]
        }
        None => parse_byteranges(r, file, part_type, what),
    }
}

#[test]
fn single_ranges_give_206_with_the_exact_slice() {
    let f = fixture();
    let file = data();
    let full = get(&f.server, "/data.txt", &[]);
    assert_full(&full, &file, "GET /data.txt");
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, 999),
        ("bytes=-100", 900, 999),
        ("bytes=990-5000", 990, 999),
        ("bytes=0-0", 0, 0),
        ("bytes=999-999", 999, 999),
        ("bytes=-1", 999, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=0-999", 0, 999),
        ("BYTES=10-19", 10, 19),
        ("bytes=0-0099", 0, 99),
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range)]);
        assert_single_range(&r, &file, start, end, range);
        assert_eq!(
            r.header("etag"),
            full.header("etag"),
            "{range}: ETag on the 206"
        );
        assert_eq!(
            r.header("last-modified"),
            full.header("last-modified"),
            "{range}"
        );
    }
    // Cache-Control is on the 206 as it is on the 200 (RFC 9110 §15.3.7).
    let r = get(&f.server, "/page.html", &[("Range", "bytes=0-4")]);
    assert_single_range(&r, PAGE, 0, 4, "page.html bytes=0-4");
    assert_eq!(r.header("cache-control"), Some("no-cache"));
}

#[test]
fn several_ranges_give_multipart_byteranges() {
    let f = fixture();
    let file = data();
    let part_type = get(&f.server, "/data.txt", &[])
        .header("content-type")
        .expect("Content-Type on the 200")
        .to_string();
    let r = send_then_probe(
        &f.server,
        "GET",
        "/data.txt",
        &[("Range", "bytes=0-9,500-509,-10")],
    );
    assert_eq!(
        parse_byteranges(&r, &file, &part_type, "three ranges"),
        [(0, 9), (500, 509), (990, 999)]
    );
    let r = get(&f.server, "/data.txt", &[("Range", "bytes=100-199, 300-")]);
    assert_eq!(
        parse_byteranges(&r, &file, &part_type, "two ranges"),
        [(100, 199), (300, 999)]
    );
}

#[test]
fn overlapping_ranges_are_coalesced() {
    let f = fixture();
    let file = data();
    let part_type = get(&f.server, "/data.txt", &[])
        .header("content-type")
        .expect("Content-Type")
        .to_string();
    for (range, expected) in [
        ("bytes=0-99,50-149,400-409", vec![(0, 149), (400, 409)]),
        ("bytes=400-409,0-99,50-149", vec![(0, 149), (400, 409)]),
        ("bytes=0-99,50-149", vec![(0, 149)]),
        ("bytes=10-20,15-15,12-18", vec![(10, 20)]),
        ("bytes=900-,-50", vec![(900, 999)]),
    ] {
        let r = get(&f.server, "/data.txt", &[("Range", range)]);
        let mut spans = delivered_spans(&r, &file, &part_type, range);
        spans.sort_unstable();
        assert_eq!(
            spans, expected,
            "{range}: the parts are the coalesced ranges"
        );
    }
}

#[test]
fn many_small_ranges_are_answered_exactly_or_refused() {
    // RFC 9110 §14.2 lets a server coalesce or ignore a Range with many parts; whatever staticd
    // does, the answer is a well-formed 200, 206 or 416 with the right bytes.
    let f = fixture();
    let file = data();
    let spec: Vec<String> = (0..100)
        .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
        .collect();
    let range = format!("bytes={}", spec.join(","));
    let part_type = get(&f.server, "/data.txt", &[])
        .header("content-type")
        .expect("Content-Type")
        .to_string();
    let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range.as_str())]);
    match r.status {
        200 => assert!(r.body == file, "100 ranges: a 200 carries the whole file"),
        206 => assert!(!delivered_spans(&r, &file, &part_type, "100 ranges").is_empty()),
        416 => {}
        other => panic!("100 ranges: status {other}"),
    }
}

#[test]
fn unsatisfiable_ranges_give_416_with_the_length() {
    let f = fixture();
    for range in [
        "bytes=1000-",
        "bytes=1000-2000",
        "bytes=5000-5999",
        "bytes=1000-,2000-",
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range)]);
        assert_status(&r, 416, range);
        assert_eq!(
            r.header("content-range"),
            Some("bytes */1000"),
            "{range}: Content-Range"
        );
        assert!(r.body != data(), "{range}: a 416 carries the file");
    }
    // One satisfiable range among unsatisfiable ones is served (RFC 9110 §14.1.1).
    let r = get(&f.server, "/data.txt", &[("Range", "bytes=2000-3000,0-4")]);
    assert_single_range(&r, &data(), 0, 4, "bytes=2000-3000,0-4");
}

#[test]
fn malformed_or_foreign_ranges_are_ignored() {
    let f = fixture();
    let file = data();
    for range in [
        "bytes=abc",
        "items=0-1",
        "bytes=5-1",
        "bytes=",
        "bytes=-",
        "bytes=0-1,abc",
        "bytes=1-2-3",
        "bytes=-0x10",
        "0-99",
        "bytes 0-99",
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range)]);
        assert_full(&r, &file, &format!("Range: {range}"));
    }
}

#[test]
fn range_numbers_beyond_u64_are_clipped_or_ignored_never_an_error() {
    // 1*DIGIT has no upper bound (RFC 9110 §14.1.1); a last-pos past the end is clipped, and any
    // Range may be ignored (§14.2). Neither a 4xx other than 416 nor a 5xx is right.
    let f = fixture();
    let file = data();
    let huge = "99999999999999999999999999";
    for (range, clipped) in [
        (format!("bytes=0-{huge}"), Some((0, 999))),
        (format!("bytes=-{huge}"), Some((0, 999))),
        (format!("bytes=10-19,20-{huge}"), Some((10, 999))),
        (format!("bytes={huge}-"), None),
        (format!("bytes={huge}-{huge}"), None),
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range.as_str())]);
        match (r.status, clipped) {
            (200, _) => assert!(r.body == file, "{range}: a 200 carries the file"),
            (206, Some((start, end))) => {
                let part_type = get(&f.server, "/data.txt", &[])
                    .header("content-type")
                    .expect("Content-Type")
                    .to_string();
                let spans = delivered_spans(&r, &file, &part_type, &range);
                let covered: u64 = spans.iter().map(|(a, b)| b - a + 1).sum();
                assert_eq!(
                    (
                        spans.first().map(|s| s.0),
                        spans.last().map(|s| s.1),
                        covered
                    ),
                    (Some(start), Some(end), end - start + 1),
                    "{range}: the clipped range"
                );
            }
            (416, None) => {
                assert_eq!(r.header("content-range"), Some("bytes */1000"), "{range}")
            }
            (status, _) => panic!("{range}: status {status} ({:?})", r.headers),
        }
    }
}

#[test]
fn head_ignores_range() {
    let f = fixture();
    let r = send_then_probe(&f.server, "HEAD", "/data.txt", &[("Range", "bytes=0-9")]);
    assert_status(&r, 200, "HEAD with Range");
    assert_eq!(r.content_length(), Some(DATA_LEN as u64));
    assert!(r.header("content-range").is_none());
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
}

#[test]
fn if_range_with_the_current_validator_gives_206_otherwise_200() {
    let f = fixture();
    let file = data();
    let full = get(&f.server, "/data.txt", &[]);
    let etag = strong_etag(&full, "data");
    let range = ("Range", "bytes=10-19");
    let r = get(
        &f.server,
        "/data.txt",
        &[range, ("If-Range", etag.as_str())],
    );
    assert_single_range(&r, &file, 10, 19, "If-Range: current ETag");
    let r = get(
        &f.server,
        "/data.txt",
        &[range, ("If-Range", LAST_MODIFIED)],
    );
    assert_single_range(&r, &file, 10, 19, "If-Range: Last-Modified");
    let weak = format!("W/{etag}");
    for value in [
        "\"an-old-etag\"",
        weak.as_str(),
        DAY_AFTER,
        DAY_BEFORE,
        "Sun, 09 Sep 2001 01:46:41 GMT",
        "not a validator",
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[range, ("If-Range", value)]);
        assert_full(&r, &file, &format!("If-Range: {value}"));
    }
}

#[test]
fn a_range_from_the_middle_of_a_large_file_is_byte_exact() {
    const LEN: usize = 20 * 1024 * 1024;
    let root = TempDir::new();
    let big = pseudo_random_bytes(LEN, 20);
    root.write("big.txt", &big);
    let f = serve_root(root, "");
    let (start, end) = (LEN / 2 - 3_333_333, LEN / 2 + 4_444_443);
    let range = format!("bytes={start}-{end}");
    let r = get(&f.server, "/big.txt", &[("Range", range.as_str())]);
    assert_single_range(&r, &big, start as u64, end as u64, &range);
    let r = get(&f.server, "/big.txt", &[("Range", "bytes=-1048577")]);
    assert_single_range(&r, &big, (LEN - 1_048_577) as u64, LEN as u64 - 1, "suffix");
    let part_type = r.header("content-type").unwrap_or_default().to_string();
    let r = get(
        &f.server,
        "/big.txt",
        &[("Range", "bytes=1-2,10485760-12582911,-3")],
    );
    assert_eq!(
        parse_byteranges(&r, &big, &part_type, "large multipart"),
        [
            (1, 2),
            (10_485_760, 12_582_911),
            (LEN as u64 - 3, LEN as u64 - 1)
        ]
    );
    let r = get(&f.server, "/big.txt", &[]);
    assert_eq!(r.content_length(), Some(LEN as u64));
    assert_eq!(
        sha256_hex(&r.body),
        sha256_hex(&big),
        "the whole large file"
    );
}

// ---------------------------------------------------------------------------------------------
// Caching and content headers
// ---------------------------------------------------------------------------------------------

const RULES: &str = r#"
[[rules]]
pattern = "*.html"
cache_control = "no-cache"

[[rules]]
pattern = "assets/**"
cache_control = "public, max-age=31536000, immutable"

[[rules]]
pattern = "*.woff2"
[rules.headers]
Access-Control-Allow-Origin = "*"
"#;

#[test]
fn rules_set_cache_control_and_extra_headers_on_matching_files_only() {
    let root = TempDir::new();
    for rel in [
        "index.html",
        "sub/page.html",
        "assets/app.js",
        "assets/css/site.css",
        "assets/fonts/a.woff2",
        "fonts/b.woff2",
        "notes.txt",
        "assetsx/c.js",
    ] {
        root.write(rel, format!("content of {rel}\n").as_bytes());
    }
    root.write("probe.txt", PROBE);
    let f = serve_root(root, RULES);
    let immutable = Some("public, max-age=31536000, immutable");
    for (path, cache_control, cors) in [
        ("/index.html", Some("no-cache"), None),
        ("/", Some("no-cache"), None),
        ("/sub/page.html", Some("no-cache"), None),
        ("/assets/app.js", immutable, None),
        ("/assets/css/site.css", immutable, None),
        ("/assets/fonts/a.woff2", immutable, Some("*")),
        ("/fonts/b.woff2", None, Some("*")),
        ("/notes.txt", None, None),
        ("/assetsx/c.js", None, None),
    ] {
        for method in ["GET", "HEAD"] {
            let what = format!("{method} {path}");
            let r = send_then_probe(&f.server, method, path, &[]);
            assert_status(&r, 200, &what);
            assert_eq!(
                r.header_all("cache-control"),
                Vec::from_iter(cache_control),
                "{what}: Cache-Control"
            );
            assert_eq!(
                r.header_all("access-control-allow-origin"),
                Vec::from_iter(cors),
                "{what}: Access-Control-Allow-Origin"
            );
        }
        // The same headers on a 304 (RFC 9110 §15.4.5: Cache-Control is sent on a 304).
        let full = get(&f.server, path, &[]);
        let etag = strong_etag(&full, path);
        let r = send_then_probe(&f.server, "GET", path, &[("If-None-Match", etag.as_str())]);
        assert_not_modified(&r, &full, &format!("{path} revalidated"));
    }
}

#[test]
fn the_first_matching_rule_sets_cache_control_and_a_leading_slash_anchors() {
    // config/staticd.toml: "The first matching rule with cache_control sets Cache-Control; every
    // matching rule adds its headers ... a leading "/" anchors it to the root."
    let root = TempDir::new();
    for rel in [
        "assets/app.js",
        "assets/app.css",
        "top.html",
        "sub/top.html",
    ] {
        root.write(rel, b"x\n");
    }
    let f = serve_root(
        root,
        r#"
[[rules]]
pattern = "*.js"
cache_control = "no-store"
[rules.headers]
X-Rule = "js"

[[rules]]
pattern = "assets/**"
cache_control = "public, max-age=31536000, immutable"
[rules.headers]
X-Assets = "yes"

[[rules]]
pattern = "/top.html"
cache_control = "no-cache"
"#,
    );
    let cases: [(&str, Option<&str>, Fields); 4] = [
        (
            "/assets/app.js",
            Some("no-store"),
            &[("x-rule", "js"), ("x-assets", "yes")],
        ),
        (
            "/assets/app.css",
            Some("public, max-age=31536000, immutable"),
            &[("x-assets", "yes")],
        ),
        ("/top.html", Some("no-cache"), &[]),
        ("/sub/top.html", None, &[]),
    ];
    for (path, cache_control, extra) in cases {
        let r = get(&f.server, path, &[]);
        assert_status(&r, 200, path);
        assert_eq!(
            r.header_all("cache-control"),
            Vec::from_iter(cache_control),
            "{path}"
        );
        for name in ["x-rule", "x-assets"] {
            let expected: Vec<&str> = extra
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(r.header_all(name), expected, "{path}: {name}");
        }
    }
}

#[test]
fn content_types_come_from_the_built_in_table_with_nosniff() {
    let root = TempDir::new();
    let cases = [
        ("a.html", "text/html"),
        ("a.htm", "text/html"),
        ("a.css", "text/css"),
        ("a.js", "text/javascript"),
        ("a.mjs", "text/javascript"),
        ("a.json", "application/json"),
        ("a.txt", "text/plain"),
        ("a.wasm", "application/wasm"),
        ("a.svg", "image/svg+xml"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.woff2", "font/woff2"),
        ("a.mp4", "video/mp4"),
        ("a.webm", "video/webm"),
        ("a.pdf", "application/pdf"),
        ("UPPER.PNG", "image/png"),
        ("Mixed.Js", "text/javascript"),
    ];
    for (rel, _) in cases {
        root.write(rel, b"x");
    }
    let f = serve_root(root, "");
    for (rel, essence) in cases {
        let path = format!("/{rel}");
        let r = get(&f.server, &path, &[]);
        assert_status(&r, 200, &path);
        let ct = r
            .header("content-type")
            .unwrap_or_else(|| panic!("{path}: no Content-Type"));
        let mut params = ct.split(';').map(str::trim);
        assert_eq!(params.next(), Some(essence), "{path}: Content-Type {ct:?}");
        let charset: BTreeSet<String> = params
            .filter_map(|p| p.split_once('='))
            .filter(|(k, _)| k.eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim_matches('"').to_ascii_lowercase())
            .collect();
        if essence.starts_with("text/") {
            assert_eq!(
                charset,
                BTreeSet::from(["utf-8".to_string()]),
                "{path}: charset in {ct:?}"
            );
        }
        if rel == "a.html" {
            assert_eq!(ct, "text/html; charset=utf-8");
        }
        assert_eq!(
            r.header_all("x-content-type-options"),
            ["nosniff"],
            "{path}: nosniff"
        );
    }
    // A 206 carries the same content headers.
    let r = get(&f.server, "/a.css", &[("Range", "bytes=0-0")]);
    assert_status(&r, 206, "a.css bytes=0-0");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn options_is_204_with_allow_and_other_methods_are_405_with_allow() {
    let f = fixture();
    let allow_set = |r: &Response, what: &str| -> BTreeSet<String> {
        let set = r
            .header_all("allow")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect::<BTreeSet<_>>();
        assert!(!set.is_empty(), "{what}: no Allow");
        set
    };
    let expected: BTreeSet<String> = ["GET", "HEAD", "OPTIONS"].map(String::from).into();
    for target in ["/data.txt", "/page.html", "*"] {
        let r = send_then_probe(&f.server, "OPTIONS", target, &[]);
        assert_status(&r, 204, &format!("OPTIONS {target}"));
        assert_eq!(allow_set(&r, target), expected, "OPTIONS {target}: Allow");
        assert!(
            r.header("content-length").is_none(),
            "OPTIONS {target}: Content-Length on a 204"
        );
    }
    for method in ["TRACE", "POST", "PUT", "DELETE", "PATCH"] {
        let what = format!("{method} /data.txt");
        let r = send(&f.server, method, "/data.txt", &[("Content-Length", "0")]);
        assert_status(&r, 405, &what);
        assert_eq!(allow_set(&r, &what), expected, "{what}: Allow");
        assert!(r.body != data(), "{what}: the 405 carries the file");
    }
}
