//! The one helper library of staticd's end-to-end tests.
//!
//! Every test starts the real `staticd` binary on 127.0.0.1, port 0, inside its own temporary
//! directory, waits for the ready line `staticd listening on http://127.0.0.1:PORT/` and talks to it
//! over raw TCP where the bytes matter, or with ureq where a real client is the point. Response
//! heads go through httparse (strict). Nothing here can hang: every socket read has a deadline and
//! every wait is bounded.
//!
//! - [`server`]: [`Server::start`] / [`Server::builder`] ([`ServerBuilder`]): a running server, killed
//!   and its directory removed on drop; [`assert_still_serves`], [`server_alive`].
//! - [`client`]: [`Conn`] (one connection, responses read one by one: keep-alive, pipelining,
//!   [`Conn::wait_closed`]), [`Response`], [`parse_response_head`], raw [`exchange`]s that say how
//!   the connection ended, [`split_responses`], [`status_lines`], [`http_agent`] (ureq).
//! - [`checks`]: [`assert_common_headers`] (the fields every response carries),
//!   [`assert_refused_and_closed`], [`assert_refused_at_start`], [`req`] (a request head as text).
//! - [`certs`] (not glob-exported): a test CA and the server certificates it signs (rcgen).
//! - [`fixtures`] (not glob-exported): small sites several groups serve.
//! - [`process`]: [`TempDir`] (tempfile), [`run_staticd`] ([`Finished`]) for runs that exit (bad
//!   settings, `--help`), [`repo_root`], [`free_port`].
//! - [`procfs`]: threads, RSS, descriptors, CPU ticks and limits of the server process, [`wait_until`].
//! - [`formats`]: IMF-fixdate and CLF times, [`parse_access_line`] ([`AccessLine`]), [`sha256_hex`],
//!   [`pseudo_random_bytes`], [`TINY_PNG`].
#![allow(dead_code, unused_imports)] // each test binary uses a different part of the library

pub mod certs;
pub mod checks;
pub mod client;
pub mod fixtures;
pub mod formats;
pub mod process;
pub mod procfs;
pub mod server;

pub use checks::*;
pub use client::*;
pub use formats::*;
pub use process::*;
pub use procfs::*;
pub use server::*;
