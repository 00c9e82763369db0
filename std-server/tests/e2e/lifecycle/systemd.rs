//! Running under systemd: readiness over `NOTIFY_SOCKET` (sd_notify(3)), socket activation with
//! Debian's own `systemd-socket-activate` (sd_listen_fds(3)), and the unit files in config/ as
//! `systemd-analyze verify` reads them.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A child process killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn spawn(command: &mut Command) -> Running {
        Running(
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn"),
        )
    }

    /// The first stdout line, within `within`.
    fn first_line(&mut self, within: Duration) -> Option<String> {
        let stdout = self.0.stdout.take()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line.trim_end().to_owned());
        });
        rx.recv_timeout(within).ok()
    }

    fn signal(&self, signal: Signal) {
        let pid = rustix::process::Pid::from_raw(self.0.id() as i32).expect("pid");
        rustix::process::kill_process(pid, signal).expect("signal");
    }

    fn wait(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&mut self) -> String {
        use std::io::Read;
        let mut text = String::new();
        if let Some(mut err) = self.0.stderr.take() {
            let _ = err.read_to_string(&mut text);
        }
        text
    }
}

fn staticd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_staticd"))
}

/// The next datagram on `socket`, as text.
fn next_state(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 512];
    let n = socket
        .recv(&mut buf)
        .expect("a notification within the read timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn readiness_is_sent_once_listening_and_stopping_when_a_stop_begins() {
    let dir = TempDir::new();
    dir.write("site/a.txt", b"a");
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut server = Running::spawn(
        staticd()
            .args(["--port", "0", "site"])
            .current_dir(dir.path())
            .env("NOTIFY_SOCKET", &path),
    );
    let ready = next_state(&socket);
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready:?}");
    // READY=1 means the port accepts connections now: the manager starts dependents on it.
    let line = server.first_line(READY_TIMEOUT).expect("ready line");
    let port = parse_ready_line(&line).expect("ready line");
    assert!(
        ready.contains(&format!("STATUS=listening on http://127.0.0.1:{port}/")),
        "{ready:?}"
    );
    let mut conn = Conn::open(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    conn.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(conn.read_response().body, b"a");

    server.signal(Signal::TERM);
    assert_eq!(next_state(&socket), "STOPPING=1");
    let status = server.wait(Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

#[test]
fn readiness_reaches_an_abstract_notify_socket() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("staticd-test-notify-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let socket = UnixDatagram::bind_addr(&addr).expect("bind an abstract socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let dir = TempDir::new();
    dir.mkdir("site");
    let _server = Running::spawn(
        staticd()
            .args(["--port", "0", "site"])
            .current_dir(dir.path())
            .env("NOTIFY_SOCKET", format!("@{name}")),
    );
    assert!(next_state(&socket).lines().any(|l| l == "READY=1"));
}

/// `systemd-socket-activate -l 127.0.0.1:PORT... staticd ARGS`, run in `dir`. The tool binds,
/// then starts staticd on the first connection with the sockets as descriptors 3...
fn socket_activate(dir: &TempDir, ports: &[u16], args: &[&str]) -> Running {
    let mut command = Command::new("systemd-socket-activate");
    for port in ports {
        command.arg("-l").arg(format!("127.0.0.1:{port}"));
    }
    command
        .arg(env!("CARGO_BIN_EXE_staticd"))
        .args(args)
        .current_dir(dir.path());
    Running::spawn(&mut command)
}

/// Connects to `port`, retrying while the tool is still binding.
fn connect_when_bound(port: u16) -> Conn {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
        assert!(
            Instant::now() < deadline,
            "systemd-socket-activate never bound {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Conn::open(addr)
}

#[test]
fn a_socket_passed_by_the_manager_is_served_and_nothing_else_is_bound() {
    let dir = TempDir::new();
    dir.write("site/a.txt", b"activated");
    // The settings name a port another socket holds: binding it would fail with "in use", so a
    // start proves staticd served descriptor 3 instead.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    dir.write(
        "staticd.toml",
        format!("[server]\nport = {held_port}\nroot = \"site\"\nthreads = 2\n").as_bytes(),
    );
    let port = free_port();
    let mut server = socket_activate(&dir, &[port], &["--config", "staticd.toml"]);

    // The first connection starts staticd, and is served by it.
    let mut conn = connect_when_bound(port);
    conn.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let response = conn.read_response();
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"activated"[..])
    );
    let line = server.first_line(READY_TIMEOUT).expect("ready line");
    assert_eq!(
        line,
        format!("staticd listening on http://127.0.0.1:{port}/")
    );
    for _ in 0..20 {
        let mut conn = Conn::open(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        conn.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(conn.read_response().status, 200);
    }
    server.signal(Signal::TERM);
    assert_eq!(
        server.wait(Duration::from_secs(15)).and_then(|s| s.code()),
        Some(0)
    );
    drop(held);
}

#[test]
fn more_than_one_passed_socket_is_refused_with_one_line() {
    let dir = TempDir::new();
    dir.mkdir("site");
    let first = free_port();
    let second = std::iter::repeat_with(free_port)
        .find(|&p| p != first)
        .expect("a second port");
    let mut server = socket_activate(&dir, &[first, second], &["site"]);
    let _conn = connect_when_bound(first);
    let status = server.wait(Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(2));
    let stderr = server.stderr();
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("staticd: "))
        .collect();
    assert_eq!(ours.len(), 1, "{stderr}");
    assert!(ours[0].contains("LISTEN_FDS: 2 sockets passed"), "{stderr}");
}

#[test]
fn the_unit_files_pass_systemd_analyze_verify() {
    let dir = TempDir::new();
    let binary = env!("CARGO_BIN_EXE_staticd");
    for unit in ["staticd.service", "staticd.socket"] {
        let text = std::fs::read_to_string(repo_root().join("config").join(unit)).expect(unit);
        // verify checks that ExecStart's program exists: point it at the binary under test.
        dir.write(
            unit,
            text.replace("/usr/local/bin/staticd", binary).as_bytes(),
        );
    }
    let service = std::fs::read_to_string(dir.path().join("staticd.service")).unwrap();
    for directive in [
        "Type=notify",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "DynamicUser=yes",
    ] {
        assert!(
            service.lines().any(|l| l == directive),
            "staticd.service sets {directive}"
        );
    }
    let run = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("staticd.service"))
        .arg(dir.path().join("staticd.socket"))
        .output()
        .expect("systemd-analyze (Debian package systemd, from scripts/setup-test-deps.sh)");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "verify found problems: {stderr}");
}
