//! The size probe of `scripts/core-size.sh`: a bare-metal program whose entry point calls
//! staticd-core's API on opaque inputs, so that the linker keeps what a device would link and no more.
//!
//! Every input goes through `black_box`, so no branch of the API is folded away because the probe
//! happened to pass a constant. One feature picks what `exercise` calls:
//! - `parser`: `parse_request` only;
//! - `core`: every public function of the core (errors' `status()` and `as_str()` included, since a
//!   device logs them), all writing through one writer type (a device has one transport);
//! - `serde`: `core`, with the serving policy read from and written to a postcard blob instead of
//!   built in code;
//! - `server`: the whole serving core a device runs per connection: the blocking driver, the
//!   sans-IO connection and the response decision over a file table (and the 503 of a busy server);
//! - `httparse`: httparse's request parser, for scale.
//!
//! The `Display`/`Debug` impls are not called: a device that formats through `core::fmt` pays for the
//! formatting machinery whatever the core does.
#![no_std]
#![no_main]

use core::hint::black_box;

static REQUEST: &[u8] =
    b"GET /assets/app.js?v=3 HTTP/1.1\r\nHost: device.local\r\nUser-Agent: probe\r\n\
Accept: */*\r\nIf-None-Match: \"abc\"\r\nRange: bytes=0-99,200-\r\nConnection: keep-alive\r\n\r\n";

#[cfg(feature = "parser")]
fn exercise() {
    use staticd_core::{Header, ParserConfig, parse_request};
    let mut headers = [Header::EMPTY; 32];
    let config = ParserConfig {
        max_head_bytes: black_box(8192),
    };
    let parsed = parse_request(&config, black_box(REQUEST), &mut headers);
    black_box(&parsed);
}

#[cfg(feature = "httparse")]
fn exercise() {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let parsed = req.parse(black_box(REQUEST));
    black_box(&parsed);
    black_box(&req);
}

#[cfg(feature = "core")]
fn exercise() {
    use embedded_io::Write as _;
    use staticd_core::body::ChunkedDecoder;
    use staticd_core::range::write_unsatisfied_range;
    use staticd_core::write::decimal;
    use staticd_core::*;

    // Parsing and message semantics, errors included (a device logs them).
    let mut headers = [Header::EMPTY; 32];
    let config = ParserConfig {
        max_head_bytes: black_box(8192),
    };
    let req = match parse_request(&config, black_box(REQUEST), &mut headers) {
        Ok(Status::Complete((_, req))) => req,
        Ok(Status::Partial) => return,
        Err(e) => {
            black_box((e.status(), e.as_str()));
            return;
        }
    };
    match inspect_request(&req) {
        Ok(info) => drop(black_box((info.keep_alive, info.framing, info.host))),
        Err(e) => drop(black_box((e.status(), e.as_str()))),
    }
    black_box((req.method.as_str(), req.version.as_str()));
    black_box(req.header(black_box("user-agent")));
    black_box(keep_alive(req.version, req.headers));
    let mut chunked = ChunkedDecoder::new();
    match chunked.decode(black_box(b"5\r\nhello\r\n0\r\n\r\n")) {
        Ok(d) => drop(black_box((d.consumed, d.data, d.done, chunked.is_done()))),
        Err(e) => drop(black_box((e.status(), e.as_str()))),
    }

    // Path, policy and MIME.
    let mut path_buf = [0u8; 256];
    let path = match resolve_target(req.target, &mut path_buf) {
        Ok(p) => black_box(p).path,
        Err(e) => {
            black_box(e.status());
            return;
        }
    };
    let exceptions: &[&str] = black_box(&[".well-known"]);
    black_box(hidden_segment(path, exceptions));
    black_box(mime_for_path(path));
    black_box(mime_for_extension(black_box("JS")));
    black_box(extension(path));
    let allowed: &[&str] = black_box(&[".html", ".js"]);
    black_box(extension_allowed(path, allowed.iter().copied()));
    black_box(glob_match(black_box("assets/**"), path));

    // Conditional requests, ranges and the response head, into one writer type.
    let etag: &[u8] = black_box(b"\"abc\"");
    let v = Validators {
        etag,
        last_modified: black_box(1_700_000_000),
    };
    black_box(evaluate_preconditions(&req, &v));
    let len = black_box(1_000u64);
    let mut out = [0u8; 1024];
    let mut w = SliceWriter::new(&mut out);
    let date = HttpDate::from_unix(black_box(1_795_741_323));
    match evaluate_range(&req, &v, len) {
        RangeOutcome::Partial(ranges) => {
            if let [only] = ranges.as_slice() {
                black_box(only.len());
                let _ = only.write_content_range(&mut w, len);
            }
            let mp = Multipart {
                boundary: black_box("b0undary"),
                content_type: black_box("text/javascript"),
                total_len: len,
            };
            black_box(mp.content_length(&ranges));
            for (i, r) in ranges.iter().enumerate() {
                let _ = mp.write_part_head(&mut w, r, i == 0);
            }
            let _ = mp.write_closing(&mut w);
        }
        RangeOutcome::NotSatisfiable => {
            let _ = write_unsatisfied_range(&mut w, len);
        }
        RangeOutcome::Full => {}
    }
    let head = ResponseHead {
        status: black_box(StatusCode::OK),
        date: &date,
        server: black_box("staticd"),
        content_type: black_box(Some("text/html; charset=utf-8")),
        content_length: black_box(Some(1234)),
        keep_alive: black_box(true),
        extra: black_box(b""),
    };
    let _ = head.write_to(&mut w);
    let _ = write_header(&mut w, black_box("ETag"), etag);
    let _ = black_box(w.write(black_box(b"partial")));
    let mut digits = [0u8; 20];
    black_box(decimal(black_box(1234), &mut digits));
    black_box((w.written(), w.remaining(), w.as_bytes()));
    w.clear();
    black_box(w.into_written());
    black_box((date.as_str(), date.as_bytes()));
    black_box(parse_http_date(black_box(b"Sun, 06 Nov 1994 08:49:37 GMT")));
    black_box(clf_date(black_box(1_795_741_323)));
    let status = black_box(StatusCode::NOT_FOUND);
    black_box((status.reason(), status.digits(), status.as_u16()));
    black_box((
        status.is_success(),
        status.is_bodiless(),
        StatusCode::from_u16(black_box(299)),
    ));

    // The serving policy: a device builds it in code or reads it from a postcard blob in flash
    // (serde), and checks it either way.
    #[cfg(feature = "serde")]
    {
        static BLOB: [u8; 8] = [0; 8];
        if let Ok(blob) = PolicyBlob::from_bytes(black_box(&BLOB)) {
            let _ = black_box(blob.policy().validate());
        }
    }
    #[cfg(not(feature = "serde"))]
    let _ = black_box(black_box(&Policy::DEFAULT).validate());
}

/// The serving core as a device runs it: the blocking driver stepping the sans-IO connection,
/// which parses and calls the response decision, over a file table and one transport type.
#[cfg(feature = "server")]
mod server {
    use super::black_box;
    use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
    use staticd_core::drive::{Clock, Record, serve};
    use staticd_core::{
        Connection, HttpDate, Now, Policy, Site, SliceWriter, StaticFile, StaticTable, TurnAway,
    };

    static FILES: [StaticFile; 2] = [
        StaticFile {
            path: "index.html",
            body: b"<!doctype html><title>device</title><h1>Hello</h1>\n",
            etag: "\"i-5f1a\"",
            last_modified: 1_795_000_000,
            content_type: "text/html; charset=utf-8",
        },
        StaticFile {
            path: "assets/app.js",
            body: b"console.log('device');\n",
            etag: "\"a-77c2\"",
            last_modified: 1_795_000_000,
            content_type: "text/javascript; charset=utf-8",
        },
    ];

    /// The transport: reads hand out opaque bytes, writes are consumed opaquely.
    struct Link<'a> {
        rx: &'a [u8],
    }

    impl ErrorType for Link<'_> {
        type Error = ErrorKind;
    }

    impl Read for Link<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
            let n = buf.len().min(self.rx.len());
            let (now, later) = self.rx.split_at(n);
            if let Some(to) = buf.get_mut(..n) {
                to.copy_from_slice(now);
            }
            self.rx = black_box(later);
            Ok(n)
        }
    }

    impl ReadReady for Link<'_> {
        fn read_ready(&mut self) -> Result<bool, ErrorKind> {
            Ok(black_box(true))
        }
    }

    impl Write for Link<'_> {
        fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            black_box(buf);
            Ok(black_box(buf.len()))
        }

        fn flush(&mut self) -> Result<(), ErrorKind> {
            Ok(())
        }
    }

    impl WriteReady for Link<'_> {
        fn write_ready(&mut self) -> Result<bool, ErrorKind> {
            Ok(black_box(true))
        }
    }

    struct Ticks;

    impl Clock for Ticks {
        fn now(&mut self) -> (u64, u64) {
            black_box((0, 1_795_741_323))
        }
    }

    pub fn exercise() {
        let policy: Policy<'_> = black_box(Policy::DEFAULT);
        let mut table = StaticTable::new(black_box(&FILES));
        let mut path_buf = [0u8; 512];
        let mut input = [0u8; 8192];
        let mut output = [0u8; 1024];
        let mut site = Site {
            policy: &policy,
            source: &mut table,
            path_buf: &mut path_buf,
        };
        let mut link = Link {
            rx: black_box(super::REQUEST),
        };
        let mut log = |record: &Record<'_>| {
            black_box((
                record.status,
                record.body_len,
                record.exchange,
                record.fault,
            ));
        };
        let ended = serve(
            &mut link,
            &mut input,
            &mut output,
            &mut site,
            &mut Ticks,
            &mut log,
            || {},
        );
        black_box(&ended);

        // Too many connections: a device turns the next one away with 503.
        let date = HttpDate::from_unix(black_box(1_795_741_323));
        let now = Now {
            ms: black_box(0),
            unix_secs: black_box(1_795_741_323),
            date: &date,
        };
        let mut busy = [0u8; 256];
        let mut sink = SliceWriter::new(&mut busy);
        let refused: staticd_core::Response<()> =
            Connection::turn_away(TurnAway::Busy, policy.server_name, &now, &mut sink);
        black_box((refused.status, sink.written()));
    }
}

#[cfg(feature = "server")]
use server::exercise;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    exercise();
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
