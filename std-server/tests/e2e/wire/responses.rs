//! What every response carries (Date, Server, Content-Type, Content-Length, Connection) whatever its
//! status, HEAD with exactly GET's fields and no body (RFC 9110 §9.3.2), and bodies byte-exact to
//! a raw socket and to a real client.

use crate::common::fixtures::{INDEX, site_files};
use crate::common::*;
use std::collections::HashSet;
use std::io::Read;

#[test]
fn every_response_carries_date_server_type_length_connection() {
    let server = Server::start("", &site_files());
    let host = server.host();
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "200",
            format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            200,
        ),
        (
            "404",
            format!("GET /nope.html HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            404,
        ),
        (
            "403",
            format!("GET /tool.exe HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            403,
        ),
        (
            "301",
            format!("GET /docs HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            301,
        ),
        (
            "405",
            format!("POST /index.html HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"),
            405,
        ),
        (
            "400",
            format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nNo colon here\r\n\r\n"),
            400,
        ),
        (
            "505",
            format!("GET /index.html HTTP/2.0\r\nHost: {host}\r\n\r\n"),
            505,
        ),
    ];
    let mut ok_response = None;
    for (what, raw, status) in cases {
        let r = server.request(raw.as_bytes());
        assert_eq!(
            r.status,
            status,
            "{what}: {raw:?} -> {:?}",
            String::from_utf8_lossy(&r.head)
        );
        assert_common_headers(what, &r, "staticd");
        if status == 200 {
            assert_eq!(r.body, INDEX);
            assert!(r.header("content-type").unwrap().starts_with("text/html"));
            ok_response = Some(r);
        }
    }

    // 304 (RFC 9110 §15.4.5): Date, Server, Connection; Content-Length absent or exactly the
    // 200's, never 0.
    let ok = ok_response.expect("the 200 case ran");
    let validator = ok
        .header("etag")
        .map(|etag| format!("If-None-Match: {etag}"))
        .or_else(|| {
            ok.header("last-modified")
                .map(|lm| format!("If-Modified-Since: {lm}"))
        })
        .expect("a 200 for a file carries ETag or Last-Modified");
    let mut conn = server.connect();
    conn.send(
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\n{validator}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let not_modified = conn.read_response();
    assert_eq!(not_modified.status, 304, "{validator}");
    assert_common_headers("304", &not_modified, "staticd");
    if let Some(len) = not_modified.content_length() {
        assert_eq!(
            len,
            INDEX.len() as u64,
            "304 Content-Length is the 200's or absent"
        );
    }
    // No body bytes may follow a 304: the next response on the socket starts right after its head.
    conn.send(format!("GET /style.css HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .unwrap();
    let next = conn.read_response();
    assert_eq!(next.status, 200);
    assert_eq!(next.body, b"body { color: red }\n");
}

#[test]
fn binary_files_are_byte_exact_over_raw_sockets_and_a_real_client() {
    let big = pseudo_random_bytes(3 * 1024 * 1024 + 17, 42);
    let video = pseudo_random_bytes(300_001, 9);
    let font = pseudo_random_bytes(40_000, 5);
    let server = Server::builder()
        .file("img/big.png", &big)
        .file("img/tiny.png", TINY_PNG)
        .file("media/clip.mp4", &video)
        .file("fonts/f.woff2", &font)
        .start();
    let cases: [(&str, &[u8], &str); 4] = [
        ("/img/big.png", &big, "image/png"),
        ("/img/tiny.png", TINY_PNG, "image/png"),
        ("/media/clip.mp4", &video, "video/mp4"),
        ("/fonts/f.woff2", &font, "font/woff2"),
    ];
    for (path, expected, mime) in cases {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(mime), "{path}");
        assert_eq!(r.content_length(), Some(expected.len() as u64), "{path}");
        assert_eq!(
            sha256_hex(&r.body),
            sha256_hex(expected),
            "{path}: raw socket body"
        );
    }

    let agent = http_agent();
    for (path, expected, mime) in cases {
        let mut resp = agent.get(&server.url(path)).call().expect("ureq GET");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some(mime),
            "{path}"
        );
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .read_to_end(&mut body)
            .expect("ureq body");
        assert_eq!(sha256_hex(&body), sha256_hex(expected), "{path}: ureq body");
    }
}

#[test]
fn head_carries_the_get_headers_and_no_body() {
    let server = Server::start("", &site_files());
    let host = server.host();
    for path in [
        "/index.html",
        "/style.css",
        "/missing.html",
        "/tool.exe",
        "/docs",
    ] {
        let get = server.get(path);
        let mut conn = server.connect();
        // HEAD then GET in one write: any body bytes after the HEAD response would corrupt the second.
        conn.send(
            format!("HEAD {path} HTTP/1.1\r\nHost: {host}\r\n\r\nGET /style.css HTTP/1.1\r\nHost: {host}\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        let head = conn.read_head_response();
        let after = conn.read_response();
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(after.status, 200, "{path}: no body after the HEAD response");
        assert_eq!(after.body, b"body { color: red }\n", "{path}");
        let names = |r: &Response| -> HashSet<String> {
            r.headers
                .iter()
                .map(|(n, _)| n.to_ascii_lowercase())
                .collect()
        };
        assert_eq!(
            names(&head),
            names(&get),
            "{path}: HEAD sends the fields GET sends"
        );
        for (name, value) in &get.headers {
            if name.eq_ignore_ascii_case("date") {
                continue;
            }
            assert_eq!(head.header(name), Some(value.as_str()), "{path}: {name}");
        }
        assert_common_headers_of_head("HEAD", &head, "staticd");
    }
    // Range is ignored on HEAD (RFC 9110 §14.2).
    let r = server.request(
        format!("HEAD /index.html HTTP/1.1\r\nHost: {host}\r\nRange: bytes=0-3\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.content_length(), Some(INDEX.len() as u64));
}
