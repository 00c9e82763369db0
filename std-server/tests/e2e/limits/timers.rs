//! Timers: `header_timeout` ends a client that does not finish its head (408 once it started one,
//! RFC 9110 §15.5.9; silence before that), `keepalive_timeout` closes an idle persistent
//! connection silently (RFC 9112 §9.8), and `keepalive_requests` caps the requests per connection.

use crate::common::fixtures::A;
use crate::common::fixtures::INDEX;
use crate::common::*;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn an_idle_keep_alive_connection_closes_silently_after_keepalive_timeout_and_a_busy_one_stays_open()
{
    // header_timeout far above keepalive_timeout: the close must come from the idle timer.
    let server = Server::start(
        "[server]\nkeepalive_timeout = 0.5\nheader_timeout = 5\n",
        &[("index.html", INDEX)],
    );
    let mut conn = server.connect();
    conn.send(
        format!(
            "GET /index.html HTTP/1.1\r\nHost: {}\r\n\r\n",
            server.host()
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(conn.read_response().status, 200);
    let idle_from = Instant::now();
    let outcome = conn.wait_closed(Duration::from_secs(4));
    let idle = idle_from.elapsed();
    assert_eq!(
        outcome,
        CloseWait::Closed(Vec::new()),
        "closed silently after keepalive_timeout: an idle connection gets no 408"
    );
    assert!(
        idle >= Duration::from_millis(400) && idle <= Duration::from_millis(2500),
        "closed after {idle:?}, keepalive_timeout is 0.5 s"
    );
    // A connection that keeps talking within the timeout stays open.
    let mut busy = server.connect();
    for _ in 0..4 {
        busy.send(
            format!(
                "GET /index.html HTTP/1.1\r\nHost: {}\r\n\r\n",
                server.host()
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(busy.read_response().status, 200);
        thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn header_timeout_closes_a_silent_client_silently() {
    let server = Server::start("[server]\nheader_timeout = 0.5\n", &[("a.txt", A)]);
    let mut conn = server.connect();
    let started = Instant::now();
    let outcome = conn.wait_closed(Duration::from_secs(5));
    let waited = started.elapsed();
    assert_eq!(
        outcome,
        CloseWait::Closed(Vec::new()),
        "no 408 to a client that never started"
    );
    assert!(
        waited >= Duration::from_millis(400) && waited <= Duration::from_secs(3),
        "closed after {waited:?}, header_timeout 0.5 s"
    );
}

#[test]
fn header_timeout_sends_408_to_a_client_with_half_a_head() {
    let server = Server::start("[server]\nheader_timeout = 0.5\n", &[("a.txt", A)]);
    let mut conn = server.connect();
    let started = Instant::now();
    conn.send(format!("GET /a.txt HTTP/1.1\r\nHost: {}\r\nUser-Ag", server.host()).as_bytes())
        .unwrap();
    let r = conn
        .try_read_response(false, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("no 408 for half a head: {e}"));
    let waited = started.elapsed();
    assert_eq!(r.status, 408);
    assert!(r.says_close());
    assert!(r.header("date").is_some() && r.header("server").is_some());
    assert_eq!(
        r.content_length(),
        Some(r.body.len() as u64),
        "408 carries Content-Length"
    );
    assert!(
        waited >= Duration::from_millis(400) && waited <= Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(
        matches!(conn.wait_closed(Duration::from_secs(2)), CloseWait::Closed(b) if b.is_empty())
    );

    // A client that trickles bytes is still cut off: the timer runs until the head is complete.
    let mut trickler = server.connect();
    let started = Instant::now();
    let head = format!(
        "GET /a.txt HTTP/1.1\r\nHost: {}\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
        server.host()
    );
    let mut answered = None;
    for byte in head.as_bytes() {
        if trickler.send(std::slice::from_ref(byte)).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(40));
        if started.elapsed() > Duration::from_millis(1500) {
            break;
        }
    }
    if let Ok(r) = trickler.try_read_response(false, Duration::from_secs(3)) {
        answered = Some(r.status);
    }
    assert_eq!(
        answered,
        Some(408),
        "a trickling head is timed out from accept, not per byte"
    );
}

#[test]
fn keepalive_requests_caps_the_requests_per_connection() {
    let server = Server::start("[server]\nkeepalive_requests = 3\n", &[("a.txt", A)]);
    let mut conn = server.connect();
    for i in 1..=3 {
        conn.send(req("GET", "/a.txt", "HTTP/1.1", &server.host(), "").as_bytes())
            .unwrap();
        let r = conn.read_response();
        assert_eq!(r.status, 200, "request {i}");
        if i < 3 {
            assert_eq!(r.header("connection"), Some("keep-alive"), "request {i}");
        } else {
            assert_eq!(
                r.header("connection"),
                Some("close"),
                "the third response closes"
            );
        }
    }
    assert_eq!(
        conn.wait_closed(Duration::from_secs(2)),
        CloseWait::Closed(Vec::new()),
        "the socket closes after the third response"
    );
}
