//! HTTP status codes (RFC 9110 §15) with their reason phrases.
//!
//! Only the codes staticd can send have constants; [`StatusCode::from_u16`] accepts any three-digit code
//! so a caller can still carry one it got elsewhere.

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
        match self.0 {
            100 => "Continue",
            101 => "Switching Protocols",
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            203 => "Non-Authoritative Information",
            204 => "No Content",
            205 => "Reset Content",
            206 => "Partial Content",
            300 => "Multiple Choices",
            301 => "Moved Permanently",
            302 => "Found",
            303 => "See Other",
            304 => "Not Modified",
            307 => "Temporary Redirect",
            308 => "Permanent Redirect",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            408 => "Request Timeout",
            409 => "Conflict",
            410 => "Gone",
            411 => "Length Required",
            412 => "Precondition Failed",
            413 => "Content Too Large",
            414 => "URI Too Long",
            415 => "Unsupported Media Type",
            416 => "Range Not Satisfiable",
            417 => "Expectation Failed",
            421 => "Misdirected Request",
            422 => "Unprocessable Content",
            426 => "Upgrade Required",
            428 => "Precondition Required",
            429 => "Too Many Requests",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            505 => "HTTP Version Not Supported",
            _ => "",
        }
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
// reason: a test should fail loudly on a broken assumption.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
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
    fn from_u16_bounds() {
        assert_eq!(StatusCode::from_u16(99), None);
        assert_eq!(StatusCode::from_u16(1000), None);
        assert_eq!(StatusCode::from_u16(999).map(|s| s.digits()), Some(*b"999"));
        assert_eq!(StatusCode::from_u16(599).map(|s| s.reason()), Some(""));
    }

    #[test]
    fn every_named_constant_has_a_reason() {
        let all = [
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
        for code in all {
            assert!(!code.reason().is_empty(), "{code:?}");
        }
        assert!(StatusCode::NOT_MODIFIED.is_bodiless());
        assert!(!StatusCode::OK.is_bodiless());
        assert!(StatusCode::PARTIAL_CONTENT.is_success());
    }
}
