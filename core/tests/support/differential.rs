//! staticd-core's request parser against httparse (strict default config) on the same bytes.
//!
//! Shared by the differential proptest (`core/tests/differential.rs`) and the differential fuzz target
//! (`fuzz/fuzz_targets/differential.rs`): one oracle and one table of the disagreements RFC 9112
//! allows, each row checked against the bytes. An unlisted disagreement is a finding.
//!
//! | staticd-core | httparse | why (RFC) |
//! |---|---|---|
//! | rejects a bare LF line end | accepts LF as a line end | RFC 9112 §2.2: a recipient MAY accept a bare LF; staticd does not (smuggling) |
//! | skips one leading empty line only | skips any number | RFC 9112 §2.2: SHOULD ignore at least one |
//! | rejects a target that is not origin-form, absolute-form, or `*` with OPTIONS | accepts any run of URI bytes | RFC 9112 §3.2.1-§3.2.4 |
//! | rejects CONNECT (authority-form) | accepts it | RFC 9112 §3.2.3: staticd serves no tunnels |
//! | accepts `HTTP/1.x`, x = 2..9, as HTTP/1.1 | rejects it | RFC 9110 §2.5: a higher minor version is served as the highest implemented. Not a blanket excuse: the request is rewritten to `HTTP/1.1` and compared again, and staticd must read both spellings alike, so only the version may differ |
//! | accepts raw bytes 0x80-0xFF in the target that do not form UTF-8 | rejects a target that is not UTF-8 | RFC 9112 §3.2 / RFC 3986 §2.1: a URI is ASCII and such a byte should come percent-encoded; staticd reads it as if it were (`/caf\xC3\xA9` is `/caf%C3%A9`) and leaves the UTF-8 check to the path resolver, as for `%FF` |
//! | refuses more than `SLOTS` field lines as soon as the next one starts | may still say Partial | RFC 9110 §5.4: a server refuses a field section larger than it wishes to process with a 4xx (431); fuzz-only row, the proptest generator stays under `SLOTS` |
//! | waits on an unfinished `HTTP/d.d` (no CRLF yet) | refuses a major other than 1 at once | RFC 9110 §15.6.6: 505 for a well-formed other major, 400 for a malformed version, so staticd reads it whole |

use staticd_core::parse::{Header, ParseError, ParserConfig, Status, Version, parse_request};

/// Field slots on both sides; more fields is an error on both.
pub const SLOTS: usize = 24;

/// What one parser made of the bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The head was read: its length and parts.
    Complete {
        /// Head length, CRLF CRLF included.
        len: usize,
        /// The method token.
        method: String,
        /// The raw request-target.
        target: Vec<u8>,
        /// The minor version (staticd reads 1.x, x >= 2, as 1).
        minor: u8,
        /// Field names and values, in order.
        headers: Vec<(String, Vec<u8>)>,
    },
    /// More bytes are needed.
    Partial,
    /// Refused, with the parser's reason for failure messages.
    Error(String),
}

/// staticd-core's verdict, and its typed error if any.
pub fn staticd(buf: &[u8]) -> (Verdict, Option<ParseError>) {
    let mut headers = [Header::EMPTY; SLOTS];
    // No head-size limit in play: httparse has none.
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

/// httparse's verdict with its default (strict) configuration.
pub fn httparse(buf: &[u8]) -> Verdict {
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
    let mut parts = buf[start..].splitn(3, |&b| b == b' ');
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
pub fn stricter_reason(buf: &[u8], error: ParseError) -> Option<&'static str> {
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
    // `SLOTS` complete field lines after the request line, and a further one begun.
    if matches!(error, ParseError::TooManyHeaders)
        && buf.iter().filter(|&&b| b == b'\n').count() > SLOTS
    {
        return Some("more fields than the caller's slots (RFC 9110 §5.4)");
    }
    if matches!(error, ParseError::BadTarget) {
        if method == b"CONNECT" {
            return Some("CONNECT (RFC 9112 §3.2.3)");
        }
        if !valid_target_form(method, target) {
            return Some("target form (RFC 9112 §3.2)");
        }
    }
    None
}

/// The table row that allows staticd-core to accept (or wait on) what httparse rejects. (`HTTP/1.x`,
/// x >= 2, is no row here: [`compare`] rewrites it to `HTTP/1.1` first.)
pub fn laxer_reason(buf: &[u8]) -> Option<&'static str> {
    let (_, target, rest) = request_line_parts(buf);
    if target.iter().any(|&b| b >= 0x80) && std::str::from_utf8(target).is_err() {
        return Some("raw 0x80-0xFF in the target, not UTF-8 (RFC 9112 §3.2, RFC 3986 §2.1)");
    }
    if unfinished_version(rest) {
        return Some("unfinished HTTP/d.d: staticd waits to tell 505 from 400 (RFC 9110 §15.6.6)");
    }
    None
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

/// `buf` with its request line's `HTTP/1.x` (x = 2..9) rewritten to `HTTP/1.1`, if it has one.
pub fn as_http11(buf: &[u8]) -> Option<Vec<u8>> {
    let (_, _, rest) = request_line_parts(buf);
    if !matches!(
        rest,
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'2'..=b'9', ..]
    ) {
        return None;
    }
    // `rest` is a suffix of `buf`; its minor digit is the eighth byte.
    let minor_at = buf.len() - rest.len() + 7;
    let mut rewritten = buf.to_vec();
    rewritten[minor_at] = b'1';
    Some(rewritten)
}

/// Both parsers on `buf`: `Err` describes a disagreement the table does not allow.
///
/// A request line with `HTTP/1.x`, x = 2..9, is compared as its `HTTP/1.1` spelling (RFC 9110 §2.5),
/// after checking that staticd reads the two spellings alike: so the version is the only thing that
/// may differ, and every other part is still compared with httparse.
pub fn compare(buf: &[u8]) -> Result<(), String> {
    if let Some(rewritten) = as_http11(buf) {
        let (ours, _) = staticd(buf);
        let (as_11, _) = staticd(&rewritten);
        if ours != as_11 {
            return Err(format!(
                "staticd reads HTTP/1.x as {ours:?} but its HTTP/1.1 spelling as {as_11:?}: {:?}",
                String::from_utf8_lossy(buf)
            ));
        }
        return compare_as_sent(&rewritten);
    }
    compare_as_sent(buf)
}

/// [`compare`] on the bytes as they are.
fn compare_as_sent(buf: &[u8]) -> Result<(), String> {
    let (ours, our_error) = staticd(buf);
    let theirs = httparse(buf);
    let disagreement = || {
        format!(
            "staticd {ours:?}, httparse {theirs:?}: {:?}",
            String::from_utf8_lossy(buf)
        )
    };
    match (&ours, &theirs) {
        (
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
        ) => {
            let same_parts = len == their_len
                && method == their_method
                && target == their_target
                && minor == their_minor
                && headers == their_headers;
            if !same_parts {
                return Err(disagreement());
            }
        }
        (Verdict::Partial, Verdict::Partial) | (Verdict::Error(_), Verdict::Error(_)) => {}
        (Verdict::Error(_), Verdict::Complete { .. } | Verdict::Partial) => {
            let error = our_error.unwrap_or(ParseError::BadRequestLine);
            if stricter_reason(buf, error).is_none() {
                return Err(disagreement());
            }
        }
        (Verdict::Complete { .. } | Verdict::Partial, Verdict::Error(_)) => {
            if laxer_reason(buf).is_none() {
                return Err(disagreement());
            }
        }
        (Verdict::Partial, Verdict::Complete { .. })
        | (Verdict::Complete { .. }, Verdict::Partial) => {
            return Err(disagreement());
        }
    }
    Ok(())
}
