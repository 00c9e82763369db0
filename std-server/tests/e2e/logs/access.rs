//! The logs: the access log in the Combined Log Format exactly, one line per answered request (400s
//! included), escaped quotes and backslashes, lines on disk within about a second, nothing else in
//! the file, the same on stdout with `access_log = "-"`; an unwritable access log reported once on
//! the error log while serving goes on.

use crate::common::fixtures::INDEX;
use crate::common::*;
use std::thread;
use std::time::{Duration, Instant};

const PAGE: &[u8] = b"<p>page</p>\n";

fn site() -> ServerBuilder {
    Server::builder()
        .file("page.html", PAGE)
        .file("dir/index.html", b"<p>dir</p>")
        .file("tool.exe", b"MZ")
}

/// `\"` -> `"`, `\\` -> `\`, `\xHH` -> that byte.
fn unescape(field: &str) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes[i + 1] {
                b'x' => {
                    out.push(u8::from_str_radix(&field[i + 2..i + 4], 16).unwrap());
                    i += 4;
                }
                other => {
                    out.push(other);
                    i += 2;
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// One request sent on its own connection, what we expect to find logged about it.
struct Expected {
    raw: String,
    head_only: bool,
    request_line: Option<&'static str>,
    referer: &'static str,
    user_agent: &'static str,
}

#[test]
fn every_answered_request_has_one_combined_log_format_line() {
    let server = site().start();
    let host = server.host();
    let plain = |line: &'static str| Expected {
        raw: format!("{line}\r\nHost: {host}\r\n\r\n"),
        head_only: line.starts_with("HEAD"),
        request_line: Some(line),
        referer: "-",
        user_agent: "-",
    };
    let mut cases = vec![
        plain("GET /page.html HTTP/1.1"),
        plain("HEAD /page.html HTTP/1.1"),
        plain("GET /missing.html HTTP/1.1"),
        plain("GET /tool.exe HTTP/1.1"),
        plain("GET /dir HTTP/1.1"),
        plain("GET /dir/ HTTP/1.1"),
        plain("DELETE /page.html HTTP/1.1"),
        plain("OPTIONS * HTTP/1.1"),
        plain("GET /page.html HTTP/2.0"),
        plain("GET /page.html?x=1&y=%20 HTTP/1.0"),
        Expected {
            raw: format!(
                "GET /page.html HTTP/1.1\r\nHost: {host}\r\nReferer: http://example.test/start?a=b\r\nUser-Agent: Mozilla/5.0 (X11; Linux) test/1\r\n\r\n"
            ),
            head_only: false,
            request_line: Some("GET /page.html HTTP/1.1"),
            referer: "http://example.test/start?a=b",
            user_agent: "Mozilla/5.0 (X11; Linux) test/1",
        },
        // Malformed: answered 400, and logged.
        Expected {
            raw: format!("GET /page.html HTTP/1.1\r\nHost: {host}\r\nNo colon\r\n\r\n"),
            head_only: false,
            request_line: None,
            referer: "-",
            user_agent: "-",
        },
        Expected {
            raw: "GET /page.html HTTP/1.1\r\n\r\n".to_string(),
            head_only: false,
            request_line: Some("GET /page.html HTTP/1.1"),
            referer: "-",
            user_agent: "-",
        },
        Expected {
            raw: format!(
                "GET /page.html HTTP/1.1\r\nHost: {host}\r\nContent-Length: 99999999\r\n\r\n"
            ),
            head_only: false,
            request_line: Some("GET /page.html HTTP/1.1"),
            referer: "-",
            user_agent: "-",
        },
    ];
    // Also several requests on one keep-alive connection.
    let mut responses = Vec::new();
    for case in &cases {
        let mut conn = server.connect();
        conn.send(case.raw.as_bytes()).unwrap();
        let r = if case.head_only {
            conn.read_head_response()
        } else {
            conn.read_response()
        };
        responses.push(r);
    }
    let mut conn = server.connect();
    for _ in 0..3 {
        conn.send(
            format!("GET /page.html HTTP/1.1\r\nHost: {host}\r\nUser-Agent: keepalive\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        responses.push(conn.read_response());
        cases.push(Expected {
            raw: String::new(),
            head_only: false,
            request_line: Some("GET /page.html HTTP/1.1"),
            referer: "-",
            user_agent: "keepalive",
        });
    }

    let lines = server.wait_access_log_lines(cases.len(), Duration::from_secs(3));
    // Give a server that logs too much a moment to show it.
    std::thread::sleep(Duration::from_millis(300));
    let lines_now: Vec<String> = server.access_log().lines().map(str::to_string).collect();
    assert_eq!(
        lines_now.len(),
        cases.len(),
        "one line per answered request and nothing else:\n{}",
        lines_now.join("\n")
    );
    let mut parsed: Vec<Option<AccessLine>> = lines
        .iter()
        .map(|l| {
            Some(parse_access_line(l).unwrap_or_else(|| panic!("not Combined Log Format: {l:?}")))
        })
        .collect();
    for line in parsed.iter().flatten() {
        assert_eq!(
            (
                line.client.as_str(),
                line.ident.as_str(),
                line.user.as_str()
            ),
            ("127.0.0.1", "-", "-")
        );
        let t = parse_clf_time(&line.time).unwrap();
        assert!(t.abs_diff(now_unix()) <= 10, "time {:?}", line.time);
    }
    // Match each request to a line (workers may log in a slightly different order than they answer);
    // the cases whose request line is not pinned down go last so they cannot take another's line.
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by_key(|&i| cases[i].request_line.is_none());
    for i in order {
        let (case, response) = (&cases[i], &responses[i]);
        let expected_bytes = if case.head_only || response.body.is_empty() {
            vec!["0".to_string(), "-".to_string()]
        } else {
            vec![response.body.len().to_string()]
        };
        let position = parsed.iter().position(|p| {
            p.as_ref().is_some_and(|l| {
                l.status == response.status
                    && case.request_line.is_none_or(|rl| l.request == rl)
                    && expected_bytes.contains(&l.bytes)
                    && l.referer == case.referer
                    && l.user_agent == case.user_agent
            })
        });
        let Some(position) = position else {
            panic!(
                "no log line for {:?} -> {} (bytes {expected_bytes:?}, referer {:?}, agent {:?}) in\n{}",
                case.request_line.unwrap_or(&case.raw),
                response.status,
                case.referer,
                case.user_agent,
                lines.join("\n")
            )
        };
        parsed[position] = None;
    }
}

#[test]
fn quotes_and_backslashes_are_escaped() {
    let server = site().start();
    let host = server.host();
    let agent = r#"evil "agent" \ back\\slash"#;
    let referer = r#"http://x.test/"quoted"\"#;
    let r = server.request(
        format!("GET /page.html HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nReferer: {referer}\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 200);
    // A quote in the target is not a valid request-target: a 400, logged with the line escaped.
    let bad_line = r#"GET /a"b\c.html HTTP/1.1"#;
    let r = server.request(format!("{bad_line}\r\nHost: {host}\r\n\r\n").as_bytes());
    assert_eq!(r.status, 400);

    let lines = server.wait_access_log_lines(2, Duration::from_secs(3));
    assert_eq!(lines.len(), 2, "{lines:?}");
    // Two connections: the two lines may come in either order.
    let parsed: Vec<AccessLine> = lines
        .iter()
        .map(|l| parse_access_line(l).unwrap_or_else(|| panic!("unparseable (escaping?): {l:?}")))
        .collect();
    let first = parsed
        .iter()
        .find(|l| l.status == 200)
        .expect("the 200 line");
    let second = parsed
        .iter()
        .find(|l| l.status == 400)
        .expect("the 400 line");
    assert_eq!(first.user_agent, r#"evil \"agent\" \\ back\\\\slash"#);
    assert_eq!(first.referer, r#"http://x.test/\"quoted\"\\"#);
    assert_eq!(unescape(&first.user_agent), agent.as_bytes());
    assert_eq!(second.status, 400);
    assert_eq!(
        unescape(&second.request),
        bad_line.as_bytes(),
        "the request line as sent, escaped"
    );
}

#[test]
fn a_line_reaches_the_file_within_about_a_second() {
    let server = site().start();
    let mut worst = Duration::ZERO;
    for i in 1..=3 {
        let r = server.get("/page.html");
        assert_eq!(r.status, 200);
        let answered = Instant::now();
        let lines = server.wait_access_log_lines(i, Duration::from_secs(3));
        assert_eq!(lines.len(), i, "line {i} never arrived");
        worst = worst.max(answered.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        worst <= Duration::from_millis(1500),
        "a line took {worst:?} to reach the file"
    );
}

#[test]
fn pipelined_requests_each_get_a_line() {
    let server = site().start();
    let host = server.host();
    let mut conn = server.connect();
    let batch: String = (0..10)
        .map(|i| format!("GET /page.html?n={i} HTTP/1.1\r\nHost: {host}\r\n\r\n"))
        .collect();
    conn.send(batch.as_bytes()).unwrap();
    for _ in 0..10 {
        assert_eq!(conn.read_response().status, 200);
    }
    let lines = server.wait_access_log_lines(10, Duration::from_secs(3));
    assert_eq!(lines.len(), 10, "{lines:?}");
    let mut seen: Vec<String> = lines
        .iter()
        .map(|l| {
            parse_access_line(l)
                .unwrap_or_else(|| panic!("{l:?}"))
                .request
        })
        .collect();
    seen.sort();
    let mut want: Vec<String> = (0..10)
        .map(|i| format!("GET /page.html?n={i} HTTP/1.1"))
        .collect();
    want.sort();
    assert_eq!(seen, want);
}

#[test]
fn access_log_dash_goes_to_stdout_after_the_ready_line() {
    let server = site().access_log_stdout().start();
    assert_eq!(server.get("/page.html").status, 200);
    assert_eq!(server.get("/nope.html").status, 404);
    let lines = server.wait_stdout_lines(2, Duration::from_secs(3));
    assert_eq!(lines.len(), 2, "two log lines on stdout: {lines:?}");
    // Two connections may be served by two workers: the spec fixes no order between them.
    let mut seen: Vec<(String, u16)> = lines
        .iter()
        .map(|l| {
            let p =
                parse_access_line(l).unwrap_or_else(|| panic!("not Combined Log Format: {l:?}"));
            (p.request, p.status)
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("GET /nope.html HTTP/1.1".to_string(), 404),
            ("GET /page.html HTTP/1.1".to_string(), 200)
        ]
    );
    assert!(
        !server.dir().join("access.log").exists(),
        "no file when the log goes to stdout"
    );
}

/// Error-log lines about the access log failing to be written.
fn access_log_problem_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            ["access", "/dev/full", "no space", "os error 28", "enospc"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn an_unwritable_access_log_is_reported_once_and_serving_goes_on() {
    let server = Server::builder()
        .config("[log]\naccess_log = \"/dev/full\"\n")
        .file("index.html", INDEX)
        .start();
    // Requests over about 3.5 s, so the log thread tries (and fails) to flush several times.
    let started = Instant::now();
    let mut served = 0;
    for i in 0..70 {
        if i % 2 == 0 {
            assert_still_serves(&server, "/index.html", INDEX, "an access-log write failure");
        } else {
            let mut conn = server.connect();
            conn.send(
                format!(
                    "GET /index.html HTTP/1.1\r\nHost: {}\r\n\r\n",
                    server.host()
                )
                .as_bytes(),
            )
            .expect("send");
            for _ in 0..3 {
                let r = conn.read_response();
                assert_eq!(r.status, 200);
                conn.send(
                    format!(
                        "GET /index.html HTTP/1.1\r\nHost: {}\r\n\r\n",
                        server.host()
                    )
                    .as_bytes(),
                )
                .expect("send on keep-alive");
            }
            let r = conn.read_response();
            assert_eq!(r.status, 200);
        }
        served += 1;
        thread::sleep(Duration::from_millis(50));
    }
    thread::sleep(Duration::from_millis(1500));
    println!(
        "{served} rounds of requests answered in {:?} with access_log = /dev/full",
        started.elapsed()
    );
    let stderr = server.stderr();
    let problems = access_log_problem_lines(&stderr);
    println!("error log:\n{stderr}");
    assert_eq!(
        problems.len(),
        1,
        "the unwritable access log must be reported exactly once, got {} lines:\n{stderr}",
        problems.len()
    );
    assert!(server_alive(&server));
    assert_still_serves(&server, "/index.html", INDEX, "the access-log report");
}

/// A client that leaves in the middle of a download is logged with the body bytes that were
/// sent, not the length promised: at least what it read, less than the whole file.
#[test]
fn an_interrupted_download_logs_the_bytes_actually_sent() {
    use std::io::{Read, Write};
    // Far more than the kernel's socket buffers hold, so the server is still sending when the
    // client leaves.
    const LEN: usize = 32 * 1024 * 1024;
    let big = vec![7u8; LEN];
    let server = Server::builder()
        .file("big.bin", &big)
        .config("[files]\nallowed_extensions = [\".bin\"]\n")
        .start();
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = vec![0u8; 1024 * 1024];
    stream.read_exact(&mut got).unwrap();
    drop(stream);
    let lines = server.wait_access_log_lines(1, Duration::from_secs(5));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let fields: Vec<&str> = lines[0].split('"').collect();
    let status_and_bytes: Vec<&str> = fields[2].split_whitespace().collect();
    assert_eq!(status_and_bytes[0], "200", "{}", lines[0]);
    let logged: usize = status_and_bytes[1].parse().unwrap();
    assert!(
        logged > 0 && logged < LEN,
        "logged {logged} of {LEN} bytes for a client that read 1 MiB and left: {}",
        lines[0]
    );
}
