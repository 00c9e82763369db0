//! HTTP status codes (RFC 9110 §15) with their reason phrases.
//!
//! Only the codes staticd can send have constants; [`StatusCode::from_u16`] accepts any three-digit code
//! so a caller can still carry one it got elsewhere.

/// Every reason phrase staticd names, one `CODE` `Phrase` per line. One string scanned by one loop
/// costs a device about a quarter of a `match` with an arm and a pointer per code.
const REASONS: &str = concat!(
    // The answers a file server gives most come first: the scan for them ends at once.
    "200OK\n",
    "304Not Modified\n",
    "404Not Found\n",
    "206Partial Content\n",
    "301Moved Permanently\n",
    "100Continue\n",
    "101Switching Protocols\n",
    "201Created\n",
    "202Accepted\n",
    "203Non-Authoritative Information\n",
    "204No Content\n",
    "205Reset Content\n",
    "300Multiple Choices\n",
    "302Found\n",
    "303See Other\n",
    "307Temporary Redirect\n",
    "308Permanent Redirect\n",
    "400Bad Request\n",
    "401Unauthorized\n",
    "403Forbidden\n",
    "405Method Not Allowed\n",
    "406Not Acceptable\n",
    "408Request Timeout\n",
    "409Conflict\n",
    "410Gone\n",
    "411Length Required\n",
    "412Precondition Failed\n",
    "413Content Too Large\n",
    "414URI Too Long\n",
    "415Unsupported Media Type\n",
    "416Range Not Satisfiable\n",
    "417Expectation Failed\n",
    "421Misdirected Request\n",
    "422Unprocessable Content\n",
    "426Upgrade Required\n",
    "428Precondition Required\n",
    "429Too Many Requests\n",
    "431Request Header Fields Too Large\n",
    "500Internal Server Error\n",
    "501Not Implemented\n",
    "502Bad Gateway\n",
    "503Service Unavailable\n",
    "504Gateway Timeout\n",
    "505HTTP Version Not Supported\n",
);

/// Line `n` (from 0) of `lines`, without its `\n`; `""` past the end. The error types' `as_str`
/// tables share this one loop.
pub(crate) const fn nth_line(lines: &'static str, n: usize) -> &'static str {
    let mut rest = lines.as_bytes();
    let (mut index, mut start, mut pos) = (0usize, 0usize, 0usize);
    while let [byte, more @ ..] = rest {
        if *byte == b'\n' {
            if index == n {
                // `start <= pos`, both on ASCII line boundaries, so both splits succeed.
                return match lines.split_at_checked(pos) {
                    Some((before, _)) => match before.split_at_checked(start) {
                        Some((_, line)) => line,
                        None => "",
                    },
                    None => "",
                };
            }
            index += 1;
            start = pos + 1;
        }
        pos += 1;
        rest = more;
    }
    ""
}

/// A three-digit HTTP status code (RFC 9110 §15), always in `100..=999`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusCode(u16);

impl StatusCode {
    /// 200 OK (RFC 9110 §15.3.1).
    pub const OK: StatusCode = StatusCode(200);
    /// 204 No Content (RFC 9110 §15.3.5).
    pub const NO_CONTENT: StatusCode = StatusCode(204);
    /// 206 Partial Content (RFC 9110 §15.3.7).
    pub const PARTIAL_CONTENT: StatusCode = StatusCode(206);
    /// 301 Moved Permanently (RFC 9110 §15.4.2).
    pub const MOVED_PERMANENTLY: StatusCode = StatusCode(301);
    /// 304 Not Modified (RFC 9110 §15.4.5).
    pub const NOT_MODIFIED: StatusCode = StatusCode(304);
    /// 400 Bad Request (RFC 9110 §15.5.1).
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    /// 403 Forbidden (RFC 9110 §15.5.4).
    pub const FORBIDDEN: StatusCode = StatusCode(403);
    /// 404 Not Found (RFC 9110 §15.5.5).
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    /// 405 Method Not Allowed (RFC 9110 §15.5.6).
    pub const METHOD_NOT_ALLOWED: StatusCode = StatusCode(405);
    /// 408 Request Timeout (RFC 9110 §15.5.9).
    pub const REQUEST_TIMEOUT: StatusCode = StatusCode(408);
    /// 412 Precondition Failed (RFC 9110 §15.5.13).
    pub const PRECONDITION_FAILED: StatusCode = StatusCode(412);
    /// 413 Content Too Large (RFC 9110 §15.5.14).
    pub const CONTENT_TOO_LARGE: StatusCode = StatusCode(413);
    /// 414 URI Too Long (RFC 9110 §15.5.15).
    pub const URI_TOO_LONG: StatusCode = StatusCode(414);
    /// 416 Range Not Satisfiable (RFC 9110 §15.5.17).
    pub const RANGE_NOT_SATISFIABLE: StatusCode = StatusCode(416);
    /// 431 Request Header Fields Too Large (RFC 6585 §5).
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: StatusCode = StatusCode(431);
    /// 500 Internal Server Error (RFC 9110 §15.6.1).
    pub const INTERNAL_SERVER_ERROR: StatusCode = StatusCode(500);
    /// 501 Not Implemented (RFC 9110 §15.6.2).
    pub const NOT_IMPLEMENTED: StatusCode = StatusCode(501);
    /// 503 Service Unavailable (RFC 9110 §15.6.4).
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);
    /// 505 HTTP Version Not Supported (RFC 9110 §15.6.6).
    pub const HTTP_VERSION_NOT_SUPPORTED: StatusCode = StatusCode(505);

    /// Every named status above, in numeric order: what staticd can answer.
    pub const ALL: [StatusCode; 19] = [
        StatusCode::OK,
        StatusCode::NO_CONTENT,
        StatusCode::PARTIAL_CONTENT,
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::NOT_MODIFIED,
        StatusCode::BAD_REQUEST,
        StatusCode::FORBIDDEN,
        StatusCode::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED,
        StatusCode::REQUEST_TIMEOUT,
        StatusCode::PRECONDITION_FAILED,
        StatusCode::CONTENT_TOO_LARGE,
        StatusCode::URI_TOO_LONG,
        StatusCode::RANGE_NOT_SATISFIABLE,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::NOT_IMPLEMENTED,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::HTTP_VERSION_NOT_SUPPORTED,
    ];

    /// A status code from its number; `None` unless it has exactly three digits (RFC 9110 §15).
    pub const fn from_u16(code: u16) -> Option<StatusCode> {
        if code >= 100 && code <= 999 {
            Some(StatusCode(code))
        } else {
            None
        }
    }

    /// The numeric code, e.g. `404`.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The canonical reason phrase, e.g. `"Not Found"`; `""` for a code staticd does not name
    /// (RFC 9112 §4 allows an empty reason phrase).
    pub const fn reason(self) -> &'static str {
        let [d0, d1, d2] = self.digits();
        let mut rest = REASONS.as_bytes();
        let mut offset = 0usize;
        while let [a, b, c, line @ ..] = rest {
            let mut len = 0usize;
            let mut after = line;
            while let [byte, more @ ..] = after {
                after = more;
                if *byte == b'\n' {
                    break;
                }
                len += 1;
            }
            if *a == d0 && *b == d1 && *c == d2 {
                // Offsets are of ASCII bytes, so both splits are on char boundaries.
                return match REASONS.split_at_checked(offset + 3) {
                    Some((_, from)) => match from.split_at_checked(len) {
                        Some((phrase, _)) => phrase,
                        None => "",
                    },
                    None => "",
                };
            }
            offset += 3 + len + 1;
            rest = after;
        }
        ""
    }

    /// The three ASCII digits of the code, e.g. `*b"404"`, ready for a status line.
    pub const fn digits(self) -> [u8; 3] {
        // The constructor keeps the code in 100..=999, so each quotient is a single digit.
        let code = self.0;
        [
            b'0' + ((code / 100) % 10) as u8,
            b'0' + ((code / 10) % 10) as u8,
            b'0' + (code % 10) as u8,
        ]
    }

    /// Whether the code is in the 2xx class.
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 < 300
    }

    /// Whether a response with this code never carries content (1xx, 204, 304: RFC 9110 §6.4.1).
    pub const fn is_bodiless(self) -> bool {
        self.0 < 200 || self.0 == 204 || self.0 == 304
    }
}

impl core::fmt::Display for StatusCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.0, self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_reason() {
        assert_eq!(StatusCode::NOT_FOUND.digits(), *b"404");
        assert_eq!(StatusCode::OK.digits(), *b"200");
        assert_eq!(StatusCode::HTTP_VERSION_NOT_SUPPORTED.digits(), *b"505");
        assert_eq!(StatusCode::NOT_FOUND.reason(), "Not Found");
        assert_eq!(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.reason(),
            "Request Header Fields Too Large"
        );
        assert_eq!(StatusCode::CONTENT_TOO_LARGE.as_u16(), 413);
        assert_eq!(StatusCode::URI_TOO_LONG.as_u16(), 414);
        assert_eq!(StatusCode::RANGE_NOT_SATISFIABLE.as_u16(), 416);
    }

    #[test]
    fn every_table_line_is_found_and_nothing_else() {
        let mut seen = std::collections::BTreeSet::new();
        for line in REASONS.lines() {
            let (code, phrase) = line.split_at(3);
            let code: u16 = code.parse().unwrap();
            assert!(seen.insert(code), "{code} twice");
            assert!(
                !phrase.is_empty() && phrase.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            );
            assert_eq!(StatusCode(code).reason(), phrase);
        }
        assert_eq!(seen.len(), 44);
        for code in 100..=999 {
            if !seen.contains(&code) {
                assert_eq!(StatusCode(code).reason(), "", "{code}");
            }
        }
        assert_eq!(StatusCode(505).reason(), "HTTP Version Not Supported");
        assert_eq!(StatusCode(100).reason(), "Continue");
        assert_eq!(StatusCode(431).reason(), "Request Header Fields Too Large");
    }

    #[test]
    fn nth_line_bounds() {
        assert_eq!(nth_line("a\nbc\n\nd\n", 0), "a");
        assert_eq!(nth_line("a\nbc\n\nd\n", 1), "bc");
        assert_eq!(nth_line("a\nbc\n\nd\n", 2), "");
        assert_eq!(nth_line("a\nbc\n\nd\n", 3), "d");
        assert_eq!(nth_line("a\nbc\n\nd\n", 4), "");
        assert_eq!(nth_line("a\nno newline", 1), "");
    }

    #[test]
    fn from_u16_bounds() {
        assert_eq!(StatusCode::from_u16(99), None);
        assert_eq!(StatusCode::from_u16(1000), None);
        assert_eq!(StatusCode::from_u16(999).map(|s| s.digits()), Some(*b"999"));
        assert_eq!(StatusCode::from_u16(599).map(|s| s.reason()), Some(""));
    }

    #[test]
    fn every_named_constant_has_a_reason() {
        let all = StatusCode::ALL;
        for code in all {
            assert!(!code.reason().is_empty(), "{code:?}");
        }
        assert!(StatusCode::NOT_MODIFIED.is_bodiless());
        assert!(!StatusCode::OK.is_bodiless());
        assert!(StatusCode::PARTIAL_CONTENT.is_success());
    }
}
