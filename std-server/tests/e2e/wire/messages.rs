//! Issue 8, "the contract in detail", at the wire: versions, methods, Host, Content-Length and
//! Transfer-Encoding forms, bodies, refused paths, timers and limits. Raw bytes throughout.

use crate::common::*;
use std::thread;
use std::time::{Duration, Instant};

const A: &[u8] = b"file a\n";
const B: &[u8] = b"file b, a little longer\n";

fn server() -> Server {
    Server::builder()
        .file("a.txt", A)
        .file("b.txt", B)
        .file("index.html", b"<p>index</p>")
        .start()
}

fn req(method: &str, target: &str, version: &str, host: &str, extra: &str) -> String {
    format!("{method} {target} {version}\r\nHost: {host}\r\n{extra}\r\n")
}

/// Sends `attack` followed, in the same write, by a valid request for /b.txt. Asserts that exactly one
/// response comes back with a status in `statuses`, marked `Connection: close`, and that the
/// connection then closes without a second response (nothing desynchronised out of the same bytes).
fn assert_refused_and_closed(server: &Server, attack: &str, statuses: &[u16]) {
    let mut conn = server.connect();
    let follow = format!("GET /b.txt HTTP/1.1\r\nHost: {}\r\n\r\n", server.host());
    conn.send(format!("{attack}{follow}").as_bytes()).unwrap();
    let r = conn
        .try_read_response(false, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("{attack:?}: no response: {e}"));
    assert!(
        statuses.contains(&r.status),
        "{attack:?}: expected one of {statuses:?}, got {} {}",
        r.status,
        r.reason
    );
    assert_eq!(r.version, "HTTP/1.1");
    assert!(
        r.says_close(),
        "{attack:?}: the refusal says Connection: close"
    );
    match conn.wait_closed(Duration::from_secs(3)) {
        CloseWait::Closed(rest) => assert!(
            find(&rest, b"HTTP/1.").is_none(),
            "{attack:?}: a second response after the refusal: {:?}",
            String::from_utf8_lossy(&rest)
        ),
        CloseWait::Open(rest) => panic!(
            "{attack:?}: connection still open 3 s after the refusal; received {:?}",
            String::from_utf8_lossy(&rest)
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

#[test]
fn http_versions_1_0_1_1_and_1_x_are_served_as_http_1_1() {
    let server = server();
    let host = server.host();
    for version in ["HTTP/1.0", "HTTP/1.1", "HTTP/1.2", "HTTP/1.9"] {
        let r = server.request(req("GET", "/a.txt", version, &host, "").as_bytes());
        assert_eq!(r.status, 200, "{version}");
        assert_eq!(
            r.version, "HTTP/1.1",
            "{version}: the status line is always HTTP/1.1"
        );
        assert_eq!(r.body, A, "{version}");
    }
    // HTTP/1.0 needs no Host.
    let r = server.request(b"GET /a.txt HTTP/1.0\r\n\r\n");
    assert_eq!((r.status, r.version.as_str()), (200, "HTTP/1.1"));
    // 1.2 is treated as 1.1: persistent by default.
    let mut conn = server.connect();
    conn.send(req("GET", "/a.txt", "HTTP/1.2", &host, "").as_bytes())
        .unwrap();
    let r = conn.read_response();
    assert!(!r.says_close(), "HTTP/1.2 persists like 1.1");
    conn.send(req("GET", "/b.txt", "HTTP/1.1", &host, "").as_bytes())
        .unwrap();
    assert_eq!(conn.read_response().body, B);
}

#[test]
fn other_major_versions_are_505_and_malformed_versions_400() {
    let server = server();
    let host = server.host();
    for version in ["HTTP/2.0", "HTTP/3.0"] {
        let r = server.request(req("GET", "/a.txt", version, &host, "").as_bytes());
        assert_eq!(r.status, 505, "{version}");
        assert_eq!(r.version, "HTTP/1.1", "{version}");
    }
    for version in [
        "HTTP/1",
        "http/1.1",
        "HTTP/1.1.1",
        "HTTP/11",
        "HTTP/1.a",
        "HTTP/ 1.1",
        "HTTPS/1.1",
        "HTTP/1.",
    ] {
        let r = server.request(req("GET", "/a.txt", version, &host, "").as_bytes());
        assert_eq!(r.status, 400, "{version:?} is malformed");
        assert_eq!(r.version, "HTTP/1.1", "{version}");
    }
}

// ---------------------------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------------------------

#[test]
fn options_is_204_with_allow_and_no_content_length() {
    let server = server();
    let host = server.host();
    for target in ["/a.txt", "*", "/"] {
        let mut conn = server.connect();
        // OPTIONS then GET in one write: a 204 has no body, so the GET response must follow at once.
        conn.send(
            format!(
                "{}{}",
                req("OPTIONS", target, "HTTP/1.1", &host, ""),
                req("GET", "/a.txt", "HTTP/1.1", &host, "")
            )
            .as_bytes(),
        )
        .unwrap();
        let r = conn.read_response();
        assert_eq!(r.status, 204, "OPTIONS {target}");
        assert_eq!(
            r.header("allow"),
            Some("GET, HEAD, OPTIONS"),
            "OPTIONS {target}"
        );
        assert_eq!(
            r.header("content-length"),
            None,
            "OPTIONS {target}: 204 has no Content-Length"
        );
        assert!(r.header("date").is_some() && r.header("server").is_some());
        let next = conn.read_response();
        assert_eq!(
            (next.status, next.body.as_slice()),
            (200, A),
            "after OPTIONS {target}"
        );
    }
}

#[test]
fn unsafe_methods_are_405_and_unknown_methods_501() {
    let server = server();
    let host = server.host();
    for method in ["POST", "PUT", "DELETE", "PATCH", "TRACE"] {
        let mut conn = server.connect();
        conn.send(
            format!(
                "{}{}",
                req(method, "/a.txt", "HTTP/1.1", &host, "Content-Length: 3\r\n") + "xyz",
                req("GET", "/b.txt", "HTTP/1.1", &host, "")
            )
            .as_bytes(),
        )
        .unwrap();
        let r = conn.read_response();
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{method}");
        if !r.says_close() {
            // Kept open: the 3-byte body was consumed and the next request is answered.
            let next = conn.read_response();
            assert_eq!(next.body, B, "after {method}");
        }
    }
    for method in ["BREW", "FOO", "get"] {
        let r = server.request(req(method, "/a.txt", "HTTP/1.1", &host, "").as_bytes());
        assert!(
            r.status == 501 || r.status == 405,
            "{method}: unknown method -> 501 (or 405), got {}",
            r.status
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Stray bytes and Host
// ---------------------------------------------------------------------------------------------

#[test]
fn one_leading_crlf_is_skipped_other_stray_bytes_are_400() {
    let server = server();
    let host = server.host();
    let r =
        server.request(format!("\r\n{}", req("GET", "/a.txt", "HTTP/1.1", &host, "")).as_bytes());
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, A),
        "one CRLF before the request line"
    );

    // The same between pipelined requests (a client that ends a body with an extra CRLF).
    let mut conn = server.connect();
    conn.send(
        format!(
            "{}\r\n{}",
            req("GET", "/a.txt", "HTTP/1.1", &host, ""),
            req("GET", "/b.txt", "HTTP/1.1", &host, "")
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(conn.read_response().body, A);
    assert_eq!(conn.read_response().body, B);

    // (A stray letter would merge into the method token and make a valid unknown method: 501.)
    for stray in ["\r\n\r\n", " ", "\n", "\0", "@", "\r\n ", "\r\n\t"] {
        let r = server
            .request(format!("{stray}{}", req("GET", "/a.txt", "HTTP/1.1", &host, "")).as_bytes());
        assert_eq!(r.status, 400, "stray {stray:?} before the request line");
    }
}

#[test]
fn host_missing_duplicated_or_invalid_on_http_1_1_is_400() {
    let server = server();
    let host = server.host();
    assert_eq!(
        server.request(b"GET /a.txt HTTP/1.1\r\n\r\n").status,
        400,
        "missing Host"
    );
    let dup = format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n\r\n");
    assert_eq!(
        server.request(dup.as_bytes()).status,
        400,
        "duplicated Host"
    );
    let dup_other = format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nHost: other.test\r\n\r\n");
    assert_eq!(
        server.request(dup_other.as_bytes()).status,
        400,
        "two different Hosts"
    );
    for bad in [
        "a b",
        "exa mple.test",
        "host/path",
        "user@host",
        "host:port",
        "[::1",
        "host:80:80",
        "a\"b",
    ] {
        let r = server.request(format!("GET /a.txt HTTP/1.1\r\nHost: {bad}\r\n\r\n").as_bytes());
        assert_eq!(r.status, 400, "Host: {bad:?}");
    }
    // Valid hosts, whatever the name: the Host never selects a file or a directory.
    for good in [
        "other.test",
        "other.test:8080",
        "[::1]:80",
        "127.0.0.1",
        "a.txt",
        "..",
    ] {
        let r = server.request(format!("GET /a.txt HTTP/1.1\r\nHost: {good}\r\n\r\n").as_bytes());
        if good == ".." {
            // `..` is a valid reg-name; if accepted it must still serve the same file.
            if r.status == 200 {
                assert_eq!(r.body, A);
            } else {
                assert_eq!(r.status, 400, "Host: ..");
            }
            continue;
        }
        assert_eq!((r.status, r.body.as_slice()), (200, A), "Host: {good}");
    }
}

// ---------------------------------------------------------------------------------------------
// Content-Length and Transfer-Encoding
// ---------------------------------------------------------------------------------------------

#[test]
fn content_length_with_ows_or_leading_zeros_frames_the_body() {
    let server = server();
    let host = server.host();
    for field in [
        "Content-Length: 5",
        "Content-Length:5",
        "Content-Length:   5  ",
        "Content-Length: 0005",
        "content-length: 5",
    ] {
        let mut conn = server.connect();
        conn.send(
            format!(
                "GET /a.txt HTTP/1.1\r\nHost: {host}\r\n{field}\r\n\r\nhello{}",
                req("GET", "/b.txt", "HTTP/1.1", &host, "")
            )
            .as_bytes(),
        )
        .unwrap();
        let first = conn.read_response();
        assert_eq!((first.status, first.body.as_slice()), (200, A), "{field:?}");
        let second = conn
            .try_read_response(false, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("{field:?}: the body was not consumed as 5 bytes: {e}"));
        assert_eq!(
            (second.status, second.body.as_slice()),
            (200, B),
            "{field:?}"
        );
    }
}

#[test]
fn malformed_content_length_is_400_and_close() {
    let server = server();
    let host = server.host();
    for value in [
        "+5",
        "-5",
        "5 5",
        "0x5",
        "5.0",
        "five",
        "5a",
        "",
        "18446744073709551616",
        "99999999999999999999999",
        "5, 6",
        "5,6",
    ] {
        let attack =
            format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: {value}\r\n\r\nhello");
        assert_refused_and_closed(&server, &attack, &[400]);
    }
    let two_fields = format!(
        "GET /a.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
    );
    assert_refused_and_closed(&server, &two_fields, &[400]);
}

#[test]
fn chunked_in_any_case_is_decoded_with_extensions_and_trailers() {
    let server = server();
    let host = server.host();
    for coding in ["chunked", "Chunked", "CHUNKED"] {
        let mut conn = server.connect();
        conn.send(
            format!(
                "GET /a.txt HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: {coding}\r\n\r\n\
                 5;ext=1;name=\"q v\"\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n{}",
                req("GET", "/b.txt", "HTTP/1.1", &host, "")
            )
            .as_bytes(),
        )
        .unwrap();
        let first = conn.read_response();
        assert_eq!((first.status, first.body.as_slice()), (200, A), "{coding}");
        let second = conn
            .try_read_response(false, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("{coding}: next request after a chunked body: {e}"));
        assert_eq!(
            (second.status, second.body.as_slice()),
            (200, B),
            "{coding}"
        );
    }
}

#[test]
fn a_chunked_body_arriving_in_pieces_is_discarded_and_the_connection_kept() {
    let server = server();
    let host = server.host();
    let mut conn = server.connect();
    let whole = format!(
        "GET /a.txt HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n\
         a;x=y\r\n0123456789\r\n1\r\nz\r\n0\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n"
    );
    for piece in whole.as_bytes().chunks(7) {
        conn.send(piece).unwrap();
        thread::sleep(Duration::from_millis(15));
    }
    let first = conn.read_response();
    assert_eq!((first.status, first.body.as_slice()), (200, A));
    conn.send(req("GET", "/b.txt", "HTTP/1.1", &host, "").as_bytes())
        .unwrap();
    assert_eq!(conn.read_response().body, B);
}

#[test]
fn bad_transfer_encodings_are_refused_and_closed() {
    let server = server();
    let host = server.host();
    let body = "5\r\nhello\r\n0\r\n\r\n";
    let cases: [(&str, &[u16]); 6] = [
        (
            "GET /a.txt HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: gzip\r\n\r\n",
            &[400],
        ),
        (
            "GET /a.txt HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            &[400],
        ),
        (
            "GET /a.txt HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            &[400],
        ),
        (
            "GET /a.txt HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            &[400],
        ),
        (
            "GET /a.txt HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked\r\nContent-Length: 16\r\n\r\n",
            &[400],
        ),
        (
            "GET /a.txt HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            &[501, 400],
        ),
    ];
    for (head, statuses) in cases {
        let attack = format!("{}{body}", head.replace("{h}", &host));
        assert_refused_and_closed(&server, &attack, statuses);
    }
    let on_http10 = format!("GET /a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
    assert_refused_and_closed(&server, &on_http10, &[400]);
}

#[test]
fn a_small_get_body_is_discarded_and_the_next_request_answered() {
    let server = server();
    let host = server.host();
    let mut conn = server.connect();
    conn.send(
        format!(
            "GET /a.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 11\r\n\r\nhello world{}",
            req("GET", "/b.txt", "HTTP/1.1", &host, "")
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(conn.read_response().body, A);
    assert_eq!(conn.read_response().body, B);
    // The body in a later write than its head.
    conn.send(
        format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\n\r\n").as_bytes(),
    )
    .unwrap();
    thread::sleep(Duration::from_millis(50));
    conn.send(format!("abcd{}", req("GET", "/b.txt", "HTTP/1.1", &host, "")).as_bytes())
        .unwrap();
    assert_eq!(conn.read_response().body, A);
    assert_eq!(conn.read_response().body, B);
}

#[test]
fn a_declared_body_over_the_limit_is_413_at_once_without_reading_it() {
    let server = server();
    let host = server.host();
    let mut conn = server.connect();
    let sent_at = Instant::now();
    conn.send(
        format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100000000\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    // Not one body byte is sent: the answer must not wait for the 100 MB.
    let r = conn
        .try_read_response(false, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("no 413 before the body was sent: {e}"));
    assert_eq!(r.status, 413);
    assert!(r.says_close());
    assert!(
        matches!(
            conn.wait_closed(Duration::from_secs(2)),
            CloseWait::Closed(_)
        ),
        "closed after the 413"
    );
    assert!(
        sent_at.elapsed() < Duration::from_secs(3),
        "took {:?}",
        sent_at.elapsed()
    );

    // Just over the limit (8192 by default) is refused too; at the limit is read and discarded.
    let r = server.request(
        format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 8193\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 413, "8193 > max_request_bytes 8192");
    let mut conn = server.connect();
    let body = "z".repeat(4000);
    conn.send(
        format!(
            "GET /a.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4000\r\n\r\n{body}{}",
            req("GET", "/b.txt", "HTTP/1.1", &host, "")
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(conn.read_response().body, A);
    assert_eq!(conn.read_response().body, B);
}

#[test]
fn a_chunked_body_growing_past_the_limit_is_413_and_close() {
    let server = server();
    let host = server.host();
    let mut conn = server.connect();
    conn.send(
        format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let chunk = format!("400\r\n{}\r\n", "c".repeat(0x400));
    // Up to 64 KiB of 1 KiB chunks; the server may stop reading (and even reset) once past 8 KiB.
    for _ in 0..64 {
        if conn.send(chunk.as_bytes()).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let r = conn
        .try_read_response(false, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("no 413 for a chunked body over max_request_bytes: {e}"));
    assert_eq!(r.status, 413);
    assert!(r.says_close());
    assert!(matches!(
        conn.wait_closed(Duration::from_secs(2)),
        CloseWait::Closed(_)
    ));
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

#[test]
fn refused_targets_get_a_4xx_never_a_redirect_or_a_silent_close() {
    let server = Server::builder()
        .file("a.txt", A)
        .file(".env", b"SECRET=1")
        .file(".git/config", b"[core]")
        .file(".git/index.html", b"<p>git</p>")
        .file("sub/page.txt", b"sub page")
        .dir("empty")
        .start();
    std::fs::write(server.dir().join("outside.txt"), b"OUTSIDE THE ROOT").unwrap();
    std::os::unix::fs::symlink(
        server.dir().join("outside.txt"),
        server.site().join("link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(server.dir(), server.site().join("linkdir")).unwrap();
    let host = server.host();
    let targets = [
        "/../outside.txt",
        "/sub/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E/outside.txt",
        "/sub/%2e%2e/%2e%2e/outside.txt",
        "/..%2foutside.txt",
        "/sub%2fpage.txt",
        "/sub%2Fpage.txt",
        "/a.txt%00.html",
        "/a%00.txt",
        "/..\\outside.txt",
        "/sub\\..\\..\\outside.txt",
        "/%252e%252e/outside.txt",
        "/.env",
        "/.git",
        "/.git/",
        "/.git/config",
        "/.git/index.html",
        "/sub/../.env",
        "/%2eenv",
        "/%2egit",
        "/link.txt",
        "/linkdir/outside.txt",
        "/empty/",
        "/empty/../../outside.txt",
    ];
    for target in targets {
        let raw = req("GET", target, "HTTP/1.1", &host, "");
        let mut conn = server.connect();
        conn.send(raw.as_bytes()).unwrap();
        let r = conn
            .try_read_response(false, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("{target}: no response (a silent close?): {e}"));
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{target}: expected 400/403/404, got {} (Location {:?})",
            r.status,
            r.header("location")
        );
        for leak in ["OUTSIDE", "SECRET", "[core]", "<p>git</p>"] {
            assert!(!r.text().contains(leak), "{target}: leaked {leak:?}");
        }
    }
    // The server is still fine afterwards.
    assert_eq!(server.get("/a.txt").body, A);
}

#[test]
fn a_directory_without_an_index_is_404_or_403_without_a_listing() {
    let server = Server::builder()
        .file("nolist/secret-name.txt", b"x")
        .file("nolist/other.html", b"y")
        .start();
    for target in ["/nolist/", "/nolist"] {
        let r = server.get(target);
        if target == "/nolist" && r.status == 301 {
            continue; // the slash redirect may come first for a real directory
        }
        assert!(matches!(r.status, 403 | 404), "{target}: got {}", r.status);
        assert!(
            !r.text().contains("secret-name"),
            "{target}: a directory listing"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

#[test]
fn header_timeout_closes_a_silent_client_silently() {
    let server = Server::start("[server]\nheader_timeout = 0.5\n", &[("a.txt", A)]);
    let mut conn = server.connect();
    let started = Instant::now();
    let outcome = conn.wait_closed(Duration::from_secs(5));
    let waited = started.elapsed();
    assert_eq!(
        outcome,
        CloseWait::Closed(Vec::new()),
        "no 408 to a client that never started"
    );
    assert!(
        waited >= Duration::from_millis(400) && waited <= Duration::from_secs(3),
        "closed after {waited:?}, header_timeout 0.5 s"
    );
}

#[test]
fn header_timeout_sends_408_to_a_client_with_half_a_head() {
    let server = Server::start("[server]\nheader_timeout = 0.5\n", &[("a.txt", A)]);
    let mut conn = server.connect();
    let started = Instant::now();
    conn.send(format!("GET /a.txt HTTP/1.1\r\nHost: {}\r\nUser-Ag", server.host()).as_bytes())
        .unwrap();
    let r = conn
        .try_read_response(false, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("no 408 for half a head: {e}"));
    let waited = started.elapsed();
    assert_eq!(r.status, 408);
    assert!(r.says_close());
    assert!(r.header("date").is_some() && r.header("server").is_some());
    assert_eq!(
        r.content_length(),
        Some(r.body.len() as u64),
        "408 carries Content-Length"
    );
    assert!(
        waited >= Duration::from_millis(400) && waited <= Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(
        matches!(conn.wait_closed(Duration::from_secs(2)), CloseWait::Closed(b) if b.is_empty())
    );

    // A client that trickles bytes is still cut off: the timer runs until the head is complete.
    let mut trickler = server.connect();
    let started = Instant::now();
    let head = format!(
        "GET /a.txt HTTP/1.1\r\nHost: {}\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
        server.host()
    );
    let mut answered = None;
    for byte in head.as_bytes() {
        if trickler.send(std::slice::from_ref(byte)).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(40));
        if started.elapsed() > Duration::from_millis(1500) {
            break;
        }
    }
    if let Ok(r) = trickler.try_read_response(false, Duration::from_secs(3)) {
        answered = Some(r.status);
    }
    assert_eq!(
        answered,
        Some(408),
        "a trickling head is timed out from accept, not per byte"
    );
}

#[test]
fn an_idle_keep_alive_connection_closes_silently() {
    let server = Server::start(
        "[server]\nkeepalive_timeout = 0.5\nheader_timeout = 5\n",
        &[("a.txt", A)],
    );
    let mut conn = server.connect();
    conn.send(req("GET", "/a.txt", "HTTP/1.1", &server.host(), "").as_bytes())
        .unwrap();
    assert_eq!(conn.read_response().status, 200);
    let started = Instant::now();
    assert_eq!(
        conn.wait_closed(Duration::from_secs(4)),
        CloseWait::Closed(Vec::new()),
        "an idle keep-alive connection gets no 408"
    );
    assert!(
        started.elapsed() <= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

#[test]
fn an_8000_octet_request_line_is_served_under_the_default_limit() {
    let server = server();
    let prefix = "GET /a.txt?q=";
    let suffix = " HTTP/1.1";
    let pad = "p".repeat(8000 - prefix.len() - suffix.len());
    let line = format!("{prefix}{pad}{suffix}");
    assert_eq!(line.len(), 8000);
    let r = server.request(format!("{line}\r\nHost: {}\r\n\r\n", server.host()).as_bytes());
    assert_eq!((r.status, r.body.as_slice()), (200, A));
}

#[test]
fn a_request_line_over_the_limit_gets_414_before_it_ends() {
    let server = server();
    let mut conn = server.connect();
    // No CRLF, no version: the line is still open when the limit is crossed.
    conn.send(format!("GET /{}", "a".repeat(9000)).as_bytes())
        .unwrap();
    let r = conn
        .try_read_response(false, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("414 must be sent as soon as the limit is crossed: {e}"));
    assert_eq!(r.status, 414);
    assert!(r.says_close());
    assert!(matches!(
        conn.wait_closed(Duration::from_secs(2)),
        CloseWait::Closed(_)
    ));

    let r = server.request(
        format!(
            "GET /{}.txt HTTP/1.1\r\nHost: {}\r\n\r\n",
            "b".repeat(8300),
            server.host()
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 414, "a complete line over the limit");
}

#[test]
fn a_head_over_the_limit_or_with_too_many_fields_gets_431() {
    let server = server();
    let host = server.host();
    let big = format!(
        "GET /a.txt HTTP/1.1\r\nHost: {host}\r\nX-A: {}\r\nX-B: {}\r\n\r\n",
        "a".repeat(4500),
        "b".repeat(4500)
    );
    let r = server.request(big.as_bytes());
    assert_eq!(r.status, 431, "head over max_request_bytes");
    assert!(r.says_close());

    // Crossed before the head ends: answered without waiting for the empty line.
    let mut conn = server.connect();
    conn.send(
        format!(
            "GET /a.txt HTTP/1.1\r\nHost: {host}\r\nX-A: {}",
            "a".repeat(9000)
        )
        .as_bytes(),
    )
    .unwrap();
    let r = conn
        .try_read_response(false, Duration::from_secs(3))
        .unwrap_or_else(|e| panic!("431 must be sent as soon as the limit is crossed: {e}"));
    assert_eq!(r.status, 431);

    // Many tiny fields, well under the byte limit.
    let fields = "a:1\r\n".repeat(1000);
    let r =
        server.request(format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\n{fields}\r\n").as_bytes());
    assert_eq!(r.status, 431, "1000 fields");
    // A normal number of fields is fine.
    let fields: String = (0..30).map(|i| format!("X-F{i}: {i}\r\n")).collect();
    let r =
        server.request(format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\n{fields}\r\n").as_bytes());
    assert_eq!(r.status, 200, "30 fields");
}

#[test]
fn keepalive_requests_caps_the_requests_per_connection() {
    let server = Server::start("[server]\nkeepalive_requests = 3\n", &[("a.txt", A)]);
    let mut conn = server.connect();
    for i in 1..=3 {
        conn.send(req("GET", "/a.txt", "HTTP/1.1", &server.host(), "").as_bytes())
            .unwrap();
        let r = conn.read_response();
        assert_eq!(r.status, 200, "request {i}");
        if i < 3 {
            assert_eq!(r.header("connection"), Some("keep-alive"), "request {i}");
        } else {
            assert_eq!(
                r.header("connection"),
                Some("close"),
                "the third response closes"
            );
        }
    }
    assert_eq!(
        conn.wait_closed(Duration::from_secs(2)),
        CloseWait::Closed(Vec::new()),
        "the socket closes after the third response"
    );
}

#[test]
fn no_5xx_for_hostile_input_and_the_server_keeps_serving() {
    let server = server();
    let host = server.host();
    let inputs: Vec<Vec<u8>> = vec![
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
        b"GET / HTTP/1.1\r\nHost: \x00\r\n\r\n".to_vec(),
        format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nX: \x7f\x01\r\n\r\n").into_bytes(),
        format!("GET /\u{e9}.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
        format!("GET /%ff%fe.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
        format!("GET /%zz HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
        format!("GET http://{host}/a.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
        format!("GET a.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
        format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\n: empty-name\r\n\r\n").into_bytes(),
        format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\nX: a\rb\r\n\r\n").into_bytes(),
    ];
    for raw in inputs {
        let mut conn = server.connect();
        conn.send(&raw).unwrap();
        let r = conn
            .try_read_response(false, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("{:?}: no response: {e}", String::from_utf8_lossy(&raw)));
        assert!(
            r.status < 500,
            "{:?}: {}",
            String::from_utf8_lossy(&raw),
            r.status
        );
    }
    assert_eq!(server.get("/a.txt").body, A);
}

#[test]
fn absolute_form_and_percent_encoded_names_select_the_file_by_path() {
    let server = Server::builder()
        .file("a.txt", A)
        .file("my file.txt", b"with a space")
        .file("caf\u{e9}.txt", b"accented")
        .start();
    let host = server.host();
    // RFC 9112 §3.2.2: the authority in an absolute-form target replaces Host; the file is the path.
    let r = server.request(
        format!("GET http://other.test/a.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    );
    assert_eq!((r.status, r.body.as_slice()), (200, A), "absolute-form");
    let r = server.get("/my%20file.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"with a space"[..]));
    let r = server.get("/caf%C3%A9.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"accented"[..]));
    let r = server.get("/%61.txt");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, A),
        "an encoded unreserved letter"
    );
    let r = server.get("/./a.txt");
    assert!(
        (r.status == 200 && r.body == A) || r.status == 400,
        "a dot-segment that stays inside the root: {}",
        r.status
    );
}
