//! Proof against an outside judge: REDbot ("lint for HTTP", `.venv/bin/redbot`, installed
//! by scripts/setup-test-deps.sh) checks staticd serving the example site with the bundled
//! config's `[[rules]]`, on an HTML page, two images and both video files. No note may be of level
//! BAD; REDbot must confirm ranges and both kinds of revalidation; the warnings are printed.
//!
//! Each run is given one 127.0.0.1 URL and no `-a`, so REDbot requests that URL only.
//!
//! The warnings that remain (REDbot 2.7.1), and why they stay:
//! - STORE_PUBLIC_UNNECESSARY on images/ and media/: the bundled config's example rules say
//!   `public, max-age=3600`; `public` only matters for authenticated responses. It is what the
//!   config asks for, shown as an example of the rules; staticd sends what it is told.
//! - CONTENT_TYPE_MISMATCH on media/clip.webm and media/clip.mp4: REDbot's sniffer (sniffpy 1.0)
//!   has no audio/video signatures and reports `undefined/undefined` for any WebM or MP4 file
//!   (checked directly with sniffpy on these files); `file` confirms WebM and ISO MP4, which is what
//!   staticd declares.
//!
//! Without a Cache-Control rule REDbot adds FRESHNESS_HEURISTIC (caches may pick their own
//! lifetime from Last-Modified) — the bundled config's rules are there to answer that.

use crate::common::*;
use serde_json::Value;
use std::io::Read;

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const RUN_TIMEOUT: Duration = Duration::from_secs(90);

/// The `[[rules]]` tables of config/staticd.toml, as shipped.
fn bundled_rules() -> String {
    let text = std::fs::read_to_string(repo_root().join("config/staticd.toml"))
        .expect("read config/staticd.toml");
    let start = text
        .find("\n[[rules]]")
        .expect("config/staticd.toml has [[rules]] examples");
    text[start..].to_string()
}

/// One note of a REDbot run, subnotes flattened.
#[derive(Debug)]
struct Note {
    level: String,
    id: String,
    summary: String,
}

fn collect_notes(notes: &Value, into: &mut Vec<Note>) {
    for note in notes.as_array().into_iter().flatten() {
        into.push(Note {
            level: note["level"].as_str().unwrap_or("?").to_ascii_uppercase(),
            id: note["note_id"].as_str().unwrap_or("?").to_string(),
            summary: note["summary"].as_str().unwrap_or_default().to_string(),
        });
        collect_notes(&note["subnotes"], into);
    }
}

/// Runs `redbot -o har URL` (bounded) and returns the HAR entry for `url` with its notes.
fn redbot(url: &str) -> (Value, Vec<Note>) {
    let exe = repo_root().join(".venv/bin/redbot");
    assert!(
        exe.exists(),
        "{} is missing: run `bash scripts/setup-test-deps.sh`",
        exe.display()
    );
    let mut child = Command::new(&exe)
        .args(["-o", "har", url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redbot");
    let mut stdout = child.stdout.take().expect("stdout piped");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let out_reader = thread::spawn(move || {
        let mut buf = String::new();
        let _ = stdout.read_to_string(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        buf
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for redbot") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redbot {url} did not finish within {RUN_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let out = out_reader.join().expect("stdout reader");
    let err = err_reader.join().expect("stderr reader");
    assert!(status.success(), "redbot {url}: {status}\n{err}");
    let har: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("redbot {url}: HAR is not JSON ({e}): {out:.1000}\n{err}"));
    // REDbot exits 0 even when it could not reach the server: an empty entry list is a failure.
    let entries = har["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !entries.is_empty(),
        "redbot {url}: no HAR entry (error: {})\n{err}",
        har["log"]["_red_error"]
    );
    let entry = entries
        .into_iter()
        .find(|e| e["request"]["url"] == url)
        .unwrap_or_else(|| panic!("redbot {url}: no entry for the URL in {har}"));
    let mut notes = Vec::new();
    collect_notes(&entry["_red_messages"], &mut notes);
    (entry, notes)
}

#[test]
fn redbot_finds_nothing_bad_on_a_page_images_and_videos() {
    let site = repo_root().join("site");
    let server = Server::builder()
        .config(&format!(
            "[server]\nroot = {}\n{}",
            toml_literal(&site.display().to_string()),
            bundled_rules()
        ))
        .start();
    // The page's gzip encoding is made on the fly in the background: once it is made, REDbot's
    // gzip request gets it (before, it gets the page itself, as a client would).
    let made = wait_until(Duration::from_secs(10), || {
        let raw = format!(
            "GET /index.html HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: gzip\r\n\r\n",
            server.host()
        );
        server.request(raw.as_bytes()).header("content-encoding") == Some("gzip")
    });
    assert!(made, "no gzip encoding of index.html within 10 s");
    let mut warnings = Vec::new();
    for path in [
        "/index.html",
        "/images/landscape.jpg",
        "/images/logo.svg",
        "/media/clip.webm",
        "/media/clip.mp4",
    ] {
        let url = server.url(path);
        let (entry, notes) = redbot(&url);
        assert_eq!(
            entry["response"]["status"].as_u64(),
            Some(200),
            "redbot {path}: status"
        );
        let bad: Vec<&Note> = notes.iter().filter(|n| n.level == "BAD").collect();
        assert!(bad.is_empty(), "redbot {path}: BAD notes {bad:#?}");
        // Ranges (RFC 9110 §14) and both validators (§13.1.2, §13.1.3) confirmed by the judge: a
        // correct partial response and a 304 for each.
        for wanted in [
            "RANGE_CORRECT",
            "INM_304",
            "IMS_304",
            "CL_CORRECT",
            "DATE_CORRECT",
        ] {
            assert!(
                notes.iter().any(|n| n.id == wanted && n.level == "GOOD"),
                "redbot {path}: no GOOD {wanted}; notes {notes:#?}"
            );
        }
        // Content negotiation (RFC 9110 §12.5.3) judged good: gzip decodes to the same body, the
        // same type, Vary on both, a different ETag.
        if path == "/index.html" {
            assert!(
                notes
                    .iter()
                    .any(|n| n.id == "CONNEG_GZIP_GOOD" && n.level == "GOOD"),
                "redbot {path}: no GOOD CONNEG_GZIP_GOOD; notes {notes:#?}"
            );
        }
        for note in notes.iter().filter(|n| n.level == "WARN") {
            warnings.push(format!("{path}: WARN {} — {}", note.id, note.summary));
        }
    }
    println!("REDbot warnings ({}):", warnings.len());
    for warning in &warnings {
        println!("  {warning}");
    }
    // REDbot's several requests per URL all reached staticd (4-6 each, one of them a 206).
    let lines = server.wait_access_log_lines(5 * 4, Duration::from_secs(3));
    assert!(
        lines
            .iter()
            .filter_map(|l| parse_access_line(l))
            .any(|l| l.status == 206 && l.request.contains("/media/clip.webm")),
        "no 206 for REDbot's range check of the video in the access log: {lines:#?}"
    );
}
