//! `[proxy]`: the PROXY protocol (v1 and v2) from trusted balancers, and `X-Forwarded-For`; the
//! client they name is the one the access log shows (Combined and JSON), an untrusted peer is
//! served as itself, and a trusted peer's bad header closes only its own connection.

use std::time::Duration;

use crate::common::client::{CloseWait, Conn};
use crate::common::server::{Server, Signal, server_alive};

const FILE: &[u8] = b"hello through a balancer\n";

/// The v2 header for a TCP connection from `src` to `dst`, with `tlv` after the addresses.
fn v2_header(
    command: u8,
    src: std::net::SocketAddr,
    dst: std::net::SocketAddr,
    tlv: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    let family = match (src, dst) {
        (std::net::SocketAddr::V4(s), std::net::SocketAddr::V4(d)) => {
            body.extend(s.ip().octets());
            body.extend(d.ip().octets());
            0x11
        }
        (std::net::SocketAddr::V6(s), std::net::SocketAddr::V6(d)) => {
            body.extend(s.ip().octets());
            body.extend(d.ip().octets());
            0x21
        }
        _ => panic!("mixed families"),
    };
    body.extend(src.port().to_be_bytes());
    body.extend(dst.port().to_be_bytes());
    body.extend(tlv);
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend([command, family]);
    out.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
    out.extend(body);
    out
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: site\r\nUser-Agent: lb-test\r\n\r\n").into_bytes()
}

/// The access log's lines whose request is `GET path`.
fn logged(server: &Server, path: &str, n: usize) -> Vec<String> {
    let needle = format!("GET {path} HTTP/1.1");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<String> = server
            .access_log()
            .lines()
            .filter(|l| l.contains(&needle))
            .map(str::to_owned)
            .collect();
        if lines.len() >= n || std::time::Instant::now() >= deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn client_of(line: &str) -> &str {
    line.split(' ').next().unwrap_or_default()
}

const REQUIRED: &str = "[proxy]\ntrusted = [\"127.0.0.1\"]\nprotocol = \"required\"\n";

#[test]
fn proxy_v1_and_v2_from_a_trusted_peer_name_the_client_in_the_access_log() {
    let server = Server::start(
        REQUIRED,
        &[("a.txt", FILE), ("b.txt", FILE), ("c.txt", FILE)],
    );
    let own = server.addr();

    // v1, then a second request on the same connection: both are the named client's.
    let mut conn = Conn::open(own);
    let mut bytes = b"PROXY TCP4 192.0.2.7 127.0.0.1 56324 80\r\n".to_vec();
    bytes.extend(get("/a.txt"));
    conn.send(&bytes).unwrap();
    let first = conn.read_response();
    assert_eq!(first.status, 200);
    assert_eq!(first.body, FILE);
    conn.send(&get("/a.txt")).unwrap();
    assert_eq!(conn.read_response().status, 200);

    // v2 over IPv6 with a TLV after the addresses, the header and the request in separate writes.
    let mut conn = Conn::open(own);
    let header = v2_header(
        0x21,
        "[2001:db8::7]:40000".parse().unwrap(),
        "[2001:db8::1]:443".parse().unwrap(),
        &[0x04, 0, 3, 1, 2, 3],
    );
    conn.send(&header[..20]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    conn.send(&header[20..]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    conn.send(&get("/b.txt")).unwrap();
    assert_eq!(conn.read_response().status, 200);

    // v2 LOCAL is the balancer speaking for itself (its health check): the peer is the client.
    let mut conn = Conn::open(own);
    let mut bytes = v2_header(
        0x20,
        "192.0.2.99:1".parse().unwrap(),
        "192.0.2.1:2".parse().unwrap(),
        &[],
    );
    bytes.extend(get("/c.txt"));
    conn.send(&bytes).unwrap();
    assert_eq!(conn.read_response().status, 200);

    let a = logged(&server, "/a.txt", 2);
    assert_eq!(a.len(), 2, "{a:?}");
    assert!(a.iter().all(|l| client_of(l) == "192.0.2.7"), "{a:?}");
    let b = logged(&server, "/b.txt", 1);
    assert_eq!(client_of(&b[0]), "2001:db8::7", "{b:?}");
    let c = logged(&server, "/c.txt", 1);
    assert_eq!(client_of(&c[0]), "127.0.0.1", "{c:?}");
}

#[test]
fn the_json_access_log_shows_the_client_a_proxy_header_names() {
    let config = format!("{REQUIRED}[log]\nformat = \"json\"\n");
    let server = Server::start(&config, &[("a.txt", FILE)]);
    let mut conn = Conn::open(server.addr());
    let mut bytes = v2_header(
        0x21,
        "198.51.100.23:1234".parse().unwrap(),
        "127.0.0.1:80".parse().unwrap(),
        &[],
    );
    bytes.extend(get("/a.txt"));
    conn.send(&bytes).unwrap();
    assert_eq!(conn.read_response().status, 200);
    let lines = logged(&server, "/a.txt", 1);
    let entry: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(entry["client"], "198.51.100.23", "{entry}");
}

#[test]
fn a_trusted_peer_without_a_valid_header_is_closed_unanswered_and_others_are_served() {
    let config = format!("{REQUIRED}[server]\nheader_timeout = 1\n");
    let mut server = Server::start(&config, &[("a.txt", FILE)]);
    let own = server.addr();

    // A stalled partial header holds only its own connection, until the header timer.
    let mut stalled = Conn::open(own);
    stalled.send(b"PROXY TCP4 192.0.2").unwrap();

    let refused: [&[u8]; 5] = [
        // No header at all: a direct request from a balancer's address.
        &get("/a.txt"),
        // v1 with an address that is not one.
        b"PROXY TCP4 192.0.2.300 127.0.0.1 1 80\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        // v1 without its CRLF within 107 bytes.
        &[b"PROXY UNKNOWN ".as_slice(), &[b'x'; 120]].concat(),
        // v2 with version 1 in its version nibble.
        &[
            b"\r\n\r\n\0\r\nQUIT\n\x11\x11\x00\x0c".as_slice(),
            &[0; 12],
            &get("/a.txt"),
        ]
        .concat(),
        // v2 too short for its INET addresses.
        &[
            b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04".as_slice(),
            &[0; 4],
            &get("/a.txt"),
        ]
        .concat(),
    ];
    for bytes in refused {
        let mut conn = Conn::open(own);
        let _ = conn.send(bytes);
        match conn.wait_closed(Duration::from_secs(10)) {
            CloseWait::Closed(answer) => assert!(
                answer.is_empty(),
                "answered {:?} to {:?}",
                String::from_utf8_lossy(&answer),
                String::from_utf8_lossy(bytes)
            ),
            CloseWait::Open(_) => panic!("still open after {:?}", String::from_utf8_lossy(bytes)),
        }
        // Meanwhile a well-behaved balancer connection is served.
        let mut good = Conn::open(own);
        let mut ok = b"PROXY TCP4 192.0.2.8 127.0.0.1 5000 80\r\n".to_vec();
        ok.extend(get("/a.txt"));
        good.send(&ok).unwrap();
        assert_eq!(good.read_response().body, FILE);
    }

    match stalled.wait_closed(Duration::from_secs(10)) {
        CloseWait::Closed(answer) => assert!(answer.is_empty(), "{answer:?}"),
        CloseWait::Open(_) => panic!("the stalled header outlived the header timeout"),
    }
    assert!(server_alive(&server));
    assert!(server.try_exit().is_none());
    let lines = logged(&server, "/a.txt", 5);
    assert_eq!(
        lines.len(),
        5,
        "only the good requests are logged: {lines:?}"
    );
    assert!(
        lines.iter().all(|l| client_of(l) == "192.0.2.8"),
        "{lines:?}"
    );
    let errors = server.stderr();
    assert!(
        errors.contains("closed a connection from trusted proxy 127.0.0.1: no PROXY header"),
        "{errors}"
    );
    assert!(errors.contains("a malformed PROXY header"), "{errors}");
}

#[test]
fn an_untrusted_peer_is_served_as_itself_and_cannot_name_a_client() {
    // 127.0.0.1 is not in the trusted block: its PROXY line is not read, nor its X-Forwarded-For.
    let config =
        "[proxy]\ntrusted = [\"127.0.0.2\"]\nprotocol = \"required\"\nforwarded_for = true\n";
    let server = Server::start(config, &[("a.txt", FILE)]);
    let mut conn = Conn::open(server.addr());
    conn.send(&get("/a.txt")).unwrap();
    assert_eq!(conn.read_response().status, 200);
    conn.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.66\r\n\r\n")
        .unwrap();
    assert_eq!(conn.read_response().status, 200);

    let mut forged = Conn::open(server.addr());
    let mut bytes = b"PROXY TCP4 192.0.2.7 127.0.0.1 56324 80\r\n".to_vec();
    bytes.extend(get("/a.txt"));
    forged.send(&bytes).unwrap();
    let answer = forged.read_response();
    assert_eq!(answer.status, 400);

    let lines = logged(&server, "/a.txt", 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let all = server.access_log();
    assert!(all.lines().count() >= 3, "{all}");
    assert!(
        all.lines().all(|l| client_of(l) == "127.0.0.1"),
        "an untrusted peer named a client: {all}"
    );
}

#[test]
fn x_forwarded_for_from_a_trusted_peer_names_the_right_most_untrusted_address() {
    let config = "[proxy]\ntrusted = [\"127.0.0.1\", \"10.0.0.0/8\"]\nforwarded_for = true\n";
    let server = Server::start(config, &[("a.txt", FILE)]);
    let mut conn = Conn::open(server.addr());
    let cases: [(&str, &str); 5] = [
        // What the client wrote itself is left of what the trusted hops appended.
        (
            "X-Forwarded-For: 203.0.113.9, 192.0.2.7, 10.1.2.3\r\n",
            "192.0.2.7",
        ),
        // Two field lines: the last is the nearest proxy's.
        (
            "X-Forwarded-For: 203.0.113.10\r\nX-Forwarded-For: 2001:db8::9\r\n",
            "2001:db8::9",
        ),
        // Every entry trusted: the left-most.
        ("X-Forwarded-For: 10.0.0.5, 10.0.0.6\r\n", "10.0.0.5"),
        // Not an address: the walk stops, the peer stays the client.
        ("X-Forwarded-For: 192.0.2.7, unknown\r\n", "127.0.0.1"),
        ("", "127.0.0.1"),
    ];
    for (i, (field, _)) in cases.iter().enumerate() {
        conn.send(format!("GET /a.txt?{i} HTTP/1.1\r\nHost: x\r\n{field}\r\n").as_bytes())
            .unwrap();
        assert_eq!(conn.read_response().status, 200);
    }
    for (i, (field, client)) in cases.iter().enumerate() {
        let lines = logged(&server, &format!("/a.txt?{i}"), 1);
        assert_eq!(lines.len(), 1);
        assert_eq!(client_of(&lines[0]), *client, "{field:?}: {lines:?}");
    }
}

#[test]
fn x_forwarded_for_is_off_by_default() {
    let config = "[proxy]\ntrusted = [\"127.0.0.1\"]\n";
    let server = Server::start(config, &[("a.txt", FILE)]);
    let mut conn = Conn::open(server.addr());
    conn.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n")
        .unwrap();
    assert_eq!(conn.read_response().status, 200);
    let lines = logged(&server, "/a.txt", 1);
    assert_eq!(client_of(&lines[0]), "127.0.0.1", "{lines:?}");
}

#[test]
fn proxy_settings_are_checked_at_start() {
    for (config, expected) in [
        (
            "[proxy]\ntrusted = [\"127.0.0.1\", \"10.0.0.0/33\"]\nprotocol = \"required\"\n",
            "proxy.trusted[1] \"10.0.0.0/33\": has a prefix length",
        ),
        (
            "[proxy]\ntrusted = [\"localhost\"]\n",
            "proxy.trusted[0] \"localhost\": is not an IP address",
        ),
        (
            "[proxy]\nprotocol = \"required\"\n",
            "proxy.trusted: must name the balancers",
        ),
        (
            "[proxy]\nforwarded_for = true\n",
            "proxy.trusted: must name the balancers",
        ),
        ("[proxy]\nprotocol = \"v3\"\n", "protocol"),
    ] {
        let failure = Server::builder()
            .config(config)
            .try_start()
            .err()
            .unwrap_or_else(|| panic!("started with {config:?}"));
        assert_eq!(
            failure.status.and_then(|s| s.code()),
            Some(2),
            "{failure:?}"
        );
        assert!(
            failure.stderr.contains(expected),
            "{config:?}: {}",
            failure.stderr
        );
    }
}

#[test]
fn a_reload_changes_who_is_trusted_for_new_connections() {
    let config = "[proxy]\ntrusted = [\"127.0.0.2\"]\nforwarded_for = true\n";
    let server = Server::start(config, &[("a.txt", FILE)]);
    let xff = |i: usize| {
        let mut conn = Conn::open(server.addr());
        conn.send(
            format!("GET /a.txt?{i} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(conn.read_response().status, 200);
    };
    xff(0);
    let path = server.dir().join("staticd.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let next = server.dir().join("staticd.toml.next");
    std::fs::write(&next, text.replace("\"127.0.0.2\"", "\"127.0.0.1\"")).unwrap();
    std::fs::rename(&next, &path).unwrap();
    server.signal(Signal::HUP);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !server.stderr().contains("settings reloaded") {
        assert!(std::time::Instant::now() < deadline, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    // Retiring workers may still take a connection for a moment: ask until the new ones answer.
    let mut i = 1;
    loop {
        xff(i);
        let lines = logged(&server, &format!("/a.txt?{i}"), 1);
        if client_of(&lines[0]) == "192.0.2.7" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{lines:?}");
        i += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = logged(&server, "/a.txt?0", 1);
    assert_eq!(client_of(&before[0]), "127.0.0.1", "{before:?}");
}
