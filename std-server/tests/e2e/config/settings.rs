//! The settings file and the command line: `--help`, bad files refused with exit status 2 and one
//! clear line, value forms and ranges, overrides, a relative root, and settings that reach the wire
//! (port, root, limits, server name).

use crate::common::fixtures::{DOCS_INDEX, site_files};
use crate::common::*;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

fn staticd_with_config(dir: &TempDir, config: &str) -> Finished {
    let path = dir.write("bad.toml", config.as_bytes());
    run_staticd(
        &["--config", path.to_str().unwrap()],
        dir.path(),
        Duration::from_secs(10),
    )
}

/// A config file that is valid except for `extra` (lines added to `[server]`).
fn server_section(dir: &TempDir, extra: &str) -> String {
    let site = dir.mkdir("site");
    format!(
        "[server]\nhost = \"127.0.0.1\"\nport = 0\nroot = {}\n{extra}\n",
        toml_literal(&site.display().to_string())
    )
}

/// Refused at start (see [`assert_refused_at_start`]), and the line also names the settings file.
fn assert_refused(what: &str, run: &Finished, names: &[&str]) {
    let line = assert_refused_at_start(what, run, names);
    assert!(
        line.contains("bad.toml"),
        "{what}: the message names the file: {line:?}"
    );
}

#[test]
fn help_documents_every_option() {
    let dir = TempDir::new();
    let run = run_staticd(&["--help"], dir.path(), Duration::from_secs(10));
    assert_eq!(
        run.status.and_then(|s| s.code()),
        Some(0),
        "--help exits 0; stderr {:?}",
        run.stderr
    );
    for option in ["--config", "--host", "--port", "--root", "--help"] {
        assert!(
            run.stdout.contains(option),
            "--help lists {option}: {}",
            run.stdout
        );
    }
}

#[test]
fn unknown_keys_and_sections_are_refused() {
    let dir = TempDir::new();
    let base = server_section(&dir, "bogus_key = 1");
    assert_refused(
        "unknown key",
        &staticd_with_config(&dir, &base),
        &["bogus_key"],
    );
    let base = server_section(&dir, "") + "[nosuchsection]\nx = 1\n";
    assert_refused(
        "unknown section",
        &staticd_with_config(&dir, &base),
        &["nosuchsection"],
    );
    let base = server_section(&dir, "") + "[files]\nallowed_extension = [\".html\"]\n";
    assert_refused(
        "misspelled files key",
        &staticd_with_config(&dir, &base),
        &["allowed_extension"],
    );
}

#[test]
fn wrong_types_are_refused_naming_the_key() {
    let dir = TempDir::new();
    let site = dir.mkdir("site");
    let root = toml_literal(&site.display().to_string());
    let cases = [
        (
            "port",
            format!("[server]\nport = \"eighty\"\nroot = {root}\n"),
        ),
        ("root", "[server]\nport = 0\nroot = 5\n".to_string()),
        (
            "keepalive_timeout",
            format!("[server]\nport = 0\nroot = {root}\nkeepalive_timeout = \"5\"\n"),
        ),
        (
            "threads",
            format!("[server]\nport = 0\nroot = {root}\nthreads = 1.5\n"),
        ),
        (
            "allowed_extensions",
            format!("[server]\nport = 0\nroot = {root}\n[files]\nallowed_extensions = \".html\"\n"),
        ),
        (
            "access_log",
            format!("[server]\nport = 0\nroot = {root}\n[log]\naccess_log = true\n"),
        ),
    ];
    for (key, config) in cases {
        assert_refused(
            &format!("wrong type for {key}"),
            &staticd_with_config(&dir, &config),
            &[key],
        );
    }
}

#[test]
fn out_of_range_values_are_refused_naming_the_key() {
    let dir = TempDir::new();
    let cases = [
        ("max_request_bytes", "max_request_bytes = 1023"),
        ("keepalive_timeout", "keepalive_timeout = 0.05"),
        ("keepalive_timeout", "keepalive_timeout = 3601"),
        ("keepalive_timeout", "keepalive_timeout = -1"),
        ("header_timeout", "header_timeout = 0"),
        ("header_timeout", "header_timeout = 7200.5"),
        ("keepalive_requests", "keepalive_requests = 0"),
        ("port", "port = 70000"),
        // Threads count from 1: there is no 0 meaning "one per core".
        ("threads", "threads = 0"),
    ];
    for (key, line) in cases {
        // `port` appears in the base section too: replace it rather than duplicate it.
        let config = if key == "port" {
            server_section(&dir, "").replace("port = 0", line)
        } else {
            server_section(&dir, line)
        };
        assert_refused(line, &staticd_with_config(&dir, &config), &[key]);
    }
}

#[test]
fn boundary_values_are_accepted() {
    let server = Server::start(
        "[server]\nmax_request_bytes = 1024\nkeepalive_timeout = 3600\nheader_timeout = 0.1\nkeepalive_requests = 1\nthreads = 1\n",
        &[("a.txt", b"a")],
    );
    // header_timeout 0.1 s: send the whole request at once.
    let r = server.get("/a.txt");
    assert_eq!(r.status, 200);
    assert!(
        r.says_close(),
        "keepalive_requests = 1: the first response closes"
    );
}

#[test]
fn root_missing_or_not_a_directory_is_refused() {
    let dir = TempDir::new();
    let missing = dir.path().join("does-not-exist");
    let config = format!(
        "[server]\nport = 0\nroot = {}\n",
        toml_literal(&missing.display().to_string())
    );
    assert_refused(
        "missing root",
        &staticd_with_config(&dir, &config),
        &["root"],
    );
    let file = dir.write("plain-file.txt", b"x");
    let config = format!(
        "[server]\nport = 0\nroot = {}\n",
        toml_literal(&file.display().to_string())
    );
    assert_refused(
        "root is a file",
        &staticd_with_config(&dir, &config),
        &["root"],
    );
}

#[test]
fn toml_syntax_errors_name_the_line() {
    let dir = TempDir::new();
    let site = dir.mkdir("site");
    let config = format!(
        "# staticd\n[server]\nport = = 0\nroot = {}\n",
        toml_literal(&site.display().to_string())
    );
    let run = staticd_with_config(&dir, &config);
    assert_refused("syntax error", &run, &[]);
    assert!(
        run.stderr.contains("line 3") || run.stderr.contains(":3:") || run.stderr.contains(":3 "),
        "the message names line 3: {:?}",
        run.stderr
    );
    let run = staticd_with_config(&dir, "[server\nport = 0\n");
    assert_refused("unclosed table header", &run, &[]);
    assert!(
        run.stderr.contains("line 1") || run.stderr.contains(":1:") || run.stderr.contains(":1 "),
        "the message names line 1: {:?}",
        run.stderr
    );
}

#[test]
fn timeouts_accept_integers_and_fractions() {
    for value in ["5", "5.0", "0.5", "1", "3600"] {
        let server = Server::start(
            &format!("[server]\nkeepalive_timeout = {value}\nheader_timeout = {value}\n"),
            &[("a.txt", b"a")],
        );
        assert_eq!(server.get("/a.txt").status, 200, "timeouts = {value}");
    }
}

#[test]
fn command_line_port_and_root_override_the_file() {
    // The file names a port that is taken: only the --port override lets the server start.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    let free_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server::builder()
        .config(&format!("[server]\nport = {taken_port}\n"))
        .file("one/x.txt", b"from the file's root")
        .file("two/x.txt", b"from --root")
        .arg("--port")
        .arg(&free_port.to_string())
        .arg("--root")
        .arg("site/two")
        .start();
    assert_eq!(server.port(), free_port, "--port wins over the file");
    assert_eq!(
        server.get("/x.txt").body,
        b"from --root",
        "--root wins over the file"
    );
    drop(taken);

    let server = Server::builder()
        .config("[server]\nport = 1\nhost = \"0.0.0.0\"\n")
        .file("x.txt", b"x")
        .arg("--port")
        .arg("0")
        .arg("--host")
        .arg("127.0.0.1")
        .start();
    assert_eq!(
        server.get("/x.txt").body,
        b"x",
        "--host and --port override host and port"
    );
}

#[test]
fn root_is_relative_to_the_config_files_folder() {
    // staticd.toml lives in <dir>, the process runs in <dir>/elsewhere, which holds a decoy site/.
    let server = Server::builder()
        .config("[server]\nroot = \"site\"\n")
        .file("x.txt", b"the right root")
        .current_dir("elsewhere")
        .start();
    std::fs::create_dir_all(server.dir().join("elsewhere/site")).unwrap();
    std::fs::write(
        server.dir().join("elsewhere/site/x.txt"),
        b"the current directory",
    )
    .unwrap();
    assert_eq!(server.get("/x.txt").body, b"the right root");
}

#[test]
fn without_a_config_file_the_current_directory_is_served() {
    let server = Server::builder()
        .no_config_flag()
        .current_dir("site")
        .file("x.txt", b"cwd file")
        .arg("--port")
        .arg("0")
        .start();
    assert_eq!(server.get("/x.txt").body, b"cwd file");
}

#[test]
fn the_bundled_config_serves_the_bundled_site() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = repo.join("config/staticd.toml");
    assert!(config.is_file(), "config/staticd.toml exists");
    let text = std::fs::read_to_string(&config).unwrap();
    for key in [
        "host",
        "port",
        "root",
        "max_request_bytes",
        "threads",
        "keepalive_timeout",
        "keepalive_requests",
        "header_timeout",
        "server_name",
        "allowed_extensions",
        "index_files",
        "access_log",
        "error_log",
    ] {
        assert!(text.contains(key), "config/staticd.toml documents {key}");
    }
    let server = Server::builder()
        .no_config_flag()
        .arg("--config")
        .arg(config.to_str().unwrap())
        .arg("--port")
        .arg("0")
        .arg("--host")
        .arg("127.0.0.1")
        .start();
    let r = server.get("/");
    assert_eq!(r.status, 200);
    let index = std::fs::read(repo.join("site/index.html")).unwrap();
    assert_eq!(r.body, index, "the bundled site's index.html");
}

#[test]
fn settings_file_sets_port_root_limits_and_server_name() {
    let port = free_port();
    let server = Server::builder()
        .config(&format!(
            "[server]\nport = {port}\nmax_request_bytes = 2048\nserver_name = \"lab-server\"\n"
        ))
        .files(&site_files())
        .start();
    assert_eq!(
        server.port(),
        port,
        "the configured port is the one announced"
    );
    let host = server.host();

    let r = server.get("/docs/index.html");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, DOCS_INDEX, "root from the settings file");
    assert_common_headers("200", &r, "lab-server");

    // A head over max_request_bytes because of one big field -> 431.
    let big = "x".repeat(3000);
    let r = server.request(
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 431, "head over max_request_bytes");
    assert_common_headers("431", &r, "lab-server");

    // The request line alone over it -> 414.
    let long = "a".repeat(3000);
    let r = server.request(format!("GET /{long}.html HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes());
    assert_eq!(r.status, 414, "request line over max_request_bytes");
    assert_common_headers("414", &r, "lab-server");

    // A declared body over it -> 413.
    let r = server.request(
        format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5000\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(r.status, 413, "body over max_request_bytes");
    assert_common_headers("413", &r, "lab-server");

    // Under the limit everything is served normally.
    let r = server.request(
        format!(
            "GET /index.html HTTP/1.1\r\nHost: {host}\r\nX-Small: {}\r\n\r\n",
            "y".repeat(1500)
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 200);
}
