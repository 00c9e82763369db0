//! `[[rules]]`: Cache-Control (RFC 9111 §5.2) and extra header fields on the files a pattern
//! matches, first match wins.

use crate::common::*;
use crate::conditional::{
    Fields, PROBE, assert_not_modified, assert_status, get, send_then_probe, serve_root,
    strong_etag,
};

/// `cache_defaults = false`: these tests are about the rules alone (the defaults, and rules over
/// them, are tested in `serving`).
const RULES: &str = r#"
[files]
cache_defaults = false

[[rules]]
pattern = "*.html"
cache_control = "no-cache"

[[rules]]
pattern = "assets/**"
cache_control = "public, max-age=31536000, immutable"

[[rules]]
pattern = "*.woff2"
[rules.headers]
Access-Control-Allow-Origin = "*"
"#;

#[test]
fn rules_set_cache_control_and_extra_headers_on_matching_files_only() {
    let root = TempDir::new();
    for rel in [
        "index.html",
        "sub/page.html",
        "assets/app.js",
        "assets/css/site.css",
        "assets/fonts/a.woff2",
        "fonts/b.woff2",
        "notes.txt",
        "assetsx/c.js",
    ] {
        root.write(rel, format!("content of {rel}\n").as_bytes());
    }
    root.write("probe.txt", PROBE);
    let f = serve_root(root, RULES);
    let immutable = Some("public, max-age=31536000, immutable");
    for (path, cache_control, cors) in [
        ("/index.html", Some("no-cache"), None),
        ("/", Some("no-cache"), None),
        ("/sub/page.html", Some("no-cache"), None),
        ("/assets/app.js", immutable, None),
        ("/assets/css/site.css", immutable, None),
        ("/assets/fonts/a.woff2", immutable, Some("*")),
        ("/fonts/b.woff2", None, Some("*")),
        ("/notes.txt", None, None),
        ("/assetsx/c.js", None, None),
    ] {
        for method in ["GET", "HEAD"] {
            let what = format!("{method} {path}");
            let r = send_then_probe(&f.server, method, path, &[]);
            assert_status(&r, 200, &what);
            assert_eq!(
                r.header_all("cache-control"),
                Vec::from_iter(cache_control),
                "{what}: Cache-Control"
            );
            assert_eq!(
                r.header_all("access-control-allow-origin"),
                Vec::from_iter(cors),
                "{what}: Access-Control-Allow-Origin"
            );
        }
        // The same headers on a 304 (RFC 9110 §15.4.5: Cache-Control is sent on a 304).
        let full = get(&f.server, path, &[]);
        let etag = strong_etag(&full, path);
        let r = send_then_probe(&f.server, "GET", path, &[("If-None-Match", etag.as_str())]);
        assert_not_modified(&r, &full, &format!("{path} revalidated"));
    }
}

#[test]
fn the_first_matching_rule_sets_cache_control_and_a_leading_slash_anchors() {
    // config/staticd.toml: "The first matching rule with cache_control sets Cache-Control; every
    // matching rule adds its headers ... a leading "/" anchors it to the root."
    let root = TempDir::new();
    for rel in [
        "assets/app.js",
        "assets/app.css",
        "top.html",
        "sub/top.html",
    ] {
        root.write(rel, b"x\n");
    }
    let f = serve_root(
        root,
        r#"
[files]
cache_defaults = false

[[rules]]
pattern = "*.js"
cache_control = "no-store"
[rules.headers]
X-Rule = "js"

[[rules]]
pattern = "assets/**"
cache_control = "public, max-age=31536000, immutable"
[rules.headers]
X-Assets = "yes"

[[rules]]
pattern = "/top.html"
cache_control = "no-cache"
"#,
    );
    let cases: [(&str, Option<&str>, Fields); 4] = [
        (
            "/assets/app.js",
            Some("no-store"),
            &[("x-rule", "js"), ("x-assets", "yes")],
        ),
        (
            "/assets/app.css",
            Some("public, max-age=31536000, immutable"),
            &[("x-assets", "yes")],
        ),
        ("/top.html", Some("no-cache"), &[]),
        ("/sub/top.html", None, &[]),
    ];
    for (path, cache_control, extra) in cases {
        let r = get(&f.server, path, &[]);
        assert_status(&r, 200, path);
        assert_eq!(
            r.header_all("cache-control"),
            Vec::from_iter(cache_control),
            "{path}"
        );
        for name in ["x-rule", "x-assets"] {
            let expected: Vec<&str> = extra
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(r.header_all(name), expected, "{path}: {name}");
        }
    }
}
