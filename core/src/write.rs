//! The response head, written over any `embedded_io::Write`: a `&mut [u8]`, a socket, a UART.
//!
//! Nothing here allocates or formats through `core::fmt`; numbers are rendered by [`decimal`]. The
//! head is written with `write_all` calls in order, so a caller that needs one syscall renders into
//! a [`SliceWriter`] first and sends the bytes.

use embedded_io::{ErrorKind, ErrorType, Write};

use crate::date::HttpDate;
use crate::status::StatusCode;

/// The head of a response: status line, the headers every staticd response carries, and extras.
#[derive(Debug, Clone, Copy)]
pub struct ResponseHead<'a> {
    /// The status; the status line always says `HTTP/1.1` (RFC 9110 §2.5: the highest minor
    /// version the server supports, whatever the request's).
    pub status: StatusCode,
    /// The `Date` value (RFC 9110 §6.6.1), rendered by the caller (once a second on a busy server).
    pub date: &'a HttpDate,
    /// The `Server` value; the caller guarantees no CR, LF or NUL (`Policy::validate` checks it).
    pub server: &'a str,
    /// The `Content-Type` value, if any.
    pub content_type: Option<&'a str>,
    /// The `Content-Length`; `None` only for 204 and, optionally, 304 (RFC 9110 §8.6).
    pub content_length: Option<u64>,
    /// `Connection: keep-alive` when true, `Connection: close` when false (RFC 9112 §9.6).
    pub keep_alive: bool,
    /// Pre-rendered `Name: value\r\n` lines (ETag, Last-Modified, Cache-Control, ...), written
    /// verbatim before the blank line.
    pub extra: &'a [u8],
}

impl ResponseHead<'_> {
    /// Writes the whole head, ending with the empty line that separates it from the body.
    pub fn write_to<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        self.write_fields_to(w)?;
        write_pieces(w, &[self.extra, b"\r\n"])
    }

    /// Writes the status line and the fields every response carries, up to and including the
    /// `Connection` line: not `extra`, not the empty line. The caller writes further field lines
    /// (with [`write_header`]) and then the empty line.
    pub fn write_fields_to<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        let mut status_line = *b"HTTP/1.1 000 ";
        if let Some(digits) = status_line.get_mut(9..12) {
            digits.copy_from_slice(&self.status.digits());
        }
        let mut length = [0u8; 20];
        let (type_name, type_value): (&[u8], &[u8]) = match self.content_type {
            Some(t) => (b"\r\nContent-Type: ", t.as_bytes()),
            None => (b"", b""),
        };
        let (length_name, length_value): (&[u8], &[u8]) = match self.content_length {
            Some(n) => (b"\r\nContent-Length: ", decimal(n, &mut length)),
            None => (b"", b""),
        };
        let connection: &[u8] = if self.keep_alive {
            b"\r\nConnection: keep-alive\r\n"
        } else {
            b"\r\nConnection: close\r\n"
        };
        write_pieces(
            w,
            &[
                &status_line,
                self.status.reason().as_bytes(),
                b"\r\nDate: ",
                self.date.as_bytes(),
                b"\r\nServer: ",
                self.server.as_bytes(),
                type_name,
                type_value,
                length_name,
                length_value,
                connection,
            ],
        )
    }
}

/// Writes `pieces` in order. Every writer of the core goes through here, so a device's writer
/// type gets one `write_all` loop instead of one call site per piece of every head.
pub(crate) fn write_pieces<W: Write>(w: &mut W, pieces: &[&[u8]]) -> Result<(), W::Error> {
    for piece in pieces {
        w.write_all(piece)?;
    }
    Ok(())
}

/// Writes one `name: value\r\n` field line. The caller guarantees a token name and a value without
/// CR, LF or NUL (RFC 9110 §5.5); this function does not check.
pub fn write_header<W: Write>(w: &mut W, name: &str, value: &[u8]) -> Result<(), W::Error> {
    write_pieces(w, &[name.as_bytes(), b": ", value, b"\r\n"])
}

/// Renders `n` in decimal into `buf` and returns the digits (no sign, no leading zeros).
#[inline(never)]
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    // u64::MAX has 20 digits, so the buffer never runs out before `n` reaches 0.
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        // The 32-bit case (every Content-Length below 4 GiB) divides by a constant: a multiply.
        let (quotient, digit) = match u32::try_from(n) {
            Ok(small) => (u64::from(small / 10), small % 10),
            Err(_) => div_rem_small(n, 10),
        };
        *slot = b'0' + digit as u8;
        n = quotient;
        start -= 1;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or(b"0")
}

/// `(n / d, n % d)` for a divisor below 2^16 without 64-bit division: a 32-bit device would
/// otherwise link the 64-bit division routine (about 900 bytes of code) for this alone. Values
/// that fit in 32 bits take one hardware division; larger ones go by long division over 16-bit
/// digits, where every step fits in 32 bits because the remainder stays below `d`.
#[inline(never)]
pub(crate) fn div_rem_small(n: u64, d: u16) -> (u64, u32) {
    let d = u32::from(d).max(1);
    if let Ok(small) = u32::try_from(n) {
        return (u64::from(small / d), small % d);
    }
    let mut quotient = 0u64;
    let mut remainder = 0u32;
    for shift in [48u32, 32, 16, 0] {
        let digit = (remainder << 16) | ((n >> shift) as u32 & 0xffff);
        quotient = (quotient << 16) | u64::from(digit / d);
        remainder = digit % d;
    }
    (quotient, remainder)
}

/// The error of a [`SliceWriter`] whose buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferFull;

impl core::fmt::Display for BufferFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("output buffer full")
    }
}

impl core::error::Error for BufferFull {}

impl embedded_io::Error for BufferFull {
    fn kind(&self) -> ErrorKind {
        ErrorKind::WriteZero
    }
}

/// An `embedded_io::Write` into a caller's `&mut [u8]` that remembers how much it wrote.
///
/// `write_all` is all-or-nothing: a chunk that does not fit is not written at all and the call
/// returns [`BufferFull`], so [`SliceWriter::written`] never ends in a torn header line.
#[derive(Debug)]
pub struct SliceWriter<'a> {
    buf: &'a mut [u8],
    written: usize,
}

impl<'a> SliceWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, written: 0 }
    }

    /// Bytes written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// The written prefix of the buffer.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.written).unwrap_or_default()
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.written)
    }

    /// Gives back the written prefix with the buffer's lifetime.
    pub fn into_written(self) -> &'a mut [u8] {
        let written = self.written;
        self.buf.get_mut(..written).unwrap_or_default()
    }

    /// Forgets what was written after the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.written = self.written.min(len);
    }

    /// Forgets what was written, to reuse the buffer.
    pub fn clear(&mut self) {
        self.written = 0;
    }
}

impl ErrorType for SliceWriter<'_> {
    type Error = BufferFull;
}

impl Write for SliceWriter<'_> {
    fn write(&mut self, data: &[u8]) -> Result<usize, BufferFull> {
        if data.is_empty() {
            return Ok(0);
        }
        let free = self.buf.get_mut(self.written..).unwrap_or_default();
        let n = data.len().min(free.len());
        if n == 0 {
            return Err(BufferFull);
        }
        if let (Some(dst), Some(src)) = (free.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.written += n;
        Ok(n)
    }

    fn write_all(&mut self, data: &[u8]) -> Result<(), BufferFull> {
        let end = self.written.checked_add(data.len()).ok_or(BufferFull)?;
        let dst = self.buf.get_mut(self.written..end).ok_or(BufferFull)?;
        dst.copy_from_slice(data);
        self.written = end;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BufferFull> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(head: &ResponseHead<'_>) -> std::string::String {
        let mut buf = [0u8; 1024];
        let mut w = SliceWriter::new(&mut buf);
        head.write_to(&mut w).unwrap();
        std::string::String::from_utf8(w.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn full_head() {
        let date = HttpDate::from_unix(784_111_777);
        let head = ResponseHead {
            status: StatusCode::OK,
            date: &date,
            server: "staticd",
            content_type: Some("text/html; charset=utf-8"),
            content_length: Some(1234),
            keep_alive: true,
            extra: b"ETag: \"abc\"\r\nAccept-Ranges: bytes\r\n",
        };
        assert_eq!(
            render(&head),
            "HTTP/1.1 200 OK\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Server: staticd\r\n\
             Content-Type: text/html; charset=utf-8\r\n\
             Content-Length: 1234\r\n\
             Connection: keep-alive\r\n\
             ETag: \"abc\"\r\n\
             Accept-Ranges: bytes\r\n\
             \r\n"
        );
    }

    #[test]
    fn minimal_head_closes() {
        let date = HttpDate::from_unix(0);
        let head = ResponseHead {
            status: StatusCode::NO_CONTENT,
            date: &date,
            server: "s",
            content_type: None,
            content_length: None,
            keep_alive: false,
            extra: b"",
        };
        assert_eq!(
            render(&head),
            "HTTP/1.1 204 No Content\r\n\
             Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             Server: s\r\n\
             Connection: close\r\n\
             \r\n"
        );
    }

    #[test]
    fn head_parses_back_with_httparse() {
        let date = HttpDate::from_unix(1_795_741_323);
        let head = ResponseHead {
            status: StatusCode::NOT_FOUND,
            date: &date,
            server: "staticd",
            content_type: Some("text/html; charset=utf-8"),
            content_length: Some(u64::MAX),
            keep_alive: true,
            extra: b"X-Content-Type-Options: nosniff\r\n",
        };
        let text = render(&head);
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut resp = httparse::Response::new(&mut headers);
        let status = resp.parse(text.as_bytes()).unwrap();
        assert_eq!(status, httparse::Status::Complete(text.len()));
        assert_eq!(resp.code, Some(404));
        assert_eq!(resp.reason, Some("Not Found"));
        assert_eq!(resp.version, Some(1));
        let cl = resp
            .headers
            .iter()
            .find(|h| h.name == "Content-Length")
            .unwrap();
        assert_eq!(cl.value, b"18446744073709551615");
        assert_eq!(resp.headers.len(), 6);
    }

    #[test]
    fn head_into_a_small_buffer_overflows_cleanly() {
        let date = HttpDate::from_unix(0);
        let head = ResponseHead {
            status: StatusCode::OK,
            date: &date,
            server: "staticd",
            content_type: Some("text/plain; charset=utf-8"),
            content_length: Some(5),
            keep_alive: true,
            extra: b"",
        };
        let full_len = render(&head).len();
        for size in 0..full_len {
            let mut buf = std::vec![0u8; size];
            let mut w = SliceWriter::new(&mut buf);
            assert_eq!(head.write_to(&mut w), Err(BufferFull), "size {size}");
            assert!(w.written() <= size);
            // All-or-nothing chunks: what was written is a prefix of the real head.
            assert!(render(&head).as_bytes().starts_with(w.as_bytes()));
        }
        let mut buf = std::vec![0u8; full_len];
        let mut w = SliceWriter::new(&mut buf);
        assert_eq!(head.write_to(&mut w), Ok(()));
        assert_eq!(w.remaining(), 0);
    }

    #[test]
    fn write_header_line() {
        let mut buf = [0u8; 64];
        let mut w = SliceWriter::new(&mut buf);
        write_header(&mut w, "Cache-Control", b"no-cache").unwrap();
        assert_eq!(w.as_bytes(), b"Cache-Control: no-cache\r\n");
        w.clear();
        write_header(&mut w, "X", b"").unwrap();
        assert_eq!(w.into_written(), b"X: \r\n");
    }

    #[test]
    fn slice_writer_partial_write_and_full() {
        let mut buf = [0u8; 4];
        let mut w = SliceWriter::new(&mut buf);
        assert_eq!(w.write(b"abc"), Ok(3));
        assert_eq!(w.write(b"xyz"), Ok(1));
        assert_eq!(w.write(b"q"), Err(BufferFull));
        assert_eq!(w.write(b""), Ok(0));
        assert_eq!(w.as_bytes(), b"abcx");
        assert_eq!(w.write_all(b""), Ok(()));
        assert_eq!(w.write_all(b"z"), Err(BufferFull));
        assert_eq!(embedded_io::Error::kind(&BufferFull), ErrorKind::WriteZero);
    }

    #[test]
    fn decimal_rendering() {
        let mut b = [0u8; 20];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(7, &mut b), b"7");
        assert_eq!(decimal(10, &mut b), b"10");
        assert_eq!(decimal(1_048_576, &mut b), b"1048576");
        assert_eq!(decimal(u64::MAX, &mut b), b"18446744073709551615");
        for n in [1u64, 9, 99, 100, 12_345, 999_999_999_999, u64::MAX / 3] {
            assert_eq!(decimal(n, &mut b), std::format!("{n}").as_bytes());
        }
        // Both sides of the 32-bit fast path, and every power of ten and its neighbours.
        let mut edges = std::vec![u64::from(u32::MAX), u64::from(u32::MAX) + 1, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            edges.extend([p - 1, p, p + 1]);
            p = next;
        }
        for n in edges {
            assert_eq!(decimal(n, &mut b), std::format!("{n}").as_bytes());
        }
    }

    #[test]
    fn small_division_matches_the_operators() {
        let mut n = 0x0123_4567_89ab_cdefu64;
        for _ in 0..100_000 {
            n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            for d in [1u16, 7, 10, 1000, 10_000, u16::MAX] {
                let want = (n / u64::from(d), (n % u64::from(d)) as u32);
                assert_eq!(div_rem_small(n, d), want, "{n} / {d}");
                let small = n >> 33;
                let want = (small / u64::from(d), (small % u64::from(d)) as u32);
                assert_eq!(div_rem_small(small, d), want, "{small} / {d}");
            }
        }
    }
}
