//! Helpers shared by the hardening tests of issue 5 (paths, framing, clients, faults, fuzz): what
//! `/proc` says about the server process, raw exchanges that report how the connection ended, and a
//! tolerant counter of the responses in a byte stream.
//!
//! Everything here is bounded: every read has a deadline, every poll loop a time limit.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{Response, Server, find, parse_response_head};

// ---------------------------------------------------------------------------------------------
// The server process as /proc sees it
// ---------------------------------------------------------------------------------------------

/// A `Key:   value` field of `/proc/PID/status` (first word of the value).
fn proc_status_field(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Number of threads of the process.
pub fn threads(pid: u32) -> u64 {
    proc_status_field(pid, "Threads").expect("Threads in /proc/PID/status")
}

/// Resident set size in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    proc_status_field(pid, "VmRSS").expect("VmRSS in /proc/PID/status")
}

/// Number of open file descriptors of the process.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/PID/fd")
        .count()
}

/// utime + stime of the process, in clock ticks (fields 14 and 15 of `/proc/PID/stat`).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    let after = &stat[stat.rfind(')').expect("comm in stat") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    utime + stime
}

/// Soft limit on open files of the process, from `/proc/PID/limits`.
pub fn nofile_soft_limit(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Raises this process's soft RLIMIT_NOFILE to `want` (or to the hard limit if lower); returns the
/// soft limit now in force. Children spawned afterwards inherit it.
pub fn raise_own_nofile(want: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let current = getrlimit(Resource::Nofile);
    let hard = current.maximum.unwrap_or(u64::MAX);
    let soft = want.min(hard);
    if current.current.is_some_and(|c| c >= soft) {
        return current.current.unwrap_or(soft);
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: current.maximum,
        },
    )
    .expect("setrlimit NOFILE");
    soft
}

/// Polls `f` every 50 ms until it returns true or `within` passes; whether it did.
pub fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// Raw exchanges
// ---------------------------------------------------------------------------------------------

/// How a raw exchange ended.
#[derive(Debug)]
pub struct Exchange {
    /// Every byte the server sent.
    pub bytes: Vec<u8>,
    /// The server closed (EOF or reset) before the deadline.
    pub closed: bool,
}

impl Exchange {
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Connects, writes `raw` in one write, then reads until the server closes or `within` passes.
/// `half_close` shuts the sending side after the write (the server sees EOF).
pub fn exchange(addr: SocketAddr, raw: &[u8], within: Duration, half_close: bool) -> Exchange {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect to staticd");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .expect("write timeout");
    // A server that refuses early may close before all of `raw` is written: not an error here.
    let _ = stream.write_all(raw);
    if half_close {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    read_until_close(&mut stream, within)
}

/// Reads from `stream` until EOF/reset or until `within` passes.
pub fn read_until_close(stream: &mut TcpStream, within: Duration) -> Exchange {
    read_until_quiet(stream, within, |_| None)
}

/// As [`read_until_close`], but a connection that stays quiet for `quiet(bytes so far)` (when that
/// is `Some`) also ends the exchange, counted as `closed`: the server answered and kept the
/// connection alive, which is not a hang.
pub fn read_until_quiet(
    stream: &mut TcpStream,
    within: Duration,
    quiet: impl Fn(&[u8]) -> Option<Duration>,
) -> Exchange {
    let deadline = Instant::now() + within;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Exchange {
                bytes,
                closed: false,
            };
        }
        let pause = quiet(&bytes);
        let wait = pause.map_or(deadline - now, |p| p.min(deadline - now));
        stream.set_read_timeout(Some(wait)).expect("read timeout");
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Exchange {
                    bytes,
                    closed: true,
                };
            }
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                return Exchange {
                    bytes,
                    closed: true,
                };
            }
            Err(e)
                if pause.is_some()
                    && matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
            {
                return Exchange {
                    bytes,
                    closed: true,
                };
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                return Exchange {
                    bytes,
                    closed: false,
                };
            }
        }
    }
}

/// Splits a byte stream into the responses it holds, reading each body by its Content-Length (no
/// body for 1xx/204/304 or when `first_is_head`). Returns the responses and the bytes left over that
/// do not form a complete response.
pub fn split_responses(mut bytes: &[u8], first_is_head: bool) -> (Vec<Response>, Vec<u8>) {
    let mut out = Vec::new();
    loop {
        let Some(end) = find(bytes, b"\r\n\r\n") else {
            return (out, bytes.to_vec());
        };
        let Ok(mut r) = parse_response_head(&bytes[..end + 4]) else {
            return (out, bytes.to_vec());
        };
        let rest = &bytes[end + 4..];
        let no_body = (first_is_head && out.is_empty())
            || r.status < 200
            || r.status == 204
            || r.status == 304;
        let len = if no_body {
            0
        } else {
            match r.header("content-length").map(str::parse::<usize>) {
                Some(Ok(n)) => n,
                // No length: the body runs to the close.
                _ => rest.len(),
            }
        };
        if rest.len() < len {
            return (out, bytes.to_vec());
        }
        r.body = rest[..len].to_vec();
        out.push(r);
        bytes = &rest[len..];
    }
}

/// Every status code found at the start of a line `HTTP/1.x NNN` in `bytes` (also in bodies: the
/// tests that use this serve bodies that never hold such text).
pub fn status_lines(bytes: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(p) = find(&bytes[at..], b"HTTP/1.") {
        let start = at + p;
        let line_start = start == 0 || bytes[start - 1] == b'\n';
        if line_start && bytes.len() >= start + 12 && bytes[start + 8] == b' ' {
            let code = &bytes[start + 9..start + 12];
            if code.iter().all(u8::is_ascii_digit) {
                let text = std::str::from_utf8(code).expect("digits");
                out.push(text.parse().expect("three digits"));
            }
        }
        at = start + 7;
    }
    out
}

/// Asserts that a plain GET of `path` on a fresh connection is a 200 with exactly `body`.
pub fn assert_still_serves(server: &Server, path: &str, body: &[u8], after: &str) {
    let mut conn = server.connect();
    conn.send(
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.host()
        )
        .as_bytes(),
    )
    .unwrap_or_else(|e| panic!("after {after}: sending a normal request failed: {e}"));
    let r = conn
        .try_read_response(false, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("after {after}: no answer to a normal request: {e}"));
    assert_eq!(
        r.status, 200,
        "after {after}: normal request got {}",
        r.status
    );
    assert!(r.body == body, "after {after}: wrong body for {path}");
}

/// Non-empty stderr lines of the server that look like a reported problem.
pub fn problem_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            ["error", "panic", "reset", "broken pipe", "os error", "warn"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(str::to_string)
        .collect()
}

/// What each open descriptor of the process points at (`socket:[..]`, a path, `anon_inode:..`).
pub fn fd_targets(pid: u32) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|t| t.display().to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
