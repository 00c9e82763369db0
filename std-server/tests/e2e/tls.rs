//! HTTPS: a CA and server certificates made for each test (rcgen), staticd's `[tls]` listener
//! beside the plain one, and real clients: curl over TLS 1.2 and 1.3, `openssl s_client` for ALPN
//! and SNI; hostile bytes on the TLS port; certificates re-read on SIGHUP; bad files refused.

use crate::common::*;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::certs::Ca;
use rustls::pki_types::pem::PemObject as _;

const RUN_LIMIT: Duration = Duration::from_secs(10);

/// A server with `[tls]` on a free port: the default certificate for `localhost`, and one for
/// `b.test` by SNI. Returns the server, the directory of the PEM files and the TLS port.
fn tls_server(extra_files: &[(&str, &[u8])]) -> (Server, TempDir, u16) {
    tls_server_with("", "", extra_files)
}

/// [`tls_server`] with more `[server]` and `[tls]` lines.
fn tls_server_with(
    server_lines: &str,
    tls_lines: &str,
    extra_files: &[(&str, &[u8])],
) -> (Server, TempDir, u16) {
    let certs = TempDir::new();
    let ca = Ca::new(&certs);
    ca.leaf(&certs, "localhost", &["localhost"]);
    ca.leaf(&certs, "b", &["b.test"]);
    let path = |f: &str| toml_literal(&certs.path().join(f).display().to_string());
    let config = format!(
        "[server]\nthreads = 2\n{server_lines}\n[tls]\nport = 0\ncertificate = {}\nkey = {}\n\
         {tls_lines}\n[[tls.names]]\nname = \"b.test\"\ncertificate = {}\nkey = {}\n",
        path("localhost.pem"),
        path("localhost.key"),
        path("b.pem"),
        path("b.key"),
    );
    let server = Server::builder()
        .config(&config)
        .file("a.txt", b"hello over tls\n")
        .files(extra_files)
        .start();
    let port = tls_port(&server);
    (server, certs, port)
}

/// The TLS port from the second ready line, `staticd listening on https://127.0.0.1:PORT/` (the
/// harness keeps the lines after the first).
fn tls_port(server: &Server) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let lines = server.stdout_lines();
        if let Some(line) = lines
            .iter()
            .find_map(|l| l.strip_prefix("staticd listening on https://127.0.0.1:"))
        {
            return line.trim_end_matches('/').parse().expect("a port");
        }
        assert!(
            Instant::now() < deadline,
            "no https ready line in {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// curl against `https://localhost:PORT/...` trusting only the test CA; (status, stdout, stderr).
fn curl(certs: &TempDir, port: u16, args: &[&str]) -> (bool, Vec<u8>, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(certs.path().join("ca.pem"))
        .arg("--resolve")
        .arg(format!("localhost:{port}:127.0.0.1"))
        .args(args)
        .output()
        .expect("curl runs (scripts/setup-test-deps.sh installs it)");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `openssl s_client` with `args`, its stdin closed; the whole output.
fn s_client(certs: &TempDir, port: u16, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(certs.path().join("ca.pem"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs (scripts/setup-test-deps.sh installs it)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn verified_for(certs: &TempDir, port: u16, sni: &str, name: &str) -> bool {
    let out = s_client(
        certs,
        port,
        &["-servername", sni, "-verify_hostname", name, "-brief"],
    );
    out.contains("Verification: OK")
}

#[test]
fn curl_gets_files_over_tls_1_2_and_1_3_and_the_plain_listener_still_serves() {
    let (server, certs, port) = tls_server(&[]);
    let url = format!("https://localhost:{port}/a.txt");
    for (flags, version) in [
        (&["--tlsv1.2", "--tls-max", "1.2"][..], "TLSv1.2"),
        (&["--tlsv1.3"][..], "TLSv1.3"),
    ] {
        let mut args = flags.to_vec();
        args.extend(["-v", url.as_str()]);
        let (ok, body, stderr) = curl(&certs, port, &args);
        assert!(ok, "{version}: {stderr}");
        assert_eq!(body, b"hello over tls\n", "{version}");
        assert!(
            stderr.contains(version),
            "{version} not negotiated: {stderr}"
        );
        assert!(stderr.contains("HTTP/1.1 200"), "{stderr}");
    }
    assert_eq!(server.get("/a.txt").body, b"hello over tls\n");
}

#[test]
fn openssl_sees_alpn_http_1_1_and_the_certificate_of_the_name_asked_for() {
    let (_server, certs, port) = tls_server(&[]);
    let out = s_client(
        &certs,
        port,
        &["-alpn", "http/1.1", "-servername", "localhost"],
    );
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    // SNI: each name gets its own certificate, verified for that name and not for the other.
    assert!(verified_for(&certs, port, "localhost", "localhost"));
    assert!(verified_for(&certs, port, "b.test", "b.test"));
    assert!(!verified_for(&certs, port, "b.test", "localhost"));
    assert!(!verified_for(&certs, port, "localhost", "b.test"));
    // A name without a certificate of its own gets the default one.
    assert!(verified_for(&certs, port, "other.test", "localhost"));
}

#[test]
fn keep_alive_and_a_1_mib_file_over_tls_arrive_whole() {
    let big: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (_server, certs, port) = tls_server(&[("big.txt", &big)]);
    let out = certs.path().join("big.out");
    let big_url = format!("https://localhost:{port}/big.txt");
    let small_url = format!("https://localhost:{port}/a.txt");
    // Two requests in one curl run: the second reuses the connection (no new connect).
    let (ok, stdout, stderr) = curl(
        &certs,
        port,
        &[
            "-w",
            "%{http_code} %{num_connects}\\n",
            "-o",
            out.to_str().unwrap(),
            &big_url,
            "-o",
            "/dev/null",
            &small_url,
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&stdout),
        "200 1\n200 0\n",
        "{stderr}"
    );
    let got = std::fs::read(&out).unwrap();
    assert_eq!(got.len(), big.len());
    assert_eq!(Sha256::digest(&got), Sha256::digest(&big));
}

#[test]
fn garbage_and_plain_http_on_the_tls_port_are_closed_while_a_good_client_is_served() {
    // 16 MiB is more than loopback's socket buffers hold, so while the good client does not read,
    // the server has its response in progress, blocked on a full socket.
    let big: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let (_server, certs, port) = tls_server(&[("big.txt", &big)]);
    let mut good = tls_client(&certs, port);
    good.write_all(b"GET /big.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 1];
    good.read_exact(&mut first).expect("the answer starts");
    for hostile in [
        &b"\x16\x03\x01\x00\x05garbage that is no handshake\r\n\r\n"[..],
        b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        &[0xffu8; 4096][..],
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(hostile).unwrap();
        let mut got = Vec::new();
        let started = Instant::now();
        // The server closes: EOF (or a reset), within the timeout, after at most an alert.
        let _ = s.read_to_end(&mut got);
        assert!(started.elapsed() < Duration::from_secs(4), "not closed");
        assert!(got.len() <= 7, "more than an alert: {got:?}");
        assert!(!got.starts_with(b"HTTP/"), "plain HTTP answered: {got:?}");
    }
    // The good client reads the rest: the whole file, its connection untouched by the others.
    let answer = read_tls_response(&mut (&first[..]).chain(&mut good));
    assert_eq!(answer.status, 200);
    assert_eq!(Sha256::digest(&answer.body), Sha256::digest(&big));
}

#[test]
fn certificates_are_re_read_on_sighup_and_a_bad_one_keeps_the_running_ones() {
    let (server, certs, port) = tls_server(&[]);
    assert!(!verified_for(&certs, port, "localhost", "reloaded.test"));
    // New files in place of the old (a new CA too, so only the new certificate verifies).
    let fresh = TempDir::new();
    let ca = Ca::new(&fresh);
    ca.leaf(&fresh, "localhost", &["localhost", "reloaded.test"]);
    for f in ["ca.pem", "localhost.pem", "localhost.key"] {
        std::fs::copy(fresh.path().join(f), certs.path().join(f)).unwrap();
    }
    server.signal(Signal::HUP);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !verified_for(&certs, port, "localhost", "reloaded.test") {
        assert!(
            Instant::now() < deadline,
            "the new certificate never served; stderr: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A broken certificate file: the reload is refused, the running certificate stays.
    std::fs::write(certs.path().join("localhost.pem"), b"not a certificate\n").unwrap();
    server.signal(Signal::HUP);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr().contains("keeping the current settings") {
        assert!(Instant::now() < deadline, "stderr: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.stderr().contains("tls.certificate"),
        "{}",
        server.stderr()
    );
    assert!(verified_for(&certs, port, "localhost", "reloaded.test"));
}

/// A settings file serving `dir/site` on a free port with `[tls]` from `tls`.
fn refused(tls: impl FnOnce(&TempDir, &Ca) -> String, key: &str) {
    let dir = TempDir::new();
    let site = dir.mkdir("site");
    let ca = Ca::new(&dir);
    let text = format!(
        "[server]\nhost = \"127.0.0.1\"\nport = 0\nroot = {}\n\n[tls]\nport = 0\n{}",
        toml_literal(&site.display().to_string()),
        tls(&dir, &ca)
    );
    let config = dir.write("staticd.toml", text.as_bytes());
    let run = run_staticd(
        &["--config", config.to_str().unwrap()],
        dir.path(),
        RUN_LIMIT,
    );
    assert_refused_at_start("bad [tls]", &run, &[key]);
}

#[test]
fn a_missing_or_broken_certificate_or_key_refuses_to_start_naming_the_key() {
    refused(
        |_, _| "certificate = \"nope.pem\"\nkey = \"nope.key\"\n".to_owned(),
        "tls.certificate",
    );
    refused(
        |dir, _| {
            dir.write("bad.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n");
            "certificate = \"bad.pem\"\nkey = \"bad.key\"\n".to_owned()
        },
        "tls.certificate",
    );
    // A key that is not the certificate's.
    refused(
        |dir, ca| {
            ca.leaf(dir, "one", &["localhost"]);
            ca.leaf(dir, "two", &["localhost"]);
            "certificate = \"one.pem\"\nkey = \"two.key\"\n".to_owned()
        },
        "tls.key",
    );
    refused(
        |dir, ca| {
            ca.leaf(dir, "one", &["localhost"]);
            "certificate = \"one.pem\"\nkey = \"one.key\"\n[[tls.names]]\nname = \"b.test\"\n\
             certificate = \"one.pem\"\nkey = \"missing.key\"\n"
                .to_owned()
        },
        "tls.names[0].key",
    );
}

/// The addresses of the `n` ready lines, `staticd listening on SCHEME://ADDR/`, as (scheme, addr).
fn ready_addrs(server: &Server, n: usize) -> Vec<(String, std::net::SocketAddr)> {
    let lines = server.wait_stdout_lines(n - 1, Duration::from_secs(5));
    std::iter::once(format!("staticd listening on http://{}/", server.addr()))
        .chain(lines)
        .filter_map(|l| {
            let rest = l.strip_prefix("staticd listening on ")?;
            let (scheme, addr) = rest.split_once("://")?;
            Some((scheme.to_owned(), addr.trim_end_matches('/').parse().ok()?))
        })
        .collect()
}

#[test]
fn plain_and_tls_listeners_on_ipv4_and_ipv6_serve_at_once() {
    let (server, certs, _) = tls_server_with(
        "also_listen = [\"[::1]:0\"]\n",
        "also_listen = [\"[::1]:0\"]\n",
        &[],
    );
    let addrs = ready_addrs(&server, 4);
    let shown: Vec<String> = addrs.iter().map(|(s, a)| format!("{s}://{a}")).collect();
    assert_eq!(addrs.len(), 4, "{shown:?}");
    for (scheme, v6) in [
        ("http", false),
        ("http", true),
        ("https", false),
        ("https", true),
    ] {
        let (_, addr) = addrs
            .iter()
            .find(|(s, a)| s == scheme && a.is_ipv6() == v6)
            .unwrap_or_else(|| {
                panic!(
                    "no {scheme} listener on IPv{}: {shown:?}",
                    if v6 { 6 } else { 4 }
                )
            });
        let ip = if v6 {
            "[::1]".to_owned()
        } else {
            addr.ip().to_string()
        };
        let port = addr.port();
        let (ok, body, stderr) = curl(
            &certs,
            port,
            &[
                "--resolve",
                &format!("localhost:{port}:{ip}"),
                &format!("{scheme}://localhost:{port}/a.txt"),
                "-w",
                "%{remote_ip}",
            ],
        );
        assert!(ok, "{scheme}://{addr}: {stderr}");
        let expected_ip = if v6 { "::1" } else { "127.0.0.1" };
        assert_eq!(
            String::from_utf8_lossy(&body),
            format!("hello over tls\n{expected_ip}"),
            "{scheme}://{addr}"
        );
    }
    // Plain HTTP on an IPv6 TLS listener is closed, never answered in plain text.
    let (_, v6_tls) = addrs
        .iter()
        .find(|(s, a)| s == "https" && a.is_ipv6())
        .unwrap();
    let got = exchange(
        *v6_tls,
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
        false,
    );
    assert!(!got.bytes.starts_with(b"HTTP/"), "{}", got.lossy());
}

#[test]
fn a_bad_listen_address_refuses_to_start_naming_the_key() {
    let dir = TempDir::new();
    let site = dir.mkdir("site");
    let ca = Ca::new(&dir);
    ca.leaf(&dir, "one", &["localhost"]);
    for (server_lines, tls_lines, key) in [
        (
            "also_listen = [\"localhost:80\"]\n",
            "",
            "server.also_listen[0]",
        ),
        (
            "",
            "also_listen = [\"[::1]:0\", \"::1\"]\n",
            "tls.also_listen[1]",
        ),
    ] {
        let text = format!(
            "[server]\nhost = \"127.0.0.1\"\nport = 0\nroot = {}\n{server_lines}\n[tls]\nport = 0\n\
             certificate = \"one.pem\"\nkey = \"one.key\"\n{tls_lines}",
            toml_literal(&site.display().to_string()),
        );
        let config = dir.write("staticd.toml", text.as_bytes());
        let run = run_staticd(
            &["--config", config.to_str().unwrap()],
            dir.path(),
            RUN_LIMIT,
        );
        assert_refused_at_start("bad listen address", &run, &[key]);
    }
}

/// A raw request to the plain listener of `server`.
fn plain(server: &Server, raw: &[u8]) -> Response {
    server.request(raw)
}

#[test]
fn the_plain_listener_redirects_to_https_with_the_host_checked_and_curl_follows() {
    let (server, certs, port) = tls_server_with("", "redirect = true\n", &[]);
    let location = |raw: &[u8]| {
        let r = plain(&server, raw);
        (r.status, r.header("location").map(str::to_owned), r)
    };
    // The path and query as sent, the host without its port, the TLS listener's port.
    let (status, loc, r) =
        location(b"GET /a.txt?x=1&y=%41 HTTP/1.1\r\nHost: localhost:8080\r\n\r\n");
    assert_eq!(status, 301);
    assert_eq!(
        loc.as_deref(),
        Some(format!("https://localhost:{port}/a.txt?x=1&y=%41").as_str())
    );
    assert!(!r.says_close());
    let (status, loc, r) = location(b"HEAD /dir/ HTTP/1.1\r\nHost: [::1]\r\n\r\n");
    assert_eq!(status, 301);
    assert_eq!(
        loc.as_deref(),
        Some(format!("https://[::1]:{port}/dir/").as_str())
    );
    assert!(r.body.is_empty());
    // RFC 9112 §3.2.2: an absolute-form target's authority wins over Host.
    let (_, loc, _) = location(b"GET http://Other.test:81 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(
        loc.as_deref(),
        Some(format!("https://Other.test:{port}/").as_str())
    );
    // Bytes no URI holds as they are are escaped, never copied into the field.
    let (_, loc, _) = location(b"GET /a\"<b>\xff HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(
        loc.as_deref(),
        Some(format!("https://localhost:{port}/a%22%3Cb%3E%FF").as_str())
    );
    // A Host that is not a plain host name or address: 400, no Location at all.
    for host in [
        &b"evil.test/path"[..],
        b"user@evil.test",
        b"a\"b",
        b"evil.test:80x",
        b"[::1]x",
        b"[evil]",
        b"ex%61mple.test",
        b"a b",
        b":8080",
    ] {
        let mut raw = b"GET /a.txt HTTP/1.1\r\nHost: ".to_vec();
        raw.extend_from_slice(host);
        raw.extend_from_slice(b"\r\n\r\n");
        let r = plain(&server, &raw);
        assert_eq!(r.status, 400, "Host: {}", String::from_utf8_lossy(host));
        assert_eq!(r.header("location"), None);
    }
    // Methods that read nothing are answered as everywhere else.
    assert_eq!(
        plain(
            &server,
            b"POST /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
        )
        .status,
        405
    );
    // Several requests on one connection are each redirected.
    let mut conn = server.connect();
    for _ in 0..3 {
        conn.send(b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        assert_eq!(conn.read_response().status, 301);
    }
    // curl follows the redirect from the plain port to HTTPS and gets the file.
    let plain_port = server.port();
    let (ok, body, stderr) = curl(
        &certs,
        port,
        &[
            "-L",
            "--resolve",
            &format!("localhost:{plain_port}:127.0.0.1"),
            &format!("http://localhost:{plain_port}/a.txt"),
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(body, b"hello over tls\n");
    // The access log records the 301 like any answer (written in batches: wait for it).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.access_log().contains("\"GET /a.txt HTTP/1.1\" 301 ") {
        assert!(Instant::now() < deadline, "{}", server.access_log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_redirect_port_of_443_is_left_out_of_the_location() {
    let (server, _certs, _) = tls_server_with("", "redirect = true\nredirect_port = 443\n", &[]);
    let r = plain(
        &server,
        b"GET /a.txt HTTP/1.1\r\nHost: www.example.test\r\n\r\n",
    );
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("https://www.example.test/a.txt"));
}

#[test]
fn a_proxy_header_from_a_trusted_balancer_comes_before_the_handshake() {
    // TLS passed through a balancer in TCP mode: the PROXY header (curl's v1) precedes the
    // ClientHello, and staticd reads it before handing the connection to rustls.
    let proxy = "\n[proxy]\ntrusted = [\"127.0.0.1\"]\nprotocol = \"required\"\n";
    let (server, certs, port) = tls_server_with(proxy, "", &[]);
    let url = format!("https://localhost:{port}/a.txt");
    let (ok, body, err) = curl(&certs, port, &["--haproxy-protocol", &url]);
    assert!(ok, "{err}");
    assert_eq!(body, b"hello over tls\n");
    // Without the header a trusted peer's connection is closed before any handshake.
    let (ok, _, err) = curl(&certs, port, &[&url]);
    assert!(!ok, "served without a PROXY header");
    let lines = server.wait_access_log_lines(1, RUN_LIMIT);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("127.0.0.1 - - ["), "{lines:?}");
    assert!(
        server
            .stderr()
            .contains("closed a connection from trusted proxy 127.0.0.1: no PROXY header"),
        "{err}: {}",
        server.stderr()
    );
}

/// One response read from a TLS stream: the head and its Content-Length body.
/// A TLS connection to `localhost` on `port` trusting the test CA in `certs` (reads time out after
/// 5 s).
fn tls_client(
    certs: &TempDir,
    port: u16,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        rustls::pki_types::CertificateDer::pem_file_iter(certs.path().join("ca.pem")).unwrap()
    {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let session =
        rustls::ClientConnection::new(std::sync::Arc::new(config), "localhost".try_into().unwrap())
            .unwrap();
    let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    rustls::StreamOwned::new(session, socket)
}

fn read_tls_response(tls: &mut impl Read) -> Response {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let mut response = parse_response_head(&buf[..end + 4]).expect("a response head");
            let len = response.content_length().expect("Content-Length") as usize;
            if buf.len() >= end + 4 + len {
                response.body = buf[end + 4..end + 4 + len].to_vec();
                return response;
            }
        }
        let n = tls.read(&mut chunk).expect("read within the timeout");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn a_tls_connection_open_across_a_certificate_reload_is_still_served() {
    let (server, certs, port) = tls_server(&[]);
    // A keep-alive connection that trusts only the first CA.
    let mut tls = tls_client(&certs, port);
    let request = b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    tls.write_all(request).unwrap();
    let first = read_tls_response(&mut tls);
    assert_eq!(
        (first.status, first.body.as_slice()),
        (200, &b"hello over tls\n"[..])
    );

    // New certificate files from a new CA, then SIGHUP: new connections get the new certificate.
    let fresh = TempDir::new();
    let ca = Ca::new(&fresh);
    ca.leaf(&fresh, "localhost", &["localhost", "reloaded.test"]);
    for f in ["ca.pem", "localhost.pem", "localhost.key"] {
        std::fs::copy(fresh.path().join(f), certs.path().join(f)).unwrap();
    }
    server.signal(Signal::HUP);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !verified_for(&certs, port, "localhost", "reloaded.test") {
        assert!(Instant::now() < deadline, "stderr: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The connection made before the reload is answered as before, on its own session.
    for _ in 0..3 {
        tls.write_all(request).unwrap();
        let again = read_tls_response(&mut tls);
        assert_eq!(
            (again.status, again.body.as_slice()),
            (200, &b"hello over tls\n"[..])
        );
        assert!(!again.says_close());
    }
}

#[test]
fn a_stalled_or_half_sent_handshake_is_closed_at_the_header_timeout() {
    let (_server, certs, port) = tls_server_with("header_timeout = 0.5\n", "", &[]);
    // Silent after connecting, and the first bytes of a ClientHello then nothing.
    for sent in [&b""[..], b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(sent).unwrap();
        let started = Instant::now();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(4),
            "closed after {waited:?}"
        );
        assert!(!got.starts_with(b"HTTP/"), "{got:?}");
    }
    // The listener still serves.
    let (ok, body, stderr) = curl(&certs, port, &[&format!("https://localhost:{port}/a.txt")]);
    assert!(ok, "{stderr}");
    assert_eq!(body, b"hello over tls\n");
}
