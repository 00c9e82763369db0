//! A seeded black-box fuzz run: at least 5,000 random and mutated requests, each on a
//! fresh connection, against the real server. The server stays alive, never answers 500 (nor any 5xx
//! but 501/505: 503 is only for max_connections, which this run never reaches), never panics, keeps
//! its thread count, never leaves a silent connection open past header_timeout, and answers a
//! normal request afterwards.
//!
//! The seed is fixed and printed; `STATICD_FUZZ_SEED=<n>` replays another run.

use crate::common::*;
use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

const SEED: u64 = 0x5eed_0005_b1ac_b0c5;
const CASES: usize = 5_000;
const CLIENT_THREADS: usize = 8;
const INDEX: &[u8] = b"<!doctype html><p>fuzz target</p>\n";

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Valid requests the mutations start from (`{H}` is the Host value).
const BASES: &[&str] = &[
    "GET / HTTP/1.1\r\nHost: {H}\r\n\r\n",
    "GET /index.html HTTP/1.1\r\nHost: {H}\r\nUser-Agent: fuzz/1.0\r\nAccept: */*\r\n\r\n",
    "HEAD /a.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
    "GET /a.txt HTTP/1.0\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: {H}\r\nRange: bytes=0-3,5-7\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: {H}\r\nRange: bytes=-5\r\nIf-Range: \"x\"\r\n\r\n",
    "GET /img.png HTTP/1.1\r\nHost: {H}\r\nIf-None-Match: \"abc\", W/\"def\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
    "GET /dir HTTP/1.1\r\nHost: {H}\r\n\r\n",
    "GET /dir/ HTTP/1.1\r\nHost: {H}\r\nConnection: close\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: {H}\r\n\r\n",
    "POST /a.txt HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\n\r\nhello",
    "GET /a.txt HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
    "GET http://{H}/a.txt HTTP/1.1\r\nHost: {H}\r\n\r\n",
    "GET /%61.txt?q=1 HTTP/1.1\r\nHost: {H}\r\nCookie: a=b; c=d\r\nReferer: http://x/\r\n\r\n",
    "GET /a.txt HTTP/1.1\r\nHost: {H}\r\n\r\nGET /index.html HTTP/1.1\r\nHost: {H}\r\nConnection: close\r\n\r\n",
    "GET /missing.html HTTP/1.1\r\nHost: {H}\r\nIf-Match: *\r\nIf-Unmodified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n\r\n",
];

const INSERTS: &[&[u8]] = &[
    b"\r",
    b"\n",
    b"\r\n",
    b"\0",
    b" ",
    b"\t",
    b":",
    b"%",
    b"%00",
    b"\x7f",
    b"\xff",
    b"\r\n\r\n",
    b"\r\n ",
    b"/../",
    b",",
    b";",
    b"\"",
];

const HUGE_NUMBERS: &[&str] = &[
    "99999999999999999999999999999999",
    "18446744073709551616",
    "18446744073709551615",
    "4294967296",
    "-1",
    "+1",
    "0x10",
    "1e9",
    "00000000000000000000000000000000001",
];

const EXTRA_FIELDS: &[&str] = &[
    "Content-Length: 99999999999999999999\r\n",
    "Content-Length: 18446744073709551615\r\n",
    "Content-Length: 3\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Range: bytes=0-18446744073709551616\r\n",
    "Range: bytes=99999999999999999999-\r\n",
    "Range: bytes=0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0,0-0\r\n",
    "If-Modified-Since: Mon, 99 Foo 99999 99:99:99 GMT\r\n",
    "If-None-Match: *\r\n",
    "Connection: keep-alive, close, upgrade\r\n",
    "Expect: 100-continue\r\n",
    "Host: second.test\r\n",
    "X-Long: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
];

/// A mutated or random request for case `i`.
fn make_case(rng: &mut Rng, host: &str) -> Vec<u8> {
    if rng.below(10) == 0 {
        // Pure noise, sometimes starting like a request.
        let len = rng.below(400);
        let mut out: Vec<u8> = if rng.below(2) == 0 {
            b"GET /".to_vec()
        } else {
            Vec::new()
        };
        out.extend((0..len).map(|_| rng.next() as u8));
        return out;
    }
    let mut req = rng.pick(BASES).replace("{H}", host).into_bytes();
    let mutations = 1 + rng.below(4);
    for _ in 0..mutations {
        let len = req.len().max(1);
        match rng.below(10) {
            // Bit flips.
            0 => {
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(len).min(req.len().saturating_sub(1));
                    if let Some(b) = req.get_mut(at) {
                        *b ^= 1 << rng.below(8);
                    }
                }
            }
            // Insertions of CR, LF, NUL, space and friends.
            1 | 2 => {
                let at = rng.below(req.len() + 1);
                let ins = rng.pick(INSERTS);
                req.splice(at..at, ins.iter().copied());
            }
            // Truncation.
            3 => {
                let at = rng.below(req.len() + 1);
                req.truncate(at);
            }
            // Duplicate a line.
            4 => {
                let lines: Vec<&[u8]> = req.split_inclusive(|&b| b == b'\n').collect();
                if !lines.is_empty() {
                    let i = rng.below(lines.len());
                    let times = if rng.below(8) == 0 { 150 } else { 1 };
                    let mut out = Vec::new();
                    for (j, line) in lines.iter().enumerate() {
                        out.extend_from_slice(line);
                        if j == i {
                            for _ in 0..times {
                                out.extend_from_slice(line);
                            }
                        }
                    }
                    req = out;
                }
            }
            // Huge or odd numbers in place of a digit run.
            5 => {
                if let Some(start) = (0..req.len())
                    .cycle()
                    .skip(rng.below(req.len().max(1)))
                    .take(req.len())
                    .find(|&i| req[i].is_ascii_digit())
                {
                    let end = (start..req.len())
                        .find(|&i| !req[i].is_ascii_digit())
                        .unwrap_or(req.len());
                    let num = rng.pick(HUGE_NUMBERS).as_bytes();
                    req.splice(start..end, num.iter().copied());
                }
            }
            // An extra field after the request line.
            6 => {
                if let Some(eol) = find(&req, b"\r\n") {
                    let field = rng.pick(EXTRA_FIELDS).as_bytes();
                    req.splice(eol + 2..eol + 2, field.iter().copied());
                }
            }
            // Delete a range.
            7 => {
                let a = rng.below(req.len() + 1);
                let b = (a + rng.below(12)).min(req.len());
                req.drain(a..b);
            }
            // A very long target or field value.
            8 => {
                let at = find(&req, b" ").map_or(0, |p| p + 1);
                let fill = vec![b'a' + rng.below(26) as u8; 1 + rng.below(12_000)];
                req.splice(at..at, fill);
            }
            // Swap case of a stretch (methods, versions, field names).
            _ => {
                let a = rng.below(req.len() + 1);
                let b = (a + rng.below(10)).min(req.len());
                for byte in &mut req[a..b] {
                    if byte.is_ascii_alphabetic() {
                        *byte ^= 0x20;
                    }
                }
            }
        }
    }
    req
}

/// What one client thread saw.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, usize>,
    silent_closes: usize,
    bad_5xx: Vec<String>,
    hangs: Vec<String>,
    garbage: Vec<String>,
    /// Cases that took over a second to settle (the server waited for a timer).
    slow: Vec<String>,
}

fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(300)];
    format!("{:?}", String::from_utf8_lossy(cut))
}

#[test]
fn seeded_black_box_fuzz_never_500_never_panics_never_hangs() {
    let seed = std::env::var("STATICD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    println!("black-box fuzz: seed {seed:#x}, {CASES} cases on {CLIENT_THREADS} client threads");
    let server = Server::builder()
        // Short timers: a half-closed client with a partial head is held until header_timeout
        // (then 408), so they bound how long the ~7% truncated cases take.
        .config("[server]\nheader_timeout = 0.5\nkeepalive_timeout = 0.5\n")
        .file("index.html", INDEX)
        .file("a.txt", b"0123456789abcdef\n")
        .file("img.png", TINY_PNG)
        .file("dir/index.html", INDEX)
        .start();
    let pid = server.pid();
    assert_still_serves(&server, "/index.html", INDEX, "start");
    let threads_before = threads(pid);

    // Every case is generated up front from one seeded stream, so a run is the same whatever the
    // scheduling of the client threads.
    let mut rng = Rng::new(seed);
    let host = server.host();
    let cases: Vec<Vec<u8>> = (0..CASES).map(|_| make_case(&mut rng, &host)).collect();
    let started = Instant::now();
    let addr = server.addr();
    let tallies: Vec<Tally> = thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENT_THREADS)
            .map(|t| {
                let cases = &cases;
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    for (i, case) in cases.iter().enumerate().skip(t).step_by(CLIENT_THREADS) {
                        let t0 = Instant::now();
                        let got = exchange_until_answered(addr, case);
                        if t0.elapsed() > Duration::from_secs(1) && tally.slow.len() < 3 {
                            tally.slow.push(format!(
                                "case {i} took {:?}: {} -> {}",
                                t0.elapsed(),
                                shown(case),
                                shown(&got.bytes)
                            ));
                        }
                        let statuses = status_lines(&got.bytes);
                        for &s in &statuses {
                            *tally.statuses.entry(s).or_default() += 1;
                            if s >= 500 && s != 501 && s != 505 {
                                tally
                                    .bad_5xx
                                    .push(format!("case {i}: {s} for {}", shown(case)));
                            }
                        }
                        if !got.closed {
                            tally.hangs.push(format!("case {i}: {}", shown(case)));
                        }
                        if got.bytes.is_empty() {
                            tally.silent_closes += 1;
                        } else if !got.bytes.starts_with(b"HTTP/1.1 ") {
                            tally.garbage.push(format!(
                                "case {i}: reply {} to {}",
                                shown(&got.bytes),
                                shown(case)
                            ));
                        }
                    }
                    tally
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("fuzz client thread"))
            .collect()
    });
    let took = started.elapsed();

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let (mut silent, mut bad_5xx, mut hangs, mut garbage) = (0, Vec::new(), Vec::new(), Vec::new());
    for t in tallies {
        for (s, n) in t.statuses {
            *statuses.entry(s).or_default() += n;
        }
        silent += t.silent_closes;
        bad_5xx.extend(t.bad_5xx);
        hangs.extend(t.hangs);
        garbage.extend(t.garbage);
        for line in t.slow {
            println!("slow: {line}");
        }
    }
    println!("{CASES} cases in {took:?}; statuses {statuses:?}; {silent} closed without a reply");

    assert!(
        server_alive(&server),
        "the server process died during the fuzz run (seed {seed:#x})"
    );
    let stderr = server.stderr();
    let panics: Vec<&str> = stderr
        .lines()
        .filter(|l| l.to_ascii_lowercase().contains("panic"))
        .collect();
    assert!(
        panics.is_empty(),
        "panic in the error log (seed {seed:#x}): {panics:?}"
    );
    assert!(
        bad_5xx.is_empty(),
        "{} 5xx answers to client input (seed {seed:#x}), e.g.\n{}",
        bad_5xx.len(),
        bad_5xx
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        hangs.is_empty(),
        "{} connections without a reply still open 5 s after the client's EOF (seed {seed:#x}), e.g.\n{}",
        hangs.len(),
        hangs.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        garbage.is_empty(),
        "{} replies that do not start with a status line (seed {seed:#x}), e.g.\n{}",
        garbage.len(),
        garbage
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The fuzz must reach the server's answers, not only its closes.
    let answered: usize = statuses.values().sum();
    assert!(
        answered >= CASES / 2,
        "only {answered} responses to {CASES} cases"
    );
    assert!(statuses.contains_key(&200) && statuses.contains_key(&400));
    assert_eq!(
        threads(pid),
        threads_before,
        "a worker thread was lost (seed {seed:#x})"
    );
    assert_still_serves(&server, "/index.html", INDEX, "the fuzz run");
    assert_still_serves(&server, "/a.txt", b"0123456789abcdef\n", "the fuzz run");
}

/// Sends `raw`, half-closes, and reads until the server closes, or until what arrived is complete
/// responses followed by 50 ms of quiet (a kept-alive connection), or a reply followed by 300 ms of
/// quiet. A connection that sends nothing must close within 5 s (header_timeout is 0.5 s):
/// `closed == false` with no reply is a hang.
fn exchange_until_answered(addr: std::net::SocketAddr, raw: &[u8]) -> Exchange {
    use std::io::Write;
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .expect("write timeout");
    let _ = stream.write_all(raw);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let head_only = raw.starts_with(b"HEAD ");
    read_until_quiet(&mut stream, Duration::from_secs(5), |bytes| {
        if bytes.is_empty() {
            None
        } else if split_responses(bytes, head_only).1.is_empty() {
            Some(Duration::from_millis(50))
        } else {
            Some(Duration::from_millis(300))
        }
    })
}
