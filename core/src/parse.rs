//! The request head parser: RFC 9112 §2-§5, bytes in, borrowed [`Request`] out.
//!
//! The caller owns the buffer and a `&mut [Header]` array; [`parse_request`] returns
//! [`Status::Partial`] until the head is complete, then the head length and a [`Request`] whose slices
//! borrow from the buffer. Nothing allocates, nothing panics, nothing reads past the buffer.
//!
//! The grammar is written as nom parsers named after the RFC 9112 rules they implement
//! (`request_line`, `method`, `token`, `request_target`, `http_version`, `field_line`, `field_name`,
//! `field_value`, `crlf`), so it can be read against the RFC. The parsers are *streaming*: input that
//! ends inside a rule is `Incomplete`, never an error, while a byte that can never be valid is an error at
//! once, so a hostile client is refused as soon as it sends the first bad byte.
//!
//! Why these rules are written by hand and not from nom's `bytes`/`character` combinators, as the
//! field grammars of the other modules are: this module is the hot path — every byte of every
//! request goes through it — and the runs that make up a head (the request-target, field values,
//! field names) are scanned a word or four table lookups at a time, with a precise
//! [`ParseError`] for the first bad byte and `Incomplete` for a head cut anywhere. A generic
//! `take_while` is one byte and one closure call per step and its errors carry no reason; the
//! hand-written rules keep nom's streaming interface (`IResult`, `Parser`, `Err::Incomplete`), so
//! they compose like the rest. The character classes are the shared ones of [`crate::chars`].
//!
//! Strictness (RFC 9112 leaves some of these to the recipient; staticd takes the strict choice):
//! - lines end in CRLF only; a bare CR or a bare LF anywhere is an error (§2.2);
//! - exactly one SP between the request-line parts (§3);
//! - one empty line before the request line is skipped, anything else before it is an error (§2.2);
//! - whitespace before a field's colon, obs-fold, and whitespace before the first field line are errors
//!   (§5.1, §5.2, §2.2);
//! - field values hold HTAB, SP, VCHAR and obs-text only (RFC 9110 §5.5);
//! - the request-target holds visible ASCII (RFC 3986 via RFC 9112 §3.2) and, as common servers
//!   accept, raw bytes 0x80-0xFF, which the path resolver reads as if they were percent-encoded (a
//!   client that sends `/café` unencoded means `/caf%C3%A9`); control bytes, SP and DEL stay refused.

use nom::{IResult, Needed, Parser};

use crate::chars::{field_byte, field_vchar, tchar, trim_ows};
use crate::status::StatusCode;

/// One header field of a request, borrowed from the request buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header<'b> {
    /// The field name as sent (a token, RFC 9110 §5.1); compare it case-insensitively.
    pub name: &'b str,
    /// The field value with leading and trailing OWS removed (RFC 9112 §5.1).
    pub value: &'b [u8],
}

impl Header<'_> {
    /// An empty header, to fill the caller's array before parsing: `[Header::EMPTY; 32]`.
    pub const EMPTY: Header<'static> = Header {
        name: "",
        value: b"",
    };
}

/// The request method (RFC 9110 §9). Methods are case-sensitive: `get` is [`Method::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method<'b> {
    /// `GET` (RFC 9110 §9.3.1).
    Get,
    /// `HEAD` (RFC 9110 §9.3.2).
    Head,
    /// `OPTIONS` (RFC 9110 §9.3.7).
    Options,
    /// `POST` (RFC 9110 §9.3.3).
    Post,
    /// `PUT` (RFC 9110 §9.3.4).
    Put,
    /// `DELETE` (RFC 9110 §9.3.5).
    Delete,
    /// `PATCH` (RFC 5789).
    Patch,
    /// `TRACE` (RFC 9110 §9.3.8).
    Trace,
    /// `CONNECT` (RFC 9110 §9.3.6). The parser refuses it (see [`ParseError::BadTarget`]), so a parsed
    /// request never carries it; it exists so callers can name every standard method.
    Connect,
    /// Any other method token, as sent.
    Other(&'b str),
}

impl Method<'_> {
    /// The method as it appears on the request line, e.g. `"GET"`.
    pub const fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
            Method::Connect => "CONNECT",
            Method::Other(token) => token,
        }
    }
}

/// The protocol version of a request (RFC 9112 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Version {
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`, and any well-formed `HTTP/1.x` with x >= 2 (RFC 9110 §2.5: a higher minor version
    /// is handled as the highest one the recipient implements).
    Http11,
}

impl Version {
    /// The version as written on a status or request line, e.g. `"HTTP/1.1"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A parsed request head. Every slice borrows from the buffer given to [`parse_request`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Request<'h, 'b> {
    /// The request method.
    pub method: Method<'b>,
    /// The request-target exactly as sent (origin-form, absolute-form or `*`).
    pub target: &'b [u8],
    /// The protocol version.
    pub version: Version,
    /// The header fields, in the order received: the filled prefix of the caller's array.
    pub headers: &'h [Header<'b>],
}

impl<'h, 'b> Request<'h, 'b> {
    /// The value of the first field named `name` (ASCII case-insensitive, RFC 9110 §5.1).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| header.value)
    }
}

/// The outcome of parsing a buffer that may not hold the whole head yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status<T> {
    /// The head is complete.
    Complete(T),
    /// Every byte so far is valid, but the head is not finished: read more and parse again.
    Partial,
}

impl<T> Status<T> {
    /// Whether this is [`Status::Partial`].
    pub fn is_partial(&self) -> bool {
        matches!(self, Status::Partial)
    }
}

/// Limits for [`parse_request`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParserConfig {
    /// The largest head accepted, in bytes, counting the skipped empty line and the final CRLF CRLF.
    pub max_head_bytes: usize,
}

impl Default for ParserConfig {
    fn default() -> Self {
        ParserConfig {
            max_head_bytes: 8192,
        }
    }
}

/// Why a request head was refused. [`ParseError::status`] gives the response status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParseError {
    /// The request line does not have the shape `method SP request-target SP HTTP-version CRLF`, or
    /// bytes other than one empty line come before it (RFC 9112 §3, §2.2).
    BadRequestLine,
    /// The method is not a token (RFC 9110 §9.1).
    BadMethod,
    /// The request-target holds a control byte, DEL or a second SP, is empty, is not in origin-form,
    /// absolute-form or (for OPTIONS) asterisk-form, or the method is CONNECT, whose authority-form
    /// staticd does not serve (RFC 9112 §3.2).
    BadTarget,
    /// The request line did not end within `max_head_bytes` (RFC 9112 §3: 414).
    TargetTooLong,
    /// The HTTP-version is not `HTTP/` DIGIT `.` DIGIT followed by CRLF (RFC 9112 §2.3).
    BadVersion,
    /// A well-formed HTTP-version whose major version is not 1 (RFC 9110 §15.6.6: 505).
    UnsupportedVersion,
    /// A field name is empty, is not a token, or the line has no colon (RFC 9112 §5).
    BadFieldName,
    /// A field value holds a control byte other than HTAB, or DEL (RFC 9110 §5.5).
    BadFieldValue,
    /// Whitespace between a field name and its colon (RFC 9112 §5.1: must be rejected with 400).
    WhitespaceBeforeColon,
    /// A field line that begins with whitespace: obs-fold (RFC 9112 §5.2), or whitespace between the
    /// request line and the first field (RFC 9112 §2.2).
    ObsFold,
    /// A CR not followed by LF (RFC 9112 §2.2).
    BareCr,
    /// An LF not preceded by CR (RFC 9112 §2.2: staticd does not accept a bare LF as a line end).
    BareLf,
    /// The head did not end within `max_head_bytes` (RFC 6585 §5: 431).
    HeadTooLarge,
    /// More header fields than the caller's array holds (RFC 6585 §5: 431).
    TooManyHeaders,
}

/// [`ParseError::as_str`], one line per variant in declaration order: one shared lookup instead of
/// a `match` with a pointer per variant.
const PARSE_ERROR_TEXT: &str = concat!(
    "malformed request line\n",
    "method is not a token\n",
    "invalid request-target\n",
    "request line too long\n",
    "malformed HTTP version\n",
    "unsupported HTTP major version\n",
    "invalid field name\n",
    "invalid byte in field value\n",
    "whitespace before field colon\n",
    "line folding or leading whitespace in field section\n",
    "bare CR\n",
    "bare LF\n",
    "request head too large\n",
    "too many header fields\n",
);

impl ParseError {
    /// The response status for this error: 400, 414, 431 or 505.
    pub fn status(self) -> StatusCode {
        match self {
            ParseError::TargetTooLong => StatusCode::URI_TOO_LONG,
            ParseError::HeadTooLarge | ParseError::TooManyHeaders => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            ParseError::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            ParseError::BadRequestLine
            | ParseError::BadMethod
            | ParseError::BadTarget
            | ParseError::BadVersion
            | ParseError::BadFieldName
            | ParseError::BadFieldValue
            | ParseError::WhitespaceBeforeColon
            | ParseError::ObsFold
            | ParseError::BareCr
            | ParseError::BareLf => StatusCode::BAD_REQUEST,
        }
    }

    /// A short description, for logs.
    pub const fn as_str(self) -> &'static str {
        crate::status::nth_line(PARSE_ERROR_TEXT, self as usize)
    }
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParseError {}

/// Parses a request head from the start of `buf`.
///
/// Returns [`Status::Partial`] while the bytes so far are a valid beginning of a head, and
/// `Complete((head_len, request))` once the empty line that ends the head is in `buf`; `head_len`
/// counts the skipped leading empty line and the final CRLF CRLF, so the body (if any) starts at
/// `buf[head_len..]`. Fields are written into `headers`; `request.headers` is the filled prefix.
///
/// Errors come as soon as the bytes seen are invalid, or as soon as `buf` reaches
/// `config.max_head_bytes` without the request line ([`ParseError::TargetTooLong`]) or the head
/// ([`ParseError::HeadTooLarge`]) being complete.
///
/// ```
/// use staticd_core::parse::{parse_request, Header, Method, ParserConfig, Status, Version};
///
/// let mut headers = [Header::EMPTY; 16];
/// let buf = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
/// let Ok(Status::Complete((len, req))) = parse_request(&ParserConfig::default(), buf, &mut headers)
/// else { unreachable!() };
/// assert_eq!(len, buf.len());
/// assert_eq!(req.method, Method::Get);
/// assert_eq!(req.target, b"/index.html");
/// assert_eq!(req.version, Version::Http11);
/// assert_eq!(req.header("host"), Some(&b"example.com"[..]));
/// ```
pub fn parse_request<'h, 'b>(
    config: &ParserConfig,
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
) -> Result<Status<(usize, Request<'h, 'b>)>, ParseError> {
    let limit = config.max_head_bytes;
    // Parsing only the first `limit` bytes turns "too long" into `Incomplete`; with `buf` already at
    // the limit, more bytes can never complete the head, so that is the moment to refuse it.
    let window = buf.get(..limit).unwrap_or(buf);
    let limit_reached = buf.len() >= limit;

    let line = (leading_empty_line, request_line).parse(window);
    let (rest, (_, (method, target, version))) = match line {
        Ok(parsed) => parsed,
        Err(nom::Err::Incomplete(_)) if limit_reached => return Err(ParseError::TargetTooLong),
        Err(nom::Err::Incomplete(_)) => return Ok(Status::Partial),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => return Err(e.0),
    };

    let (rest, count) = match field_section(rest, headers) {
        Ok(parsed) => parsed,
        Err(nom::Err::Incomplete(_)) if limit_reached => return Err(ParseError::HeadTooLarge),
        Err(nom::Err::Incomplete(_)) => return Ok(Status::Partial),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => return Err(e.0),
    };

    // `rest` is a suffix of `window`, so this never saturates.
    let head_len = window.len().saturating_sub(rest.len());
    let headers: &'h [Header<'b>] = headers;
    let request = Request {
        method,
        target,
        version,
        headers: headers.get(..count).unwrap_or_default(),
    };
    Ok(Status::Complete((head_len, request)))
}

/// The nom error type of the grammar: a typed [`ParseError`], never a generic nom error kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GrammarError(ParseError);

impl<'b> nom::error::ParseError<&'b [u8]> for GrammarError {
    fn from_error_kind(_input: &'b [u8], _kind: nom::error::ErrorKind) -> Self {
        // Only reached through a nom combinator that fails on its own, which the grammar below does
        // not use for anything but sequencing; a request line is the safe catch-all.
        GrammarError(ParseError::BadRequestLine)
    }

    fn append(_input: &'b [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'b, O> = IResult<&'b [u8], O, GrammarError>;

#[inline(always)]
fn fail<'b, O>(error: ParseError) -> PResult<'b, O> {
    Err(nom::Err::Error(GrammarError(error)))
}

#[inline(always)]
fn incomplete<'b, O>() -> PResult<'b, O> {
    Err(nom::Err::Incomplete(Needed::Unknown))
}

/// A byte that may appear in a request-target: visible ASCII (RFC 3986 via RFC 9112 §3.2), and
/// 0x80-0xFF, taken as if percent-encoded (raw UTF-8 from clients that do not encode a path; the
/// path resolver decodes such a byte to itself and refuses a path that is not UTF-8).
#[inline(always)]
const fn is_target_byte(byte: u8) -> bool {
    field_vchar(byte)
}

// Word-at-a-time scanning: the request-target and the field values are the long runs of a head, and
// checking eight bytes per step for "any byte that ends or breaks the run" is what keeps the parser
// level with SIMD parsers without unsafe code or target features. Each test marks the high bit of
// the bytes it finds; a borrow can mark a byte above a found one but never below, so with the word
// read little-endian the lowest mark is exactly the first such byte.
const WORD: usize = core::mem::size_of::<usize>();
const ONES: usize = usize::MAX / 0xff;
const HIGHS: usize = ONES << 7;

/// The bytes of `word` below `n` (n <= 0x80), as marks.
#[inline(always)]
const fn below(word: usize, n: u8) -> usize {
    word.wrapping_sub(ONES * n as usize) & !word & HIGHS
}

/// The bytes of `word` equal to `b`, as marks.
#[inline(always)]
const fn equal(word: usize, b: u8) -> usize {
    let x = word ^ (ONES * b as usize);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Marks every byte that is not [`is_target_byte`]: exactly, so the lowest mark ends the run.
#[inline(always)]
fn target_word_may_stop(word: usize) -> usize {
    below(word, 0x21) | equal(word, 0x7f)
}

/// Marks every byte that is not [`field_byte`], and HTAB (allowed, but cheaper to let the byte
/// loop pass it than to unmark it).
#[inline(always)]
fn field_word_may_stop(word: usize) -> usize {
    below(word, 0x20) | equal(word, 0x7f)
}

/// The length of the longest prefix of `input` whose bytes all satisfy `byte_ok`. `word_may_stop`
/// must mark every byte of a word (read little-endian) that fails `byte_ok`; from its lowest mark
/// on, the word is checked byte by byte.
#[inline(always)]
fn run_length(
    input: &[u8],
    word_may_stop: impl Fn(usize) -> usize,
    byte_ok: impl Fn(u8) -> bool,
) -> usize {
    let mut offset = 0;
    let mut words = input.chunks_exact(WORD);
    for chunk in &mut words {
        let Ok(bytes) = <[u8; WORD]>::try_from(chunk) else {
            break;
        };
        let stops = word_may_stop(usize::from_le_bytes(bytes));
        if stops != 0 {
            // The lowest mark is a byte that ends the run, or an allowed byte that looks alike
            // (HTAB in a value): only then is the rest of the word read byte by byte.
            let first = (stops.trailing_zeros() / 8) as usize;
            let rest = chunk.get(first..).unwrap_or_default();
            if let Some(index) = rest.iter().position(|&b| !byte_ok(b)) {
                return offset + first + index;
            }
        }
        offset += WORD;
    }
    let tail = words.remainder();
    offset + tail.iter().position(|&b| !byte_ok(b)).unwrap_or(tail.len())
}

/// `input` starts at a CR or LF before the request line is whole (RFC 9112 §2.2). A CR there is an
/// error whatever follows it (a line ended early or a bare CR), so it is refused without waiting.
fn early_line_end<'b, O>(input: &'b [u8]) -> PResult<'b, O> {
    match input {
        [b'\n', ..] => fail(ParseError::BareLf),
        _ => fail(ParseError::BadRequestLine),
    }
}

/// `CRLF` (RFC 9112 §2.2); `other` is the error for a byte that is neither CR nor LF.
#[inline]
fn crlf_or(input: &[u8], other: ParseError) -> PResult<'_, ()> {
    match input {
        [b'\r', b'\n', rest @ ..] => Ok((rest, ())),
        [] | [b'\r'] => incomplete(),
        [b'\r', ..] => fail(ParseError::BareCr),
        [b'\n', ..] => fail(ParseError::BareLf),
        _ => fail(other),
    }
}

/// At most one empty line before the request line (RFC 9112 §2.2: a server SHOULD ignore at least one
/// empty line received before the request-line). A second one fails in [`method`].
fn leading_empty_line(input: &[u8]) -> PResult<'_, ()> {
    match input {
        [b'\r' | b'\n', ..] => crlf_or(input, ParseError::BadRequestLine),
        _ => Ok((input, ())),
    }
}

/// `token = 1*tchar` (RFC 9110 §5.6.2). Returns the possibly empty run of tchars; callers decide
/// what may follow and whether empty is allowed. A run that reaches the end of input may go on.
fn token(input: &[u8]) -> PResult<'_, &[u8]> {
    let len = tchar_run(input);
    match input.split_at_checked(len) {
        Some((run, rest)) if !rest.is_empty() => Ok((rest, run)),
        _ => incomplete(),
    }
}

/// The number of leading tchars of `input`. Four table lookups per step, combined without branches:
/// field names are the one run that must be checked against a table, and a byte-at-a-time loop
/// here cost a third of the parse of a 40-field head.
#[inline(always)]
fn tchar_run(input: &[u8]) -> usize {
    let mut len = 0;
    for quad in input.chunks_exact(4) {
        match *quad {
            [a, b, c, d] if tchar(a) & tchar(b) & tchar(c) & tchar(d) => len += 4,
            _ => break,
        }
    }
    let rest = input.get(len..).unwrap_or_default();
    len + rest.iter().position(|&b| !tchar(b)).unwrap_or(rest.len())
}

/// A token as text.
#[inline(always)]
fn token_str(token: &[u8]) -> &str {
    // Every tchar is ASCII, so this never takes the empty fallback; the checked conversion keeps
    // the core free of `unsafe` (the project allows `unsafe` only around syscalls).
    core::str::from_utf8(token).unwrap_or_default()
}

/// `SP` between the request-line parts (RFC 9112 §3: exactly one).
#[inline(always)]
fn sp(input: &[u8]) -> PResult<'_, ()> {
    match input {
        [b' ', rest @ ..] => Ok((rest, ())),
        [] => incomplete(),
        _ => fail(ParseError::BadRequestLine),
    }
}

/// `method = token` (RFC 9112 §3.1), up to but not including the SP after it.
fn method(input: &[u8]) -> PResult<'_, Method<'_>> {
    // Most requests are GET: skip the token scan and the string match for them.
    if let [b'G', b'E', b'T', rest @ ..] = input
        && rest.first() == Some(&b' ')
    {
        return Ok((rest, Method::Get));
    }
    let (rest, name) = token(input)?;
    match rest.first() {
        Some(b' ') if !name.is_empty() => {}
        Some(b'\r' | b'\n') => return early_line_end(rest),
        _ => return fail(ParseError::BadMethod),
    }
    let word = packed_method(name);
    let method = match KNOWN_METHODS.iter().find(|(known, _)| Some(*known) == word) {
        Some(&(_, known)) => known,
        None => Method::Other(token_str(name)),
    };
    Ok((rest, method))
}

/// A method name of at most eight bytes as one number, first byte highest. No tchar is NUL, so two
/// different tokens never pack alike; longer names are no standard method (`None`).
const fn packed_method(name: &[u8]) -> Option<u64> {
    if name.len() > 8 {
        return None;
    }
    let mut word = 0u64;
    let mut rest = name;
    while let [byte, more @ ..] = rest {
        word = word << 8 | *byte as u64;
        rest = more;
    }
    Some(word)
}

const fn known_method(method: Method<'static>) -> (u64, Method<'static>) {
    match packed_method(method.as_str().as_bytes()) {
        Some(word) => (word, method),
        None => (0, method),
    }
}

/// The methods with a name of their own, found by one comparison of packed names each: a table
/// instead of a string match per method costs a device about 270 bytes less code (and 216 bytes
/// more table).
static KNOWN_METHODS: [(u64, Method<'static>); 9] = [
    known_method(Method::Get),
    known_method(Method::Head),
    known_method(Method::Options),
    known_method(Method::Post),
    known_method(Method::Put),
    known_method(Method::Delete),
    known_method(Method::Patch),
    known_method(Method::Trace),
    known_method(Method::Connect),
];

/// `request-target` (RFC 9112 §3.2): a non-empty run of visible ASCII and bytes 0x80-0xFF up to the
/// next SP. Its form is checked against the method in [`target_form`].
fn request_target(input: &[u8]) -> PResult<'_, &[u8]> {
    let len = run_length(input, target_word_may_stop, is_target_byte);
    let Some((target, rest)) = input.split_at_checked(len) else {
        return incomplete();
    };
    match rest.first() {
        None => incomplete(),
        Some(b' ') if !target.is_empty() => Ok((rest, target)),
        Some(b'\r' | b'\n') => early_line_end(rest),
        Some(_) => fail(ParseError::BadTarget),
    }
}

/// The form of the request-target for this method (RFC 9112 §3.2.1-§3.2.4): origin-form
/// (`/path?query`), absolute-form (`scheme:...`), or asterisk-form (`*`, OPTIONS only). CONNECT's
/// authority-form is not served by a static file server and is refused.
fn target_form(method: Method<'_>, target: &[u8]) -> Result<(), ParseError> {
    match (method, target) {
        (Method::Connect, _) => Err(ParseError::BadTarget),
        (_, [b'/', ..]) => Ok(()),
        (Method::Options, b"*") => Ok(()),
        // absolute-URI = scheme ":" hier-part [ "?" query ]; scheme = ALPHA *( ALPHA / DIGIT / "+" /
        // "-" / "." ) (RFC 3986 §3.1).
        (_, [first, rest @ ..]) if first.is_ascii_alphabetic() => {
            let scheme_len = rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
                .unwrap_or(rest.len());
            match rest.get(scheme_len) {
                Some(b':') => Ok(()),
                _ => Err(ParseError::BadTarget),
            }
        }
        _ => Err(ParseError::BadTarget),
    }
}

/// `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` (RFC 9112 §2.3), as (major, minor).
fn http_version(input: &[u8]) -> PResult<'_, (u8, u8)> {
    if let [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, rest @ ..] = input
        && major.is_ascii_digit()
        && minor.is_ascii_digit()
    {
        return Ok((rest, (major - b'0', minor - b'0')));
    }
    // Not a whole version yet: refuse now if the bytes so far can never become one.
    let shape_holds = input.iter().zip(b"HTTP/0.0").all(|(&b, &expected)| {
        if expected == b'0' {
            b.is_ascii_digit()
        } else {
            b == expected
        }
    });
    if shape_holds && input.len() < 8 {
        incomplete()
    } else {
        fail(ParseError::BadVersion)
    }
}

/// `request-line = method SP request-target SP HTTP-version CRLF` (RFC 9112 §3).
fn request_line(input: &[u8]) -> PResult<'_, (Method<'_>, &[u8], Version)> {
    let (rest, (method, _, target, _)) = (method, sp, request_target, sp).parse(input)?;
    if let Err(error) = target_form(method, target) {
        return fail(error);
    }
    let (rest, ((major, minor), _)) =
        (http_version, |i| crlf_or(i, ParseError::BadVersion)).parse(rest)?;
    let version = match (major, minor) {
        (1, 0) => Version::Http10,
        (1, _) => Version::Http11,
        _ => return fail(ParseError::UnsupportedVersion),
    };
    Ok((rest, (method, target, version)))
}

/// `field-name = token` (RFC 9110 §5.1), with the colon that ends it (RFC 9112 §5.1: no whitespace
/// allowed before the colon). The name comes back as bytes: [`NameText`] makes it text.
fn field_name(input: &[u8]) -> PResult<'_, &[u8]> {
    let (rest, name) = token(input)?;
    match rest {
        [b':', after @ ..] if !name.is_empty() => Ok((after, name)),
        [b' ' | b'\t', ..] if !name.is_empty() => fail(ParseError::WhitespaceBeforeColon),
        // A CR here ends a line that has no colon, or is a bare CR: an error either way.
        [b'\n', ..] => fail(ParseError::BareLf),
        _ => fail(ParseError::BadFieldName),
    }
}

/// `OWS field-value OWS CRLF` (RFC 9112 §5, RFC 9110 §5.5): the value with its surrounding OWS
/// trimmed, and the line end consumed.
fn field_value(input: &[u8]) -> PResult<'_, &[u8]> {
    // OWS is made of field bytes, so one scan covers it and the value; trimming after the line
    // end is found costs one byte check per side in the common case of one SP before the value.
    let len = run_length(input, field_word_may_stop, field_byte);
    let Some((value, rest)) = input.split_at_checked(len) else {
        return incomplete();
    };
    let (rest, ()) = crlf_or(rest, ParseError::BadFieldValue)?;
    Ok((rest, trim_ows(value)))
}

/// `field-line = field-name ":" OWS field-value OWS` and its CRLF (RFC 9112 §5), the name as bytes.
fn field_line(input: &[u8]) -> PResult<'_, (&[u8], &[u8])> {
    (field_name, field_value).parse(input)
}

/// The stretch of the field section checked as UTF-8 at once (see [`NameText`]): a browser's head
/// in one or two checks, and at most this many bytes checked past the end of a head (a body or a
/// pipelined request in the same buffer).
const NAME_TEXT_BLOCK: usize = 512;

/// Field names as `&str` without a UTF-8 check per name: one `from_utf8` per call cost a quarter
/// of the parse of a 40-field head, almost all of it call and loop set-up for a 10-byte name. Instead
/// a block of the field section, starting at a name, is checked once and every name inside it is
/// cut from that text.
struct NameText<'b> {
    /// A checked stretch of the field section...
    text: &'b str,
    /// ... starting at this offset into the section.
    start: usize,
}

impl<'b> NameText<'b> {
    const EMPTY: NameText<'static> = NameText { text: "", start: 0 };

    /// The name of `len` bytes at `offset` into `section`, which holds only tchars (ASCII).
    fn name(&mut self, section: &'b [u8], offset: usize, len: usize) -> &'b str {
        if let Some(name) = offset
            .checked_sub(self.start)
            .and_then(|at| self.text.get(at..))
            .and_then(|text| text.get(..len))
        {
            return name;
        }
        // Not in the checked stretch: the first name, a name past it, or a name after a value
        // holding obs-text that is not UTF-8 (RFC 9110 §5.5), where a check stops early.
        let from_name = section.get(offset..).unwrap_or_default();
        let block_len = len.max(NAME_TEXT_BLOCK);
        let mut block = from_name.get(..block_len).unwrap_or(from_name);
        self.text = loop {
            match core::str::from_utf8(block) {
                Ok(text) => break text,
                Err(error) => block = block.get(..error.valid_up_to()).unwrap_or_default(),
            }
        };
        self.start = offset;
        // A tchar run is ASCII, so the checked stretch always holds the whole name.
        self.text.get(..len).unwrap_or_default()
    }
}

/// `*( field-line CRLF ) CRLF` (RFC 9112 §2.1): fills `headers` and returns how many were filled.
fn field_section<'b>(section: &'b [u8], headers: &mut [Header<'b>]) -> PResult<'b, usize> {
    let mut input = section;
    let mut names = NameText::EMPTY;
    let mut count = 0;
    loop {
        match input {
            [b'\r', b'\n', rest @ ..] => return Ok((rest, count)),
            [] | [b'\r'] => return incomplete(),
            [b'\r', ..] => return fail(ParseError::BareCr),
            [b'\n', ..] => return fail(ParseError::BareLf),
            [b' ' | b'\t', ..] => return fail(ParseError::ObsFold),
            _ => {}
        }
        let Some(slot) = headers.get_mut(count) else {
            return fail(ParseError::TooManyHeaders);
        };
        let (rest, (name, value)) = field_line(input)?;
        // `input` is a suffix of `section`, so this never saturates.
        let offset = section.len().saturating_sub(input.len());
        *slot = Header {
            name: names.name(section, offset, name.len()),
            value,
        };
        count += 1;
        input = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_texts() {
        let all = [
            (ParseError::BadRequestLine, "malformed request line"),
            (ParseError::BadMethod, "method is not a token"),
            (ParseError::BadTarget, "invalid request-target"),
            (ParseError::TargetTooLong, "request line too long"),
            (ParseError::BadVersion, "malformed HTTP version"),
            (
                ParseError::UnsupportedVersion,
                "unsupported HTTP major version",
            ),
            (ParseError::BadFieldName, "invalid field name"),
            (ParseError::BadFieldValue, "invalid byte in field value"),
            (
                ParseError::WhitespaceBeforeColon,
                "whitespace before field colon",
            ),
            (
                ParseError::ObsFold,
                "line folding or leading whitespace in field section",
            ),
            (ParseError::BareCr, "bare CR"),
            (ParseError::BareLf, "bare LF"),
            (ParseError::HeadTooLarge, "request head too large"),
            (ParseError::TooManyHeaders, "too many header fields"),
        ];
        for (error, text) in all {
            assert_eq!(error.as_str(), text);
        }
        assert_eq!(ParseError::TooManyHeaders as usize + 1, all.len());
    }

    type Parsed = Result<Status<(usize, Method<'static>, &'static [u8], Version)>, ParseError>;

    fn parse_with(limit: usize, count: usize, buf: &'static [u8]) -> Parsed {
        let mut headers = [Header::EMPTY; 64];
        let headers = headers.get_mut(..count).unwrap_or_default();
        let config = ParserConfig {
            max_head_bytes: limit,
        };
        parse_request(&config, buf, headers).map(|status| match status {
            Status::Complete((len, req)) => {
                Status::Complete((len, req.method, req.target, req.version))
            }
            Status::Partial => Status::Partial,
        })
    }

    fn parse(buf: &'static [u8]) -> Parsed {
        parse_with(8192, 64, buf)
    }

    fn error(buf: &'static [u8]) -> ParseError {
        match parse(buf) {
            Err(e) => e,
            other => panic!("{:?} parsed as {other:?}", core::str::from_utf8(buf)),
        }
    }

    fn complete(buf: &'static [u8]) -> (usize, Method<'static>, &'static [u8], Version) {
        match parse(buf) {
            Ok(Status::Complete(parts)) => parts,
            other => panic!("{:?} parsed as {other:?}", core::str::from_utf8(buf)),
        }
    }

    /// Every proper prefix of a valid head is Partial; every proper prefix of an invalid one is Partial
    /// or the same error.
    fn assert_prefixes_consistent(buf: &'static [u8]) {
        let whole = parse(buf);
        for cut in 0..buf.len() {
            let prefix = &buf[..cut];
            let mut headers = [Header::EMPTY; 64];
            let got = parse_request(&ParserConfig::default(), prefix, &mut headers)
                .map(|s| s.is_partial());
            match (&whole, got) {
                (_, Ok(true)) => {}
                (Err(e), Err(g)) if *e == g => {}
                (w, g) => panic!("prefix {cut} of {buf:?}: {g:?}, whole: {w:?}"),
            }
        }
    }

    #[test]
    fn simple_get() {
        let buf = b"GET /a/b?c=d HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
        let mut headers = [Header::EMPTY; 4];
        let Ok(Status::Complete((len, req))) =
            parse_request(&ParserConfig::default(), buf, &mut headers)
        else {
            panic!()
        };
        assert_eq!(len, buf.len());
        assert_eq!(req.method, Method::Get);
        assert_eq!(req.target, b"/a/b?c=d");
        assert_eq!(req.version, Version::Http11);
        assert_eq!(req.headers.len(), 2);
        assert_eq!(
            req.headers[0],
            Header {
                name: "Host",
                value: b"x"
            }
        );
        assert_eq!(req.header("ACCEPT"), Some(&b"*/*"[..]));
        assert_eq!(req.header("missing"), None);
        assert_prefixes_consistent(buf);
    }

    #[test]
    fn head_length_excludes_body() {
        let (len, ..) = complete(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(len, 38);
    }

    #[test]
    fn methods() {
        assert_eq!(complete(b"HEAD / HTTP/1.1\r\n\r\n").1, Method::Head);
        assert_eq!(complete(b"OPTIONS * HTTP/1.1\r\n\r\n").1, Method::Options);
        assert_eq!(complete(b"POST / HTTP/1.1\r\n\r\n").1, Method::Post);
        assert_eq!(complete(b"PUT / HTTP/1.1\r\n\r\n").1, Method::Put);
        assert_eq!(complete(b"DELETE / HTTP/1.1\r\n\r\n").1, Method::Delete);
        assert_eq!(complete(b"PATCH / HTTP/1.1\r\n\r\n").1, Method::Patch);
        assert_eq!(complete(b"TRACE / HTTP/1.1\r\n\r\n").1, Method::Trace);
        assert_eq!(
            complete(b"GETS / HTTP/1.1\r\n\r\n").1,
            Method::Other("GETS")
        );
        // RFC 9110 §9.1: methods are case-sensitive.
        assert_eq!(complete(b"get / HTTP/1.1\r\n\r\n").1, Method::Other("get"));
        assert_eq!(
            complete(b"M-SEARCH! / HTTP/1.1\r\n\r\n").1.as_str(),
            "M-SEARCH!"
        );
        assert_eq!(Method::Options.as_str(), "OPTIONS");
        // Packed names: a known name padded, cut, or run on, and eight-byte names, are others.
        for other in [
            "GE",
            "HEADS",
            "OPTIONSX",
            "CONNECTS",
            "XGET",
            "ABCDEFGH",
            "ABCDEFGHI",
        ] {
            let line = std::format!("{other} /x HTTP/1.1\r\n\r\n")
                .into_bytes()
                .leak();
            assert_eq!(complete(line).1, Method::Other(other));
        }
        assert_eq!(packed_method(b"ABCDEFGHI"), None);
        assert_ne!(packed_method(b"GET"), packed_method(b"GETA"));
    }

    #[test]
    fn bad_methods() {
        assert_eq!(error(b"G(T / HTTP/1.1\r\n\r\n"), ParseError::BadMethod);
        assert_eq!(error(b" GET / HTTP/1.1\r\n\r\n"), ParseError::BadMethod);
        assert_eq!(error(b"G\x00T / HTTP/1.1\r\n\r\n"), ParseError::BadMethod);
        assert_eq!(error(b"GET\t/ HTTP/1.1\r\n\r\n"), ParseError::BadMethod);
        assert_eq!(error(b"\xc3\xa9 / HTTP/1.1\r\n\r\n"), ParseError::BadMethod);
        // RFC 9112 §3.2.3: CONNECT needs authority-form, which staticd does not serve.
        assert_eq!(
            error(b"CONNECT a:443 HTTP/1.1\r\n\r\n"),
            ParseError::BadTarget
        );
        assert_eq!(error(b"CONNECT / HTTP/1.1\r\n\r\n"), ParseError::BadTarget);
    }

    #[test]
    fn request_line_shape() {
        assert_eq!(error(b"GET  / HTTP/1.1\r\n\r\n"), ParseError::BadTarget);
        assert_eq!(error(b"GET /  HTTP/1.1\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET / HTTP/1.1 \r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET /\r\n\r\n"), ParseError::BadRequestLine);
        assert_eq!(error(b"GET\r\n\r\n"), ParseError::BadRequestLine);
        assert_eq!(error(b"GET /\tHTTP/1.1\r\n\r\n"), ParseError::BadTarget);
    }

    #[test]
    fn target_forms() {
        assert_eq!(
            complete(b"GET http://example.com/x HTTP/1.1\r\n\r\n").2,
            b"http://example.com/x"
        );
        assert_eq!(complete(b"GET //x HTTP/1.1\r\n\r\n").2, b"//x");
        assert_eq!(
            complete(b"GET /%20?q=%41 HTTP/1.1\r\n\r\n").2,
            b"/%20?q=%41"
        );
        assert_eq!(error(b"GET * HTTP/1.1\r\n\r\n"), ParseError::BadTarget);
        assert_eq!(
            error(b"GET example.com HTTP/1.1\r\n\r\n"),
            ParseError::BadTarget
        );
        assert_eq!(
            error(b"GET 1http://x/ HTTP/1.1\r\n\r\n"),
            ParseError::BadTarget
        );
        assert_eq!(error(b"GET ?x HTTP/1.1\r\n\r\n"), ParseError::BadTarget);
        assert_eq!(error(b"GET /\x7f HTTP/1.1\r\n\r\n"), ParseError::BadTarget);
        assert_eq!(
            error(b"GET /a\x1fb HTTP/1.1\r\n\r\n"),
            ParseError::BadTarget
        );
        assert_eq!(
            error(b"GET /\xc3\xa9\t HTTP/1.1\r\n\r\n"),
            ParseError::BadTarget
        );
        assert_eq!(error(b"GET /\x00 HTTP/1.1\r\n\r\n"), ParseError::BadTarget);
        assert_eq!(
            error(b"GET /a\x01bcdefghijk HTTP/1.1\r\n\r\n"),
            ParseError::BadTarget
        );
    }

    #[test]
    fn raw_bytes_above_ascii_in_target() {
        // Read as if percent-encoded; the path resolver decodes each to itself.
        assert_eq!(
            complete(b"GET /caf\xc3\xa9.html HTTP/1.1\r\n\r\n").2,
            b"/caf\xc3\xa9.html"
        );
        // Long enough for the word-at-a-time scan, with high bytes in every position of a word.
        let long = b"GET /\xe2\x82\xac\xe2\x82\xac/dir\xc3\xa9/\xf0\x9f\x98\x80x\xc3\xa9y?q=\xc3\xa9 HTTP/1.1\r\n\r\n";
        assert_eq!(complete(long).2, &long[4..long.len() - 13]);
        assert_prefixes_consistent(long);
        // Not UTF-8 still parses: the resolver, not the grammar, refuses such a path.
        assert_eq!(complete(b"GET /\xff\x80 HTTP/1.1\r\n\r\n").2, b"/\xff\x80");
        assert_eq!(
            complete(b"GET http://h/\xc3\xa9 HTTP/1.1\r\n\r\n").2,
            b"http://h/\xc3\xa9"
        );
        // Only the target: a method or a field name with such a byte is still refused.
        assert_eq!(
            error(b"G\xc3\xa9T / HTTP/1.1\r\n\r\n"),
            ParseError::BadMethod
        );
        assert_eq!(
            error(b"GET \xc3\xa9 HTTP/1.1\r\n\r\n"),
            ParseError::BadTarget
        );
        for bad in [0u8, 0x01, b'\t', 0x1f, 0x7f] {
            let mut line = std::vec::Vec::from(&b"GET /\xc3\xa9"[..]);
            line.push(bad);
            line.extend_from_slice(b"\xc3\xa9 HTTP/1.1\r\n\r\n");
            let mut headers = [Header::EMPTY; 4];
            assert_eq!(
                parse_request(&ParserConfig::default(), &line, &mut headers),
                Err(ParseError::BadTarget),
                "{bad:#x}"
            );
        }
    }

    #[test]
    fn versions() {
        assert_eq!(complete(b"GET / HTTP/1.0\r\n\r\n").3, Version::Http10);
        assert_eq!(complete(b"GET / HTTP/1.1\r\n\r\n").3, Version::Http11);
        // RFC 9110 §2.5: a higher minor version is served as the highest implemented.
        assert_eq!(complete(b"GET / HTTP/1.2\r\n\r\n").3, Version::Http11);
        assert_eq!(complete(b"GET / HTTP/1.9\r\n\r\n").3, Version::Http11);
        assert_eq!(
            error(b"GET / HTTP/2.0\r\n\r\n"),
            ParseError::UnsupportedVersion
        );
        assert_eq!(
            error(b"GET / HTTP/3.0\r\n\r\n"),
            ParseError::UnsupportedVersion
        );
        assert_eq!(
            error(b"GET / HTTP/0.9\r\n\r\n"),
            ParseError::UnsupportedVersion
        );
        assert_eq!(error(b"GET / HTTP/1\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET / http/1.1\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET / HTTP/1.1.1\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET / HTTP/10.0\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET / HTTP/1.10\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET / HTTP/1,1\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(error(b"GET / HTTPS/1.1\r\n\r\n"), ParseError::BadVersion);
        assert_eq!(ParseError::UnsupportedVersion.status().as_u16(), 505);
        assert_eq!(ParseError::BadVersion.status().as_u16(), 400);
        assert_eq!(Version::Http10.as_str(), "HTTP/1.0");
    }

    #[test]
    fn line_endings() {
        assert_eq!(error(b"GET / HTTP/1.1\n\r\n"), ParseError::BareLf);
        assert_eq!(error(b"GET / HTTP/1.1\rX\r\n"), ParseError::BareCr);
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost: a\n\r\n"),
            ParseError::BareLf
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
            ParseError::BareCr
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost: a\r\n\n"),
            ParseError::BareLf
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost: a\r\n\rx"),
            ParseError::BareCr
        );
        assert_eq!(error(b"GET /a\nb HTTP/1.1\r\n\r\n"), ParseError::BareLf);
        assert_eq!(
            error(b"GET /a\rb HTTP/1.1\r\n\r\n"),
            ParseError::BadRequestLine
        );
        assert_eq!(error(b"GET /a\r"), ParseError::BadRequestLine);
        assert_eq!(error(b"GET / HTTP/1.1\r\nHost\r"), ParseError::BadFieldName);
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost\n: a\r\n\r\n"),
            ParseError::BareLf
        );
    }

    #[test]
    fn leading_empty_line_skipped_once() {
        let (len, method, ..) = complete(b"\r\nGET / HTTP/1.1\r\n\r\n");
        assert_eq!((len, method), (20, Method::Get));
        assert_eq!(
            error(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
            ParseError::BadRequestLine
        );
        assert_eq!(error(b"\nGET / HTTP/1.1\r\n\r\n"), ParseError::BareLf);
        assert_eq!(error(b"\rGET / HTTP/1.1\r\n\r\n"), ParseError::BareCr);
        assert_eq!(
            error(b"x\r\nGET / HTTP/1.1\r\n\r\n"),
            ParseError::BadRequestLine
        );
        assert_eq!(parse(b"\r"), Ok(Status::Partial));
        assert_eq!(parse(b"\r\n"), Ok(Status::Partial));
        assert_eq!(parse(b""), Ok(Status::Partial));
    }

    #[test]
    fn field_names() {
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
            ParseError::WhitespaceBeforeColon
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"),
            ParseError::WhitespaceBeforeColon
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\n: a\r\n\r\n"),
            ParseError::BadFieldName
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"),
            ParseError::BadFieldName
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost\r\n\r\n"),
            ParseError::BadFieldName
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nH\xc3\xa9: a\r\n\r\n"),
            ParseError::BadFieldName
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA\x00: a\r\n\r\n"),
            ParseError::BadFieldName
        );
        let mut headers = [Header::EMPTY; 2];
        let buf = b"GET / HTTP/1.1\r\nX-Odd!#$%&'*+-.^_`|~9: v\r\n\r\n";
        let Ok(Status::Complete((_, req))) =
            parse_request(&ParserConfig::default(), buf, &mut headers)
        else {
            panic!()
        };
        assert_eq!(req.headers[0].name, "X-Odd!#$%&'*+-.^_`|~9");
    }

    #[test]
    fn obs_fold_and_leading_whitespace() {
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"),
            ParseError::ObsFold
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"),
            ParseError::ObsFold
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
            ParseError::ObsFold
        );
    }

    #[test]
    fn field_values() {
        let buf = b"GET / HTTP/1.1\r\nA:  \t spaced out \t \r\nB:\r\nC: \t\r\nD:x\ty\r\nE: \x80\xff\r\n\r\n";
        let mut headers = [Header::EMPTY; 8];
        let Ok(Status::Complete((_, req))) =
            parse_request(&ParserConfig::default(), buf, &mut headers)
        else {
            panic!()
        };
        assert_eq!(req.header("a"), Some(&b"spaced out"[..]));
        assert_eq!(req.header("b"), Some(&b""[..]));
        assert_eq!(req.header("c"), Some(&b""[..]));
        assert_eq!(req.header("d"), Some(&b"x\ty"[..]));
        assert_eq!(req.header("e"), Some(&b"\x80\xff"[..]));
        assert_prefixes_consistent(buf);
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n"),
            ParseError::BadFieldValue
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n"),
            ParseError::BadFieldValue
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: b\x1bc\r\n\r\n"),
            ParseError::BadFieldValue
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: a long value that spans words\x01 ok\r\n\r\n"),
            ParseError::BadFieldValue
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: \x00\r\n\r\n"),
            ParseError::BadFieldValue
        );
    }

    #[test]
    fn invalid_bytes_detected_while_partial() {
        assert_eq!(error(b"GE("), ParseError::BadMethod);
        assert_eq!(error(b"GET /\x00"), ParseError::BadTarget);
        assert_eq!(error(b"GET / HTTX"), ParseError::BadVersion);
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nHost : "),
            ParseError::WhitespaceBeforeColon
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nA: \x00"),
            ParseError::BadFieldValue
        );
        assert_eq!(error(b"GET / HTTP/1.1\r\nA: b\r\n "), ParseError::ObsFold);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nA: b\r\n"), Ok(Status::Partial));
        assert_eq!(parse(b"GET / HTTP/1."), Ok(Status::Partial));
    }

    #[test]
    fn request_line_limit_is_414() {
        // The request line does not end within the limit: 414 as soon as the limit is reached.
        assert_eq!(
            parse_with(32, 8, b"GET /aaaaaaaaaaaaaaaaaaaaaaaaa"),
            Ok(Status::Partial)
        );
        assert_eq!(
            parse_with(32, 8, b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            Err(ParseError::TargetTooLong)
        );
        assert_eq!(
            parse_with(
                32,
                8,
                b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n"
            ),
            Err(ParseError::TargetTooLong)
        );
        assert_eq!(ParseError::TargetTooLong.status().as_u16(), 414);
    }

    #[test]
    fn head_limit_is_431() {
        let head = b"GET / HTTP/1.1\r\nA: 0123456789\r\n\r\n";
        assert!(matches!(
            parse_with(head.len(), 8, head),
            Ok(Status::Complete(_))
        ));
        assert_eq!(
            parse_with(head.len() + 1, 8, &head[..head.len() - 1]),
            Ok(Status::Partial)
        );
        assert_eq!(
            parse_with(head.len() - 1, 8, head),
            Err(ParseError::HeadTooLarge)
        );
        assert_eq!(
            parse_with(20, 8, b"GET / HTTP/1.1\r\nA: 0123"),
            Err(ParseError::HeadTooLarge)
        );
        assert_eq!(ParseError::HeadTooLarge.status().as_u16(), 431);
    }

    #[test]
    fn too_many_headers_is_431() {
        let buf = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert!(matches!(parse_with(8192, 3, buf), Ok(Status::Complete(_))));
        assert_eq!(parse_with(8192, 2, buf), Err(ParseError::TooManyHeaders));
        // Refused as soon as the extra field starts, not when the head ends.
        assert_eq!(
            parse_with(8192, 2, b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC"),
            Err(ParseError::TooManyHeaders)
        );
        assert!(matches!(
            parse_with(8192, 0, b"GET / HTTP/1.1\r\n\r\n"),
            Ok(Status::Complete(_))
        ));
        assert_eq!(ParseError::TooManyHeaders.status().as_u16(), 431);
    }

    #[test]
    fn names_after_values_that_are_not_utf8() {
        // A value with obs-text that is not UTF-8 ends the checked stretch of names early; the
        // names after it, and after a multi-byte UTF-8 value, still come out whole.
        let buf = b"GET / HTTP/1.1\r\nA: \x80\r\nBb: \xc3\xa9\r\nCcc: \xff\xfe\r\nDddd: \xe2\x82\r\nE: e\r\n\r\n";
        let mut headers = [Header::EMPTY; 8];
        let Ok(Status::Complete((len, req))) =
            parse_request(&ParserConfig::default(), buf, &mut headers)
        else {
            panic!()
        };
        assert_eq!(len, buf.len());
        let names: std::vec::Vec<&str> = req.headers.iter().map(|h| h.name).collect();
        assert_eq!(names, ["A", "Bb", "Ccc", "Dddd", "E"]);
        assert_eq!(req.header("dddd"), Some(&b"\xe2\x82"[..]));
    }

    #[test]
    fn names_across_checked_blocks() {
        // Several blocks of NAME_TEXT_BLOCK, the first ending inside a two-byte character.
        let request_line = b"GET / HTTP/1.1\r\n";
        let mut buf = std::vec::Vec::from(&request_line[..]);
        let mut names = std::vec::Vec::new();
        let section_len = |buf: &[u8]| buf.len() - request_line.len();
        while section_len(&buf) < NAME_TEXT_BLOCK - 64 {
            let name = std::format!("Field-{}", names.len());
            buf.extend_from_slice(std::format!("{name}: v\u{e9}\r\n").as_bytes());
            names.push(name);
        }
        let pad = NAME_TEXT_BLOCK - 1 - section_len(&buf) - b"Pad: ".len();
        buf.extend_from_slice(std::format!("Pad: {}\u{e9}\r\n", "p".repeat(pad)).as_bytes());
        assert_eq!(buf[request_line.len() + NAME_TEXT_BLOCK - 1], 0xc3);
        names.push("Pad".into());
        for _ in 0..80 {
            let name = std::format!("Field-{}", names.len());
            buf.extend_from_slice(std::format!("{name}: \u{e9}v\r\n").as_bytes());
            names.push(name);
        }
        buf.extend_from_slice(b"\r\n");
        let mut headers = [Header::EMPTY; 128];
        let Ok(Status::Complete((len, req))) =
            parse_request(&ParserConfig::default(), &buf, &mut headers)
        else {
            panic!()
        };
        assert_eq!(len, buf.len());
        let parsed: std::vec::Vec<&str> = req.headers.iter().map(|h| h.name).collect();
        assert_eq!(parsed, names);
    }

    #[test]
    fn run_length_matches_byte_loop() {
        let mut buf = [b'a'; 40];
        for stop in 0..40 {
            for bad in [0u8, b'\t', b' ', 0x1f, 0x7f, 0x80, 0xff, b'\r'] {
                buf = [b'a'; 40];
                buf[stop] = bad;
                let by_bytes = buf.iter().position(|&b| !is_target_byte(b)).unwrap_or(40);
                assert_eq!(
                    run_length(&buf, target_word_may_stop, is_target_byte),
                    by_bytes
                );
                let by_bytes = buf.iter().position(|&b| !field_byte(b)).unwrap_or(40);
                assert_eq!(run_length(&buf, field_word_may_stop, field_byte), by_bytes);
            }
        }
        assert_eq!(run_length(&buf[..0], field_word_may_stop, field_byte), 0);
    }
}
