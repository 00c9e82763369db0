//! staticd end to end: the real binary on 127.0.0.1, port 0, grouped by what the tests prove.
//! One test binary, so the suite links once; nextest still runs every test in its own process.
//!
//! - [`behaviour`]: the HTTP behaviour suite every runtime passes (shared with the core's drivers).
//! - [`wire`]: the message format and framing (RFC 9112): versions, methods, Host, the fields
//!   every response carries, body framing and smuggling, keep-alive and pipelining, the drivers
//!   answering alike, a black-box fuzz.
//! - [`files`]: from a target to a file (RFC 9110 §7.1, RFC 3986): traversal, symlinks,
//!   dotfiles, extensions and types, index files and redirects, rules, files changing on disk.
//! - [`compression`]: content codings (RFC 9110 §12.5.3): precompressed siblings, encodings made
//!   on the fly, Vary and a tag per representation; decoded by curl and Python.
//! - [`conditional`]: validators, preconditions and ranges (RFC 9110 §8.8, §13, §14).
//! - [`limits`]: size limits, timers, connection limits and hostile clients.
//! - [`logs`]: the access log (Combined Log Format) and the error log.
//! - [`config`]: the settings file and the command line, start-up refusals.
//! - [`lifecycle`]: signals, graceful stop.
//! - [`deploy`]: running in production: the health endpoint and Prometheus metrics, balancers in
//!   front (PROXY protocol, X-Forwarded-For).
//! - [`tls`]: HTTPS: curl over TLS 1.2 and 1.3, ALPN and SNI with openssl, hostile bytes on the
//!   TLS port, certificates re-read on SIGHUP and refused at start.
//! - [`serving`]: error pages, the single-page-app fallback, directory listings, caching defaults.
//! - [`site_check`]: `staticd check`, the lint of a site as the server would serve it.
//!
//! The browser and the HTTP lint live in their own binary (`tests/browser`), since they need
//! tools from scripts/setup-test-deps.sh.

#[path = "../common/mod.rs"]
mod common;

mod behaviour;
mod compression;
mod conditional;
mod config;
mod deploy;
mod files;
mod harness;
mod lifecycle;
mod limits;
mod logs;
mod serving;
mod site_check;
mod tls;
mod wire;
