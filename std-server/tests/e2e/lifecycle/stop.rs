//! Graceful stop: SIGTERM and SIGINT stop accepting, let in-flight responses finish byte-exact, close idle
//! connections, flush every access-log line, and exit 0.

use crate::common::*;
use std::io::Read;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

/// Waits at most `within` for the process to exit after `after`, and requires exit status 0.
fn exits_zero_within(server: &mut Server, within: Duration, after: &str) {
    let status = server
        .wait_exit(within)
        .unwrap_or_else(|| panic!("still running {within:?} after {after}"));
    assert_eq!(
        status.code(),
        Some(0),
        "{after}: exit status; stderr {:?}",
        server.stderr()
    );
}

fn stops_promptly_with_idle_clients(signal: Signal) {
    let mut server = Server::start("", &[("a.txt", b"a")]);
    let host = server.host();
    // Idle keep-alive clients after a request, and a client that never sent anything.
    let mut idle: Vec<Conn> = (0..5)
        .map(|_| {
            let mut conn = server.connect();
            conn.send(format!("GET /a.txt HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
                .unwrap();
            assert_eq!(conn.read_response().status, 200);
            conn
        })
        .collect();
    idle.push(server.connect());
    thread::sleep(Duration::from_millis(100));

    let signalled = Instant::now();
    server.signal(signal);
    exits_zero_within(
        &mut server,
        Duration::from_secs(5),
        &format!("{signal:?} with only idle clients"),
    );
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "{signal:?}: took {:?} to stop with only idle clients",
        signalled.elapsed()
    );
    for conn in &mut idle {
        assert!(
            matches!(
                conn.wait_closed(Duration::from_secs(1)),
                CloseWait::Closed(_)
            ),
            "idle connections are closed"
        );
    }
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    let lines = server.access_log();
    assert_eq!(
        lines.lines().count(),
        5,
        "every line written before exit:\n{lines}"
    );
}

#[test]
fn sigterm_stops_promptly_with_idle_clients_and_exits_0() {
    stops_promptly_with_idle_clients(Signal::TERM);
}

#[test]
fn sigint_stops_promptly_with_idle_clients_and_exits_0() {
    stops_promptly_with_idle_clients(Signal::INT);
}

#[test]
fn sigterm_during_a_large_download_lets_it_finish_intact() {
    const SIZE: usize = 50 * 1024 * 1024;
    let big = pseudo_random_bytes(SIZE, 2026);
    let mut server = Server::builder().file("big.mp4", &big).start();
    let host = server.host();

    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!("GET /big.mp4 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();

    // Read the head and the first MiB slowly, so the download is surely in flight.
    let mut received = Vec::with_capacity(SIZE + 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    while received.len() < 1024 * 1024 {
        let n = stream.read(&mut chunk).expect("read before the signal");
        assert!(n > 0, "closed early");
        received.extend_from_slice(&chunk[..n]);
        thread::sleep(Duration::from_millis(5));
    }
    server.signal(Signal::TERM);
    let signalled = Instant::now();

    // Stop accepting: a new client is refused or closed, never served.
    thread::sleep(Duration::from_millis(300));
    if let Ok(mut late) = TcpStream::connect_timeout(&server.addr(), Duration::from_secs(1)) {
        late.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let _ = std::io::Write::write_all(
            &mut late,
            format!("GET /big.mp4 HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        );
        let mut first = [0u8; 12];
        let got = late.read(&mut first).unwrap_or(0);
        assert!(
            !first[..got].starts_with(b"HTTP/1.1 200"),
            "a connection accepted after SIGTERM was served"
        );
    }

    // Then read the rest at about 25 MB/s, bounded in time.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "download broken after SIGTERM at {} bytes: {e}",
                received.len()
            ),
        }
        if received.len() % (256 * 1024) < chunk.len() {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(Instant::now() < deadline, "download did not finish");
    }
    let head_end = find(&received, b"\r\n\r\n").expect("a response head") + 4;
    let head = parse_response_head(&received[..head_end]).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length(), Some(SIZE as u64));
    let body = &received[head_end..];
    assert_eq!(body.len(), SIZE, "the whole body arrived after SIGTERM");
    if let Some(at) = body.iter().zip(&big).position(|(a, b)| a != b) {
        panic!("body differs from the file at byte {at}");
    }

    exits_zero_within(
        &mut server,
        Duration::from_secs(10),
        "the download finished",
    );
    eprintln!(
        "download finished and process exited {:?} after SIGTERM",
        signalled.elapsed()
    );

    let log = server.access_log();
    let lines: Vec<AccessLine> = log
        .lines()
        .map(|l| parse_access_line(l).unwrap_or_else(|| panic!("not Combined Log Format: {l:?}")))
        .collect();
    assert!(
        lines.iter().any(|l| l.request == "GET /big.mp4 HTTP/1.1"
            && l.status == 200
            && l.bytes == SIZE.to_string()),
        "the download is in the access log:\n{log}"
    );
}

#[test]
fn every_access_log_line_is_written_before_exit() {
    let mut server = Server::start("", &[("a.txt", b"a")]);
    let host = server.host();
    let mut conn = server.connect();
    let batch: String = (0..40)
        .map(|i| format!("GET /a.txt?i={i} HTTP/1.1\r\nHost: {host}\r\n\r\n"))
        .collect();
    conn.send(batch.as_bytes()).unwrap();
    for _ in 0..40 {
        assert_eq!(conn.read_response().status, 200);
    }
    // At once, before the log thread's flush timer can have fired.
    server.signal(Signal::TERM);
    exits_zero_within(&mut server, Duration::from_secs(5), "SIGTERM");
    let log = server.access_log();
    let requests: Vec<String> = log
        .lines()
        .map(|l| {
            parse_access_line(l)
                .unwrap_or_else(|| panic!("{l:?}"))
                .request
        })
        .collect();
    assert_eq!(requests.len(), 40, "all 40 lines flushed at exit:\n{log}");
    for i in 0..40 {
        let want = format!("GET /a.txt?i={i} HTTP/1.1");
        assert!(requests.contains(&want), "missing {want}");
    }
}

#[test]
fn sigterm_with_the_access_log_on_stdout_flushes_it() {
    let mut server = Server::builder()
        .access_log_stdout()
        .file("a.txt", b"a")
        .start();
    for _ in 0..5 {
        assert_eq!(server.get("/a.txt").status, 200);
    }
    server.signal(Signal::TERM);
    exits_zero_within(&mut server, Duration::from_secs(5), "SIGTERM");
    let lines = server.wait_stdout_lines(5, Duration::from_secs(1));
    assert_eq!(lines.len(), 5, "{lines:?}");
    for line in &lines {
        assert!(parse_access_line(line).is_some(), "{line:?}");
    }
}

#[test]
fn the_error_log_records_start_up_and_shutdown_apart_from_the_access_log() {
    // A relative path: the harness runs staticd in the config file's folder, so either reading of
    // "relative" lands in the same place.
    let mut server = Server::start("[log]\nerror_log = \"error.log\"\n", &[("a.txt", b"a")]);
    assert_eq!(server.get("/a.txt").status, 200);
    let error_log = server.dir().join("error.log");
    let mut started = String::new();
    for _ in 0..100 {
        started = std::fs::read_to_string(&error_log).unwrap_or_default();
        if !started.trim().is_empty() {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !started.trim().is_empty(),
        "a start-up line in the error log"
    );
    server.signal(Signal::TERM);
    exits_zero_within(&mut server, Duration::from_secs(5), "SIGTERM");
    let at_exit = std::fs::read_to_string(&error_log).unwrap();
    assert!(
        at_exit.lines().count() > started.lines().count(),
        "a shutdown line in the error log:\n{at_exit}"
    );
    for line in at_exit.lines() {
        assert!(
            parse_access_line(line).is_none(),
            "an access line in the error log: {line:?}"
        );
    }
    assert_eq!(
        server.access_log().lines().count(),
        1,
        "the access log holds only the request"
    );
}
