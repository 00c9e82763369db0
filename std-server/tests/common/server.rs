//! A running `staticd` serving a temporary site: started from a generated settings file, ready when
//! it prints its ready line, killed and cleaned up on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

pub use rustix::process::Signal;

use super::client::{Conn, Response};
use super::process::{TempDir, collect, lock, snapshot, staticd_command, wait_with_timeout};

/// How long the server may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

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
pub fn merge_config(toml: &str, entries: &[(&str, &str, String)]) -> String {
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

    /// `GET target HTTP/1.1` on a fresh connection with `target` sent byte for byte (NUL, raw
    /// UTF-8, backslashes go out as given), `Connection: close`; the response, or why none came
    /// within 5 s.
    pub fn try_get_raw(&self, target: &[u8]) -> Result<Response, String> {
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(target);
        raw.extend_from_slice(
            format!(
                " HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.host()
            )
            .as_bytes(),
        );
        let mut conn = self.connect();
        conn.send(&raw).map_err(|e| format!("send: {e}"))?;
        conn.try_read_response(false, Duration::from_secs(5))
    }

    /// As [`Server::try_get_raw`]; panics when no response comes.
    pub fn get_raw(&self, target: &[u8]) -> Response {
        self.try_get_raw(target).unwrap_or_else(|e| {
            panic!(
                "GET {:?}: no response: {e}",
                String::from_utf8_lossy(target)
            )
        })
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

/// Whether the server process is still running (not gone, not a zombie).
pub fn server_alive(server: &Server) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", server.pid()))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Asserts that a plain GET of `path` on a fresh connection is a 200 with exactly `body`.
pub fn assert_still_serves(server: &Server, path: &str, body: &[u8], after: &str) {
    let mut conn = server.connect();
    conn.send(
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.host()
        )
        .as_bytes(),
    )
    .unwrap_or_else(|e| panic!("after {after}: sending a normal request failed: {e}"));
    let r = conn
        .try_read_response(false, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("after {after}: no answer to a normal request: {e}"));
    assert_eq!(
        r.status, 200,
        "after {after}: normal request got {}",
        r.status
    );
    assert!(r.body == body, "after {after}: wrong body for {path}");
}
