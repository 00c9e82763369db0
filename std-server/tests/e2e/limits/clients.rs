//! Slow, idle, many and abrupt clients: slowloris does not starve others and header_timeout ends
//! it; fifty clients at once are served while others stall mid-request, with no thread per
//! connection; 10,000 idle keep-alive connections are held with a fixed thread count and bounded memory;
//! max_connections refuses promptly; accept() failing with EMFILE backs off without a busy loop and
//! recovers; clients resetting mid-download leave no error line and no leaked descriptor.

use crate::common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const INDEX: &[u8] = b"<!doctype html><p>hello</p>\n";

// ---------------------------------------------------------------------------------------------
// Slowloris
// ---------------------------------------------------------------------------------------------

/// One trickling client: what it received, and when the server closed it (since the start).
struct Trickler {
    stream: TcpStream,
    received: Vec<u8>,
    closed_after: Option<Duration>,
}

impl Trickler {
    /// Reads all that is waiting on the nonblocking stream; an EOF or error marks it closed, stamped
    /// with the time since `start`.
    fn drain(&mut self, start: Instant, chunk: &mut [u8]) {
        loop {
            match self.stream.read(chunk) {
                Ok(0) => {
                    self.closed_after = Some(start.elapsed());
                    return;
                }
                Ok(n) => self.received.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.closed_after = Some(start.elapsed());
                    return;
                }
            }
        }
    }
}

#[test]
fn slowloris_tricklers_do_not_starve_a_normal_client_and_header_timeout_ends_them() {
    const CLIENTS: usize = 200;
    const HEADER_TIMEOUT_S: u64 = 3;
    let server = Server::builder()
        .config(&format!("[server]\nheader_timeout = {HEADER_TIMEOUT_S}\n"))
        .file("index.html", INDEX)
        .start();
    let threads_before = threads(server.pid());
    // A head that never completes within the test: one byte a second of a long field.
    let head = format!(
        "GET /index.html HTTP/1.1\r\nHost: {}\r\nX-Slow: {}",
        server.host(),
        "a".repeat(200)
    )
    .into_bytes();

    let start = Instant::now();
    let mut tricklers: Vec<Trickler> = (0..CLIENTS)
        .map(|_| {
            let stream = TcpStream::connect_timeout(&server.addr(), Duration::from_secs(5))
                .expect("connect a trickler");
            stream.set_nonblocking(true).expect("nonblocking");
            stream.set_nodelay(true).expect("nodelay");
            Trickler {
                stream,
                received: Vec::new(),
                closed_after: None,
            }
        })
        .collect();

    let trickle = thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        // Bounded: at most 12 rounds of about a second, ending early once every client is closed.
        for round in 0..12usize {
            let round_start = Instant::now();
            for t in tricklers.iter_mut().filter(|t| t.closed_after.is_none()) {
                t.drain(start, &mut chunk);
                // Stop writing once the server has answered, so a reset cannot eat its answer.
                if t.closed_after.is_none() && t.received.is_empty() {
                    let _ = t.stream.write(&head[round..round + 1]);
                }
            }
            if tricklers.iter().all(|t| t.closed_after.is_some()) {
                break;
            }
            // Poll reads every 50 ms within the round so close times are precise.
            while round_start.elapsed() < Duration::from_secs(1) {
                thread::sleep(Duration::from_millis(50));
                for t in tricklers.iter_mut().filter(|t| t.closed_after.is_none()) {
                    t.drain(start, &mut chunk);
                }
            }
        }
        tricklers
    });

    // While they trickle, honest clients are answered promptly.
    let mut honest = Vec::new();
    for at in [500u64, 1500, 2300] {
        let wait = Duration::from_millis(at).saturating_sub(start.elapsed());
        thread::sleep(wait);
        let t0 = Instant::now();
        assert_still_serves(&server, "/index.html", INDEX, "slowloris in progress");
        honest.push(t0.elapsed());
    }
    println!("honest clients answered in {honest:?} while {CLIENTS} clients trickle");
    for took in &honest {
        assert!(
            *took < Duration::from_secs(2),
            "a normal client waited {took:?} while slowloris clients trickled"
        );
    }

    let tricklers = trickle.join().expect("trickle thread");
    let mut not_closed = 0;
    let mut not_408 = Vec::new();
    let mut latest = Duration::ZERO;
    for t in &tricklers {
        match t.closed_after {
            None => not_closed += 1,
            Some(after) => latest = latest.max(after),
        }
        let statuses = status_lines(&t.received);
        if statuses != [408] {
            not_408.push(format!(
                "{statuses:?} {:?}",
                String::from_utf8_lossy(&t.received)
            ));
        }
    }
    println!(
        "tricklers: {} closed, last close at {latest:?} (header_timeout {HEADER_TIMEOUT_S} s)",
        CLIENTS - not_closed
    );
    assert_eq!(
        not_closed, 0,
        "tricklers still open ~12 s after a {HEADER_TIMEOUT_S} s header_timeout"
    );
    assert!(
        latest < Duration::from_secs(HEADER_TIMEOUT_S + 3),
        "the last trickler was closed at {latest:?}, long after header_timeout"
    );
    // They had started a request, so they get a 408 (RFC 9110 §15.5.9; a response can still be sent).
    assert!(
        not_408.is_empty(),
        "{} of {CLIENTS} tricklers did not get exactly one 408; first: {}",
        not_408.len(),
        not_408[0]
    );
    assert_eq!(
        threads(server.pid()),
        threads_before,
        "thread count changed"
    );
    assert_still_serves(&server, "/index.html", INDEX, "slowloris");
}

// ---------------------------------------------------------------------------------------------
// 10,000 idle keep-alive connections
// ---------------------------------------------------------------------------------------------

/// Sends a GET on each stream, then reads each response (Content-Length framed, a small body).
fn request_all(streams: &mut [TcpStream], host: &str) -> Result<(), String> {
    let request = format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n");
    for s in streams.iter_mut() {
        s.write_all(request.as_bytes())
            .map_err(|e| format!("write: {e}"))?;
    }
    for (i, s) in streams.iter_mut().enumerate() {
        let got = read_one_small_response(s, Duration::from_secs(20))
            .map_err(|e| format!("connection {i}: {e}"))?;
        if got.status != 200 || got.body != INDEX {
            return Err(format!("connection {i}: status {}", got.status));
        }
    }
    Ok(())
}

/// Reads exactly one response (head + Content-Length body) from a blocking stream.
fn read_one_small_response(s: &mut TcpStream, within: Duration) -> Result<Response, String> {
    let deadline = Instant::now() + within;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let r = parse_response_head(&buf[..end + 4])?;
            let len: usize = r
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let (responses, _) = split_responses(&buf, false);
                return responses
                    .into_iter()
                    .next()
                    .ok_or_else(|| "unparsable".to_string());
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "timed out with {:?}",
                String::from_utf8_lossy(&buf)
            ));
        }
        s.set_read_timeout(Some(deadline - now))
            .map_err(|e| e.to_string())?;
        match s.read(&mut chunk) {
            Ok(0) => return Err(format!("closed with {:?}", String::from_utf8_lossy(&buf))),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

#[test]
fn heavy_ten_thousand_idle_keep_alive_connections_hold_the_same_threads() {
    const IDLE: usize = 10_000;
    const BATCH: usize = 500;
    // The client needs IDLE descriptors, the server as many more; it inherits this limit.
    let soft = raise_own_nofile(2 * IDLE as u64 + 1_000);
    assert!(
        soft >= IDLE as u64 + 500,
        "RLIMIT_NOFILE hard limit too low for this test: {soft}"
    );
    let server = Server::builder()
        // max_connections is left at its default: the new client below is the 10,001st.
        .config("[server]\nkeepalive_timeout = 120\nheader_timeout = 120\n")
        .file("index.html", INDEX)
        .start();
    let pid = server.pid();
    let server_limit = nofile_soft_limit(pid).expect("server's limits");
    assert!(
        server_limit >= IDLE as u64 + 100,
        "the server's RLIMIT_NOFILE soft limit is {server_limit}: it cannot hold {IDLE} connections"
    );
    assert_still_serves(&server, "/index.html", INDEX, "start");
    let threads_before = threads(pid);
    let rss_before = rss_kib(pid);
    let fds_before = fd_count(pid);
    println!("before: threads {threads_before}, RSS {rss_before} KiB, fds {fds_before}");

    let started = Instant::now();
    let mut held: Vec<TcpStream> = Vec::with_capacity(IDLE);
    while held.len() < IDLE {
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "only {} connections opened and answered in 45 s",
            held.len()
        );
        let mut batch: Vec<TcpStream> = (0..BATCH.min(IDLE - held.len()))
            .map(|i| {
                TcpStream::connect_timeout(&server.addr(), Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("connection {} of {IDLE}: {e}", held.len() + i))
            })
            .collect();
        request_all(&mut batch, &server.host())
            .unwrap_or_else(|e| panic!("after {} connections: {e}", held.len()));
        held.extend(batch);
    }
    let took = started.elapsed();
    // Let the engine settle before measuring.
    thread::sleep(Duration::from_millis(500));
    let threads_held = threads(pid);
    let rss_held = rss_kib(pid);
    let fds_held = fd_count(pid);
    println!(
        "holding {IDLE} idle keep-alive connections (opened in {took:?}): threads {threads_held}, \
         RSS {rss_held} KiB (+{} KiB, {:.1} KiB per connection), fds {fds_held}",
        rss_held.saturating_sub(rss_before),
        rss_held.saturating_sub(rss_before) as f64 / IDLE as f64
    );
    assert!(
        fds_held >= fds_before + IDLE - 10,
        "the server does not hold the connections open: {fds_held} fds"
    );
    assert_eq!(
        threads_held, threads_before,
        "idle connections changed the thread count"
    );
    // Bounded memory: an idle connection may keep its buffers, not megabytes.
    assert!(
        rss_held.saturating_sub(rss_before) < IDLE as u64 * 48,
        "RSS grew by {} KiB for {IDLE} idle connections",
        rss_held - rss_before
    );

    // A new client is still served promptly, and idle ones still answer.
    let t0 = Instant::now();
    assert_still_serves(&server, "/index.html", INDEX, "10,000 idle connections");
    let new_client = t0.elapsed();
    println!("a new client answered in {new_client:?}");
    assert!(
        new_client < Duration::from_secs(2),
        "new client took {new_client:?}"
    );
    let mut sample: Vec<TcpStream> = held.drain(..).step_by(100).collect();
    request_all(&mut sample, &server.host()).expect("idle connections answer a second request");

    drop(sample);
    drop(held);
    let settled = wait_until(Duration::from_secs(10), || fd_count(pid) <= fds_before + 5);
    println!(
        "after closing: threads {}, RSS {} KiB, fds {}",
        threads(pid),
        rss_kib(pid),
        fd_count(pid)
    );
    assert!(
        settled,
        "server fds did not return near {fds_before}: {}",
        fd_count(pid)
    );
    assert_eq!(threads(pid), threads_before);
    assert_still_serves(&server, "/index.html", INDEX, "closing 10,000 connections");
}

// ---------------------------------------------------------------------------------------------
// Half-closed clients
// ---------------------------------------------------------------------------------------------

#[test]
fn a_half_closed_client_gets_its_answers_then_a_prompt_close() {
    // RFC 9112 §9.6: after the client's FIN nothing more can arrive, so once the complete requests
    // are answered the connection is closed at once, not at keepalive_timeout or header_timeout
    // (5 s and 10 s here, the defaults): the slot counts against max_connections.
    const PROMPT: Duration = Duration::from_millis(1000);
    let server = Server::builder()
        .config("[server]\nkeepalive_timeout = 5\nheader_timeout = 10\n")
        .file("index.html", INDEX)
        .start();
    let host = server.host();
    let request = format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let cases: [(&str, String, usize); 5] = [
        ("one complete request", request.clone(), 1),
        ("three pipelined requests", request.repeat(3), 3),
        (
            "a complete request, then a partial head",
            format!("{request}GET /index.html HTT"),
            1,
        ),
        ("a partial head", "GET /index.html HTT".to_owned(), 0),
        ("nothing", String::new(), 0),
    ];
    for (what, raw, answers) in cases {
        let t0 = Instant::now();
        let ex = exchange(server.addr(), raw.as_bytes(), Duration::from_secs(4), true);
        let took = t0.elapsed();
        assert!(ex.closed, "{what}: still open after 4 s: {:?}", ex.lossy());
        assert!(took < PROMPT, "{what}: closed only after {took:?}");
        let (responses, rest) = split_responses(&ex.bytes, false);
        let ok: Vec<&Response> = responses.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), answers, "{what}: {:?}", ex.lossy());
        for r in &ok {
            assert_eq!(r.body, INDEX, "{what}");
        }
        // A partial head may get a 400 before the close; nothing else.
        let others: Vec<u16> = responses
            .iter()
            .map(|r| r.status)
            .filter(|&s| s != 200)
            .collect();
        assert!(
            others.iter().all(|&s| s == 400) && others.len() <= 1,
            "{what}: unexpected answers {others:?}"
        );
        assert!(rest.is_empty(), "{what}: trailing bytes {rest:?}");
    }
    assert_still_serves(&server, "/index.html", INDEX, "half-closed clients");
}

// ---------------------------------------------------------------------------------------------
// max_connections
// ---------------------------------------------------------------------------------------------

#[test]
fn the_open_file_limit_is_raised_at_start_or_the_shortfall_is_logged() {
    // The server raises its own soft RLIMIT_NOFILE toward the hard limit, whatever it inherited:
    // started here with a soft limit of 256 (the hard limit unchanged).
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    use std::io::BufRead;
    let hard = getrlimit(Resource::Nofile).maximum;
    let site = TempDir::new();
    site.write("index.html", INDEX);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_staticd"));
    command
        .args(["--port", "0", "--root"])
        .arg(site.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(256),
                    maximum: hard,
                },
            )
            .map_err(std::io::Error::from)
        });
    }
    let mut child = command.spawn().expect("start staticd");
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut ready)
        .expect("ready line");
    let soft = nofile_soft_limit(child.id());
    // A graceful stop flushes the error log before the exit.
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("nonzero pid");
    rustix::process::kill_process(pid, Signal::TERM).expect("SIGTERM");
    let exited = child.wait().expect("wait for staticd");
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr);
    assert!(ready.contains("listening"), "{ready:?} {stderr}");
    assert!(exited.success(), "{exited:?} {stderr}");
    assert!(
        stderr.contains("stopped"),
        "the error log was not flushed: {stderr}"
    );
    let soft = soft.expect("server's limits");
    let default_needs = 16_384u64;
    match hard {
        Some(hard) if hard < default_needs + 256 => {
            assert_eq!(soft, hard, "the soft limit is not raised to the hard limit");
            assert!(
                stderr.contains("RLIMIT_NOFILE"),
                "no word of the short limit: {stderr}"
            );
        }
        _ => {
            assert!(
                soft >= default_needs + 256,
                "the soft limit stayed at {soft} (hard {hard:?})"
            );
            assert!(
                !stderr.contains("RLIMIT_NOFILE"),
                "a limit warning although the limit suffices: {stderr}"
            );
        }
    }

    // More connections than any hard limit allows: said once on the error log at start.
    let server = Server::builder()
        .config("[server]\nmax_connections = 4000000000\n")
        .file("index.html", INDEX)
        .start();
    let said = wait_until(Duration::from_secs(5), || {
        server.stderr().contains("RLIMIT_NOFILE")
    });
    let stderr = server.stderr();
    assert!(said, "no word of the open-file limit: {stderr}");
    assert_eq!(
        stderr.matches("RLIMIT_NOFILE").count(),
        1,
        "said more than once: {stderr}"
    );
    assert!(stderr.contains("max_connections"), "{stderr}");
    assert_still_serves(&server, "/index.html", INDEX, "a short open-file limit");
}

#[test]
fn above_max_connections_new_connections_get_503_or_a_prompt_close() {
    const MAX: usize = 8;
    let server = Server::builder()
        .config(&format!(
            "[server]\nmax_connections = {MAX}\nkeepalive_timeout = 60\nheader_timeout = 60\n"
        ))
        .file("index.html", INDEX)
        .start();
    let mut held: Vec<TcpStream> = (0..MAX)
        .map(|_| {
            TcpStream::connect_timeout(&server.addr(), Duration::from_secs(5)).expect("connect")
        })
        .collect();
    request_all(&mut held, &server.host()).expect("the first max_connections are served");

    let request = format!(
        "GET /index.html HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.host()
    );
    for extra in 0..3 {
        let t0 = Instant::now();
        let got = exchange(
            server.addr(),
            request.as_bytes(),
            Duration::from_secs(2),
            false,
        );
        let took = t0.elapsed();
        let statuses = status_lines(&got.bytes);
        println!(
            "connection {} over the limit: {statuses:?}, closed {} in {took:?}",
            MAX + 1 + extra,
            got.closed
        );
        assert!(
            got.closed,
            "connection {} over max_connections = {MAX} neither answered 503 nor closed within 2 s (got {statuses:?})",
            MAX + 1 + extra
        );
        assert!(
            statuses.is_empty() || statuses == [503],
            "over max_connections: expected 503 or a bare close, got {statuses:?}"
        );
    }

    // Freeing two slots lets new clients in again.
    held.truncate(MAX - 2);
    let served = wait_until(Duration::from_secs(5), || {
        let got = exchange(
            server.addr(),
            request.as_bytes(),
            Duration::from_secs(1),
            false,
        );
        status_lines(&got.bytes) == [200]
    });
    assert!(
        served,
        "a client was not served after connections were freed"
    );
    // The held ones still work.
    request_all(&mut held, &server.host()).expect("held connections still served");
}

// ---------------------------------------------------------------------------------------------
// Clients that reset mid-download
// ---------------------------------------------------------------------------------------------

#[test]
fn heavy_five_hundred_clients_resetting_mid_download_leak_nothing() {
    const CLIENTS: usize = 500;
    const PARALLEL: usize = 10;
    let big = pseudo_random_bytes(8 << 20, 5);
    let server = Server::builder()
        .file("index.html", INDEX)
        .file("big.bin", &big)
        .config("[files]\nallowed_extensions = [\".html\", \".bin\"]\n")
        .start();
    let pid = server.pid();
    // Warm up: complete downloads on several connections at once, so that whatever each worker
    // caches by design (an open file, a log handle) is in the baseline.
    let warm: Vec<_> = (0..2 * PARALLEL)
        .map(|_| {
            let mut conn = server.connect();
            conn.send(
                format!("GET /big.bin HTTP/1.1\r\nHost: {}\r\n\r\n", server.host()).as_bytes(),
            )
            .expect("send");
            conn
        })
        .collect();
    for mut conn in warm {
        let r = conn.read_response();
        assert_eq!(r.status, 200);
        assert!(r.body == big, "the big file is served byte-exact");
    }
    thread::sleep(Duration::from_millis(300));
    let fds_before = fd_count(pid);
    let fd_list_before = fd_targets(pid);
    let threads_before = threads(pid);
    let stderr_before = server.stderr();

    let started = Instant::now();
    let host = server.host();
    let addr = server.addr();
    let workers: Vec<_> = (0..PARALLEL)
        .map(|w| {
            let host = host.clone();
            thread::spawn(move || {
                let mut reset = 0;
                for i in 0..CLIENTS / PARALLEL {
                    let mut s =
                        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
                    s.set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("timeout");
                    s.write_all(
                        format!("GET /big.bin HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
                    )
                    .expect("send");
                    // Read part of the body (a varying amount), then vanish with a RST.
                    let want = 1024 + (w * 7919 + i * 104_729) % (256 * 1024);
                    let mut got = 0;
                    let mut chunk = [0u8; 16 * 1024];
                    while got < want {
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => got += n,
                        }
                    }
                    assert!(
                        got >= want,
                        "client {w}/{i}: the download stalled at {got} bytes"
                    );
                    rustix::net::sockopt::set_socket_linger(&s, Some(Duration::ZERO))
                        .expect("SO_LINGER 0");
                    drop(s);
                    reset += 1;
                }
                reset
            })
        })
        .collect();
    let resets: usize = workers.into_iter().map(|w| w.join().expect("worker")).sum();
    println!(
        "{resets} clients reset mid-download in {:?}",
        started.elapsed()
    );
    assert_eq!(resets, CLIENTS);

    let mut fds_now = fd_count(pid);
    let back = wait_until(Duration::from_secs(5), || {
        fds_now = fd_count(pid);
        fds_now <= fds_before
    });
    println!("server fds: baseline {fds_before}, after the resets {fds_now}");
    assert!(
        back,
        "fd leak: {fds_now} open descriptors, baseline {fds_before}\nbefore: {fd_list_before:?}\nafter: {:?}",
        fd_targets(pid)
    );
    assert_eq!(threads(pid), threads_before, "a worker thread was lost");

    let stderr_after = server.stderr();
    let new_lines = &stderr_after[stderr_before.len()..];
    let problems = problem_lines(new_lines);
    assert!(
        problems.is_empty(),
        "client resets reached the error log ({} lines), e.g. {:?}",
        problems.len(),
        problems.first()
    );
    let r = server.get("/big.bin");
    assert_eq!(r.status, 200);
    assert!(r.body == big, "big file intact after the resets");
    assert_still_serves(&server, "/index.html", INDEX, "500 resets");
}

// ---------------------------------------------------------------------------------------------
// Many clients at once, and running out of descriptors
// ---------------------------------------------------------------------------------------------

#[test]
fn fifty_concurrent_clients_are_served_while_others_stall_mid_request() {
    let body = pseudo_random_bytes(64 * 1024, 7);
    let server = Server::builder()
        .config("[server]\nthreads = 2\n")
        .file("index.html", INDEX)
        .file("blob.png", &body)
        .start();
    let host = server.host();
    // Warm up first so that threads started lazily (a log writer, say) are already counted.
    assert_eq!(server.get("/index.html").status, 200);
    thread::sleep(Duration::from_millis(100));
    let threads_idle = threads(server.pid());
    assert!(
        threads_idle >= 2,
        "at least the 2 configured worker threads, saw {threads_idle}"
    );

    // More stalled half-requests than worker threads: a thread-per-connection blocking design starves.
    let mut stalled = Vec::new();
    for _ in 0..6 {
        let mut conn = server.connect();
        conn.send(
            format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sta").as_bytes(),
        )
        .unwrap();
        stalled.push(conn);
    }
    thread::sleep(Duration::from_millis(100));

    let addr = server.addr();
    let barrier = Arc::new(Barrier::new(50));
    let started = Instant::now();
    let clients: Vec<_> = (0..50)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let host = host.clone();
            thread::spawn(move || {
                let mut conn = Conn::open(addr);
                barrier.wait();
                let path = if i % 2 == 0 {
                    "/index.html"
                } else {
                    "/blob.png"
                };
                conn.send(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
                    .unwrap();
                let r = conn.try_read_response(false, Duration::from_secs(5));
                (path, r)
            })
        })
        .collect();
    for client in clients {
        let (path, r) = client.join().expect("client thread");
        let r = r.unwrap_or_else(|e| panic!("{path}: a concurrent client was not served: {e}"));
        assert_eq!(r.status, 200, "{path}");
        let expected: &[u8] = if path == "/index.html" { INDEX } else { &body };
        assert_eq!(sha256_hex(&r.body), sha256_hex(expected), "{path}: body");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "50 clients took {elapsed:?}"
    );

    // The stalled clients are still waiting (header_timeout is 10 s), not dropped to make room.
    for conn in &mut stalled {
        assert_eq!(
            conn.read_for(Duration::from_millis(20)),
            b"",
            "no answer to an unfinished head"
        );
    }
    // 56 open connections, the same threads: connections do not cost threads.
    let threads_busy = threads(server.pid());
    assert_eq!(
        threads_busy, threads_idle,
        "thread count changed with open connections"
    );
}

/// /proc reports CPU times in USER_HZ, which Linux fixes at 100 for user space.
const TICKS_PER_SECOND: u64 = 100;

#[test]
fn accept_failing_with_emfile_backs_off_without_a_busy_loop_and_recovers() {
    use rustix::process::{Pid, Resource, Rlimit, prlimit};
    let server = Server::builder()
        .config("[server]\nheader_timeout = 30\nkeepalive_timeout = 30\n")
        .file("index.html", INDEX)
        .start();
    let pid = server.pid();
    assert_still_serves(&server, "/index.html", INDEX, "start");
    thread::sleep(Duration::from_millis(200));
    let fds_before = fd_count(pid) as u64;
    // Room for a few connections and a file, then accept() fails with EMFILE.
    let limit = fds_before + 6;
    let target = Pid::from_raw(pid as i32).expect("pid");
    let old = prlimit(
        Some(target),
        Resource::Nofile,
        Rlimit {
            current: Some(limit),
            maximum: Some(limit),
        },
    )
    .expect("prlimit on the server");
    println!("server fds {fds_before}, RLIMIT_NOFILE lowered from {old:?} to {limit}");

    // More connections than it can accept; the kernel completes them in the listen backlog.
    let clients: Vec<TcpStream> = (0..40)
        .map(|_| {
            TcpStream::connect_timeout(&server.addr(), Duration::from_secs(5)).expect("connect")
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    let fds_full = fd_count(pid);
    let idle_window = Duration::from_millis(1500);
    let ticks_start = cpu_ticks(pid);
    thread::sleep(idle_window);
    let ticks = cpu_ticks(pid) - ticks_start;
    let cpu_share = ticks as f64 / (idle_window.as_secs_f64() * TICKS_PER_SECOND as f64);
    println!(
        "with accept() failing: server fds {fds_full} (limit {limit}), CPU {ticks} ticks in {idle_window:?} ({:.0}% of a core)",
        cpu_share * 100.0
    );
    assert!(
        cpu_share < 0.25,
        "the server spins while accept() fails with EMFILE: {ticks} ticks of CPU in {idle_window:?}"
    );
    assert!(server_alive(&server), "the server died on EMFILE");

    // Once the clients leave, descriptors free up and the server serves again.
    drop(clients);
    let recovered = wait_until(Duration::from_secs(10), || {
        let got = exchange(
            server.addr(),
            format!(
                "GET /index.html HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                server.host()
            )
            .as_bytes(),
            Duration::from_secs(2),
            false,
        );
        status_lines(&got.bytes) == [200] && find(&got.bytes, INDEX).is_some()
    });
    assert!(
        recovered,
        "the server did not serve again within 10 s after EMFILE"
    );
    assert_still_serves(&server, "/index.html", INDEX, "EMFILE");
}
