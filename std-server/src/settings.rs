//! The settings file's types, read from TOML: `[server]`, `[files]`, `[log]`, `[[rules]]`,
//! `[metrics]` and `[proxy]`, their defaults, and the checks of what only the desktop server has
//! (address, root, threads, connections, log paths, the metrics listener, trusted balancers).
//!
//! Unknown keys are refused (`deny_unknown_fields`) and every key is optional (`#[serde(default)]`),
//! except a rule's `pattern`. The serving part of the settings becomes the core's [`Policy`]
//! ([`crate::policy::PolicyLists`]), and [`Config::validate`] checks it with [`Policy::validate`],
//! the same check a device runs on the policy blob it reads from flash.

use std::fmt;

use serde::Deserialize;
use staticd_core::policy::{
    DEFAULT_ALLOWED_EXTENSIONS, ERROR_PAGE_STATUSES, MAX_RULE_HEADERS, Policy, PolicyError,
};

use crate::policy::PolicyLists;

/// The whole settings file: `[server]`, `[files]`, `[log]` and `[[rules]]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listening, limits and timers.
    pub server: ServerConfig,
    /// What may be served from the root.
    pub files: FilesConfig,
    /// Where the logs go.
    pub log: LogConfig,
    /// Per-pattern response headers, first match wins for `cache_control`, all matches add `headers`.
    pub rules: Vec<Rule>,
    /// The health endpoint and Prometheus metrics, on a listener of their own. Off by default.
    pub metrics: MetricsConfig,
    /// Balancers in front: which peers may name the client (PROXY protocol, X-Forwarded-For).
    pub proxy: ProxyConfig,
}

/// The `[proxy]` table: peers trusted to say who the client is, and how they say it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// IP addresses and CIDR blocks (`"10.0.0.0/8"`, `"2001:db8::/32"`) of the balancers. Default
    /// empty: no peer is trusted.
    pub trusted: Vec<String>,
    /// The PROXY protocol header from trusted peers. Default `"off"`.
    pub protocol: ProxyProtocol,
    /// Take the client from `X-Forwarded-For` sent by trusted peers. Default false.
    pub forwarded_for: bool,
}

/// The `proxy.protocol` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyProtocol {
    /// No peer's bytes are read as a PROXY header.
    #[default]
    Off,
    /// A trusted peer's connection must open with a PROXY header (v1 or v2), or it is closed.
    Required,
    /// A trusted peer's connection may open with a PROXY header; without one the peer is the client.
    Optional,
}

/// The `[metrics]` table: `/health` and `/metrics` on their own address, never files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve the metrics listener. Default false.
    pub enabled: bool,
    /// Address of the metrics listener. Default `"127.0.0.1"`.
    pub host: String,
    /// Port of the metrics listener; 0 binds a free port. Default 9090.
    pub port: u16,
}

/// The `[server]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default `"127.0.0.1"`.
    pub host: String,
    /// TCP port; 0 binds a free port. Default 8080.
    pub port: u16,
    /// More plain listeners, each `IP:PORT` (`"[::1]:8080"` for IPv6), served like `host:port`.
    /// Default none.
    pub also_listen: Vec<String>,
    /// The served directory. Default `"."`, resolved against the settings file's folder.
    pub root: String,
    /// Largest request head in bytes (and largest request body). Default 8192, at least 1024.
    pub max_request_bytes: u32,
    /// Worker threads, at least 1. Default `None`: one per core.
    pub threads: Option<u16>,
    /// How long an idle keep-alive connection is kept. Default 5 s, from 0.1 s to 3600 s.
    pub keepalive_timeout: Seconds,
    /// Requests served on one connection before it is closed. Default 1000, at least 1.
    pub keepalive_requests: u32,
    /// Time from accept until the request head is complete. Default 10 s, from 0.1 s to 3600 s.
    pub header_timeout: Seconds,
    /// Value of the `Server` response header. Default `"staticd"`.
    pub server_name: String,
    /// Open connections above which new ones are refused. Default 16384, at least 1 (a new client
    /// is still served while 10,000 idle connections are held).
    pub max_connections: u32,
}

/// The `[files]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// Extensions that may be served, with the leading dot (`".html"`), matched case-insensitively;
    /// `"*"` serves every file. Never empty. Default [`DEFAULT_ALLOWED_EXTENSIONS`].
    pub allowed_extensions: Vec<String>,
    /// File names tried, in order, for a directory. Default `["index.html"]`.
    pub index_files: Vec<String>,
    /// Which symbolic links are followed. Default `"inside-root"`.
    pub follow_symlinks: Symlinks,
    /// Refuse any path with a segment starting with `.`. Default true.
    pub deny_dotfiles: bool,
    /// Dot-segments that are served even so. Default `[".well-known"]`.
    pub dotfile_exceptions: Vec<String>,
    /// Pages served for error statuses, written in TOML as a table from status to a path below
    /// the root: `error_pages = { 404 = "404.html" }`. At most [`MAX_ERROR_PAGES`]. Default none.
    #[serde(deserialize_with = "status_table")]
    pub error_pages: Vec<(u16, String)>,
    /// A path below the root answered (200) to a navigation that would be 404, for a single-page
    /// app (`"index.html"`). Default none.
    pub fallback: Option<String>,
    /// List a directory that has no index file. Default false.
    pub directory_listing: bool,
    /// The most entries on one page of a listing. Default 100, from 1 to 10000.
    pub listing_page_entries: u32,
    /// Send the default `Cache-Control` (fingerprinted names a year, immutable; HTML `no-cache`;
    /// other files `max-age=300`) where no rule sets one. Default true.
    pub cache_defaults: bool,
}

/// The most `files.error_pages` entries, as a device's policy blob holds
/// ([`staticd_core::policy::BLOB_MAX_ERROR_PAGES`]).
pub const MAX_ERROR_PAGES: usize = 8;

/// The `[log]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Access log path, `"-"` for stdout. Default `"-"`.
    pub access_log: String,
    /// Error log path, `"-"` for stderr. Default `"-"`.
    pub error_log: String,
    /// The access log's line format. Default `"combined"`.
    pub format: AccessLogFormat,
}

/// The `log.format` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessLogFormat {
    /// The Combined Log Format, one line per request.
    #[default]
    Combined,
    /// JSON lines: one object per request with the Combined fields, the response time and bytes.
    Json,
}

/// One `[[rules]]` table: headers added to responses for files whose relative path matches `pattern`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A glob over the path relative to the root (see [`staticd_core::glob::glob_match`]). Required.
    pub pattern: String,
    /// `Cache-Control` value for matching files.
    #[serde(default)]
    pub cache_control: Option<String>,
    /// Extra headers, written in TOML as a table: `headers = { "X-Frame-Options" = "DENY" }`; at
    /// most [`MAX_RULE_HEADERS`], as the core's rule holds.
    #[serde(default, deserialize_with = "header_table")]
    pub headers: Vec<(String, String)>,
}

/// The `follow_symlinks` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Symlinks {
    /// Never follow a symbolic link.
    Never,
    /// Follow a link only when its target stays inside the root.
    #[default]
    InsideRoot,
    /// Follow every link.
    Always,
}

/// A duration in whole milliseconds, written in the settings as a number of seconds (`5`, `5.0`,
/// `0.5`).
///
/// Read through `deserialize_f64` with a visitor that also takes integers (TOML gives `5` as an
/// integer). Fractions are rounded to the nearest millisecond; values too large for `u32`
/// milliseconds saturate, so the policy's validation reports them with the key's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
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

    /// Converts a number of seconds, rounding half up to the nearest millisecond and saturating at
    /// `u32::MAX` milliseconds (+infinity included); `None` for NaN or a negative value.
    fn from_secs_f64(secs: f64) -> Option<Self> {
        // Integer arithmetic on the IEEE 754 fields: exact, with no rounding of `secs * 1000.0` to
        // move a tie.
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

impl<'de> Deserialize<'de> for Seconds {
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

/// `Rule::headers` from a map (a TOML table), in the order the reader gives them, at most
/// [`MAX_RULE_HEADERS`] of them.
fn header_table<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    struct TableVisitor;

    impl<'de> serde::de::Visitor<'de> for TableVisitor {
        type Value = Vec<(String, String)>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "a table of at most {MAX_RULE_HEADERS} header names and values"
            )
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut headers = Vec::new();
            while let Some(entry) = map.next_entry::<String, String>()? {
                if headers.len() == MAX_RULE_HEADERS {
                    return Err(serde::de::Error::invalid_length(
                        MAX_RULE_HEADERS + 1,
                        &self,
                    ));
                }
                headers.push(entry);
            }
            Ok(headers)
        }
    }

    deserializer.deserialize_map(TableVisitor)
}

/// `FilesConfig::error_pages` from a map (a TOML table) whose keys are error statuses (400 to 599,
/// written as strings, as TOML keys are) and whose values are paths.
fn status_table<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(u16, String)>, D::Error> {
    struct TableVisitor;

    impl<'de> serde::de::Visitor<'de> for TableVisitor {
        type Value = Vec<(u16, String)>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "a table of at most {MAX_ERROR_PAGES} error statuses (400 to 599) and page paths"
            )
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pages: Vec<(u16, String)> = Vec::new();
            while let Some((key, path)) = map.next_entry::<String, String>()? {
                let status = key
                    .parse::<u16>()
                    .ok()
                    .filter(|s| ERROR_PAGE_STATUSES.contains(s))
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(
                            serde::de::Unexpected::Str(&key),
                            &"an error status from 400 to 599",
                        )
                    })?;
                if pages.len() == MAX_ERROR_PAGES {
                    return Err(serde::de::Error::invalid_length(MAX_ERROR_PAGES + 1, &self));
                }
                pages.push((status, path));
            }
            Ok(pages)
        }
    }

    deserializer.deserialize_map(TableVisitor)
}

impl Default for ServerConfig {
    fn default() -> Self {
        let policy = Policy::DEFAULT;
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            also_listen: Vec::new(),
            root: ".".to_owned(),
            max_request_bytes: policy.max_request_bytes,
            threads: None,
            keepalive_timeout: Seconds::from_millis(policy.keepalive_timeout_ms),
            keepalive_requests: policy.keepalive_requests,
            header_timeout: Seconds::from_millis(policy.header_timeout_ms),
            server_name: policy.server_name.to_owned(),
            max_connections: 16_384,
        }
    }
}

impl Default for FilesConfig {
    fn default() -> Self {
        let policy = Policy::DEFAULT;
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            allowed_extensions: owned(DEFAULT_ALLOWED_EXTENSIONS),
            index_files: owned(policy.index_files),
            follow_symlinks: Symlinks::InsideRoot,
            deny_dotfiles: policy.deny_dotfiles,
            dotfile_exceptions: owned(policy.dotfile_exceptions),
            error_pages: Vec::new(),
            fallback: policy.fallback.map(str::to_owned),
            directory_listing: policy.listing,
            listing_page_entries: policy.listing_page_entries,
            cache_defaults: policy.cache_defaults,
        }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            host: "127.0.0.1".to_owned(),
            port: 9090,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            access_log: "-".to_owned(),
            error_log: "-".to_owned(),
            format: AccessLogFormat::Combined,
        }
    }
}

/// A value that [`Config::validate`] refused: which key, which entry of a list, and why. The
/// serving settings are checked by the core ([`Policy::validate`]), the rest here, in the same form.
pub type ConfigError = PolicyError;

fn err(key: &'static str, reason: &'static str) -> ConfigError {
    ConfigError {
        key,
        index: None,
        header: None,
        reason,
    }
}

impl Config {
    /// Checks every value against its documented range; the error names the first offending key.
    /// The desktop's own keys first, then the serving policy as the core checks it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if server.host.is_empty() {
            return Err(err("server.host", "must not be empty"));
        }
        if let Some(index) = server
            .also_listen
            .iter()
            .position(|a| a.parse::<std::net::SocketAddr>().is_err())
        {
            return Err(ConfigError {
                index: Some(index),
                ..err(
                    "server.also_listen",
                    "must be an IP address and a port, like \"[::1]:8080\"",
                )
            });
        }
        if server.root.is_empty() {
            return Err(err("server.root", "must not be empty"));
        }
        // A missing `threads` means one per core; a written one is at least 1.
        if server.threads == Some(0) {
            return Err(err("server.threads", "must be at least 1"));
        }
        if server.max_connections < 1 {
            return Err(err("server.max_connections", "must be at least 1"));
        }
        PolicyLists::new(self).policy().validate()?;
        if self.log.access_log.is_empty() {
            return Err(err("log.access_log", "must not be empty (\"-\" is stdout)"));
        }
        if self.log.error_log.is_empty() {
            return Err(err("log.error_log", "must not be empty (\"-\" is stderr)"));
        }
        if self.metrics.enabled && self.metrics.host.is_empty() {
            return Err(err("metrics.host", "must not be empty"));
        }
        let proxy = &self.proxy;
        for (i, entry) in proxy.trusted.iter().enumerate() {
            if let Err(reason) = crate::proxied::Net::parse(entry) {
                return Err(ConfigError {
                    index: Some(i),
                    ..err("proxy.trusted", reason)
                });
            }
        }
        if proxy.trusted.is_empty() && (proxy.protocol != ProxyProtocol::Off || proxy.forwarded_for)
        {
            return Err(err(
                "proxy.trusted",
                "must name the balancers when protocol or forwarded_for is on",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod policy_roundtrip;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.server.host, "127.0.0.1");
        assert_eq!(c.server.port, 8080);
        assert_eq!(c.server.root, ".");
        assert_eq!(c.server.max_request_bytes, 8192);
        assert_eq!(c.server.threads, None);
        assert_eq!(c.server.keepalive_timeout.as_millis(), 5000);
        assert_eq!(c.server.keepalive_requests, 1000);
        assert_eq!(c.server.header_timeout.as_millis(), 10_000);
        assert_eq!(c.server.server_name, "staticd");
        assert_eq!(c.server.max_connections, 16_384);
        assert_eq!(c.files.allowed_extensions, DEFAULT_ALLOWED_EXTENSIONS);
        assert_eq!(c.files.index_files, ["index.html"]);
        assert_eq!(c.files.follow_symlinks, Symlinks::InsideRoot);
        assert!(c.files.deny_dotfiles);
        assert_eq!(c.files.dotfile_exceptions, [".well-known"]);
        assert!(c.files.error_pages.is_empty());
        assert_eq!(c.files.fallback, None);
        assert!(!c.files.directory_listing);
        assert_eq!(c.files.listing_page_entries, 100);
        assert!(c.files.cache_defaults);
        assert_eq!(c.log.access_log, "-");
        assert_eq!(c.log.error_log, "-");
        assert_eq!(c.log.format, AccessLogFormat::Combined);
        assert!(c.rules.is_empty());
        assert_eq!(c.validate(), Ok(()));
        // The serving part is the core's default policy.
        assert_eq!(PolicyLists::new(&c).policy(), Policy::DEFAULT);
    }

    #[test]
    fn empty_documents_and_tables_are_the_defaults() {
        for doc in ["", "[server]\n[files]\n[log]\n"] {
            let c: Config = toml::from_str(doc).expect(doc);
            assert_eq!(c, Config::default());
        }
        let c: Config = toml::from_str("[server]\nport = 9000\n").expect("valid");
        let mut expected = Config::default();
        expected.server.port = 9000;
        assert_eq!(c, expected);
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
            (|c| c.server.host.clear(), "server.host"),
            (|c| c.server.root.clear(), "server.root"),
            (|c| c.server.threads = Some(0), "server.threads"),
            (|c| c.server.max_connections = 0, "server.max_connections"),
            (|c| c.log.access_log.clear(), "log.access_log"),
            (|c| c.log.error_log.clear(), "log.error_log"),
            // The serving keys, checked by the core's policy validation.
            (
                |c| c.server.max_request_bytes = 1023,
                "server.max_request_bytes",
            ),
            (
                |c| c.server.header_timeout = Seconds::from_millis(99),
                "server.header_timeout",
            ),
            (
                |c| c.server.keepalive_timeout = Seconds::from_millis(u32::MAX),
                "server.keepalive_timeout",
            ),
            (
                |c| c.server.server_name = "bad\r\nX: y".to_owned(),
                "server.server_name",
            ),
            (
                |c| c.files.allowed_extensions[3] = "html".to_owned(),
                "files.allowed_extensions",
            ),
            (
                |c| c.files.index_files[0] = "..".to_owned(),
                "files.index_files",
            ),
            (|c| c.rules.push(Rule::default()), "rules.pattern"),
            (
                |c| c.files.error_pages = vec![(404, "/404.html".to_owned())],
                "files.error_pages",
            ),
            (
                |c| c.files.fallback = Some("../index.html".to_owned()),
                "files.fallback",
            ),
            (
                |c| c.files.listing_page_entries = 0,
                "files.listing_page_entries",
            ),
        ];
        for (mutate, key) in cases {
            let mut c = Config::default();
            mutate(&mut c);
            let e = c.validate().expect_err(key);
            assert_eq!(e.key, *key);
        }
    }

    #[test]
    fn error_pages_are_a_table_of_error_statuses() {
        let c: Config =
            toml::from_str("[files]\nerror_pages = { 404 = \"404.html\", 500 = \"e/500.html\" }\n")
                .expect("parses");
        let mut pages = c.files.error_pages.clone();
        pages.sort();
        assert_eq!(
            pages,
            [(404, "404.html".to_owned()), (500, "e/500.html".to_owned())]
        );
        for bad in ["200", "600", "abc", "-404"] {
            let doc = format!("[files]\nerror_pages = {{ \"{bad}\" = \"x.html\" }}\n");
            let e = toml::from_str::<Config>(&doc).expect_err(bad);
            assert!(e.message().contains("from 400 to 599"), "{e}");
        }
        let nine: Vec<String> = (0..9)
            .map(|i| format!("{} = \"e.html\"", 400 + i))
            .collect();
        let doc = format!("[files]\nerror_pages = {{ {} }}\n", nine.join(", "));
        let e = toml::from_str::<Config>(&doc).expect_err("nine pages");
        assert!(e.message().contains("at most 8"), "{e}");
    }

    #[test]
    fn a_rule_holds_at_most_eight_headers() {
        let c: Config = toml::from_str(
            "[[rules]]\npattern = \"*\"\nheaders = { \"X-B\" = \"2\", \"X-A\" = \"1\" }\n",
        )
        .expect("parses");
        let mut headers = c.rules[0].headers.clone();
        headers.sort();
        assert_eq!(
            headers,
            [("X-A".into(), "1".into()), ("X-B".into(), "2".into())]
        );
        let nine: Vec<String> = (0..9).map(|i| format!("\"X-{i}\" = \"v\"")).collect();
        let doc = format!(
            "[[rules]]\npattern = \"*\"\nheaders = {{ {} }}\n",
            nine.join(", ")
        );
        let e = toml::from_str::<Config>(&doc).expect_err("nine headers");
        assert!(e.message().contains("at most 8"), "{e}");
    }
}
