//! Message semantics after the head is parsed: the Host rules (RFC 9112 §3.2), the body framing
//! decision (RFC 9112 §6.1-§6.3), persistence (RFC 9112 §9.3), and a sans-IO, zero-copy decoder for the
//! chunked transfer coding (RFC 9112 §7.1).
//!
//! Framing is where request smuggling lives, so every ambiguity is refused rather than resolved: a
//! request that two parsers could read as two different bodies gets a 400 and the connection closes.

use nom::Parser;
use nom::character::complete::char;
use nom::multi::many0_count;
use nom::sequence::preceded;

use crate::chars::{digit, field_byte, hex_value, hexdig, ows as is_bws, tchar, trim_ows};
use crate::parse::{Header, Request, Version};
use crate::rules::{PResult, lenient_list, list, ows, token, token_or_quoted_string};
use crate::status::StatusCode;

/// How the body of a request is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Framing {
    /// No body: neither Content-Length nor Transfer-Encoding was sent (RFC 9112 §6.3 rule 7).
    None,
    /// A body of exactly this many bytes (RFC 9112 §6.3 rule 6).
    ContentLength(u64),
    /// A chunked body, to be read with [`ChunkedDecoder`] (RFC 9112 §6.3 rule 4).
    Chunked,
}

/// What [`inspect_request`] learned from a request head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestInfo<'b> {
    /// How the request body is delimited.
    pub framing: Framing,
    /// Whether the connection may stay open after the response ([`keep_alive`]).
    pub keep_alive: bool,
    /// The Host field value, if one was sent (it may be empty: RFC 9112 §3.2).
    pub host: Option<&'b [u8]>,
}

/// Why a parsed request head cannot be served. The connection must close after the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RequestError {
    /// An HTTP/1.1 request without Host (RFC 9112 §3.2: 400).
    MissingHost,
    /// More than one Host field (RFC 9112 §3.2: 400).
    DuplicateHost,
    /// A Host value that is not `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986 §3.2.2: 400).
    BadHost,
    /// A Content-Length value that is not 1*DIGIT, or does not fit in a u64 (RFC 9110 §8.6).
    BadContentLength,
    /// Content-Length values that differ, in several fields or in one list (RFC 9112 §6.3 rule 5).
    ConflictingContentLength,
    /// Transfer-Encoding together with Content-Length (RFC 9112 §6.1: smuggling, refused).
    ContentLengthWithTransferEncoding,
    /// A Transfer-Encoding whose final coding is not `chunked`, that names `chunked` twice, or that is
    /// not a list of tokens (RFC 9112 §6.1, §6.3 rule 4).
    BadTransferEncoding,
    /// A coding other than `chunked` before the final `chunked` (RFC 9112 §6.1: 501).
    UnknownTransferCoding,
    /// Transfer-Encoding on an HTTP/1.0 request, whose framing is then faulty (RFC 9112 §6.1).
    TransferEncodingOnHttp10,
}

/// [`RequestError::as_str`], one line per variant in declaration order: one shared lookup instead of
/// a `match` with a pointer per variant.
const REQUEST_ERROR_TEXT: &str = concat!(
    "missing Host\n",
    "duplicate Host\n",
    "invalid Host\n",
    "invalid Content-Length\n",
    "conflicting Content-Length values\n",
    "Content-Length with Transfer-Encoding\n",
    "invalid Transfer-Encoding\n",
    "unsupported transfer coding\n",
    "Transfer-Encoding on HTTP/1.0\n",
);

impl RequestError {
    /// The response status: 501 for [`RequestError::UnknownTransferCoding`], 400 otherwise.
    pub fn status(self) -> StatusCode {
        match self {
            RequestError::UnknownTransferCoding => StatusCode::NOT_IMPLEMENTED,
            RequestError::MissingHost
            | RequestError::DuplicateHost
            | RequestError::BadHost
            | RequestError::BadContentLength
            | RequestError::ConflictingContentLength
            | RequestError::ContentLengthWithTransferEncoding
            | RequestError::BadTransferEncoding
            | RequestError::TransferEncodingOnHttp10 => StatusCode::BAD_REQUEST,
        }
    }

    /// A short description, for logs.
    pub const fn as_str(self) -> &'static str {
        crate::status::nth_line(REQUEST_ERROR_TEXT, self as usize)
    }
}

impl core::fmt::Display for RequestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RequestError {}

/// Checks Host and decides the body framing and persistence of a parsed request.
///
/// The order of the checks follows RFC 9112: Host (§3.2), then Transfer-Encoding (§6.1, which wins
/// over Content-Length in §6.3 rule 3 — staticd refuses the pair instead), then Content-Length (§6.3
/// rule 5).
pub fn inspect_request<'b>(req: &Request<'_, 'b>) -> Result<RequestInfo<'b>, RequestError> {
    let host = host(req.version, req.headers)?;
    let framing = framing(req.version, req.headers)?;
    Ok(RequestInfo {
        framing,
        keep_alive: keep_alive(req.version, req.headers),
        host,
    })
}

/// RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host; HTTP/1.0 may omit it; its value is
/// `uri-host [ ":" port ]`, possibly empty.
fn host<'b>(version: Version, headers: &[Header<'b>]) -> Result<Option<&'b [u8]>, RequestError> {
    let mut found = None;
    for field in headers {
        if field.name.eq_ignore_ascii_case("host") {
            if found.is_some() {
                return Err(RequestError::DuplicateHost);
            }
            found = Some(field);
        }
    }
    let Some(first) = found else {
        return match version {
            Version::Http10 => Ok(None),
            Version::Http11 => Err(RequestError::MissingHost),
        };
    };
    if valid_host(first.value) {
        Ok(Some(first.value))
    } else {
        Err(RequestError::BadHost)
    }
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2-§3.2.3).
fn valid_host(value: &[u8]) -> bool {
    let (host, port) = match value {
        [b'[', ..] => match value.iter().position(|&b| b == b']') {
            Some(close) => match value.split_at_checked(close.saturating_add(1)) {
                Some((literal, rest)) if ip_literal(literal) => (&b""[..], rest),
                _ => return false,
            },
            None => return false,
        },
        _ => match value.iter().position(|&b| b == b':') {
            Some(colon) => value.split_at_checked(colon).unwrap_or((value, &b""[..])),
            None => (value, &b""[..]),
        },
    };
    let port_ok = match port {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(|&b| digit(b)),
        _ => false,
    };
    port_ok && reg_name(host)
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )` (RFC 3986 §3.2.2); IPv4address is a
/// subset of it.
fn reg_name(host: &[u8]) -> bool {
    let mut rest = host;
    loop {
        match rest {
            [] => return true,
            [b'%', hi, lo, after @ ..] if hexdig(*hi) && hexdig(*lo) => {
                rest = after;
            }
            [b, after @ ..] if unreserved(*b) || sub_delim(*b) => rest = after,
            _ => return false,
        }
    }
}

const fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const fn sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// `IP-literal = "[" ( IPv6address / IPvFuture ) "]"` (RFC 3986 §3.2.2).
fn ip_literal(literal: &[u8]) -> bool {
    let [b'[', inner @ .., b']'] = literal else {
        return false;
    };
    match inner {
        // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
        [b'v' | b'V', rest @ ..] => match rest.iter().position(|&b| b == b'.') {
            Some(dot) if dot > 0 => {
                let (version, tail) = rest.split_at_checked(dot).unwrap_or_default();
                let tail = tail.get(1..).unwrap_or_default();
                version.iter().all(|&b| hexdig(b))
                    && !tail.is_empty()
                    && tail
                        .iter()
                        .all(|&b| unreserved(b) || sub_delim(b) || b == b':')
            }
            _ => false,
        },
        _ => ipv6_address(inner),
    }
}

/// `IPv6address` (RFC 3986 §3.2.2): eight 16-bit groups, at most one `::`, an IPv4 tail allowed.
fn ipv6_address(text: &[u8]) -> bool {
    let mut groups = 0u32;
    let mut compressed = false;
    let mut rest = text;
    if let [b':', b':', after @ ..] = rest {
        compressed = true;
        rest = after;
    }
    while !rest.is_empty() {
        let hex_len = rest.iter().take_while(|&&b| hexdig(b)).count();
        let after = rest.get(hex_len..).unwrap_or_default();
        if matches!(after.first(), Some(b'.')) {
            // An IPv4 tail counts as two groups and must be last.
            return ipv4_address(rest)
                && groups.saturating_add(2) <= if compressed { 6 } else { 8 };
        }
        if hex_len == 0 || hex_len > 4 {
            return false;
        }
        groups = groups.saturating_add(1);
        rest = match after {
            [] => after,
            [b':', b':', tail @ ..] if !compressed => {
                compressed = true;
                tail
            }
            [b':', tail @ ..] if !tail.is_empty() && tail.first() != Some(&b':') => tail,
            _ => return false,
        };
    }
    if compressed { groups <= 7 } else { groups == 8 }
}

/// `IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet` (RFC 3986 §3.2.2).
fn ipv4_address(text: &[u8]) -> bool {
    let mut octets = 0u32;
    for part in text.split(|&b| b == b'.') {
        let value = match part {
            [] => return false,
            [b'0', _, ..] => return false,
            _ if part.len() > 3 || !part.iter().all(|&b| digit(b)) => return false,
            _ => part
                .iter()
                .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0')),
        };
        if value > 255 {
            return false;
        }
        octets = octets.saturating_add(1);
    }
    octets == 4
}

/// The framing decision of RFC 9112 §6.1 and §6.3 for a request.
fn framing(version: Version, headers: &[Header<'_>]) -> Result<Framing, RequestError> {
    let mut transfer_encodings = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
        .peekable();
    let mut content_lengths = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
        .peekable();

    if transfer_encodings.peek().is_some() {
        // §6.1: Transfer-Encoding on HTTP/1.0 means faulty framing.
        if version == Version::Http10 {
            return Err(RequestError::TransferEncodingOnHttp10);
        }
        // §6.1: a server MAY reject a request with both; accepting either reading is how requests are
        // smuggled past a proxy that picked the other one.
        if content_lengths.peek().is_some() {
            return Err(RequestError::ContentLengthWithTransferEncoding);
        }
        return transfer_codings(transfer_encodings.map(|h| h.value));
    }

    let mut length = None;
    for value in content_lengths.map(|h| h.value) {
        // §6.3 rule 5: a list of identical values (in one field or several) is one length; any
        // difference is unrecoverable.
        for element in value.split(|&b| b == b',') {
            let parsed = content_length_value(trim_ows(element))?;
            match length {
                Some(seen) if seen != parsed => {
                    return Err(RequestError::ConflictingContentLength);
                }
                _ => length = Some(parsed),
            }
        }
    }
    Ok(length.map_or(Framing::None, Framing::ContentLength))
}

/// `Content-Length = 1*DIGIT` (RFC 9110 §8.6); leading zeros are digits like any other.
fn content_length_value(digits: &[u8]) -> Result<u64, RequestError> {
    if digits.is_empty() {
        return Err(RequestError::BadContentLength);
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if !digit(d) {
            return Err(RequestError::BadContentLength);
        }
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u64::from(d - b'0')))
            .ok_or(RequestError::BadContentLength)
    })
}

/// `transfer-parameter = token BWS "=" BWS ( token / quoted-string )` (RFC 9110 §10.1.4).
fn transfer_parameter(input: &[u8]) -> PResult<'_, ()> {
    preceded((token, ows, char('='), ows), token_or_quoted_string).parse(input)
}

/// `transfer-coding = token *( OWS ";" OWS transfer-parameter )` (RFC 9110 §10.1.4): the coding's
/// name, and whether it has parameters.
fn transfer_coding(input: &[u8]) -> PResult<'_, (&[u8], bool)> {
    let (rest, name) = token(input)?;
    let (rest, parameters) =
        many0_count(preceded((ows, char(';'), ows), transfer_parameter)).parse(rest)?;
    Ok((rest, (name, parameters > 0)))
}

/// `Transfer-Encoding = #transfer-coding` (RFC 9112 §6.1) over every field: the codings in order, and
/// `chunked` must be the last and appear once.
fn transfer_codings<'b>(values: impl Iterator<Item = &'b [u8]>) -> Result<Framing, RequestError> {
    let mut codings = 0u32;
    let mut chunked_seen = false;
    let mut last_is_chunked = false;
    let mut unknown_seen = false;
    let mut refused = false;
    for value in values {
        let walk = list(value, transfer_coding, |(name, parameters)| {
            codings = codings.saturating_add(1);
            last_is_chunked = name.eq_ignore_ascii_case(b"chunked");
            if last_is_chunked {
                // `chunked` takes no parameters (RFC 9112 §7), and applying it twice is refused (§6.1).
                refused = chunked_seen || parameters;
                chunked_seen = true;
            } else {
                unknown_seen = true;
            }
            !refused
        });
        if walk.is_err() || refused {
            return Err(RequestError::BadTransferEncoding);
        }
    }
    // §6.3 rule 4: a request whose final coding is not chunked has no reliable length: 400.
    if codings == 0 || !last_is_chunked {
        return Err(RequestError::BadTransferEncoding);
    }
    // §6.1: a coding staticd cannot undo (gzip, anything else) under chunked: 501.
    if unknown_seen {
        return Err(RequestError::UnknownTransferCoding);
    }
    Ok(Framing::Chunked)
}

/// Whether the connection persists after this request (RFC 9112 §9.3): the `close` option ends it on
/// any version; otherwise HTTP/1.1 persists, and HTTP/1.0 persists only with `keep-alive`.
///
/// `Connection = #connection-option` with `connection-option = token` (RFC 9110 §7.6.1) may be
/// spread over several fields; options are compared case-insensitively. The list is read leniently
/// ([`lenient_list`]): a malformed option beside `close` does not hide it.
#[inline(never)]
pub fn keep_alive(version: Version, headers: &[Header<'_>]) -> bool {
    let mut keep_alive_option = false;
    let mut close = false;
    // Plain loops, not an iterator chain: a device saves the adapters' code (scripts/core-size.sh).
    for field in headers {
        if !field.name.eq_ignore_ascii_case("connection") {
            continue;
        }
        lenient_list(field.value, &mut |option| {
            close = option.eq_ignore_ascii_case(b"close");
            keep_alive_option |= option.eq_ignore_ascii_case(b"keep-alive");
            !close
        });
        if close {
            return false;
        }
    }
    match version {
        Version::Http11 => true,
        Version::Http10 => keep_alive_option,
    }
}

/// The longest chunk-size line accepted, extensions included, in bytes (CRLF not counted).
///
/// RFC 9112 §7.1.1 lets a server limit chunk extensions; hyper and nginx refuse far shorter lines than
/// a buffer-sized one, and a static server has no use for extensions at all.
pub const MAX_CHUNK_LINE_BYTES: usize = 1024;

/// The largest trailer section accepted, in bytes, including its line ends (RFC 9112 §7.1.2).
pub const MAX_TRAILER_BYTES: usize = 8192;

/// Why a chunked body cannot be decoded. The framing is lost: the connection must close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ChunkedError {
    /// The chunk-size is missing or is followed by a byte that is neither an extension nor CRLF
    /// (RFC 9112 §7.1: `chunk-size = 1*HEXDIG`).
    BadChunkSize,
    /// The chunk-size does not fit in a u64.
    ChunkSizeOverflow,
    /// A chunk extension holds a byte its grammar does not allow (RFC 9112 §7.1.1).
    BadChunkExtension,
    /// A bare CR, a bare LF, or chunk data not followed by CRLF (RFC 9112 §7.1).
    BadLineEnding,
    /// A chunk-size line longer than [`MAX_CHUNK_LINE_BYTES`].
    LineTooLong,
    /// A trailer field line that is not `field-name ":" field-value` (RFC 9112 §7.1.2, §5).
    BadTrailer,
    /// A trailer section longer than [`MAX_TRAILER_BYTES`].
    TrailerTooLarge,
}

/// [`ChunkedError::as_str`], one line per variant in declaration order: one shared lookup instead of
/// a `match` with a pointer per variant.
const CHUNKED_ERROR_TEXT: &str = concat!(
    "invalid chunk size\n",
    "chunk size overflow\n",
    "invalid chunk extension\n",
    "invalid line ending in chunked body\n",
    "chunk size line too long\n",
    "invalid trailer field\n",
    "trailer section too large\n",
);

impl ChunkedError {
    /// The response status: always 400.
    pub fn status(self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    /// A short description, for logs.
    pub const fn as_str(self) -> &'static str {
        crate::status::nth_line(CHUNKED_ERROR_TEXT, self as usize)
    }
}

impl core::fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ChunkedError {}

/// One step of [`ChunkedDecoder::decode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Decoded<'a> {
    /// How many bytes of the input were used; drop them before the next call.
    pub consumed: usize,
    /// Body bytes decoded in this step, borrowed from the input (possibly empty).
    pub data: &'a [u8],
    /// The last chunk and the trailer section have been read: the body is over.
    pub done: bool,
}

/// A place in the grammar of a chunk-size line after the size (RFC 9112 §7.1.1):
///
/// ```text
/// chunk-size-line = chunk-size [ chunk-ext ] CRLF
/// chunk-ext       = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
/// chunk-ext-name  = token
/// chunk-ext-val   = token / quoted-string
/// ```
///
/// Why places and not a nom parser: the decoder owns no buffer and consumes every byte it is given
/// (a caller never has to keep a partial line), so a line split across reads resumes in the middle
/// of a rule, which a parser restarting at its first rule cannot do. Each place is named for the
/// rule it is in, and [`chunk_ext`] is the grammar, one byte at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum ChunkExt {
    /// `BWS` after the chunk-size, before `";"`.
    SizeBws,
    /// `BWS` after `";"`, before `chunk-ext-name`.
    NameBws,
    /// In `chunk-ext-name`.
    Name,
    /// `BWS` after `chunk-ext-name`, before `"="` or the next `";"`.
    NameEnd,
    /// `BWS` after `"="`, before `chunk-ext-val`.
    ValueBws,
    /// In a `token` value.
    Token,
    /// In a `quoted-string` value (RFC 9110 §5.6.4).
    Quoted,
    /// After the backslash of a `quoted-pair`.
    QuotedPair,
    /// Right after the closing DQUOTE of a value.
    Closed,
    /// `BWS` after a value, before the next `";"`.
    ValueEnd,
}

/// The classes of bytes the chunk-ext grammar tells apart.
#[derive(Clone, Copy)]
enum ExtByte {
    /// `SP / HTAB`: BWS.
    Bws,
    Semicolon,
    Equals,
    Dquote,
    Backslash,
    Cr,
    Lf,
    /// `tchar`.
    Tchar,
    /// Any other byte a quoted-string may hold (`qdtext`, RFC 9110 §5.6.4).
    Qdtext,
    /// A control byte or DEL.
    Other,
}

impl ExtByte {
    fn of(byte: u8) -> Self {
        match byte {
            _ if is_bws(byte) => Self::Bws,
            b';' => Self::Semicolon,
            b'=' => Self::Equals,
            b'"' => Self::Dquote,
            b'\\' => Self::Backslash,
            b'\r' => Self::Cr,
            b'\n' => Self::Lf,
            _ if tchar(byte) => Self::Tchar,
            _ if field_byte(byte) => Self::Qdtext,
            _ => Self::Other,
        }
    }
}

/// The chunk-ext grammar ([`ChunkExt`]) advanced by one byte: the next place, or `None` at the CR
/// that ends the line.
fn chunk_ext(at: ChunkExt, byte: u8) -> Result<Option<ChunkExt>, ChunkedError> {
    use ChunkExt as E;
    use ExtByte as B;
    let next = match (at, ExtByte::of(byte)) {
        // qdtext / quoted-pair (RFC 9110 §5.6.4); a line end inside the quotes is a broken line.
        (E::Quoted, B::Dquote) => E::Closed,
        (E::Quoted, B::Backslash) => E::QuotedPair,
        (E::Quoted | E::QuotedPair, B::Cr | B::Lf) => return Err(ChunkedError::BadLineEnding),
        (E::Quoted | E::QuotedPair, B::Other) => return Err(ChunkedError::BadChunkExtension),
        (E::Quoted | E::QuotedPair, _) => E::Quoted,
        // BWS is allowed after the size only before ";": "5 \r\n" is not a chunk-size line.
        (E::SizeBws, B::Bws) => E::SizeBws,
        (E::SizeBws, B::Semicolon) => E::NameBws,
        (E::SizeBws, _) => return Err(ChunkedError::BadChunkSize),
        (_, B::Lf) => return Err(ChunkedError::BadLineEnding),
        // The line ends after a name or a value, with no BWS before CRLF.
        (E::Name | E::Token | E::Closed, B::Cr) => return Ok(None),
        (E::Name | E::NameEnd, B::Equals) => E::ValueBws,
        (E::Name | E::NameEnd | E::Token | E::Closed | E::ValueEnd, B::Semicolon) => E::NameBws,
        (E::Name | E::NameEnd, B::Bws) => E::NameEnd,
        (E::Token | E::Closed | E::ValueEnd, B::Bws) => E::ValueEnd,
        (E::NameBws, B::Bws) => E::NameBws,
        (E::ValueBws, B::Bws) => E::ValueBws,
        (E::NameBws | E::Name, B::Tchar) => E::Name,
        (E::ValueBws | E::Token, B::Tchar) => E::Token,
        (E::ValueBws, B::Dquote) => E::Quoted,
        _ => return Err(ChunkedError::BadChunkExtension),
    };
    Ok(Some(next))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum ChunkState {
    /// Reading `chunk-size` hex digits.
    Size { size: u64, digits: u32 },
    /// After the size, in the chunk extensions (RFC 9112 §7.1.1), at this place of their grammar.
    Extension { size: u64, at: ChunkExt },
    /// Saw the CR ending the size line.
    SizeLf { size: u64 },
    /// Inside chunk-data, with this many bytes left.
    Data { remaining: u64 },
    /// Expecting the CR after chunk-data.
    DataCr,
    /// Expecting the LF after chunk-data.
    DataLf,
    /// At the start of a trailer field line, or of the final CRLF.
    TrailerStart,
    /// In a trailer field name.
    TrailerName,
    /// In a trailer field value.
    TrailerValue,
    /// Saw the CR ending a trailer field line.
    TrailerLf,
    /// Saw the CR of the final empty line.
    FinalLf,
    /// The body is complete.
    Done,
    /// An error was returned; the framing is lost.
    Failed(ChunkedError),
}

/// A sans-IO decoder for the chunked transfer coding (RFC 9112 §7.1).
///
/// Feed it whatever bytes have arrived; it consumes a prefix, hands back the chunk data it found as a
/// slice of that input (no copy), and keeps its place between calls, so a body may arrive split at any
/// byte. Chunk extensions and trailer fields are checked and discarded. Sizes are overflow-checked and
/// lines are bounded ([`MAX_CHUNK_LINE_BYTES`], [`MAX_TRAILER_BYTES`]); the caller bounds the total body.
///
/// ```
/// use staticd_core::body::ChunkedDecoder;
///
/// let mut decoder = ChunkedDecoder::new();
/// let mut input: &[u8] = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
/// let mut body = [0u8; 11];
/// let mut len = 0;
/// loop {
///     let step = decoder.decode(input).unwrap();
///     body[len..len + step.data.len()].copy_from_slice(step.data);
///     len += step.data.len();
///     input = &input[step.consumed..];
///     if step.done { break; }
/// }
/// assert_eq!(&body[..len], b"hello world");
/// assert_eq!(input, b"NEXT");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChunkedDecoder {
    state: ChunkState,
    /// Bytes of the current chunk-size line, or of the whole trailer section.
    line_bytes: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub const fn new() -> Self {
        ChunkedDecoder {
            state: ChunkState::Size { size: 0, digits: 0 },
            line_bytes: 0,
        }
    }

    /// Whether the whole body, trailers included, has been read.
    pub const fn is_done(&self) -> bool {
        matches!(self.state, ChunkState::Done)
    }

    /// Consumes a prefix of `input`; `data` borrows from `input` (zero copy). `consumed == 0 && !done`
    /// means more input is needed. After `done`, the bytes after `consumed` belong to the next request.
    /// Each call returns at most one run of chunk data: call again with the rest of the input.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, ChunkedError> {
        let mut consumed = 0usize;
        loop {
            if let ChunkState::Failed(error) = self.state {
                return Err(error);
            }
            if let ChunkState::Done = self.state {
                return Ok(Decoded {
                    consumed,
                    data: &[],
                    done: true,
                });
            }
            let rest = input.get(consumed..).unwrap_or_default();
            if let ChunkState::Data { remaining } = self.state {
                if rest.is_empty() {
                    break;
                }
                // A chunk larger than the address space is taken in pieces of what has arrived.
                let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                let data = rest.get(..take).unwrap_or_default();
                let left = remaining.saturating_sub(take as u64);
                self.state = if left == 0 {
                    ChunkState::DataCr
                } else {
                    ChunkState::Data { remaining: left }
                };
                return Ok(Decoded {
                    consumed: consumed.saturating_add(take),
                    data,
                    done: false,
                });
            }
            let Some(&byte) = rest.first() else {
                break;
            };
            if let Err(error) = self.step(byte) {
                self.state = ChunkState::Failed(error);
                return Err(error);
            }
            consumed = consumed.saturating_add(1);
        }
        Ok(Decoded {
            consumed,
            data: &[],
            done: false,
        })
    }

    /// Advances the control-line state machine by one byte (everything but chunk-data).
    fn step(&mut self, byte: u8) -> Result<(), ChunkedError> {
        use ChunkState as S;
        self.count_line_byte(byte)?;
        self.state = match self.state {
            S::Size { size, digits } => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    let digit = u64::from(hex_value(byte).unwrap_or(0));
                    let size = size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(digit))
                        .ok_or(ChunkedError::ChunkSizeOverflow)?;
                    S::Size {
                        size,
                        digits: digits.saturating_add(1),
                    }
                }
                _ if digits == 0 => return Err(ChunkedError::BadChunkSize),
                b' ' | b'\t' => S::Extension {
                    size,
                    at: ChunkExt::SizeBws,
                },
                b';' => S::Extension {
                    size,
                    at: ChunkExt::NameBws,
                },
                b'\r' => S::SizeLf { size },
                b'\n' => return Err(ChunkedError::BadLineEnding),
                _ => return Err(ChunkedError::BadChunkSize),
            },
            S::Extension { size, at } => match chunk_ext(at, byte)? {
                Some(at) => S::Extension { size, at },
                None => S::SizeLf { size },
            },
            S::SizeLf { size } => match byte {
                b'\n' => {
                    self.line_bytes = 0;
                    if size == 0 {
                        S::TrailerStart
                    } else {
                        S::Data { remaining: size }
                    }
                }
                _ => return Err(ChunkedError::BadLineEnding),
            },
            S::DataCr => match byte {
                b'\r' => S::DataLf,
                _ => return Err(ChunkedError::BadLineEnding),
            },
            S::DataLf => match byte {
                b'\n' => {
                    self.line_bytes = 0;
                    S::Size { size: 0, digits: 0 }
                }
                _ => return Err(ChunkedError::BadLineEnding),
            },
            // trailer-section = *( field-line CRLF ) (RFC 9112 §7.1.2); obs-fold and whitespace before
            // the colon are refused as in the head (§5.1, §5.2).
            S::TrailerStart => match byte {
                b'\r' => S::FinalLf,
                b'\n' => return Err(ChunkedError::BadLineEnding),
                _ if tchar(byte) => S::TrailerName,
                _ => return Err(ChunkedError::BadTrailer),
            },
            S::TrailerName => match byte {
                b':' => S::TrailerValue,
                b'\r' | b'\n' => return Err(ChunkedError::BadTrailer),
                _ if tchar(byte) => S::TrailerName,
                _ => return Err(ChunkedError::BadTrailer),
            },
            S::TrailerValue => match byte {
                b'\r' => S::TrailerLf,
                b'\n' => return Err(ChunkedError::BadLineEnding),
                _ if field_byte(byte) => S::TrailerValue,
                _ => return Err(ChunkedError::BadTrailer),
            },
            S::TrailerLf => match byte {
                b'\n' => S::TrailerStart,
                _ => return Err(ChunkedError::BadLineEnding),
            },
            S::FinalLf => match byte {
                b'\n' => S::Done,
                _ => return Err(ChunkedError::BadLineEnding),
            },
            // `decode` never steps in these states.
            S::Data { .. } | S::Done | S::Failed(_) => self.state,
        };
        Ok(())
    }

    /// Counts a byte of a chunk-size line or of the trailer section against its bound.
    fn count_line_byte(&mut self, byte: u8) -> Result<(), ChunkedError> {
        use ChunkState as S;
        self.line_bytes = self.line_bytes.saturating_add(1);
        match self.state {
            S::Size { .. } | S::Extension { .. }
                if self.line_bytes > MAX_CHUNK_LINE_BYTES && byte != b'\r' =>
            {
                Err(ChunkedError::LineTooLong)
            }
            S::TrailerStart | S::TrailerName | S::TrailerValue | S::TrailerLf | S::FinalLf
                if self.line_bytes > MAX_TRAILER_BYTES =>
            {
                Err(ChunkedError::TrailerTooLarge)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_error_texts() {
        let all = [
            (ChunkedError::BadChunkSize, "invalid chunk size"),
            (ChunkedError::ChunkSizeOverflow, "chunk size overflow"),
            (ChunkedError::BadChunkExtension, "invalid chunk extension"),
            (
                ChunkedError::BadLineEnding,
                "invalid line ending in chunked body",
            ),
            (ChunkedError::LineTooLong, "chunk size line too long"),
            (ChunkedError::BadTrailer, "invalid trailer field"),
            (ChunkedError::TrailerTooLarge, "trailer section too large"),
        ];
        for (error, text) in all {
            assert_eq!(error.as_str(), text);
        }
        assert_eq!(ChunkedError::TrailerTooLarge as usize + 1, all.len());
    }

    #[test]
    fn request_error_texts() {
        let all = [
            (RequestError::MissingHost, "missing Host"),
            (RequestError::DuplicateHost, "duplicate Host"),
            (RequestError::BadHost, "invalid Host"),
            (RequestError::BadContentLength, "invalid Content-Length"),
            (
                RequestError::ConflictingContentLength,
                "conflicting Content-Length values",
            ),
            (
                RequestError::ContentLengthWithTransferEncoding,
                "Content-Length with Transfer-Encoding",
            ),
            (
                RequestError::BadTransferEncoding,
                "invalid Transfer-Encoding",
            ),
            (
                RequestError::UnknownTransferCoding,
                "unsupported transfer coding",
            ),
            (
                RequestError::TransferEncodingOnHttp10,
                "Transfer-Encoding on HTTP/1.0",
            ),
        ];
        for (error, text) in all {
            assert_eq!(error.as_str(), text);
        }
        assert_eq!(
            RequestError::TransferEncodingOnHttp10 as usize + 1,
            all.len()
        );
    }
    use crate::parse::Method;
    use std::vec::Vec;

    fn request<'h>(version: Version, headers: &'h [Header<'static>]) -> Request<'h, 'static> {
        Request {
            method: Method::Get,
            target: b"/",
            version,
            headers,
        }
    }

    fn inspect(
        version: Version,
        fields: &[(&'static str, &'static str)],
    ) -> Result<RequestInfo<'static>, RequestError> {
        let headers: Vec<Header<'static>> = fields
            .iter()
            .map(|&(name, value)| Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        inspect_request(&request(version, &headers))
    }

    fn framing_of(fields: &[(&'static str, &'static str)]) -> Result<Framing, RequestError> {
        let mut all = Vec::from([("Host", "x")]);
        all.extend_from_slice(fields);
        inspect(Version::Http11, &all).map(|info| info.framing)
    }

    #[test]
    fn host_rules() {
        use RequestError::*;
        assert_eq!(inspect(Version::Http11, &[]), Err(MissingHost));
        assert_eq!(inspect(Version::Http10, &[]).map(|i| i.host), Ok(None));
        assert_eq!(
            inspect(Version::Http11, &[("Host", "a"), ("HOST", "a")]),
            Err(DuplicateHost)
        );
        assert_eq!(
            inspect(Version::Http10, &[("host", "a"), ("Host", "b")]),
            Err(DuplicateHost)
        );
        for good in [
            "example.com",
            "example.com:8080",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:8080",
            "[2001:db8::8:800:200c:417a]",
            "[1:2:3:4:5:6:7:8]",
            "[::ffff:192.0.2.1]",
            "[v1.fe80::a+en1]",
            "",
            "a:",
            "xn--nxasmq6b.example",
            "a%2Db",
            "sub_domain.example~",
        ] {
            assert_eq!(
                inspect(Version::Http11, &[("Host", good)]).map(|i| i.host),
                Ok(Some(good.as_bytes())),
                "{good:?}"
            );
        }
        for bad in [
            "exa mple.com",
            "a:b",
            "a:80:80",
            "user@host",
            "a/b",
            "[::1",
            "[::g]",
            "[::1]x",
            "[1:2:3:4:5:6:7:8:9]",
            "[1:2:3:4:5:6:7]",
            "[1:::2]",
            "[:1]",
            "[1:]",
            "[1::2::3]",
            "[::256.1.1.1]",
            "[::01.1.1.1]",
            "[v.x]",
            "a%2",
            "a%zz",
            "a\"b",
        ] {
            assert_eq!(
                inspect(Version::Http11, &[("Host", bad)]),
                Err(BadHost),
                "{bad:?}"
            );
        }
        assert_eq!(MissingHost.status().as_u16(), 400);
    }

    #[test]
    fn content_length_rules() {
        use RequestError::*;
        assert_eq!(framing_of(&[]), Ok(Framing::None));
        assert_eq!(
            framing_of(&[("Content-Length", "36")]),
            Ok(Framing::ContentLength(36))
        );
        assert_eq!(
            framing_of(&[("content-length", "0036")]),
            Ok(Framing::ContentLength(36))
        );
        assert_eq!(
            framing_of(&[("Content-Length", "0")]),
            Ok(Framing::ContentLength(0))
        );
        assert_eq!(
            framing_of(&[("Content-Length", "18446744073709551615")]),
            Ok(Framing::ContentLength(u64::MAX))
        );
        // §6.3 rule 5: identical values, in a list or in several fields, are one length.
        assert_eq!(
            framing_of(&[("Content-Length", "5, 5")]),
            Ok(Framing::ContentLength(5))
        );
        assert_eq!(
            framing_of(&[("Content-Length", "5"), ("Content-Length", "05")]),
            Ok(Framing::ContentLength(5))
        );
        assert_eq!(
            framing_of(&[("Content-Length", "5, 6")]),
            Err(ConflictingContentLength)
        );
        assert_eq!(
            framing_of(&[("Content-Length", "5"), ("Content-Length", "6")]),
            Err(ConflictingContentLength)
        );
        for bad in [
            "",
            "+5",
            "-5",
            "5 5",
            "0x10",
            "1.0",
            "abc",
            "5a",
            "18446744073709551616",
            "5,",
            ",5",
            "5,,5",
            "\u{663}",
        ] {
            assert_eq!(
                framing_of(&[("Content-Length", bad)]),
                Err(BadContentLength),
                "{bad:?}"
            );
        }
        assert_eq!(BadContentLength.status().as_u16(), 400);
    }

    #[test]
    fn transfer_encoding_rules() {
        use RequestError::*;
        assert_eq!(
            framing_of(&[("Transfer-Encoding", "chunked")]),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of(&[("transfer-encoding", "CHUNKED")]),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of(&[("Transfer-Encoding", " , chunked")]),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of(&[("Transfer-Encoding", "gzip, chunked")]),
            Err(UnknownTransferCoding)
        );
        assert_eq!(
            framing_of(&[
                ("Transfer-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked")
            ]),
            Err(UnknownTransferCoding)
        );
        assert_eq!(
            framing_of(&[("Transfer-Encoding", "x;q=1, chunked")]),
            Err(UnknownTransferCoding)
        );
        assert_eq!(UnknownTransferCoding.status().as_u16(), 501);
        for bad in [
            "gzip",
            "chunked, gzip",
            "chunked, chunked",
            "chunked;a=b",
            "",
            ",",
            "chun ked",
            "chunked\"",
        ] {
            assert_eq!(
                framing_of(&[("Transfer-Encoding", bad)]),
                Err(BadTransferEncoding),
                "{bad:?}"
            );
        }
        assert_eq!(
            framing_of(&[
                ("Transfer-Encoding", "chunked"),
                ("Transfer-Encoding", "chunked")
            ]),
            Err(BadTransferEncoding)
        );
        assert_eq!(
            framing_of(&[("Transfer-Encoding", "chunked"), ("Content-Length", "5")]),
            Err(ContentLengthWithTransferEncoding)
        );
        assert_eq!(
            framing_of(&[("Content-Length", "5"), ("Transfer-Encoding", "chunked")]),
            Err(ContentLengthWithTransferEncoding)
        );
        assert_eq!(
            inspect(Version::Http10, &[("Transfer-Encoding", "chunked")]),
            Err(TransferEncodingOnHttp10)
        );
    }

    #[test]
    fn transfer_coding_grammar() {
        use RequestError::*;
        // transfer-parameter = token BWS "=" BWS ( token / quoted-string ) (RFC 9110 §10.1.4)
        for unknown in [
            "x;q=1, chunked",
            "x ; a = b ;c=\"d, e\\\"f\"\t, chunked",
            "x;a=\"\", ,chunked",
            "gzip,,deflate ,\tchunked",
        ] {
            assert_eq!(
                framing_of(&[("Transfer-Encoding", unknown)]),
                Err(UnknownTransferCoding),
                "{unknown:?}"
            );
        }
        assert_eq!(
            framing_of(&[("Transfer-Encoding", ",\t, chunked ,")]),
            Ok(Framing::Chunked)
        );
        for bad in [
            "x;, chunked",
            "x;q, chunked",
            "x;q=, chunked",
            "x;q=\"a, chunked",
            "x;=1, chunked",
            "x;q=1;, chunked",
            "x q=1, chunked",
            "chunked;q=\"\"",
            "chunked ;",
            "chunked, chunked;x=1",
            "@, chunked",
        ] {
            assert_eq!(
                framing_of(&[("Transfer-Encoding", bad)]),
                Err(BadTransferEncoding),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn connection_options() {
        let h = |value: &'static str| Header {
            name: "connection",
            value: value.as_bytes(),
        };
        // Empty elements and OWS are ignored; a malformed option does not hide `close`.
        assert!(!keep_alive(Version::Http11, &[h(" ,, CLOSE ,")]));
        assert!(!keep_alive(Version::Http11, &[h("a b, @, close")]));
        assert!(!keep_alive(Version::Http11, &[h("upgrade"), h("te,close")]));
        assert!(keep_alive(Version::Http11, &[h(",,"), h("")]));
        assert!(keep_alive(Version::Http10, &[h("x y,\tKeep-Alive\t,")]));
        assert!(!keep_alive(Version::Http10, &[h("keep-alive x")]));
        assert!(!keep_alive(
            Version::Http10,
            &[h("closed, keep-alive"), h("close")]
        ));
    }

    #[test]
    fn persistence() {
        let h = |v: &'static str| Header {
            name: "Connection",
            value: v.as_bytes(),
        };
        assert!(keep_alive(Version::Http11, &[]));
        assert!(!keep_alive(Version::Http10, &[]));
        assert!(!keep_alive(Version::Http11, &[h("close")]));
        assert!(!keep_alive(Version::Http11, &[h("Keep-Alive, CLOSE")]));
        assert!(!keep_alive(Version::Http11, &[h("upgrade"), h(" close ")]));
        assert!(keep_alive(Version::Http11, &[h("keep-alive")]));
        assert!(keep_alive(Version::Http11, &[h("closed")]));
        assert!(keep_alive(Version::Http10, &[h("Keep-Alive")]));
        assert!(keep_alive(Version::Http10, &[h("foo,keep-alive")]));
        assert!(!keep_alive(Version::Http10, &[h("keep-alive, close")]));
        assert!(!keep_alive(Version::Http10, &[h("keep-alive-ish")]));
        let info = inspect(Version::Http10, &[("Connection", "keep-alive")]).unwrap();
        assert!(info.keep_alive);
    }

    /// Decodes `input` fed in pieces of `piece` bytes; returns the body and the bytes left after it.
    fn decode_in_pieces(input: &[u8], piece: usize) -> Result<(Vec<u8>, Vec<u8>), ChunkedError> {
        let mut decoder = ChunkedDecoder::new();
        let mut body = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut fed = 0;
        loop {
            let step = decoder.decode(&pending)?;
            body.extend_from_slice(step.data);
            let (consumed, done) = (step.consumed, step.done);
            pending.drain(..consumed);
            if done {
                pending.extend_from_slice(&input[fed..]);
                return Ok((body, pending));
            }
            if consumed == 0 {
                if fed == input.len() {
                    return Ok((body, Vec::from(&b"<unfinished>"[..])));
                }
                let end = (fed + piece).min(input.len());
                pending.extend_from_slice(&input[fed..end]);
                fed = end;
            }
        }
    }

    #[test]
    fn chunked_at_every_split() {
        let input = b"5;name=value;q=\"a \\\"b\\\"\"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n000 ; last\r\nExpires: never\r\nX:\r\n\r\nGET";
        let expected = b"helloabcdefghijklmnopqrstuvwxyz";
        for piece in 1..input.len() {
            let (body, rest) = decode_in_pieces(input, piece).unwrap();
            assert_eq!(body, expected, "piece {piece}");
            assert_eq!(rest, b"GET", "piece {piece}");
        }
    }

    #[test]
    fn chunked_zero_copy_and_done() {
        let input = b"3\r\nabc\r\n0\r\n\r\nrest";
        let mut decoder = ChunkedDecoder::new();
        let step = decoder.decode(input).unwrap();
        assert_eq!(
            (step.consumed, step.data, step.done),
            (6, &b"abc"[..], false)
        );
        assert_eq!(step.data.as_ptr(), input[3..].as_ptr());
        let step = decoder.decode(&input[6..]).unwrap();
        assert_eq!((step.consumed, step.data, step.done), (7, &b""[..], true));
        assert!(decoder.is_done());
        let step = decoder.decode(b"more").unwrap();
        assert_eq!((step.consumed, step.done), (0, true));
        assert_eq!(ChunkedDecoder::new().decode(b"").unwrap().consumed, 0);
    }

    #[test]
    fn chunked_errors() {
        use ChunkedError::*;
        let cases: &[(&[u8], ChunkedError)] = &[
            (b"\r\n", BadChunkSize),
            (b"g\r\n", BadChunkSize),
            (b"-1\r\n", BadChunkSize),
            (b"5 \r\nhello\r\n0\r\n\r\n", BadChunkSize),
            (b"0x5\r\n", BadChunkSize),
            (b"10000000000000000\r\n", ChunkSizeOverflow),
            (b"5\nhello\r\n", BadLineEnding),
            (b"5\rhello\r\n", BadLineEnding),
            (b"3\r\nabcd\r\n", BadLineEnding),
            (b"3\r\nabc\n0\r\n\r\n", BadLineEnding),
            (b"3;a\x00\r\n", BadChunkExtension),
            (b"3;a=\"x\ny\"\r\n", BadLineEnding),
            (b"3;a@b\r\n", BadChunkExtension),
            (b"0\r\nX : y\r\n\r\n", BadTrailer),
            (b"0\r\nX: y\r\n z\r\n\r\n", BadTrailer),
            (b"0\r\nX\r\n\r\n", BadTrailer),
            (b"0\r\nX: \x01\r\n\r\n", BadTrailer),
            (b"0\r\nX: y\n\r\n", BadLineEnding),
            (b"0\r\n\n", BadLineEnding),
            (b"0\r\n\rx", BadLineEnding),
        ];
        for &(input, expected) in cases {
            let got = decode_in_pieces(input, input.len()).map(|(body, _)| body);
            assert_eq!(
                got,
                Err(expected),
                "{:?}",
                std::string::String::from_utf8_lossy(input)
            );
            assert_eq!(expected.status().as_u16(), 400);
        }
    }

    #[test]
    fn chunk_ext_grammar() {
        use ChunkedError::*;
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1)
        for line in [
            &b"5;a"[..],
            b"5 \t; a",
            b"5;a=b;c",
            b"5 ; a = b ; c = \"d\"",
            b"5;a=\"\"",
            b"5;a=\"x\\\"y\\\\\"",
            b"5;a=\"\\\t\\\xff ;=,\"",
            b"5;a=\"q\"\t;b",
            b"5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
            b"5;a=\"\x80\xfe\"",
        ] {
            let mut input = Vec::from(line);
            input.extend_from_slice(b"\r\nhello\r\n0\r\n\r\nGET");
            for piece in 1..=input.len() {
                assert_eq!(
                    decode_in_pieces(&input, piece),
                    Ok((Vec::from(&b"hello"[..]), Vec::from(&b"GET"[..]))),
                    "{:?} in pieces of {piece}",
                    std::string::String::from_utf8_lossy(line)
                );
            }
        }
        let bad: &[(&[u8], ChunkedError)] = &[
            (b"5;\r\n", BadChunkExtension),
            (b"5; \r\n", BadChunkExtension),
            (b"5;a \r\n", BadChunkExtension),
            (b"5;a=\r\n", BadChunkExtension),
            (b"5;a= \r\n", BadChunkExtension),
            (b"5;a=b \r\n", BadChunkExtension),
            (b"5;a=\"b\" \r\n", BadChunkExtension),
            (b"5;=b\r\n", BadChunkExtension),
            (b"5;a b\r\n", BadChunkExtension),
            (b"5;a=b c\r\n", BadChunkExtension),
            (b"5;a==b\r\n", BadChunkExtension),
            (b"5;a=b=c\r\n", BadChunkExtension),
            (b"5;a=\"b\"c\r\n", BadChunkExtension),
            (b"5;a=b\"c\"\r\n", BadChunkExtension),
            (b"5;a=\"b\r\n", BadLineEnding),
            (b"5;a=\"b\\\r\n", BadLineEnding),
            (b"5;a=\"b\\\x01\"\r\n", BadChunkExtension),
            (b"5;a=\"\x7f\"\r\n", BadChunkExtension),
            (b"5;a=\"\x00\"\r\n", BadChunkExtension),
            (b"5;a\n", BadLineEnding),
            (b"5;a=b\n", BadLineEnding),
            (b"5 ;a\n", BadLineEnding),
            (b"5 x\r\n", BadChunkSize),
            (b"5 \n", BadChunkSize),
            (b"5;a@\r\n", BadChunkExtension),
            (b"5;a,b\r\n", BadChunkExtension),
        ];
        for &(input, expected) in bad {
            for piece in 1..=input.len() {
                assert_eq!(
                    decode_in_pieces(input, piece),
                    Err(expected),
                    "{:?} in pieces of {piece}",
                    std::string::String::from_utf8_lossy(input)
                );
            }
            assert_eq!(expected.status().as_u16(), 400);
        }
    }

    #[test]
    fn chunked_limits() {
        let mut line = Vec::from(&b"1;"[..]);
        line.resize(MAX_CHUNK_LINE_BYTES, b'a');
        line.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(decode_in_pieces(&line, 7).unwrap().0, b"x");
        let mut long = Vec::from(&b"1;"[..]);
        long.resize(MAX_CHUNK_LINE_BYTES + 1, b'a');
        long.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(decode_in_pieces(&long, 7), Err(ChunkedError::LineTooLong));
        // Leading zeros are allowed but still bounded by the line length.
        let zeros = [b'0'; MAX_CHUNK_LINE_BYTES + 1];
        assert_eq!(decode_in_pieces(&zeros, 64), Err(ChunkedError::LineTooLong));

        let mut trailers = Vec::from(&b"0\r\n"[..]);
        while trailers.len() < MAX_TRAILER_BYTES + 16 {
            trailers.extend_from_slice(b"X-Trailer: some value\r\n");
        }
        trailers.extend_from_slice(b"\r\n");
        assert_eq!(
            decode_in_pieces(&trailers, 100),
            Err(ChunkedError::TrailerTooLarge)
        );
    }

    #[test]
    fn chunked_error_is_sticky() {
        let mut decoder = ChunkedDecoder::new();
        assert_eq!(decoder.decode(b"z"), Err(ChunkedError::BadChunkSize));
        assert_eq!(
            decoder.decode(b"0\r\n\r\n"),
            Err(ChunkedError::BadChunkSize)
        );
    }

    #[test]
    fn huge_chunk_is_streamed() {
        let mut decoder = ChunkedDecoder::new();
        let step = decoder.decode(b"ffffffffffffffff\r\nabc").unwrap();
        assert_eq!(step.data, b"abc");
        let step = decoder.decode(b"def").unwrap();
        assert_eq!((step.consumed, step.data), (3, &b"def"[..]));
    }
}
