//! staticd-core as a device uses it: a compiled-in file table, a `const` policy and the core's
//! driver over an `embedded-io` link. Every HTTP decision is the core's; the device only wires.
//!
//! `main` plays the client over an in-memory link (bytes arrive 7 at a time, as from a UART
//! FIFO), sends six pipelined requests and checks what comes back.
//!
//! Run it with `cargo run -p staticd-core --example device`.

use core::convert::Infallible;

use embedded_io::{ErrorType, Read, ReadReady, Write, WriteReady};
use staticd_core::drive::{Clock, Record, serve};
use staticd_core::policy::{HeaderRule, Policy};
use staticd_core::respond::Site;
use staticd_core::source::{StaticFile, StaticTable};

// ---- the device: a few dozen lines of wiring ----

/// A firmware generates this table at build time with `staticd_core::build::write_table`.
static FILES: &[StaticFile] = &[
    StaticFile {
        path: "index.html",
        body:
            b"<!doctype html><title>device</title><link rel=stylesheet href=style.css><h1>Hi</h1>\n",
        etag: "\"5f1a0c3e\"",
        last_modified: 1_795_000_000,
        content_type: "text/html; charset=utf-8",
    },
    StaticFile {
        path: "style.css",
        body: b"h1 { color: teal }\n",
        etag: "\"77c2aa01\"",
        last_modified: 1_795_000_000,
        content_type: "text/css; charset=utf-8",
    },
];

const RULES: &[HeaderRule<'static>] = &[HeaderRule::new("*.css", Some("max-age=600"), [])];
const POLICY: Policy<'static> = Policy {
    server_name: "staticd-device",
    max_request_bytes: 1024,
    rules: RULES,
    ..Policy::DEFAULT
};

/// One connection, start to end: 1 KiB in, 1 KiB out, the path scratch, no heap.
fn serve_one<T>(link: &mut T, clock: &mut impl Clock, log: &mut impl FnMut(&Record<'_>))
where
    T: Read + Write + ReadReady + WriteReady,
{
    let (mut input, mut output, mut path_buf) = ([0u8; 1024], [0u8; 1024], [0u8; 1024 + 64]);
    let mut source = StaticTable::new(FILES);
    let mut site = Site {
        policy: &POLICY,
        source: &mut source,
        path_buf: &mut path_buf,
    };
    let _ = serve(link, &mut input, &mut output, &mut site, clock, log, || {});
}

/// The device's clock: a fixed time here; a tick counter and an RTC on a board.
struct FixedClock;

impl Clock for FixedClock {
    fn now(&mut self) -> (u64, u64) {
        (0, 1_795_741_323) // Fri, 27 Nov 2026 01:02:03 GMT
    }
}

// ---- the client side: an in-memory link and the checks ----

struct Link {
    rx: &'static [u8],
    tx: Vec<u8>,
}

impl ErrorType for Link {
    type Error = Infallible;
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = 7.min(buf.len()).min(self.rx.len());
        buf[..n].copy_from_slice(&self.rx[..n]);
        self.rx = &self.rx[n..];
        Ok(n)
    }
}

impl ReadReady for Link {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(true) // an empty link is the client's end of stream
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.tx.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl WriteReady for Link {
    fn write_ready(&mut self) -> Result<bool, Infallible> {
        Ok(true)
    }
}

fn main() {
    let mut link = Link {
        rx: b"GET / HTTP/1.1\r\nHost: device.local\r\nUser-Agent: example\r\n\r\n\
              GET /style.css HTTP/1.1\r\nHost: device.local\r\nIf-None-Match: \"77c2aa01\"\r\n\r\n\
              GET /index.html HTTP/1.1\r\nHost: device.local\r\nRange: bytes=1-8\r\n\r\n\
              GET /%2e%2e/secret HTTP/1.1\r\nHost: device.local\r\n\r\n\
              HEAD /style.css HTTP/1.1\r\nHost: device.local\r\nConnection: close\r\n\r\n\
              GET /never-read HTTP/1.1\r\nHost: device.local\r\n\r\n",
        tx: Vec::new(),
    };
    let mut lines = Vec::new();
    serve_one(&mut link, &mut FixedClock, &mut |r: &Record<'_>| {
        lines.push(format!(
            "\"{}\" {} {}",
            String::from_utf8_lossy(r.exchange.request_line),
            r.status.as_u16(),
            r.body_len
        ));
    });
    print!("{}", String::from_utf8_lossy(&link.tx));
    for line in &lines {
        println!("log: {line}");
    }
    // The sixth request is never answered: the fifth asked to close.
    assert_eq!(
        lines,
        [
            "\"GET / HTTP/1.1\" 200 84",
            "\"GET /style.css HTTP/1.1\" 304 0",
            "\"GET /index.html HTTP/1.1\" 206 8",
            "\"GET /%2e%2e/secret HTTP/1.1\" 400 110",
            "\"HEAD /style.css HTTP/1.1\" 200 0",
        ]
    );
    let text = String::from_utf8_lossy(&link.tx);
    assert!(text.contains("\r\nETag: \"5f1a0c3e\"\r\n"));
    assert!(text.contains("Content-Range: bytes 1-8/84\r\n"));
    assert!(text.contains("Cache-Control: max-age=600\r\n"));
    assert!(text.ends_with("Connection: close\r\nETag: \"77c2aa01\"\r\nLast-Modified: Wed, 18 Nov 2026 11:06:40 GMT\r\nCache-Control: max-age=600\r\nAccept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n\r\n"));
    println!("device example: 5 responses checked");
}
