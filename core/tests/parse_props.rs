//! Property tests for the request parser and the chunked decoder: no input panics, a prefix of any input
//! answers consistently with the whole, rendered parts parse back to themselves, and chunked bodies
//! decode back to their data however they are split.

use proptest::prelude::*;
use staticd_core::body::{ChunkedDecoder, inspect_request, keep_alive};
use staticd_core::parse::{
    Header, Method, ParseError, ParserConfig, Status, Version, parse_request,
};

/// What a parse says, without the borrow of the header array.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Complete(usize),
    Partial,
    Error(ParseError),
}

fn outcome(config: &ParserConfig, buf: &[u8], header_slots: usize) -> Outcome {
    let mut headers = vec![Header::EMPTY; header_slots];
    match parse_request(config, buf, &mut headers) {
        Ok(Status::Complete((len, req))) => {
            // The semantic layer must not panic on anything the parser accepts either.
            let _ = inspect_request(&req);
            let _ = keep_alive(req.version, req.headers);
            Outcome::Complete(len)
        }
        Ok(Status::Partial) => Outcome::Partial,
        Err(error) => Outcome::Error(error),
    }
}

/// Bytes that look like a request often enough to reach the deep states of the parser.
fn request_like() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        &b"GET "[..],
        b"HEAD ",
        b"/",
        b"/index.html",
        b" ",
        b"  ",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/2.0",
        b"HTTP/1.",
        b"\r\n",
        b"\r",
        b"\n",
        b"Host: a",
        b":",
        b" : ",
        b"\t",
        b"x",
        b"\x00",
        b"\x7f",
        b"\x80",
        b"*",
        b"http://h/",
        b"Content-Length: 5",
        b"\r\n\r\n",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|parts| parts.concat())
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "TRACE"
        ])
        .prop_map(String::from),
        token().prop_filter("CONNECT needs authority-form", |t| t != "CONNECT"),
    ]
}

fn target() -> impl Strategy<Value = Vec<u8>> {
    // RFC 9112 §3.2 with raw bytes 0x80-0xFF, which staticd reads as if percent-encoded.
    let target_byte = prop_oneof![8 => 0x21u8..=0x7e, 1 => 0x80u8..=0xff];
    prop_oneof![
        "/[!-~]{0,60}".prop_map(String::into_bytes),
        prop::collection::vec(target_byte, 0..60).prop_map(|rest| [&b"/"[..], &rest].concat()),
        "https?://[a-z0-9.]{1,20}(/[!-~]{0,30})?".prop_map(String::into_bytes),
    ]
}

/// A field value: no leading or trailing OWS, anything else a value may hold inside.
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    let inner = prop_oneof![
        8 => 0x21u8..=0x7e,
        1 => Just(b' '),
        1 => Just(b'\t'),
        1 => 0x80u8..=0xff,
    ];
    let edge = prop_oneof![4 => 0x21u8..=0x7e, 1 => 0x80u8..=0xff];
    prop_oneof![
        1 => Just(Vec::new()),
        6 => (edge.clone(), prop::collection::vec(inner, 0..40), edge).prop_map(|(a, mid, b)| {
            let mut value = vec![a];
            value.extend(mid);
            value.push(b);
            value
        }),
    ]
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", " ", "\t", "  \t "])
}

#[derive(Debug, Clone)]
struct Parts {
    leading_empty_line: bool,
    method: String,
    target: Vec<u8>,
    minor: u8,
    fields: Vec<(String, &'static str, Vec<u8>, &'static str)>,
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        any::<bool>(),
        method(),
        target(),
        0u8..=9,
        prop::collection::vec((token(), ows(), field_value(), ows()), 0..20),
    )
        .prop_map(
            |(leading_empty_line, method, target, minor, fields)| Parts {
                leading_empty_line,
                method,
                target,
                minor,
                fields,
            },
        )
}

fn render(parts: &Parts) -> Vec<u8> {
    let mut out = Vec::new();
    if parts.leading_empty_line {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(parts.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(&parts.target);
    out.extend_from_slice(format!(" HTTP/1.{}\r\n", parts.minor).as_bytes());
    for (name, before, value, after) in &parts.fields {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(before.as_bytes());
        out.extend_from_slice(value);
        out.extend_from_slice(after.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Every prefix of `buf` must answer Partial, or — once it holds the whole head — the same Complete,
/// or the same error as the whole buffer.
fn check_prefixes(config: &ParserConfig, buf: &[u8], cuts: &[usize]) -> Result<(), TestCaseError> {
    let whole = outcome(config, buf, 32);
    for &cut in cuts {
        let cut = cut % (buf.len() + 1);
        let prefix = outcome(config, &buf[..cut], 32);
        match (&whole, &prefix) {
            (_, Outcome::Partial) => {}
            (Outcome::Complete(len), Outcome::Complete(got)) => prop_assert_eq!(len, got),
            (Outcome::Error(e), Outcome::Error(got)) => prop_assert_eq!(e, got),
            _ => prop_assert!(false, "prefix {} gave {:?}, whole {:?}", cut, prefix, whole),
        }
        if let Outcome::Complete(len) = whole
            && cut >= len
        {
            prop_assert_eq!(&prefix, &whole);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_bytes_never_panic(buf in prop::collection::vec(any::<u8>(), 0..512), slots in 0usize..8) {
        let _ = outcome(&ParserConfig::default(), &buf, slots);
    }

    #[test]
    fn request_like_bytes_answer_consistently_when_split(
        buf in request_like(),
        cuts in prop::collection::vec(any::<usize>(), 1..8),
        limit in prop_oneof![Just(8192usize), 16usize..128],
    ) {
        check_prefixes(&ParserConfig { max_head_bytes: limit }, &buf, &cuts)?;
    }

    #[test]
    fn valid_parts_parse_back(parts in parts(), cuts in prop::collection::vec(any::<usize>(), 1..6)) {
        let buf = render(&parts);
        let mut headers = [Header::EMPTY; 32];
        let parsed = parse_request(&ParserConfig::default(), &buf, &mut headers);
        let Ok(Status::Complete((len, req))) = parsed else {
            return Err(TestCaseError::fail(format!("{:?} -> {:?}", String::from_utf8_lossy(&buf), parsed)));
        };
        prop_assert_eq!(len, buf.len());
        prop_assert_eq!(req.method.as_str(), parts.method.as_str());
        if parts.method == "GET" {
            prop_assert_eq!(req.method, Method::Get);
        }
        prop_assert_eq!(req.target, &parts.target[..]);
        let version = if parts.minor == 0 { Version::Http10 } else { Version::Http11 };
        prop_assert_eq!(req.version, version);
        prop_assert_eq!(req.headers.len(), parts.fields.len());
        for (header, (name, _, value, _)) in req.headers.iter().zip(&parts.fields) {
            prop_assert_eq!(header.name, name.as_str());
            prop_assert_eq!(header.value, &value[..]);
        }
        check_prefixes(&ParserConfig::default(), &buf, &cuts)?;

        // The body that follows the head is never read into it.
        let mut with_body = buf.clone();
        with_body.extend_from_slice(b"body\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        prop_assert_eq!(outcome(&ParserConfig::default(), &with_body, 32), Outcome::Complete(buf.len()));
    }

    #[test]
    fn head_limits_hold(parts in parts(), limit in 16usize..400) {
        let buf = render(&parts);
        let config = ParserConfig { max_head_bytes: limit };
        match outcome(&config, &buf, 32) {
            Outcome::Complete(len) => prop_assert!(len <= limit),
            Outcome::Error(ParseError::TargetTooLong | ParseError::HeadTooLarge) => prop_assert!(buf.len() > limit),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn chunked_round_trip(
        data in prop::collection::vec(any::<u8>(), 0..3000),
        chunk_sizes in prop::collection::vec(1usize..700, 1..20),
        extensions in any::<bool>(),
        trailers in prop::collection::vec((token(), field_value()), 0..3),
        pieces in prop::collection::vec(1usize..64, 1..40),
        upper_hex in any::<bool>(),
    ) {
        let mut encoded = Vec::new();
        let mut rest = &data[..];
        let mut sizes = chunk_sizes.iter().cycle();
        while !rest.is_empty() {
            let size = sizes.next().copied().unwrap_or(1).min(rest.len());
            let (chunk, after) = rest.split_at(size);
            let mut size_line = if upper_hex { format!("{size:X}") } else { format!("{size:x}") };
            if extensions {
                size_line.push_str(";name=\"v;a\\\"l\" ; flag");
            }
            encoded.extend_from_slice(size_line.as_bytes());
            encoded.extend_from_slice(b"\r\n");
            encoded.extend_from_slice(chunk);
            encoded.extend_from_slice(b"\r\n");
            rest = after;
        }
        encoded.extend_from_slice(if extensions { &b"000;end\r\n"[..] } else { b"0\r\n" });
        for (name, value) in &trailers {
            encoded.extend_from_slice(name.as_bytes());
            encoded.extend_from_slice(b": ");
            encoded.extend_from_slice(value);
            encoded.extend_from_slice(b"\r\n");
        }
        encoded.extend_from_slice(b"\r\nNEXT");

        let mut decoder = ChunkedDecoder::new();
        let mut decoded = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut piece = pieces.iter().cycle();
        loop {
            let step = decoder.decode(&pending);
            let Ok(step) = step else {
                return Err(TestCaseError::fail(format!("{step:?}")));
            };
            decoded.extend_from_slice(step.data);
            let (consumed, done) = (step.consumed, step.done);
            pending.drain(..consumed);
            if done {
                break;
            }
            if consumed == 0 {
                prop_assert!(fed < encoded.len(), "decoder wants more than the whole body");
                let end = (fed + piece.next().copied().unwrap_or(1)).min(encoded.len());
                pending.extend_from_slice(&encoded[fed..end]);
                fed = end;
            }
        }
        pending.extend_from_slice(&encoded[fed..]);
        prop_assert_eq!(decoded, data);
        prop_assert_eq!(pending, b"NEXT".to_vec());
    }

    #[test]
    fn chunked_any_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..256), split in any::<usize>()) {
        let mut decoder = ChunkedDecoder::new();
        let split = split % (input.len() + 1);
        let (first, second) = input.split_at(split);
        for part in [first, second] {
            let mut part = part;
            while let Ok(step) = decoder.decode(part) {
                prop_assert!(step.consumed <= part.len());
                if step.consumed == 0 {
                    break;
                }
                part = &part[step.consumed..];
            }
        }
    }
}
