//! The request message (RFC 9112 §2-3, RFC 9110 §9): versions (§2.3), methods with OPTIONS, 405
//! and 501, stray bytes before the request line (§2.2), Host (§3.2, RFC 9110 §7.2), malformed
//! requests answered 400 with a close, and no 5xx for anything a client sends. Raw bytes throughout.

use crate::common::fixtures::{A, B, server, site_files};
use crate::common::*;
use std::time::Duration;

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
        assert_common_headers(version, &r, "staticd");
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
        assert_common_headers(&format!("OPTIONS {target}"), &r, "staticd");
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
        assert_common_headers(method, &r, "staticd");
        assert!(r.body != A, "{method}: the 405 carries the file");
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
// Malformed and hostile input
// ---------------------------------------------------------------------------------------------

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
fn malformed_requests_get_400_and_the_connection_closes() {
    let server = Server::start("", &site_files());
    let host = server.host();
    let cases = [
        "GET\r\n\r\n".to_string(),
        "GET /index.html\r\nHost: x\r\n\r\n".to_string(),
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nBad Header: x\r\n\r\n"),
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nX-Space : x\r\n\r\n"),
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nX-Fold: a\r\n b\r\n\r\n"),
        format!("GET  /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\nX: y\r\n\r\n"),
        "GET /index.html HTTP/1.1\r\n\r\n".to_string(),
    ];
    for raw in cases {
        let mut conn = server.connect();
        conn.send(raw.as_bytes()).unwrap();
        let r = conn.read_response();
        assert_eq!(r.status, 400, "{raw:?}");
        assert_common_headers("400", &r, "staticd");
        assert!(r.says_close(), "{raw:?}: 400 says Connection: close");
        assert!(
            matches!(
                conn.wait_closed(Duration::from_secs(2)),
                CloseWait::Closed(_)
            ),
            "{raw:?}: closed after the 400"
        );
    }
}
