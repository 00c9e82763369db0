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

/// A request line's method and target: mostly a method with an origin- or absolute-form target,
/// sometimes the forms only one side accepts (`*` with and without OPTIONS, CONNECT's authority-form).
fn method_and_target() -> impl Strategy<Value = (String, Vec<u8>)> {
    let method = prop_oneof![
        6 => Just("GET".to_owned()),
        2 => prop::sample::select(vec!["HEAD", "OPTIONS", "POST", "PUT", "DELETE"]).prop_map(String::from),
        1 => token(),
    ];
    // Raw bytes 0x80-0xFF: UTF-8 characters (both parsers accept) and any such byte (httparse
    // refuses a target that is not UTF-8; staticd leaves that to the path resolver).
    let target_byte = prop_oneof![12 => 0x21u8..=0x7e, 1 => 0x80u8..=0xff];
    let target = prop_oneof![
        8 => "/[!-~]{0,40}".prop_map(String::into_bytes),
        2 => "/[!-~é€😀]{0,20}".prop_map(String::into_bytes),
        1 => prop::collection::vec(target_byte, 0..30).prop_map(|rest| [&b"/"[..], &rest].concat()),
        2 => "https?://[a-z0-9.]{1,20}/[!-~]{0,20}".prop_map(String::into_bytes),
    ];
    prop_oneof![
        40 => (method, target),
        1 => Just(("OPTIONS".to_owned(), b"*".to_vec())),
        1 => prop::sample::select(vec!["GET", "HEAD"]).prop_map(|m| (m.to_owned(), b"*".to_vec())),
        1 => "[a-z]{1,10}:[0-9]{1,5}".prop_map(|authority| ("CONNECT".to_owned(), authority.into_bytes())),
    ]
}

/// Mostly versions both parsers read (HTTP/1.x, x >= 2, is compared as HTTP/1.1), now and then one
/// both refuse, so that most cases get as far as the fields.
fn version() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => Just("HTTP/1.1".to_owned()),
        3 => Just("HTTP/1.0".to_owned()),
        3 => (2u8..=9).prop_map(|minor| format!("HTTP/1.{minor}")),
        1 => prop::sample::select(vec!["HTTP/2.0", "HTTP/0.9", "HTTP/3.0"]).prop_map(String::from),
    ]
}

fn request() -> impl Strategy<Value = Vec<u8>> {
    let value_byte =
        prop_oneof![8 => 0x21u8..=0x7e, 1 => Just(b' '), 1 => Just(b'\t'), 1 => 0x80u8..=0xff];
    let field = (
        token(),
        prop::sample::select(vec!["", " ", "\t", "  "]),
        prop::collection::vec(value_byte, 0..30),
        prop::sample::select(vec!["", " ", "\t"]),
    );
    let fields = prop_oneof![
        1 => Just(Vec::new()),
        19 => prop::collection::vec(field, 1..12),
    ];
    (any::<bool>(), method_and_target(), version(), fields).prop_map(
        |(leading, (method, target), version, fields)| {
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
        },
    )
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

/// The generator is worth its cases only if most of them reach the field comparison: both parsers
/// read the head (an `HTTP/1.x` one in its `HTTP/1.1` spelling) and it has at least one field.
#[test]
fn most_generated_requests_compare_fields() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = request();
    let cases = 2000;
    let mut compared = 0;
    for _ in 0..cases {
        let buf = strategy.new_tree(&mut runner).unwrap().current();
        let buf = oracle::as_http11(&buf).unwrap_or(buf);
        let both_read_fields = match (staticd(&buf).0, httparse(&buf)) {
            (Verdict::Complete { headers, .. }, Verdict::Complete { .. }) => !headers.is_empty(),
            _ => false,
        };
        compared += usize::from(both_read_fields);
    }
    assert!(
        compared * 10 >= cases * 7,
        "only {compared} of {cases} generated requests compare fields"
    );
}

#[test]
fn higher_minor_versions_are_compared_as_http11() {
    // Only the version may differ: a field both read differently would still be a finding.
    let buf = b"GET /a HTTP/1.7\r\nHost: a\r\nX: \xc3\xa9\r\n\r\n";
    assert_eq!(
        oracle::as_http11(buf).as_deref(),
        Some(&b"GET /a HTTP/1.1\r\nHost: a\r\nX: \xc3\xa9\r\n\r\n"[..])
    );
    compare(buf).unwrap();
    assert_eq!(oracle::as_http11(b"\r\nGET / HTTP/1.0\r\n\r\n"), None);
    assert_eq!(
        oracle::as_http11(b"\r\nGET / HTTP/1.9").as_deref(),
        Some(&b"\r\nGET / HTTP/1.1"[..])
    );
    // Bytes httparse refuses under any version are still a disagreement.
    assert!(oracle::compare(b"GET / HTTP/1.2\r\nA: b\r\n\r\n").is_ok());
    assert!(oracle::compare(b"GET / HTTP/1.2\r\nA: \x00\r\n\r\n").is_ok());
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
