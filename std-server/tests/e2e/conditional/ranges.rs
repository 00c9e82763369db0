//! Byte ranges (RFC 9110 §14): single, suffix and open-ended ranges, multipart/byteranges, merging,
//! 416, If-Range, and Range ignored on HEAD.

use super::*;

// Ranges
// ---------------------------------------------------------------------------------------------

/// `bytes FIRST-LAST/COMPLETE` -> (first, last, complete).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.strip_prefix("bytes ")?;
    let (span, complete) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    Some((
        first.parse().ok()?,
        last.parse().ok()?,
        complete.parse().ok()?,
    ))
}

/// A 206 with one part: Content-Range `bytes start-end/len`, the exact slice, validators.
fn assert_single_range(r: &Response, file: &[u8], start: u64, end: u64, what: &str) {
    assert_status(r, 206, what);
    let expected = format!("bytes {start}-{end}/{}", file.len());
    assert_eq!(
        r.header("content-range"),
        Some(expected.as_str()),
        "{what}: Content-Range"
    );
    assert_eq!(
        r.content_length(),
        Some(end - start + 1),
        "{what}: Content-Length"
    );
    assert!(
        r.body == file[start as usize..=end as usize],
        "{what}: the body is not bytes {start}-{end} of the file"
    );
    strong_etag(r, what);
    assert_date_is_now(r, what);
}

/// The parts of a multipart/byteranges 206 as (first, last), each checked byte-exact against `file`
/// with its own Content-Range and Content-Type (RFC 9110 §14.6).
fn parse_byteranges(r: &Response, file: &[u8], part_type: &str, what: &str) -> Vec<(u64, u64)> {
    assert_status(r, 206, what);
    assert!(
        r.header("content-range").is_none(),
        "{what}: Content-Range on a multipart 206"
    );
    assert_eq!(
        r.content_length(),
        Some(r.body.len() as u64),
        "{what}: Content-Length"
    );
    let content_type = r.header("content-type").unwrap_or_default();
    let (essence, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    assert!(
        essence.trim().eq_ignore_ascii_case("multipart/byteranges"),
        "{what}: Content-Type {content_type:?}"
    );
    let boundary = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("{what}: no boundary in {content_type:?}"));
    assert!(
        !boundary.is_empty() && boundary.len() <= 70,
        "{what}: boundary {boundary:?}"
    );
    let delimiter = format!("--{boundary}");
    let body = r.body.as_slice();
    let mut at = find(body, delimiter.as_bytes())
        .unwrap_or_else(|| panic!("{what}: no delimiter {delimiter:?} in the body"));
    assert!(
        at == 0 || body[..at].ends_with(b"\r\n"),
        "{what}: the first delimiter does not start a line"
    );
    let mut parts = Vec::new();
    loop {
        at += delimiter.len();
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            let epilogue = &rest[2..];
            assert!(
                epilogue.is_empty() || epilogue.starts_with(b"\r\n"),
                "{what}: bytes after the close delimiter: {:?}",
                String::from_utf8_lossy(epilogue)
            );
            break;
        }
        assert!(
            rest.starts_with(b"\r\n"),
            "{what}: no CRLF after a delimiter"
        );
        let head_end = find(rest, b"\r\n\r\n")
            .unwrap_or_else(|| panic!("{what}: a part without the end of its header section"));
        let head = std::str::from_utf8(&rest[2..head_end]).expect("part head is UTF-8");
        let mut range = None;
        let mut ty = None;
        for line in head.split("\r\n") {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("{what}: part header line {line:?}"));
            if name.eq_ignore_ascii_case("content-range") {
                range = parse_content_range(value.trim());
            } else if name.eq_ignore_ascii_case("content-type") {
                ty = Some(value.trim().to_string());
            }
        }
        let (first, last, complete) = range
            .unwrap_or_else(|| panic!("{what}: a part without a valid Content-Range: {head:?}"));
        assert_eq!(
            complete,
            file.len() as u64,
            "{what}: complete length in a part"
        );
        assert!(
            first <= last && last < complete,
            "{what}: part range {first}-{last}"
        );
        assert_eq!(ty.as_deref(), Some(part_type), "{what}: part Content-Type");
        let data_start = head_end + 4;
        let data_len = (last - first + 1) as usize;
        let data = rest
            .get(data_start..data_start + data_len)
            .unwrap_or_else(|| panic!("{what}: part {first}-{last} is cut short"));
        assert!(
            data == &file[first as usize..=last as usize],
            "{what}: part {first}-{last} does not hold those bytes of the file"
        );
        let after = &rest[data_start + data_len..];
        assert!(
            after.starts_with(b"\r\n") && after[2..].starts_with(delimiter.as_bytes()),
            "{what}: part {first}-{last} is not followed by CRLF and the delimiter"
        );
        parts.push((first, last));
        at += data_start + data_len + 2;
    }
    parts
}

/// The (first, last) spans a 206 delivered, single part or multipart, each checked byte-exact.
fn delivered_spans(r: &Response, file: &[u8], part_type: &str, what: &str) -> Vec<(u64, u64)> {
    match r.header("content-range") {
        Some(value) => {
            let (first, last, _) = parse_content_range(value)
                .unwrap_or_else(|| panic!("{what}: Content-Range {value:?}"));
            assert_single_range(r, file, first, last, what);
            vec![(first, last)]
        }
        None => parse_byteranges(r, file, part_type, what),
    }
}

#[test]
fn single_ranges_give_206_with_the_exact_slice() {
    let f = fixture();
    let file = data();
    let full = get(&f.server, "/data.txt", &[]);
    assert_full(&full, &file, "GET /data.txt");
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, 999),
        ("bytes=-100", 900, 999),
        ("bytes=990-5000", 990, 999),
        ("bytes=0-0", 0, 0),
        ("bytes=999-999", 999, 999),
        ("bytes=-1", 999, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=0-999", 0, 999),
        ("BYTES=10-19", 10, 19),
        ("bytes=0-0099", 0, 99),
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range)]);
        assert_single_range(&r, &file, start, end, range);
        assert_eq!(
            r.header("etag"),
            full.header("etag"),
            "{range}: ETag on the 206"
        );
        assert_eq!(
            r.header("last-modified"),
            full.header("last-modified"),
            "{range}"
        );
    }
    // Cache-Control is on the 206 as it is on the 200 (RFC 9110 §15.3.7).
    let r = get(&f.server, "/page.html", &[("Range", "bytes=0-4")]);
    assert_single_range(&r, PAGE, 0, 4, "page.html bytes=0-4");
    assert_eq!(r.header("cache-control"), Some("no-cache"));
}

#[test]
fn several_ranges_give_multipart_byteranges() {
    let f = fixture();
    let file = data();
    let part_type = get(&f.server, "/data.txt", &[])
        .header("content-type")
        .expect("Content-Type on the 200")
        .to_string();
    let r = send_then_probe(
        &f.server,
        "GET",
        "/data.txt",
        &[("Range", "bytes=0-9,500-509,-10")],
    );
    assert_eq!(
        parse_byteranges(&r, &file, &part_type, "three ranges"),
        [(0, 9), (500, 509), (990, 999)]
    );
    let r = get(&f.server, "/data.txt", &[("Range", "bytes=100-199, 300-")]);
    assert_eq!(
        parse_byteranges(&r, &file, &part_type, "two ranges"),
        [(100, 199), (300, 999)]
    );
}

#[test]
fn overlapping_ranges_are_coalesced() {
    let f = fixture();
    let file = data();
    let part_type = get(&f.server, "/data.txt", &[])
        .header("content-type")
        .expect("Content-Type")
        .to_string();
    for (range, expected) in [
        ("bytes=0-99,50-149,400-409", vec![(0, 149), (400, 409)]),
        ("bytes=400-409,0-99,50-149", vec![(0, 149), (400, 409)]),
        ("bytes=0-99,50-149", vec![(0, 149)]),
        ("bytes=10-20,15-15,12-18", vec![(10, 20)]),
        ("bytes=900-,-50", vec![(900, 999)]),
    ] {
        let r = get(&f.server, "/data.txt", &[("Range", range)]);
        let mut spans = delivered_spans(&r, &file, &part_type, range);
        spans.sort_unstable();
        assert_eq!(
            spans, expected,
            "{range}: the parts are the coalesced ranges"
        );
    }
}

#[test]
fn many_small_ranges_are_answered_exactly_or_refused() {
    // RFC 9110 §14.2 lets a server coalesce or ignore a Range with many parts; whatever staticd
    // does, the answer is a well-formed 200, 206 or 416 with the right bytes.
    let f = fixture();
    let file = data();
    let spec: Vec<String> = (0..100)
        .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
        .collect();
    let range = format!("bytes={}", spec.join(","));
    let part_type = get(&f.server, "/data.txt", &[])
        .header("content-type")
        .expect("Content-Type")
        .to_string();
    let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range.as_str())]);
    match r.status {
        200 => assert!(r.body == file, "100 ranges: a 200 carries the whole file"),
        206 => assert!(!delivered_spans(&r, &file, &part_type, "100 ranges").is_empty()),
        416 => {}
        other => panic!("100 ranges: status {other}"),
    }
}

#[test]
fn unsatisfiable_ranges_give_416_with_the_length() {
    let f = fixture();
    for range in [
        "bytes=1000-",
        "bytes=1000-2000",
        "bytes=5000-5999",
        "bytes=1000-,2000-",
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range)]);
        assert_status(&r, 416, range);
        assert_eq!(
            r.header("content-range"),
            Some("bytes */1000"),
            "{range}: Content-Range"
        );
        assert!(r.body != data(), "{range}: a 416 carries the file");
    }
    // One satisfiable range among unsatisfiable ones is served (RFC 9110 §14.1.1).
    let r = get(&f.server, "/data.txt", &[("Range", "bytes=2000-3000,0-4")]);
    assert_single_range(&r, &data(), 0, 4, "bytes=2000-3000,0-4");
}

#[test]
fn malformed_or_foreign_ranges_are_ignored() {
    let f = fixture();
    let file = data();
    for range in [
        "bytes=abc",
        "items=0-1",
        "bytes=5-1",
        "bytes=",
        "bytes=-",
        "bytes=0-1,abc",
        "bytes=1-2-3",
        "bytes=-0x10",
        "0-99",
        "bytes 0-99",
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range)]);
        assert_full(&r, &file, &format!("Range: {range}"));
    }
}

#[test]
fn range_numbers_beyond_u64_are_clipped_or_ignored_never_an_error() {
    // 1*DIGIT has no upper bound (RFC 9110 §14.1.1); a last-pos past the end is clipped, and any
    // Range may be ignored (§14.2). Neither a 4xx other than 416 nor a 5xx is right.
    let f = fixture();
    let file = data();
    let huge = "99999999999999999999999999";
    for (range, clipped) in [
        (format!("bytes=0-{huge}"), Some((0, 999))),
        (format!("bytes=-{huge}"), Some((0, 999))),
        (format!("bytes=10-19,20-{huge}"), Some((10, 999))),
        (format!("bytes={huge}-"), None),
        (format!("bytes={huge}-{huge}"), None),
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[("Range", range.as_str())]);
        match (r.status, clipped) {
            (200, _) => assert!(r.body == file, "{range}: a 200 carries the file"),
            (206, Some((start, end))) => {
                let part_type = get(&f.server, "/data.txt", &[])
                    .header("content-type")
                    .expect("Content-Type")
                    .to_string();
                let spans = delivered_spans(&r, &file, &part_type, &range);
                let covered: u64 = spans.iter().map(|(a, b)| b - a + 1).sum();
                assert_eq!(
                    (
                        spans.first().map(|s| s.0),
                        spans.last().map(|s| s.1),
                        covered
                    ),
                    (Some(start), Some(end), end - start + 1),
                    "{range}: the clipped range"
                );
            }
            (416, None) => {
                assert_eq!(r.header("content-range"), Some("bytes */1000"), "{range}")
            }
            (status, _) => panic!("{range}: status {status} ({:?})", r.headers),
        }
    }
}

#[test]
fn head_ignores_range() {
    let f = fixture();
    let r = send_then_probe(&f.server, "HEAD", "/data.txt", &[("Range", "bytes=0-9")]);
    assert_status(&r, 200, "HEAD with Range");
    assert_eq!(r.content_length(), Some(DATA_LEN as u64));
    assert!(r.header("content-range").is_none());
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
}

#[test]
fn if_range_with_the_current_validator_gives_206_otherwise_200() {
    let f = fixture();
    let file = data();
    let full = get(&f.server, "/data.txt", &[]);
    let etag = strong_etag(&full, "data");
    let range = ("Range", "bytes=10-19");
    let r = get(
        &f.server,
        "/data.txt",
        &[range, ("If-Range", etag.as_str())],
    );
    assert_single_range(&r, &file, 10, 19, "If-Range: current ETag");
    let r = get(
        &f.server,
        "/data.txt",
        &[range, ("If-Range", LAST_MODIFIED)],
    );
    assert_single_range(&r, &file, 10, 19, "If-Range: Last-Modified");
    let weak = format!("W/{etag}");
    for value in [
        "\"an-old-etag\"",
        weak.as_str(),
        DAY_AFTER,
        DAY_BEFORE,
        "Sun, 09 Sep 2001 01:46:41 GMT",
        "not a validator",
    ] {
        let r = send_then_probe(&f.server, "GET", "/data.txt", &[range, ("If-Range", value)]);
        assert_full(&r, &file, &format!("If-Range: {value}"));
    }
}

#[test]
fn a_range_from_the_middle_of_a_large_file_is_byte_exact() {
    const LEN: usize = 20 * 1024 * 1024;
    let root = TempDir::new();
    let big = pseudo_random_bytes(LEN, 20);
    root.write("big.txt", &big);
    let f = serve_root(root, "");
    let (start, end) = (LEN / 2 - 3_333_333, LEN / 2 + 4_444_443);
    let range = format!("bytes={start}-{end}");
    let r = get(&f.server, "/big.txt", &[("Range", range.as_str())]);
    assert_single_range(&r, &big, start as u64, end as u64, &range);
    let r = get(&f.server, "/big.txt", &[("Range", "bytes=-1048577")]);
    assert_single_range(&r, &big, (LEN - 1_048_577) as u64, LEN as u64 - 1, "suffix");
    let part_type = r.header("content-type").unwrap_or_default().to_string();
    let r = get(
        &f.server,
        "/big.txt",
        &[("Range", "bytes=1-2,10485760-12582911,-3")],
    );
    assert_eq!(
        parse_byteranges(&r, &big, &part_type, "large multipart"),
        [
            (1, 2),
            (10_485_760, 12_582_911),
            (LEN as u64 - 3, LEN as u64 - 1)
        ]
    );
    let r = get(&f.server, "/big.txt", &[]);
    assert_eq!(r.content_length(), Some(LEN as u64));
    assert_eq!(
        sha256_hex(&r.body),
        sha256_hex(&big),
        "the whole large file"
    );
}

// ---------------------------------------------------------------------------------------------
