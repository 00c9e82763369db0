//! `log.format = "json"`: one JSON object (RFC 8259) per answered request, on one line, with the
//! Combined Log Format's fields, the time in RFC 3339, the body bytes sent and the response time.

use crate::common::*;
use std::io::Read;
use std::time::Duration;

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object: {e}: {l:?}"))
        })
        .collect()
}

#[test]
fn each_request_is_one_json_object_with_the_combined_fields() {
    let server = Server::builder()
        .config("[log]\nformat = \"json\"\n")
        .file("a.txt", b"hello")
        .start();
    let before = now_unix();
    assert_eq!(server.get("/a.txt").status, 200);
    let raw = format!(
        "GET /missing.txt HTTP/1.1\r\nHost: {}\r\nReferer: http://x/\"q\r\nUser-Agent: t\\1\r\n\r\n",
        server.host()
    );
    assert_eq!(server.request(raw.as_bytes()).status, 404);
    let lines = server.wait_access_log_lines(2, Duration::from_secs(3));
    let objects = json_lines(&lines.join("\n"));
    assert_eq!(objects.len(), 2, "{lines:?}");
    let by_status = |status: u64| {
        objects
            .iter()
            .find(|o| o["status"] == status)
            .unwrap_or_else(|| panic!("no {status} in {objects:?}"))
    };
    let ok = by_status(200);
    assert_eq!(ok["request"], "GET /a.txt HTTP/1.1");
    assert_eq!(ok["client"], "127.0.0.1");
    assert_eq!(ok["bytes"], 5);
    assert_eq!(ok["referer"], serde_json::Value::Null);
    assert_eq!(ok["user_agent"], serde_json::Value::Null);
    assert!(ok["response_ms"].is_u64(), "{ok}");
    let time = ok["time"].as_str().expect("time is a string");
    // 2026-12-06T02:51:07Z: RFC 3339 in UTC, within the test's own clock.
    assert_eq!(
        (time.len(), &time[10..11], &time[19..]),
        (20, "T", "Z"),
        "{time}"
    );
    let clf = format!(
        "{}/{}/{}:{} +0000",
        &time[8..10],
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
        ][time[5..7].parse::<usize>().unwrap() - 1],
        &time[0..4],
        &time[11..19]
    );
    let stamp = parse_clf_time(&clf).expect("a real date");
    assert!(stamp + 1 >= before && stamp <= now_unix() + 1, "{time}");
    let missing = by_status(404);
    assert_eq!(missing["referer"], "http://x/\"q");
    assert_eq!(missing["user_agent"], "t\\1");
    assert!(missing["bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(server.access_log().ends_with('\n'));
}

#[test]
fn response_time_covers_sending_the_whole_body() {
    const SIZE: usize = 32 * 1024 * 1024;
    let server = Server::builder()
        .config("[log]\nformat = \"json\"\n[files]\nallowed_extensions = [\".bin\"]\n")
        .file("big.bin", &vec![7u8; SIZE])
        .start();
    let mut conn = server.connect();
    conn.send(format!("GET /big.bin HTTP/1.1\r\nHost: {}\r\n\r\n", server.host()).as_bytes())
        .unwrap();
    // A slow client: the last bytes cannot leave before it reads again, 600 ms later (32 MiB is
    // more than any loopback socket buffer holds).
    let mut stream = conn.stream().try_clone().unwrap();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut got = stream.read(&mut chunk).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let mut last = 1;
    while got < SIZE && last > 0 {
        last = stream.read(&mut chunk).unwrap();
        got += last;
    }
    assert!(got >= SIZE, "read {got}");
    let lines = server.wait_access_log_lines(1, Duration::from_secs(3));
    let objects = json_lines(&lines.join("\n"));
    assert_eq!(objects.len(), 1, "{lines:?}");
    assert_eq!(objects[0]["bytes"], SIZE as u64);
    let ms = objects[0]["response_ms"].as_u64().expect("response_ms");
    assert!(
        (500..30_000).contains(&ms),
        "response_ms {ms} for a client that paused 600 ms"
    );
}

#[test]
fn an_unknown_format_is_refused_naming_the_key() {
    let dir = TempDir::new();
    let site = toml_literal(&dir.mkdir("site").display().to_string());
    let config = dir.write(
        "staticd.toml",
        format!("[server]\nport = 0\nroot = {site}\n[log]\nformat = \"xml\"\n").as_bytes(),
    );
    let run = run_staticd(
        &["--config", config.to_str().unwrap()],
        dir.path(),
        Duration::from_secs(10),
    );
    assert_eq!(run.status.and_then(|s| s.code()), Some(2), "{}", run.stderr);
    let line = run.stderr.trim();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.contains("log.format") && line.contains("line 5"),
        "{line}"
    );
}
