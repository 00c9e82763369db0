//! Content codings (RFC 9110 §8.4, §12.5.3): precompressed siblings chosen by Accept-Encoding,
//! encodings made on the fly, `Vary`, an ETag per representation, ranges and validators on the
//! chosen one. Decoded by real clients: curl `--compressed` (gzip and brotli) and Python's gzip.

use crate::common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Text of `len` bytes that compresses well.
fn text(len: usize) -> Vec<u8> {
    let line = b"body { margin: 0 auto; font: 16px/1.5 system-ui, sans-serif; color: #222; }\n";
    line.iter().copied().cycle().take(len).collect()
}

fn gzip_of(bytes: &[u8], dir: &Path) -> Vec<u8> {
    let plain = dir.join("to-gzip");
    std::fs::write(&plain, bytes).unwrap();
    let out = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(&plain)
        .output()
        .expect("run gzip (scripts/setup-test-deps.sh installs it)");
    assert!(out.status.success(), "gzip failed");
    out.stdout
}

fn get_with(server: &Server, method: &str, path: &str, fields: &[(&str, &str)]) -> Response {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", server.host());
    for (name, value) in fields {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    server.request(raw.as_bytes())
}

/// curl with `--compressed` and `accept_encoding`: (decoded body, response head as text).
fn curl(url: &str, accept_encoding: &str, dir: &Path) -> (Vec<u8>, String) {
    let head = dir.join("curl-head");
    let body = dir.join("curl-body");
    let out = Command::new("curl")
        .args(["-sS", "--compressed", "--max-time", "10", "-H"])
        .arg(format!("Accept-Encoding: {accept_encoding}"))
        .arg("-D")
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .arg(url)
        .output()
        .expect("run curl (scripts/setup-test-deps.sh installs it)");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read(&body).unwrap(),
        std::fs::read_to_string(&head).unwrap().to_ascii_lowercase(),
    )
}

fn python_gunzip(bytes: &[u8], dir: &Path) -> Vec<u8> {
    let path = dir.join("py-gz");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(open(sys.argv[1],'rb').read()))",
        ])
        .arg(&path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python gzip: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn a_precompressed_sibling_is_chosen_by_weight_with_its_own_tag_and_vary_everywhere() {
    let work = TempDir::new();
    // Under the size compressed on the fly: the sibling is the only encoding.
    let script = text(1000);
    let gz = gzip_of(&script, work.path());
    let server = Server::builder()
        .file("app.js", &script)
        .file("app.js.gz", &gz)
        .file("logo.png", TINY_PNG)
        .start();

    let plain = get_with(&server, "GET", "/app.js", &[]);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.body, script, "no Accept-Encoding: the file itself");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));

    let coded = get_with(
        &server,
        "GET",
        "/app.js",
        &[("Accept-Encoding", "br, gzip;q=0.9")],
    );
    assert_eq!(coded.status, 200);
    assert_eq!(coded.header("content-encoding"), Some("gzip"));
    assert_eq!(coded.header("vary"), Some("Accept-Encoding"));
    assert_eq!(coded.content_length(), Some(gz.len() as u64));
    assert_eq!(coded.body, gz);
    assert_eq!(
        coded.header("content-type"),
        Some("text/javascript; charset=utf-8"),
        "the file's type, not the sibling's"
    );
    assert_ne!(coded.header("etag"), plain.header("etag"));
    assert_eq!(python_gunzip(&coded.body, work.path()), script);

    // Weights: identity preferred, gzip refused, identity refused.
    for (accept, coding) in [
        ("gzip;q=0.5, identity", None),
        ("*;q=1, gzip;q=0", None),
        ("identity;q=0, gzip;q=0.001", Some("gzip")),
        ("*", Some("gzip")),
        ("", None),
    ] {
        let r = get_with(&server, "GET", "/app.js", &[("Accept-Encoding", accept)]);
        assert_eq!(r.status, 200, "{accept:?}");
        assert_eq!(r.header("content-encoding"), coding, "{accept:?}");
        assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{accept:?}");
    }

    // A 304 names the representation and says Vary (RFC 9110 §15.4.5).
    let gz_tag = coded.header("etag").unwrap();
    let not_modified = get_with(
        &server,
        "GET",
        "/app.js",
        &[("Accept-Encoding", "gzip"), ("If-None-Match", gz_tag)],
    );
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("vary"), Some("Accept-Encoding"));
    assert_eq!(not_modified.header("etag"), Some(gz_tag));
    // The gzip tag does not validate the file itself.
    let other = get_with(&server, "GET", "/app.js", &[("If-None-Match", gz_tag)]);
    assert_eq!(other.status, 200);

    // Ranges are of the chosen representation.
    let part = get_with(
        &server,
        "GET",
        "/app.js",
        &[("Accept-Encoding", "gzip"), ("Range", "bytes=10-19")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-encoding"), Some("gzip"));
    assert_eq!(part.header("vary"), Some("Accept-Encoding"));
    let range = format!("bytes 10-19/{}", gz.len());
    assert_eq!(part.header("content-range"), Some(range.as_str()));
    assert_eq!(part.body, gz[10..20]);

    let head = get_with(&server, "HEAD", "/app.js", &[("Accept-Encoding", "gzip")]);
    assert_eq!(head.header("content-encoding"), Some("gzip"));
    assert_eq!(head.content_length(), Some(gz.len() as u64));

    // curl decodes what it asked for.
    let (body, head) = curl(&server.url("/app.js"), "gzip", work.path());
    assert_eq!(body, script);
    assert!(head.contains("content-encoding: gzip\r\n"), "{head}");

    // A file with no sibling and an incompressible type has no Vary.
    let png = get_with(
        &server,
        "GET",
        "/logo.png",
        &[("Accept-Encoding", "gzip, br")],
    );
    assert_eq!(png.header("vary"), None);
    assert_eq!(png.header("content-encoding"), None);
}

#[test]
fn a_sibling_is_never_served_as_a_type_its_extension_does_not_allow() {
    let server = Server::builder()
        .file("page.html", &text(3000))
        .file("page.html.br", b"not really brotli")
        .file("page.html.zst", b"not really zstd")
        .start();
    for path in ["/page.html.br", "/page.html.zst"] {
        let r = get_with(&server, "GET", path, &[("Accept-Encoding", "br, zstd")]);
        assert_eq!(r.status, 403, "{path}");
    }
    let r = get_with(&server, "GET", "/page.html", &[("Accept-Encoding", "zstd")]);
    assert_eq!(r.header("content-encoding"), Some("zstd"));
    assert_eq!(r.body, b"not really zstd");
}

#[test]
fn compressible_files_are_compressed_once_in_the_background_and_decode() {
    let work = TempDir::new();
    let css = text(100 * 1024);
    let server = Server::builder()
        .file("site.css", &css)
        .file("ranged.css", &text(50 * 1024))
        .file("small.css", &text(500))
        .file("photo.png", &pseudo_random_bytes(50 * 1024, 9))
        .start();

    // The first request may get the file itself while the encoding is made; it says Vary anyway.
    let first = get_with(
        &server,
        "GET",
        "/site.css",
        &[("Accept-Encoding", "br, gzip")],
    );
    assert_eq!(first.status, 200);
    assert_eq!(first.header("vary"), Some("Accept-Encoding"));
    let mut brotli = None;
    assert!(
        wait_until(Duration::from_secs(10), || {
            let r = get_with(
                &server,
                "GET",
                "/site.css",
                &[("Accept-Encoding", "br, gzip")],
            );
            let made = r.header("content-encoding") == Some("br");
            if made {
                brotli = Some(r);
            }
            made
        }),
        "no brotli encoding within 10 s"
    );
    let brotli = brotli.unwrap();
    assert!(
        brotli.body.len() < css.len() / 20,
        "{} bytes of brotli for {} of text",
        brotli.body.len(),
        css.len()
    );
    assert_eq!(brotli.content_length(), Some(brotli.body.len() as u64));
    let (decoded, head) = curl(&server.url("/site.css"), "br", work.path());
    assert_eq!(decoded, css, "curl's brotli decoding");
    assert!(head.contains("content-encoding: br\r\n"), "{head}");
    assert!(head.contains("vary: accept-encoding\r\n"), "{head}");

    assert!(
        wait_until(Duration::from_secs(10), || {
            get_with(&server, "GET", "/site.css", &[("Accept-Encoding", "gzip")])
                .header("content-encoding")
                == Some("gzip")
        }),
        "no gzip encoding within 10 s"
    );
    let gz = get_with(&server, "GET", "/site.css", &[("Accept-Encoding", "gzip")]);
    assert_eq!(python_gunzip(&gz.body, work.path()), css);
    assert_ne!(gz.header("etag"), brotli.header("etag"));
    assert_ne!(gz.header("etag"), first.header("etag"));
    // The same encoding twice: the same tag (made once per version).
    let again = get_with(&server, "GET", "/site.css", &[("Accept-Encoding", "gzip")]);
    assert_eq!(again.header("etag"), gz.header("etag"));
    assert_eq!(again.body, gz.body);

    // A range of an encoding not made yet is a range of the file itself, and makes nothing.
    for _ in 0..3 {
        let part = get_with(
            &server,
            "GET",
            "/ranged.css",
            &[("Accept-Encoding", "gzip"), ("Range", "bytes=0-99")],
        );
        assert_eq!(part.status, 206);
        assert_eq!(part.header("content-encoding"), None);
        assert_eq!(part.header("vary"), Some("Accept-Encoding"));
        std::thread::sleep(Duration::from_millis(200));
    }
    // Once made (by a whole request), ranges apply to it.
    assert!(wait_until(Duration::from_secs(10), || {
        get_with(
            &server,
            "GET",
            "/ranged.css",
            &[("Accept-Encoding", "gzip")],
        )
        .header("content-encoding")
            == Some("gzip")
    }));
    let part = get_with(
        &server,
        "GET",
        "/ranged.css",
        &[("Accept-Encoding", "gzip"), ("Range", "bytes=0-1")],
    );
    assert_eq!(part.header("content-encoding"), Some("gzip"));
    assert_eq!(part.body, [0x1f, 0x8b], "the gzip magic number");

    // Small files and compressed types are sent as they are, with no Vary.
    for path in ["/small.css", "/photo.png"] {
        for _ in 0..2 {
            let r = get_with(&server, "GET", path, &[("Accept-Encoding", "br, gzip")]);
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.header("content-encoding"), None, "{path}");
            assert_eq!(r.header("vary"), None, "{path}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_changed_file_gets_a_new_encoding() {
    let server = Server::builder().file("notes.txt", &text(8000)).start();
    let accept = [("Accept-Encoding", "gzip")];
    let made = |server: &Server| {
        let mut last = None;
        assert!(wait_until(Duration::from_secs(10), || {
            let r = get_with(server, "GET", "/notes.txt", &accept);
            let ok = r.header("content-encoding") == Some("gzip");
            last = Some(r);
            ok
        }));
        last.unwrap()
    };
    let before = made(&server);
    let changed = text(9000);
    std::fs::write(server.site().join("notes.txt"), &changed).unwrap();
    let mut after = None;
    assert!(wait_until(Duration::from_secs(10), || {
        let r = get_with(&server, "GET", "/notes.txt", &accept);
        let ok = r.header("content-encoding") == Some("gzip")
            && r.header("etag") != before.header("etag");
        after = Some(r);
        ok
    }));
    let work = TempDir::new();
    assert_eq!(python_gunzip(&after.unwrap().body, work.path()), changed);
}
