//! Which files are served by extension and as what: the built-in list covers what a web site
//! serves, each with its media type (RFC 9110 §8.3) and `X-Content-Type-Options: nosniff`; the list
//! matches in any case; `["*"]` serves every file; an empty list is refused.

use crate::common::*;
use crate::conditional::{assert_status, get, serve_root};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// Files a site commonly holds beside its pages, with the type each must be served with.
const WEB_FILES: &[(&str, &str)] = &[
    ("app.webmanifest", "application/manifest+json"),
    ("captions.vtt", "text/vtt; charset=utf-8"),
    ("feed.rss", "application/rss+xml"),
    ("feed.atom", "application/atom+xml"),
    ("page.xhtml", "application/xhtml+xml"),
    ("event.ics", "text/calendar; charset=utf-8"),
    ("source.zip", "application/zip"),
    ("data.gz", "application/gzip"),
    ("song.m4a", "audio/mp4"),
    ("song.flac", "audio/flac"),
    ("voice.opus", "audio/ogg"),
    ("clip.mov", "video/quicktime"),
    ("old.bmp", "image/bmp"),
    ("font.eot", "application/vnd.ms-fontobject"),
    ("data.jsonld", "application/ld+json"),
    ("book.epub", "application/epub+zip"),
    ("photo.JPG", "image/jpeg"),
];

#[test]
fn the_default_list_serves_common_web_files_with_their_types() {
    let mut builder = Server::builder();
    for (name, _) in WEB_FILES {
        builder = builder.file(name, name.as_bytes());
    }
    let server = builder
        .file("tool.exe", b"MZ")
        .file("run.sh", b"#!/bin/sh")
        .file("index.php", b"<?php")
        .file("Makefile", b"all:")
        .file("data.toml", b"secret = 1")
        .start();
    for (name, mime) in WEB_FILES {
        let response = server.get(&format!("/{name}"));
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.header("content-type"), Some(*mime), "{name}");
        assert_eq!(response.body, name.as_bytes(), "{name}");
    }
    for refused in [
        "/tool.exe",
        "/run.sh",
        "/index.php",
        "/Makefile",
        "/data.toml",
    ] {
        let response = server.get(refused);
        assert_eq!(response.status, 403, "{refused}");
        for content in ["MZ", "#!/bin/sh", "<?php", "all:", "secret"] {
            assert!(!response.text().contains(content), "{refused}: leaked");
        }
    }
}

#[test]
fn a_star_serves_every_file_but_dotfiles_stay_refused() {
    let server = Server::builder()
        .config("[files]\nallowed_extensions = [\"*\"]\n")
        .file("tool.exe", b"MZ")
        .file("Makefile", b"all:")
        .file("page.html", b"<p>")
        .file(".env", b"SECRET=1")
        .start();
    let exe = server.get("/tool.exe");
    assert_eq!(exe.status, 200);
    assert_eq!(exe.header("content-type"), Some("application/octet-stream"));
    assert_eq!(server.get("/Makefile").body, b"all:");
    assert_eq!(
        server.get("/page.html").header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(server.get("/.env").status, 404);
}

#[test]
fn an_empty_list_is_refused_at_start_naming_the_key() {
    let dir = TempDir::new();
    let site = toml_literal(&dir.mkdir("site").display().to_string());
    let config = dir.write(
        "staticd.toml",
        format!("[server]\nport = 0\nroot = {site}\n[files]\nallowed_extensions = []\n").as_bytes(),
    );
    let run = run_staticd(
        &["--config", config.to_str().unwrap()],
        dir.path(),
        Duration::from_secs(10),
    );
    assert_eq!(run.status.and_then(|s| s.code()), Some(2), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    for word in ["staticd.toml", "files.allowed_extensions", "[\"*\"]"] {
        assert!(lines[0].contains(word), "{word}: {}", lines[0]);
    }
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn the_bundled_settings_file_shows_the_built_in_list() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/staticd.toml");
    let text = std::fs::read_to_string(path).expect("config/staticd.toml");
    let config: toml::Table = toml::from_str(&text).expect("parses");
    let listed: Vec<&str> = config["files"]["allowed_extensions"]
        .as_array()
        .expect("files.allowed_extensions is a list")
        .iter()
        .map(|e| e.as_str().expect("a string"))
        .collect();
    assert_eq!(
        listed,
        staticd_core::policy::DEFAULT_ALLOWED_EXTENSIONS,
        "config/staticd.toml says its values are the defaults"
    );
}

#[test]
fn content_types_come_from_the_built_in_table_with_nosniff() {
    let root = TempDir::new();
    let cases = [
        ("a.html", "text/html"),
        ("a.htm", "text/html"),
        ("a.css", "text/css"),
        ("a.js", "text/javascript"),
        ("a.mjs", "text/javascript"),
        ("a.json", "application/json"),
        ("a.txt", "text/plain"),
        ("a.wasm", "application/wasm"),
        ("a.svg", "image/svg+xml"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.woff2", "font/woff2"),
        ("a.mp4", "video/mp4"),
        ("a.webm", "video/webm"),
        ("a.pdf", "application/pdf"),
        ("UPPER.PNG", "image/png"),
        ("Mixed.Js", "text/javascript"),
    ];
    for (rel, _) in cases {
        root.write(rel, b"x");
    }
    let f = serve_root(root, "");
    for (rel, essence) in cases {
        let path = format!("/{rel}");
        let r = get(&f.server, &path, &[]);
        assert_status(&r, 200, &path);
        let ct = r
            .header("content-type")
            .unwrap_or_else(|| panic!("{path}: no Content-Type"));
        let mut params = ct.split(';').map(str::trim);
        assert_eq!(params.next(), Some(essence), "{path}: Content-Type {ct:?}");
        let charset: BTreeSet<String> = params
            .filter_map(|p| p.split_once('='))
            .filter(|(k, _)| k.eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim_matches('"').to_ascii_lowercase())
            .collect();
        if essence.starts_with("text/") {
            assert_eq!(
                charset,
                BTreeSet::from(["utf-8".to_string()]),
                "{path}: charset in {ct:?}"
            );
        }
        if rel == "a.html" {
            assert_eq!(ct, "text/html; charset=utf-8");
        }
        assert_eq!(
            r.header_all("x-content-type-options"),
            ["nosniff"],
            "{path}: nosniff"
        );
    }
    // A 206 carries the same content headers.
    let r = get(&f.server, "/a.css", &[("Range", "bytes=0-0")]);
    assert_status(&r, 206, "a.css bytes=0-0");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn allowed_extensions_carry_the_dot_match_any_case_and_unknown_types_are_octet_stream() {
    let server = Server::builder()
        .config("[files]\nallowed_extensions = [\".HTML\", \".Bin\", \".txt\"]\n")
        .file("a.html", b"<p>a</p>")
        .file("b.BIN", b"\x00\x01")
        .file("c.bin", b"\x02\x03")
        .file("d.TXT", b"text")
        .file("e.css", b"p{}")
        .file("f.png", TINY_PNG)
        .start();
    let r = server.get("/a.html");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    for path in ["/b.BIN", "/c.bin"] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            r.header("content-type"),
            Some("application/octet-stream"),
            "{path}"
        );
    }
    let r = server.get("/d.TXT");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"text"[..]));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(
        server.get("/e.css").status,
        403,
        "not in the configured list"
    );
    assert_eq!(
        server.get("/f.png").status,
        403,
        "not in the configured list"
    );
}
