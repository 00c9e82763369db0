//! The shared harness of staticd's end-to-end tests.
//!
//! Every test starts the real `staticd` binary on 127.0.0.1, port 0, inside its own temporary
//! directory, waits for the ready line `staticd listening on http://127.0.0.1:PORT/` and talks to it
//! over raw TCP ([`Conn`]) where the bytes matter, or with ureq ([`http_agent`]) where a real client
//! is the point. Nothing here can hang: every socket read has a deadline and every wait is bounded.
//!
//! The API (keep it small and stable; only add to it):
//! - [`Server::start`] / [`Server::builder`] ([`ServerBuilder`]): a running server; killed and its
//!   directory removed on drop. `port()`, `host()`, `url()`, `pid()`, `dir()`, `site()`, `get()`,
//!   `request()`, `access_log()`, `wait_access_log_lines()`, `stdout_lines()`, `stderr()`,
//!   `signal()`, `wait_exit()`.
//! - [`Conn`]: one client connection with a buffered response reader ([`Response`]) so several
//!   responses (keep-alive, pipelining) can be read from one socket; [`Conn::wait_closed`] ([`CloseWait`]).
//! - [`run_staticd`] ([`Finished`]): run the binary to completion (bad configs, `--help`).
//! - [`TempDir`], [`http_agent`] (ureq, no proxy), [`parse_response_head`], [`parse_imf_fixdate`],
//!   [`parse_access_line`] ([`AccessLine`]), [`parse_clf_time`], [`sha256_hex`],
//!   [`pseudo_random_bytes`], [`find`], [`TINY_PNG`].
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use rustix::process::Signal;

/// How long the server may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Default deadline for reading one whole response from a socket.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------------------------

/// A unique directory under the system temp dir, removed with everything in it on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `$TMPDIR/staticd-test-<pid>-<n>-<nanos>`.
    pub fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("staticd-test-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` to `rel` (relative to the directory), creating parent directories.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// Creates the (possibly nested) directory `rel`.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.path.join(rel);
        std::fs::create_dir_all(&path).expect("create dir");
        path
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

// ---------------------------------------------------------------------------------------------
// Running the binary to completion
// ---------------------------------------------------------------------------------------------

/// What a finished `staticd` run left behind.
#[derive(Debug)]
pub struct Finished {
    /// `None` when the process had to be killed because it did not exit within the timeout.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `staticd ARGS` in `cwd` and waits at most `timeout` for it to exit (killing it otherwise).
pub fn run_staticd(args: &[&str], cwd: &Path, timeout: Duration) -> Finished {
    let mut child = staticd_command(cwd)
        .args(args)
        .spawn()
        .expect("spawn staticd");
    let stdout = collect(child.stdout.take().expect("stdout piped"));
    let stderr = collect(child.stderr.take().expect("stderr piped"));
    let status = wait_with_timeout(&mut child, timeout);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    // The pipes close when the process is gone; give the reader threads a moment to finish.
    thread::sleep(Duration::from_millis(50));
    Finished {
        status,
        stdout: String::from_utf8_lossy(&snapshot(&stdout)).into_owned(),
        stderr: String::from_utf8_lossy(&snapshot(&stderr)).into_owned(),
    }
}

/// The staticd binary, run in `cwd` with backtraces on, no stdin, and stdout and stderr piped for
/// the caller to collect.
fn staticd_command(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_staticd"));
    command
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn collect<R: Read + Send + 'static>(mut reader: R) -> Arc<Mutex<Vec<u8>>> {
    let sink = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::clone(&sink);
    thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => lock(&out).extend_from_slice(&chunk[..n]),
            }
        }
    });
    sink
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn snapshot(buf: &Arc<Mutex<Vec<u8>>>) -> Vec<u8> {
    lock(buf).clone()
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A running server
// ---------------------------------------------------------------------------------------------

/// How to start a server; see [`Server::builder`].
pub struct ServerBuilder {
    config: String,
    inject_defaults: bool,
    use_config_flag: bool,
    access_log_stdout: bool,
    files: Vec<(String, Vec<u8>)>,
    dirs: Vec<String>,
    args: Vec<String>,
    current_dir: Option<String>,
}

/// A `staticd` process serving a temporary site. Killed (if still running) and cleaned up on drop.
///
/// Layout of [`Server::dir`]: `site/` (the root, holding the test's files), `staticd.toml`,
/// `access.log` (unless the access log goes to stdout).
pub struct Server {
    child: Child,
    port: u16,
    dir: TempDir,
    stdout_lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    exit: Option<ExitStatus>,
}

/// Why a server did not reach its ready line.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub reason: String,
}

impl ServerBuilder {
    /// TOML added to the generated config. Sections `[server]` and `[log]` may appear; the harness
    /// adds `host = "127.0.0.1"`, `port = 0`, `root = <dir>/site` and `access_log = <dir>/access.log`
    /// to them unless the text already sets that key in that section.
    pub fn config(mut self, toml: &str) -> Self {
        self.config = toml.to_string();
        self
    }

    /// Write the config text exactly as given (no injected host/port/root/access_log).
    pub fn raw_config(mut self) -> Self {
        self.inject_defaults = false;
        self
    }

    /// Do not pass `--config`; the config text (if any) is still written to `staticd.toml`.
    pub fn no_config_flag(mut self) -> Self {
        self.use_config_flag = false;
        self
    }

    /// Send the access log to stdout (`access_log = "-"`); read it with [`Server::stdout_lines`].
    pub fn access_log_stdout(mut self) -> Self {
        self.access_log_stdout = true;
        self
    }

    /// A file under the site root (`rel` without a leading slash, e.g. `"a/b.html"`).
    pub fn file(mut self, rel: &str, bytes: &[u8]) -> Self {
        self.files.push((rel.to_string(), bytes.to_vec()));
        self
    }

    /// Several files under the site root.
    pub fn files(mut self, files: &[(&str, &[u8])]) -> Self {
        for (rel, bytes) in files {
            self.files.push((rel.to_string(), bytes.to_vec()));
        }
        self
    }

    /// An (empty) directory under the site root.
    pub fn dir(mut self, rel: &str) -> Self {
        self.dirs.push(rel.to_string());
        self
    }

    /// An extra command-line argument, after `--config FILE`.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Run the process in `<dir>/rel` (created) instead of `<dir>`.
    pub fn current_dir(mut self, rel: &str) -> Self {
        self.current_dir = Some(rel.to_string());
        self
    }

    /// Starts the server and waits for its ready line; panics with stderr if it does not come.
    pub fn start(self) -> Server {
        match self.try_start() {
            Ok(server) => server,
            Err(failure) => panic!(
                "staticd did not start: {}\nexit status: {:?}\nstdout:\n{}\nstderr:\n{}",
                failure.reason, failure.status, failure.stdout, failure.stderr
            ),
        }
    }

    /// Starts the server; `Err` if it exits or stays silent instead of printing its ready line.
    pub fn try_start(self) -> Result<Server, StartFailure> {
        let dir = TempDir::new();
        let site = dir.mkdir("site");
        for rel in &self.dirs {
            dir.mkdir(&format!("site/{rel}"));
        }
        for (rel, bytes) in &self.files {
            dir.write(&format!("site/{rel}"), bytes);
        }
        let config_text = if self.inject_defaults {
            let access_log = if self.access_log_stdout {
                "-".to_string()
            } else {
                dir.path().join("access.log").display().to_string()
            };
            merge_config(
                &self.config,
                &[
                    ("server", "host", "\"127.0.0.1\"".to_string()),
                    ("server", "port", "0".to_string()),
                    ("server", "root", toml_literal(&site.display().to_string())),
                    ("log", "access_log", toml_literal(&access_log)),
                ],
            )
        } else {
            self.config.clone()
        };
        let config_path = dir.write("staticd.toml", config_text.as_bytes());

        let cwd = match &self.current_dir {
            Some(rel) => dir.mkdir(rel),
            None => dir.path().to_path_buf(),
        };
        let mut command = staticd_command(&cwd);
        if self.use_config_flag {
            command.arg("--config").arg(&config_path);
        }
        let mut child = command.args(&self.args).spawn().expect("spawn staticd");

        let stderr = collect(child.stderr.take().expect("stderr piped"));
        let stdout_lines = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel::<String>();
        {
            let stdout = child.stdout.take().expect("stdout piped");
            let lines = Arc::clone(&stdout_lines);
            thread::spawn(move || {
                let mut first = true;
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if first {
                        first = false;
                        let _ = ready_tx.send(line);
                    } else {
                        lock(&lines).push(line);
                    }
                }
            });
        }

        let fail = |mut child: Child, reason: String| {
            let status = match wait_with_timeout(&mut child, Duration::from_millis(200)) {
                Some(status) => Some(status),
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    None
                }
            };
            thread::sleep(Duration::from_millis(50));
            Err(StartFailure {
                status,
                stdout: lock(&stdout_lines).join("\n"),
                stderr: String::from_utf8_lossy(&snapshot(&stderr)).into_owned(),
                reason,
            })
        };

        let first_line = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return fail(child, format!("no stdout line within {READY_TIMEOUT:?}"));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return fail(child, "stdout closed before the ready line".to_string());
            }
        };
        let Some(port) = parse_ready_line(&first_line) else {
            return fail(
                child,
                format!(
                    "first stdout line is not `staticd listening on http://127.0.0.1:PORT/`: {first_line:?}"
                ),
            );
        };
        Ok(Server {
            child,
            port,
            dir,
            stdout_lines,
            stderr,
            exit: None,
        })
    }
}

/// The port of an exact ready line `staticd listening on http://127.0.0.1:PORT/`.
pub fn parse_ready_line(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("staticd listening on http://127.0.0.1:")?;
    let digits = rest.strip_suffix('/')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&p| p != 0)
}

/// A TOML literal string (no escapes needed for temp paths; refuses the one character it cannot hold).
pub fn toml_literal(s: &str) -> String {
    assert!(!s.contains('\''), "path with a quote: {s}");
    format!("'{s}'")
}

/// Adds `key = value` to `[section]` of `toml` for each entry the text does not already set there.
fn merge_config(toml: &str, entries: &[(&str, &str, String)]) -> String {
    let mut lines: Vec<String> = toml.lines().map(str::to_string).collect();
    let mut sections: Vec<&str> = entries.iter().map(|(s, _, _)| *s).collect();
    sections.dedup();
    for section in sections {
        let header = format!("[{section}]");
        let start = lines.iter().position(|l| l.trim() == header);
        let keys_set = |lines: &[String], from: usize| -> Vec<String> {
            lines[from..]
                .iter()
                .take_while(|l| !l.trim_start().starts_with('['))
                .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
                .collect()
        };
        let (insert_at, present) = match start {
            Some(i) => (i + 1, keys_set(&lines, i + 1)),
            None => {
                lines.push(String::new());
                lines.push(header.clone());
                (lines.len(), Vec::new())
            }
        };
        let mut added = Vec::new();
        for (s, key, value) in entries {
            if *s == section && !present.iter().any(|k| k == key) {
                added.push(format!("{key} = {value}"));
            }
        }
        for (offset, line) in added.into_iter().enumerate() {
            lines.insert(insert_at + offset, line);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

impl Server {
    /// A server with extra config TOML (see [`ServerBuilder::config`]) serving `files`.
    pub fn start(config_toml: &str, files: &[(&str, &[u8])]) -> Server {
        Server::builder().config(config_toml).files(files).start()
    }

    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: String::new(),
            inject_defaults: true,
            use_config_flag: true,
            access_log_stdout: false,
            files: Vec::new(),
            dirs: Vec::new(),
            args: Vec::new(),
            current_dir: None,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:PORT` + `path` (path starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The value a client puts in `Host`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temp directory holding `site/`, `staticd.toml` and `access.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The served root, `<dir>/site`.
    pub fn site(&self) -> PathBuf {
        self.dir.path().join("site")
    }

    /// A new client connection (read/write timeouts set, TCP_NODELAY on).
    pub fn connect(&self) -> Conn {
        Conn::open(self.addr())
    }

    /// `GET path HTTP/1.1` with a Host field on a fresh connection; the first response.
    pub fn get(&self, path: &str) -> Response {
        let mut conn = self.connect();
        conn.send(format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host()).as_bytes())
            .expect("send request");
        conn.read_response()
    }

    /// Sends `raw` on a fresh connection and reads one response (without a body when `raw` is a HEAD).
    pub fn request(&self, raw: &[u8]) -> Response {
        let mut conn = self.connect();
        conn.send(raw).expect("send request");
        if raw.starts_with(b"HEAD ") {
            conn.read_head_response()
        } else {
            conn.read_response()
        }
    }

    /// The whole access log file as it is now (empty if it does not exist yet).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Waits up to `within` until the access log file holds at least `n` lines; returns all lines.
    pub fn wait_access_log_lines(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let text = self.access_log();
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.len() >= n || Instant::now() >= deadline {
                return lines;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stdout lines after the ready line (the access log when it goes to stdout).
    pub fn stdout_lines(&self) -> Vec<String> {
        lock(&self.stdout_lines).clone()
    }

    /// Waits up to `within` until stdout holds at least `n` lines after the ready line.
    pub fn wait_stdout_lines(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let lines = self.stdout_lines();
            if lines.len() >= n || Instant::now() >= deadline {
                return lines;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&snapshot(&self.stderr)).into_owned()
    }

    /// Sends `signal` to the server process.
    pub fn signal(&self, signal: Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("nonzero pid");
        rustix::process::kill_process(pid, signal).expect("send signal");
    }

    /// Waits up to `within` for the process to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = wait_with_timeout(&mut self.child, within);
        }
        self.exit
    }

    /// `Some(status)` if the process has exited (does not wait).
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.wait_exit(Duration::ZERO)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A client connection and its response reader
// ---------------------------------------------------------------------------------------------

/// One TCP connection to the server, with a buffer so that responses can be read one by one.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// One response as read from the wire.
#[derive(Debug, Clone)]
pub struct Response {
    /// `HTTP/1.1` (whatever the status line said).
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// In order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The head bytes as sent, from the status line through the final empty line.
    pub head: Vec<u8>,
}

impl Response {
    /// The first value of `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The parsed Content-Length, if any (panics on a malformed one: a server bug).
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length").map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("malformed Content-Length from server: {v:?}"))
        })
    }

    /// Whether `Connection: close` was sent.
    pub fn says_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }

    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Parses one response head (`head` ends with CRLF CRLF) into a [`Response`] with an empty body.
/// Strict about the shape a server must send.
pub fn parse_response_head(head: &[u8]) -> Result<Response, String> {
    let text = std::str::from_utf8(head).map_err(|_| format!("head is not UTF-8: {head:?}"))?;
    let body = text
        .strip_suffix("\r\n\r\n")
        .ok_or_else(|| format!("head does not end with CRLF CRLF: {text:?}"))?;
    let mut lines = body.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default().to_string();
    if !version.starts_with("HTTP/") || code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("malformed status line: {status_line:?}"));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| format!("bad status: {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        if line.contains('\n') || line.contains('\r') {
            return Err(format!("bare CR or LF in header line {line:?}"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line without a colon: {line:?}"))?;
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(format!("bad header name in {line:?}"));
        }
        headers.push((
            name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }
    Ok(Response {
        version,
        status,
        reason,
        headers,
        body: Vec::new(),
        head: head.to_vec(),
    })
}

/// How a wait for the server to close a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum CloseWait {
    /// EOF (or a reset) arrived; the bytes received before it.
    Closed(Vec<u8>),
    /// Still open at the deadline; the bytes received meanwhile.
    Open(Vec<u8>),
}

impl Conn {
    /// Connects to `addr` with read/write timeouts and TCP_NODELAY.
    pub fn open(addr: SocketAddr) -> Conn {
        let stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect to staticd");
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .expect("write timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Writes all of `bytes` (a server that already closed may make this fail: EPIPE/ECONNRESET).
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Half-closes the sending side (the server sees EOF).
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Reads one response with its body (Content-Length, chunked, or up to close when neither);
    /// no body for 1xx, 204 and 304. Panics on timeout, EOF or a malformed response.
    pub fn read_response(&mut self) -> Response {
        self.try_read_response(false, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("reading a response: {e}"))
    }

    /// Reads one response to a HEAD request (never a body). Panics like [`Conn::read_response`].
    pub fn read_head_response(&mut self) -> Response {
        self.try_read_response(true, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("reading a HEAD response: {e}"))
    }

    /// Reads one response within `within`. `head_only` for a response to HEAD.
    pub fn try_read_response(
        &mut self,
        head_only: bool,
        within: Duration,
    ) -> Result<Response, String> {
        let deadline = Instant::now() + within;
        let head_len = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                break pos + 4;
            }
            if self.fill(deadline)? == 0 {
                return Err(format!(
                    "connection closed before a complete response head; received {:?}",
                    String::from_utf8_lossy(&self.buf)
                ));
            }
        };
        let head: Vec<u8> = self.buf.drain(..head_len).collect();
        let mut response = parse_response_head(&head)?;
        let status = response.status;
        if head_only || status < 200 || status == 204 || status == 304 {
            return Ok(response);
        }
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if let Some(len) = response.header("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| format!("malformed Content-Length from server: {len:?}"))?;
            while self.buf.len() < len {
                if self.fill(deadline)? == 0 {
                    return Err(format!(
                        "connection closed after {} of {len} body bytes (status {status})",
                        self.buf.len()
                    ));
                }
            }
            response.body = self.buf.drain(..len).collect();
        } else if chunked {
            response.body = self.read_chunked(deadline)?;
        } else {
            while self.fill(deadline)? != 0 {}
            response.body = std::mem::take(&mut self.buf);
        }
        Ok(response)
    }

    fn read_chunked(&mut self, deadline: Instant) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(p) = find(&self.buf, b"\r\n") {
                    break p;
                }
                if self.fill(deadline)? == 0 {
                    return Err("EOF inside a chunked body".into());
                }
            };
            let line = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| format!("bad chunk size line {line:?}"))?;
            self.buf.drain(..line_end + 2);
            if size == 0 {
                loop {
                    let end = loop {
                        if let Some(p) = find(&self.buf, b"\r\n") {
                            break p;
                        }
                        if self.fill(deadline)? == 0 {
                            return Err("EOF inside trailers".into());
                        }
                    };
                    self.buf.drain(..end + 2);
                    if end == 0 {
                        return Ok(body);
                    }
                }
            }
            while self.buf.len() < size + 2 {
                if self.fill(deadline)? == 0 {
                    return Err("EOF inside a chunk".into());
                }
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }

    /// Reads more bytes into the buffer before `deadline`; `Ok(0)` on EOF or reset.
    fn fill(&mut self, deadline: Instant) -> Result<usize, String> {
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "timed out; received so far {:?}",
                String::from_utf8_lossy(&self.buf)
            ));
        }
        self.stream
            .set_read_timeout(Some(deadline - now))
            .map_err(|e| e.to_string())?;
        let mut chunk = [0u8; 64 * 1024];
        let result = self.stream.read(&mut chunk);
        let _ = self.stream.set_read_timeout(Some(IO_TIMEOUT));
        match result {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(0),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                Err(format!(
                    "timed out; received so far {:?}",
                    String::from_utf8_lossy(&self.buf)
                ))
            }
            Err(e) => Err(format!("read error: {e}")),
        }
    }

    /// Waits up to `within` for the server to close the connection (EOF or reset).
    pub fn wait_closed(&mut self, within: Duration) -> CloseWait {
        let deadline = Instant::now() + within;
        loop {
            match self.fill(deadline) {
                Ok(0) => return CloseWait::Closed(std::mem::take(&mut self.buf)),
                Ok(_) => {}
                Err(_) => return CloseWait::Open(std::mem::take(&mut self.buf)),
            }
        }
    }

    /// Bytes received (and still unread by the response reader) so far, reading for up to `within`.
    pub fn read_for(&mut self, within: Duration) -> Vec<u8> {
        let deadline = Instant::now() + within;
        while let Ok(n) = self.fill(deadline) {
            if n == 0 {
                break;
            }
        }
        std::mem::take(&mut self.buf)
    }
}

/// Position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// A real HTTP client
// ---------------------------------------------------------------------------------------------

/// A ureq agent for the tests: no proxy (only 127.0.0.1), 4xx/5xx are responses not errors,
/// a 30 s global timeout.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

// ---------------------------------------------------------------------------------------------
// Formats: dates, the access log, digests
// ---------------------------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday

/// Seconds since the Unix epoch now.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn two_digits(s: &str, max: u32) -> Option<u32> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
        .filter(|&v| v <= max)
}

fn date_time(y: &str, mon: &str, d: &str, hms: &str) -> Option<u64> {
    if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = y.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
    let day = two_digits(d, 31).filter(|&d| d >= 1)?;
    let mut t = hms.split(':');
    let (h, mi, s) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() {
        return None;
    }
    let (h, mi, s) = (two_digits(h, 23)?, two_digits(mi, 59)?, two_digits(s, 60)?);
    let days = days_from_civil(year, month, day);
    if days < 0 {
        return None;
    }
    Some(days as u64 * 86_400 + u64::from(h) * 3600 + u64::from(mi) * 60 + u64::from(s))
}

/// Unix seconds of a strict IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7),
/// including a weekday that matches the date; `None` for anything else.
pub fn parse_imf_fixdate(s: &str) -> Option<u64> {
    if s.len() != 29 {
        return None;
    }
    let (wd, rest) = s.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    if parts.len() != 5 || parts[4] != "GMT" {
        return None;
    }
    let secs = date_time(parts[2], parts[1], parts[0], parts[3])?;
    (WEEKDAYS[((secs / 86_400) % 7) as usize] == wd).then_some(secs)
}

/// Unix seconds of a Common Log Format time `27/Nov/2026:01:02:03 +0000`; `None` if malformed.
pub fn parse_clf_time(s: &str) -> Option<u64> {
    let (stamp, zone) = s.split_once(' ')?;
    if zone.len() != 5
        || !(zone.starts_with('+') || zone.starts_with('-'))
        || !zone[1..].bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut it = stamp.splitn(3, '/');
    let (d, mon, rest) = (it.next()?, it.next()?, it.next()?);
    let (y, hms) = rest.split_once(':')?;
    let local = date_time(y, mon, d, hms)? as i64;
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let offset: i64 = zone[1..3].parse::<i64>().ok()? * 3600 + zone[3..5].parse::<i64>().ok()? * 60;
    u64::try_from(local - sign * offset).ok()
}

/// One access-log line in the Combined Log Format, fields as written (quoted ones still escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    pub client: String,
    pub ident: String,
    pub user: String,
    /// Inside the brackets, e.g. `27/Nov/2026:01:02:03 +0000`.
    pub time: String,
    /// Inside the quotes, escaped as written, e.g. `GET /a.html HTTP/1.1`.
    pub request: String,
    pub status: u16,
    /// Digits or `-`.
    pub bytes: String,
    pub referer: String,
    pub user_agent: String,
}

/// Parses `client ident user [time] "request" status bytes "referer" "user-agent"` strictly:
/// single spaces, a valid CLF time, quoted fields whose only escapes are `\"`, `\\` and `\xHH`
/// with no raw control bytes, a 3-digit status, bytes as digits or `-`, nothing after.
pub fn parse_access_line(line: &str) -> Option<AccessLine> {
    fn word(s: &str) -> Option<(&str, &str)> {
        let end = s.find(' ')?;
        let w = &s[..end];
        (!w.is_empty()).then_some((w, &s[end + 1..]))
    }
    fn quoted(s: &str) -> Option<(String, &str)> {
        let s = s.strip_prefix('"')?;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => return Some((s[..i].to_string(), &s[i + 1..])),
                b'\\' => match bytes.get(i + 1)? {
                    b'"' | b'\\' => i += 2,
                    b'x' => {
                        let hex = s.get(i + 2..i + 4)?;
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        i += 4;
                    }
                    _ => return None,
                },
                b if b < 0x20 || b == 0x7f => return None,
                _ => i += 1,
            }
        }
        None
    }
    let (client, rest) = word(line)?;
    let (ident, rest) = word(rest)?;
    let (user, rest) = word(rest)?;
    let rest = rest.strip_prefix('[')?;
    let (time, rest) = rest.split_once("] ")?;
    parse_clf_time(time)?;
    let (request, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(' ')?;
    let (status, rest) = word(rest)?;
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (bytes, rest) = word(rest)?;
    if bytes != "-" && !bytes.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (referer, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(' ')?;
    let (user_agent, rest) = quoted(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some(AccessLine {
        client: client.to_string(),
        ident: ident.to_string(),
        user: user.to_string(),
        time: time.to_string(),
        request,
        status: status.parse().ok()?,
        bytes: bytes.to_string(),
        referer,
        user_agent,
    })
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `len` deterministic pseudo-random bytes (xorshift64*), different for each `seed`.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A tiny valid PNG (1x1, red), for tests that want a real image.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_parsers_accept_and_refuse() {
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_imf_fixdate("Mon, 06 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(
            parse_clf_time("06/Nov/1994:08:49:37 +0000"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_clf_time("06/Nov/1994:10:49:37 +0200"),
            Some(784_111_777)
        );
        let line =
            r#"127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET /a\"b HTTP/1.1" 200 12 "-" "ua\\x""#;
        let parsed = parse_access_line(line).expect("valid line");
        assert_eq!(parsed.request, r#"GET /a\"b HTTP/1.1"#);
        assert_eq!(parsed.user_agent, r"ua\\x");
        assert!(parse_access_line(&format!("{line} ")).is_none());
        assert!(parse_access_line(&line.replace("200", "20")).is_none());
        assert_eq!(
            parse_ready_line("staticd listening on http://127.0.0.1:4321/"),
            Some(4321)
        );
        assert_eq!(
            parse_ready_line("staticd listening on http://127.0.0.1:4321"),
            None
        );
        assert!(
            merge_config("[server]\nport = 5\n", &[("server", "port", "0".into())])
                .contains("port = 5")
        );
        assert!(
            merge_config("[log]\n", &[("server", "port", "0".into())])
                .contains("[server]\nport = 0")
        );
    }
}
