//! Proof that the core allocates nothing per request: parsing a head, inspecting it, decoding a
//! chunked body, every function a device calls after that (path, policy, media type, rules,
//! preconditions, ranges, multipart, dates, the head writer), and the whole serving core — the
//! driver, the sans-IO connection and the response decision — over a keep-alive connection, its
//! timeouts and its refusals. A counting global allocator counts only on the thread and in the span
//! being measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use embedded_io::Write;
use staticd_core::body::{ChunkedDecoder, Framing, inspect_request, keep_alive};
use staticd_core::drive::{Clock, Record, serve};
use staticd_core::parse::{Header, ParserConfig, Request, Status, parse_request};
use staticd_core::range::write_unsatisfied_range;
use staticd_core::write::decimal;
use staticd_core::{
    CloseReason, Connection, Event, HttpDate, Multipart, Now, Policy, Precondition, RangeOutcome,
    Response, ResponseHead, Site, SliceWriter, StaticFile, StaticTable, StatusCode, TurnAway,
    Validators, clf_date, evaluate_preconditions, evaluate_range, extension_allowed, glob_match,
    hidden_segment, mime_for_path, parse_http_date, resolve_target, write_header,
};

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator may run while this thread's locals are being torn down.
    let counting = COUNTING.try_with(Cell::get).unwrap_or(false);
    if counting {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

const CHROMIUM: &[u8] = include_bytes!("../benches/chromium_get.bin");

const CHUNKED_POST: &[u8] =
    b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";

#[test]
fn the_counter_sees_an_allocation() {
    let count = allocations_in(|| {
        let boxed = std::hint::black_box(Box::new(7u64));
        drop(boxed);
    });
    assert_eq!(count, 1);
}

#[test]
fn parse_inspect_and_decode_allocate_nothing() {
    let config = ParserConfig::default();
    let mut headers = [Header::EMPTY; 32];
    let body = b"5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n";
    let mut decoded_bytes = 0usize;
    let mut framing = None;
    let mut errors = 0usize;

    let count = allocations_in(|| {
        for _ in 0..100 {
            match parse_request(&config, CHROMIUM, &mut headers) {
                Ok(Status::Complete((_, req))) => {
                    framing = inspect_request(&req).ok().map(|info| info.framing);
                    std::hint::black_box(keep_alive(req.version, req.headers));
                }
                _ => errors += 1,
            }
            // The error paths allocate nothing either.
            for bad in [
                &b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"[..],
                b"GET /\x00 HTTP/1.1\r\n\r\n",
                b"GET / HTTP/2.0\r\n\r\n",
                CHUNKED_POST,
            ] {
                match parse_request(&config, bad, &mut headers) {
                    Ok(Status::Complete((_, req))) => {
                        if inspect_request(&req).is_err() {
                            errors += 1;
                        }
                    }
                    _ => errors += 1,
                }
            }
            let mut decoder = ChunkedDecoder::new();
            let mut input = &body[..];
            while let Ok(step) = decoder.decode(input) {
                decoded_bytes += step.data.len();
                input = &input[step.consumed..];
                if step.done || step.consumed == 0 {
                    break;
                }
            }
        }
    });

    assert_eq!(count, 0, "the core allocated");
    assert_eq!(framing, Some(Framing::None));
    assert_eq!(errors, 400);
    assert_eq!(decoded_bytes, 100 * 31);
}

/// Parses `raw` (a complete head) and hands the request to `f`.
fn with_request<R>(raw: &[u8], f: impl FnOnce(&Request<'_, '_>) -> R) -> R {
    let mut headers = [Header::EMPTY; 16];
    match parse_request(&ParserConfig::default(), raw, &mut headers) {
        Ok(Status::Complete((_, req))) => f(&req),
        other => panic!(
            "{:?} did not parse: {other:?}",
            String::from_utf8_lossy(raw)
        ),
    }
}

/// Everything else a device calls for one request, after parsing: the path, the dotfile and
/// extension policy, the media type, the rules, the preconditions (200, 304, 412), the ranges (one,
/// several as multipart, unsatisfiable), the dates, and the head written into a fixed buffer.
#[test]
fn every_per_request_function_allocates_nothing() {
    const ETAG: &[u8] = b"\"5d8c72a5-3e8\"";
    const LAST_MODIFIED: u64 = 1_795_000_000;
    const LEN: u64 = 1000;
    let validators = Validators {
        etag: ETAG,
        last_modified: LAST_MODIFIED,
    };
    let allowed = [".html", ".css", ".js"];
    let mut path_buf = [0u8; 256];
    let mut out = [0u8; 2048];
    let mut seen = Vec::with_capacity(64);
    let requests: [&[u8]; 7] = [
        b"GET /docs/caf%C3%A9/index.html HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /docs/a.html HTTP/1.1\r\nHost: a\r\nIf-None-Match: W/\"x\", \"5d8c72a5-3e8\"\r\n\r\n",
        b"GET /a.html HTTP/1.1\r\nIf-Modified-Since: Sun, 06 Nov 2044 08:49:37 GMT\r\n\r\n",
        b"PUT /a.html HTTP/1.1\r\nIf-Match: \"other\"\r\n\r\n",
        b"GET /a.html HTTP/1.1\r\nRange: bytes=0-99\r\nIf-Range: \"5d8c72a5-3e8\"\r\n\r\n",
        b"GET /a.html HTTP/1.1\r\nRange: bytes=0-9, 200-299, -50\r\n\r\n",
        b"GET /a.html HTTP/1.1\r\nRange: bytes=5000-\r\n\r\n",
    ];

    let count = allocations_in(|| {
        for raw in requests {
            with_request(raw, |req| {
                let date = HttpDate::from_unix(LAST_MODIFIED + 60);
                let resolved = resolve_target(req.target, &mut path_buf);
                let path = resolved.map_or("", |r| r.path);
                let hidden = hidden_segment(path, &[".well-known"]);
                let allowed = extension_allowed(path, allowed.iter().copied());
                let content_type = mime_for_path(path);
                let immutable = glob_match("docs/**", path);
                let precondition = evaluate_preconditions(req, &validators);
                let range = evaluate_range(req, &validators, LEN);

                let mut extra_buf = [0u8; 512];
                let mut extra = SliceWriter::new(&mut extra_buf);
                let last_modified = HttpDate::from_unix(LAST_MODIFIED);
                write_header(&mut extra, "ETag", ETAG).unwrap();
                write_header(&mut extra, "Last-Modified", last_modified.as_bytes()).unwrap();
                if immutable {
                    write_header(&mut extra, "Cache-Control", b"immutable").unwrap();
                }
                let mut body = SliceWriter::new(&mut out);
                let (status, content_length) = match (precondition, &range) {
                    (Precondition::NotModified, _) => (StatusCode::NOT_MODIFIED, None),
                    (Precondition::Failed, _) => (StatusCode::PRECONDITION_FAILED, Some(0)),
                    (Precondition::Proceed, RangeOutcome::Full) => (StatusCode::OK, Some(LEN)),
                    (Precondition::Proceed, RangeOutcome::Partial(ranges)) => {
                        if let [one] = ranges.as_slice() {
                            extra.write_all(b"Content-Range: ").unwrap();
                            one.write_content_range(&mut extra, LEN).unwrap();
                            extra.write_all(b"\r\n").unwrap();
                            (StatusCode::PARTIAL_CONTENT, Some(one.len()))
                        } else {
                            let multipart = Multipart {
                                boundary: "3d6b6a416f9b5",
                                content_type,
                                total_len: LEN,
                            };
                            for (i, r) in ranges.iter().enumerate() {
                                multipart.write_part_head(&mut body, r, i == 0).unwrap();
                            }
                            multipart.write_closing(&mut body).unwrap();
                            let length = multipart.content_length(ranges);
                            (StatusCode::PARTIAL_CONTENT, length)
                        }
                    }
                    (Precondition::Proceed, RangeOutcome::NotSatisfiable) => {
                        extra.write_all(b"Content-Range: ").unwrap();
                        write_unsatisfied_range(&mut extra, LEN).unwrap();
                        extra.write_all(b"\r\n").unwrap();
                        (StatusCode::RANGE_NOT_SATISFIABLE, Some(0))
                    }
                };
                let mut head_buf = [0u8; 1024];
                let mut head = SliceWriter::new(&mut head_buf);
                ResponseHead {
                    status,
                    date: &date,
                    server: "staticd",
                    content_type: Some(content_type),
                    content_length,
                    keep_alive: keep_alive(req.version, req.headers),
                    extra: extra.as_bytes(),
                }
                .write_to(&mut head)
                .unwrap();
                let access_date = clf_date(LAST_MODIFIED);
                let mut digits = [0u8; 20];
                let parsed_dates = [
                    parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"),
                    parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"),
                    parse_http_date(b"Sun Nov  6 08:49:37 1994"),
                ];
                seen.push((
                    status.as_u16(),
                    hidden,
                    allowed,
                    head.written() + body.written(),
                    access_date[0],
                    decimal(LEN, &mut digits).len(),
                    parsed_dates.iter().flatten().count(),
                ));
            });
        }
        // The refusals a device answers on the same path.
        for bad in [&b"/../etc/passwd"[..], b"/a%2fb", b"/%ff", b"/a\\b"] {
            let status = resolve_target(bad, &mut path_buf).map_err(|e| e.status());
            seen.push((
                status.err().map_or(0, StatusCode::as_u16),
                false,
                false,
                0,
                0,
                0,
                0,
            ));
        }
    });

    assert_eq!(count, 0, "the core allocated");
    let statuses: Vec<u16> = seen.iter().map(|s| s.0).collect();
    assert_eq!(
        statuses,
        [200, 304, 304, 412, 206, 206, 416, 400, 400, 400, 400]
    );
    assert!(seen.iter().take(7).all(|s| s.3 > 100 && s.6 == 3));
}

/// The device's side of an in-memory link: requests handed out `chunk` bytes per read (as from a
/// UART FIFO), responses into a fixed buffer.
struct Link<'a> {
    rx: &'a [u8],
    chunk: usize,
    tx: &'a mut [u8],
    tx_len: usize,
}

impl embedded_io::ErrorType for Link<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Link<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = self.chunk.min(buf.len()).min(self.rx.len());
        let (now, later) = self.rx.split_at(n);
        buf[..n].copy_from_slice(now);
        self.rx = later;
        Ok(n)
    }
}

impl embedded_io::ReadReady for Link<'_> {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

impl embedded_io::Write for Link<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let free = &mut self.tx[self.tx_len..];
        let n = free.len().min(buf.len());
        if n == 0 && !buf.is_empty() {
            return Err(embedded_io::ErrorKind::WriteZero);
        }
        free[..n].copy_from_slice(&buf[..n]);
        self.tx_len += n;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl embedded_io::WriteReady for Link<'_> {
    fn write_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// A clock that moves one millisecond per reading.
struct Ticks(u64);

impl Clock for Ticks {
    fn now(&mut self) -> (u64, u64) {
        self.0 += 1;
        (self.0, 1_795_741_323)
    }
}

const PAGE_TEXT: &[u8] = b"<!doctype html><title>device</title><h1>Hello</h1>\n";
const DATA_TEXT: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n";

static SITE_FILES: [StaticFile; 2] = [
    StaticFile {
        path: "index.html",
        body: PAGE_TEXT,
        etag: "\"i-5f1a\"",
        last_modified: 1_795_000_000,
        content_type: "text/html; charset=utf-8",
    },
    StaticFile {
        path: "data/readings.txt",
        body: DATA_TEXT,
        etag: "\"r-0b9e\"",
        last_modified: 1_795_000_000,
        content_type: "text/plain; charset=utf-8",
    },
];

/// The whole serving core as a device runs it — the blocking driver stepping the sans-IO
/// connection, which parses, decides (path, policy, preconditions, ranges) and writes each response
/// — over one keep-alive connection of pipelined requests arriving 7 bytes at a time: a 200, a 304,
/// a 206 with one range, a 206 multipart, a redirect, a 404, and a HEAD that closes.
#[test]
fn a_whole_connection_allocates_nothing() {
    let requests = b"GET / HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /index.html HTTP/1.1\r\nHost: d\r\nIf-None-Match: \"i-5f1a\"\r\n\r\n\
        GET /data/readings.txt HTTP/1.1\r\nHost: d\r\nRange: bytes=10-19\r\n\r\n\
        GET /data/readings.txt HTTP/1.1\r\nHost: d\r\nRange: bytes=0-1,-2\r\n\r\n\
        GET /data HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /missing.txt HTTP/1.1\r\nHost: d\r\n\r\n\
        HEAD /index.html HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
    let policy = Policy::DEFAULT;
    let mut table = StaticTable::new(&SITE_FILES);
    let mut path_buf = [0u8; 512];
    let mut input = [0u8; 8192];
    let mut output = [0u8; 1024];
    let mut tx = [0u8; 8192];
    let mut statuses = Vec::with_capacity(16);
    let mut ended = None;

    let count = allocations_in(|| {
        let mut link = Link {
            rx: requests,
            chunk: 7,
            tx: &mut tx,
            tx_len: 0,
        };
        let mut site = Site {
            policy: &policy,
            source: &mut table,
            path_buf: &mut path_buf,
        };
        let mut log = |record: &Record<'_>| statuses.push(record.status.as_u16());
        ended = Some(serve(
            &mut link,
            &mut input,
            &mut output,
            &mut site,
            &mut Ticks(0),
            &mut log,
            || {},
        ));
    });

    assert_eq!(count, 0, "the serving core allocated");
    assert_eq!(statuses, [200, 304, 206, 206, 301, 404, 200]);
    assert!(
        matches!(ended, Some(Ok(CloseReason::NotPersistent))),
        "{ended:?}"
    );
    let sent = String::from_utf8_lossy(&tx);
    assert!(
        sent.contains("Content-Range: bytes 10-19/64\r\n\r\nabcdefghij"),
        "{sent}"
    );
    assert!(
        sent.contains("Content-Type: multipart/byteranges; boundary="),
        "{sent}"
    );
    assert!(sent.contains("HTTP/1.1 304 Not Modified\r\n"), "{sent}");
}

/// The connection's other ends, called directly: a head that never completes gets its 408 when
/// `header_timeout` passes, a client that sent nothing is closed silently, and a busy server turns
/// a client away with 503.
#[test]
fn timeouts_and_refusals_allocate_nothing() {
    let policy = Policy::DEFAULT;
    let mut table = StaticTable::new(&SITE_FILES);
    let mut path_buf = [0u8; 512];
    let mut out = [0u8; 1024];
    let mut input = *b"GET /index.html HTTP/1.1\r\nHost: d\r\n";
    let mut outcomes = Vec::with_capacity(8);

    let count = allocations_in(|| {
        let date = HttpDate::from_unix(1_795_741_323);
        let mut site = Site {
            policy: &policy,
            source: &mut table,
            path_buf: &mut path_buf,
        };
        let mut sink = SliceWriter::new(&mut out);
        let at = |ms| Now {
            ms,
            unix_secs: 1_795_741_323,
            date: &date,
        };

        let mut slow = Connection::new(0, policy.header_timeout_ms);
        let step = slow.poll(&mut input, &at(1), &mut site, &mut sink);
        outcomes.push(matches!(step.event, Event::NeedInput));
        let due = slow.deadline().unwrap_or(u64::MAX);
        let timed_out = slow.on_timeout(&input, &at(due), &mut site, &mut sink);
        outcomes.push(matches!(
            timed_out.map(|step| step.event),
            Some(Event::Respond { ref response, close: Some(_), .. })
                if response.status == StatusCode::REQUEST_TIMEOUT
        ));

        let mut idle = Connection::new(0, policy.header_timeout_ms);
        let due = idle.deadline().unwrap_or(u64::MAX);
        let closed = idle.on_timeout(&[], &at(due), &mut site, &mut sink);
        outcomes.push(matches!(
            closed.map(|step| step.event),
            Some(Event::Close(CloseReason::HeaderTimeout))
        ));

        let busy: Response<()> =
            Connection::turn_away(TurnAway::Busy, "staticd", &at(0), &mut sink);
        outcomes.push(busy.status == StatusCode::SERVICE_UNAVAILABLE);
    });

    assert_eq!(count, 0, "the connection allocated");
    assert_eq!(outcomes, [true, true, true, true]);
}
