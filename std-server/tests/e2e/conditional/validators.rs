//! Validators: Last-Modified never later than Date (RFC 9110 §8.8.2.1) and a strong ETag derived
//! from the bytes (RFC 9110 §8.8.3), so copies and replicas agree.

use super::*;
use std::time::Instant;

// Validators
// ---------------------------------------------------------------------------------------------

#[test]
fn the_date_constants_are_what_they_claim() {
    assert_eq!(parse_imf_fixdate(LAST_MODIFIED), Some(MTIME));
    assert_eq!(parse_imf_fixdate(DAY_AFTER), Some(MTIME + 86_400));
    assert_eq!(parse_imf_fixdate(DAY_BEFORE), Some(MTIME - 86_400));
}

#[test]
fn every_200_for_a_file_has_last_modified_and_a_strong_etag() {
    let f = fixture();
    for path in ["/page.html", "/data.txt", "/probe.txt"] {
        let r = get(&f.server, path, &[]);
        let bytes = std::fs::read(f.root.path().join(&path[1..])).unwrap();
        assert_full(&r, &bytes, path);
        assert_eq!(r.header("last-modified"), Some(LAST_MODIFIED), "{path}");

        let head = send_then_probe(&f.server, "HEAD", path, &[]);
        assert_status(&head, 200, &format!("HEAD {path}"));
        assert_eq!(
            head.header("etag"),
            r.header("etag"),
            "HEAD {path}: same ETag as GET"
        );
        assert_eq!(
            head.header("last-modified"),
            Some(LAST_MODIFIED),
            "HEAD {path}"
        );
        assert_eq!(
            head.content_length(),
            Some(bytes.len() as u64),
            "HEAD {path}"
        );
    }
}

#[test]
fn the_etag_follows_the_bytes_not_the_mtime_inode_or_machine() {
    let content = b"the same bytes in several files\n".to_vec();
    let other = b"other  bytes in several files!!\n".to_vec();
    assert_eq!(content.len(), other.len());
    let now = now_unix();
    let make_root = || {
        let root = TempDir::new();
        set_mtime(&root.write("epoch.txt", &content), 0);
        set_mtime(&root.write("y2001.txt", &content), MTIME);
        set_mtime(&root.write("deep/recent.txt", &content), now - 1000);
        set_mtime(&root.write("other.txt", &other), MTIME);
        root
    };
    let f = serve_root(make_root(), "");
    let etag_of = |server: &Server, path: &str| {
        let r = get(server, path, &[]);
        assert_status(&r, 200, path);
        (strong_etag(&r, path), last_modified(&r, path))
    };
    let (epoch, epoch_lm) = etag_of(&f.server, "/epoch.txt");
    let (y2001, y2001_lm) = etag_of(&f.server, "/y2001.txt");
    let (recent, recent_lm) = etag_of(&f.server, "/deep/recent.txt");
    assert_eq!((epoch_lm, y2001_lm, recent_lm), (0, MTIME, now - 1000));
    assert_eq!(epoch, y2001, "same bytes, mtimes 1970 and 2001: one ETag");
    assert_eq!(
        epoch, recent,
        "same bytes, another mtime and directory: one ETag"
    );
    let (other_tag, _) = etag_of(&f.server, "/other.txt");
    assert_ne!(
        other_tag, epoch,
        "other bytes of the same size and mtime: another ETag"
    );

    // A second replica: other inodes, another process.
    let replica = serve_root(make_root(), "");
    assert_eq!(
        etag_of(&replica.server, "/epoch.txt").0,
        epoch,
        "a replica gives the same ETag"
    );

    // New content (another length) -> new ETag; the old bytes again -> the old ETag again.
    let path = f.root.path().join("y2001.txt");
    let changed = b"changed content, and a different length\n";
    std::fs::write(&path, changed).unwrap();
    let r = wait_until_served(&f.server, "/y2001.txt", changed, None);
    let changed_tag = strong_etag(&r, "changed");
    assert_ne!(changed_tag, epoch, "changed content -> a new ETag");
    std::fs::write(&path, &content).unwrap();
    set_mtime(&path, MTIME + 5);
    let r = wait_until_served(&f.server, "/y2001.txt", &content, Some(MTIME + 5));
    assert_eq!(
        strong_etag(&r, "restored"),
        epoch,
        "the old bytes again -> the old ETag"
    );
}

/// Polls `path`, on fresh connections (so on whichever workers the kernel picks), until it
/// carries `bytes` and Last-Modified `mtime`, then checks that eight more do too; returns the
/// last. Call it right after changing the file. staticd checks a cached version against the disk
/// at most once a second, one check shared by all workers (REVALIDATE_MS in files.rs): the change
/// is answered within 1 s (0.3 s slack for a busy machine), and once one response shows it, no
/// later response shows the old version.
fn wait_until_served(server: &Server, path: &str, bytes: &[u8], mtime: Option<u64>) -> Response {
    let changed = Instant::now();
    let within = Duration::from_millis(1300);
    let is_current =
        |r: &Response| r.body == bytes && mtime.is_none_or(|m| last_modified(r, path) == m);
    loop {
        let r = get(server, path, &[]);
        if is_current(&r) {
            break;
        }
        assert!(
            changed.elapsed() < within,
            "{path}: the changed file is not served within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = changed.elapsed();
    let mut last = None;
    for i in 0..8 {
        let r = get(server, path, &[]);
        assert!(
            is_current(&r),
            "{path}: the old version again (response {i} after the new one was first seen at \
             {seen:?}): {} bytes, Last-Modified {:?}",
            r.body.len(),
            r.header("last-modified")
        );
        last = Some(r);
    }
    last.expect("eight responses")
}

#[test]
fn a_large_file_gets_the_same_content_derived_etag_as_its_copy() {
    let big = pseudo_random_bytes(3 * 1024 * 1024 + 17, 9);
    let mut other = big.clone();
    let middle = other.len() / 2;
    other[middle] ^= 1;
    let root = TempDir::new();
    set_mtime(&root.write("a/big.txt", &big), 0);
    set_mtime(&root.write("b/big.txt", &big), MTIME);
    set_mtime(&root.write("c/big.txt", &other), MTIME);
    let f = serve_root(root, "");
    let tag = |path: &str| {
        let r = head_ok(&f.server, path);
        strong_etag(&r, path)
    };
    assert_eq!(
        tag("/a/big.txt"),
        tag("/b/big.txt"),
        "same 3 MiB, other mtime: one ETag"
    );
    assert_ne!(
        tag("/a/big.txt"),
        tag("/c/big.txt"),
        "one bit changed in the middle: another ETag"
    );
}

/// HEAD `path` (any file in the root) on a fresh connection.
fn head_ok(server: &Server, path: &str) -> Response {
    let r = send(server, "HEAD", path, &[]);
    assert_status(&r, 200, &format!("HEAD {path}"));
    r
}

#[test]
fn last_modified_is_never_later_than_date() {
    // RFC 9110 §8.8.2.1: an origin server MUST NOT send a Last-Modified later than its Date; a
    // future mtime is replaced by the Date, and preconditions compare against the value sent.
    let root = TempDir::new();
    let body = b"from the future\n";
    set_mtime(&root.write("future.txt", body), now_unix() + 86_400);
    let f = serve_root(root, "");
    let r = get(&f.server, "/future.txt", &[]);
    assert_status(&r, 200, "future.txt");
    let lm = last_modified(&r, "future.txt");
    let date = parse_imf_fixdate(r.header("date").expect("Date")).expect("Date is IMF-fixdate");
    assert!(
        lm <= date,
        "Last-Modified {:?} is after Date {:?}",
        r.header("last-modified"),
        r.header("date")
    );
    assert_eq!(
        lm, date,
        "a future mtime is sent as the Date ({:?})",
        r.headers
    );
    let etag = strong_etag(&r, "future.txt");

    // Half a day ahead: after the value sent, before the mtime on disk.
    let between = imf_fixdate(now_unix() + 43_200);
    let r = get(
        &f.server,
        "/future.txt",
        &[("If-Unmodified-Since", &between)],
    );
    assert_full(
        &r,
        body,
        "future.txt If-Unmodified-Since after the Last-Modified sent",
    );
    let r = get(&f.server, "/future.txt", &[("If-Modified-Since", &between)]);
    assert_status(
        &r,
        304,
        "future.txt If-Modified-Since after the Last-Modified sent",
    );
    let sent = last_modified(&r, "future.txt 304");
    let date = parse_imf_fixdate(r.header("date").expect("Date")).expect("Date is IMF-fixdate");
    assert!(
        sent <= date,
        "304: Last-Modified after Date ({:?})",
        r.headers
    );

    // A Last-Modified equal to its Date is not a strong validator (RFC 9110 §13.1.5), so If-Range
    // by that date sends the whole file; by the ETag the range still applies.
    let lm_sent = imf_fixdate(lm);
    let r = get(
        &f.server,
        "/future.txt",
        &[("Range", "bytes=0-3"), ("If-Range", &lm_sent)],
    );
    assert_full(
        &r,
        body,
        "future.txt If-Range with the clamped Last-Modified",
    );
    let r = get(
        &f.server,
        "/future.txt",
        &[("Range", "bytes=0-3"), ("If-Range", &etag)],
    );
    assert_status(&r, 206, "future.txt If-Range with the ETag");
    assert_eq!(r.body, b"from", "future.txt If-Range with the ETag");
}

/// IMF-fixdate of a Unix time (Howard Hinnant's civil_from_days).
fn imf_fixdate(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let text = format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    assert_eq!(parse_imf_fixdate(&text), Some(secs), "{text}");
    text
}

#[test]
fn an_empty_file_has_validators_and_no_satisfiable_int_range() {
    let root = TempDir::new();
    set_mtime(&root.write("empty.txt", b""), MTIME);
    let f = serve_root(root, "");
    let r = get(&f.server, "/empty.txt", &[]);
    assert_full(&r, b"", "empty.txt");
    let etag = strong_etag(&r, "empty.txt");
    let r304 = get(&f.server, "/empty.txt", &[("If-None-Match", etag.as_str())]);
    assert_status(&r304, 304, "empty.txt If-None-Match");
    for range in ["bytes=0-", "bytes=0-0"] {
        let r = get(&f.server, "/empty.txt", &[("Range", range)]);
        assert_status(&r, 416, &format!("empty.txt {range}"));
        assert_eq!(
            r.header("content-range"),
            Some("bytes */0"),
            "empty.txt {range}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
