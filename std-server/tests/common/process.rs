//! Temporary directories and the `staticd` binary as a process run to completion.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A temporary directory (from `tempfile`), removed with everything in it on drop.
pub struct TempDir {
    inner: tempfile::TempDir,
}

impl TempDir {
    /// Creates `$TMPDIR/staticd-test-XXXXXX`.
    pub fn new() -> TempDir {
        let inner = tempfile::Builder::new()
            .prefix("staticd-test-")
            .tempdir()
            .expect("create temp dir");
        TempDir { inner }
    }

    pub fn path(&self) -> &Path {
        self.inner.path()
    }

    /// Writes `bytes` to `rel` (relative to the directory), creating parent directories.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// Creates the (possibly nested) directory `rel`.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.path().join(rel);
        std::fs::create_dir_all(&path).expect("create dir");
        path
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

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
pub(super) fn staticd_command(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_staticd"));
    command
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

pub(super) fn collect<R: Read + Send + 'static>(mut reader: R) -> Arc<Mutex<Vec<u8>>> {
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

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) fn snapshot(buf: &Arc<Mutex<Vec<u8>>>) -> Vec<u8> {
    lock(buf).clone()
}

pub(super) fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// The workspace root (the folder holding `config/`, `site/` and `std-server/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("std-server has a parent")
        .to_path_buf()
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, release it).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}
