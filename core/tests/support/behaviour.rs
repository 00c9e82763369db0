//! The HTTP behaviour suite: request streams and the answers RFC 9110/9112 (and staticd's
//! contract) require, run against the runtimes that serve the bundled `site/` — the core's
//! drivers over an in-memory link (core/tests/behaviour.rs), the `staticd` binary over TCP
//! (std-server/tests/e2e/behaviour.rs) and the firmware in QEMU over TCP
//! (firmware/tests/behaviour.rs).
//!
//! A runner implements [`Peer`] (one fresh connection per case: send the bytes, read to the
//! server's close) and calls [`run`]. Every case ends with a request that closes the connection,
//! so no case waits for a timer.

#![allow(dead_code)]

use std::path::Path;

/// One fresh connection: write `request`, then read until the server closes.
pub trait Peer {
    fn exchange(&mut self, request: &[u8]) -> Vec<u8>;
}

/// What the runtime under test serves and allows.
pub struct Target<'a> {
    /// The served folder (the bundled `site/`).
    pub root: &'a Path,
    /// Its `max_request_bytes`.
    pub max_request_bytes: usize,
    /// Its `Server` value.
    pub server: &'a str,
}

/// A parsed response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `bytes` into responses; `head_only[i]` marks the answer to a HEAD (no body follows).
pub fn parse_replies(mut bytes: &[u8], head_only: &[bool]) -> Result<Vec<Reply>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut fields);
        let head_len = match parsed.parse(bytes) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                return Err(format!("a truncated head after {} responses", out.len()));
            }
            Err(e) => return Err(format!("response {}: {e}", out.len())),
        };
        let status = parsed.code.unwrap_or(0);
        let headers: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let bodiless =
            head_only.get(out.len()).copied().unwrap_or(false) || status == 204 || status == 304;
        let body_len = if bodiless { 0 } else { length.unwrap_or(0) };
        let rest = &bytes[head_len..];
        if rest.len() < body_len {
            return Err(format!(
                "response {} ({status}) promised {body_len} bytes, {} came",
                out.len(),
                rest.len()
            ));
        }
        out.push(Reply {
            status,
            headers,
            body: rest[..body_len].to_vec(),
        });
        bytes = &rest[body_len..];
    }
    Ok(out)
}

fn file(root: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("site/{rel}: {e}"))
}

/// A check of one response.
type Check<'a> = Box<dyn Fn(&Reply) -> Result<(), String> + 'a>;

struct Case<'a> {
    /// What rule the case checks, with its RFC section.
    rule: &'static str,
    request: Vec<u8>,
    head_only: Vec<bool>,
    checks: Vec<Check<'a>>,
}

fn status(want: u16) -> impl Fn(&Reply) -> Result<(), String> {
    move |r| {
        if r.status == want {
            Ok(())
        } else {
            Err(format!("status {} instead of {want}", r.status))
        }
    }
}

fn all<'a>(checks: Vec<Check<'a>>) -> Check<'a> {
    Box::new(move |r| checks.iter().try_for_each(|c| c(r)))
}

fn has(name: &'static str, want: String) -> Check<'static> {
    Box::new(move |r: &Reply| match r.header(name) {
        Some(v) if v == want => Ok(()),
        other => Err(format!("{name}: {other:?} instead of {want:?}")),
    })
}

fn lacks(name: &'static str) -> Check<'static> {
    Box::new(move |r: &Reply| match r.header(name) {
        None => Ok(()),
        Some(v) => Err(format!("unexpected {name}: {v}")),
    })
}

fn body(want: Vec<u8>) -> Check<'static> {
    Box::new(move |r: &Reply| {
        if r.body == want {
            Ok(())
        } else {
            Err(format!(
                "a body of {} bytes, not the {} expected",
                r.body.len(),
                want.len()
            ))
        }
    })
}

fn st(want: u16) -> Check<'static> {
    Box::new(status(want))
}

/// The headers every response carries (RFC 9110 §6.6.1, §8.3, §8.6; RFC 9112 §9.6).
fn basics(server: &str, keep_alive: bool) -> Check<'static> {
    let server = server.to_owned();
    Box::new(move |r: &Reply| {
        for name in ["Date", "Server", "Connection"] {
            if r.header(name).is_none() {
                return Err(format!("no {name}"));
            }
        }
        if r.header("Server") != Some(server.as_str()) {
            return Err(format!("Server: {:?}", r.header("Server")));
        }
        if r.status != 204 && r.status != 304 && r.header("Content-Length").is_none() {
            return Err("no Content-Length".into());
        }
        let want = if keep_alive { "keep-alive" } else { "close" };
        if r.header("Connection") != Some(want) {
            return Err(format!(
                "Connection: {:?}, not {want}",
                r.header("Connection")
            ));
        }
        Ok(())
    })
}

fn cases<'a>(t: &'a Target<'a>) -> Vec<Case<'a>> {
    let index = file(t.root, "index.html");
    let css = file(t.root, "css/style.css");
    let png = file(t.root, "images/flow.png");
    let host = "Host: device.test\r\n";
    let close = "Connection: close\r\n";
    let req = |line: &str, extra: &str| format!("{line}\r\n{host}{extra}\r\n");
    let last = |line: &str| format!("{line}\r\n{host}{close}\r\n");
    let s = t.server;
    let mut cases = Vec::new();
    let mut one = |rule, request: String, head: bool, check: Check<'a>| {
        cases.push(Case {
            rule,
            request: request.into_bytes(),
            head_only: vec![head],
            checks: vec![check],
        });
    };
    one(
        "GET / serves the index file with validators (RFC 9110 §8.8)",
        last("GET / HTTP/1.1"),
        false,
        all(vec![
            st(200),
            basics(s, false),
            has("Content-Type", "text/html; charset=utf-8".into()),
            has("Accept-Ranges", "bytes".into()),
            has("Content-Length", index.len().to_string()),
            Box::new(|r: &Reply| {
                let tag = r.header("ETag").unwrap_or("");
                (tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2)
                    .then_some(())
                    .ok_or_else(|| format!("ETag {tag:?} is not a strong tag"))
            }),
            Box::new(|r: &Reply| {
                r.header("Last-Modified")
                    .map(|_| ())
                    .ok_or_else(|| "no Last-Modified".to_owned())
            }),
            body(index.clone()),
        ]),
    );
    one(
        "HEAD carries GET's headers and no body (RFC 9110 §9.3.2)",
        last("HEAD /css/style.css HTTP/1.1"),
        true,
        all(vec![
            st(200),
            basics(s, false),
            has("Content-Length", css.len().to_string()),
            has("Content-Type", "text/css; charset=utf-8".into()),
            body(Vec::new()),
        ]),
    );
    one(
        "a single range is 206 with the exact bytes (RFC 9110 §14.2, §15.3.7)",
        req(
            "GET /images/flow.png HTTP/1.1",
            &format!("Range: bytes=10-99\r\n{close}"),
        ),
        false,
        all(vec![
            st(206),
            has("Content-Range", format!("bytes 10-99/{}", png.len())),
            has("Content-Length", "90".into()),
            body(png[10..100].to_vec()),
        ]),
    );
    one(
        "a suffix range (RFC 9110 §14.1.1)",
        req(
            "GET /images/flow.png HTTP/1.1",
            &format!("Range: bytes=-5\r\n{close}"),
        ),
        false,
        all(vec![st(206), body(png[png.len() - 5..].to_vec())]),
    );
    one(
        "several ranges are multipart/byteranges (RFC 9110 §14.6)",
        req(
            "GET /images/flow.png HTTP/1.1",
            &format!("Range: bytes=0-1,100-109\r\n{close}"),
        ),
        false,
        all(vec![
            st(206),
            Box::new(|r: &Reply| {
                r.header("Content-Type")
                    .filter(|v| v.starts_with("multipart/byteranges; boundary="))
                    .map(|_| ())
                    .ok_or_else(|| format!("Content-Type {:?}", r.header("Content-Type")))
            }),
        ]),
    );
    one(
        "an unsatisfiable range is 416 with the length (RFC 9110 §15.5.17)",
        req(
            "GET /images/flow.png HTTP/1.1",
            &format!("Range: bytes={}-\r\n{close}", png.len() + 10),
        ),
        false,
        all(vec![
            st(416),
            has("Content-Range", format!("bytes */{}", png.len())),
        ]),
    );
    one(
        "Range is ignored on HEAD (RFC 9110 §14.2)",
        req(
            "HEAD /images/flow.png HTTP/1.1",
            &format!("Range: bytes=0-1\r\n{close}"),
        ),
        true,
        all(vec![st(200), has("Content-Length", png.len().to_string())]),
    );
    one(
        "a missing file is 404 with a small page (RFC 9110 §15.5.5)",
        last("GET /missing.html HTTP/1.1"),
        false,
        all(vec![
            st(404),
            basics(s, false),
            has("Content-Type", "text/html; charset=utf-8".into()),
        ]),
    );
    one(
        "dotfiles are refused before any redirect",
        last("GET /.git HTTP/1.1"),
        false,
        all(vec![st(404), lacks("Location")]),
    );
    one(
        "a directory without its slash is 301 to it, the query kept (RFC 9110 §15.4.2)",
        last("GET /css?v=1 HTTP/1.1"),
        false,
        all(vec![st(301), has("Location", "/css/?v=1".into())]),
    );
    one(
        "a target that climbs above the root is 400",
        last("GET /%2e%2e/secret HTTP/1.1"),
        false,
        st(400),
    );
    one(
        "an extension outside the allowed list is 403",
        last("GET /index.exe HTTP/1.1"),
        false,
        Box::new(|r: &Reply| {
            // 404 where no such file exists: the extension rule never reveals files.
            matches!(r.status, 403 | 404)
                .then_some(())
                .ok_or_else(|| format!("status {}", r.status))
        }),
    );
    one(
        "OPTIONS is 204 with Allow (RFC 9110 §9.3.7)",
        last("OPTIONS * HTTP/1.1"),
        false,
        all(vec![
            st(204),
            has("Allow", "GET, HEAD, OPTIONS".into()),
            lacks("Content-Length"),
        ]),
    );
    one(
        "methods a static resource refuses are 405 with Allow (RFC 9110 §15.5.6)",
        last("DELETE /index.html HTTP/1.1"),
        false,
        all(vec![st(405), has("Allow", "GET, HEAD, OPTIONS".into())]),
    );
    one(
        "an unknown method is 501 (RFC 9110 §15.6.2)",
        last("BREW /pot HTTP/1.1"),
        false,
        st(501),
    );
    one(
        "a version with another major is 505 (RFC 9110 §15.6.6)",
        format!("GET / HTTP/2.0\r\n{host}\r\n"),
        false,
        all(vec![st(505), basics(s, false)]),
    );
    one(
        "a malformed request line is 400 and the connection closes (RFC 9112 §3)",
        "GET\r\n\r\n".to_owned(),
        false,
        all(vec![st(400), basics(s, false)]),
    );
    one(
        "HTTP/1.1 without Host is 400 (RFC 9112 §3.2)",
        "GET / HTTP/1.1\r\n\r\n".to_owned(),
        false,
        st(400),
    );
    one(
        "Content-Length with Transfer-Encoding is 400 and close (RFC 9112 §6.1)",
        req(
            "GET / HTTP/1.1",
            "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        ),
        false,
        all(vec![st(400), basics(s, false)]),
    );
    one(
        "a declared body over the limit is 413 at once (RFC 9110 §15.5.14)",
        req(
            "GET / HTTP/1.1",
            &format!("Content-Length: {}\r\n", t.max_request_bytes + 1),
        ),
        false,
        st(413),
    );
    one(
        "a request line over the limit is 414 (RFC 9110 §15.5.15)",
        format!(
            "GET /{} HTTP/1.1\r\n{host}\r\n",
            "a".repeat(t.max_request_bytes)
        ),
        false,
        st(414),
    );
    one(
        "a head over the limit is 431 (RFC 6585 §5)",
        format!(
            "GET / HTTP/1.1\r\n{host}X-Fill: {}\r\n\r\n",
            "b".repeat(t.max_request_bytes)
        ),
        false,
        st(431),
    );
    one(
        "HTTP/1.0 without keep-alive closes after the answer (RFC 9112 §9.3)",
        "GET /css/style.css HTTP/1.0\r\n\r\n".to_owned(),
        false,
        all(vec![st(200), basics(s, false), body(css.clone())]),
    );
    let etag_of_index = crate_etag(&index);
    one(
        "If-None-Match with the current tag is 304 without a body (RFC 9110 §13.1.2)",
        req(
            "GET /index.html HTTP/1.1",
            &format!("If-None-Match: {etag_of_index}\r\n{close}"),
        ),
        false,
        all(vec![
            st(304),
            lacks("Content-Type"),
            has("ETag", etag_of_index.clone()),
        ]),
    );
    cases.push(Case {
        rule: "pipelined requests are answered in order on one connection (RFC 9112 §9.3.2)",
        request: [
            req("GET /css/style.css HTTP/1.1", ""),
            // One empty line before a request line is allowed (RFC 9112 §2.2).
            "\r\n".to_owned(),
            req("HEAD /index.html HTTP/1.1", ""),
            req("GET /index.html HTTP/1.1", "Content-Length: 4\r\n"),
            "body".to_owned(),
            last("GET /images/flow.png HTTP/1.1"),
        ]
        .concat()
        .into_bytes(),
        head_only: vec![false, true, false, false],
        checks: vec![
            all(vec![st(200), basics(s, true), body(css.clone())]),
            all(vec![st(200), basics(s, true), body(Vec::new())]),
            all(vec![st(200), body(index.clone())]),
            all(vec![st(200), basics(s, false), body(png.clone())]),
        ],
    });
    let keep = (0..9)
        .map(|_| req("GET /css/style.css HTTP/1.1", ""))
        .collect::<String>();
    cases.push(Case {
        rule: "one connection carries ten requests (RFC 9112 §9.3)",
        request: format!("{keep}{}", last("GET /css/style.css HTTP/1.1")).into_bytes(),
        head_only: vec![false; 10],
        checks: (0..10)
            .map(|i| all(vec![st(200), basics(s, i < 9), body(css.clone())]))
            .collect(),
    });
    cases
}

/// The tag the runtimes send for `bytes` (XXH3-128, the same on every runtime).
fn crate_etag(bytes: &[u8]) -> String {
    staticd_core::build::etag_of(bytes)
}

/// Runs every case against `peer`; panics listing every failure.
pub fn run(target: &Target<'_>, peer: &mut dyn Peer) -> usize {
    let mut failures = Vec::new();
    let all_cases = cases(target);
    for case in &all_cases {
        let bytes = peer.exchange(&case.request);
        match parse_replies(&bytes, &case.head_only) {
            Err(e) => failures.push(format!("{}: {e}", case.rule)),
            Ok(replies) if replies.len() != case.checks.len() => failures.push(format!(
                "{}: {} responses instead of {}",
                case.rule,
                replies.len(),
                case.checks.len()
            )),
            Ok(replies) => {
                for (i, (reply, check)) in replies.iter().zip(&case.checks).enumerate() {
                    if let Err(e) = check(reply) {
                        failures.push(format!("{} (response {i}): {e}", case.rule));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all_cases.len(),
        failures.join("\n")
    );
    all_cases.len()
}
