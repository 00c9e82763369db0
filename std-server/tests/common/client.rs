//! Speaking to the server: a raw connection that reads responses one by one ([`Conn`]), raw
//! exchanges that report how the connection ended ([`exchange`]), response heads parsed by httparse
//! with its strict defaults, and a real client (ureq) where a real client is the point.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Default deadline for reading one whole response from a socket.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Most header lines a response head may hold before it counts as malformed.
const MAX_RESPONSE_FIELDS: usize = 64;

/// Parses one response head (`head` ends with CRLF CRLF) into a [`Response`] with an empty body,
/// with httparse at its strict defaults: an HTTP/1.x status line with a three-digit code, field
/// names that are tokens, no obsolete line folding, no space before a colon, CRLF line ends
/// (RFC 9112 §2.2, §4, §5). Field values must be UTF-8 here (the server sends only ASCII).
pub fn parse_response_head(head: &[u8]) -> Result<Response, String> {
    if !head.ends_with(b"\r\n\r\n") {
        return Err(format!(
            "head does not end with CRLF CRLF: {:?}",
            String::from_utf8_lossy(head)
        ));
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_RESPONSE_FIELDS];
    let mut parsed = httparse::Response::new(&mut fields);
    let shown = || String::from_utf8_lossy(head).into_owned();
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(len)) if len == head.len() => {}
        Ok(httparse::Status::Complete(len)) => {
            return Err(format!(
                "head ends at byte {len} of {}: {:?}",
                head.len(),
                shown()
            ));
        }
        Ok(httparse::Status::Partial) => return Err(format!("incomplete head: {:?}", shown())),
        Err(e) => return Err(format!("malformed response head ({e}): {:?}", shown())),
    }
    // Only the status line's own bytes: httparse accepts an LF-only line end, the server must not
    // send one (RFC 9112 §2.2 asks a sender for CRLF).
    if head
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || head[i - 1] != b'\r'))
    {
        return Err(format!("bare LF in the head: {:?}", shown()));
    }
    let version = match parsed.version {
        Some(0) => "HTTP/1.0",
        Some(1) => "HTTP/1.1",
        other => return Err(format!("unexpected version {other:?}: {:?}", shown())),
    };
    let status = parsed
        .code
        .ok_or_else(|| format!("no status code: {:?}", shown()))?;
    let reason = parsed.reason.unwrap_or_default().to_string();
    let mut headers = Vec::with_capacity(parsed.headers.len());
    for field in parsed.headers.iter() {
        let value = std::str::from_utf8(field.value)
            .map_err(|_| format!("field {} is not UTF-8: {:?}", field.name, shown()))?;
        headers.push((field.name.to_string(), value.to_string()));
    }
    Ok(Response {
        version: version.to_string(),
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
            // The chunk-size line (RFC 9112 §7.1), extensions included, read by httparse.
            let (line_len, size) = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete(found)) => break found,
                    Ok(httparse::Status::Partial) => {
                        if self.fill(deadline)? == 0 {
                            return Err("EOF inside a chunked body".into());
                        }
                    }
                    Err(_) => {
                        return Err(format!(
                            "bad chunk size line in {:?}",
                            String::from_utf8_lossy(&self.buf)
                        ));
                    }
                }
            };
            let size = usize::try_from(size).map_err(|_| format!("chunk of {size} bytes"))?;
            self.buf.drain(..line_len);
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
// Raw exchanges
// ---------------------------------------------------------------------------------------------

/// How a raw exchange ended.
#[derive(Debug)]
pub struct Exchange {
    /// Every byte the server sent.
    pub bytes: Vec<u8>,
    /// The server closed (EOF or reset) before the deadline.
    pub closed: bool,
}

impl Exchange {
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Connects, writes `raw` in one write, then reads until the server closes or `within` passes.
/// `half_close` shuts the sending side after the write (the server sees EOF).
pub fn exchange(addr: SocketAddr, raw: &[u8], within: Duration, half_close: bool) -> Exchange {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect to staticd");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .expect("write timeout");
    // A server that refuses early may close before all of `raw` is written: not an error here.
    let _ = stream.write_all(raw);
    if half_close {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    read_until_close(&mut stream, within)
}

/// Reads from `stream` until EOF/reset or until `within` passes.
pub fn read_until_close(stream: &mut TcpStream, within: Duration) -> Exchange {
    read_until_quiet(stream, within, |_| None)
}

/// As [`read_until_close`], but a connection that stays quiet for `quiet(bytes so far)` (when that
/// is `Some`) also ends the exchange, counted as `closed`: the server answered and kept the
/// connection alive, which is not a hang.
pub fn read_until_quiet(
    stream: &mut TcpStream,
    within: Duration,
    quiet: impl Fn(&[u8]) -> Option<Duration>,
) -> Exchange {
    let deadline = Instant::now() + within;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Exchange {
                bytes,
                closed: false,
            };
        }
        let pause = quiet(&bytes);
        let wait = pause.map_or(deadline - now, |p| p.min(deadline - now));
        stream.set_read_timeout(Some(wait)).expect("read timeout");
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Exchange {
                    bytes,
                    closed: true,
                };
            }
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                return Exchange {
                    bytes,
                    closed: true,
                };
            }
            Err(e)
                if pause.is_some()
                    && matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
            {
                return Exchange {
                    bytes,
                    closed: true,
                };
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                return Exchange {
                    bytes,
                    closed: false,
                };
            }
        }
    }
}

/// Splits a byte stream into the responses it holds, reading each body by its Content-Length (no
/// body for 1xx/204/304 or when `first_is_head`). Returns the responses and the bytes left over that
/// do not form a complete response.
pub fn split_responses(mut bytes: &[u8], first_is_head: bool) -> (Vec<Response>, Vec<u8>) {
    let mut out = Vec::new();
    loop {
        let Some(end) = find(bytes, b"\r\n\r\n") else {
            return (out, bytes.to_vec());
        };
        let Ok(mut r) = parse_response_head(&bytes[..end + 4]) else {
            return (out, bytes.to_vec());
        };
        let rest = &bytes[end + 4..];
        let no_body = (first_is_head && out.is_empty())
            || r.status < 200
            || r.status == 204
            || r.status == 304;
        let len = if no_body {
            0
        } else {
            match r.header("content-length").map(str::parse::<usize>) {
                Some(Ok(n)) => n,
                // No length: the body runs to the close.
                _ => rest.len(),
            }
        };
        if rest.len() < len {
            return (out, bytes.to_vec());
        }
        r.body = rest[..len].to_vec();
        out.push(r);
        bytes = &rest[len..];
    }
}

/// Every status code found at the start of a line `HTTP/1.x NNN` in `bytes` (also in bodies: the
/// tests that use this serve bodies that never hold such text).
pub fn status_lines(bytes: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(p) = find(&bytes[at..], b"HTTP/1.") {
        let start = at + p;
        let line_start = start == 0 || bytes[start - 1] == b'\n';
        if line_start && bytes.len() >= start + 12 && bytes[start + 8] == b' ' {
            let code = &bytes[start + 9..start + 12];
            if code.iter().all(u8::is_ascii_digit) {
                let text = std::str::from_utf8(code).expect("digits");
                out.push(text.parse().expect("three digits"));
            }
        }
        at = start + 7;
    }
    out
}
