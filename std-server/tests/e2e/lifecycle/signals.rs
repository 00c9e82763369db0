//! Signals a running staticd receives from an operator or a log rotator: none of them kills the
//! process or loses a logged line. SIGUSR1 reopens the log files (the rotator's `postrotate`);
//! SIGHUP reloads the settings (tests in reload.rs).

use crate::common::*;
use std::collections::HashMap;
use std::time::Duration;

/// Every `GET /a.txt?n=N` request line in `text`, by N, counted; a last line still being
/// written (no newline yet) is left out.
fn numbered_requests(text: &str) -> HashMap<u32, usize> {
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    let mut seen = HashMap::new();
    for line in complete.lines() {
        let parsed = parse_access_line(line).unwrap_or_else(|| panic!("not a log line: {line:?}"));
        let n = parsed
            .request
            .strip_prefix("GET /a.txt?n=")
            .and_then(|rest| rest.strip_suffix(" HTTP/1.1"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected request {:?}", parsed.request));
        *seen.entry(n).or_insert(0) += 1;
    }
    seen
}

/// Sends `GET /a.txt?n=N` for each N in `range`, each on one keep-alive connection per call.
fn send_numbered(server: &Server, range: std::ops::Range<u32>) {
    let mut conn = server.connect();
    for n in range {
        conn.send(
            format!(
                "GET /a.txt?n={n} HTTP/1.1\r\nHost: {}\r\n\r\n",
                server.host()
            )
            .as_bytes(),
        )
        .expect("send");
        assert_eq!(conn.read_response().status, 200, "request {n}");
    }
}

#[test]
fn sigusr1_reopens_the_access_log_and_every_line_lands_in_exactly_one_file() {
    let mut server = Server::builder()
        .config("[server]\nthreads = 2\n")
        .file("a.txt", b"a")
        .start();
    let log = server.dir().join("access.log");
    let rotated = server.dir().join("access.log.1");
    const BEFORE: u32 = 150;
    const TOTAL: u32 = 300;

    // Two clients keep requesting while the log is renamed and the signal sent, so lines are in
    // flight in the workers' batches and in the log thread at the moment of the switch.
    std::thread::scope(|scope| {
        let server = &server;
        scope.spawn(move || send_numbered(server, TOTAL..TOTAL + 200));
        send_numbered(server, 0..BEFORE);
        // These lines are on disk before the rename, so they must stay in the old file.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !(0..BEFORE).all(|n| numbered_requests(&server.access_log()).contains_key(&n)) {
            assert!(
                std::time::Instant::now() < deadline,
                "lines not flushed within 5 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::rename(&log, &rotated).expect("rename the log as a rotator does");
        server.signal(Signal::USR1);
        send_numbered(server, BEFORE..TOTAL);
    });
    // The file is created again, and once the server says so, new lines go there.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !log.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(log.exists(), "SIGUSR1 did not create the log again");
    send_numbered(&server, TOTAL + 200..TOTAL + 210);

    server.signal(Signal::TERM);
    let status = server.wait_exit(Duration::from_secs(15));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        server.stderr()
    );

    let old = std::fs::read_to_string(&rotated).expect("rotated log");
    let new = std::fs::read_to_string(&log).expect("new log");
    let in_old = numbered_requests(&old);
    let in_new = numbered_requests(&new);
    for n in 0..TOTAL + 210 {
        let count = in_old.get(&n).copied().unwrap_or(0) + in_new.get(&n).copied().unwrap_or(0);
        assert_eq!(count, 1, "request {n}: {count} lines over both files");
    }
    assert_eq!(in_old.len() + in_new.len(), (TOTAL + 210) as usize);
    for n in 0..BEFORE {
        assert!(
            in_old.contains_key(&n),
            "request {n}, on disk before the rename, is in the old file"
        );
    }
    for n in TOTAL + 200..TOTAL + 210 {
        assert!(
            in_new.contains_key(&n),
            "request {n}, after the reopen, is in the new file"
        );
    }
    let stderr = server.stderr();
    assert_eq!(
        stderr.matches("SIGUSR1: log files reopened").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn sigusr1_reopens_the_error_log_too() {
    let mut server = Server::builder()
        .config("[log]\nerror_log = \"error.log\"\n")
        .file("a.txt", b"a")
        .start();
    let log = server.dir().join("error.log");
    let rotated = server.dir().join("error.log.1");
    // The start-up line is written to the error log just after the ready line: wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("listening on")) {
        assert!(
            std::time::Instant::now() < deadline,
            "no start-up line in error.log"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::rename(&log, &rotated).expect("rename");
    server.signal(Signal::USR1);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("SIGUSR1: log files reopened") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        text.contains("SIGUSR1: log files reopened"),
        "new error.log: {text:?}"
    );
    assert_eq!(server.get("/a.txt").status, 200);
    server.signal(Signal::TERM);
    assert_eq!(
        server
            .wait_exit(Duration::from_secs(15))
            .and_then(|s| s.code()),
        Some(0)
    );
    let old = std::fs::read_to_string(&rotated).expect("rotated error log");
    assert!(old.contains("listening on http://127.0.0.1:"), "{old}");
    assert!(
        !old.contains("stopping"),
        "the stop is logged in the new file: {old}"
    );
    let new = std::fs::read_to_string(&log).expect("new error log");
    assert!(new.contains("SIGTERM: stopping"), "{new}");
}

#[test]
fn sighup_is_reported_once_and_neither_stops_the_server_nor_loses_a_line() {
    let mut server = Server::builder().file("a.txt", b"a").start();
    send_numbered(&server, 0..20);
    server.signal(Signal::HUP);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.try_exit(),
        None,
        "SIGHUP ended the process: {}",
        server.stderr()
    );
    send_numbered(&server, 20..40);
    server.signal(Signal::TERM);
    assert_eq!(
        server
            .wait_exit(Duration::from_secs(15))
            .and_then(|s| s.code()),
        Some(0)
    );
    let lines = numbered_requests(&server.access_log());
    assert_eq!(lines.len(), 40, "{lines:?}");
    assert!(lines.values().all(|&c| c == 1), "{lines:?}");
    let stderr = server.stderr();
    assert_eq!(
        stderr.lines().filter(|l| l.contains("SIGHUP")).count(),
        1,
        "one error-log line for the SIGHUP: {stderr}"
    );
}
