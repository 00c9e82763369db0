//! A `ResponseHead` built from fuzz data, written into a `SliceWriter`, read back by httparse:
//! - the same status code and reason, version 1.1, and the same fields in order (Date, Server,
//!   Content-Type, Content-Length, Connection, then the extra lines) with the same values;
//! - the head length httparse finds is the number of bytes written;
//! - into a buffer too small, the writer fails with nothing but a prefix of the full head written;
//! - the Date value parses back to the time it was rendered from (clamped to year 9999).
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use staticd_core::date::{HttpDate, MAX_UNIX_SECS, parse_http_date};
use staticd_core::status::StatusCode;
use staticd_core::write::{ResponseHead, SliceWriter, write_header};

const TCHARS: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A field value the caller may pass (RFC 9110 §5.5): visible ASCII, SP and HTAB, and non-ASCII
/// text, without CR, LF, NUL or other controls.
fn field_value(u: &mut Unstructured<'_>) -> Result<String> {
    let raw: String = u.arbitrary()?;
    Ok(raw
        .chars()
        .filter(|&c| c == '\t' || (c >= ' ' && c != '\x7f'))
        .take(200)
        .collect())
}

fn token(u: &mut Unstructured<'_>) -> Result<String> {
    let len = u.int_in_range(1..=20)?;
    (0..len)
        .map(|_| Ok(char::from(*u.choose(TCHARS)?)))
        .collect()
}

/// httparse hands back values with the surrounding OWS dropped (RFC 9110 §5.5).
fn trimmed(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &v[start..end]
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let status = *u.choose(&StatusCode::ALL)?;
    let secs: u64 = if u.arbitrary()? {
        u.int_in_range(0..=MAX_UNIX_SECS)?
    } else {
        u.arbitrary()?
    };
    let date = HttpDate::from_unix(secs);
    assert_eq!(
        parse_http_date(date.as_bytes()),
        Some(secs.min(MAX_UNIX_SECS)),
        "{date:?}"
    );
    let server = field_value(u)?;
    let content_type = if u.arbitrary()? {
        Some(field_value(u)?)
    } else {
        None
    };
    let content_length: Option<u64> = u.arbitrary()?;
    let keep_alive: bool = u.arbitrary()?;
    let mut extras = Vec::new();
    for _ in 0..u.int_in_range(0..=6)? {
        extras.push((token(u)?, field_value(u)?));
    }
    let mut extra_buf = [0u8; 4096];
    let mut extra = SliceWriter::new(&mut extra_buf);
    for (name, value) in &extras {
        write_header(&mut extra, name, value.as_bytes()).expect("extras fit in 4096 bytes");
    }
    let head = ResponseHead {
        status,
        date: &date,
        server: &server,
        content_type: content_type.as_deref(),
        content_length,
        keep_alive,
        extra: extra.as_bytes(),
    };

    let mut full_buf = [0u8; 8192];
    let mut full = SliceWriter::new(&mut full_buf);
    head.write_to(&mut full).expect("a head fits in 8192 bytes");
    let written = full.as_bytes();

    let mut fields = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut fields);
    let parsed = response.parse(written);
    assert_eq!(
        parsed,
        Ok(httparse::Status::Complete(written.len())),
        "{:?}",
        String::from_utf8_lossy(written)
    );
    assert_eq!(response.version, Some(1));
    assert_eq!(response.code, Some(status.as_u16()));
    assert_eq!(response.reason, Some(status.reason()));

    let length_text = content_length.map(|n| n.to_string());
    let mut expected: Vec<(&str, &[u8])> =
        vec![("Date", date.as_bytes()), ("Server", server.as_bytes())];
    if let Some(t) = &content_type {
        expected.push(("Content-Type", t.as_bytes()));
    }
    if let Some(n) = &length_text {
        expected.push(("Content-Length", n.as_bytes()));
    }
    expected.push((
        "Connection",
        if keep_alive { b"keep-alive" } else { b"close" },
    ));
    for (name, value) in &extras {
        expected.push((name, value.as_bytes()));
    }
    let got: Vec<(&str, &[u8])> = response.headers.iter().map(|h| (h.name, h.value)).collect();
    let expected: Vec<(&str, &[u8])> = expected.into_iter().map(|(n, v)| (n, trimmed(v))).collect();
    assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(written));

    // A buffer that cannot hold the head: an error, and only a prefix of the head written.
    let short = u.int_in_range(0..=written.len())?;
    let mut short_buf = vec![0u8; short];
    let mut short_writer = SliceWriter::new(&mut short_buf);
    let result = head.write_to(&mut short_writer);
    if short < written.len() {
        assert!(
            result.is_err(),
            "{short} bytes held a {}-byte head",
            written.len()
        );
    } else {
        assert!(result.is_ok());
    }
    assert!(
        written.starts_with(short_writer.as_bytes()),
        "not a prefix of the head"
    );
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
