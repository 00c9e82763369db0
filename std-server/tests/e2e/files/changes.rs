//! Files that change on disk while they are sent: one that shrinks ends in a close before its
//! Content-Length (RFC 9112 §6.3: the client sees an incomplete message, never padding or a hang);
//! one that grows, is deleted or is replaced is sent whole as it was when the response began; and
//! the next request gets the file as it is now.

use crate::common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

const INDEX: &[u8] = b"<!doctype html><p>still here</p>\n";

// ---------------------------------------------------------------------------------------------
// A file that changes while it is sent
// ---------------------------------------------------------------------------------------------

const BIG_LEN: usize = 16 << 20;

/// A client socket with a small receive buffer (set before connect, so the window stays small).
fn small_window_client(server: &Server) -> TcpStream {
    use rustix::net::{AddressFamily, SocketType, connect, ipproto, socket, sockopt};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, Some(ipproto::TCP)).expect("socket");
    sockopt::set_socket_recv_buffer_size(&fd, 4096).expect("SO_RCVBUF");
    connect(&fd, &server.addr()).expect("connect");
    let stream = TcpStream::from(fd);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

/// How a download ended, judged against its own Content-Length.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// Exactly Content-Length bytes, and nothing after them.
    Full,
    /// Fewer bytes, then the connection was closed: allowed.
    ClosedEarly(usize),
}

/// Reads the rest of a response whose head is already parsed: `body` holds what arrived with the
/// head. Fails on bytes beyond Content-Length, on a short body left open, and on bytes within the
/// first `stable` bytes that differ from `original` (the file as it was when the request was made).
/// Beyond `stable` nothing is checked: a file shrunk in place may take with it pages that sendfile
/// had already queued by reference (on tmpfs the rest of a huge page reads back as zeros) — the
/// writer's race, not the server's.
fn finish_download(
    stream: &mut TcpStream,
    mut body: Vec<u8>,
    content_length: usize,
    original: &[u8],
    stable: usize,
    what: &str,
) -> Result<Ending, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut closed = false;
    while body.len() < content_length {
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "{what}: {} of {content_length} bytes after 30 s and the connection still open",
                body.len()
            ));
        }
        stream
            .set_read_timeout(Some(deadline - now))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                closed = true;
                break;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!(
                    "{what}: {} of {content_length} bytes and the server neither sends nor closes",
                    body.len()
                ));
            }
            Err(e) => return Err(format!("{what}: read error {e}")),
        }
    }
    if body.len() > content_length {
        return Err(format!(
            "{what}: {} bytes sent for a Content-Length of {content_length}",
            body.len()
        ));
    }
    let common = body.len().min(original.len()).min(stable);
    if body[..common] != original[..common] || body.len() > original.len() {
        let at = body
            .iter()
            .zip(original)
            .position(|(a, b)| a != b)
            .unwrap_or(common);
        let zeros_after = body[at..].iter().take_while(|&&b| b == 0).count();
        return Err(format!(
            "{what}: body differs from the file as requested at byte {at} (got {} of {content_length} bytes, closed: {closed}; {zeros_after} zero bytes from there)",
            body.len()
        ));
    }
    if closed {
        return Ok(Ending::ClosedEarly(body.len()));
    }
    // Nothing was asked after this response: any further byte is extra.
    stream
        .set_read_timeout(Some(Duration::from_millis(700)))
        .map_err(|e| e.to_string())?;
    match stream.read(&mut chunk) {
        Ok(n) if n > 0 => Err(format!(
            "{what}: {n} bytes after the promised {content_length}"
        )),
        _ => Ok(Ending::Full),
    }
}

/// Requests /big.bin on a small-window socket, reads the head and about 256 KiB slowly, runs
/// `mutate`, then reads the rest. Returns how it ended.
fn download_while(
    server: &Server,
    original: &[u8],
    stable: usize,
    what: &str,
    mutate: impl FnOnce(),
) -> Ending {
    let mut stream = small_window_client(server);
    stream
        .write_all(format!("GET /big.bin HTTP/1.1\r\nHost: {}\r\n\r\n", server.host()).as_bytes())
        .expect("send");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).expect("read head");
        assert!(n > 0, "{what}: closed before the head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = parse_response_head(&buf[..head_end]).expect("response head");
    assert_eq!(head.status, 200, "{what}");
    let content_length: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    assert_eq!(
        content_length,
        original.len(),
        "{what}: length before the change"
    );
    let mut body = buf[head_end..].to_vec();
    // Slowly, so the server is mid-file when the file changes.
    while body.len() < 256 * 1024 {
        let n = stream.read(&mut chunk).expect("read body");
        assert!(
            n > 0,
            "{what}: closed at {} bytes before any change",
            body.len()
        );
        body.extend_from_slice(&chunk[..n]);
        thread::sleep(Duration::from_millis(1));
    }
    mutate();
    let ending = finish_download(&mut stream, body, content_length, original, stable, what)
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{what}: {ending:?}");
    ending
}

/// A fresh request for /big.bin after the change is answered from the file as it is now: a file
/// sent from disk is checked against one stat of its path on every request (files.rs), so a changed
/// size or a new inode is seen at once — a 200 with the current length and bytes, kept open.
fn fresh_download_is_the_current_file(server: &Server, what: &str) {
    let current = std::fs::read(server.site().join("big.bin"))
        .unwrap_or_else(|e| panic!("{what}: the test's own file is gone: {e}"));
    let mut stream =
        TcpStream::connect_timeout(&server.addr(), Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(format!("GET /big.bin HTTP/1.1\r\nHost: {}\r\n\r\n", server.host()).as_bytes())
        .expect("send");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream
            .read(&mut chunk)
            .unwrap_or_else(|e| panic!("{what}: fresh head: {e}"));
        assert!(n > 0, "{what}: fresh request closed before the head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = parse_response_head(&buf[..head_end]).expect("response head");
    assert_eq!(head.status, 200, "{what}: fresh download status");
    let content_length: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    assert_eq!(
        content_length,
        current.len(),
        "{what}: a fresh request must promise the file's current length"
    );
    let ending = finish_download(
        &mut stream,
        buf[head_end..].to_vec(),
        content_length,
        &current,
        current.len(),
        &format!("{what}, fresh download of {content_length} bytes"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ending,
        Ending::Full,
        "{what}: a fresh download of the current file must arrive whole on an open connection"
    );
}

/// Waits up to 5 s for a HEAD of /big.bin to report the full length again (a metadata cache may hold
/// an old one for a moment).
fn big_file_length_restored(server: &Server) -> bool {
    wait_until(Duration::from_secs(5), || {
        let r = server.request(
            format!(
                "HEAD /big.bin HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                server.host()
            )
            .as_bytes(),
        );
        r.content_length() == Some(BIG_LEN as u64)
    })
}

fn big_file_server() -> (Server, Vec<u8>) {
    let original = pseudo_random_bytes(BIG_LEN, 11);
    let server = Server::builder()
        .config("[files]\nallowed_extensions = [\".html\", \".bin\"]\n")
        .file("index.html", INDEX)
        .file("big.bin", &original)
        .start();
    (server, original)
}

#[test]
fn a_file_shrinking_while_sent_ends_in_a_close_not_a_hang_or_padding() {
    let (server, original) = big_file_server();
    let path = server.site().join("big.bin");
    let ending = download_while(&server, &original, 1 << 20, "shrink to 1 MiB", || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(1 << 20))
            .expect("truncate");
    });
    // The open file now ends before the promised length: sendfile meets its end and the server
    // closes (RFC 9112 §6.3: a message cut short by a close is incomplete) instead of padding or
    // leaving the client waiting for bytes that will never come.
    assert!(
        matches!(ending, Ending::ClosedEarly(_)),
        "a file shrunk while sent must end in a close before its Content-Length, got {ending:?}"
    );
    fresh_download_is_the_current_file(&server, "after the shrink");
    std::fs::write(&path, &original).expect("restore the big file");
    // A metadata cache may hold the old length for a moment; start from the restored file.
    let restored = big_file_length_restored(&server);
    assert!(
        restored,
        "the restored file's length is not served within 5 s"
    );
    let ending = download_while(&server, &original, 0, "shrink to zero", || {
        std::fs::File::create(&path).expect("truncate to 0");
    });
    // As above: the promised length cannot be kept, so the connection closes.
    assert!(
        matches!(ending, Ending::ClosedEarly(_)),
        "a file shrunk while sent must end in a close before its Content-Length, got {ending:?}"
    );
    assert_still_serves(&server, "/index.html", INDEX, "a shrinking file");
}

#[test]
fn a_file_shrunk_between_requests_is_served_at_its_new_length_at_once() {
    // Served once (so the version table holds its length), shrunk, and asked for again at once: a
    // body sent from disk is checked against its path on every request, so the answer is the new
    // file whole — never the old length.
    let (server, original) = big_file_server();
    let path = server.site().join("big.bin");
    for round in 0..4 {
        std::fs::write(&path, &original).expect("restore");
        let restored = big_file_length_restored(&server);
        assert!(
            restored,
            "round {round}: the restored length is not served within 5 s"
        );
        let r = server.get("/big.bin");
        assert!(
            r.status == 200 && r.body == original,
            "round {round}: full download after restoring got {} with {} bytes (Content-Length {:?}), first difference at {:?}",
            r.status,
            r.body.len(),
            r.content_length(),
            r.body.iter().zip(&original).position(|(a, b)| a != b)
        );
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(1 << 20))
            .expect("truncate");
        fresh_download_is_the_current_file(
            &server,
            &format!("round {round}, right after a shrink to 1 MiB"),
        );
    }
    assert_still_serves(&server, "/index.html", INDEX, "shrinks between requests");
}

#[test]
fn a_file_growing_while_sent_is_cut_at_its_content_length() {
    let (server, original) = big_file_server();
    let path = server.site().join("big.bin");
    let ending = download_while(&server, &original, BIG_LEN, "grow by 4 MiB", || {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open to append");
        f.write_all(&pseudo_random_bytes(4 << 20, 12))
            .expect("append");
    });
    // The length was fixed when the response began: exactly the original bytes, then the
    // connection stays open for the next request (no byte of the growth leaks into it).
    assert_eq!(ending, Ending::Full, "got {ending:?}");
    fresh_download_is_the_current_file(&server, "after the growth");
    assert_still_serves(&server, "/index.html", INDEX, "a growing file");
}

#[test]
fn a_file_deleted_or_replaced_while_sent_is_sent_whole_from_the_open_file() {
    let (server, original) = big_file_server();
    let path = server.site().join("big.bin");
    let ending = download_while(&server, &original, BIG_LEN, "delete", || {
        std::fs::remove_file(&path).expect("delete");
    });
    // The open descriptor keeps the unlinked file's bytes: the response completes whole.
    assert_eq!(ending, Ending::Full, "got {ending:?}");
    let r = server.get("/big.bin");
    assert_eq!(r.status, 404, "a deleted file is gone");

    // Replaced by rename (a new inode) with other bytes of the same length.
    std::fs::write(&path, &original).expect("restore");
    let replacement = pseudo_random_bytes(BIG_LEN, 13);
    let staged = server.dir().join("big.staged");
    std::fs::write(&staged, &replacement).expect("stage");
    let ending = download_while(&server, &original, BIG_LEN, "replace by rename", || {
        std::fs::rename(&staged, &path).expect("rename over");
    });
    // The open descriptor still holds the old inode: the old bytes, whole, on an open connection.
    assert_eq!(ending, Ending::Full, "got {ending:?}");
    fresh_download_is_the_current_file(&server, "after the replacement");
    assert_still_serves(&server, "/index.html", INDEX, "a deleted file");
}
