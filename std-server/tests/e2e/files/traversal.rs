//! Paths: traversal in every spelling (RFC 3986 §5.2.4 dot-segments, percent-encoding, backslashes,
//! NUL) never reaches a file outside the root, symlinks follow `follow_symlinks`, dotfiles and
//! dot-directories are denied except the configured exceptions. Every refused target is a 4xx —
//! never a redirect, never a 200, never a silent close.

use crate::common::fixtures::A;
use crate::common::*;
use std::os::unix::fs::symlink;
use std::time::Duration;

/// The secret's bytes: a hit anywhere in a response is a leak.
const SECRET: &[u8] = b"SECRET-7d3f9a-OUTSIDE-THE-ROOT\n";
const INSIDE: &[u8] = b"inside the root\n";
const PAGE: &[u8] = b"<p>page in a</p>\n";

/// A site with `inside.txt` and `a/page.html`; next to the root (outside it): `secret.txt`,
/// `secret.html`, `outside/secret.txt` and `site2/secret.txt` (a sibling whose name starts with the
/// root's, for resolvers that compare path strings by prefix).
fn server_with_secret(config: &str) -> Server {
    let server = Server::builder()
        .config(config)
        .file("inside.txt", INSIDE)
        .file("a/page.html", PAGE)
        .file("a/b/deep.txt", INSIDE)
        .file("index.html", b"<p>index</p>")
        .start();
    let dir = server.dir();
    std::fs::write(dir.join("secret.txt"), SECRET).unwrap();
    std::fs::write(dir.join("secret.html"), SECRET).unwrap();
    std::fs::create_dir_all(dir.join("outside")).unwrap();
    std::fs::write(dir.join("outside/secret.txt"), SECRET).unwrap();
    std::fs::create_dir_all(dir.join("site2")).unwrap();
    std::fs::write(dir.join("site2/secret.txt"), SECRET).unwrap();
    server
}

/// The target is refused with a 4xx carrying none of the secret's bytes.
fn assert_refused(server: &Server, target: &[u8]) {
    let shown = String::from_utf8_lossy(target);
    let r = server
        .try_get_raw(target)
        .unwrap_or_else(|e| panic!("{shown:?}: no response (a silent close is not allowed): {e}"));
    assert!(
        find(&r.head, SECRET).is_none() && find(&r.body, SECRET).is_none(),
        "{shown:?}: LEAKED the secret outside the root (status {})",
        r.status
    );
    assert!(
        (400..500).contains(&r.status),
        "{shown:?}: expected a 4xx, got {} {} (Location {:?})",
        r.status,
        r.reason,
        r.header("location")
    );
}

fn assert_served(server: &Server, target: &[u8], body: &[u8]) {
    let shown = String::from_utf8_lossy(target);
    let r = server
        .try_get_raw(target)
        .unwrap_or_else(|e| panic!("{shown:?}: no response: {e}"));
    assert_eq!(r.status, 200, "{shown:?}: expected 200, got {}", r.status);
    assert!(r.body == body, "{shown:?}: wrong body {:?}", r.text());
}

/// Traversal spellings aimed at `secret.txt`, `secret.html`, `outside/` and `site2/` next to the
/// root, or at /etc/passwd further up.
const TRAVERSALS: &[&[u8]] = &[
    // plain dot-dot
    b"/../secret.txt",
    b"/../secret.html",
    b"/a/../../secret.txt",
    b"/a/b/../../../secret.txt",
    b"/..",
    b"/../",
    b"/../outside/secret.txt",
    b"/../site2/secret.txt",
    b"/../../../../../../../../etc/passwd",
    // percent-encoded dots, every case mix
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/%2e%2E/secret.txt",
    b"/%2E%2e/secret.html",
    b"/.%2e/secret.txt",
    b"/%2e./secret.txt",
    b"/.%2E/./secret.txt",
    b"/%2e/%2e%2e/secret.txt",
    b"/a/%2e%2e/%2e%2e/secret.txt",
    b"/%2e%2e",
    b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    // encoded slashes around dot-dot
    b"/..%2fsecret.txt",
    b"/..%2Fsecret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/%2e%2e%2f%2e%2e%2fsecret.txt",
    b"/a%2f..%2f..%2fsecret.txt",
    b"//..%2f..%2fsecret.txt",
    // double-encoded
    b"/%252e%252e/secret.txt",
    b"/%252E%252E%252Fsecret.txt",
    b"/..%252fsecret.txt",
    b"/..%255csecret.txt",
    b"/%25%32%65%25%32%65/secret.txt",
    // overlong and look-alike UTF-8
    b"/%c0%ae%c0%ae/secret.txt",
    b"/%c0%ae%c0%ae%c0%afsecret.txt",
    b"/%e0%80%ae%e0%80%ae/secret.txt",
    b"/..%c0%afsecret.txt",
    b"/..%c1%9csecret.txt",
    b"/%c0%2e%c0%2e/secret.txt",
    b"/..%ef%bc%8fsecret.txt",
    b"/..%e2%88%95secret.txt",
    b"/%u002e%u002e/secret.txt",
    b"/..%u2216secret.txt",
    // backslash, raw and encoded
    b"/..\\secret.txt",
    b"/a\\..\\..\\secret.txt",
    b"/..%5csecret.txt",
    b"/..%5Csecret.txt",
    b"/%2e%2e%5csecret.txt",
    b"/a/..%5c..%5csecret.txt",
    b"/%5c..%5csecret.txt",
    // absolute-form targets
    b"http://127.0.0.1/../secret.txt",
    b"http://127.0.0.1/%2e%2e/secret.txt",
    b"http://127.0.0.1/a/../../secret.txt",
    b"HTTP://127.0.0.1/../secret.txt",
    b"http://127.0.0.1:1/..%2fsecret.txt",
    b"http://../secret.txt",
    // `//` prefixes and empty segments
    b"//../secret.txt",
    b"///../secret.txt",
    b"/a//../../secret.txt",
    b"//%2e%2e//secret.txt",
    // NUL, raw and encoded
    b"/../secret.txt%00.html",
    b"/../secret.txt%00",
    b"/inside.txt%00/../../secret.txt",
    b"/a/..%00/../secret.txt",
    b"/.%00./secret.txt",
    b"/../secret.txt\0.html",
    b"/\0/../secret.txt",
    // trailing dots and spaces
    b"/../secret.txt.",
    b"/../secret.txt%20",
    b"/..%20/secret.txt",
    b"/.. /secret.txt",
    b"/..%09/secret.txt",
    b"/../secret.txt...",
    // `/./` and `....//`
    b"/./../secret.txt",
    b"/a/./../../secret.txt",
    b"/....//secret.txt",
    b"/....//....//secret.txt",
    b"/...//secret.txt",
    b"/..././secret.txt",
    b"/.../secret.txt",
    // server-specific separators and decorations
    b"/..;/secret.txt",
    b"/%2e%2e;/secret.txt",
    b"/../secret.txt?x=1",
    b"/../secret.txt#frag",
    b"/a/../../secret.txt?",
];

#[test]
fn traversal_corpus_never_reaches_outside_the_root() {
    assert!(TRAVERSALS.len() >= 50, "corpus of {}", TRAVERSALS.len());
    let server = server_with_secret("");
    // Controls: the resolver does serve what is inside, so the refusals below are not blanket 4xx.
    assert_served(&server, b"/inside.txt", INSIDE);
    assert_served(&server, b"/a/../inside.txt", INSIDE);
    assert_served(&server, b"/./inside.txt", INSIDE);
    assert_served(&server, b"/%69nside.txt", INSIDE);
    assert_served(&server, b"/a/b/../page.html", PAGE);
    for target in TRAVERSALS {
        assert_refused(&server, target);
    }
    assert_still_serves(&server, "/inside.txt", INSIDE, "the traversal corpus");
}

#[test]
fn traversal_corpus_over_keep_alive_and_http_1_0_is_refused_too() {
    // The same spellings on one persistent connection and as HTTP/1.0: no per-connection state or
    // version branch may open a path the fresh-connection test closes.
    let server = server_with_secret("");
    let mut conn = server.connect();
    let mut sent = 0;
    for target in TRAVERSALS {
        // Raw NUL or space in the target is a 400 that closes; those are covered above.
        if target.iter().any(|&b| b == 0 || b == b' ') {
            continue;
        }
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(target);
        raw.extend_from_slice(format!(" HTTP/1.1\r\nHost: {}\r\n\r\n", server.host()).as_bytes());
        if conn.send(&raw).is_err() {
            conn = server.connect();
            conn.send(&raw).expect("send on a new connection");
        }
        sent += 1;
        let shown = String::from_utf8_lossy(target);
        let r = conn
            .try_read_response(false, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{shown:?} on keep-alive: no response: {e}"));
        assert!(
            find(&r.body, SECRET).is_none(),
            "{shown:?}: LEAKED on keep-alive"
        );
        assert!(
            (400..500).contains(&r.status),
            "{shown:?} on keep-alive: got {}",
            r.status
        );
        if r.says_close() {
            conn = server.connect();
        }
    }
    assert!(sent >= 50);
    for target in [
        &b"/../secret.txt"[..],
        b"/%2e%2e/secret.txt",
        b"/..%5csecret.txt",
    ] {
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(target);
        raw.extend_from_slice(b" HTTP/1.0\r\n\r\n");
        let r = server.request(&raw);
        assert!(
            find(&r.body, SECRET).is_none(),
            "HTTP/1.0 {target:?}: LEAKED"
        );
        assert!((400..500).contains(&r.status), "HTTP/1.0: {}", r.status);
    }
    assert_still_serves(&server, "/inside.txt", INSIDE, "keep-alive traversals");
}

// ---------------------------------------------------------------------------------------------
// Symlinks
// ---------------------------------------------------------------------------------------------

/// Links in the root: two out (a file, a directory), one to the `site2` sibling, and three in (a
/// relative file link, an absolute file link, a directory link).
fn make_links(server: &Server) {
    let dir = server.dir();
    let site = server.site();
    symlink(dir.join("secret.txt"), site.join("out-file.txt")).unwrap();
    symlink("../secret.txt", site.join("out-relative.txt")).unwrap();
    symlink(dir.join("outside"), site.join("out-dir")).unwrap();
    symlink("../site2", site.join("sibling")).unwrap();
    symlink("inside.txt", site.join("in-file.txt")).unwrap();
    symlink(site.join("inside.txt"), site.join("in-absolute.txt")).unwrap();
    symlink("a", site.join("in-dir")).unwrap();
    // A link inside the root whose target climbs out and back in: it stays inside.
    symlink("../site/inside.txt", site.join("in-roundabout.txt")).unwrap();
}

#[test]
fn symlinks_leaving_the_root_are_refused_by_default() {
    let server = server_with_secret("");
    make_links(&server);
    for target in [
        &b"/out-file.txt"[..],
        b"/out-relative.txt",
        b"/out-dir/secret.txt",
        b"/out-dir/",
        b"/out-dir",
        b"/sibling/secret.txt",
        b"/in-dir/../out-file.txt",
    ] {
        assert_refused(&server, target);
    }
    assert_served(&server, b"/in-file.txt", INSIDE);
    assert_served(&server, b"/in-absolute.txt", INSIDE);
    assert_served(&server, b"/in-roundabout.txt", INSIDE);
    assert_served(&server, b"/in-dir/page.html", PAGE);
    assert_still_serves(&server, "/inside.txt", INSIDE, "symlink probes");
}

#[test]
fn follow_symlinks_inside_root_spelled_out_behaves_as_the_default() {
    let server = server_with_secret("[files]\nfollow_symlinks = \"inside-root\"\n");
    make_links(&server);
    assert_refused(&server, b"/out-file.txt");
    assert_refused(&server, b"/out-dir/secret.txt");
    assert_refused(&server, b"/sibling/secret.txt");
    assert_served(&server, b"/in-file.txt", INSIDE);
    assert_served(&server, b"/in-dir/page.html", PAGE);
}

#[test]
fn follow_symlinks_never_refuses_every_link() {
    let server = server_with_secret("[files]\nfollow_symlinks = \"never\"\n");
    make_links(&server);
    for target in [
        &b"/out-file.txt"[..],
        b"/out-relative.txt",
        b"/out-dir/secret.txt",
        b"/sibling/secret.txt",
        b"/in-file.txt",
        b"/in-absolute.txt",
        b"/in-roundabout.txt",
        b"/in-dir/page.html",
    ] {
        assert_refused(&server, target);
    }
    // Real files are still served.
    assert_served(&server, b"/inside.txt", INSIDE);
    assert_served(&server, b"/a/page.html", PAGE);
}

#[test]
fn a_link_swapped_to_point_outside_after_being_served_is_refused_soon_and_never_leaks() {
    // A metadata or open-file cache must not keep serving a link once it leads out of the root.
    let server = server_with_secret("");
    let link = server.site().join("swap.txt");
    symlink("inside.txt", &link).unwrap();
    assert_served(&server, b"/swap.txt", INSIDE);
    std::fs::remove_file(&link).unwrap();
    symlink(server.dir().join("secret.txt"), &link).unwrap();
    // The outside bytes never come out, from the first request on. The server checks a cached
    // path against the disk at most once per second, shared by all workers (REVALIDATE_MS in
    // files.rs): the refusal comes within 1 s of the swap (0.3 s slack for a busy machine), and
    // once one request was refused none is answered from the old target again, whichever worker
    // takes it (fresh connections).
    const REVALIDATE: Duration = Duration::from_millis(1000);
    const SLACK: Duration = Duration::from_millis(300);
    let swapped = std::time::Instant::now();
    let mut last_200 = None;
    let mut first_refusal = None;
    while swapped.elapsed() < REVALIDATE + SLACK {
        let r = server
            .try_get_raw(b"/swap.txt")
            .expect("a response to /swap.txt");
        let at = swapped.elapsed();
        assert!(
            find(&r.body, SECRET).is_none(),
            "/swap.txt: LEAKED the secret through a re-pointed link"
        );
        if r.status == 200 {
            assert_eq!(r.body, INSIDE, "/swap.txt before the refusal");
            assert!(
                first_refusal.is_none(),
                "/swap.txt: 200 again at {at:?}, after a refusal at {first_refusal:?}"
            );
            last_200 = Some(at);
        } else {
            first_refusal.get_or_insert(at);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        first_refusal.is_some_and(|t| t <= REVALIDATE + SLACK),
        "/swap.txt: not refused within {:?} of the swap",
        REVALIDATE + SLACK
    );
    println!(
        "re-pointed link: last 200 at {last_200:?}, first refusal at {first_refusal:?} after the swap"
    );
    for _ in 0..20 {
        assert_refused(&server, b"/swap.txt");
    }
    assert_still_serves(&server, "/inside.txt", INSIDE, "a swapped link");
}

// ---------------------------------------------------------------------------------------------
// Dotfiles
// ---------------------------------------------------------------------------------------------

fn dotfile_server(config: &str) -> Server {
    Server::builder()
        .config(config)
        .file("inside.txt", INSIDE)
        .file(".env", SECRET)
        .file(".git/config", SECRET)
        .file(".git/index.html", SECRET)
        .file(".hidden.html", SECRET)
        .file("a/.hidden/x.html", SECRET)
        .file("a/.secret.txt", SECRET)
        .file(
            ".well-known/security.txt",
            b"Contact: mailto:security@example.test\n",
        )
        .file(".public/x.txt", b"public dot-dir\n")
        .start()
}

#[test]
fn dotfiles_and_dot_directories_are_denied_by_default() {
    let server = dotfile_server("");
    for target in [
        &b"/.env"[..],
        b"/.git/config",
        b"/.git/index.html",
        b"/.git",
        b"/.git/",
        b"/.hidden.html",
        b"/a/.hidden/x.html",
        b"/a/.hidden/",
        b"/a/.hidden",
        b"/a/.secret.txt",
        b"/%2eenv",
        b"/%2Egit/config",
        b"/a/%2ehidden/x.html",
        b"/a/../.env",
        b"/.well-known/../.env",
        b"/.public/x.txt",
        b"http://127.0.0.1/.git/config",
    ] {
        assert_refused(&server, target);
    }
    // Spelled plainly, a dot path is a file that exists but is not served (403) or one that is
    // hidden (404): never a redirect that would confirm it (RFC 9110 §15.5.4, §15.5.5).
    for target in [
        "/.env",
        "/.hidden.html",
        "/.git/config",
        "/.git/",
        "/.git",
        "/a/.secret.txt",
    ] {
        let r = server.get(target);
        assert!(
            matches!(r.status, 403 | 404),
            "{target}: a dotfile must get 403/404, got {} with Location {:?}",
            r.status,
            r.header("location")
        );
    }
    let r = server
        .try_get_raw(b"/.well-known/security.txt")
        .expect("response");
    assert_eq!(r.status, 200, ".well-known is an exception by default");
    assert!(r.text().starts_with("Contact:"));
    assert_still_serves(&server, "/inside.txt", INSIDE, "dotfile probes");
}

#[test]
fn the_dotfile_exception_list_is_configurable() {
    let server = dotfile_server("[files]\ndotfile_exceptions = [\".public\"]\n");
    assert_served(&server, b"/.public/x.txt", b"public dot-dir\n");
    // The list replaces the default: .well-known is no longer an exception.
    assert_refused(&server, b"/.well-known/security.txt");
    assert_refused(&server, b"/.env");
    assert_refused(&server, b"/.git/config");
    assert_refused(&server, b"/a/.hidden/x.html");
}

#[test]
fn deny_dotfiles_false_serves_dot_paths_but_not_traversal() {
    let server = dotfile_server("[files]\ndeny_dotfiles = false\n");
    assert_served(&server, b"/.hidden.html", SECRET);
    assert_served(&server, b"/a/.hidden/x.html", SECRET);
    assert_served(&server, b"/.public/x.txt", b"public dot-dir\n");
    // `.env` has no allowed extension: still refused, by the extension policy.
    assert_refused(&server, b"/.env");
    std::fs::write(server.dir().join("secret.txt"), SECRET).unwrap();
    assert_refused(&server, b"/../secret.txt");
    assert_refused(&server, b"/.%2e/secret.txt");
}

#[test]
fn refused_targets_get_a_4xx_never_a_redirect_or_a_silent_close() {
    let server = Server::builder()
        .file("a.txt", A)
        .file(".env", b"SECRET=1")
        .file(".git/config", b"[core]")
        .file(".git/index.html", b"<p>git</p>")
        .file("sub/page.txt", b"sub page")
        .dir("empty")
        .start();
    std::fs::write(server.dir().join("outside.txt"), b"OUTSIDE THE ROOT").unwrap();
    std::os::unix::fs::symlink(
        server.dir().join("outside.txt"),
        server.site().join("link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(server.dir(), server.site().join("linkdir")).unwrap();
    let host = server.host();
    let targets = [
        "/../outside.txt",
        "/sub/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E/outside.txt",
        "/sub/%2e%2e/%2e%2e/outside.txt",
        "/..%2foutside.txt",
        "/sub%2fpage.txt",
        "/sub%2Fpage.txt",
        "/a.txt%00.html",
        "/a%00.txt",
        "/..\\outside.txt",
        "/sub\\..\\..\\outside.txt",
        "/%252e%252e/outside.txt",
        "/.env",
        "/.git",
        "/.git/",
        "/.git/config",
        "/.git/index.html",
        "/sub/../.env",
        "/%2eenv",
        "/%2egit",
        "/link.txt",
        "/linkdir/outside.txt",
        "/empty/",
        "/empty/../../outside.txt",
    ];
    for target in targets {
        let raw = req("GET", target, "HTTP/1.1", &host, "");
        let mut conn = server.connect();
        conn.send(raw.as_bytes()).unwrap();
        let r = conn
            .try_read_response(false, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("{target}: no response (a silent close?): {e}"));
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{target}: expected 400/403/404, got {} (Location {:?})",
            r.status,
            r.header("location")
        );
        for leak in ["OUTSIDE", "SECRET", "[core]", "<p>git</p>"] {
            assert!(!r.text().contains(leak), "{target}: leaked {leak:?}");
        }
    }
    // The server is still fine afterwards.
    assert_eq!(server.get("/a.txt").body, A);
}
