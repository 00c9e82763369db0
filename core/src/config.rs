//! The settings, shared by the std server (read from TOML) and a device (stored as a postcard blob).
//!
//! Every type here is fixed-capacity (`heapless`), so a device can hold a `Config` without a heap.
//! With the `serde` feature the types derive `Serialize`/`Deserialize`: unknown keys are refused
//! (`deny_unknown_fields`) and every key is optional (`#[serde(default)]`), except a rule's `pattern`.
//!
//! Note the size: with the capacities below a `Config` is about 50 KiB, almost all of it the
//! sixteen `[[rules]]` with eight headers each. A device that keeps one should keep it in a `static`.

use core::fmt;

use heapless::string::StringView;
use heapless::vec::VecView;
use heapless::{String, Vec};

/// Maximum number of `[[rules]]` tables.
pub const MAX_RULES: usize = 16;
/// Maximum number of extra headers in one rule.
pub const MAX_RULE_HEADERS: usize = 8;
/// Maximum number of entries in `files.allowed_extensions`.
pub const MAX_EXTENSIONS: usize = 64;
/// Maximum number of entries in `files.index_files`.
pub const MAX_INDEX_FILES: usize = 4;
/// Maximum number of entries in `files.dotfile_exceptions`.
pub const MAX_DOTFILE_EXCEPTIONS: usize = 8;

/// The whole configuration: `[server]`, `[files]`, `[log]` and `[[rules]]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Listening, limits and timers.
    pub server: ServerConfig,
    /// What may be served from the root.
    pub files: FilesConfig,
    /// Where the logs go.
    pub log: LogConfig,
    /// Per-pattern response headers, first match wins for `cache_control`, all matches add `headers`.
    pub rules: Vec<Rule, MAX_RULES>,
}

/// The `[server]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerConfig {
    /// Address to listen on. Default `"127.0.0.1"`.
    pub host: String<64>,
    /// TCP port; 0 binds a free port. Default 8080.
    pub port: u16,
    /// The served directory. Default `"."` (the std server resolves it against the config file's folder).
    pub root: String<256>,
    /// Largest request head in bytes (and largest request body). Default 8192, at least 1024.
    pub max_request_bytes: u32,
    /// Worker threads, at least 1. Default `None`: one per core, which only the std server can count.
    pub threads: Option<u16>,
    /// How long an idle keep-alive connection is kept. Default 5 s, from 0.1 s to 3600 s.
    pub keepalive_timeout: Seconds,
    /// Requests served on one connection before it is closed. Default 1000, at least 1.
    pub keepalive_requests: u32,
    /// Time from accept until the request head is complete. Default 10 s, from 0.1 s to 3600 s.
    pub header_timeout: Seconds,
    /// Value of the `Server` response header. Default `"staticd"`.
    pub server_name: String<64>,
    /// Open connections above which new ones are refused. Default 16384, at least 1 (issue 5:
    /// a new client is still served while 10,000 idle connections are held).
    pub max_connections: u32,
}

/// The `[files]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FilesConfig {
    /// Extensions that may be served, with the leading dot (`".html"`), matched case-insensitively;
    /// `"*"` ([`ANY_EXTENSION`]) serves every file. Never empty. Default
    /// [`DEFAULT_ALLOWED_EXTENSIONS`].
    pub allowed_extensions: Vec<String<16>, MAX_EXTENSIONS>,
    /// File names tried, in order, for a directory. Default `["index.html"]`.
    pub index_files: Vec<String<64>, MAX_INDEX_FILES>,
    /// Which symbolic links are followed. Default `"inside-root"`.
    pub follow_symlinks: Symlinks,
    /// Refuse any path with a segment starting with `.`. Default true.
    pub deny_dotfiles: bool,
    /// Dot-segments that are served even so. Default `[".well-known"]`.
    pub dotfile_exceptions: Vec<String<32>, MAX_DOTFILE_EXCEPTIONS>,
}

/// The `[log]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LogConfig {
    /// Access log path, `"-"` for stdout. Default `"-"`.
    pub access_log: String<256>,
    /// Error log path, `"-"` for stderr. Default `"-"`.
    pub error_log: String<256>,
    /// The access log's line format. Default `"combined"`.
    pub format: AccessLogFormat,
}

/// The `log.format` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AccessLogFormat {
    /// The Combined Log Format, one line per request.
    #[default]
    Combined,
    /// JSON lines: one object per request with the Combined fields, the response time and bytes.
    Json,
}

/// One `[[rules]]` table: headers added to responses for files whose relative path matches `pattern`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rule {
    /// A glob over the path relative to the root (see [`crate::glob::glob_match`]). Required.
    pub pattern: String<128>,
    /// `Cache-Control` value for matching files.
    #[cfg_attr(feature = "serde", serde(default))]
    pub cache_control: Option<String<128>>,
    /// Extra headers, written in TOML as a table: `headers = { "X-Frame-Options" = "DENY" }`.
    #[cfg_attr(feature = "serde", serde(default, with = "header_table"))]
    pub headers: Vec<(String<64>, String<256>), MAX_RULE_HEADERS>,
}

/// The `follow_symlinks` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Symlinks {
    /// Never follow a symbolic link.
    Never,
    /// Follow a link only when its target stays inside the root.
    #[default]
    InsideRoot,
    /// Follow every link.
    Always,
}

/// A duration in whole milliseconds, written in the config as a number of seconds (`5`, `5.0`, `0.5`).
///
/// Serialized as an `f64` number of seconds. Deserialization goes through `deserialize_f64` (postcard
/// is not self-describing and must be told the type) with a visitor that also takes integers (TOML
/// gives `5` as an integer). Fractions are rounded to the nearest millisecond; values too large for
/// `u32` milliseconds saturate, so [`Config::validate`] reports them with the key's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Seconds {
    millis: u32,
}

impl Seconds {
    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u32) -> Self {
        Self { millis }
    }

    /// A duration of `secs` whole seconds, saturating at `u32::MAX` milliseconds.
    pub const fn from_secs(secs: u32) -> Self {
        Self {
            millis: secs.saturating_mul(1000),
        }
    }

    /// The duration in milliseconds.
    pub const fn as_millis(self) -> u32 {
        self.millis
    }

    /// The duration as a `core::time::Duration`.
    pub const fn as_duration(self) -> core::time::Duration {
        core::time::Duration::from_millis(self.millis as u64)
    }

    /// The duration in seconds as a float (the serialized form): the `f64` nearest to
    /// `millis / 1000`, exactly as `f64::from(millis) / 1000.0` gives it. Only serde needs it,
    /// so a device that builds its config in code does not link it.
    #[cfg(any(feature = "serde", test))]
    fn as_secs_f64(self) -> f64 {
        // Integer arithmetic only: thumbv7em has no double-precision FPU, and the soft-float
        // division and conversion would cost a device about 1 KiB of code for this one line.
        let millis = u64::from(self.millis);
        if millis == 0 {
            return 0.0;
        }
        // Scale so the top bit is bit 63; the quotient then has 54 or 55 significant bits, one or
        // two more than the 53 of an f64 mantissa, and the remainder is the sticky bit.
        let shift = millis.leading_zeros();
        let (quotient, remainder) = crate::write::div_rem_small(millis << shift, 1000);
        let extra = 11 - quotient.leading_zeros(); // 1 or 2 bits below the mantissa
        let mut mantissa = quotient >> extra;
        let dropped = quotient & ((1 << extra) - 1);
        let half = 1 << (extra - 1);
        // Round to nearest, ties to even (IEEE 754), as the division by 1000.0 would.
        if dropped > half || (dropped == half && (remainder != 0 || mantissa & 1 == 1)) {
            mantissa += 1;
        }
        // A carry out of the mantissa only changes the exponent: the field below absorbs it.
        let exponent = u64::from(1075 + extra) - u64::from(shift);
        f64::from_bits((exponent << 52) + mantissa - (1 << 52))
    }

    /// Converts a number of seconds, rounding half up to the nearest millisecond and saturating at
    /// `u32::MAX` milliseconds (+infinity included); `None` for NaN or a negative value.
    #[cfg(any(feature = "serde", test))]
    fn from_secs_f64(secs: f64) -> Option<Self> {
        // Integer arithmetic on the IEEE 754 fields: no soft-float code on a device (see above).
        let bits = secs.to_bits();
        let exponent = (bits >> 52) & 0x7ff;
        let fraction = bits & ((1 << 52) - 1);
        if exponent == 0x7ff && fraction != 0 {
            return None; // NaN
        }
        if secs.is_sign_negative() {
            // -0.0 is zero; any other negative value is refused.
            return (bits << 1 == 0).then_some(Self { millis: 0 });
        }
        // secs = significand * 2^(exponent - 1075); subnormals have no implicit bit and exponent 1.
        let (significand, exponent) = match exponent {
            0 => (fraction, 1),
            e => (fraction | (1 << 52), e),
        };
        // secs * 1000 = significand * 1000 / 2^shift, and significand * 1000 < 2^63.
        let scaled = significand * 1000;
        let millis = match 1075u64.checked_sub(exponent) {
            // secs >= 2^52 (or infinite): far beyond u32::MAX milliseconds.
            None | Some(0) => u64::MAX,
            // scaled < 2^63, so secs * 1000 < 1/2: rounds to zero.
            Some(64..) => 0,
            Some(shift) => (scaled >> shift) + ((scaled >> (shift - 1)) & 1),
        };
        // Too large for u32 saturates, so validate() reports it with the key's name.
        Some(Self {
            millis: u32::try_from(millis).unwrap_or(u32::MAX),
        })
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Seconds {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_secs_f64())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl serde::de::Visitor<'_> for SecondsVisitor {
            type Value = Seconds;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number of seconds (integer or fraction)")
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Seconds, E> {
                Seconds::from_secs_f64(v)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Float(v), &self))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Seconds, E> {
                let secs = u32::try_from(v).unwrap_or(u32::MAX);
                Ok(Seconds::from_secs(secs))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Seconds, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self)),
                }
            }
        }

        deserializer.deserialize_f64(SecondsVisitor)
    }
}

/// `Rule::headers` as a map (a TOML table), keeping the order of the entries.
#[cfg(feature = "serde")]
mod header_table {
    use core::fmt;
    use core::marker::PhantomData;

    use heapless::{String, Vec};
    use serde::de::{Error as _, MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer, const K: usize, const V: usize, const N: usize>(
        headers: &Vec<(String<K>, String<V>), N>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(headers.len()))?;
        for (name, value) in headers {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }

    pub fn deserialize<
        'de,
        D: Deserializer<'de>,
        const K: usize,
        const V: usize,
        const N: usize,
    >(
        deserializer: D,
    ) -> Result<Vec<(String<K>, String<V>), N>, D::Error> {
        struct TableVisitor<const K: usize, const V: usize, const N: usize>(PhantomData<()>);

        impl<'de, const K: usize, const V: usize, const N: usize> Visitor<'de> for TableVisitor<K, V, N> {
            type Value = Vec<(String<K>, String<V>), N>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a table of at most {N} header names and values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut headers = Vec::new();
                while let Some(entry) = map.next_entry::<String<K>, String<V>>()? {
                    if headers.push(entry).is_err() {
                        return Err(A::Error::invalid_length(N.saturating_add(1), &self));
                    }
                }
                Ok(headers)
            }
        }

        deserializer.deserialize_map(TableVisitor::<K, V, N>(PhantomData))
    }
}

/// Sets a string field to a compile-time default; every default fits (the defaults test proves
/// it). Through the unsized view, so one copy of the code serves every capacity.
fn set_default(field: &mut StringView, value: &str) {
    field.clear();
    let _ = field.push_str(value);
}

/// The default `files.allowed_extensions`: what a web site serves — pages, styles, scripts,
/// data and feeds, images, fonts, audio, video, subtitles, documents and downloads. Executables,
/// scripts of other languages, sources and backups are not in it.
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

/// The `files.allowed_extensions` entry that allows every file, with or without an extension.
pub const ANY_EXTENSION: &str = "*";

impl Default for ServerConfig {
    fn default() -> Self {
        let mut server = Self {
            host: String::new(),
            port: 8080,
            root: String::new(),
            max_request_bytes: 8192,
            threads: None,
            keepalive_timeout: Seconds::from_secs(5),
            keepalive_requests: 1000,
            header_timeout: Seconds::from_secs(10),
            server_name: String::new(),
            max_connections: 16_384,
        };
        set_default(server.host.as_mut_view(), "127.0.0.1");
        set_default(server.root.as_mut_view(), ".");
        set_default(server.server_name.as_mut_view(), "staticd");
        server
    }
}

impl Default for FilesConfig {
    fn default() -> Self {
        let mut files = Self {
            allowed_extensions: Vec::new(),
            index_files: Vec::new(),
            follow_symlinks: Symlinks::InsideRoot,
            deny_dotfiles: true,
            dotfile_exceptions: Vec::new(),
        };
        for ext in DEFAULT_ALLOWED_EXTENSIONS {
            push_default(files.allowed_extensions.as_mut_view(), ext);
        }
        push_default(files.index_files.as_mut_view(), "index.html");
        push_default(files.dotfile_exceptions.as_mut_view(), ".well-known");
        files
    }
}

/// Appends a default to a list of strings (the capacity of the list and of its strings fit every
/// default: tested).
fn push_default<const N: usize>(list: &mut VecView<String<N>>, value: &str) {
    if list.push(String::new()).is_ok()
        && let Some(last) = list.last_mut()
    {
        set_default(last.as_mut_view(), value);
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        let mut log = Self {
            access_log: String::new(),
            error_log: String::new(),
            format: AccessLogFormat::Combined,
        };
        set_default(log.access_log.as_mut_view(), "-");
        set_default(log.error_log.as_mut_view(), "-");
        log
    }
}

/// A value that [`Config::validate`] refused: which key, which entry of a list, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConfigError {
    /// The dotted key, e.g. `"server.header_timeout"` or `"rules.headers"`.
    pub key: &'static str,
    /// For a list (`files.allowed_extensions`, `rules`), the zero-based entry at fault.
    pub index: Option<usize>,
    /// For `rules.headers`, the zero-based header of that rule at fault.
    pub header: Option<usize>,
    /// What is wrong, as a phrase that follows the key: `"must be at least 1024"`.
    pub reason: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
impl std::error::Error for ConfigError {}

/// Smallest accepted `server.max_request_bytes`.
pub const MIN_REQUEST_BYTES: u32 = 1024;
/// Accepted range of every timeout, in milliseconds (0.1 s to 3600 s).
pub const TIMEOUT_RANGE_MS: core::ops::RangeInclusive<u32> = 100..=3_600_000;

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

fn err(key: &'static str, index: Option<usize>, reason: &'static str) -> ConfigError {
    ConfigError {
        key,
        index,
        header: None,
        reason,
    }
}

fn header_err(rule: usize, header: usize, reason: &'static str) -> ConfigError {
    ConfigError {
        header: Some(header),
        ..err("rules.headers", Some(rule), reason)
    }
}

/// RFC 9110 §5.6.2 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(crate::parse::tchar)
}

/// RFC 9110 §5.5 `field-value`: no control bytes except HTAB (so no CR, LF or NUL), no DEL.
pub(crate) fn is_field_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A file name usable as one path segment: not empty, not `.` or `..`, no separators or NUL.
fn is_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.bytes().any(|b| matches!(b, b'/' | b'\\' | 0))
}

impl Config {
    /// Checks every value against its documented range; the error names the first offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        self.files.validate()?;
        self.log.validate()?;
        for (i, rule) in self.rules.iter().enumerate() {
            rule.validate(i)?;
        }
        Ok(())
    }
}

impl ServerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.host.is_empty() {
            return Err(err("server.host", None, "must not be empty"));
        }
        if self.root.is_empty() {
            return Err(err("server.root", None, "must not be empty"));
        }
        if self.max_request_bytes < MIN_REQUEST_BYTES {
            return Err(err(
                "server.max_request_bytes",
                None,
                "must be at least 1024",
            ));
        }
        if !TIMEOUT_RANGE_MS.contains(&self.keepalive_timeout.as_millis()) {
            return Err(err(
                "server.keepalive_timeout",
                None,
                "must be between 0.1 and 3600 seconds",
            ));
        }
        if !TIMEOUT_RANGE_MS.contains(&self.header_timeout.as_millis()) {
            return Err(err(
                "server.header_timeout",
                None,
                "must be between 0.1 and 3600 seconds",
            ));
        }
        if self.keepalive_requests < 1 {
            return Err(err("server.keepalive_requests", None, "must be at least 1"));
        }
        // A missing `threads` means one per core; a written one is at least 1.
        if self.threads == Some(0) {
            return Err(err("server.threads", None, "must be at least 1"));
        }
        if self.max_connections < 1 {
            return Err(err("server.max_connections", None, "must be at least 1"));
        }
        if !is_field_value(&self.server_name) {
            return Err(err(
                "server.server_name",
                None,
                "must not contain control characters (CR, LF, NUL)",
            ));
        }
        Ok(())
    }
}

impl FilesConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.allowed_extensions.is_empty() {
            // An empty list would answer 403 to every file: surely not what was meant.
            return Err(err(
                "files.allowed_extensions",
                None,
                "must not be empty: list the extensions to serve, or [\"*\"] to serve every file",
            ));
        }
        for (i, ext) in self.allowed_extensions.iter().enumerate() {
            if ext == ANY_EXTENSION {
                continue;
            }
            let rest = ext.strip_prefix('.');
            match rest {
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
        Ok(())
    }
}

impl LogConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.access_log.is_empty() {
            return Err(err(
                "log.access_log",
                None,
                "must not be empty (\"-\" is stdout)",
            ));
        }
        if self.error_log.is_empty() {
            return Err(err(
                "log.error_log",
                None,
                "must not be empty (\"-\" is stderr)",
            ));
        }
        Ok(())
    }
}

impl Rule {
    fn validate(&self, index: usize) -> Result<(), ConfigError> {
        if self.pattern.is_empty() {
            return Err(err("rules.pattern", Some(index), "must not be empty"));
        }
        if let Some(cc) = &self.cache_control
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

/// Serializes `config` as postcard into `buf`, returning the used prefix.
///
/// A `Config` with every list full needs tens of KiB; the defaults need well under 1 KiB.
#[cfg(feature = "serde")]
pub fn to_postcard<'a>(
    config: &Config,
    buf: &'a mut [u8],
) -> Result<&'a mut [u8], postcard::Error> {
    postcard::to_slice(config, buf)
}

/// Reads a `Config` from a postcard blob written by [`to_postcard`]. Call [`Config::validate`] after.
#[cfg(feature = "serde")]
pub fn from_postcard(bytes: &[u8]) -> Result<Config, postcard::Error> {
    postcard::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s<const N: usize>(v: &str) -> String<N> {
        let mut out = String::new();
        assert!(out.push_str(v).is_ok(), "test literal too long: {v}");
        out
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.server.host.as_str(), "127.0.0.1");
        assert_eq!(c.server.port, 8080);
        assert_eq!(c.server.root.as_str(), ".");
        assert_eq!(c.server.max_request_bytes, 8192);
        assert_eq!(c.server.threads, None);
        assert_eq!(c.server.keepalive_timeout.as_millis(), 5000);
        assert_eq!(c.server.keepalive_requests, 1000);
        assert_eq!(c.server.header_timeout.as_millis(), 10_000);
        assert_eq!(c.server.server_name.as_str(), "staticd");
        assert_eq!(c.server.max_connections, 16_384);
        let exts: std::vec::Vec<&str> = c
            .files
            .allowed_extensions
            .iter()
            .map(|e| e.as_str())
            .collect();
        assert_eq!(exts, DEFAULT_ALLOWED_EXTENSIONS);
        assert_eq!(c.files.index_files.len(), 1);
        assert_eq!(c.files.index_files[0].as_str(), "index.html");
        assert_eq!(c.files.follow_symlinks, Symlinks::InsideRoot);
        assert!(c.files.deny_dotfiles);
        assert_eq!(c.files.dotfile_exceptions[0].as_str(), ".well-known");
        assert_eq!(c.log.access_log.as_str(), "-");
        assert_eq!(c.log.error_log.as_str(), "-");
        assert_eq!(c.log.format, AccessLogFormat::Combined);
        assert!(c.rules.is_empty());
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn seconds_conversions() {
        assert_eq!(Seconds::from_secs_f64(0.5), Some(Seconds::from_millis(500)));
        assert_eq!(Seconds::from_secs_f64(0.1), Some(Seconds::from_millis(100)));
        assert_eq!(Seconds::from_secs_f64(5.0), Some(Seconds::from_secs(5)));
        assert_eq!(
            Seconds::from_secs_f64(0.0004),
            Some(Seconds::from_millis(0))
        );
        assert_eq!(Seconds::from_secs_f64(-1.0), None);
        assert_eq!(Seconds::from_secs_f64(f64::NAN), None);
        assert_eq!(
            Seconds::from_secs_f64(1e12),
            Some(Seconds::from_millis(u32::MAX))
        );
        assert_eq!(Seconds::from_secs(u32::MAX).as_millis(), u32::MAX);
        assert_eq!(Seconds::from_millis(1500).as_secs_f64(), 1.5);
        assert_eq!(
            Seconds::from_millis(1500).as_duration(),
            core::time::Duration::from_millis(1500)
        );
    }

    #[test]
    fn seconds_to_float_is_the_correctly_rounded_quotient() {
        // Against the hardware division it replaces: every millisecond up to 200 s, then a spread
        // to u32::MAX.
        let mut millis = 0u32;
        loop {
            let want = f64::from(millis) / 1000.0;
            assert_eq!(Seconds::from_millis(millis).as_secs_f64(), want, "{millis}");
            let step = if millis < 200_000 { 1 } else { 7919 };
            match millis.checked_add(step) {
                Some(next) => millis = next,
                None => break,
            }
        }
        assert_eq!(Seconds::from_millis(u32::MAX).as_secs_f64(), 4_294_967.295);
        assert_eq!(Seconds::from_millis(1).as_secs_f64(), 0.001);
    }

    #[test]
    fn float_to_seconds_rounds_half_up_and_saturates() {
        // Exact ties (k + 0.5 ms is representable when k + 0.5 = n / 2^j) round up.
        assert_eq!(
            Seconds::from_secs_f64(0.0625).map(Seconds::as_millis),
            Some(63)
        );
        assert_eq!(
            Seconds::from_secs_f64(0.1875).map(Seconds::as_millis),
            Some(188)
        );
        assert_eq!(
            Seconds::from_secs_f64(-0.0).map(Seconds::as_millis),
            Some(0)
        );
        assert_eq!(
            Seconds::from_secs_f64(f64::MIN_POSITIVE).map(Seconds::as_millis),
            Some(0)
        );
        assert_eq!(
            Seconds::from_secs_f64(5e-324).map(Seconds::as_millis),
            Some(0)
        );
        assert_eq!(Seconds::from_secs_f64(-5e-324), None);
        assert_eq!(Seconds::from_secs_f64(f64::NEG_INFINITY), None);
        assert_eq!(Seconds::from_secs_f64(-f64::NAN), None);
        let max = Some(u32::MAX);
        assert_eq!(
            Seconds::from_secs_f64(f64::INFINITY).map(Seconds::as_millis),
            max
        );
        assert_eq!(
            Seconds::from_secs_f64(f64::MAX).map(Seconds::as_millis),
            max
        );
        assert_eq!(
            Seconds::from_secs_f64(4_294_967.295).map(Seconds::as_millis),
            max
        );
        assert_eq!(
            Seconds::from_secs_f64(4_294_967.294).map(Seconds::as_millis),
            Some(u32::MAX - 1)
        );
        // Away from ties the float formula it replaces is exact enough to be the oracle: every
        // k / 1000 and k / 1000 + a third of a millisecond, and a spread of bit patterns.
        let float_formula = |secs: f64| (secs * 1000.0 + 0.5) as u32;
        for k in 0..2_000_000u32 {
            for secs in [f64::from(k) / 1000.0, (f64::from(k) + 0.3) / 1000.0] {
                let got = Seconds::from_secs_f64(secs).map(Seconds::as_millis);
                assert_eq!(got, Some(float_formula(secs)), "{secs}");
            }
        }
        let mut bits = 0x3ff0_0000_0000_0001u64;
        for _ in 0..200_000 {
            bits = bits
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let secs = f64::from_bits(bits >> 1); // positive, any exponent
            if secs.is_nan() || ((secs * 1000.0).fract() - 0.5).abs() < 1e-6 {
                continue;
            }
            let got = Seconds::from_secs_f64(secs).map(Seconds::as_millis);
            assert_eq!(got, Some(float_formula(secs)), "{secs:e}");
        }
    }

    #[test]
    fn validate_names_the_key() {
        type Case = (fn(&mut Config), &'static str);
        let cases: &[Case] = &[
            (
                |c| c.server.max_request_bytes = 1023,
                "server.max_request_bytes",
            ),
            (
                |c| c.server.header_timeout = Seconds::from_millis(99),
                "server.header_timeout",
            ),
            (
                |c| c.server.header_timeout = Seconds::from_millis(3_600_001),
                "server.header_timeout",
            ),
            (
                |c| c.server.keepalive_timeout = Seconds::from_millis(0),
                "server.keepalive_timeout",
            ),
            (
                |c| c.server.keepalive_requests = 0,
                "server.keepalive_requests",
            ),
            (|c| c.server.max_connections = 0, "server.max_connections"),
            (|c| c.server.threads = Some(0), "server.threads"),
            (|c| c.server.host = String::new(), "server.host"),
            (|c| c.server.root = String::new(), "server.root"),
            (
                |c| c.server.server_name = s("bad\r\nX: y"),
                "server.server_name",
            ),
            (
                |c| c.files.allowed_extensions[3] = s("html"),
                "files.allowed_extensions",
            ),
            (
                |c| c.files.allowed_extensions[0] = s("."),
                "files.allowed_extensions",
            ),
            (
                |c| c.files.allowed_extensions[0] = s("./x"),
                "files.allowed_extensions",
            ),
            (
                |c| c.files.index_files[0] = s("a/index.html"),
                "files.index_files",
            ),
            (|c| c.files.index_files[0] = s(".."), "files.index_files"),
            (
                |c| c.files.dotfile_exceptions[0] = s("well-known"),
                "files.dotfile_exceptions",
            ),
            (
                |c| c.files.allowed_extensions.clear(),
                "files.allowed_extensions",
            ),
            (|c| c.log.access_log = String::new(), "log.access_log"),
            (|c| c.log.error_log = String::new(), "log.error_log"),
        ];
        for (mutate, key) in cases {
            let mut c = Config::default();
            mutate(&mut c);
            let e = c.validate().expect_err(key);
            assert_eq!(e.key, *key);
        }
    }

    #[test]
    fn validate_accepts_the_range_edges() {
        let mut c = Config::default();
        c.server.max_request_bytes = 1024;
        c.server.header_timeout = Seconds::from_millis(100);
        c.server.keepalive_timeout = Seconds::from_secs(3600);
        c.server.keepalive_requests = 1;
        c.server.max_connections = 1;
        c.server.threads = Some(1);
        c.files.allowed_extensions.clear();
        assert!(c.files.allowed_extensions.push(s(ANY_EXTENSION)).is_ok());
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn validate_rules() {
        let mut rule = Rule {
            pattern: s("assets/**"),
            cache_control: Some(s("public, max-age=31536000, immutable")),
            headers: Vec::new(),
        };
        assert!(
            rule.headers
                .push((s("Access-Control-Allow-Origin"), s("*")))
                .is_ok()
        );
        let mut c = Config::default();
        assert!(c.rules.push(rule.clone()).is_ok());
        assert!(c.rules.push(rule.clone()).is_ok());
        assert_eq!(c.validate(), Ok(()));

        let check = |edit: fn(&mut Rule), key: &str| {
            let mut c = c.clone();
            if let Some(r) = c.rules.get_mut(1) {
                edit(r);
            }
            let e = c.validate().expect_err(key);
            assert_eq!((e.key, e.index), (key, Some(1)));
            if key == "rules.headers" {
                assert_eq!(e.header, Some(0));
                assert!(
                    std::format!("{e}").starts_with("rules[1].headers[0]: "),
                    "{e}"
                );
            } else {
                assert_eq!(e.header, None);
            }
        };
        check(|r| r.pattern = String::new(), "rules.pattern");
        check(|r| r.cache_control = Some(s("a\nb")), "rules.cache_control");
        check(
            |r| r.cache_control = Some(String::new()),
            "rules.cache_control",
        );
        check(|r| r.headers[0].0 = s("Bad Name"), "rules.headers");
        check(|r| r.headers[0].0 = s("X:Y"), "rules.headers");
        check(|r| r.headers[0].0 = String::new(), "rules.headers");
        check(
            |r| r.headers[0].1 = s("a\r\nSet-Cookie: x"),
            "rules.headers",
        );
        check(|r| r.headers[0].1 = s("a\0b"), "rules.headers");
        check(|r| r.headers[0].0 = s("content-length"), "rules.headers");
        check(|r| r.headers[0].0 = s("Transfer-Encoding"), "rules.headers");
        rule.headers[0].1 = s("tab\tis fine");
        c.rules[1] = rule;
        assert_eq!(c.validate(), Ok(()));
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
    }

    #[cfg(feature = "serde")]
    #[test]
    fn postcard_round_trip_of_defaults_and_rules() {
        let mut c = Config::default();
        c.server.header_timeout = Seconds::from_millis(250);
        let mut rule = Rule {
            pattern: s("*.html"),
            cache_control: Some(s("no-cache")),
            headers: Vec::new(),
        };
        assert!(rule.headers.push((s("X-Frame-Options"), s("DENY"))).is_ok());
        assert!(rule.headers.push((s("A-Second"), s("value"))).is_ok());
        assert!(c.rules.push(rule).is_ok());
        let mut buf = [0u8; 4096];
        let used = to_postcard(&c, &mut buf).map(|b| b.len());
        let used = used.expect("fits");
        let back = from_postcard(&buf[..used]).expect("decodes");
        assert_eq!(back, c);
        // Truncated blobs are an error, not a panic.
        for cut in 0..used {
            assert!(from_postcard(&buf[..cut]).is_err(), "cut at {cut}");
        }
    }
}
