//! The emulated device for the host tests: builds the firmware for thumbv7em-none-eabihf, boots
//! it in QEMU's mps2-an386 board with the user network forwarding a free port on 127.0.0.1 to
//! the device's port 80, collects what the device prints over semihosting, and speaks HTTP/1.1 to
//! it over real TCP.
//!
//! QEMU comes from scripts/setup-firmware-deps.sh; a test fails (never skips) without it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const TARGET: &str = "thumbv7em-none-eabihf";
/// How long the device gets to print its ready line after QEMU starts.
const BOOT_WAIT: Duration = Duration::from_secs(30);
/// The longest any one read from the device may take before a test fails.
pub const IO_WAIT: Duration = Duration::from_secs(20);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("firmware/ has a parent")
        .to_path_buf()
}

/// Builds the firmware (release, as shipped) and gives the ELF's path; cargo makes this a no-op
/// when nothing changed, and serialises concurrent builds on its lock.
pub fn firmware_elf() -> PathBuf {
    let root = repo_root();
    let target_dir = root.join("target").join("device");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root.join("firmware").join("device"))
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        // Flags meant for the host's own build have no place in the device's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .stdin(Stdio::null())
        .output()
        .expect("run cargo build for the firmware");
    assert!(
        output.status.success(),
        "building the firmware failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let elf = target_dir
        .join(TARGET)
        .join("release")
        .join("staticd-device");
    assert!(elf.is_file(), "no firmware at {}", elf.display());
    elf
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// What the device printed, line by line, and whether QEMU's output has ended.
#[derive(Default)]
struct Output {
    lines: Vec<String>,
    closed: bool,
}

/// One booted device. Dropping it kills QEMU.
pub struct Device {
    child: Child,
    pub port: u16,
    output: Arc<(Mutex<Output>, Condvar)>,
}

impl Device {
    /// Boots the firmware and waits for its ready line.
    pub fn boot() -> Device {
        let elf = firmware_elf();
        // The port is free when picked; should another process take it before QEMU binds it,
        // QEMU exits at once and the next try picks another.
        let mut last_output = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let device = Device::start(&elf, port);
            if device.wait_for_line("serving on", BOOT_WAIT).is_some() {
                return device;
            }
            last_output = device.lines();
        }
        panic!("the device did not become ready; it printed: {last_output:#?}");
    }

    fn start(elf: &Path, port: u16) -> Device {
        let mut child = Command::new("qemu-system-arm")
            .args(["-M", "mps2-an386", "-nographic", "-semihosting", "-kernel"])
            .arg(elf)
            .arg("-nic")
            .arg(format!(
                "user,model=lan9118,hostfwd=tcp:127.0.0.1:{port}-:80"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qemu-system-arm: run `bash scripts/setup-firmware-deps.sh`");
        let output = Arc::new((Mutex::new(Output::default()), Condvar::new()));
        for stream in [
            Box::new(child.stdout.take().expect("piped stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped stderr")),
        ] {
            let output = Arc::clone(&output);
            thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let (lock, ready) = &*output;
                    lock.lock().expect("output lock").lines.push(line);
                    ready.notify_all();
                }
                let (lock, ready) = &*output;
                lock.lock().expect("output lock").closed = true;
                ready.notify_all();
            });
        }
        Device {
            child,
            port,
            output,
        }
    }

    /// Every line the device (and QEMU) printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.output.0.lock().expect("output lock").lines.clone()
    }

    /// Waits for a line containing `needle`; None when QEMU exited or the time ran out.
    pub fn wait_for_line(&self, needle: &str, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        let (lock, ready) = &*self.output;
        let mut output = lock.lock().expect("output lock");
        loop {
            if let Some(line) = output.lines.iter().find(|l| l.contains(needle)) {
                return Some(line.clone());
            }
            let now = Instant::now();
            if output.closed || now >= deadline {
                return None;
            }
            output = ready
                .wait_timeout(output, deadline - now)
                .expect("output lock")
                .0;
        }
    }

    /// Waits until the device has printed at least `count` lines containing `needle`.
    pub fn wait_for_count(&self, needle: &str, count: usize, wait: Duration) -> Vec<String> {
        let deadline = Instant::now() + wait;
        let (lock, ready) = &*self.output;
        let mut output = lock.lock().expect("output lock");
        loop {
            let found: Vec<String> = output
                .lines
                .iter()
                .filter(|l| l.contains(needle))
                .cloned()
                .collect();
            let now = Instant::now();
            if found.len() >= count || output.closed || now >= deadline {
                return found;
            }
            output = ready
                .wait_timeout(output, deadline - now)
                .expect("output lock")
                .0;
        }
    }

    /// A new TCP connection to the device's port 80.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the device");
        stream
            .set_read_timeout(Some(IO_WAIT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(IO_WAIT))
            .expect("write timeout");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }

    /// Asserts the device never reported a panic or a fault.
    pub fn assert_healthy(&self) {
        let lines = self.lines();
        let bad: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("panic") || l.contains("fault"))
            .collect();
        assert!(bad.is_empty(), "the device reported: {bad:#?}");
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response from `reader`. `head_only`: the request was HEAD (no body follows, whatever
/// Content-Length says). A response without Content-Length reads to the end of the stream.
pub fn read_response(reader: &mut impl BufRead, head_only: bool) -> Response {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("reading the response head after {head:?}: {e}"));
        assert!(
            n > 0,
            "the connection closed inside a response head: {head:?}"
        );
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            (name.trim().to_string(), value.trim().to_string())
        })
        .collect();
    let mut response = Response {
        status,
        head,
        headers,
        body: Vec::new(),
    };
    let no_body = head_only || status == 304 || status == 204 || (100..200).contains(&status);
    if !no_body {
        match response.header("content-length") {
            Some(len) => {
                let len: usize = len.parse().expect("numeric Content-Length");
                let mut body = vec![0; len];
                reader.read_exact(&mut body).expect("read the whole body");
                response.body = body;
            }
            None => {
                reader
                    .read_to_end(&mut response.body)
                    .expect("read the body to the end");
            }
        }
    }
    response
}

/// Sends `request` on a new connection and reads one response.
pub fn exchange(device: &Device, request: &str) -> Response {
    let mut stream = device.connect();
    stream.write_all(request.as_bytes()).expect("send request");
    let head_only = request.starts_with("HEAD ");
    read_response(&mut BufReader::new(stream), head_only)
}

/// A plain GET of `path` with `Connection: close`.
pub fn get(device: &Device, path: &str) -> Response {
    exchange(
        device,
        &format!("GET {path} HTTP/1.1\r\nHost: device\r\nConnection: close\r\n\r\n"),
    )
}

/// Reads until the peer closes (or IO_WAIT passes): Some(bytes) if it closed, None if it did not.
pub fn read_until_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(data),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(data),
            Err(_) => return None,
        }
    }
}
