//! The response decision at its limits: the longest Content-Range, a sink too small for the
//! answer (a 500 with the fault named, never a torn head), a redirect whose Location fills the
//! sink.

use staticd_core::parse::{Header, ParserConfig, Status, parse_request};
use staticd_core::source::{Entry, ReadError, Resource, Source};
use staticd_core::{HttpDate, Now, Policy, Segment, Site, SliceWriter, respond};

/// One file of `len` bytes at every path ending in `.bin`; every other path is a directory.
struct Huge(u64);

impl Resource for Huge {
    fn len(&self) -> u64 {
        self.0
    }
    fn etag(&self) -> &[u8] {
        b"\"0123456789abcdef\""
    }
    fn last_modified(&self) -> u64 {
        1
    }
    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        buf.fill(0);
        Ok(buf.len())
    }
}

impl Source for Huge {
    type Resource = Huge;
    fn open(&mut self, path: &str) -> Entry<Huge> {
        if path.ends_with(".bin") {
            Entry::File(Huge(self.0))
        } else {
            Entry::Directory
        }
    }
}

const POLICY: Policy<'static> = Policy {
    allowed_extensions: &[".bin"],
    ..Policy::DEFAULT
};

fn answer(request: &[u8], len: u64, sink: &mut SliceWriter<'_>) -> staticd_core::Response<Huge> {
    let mut fields = [Header::EMPTY; 8];
    let Ok(Status::Complete((_, req))) =
        parse_request(&ParserConfig::default(), request, &mut fields)
    else {
        panic!("a valid request");
    };
    let date = HttpDate::from_unix(1000);
    let now = Now {
        ms: 0,
        unix_secs: 1000,
        date: &date,
    };
    let mut source = Huge(len);
    let mut path_buf = [0u8; 8192 + 64];
    let mut site = Site {
        policy: &POLICY,
        source: &mut source,
        path_buf: &mut path_buf,
    };
    respond(&req, true, &now, &mut site, sink)
}

#[test]
fn the_longest_content_range_is_written_whole() {
    let mut buf = [0u8; 1024];
    let mut sink = SliceWriter::new(&mut buf);
    let r = answer(
        b"GET /a.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=18446744073709551613-\r\n\r\n",
        u64::MAX,
        &mut sink,
    );
    assert_eq!(r.status.as_u16(), 206);
    assert_eq!(r.fault, None);
    let head = std::str::from_utf8(sink.as_bytes()).unwrap();
    assert!(
        head.contains(
            "\r\nContent-Range: bytes 18446744073709551613-18446744073709551614/18446744073709551615\r\n"
        ),
        "{head}"
    );
    assert_eq!(
        r.segments.last(),
        Some(&Segment::Resource {
            start: 18446744073709551613,
            end: 18446744073709551615
        })
    );
}

#[test]
fn an_answer_that_does_not_fit_the_sink_becomes_a_500_with_its_fault() {
    // Room for a 500 page, not for a 206 head with its validators and Content-Range.
    let mut buf = [0u8; 400];
    let mut sink = SliceWriter::new(&mut buf);
    let r = answer(
        b"GET /a.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,5-9,20-29\r\n\r\n",
        100,
        &mut sink,
    );
    assert_eq!(r.status.as_u16(), 500);
    assert!(r.fault.is_some());
    assert!(!r.keep_alive, "a fault closes the connection");
    let text = std::str::from_utf8(sink.as_bytes()).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{text}"
    );
    assert!(text.contains("Connection: close\r\n"), "{text}");
    // Head and page are whole: the length promised is the length written.
    let (head, page) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", page.len())),
        "{head}"
    );
}

#[test]
fn a_sink_too_small_even_for_a_500_sends_nothing() {
    let mut buf = [0u8; 40];
    let mut sink = SliceWriter::new(&mut buf);
    let r = answer(b"GET /a.bin HTTP/1.1\r\nHost: x\r\n\r\n", 10, &mut sink);
    assert_eq!(r.status.as_u16(), 500);
    assert!(r.fault.is_some());
    assert!(r.segments.is_empty());
    assert_eq!(sink.written(), 0);
}

#[test]
fn a_redirect_keeps_a_long_query_or_reports_the_fault() {
    let query = "q".repeat(7000);
    let request = format!("GET /dir?{query} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut big = vec![0u8; 16 * 1024];
    let mut sink = SliceWriter::new(&mut big);
    let r = answer(request.as_bytes(), 0, &mut sink);
    assert_eq!(r.status.as_u16(), 301);
    let text = std::str::from_utf8(sink.as_bytes()).unwrap();
    assert!(text.contains(&format!("\r\nLocation: /dir/?{query}\r\n")));

    let mut small = vec![0u8; 2048];
    let mut sink = SliceWriter::new(&mut small);
    let r = answer(request.as_bytes(), 0, &mut sink);
    assert_eq!(r.status.as_u16(), 500, "never a 301 without its Location");
    assert!(r.fault.is_some());
}

#[test]
fn raw_bytes_of_a_query_are_percent_encoded_in_location() {
    let mut buf = [0u8; 1024];
    let mut sink = SliceWriter::new(&mut buf);
    let r = answer(
        "GET /dir?q=é&x=%41 HTTP/1.1\r\nHost: x\r\n\r\n".as_bytes(),
        0,
        &mut sink,
    );
    assert_eq!(r.status.as_u16(), 301);
    let text = std::str::from_utf8(sink.as_bytes()).unwrap();
    assert!(
        text.contains("\r\nLocation: /dir/?q=%C3%A9&x=%41\r\n"),
        "{text}"
    );
}
