//! The serving policy: everything a [`Connection`](crate::conn::Connection) and the response
//! decision ([`respond`](crate::respond::respond)) need from the settings, and nothing a desktop
//! alone needs (addresses, threads, log paths).
//!
//! A [`Policy`] only borrows, so a device builds one in a `const` or reads one from a postcard blob
//! in flash ([`PolicyBlob`], feature `serde`) without a large value on its stack. The std server
//! builds one borrowing from its TOML settings.
//!
//! ```
//! use staticd_core::policy::{HeaderRule, Policy};
//!
//! const RULES: &[HeaderRule<'static>] = &[HeaderRule::new("*.html", Some("no-cache"), [])];
//! const POLICY: Policy<'static> = Policy {
//!     server_name: "staticd-device",
//!     rules: RULES,
//!     ..Policy::DEFAULT
//! };
//! assert_eq!(POLICY.header_timeout_ms, 10_000);
//! assert!(POLICY.serves_extension("index.html"));
//! ```

use crate::glob::glob_match;
use crate::mime::extension_allowed;

/// Extensions served by [`Policy::DEFAULT`]: the same list as the settings' default.
pub const DEFAULT_EXTENSIONS: &[&str] = crate::config::DEFAULT_ALLOWED_EXTENSIONS;

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
    /// Extra `(name, value)` header fields. Names are tokens and values have no CR, LF or NUL:
    /// whoever builds the rule checks that (the std server's settings validation does).
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

/// What a connection is allowed to do and serve. Times are milliseconds on the caller's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy<'a> {
    /// The `Server` header value (no CR, LF or NUL).
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
}

impl Policy<'static> {
    /// The built-in defaults: the same values the std server documents for an empty settings file.
    pub const DEFAULT: Policy<'static> = Policy {
        server_name: "staticd",
        max_request_bytes: 8192,
        header_timeout_ms: 10_000,
        keepalive_timeout_ms: 5_000,
        keepalive_requests: 1000,
        allowed_extensions: DEFAULT_EXTENSIONS,
        index_files: &["index.html"],
        deny_dotfiles: true,
        dotfile_exceptions: &[".well-known"],
        rules: &[],
    };
}

impl Default for Policy<'static> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Policy<'_> {
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
}

#[cfg(feature = "serde")]
impl<'a> PolicyBlob<'a> {
    /// Reads a blob written by `postcard::to_slice` of a [`PolicyBlob`], borrowing `bytes`.
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

    #[cfg(feature = "serde")]
    #[test]
    fn a_blob_gives_back_the_policy() {
        let p = Policy {
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
