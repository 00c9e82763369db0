//! One HTTP engine, three drivers: the same request stream sent to the `staticd` binary (the mio
//! engine over TCP), to the core's blocking-step driver and to its async driver (both over an
//! in-memory link, serving the same folder as a compiled-in table) gives the same response
//! bytes. Only the `Date` value is the clock's; it is masked.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::Server;
use staticd_core::drive::{self, Clock, Record};
use staticd_core::policy::Policy;
use staticd_core::respond::Site;
use staticd_core::source::StaticTable;

/// The client's bytes in, the server's bytes out; input handed out a few bytes per read.
struct Link {
    rx: VecDeque<u8>,
    chunk: usize,
    tx: Vec<u8>,
}

impl embedded_io::ErrorType for Link {
    type Error = Infallible;
}

impl embedded_io::Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = self.chunk.min(buf.len()).min(self.rx.len());
        for slot in &mut buf[..n] {
            *slot = self.rx.pop_front().unwrap_or(0);
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Link {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        // The client has sent everything: an empty queue is its end of stream.
        Ok(true)
    }
}

impl embedded_io::Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        // A small window, so responses go out in several writes.
        let n = buf.len().min(1000);
        self.tx.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_io::WriteReady for Link {
    fn write_ready(&mut self) -> Result<bool, Infallible> {
        Ok(true)
    }
}

impl embedded_io_async::Read for Link {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        embedded_io::Read::read(self, buf)
    }
}

impl embedded_io_async::Write for Link {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        embedded_io::Write::write(self, buf)
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Real time: Last-Modified is clamped to Date, so the drivers' clock must not lag the files.
struct RealClock(Instant);

impl Clock for RealClock {
    fn now(&mut self) -> (u64, u64) {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        (self.0.elapsed().as_millis() as u64, secs)
    }
}

impl drive::Timer for RealClock {
    async fn sleep_until(&mut self, deadline_ms: u64) {
        let now = self.0.elapsed().as_millis() as u64;
        std::thread::sleep(Duration::from_millis(deadline_ms.saturating_sub(now)));
    }
}

/// Polls a future to completion; the in-memory link never leaves it pending for long.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Replaces every `Date: ...` value (29 bytes) with a fixed one.
fn mask_dates(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let needle = b"\r\nDate: ";
    let mut at = 0;
    while let Some(pos) = out[at..].windows(needle.len()).position(|w| w == needle) {
        let start = at + pos + needle.len();
        out[start..start + 29].copy_from_slice(b"Thu, 01 Jan 1970 00:00:00 GMT");
        at = start + 29;
    }
    out
}

const PAGE: &[u8] = b"<!doctype html><title>t</title><link rel=stylesheet href=style.css>\n";

#[test]
fn the_binary_the_blocking_driver_and_the_async_driver_answer_byte_for_byte_alike() {
    let image: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let server = Server::start(
        "",
        &[
            ("index.html", PAGE),
            ("style.css", b"h1 { color: teal }\n"),
            ("docs/index.html", b"docs\n"),
            ("img/pic.png", &image),
            ("notes.exe", b"refused"),
            (".hidden.html", b"secret"),
        ],
    );
    let root = server.site();
    let page_etag = staticd_core::build::etag_of(PAGE);
    let host = "Host: device.local\r\n";
    let requests = [
        format!("GET / HTTP/1.1\r\n{host}User-Agent: t\r\n\r\n"),
        format!("\r\nHEAD /style.css HTTP/1.1\r\n{host}\r\n"),
        format!("GET /docs?x=1 HTTP/1.1\r\n{host}\r\n"),
        format!("GET /docs/ HTTP/1.1\r\n{host}\r\n"),
        format!("GET /missing.html HTTP/1.1\r\n{host}\r\n"),
        format!("GET /.hidden.html HTTP/1.1\r\n{host}\r\n"),
        format!("GET /notes.exe HTTP/1.1\r\n{host}\r\n"),
        format!("GET /index.html HTTP/1.1\r\n{host}If-None-Match: {page_etag}\r\n\r\n"),
        format!("GET /img/pic.png HTTP/1.1\r\n{host}Range: bytes=10-19\r\n\r\n"),
        format!("GET /img/pic.png HTTP/1.1\r\n{host}Range: bytes=0-1,50-60\r\n\r\n"),
        format!("GET /img/pic.png HTTP/1.1\r\n{host}Range: bytes=200000-\r\n\r\n"),
        format!("OPTIONS * HTTP/1.1\r\n{host}\r\n"),
        format!("POST /index.html HTTP/1.1\r\n{host}Content-Length: 5\r\n\r\nhello"),
        format!(
            "GET /style.css HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        ),
        format!("BREW /pot HTTP/1.1\r\n{host}\r\n"),
        format!("GET /img/pic.png HTTP/1.1\r\n{host}\r\n"),
        "GET /style.css HTTP/1.0\r\n\r\n".to_owned(),
    ];
    let stream: Vec<u8> = requests.concat().into_bytes();

    // The mio engine, over TCP.
    let mut tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(&stream).unwrap();
    let mut from_binary = Vec::new();
    tcp.read_to_end(&mut from_binary).unwrap();

    let table = staticd_core::build::load_table(&root, |_| true).unwrap();
    let policy = Policy::DEFAULT;

    // The blocking-step driver.
    let mut source = StaticTable::new(table);
    let mut path_buf = vec![0u8; 8192 + 256];
    let mut site = Site {
        policy: &policy,
        source: &mut source,
        path_buf: &mut path_buf,
    };
    let mut link = Link {
        rx: stream.iter().copied().collect(),
        chunk: 7,
        tx: Vec::new(),
    };
    let (mut input, mut output) = (vec![0u8; 8192], vec![0u8; 2048]);
    let mut statuses = Vec::new();
    let mut log = |r: &Record<'_>| statuses.push(r.status.as_u16());
    let mut clock = RealClock(Instant::now());
    drive::serve(
        &mut link,
        &mut input,
        &mut output,
        &mut site,
        &mut clock,
        &mut log,
        || {},
    )
    .unwrap();
    let from_blocking = link.tx;

    // The async driver.
    let mut source = StaticTable::new(table);
    let mut site = Site {
        policy: &policy,
        source: &mut source,
        path_buf: &mut path_buf,
    };
    let mut link = Link {
        rx: stream.iter().copied().collect(),
        chunk: 13,
        tx: Vec::new(),
    };
    let mut log_async = |_: &Record<'_>| {};
    block_on(drive::serve_async(
        &mut link,
        &mut input,
        &mut output,
        &mut site,
        &mut clock,
        &mut log_async,
    ))
    .unwrap();
    let from_async = link.tx;

    assert_eq!(
        statuses,
        [
            200, 200, 301, 200, 404, 404, 403, 304, 206, 206, 416, 204, 405, 200, 501, 200, 200
        ]
    );
    let binary = mask_dates(&from_binary);
    assert!(binary.len() > image.len(), "{} bytes", binary.len());
    assert_eq!(
        String::from_utf8_lossy(&binary),
        String::from_utf8_lossy(&mask_dates(&from_blocking)),
        "the binary and the blocking driver differ"
    );
    assert!(binary == mask_dates(&from_blocking));
    assert!(
        binary == mask_dates(&from_async),
        "the binary and the async driver differ"
    );
}
