//! The serving policy: everything a [`Connection`](crate::conn::Connection) and the response
//! decision ([`respond`](crate::respond::respond)) need from the settings, and nothing a desktop
//! alone needs (addresses, threads, log paths).
//!
//! A [`Policy`] only borrows, so a device builds one in a `const` or reads one from a postcard blob
//! in flash ([`PolicyBlob`], feature `serde`) without a large value on its stack. The std server
//! builds one borrowing from its TOML settings.
//!
//! ```
//! use staticd_core::policy::{ErrorPage, HeaderRule, Policy};
//!
//! const RULES: &[HeaderRule<'static>] = &[HeaderRule::new("*.html", Some("no-cache"), [])];
//! const POLICY: Policy<'static> = Policy {
//!     server_name: "staticd-device",
//!     rules: RULES,
//!     error_pages: &[ErrorPage { status: 404, path: "404.html" }],
//!     fallback: Some("index.html"),
//!     ..Policy::DEFAULT
//! };
//! assert_eq!(POLICY.header_timeout_ms, 10_000);
//! assert!(POLICY.serves_extension("index.html"));
//! assert_eq!(POLICY.error_page(404), Some("404.html"));
//! assert_eq!(POLICY.validate(), Ok(()));
//! ```

use crate::glob::glob_match;
use crate::mime::extension_allowed;

/// Extensions served by [`Policy::DEFAULT`], and the std server's default
/// `files.allowed_extensions`: what a web site serves — pages, styles, scripts, data and feeds,
/// images, fonts, audio, video, subtitles, documents and downloads. Executables, scripts of other
/// languages, sources and backups are not in it.
#[rustfmt::skip] // one line per kind of file
pub const DEFAULT_ALLOWED_EXTENSIONS: &[&str] = &[
    // Pages, styles, scripts, data, feeds, subtitles, calendars, documents.
    ".html", ".htm", ".xhtml", ".css", ".js", ".mjs", ".cjs", ".json", ".jsonld", ".map",
    ".webmanifest", ".txt", ".md", ".csv", ".tsv", ".xml", ".rss", ".atom", ".vtt", ".ics",
    ".pdf", ".wasm",
    // Images.
    ".svg", ".png", ".apng", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".jxl", ".bmp", ".ico",
    ".tif", ".tiff",
    // Fonts.
    ".woff", ".woff2", ".ttf", ".otf", ".eot",
    // Video and audio.
    ".mp4", ".m4v", ".webm", ".ogv", ".mov", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac",
    ".flac", ".wav",
    // Downloads.
    ".zip", ".gz", ".tar", ".7z", ".epub",
];

/// The `allowed_extensions` entry that allows every file, with or without an extension.
pub const ANY_EXTENSION: &str = "*";

/// Smallest accepted [`Policy::max_request_bytes`].
pub const MIN_REQUEST_BYTES: u32 = 1024;
/// Accepted range of both timeouts, in milliseconds (0.1 s to 3600 s).
pub const TIMEOUT_RANGE_MS: core::ops::RangeInclusive<u32> = 100..=3_600_000;

/// Accepted range of [`Policy::listing_page_entries`].
pub const LISTING_PAGE_RANGE: core::ops::RangeInclusive<u32> = 1..=10_000;
/// The statuses an [`ErrorPage`] may answer.
pub const ERROR_PAGE_STATUSES: core::ops::RangeInclusive<u16> = 400..=599;

/// Header names a rule may not set: the server owns framing and connection management (RFC 9112 §6,
/// RFC 9110 §7.6.1), and a second Content-Length or Transfer-Encoding would desynchronise clients.
const RESERVED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "trailer",
    "te",
    "date",
    "content-range",
];

/// Headers added to the responses for files whose path matches a glob (see
/// [`glob_match`](crate::glob::glob_match)): the first matching rule with a `cache_control` sets
/// `Cache-Control`, every matching rule adds its `headers`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HeaderRule<'a> {
    /// A glob over the served path, relative to the root.
    pub pattern: &'a str,
    /// The `Cache-Control` value for matching files.
    pub cache_control: Option<&'a str>,
    /// Extra `(name, value)` header fields. Names are tokens (and not a framing or connection
    /// header) and values have no CR, LF or NUL: [`Policy::validate`] checks it.
    #[cfg_attr(feature = "serde", serde(borrow))]
    pub headers: heapless::Vec<(&'a str, &'a str), MAX_RULE_HEADERS>,
}

/// The most extra headers one [`HeaderRule`] carries.
pub const MAX_RULE_HEADERS: usize = 8;

impl<'a> HeaderRule<'a> {
    /// A rule, usable in a `const`; `M` is at most [`MAX_RULE_HEADERS`] (checked at compile time).
    pub const fn new<const M: usize>(
        pattern: &'a str,
        cache_control: Option<&'a str>,
        headers: [(&'a str, &'a str); M],
    ) -> Self {
        Self {
            pattern,
            cache_control,
            headers: heapless::Vec::from_array(headers),
        }
    }
}

/// A page served in place of the built-in one for an error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ErrorPage<'a> {
    /// The status it answers (400 to 599).
    pub status: u16,
    /// The page's path below the root (`"404.html"`, `"errors/404.html"`), no leading `/`.
    pub path: &'a str,
}

/// The default `Cache-Control` of a file whose name carries a content hash ([`fingerprinted`]):
/// its bytes can never change under that name (RFC 8246 `immutable`).
pub const CACHE_FINGERPRINTED: &str = "public, max-age=31536000, immutable";
/// The default `Cache-Control` of an HTML page: stored, but revalidated before each use
/// (RFC 9111 §5.2.2.4), so a new deploy is seen at once and costs a 304 otherwise.
pub const CACHE_HTML: &str = "no-cache";
/// The default `Cache-Control` of every other file: five minutes fresh, then revalidated.
pub const CACHE_OTHER: &str = "max-age=300";

/// What a connection is allowed to do and serve. Times are milliseconds on the caller's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy<'a> {
    /// The `Server` header value (no CR, LF or NUL: [`Policy::validate`] checks it).
    pub server_name: &'a str,
    /// The largest request head, and the largest request body, in bytes. A connection's input
    /// buffer must hold this many bytes.
    pub max_request_bytes: u32,
    /// From the first moment a connection waits for a head until the head is complete.
    pub header_timeout_ms: u32,
    /// How long an idle connection is kept between requests.
    pub keepalive_timeout_ms: u32,
    /// Requests served on one connection; the last one says `Connection: close`.
    pub keepalive_requests: u32,
    /// Extensions served, with their leading dot (`".html"`), matched case-insensitively; the
    /// entry `"*"` serves every file, with or without an extension.
    pub allowed_extensions: &'a [&'a str],
    /// Names tried, in order, for a directory.
    pub index_files: &'a [&'a str],
    /// Refuse a path with a segment that starts with `.`.
    pub deny_dotfiles: bool,
    /// Dot-segments served even so (`".well-known"`).
    pub dotfile_exceptions: &'a [&'a str],
    /// Headers by path pattern.
    pub rules: &'a [HeaderRule<'a>],
    /// Pages served for error statuses, by status.
    pub error_pages: &'a [ErrorPage<'a>],
    /// The file answered (200) to a navigation that would otherwise be 404: a single-page
    /// app's entry page. See [`respond`](crate::respond) for when it applies.
    pub fallback: Option<&'a str>,
    /// Answer a directory without an index file with a listing of it (HTML or JSON by `Accept`).
    pub listing: bool,
    /// The most entries on one page of a listing (`?page=N` asks for the others); at least 1.
    pub listing_page_entries: u32,
    /// Without a matching rule's `cache_control`, send the defaults: [`CACHE_FINGERPRINTED`],
    /// [`CACHE_HTML`] or [`CACHE_OTHER`]. Off: no `Cache-Control` without a rule.
    pub cache_defaults: bool,
}

impl Policy<'static> {
    /// The built-in defaults: the same values the std server documents for an empty settings file.
    pub const DEFAULT: Policy<'static> = Policy {
        server_name: "staticd",
        max_request_bytes: 8192,
        header_timeout_ms: 10_000,
        keepalive_timeout_ms: 5_000,
        keepalive_requests: 1000,
        allowed_extensions: DEFAULT_ALLOWED_EXTENSIONS,
        index_files: &["index.html"],
        deny_dotfiles: true,
        dotfile_exceptions: &[".well-known"],
        rules: &[],
        error_pages: &[],
        fallback: None,
        listing: false,
        listing_page_entries: 100,
        cache_defaults: true,
    };
}

impl Default for Policy<'static> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Policy<'_> {
    /// Checks every value against its documented range, as the std server does for its settings
    /// file and a device should for a blob it reads: the error names the first setting at fault.
    ///
    /// ```
    /// use staticd_core::policy::{HeaderRule, Policy};
    ///
    /// assert_eq!(Policy::DEFAULT.validate(), Ok(()));
    /// let rules = [HeaderRule::new("*", None, [("X-Bad", "a\r\nSet-Cookie: b")])];
    /// let bad = Policy { rules: &rules, ..Policy::DEFAULT };
    /// let e = bad.validate().unwrap_err();
    /// assert_eq!((e.key, e.index, e.header), ("rules.headers", Some(0), Some(0)));
    /// ```
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.validate_limits()?;
        self.validate_files()?;
        for (i, rule) in self.rules.iter().enumerate() {
            rule.validate(i)?;
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), PolicyError> {
        if self.max_request_bytes < MIN_REQUEST_BYTES {
            return Err(err(
                "server.max_request_bytes",
                None,
                "must be at least 1024",
            ));
        }
        if !TIMEOUT_RANGE_MS.contains(&self.keepalive_timeout_ms) {
            return Err(err(
                "server.keepalive_timeout",
                None,
                "must be between 0.1 and 3600 seconds",
            ));
        }
        if !TIMEOUT_RANGE_MS.contains(&self.header_timeout_ms) {
            return Err(err(
                "server.header_timeout",
                None,
                "must be between 0.1 and 3600 seconds",
            ));
        }
        if self.keepalive_requests < 1 {
            return Err(err("server.keepalive_requests", None, "must be at least 1"));
        }
        if !is_field_value(self.server_name) {
            return Err(err(
                "server.server_name",
                None,
                "must not contain control characters (CR, LF, NUL)",
            ));
        }
        Ok(())
    }

    fn validate_files(&self) -> Result<(), PolicyError> {
        if self.allowed_extensions.is_empty() {
            // An empty list would answer 403 to every file: surely not what was meant.
            return Err(err(
                "files.allowed_extensions",
                None,
                "must not be empty: list the extensions to serve, or [\"*\"] to serve every file",
            ));
        }
        for (i, ext) in self.allowed_extensions.iter().enumerate() {
            if *ext == ANY_EXTENSION {
                continue;
            }
            match ext.strip_prefix('.') {
                None => {
                    return Err(err(
                        "files.allowed_extensions",
                        Some(i),
                        "must start with '.' (e.g. \".html\")",
                    ));
                }
                Some(rest) if rest.is_empty() || rest.contains('.') || !is_segment(rest) => {
                    return Err(err(
                        "files.allowed_extensions",
                        Some(i),
                        "must be one '.' followed by a non-empty extension without '.', '/' or '\\'",
                    ));
                }
                Some(_) => {}
            }
        }
        for (i, name) in self.index_files.iter().enumerate() {
            if !is_segment(name) {
                return Err(err(
                    "files.index_files",
                    Some(i),
                    "must be a plain file name (no '/', '\\', NUL, '.' or '..')",
                ));
            }
        }
        for (i, name) in self.dotfile_exceptions.iter().enumerate() {
            if !is_segment(name) || !name.starts_with('.') {
                return Err(err(
                    "files.dotfile_exceptions",
                    Some(i),
                    "must be one path segment starting with '.' (e.g. \".well-known\")",
                ));
            }
        }
        self.validate_serving()
    }

    fn validate_serving(&self) -> Result<(), PolicyError> {
        for (i, page) in self.error_pages.iter().enumerate() {
            if !ERROR_PAGE_STATUSES.contains(&page.status) {
                return Err(err(
                    "files.error_pages",
                    Some(i),
                    "must be keyed by an error status from 400 to 599",
                ));
            }
            if !is_relative_path(page.path) {
                return Err(err(
                    "files.error_pages",
                    Some(i),
                    "must be a path below the root (\"404.html\", \"errors/404.html\": no leading '/', '.' or '..')",
                ));
            }
        }
        if let Some(path) = self.fallback
            && !is_relative_path(path)
        {
            return Err(err(
                "files.fallback",
                None,
                "must be a path below the root (\"index.html\": no leading '/', '.' or '..')",
            ));
        }
        if self.listing && !cfg!(feature = "listing") {
            return Err(err(
                "files.directory_listing",
                None,
                "needs staticd-core built with its `listing` feature",
            ));
        }
        if !LISTING_PAGE_RANGE.contains(&self.listing_page_entries) {
            return Err(err(
                "files.listing_page_entries",
                None,
                "must be between 1 and 10000",
            ));
        }
        Ok(())
    }

    /// Whether a file at `path` may be served by its extension.
    pub fn serves_extension(&self, path: &str) -> bool {
        extension_allowed(path, self.allowed_extensions.iter().copied())
    }

    /// Whether `path` (resolved, relative) is hidden by the dotfile rule.
    pub fn hides(&self, path: &str) -> bool {
        self.deny_dotfiles && crate::path::hidden_segment(path, self.dotfile_exceptions)
    }

    /// The `Cache-Control` value for `path`: the first matching rule that has one.
    pub fn cache_control(&self, path: &str) -> Option<&str> {
        self.rules
            .iter()
            .filter(|rule| rule.cache_control.is_some() && glob_match(rule.pattern, path))
            .find_map(|rule| rule.cache_control)
    }

    /// The `Cache-Control` value for `path` served as `content_type`: the first matching rule's,
    /// else (with [`Policy::cache_defaults`]) the default for its kind.
    pub fn cache_control_for(&self, path: &str, content_type: &str) -> Option<&str> {
        self.cache_control(path).or_else(|| {
            self.cache_defaults.then(|| {
                if fingerprinted(path) {
                    CACHE_FINGERPRINTED
                } else if content_type.starts_with("text/html") {
                    CACHE_HTML
                } else {
                    CACHE_OTHER
                }
            })
        })
    }

    /// The configured page for `status`, if any.
    pub fn error_page(&self, status: u16) -> Option<&str> {
        self.error_pages
            .iter()
            .find(|page| page.status == status)
            .map(|page| page.path)
    }

    /// Every rule that matches `path`, in order.
    pub fn rules_for<'p>(&'p self, path: &'p str) -> impl Iterator<Item = &'p HeaderRule<'p>> {
        self.rules
            .iter()
            .filter(move |rule| glob_match(rule.pattern, path))
    }

    /// The most bytes the extra header lines of the rules can take in one head.
    pub fn rule_bytes(&self) -> usize {
        self.rules
            .iter()
            .map(|rule| {
                let cc = rule
                    .cache_control
                    .map_or(0, |v| "Cache-Control: \r\n".len() + v.len());
                let extra: usize = rule
                    .headers
                    .iter()
                    .map(|(n, v)| n.len() + v.len() + 4)
                    .sum();
                cc + extra
            })
            .sum()
    }
}

impl HeaderRule<'_> {
    fn validate(&self, index: usize) -> Result<(), PolicyError> {
        if self.pattern.is_empty() {
            return Err(err("rules.pattern", Some(index), "must not be empty"));
        }
        if let Some(cc) = self.cache_control
            && (cc.is_empty() || !is_field_value(cc))
        {
            return Err(err(
                "rules.cache_control",
                Some(index),
                "must be a non-empty header value without control characters (CR, LF, NUL)",
            ));
        }
        for (h, (name, value)) in self.headers.iter().enumerate() {
            if !is_token(name) {
                return Err(header_err(
                    index,
                    h,
                    "header names must be tokens (letters, digits and !#$%&'*+-.^_`|~)",
                ));
            }
            if RESERVED_HEADERS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
            {
                return Err(header_err(
                    index,
                    h,
                    "may not set Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, Trailer, TE, Date or Content-Range",
                ));
            }
            if !is_field_value(value) {
                return Err(header_err(
                    index,
                    h,
                    "header values must not contain control characters (CR, LF, NUL)",
                ));
            }
        }
        Ok(())
    }
}

/// A value that [`Policy::validate`] refused: which setting, which entry of a list, and why.
///
/// The setting is named by its key in the std server's settings file (`"server.header_timeout"`,
/// `"files.allowed_extensions"`, `"rules.headers"`): a policy has the same fields, whoever builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PolicyError {
    /// The dotted key, e.g. `"server.header_timeout"` or `"rules.headers"`.
    pub key: &'static str,
    /// For a list (`files.allowed_extensions`, `rules`), the zero-based entry at fault.
    pub index: Option<usize>,
    /// For `rules.headers`, the zero-based header of that rule at fault.
    pub header: Option<usize>,
    /// What is wrong, as a phrase that follows the key: `"must be at least 1024"`.
    pub reason: &'static str,
}

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // A rule's index belongs to `rules`, not to the field: `rules[2].headers[0]`.
        match (self.key.strip_prefix("rules."), self.index) {
            (Some(field), Some(i)) => write!(f, "rules[{i}].{field}")?,
            (None, Some(i)) => write!(f, "{}[{i}]", self.key)?,
            (_, None) => f.write_str(self.key)?,
        }
        if let Some(h) = self.header {
            write!(f, "[{h}]")?;
        }
        write!(f, ": {}", self.reason)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}

fn err(key: &'static str, index: Option<usize>, reason: &'static str) -> PolicyError {
    PolicyError {
        key,
        index,
        header: None,
        reason,
    }
}

fn header_err(rule: usize, header: usize, reason: &'static str) -> PolicyError {
    PolicyError {
        header: Some(header),
        ..err("rules.headers", Some(rule), reason)
    }
}

/// RFC 9110 §5.6.2 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(crate::chars::tchar)
}

/// RFC 9110 §5.5 `field-value`: no control bytes except HTAB (so no CR, LF or NUL), no DEL.
fn is_field_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A path below the root: segments joined by `/`, no leading `/`, no `.` or `..`.
fn is_relative_path(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(is_segment)
}

/// A file name usable as one path segment: not empty, not `.` or `..`, no separators or NUL.
fn is_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.bytes().any(|b| matches!(b, b'/' | b'\\' | 0))
}

/// Whether the file name of `path` carries a content hash, so its bytes never change under it.
///
/// The rule: take the last segment and drop its extension (the text from the last `.`); split the
/// rest at `.` and `-`; some part other than the first is a hash, which is one of
/// - 8 or more lowercase hex digits (`app.3f9a1c2e.js`), or the same in uppercase;
/// - 6 or more of `A`-`Z` and `0`-`9` (base32 or base36, `chunk-5QZ2X7.css`);
/// - 8 or more ASCII letters and digits with a lowercase letter, an uppercase letter
///   (base64url without `-` and `_`, `index-D7e9qXkz.js`);
///
/// and in every case holds at least one digit and one letter, so a date (`photo-20240101.jpg`)
/// or a plain word (`site.min.css`, `jquery-3.7.1.js`) is not a hash.
pub fn fingerprinted(path: &str) -> bool {
    // Bytes, not `str` searching: the separators are ASCII, and byte scans are a fraction of the
    // code on a device.
    let path = path.as_bytes();
    let name = match path.iter().rposition(|&b| b == b'/') {
        Some(slash) => path.get(slash + 1..).unwrap_or_default(),
        None => path,
    };
    let stem = match name.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => name.get(..dot).unwrap_or_default(),
        _ => return false,
    };
    stem.split(|&b| b == b'.' || b == b'-').skip(1).any(is_hash)
}

fn is_hash(b: &[u8]) -> bool {
    let all = |f: fn(&u8) -> bool| b.iter().all(f);
    let any = |f: fn(&u8) -> bool| b.iter().any(f);
    if !any(u8::is_ascii_digit) || !any(u8::is_ascii_alphabetic) {
        return false;
    }
    let lower_hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let upper_hex = |c: &u8| c.is_ascii_digit() || (b'A'..=b'F').contains(c);
    let upper_alnum = |c: &u8| c.is_ascii_digit() || c.is_ascii_uppercase();
    (b.len() >= 8 && (all(lower_hex) || all(upper_hex)))
        || (b.len() >= 6 && all(upper_alnum))
        || (b.len() >= 8
            && all(u8::is_ascii_alphanumeric)
            && any(u8::is_ascii_lowercase)
            && any(u8::is_ascii_uppercase))
}

/// The most `[[rules]]` a [`PolicyBlob`] holds.
#[cfg(feature = "serde")]
pub const BLOB_MAX_RULES: usize = 16;
/// The most list entries (extensions, index files, exceptions) a [`PolicyBlob`] holds per list.
#[cfg(feature = "serde")]
pub const BLOB_MAX_LIST: usize = 64;

/// A [`Policy`] as a postcard blob: every string borrows from the blob (a device keeps it in
/// flash), the lists are fixed-capacity. [`PolicyBlob::policy`] gives the [`Policy`].
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use staticd_core::policy::{Policy, PolicyBlob};
///
/// let mut buf = [0u8; 512];
/// let blob = PolicyBlob::from_policy(&Policy::DEFAULT).expect("fits");
/// let bytes = postcard::to_slice(&blob, &mut buf).expect("fits");
/// let read = PolicyBlob::from_bytes(bytes).expect("valid");
/// // The blob's values are checked as the std server checks its settings file.
/// assert_eq!(read.policy().validate(), Ok(()));
/// assert_eq!(read.policy(), Policy::DEFAULT);
/// # }
/// ```
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyBlob<'a> {
    server_name: &'a str,
    max_request_bytes: u32,
    header_timeout_ms: u32,
    keepalive_timeout_ms: u32,
    keepalive_requests: u32,
    #[serde(borrow)]
    allowed_extensions: heapless::Vec<&'a str, BLOB_MAX_LIST>,
    #[serde(borrow)]
    index_files: heapless::Vec<&'a str, BLOB_MAX_LIST>,
    deny_dotfiles: bool,
    #[serde(borrow)]
    dotfile_exceptions: heapless::Vec<&'a str, BLOB_MAX_LIST>,
    #[serde(borrow)]
    rules: heapless::Vec<HeaderRule<'a>, BLOB_MAX_RULES>,
    #[serde(borrow)]
    error_pages: heapless::Vec<ErrorPage<'a>, BLOB_MAX_ERROR_PAGES>,
    fallback: Option<&'a str>,
    listing: bool,
    listing_page_entries: u32,
    cache_defaults: bool,
}

/// The most error pages a [`PolicyBlob`] holds.
#[cfg(feature = "serde")]
pub const BLOB_MAX_ERROR_PAGES: usize = 8;

#[cfg(feature = "serde")]
impl<'a> PolicyBlob<'a> {
    /// Reads a blob written by `postcard::to_slice` of a [`PolicyBlob`], borrowing `bytes`. The
    /// values are what the blob says: check them with [`Policy::validate`] before serving.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// The blob form of `policy`; `None` if a list is longer than the blob holds.
    pub fn from_policy(policy: &Policy<'a>) -> Option<Self> {
        Some(Self {
            server_name: policy.server_name,
            max_request_bytes: policy.max_request_bytes,
            header_timeout_ms: policy.header_timeout_ms,
            keepalive_timeout_ms: policy.keepalive_timeout_ms,
            keepalive_requests: policy.keepalive_requests,
            allowed_extensions: heapless::Vec::from_slice(policy.allowed_extensions).ok()?,
            index_files: heapless::Vec::from_slice(policy.index_files).ok()?,
            deny_dotfiles: policy.deny_dotfiles,
            dotfile_exceptions: heapless::Vec::from_slice(policy.dotfile_exceptions).ok()?,
            rules: heapless::Vec::from_slice(policy.rules).ok()?,
            error_pages: heapless::Vec::from_slice(policy.error_pages).ok()?,
            fallback: policy.fallback,
            listing: policy.listing,
            listing_page_entries: policy.listing_page_entries,
            cache_defaults: policy.cache_defaults,
        })
    }

    /// The policy, borrowing this blob.
    pub fn policy(&self) -> Policy<'_> {
        Policy {
            server_name: self.server_name,
            max_request_bytes: self.max_request_bytes,
            header_timeout_ms: self.header_timeout_ms,
            keepalive_timeout_ms: self.keepalive_timeout_ms,
            keepalive_requests: self.keepalive_requests,
            allowed_extensions: &self.allowed_extensions,
            index_files: &self.index_files,
            deny_dotfiles: self.deny_dotfiles,
            dotfile_exceptions: &self.dotfile_exceptions,
            rules: &self.rules,
            error_pages: &self.error_pages,
            fallback: self.fallback,
            listing: self.listing,
            listing_page_entries: self.listing_page_entries,
            cache_defaults: self.cache_defaults,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &[HeaderRule<'static>] = &[
        HeaderRule::new("*.html", Some("no-cache"), [("X-Frame-Options", "DENY")]),
        HeaderRule::new("assets/*", Some("max-age=60"), []),
        HeaderRule::new("*", None, [("X-A", "1")]),
    ];

    #[test]
    fn rules_pick_the_first_cache_control_and_every_header() {
        let p = Policy {
            rules: RULES,
            ..Policy::DEFAULT
        };
        assert_eq!(p.cache_control("index.html"), Some("no-cache"));
        assert_eq!(p.cache_control("assets/a.css"), Some("max-age=60"));
        assert_eq!(p.cache_control("a.css"), None);
        assert_eq!(p.rules_for("index.html").count(), 2);
        assert!(p.rule_bytes() >= "Cache-Control: no-cache\r\nX-Frame-Options: DENY\r\n".len());
    }

    #[test]
    fn extensions_and_dotfiles() {
        let p = Policy::DEFAULT;
        assert!(p.serves_extension("a/b.CSS"));
        assert!(!p.serves_extension("a/b.exe"));
        assert!(!p.serves_extension("Makefile"));
        let any = Policy {
            allowed_extensions: &["*"],
            ..Policy::DEFAULT
        };
        assert!(any.serves_extension("Makefile"));
        assert!(p.hides(".git/config"));
        assert!(!p.hides(".well-known/x.txt"));
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Policy::DEFAULT.validate(), Ok(()));
        let p = Policy {
            rules: RULES,
            ..Policy::DEFAULT
        };
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn validate_names_the_key() {
        type Case = (fn(&mut Policy<'static>), &'static str, Option<usize>);
        let cases: &[Case] = &[
            (
                |p| p.max_request_bytes = 1023,
                "server.max_request_bytes",
                None,
            ),
            (|p| p.header_timeout_ms = 99, "server.header_timeout", None),
            (
                |p| p.header_timeout_ms = 3_600_001,
                "server.header_timeout",
                None,
            ),
            (
                |p| p.keepalive_timeout_ms = 0,
                "server.keepalive_timeout",
                None,
            ),
            (
                |p| p.keepalive_requests = 0,
                "server.keepalive_requests",
                None,
            ),
            (
                |p| p.server_name = "bad\r\nX: y",
                "server.server_name",
                None,
            ),
            (
                |p| p.allowed_extensions = &[".html", ".css", ".js", "html"],
                "files.allowed_extensions",
                Some(3),
            ),
            (
                |p| p.allowed_extensions = &["."],
                "files.allowed_extensions",
                Some(0),
            ),
            (
                |p| p.allowed_extensions = &["./x"],
                "files.allowed_extensions",
                Some(0),
            ),
            (
                |p| p.allowed_extensions = &[".tar.gz"],
                "files.allowed_extensions",
                Some(0),
            ),
            (
                |p| p.allowed_extensions = &[],
                "files.allowed_extensions",
                None,
            ),
            (
                |p| p.index_files = &["a/index.html"],
                "files.index_files",
                Some(0),
            ),
            (|p| p.index_files = &[".."], "files.index_files", Some(0)),
            (
                |p| p.dotfile_exceptions = &["well-known"],
                "files.dotfile_exceptions",
                Some(0),
            ),
            (
                |p| {
                    p.error_pages = &[
                        ErrorPage {
                            status: 404,
                            path: "404.html",
                        },
                        ErrorPage {
                            status: 200,
                            path: "ok.html",
                        },
                    ]
                },
                "files.error_pages",
                Some(1),
            ),
            (
                |p| {
                    p.error_pages = &[ErrorPage {
                        status: 404,
                        path: "/404.html",
                    }]
                },
                "files.error_pages",
                Some(0),
            ),
            (
                |p| {
                    p.error_pages = &[ErrorPage {
                        status: 500,
                        path: "errors/../../etc/passwd",
                    }]
                },
                "files.error_pages",
                Some(0),
            ),
            (|p| p.fallback = Some(""), "files.fallback", None),
            (
                |p| p.fallback = Some("../index.html"),
                "files.fallback",
                None,
            ),
            (
                |p| p.listing_page_entries = 0,
                "files.listing_page_entries",
                None,
            ),
            (
                |p| p.listing_page_entries = 10_001,
                "files.listing_page_entries",
                None,
            ),
        ];
        for (mutate, key, index) in cases {
            let mut p = Policy::DEFAULT;
            mutate(&mut p);
            let e = p.validate().expect_err(key);
            assert_eq!((e.key, e.index), (*key, *index));
        }
    }

    #[test]
    fn validate_accepts_the_range_edges() {
        let p = Policy {
            max_request_bytes: 1024,
            header_timeout_ms: 100,
            keepalive_timeout_ms: 3_600_000,
            keepalive_requests: 1,
            allowed_extensions: &[ANY_EXTENSION],
            index_files: &[],
            dotfile_exceptions: &[],
            server_name: "",
            ..Policy::DEFAULT
        };
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn validate_rules() {
        const GOOD: HeaderRule<'static> = HeaderRule::new(
            "assets/**",
            Some("public, max-age=31536000, immutable"),
            [
                ("Access-Control-Allow-Origin", "*"),
                ("X-Tab", "tab\tis fine"),
            ],
        );
        let check = |bad: HeaderRule<'static>, key: &str, header: Option<usize>| {
            let rules = [GOOD, bad];
            let p = Policy {
                rules: &rules,
                ..Policy::DEFAULT
            };
            let e = p.validate().expect_err(key);
            assert_eq!((e.key, e.index, e.header), (key, Some(1), header));
        };
        check(HeaderRule::new("", None, []), "rules.pattern", None);
        check(
            HeaderRule::new("*", Some("a\nb"), []),
            "rules.cache_control",
            None,
        );
        check(
            HeaderRule::new("*", Some(""), []),
            "rules.cache_control",
            None,
        );
        for (name, value) in [
            ("Bad Name", "v"),
            ("X:Y", "v"),
            ("", "v"),
            ("X-A", "a\r\nSet-Cookie: x"),
            ("X-A", "a\0b"),
            ("X-A", "del\u{7f}"),
            ("content-length", "1"),
            ("Transfer-Encoding", "chunked"),
        ] {
            check(
                HeaderRule::new("*", None, [("X-Ok", "1"), (name, value)]),
                "rules.headers",
                Some(1),
            );
        }
        let rules = [GOOD, GOOD];
        let p = Policy {
            rules: &rules,
            ..Policy::DEFAULT
        };
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn error_display() {
        let e = err("files.allowed_extensions", Some(2), "must start with '.'");
        assert_eq!(
            std::format!("{e}"),
            "files.allowed_extensions[2]: must start with '.'"
        );
        let e = err(
            "server.header_timeout",
            None,
            "must be between 0.1 and 3600 seconds",
        );
        assert_eq!(
            std::format!("{e}"),
            "server.header_timeout: must be between 0.1 and 3600 seconds"
        );
        let e = header_err(1, 0, "bad");
        assert_eq!(std::format!("{e}"), "rules[1].headers[0]: bad");
    }

    #[test]
    fn fingerprints_are_hashes_in_the_name_and_nothing_else() {
        for hashed in [
            "app.3f9a1c2e.js",
            "assets/chunk-5QZ2X7.css",
            "main.a1b2c3d4e5f6a7b8.css",
            "index-D7e9qXkz.js",
            "logo.3F9A1C2E.svg",
            "vendor.min.0123abcd.js",
        ] {
            assert!(fingerprinted(hashed), "{hashed}");
        }
        for plain in [
            "app.js",
            "site.min.css",
            "jquery-3.7.1.js",
            "photo-20240101.jpg",
            "3f9a1c2e.js",
            "3f9a1c2e",
            "app.3f9a1c2.js",
            "chunk-5QZ2X.css",
            "chart-v2beta1.js",
            "abcdefgh.deadbeef",
            "deadbeef/app.js",
            "dir.3f9a1c2e/app.js",
            "report-Quarterly.pdf",
        ] {
            assert!(!fingerprinted(plain), "{plain}");
        }
    }

    #[test]
    fn cache_defaults_know_fingerprints_html_and_the_rest_and_rules_win() {
        let p = Policy::DEFAULT;
        assert_eq!(
            p.cache_control_for("app.3f9a1c2e.js", "text/javascript"),
            Some(CACHE_FINGERPRINTED)
        );
        assert_eq!(
            p.cache_control_for("index.html", "text/html; charset=utf-8"),
            Some(CACHE_HTML)
        );
        assert_eq!(p.cache_control_for("a.png", "image/png"), Some(CACHE_OTHER));
        let ruled = Policy {
            rules: RULES,
            ..Policy::DEFAULT
        };
        assert_eq!(
            ruled.cache_control_for("assets/app.3f9a1c2e.js", "text/javascript"),
            Some("max-age=60")
        );
        let off = Policy {
            cache_defaults: false,
            ..Policy::DEFAULT
        };
        assert_eq!(
            off.cache_control_for("app.3f9a1c2e.js", "text/javascript"),
            None
        );
        assert_eq!(off.cache_control_for("index.html", "text/html"), None);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_blob_gives_back_the_policy() {
        let p = Policy {
            error_pages: &[ErrorPage {
                status: 404,
                path: "404.html",
            }],
            fallback: Some("index.html"),
            listing: true,
            rules: RULES,
            ..Policy::DEFAULT
        };
        let mut buf = [0u8; 1024];
        let blob = PolicyBlob::from_policy(&p).unwrap();
        let bytes = postcard::to_slice(&blob, &mut buf).unwrap();
        let read = PolicyBlob::from_bytes(bytes).unwrap();
        assert_eq!(read.policy(), p);
    }
}
