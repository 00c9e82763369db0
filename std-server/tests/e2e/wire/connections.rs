//! Persistent connections and pipelining (RFC 9112 §9.3): many requests on one socket, answers in
//! the order asked, HTTP/1.0 kept alive only when it asks.

use crate::common::fixtures::INDEX;
use crate::common::*;
use std::time::Duration;

#[test]
fn a_hundred_requests_share_one_keep_alive_socket_and_http_1_0_persists_only_when_asked() {
    let server = Server::builder()
        .file("index.html", INDEX)
        .file("style.css", b"body { color: red }\n")
        .start();
    let host = server.host();
    let mut conn = server.connect();
    for i in 0..100 {
        let (path, expected): (&str, &[u8]) = if i % 2 == 0 {
            ("/index.html", INDEX)
        } else {
            ("/style.css", b"body { color: red }\n")
        };
        conn.send(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .unwrap_or_else(|e| panic!("request {i}: the server closed the connection: {e}"));
        let r = conn
            .try_read_response(false, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("request {i} on the same socket: {e}"));
        assert_eq!(r.status, 200, "request {i}");
        assert_eq!(r.body, expected, "request {i}");
        assert_eq!(r.header("connection"), Some("keep-alive"), "request {i}");
    }
    // HTTP/1.0 keeps the connection only when asked to.
    conn.send(
        format!("GET /index.html HTTP/1.0\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let r = conn.read_response();
    assert_eq!(r.header("connection"), Some("keep-alive"));
    conn.send(b"GET /index.html HTTP/1.0\r\n\r\n").unwrap();
    let r = conn.read_response();
    assert_eq!(r.status, 200);
    assert!(r.says_close(), "HTTP/1.0 without keep-alive closes");
    assert!(
        matches!(conn.wait_closed(Duration::from_secs(2)), CloseWait::Closed(b) if b.is_empty())
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::builder()
        .file("a.txt", b"first file")
        .file("b.txt", b"second file, longer")
        .file("c.txt", b"third")
        .start();
    let host = server.host();
    let mut conn = server.connect();
    let batch = format!(
        "GET /a.txt HTTP/1.1\r\nHost: {host}\r\n\r\n\
         GET /b.txt HTTP/1.1\r\nHost: {host}\r\n\r\n\
         GET /missing.txt HTTP/1.1\r\nHost: {host}\r\n\r\n\
         HEAD /c.txt HTTP/1.1\r\nHost: {host}\r\n\r\n\
         GET /c.txt HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    );
    conn.send(batch.as_bytes()).unwrap();
    let r = conn.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"first file"[..]));
    let r = conn.read_response();
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, &b"second file, longer"[..])
    );
    let r = conn.read_response();
    assert_eq!(r.status, 404);
    let r = conn.read_head_response();
    assert_eq!((r.status, r.content_length()), (200, Some(5)));
    let r = conn.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"third"[..]));
    assert!(r.says_close());
    assert_eq!(
        conn.wait_closed(Duration::from_secs(2)),
        CloseWait::Closed(Vec::new()),
        "closed after the last response, nothing extra"
    );
}
