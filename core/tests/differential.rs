//! Differential test: staticd-core's request parser against httparse (strict default config) on
//! generated valid requests and on mutations of them.
//!
//! - Where both accept, they read the same method, target, version, fields and head length.
//! - Where httparse rejects a request as malformed, staticd-core rejects it too.
//! - Every other disagreement must be a row of the RFC table in `support/differential.rs`, the
//!   oracle this test shares with the differential fuzz target; an unlisted one fails the test.

#[path = "support/differential.rs"]
mod oracle;

use oracle::{Verdict, httparse, laxer_reason, staticd, stricter_reason};
use proptest::prelude::*;
use staticd_core::parse::{Header, Method, ParserConfig, Status, parse_request};

fn compare(buf: &[u8]) -> Result<(), TestCaseError> {
    oracle::compare(buf).map_err(TestCaseError::fail)
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        4 => Just("GET".to_owned()),
        1 => prop::sample::select(vec!["HEAD", "OPTIONS", "POST", "PUT", "DELETE", "CONNECT"]).prop_map(String::from),
        1 => token(),
    ];
    // Raw bytes 0x80-0xFF: UTF-8 characters (both parsers accept) and any such byte (httparse
    // refuses a target that is not UTF-8; staticd leaves that to the path resolver).
    let target_byte = prop_oneof![12 => 0x21u8..=0x7e, 1 => 0x80u8..=0xff];
    let target = prop_oneof![
        4 => "/[!-~]{0,40}".prop_map(String::into_bytes),
        1 => "/[!-~é€😀]{0,20}".prop_map(String::into_bytes),
        1 => prop::collection::vec(target_byte, 0..30).prop_map(|rest| [&b"/"[..], &rest].concat()),
        1 => "https?://[a-z0-9.]{1,20}/[!-~]{0,20}".prop_map(String::into_bytes),
        1 => Just(b"*".to_vec()),
    ];
    let value_byte =
        prop_oneof![8 => 0x21u8..=0x7e, 1 => Just(b' '), 1 => Just(b'\t'), 1 => 0x80u8..=0xff];
    let field = (
        token(),
        prop::sample::select(vec!["", " ", "\t", "  "]),
        prop::collection::vec(value_byte, 0..30),
        prop::sample::select(vec!["", " ", "\t"]),
    );
    (
        any::<bool>(),
        method,
        target,
        prop::sample::select(vec![
            "HTTP/1.1", "HTTP/1.0", "HTTP/1.1", "HTTP/1.2", "HTTP/2.0",
        ]),
        prop::collection::vec(field, 0..12),
    )
        .prop_map(|(leading, method, target, version, fields)| {
            let mut out = Vec::new();
            if leading {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("{method} ").as_bytes());
            out.extend_from_slice(&target);
            out.extend_from_slice(format!(" {version}\r\n").as_bytes());
            for (name, before, value, after) in fields {
                out.extend_from_slice(name.as_bytes());
                out.push(b':');
                out.extend_from_slice(before.as_bytes());
                out.extend_from_slice(&value);
                out.extend_from_slice(after.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b'\r', b'\n', b' ', b'\t', b':', 0, 0x7f, 0x80, 0xff, b'a', b'/', b'.', b'1', b'2', b'(',
        b'"', 0x0b, 0x1f,
    ]);
    prop_oneof![
        (any::<usize>(), interesting.clone()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        (any::<usize>(), interesting).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut buf: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = buf.len();
        match *m {
            Mutation::Replace(at, b) if len > 0 => buf[at % len] = b,
            Mutation::Insert(at, b) => buf.insert(at % (len + 1), b),
            Mutation::Delete(at) if len > 0 => {
                buf.remove(at % len);
            }
            Mutation::Truncate(at) => buf.truncate(at % (len + 1)),
            _ => {}
        }
    }
    buf
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn generated_requests_agree(buf in request()) {
        compare(&buf)?;
    }

    #[test]
    fn mutated_requests_agree(buf in request(), mutations in prop::collection::vec(mutation(), 1..4)) {
        compare(&apply(buf, &mutations))?;
    }
}

/// Hand-picked requests at the edges of the grammar, with the verdict each side must give.
#[test]
fn known_edges() {
    let agree_reject: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\x00\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / http/1.1\r\n\r\n",
        b"GET / HTTP/1.1.1\r\n\r\n",
        b"GET / HTTP/1\r\n\r\n",
    ];
    for buf in agree_reject {
        assert!(matches!(staticd(buf).0, Verdict::Error(_)), "{buf:?}");
        assert!(matches!(httparse(buf), Verdict::Error(_)), "{buf:?}");
    }
    let chromium: &[u8] = include_bytes!("../benches/chromium_get.bin");
    for buf in [
        chromium,
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        // Raw UTF-8 in the target: both read it as sent.
        "GET /caf\u{e9}.html?q=\u{20ac} HTTP/1.1\r\n\r\n".as_bytes(),
    ] {
        compare(buf).unwrap();
        assert!(matches!(staticd(buf).0, Verdict::Complete { .. }));
    }
    // Each row of the table, checked once by hand.
    for (buf, row) in [
        (&b"GET / HTTP/1.1\nHost: a\n\n"[..], "bare LF"),
        (b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", "leading empty lines"),
        (b"GET * HTTP/1.1\r\n\r\n", "target form"),
        (b"CONNECT a:443 HTTP/1.1\r\n\r\n", "CONNECT"),
    ] {
        assert!(matches!(httparse(buf), Verdict::Complete { .. }), "{row}");
        let (_, error) = staticd(buf);
        assert!(stricter_reason(buf, error.unwrap()).is_some(), "{row}");
    }
    let not_utf8 = b"GET /caf\xe9 HTTP/1.1\r\n\r\n";
    assert!(matches!(httparse(not_utf8), Verdict::Error(_)));
    assert!(matches!(staticd(not_utf8).0, Verdict::Complete { .. }));
    assert!(laxer_reason(not_utf8).is_some());
    compare(not_utf8).unwrap();
    let minor = b"GET / HTTP/1.2\r\n\r\n";
    assert!(matches!(httparse(minor), Verdict::Error(_)));
    assert!(matches!(
        staticd(minor).0,
        Verdict::Complete { minor: 1, .. }
    ));
}

#[test]
fn staticd_get_is_the_get_variant() {
    let mut headers = [Header::EMPTY; 4];
    let parsed = parse_request(
        &ParserConfig::default(),
        b"GET / HTTP/1.1\r\n\r\n",
        &mut headers,
    );
    assert!(matches!(parsed, Ok(Status::Complete((_, r))) if r.method == Method::Get));
}
