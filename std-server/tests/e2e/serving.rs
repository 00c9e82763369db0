//! What a site's author configures beyond the files: error pages per status, the fallback of a
//! single-page app, directory listings, and the default caching that knows fingerprinted names
//! (the `[files]` keys `error_pages`, `fallback`, `directory_listing`, `listing_page_entries`,
//! `cache_defaults`).

use crate::common::*;
use std::time::Duration;

/// What Chromium sends for a navigation.
const NAVIGATION: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
/// What Chromium sends for an `<img>`.
const IMAGE: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

fn ask(server: &Server, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", server.host());
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    server.request(raw.as_bytes())
}

const NOT_FOUND_PAGE: &[u8] = b"<!DOCTYPE html><title>Lost</title><p>No such page here.</p>\n";
const FORBIDDEN_PAGE: &[u8] = b"You may not have this one.\n";

// Error pages
// ---------------------------------------------------------------------------------------------

#[test]
fn error_pages_keep_their_status_and_type_are_never_cached_and_head_gets_the_head() {
    let server = Server::builder()
        .config("[files]\nerror_pages = { 404 = \"404.html\", 403 = \"errors/forbidden.txt\" }\n")
        .files(&[
            ("index.html", b"<p>home</p>"),
            ("404.html", NOT_FOUND_PAGE),
            ("errors/forbidden.txt", FORBIDDEN_PAGE),
            ("tool.exe", b"MZ"),
        ])
        .start();
    for (path, status, body, content_type) in [
        (
            "/missing.html",
            404,
            NOT_FOUND_PAGE,
            "text/html; charset=utf-8",
        ),
        (
            "/no/such/dir/",
            404,
            NOT_FOUND_PAGE,
            "text/html; charset=utf-8",
        ),
        (
            "/.git/config",
            404,
            NOT_FOUND_PAGE,
            "text/html; charset=utf-8",
        ),
        (
            "/tool.exe",
            403,
            FORBIDDEN_PAGE,
            "text/plain; charset=utf-8",
        ),
    ] {
        let r = ask(&server, "GET", path, &[("Accept", NAVIGATION)]);
        assert_eq!(r.status, status, "GET {path}");
        assert_eq!(r.body, body, "GET {path}: the configured page");
        assert_eq!(r.header("content-type"), Some(content_type), "GET {path}");
        assert_eq!(r.content_length(), Some(body.len() as u64), "GET {path}");
        // RFC 9111 §5.2.2.5: no cache may store it; and no validator of the page file that a
        // cache could attach to the URL.
        assert_eq!(r.header("cache-control"), Some("no-store"), "GET {path}");
        assert_eq!(r.header("etag"), None, "GET {path}");
        assert_eq!(r.header("last-modified"), None, "GET {path}");
        assert_common_headers(&format!("GET {path}"), &r, "staticd");
        let head = ask(&server, "HEAD", path, &[]);
        assert_eq!(head.status, status, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path}");
        assert_eq!(
            head.content_length(),
            Some(body.len() as u64),
            "HEAD {path}"
        );
        assert_eq!(
            head.header("cache-control"),
            Some("no-store"),
            "HEAD {path}"
        );
    }
    // A conditional request naming the page's own tag is still the 404, never a 304.
    let r = ask(&server, "GET", "/missing.html", &[("If-None-Match", "*")]);
    assert_eq!(r.status, 404);
    // A status without a page keeps the built-in one.
    let r = ask(&server, "DELETE", "/index.html", &[]);
    assert_eq!(r.status, 405);
    assert!(
        r.text().contains("<h1>405 Method Not Allowed</h1>"),
        "{}",
        r.text()
    );
    // The page removed while serving: the built-in page, once the file source has seen it go.
    std::fs::remove_file(server.site().join("404.html")).unwrap();
    let builtin = wait_until(Duration::from_secs(5), || {
        let r = server.get("/missing.html");
        r.status == 404 && r.text().contains("<h1>404 Not Found</h1>")
    });
    assert!(builtin, "a vanished error page gives the built-in one");
    assert_still_serves(
        &server,
        "/index.html",
        b"<p>home</p>",
        "the error page went away",
    );
}

#[test]
fn a_missing_error_page_or_fallback_is_a_startup_error_naming_the_key() {
    for (config, key, why) in [
        (
            "[files]\nerror_pages = { 404 = \"nope.html\" }\n",
            "files.error_pages.404",
            "no such file",
        ),
        (
            "[files]\nfallback = \"app/index.html\"\n",
            "files.fallback",
            "no such file",
        ),
        (
            "[files]\nerror_pages = { 403 = \"errors\" }\n",
            "files.error_pages.403",
            "a directory",
        ),
        (
            "[files]\nerror_pages = { 200 = \"index.html\" }\n",
            "error_pages",
            "from 400 to 599",
        ),
        (
            "[files]\nfallback = \"../index.html\"\n",
            "files.fallback",
            "below the root",
        ),
        // A page the server would not serve is refused at start, not skipped at run time.
        (
            "[files]\nerror_pages = { 404 = \".private/404.html\" }\n",
            "files.error_pages.404",
            "files.deny_dotfiles",
        ),
        (
            "[files]\nerror_pages = { 500 = \"500.tpl\" }\n",
            "files.error_pages.500",
            "files.allowed_extensions",
        ),
    ] {
        let failure = Server::builder()
            .config(config)
            .file("index.html", b"<p>home</p>")
            .file(".private/404.html", b"<p>hidden</p>")
            .file("500.tpl", b"<p>template</p>")
            .dir("errors")
            .try_start()
            .err()
            .unwrap_or_else(|| panic!("{config}: started"));
        assert_eq!(
            failure.status.and_then(|s| s.code()),
            Some(2),
            "{config}: {failure:?}"
        );
        assert!(failure.stderr.contains(key), "{config}: {}", failure.stderr);
        assert!(failure.stderr.contains(why), "{config}: {}", failure.stderr);
        assert!(!failure.stderr.contains("panicked"), "{}", failure.stderr);
    }
}

// The fallback of a single-page app
// ---------------------------------------------------------------------------------------------

const APP: &[u8] =
    b"<!DOCTYPE html><title>App</title><div id=view></div><script src=/app.js></script>\n";

#[test]
fn the_fallback_answers_navigations_only_and_says_it_varies_on_accept() {
    let server = Server::builder()
        .config("[files]\nfallback = \"index.html\"\nerror_pages = { 404 = \"404.html\" }\n")
        .files(&[
            ("index.html", APP),
            ("app.js", b"/* app */"),
            ("404.html", NOT_FOUND_PAGE),
            ("docs/guide.html", b"<p>guide</p>"),
        ])
        .start();
    for path in ["/route/x", "/route/x/", "/users/42/settings", "/docs/"] {
        for method in ["GET", "HEAD"] {
            let r = ask(&server, method, path, &[("Accept", NAVIGATION)]);
            let what = format!("{method} {path}");
            assert_eq!(r.status, 200, "{what}");
            assert_eq!(r.header("vary"), Some("Accept"), "{what}");
            assert_eq!(
                r.header("content-type"),
                Some("text/html; charset=utf-8"),
                "{what}"
            );
            assert_eq!(r.content_length(), Some(APP.len() as u64), "{what}");
            assert_eq!(
                r.header("cache-control"),
                Some("no-cache"),
                "{what}: HTML's default"
            );
            let body: &[u8] = if method == "GET" { APP } else { b"" };
            assert_eq!(r.body, body, "{what}");
        }
    }
    // A file that is missing stays a 404 with the error page, never the app's HTML: by its
    // extension, or because the request is not a navigation.
    for (path, accept) in [
        ("/missing.js", NAVIGATION),
        ("/assets/site.css", NAVIGATION),
        ("/img/logo.png", IMAGE),
        ("/img/logo.png", NAVIGATION),
        ("/route/x", IMAGE),
        ("/route/x", "*/*"),
        ("/route/x", "application/json"),
        ("/route/x", "text/html;q=0, */*"),
        ("/docs/gone.html", NAVIGATION),
    ] {
        let r = ask(&server, "GET", path, &[("Accept", accept)]);
        assert_eq!(r.status, 404, "GET {path} Accept {accept}");
        assert_eq!(r.body, NOT_FOUND_PAGE, "GET {path} Accept {accept}");
    }
    // The 404 for a path the fallback could have answered also depended on Accept.
    let r = ask(&server, "GET", "/route/x", &[("Accept", "*/*")]);
    assert_eq!(r.header("vary"), Some("Accept"));
    let r = server.get("/route/x");
    assert_eq!(r.status, 404, "no Accept: not a navigation");
    // Other methods, hidden paths and real files are untouched.
    let r = ask(&server, "POST", "/route/x", &[("Accept", NAVIGATION)]);
    assert_eq!(r.status, 405);
    let r = ask(&server, "GET", "/.env", &[("Accept", NAVIGATION)]);
    assert_eq!(r.status, 404);
    let r = ask(
        &server,
        "GET",
        "/docs/guide.html",
        &[("Accept", NAVIGATION)],
    );
    assert_eq!((r.status, r.body.as_slice()), (200, &b"<p>guide</p>"[..]));
    let varies_on_accept = r.header_all("vary").iter().any(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("accept"))
    });
    assert!(!varies_on_accept, "a real file does not depend on Accept");
    // Revalidation of the fallback answer works as for the file itself.
    let first = ask(&server, "GET", "/route/y", &[("Accept", NAVIGATION)]);
    let etag = first
        .header("etag")
        .expect("the fallback has its file's ETag");
    let r = ask(
        &server,
        "GET",
        "/route/y",
        &[("Accept", NAVIGATION), ("If-None-Match", etag)],
    );
    assert_eq!(r.status, 304);
    assert_eq!(r.header("vary"), Some("Accept"), "a 304 repeats Vary");
}

// Directory listings
// ---------------------------------------------------------------------------------------------

const EVIL: &str = "<img src=x onerror=alert(1)>.html";

fn listing_server(extra: &str) -> Server {
    Server::builder()
        .config(&format!("[files]\ndirectory_listing = true\n{extra}"))
        .files(&[
            ("pub/b.txt", b"bee\n"),
            (&format!("pub/{EVIL}"), b"<p>evil</p>"),
            ("pub/a & b.css", b"p{}"),
            ("pub/.hidden.txt", b"secret"),
            ("pub/tool.exe", b"MZ"),
            ("pub/zz/c.txt", b"c"),
            ("pub/.git/HEAD", b"ref"),
            ("site/index.html", b"<p>indexed</p>"),
        ])
        .dir("empty")
        .start()
}

#[test]
fn html_listing_escapes_names_sorts_and_leaves_out_hidden_and_refused_files() {
    let server = listing_server("");
    let r = ask(&server, "GET", "/pub/", &[("Accept", NAVIGATION)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("vary"), Some("Accept"));
    assert_eq!(r.content_length(), Some(r.body.len() as u64));
    let html = r.text();
    // The name is text, not markup: no `<img` anywhere, the escaped form in the link text.
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;.html</a>"),
        "{html}"
    );
    assert!(html.contains(">a &amp; b.css</a>"), "{html}");
    for hidden in ["hidden", ".git", "tool.exe", "secret"] {
        assert!(!html.contains(hidden), "{hidden} is listed: {html}");
    }
    let order: Vec<usize> = ["&lt;img", ">a &amp; b.css<", ">b.txt<", ">zz/<"]
        .iter()
        .map(|name| {
            html.find(name)
                .unwrap_or_else(|| panic!("{name} missing: {html}"))
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "byte order of names: {html}");
    assert!(html.contains("<td>4</td>"), "b.txt's size: {html}");
    // Each link is a working relative URL.
    let href = html
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|h| h.ends_with(".html"))
        .expect("the link to the strange file");
    assert!(!href.contains('<') && !href.contains(' '), "{href}");
    let r = server.get(&format!("/pub/{href}"));
    assert_eq!((r.status, r.body.as_slice()), (200, &b"<p>evil</p>"[..]));
    // HEAD: the same length, no body.
    let head = ask(&server, "HEAD", "/pub/", &[("Accept", NAVIGATION)]);
    assert_eq!(head.content_length(), Some(html.len() as u64));
    assert!(head.body.is_empty());
    // An index file still wins; an empty directory lists nothing; a hidden one is 404.
    assert_eq!(server.get("/site/").body, b"<p>indexed</p>");
    let r = ask(&server, "GET", "/empty/", &[("Accept", "application/json")]);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("\"entries\":[\n]}"), "{}", r.text());
    assert_eq!(server.get("/pub/.git/").status, 404);
}

#[test]
fn json_listing_parses_with_names_types_sizes_and_dates() {
    let server = listing_server("");
    let r = ask(&server, "GET", "/pub/", &[("Accept", "application/json")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value =
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()));
    assert_eq!(v["path"], "/pub/");
    assert_eq!(
        (v["page"].as_u64(), v["pages"].as_u64()),
        (Some(1), Some(1))
    );
    let entries = v["entries"].as_array().expect("entries");
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "<img src=x onerror=alert(1)>.html",
            "a & b.css",
            "b.txt",
            "zz"
        ]
    );
    let b = &entries[2];
    assert_eq!(
        (b["type"].as_str(), b["size"].as_u64()),
        (Some("file"), Some(4))
    );
    let mtime = std::fs::metadata(server.site().join("pub/b.txt"))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(b["modified"].as_u64(), Some(mtime));
    assert_eq!(entries[3]["type"], "directory");
    // A browser's Accept still gets HTML; `*/*` too.
    let r = ask(&server, "GET", "/pub/", &[("Accept", "*/*")]);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[test]
fn a_listing_is_paged_and_off_by_default() {
    let server = listing_server("listing_page_entries = 3\n");
    let page = |n: &str| {
        let r = ask(
            &server,
            "GET",
            &format!("/pub/{n}"),
            &[("Accept", "application/json")],
        );
        (
            r.status,
            serde_json::from_slice::<serde_json::Value>(&r.body).ok(),
        )
    };
    let (status, first) = page("");
    assert_eq!(status, 200);
    let first = first.unwrap();
    assert_eq!(
        (
            first["pages"].as_u64(),
            first["entries"].as_array().unwrap().len()
        ),
        (Some(2), 3)
    );
    let (status, second) = page("?page=2");
    assert_eq!(status, 200);
    let second = second.unwrap();
    assert_eq!(second["entries"][0]["name"], "zz");
    assert_eq!(page("?page=3").0, 404);
    assert_eq!(page("?page=0").0, 400);
    assert_eq!(page("?page=x").0, 400);
    let html = ask(&server, "GET", "/pub/", &[]).text();
    assert!(
        html.contains("Page 1 of 2") && html.contains("href=\"?page=2\""),
        "{html}"
    );

    let off = Server::builder().file("pub/b.txt", b"bee\n").start();
    assert_eq!(off.get("/pub/").status, 404, "listings are opt-in");
}

// Caching defaults
// ---------------------------------------------------------------------------------------------

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[test]
fn default_cache_control_knows_fingerprints_html_and_the_rest_and_rules_override() {
    let files: &[(&str, &[u8])] = &[
        ("index.html", b"<p>home</p>"),
        ("assets/app.3f9a1c2e.js", b"1"),
        ("assets/chunk-5QZ2X7.css", b"2"),
        ("assets/app.js", b"3"),
        ("photo-20240101.png", TINY_PNG),
        ("notes.txt", b"4"),
        ("fonts/f.3f9a1c2e.woff2", b"5"),
    ];
    let server = Server::builder()
        .config("[[rules]]\npattern = \"fonts/*\"\ncache_control = \"max-age=60\"\n")
        .files(files)
        .start();
    for (path, expected) in [
        ("/assets/app.3f9a1c2e.js", IMMUTABLE),
        ("/assets/chunk-5QZ2X7.css", IMMUTABLE),
        ("/index.html", "no-cache"),
        ("/", "no-cache"),
        ("/assets/app.js", "max-age=300"),
        ("/photo-20240101.png", "max-age=300"),
        ("/notes.txt", "max-age=300"),
        ("/fonts/f.3f9a1c2e.woff2", "max-age=60"),
    ] {
        for method in ["GET", "HEAD"] {
            let r = ask(&server, method, path, &[]);
            assert_eq!(r.status, 200, "{method} {path}");
            assert_eq!(r.header_all("cache-control"), [expected], "{method} {path}");
        }
        let etag = server.get(path).header("etag").unwrap().to_owned();
        let r = ask(&server, "GET", path, &[("If-None-Match", &etag)]);
        assert_eq!(r.status, 304);
        assert_eq!(r.header("cache-control"), Some(expected), "304 {path}");
    }

    let off = Server::builder()
        .config("[files]\ncache_defaults = false\n")
        .files(files)
        .start();
    for path in ["/assets/app.3f9a1c2e.js", "/index.html", "/notes.txt"] {
        assert_eq!(off.get(path).header("cache-control"), None, "{path}");
    }
}
