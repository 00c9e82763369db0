//! Differential test: staticd-core's request parser against httparse (strict default config) on
//! generated valid requests and on mutations of them.
//!
//! - Where both accept, they read the same method, target, version, fields and head length.
//! - Where httparse rejects a request as malformed, staticd-core rejects it too.
//! - Where staticd-core is stricter, the disagreement must be one of the rows below, each checked
//!   against the bytes by `stricter_reason` (an unlisted disagreement fails the test):
//!
//! | staticd-core                          | httparse                  | why (RFC)                                         |
//! |---------------------------------------|---------------------------|---------------------------------------------------|
//! | rejects a bare LF line end            | accepts LF as a line end  | RFC 9112 §2.2: a recipient MAY accept a bare LF; staticd does not (smuggling) |
//! | skips one leading empty line only     | skips any number          | RFC 9112 §2.2: SHOULD ignore at least one         |
//! | rejects obs-text (0x80-0xFF) in the target | accepts it           | RFC 9112 §3.2 / RFC 3986 §2: a URI is ASCII       |
//! | rejects a target that is not origin-form, absolute-form, or `*` with OPTIONS | accepts any run of URI bytes | RFC 9112 §3.2.1-§3.2.4 |
//! | rejects CONNECT (authority-form)      | accepts it                | RFC 9112 §3.2.3: staticd serves no tunnels         |
//! | accepts `HTTP/1.x`, x = 2..9, as HTTP/1.1 | rejects it            | RFC 9110 §2.5: a higher minor version is served as the highest implemented |
//! | waits on an unfinished `HTTP/d.d` (no CRLF yet) | refuses a major other than 1 at once | RFC 9110 §15.6.6: a well-formed other major gets 505, a malformed version 400, so staticd reads it whole |
//! | refuses an invalid byte before the token it is in is complete | may still say Partial | RFC 9112 §2.2 allows rejecting as soon as the message is known to be invalid |

use proptest::prelude::*;
use staticd_core::parse::{
    Header, Method, ParseError, ParserConfig, Status, Version, parse_request,
};

const SLOTS: usize = 24;

#[derive(Debug)]
enum Verdict {
    Complete {
        len: usize,
        method: String,
        target: Vec<u8>,
        minor: u8,
        headers: Vec<(String, Vec<u8>)>,
    },
    Partial,
    // reason: read only through Debug, in failure messages.
    #[allow(dead_code)]
    Error(String),
}

fn staticd(buf: &[u8]) -> (Verdict, Option<ParseError>) {
    let mut headers = [Header::EMPTY; SLOTS];
    let config = ParserConfig {
        max_head_bytes: 1 << 20,
    };
    match parse_request(&config, buf, &mut headers) {
        Ok(Status::Complete((len, req))) => (
            Verdict::Complete {
                len,
                method: req.method.as_str().to_owned(),
                target: req.target.to_vec(),
                minor: match req.version {
                    Version::Http10 => 0,
                    Version::Http11 => 1,
                },
                headers: req
                    .headers
                    .iter()
                    .map(|h| (h.name.to_owned(), h.value.to_vec()))
                    .collect(),
            },
            None,
        ),
        Ok(Status::Partial) => (Verdict::Partial, None),
        Err(e) => (Verdict::Error(format!("{e:?}")), Some(e)),
    }
}

fn httparse(buf: &[u8]) -> Verdict {
    let mut headers = [httparse::EMPTY_HEADER; SLOTS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => Verdict::Complete {
            len,
            method: req.method.unwrap_or_default().to_owned(),
            target: req.path.unwrap_or_default().as_bytes().to_vec(),
            minor: req.version.unwrap_or(9),
            headers: req
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
        },
        Ok(httparse::Status::Partial) => Verdict::Partial,
        Err(e) => Verdict::Error(format!("{e:?}")),
    }
}

/// The bytes of the request line after any leading line ends: (method, target, rest).
fn request_line_parts(buf: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let line = &buf[start..];
    let mut parts = line.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    (method, target, rest)
}

fn has_bare_lf(buf: &[u8]) -> bool {
    buf.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || buf[i - 1] != b'\r'))
}

fn valid_target_form(method: &[u8], target: &[u8]) -> bool {
    match target {
        [b'/', ..] => true,
        b"*" => method == b"OPTIONS",
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            let scheme = rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')));
            matches!(scheme.map(|i| rest[i]), Some(b':'))
        }
        _ => false,
    }
}

/// The table row that allows staticd-core to refuse what httparse accepts (or still calls Partial).
fn stricter_reason(buf: &[u8], error: ParseError) -> Option<&'static str> {
    let (method, target, _) = request_line_parts(buf);
    if matches!(error, ParseError::BareLf) && has_bare_lf(buf) {
        return Some("bare LF (RFC 9112 §2.2)");
    }
    if matches!(
        error,
        ParseError::BadRequestLine | ParseError::BareCr | ParseError::BareLf
    ) && buf.starts_with(b"\r\n")
        && matches!(buf.get(2), Some(b'\r' | b'\n'))
    {
        return Some("more than one leading empty line (RFC 9112 §2.2)");
    }
    if matches!(error, ParseError::BadTarget) {
        if method == b"CONNECT" {
            return Some("CONNECT (RFC 9112 §3.2.3)");
        }
        if target.iter().any(|&b| b >= 0x80) {
            return Some("obs-text in target (RFC 3986 §2)");
        }
        if !valid_target_form(method, target) {
            return Some("target form (RFC 9112 §3.2)");
        }
    }
    None
}

/// The table row that allows staticd-core to accept (or wait on) what httparse rejects.
fn laxer_reason(buf: &[u8]) -> Option<&'static str> {
    let (_, _, rest) = request_line_parts(buf);
    match rest {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'2'..=b'9', ..] => {
            Some("HTTP/1.x, x >= 2 (RFC 9110 §2.5)")
        }
        _ if unfinished_version(rest) => {
            Some("unfinished HTTP/d.d: staticd waits to tell 505 from 400 (RFC 9110 §15.6.6)")
        }
        _ => None,
    }
}

/// `HTTP/d`, `HTTP/d.`, `HTTP/d.d` or `HTTP/d.d` CR, with nothing after it yet.
fn unfinished_version(rest: &[u8]) -> bool {
    let version = rest.strip_suffix(b"\r").unwrap_or(rest);
    (6..=8).contains(&version.len())
        && version.iter().zip(b"HTTP/0.0").all(|(&b, &shape)| {
            if shape == b'0' {
                b.is_ascii_digit()
            } else {
                b == shape
            }
        })
}

fn compare(buf: &[u8]) -> Result<(), TestCaseError> {
    let (ours, our_error) = staticd(buf);
    let theirs = httparse(buf);
    let shown = String::from_utf8_lossy(buf);
    match (&ours, &theirs) {
        (Verdict::Complete { .. }, Verdict::Complete { .. }) => {
            let (
                Verdict::Complete {
                    len,
                    method,
                    target,
                    minor,
                    headers,
                },
                Verdict::Complete {
                    len: their_len,
                    method: their_method,
                    target: their_target,
                    minor: their_minor,
                    headers: their_headers,
                },
            ) = (&ours, &theirs)
            else {
                unreachable!()
            };
            prop_assert_eq!(len, their_len, "{:?}", shown);
            prop_assert_eq!(method, their_method, "{:?}", shown);
            prop_assert_eq!(target, their_target, "{:?}", shown);
            prop_assert_eq!(headers, their_headers, "{:?}", shown);
            if minor != their_minor {
                prop_assert!(laxer_reason(buf).is_some(), "version {:?}", shown);
            }
        }
        (Verdict::Partial, Verdict::Partial) | (Verdict::Error(_), Verdict::Error(_)) => {}
        (Verdict::Error(_), Verdict::Complete { .. } | Verdict::Partial) => {
            let error = our_error.unwrap_or(ParseError::BadRequestLine);
            prop_assert!(
                stricter_reason(buf, error).is_some(),
                "staticd {:?}, httparse {:?}: {:?}",
                ours,
                theirs,
                shown
            );
        }
        (Verdict::Complete { .. } | Verdict::Partial, Verdict::Error(_)) => {
            prop_assert!(
                laxer_reason(buf).is_some(),
                "staticd {:?}, httparse {:?}: {:?}",
                ours,
                theirs,
                shown
            );
        }
        (Verdict::Partial, Verdict::Complete { .. }) => {
            prop_assert!(false, "staticd Partial, httparse {:?}: {:?}", theirs, shown);
        }
        (Verdict::Complete { .. }, Verdict::Partial) => {
            prop_assert!(false, "staticd {:?}, httparse Partial: {:?}", ours, shown);
        }
    }
    Ok(())
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
    let target = prop_oneof![
        4 => "/[!-~]{0,40}",
        1 => "https?://[a-z0-9.]{1,20}/[!-~]{0,20}",
        1 => Just("*".to_owned()),
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
            out.extend_from_slice(format!("{method} {target} {version}\r\n").as_bytes());
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
    for buf in [chromium, b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"] {
        compare(buf).unwrap();
        assert!(matches!(staticd(buf).0, Verdict::Complete { .. }));
    }
    // Each row of the table, checked once by hand.
    for (buf, row) in [
        (&b"GET / HTTP/1.1\nHost: a\n\n"[..], "bare LF"),
        (b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", "leading empty lines"),
        (b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", "obs-text"),
        (b"GET * HTTP/1.1\r\n\r\n", "target form"),
        (b"CONNECT a:443 HTTP/1.1\r\n\r\n", "CONNECT"),
    ] {
        assert!(matches!(httparse(buf), Verdict::Complete { .. }), "{row}");
        let (_, error) = staticd(buf);
        assert!(stricter_reason(buf, error.unwrap()).is_some(), "{row}");
    }
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
