//! Raw bytes 0x80-0xFF in the request-target (a client that sends `/café.html` without
//! percent-encoding it) are read as if they were percent-encoded (RFC 3986 §2.1): `/caf\xC3\xA9.html`
//! names the same file as `/caf%C3%A9.html`. Control bytes, DEL and a path that is not UTF-8 stay
//! refused with 400 (RFC 9112 §3.2, RFC 9110 §15.5.1).

use crate::common::*;

const PAGE: &[u8] = "<p>caf\u{e9}</p>\n".as_bytes();

fn server() -> Server {
    Server::builder()
        .file("caf\u{e9}.html", PAGE)
        .file("d\u{e9}j\u{e0}/index.html", b"<p>index</p>\n")
        .start()
}

#[test]
fn raw_utf8_target_serves_the_same_file_as_its_percent_encoding() {
    let server = server();
    let raw = server.get_raw(b"/caf\xc3\xa9.html");
    let encoded = server.get_raw(b"/caf%C3%A9.html");
    assert_eq!(raw.status, 200, "raw UTF-8: {raw:?}");
    assert_eq!(encoded.status, 200, "percent-encoded: {encoded:?}");
    assert_eq!(raw.body, PAGE);
    assert_eq!(encoded.body, PAGE);
    assert_eq!(raw.header("content-type"), encoded.header("content-type"));
    assert_eq!(raw.header("etag"), encoded.header("etag"));
    // A query with raw UTF-8 is dropped like any query.
    let with_query = server.get_raw(b"/caf\xc3\xa9.html?q=\xe2\x82\xac");
    assert_eq!((with_query.status, with_query.body), (200, PAGE.to_vec()));
}

#[test]
fn raw_utf8_directory_and_missing_names_resolve_like_any_path() {
    let server = server();
    let index = server.get_raw(b"/d\xc3\xa9j\xc3\xa0/");
    assert_eq!(
        (index.status, index.body),
        (200, b"<p>index</p>\n".to_vec())
    );
    // Resolved, not refused: a name that does not exist is 404, not 400.
    assert_eq!(server.get_raw(b"/caf\xc3\xa8.html").status, 404);
}

#[test]
fn control_bytes_and_bytes_that_are_not_utf8_stay_refused() {
    let server = server();
    for target in [
        &b"/caf\xc3\xa9\x01.html"[..],
        b"/caf\xc3\xa9\x7f.html",
        b"/caf\xc3\xa9\x1b.html",
        b"/caf\xc3\xa9\t.html",
        // Not UTF-8, raw or encoded: Latin-1 é, a lone lead byte, an overlong `..`.
        b"/caf\xe9.html",
        b"/caf%E9.html",
        b"/caf\xc3.html",
        b"/\xc0\xae\xc0\xae/secret",
    ] {
        let response = server.get_raw(target);
        assert_eq!(
            response.status,
            400,
            "{}: {response:?}",
            String::from_utf8_lossy(target)
        );
    }
    // The server is still serving after every refusal.
    assert_eq!(server.get_raw(b"/caf\xc3\xa9.html").status, 200);
}
