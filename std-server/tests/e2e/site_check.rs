//! `staticd check`, run as a user runs it: the real binary on the bundled site (clean), on a
//! generated site with one planted fault of each kind (each found once, at its file and line, in
//! the text and the JSON report), with `--config`, and with bad usage (exit status 2).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::{Finished, TempDir, repo_root, run_staticd};
use serde_json::Value;

const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn check(args: &[&str], cwd: &Path) -> Finished {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let finished = run_staticd(&all, cwd, RUN_TIMEOUT);
    assert!(
        finished.status.is_some(),
        "staticd {all:?} did not finish within {RUN_TIMEOUT:?}"
    );
    finished
}

fn exit_code(finished: &Finished) -> Option<i32> {
    finished.status.and_then(|s| s.code())
}

fn json(finished: &Finished) -> Value {
    serde_json::from_str(&finished.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", finished.stdout))
}

/// (kind, file, line) of every problem in a JSON report, in report order.
fn json_problems(report: &Value) -> Vec<(String, String, u64)> {
    report["problems"]
        .as_array()
        .expect("problems is an array")
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or_default().to_owned(),
                p["file"].as_str().unwrap_or_default().to_owned(),
                p["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// The problem lines of a text report: everything before the first blank line.
fn text_problem_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().take_while(|l| !l.is_empty()).collect()
}

#[test]
fn the_bundled_site_is_clean() {
    let site = repo_root().join("site");
    let cwd = TempDir::new();
    let text = check(&[site.to_str().unwrap()], cwd.path());
    assert_eq!(exit_code(&text), Some(0), "{}{}", text.stdout, text.stderr);
    assert!(text.stdout.contains(": no problems\n"), "{}", text.stdout);
    assert!(!text.stdout.contains("Nothing links to"), "{}", text.stdout);

    // The shipped settings file names the same root, relative to its own folder.
    let config = repo_root().join("config/staticd.toml");
    let report = check(
        &["--config", config.to_str().unwrap(), "--format", "json"],
        cwd.path(),
    );
    assert_eq!(exit_code(&report), Some(0), "{}", report.stderr);
    let report = json(&report);
    assert_eq!(report["problems"], Value::Array(vec![]));
    assert_eq!(report["unreferenced"], Value::Array(vec![]));
    assert_eq!(report["counts"]["pages"], 2);
    assert_eq!(report["counts"]["stylesheets"], 1);
    // Every file of the site is served and read or reached.
    let on_disk = std::fs::read_dir(site.join("images")).unwrap().count()
        + std::fs::read_dir(site.join("media")).unwrap().count()
        + 5; // index.html, about.html, favicon.ico, css/style.css, js/app.js
    assert_eq!(report["counts"]["files"], on_disk as u64);
}

/// A site with one fault of each kind at a known line, beside a folder outside its root.
struct PlantedSite {
    dir: TempDir,
}

impl PlantedSite {
    fn new() -> PlantedSite {
        let dir = TempDir::new();
        dir.write(
            "site/index.html",
            concat!(
                "<!doctype html>\n",                                      // 1
                "<html><head><title>planted</title>\n",                   // 2
                "<link rel=\"stylesheet\" href=\"css/main.css\">\n",      // 3
                "<style>\n",                                              // 4
                "  body { background: url(IMG/Bg.png) }\n",               // 5 case-mismatch
                "</style>\n",                                             // 6
                "</head><body>\n",                                        // 7
                "<a href=\"notes.log\">notes</a>\n",                      // 8 extension
                "<a href=\".hidden/page.html\">hidden</a>\n",             // 9 dotfile
                "<img src=\"escape/secret.png\" alt=\"\">\n",             // 10 outside-root
                "<a href=\"empty/\">empty</a>\n",                         // 11 no-index
                "<a href=\"docs/guide.html#nowhere\">frag</a>\n",         // 12 fragment
                "<a href=\"a%2Fb.html\">encoded slash</a>\n",             // 13 bad-target
                "<a href=\"pipe.html\">fifo</a>\n",                       // 14 forbidden
                "<a href=\"https://example.com/x\">external</a>\n",       // 15 external
                "<img src=\"img/linked.png\" alt=\"\">\n",                // 16 fine unless "never"
                "<p>fine: <a href=\"docs/guide.html#intro\">intro</a>\n", // 17
                "<a href=\"docs/a%20b.html\">space</a> <a href=\"docs/caf&eacute;.html\">caf</a>\n", // 18
                "<img srcset=\"img/bg.png 1x, img/bg@2x.png 2x\" src=\"img/bg.png\" alt=\"\">\n", // 19
                "<a href=\"docs/\">docs</a> <a href=\"docs\">docs</a> <a href=\"#top\">top</a>\n", // 20
                "<a href=\"blog/post.html\">post</a>\n", // 21
                "<script>document.write('<a href=\"not-a-link.html\">')</script>\n", // 22
                "</body></html>\n",
            )
            .as_bytes(),
        );
        dir.write(
            "site/css/main.css",
            b"/* url(commented-out.png) */\nbody {\n  color: black;\n  background: url(\"../img/missing.png\");\n}\n@import url(\"extra.css\");\n",
        );
        dir.write(
            "site/css/extra.css",
            b"p { background: url(../img/bg.png) }\n",
        );
        dir.write("site/img/bg.png", crate::common::TINY_PNG);
        dir.write("site/img/bg@2x.png", crate::common::TINY_PNG);
        dir.write(
            "site/docs/guide.html",
            concat!(
                "<!doctype html><title>guide</title>\n", // 1
                "<h1 id=\"intro\">Intro</h1>\n",         // 2
                "<a\n",                                  // 3
                "  class=\"up\"\n",                      // 4
                "  href=\"../../index.html\">up</a>\n",  // 5 above-root
                "<a href=\"../index.html\">home</a>\n",  // 6
            )
            .as_bytes(),
        );
        dir.write(
            "site/docs/index.html",
            b"<a href=\"guide.html\">guide</a> <a href=\"100%25.html\">percent</a>\n",
        );
        dir.write(
            "site/docs/100%.html",
            b"<p>a percent sign in the name</p>\n",
        );
        dir.write("site/docs/a b.html", b"<p>space</p>\n");
        dir.write("site/docs/caf\u{e9}.html", b"<p>cafe</p>\n");
        dir.write(
            "site/blog/post.html",
            b"<base href=\"/docs/\">\n<a href=\"guide.html#intro\">guide</a>\n\
              <meta http-equiv=\"refresh\" content=\"30; url=caf%C3%A9.html\">\n",
        );
        // Only a link to itself: still nothing links to it.
        dir.write(
            "site/orphan.html",
            b"<p>nothing else links <a href=\"orphan.html\">here</a></p>\n",
        );
        dir.write("site/notes.log", b"a log\n");
        dir.write("site/.hidden/page.html", b"<p>hidden</p>\n");
        dir.mkdir("site/empty");
        dir.write("outside/secret.png", crate::common::TINY_PNG);
        std::os::unix::fs::symlink("../outside", dir.path().join("site/escape")).unwrap();
        std::os::unix::fs::symlink("bg.png", dir.path().join("site/img/linked.png")).unwrap();
        let fifo = Command::new("mkfifo")
            .arg(dir.path().join("site/pipe.html"))
            .status()
            .expect("run mkfifo");
        assert!(fifo.success());
        PlantedSite { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("site")
    }
}

/// What the planted site must produce with the default settings, in report order.
const PLANTED: &[(&str, &str, u64)] = &[
    ("broken", "css/main.css", 4),
    ("above-root", "docs/guide.html", 5),
    ("case-mismatch", "index.html", 5),
    ("extension", "index.html", 8),
    ("dotfile", "index.html", 9),
    ("outside-root", "index.html", 10),
    ("no-index", "index.html", 11),
    ("fragment", "index.html", 12),
    ("bad-target", "index.html", 13),
    ("forbidden", "index.html", 14),
];

#[test]
fn each_planted_fault_is_found_once_at_its_line_in_json() {
    let site = PlantedSite::new();
    let finished = check(&["--format", "json", "site"], site.dir.path());
    assert_eq!(exit_code(&finished), Some(1), "{}", finished.stderr);
    let report = json(&finished);
    let want: Vec<(String, String, u64)> = PLANTED
        .iter()
        .map(|&(k, f, l)| (k.to_owned(), f.to_owned(), l))
        .collect();
    assert_eq!(json_problems(&report), want, "{:#}", report["problems"]);

    let problem = |kind: &str| {
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
            .clone()
    };
    // The reference as written, the target a browser requests, and the server's status.
    let broken = problem("broken");
    assert_eq!(broken["reference"], "../img/missing.png");
    assert_eq!(broken["target"], "/img/missing.png");
    assert_eq!(broken["status"], 404);
    assert_eq!(broken["source"], "url()");
    assert_eq!(problem("extension")["status"], 403);
    assert_eq!(problem("outside-root")["status"], 403);
    assert_eq!(problem("bad-target")["status"], 400);
    assert_eq!(problem("forbidden")["status"], 403);
    assert_eq!(problem("dotfile")["status"], 404);
    let case = problem("case-mismatch");
    assert_eq!(case["target"], "/IMG/Bg.png");
    assert!(
        case["message"].as_str().unwrap().contains("img/bg.png"),
        "{case}"
    );
    assert_eq!(problem("above-root")["target"], "/index.html");
    let fragment = problem("fragment");
    assert!(
        fragment["message"]
            .as_str()
            .unwrap()
            .contains("\"nowhere\""),
        "{fragment}"
    );

    assert_eq!(
        report["external"],
        serde_json::json!([{"file": "index.html", "line": 15, "url": "https://example.com/x"}])
    );
    assert_eq!(report["unreferenced"], serde_json::json!(["orphan.html"]));
    assert_eq!(report["counts"]["problems"], PLANTED.len());
    assert_eq!(report["counts"]["pages"], 8);
    assert_eq!(report["counts"]["stylesheets"], 2);
}

#[test]
fn each_planted_fault_is_found_once_at_its_line_in_text() {
    let site = PlantedSite::new();
    let root = site.root();
    let finished = check(&[root.to_str().unwrap()], site.dir.path());
    assert_eq!(exit_code(&finished), Some(1), "{}", finished.stderr);
    let lines = text_problem_lines(&finished.stdout);
    assert_eq!(lines.len(), PLANTED.len(), "{}", finished.stdout);
    for (kind, file, line) in PLANTED {
        let prefix = format!("{file}:{line}: {kind}: ");
        let found = lines.iter().filter(|l| l.starts_with(&prefix)).count();
        assert_eq!(found, 1, "{prefix}\n{}", finished.stdout);
    }
    assert!(
        lines.contains(
            &"css/main.css:4: broken: url(../img/missing.png) -> /img/missing.png (404): no such file"
        ),
        "{}",
        finished.stdout
    );
    assert!(
        lines.contains(&"index.html:8: extension: <a href=\"notes.log\"> -> /notes.log (403): .log is not in files.allowed_extensions"),
        "{}",
        finished.stdout
    );
    let rest = &finished.stdout[finished.stdout.find("\n\n").unwrap()..];
    assert!(
        rest.contains("External (listed, not fetched):\n  index.html:15: https://example.com/x\n"),
        "{rest}"
    );
    assert!(
        rest.contains("Nothing links to (not an error):\n  orphan.html\n"),
        "{rest}"
    );
    assert!(
        rest.contains(
            ": 10 problems (1 broken, 1 case-mismatch, 1 no-index, 1 extension, 1 dotfile, \
             1 outside-root, 1 forbidden, 1 bad-target, 1 above-root, 1 fragment)\n"
        ),
        "{rest}"
    );
}

#[test]
fn the_settings_file_decides_what_is_served() {
    let site = PlantedSite::new();
    // Symbolic links refused, .log allowed, dotfiles served: the same site, other answers.
    site.dir.write(
        "staticd.toml",
        b"[server]\nroot = \"site\"\n\n[files]\nfollow_symlinks = \"never\"\ndeny_dotfiles = false\nallowed_extensions = [\".html\", \".css\", \".png\", \".log\"]\n",
    );
    let cwd = TempDir::new();
    let config = site.dir.path().join("staticd.toml");
    let finished = check(
        &["--config", config.to_str().unwrap(), "--format", "json"],
        cwd.path(),
    );
    assert_eq!(exit_code(&finished), Some(1), "{}", finished.stderr);
    let report = json(&finished);
    let problems = json_problems(&report);
    let of_kind = |kind: &str| -> Vec<u64> {
        problems
            .iter()
            .filter(|(k, _, _)| k == kind)
            .map(|&(_, _, line)| line)
            .collect()
    };
    // Both links are refused under "never"; the one out of the root is no longer the reason.
    assert_eq!(of_kind("symlink"), [10, 16], "{problems:?}");
    assert!(of_kind("outside-root").is_empty(), "{problems:?}");
    assert!(of_kind("extension").is_empty(), "{problems:?}");
    assert!(of_kind("dotfile").is_empty(), "{problems:?}");
    assert_eq!(of_kind("broken"), [4]);

    // Under "always" the link out of the root is served like any file.
    site.dir.write(
        "always.toml",
        b"[server]\nroot = \"site\"\n\n[files]\nfollow_symlinks = \"always\"\n",
    );
    let config = site.dir.path().join("always.toml");
    let finished = check(
        &["--config", config.to_str().unwrap(), "--format", "json"],
        cwd.path(),
    );
    let kinds: Vec<String> = json_problems(&json(&finished))
        .into_iter()
        .map(|(kind, _, _)| kind)
        .collect();
    let want: Vec<&str> = PLANTED
        .iter()
        .map(|&(kind, _, _)| kind)
        .filter(|&kind| kind != "outside-root")
        .collect();
    assert_eq!(kinds, want);
}

#[test]
fn bad_usage_exits_2() {
    let cwd = TempDir::new();
    cwd.mkdir("a");
    cwd.mkdir("b");
    for args in [
        &["--format", "yaml"][..],
        &["a", "b"],
        &["--bogus"],
        &["--config"],
        &["no-such-dir"],
        &["--config", "missing.toml", "a"],
    ] {
        let finished = check(args, cwd.path());
        assert_eq!(
            exit_code(&finished),
            Some(2),
            "{args:?}: {}",
            finished.stderr
        );
        assert!(finished.stdout.is_empty(), "{args:?}: {}", finished.stdout);
        assert!(!finished.stderr.is_empty(), "{args:?}");
    }
    let missing = check(&["no-such-dir"], cwd.path());
    assert!(
        missing.stderr.contains("ROOT: no-such-dir"),
        "{}",
        missing.stderr
    );
    let help = check(&["--help"], cwd.path());
    assert_eq!(exit_code(&help), Some(0));
    assert!(help.stdout.contains("--format"), "{}", help.stdout);
    // The server's own help points to the subcommand.
    let server_help = run_staticd(&["--help"], cwd.path(), RUN_TIMEOUT);
    assert!(
        server_help.stdout.contains("staticd check [ROOT]"),
        "{}",
        server_help.stdout
    );
}

/// The kinds of problem in a JSON report, with the reference each names.
fn kinds_and_references(report: &Value) -> Vec<(String, String)> {
    report["problems"]
        .as_array()
        .expect("problems is an array")
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or_default().to_owned(),
                p["reference"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn listings_the_fallback_and_error_pages_are_checked_as_the_server_answers() {
    let dir = TempDir::new();
    dir.write(
        "site/index.html",
        b"<!DOCTYPE html><title>App</title>\n\
          <a href=\"/downloads/\">files</a>\n\
          <a href=\"/users/42\">a route</a>\n\
          <a href=\"/users/42#profile\">a route's fragment</a>\n\
          <img src=\"/missing.png\">\n\
          <script src=\"/app.js\"></script>\n\
          <a href=\"/gone.html\">gone</a>\n",
    );
    dir.write("site/app.js", b"/* app */");
    dir.write("site/404.html", b"<p>lost</p>");
    dir.write("site/downloads/a.txt", b"a");
    dir.write("site/downloads/more/b.txt", b"b");
    dir.write("site/downloads/docs/index.html", b"<p>docs</p>");
    dir.write("site/orphan.txt", b"o");
    let plain = |name: &str, body: &str| {
        dir.write(
            name,
            format!("[server]\nroot = \"site\"\n{body}").as_bytes(),
        );
        let config = dir.path().join(name);
        let finished = check(
            &["--config", config.to_str().unwrap(), "--format", "json"],
            dir.path(),
        );
        assert_eq!(exit_code(&finished), Some(1), "{}", finished.stderr);
        let report = json(&finished);
        let unreferenced: Vec<String> = report["unreferenced"]
            .as_array()
            .expect("unreferenced is an array")
            .iter()
            .map(|f| f.as_str().unwrap_or_default().to_owned())
            .collect();
        (kinds_and_references(&report), unreferenced)
    };
    let pair = |k: &str, r: &str| (k.to_owned(), r.to_owned());
    // Without the keys: the directory has no index, the route is no file.
    let (problems, unreferenced) = plain("off.toml", "");
    assert_eq!(
        problems,
        [
            pair("no-index", "/downloads/"),
            pair("broken", "/users/42"),
            pair("broken", "/users/42#profile"),
            pair("broken", "/missing.png"),
            pair("broken", "/gone.html"),
        ]
    );
    assert_eq!(
        unreferenced,
        [
            "404.html",
            "downloads/a.txt",
            "downloads/docs/index.html",
            "downloads/more/b.txt",
            "orphan.txt"
        ]
    );
    // With them: the listing and the app's routes are answered with 200, as the server does; a
    // missing image or page stays broken (the server answers 404 with the error page).
    let on = "[files]\ndirectory_listing = true\nfallback = \"index.html\"\n\
              error_pages = { 404 = \"404.html\" }\n";
    let (problems, unreferenced) = plain("on.toml", on);
    assert_eq!(
        problems,
        [pair("broken", "/missing.png"), pair("broken", "/gone.html")]
    );
    // The error page is sent by the server itself; the listing links to the files of its
    // directory, to a subdirectory's index page and, through its listing, to what is in it.
    assert_eq!(unreferenced, ["orphan.txt"]);
    // And the server agrees, asked as a browser asks.
    let server = crate::common::Server::builder()
        .config(on)
        .files(&[
            ("index.html", b"<p>app</p>"),
            ("404.html", b"<p>lost</p>"),
            ("downloads/a.txt", b"a"),
        ])
        .start();
    let ask = |path: &str, accept: &str| {
        let raw = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\n\r\n",
            server.host()
        );
        server.request(raw.as_bytes()).status
    };
    assert_eq!(ask("/downloads/", "text/html"), 200);
    assert_eq!(ask("/users/42", "text/html,*/*;q=0.8"), 200);
    assert_eq!(ask("/missing.png", "image/*"), 404);
    assert_eq!(ask("/gone.html", "text/html"), 404);
}
