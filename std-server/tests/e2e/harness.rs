//! The helper library's own parsers accept what they should and refuse the rest: a test that
//! trusts them trusts this.

use crate::common::server::merge_config;
use crate::common::*;
use std::io::Write;
use std::net::TcpListener;
use std::thread;

#[test]
fn the_date_log_and_ready_line_parsers_accept_valid_and_refuse_malformed_input() {
    assert_eq!(
        parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(parse_imf_fixdate("Mon, 06 Nov 1994 08:49:37 GMT"), None);
    assert_eq!(parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    assert_eq!(
        parse_clf_time("06/Nov/1994:08:49:37 +0000"),
        Some(784_111_777)
    );
    assert_eq!(
        parse_clf_time("06/Nov/1994:10:49:37 +0200"),
        Some(784_111_777)
    );
    let line =
        r#"127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET /a\"b HTTP/1.1" 200 12 "-" "ua\\x""#;
    let parsed = parse_access_line(line).expect("valid line");
    assert_eq!(parsed.request, r#"GET /a\"b HTTP/1.1"#);
    assert_eq!(parsed.user_agent, r"ua\\x");
    assert!(parse_access_line(&format!("{line} ")).is_none());
    assert!(parse_access_line(&line.replace("200", "20")).is_none());
    assert_eq!(
        parse_ready_line("staticd listening on http://127.0.0.1:4321/"),
        Some(4321)
    );
    assert_eq!(
        parse_ready_line("staticd listening on http://127.0.0.1:4321"),
        None
    );
    assert!(
        merge_config("[server]\nport = 5\n", &[("server", "port", "0".into())])
            .contains("port = 5")
    );
    assert!(
        merge_config("[log]\n", &[("server", "port", "0".into())]).contains("[server]\nport = 0")
    );
}

#[test]
fn response_heads_are_parsed_strictly() {
    let good = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Empty:\r\n\r\n";
    let r = parse_response_head(good).expect("a valid head");
    assert_eq!(
        (r.version.as_str(), r.status, r.reason.as_str()),
        ("HTTP/1.1", 200, "OK")
    );
    assert_eq!(r.content_length(), Some(3));
    assert_eq!(r.header("x-empty"), Some(""));
    // What a server must never send (RFC 9112 §2.2, §4, §5.1, §5.2).
    for bad in [
        &b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nX-Space : a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        b"HTTP/1.1 200 OK\nX: a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nextra",
    ] {
        assert!(
            parse_response_head(bad).is_err(),
            "accepted {:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn the_raw_client_reads_chunked_and_pipelined_responses() {
    // A scripted peer on 127.0.0.1 (staticd never sends chunked bodies, so the reader is checked
    // here): a chunked body with an extension and a trailer, then a Content-Length response.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                  5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n\
                  HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone",
            )
            .expect("write");
    });
    let mut conn = Conn::open(addr);
    let first = conn.read_response();
    assert_eq!(
        (first.status, first.body.as_slice()),
        (200, &b"hello world"[..])
    );
    let second = conn.read_response();
    assert_eq!((second.status, second.body.as_slice()), (404, &b"gone"[..]));
    peer.join().expect("peer");
}
