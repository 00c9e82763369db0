//! staticd-core as a device uses it: a compiled-in file table served over an `embedded-io`
//! transport, with no heap and no std in the serving code.
//!
//! `serve` below is what would run on a microcontroller: fixed buffers on the stack, the clock
//! passed in, every HTTP decision made by the core. `main` plays the client over an in-memory link
//! (bytes arrive 7 at a time, as from a UART FIFO), sends five pipelined requests and checks every
//! byte that comes back.
//!
//! Run it with `cargo run -p staticd-core --example device`.

use embedded_io::{ErrorKind, ErrorType, Read, Write};
use staticd_core::body::Framing;
use staticd_core::range::write_unsatisfied_range;
use staticd_core::{
    ByteRange, Header, HttpDate, Method, ParserConfig, PathError, Precondition, RangeOutcome,
    Request, ResponseHead, SliceWriter, Status, StatusCode, Validators, evaluate_preconditions,
    evaluate_range, hidden_segment, inspect_request, mime_for_path, parse_request, resolve_target,
    write_header,
};

/// One compiled-in file. A build script would generate the ETags from the contents.
struct File {
    path: &'static str,
    body: &'static [u8],
    etag: &'static str,
    last_modified: u64,
}

const BUILD_TIME: u64 = 1_795_000_000;

static FILES: &[File] = &[
    File {
        path: "index.html",
        body: b"<!doctype html><title>device</title><link rel=stylesheet href=style.css><h1>Hello</h1>\n",
        etag: "\"i-5f1a\"",
        last_modified: BUILD_TIME,
    },
    File {
        path: "style.css",
        body: b"h1 { color: teal }\n",
        etag: "\"s-77c2\"",
        last_modified: BUILD_TIME,
    },
    File {
        path: "data/readings.json",
        body: b"{\"temperature\": 21.5, \"humidity\": 40}",
        etag: "\"r-0b9e\"",
        last_modified: BUILD_TIME,
    },
];

const SERVER: &str = "staticd-device";
const ALLOW: &[u8] = b"GET, HEAD";

/// The device's side of an in-memory link: what the client sent, handed out `chunk` bytes per
/// read, and a fixed transmit buffer.
struct Loopback<'a> {
    rx: &'a [u8],
    chunk: usize,
    tx: [u8; 4096],
    tx_len: usize,
}

impl ErrorType for Loopback<'_> {
    type Error = ErrorKind;
}

impl Read for Loopback<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = self.chunk.min(buf.len()).min(self.rx.len());
        let (now, later) = self.rx.split_at(n);
        buf[..n].copy_from_slice(now);
        self.rx = later;
        Ok(n)
    }
}

impl Write for Loopback<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let free = &mut self.tx[self.tx_len..];
        if free.is_empty() && !buf.is_empty() {
            return Err(ErrorKind::WriteZero);
        }
        let n = free.len().min(buf.len());
        free[..n].copy_from_slice(&buf[..n]);
        self.tx_len += n;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// What one request turned into.
struct Reply<'f> {
    status: StatusCode,
    file: Option<&'f File>,
    /// The byte range of `file` to send; `None` for no body.
    body: Option<ByteRange>,
    keep_alive: bool,
}

/// Serves requests from `link` until the client stops sending or a response closes the connection.
/// Returns the number of responses written. No heap: every buffer is a fixed array.
fn serve<T: Read + Write>(link: &mut T, now: u64) -> Result<usize, T::Error> {
    let date = HttpDate::from_unix(now);
    let config = ParserConfig {
        max_head_bytes: 1024,
    };
    let mut buf = [0u8; 1024];
    let mut filled = 0;
    let mut served = 0;
    loop {
        let mut headers = [Header::EMPTY; 16];
        let (head_len, reply) = match parse_request(&config, &buf[..filled], &mut headers) {
            Ok(Status::Complete((len, req))) => (len, decide(&req)),
            Ok(Status::Partial) => {
                let n = link.read(&mut buf[filled..])?;
                if n == 0 {
                    return Ok(served); // the client is done
                }
                filled += n;
                continue;
            }
            Err(e) => (filled, error_reply(e.status())),
        };
        respond(link, &date, &reply)?;
        served += 1;
        if !reply.keep_alive {
            return Ok(served);
        }
        // Pipelined bytes after this head belong to the next request.
        buf.copy_within(head_len..filled, 0);
        filled -= head_len;
    }
}

fn error_reply(status: StatusCode) -> Reply<'static> {
    Reply {
        status,
        file: None,
        body: None,
        keep_alive: false,
    }
}

fn decide<'f>(req: &Request<'_, '_>) -> Reply<'f> {
    let info = match inspect_request(req) {
        Ok(info) => info,
        Err(e) => return error_reply(e.status()),
    };
    // This device takes no request bodies: anything framed is refused and the link closed.
    if !matches!(info.framing, Framing::None) {
        return error_reply(StatusCode::CONTENT_TOO_LARGE);
    }
    let keep_alive = info.keep_alive;
    let status_only = |status| Reply {
        status,
        file: None,
        body: None,
        keep_alive,
    };
    if !matches!(req.method, Method::Get | Method::Head) {
        return status_only(StatusCode::METHOD_NOT_ALLOWED);
    }
    let mut path_buf = [0u8; 128];
    let resolved = match resolve_target(req.target, &mut path_buf) {
        Ok(resolved) => resolved,
        Err(e @ (PathError::TooLong | PathError::BadTarget)) => return error_reply(e.status()),
        Err(e) => return status_only(e.status()),
    };
    if hidden_segment(resolved.path, &[]) {
        return status_only(StatusCode::NOT_FOUND);
    }
    // The root's index is the only directory this table has.
    let wanted = match (resolved.path, resolved.trailing_slash) {
        ("", _) => "index.html",
        (_, true) => return status_only(StatusCode::NOT_FOUND),
        (path, false) => path,
    };
    let Some(file) = FILES.iter().find(|f| f.path == wanted) else {
        return status_only(StatusCode::NOT_FOUND);
    };
    let validators = Validators {
        etag: file.etag.as_bytes(),
        last_modified: file.last_modified,
    };
    let len = file.body.len() as u64;
    let whole = ByteRange {
        start: 0,
        end: len.saturating_sub(1),
    };
    let with = |status, body| Reply {
        status,
        file: Some(file),
        body,
        keep_alive,
    };
    match evaluate_preconditions(req, &validators) {
        Precondition::NotModified => return with(StatusCode::NOT_MODIFIED, None),
        Precondition::Failed => return with(StatusCode::PRECONDITION_FAILED, None),
        Precondition::Proceed => {}
    }
    let body = |r| {
        if req.method == Method::Head {
            None
        } else {
            Some(r)
        }
    };
    match evaluate_range(req, &validators, len) {
        // One range as a plain 206; a device keeps it simple and sends several as the whole file.
        RangeOutcome::Partial(ranges) if ranges.len() == 1 => {
            with(StatusCode::PARTIAL_CONTENT, body(ranges[0]))
        }
        RangeOutcome::NotSatisfiable => with(StatusCode::RANGE_NOT_SATISFIABLE, None),
        _ => with(StatusCode::OK, body(whole)),
    }
}

fn respond<T: Write>(link: &mut T, date: &HttpDate, reply: &Reply<'_>) -> Result<(), T::Error> {
    let mut extra_buf = [0u8; 256];
    let mut extra = SliceWriter::new(&mut extra_buf);
    // Every line below fits 256 bytes; a full buffer would be a bug in this table, not the client.
    let _ = write_extra(&mut extra, reply);
    let (content_type, content_length) = match (reply.status, reply.file) {
        (StatusCode::NOT_MODIFIED, _) => (None, None),
        (StatusCode::PARTIAL_CONTENT, Some(f)) => {
            (Some(mime_for_path(f.path)), reply.body.map(|r| r.len()))
        }
        (StatusCode::OK, Some(f)) => (Some(mime_for_path(f.path)), Some(f.body.len() as u64)),
        _ => (Some("text/plain; charset=utf-8"), Some(0)),
    };
    let head = ResponseHead {
        status: reply.status,
        date,
        server: SERVER,
        content_type,
        content_length,
        keep_alive: reply.keep_alive,
        extra: extra.as_bytes(),
    };
    // Render the head into one buffer so it leaves in one write, as a socket would want.
    let mut head_buf = [0u8; 512];
    let mut head_writer = SliceWriter::new(&mut head_buf);
    let _ = head.write_to(&mut head_writer);
    link.write_all(head_writer.as_bytes())?;
    if let (Some(file), Some(r)) = (reply.file, reply.body) {
        link.write_all(&file.body[r.start as usize..=r.end as usize])?;
    }
    link.flush()
}

fn write_extra(
    w: &mut SliceWriter<'_>,
    reply: &Reply<'_>,
) -> Result<(), staticd_core::write::BufferFull> {
    if let Some(file) = reply.file {
        write_header(w, "ETag", file.etag.as_bytes())?;
        write_header(
            w,
            "Last-Modified",
            HttpDate::from_unix(file.last_modified).as_bytes(),
        )?;
        write_header(w, "Accept-Ranges", b"bytes")?;
        if reply.status == StatusCode::PARTIAL_CONTENT
            && let Some(r) = reply.body
        {
            w.write_all(b"Content-Range: ")?;
            r.write_content_range(w, file.body.len() as u64)?;
            w.write_all(b"\r\n")?;
        }
        if reply.status == StatusCode::RANGE_NOT_SATISFIABLE {
            w.write_all(b"Content-Range: ")?;
            write_unsatisfied_range(w, file.body.len() as u64)?;
            w.write_all(b"\r\n")?;
        }
    }
    if reply.status == StatusCode::METHOD_NOT_ALLOWED {
        write_header(w, "Allow", ALLOW)?;
    }
    Ok(())
}

/// A parsed response for the checks in `main`.
struct Seen {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits the transmitted bytes into responses, reading bodies by Content-Length (none for HEAD).
fn read_responses(mut bytes: &[u8], head_only: &[bool]) -> Vec<Seen> {
    let mut seen = Vec::new();
    for &head_only in head_only {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut resp = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(len) = resp.parse(bytes).expect("valid response head")
        else {
            panic!("incomplete response head");
        };
        let headers: Vec<(String, String)> = resp
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let status = resp.code.expect("status");
        let body_len: usize = if head_only {
            0
        } else {
            headers
                .iter()
                .find(|(n, _)| n == "Content-Length")
                .map_or(0, |(_, v)| v.parse().expect("numeric Content-Length"))
        };
        let body = bytes[len..len + body_len].to_vec();
        bytes = &bytes[len + body_len..];
        seen.push(Seen {
            status,
            headers,
            body,
        });
    }
    assert!(bytes.is_empty(), "unexpected trailing bytes: {bytes:?}");
    seen
}

fn main() {
    let now = 1_795_741_323; // Fri, 27 Nov 2026 01:02:03 GMT
    let requests: &[u8] = b"GET / HTTP/1.1\r\nHost: device.local\r\nUser-Agent: example\r\n\r\n\
        GET /style.css HTTP/1.1\r\nHost: device.local\r\nIf-None-Match: \"s-77c2\"\r\n\r\n\
        GET /data/readings.json HTTP/1.1\r\nHost: device.local\r\nRange: bytes=1-13\r\n\r\n\
        GET /%2e%2e/secret HTTP/1.1\r\nHost: device.local\r\n\r\n\
        HEAD /data/../index.html HTTP/1.1\r\nHost: device.local\r\nConnection: close\r\n\r\n\
        GET /never-read HTTP/1.1\r\nHost: device.local\r\n\r\n";
    let mut link = Loopback {
        rx: requests,
        chunk: 7,
        tx: [0; 4096],
        tx_len: 0,
    };
    let served = serve(&mut link, now).expect("the in-memory link never fails");
    let out = &link.tx[..link.tx_len];
    print!("{}", String::from_utf8_lossy(out));

    // The sixth request is never answered: the fifth asked to close.
    assert_eq!(served, 5);
    let seen = read_responses(out, &[false, false, false, false, true]);

    let index = &seen[0];
    assert_eq!(index.status, 200);
    assert_eq!(index.body, FILES[0].body);
    assert_eq!(
        index.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(index.header("Date"), Some("Fri, 27 Nov 2026 01:02:03 GMT"));
    assert_eq!(index.header("Server"), Some(SERVER));
    assert_eq!(index.header("Connection"), Some("keep-alive"));
    assert_eq!(index.header("ETag"), Some("\"i-5f1a\""));

    let css = &seen[1];
    assert_eq!(css.status, 304);
    assert_eq!(css.header("Content-Length"), None);
    assert_eq!(css.header("ETag"), Some("\"s-77c2\""));

    let partial = &seen[2];
    assert_eq!(partial.status, 206);
    assert_eq!(partial.body, b"\"temperature\"");
    let content_range = format!("bytes 1-13/{}", FILES[2].body.len());
    assert_eq!(
        partial.header("Content-Range"),
        Some(content_range.as_str())
    );
    assert_eq!(partial.header("Content-Type"), Some("application/json"));

    let traversal = &seen[3];
    assert_eq!(traversal.status, 400);
    assert_eq!(traversal.header("Connection"), Some("keep-alive"));

    let head = &seen[4];
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("Content-Length"),
        Some(FILES[0].body.len().to_string().as_str())
    );
    assert_eq!(head.header("Connection"), Some("close"));

    println!("device example: {served} responses checked");
}
