//! Which files are served by extension: the built-in list covers what a web site serves, each
//! with its media type (RFC 9110 §8.3); `["*"]` serves every file; an empty list is refused.

use crate::common::*;
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
        .start();
    for (name, mime) in WEB_FILES {
        let response = server.get(&format!("/{name}"));
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.header("content-type"), Some(*mime), "{name}");
        assert_eq!(response.body, name.as_bytes(), "{name}");
    }
    for refused in ["/tool.exe", "/run.sh", "/index.php", "/Makefile"] {
        assert_eq!(server.get(refused).status, 403, "{refused}");
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
    let config: staticd_core::config::Config = toml::from_str(&text).expect("parses");
    let listed: Vec<&str> = config
        .files
        .allowed_extensions
        .iter()
        .map(|e| e.as_str())
        .collect();
    assert_eq!(
        listed,
        staticd_core::config::DEFAULT_ALLOWED_EXTENSIONS,
        "config/staticd.toml says its values are the defaults"
    );
}
