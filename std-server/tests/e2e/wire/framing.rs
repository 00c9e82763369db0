//! Message body framing (RFC 9112 §6): Content-Length forms, chunked with extensions and trailers
//! (§7.1), bodies discarded so the next request is read in step; and request smuggling: every
//! ambiguous or malformed framing (§6.1, §6.3) gets 400 and the connection closes, and an attack
//! followed by a second request in the same write yields exactly one response.

use crate::common::fixtures::{self, A, B};
use crate::common::*;
use std::thread;
use std::time::Duration;

const OK: &[u8] = b"the follow-up file\n";
/// The body of the smuggled request's target: seeing it means a second request was parsed.
const SMUGGLED: &[u8] = b"SMUGGLED-RESPONSE-BODY\n";

fn smuggling_server() -> Server {
    Server::builder()
        .file("ok.txt", OK)
        .file("smuggled.txt", SMUGGLED)
        .file("index.html", b"<p>index</p>")
        .start()
}

/// One attack: a name and the bytes (with `{H}` standing for the Host value).
struct Attack {
    name: &'static str,
    raw: String,
}

fn attack(name: &'static str, raw: &str) -> Attack {
    Attack {
        name,
        raw: raw.to_string(),
    }
}

/// Request smuggling and malformed-framing attacks; each must be refused with 400 and a close.
fn attacks() -> Vec<Attack> {
    let g = "GET /ok.txt HTTP/1.1\r\nHost: {H}\r\n";
    let smuggle = "GET /smuggled.txt HTTP/1.1\r\nHost: {H}\r\n\r\n";
    vec![
        // Content-Length together with Transfer-Encoding (CL.TE and TE.CL, RFC 9112 §6.1).
        attack(
            "CL.TE",
            &format!(
                "POST /ok.txt HTTP/1.1\r\nHost: {{H}}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX{smuggle}"
            ),
        ),
        attack(
            "TE.CL",
            &format!(
                "POST /ok.txt HTTP/1.1\r\nHost: {{H}}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n{smuggle}\r\n0\r\n\r\n"
            ),
        ),
        attack(
            "GET CL+TE",
            &format!("{g}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ),
        attack(
            "TE obfuscated with a space before the colon",
            &format!("{g}Content-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
        ),
        attack(
            "TE chunked twice",
            &format!("{g}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
        ),
        attack(
            "TE with a final coding other than chunked",
            &format!("{g}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
        ),
        attack(
            "TE on HTTP/1.0",
            "GET /ok.txt HTTP/1.0\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        // Content-Length forms (RFC 9110 §8.6: 1*DIGIT, one value).
        attack(
            "duplicate differing CL",
            &format!("{g}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        ),
        attack(
            "differing CL in one list",
            &format!("{g}Content-Length: 5, 6\r\n\r\nhello!"),
        ),
        attack(
            "CL with a plus sign",
            &format!("{g}Content-Length: +5\r\n\r\nhello"),
        ),
        attack(
            "CL negative",
            &format!("{g}Content-Length: -5\r\n\r\nhello"),
        ),
        attack(
            "CL with an inner space",
            &format!("{g}Content-Length: 1 0\r\n\r\nhello"),
        ),
        attack("CL in hex", &format!("{g}Content-Length: 0x5\r\n\r\nhello")),
        attack(
            "CL decimal fraction",
            &format!("{g}Content-Length: 5.0\r\n\r\nhello"),
        ),
        attack(
            "CL with letters",
            &format!("{g}Content-Length: 5a\r\n\r\nhello"),
        ),
        attack("CL empty", &format!("{g}Content-Length: \r\n\r\n")),
        attack(
            "CL overflowing u64",
            &format!("{g}Content-Length: 18446744073709551616\r\n\r\nhello"),
        ),
        attack(
            "CL huge digit string",
            &format!("{g}Content-Length: 99999999999999999999999999999999999999\r\n\r\n"),
        ),
        // Chunk sizes.
        attack(
            "chunk size overflowing u64",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n"),
        ),
        attack(
            "chunk size of many hex digits",
            &format!(
                "{g}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffffffff1\r\nx\r\n0\r\n\r\n"
            ),
        ),
        attack(
            "negative chunk size",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n"),
        ),
        attack(
            "missing chunk size",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\n\r\nx\r\n0\r\n\r\n"),
        ),
        attack(
            "chunk size with 0x",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n"),
        ),
        attack(
            "chunk size with a sign",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\n+1\r\nx\r\n0\r\n\r\n"),
        ),
        attack(
            "chunk size not hex",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\ng\r\nx\r\n0\r\n\r\n"),
        ),
        attack(
            "chunk data longer than its size",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\n1\r\nxyz\r\n0\r\n\r\n"),
        ),
        attack(
            "chunk size line ended by a bare LF",
            &format!("{g}Transfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n"),
        ),
        // Line structure.
        attack("obs-fold", &format!("{g}X-Folded: a\r\n b\r\n\r\n")),
        attack(
            "obs-fold with a tab",
            &format!("{g}X-Folded: a\r\n\tb\r\n\r\n"),
        ),
        attack(
            "obs-fold on the first field line",
            "GET /ok.txt HTTP/1.1\r\n Host: {H}\r\n\r\n",
        ),
        attack("bare LF line ends", "GET /ok.txt HTTP/1.1\nHost: {H}\n\n"),
        attack(
            "bare LF inside a field",
            &format!("{g}X-A: a\nX-B: b\r\n\r\n"),
        ),
        attack(
            "bare LF after the request line",
            "GET /ok.txt HTTP/1.1\nHost: {H}\r\n\r\n",
        ),
        attack("bare CR inside a field", &format!("{g}X-A: a\rb\r\n\r\n")),
        attack(
            "bare CR as a line end",
            "GET /ok.txt HTTP/1.1\rHost: {H}\r\r",
        ),
        attack(
            "space before the colon",
            "GET /ok.txt HTTP/1.1\r\nHost : {H}\r\n\r\n",
        ),
        attack("tab before the colon", &format!("{g}X-A\t: a\r\n\r\n")),
        attack(
            "space before the colon of Content-Length",
            &format!("{g}Content-Length : 5\r\n\r\nhello"),
        ),
        attack(
            "field line without a colon",
            &format!("{g}X-No-Colon\r\n\r\n"),
        ),
        attack("empty field name", &format!("{g}: value\r\n\r\n")),
        // Control bytes.
        attack("NUL in a field value", &format!("{g}X-A: a\0b\r\n\r\n")),
        attack(
            "NUL in Host",
            "GET /ok.txt HTTP/1.1\r\nHost: 127.0.0.1\0evil\r\n\r\n",
        ),
        attack("SOH in a field value", &format!("{g}X-A: a\x01b\r\n\r\n")),
        attack("ESC in a field value", &format!("{g}X-A: \x1b[31m\r\n\r\n")),
        attack("DEL in a field value", &format!("{g}X-A: a\x7fb\r\n\r\n")),
        attack("NUL in a field name", &format!("{g}X-\0A: a\r\n\r\n")),
        attack(
            "NUL in the request line",
            "GET /ok.txt\0 HTTP/1.1\r\nHost: {H}\r\n\r\n",
        ),
        // Method tokens.
        attack(
            "method with a parenthesis",
            "G(T /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
        ),
        attack(
            "method with an at sign",
            "G@T /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
        ),
        attack(
            "method with a control byte",
            "GE\x01T /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
        ),
        attack(
            "method with a slash",
            "GET/ /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
        ),
        attack(
            "method in brackets",
            "[GET] /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
        ),
        attack(
            "method with a high byte",
            "G\u{e9}T /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
        ),
        attack("empty method", " /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n"),
        attack("split method", "GE T /ok.txt HTTP/1.1\r\nHost: {H}\r\n\r\n"),
        // Host on HTTP/1.1 (RFC 9112 §3.2).
        attack(
            "missing Host",
            "GET /ok.txt HTTP/1.1\r\nAccept: */*\r\n\r\n",
        ),
        attack(
            "duplicate differing Host",
            "GET /ok.txt HTTP/1.1\r\nHost: {H}\r\nHost: evil.test\r\n\r\n",
        ),
        attack(
            "duplicate identical Host",
            "GET /ok.txt HTTP/1.1\r\nHost: {H}\r\nHost: {H}\r\n\r\n",
        ),
        attack(
            "Host with a space",
            "GET /ok.txt HTTP/1.1\r\nHost: a b\r\n\r\n",
        ),
        attack("Host list", "GET /ok.txt HTTP/1.1\r\nHost: a, b\r\n\r\n"),
    ]
}

/// Sends `attack` and a second request for /smuggled.txt in one write; reads until the close.
fn run_attack(server: &Server, attack: &Attack) -> Result<(), String> {
    let host = server.host();
    let mut raw = attack.raw.replace("{H}", &host).into_bytes();
    raw.extend_from_slice(format!("GET /smuggled.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
    let got = exchange(server.addr(), &raw, Duration::from_secs(5), false);
    let name = attack.name;
    let (responses, rest) = split_responses(&got.bytes, false);
    if !got.closed {
        return Err(format!(
            "{name}: connection still open 5 s after the attack; received {:?}",
            got.lossy()
        ));
    }
    if responses.len() != 1 || !rest.is_empty() {
        return Err(format!(
            "{name}: expected exactly one response then a close, got {} (+{} stray bytes): {:?}",
            responses.len(),
            rest.len(),
            got.lossy()
        ));
    }
    if find(&got.bytes, SMUGGLED).is_some() {
        return Err(format!("{name}: the smuggled request was answered"));
    }
    let r = &responses[0];
    if r.status != 400 {
        return Err(format!(
            "{name}: expected 400, got {} {}",
            r.status, r.reason
        ));
    }
    if !r.says_close() {
        return Err(format!("{name}: the 400 does not say Connection: close"));
    }
    Ok(())
}

#[test]
fn smuggling_and_malformed_framing_get_one_400_and_a_close() {
    let server = smuggling_server();
    let mut failures = Vec::new();
    for a in attacks() {
        if let Err(e) = run_attack(&server, &a) {
            failures.push(e);
        }
        assert_still_serves(&server, "/ok.txt", OK, a.name);
    }
    assert!(
        failures.is_empty(),
        "{} of {} attacks not refused with one 400 and a close:\n{}",
        failures.len(),
        attacks().len(),
        failures.join("\n")
    );
}

#[test]
fn attacks_after_a_good_request_on_a_keep_alive_connection_give_exactly_two_responses() {
    // A valid request, then the attack, then the smuggled request, all in one write: the valid one is
    // answered, the attack refused, nothing after it.
    let server = smuggling_server();
    let host = server.host();
    let mut failures = Vec::new();
    for a in attacks() {
        let mut raw = format!("GET /ok.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes();
        raw.extend_from_slice(a.raw.replace("{H}", &host).as_bytes());
        raw.extend_from_slice(
            format!("GET /smuggled.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        );
        let got = exchange(server.addr(), &raw, Duration::from_secs(5), false);
        let (responses, rest) = split_responses(&got.bytes, false);
        let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
        let ok = got.closed
            && rest.is_empty()
            && statuses == [200, 400]
            && responses[0].body == OK
            && find(&got.bytes, SMUGGLED).is_none();
        if !ok {
            failures.push(format!(
                "{}: statuses {statuses:?}, closed {}, stray {} bytes",
                a.name,
                got.closed,
                rest.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_still_serves(&server, "/ok.txt", OK, "keep-alive attacks");
}

#[test]
fn valid_framing_controls_keep_the_connection_in_step() {
    // Controls: the same shapes, made valid, are read and discarded and the next request answered —
    // so the 400s above come from the defect, not from the shape.
    let server = smuggling_server();
    let host = server.host();
    let cases = [
        format!("GET /ok.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello"),
        format!("GET /ok.txt HTTP/1.1\r\nHost: {host}\r\nContent-Length:  0005 \r\n\r\nhello"),
        format!(
            "GET /ok.txt HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"
        ),
        format!("GET /ok.txt HTTP/1.1\r\nHost: {host}\r\nX-Tab: a\tb\r\n\r\n"),
    ];
    for case in cases {
        let mut raw = case.clone().into_bytes();
        raw.extend_from_slice(
            format!("GET /ok.txt HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let got = exchange(server.addr(), &raw, Duration::from_secs(5), false);
        let (responses, rest) = split_responses(&got.bytes, false);
        let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [200, 200], "{case:?}: {:?}", got.lossy());
        assert!(rest.is_empty() && got.closed, "{case:?}");
    }
}

#[test]
fn content_length_with_ows_or_leading_zeros_frames_the_body() {
    let server = fixtures::server();
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
    let server = fixtures::server();
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
    let server = fixtures::server();
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
    let server = fixtures::server();
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
    let server = fixtures::server();
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
    let server = fixtures::server();
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
