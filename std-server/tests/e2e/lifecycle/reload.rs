//! SIGHUP reloads the settings file: new settings serve new connections, in-flight responses
//! finish, no request fails and no log line is lost; a bad file keeps the running settings and
//! the error log says why.

use crate::common::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const RULE: &str = "[[rules]]\npattern = \"*.txt\"\nheaders = { X-Generation = \"0\" }\n";

/// Rewrites the server's settings file with `edit` applied to its text.
fn edit_settings(server: &Server, edit: impl FnOnce(String) -> String) {
    let path = server.dir().join("staticd.toml");
    let text = std::fs::read_to_string(&path).expect("settings file");
    // Written beside and renamed over, as an editor or a deploy does: a reload never reads half.
    let next = server.dir().join("staticd.toml.next");
    std::fs::write(&next, edit(text)).expect("write settings");
    std::fs::rename(&next, &path).expect("replace settings");
}

fn generation_served(server: &Server) -> Option<String> {
    server
        .get("/a.txt")
        .header("x-generation")
        .map(str::to_owned)
}

/// Waits until a new connection is served with `X-Generation: want`.
fn wait_for_generation(server: &Server, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while generation_served(server).as_deref() != Some(want) {
        assert!(
            Instant::now() < deadline,
            "generation {want} never served; stderr: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One GET on a kept-alive connection; a connection the server closed while idle (nothing of a
/// response received) is opened again and the request repeated once, as clients do for an
/// idempotent request (RFC 9112 §9.3.1).
fn keep_alive_get(server: &Server, conn: &mut Option<Conn>) -> Result<u16, String> {
    let request = format!(
        "GET /a.txt?load HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.host()
    );
    for attempt in 0..2 {
        let c = conn.get_or_insert_with(|| server.connect());
        let result = c
            .send(request.as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|()| c.try_read_response(false, IO_TIMEOUT));
        match result {
            Ok(response) => {
                if response.says_close() {
                    *conn = None;
                }
                return Ok(response.status);
            }
            Err(e)
                if attempt == 0
                    && (e.contains("received \"\"")
                        || e.contains("reset")
                        || e.contains("pipe")) =>
            {
                *conn = None;
            }
            Err(e) => return Err(e),
        }
    }
    Err("retry failed".to_owned())
}

#[test]
fn ten_reloads_under_load_fail_no_request_lose_no_line_and_apply_the_new_rule() {
    let mut server = Server::builder()
        .config(&format!("[server]\nthreads = 2\n{RULE}"))
        .file("a.txt", b"a")
        .start();
    assert_eq!(generation_served(&server).as_deref(), Some("0"));
    let running = AtomicBool::new(true);
    let answered = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        // A client opening a connection per request, and one keeping its connection alive.
        scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(30);
            while running.load(Ordering::SeqCst) && Instant::now() < deadline {
                let mut conn = server.connect();
                let request = format!(
                    "GET /a.txt?load HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    server.host()
                );
                match conn
                    .send(request.as_bytes())
                    .map_err(|e| e.to_string())
                    .and_then(|()| conn.try_read_response(false, IO_TIMEOUT))
                {
                    Ok(r) if r.status == 200 && r.body == b"a" => {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => failures
                        .lock()
                        .unwrap()
                        .push(format!("status {}", r.status)),
                    Err(e) => failures.lock().unwrap().push(e),
                }
            }
        });
        scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut conn = None;
            while running.load(Ordering::SeqCst) && Instant::now() < deadline {
                match keep_alive_get(&server, &mut conn) {
                    Ok(200) => {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(status) => failures.lock().unwrap().push(format!("status {status}")),
                    Err(e) => failures.lock().unwrap().push(e),
                }
            }
        });
        for generation in 1..=10 {
            let (old, new) = (
                format!("X-Generation = \"{}\"", generation - 1),
                format!("X-Generation = \"{generation}\""),
            );
            edit_settings(&server, |text| text.replace(&old, &new));
            server.signal(Signal::HUP);
            wait_for_generation(&server, &generation.to_string());
            std::thread::sleep(Duration::from_millis(50));
        }
        running.store(false, Ordering::SeqCst);
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "failed requests: {failures:?}");
    let answered = answered.load(Ordering::SeqCst);
    assert!(answered > 100, "only {answered} requests under load");

    server.signal(Signal::TERM);
    assert_eq!(
        server
            .wait_exit(Duration::from_secs(15))
            .and_then(|s| s.code()),
        Some(0)
    );
    let stderr = server.stderr();
    assert_eq!(stderr.matches("settings reloaded").count(), 10, "{stderr}");
    // Every answered request of the load has exactly one line (the probes use another target).
    let load_lines = server
        .access_log()
        .lines()
        .filter(|l| l.contains("\"GET /a.txt?load HTTP/1.1\" 200 "))
        .count();
    assert_eq!(load_lines, answered);
}

#[test]
fn a_bad_settings_file_keeps_the_running_settings_and_says_why() {
    let mut server = Server::builder().config(RULE).file("a.txt", b"a").start();
    edit_settings(&server, |text| text.replace("X-Generation", "\"Bad Name\""));
    server.signal(Signal::HUP);
    let said = wait_until(Duration::from_secs(5), || {
        server.stderr().contains("keeping the current settings")
    });
    assert!(said, "{}", server.stderr());
    let stderr = server.stderr();
    let line = stderr
        .lines()
        .find(|l| l.contains("SIGHUP"))
        .expect("a SIGHUP line");
    for word in ["staticd.toml", "rules[0]", "\"Bad Name\""] {
        assert!(line.contains(word), "{word}: {line}");
    }
    assert_eq!(generation_served(&server).as_deref(), Some("0"));

    // A key that only a restart can change is refused the same way, naming it.
    edit_settings(&server, |text| {
        text.replace("\"Bad Name\"", "X-Generation").replacen(
            "[server]\n",
            "[server]\nthreads = 97\n",
            1,
        )
    });
    server.signal(Signal::HUP);
    let said = wait_until(Duration::from_secs(5), || {
        server
            .stderr()
            .contains("server.threads: changing it takes a restart")
    });
    assert!(said, "{}", server.stderr());
    assert_eq!(server.get("/a.txt").status, 200);
    server.signal(Signal::TERM);
    assert_eq!(
        server
            .wait_exit(Duration::from_secs(15))
            .and_then(|s| s.code()),
        Some(0)
    );
}

#[test]
fn a_new_root_serves_new_connections_after_sighup() {
    let server = Server::builder().file("a.txt", b"old root").start();
    let fresh = server.dir().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::write(fresh.join("a.txt"), b"new root").unwrap();
    let site = server.site().display().to_string();
    edit_settings(&server, |text| {
        text.replace(
            &toml_literal(&site),
            &toml_literal(&fresh.display().to_string()),
        )
    });
    server.signal(Signal::HUP);
    let served = wait_until(Duration::from_secs(5), || {
        server.get("/a.txt").body == b"new root"
    });
    assert!(served, "{}", server.stderr());
}
