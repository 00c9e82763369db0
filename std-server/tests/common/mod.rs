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
//! - [`process`]: [`TempDir`] (tempfile), [`run_staticd`] ([`Finished`]) for runs that exit (bad
//!   settings, `--help`), [`repo_root`], [`free_port`].
//! - [`procfs`]: threads, RSS, descriptors, CPU ticks and limits of the server process, [`wait_until`].
//! - [`formats`]: IMF-fixdate and CLF times, [`parse_access_line`] ([`AccessLine`]), [`sha256_hex`],
//!   [`pseudo_random_bytes`], [`TINY_PNG`].
#![allow(dead_code, unused_imports)] // each test binary uses a different part of the library

pub mod client;
pub mod formats;
pub mod process;
pub mod procfs;
pub mod server;

pub use client::*;
pub use formats::*;
pub use process::*;
pub use procfs::*;
pub use server::*;

#[cfg(test)]
mod tests {
    use super::server::merge_config;
    use super::*;

    #[test]
    fn harness_parsers_accept_and_refuse() {
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_imf_fixdate("Mon, 06 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(
            parse_clf_time("06/Nov/1994:08:49:37 +0000"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_clf_time("06/Nov/1994:10:49:37 +0200"),
            Some(784_111_777)
        );
        let line =
            r#"127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET /a\"b HTTP/1.1" 200 12 "-" "ua\\x""#;
        let parsed = parse_access_line(line).expect("valid line");
        assert_eq!(parsed.request, r#"GET /a\"b HTTP/1.1"#);
        assert_eq!(parsed.user_agent, r"ua\\x");
        assert!(parse_access_line(&format!("{line} ")).is_none());
        assert!(parse_access_line(&line.replace("200", "20")).is_none());
        assert_eq!(
            parse_ready_line("staticd listening on http://127.0.0.1:4321/"),
            Some(4321)
        );
        assert_eq!(
            parse_ready_line("staticd listening on http://127.0.0.1:4321"),
            None
        );
        assert!(
            merge_config("[server]\nport = 5\n", &[("server", "port", "0".into())])
                .contains("port = 5")
        );
        assert!(
            merge_config("[log]\n", &[("server", "port", "0".into())])
                .contains("[server]\nport = 0")
        );
    }
}
