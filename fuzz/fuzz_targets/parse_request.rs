//! `parse_request` on any bytes, under two limit configurations:
//! - it never panics;
//! - `Complete(len)` has `len <= input` and every borrowed slice inside `input[..len]`;
//! - a complete target holds only visible ASCII and bytes 0x80-0xFF (RFC 9112 §3.2; raw bytes above
//!   ASCII are read as if percent-encoded): never a control byte, SP or DEL;
//! - every prefix agrees: shorter than the head -> `Partial`, at least the head -> the same
//!   `Complete`; an input that errors -> each prefix `Partial` or an error of the same status
//!   (RFC 9112 §2.2 lets a parser reject as soon as the bytes seen are invalid, no sooner or later
//!   class); an input that is `Partial` -> every prefix `Partial`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticd_core::parse::{
    Header, Method, ParseError, ParserConfig, Status, Version, parse_request,
};
use staticd_core_fuzz::within;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Complete {
        len: usize,
        method: String,
        target: Vec<u8>,
        version: Version,
        headers: Vec<(String, Vec<u8>)>,
    },
    Partial,
    Error(ParseError),
}

fn parse(config: &ParserConfig, slots: usize, buf: &[u8]) -> Outcome {
    let mut headers = vec![Header::EMPTY; slots];
    match parse_request(config, buf, &mut headers) {
        Ok(Status::Complete((len, req))) => {
            assert!(len <= buf.len(), "head length {len} > input {}", buf.len());
            assert!(
                len <= config.max_head_bytes,
                "head length {len} over the limit"
            );
            let head = &buf[..len];
            assert!(within(head, req.target), "target outside the head");
            assert!(!req.target.is_empty(), "empty target accepted");
            assert!(
                req.target.iter().all(|&b| b > b' ' && b != 0x7f),
                "control byte, SP or DEL in the target: {:?}",
                req.target
            );
            if let Method::Other(m) = req.method {
                assert!(within(head, m.as_bytes()), "method outside the head");
            }
            assert!(req.headers.len() <= slots);
            for h in req.headers {
                assert!(
                    within(head, h.name.as_bytes()),
                    "field name outside the head"
                );
                assert!(within(head, h.value), "field value outside the head");
                assert!(!h.name.is_empty(), "empty field name accepted");
            }
            assert!(
                head.ends_with(b"\r\n\r\n"),
                "head does not end in CRLF CRLF: {head:?}"
            );
            Outcome::Complete {
                len,
                method: req.method.as_str().to_owned(),
                target: req.target.to_vec(),
                version: req.version,
                headers: req
                    .headers
                    .iter()
                    .map(|h| (h.name.to_owned(), h.value.to_vec()))
                    .collect(),
            }
        }
        Ok(Status::Partial) => Outcome::Partial,
        Err(e) => Outcome::Error(e),
    }
}

/// The prefix lengths to check: all of them for short inputs, an even spread plus the bytes around
/// the head's end for long ones (the check is quadratic).
fn prefix_lengths(input_len: usize, head_len: Option<usize>) -> Vec<usize> {
    if input_len <= 300 {
        return (0..input_len).collect();
    }
    let mut lengths: Vec<usize> = (0..input_len).step_by(input_len / 97 + 1).collect();
    lengths.extend(0..64.min(input_len));
    if let Some(h) = head_len {
        lengths.extend(h.saturating_sub(4)..(h + 4).min(input_len));
    }
    lengths
}

fn check(config: ParserConfig, slots: usize, data: &[u8]) {
    let whole = parse(&config, slots, data);
    let head_len = match &whole {
        Outcome::Complete { len, .. } => Some(*len),
        _ => None,
    };
    for n in prefix_lengths(data.len(), head_len) {
        let part = parse(&config, slots, &data[..n]);
        match &whole {
            Outcome::Complete { len, .. } if n < *len => {
                assert_eq!(
                    part,
                    Outcome::Partial,
                    "prefix {n} of a {len}-byte head: {data:?}"
                )
            }
            Outcome::Complete { .. } => assert_eq!(part, whole, "prefix {n}: {data:?}"),
            Outcome::Partial => assert_eq!(part, Outcome::Partial, "prefix {n}: {data:?}"),
            Outcome::Error(e) => match part {
                Outcome::Partial => {}
                Outcome::Error(p) => assert_eq!(
                    p.status(),
                    e.status(),
                    "prefix {n} gives {p:?}, the whole input {e:?}: {data:?}"
                ),
                Outcome::Complete { .. } => {
                    panic!("prefix {n} is Complete but the whole input gives {e:?}: {data:?}")
                }
            },
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(ParserConfig::default(), 32, data);
    // Small limits reach TargetTooLong, HeadTooLarge and TooManyHeaders on short inputs.
    check(ParserConfig { max_head_bytes: 96 }, 3, data);
});
