//! How long `staticd check` takes on a site of 5,001 pages.
//!
//! `cargo bench -p staticd --bench check` generates the site in a temporary directory: a home
//! page and 50 sections of an index and 99 pages. Each page links a stylesheet, a script, two
//! images (one in a `srcset`), its section's index, ten pages of its section with fragments and
//! one page of the next section; the stylesheet has a `url()`. It runs the release `staticd check
//! --format json` on it three times and prints each time and the median. The site is clean: a run
//! that exits non-zero, or reads another number of pages, is a failure, not a figure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SECTIONS: usize = 50;
const PAGES_PER_SECTION: usize = 100;
const RUNS: usize = 3;

fn main() {
    let root = std::env::temp_dir().join(format!("staticd-check-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let pages = generate(&root);
    let mut times = Vec::with_capacity(RUNS);
    let mut failure = None;
    let mut references = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_staticd"))
            .args(["check", "--format", "json"])
            .arg(&root)
            .output()
            .expect("run staticd check");
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let read_pages = count(&stdout, "pages");
        references = count(&stdout, "references").unwrap_or(0);
        if !output.status.success() || read_pages != Some(pages) {
            failure = Some(format!(
                "exit {:?}, pages {read_pages:?} of {pages}\n{}{}",
                output.status.code(),
                stdout.chars().take(2000).collect::<String>(),
                String::from_utf8_lossy(&output.stderr)
            ));
            break;
        }
        times.push(elapsed);
    }
    let _ = std::fs::remove_dir_all(&root);
    if let Some(failure) = failure {
        eprintln!("staticd check on {pages} pages FAILED: {failure}");
        std::process::exit(1);
    }
    times.sort();
    let runs: Vec<String> = times
        .iter()
        .map(|t| format!("{:.3} s", t.as_secs_f64()))
        .collect();
    println!(
        "staticd check, {pages} pages, {references} references: median {:.3} s (runs: {})",
        times
            .get(times.len() / 2)
            .copied()
            .unwrap_or(Duration::ZERO)
            .as_secs_f64(),
        runs.join(", ")
    );
}

/// The number after `"key":` in the JSON report.
fn count(json: &str, key: &str) -> Option<usize> {
    let rest = json.split(&format!("\"{key}\":")).nth(1)?;
    rest.trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Writes the site under `root`; returns the number of pages.
fn generate(root: &Path) -> usize {
    write(root, "favicon.ico", b"\0\0\x01\0");
    write(root, "img/logo.png", b"\x89PNG\r\n\x1a\n");
    write(root, "img/bg.png", b"\x89PNG\r\n\x1a\n");
    write(root, "js/app.js", b"console.log('hi');\n");
    write(
        root,
        "css/site.css",
        b"body { background: url(../img/bg.png) }\n",
    );
    let mut home = page_head("Home", "");
    for s in 0..SECTIONS {
        let _ = writeln!(home, "<a href=\"s{s}/\">Section {s}</a>");
    }
    home.push_str("</body></html>\n");
    write(root, "index.html", home.as_bytes());
    let mut pages = 1;
    for s in 0..SECTIONS {
        let next = (s + 1) % SECTIONS;
        let mut index = page_head(&format!("Section {s}"), "../");
        for p in 0..PAGES_PER_SECTION - 1 {
            let _ = writeln!(index, "<li><a href=\"p{p}.html\">Page {p}</a></li>");
        }
        index.push_str("</body></html>\n");
        write(root, &format!("s{s}/index.html"), index.as_bytes());
        pages += 1;
        for p in 0..PAGES_PER_SECTION - 1 {
            let mut html = page_head(&format!("Page {s}.{p}"), "../");
            let _ = writeln!(
                html,
                "<a href=\"./\">Section {s}</a> <a href=\"/\">Home</a>"
            );
            for k in 1..=10 {
                let other = (p + k) % (PAGES_PER_SECTION - 1);
                let _ = writeln!(
                    html,
                    "<p id=\"para{k}\">Paragraph {k} links <a href=\"p{other}.html#para{k}\">page {other}</a>.</p>"
                );
            }
            let _ = writeln!(
                html,
                "<a href=\"../s{next}/p{p}.html\">next section</a>\n<img src=\"../img/logo.png\" alt=\"\">"
            );
            html.push_str("</body></html>\n");
            write(root, &format!("s{s}/p{p}.html"), html.as_bytes());
            pages += 1;
        }
    }
    pages
}

fn page_head(title: &str, up: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"{up}css/site.css\"><link rel=\"icon\" href=\"/favicon.ico\">\n\
         <script src=\"{up}js/app.js\" defer></script></head><body>\n\
         <header><img src=\"{up}img/logo.png\" srcset=\"{up}img/logo.png 1x, {up}img/bg.png 2x\" alt=\"\"></header>\n"
    )
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path: PathBuf = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create directory");
    }
    std::fs::write(&path, bytes).expect("write file");
}
