//! Request head parsing: staticd-core beside httparse on the same bytes in the same run.
//!
//! `cargo bench -p staticd-core --bench parse` (add `-- --quick` for a short run). After the criterion
//! groups it prints a table of ns/request from a plain timed loop (best of several rounds, both parsers
//! interleaved) and the ratio staticd/httparse.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use staticd_core::parse::{Header, ParserConfig, Status, parse_request};

/// A real Chromium navigation (headless Chromium 156, captured on loopback; port normalised).
const CHROMIUM_GET: &[u8] = include_bytes!("chromium_get.bin");
/// A real `curl http://host/index.html` (curl 7.88.1).
const CURL_GET: &[u8] = include_bytes!("curl_get.bin");

/// A request with 40 header fields, as a browser behind a few proxies with cookies and tracing sends.
fn forty_headers() -> Vec<u8> {
    let mut out = Vec::from(&b"GET /assets/app.3f9c2a.js?v=1 HTTP/1.1\r\n"[..]);
    let fields: [(&str, &str); 16] = [
        ("Host", "static.example.com"),
        ("Connection", "keep-alive"),
        (
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
        ),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9,de;q=0.8"),
        ("Referer", "https://static.example.com/index.html"),
        ("Sec-Fetch-Site", "same-origin"),
        ("Sec-Fetch-Mode", "no-cors"),
        ("Sec-Fetch-Dest", "script"),
        ("If-None-Match", "\"5d8c72a5edda8d6a\""),
        ("If-Modified-Since", "Fri, 27 Nov 2026 01:02:03 GMT"),
        (
            "Cookie",
            "session=6c1d2e3f4a5b6c7d8e9f; theme=dark; consent=1; _ga=GA1.2.123456789.1234567890",
        ),
        ("X-Forwarded-For", "203.0.113.7, 198.51.100.23"),
        ("X-Forwarded-Proto", "https"),
        ("Via", "1.1 edge-proxy, 1.1 cache"),
    ];
    for (name, value) in fields {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    for i in 0..24 {
        out.extend_from_slice(
            format!("X-Trace-Attribute-{i}: value-{i:04}-abcdef0123456789\r\n").as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out
}

const SLOTS: usize = 64;

#[inline(never)]
fn staticd(buf: &[u8]) -> usize {
    let config = ParserConfig::default();
    let mut headers = [Header::EMPTY; SLOTS];
    match parse_request(&config, buf, &mut headers) {
        Ok(Status::Complete((len, req))) => len + req.headers.len(),
        _ => 0,
    }
}

#[inline(never)]
fn httparse(buf: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; SLOTS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len + req.headers.len(),
        _ => 0,
    }
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("chromium_get", CHROMIUM_GET.to_vec()),
        ("curl_get", CURL_GET.to_vec()),
        ("forty_headers", forty_headers()),
    ]
}

fn criterion_groups(c: &mut Criterion) {
    for (name, buf) in inputs() {
        assert_eq!(
            staticd(&buf),
            httparse(&buf),
            "{name}: the parsers disagree"
        );
        assert_ne!(staticd(&buf), 0, "{name}: not a complete request");
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function("staticd", |b| b.iter(|| staticd(black_box(&buf))));
        group.bench_function("httparse", |b| b.iter(|| httparse(black_box(&buf))));
        group.finish();
    }
}

/// Nanoseconds per call of `f`, the best of `rounds` rounds of `budget` each.
fn ns_per_call(f: fn(&[u8]) -> usize, buf: &[u8], rounds: u32, budget: Duration) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let mut calls = 0u64;
        let start = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..256 {
                black_box(f(black_box(buf)));
            }
            calls += 256;
        }
        let ns = start.elapsed().as_nanos() as f64 / calls as f64;
        best = best.min(ns);
    }
    best
}

fn print_table(quick: bool) {
    let (rounds, budget) = if quick {
        (5, Duration::from_millis(40))
    } else {
        (10, Duration::from_millis(100))
    };
    println!();
    println!("| request | bytes | fields | staticd ns/req | httparse ns/req | staticd/httparse |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, buf) in inputs() {
        let mut ours = f64::INFINITY;
        let mut theirs = f64::INFINITY;
        // Interleaved so that both see the same machine state.
        for _ in 0..rounds {
            ours = ours.min(ns_per_call(staticd, &buf, 1, budget));
            theirs = theirs.min(ns_per_call(httparse, &buf, 1, budget));
        }
        let fields = buf.windows(2).filter(|w| w == b"\r\n").count() - 2;
        println!(
            "| {name} | {} | {fields} | {ours:.1} | {theirs:.1} | {:.2} |",
            buf.len(),
            ours / theirs
        );
    }
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let mut criterion = Criterion::default().configure_from_args();
    criterion_groups(&mut criterion);
    criterion.final_summary();
    // `cargo test --benches` runs this binary without `--bench`: keep that a quick smoke run.
    if std::env::args().any(|arg| arg == "--bench") {
        print_table(quick);
    }
}
