//! The device answers a request stream with the same bytes as staticd-core's blocking driver over
//! an in-memory link, serving the same files under the same policy (only `Date` differs: the
//! device's clock is its own). The stream covers what a device can be asked: GET and HEAD,
//! validators, single and multipart ranges, errors, redirects, dotfiles, methods, a discarded
//! body, and a malformed request that ends the connection (so it comes last).
//!
//! What the in-memory run cannot share with the device, and so is not compared here: timers
//! (header and keep-alive timeouts run on the device's clock; tests/device.rs checks them) and
//! TCP-level behaviour (several clients, a peer that stalls or resets).

mod support;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
use staticd_core::drive::{Clock, serve};
use staticd_core::respond::Site;
use staticd_core::{StaticFile, StaticTable};
use std::io::Write as _;
use support::*;

/// The files of site/ as the firmware's build script compiles them in (the same helper).
fn site_table() -> &'static [StaticFile] {
    staticd_core::build::load_table(&repo_root().join("site"), |_| true).expect("read site/")
}

/// A client's bytes in, the answers out; reads end the stream when the bytes run out.
struct Link {
    input: Vec<u8>,
    at: usize,
    output: Vec<u8>,
}

impl ErrorType for Link {
    type Error = ErrorKind;
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let rest = &self.input[self.at..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

impl ReadReady for Link {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(true)
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl WriteReady for Link {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        Ok(true)
    }
}

struct FixedClock;

impl Clock for FixedClock {
    fn now(&mut self) -> (u64, u64) {
        (0, 1_800_000_000)
    }
}

/// The core's blocking driver's answer to `stream`, under the device's policy and files.
fn in_memory_answer(stream: &[u8]) -> Vec<u8> {
    let policy = staticd_firmware::policy::POLICY;
    let mut source = StaticTable::new(site_table());
    let mut path_buf = [0u8; 512];
    let mut site = Site {
        policy: &policy,
        source: &mut source,
        path_buf: &mut path_buf,
    };
    let mut link = Link {
        input: stream.to_vec(),
        at: 0,
        output: Vec::new(),
    };
    let mut input = vec![0u8; policy.max_request_bytes as usize];
    let mut output = vec![0u8; 1536];
    serve(
        &mut link,
        &mut input,
        &mut output,
        &mut site,
        &mut FixedClock,
        &mut |_| {},
        || {},
    )
    .expect("the in-memory link never fails");
    link.output
}

/// The answer with each `Date` field's value blanked.
fn without_dates(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut rest = &*text;
    while let Some(at) = rest.find("\r\nDate: ") {
        out.push_str(&rest[..at + 8]);
        out.push_str("<date>");
        rest = &rest[at + 8..];
        rest = &rest[rest.find("\r\n").unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_device_answers_a_request_stream_with_the_core_drivers_bytes() {
    let stream: &[u8] = b"GET / HTTP/1.1\r\nHost: d\r\n\r\n\
        HEAD /about.html HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /css/style.css HTTP/1.1\r\nHost: d\r\nIf-None-Match: *\r\n\r\n\
        GET /css/style.css HTTP/1.1\r\nHost: d\r\nIf-None-Match: \"other\"\r\n\r\n\
        GET /images/logo.svg HTTP/1.1\r\nHost: d\r\nRange: bytes=10-99\r\n\r\n\
        GET /images/flow.png HTTP/1.1\r\nHost: d\r\nRange: bytes=0-9,100-109\r\n\r\n\
        GET /js/app.js HTTP/1.1\r\nHost: d\r\nRange: bytes=99999-\r\n\r\n\
        GET /js/app.js HTTP/1.1\r\nHost: d\r\nRange: bytes=-20\r\nIf-Range: \"stale\"\r\n\r\n\
        GET /nope.html HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /images HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /images/?q=1 HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /.git/config HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: d\r\n\r\n\
        OPTIONS * HTTP/1.1\r\nHost: d\r\n\r\n\
        POST /index.html HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\n\r\nhello\
        DELETE /index.html HTTP/1.1\r\nHost: d\r\n\r\n\
        GET /images/logo.svg HTTP/1.1\r\nHost: d\r\nAccept-Encoding: gzip\r\n\r\n\
        GET / HTTP/1.1\r\nHost: d\r\nBad Header\r\n\r\n";
    let expected = without_dates(&in_memory_answer(stream));
    // One head per request (each carries the policy's Server field), the last a 400.
    assert_eq!(
        expected.matches("\r\nServer: staticd-device\r\n").count(),
        18,
        "the core answered every request: {expected}"
    );
    assert!(
        expected.contains("HTTP/1.1 400 Bad Request\r\n"),
        "{expected}"
    );

    let device = Device::boot();
    let mut connection = device.connect();
    connection.write_all(stream).expect("send the stream");
    let got = read_until_close(&mut connection).expect("the device closes after the 400");
    let got = without_dates(&got);
    if got != expected {
        let first = got
            .bytes()
            .zip(expected.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        let from = first.saturating_sub(200);
        panic!(
            "the device's answer differs from the core's at byte {first}:\n--- device\n{}\n--- core\n{}",
            &got[from..(first + 300).min(got.len())],
            &expected[from..(first + 300).min(expected.len())]
        );
    }
    device.assert_healthy();
}
