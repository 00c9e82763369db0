//! Two staticd replicas behind HAProxy (Debian's package, installed by scripts/setup-test-deps.sh),
//! everything on 127.0.0.1: one replica gets PROXY v1 (`send-proxy`), the other v2
//! (`send-proxy-v2`), and HAProxy checks each one's `/health` on its metrics port. The tests see
//! the real client in each replica's access log, one ETag whichever replica answers (so a 304
//! holds across them), and a rolling restart of one replica under a bounded load with no failed
//! request.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::client::{Conn, Response, split_responses};
use crate::common::process::{TempDir, free_port};
use crate::common::server::{Server, Signal, server_alive};

use super::metrics::metrics_addr;

/// The client HAProxy sees in the access-log test: another loopback address, so the address
/// staticd logs (from the PROXY header) differs from its peer's (HAProxy on 127.0.0.1).
const CLIENT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

const PAGE: &[u8] = b"<!doctype html><title>replicas</title><p>the same bytes on both replicas\n";

/// Where the Debian package puts the binary (`/usr/sbin` is not on every user's PATH).
fn haproxy_bin() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("haproxy"))
        .find(|bin| bin.is_file())
        .expect("haproxy is not installed: run scripts/setup-test-deps.sh")
}

/// A replica's settings: PROXY headers required from HAProxy (127.0.0.1), and a metrics listener
/// for the health check. Ports 0 the first time; a restart names the ports it had.
fn replica_config(port: u16, metrics_port: u16) -> String {
    format!(
        "[server]\nport = {port}\nthreads = 1\n\
         [metrics]\nenabled = true\nport = {metrics_port}\n\
         [proxy]\ntrusted = [\"127.0.0.1\"]\nprotocol = \"required\"\n"
    )
}

fn start_replica(port: u16, metrics_port: u16) -> Server {
    Server::start(&replica_config(port, metrics_port), &[("index.html", PAGE)])
}

/// HAProxy in the foreground with a generated configuration; killed when dropped.
struct HaProxy {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl HaProxy {
    /// Balances over `replicas` (traffic port, metrics port): the first with PROXY v1, the second
    /// with v2. A replica whose `/health` fails once is out within ~0.2 s and back after two good
    /// checks; a request that finds no connection, an empty response or a 503 is retried on the
    /// other replica (idempotent GETs only: `retry-on` never retries a request with a body).
    fn start(replicas: [(u16, u16); 2]) -> HaProxy {
        let dir = TempDir::new();
        let port = free_port();
        let config = format!(
            "global\n\
             \x20   maxconn 256\n\
             defaults\n\
             \x20   mode http\n\
             \x20   timeout connect 2s\n\
             \x20   timeout client 20s\n\
             \x20   timeout server 20s\n\
             \x20   timeout check 1s\n\
             \x20   retries 3\n\
             \x20   option redispatch 1\n\
             \x20   retry-on conn-failure empty-response response-timeout 503\n\
             frontend web\n\
             \x20   bind 127.0.0.1:{port}\n\
             \x20   default_backend replicas\n\
             backend replicas\n\
             \x20   balance roundrobin\n\
             \x20   option httpchk\n\
             \x20   http-check send meth GET uri /health ver HTTP/1.1 hdr Host replicas\n\
             \x20   http-check expect status 200\n\
             \x20   default-server inter 100ms fastinter 100ms downinter 200ms fall 1 rise 2\n\
             \x20   server one 127.0.0.1:{p1} send-proxy check port {m1}\n\
             \x20   server two 127.0.0.1:{p2} send-proxy-v2 check port {m2}\n",
            p1 = replicas[0].0,
            m1 = replicas[0].1,
            p2 = replicas[1].0,
            m2 = replicas[1].1,
        );
        let config_path = dir.write("haproxy.cfg", config.as_bytes());
        let stderr = std::fs::File::create(dir.path().join("haproxy.log")).expect("log file");
        let check = Command::new(haproxy_bin())
            .args(["-c", "-f"])
            .arg(&config_path)
            .output()
            .expect("run haproxy -c");
        assert!(
            check.status.success(),
            "haproxy refuses the configuration: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new(haproxy_bin())
            .arg("-db")
            .arg("-f")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start haproxy");
        let mut haproxy = HaProxy { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(haproxy.addr()).is_err() {
            if let Ok(Some(status)) = haproxy.child.try_wait() {
                panic!("haproxy exited ({status}): {}", haproxy.log());
            }
            assert!(
                Instant::now() < deadline,
                "haproxy not listening: {}",
                haproxy.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        haproxy
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("haproxy.log")).unwrap_or_default()
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP connection to `to` from `from` (port chosen by the kernel).
fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    use rustix::net::{AddressFamily, SocketType, bind, connect, socket};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None)?;
    bind(&fd, &SocketAddr::V4(SocketAddrV4::new(from, 0)))?;
    connect(&fd, &to)?;
    Ok(TcpStream::from(fd))
}

/// One request on its own connection (`Connection: close`), read to the end: the response, or
/// why there is none.
fn fetch(from: Ipv4Addr, to: SocketAddr, extra: &str) -> Result<Response, String> {
    let mut stream = connect_from(from, to).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .map_err(|e| e.to_string())?;
    let request = format!("GET / HTTP/1.1\r\nHost: replicas\r\nConnection: close\r\n{extra}\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut bytes = Vec::new();
    stream
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read: {e} after {:?}", String::from_utf8_lossy(&bytes)))?;
    let (mut responses, rest) = split_responses(&bytes, false);
    if responses.len() != 1 || !rest.is_empty() {
        return Err(format!(
            "not one response: {:?}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    Ok(responses.remove(0))
}

/// The access-log lines of `server` that `pred` picks, once there are at least `n` (bounded).
fn wait_lines(
    server: &Server,
    n: usize,
    within: Duration,
    pred: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let lines: Vec<String> = server
            .access_log()
            .lines()
            .filter(|l| pred(l))
            .map(str::to_owned)
            .collect();
        if lines.len() >= n || Instant::now() >= deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Two replicas, each on ports of its own, and HAProxy in front once both are ready.
fn replicas_behind_haproxy() -> ([Server; 2], HaProxy) {
    let one = start_replica(0, 0);
    let two = start_replica(0, 0);
    let ports = [
        (one.port(), metrics_addr(&one).port()),
        (two.port(), metrics_addr(&two).port()),
    ];
    let haproxy = HaProxy::start(ports);
    ([one, two], haproxy)
}

#[test]
fn behind_haproxy_each_replica_logs_the_real_client_and_a_304_holds_across_replicas() {
    let ([one, two], haproxy) = replicas_behind_haproxy();

    // New connections are balanced in turn: a few reach both replicas.
    let mut tags = Vec::new();
    for _ in 0..6 {
        let response = fetch(CLIENT, haproxy.addr(), "").unwrap_or_else(|e| {
            panic!("{e}\nhaproxy: {}", haproxy.log());
        });
        assert_eq!(response.status, 200);
        assert_eq!(response.body, PAGE);
        tags.push(response.header("etag").expect("an ETag").to_owned());
    }
    let from_client =
        |l: &str| l.starts_with("127.0.0.2 - - [") && l.contains("\"GET / HTTP/1.1\" 200");
    let a = wait_lines(&one, 1, Duration::from_secs(10), from_client);
    let b = wait_lines(&two, 1, Duration::from_secs(10), from_client);
    assert!(
        !a.is_empty(),
        "replica one (PROXY v1) never logged the client: {}",
        one.access_log()
    );
    assert!(
        !b.is_empty(),
        "replica two (PROXY v2) never logged the client: {}",
        two.access_log()
    );
    assert_eq!(a.len() + b.len(), 6, "{a:?} {b:?}");

    // Same bytes, same ETag, whichever replica answered (the tag is the content's, not the
    // file's inode or mtime, which differ between the two sites).
    tags.dedup();
    assert_eq!(tags.len(), 1, "ETags differ between replicas: {tags:?}");
    let validator = format!("If-None-Match: {}\r\n", tags[0]);
    for _ in 0..6 {
        let response = fetch(CLIENT, haproxy.addr(), &validator).expect("conditional request");
        assert_eq!(response.status, 304, "{response:?}");
        assert!(response.body.is_empty());
    }
    let not_modified = |l: &str| l.starts_with("127.0.0.2 ") && l.contains("\" 304 ");
    let a = wait_lines(&one, 1, Duration::from_secs(10), not_modified);
    let b = wait_lines(&two, 1, Duration::from_secs(10), not_modified);
    assert!(
        !a.is_empty() && !b.is_empty(),
        "each replica answers 304: {a:?} {b:?}"
    );
}

#[test]
fn a_rolling_restart_of_one_replica_behind_haproxy_fails_no_request() {
    let ([one, two], haproxy) = replicas_behind_haproxy();
    let (port, metrics_port) = (one.port(), metrics_addr(&one).port());

    // Bounded load: two keep-alive clients (so HAProxy holds keep-alive connections to the
    // replicas, which the stop closes under it), until told to stop, at most 4,000 requests or
    // 90 s in all. Any answer but the page, or a connection HAProxy drops, is a failure.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (stop, sent, failures) = (stop.clone(), sent.clone(), failures.clone());
            let to = haproxy.addr();
            std::thread::spawn(move || {
                let mut conn = None;
                while !stop.load(Ordering::SeqCst)
                    && sent.fetch_add(1, Ordering::SeqCst) < 4000
                    && started.elapsed() < Duration::from_secs(90)
                {
                    let client = conn.get_or_insert_with(|| Conn::open(to));
                    let answer = client
                        .send(b"GET / HTTP/1.1\r\nHost: replicas\r\n\r\n")
                        .map_err(|e| format!("send: {e}"))
                        .and_then(|()| client.try_read_response(false, Duration::from_secs(15)));
                    match answer {
                        Ok(r) if r.status == 200 && r.body == PAGE => {}
                        Ok(r) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("{} {:?}", r.status, r.text()));
                            conn = None;
                        }
                        Err(e) => {
                            failures.lock().unwrap().push(e);
                            conn = None;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        })
        .collect();

    // Both replicas serve before the restart.
    let served = |l: &str| l.contains("\"GET / HTTP/1.1\" 200");
    assert!(!wait_lines(&one, 5, Duration::from_secs(20), served).is_empty());
    assert!(!wait_lines(&two, 5, Duration::from_secs(20), served).is_empty());

    // SIGTERM: /health turns 503, in-flight responses finish, the process exits.
    let mut one = one;
    one.signal(Signal::TERM);
    let status = one.wait_exit(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "replica one did not stop cleanly: {status:?}: {}",
        one.stderr()
    );
    drop(one);
    // A deploy takes a moment: the load meanwhile goes to replica two alone.
    std::thread::sleep(Duration::from_millis(1000));
    let before_restart = sent.load(Ordering::SeqCst);

    // Start again on the same ports; HAProxy's check brings it back into rotation.
    let again = start_replica(port, metrics_port);
    let back = wait_lines(&again, 20, Duration::from_secs(30), served);
    stop.store(true, Ordering::SeqCst);
    for client in load {
        client.join().expect("load client");
    }
    let total = sent.load(Ordering::SeqCst);
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of ~{total} requests failed: {:?}\nhaproxy: {}",
        failures.len(),
        &failures[..failures.len().min(5)],
        haproxy.log()
    );
    assert!(
        back.len() >= 20,
        "the restarted replica served {} requests: {}",
        back.len(),
        haproxy.log()
    );
    assert!(
        total > before_restart,
        "no load ran across the restart ({before_restart} then {total})"
    );
    assert!(server_alive(&two), "replica two stopped");
    // The balancer's health check took the stopped replica out and the restarted one back in.
    let log = haproxy.log();
    let down = log.find("Server replicas/one is DOWN");
    let up = log.rfind("Server replicas/one is UP");
    assert!(
        down.is_some() && up > down,
        "HAProxy's check did not follow the restart: {log}"
    );
}
