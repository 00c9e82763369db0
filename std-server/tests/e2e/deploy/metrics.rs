//! The `[metrics]` listener: `/health` and `/metrics` on a port of their own, scraped and parsed
//! strictly as the Prometheus text format, with values checked against the requests sent.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::client::{Conn, Response};
use crate::common::server::{Server, Signal};

/// One parsed exposition: family name -> (TYPE, samples as (name, labels, value)).
#[derive(Debug, Default)]
pub struct Exposition {
    pub families: BTreeMap<String, Family>,
}

/// A sample's labels, in the order written: (name, unescaped value).
type Labels = Vec<(String, String)>;

#[derive(Debug, Default)]
pub struct Family {
    pub kind: String,
    pub help: bool,
    pub samples: Vec<(String, Labels, f64)>,
}

impl Exposition {
    /// The value of the one sample `name` with exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = self
            .families
            .values()
            .flat_map(|f| &f.samples)
            .filter(|(n, l, _)| {
                n == name
                    && l.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v))
            })
            .map(|(_, _, v)| *v)
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        found[0]
    }
}

fn metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

fn sample_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse().map_err(|_| format!("bad value {s:?}")),
    }
}

/// `{a="x",b="y"}` -> labels and the rest of the line.
fn labels(s: &str) -> Result<(Labels, &str), String> {
    let mut rest = s.strip_prefix('{').ok_or("no {")?;
    let mut out = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((out, after));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, '\n')) | None => return Err("unterminated label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("label {name} twice"));
        }
        out.push((name.to_string(), value));
        rest = &rest[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err(format!("expected , or }} at {rest:?}"));
        }
    }
}

/// A strict reader of the Prometheus text format (0.0.4): every line a `# HELP`, a `# TYPE` or a
/// sample; a family's TYPE before its samples and once; valid metric and label names; no series
/// twice; a histogram's buckets with `le` increasing, counts cumulative, `+Inf` last and equal to
/// `_count`, and `_sum` present.
pub fn parse_exposition(text: &str) -> Result<Exposition, String> {
    if !text.ends_with('\n') {
        return Err("does not end with a newline".into());
    }
    let mut exp = Exposition::default();
    let mut seen = std::collections::HashSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (Some(word), Some(name)) = (parts.next(), parts.next()) else {
                return Err(format!("bad comment {line:?}"));
            };
            if !metric_name(name) {
                return Err(format!("bad metric name in {line:?}"));
            }
            let family = exp.families.entry(name.to_string()).or_default();
            match word {
                "HELP" => {
                    if family.help || parts.next().is_none_or(str::is_empty) {
                        return Err(format!("HELP twice or empty: {line:?}"));
                    }
                    family.help = true;
                }
                "TYPE" => {
                    let kind = parts.next().unwrap_or_default();
                    if !family.kind.is_empty() || !family.samples.is_empty() {
                        return Err(format!("TYPE late or twice: {line:?}"));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(format!("bad type {line:?}"));
                    }
                    family.kind = kind.to_string();
                    current = Some(name.to_string());
                }
                _ => return Err(format!("unknown comment {line:?}")),
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            return Err(format!("stray line {line:?}"));
        }
        let name_end = line.find(['{', ' ']).ok_or(format!("no value: {line:?}"))?;
        let name = &line[..name_end];
        if !metric_name(name) {
            return Err(format!("bad metric name {name:?}"));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            labels(&line[name_end..]).map_err(|e| format!("{e} in {line:?}"))?
        } else {
            (Vec::new(), &line[name_end..])
        };
        let mut fields = rest
            .strip_prefix(' ')
            .ok_or(format!("no space: {line:?}"))?
            .split(' ');
        let value = sample_value(fields.next().unwrap_or_default())?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>()
                .map_err(|_| format!("bad timestamp in {line:?}"))?;
        }
        if fields.next().is_some() {
            return Err(format!("trailing fields: {line:?}"));
        }
        let family_name = current
            .clone()
            .ok_or(format!("sample before any TYPE: {line:?}"))?;
        let family = exp.families.get_mut(&family_name).expect("current family");
        let belongs = match family.kind.as_str() {
            "histogram" => [
                format!("{family_name}_bucket"),
                format!("{family_name}_sum"),
                format!("{family_name}_count"),
            ]
            .contains(&name.to_string()),
            _ => name == family_name,
        };
        if !belongs {
            return Err(format!("{name} is not of family {family_name}"));
        }
        let mut key = labels.clone();
        key.sort();
        if !seen.insert((name.to_string(), key)) {
            return Err(format!("series twice: {line:?}"));
        }
        family.samples.push((name.to_string(), labels, value));
    }
    for (name, family) in &exp.families {
        if family.kind.is_empty() || !family.help {
            return Err(format!("{name}: no TYPE or no HELP"));
        }
        if family.kind == "counter" && !name.ends_with("_total") {
            return Err(format!("counter {name} does not end in _total"));
        }
        if family.kind == "histogram" {
            check_histogram(name, family)?;
        }
    }
    Ok(exp)
}

fn check_histogram(name: &str, family: &Family) -> Result<(), String> {
    let mut last_le = f64::NEG_INFINITY;
    let mut last_count = 0.0;
    let mut inf = None;
    for (sample, labels, value) in &family.samples {
        if sample.ends_with("_bucket") {
            let le = labels
                .iter()
                .find(|(k, _)| k == "le")
                .ok_or(format!("{name}: bucket without le"))?;
            let le = sample_value(&le.1)?;
            if inf.is_some() || le <= last_le || *value < last_count {
                return Err(format!("{name}: buckets out of order at le={le} ({value})"));
            }
            (last_le, last_count) = (le, *value);
            if le == f64::INFINITY {
                inf = Some(*value);
            }
        }
    }
    let count = family
        .samples
        .iter()
        .find(|(s, _, _)| s.ends_with("_count"))
        .ok_or(format!("{name}: no _count"))?
        .2;
    if !family.samples.iter().any(|(s, _, _)| s.ends_with("_sum")) {
        return Err(format!("{name}: no _sum"));
    }
    match inf {
        Some(inf) if inf == count => Ok(()),
        other => Err(format!("{name}: +Inf bucket {other:?}, count {count}")),
    }
}

#[test]
fn the_strict_parser_refuses_what_the_format_does_not_allow() {
    let good = "# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"b\\\"c\"} 3\n";
    assert!(parse_exposition(good).is_ok());
    for bad in [
        "# TYPE x_total counter\nx_total 1\n", // no HELP
        "# HELP x_total X.\n# TYPE x_total counter\nx_total 1", // no final newline
        "# HELP x_total X.\nx_total 1\n# TYPE x_total counter\n", // TYPE late
        "# HELP x_total X.\n# TYPE x_total counter\nx_total{a=b} 1\n", // unquoted
        "# HELP x_total X.\n# TYPE x_total counter\nx_total{1a=\"b\"} 1\n", // label name
        "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\nx_total 2\n", // twice
        "# HELP x X.\n# TYPE x counter\nx 1\n", // counter name
        "# HELP h X.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# HELP h X.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
        "# HELP h X.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
    ] {
        assert!(parse_exposition(bad).is_err(), "accepted {bad:?}");
    }
}

/// The metrics address from the line after the ready line.
pub fn metrics_addr(server: &Server) -> SocketAddr {
    let lines = server.wait_stdout_lines(1, Duration::from_secs(5));
    let line = lines
        .iter()
        .find_map(|l| l.strip_prefix("staticd metrics on http://"))
        .unwrap_or_else(|| panic!("no metrics line on stdout: {lines:?}"));
    line.strip_suffix("/metrics")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("bad metrics line {line:?}"))
}

fn get(addr: SocketAddr, raw: &str) -> Response {
    let mut conn = Conn::open(addr);
    conn.send(raw.as_bytes()).expect("send");
    if raw.starts_with("HEAD ") {
        conn.read_head_response()
    } else {
        conn.read_response()
    }
}

pub fn scrape(addr: SocketAddr) -> Exposition {
    let response = get(addr, "GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    parse_exposition(&response.text()).unwrap_or_else(|e| panic!("{e} in:\n{}", response.text()))
}

const CONFIG: &str = "[server]\nthreads = 2\n[metrics]\nenabled = true\nport = 0\n";

#[test]
fn metrics_count_what_was_served() {
    let small = vec![b'a'; 1000];
    let large = vec![b'b'; 5000];
    let server = Server::start(CONFIG, &[("a.txt", &small), ("b.txt", &large)]);
    let addr = metrics_addr(&server);
    let before = scrape(addr);
    for class in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
        assert_eq!(
            before.value("staticd_requests_total", &[("class", class)]),
            0.0
        );
    }
    assert_eq!(before.value("staticd_response_seconds_count", &[]), 0.0);

    let mut body_bytes = 0u64;
    let mut sent = [0u32; 5];
    let mut count = |r: &Response| {
        sent[usize::from(r.status / 100) - 1] += 1;
        body_bytes += r.body.len() as u64;
    };
    for _ in 0..3 {
        let r = server.get("/a.txt");
        assert_eq!(r.status, 200);
        count(&r);
    }
    let etag = server.get("/b.txt");
    count(&etag);
    let etag = etag.header("etag").expect("etag").to_string();
    let r = server.request(
        format!(
            "GET /b.txt HTTP/1.1\r\nHost: {}\r\nIf-None-Match: {etag}\r\n\r\n",
            server.host()
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 304);
    count(&r);
    for _ in 0..2 {
        let r = server.get("/missing.txt");
        assert_eq!(r.status, 404);
        count(&r);
    }
    // The main port serves files only: /metrics and /health are paths like any other there.
    for path in ["/metrics", "/health"] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path} on the main port");
        assert!(!r.text().contains("staticd_requests_total"));
        count(&r);
    }
    let total: u32 = sent.iter().sum();

    // The log line and the counters are written once the body is out: wait for them.
    let deadline = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let after = scrape(addr);
        if after.value("staticd_response_seconds_count", &[]) == f64::from(total)
            || Instant::now() > deadline
        {
            break after;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
        assert_eq!(
            after.value("staticd_requests_total", &[("class", class)]),
            f64::from(sent[i]),
            "{class}"
        );
    }
    assert_eq!(
        after.value("staticd_response_body_bytes_total", &[]),
        body_bytes as f64
    );
    assert_eq!(
        after.value("staticd_response_seconds_count", &[]),
        f64::from(total)
    );
    assert_eq!(
        after.value("staticd_response_seconds_bucket", &[("le", "+Inf")]),
        f64::from(total)
    );
    // Loopback answers from memory take well under 10 s each.
    assert_eq!(
        after.value("staticd_response_seconds_bucket", &[("le", "10")]),
        f64::from(total)
    );
    assert_eq!(after.families["staticd_open_connections"].kind, "gauge");
    assert_eq!(after.families["staticd_response_seconds"].kind, "histogram");

    // Three kept-alive connections are counted open, and no longer once closed.
    let mut held: Vec<Conn> = (0..3).map(|_| server.connect()).collect();
    for conn in &mut held {
        conn.send(format!("GET /a.txt HTTP/1.1\r\nHost: {}\r\n\r\n", server.host()).as_bytes())
            .unwrap();
        assert_eq!(conn.read_response().status, 200);
    }
    wait_for_open(addr, 3.0);
    drop(held);
    wait_for_open(addr, 0.0);
}

fn wait_for_open(addr: SocketAddr, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let open = scrape(addr).value("staticd_open_connections", &[]);
        if open == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "open connections {open}, want {want}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_metrics_port_serves_no_file_and_health_turns_503_on_stop() {
    let big = vec![b'z'; 32 << 20];
    let mut server = Server::start(CONFIG, &[("a.txt", b"file"), ("big.txt", &big)]);
    let addr = metrics_addr(&server);
    for target in [
        "/a.txt",
        "/",
        "/../a.txt",
        "/metrics/a.txt",
        "/health/../a.txt",
    ] {
        let r = get(addr, &format!("GET {target} HTTP/1.1\r\nHost: m\r\n\r\n"));
        assert_eq!(r.status, 404, "{target}");
        assert!(!r.text().contains("file"), "{target}: {}", r.text());
    }
    let r = get(
        addr,
        "POST /metrics HTTP/1.1\r\nHost: m\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = get(addr, "GET /health HTTP/1.1\r\nHost: m\r\n\r\n");
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    let r = get(addr, "HEAD /metrics HTTP/1.1\r\nHost: m\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = get(addr, "GET /he alth HTTP/1.1\r\nHost: m\r\n\r\n");
    assert_eq!(r.status, 400, "a malformed request line");

    // A download in flight keeps the server in its graceful stop; meanwhile /health says 503.
    let mut download = server.connect();
    download
        .send(format!("GET /big.txt HTTP/1.1\r\nHost: {}\r\n\r\n", server.host()).as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.signal(Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = get(addr, "GET /health HTTP/1.1\r\nHost: m\r\n\r\n");
        if r.status == 503 {
            assert_eq!(r.text(), "stopping\n");
            break;
        }
        assert!(Instant::now() < deadline, "/health still {}", r.status);
        std::thread::sleep(Duration::from_millis(20));
    }
    let response = download.read_response();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), big.len());
    assert!(
        server
            .wait_exit(Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
}
