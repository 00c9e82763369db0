//! The log thread and the access-log line format.
//!
//! Workers format Combined Log Format lines into a per-worker buffer and hand the whole buffer to
//! the log thread once per event-loop iteration, so no worker ever waits on the disk. The log thread
//! writes through a `BufWriter`, flushes within [`FLUSH_INTERVAL`] of the first unflushed line, and
//! hands the emptied buffer back to its worker so the steady state allocates nothing.

use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use staticd_core::date::clf_date;
use staticd_core::status::StatusCode;

use crate::settings::{AccessLogFormat, LogConfig};

/// Lines reach the file at most this long after they were handed over (issue 8: within one second).
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);
const ACCESS_BUFFER_BYTES: usize = 64 * 1024;
/// A worker hands its batch over once it is this big ...
const BATCH_SEND_BYTES: usize = 32 * 1024;
/// ... or once its oldest line is this old, so a busy worker wakes the log thread (a futex call)
/// a few times per interval instead of once per event-loop iteration.
pub const BATCH_SEND_MS: u64 = 100;
/// Access buffers kept per worker for reuse; more than this are dropped.
const RETURNED_BUFFERS: usize = 4;

enum LogMsg {
    Access {
        worker: usize,
        batch: Vec<u8>,
    },
    Error(String),
    /// Reopen the log files (SIGUSR1).
    Reopen,
    /// Where worker `worker`'s emptied buffers go back from now on.
    Worker {
        worker: usize,
        back: SyncSender<Vec<u8>>,
    },
    Shutdown,
}

/// A cloneable handle for the error log.
#[derive(Clone)]
pub struct ErrorLog {
    tx: Sender<LogMsg>,
}

impl ErrorLog {
    /// Queues one error-log line; the log thread stamps it with the time.
    pub fn error(&self, msg: impl Display) {
        // A send fails only after shutdown, when there is nobody left to tell.
        let _ = self.tx.send(LogMsg::Error(msg.to_string()));
    }

    /// Asks the log thread to reopen both log files by their paths (after a rotation).
    pub fn reopen(&self) {
        let _ = self.tx.send(LogMsg::Reopen);
    }
}

impl ErrorLog {
    /// An error log whose lines go to the returned receiver instead of a log thread (tests, and
    /// `staticd check`, which prints them itself).
    pub fn capture() -> (ErrorLog, CapturedErrors) {
        let (tx, rx) = mpsc::channel();
        (ErrorLog { tx }, CapturedErrors(rx))
    }
}

/// The lines of an [`ErrorLog::capture`].
pub struct CapturedErrors(Receiver<LogMsg>);

impl CapturedErrors {
    /// The error lines queued so far.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .try_iter()
            .filter_map(|msg| match msg {
                LogMsg::Error(line) => Some(line),
                _ => None,
            })
            .collect()
    }
}

/// One worker's side of the access log: the batch being filled and buffers coming back.
pub struct AccessBatch {
    worker: usize,
    format: AccessLogFormat,
    tx: Sender<LogMsg>,
    returned: Receiver<Vec<u8>>,
    /// Lines formatted since the last [`AccessBatch::send`].
    pub buf: Vec<u8>,
    /// When the oldest line in `buf` was written (worker milliseconds).
    oldest_ms: Option<u64>,
}

impl AccessBatch {
    /// When the batch must be handed over even if nothing else happens (for the poll timeout).
    pub fn due_ms(&self) -> Option<u64> {
        self.oldest_ms.map(|t| t + BATCH_SEND_MS)
    }

    /// Called at the end of each loop iteration: hands the batch over when it is big or old.
    pub fn send_if_due(&mut self, now_ms: u64) {
        if self.buf.is_empty() {
            return;
        }
        let oldest = *self.oldest_ms.get_or_insert(now_ms);
        if self.buf.len() >= BATCH_SEND_BYTES || now_ms >= oldest + BATCH_SEND_MS {
            self.send();
        }
    }

    /// Appends `line` to the batch in the configured `log.format`.
    pub fn push(&mut self, line: &AccessLine<'_>) {
        match self.format {
            AccessLogFormat::Combined => line.write_to(&mut self.buf),
            AccessLogFormat::Json => line.write_json(&mut self.buf),
        }
    }

    /// Hands the lines formatted so far to the log thread.
    pub fn send(&mut self) {
        self.oldest_ms = None;
        if self.buf.is_empty() {
            return;
        }
        let spare = self
            .returned
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(ACCESS_BUFFER_BYTES));
        let batch = std::mem::replace(&mut self.buf, spare);
        let _ = self.tx.send(LogMsg::Access {
            worker: self.worker,
            batch,
        });
    }
}

/// The running log thread.
pub struct Logger {
    tx: Sender<LogMsg>,
    thread: Option<JoinHandle<()>>,
}

impl Logger {
    /// One access batch for each of `count` workers, numbered from 0, writing `format`. Workers started by a reload
    /// take over the numbers of the ones they replace: emptied buffers go back to the newest
    /// worker of a number (a retiring one just allocates the few it still needs).
    pub fn batches(&self, count: usize, format: AccessLogFormat) -> Vec<AccessBatch> {
        (0..count)
            .map(|worker| {
                let (back, returned) = mpsc::sync_channel(RETURNED_BUFFERS);
                let _ = self.tx.send(LogMsg::Worker { worker, back });
                AccessBatch {
                    worker,
                    tx: self.tx.clone(),
                    returned,
                    buf: Vec::with_capacity(ACCESS_BUFFER_BYTES),
                    oldest_ms: None,
                    format,
                }
            })
            .collect()
    }

    /// Writes every line queued so far, flushes, and stops the thread.
    pub fn shutdown(mut self) {
        let _ = self.tx.send(LogMsg::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where one log goes: a file path opened for appending, or `-` for stdout (access log) or
/// stderr (error log).
pub struct Target {
    /// `log.access_log` or `log.error_log`.
    key: &'static str,
    path: String,
    out: Box<dyn Write + Send>,
}

impl Target {
    fn open(key: &'static str, path: &str) -> Result<Target, OpenError> {
        let out: Box<dyn Write + Send> = match (path, key) {
            ("-", ACCESS_KEY) => Box::new(io::stdout()),
            ("-", _) => Box::new(io::stderr()),
            _ => Box::new(open_append(path).map_err(|error| OpenError {
                key,
                path: path.to_owned(),
                error,
            })?),
        };
        Ok(Target {
            key,
            path: path.to_owned(),
            out,
        })
    }

    /// Opens the file again by its path (after logrotate renamed it); `Ok(false)` for stdout
    /// and stderr, which have nothing to reopen.
    fn reopen(&mut self) -> io::Result<bool> {
        if self.path == "-" {
            return Ok(false);
        }
        self.out = Box::new(open_append(&self.path)?);
        Ok(true)
    }
}

const ACCESS_KEY: &str = "log.access_log";
const ERROR_KEY: &str = "log.error_log";

fn open_append(path: &str) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// A log file that cannot be opened: a start-up error naming the setting.
#[derive(Debug)]
pub struct OpenError {
    pub key: &'static str,
    pub path: String,
    pub error: io::Error,
}

impl Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: cannot open {:?}: {}",
            self.key, self.path, self.error
        )
    }
}

/// The access and the error log, opened (files created if missing, appended to): both are
/// needed to start, so either failing is a start-up error.
pub fn open_targets(config: &LogConfig) -> Result<(Target, Target), OpenError> {
    let error = Target::open(ERROR_KEY, &config.error_log)?;
    let access = Target::open(ACCESS_KEY, &config.access_log)?;
    Ok((access, error))
}

/// Starts the log thread on the opened logs.
pub fn start(
    (access, error): (Target, Target),
    format: AccessLogFormat,
    workers: usize,
) -> io::Result<(Logger, ErrorLog, Vec<AccessBatch>)> {
    let (tx, rx) = mpsc::channel();
    let errors = ErrorLog { tx: tx.clone() };
    let mut state = LogThread {
        access: BufWriter::with_capacity(ACCESS_BUFFER_BYTES, access.out),
        access_key: access.key,
        access_path: access.path,
        access_failed: false,
        error,
        returns: Vec::new(),
        dirty_since: None,
    };
    let thread = std::thread::Builder::new()
        .name("staticd-log".into())
        .spawn(move || state.run(rx))?;
    let logger = Logger {
        tx,
        thread: Some(thread),
    };
    let batches = logger.batches(workers, format);
    Ok((logger, errors, batches))
}

struct LogThread {
    access: BufWriter<Box<dyn Write + Send>>,
    access_key: &'static str,
    access_path: String,
    /// The access log failed once and that was reported; later failures stay quiet.
    access_failed: bool,
    error: Target,
    returns: Vec<Option<SyncSender<Vec<u8>>>>,
    dirty_since: Option<Instant>,
}

impl LogThread {
    fn run(&mut self, rx: Receiver<LogMsg>) {
        loop {
            let msg = match self.dirty_since {
                Some(since) => {
                    let wait = FLUSH_INTERVAL.saturating_sub(since.elapsed());
                    rx.recv_timeout(wait)
                }
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(LogMsg::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self
                .dirty_since
                .is_some_and(|since| since.elapsed() >= FLUSH_INTERVAL)
            {
                self.flush_access();
            }
        }
        while let Ok(msg) = rx.try_recv() {
            if !matches!(msg, LogMsg::Shutdown) {
                self.handle(msg);
            }
        }
        self.flush_access();
    }

    fn handle(&mut self, msg: LogMsg) {
        match msg {
            LogMsg::Access { worker, mut batch } => {
                if let Err(e) = self.access.write_all(&batch) {
                    self.access_error(e);
                } else if self.dirty_since.is_none() {
                    self.dirty_since = Some(Instant::now());
                }
                batch.clear();
                if let Some(Some(back)) = self.returns.get(worker) {
                    // A full return queue means the worker has spares: drop this one.
                    let _ = back.try_send(batch);
                }
            }
            LogMsg::Error(line) => self.write_error(&line),
            LogMsg::Reopen => self.reopen(),
            LogMsg::Worker { worker, back } => {
                if self.returns.len() <= worker {
                    self.returns.resize_with(worker + 1, || None);
                }
                self.returns[worker] = Some(back);
            }
            LogMsg::Shutdown => {}
        }
    }

    fn write_error(&mut self, line: &str) {
        let now = unix_now();
        let date = clf_date(now);
        let date = std::str::from_utf8(&date).unwrap_or("-");
        let _ = writeln!(self.error.out, "[{date}] staticd: {line}");
        let _ = self.error.out.flush();
    }

    /// Every line handed over before the request goes to the old file, every later one to the
    /// new: the log thread is the only writer, and it flushes before it switches. A file that
    /// cannot be opened again keeps the old one and says so.
    fn reopen(&mut self) {
        self.flush_access();
        let mut reopened = false;
        if self.access_path != "-" {
            match open_append(&self.access_path) {
                Ok(file) => {
                    self.access = BufWriter::with_capacity(ACCESS_BUFFER_BYTES, Box::new(file));
                    self.access_failed = false;
                    reopened = true;
                }
                Err(e) => {
                    let line = format!(
                        "SIGUSR1: {}: cannot reopen {:?}: {e}; still writing to the old file",
                        self.access_key, self.access_path
                    );
                    self.write_error(&line);
                }
            }
        }
        match self.error.reopen() {
            Ok(error_reopened) => reopened |= error_reopened,
            Err(e) => {
                let line = format!(
                    "SIGUSR1: {}: cannot reopen {:?}: {e}; still writing to the old file",
                    self.error.key, self.error.path
                );
                self.write_error(&line);
            }
        }
        if reopened {
            self.write_error("SIGUSR1: log files reopened");
        } else if self.access_path == "-" && self.error.path == "-" {
            self.write_error("SIGUSR1: nothing to reopen (the logs go to stdout and stderr)");
        }
    }

    fn flush_access(&mut self) {
        self.dirty_since = None;
        if let Err(e) = self.access.flush() {
            self.access_error(e);
        }
    }

    /// Reports the first failure (disk full, file gone read-only) once, drops what was buffered and
    /// keeps trying with later lines.
    fn access_error(&mut self, e: io::Error) {
        if !self.access_failed {
            self.access_failed = true;
            let line = format!(
                "{} {}: write failed: {e}; lines are being lost",
                self.access_key, self.access_path
            );
            self.write_error(&line);
        }
        let fresh = BufWriter::with_capacity(ACCESS_BUFFER_BYTES, Box::new(io::sink()) as _);
        let (inner, _lost) = std::mem::replace(&mut self.access, fresh).into_parts();
        self.access = BufWriter::with_capacity(ACCESS_BUFFER_BYTES, inner);
    }
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The fields of one access-log line.
pub struct AccessLine<'a> {
    pub client: &'a [u8],
    pub clf_date: &'a [u8],
    /// The request line as the client sent it (without the CRLF); `None` gives `-`.
    pub request_line: Option<&'a [u8]>,
    pub status: StatusCode,
    /// Body bytes of the response.
    pub body_bytes: u64,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    /// Milliseconds from the complete request head to the last byte of the response handed to
    /// the kernel (JSON format only; the Combined Log Format has no field for it).
    pub response_ms: u64,
}

impl AccessLine<'_> {
    /// Appends the line in the Combined Log Format, newline included.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.client);
        out.extend_from_slice(b" - - [");
        out.extend_from_slice(self.clf_date);
        out.extend_from_slice(b"] \"");
        push_field(out, self.request_line);
        out.extend_from_slice(b"\" ");
        out.extend_from_slice(&self.status.digits());
        out.push(b' ');
        push_decimal(out, self.body_bytes);
        out.extend_from_slice(b" \"");
        push_field(out, self.referer);
        out.extend_from_slice(b"\" \"");
        push_field(out, self.user_agent);
        out.extend_from_slice(b"\"\n");
    }
}

impl AccessLine<'_> {
    /// Appends the line as one JSON object (RFC 8259) and a newline: the Combined fields, the
    /// time as RFC 3339 UTC, and `response_ms`. A field the client did not send is `null`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"time\":\"");
        push_rfc3339(out, self.clf_date);
        out.extend_from_slice(b"\",\"client\":");
        push_json_string(out, Some(self.client));
        out.extend_from_slice(b",\"request\":");
        push_json_string(out, self.request_line.filter(|l| !l.is_empty()));
        out.extend_from_slice(b",\"status\":");
        out.extend_from_slice(&self.status.digits());
        out.extend_from_slice(b",\"bytes\":");
        push_decimal(out, self.body_bytes);
        out.extend_from_slice(b",\"referer\":");
        push_json_string(out, self.referer);
        out.extend_from_slice(b",\"user_agent\":");
        push_json_string(out, self.user_agent);
        out.extend_from_slice(b",\"response_ms\":");
        push_decimal(out, self.response_ms);
        out.extend_from_slice(b"}\n");
    }
}

/// A JSON string, or `null` for `None`. Valid UTF-8 is kept; `"`, `\\` and control bytes are
/// escaped; a byte that is not UTF-8 becomes U+FFFD, so the line is always valid JSON.
fn push_json_string(out: &mut Vec<u8>, value: Option<&[u8]>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let Some(value) = value else {
        out.extend_from_slice(b"null");
        return;
    };
    out.push(b'"');
    for chunk in value.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                0x00..=0x1f | 0x7f => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0x0f)],
                ]),
                _ => out.push(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

/// `27/Nov/2026:01:02:03 +0000` (the CLF date, always UTC) as `2026-11-27T01:02:03Z`.
fn push_rfc3339(out: &mut Vec<u8>, clf: &[u8]) {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let month = clf
        .get(3..6)
        .and_then(|m| MONTHS.iter().position(|name| &name[..] == m));
    match (clf.get(0..2), month, clf.get(7..11), clf.get(12..20)) {
        (Some(day), Some(month), Some(year), Some(time)) => {
            out.extend_from_slice(year);
            out.push(b'-');
            out.extend_from_slice(&[b'0' + (month as u8 + 1) / 10, b'0' + (month as u8 + 1) % 10]);
            out.push(b'-');
            out.extend_from_slice(day);
            out.push(b'T');
            out.extend_from_slice(time);
            out.push(b'Z');
        }
        // Not a date the workers render: kept as it is rather than invented.
        _ => out.extend_from_slice(clf),
    }
}

fn push_field(out: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        Some(value) if !value.is_empty() => push_escaped(out, value),
        _ => out.push(b'-'),
    }
}

/// Escapes a client-supplied field so a line can never be split or forged: `"` and `\` get a
/// backslash, bytes outside printable ASCII become `\xHH`.
pub fn push_escaped(out: &mut Vec<u8>, value: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0x0f)],
            ]),
        }
    }
}

/// Appends `n` in decimal without going through `fmt`.
pub fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_line_with_escapes() {
        let mut out = Vec::new();
        AccessLine {
            client: b"127.0.0.1",
            clf_date: b"27/Nov/2026:01:02:03 +0000",
            request_line: Some(b"GET /a\"b\\c HTTP/1.1"),
            status: StatusCode::OK,
            body_bytes: 123,
            referer: None,
            user_agent: Some(b"curl/8 \x01"),
            response_ms: 7,
        }
        .write_to(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "127.0.0.1 - - [27/Nov/2026:01:02:03 +0000] \"GET /a\\\"b\\\\c HTTP/1.1\" 200 123 \"-\" \"curl/8 \\x01\"\n"
        );
    }

    #[test]
    fn json_line_is_one_valid_object_with_every_field() {
        let mut out = Vec::new();
        AccessLine {
            client: b"::1",
            clf_date: b"07/Feb/2026:21:02:03 +0000",
            request_line: Some(b"GET /caf\xc3\xa9\"\\\x01\xff HTTP/1.1"),
            status: StatusCode::NOT_FOUND,
            body_bytes: 0,
            referer: None,
            user_agent: Some(b"curl/8"),
            response_ms: 12,
        }
        .write_json(&mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "time": "2026-02-07T21:02:03Z",
                "client": "::1",
                "request": "GET /caf\u{e9}\"\\\u{1}\u{fffd} HTTP/1.1",
                "status": 404,
                "bytes": 0,
                "referer": null,
                "user_agent": "curl/8",
                "response_ms": 12,
            })
        );
    }

    #[test]
    fn decimal_edges() {
        let mut out = Vec::new();
        push_decimal(&mut out, 0);
        out.push(b' ');
        push_decimal(&mut out, u64::MAX);
        assert_eq!(out, b"0 18446744073709551615");
    }
}
