//! Size limits on what a client sends (`max_request_bytes`): a long request line is 414, a long
//! head or too many fields 431 (RFC 6585 §5), a body over the limit 413 (RFC 9110 §15.5.14) — each
//! answered as soon as the limit is crossed, then the connection closes.

use crate::common::fixtures::{self, A, B};
use crate::common::*;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn an_8000_octet_request_line_is_served_under_the_default_limit() {
    let server = fixtures::server();
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
    let server = fixtures::server();
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
    let server = fixtures::server();
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
fn a_declared_body_over_the_limit_is_413_at_once_without_reading_it() {
    let server = fixtures::server();
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
    let server = fixtures::server();
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
