//! The health endpoint and Prometheus metrics, on a listener of their own (`[metrics]`).
//!
//! Each worker counts into its own [`WorkerCounters`] with relaxed atomic adds (no lock and no
//! shared cache line on the request path); a scrape sums the workers. The metrics listener is one
//! blocking thread that answers `GET /metrics`, `GET /health` and nothing else: it never serves a
//! file, whatever the target.
//!
//! `/health` answers 200 while the server serves and 503 once a stop began, so a balancer's check
//! takes the server out while its in-flight responses finish.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::settings::MetricsConfig;
use staticd_core::parse::{Header, Method, ParserConfig, Status, parse_request};

use crate::log::ErrorLog;

/// Upper bounds of the response-time histogram's buckets, in milliseconds (the log's unit).
const BUCKETS_MS: [u64; 12] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];
/// A scraper gets this long to send its request and to read the answer.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest request head the metrics listener reads.
const MAX_HEAD_BYTES: usize = 4096;

/// One worker's counters, on a cache line (pair) of their own.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct WorkerCounters {
    /// Responses by status class, 1xx to 5xx.
    by_class: [AtomicU64; 5],
    /// Response body bytes that left.
    body_bytes: AtomicU64,
    opened: AtomicU64,
    closed: AtomicU64,
    /// Responses per histogram bucket (not cumulative); the last slot is above the last bound.
    buckets: [AtomicU64; BUCKETS_MS.len() + 1],
    sum_ms: AtomicU64,
}

impl WorkerCounters {
    /// One response: its status, the body bytes that left, and its time.
    pub fn record(&self, status: u16, body_bytes: u64, response_ms: u64) {
        let class = usize::from((status / 100).clamp(1, 5) - 1);
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.body_bytes.fetch_add(body_bytes, Ordering::Relaxed);
        let bucket = BUCKETS_MS
            .iter()
            .position(|&le| response_ms <= le)
            .unwrap_or(BUCKETS_MS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ms.fetch_add(response_ms, Ordering::Relaxed);
    }

    pub fn opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    pub fn closed(&self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every worker's counters, and whether the server is stopping.
#[derive(Debug)]
pub struct Metrics {
    workers: Box<[Arc<WorkerCounters>]>,
    next: AtomicUsize,
    stopping: AtomicBool,
}

impl Metrics {
    pub fn new(workers: usize) -> Metrics {
        Metrics {
            workers: (0..workers.max(1))
                .map(|_| Arc::new(WorkerCounters::default()))
                .collect(),
            next: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        }
    }

    /// The counters for a starting worker: each generation's workers take the slots in turn, so
    /// after a reload the new worker `i` counts on where the old one left off.
    pub fn claim(&self) -> Arc<WorkerCounters> {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        Arc::clone(&self.workers[slot])
    }

    /// From now on `/health` answers 503.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// The Prometheus text exposition (format 0.0.4) of the workers' sums.
    pub fn render(&self) -> String {
        let sum = |f: &dyn Fn(&WorkerCounters) -> &AtomicU64| -> u64 {
            self.workers
                .iter()
                .map(|w| f(w).load(Ordering::Relaxed))
                .fold(0u64, u64::wrapping_add)
        };
        let mut out = String::with_capacity(2048);
        let _ = writeln!(
            out,
            "# HELP staticd_requests_total Responses sent, by status class.\n\
             # TYPE staticd_requests_total counter"
        );
        for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
            let n = sum(&|w| &w.by_class[i]);
            let _ = writeln!(out, "staticd_requests_total{{class=\"{class}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP staticd_response_body_bytes_total Response body bytes sent.\n\
             # TYPE staticd_response_body_bytes_total counter\n\
             staticd_response_body_bytes_total {}",
            sum(&|w| &w.body_bytes)
        );
        // Read closed before opened: a connection opened and closed between the two reads is
        // then counted open for this scrape rather than making the gauge go below zero.
        let closed = sum(&|w| &w.closed);
        let opened = sum(&|w| &w.opened);
        let _ = writeln!(
            out,
            "# HELP staticd_open_connections Client connections open now.\n\
             # TYPE staticd_open_connections gauge\n\
             staticd_open_connections {}",
            opened.saturating_sub(closed)
        );
        let _ = writeln!(
            out,
            "# HELP staticd_response_seconds Time from a complete request head to the last byte \
             of its response handed to the kernel.\n\
             # TYPE staticd_response_seconds histogram"
        );
        let mut cumulative = 0u64;
        for (i, le) in BUCKETS_MS.iter().enumerate() {
            cumulative += sum(&|w| &w.buckets[i]);
            let _ = writeln!(
                out,
                "staticd_response_seconds_bucket{{le=\"{}\"}} {cumulative}",
                seconds(*le)
            );
        }
        // +Inf and _count are the same sum of every slot, read once.
        cumulative += sum(&|w| &w.buckets[BUCKETS_MS.len()]);
        let _ = writeln!(
            out,
            "staticd_response_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n\
             staticd_response_seconds_sum {}\n\
             staticd_response_seconds_count {cumulative}",
            seconds(sum(&|w| &w.sum_ms))
        );
        out
    }
}

/// Milliseconds as a decimal number of seconds (`0.001`, `2.5`, `10`).
fn seconds(ms: u64) -> String {
    let (whole, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_owned()
    }
}

/// Binds the metrics listener of `config` (before the ready line, so a bad address fails start-up).
pub fn bind(config: &MetricsConfig) -> io::Result<TcpListener> {
    let addr = (config.host.as_str(), config.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::AddrNotAvailable, "no address"))?;
    TcpListener::bind(addr)
}

/// Serves `/metrics` and `/health` on `listener` from a thread of its own, until the process ends.
pub fn spawn(listener: TcpListener, metrics: Arc<Metrics>, errors: ErrorLog) -> io::Result<()> {
    std::thread::Builder::new()
        .name("staticd-metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                match stream {
                    // One scrape at a time, each bounded by SCRAPE_TIMEOUT: a slow scraper
                    // delays the next scrape, never a client of the site.
                    Ok(stream) => {
                        let _ = answer(stream, &metrics);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        errors.error(format_args!("metrics listener: accept: {e}"));
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        })?;
    Ok(())
}

/// Reads one request and answers it; the connection closes after the answer.
fn answer(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    stream.set_read_timeout(Some(SCRAPE_TIMEOUT))?;
    stream.set_write_timeout(Some(SCRAPE_TIMEOUT))?;
    let mut buf = [0u8; MAX_HEAD_BYTES];
    let mut len = 0;
    let parser = ParserConfig {
        max_head_bytes: MAX_HEAD_BYTES,
    };
    let (status, content_type, body) = loop {
        let n = stream.read(&mut buf[len..])?;
        if n == 0 {
            return Ok(());
        }
        len += n;
        let mut headers = [Header::EMPTY; 32];
        match parse_request(&parser, &buf[..len], &mut headers) {
            Ok(Status::Partial) => continue,
            Err(e) => break (e.status().as_u16(), "text/plain", String::new()),
            Ok(Status::Complete((_, request))) => {
                let path = request
                    .target
                    .split(|&b| b == b'?')
                    .next()
                    .unwrap_or_default();
                let head_only = request.method == Method::Head;
                if !matches!(request.method, Method::Get | Method::Head) {
                    break (405, "text/plain", "GET or HEAD only\n".to_owned());
                }
                let (status, content_type, body) = match path {
                    b"/metrics" => (200, "text/plain; version=0.0.4", metrics.render()),
                    b"/health" if metrics.stopping.load(Ordering::SeqCst) => {
                        (503, "text/plain", "stopping\n".to_owned())
                    }
                    b"/health" => (200, "text/plain", "ok\n".to_owned()),
                    _ => (
                        404,
                        "text/plain",
                        "not found: /health and /metrics only\n".to_owned(),
                    ),
                };
                let body = if head_only { String::new() } else { body };
                break (status, content_type, body);
            }
        }
    };
    let reason = staticd_core::StatusCode::from_u16(status).map_or("", |s| s.reason());
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n",
        body.len()
    );
    if status == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body);
    stream.write_all(out.as_bytes())?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_inf_is_the_count() {
        let metrics = Metrics::new(2);
        let (a, b) = (metrics.claim(), metrics.claim());
        a.record(200, 10, 0);
        a.record(304, 0, 7);
        b.record(404, 5, 10_001);
        b.record(503, 0, 1);
        a.opened();
        a.opened();
        b.closed();
        let text = metrics.render();
        for line in [
            "staticd_requests_total{class=\"2xx\"} 1",
            "staticd_requests_total{class=\"3xx\"} 1",
            "staticd_requests_total{class=\"4xx\"} 1",
            "staticd_requests_total{class=\"5xx\"} 1",
            "staticd_response_body_bytes_total 15",
            "staticd_open_connections 1",
            "staticd_response_seconds_bucket{le=\"0.001\"} 2",
            "staticd_response_seconds_bucket{le=\"0.005\"} 2",
            "staticd_response_seconds_bucket{le=\"0.01\"} 3",
            "staticd_response_seconds_bucket{le=\"10\"} 3",
            "staticd_response_seconds_bucket{le=\"+Inf\"} 4",
            "staticd_response_seconds_sum 10.009",
            "staticd_response_seconds_count 4",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        // A third claim wraps to the first worker's counters (the next generation's worker 0).
        assert!(Arc::ptr_eq(&metrics.claim(), &a));
    }

    #[test]
    fn seconds_are_short_decimals() {
        assert_eq!(seconds(1), "0.001");
        assert_eq!(seconds(250), "0.25");
        assert_eq!(seconds(2500), "2.5");
        assert_eq!(seconds(10_000), "10");
        assert_eq!(seconds(0), "0");
    }
}
