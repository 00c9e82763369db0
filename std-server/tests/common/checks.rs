//! Assertions several feature groups share: the fields every response carries, and a refusal that
//! closes the connection without answering what followed in the same write.

use std::time::Duration;

use super::client::{CloseWait, IO_TIMEOUT, Response, find};
use super::formats::{now_unix, parse_imf_fixdate};
use super::process::Finished;
use super::server::Server;

/// The fields every response carries (RFC 9110 §6.6.1 Date, §10.2.4 Server; RFC 9112 §9.6
/// Connection): Date as an IMF-fixdate close to now, Server, Connection; Content-Type and exactly
/// one Content-Length matching the body, except on 204 (none, RFC 9110 §8.6) and 304.
pub fn assert_common_headers(what: &str, r: &Response, server_name: &str) {
    check_common_headers(what, r, server_name, false);
}

/// The same for a response to HEAD: Content-Length is what GET's body would be, no body follows.
pub fn assert_common_headers_of_head(what: &str, r: &Response, server_name: &str) {
    check_common_headers(what, r, server_name, true);
}

pub fn check_common_headers(what: &str, r: &Response, server_name: &str, head: bool) {
    assert_eq!(r.version, "HTTP/1.1", "{what}: status line version");
    let date = r
        .header("date")
        .unwrap_or_else(|| panic!("{what}: no Date in {:?}", r.headers));
    let secs =
        parse_imf_fixdate(date).unwrap_or_else(|| panic!("{what}: Date not IMF-fixdate: {date:?}"));
    assert!(
        secs.abs_diff(now_unix()) <= 5,
        "{what}: Date {date:?} is not the current time"
    );
    assert_eq!(r.header_all("date").len(), 1, "{what}: one Date");
    assert_eq!(r.header("server"), Some(server_name), "{what}: Server");
    let connection = r
        .header("connection")
        .unwrap_or_else(|| panic!("{what}: no Connection in {:?}", r.headers));
    assert!(
        connection.eq_ignore_ascii_case("keep-alive") || connection.eq_ignore_ascii_case("close"),
        "{what}: Connection: {connection:?}"
    );
    match r.status {
        204 => assert_eq!(
            r.header("content-length"),
            None,
            "{what}: 204 has no Content-Length"
        ),
        304 => {}
        _ => {
            assert!(
                r.header("content-type").is_some(),
                "{what}: no Content-Type in {:?}",
                r.headers
            );
            let len = r
                .content_length()
                .unwrap_or_else(|| panic!("{what}: no Content-Length in {:?}", r.headers));
            assert_eq!(
                r.header_all("content-length").len(),
                1,
                "{what}: one Content-Length"
            );
            if !head {
                assert_eq!(
                    len,
                    r.body.len() as u64,
                    "{what}: Content-Length matches the body"
                );
            }
        }
    }
}

/// `METHOD target VERSION` with a Host field, `extra` header lines (each ending in CRLF) and the
/// empty line.
pub fn req(method: &str, target: &str, version: &str, host: &str, extra: &str) -> String {
    format!("{method} {target} {version}\r\nHost: {host}\r\n{extra}\r\n")
}

/// Sends `attack` followed, in the same write, by a valid request for /b.txt. Asserts that exactly one
/// response comes back with a status in `statuses`, marked `Connection: close`, and that the
/// connection then closes without a second response (nothing desynchronised out of the same bytes).
pub fn assert_refused_and_closed(server: &Server, attack: &str, statuses: &[u16]) {
    let mut conn = server.connect();
    let follow = format!("GET /b.txt HTTP/1.1\r\nHost: {}\r\n\r\n", server.host());
    conn.send(format!("{attack}{follow}").as_bytes()).unwrap();
    let r = conn
        .try_read_response(false, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("{attack:?}: no response: {e}"));
    assert!(
        statuses.contains(&r.status),
        "{attack:?}: expected one of {statuses:?}, got {} {}",
        r.status,
        r.reason
    );
    assert_eq!(r.version, "HTTP/1.1");
    assert!(
        r.says_close(),
        "{attack:?}: the refusal says Connection: close"
    );
    match conn.wait_closed(Duration::from_secs(3)) {
        CloseWait::Closed(rest) => assert!(
            find(&rest, b"HTTP/1.").is_none(),
            "{attack:?}: a second response after the refusal: {:?}",
            String::from_utf8_lossy(&rest)
        ),
        CloseWait::Open(rest) => panic!(
            "{attack:?}: connection still open 3 s after the refusal; received {:?}",
            String::from_utf8_lossy(&rest)
        ),
    }
}

/// A start-up refusal as a user sees it: exit status 2, exactly one non-empty line on stderr
/// holding every word of `names`, nothing on stdout (no ready line), no panic and no backtrace.
/// Returns the line.
pub fn assert_refused_at_start(what: &str, run: &Finished, names: &[&str]) -> String {
    let status = run
        .status
        .unwrap_or_else(|| panic!("{what}: staticd kept running; stdout {:?}", run.stdout));
    assert_eq!(
        status.code(),
        Some(2),
        "{what}: exit status; stderr {:?}",
        run.stderr
    );
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one line on stderr, got {:?}",
        run.stderr
    );
    for name in names {
        assert!(
            lines[0].contains(name),
            "{what}: the message names {name:?}: {:?}",
            lines[0]
        );
    }
    for bad in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(
            !run.stderr.contains(bad),
            "{what}: {bad} in stderr: {:?}",
            run.stderr
        );
    }
    assert!(run.stdout.is_empty(), "{what}: stdout {:?}", run.stdout);
    lines[0].to_owned()
}
