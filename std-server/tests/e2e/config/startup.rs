//! Starting staticd as a new user would: what the command line accepts, what `--help` and
//! `--check` say, and every reason it refuses to start (exit status 2, one line on stderr naming
//! the setting at fault, nothing on stdout).

use crate::common::*;
use std::time::Duration;

const RUN_LIMIT: Duration = Duration::from_secs(10);

/// A settings file `staticd.toml` in `dir` serving `dir/site` on 127.0.0.1:`port`, plus `extra`.
fn settings_file(dir: &TempDir, port: u16, extra: &str) -> String {
    let site = dir.mkdir("site");
    let text = format!(
        "[server]\nhost = \"127.0.0.1\"\nport = {port}\nroot = {}\n{extra}\n",
        toml_literal(&site.display().to_string())
    );
    dir.write("staticd.toml", text.as_bytes())
        .display()
        .to_string()
}

#[test]
fn a_second_staticd_on_a_port_in_use_exits_2_with_one_line_and_the_first_keeps_every_request() {
    let first = Server::builder()
        .config("[server]\nthreads = 4\n")
        .file("a.txt", b"first")
        .start();
    let dir = TempDir::new();
    let config = settings_file(&dir, first.port(), "threads = 2");
    let second = run_staticd(&["--config", &config], dir.path(), RUN_LIMIT);
    let line = assert_refused_at_start(
        "second staticd on the same port",
        &second,
        &[&format!("127.0.0.1:{}", first.port()), "in use"],
    );
    assert!(line.starts_with("staticd: "), "{line}");

    // Had the second process joined the port's listener group, the kernel would hand it part of
    // these connections; the first answers every one, each on a new connection.
    for _ in 0..40 {
        let response = first.get("/a.txt");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"first"[..])
        );
    }
    let lines = first.wait_access_log_lines(40, Duration::from_secs(3));
    assert_eq!(lines.len(), 40, "{lines:?}");
}

#[test]
fn a_port_held_by_any_other_program_is_refused_the_same_way() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = holder.local_addr().unwrap().port();
    let dir = TempDir::new();
    let config = settings_file(&dir, port, "");
    let run = run_staticd(&["--config", &config], dir.path(), RUN_LIMIT);
    assert_refused_at_start(
        "port held by a plain listener",
        &run,
        &[&format!("cannot listen on 127.0.0.1:{port}"), "in use"],
    );
}

#[test]
fn an_access_log_that_cannot_be_opened_is_refused_naming_the_key() {
    let dir = TempDir::new();
    let missing = dir.path().join("no-such-dir/access.log");
    let config = settings_file(
        &dir,
        0,
        &format!(
            "[log]\naccess_log = {}",
            toml_literal(&missing.display().to_string())
        ),
    );
    let run = run_staticd(&["--config", &config], dir.path(), RUN_LIMIT);
    assert_refused_at_start(
        "unopenable access log",
        &run,
        &[
            "staticd.toml",
            "log.access_log",
            &missing.display().to_string(),
        ],
    );
}

#[test]
fn an_error_log_that_cannot_be_opened_is_refused_naming_the_key() {
    let dir = TempDir::new();
    let missing = dir.path().join("no-such-dir/error.log");
    let config = settings_file(
        &dir,
        0,
        &format!(
            "[log]\nerror_log = {}",
            toml_literal(&missing.display().to_string())
        ),
    );
    let run = run_staticd(&["--config", &config], dir.path(), RUN_LIMIT);
    assert_refused_at_start(
        "unopenable error log",
        &run,
        &[
            "staticd.toml",
            "log.error_log",
            &missing.display().to_string(),
        ],
    );
}

#[test]
fn a_directory_given_alone_is_served_like_root() {
    let dir = TempDir::new();
    dir.write("public/hello.txt", b"positional root");
    let server = Server::builder()
        .no_config_flag()
        .arg("--port")
        .arg("0")
        .arg(&dir.path().join("public").display().to_string())
        .start();
    let response = server.get("/hello.txt");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"positional root");

    // Two roots are a usage error, not a silent choice.
    let run = run_staticd(&["public", "--root", "public"], dir.path(), RUN_LIMIT);
    assert_eq!(run.status.and_then(|s| s.code()), Some(2), "{}", run.stderr);
    assert!(!run.stdout.contains("listening"), "{}", run.stdout);
}

#[test]
fn help_says_the_settings_file_comes_before_the_built_in_defaults() {
    let dir = TempDir::new();
    let run = run_staticd(&["--help"], dir.path(), RUN_LIMIT);
    assert_eq!(run.status.and_then(|s| s.code()), Some(0), "{}", run.stderr);
    let help = run.stdout;
    // A bare "[default: 8080]" would be false whenever the settings file sets the port.
    for bare in ["[default: 127.0.0.1]", "[default: 8080]"] {
        assert!(!help.contains(bare), "--help claims {bare}: {help}");
    }
    for (option, default) in [
        (
            "--host",
            "`server.host` of the settings file, else 127.0.0.1",
        ),
        ("--port", "`server.port` of the settings file, else 8080"),
        ("--root", "`server.root` of the settings file"),
    ] {
        let at = help
            .find(option)
            .unwrap_or_else(|| panic!("{option} missing: {help}"));
        // clap may wrap the text: compare with the whitespace folded.
        let folded: String = help[at..].split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(folded.contains(default), "{option}: {default:?} in {help}");
    }
    for word in ["[DIR]", "--check", "SIGUSR1"] {
        assert!(help.contains(word), "--help mentions {word}: {help}");
    }
}

#[test]
fn check_accepts_good_settings_and_refuses_bad_ones_with_the_start_up_line() {
    let dir = TempDir::new();
    let config = settings_file(&dir, 8080, "");
    let run = run_staticd(&["--check", "--config", &config], dir.path(), RUN_LIMIT);
    assert_eq!(run.status.and_then(|s| s.code()), Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [format!("staticd: {config}: settings are valid")]
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    // The port may be in use by the running server being checked: --check binds nothing.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let config = settings_file(&dir, port, "");
    let run = run_staticd(&["--check", "--config", &config], dir.path(), RUN_LIMIT);
    assert_eq!(run.status.and_then(|s| s.code()), Some(0), "{}", run.stderr);

    let config = settings_file(&dir, 0, "keepalive_timeout = 0");
    let check = run_staticd(&["--check", "--config", &config], dir.path(), RUN_LIMIT);
    let start = run_staticd(&["--config", &config], dir.path(), RUN_LIMIT);
    let line = assert_refused_at_start("--check, bad value", &check, &["server.keepalive_timeout"]);
    assert_eq!(
        line,
        assert_refused_at_start("start, bad value", &start, &[])
    );

    let missing = dir.path().join("nope/access.log");
    let config = settings_file(
        &dir,
        0,
        &format!(
            "[log]\naccess_log = {}",
            toml_literal(&missing.display().to_string())
        ),
    );
    let check = run_staticd(&["--check", "--config", &config], dir.path(), RUN_LIMIT);
    let start = run_staticd(&["--config", &config], dir.path(), RUN_LIMIT);
    let line = assert_refused_at_start("--check, bad access log", &check, &["log.access_log"]);
    assert_eq!(
        line,
        assert_refused_at_start("start, bad access log", &start, &[])
    );
}

#[test]
fn settings_errors_name_the_exact_key_rule_pattern_and_header() {
    let dir = TempDir::new();
    let site = toml_literal(&dir.mkdir("site").display().to_string());
    let cases: &[(&str, String, &[&str], &[&str])] = &[
        (
            "mistyped table",
            format!("[sever]\nport = 0\n[server]\nroot = {site}\n"),
            &["line 1", ": sever: unknown field"],
            &["sever.sever"],
        ),
        (
            "mistyped key in a table",
            format!("[server]\nroot = {site}\nprot = 0\n"),
            &["line 3", "server.prot"],
            &[],
        ),
        (
            "bad header name in the second rule",
            format!(
                "[server]\nroot = {site}\n[[rules]]\npattern = \"*.html\"\n[[rules]]\n\
                 pattern = \"*.css\"\nheaders = {{ \"X-Ok\" = \"1\", \"Bad Name\" = \"2\" }}\n"
            ),
            &["rules[1]", "\"*.css\"", "\"Bad Name\"", "tokens"],
            &["*.html", "headers[0]"],
        ),
        (
            "reserved header",
            format!(
                "[server]\nroot = {site}\n[[rules]]\npattern = \"assets/**\"\n\
                 headers = {{ \"Content-Length\" = \"1\" }}\n"
            ),
            &["rules[0]", "\"assets/**\"", "\"Content-Length\""],
            &[],
        ),
        (
            "bad list entry",
            format!(
                "[server]\nroot = {site}\n[files]\nallowed_extensions = [\".html\", \"css\"]\n"
            ),
            &["files.allowed_extensions[1]", "\"css\""],
            &[],
        ),
    ];
    for (what, text, names, absent) in cases {
        let config = dir.write("bad.toml", text.as_bytes());
        let run = run_staticd(
            &["--config", config.to_str().unwrap()],
            dir.path(),
            RUN_LIMIT,
        );
        let line = assert_refused_at_start(what, &run, names);
        assert!(line.contains("bad.toml"), "{what}: {line}");
        for word in *absent {
            assert!(!line.contains(word), "{what}: {word:?} in {line}");
        }
    }
}

#[test]
fn stdout_is_the_ready_line_then_the_access_log_by_default_and_the_ready_line_alone_with_a_log_file()
 {
    // No settings file: the built-in `log.access_log = "-"`.
    let mut server = Server::builder()
        .no_config_flag()
        .arg("--port")
        .arg("0")
        .file("a.txt", b"a")
        .current_dir("site")
        .start();
    assert_eq!(server.get("/a.txt").status, 200);
    assert_eq!(server.get("/missing.txt").status, 404);
    server.signal(Signal::TERM);
    assert_eq!(
        server
            .wait_exit(Duration::from_secs(15))
            .and_then(|s| s.code()),
        Some(0)
    );
    let lines = server.wait_stdout_lines(2, Duration::from_secs(2));
    assert_eq!(lines.len(), 2, "after the ready line: {lines:?}");
    for line in &lines {
        assert!(
            parse_access_line(line).is_some(),
            "an access line: {line:?}"
        );
    }

    // A log file: nothing but the ready line on stdout.
    let mut server = Server::builder().file("a.txt", b"a").start();
    assert_eq!(server.get("/a.txt").status, 200);
    assert_eq!(
        server
            .wait_access_log_lines(1, Duration::from_secs(3))
            .len(),
        1
    );
    server.signal(Signal::TERM);
    assert_eq!(
        server
            .wait_exit(Duration::from_secs(15))
            .and_then(|s| s.code()),
        Some(0)
    );
    assert_eq!(server.stdout_lines(), Vec::<String>::new());
}
