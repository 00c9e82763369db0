//! The firmware in QEMU's mps2-an386 board, spoken to over real TCP from the host: every file of
//! site/ byte for byte, HEAD, validators, ranges, framing errors, pipelining, keep-alive,
//! concurrency and the device's own timers. Each test boots its own device.

mod support;

use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};
use support::*;

/// Every file of site/ (relative path with `/`), sorted.
fn site_files() -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read site/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("below site/");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = repo_root().join("site");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    files
}

fn site_bytes(path: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("site").join(path)).expect("read a site file")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

#[test]
fn every_file_of_the_site_comes_back_byte_for_byte_with_its_type() {
    let device = Device::boot();
    let files = site_files();
    assert!(files.len() >= 8, "site/ has its pages, CSS, JS and images");
    let mut stream = device.connect();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    for path in &files {
        // One keep-alive connection for the whole site, as a browser would.
        write!(stream, "GET /{path} HTTP/1.1\r\nHost: device\r\n\r\n").expect("send");
        let response = read_response(&mut reader, false);
        assert_eq!(response.status, 200, "/{path}: {}", response.head);
        assert_eq!(
            sha256(&response.body),
            sha256(&site_bytes(path)),
            "/{path}: body differs from site/"
        );
        let etag = response.header("etag").unwrap_or_default();
        assert!(
            etag.starts_with('"') && etag.len() == 34,
            "/{path}: ETag {etag:?}"
        );
        assert!(response.header("last-modified").is_some(), "/{path}");
        let expected_type = match path.rsplit('.').next().unwrap_or_default() {
            "html" => "text/html",
            "css" => "text/css",
            "js" => "javascript",
            "png" => "image/png",
            "jpg" => "image/jpeg",
            "svg" => "image/svg+xml",
            "ico" => "icon",
            "mp4" => "video/mp4",
            "webm" => "video/webm",
            other => panic!("a site file with an unexpected extension: {other}"),
        };
        let content_type = response.header("content-type").unwrap_or_default();
        assert!(
            content_type.contains(expected_type),
            "/{path}: Content-Type {content_type:?}"
        );
    }
    // `/` is index.html.
    let index = get(&device, "/");
    assert_eq!(index.status, 200);
    assert_eq!(sha256(&index.body), sha256(&site_bytes("index.html")));
    // Each request has its access-log line, in the Combined Log Format.
    let logged = device.wait_for_count("\"GET /", files.len() + 1, IO_WAIT);
    assert_eq!(logged.len(), files.len() + 1, "{logged:#?}");
    let line = logged
        .iter()
        .find(|l| l.contains("GET /css/style.css "))
        .expect("logged");
    assert!(
        line.starts_with("10.0.2.2 - - [")
            && line.contains("] \"GET /css/style.css HTTP/1.1\" 200 ")
            && line.ends_with("\"-\" \"-\""),
        "{line}"
    );
    device.assert_healthy();
}

#[test]
fn head_conditional_get_and_ranges_answer_from_the_compiled_in_validators() {
    let device = Device::boot();
    let css = site_bytes("css/style.css");
    let get = get(&device, "/css/style.css");
    let etag = get.header("etag").expect("an ETag").to_string();
    let last_modified = get
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();

    let head = exchange(
        &device,
        "HEAD /css/style.css HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(&*css.len().to_string()));
    assert_eq!(head.header("etag"), Some(&*etag));

    let not_modified = exchange(
        &device,
        &format!(
            "GET /css/style.css HTTP/1.1\r\nHost: d\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(not_modified.status, 304, "{}", not_modified.head);
    assert!(not_modified.body.is_empty());
    let since = exchange(
        &device,
        &format!(
            "GET /css/style.css HTTP/1.1\r\nHost: d\r\nIf-Modified-Since: {last_modified}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(since.status, 304, "{}", since.head);

    let range = exchange(
        &device,
        "GET /images/landscape.jpg HTTP/1.1\r\nHost: d\r\nRange: bytes=1000-5999\r\nConnection: close\r\n\r\n",
    );
    let jpg = site_bytes("images/landscape.jpg");
    assert_eq!(range.status, 206, "{}", range.head);
    assert_eq!(
        range.header("content-range"),
        Some(&*format!("bytes 1000-5999/{}", jpg.len()))
    );
    assert_eq!(range.body, jpg[1000..6000]);
    let suffix = exchange(
        &device,
        "GET /js/app.js HTTP/1.1\r\nHost: d\r\nRange: bytes=-100\r\nConnection: close\r\n\r\n",
    );
    let js = site_bytes("js/app.js");
    assert_eq!(suffix.status, 206);
    assert_eq!(suffix.body, js[js.len() - 100..]);
    let unsatisfiable = exchange(
        &device,
        "GET /js/app.js HTTP/1.1\r\nHost: d\r\nRange: bytes=99999-\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(unsatisfiable.status, 416);
    device.assert_healthy();
}

#[test]
fn a_malformed_request_gets_400_and_the_connection_closes() {
    let device = Device::boot();
    let mut stream = device.connect();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: d\r\nBad Header\r\n\r\n")
        .expect("send");
    let bytes = read_until_close(&mut stream).expect("the device closes after a 400");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    assert!(text.contains("Connection: close"), "{text}");
    // The device still serves.
    assert_eq!(get(&device, "/about.html").status, 200);
    device.assert_healthy();
}

#[test]
fn three_pipelined_requests_are_answered_in_order() {
    let device = Device::boot();
    let mut stream = device.connect();
    stream
        .write_all(
            b"GET /about.html HTTP/1.1\r\nHost: d\r\n\r\n\
              HEAD /css/style.css HTTP/1.1\r\nHost: d\r\n\r\n\
              GET /images/logo.svg HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
        )
        .expect("send three requests in one write");
    let mut reader = BufReader::new(stream);
    let first = read_response(&mut reader, false);
    let second = read_response(&mut reader, true);
    let third = read_response(&mut reader, false);
    assert_eq!(first.body, site_bytes("about.html"));
    assert_eq!(second.status, 200);
    assert_eq!(
        second.header("content-length"),
        Some(&*site_bytes("css/style.css").len().to_string())
    );
    assert_eq!(third.body, site_bytes("images/logo.svg"));
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).expect("then the close");
    assert!(rest.is_empty(), "nothing after the last answer");
    device.assert_healthy();
}

#[test]
fn one_connection_stays_open_across_ten_requests() {
    let device = Device::boot();
    let mut stream = device.connect();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let page = site_bytes("index.html");
    for i in 0..10 {
        write!(stream, "GET /index.html HTTP/1.1\r\nHost: d\r\n\r\n").expect("send");
        let response = read_response(&mut reader, false);
        assert_eq!(response.status, 200, "request {i}");
        assert_eq!(
            response.header("connection"),
            Some("keep-alive"),
            "request {i}"
        );
        assert_eq!(response.body, page, "request {i}");
    }
    device.assert_healthy();
}

#[test]
fn four_clients_at_once_each_get_whole_files() {
    let device = Device::boot();
    let files = [
        "images/landscape.jpg",
        "images/poster.jpg",
        "media/clip.webm",
        "js/app.js",
    ];
    thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|path| {
                let device = &device;
                scope.spawn(move || {
                    // Open all four before any answer comes back.
                    let mut stream = device.connect();
                    thread::sleep(Duration::from_millis(200));
                    write!(stream, "GET /{path} HTTP/1.1\r\nHost: d\r\n\r\n").expect("send");
                    let mut reader = BufReader::new(stream);
                    let mut bodies = Vec::new();
                    for _ in 0..3 {
                        bodies.push(read_response(&mut reader, false).body);
                        let stream = reader.get_mut();
                        write!(stream, "GET /{path} HTTP/1.1\r\nHost: d\r\n\r\n").expect("send");
                    }
                    (path, bodies)
                })
            })
            .collect();
        for handle in handles {
            let (path, bodies) = handle.join().expect("a client thread");
            let expected = sha256(&site_bytes(path));
            for body in bodies {
                assert_eq!(sha256(&body), expected, "/{path}");
            }
        }
    });
    device.assert_healthy();
}

#[test]
fn a_stalled_client_times_out_by_the_device_clock_without_stopping_the_others() {
    let device = Device::boot();
    let started = Instant::now();
    let mut stalled = device.connect();
    stalled
        .write_all(b"GET /index.html HTTP/1.1\r\nHost: d\r\n")
        .expect("half a head");
    // The others are served while it stalls.
    for _ in 0..5 {
        assert_eq!(get(&device, "/about.html").status, 200);
    }
    let bytes = read_until_close(&mut stalled).expect("the device ends the stalled connection");
    let waited = started.elapsed();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408 "),
        "a 408 or a plain close: {text}"
    );
    // The device's header timeout is 5 s of its own clock (firmware/device/build.rs).
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(15),
        "closed after {waited:?}"
    );
    device.assert_healthy();
}

#[test]
fn a_request_head_over_the_device_limit_gets_431() {
    let device = Device::boot();
    let mut stream = device.connect();
    let filler = "a".repeat(3000);
    // The head is refused as the limit is crossed; the rest may find the connection closed.
    let _ = write!(
        stream,
        "GET / HTTP/1.1\r\nHost: d\r\nX-Filler: {filler}\r\n\r\n"
    );
    let bytes = read_until_close(&mut stream).expect("the device closes after a 431");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
    assert_eq!(get(&device, "/").status, 200);
    device.assert_healthy();
}
