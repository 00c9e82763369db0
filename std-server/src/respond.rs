//! Request -> response plan. Every HTTP decision is a staticd-core function; this module only
//! chooses which one applies and appends the head (and in-memory body bytes) to the connection's
//! output, with file segments for bodies that go out with sendfile.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;

use staticd_core::date::HttpDate;
use staticd_core::parse::{Method, Request};
use staticd_core::path::{hidden_segment, resolve_target};
use staticd_core::precondition::{Precondition, Validators, evaluate_preconditions};
use staticd_core::range::{
    ByteRange, Multipart, RangeOutcome, evaluate_range, write_unsatisfied_range,
};
use staticd_core::status::StatusCode;
use staticd_core::write::{ResponseHead, SliceWriter, write_header};

use crate::files::{Body, FileCache, FileVersion, Lookup};

/// RFC 9110 §10.2.1: the methods a static resource supports.
const ALLOW: &[u8] = b"Allow: GET, HEAD, OPTIONS\r\n";
const NOSNIFF: &[u8] = b"X-Content-Type-Options: nosniff\r\n";
const HTML: &str = "text/html; charset=utf-8";
/// Room for the fixed part of a head (status line, Date, Server, Content-Type, Content-Length,
/// Connection); extra lines come on top.
const HEAD_BYTES: usize = 512;

/// A body range that leaves by sendfile, after `after` bytes of the connection's byte output.
#[derive(Debug)]
pub struct FileSegment {
    /// The byte-output offset this segment follows.
    pub after: usize,
    pub file: Arc<File>,
    pub offset: u64,
    /// Exclusive end offset in the file.
    pub end: u64,
}

/// What a connection still has to send: bytes, with file segments spliced in at given offsets.
#[derive(Debug, Default)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub files: VecDeque<FileSegment>,
}

impl Output {
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.files.is_empty()
    }
}

/// The worker's shared state a response is built from.
pub struct Env<'a> {
    pub files: &'a mut FileCache,
    pub date: &'a HttpDate,
    /// The Unix second `date` shows.
    pub date_secs: u64,
    pub server: &'a str,
    pub deny_dotfiles: bool,
    pub dotfile_exceptions: &'a [&'a str],
    pub now_ms: u64,
    /// Scratch for the decoded path.
    pub path_buf: &'a mut [u8],
    /// Scratch for extra header lines that differ per request (Content-Range, Location).
    pub scratch: &'a mut Vec<u8>,
}

/// What was answered, for the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    pub body_bytes: u64,
}

/// Answers one well-formed request.
pub fn respond(
    req: &Request<'_, '_>,
    keep_alive: bool,
    env: &mut Env<'_>,
    out: &mut Output,
) -> Reply {
    let head_only = match req.method {
        Method::Get => false,
        Method::Head => true,
        Method::Options => {
            // RFC 9110 §9.3.7: OPTIONS for `*` or a path describes the server's methods.
            let head = ResponseHead {
                status: StatusCode::NO_CONTENT,
                date: env.date,
                server: env.server,
                content_type: None,
                content_length: None,
                keep_alive,
                extra: ALLOW,
            };
            write_head(out, &head);
            return Reply {
                status: StatusCode::NO_CONTENT,
                body_bytes: 0,
            };
        }
        Method::Post
        | Method::Put
        | Method::Delete
        | Method::Patch
        | Method::Trace
        | Method::Connect => {
            return error_page(
                StatusCode::METHOD_NOT_ALLOWED,
                ALLOW,
                keep_alive,
                false,
                env,
                out,
            );
        }
        // RFC 9110 §15.6.2: a method the server does not recognise.
        _ => {
            return error_page(
                StatusCode::NOT_IMPLEMENTED,
                ALLOW,
                keep_alive,
                false,
                env,
                out,
            );
        }
    };
    let resolved = match resolve_target(req.target, env.path_buf) {
        Ok(resolved) => resolved,
        Err(e) => return error_page(e.status(), b"", keep_alive, head_only, env, out),
    };
    // Before any disk access or redirect (issue 8: `/.git` is 404, never 301).
    if env.deny_dotfiles && hidden_segment(resolved.path, env.dotfile_exceptions) {
        return error_page(StatusCode::NOT_FOUND, b"", keep_alive, head_only, env, out);
    }
    match env
        .files
        .lookup(resolved.path, resolved.trailing_slash, env.now_ms)
    {
        Lookup::File(version) => serve_file(req, &version, keep_alive, head_only, env, out),
        Lookup::Redirect => {
            env.scratch.clear();
            env.scratch.extend_from_slice(b"Location: /");
            push_path_encoded(env.scratch, resolved.path.as_bytes());
            env.scratch.push(b'/');
            if let Some(q) = req.target.iter().position(|&b| b == b'?') {
                env.scratch.extend_from_slice(&req.target[q..]);
            }
            env.scratch.extend_from_slice(b"\r\n");
            let extra = std::mem::take(env.scratch);
            let reply = error_page(
                StatusCode::MOVED_PERMANENTLY,
                &extra,
                keep_alive,
                head_only,
                env,
                out,
            );
            *env.scratch = extra;
            reply
        }
        Lookup::NotFound => error_page(StatusCode::NOT_FOUND, b"", keep_alive, head_only, env, out),
        Lookup::Forbidden => {
            error_page(StatusCode::FORBIDDEN, b"", keep_alive, head_only, env, out)
        }
    }
}

fn serve_file(
    req: &Request<'_, '_>,
    version: &Arc<FileVersion>,
    keep_alive: bool,
    head_only: bool,
    env: &mut Env<'_>,
    out: &mut Output,
) -> Reply {
    // RFC 9110 §8.8.2.1: never a Last-Modified later than Date. A clamped value is the Date
    // itself, which §13.1.5 does not count as a strong validator, so If-Range by date never
    // holds for it (no date equals u64::MAX); the other preconditions use the value sent.
    let last_modified = version.last_modified_at(env.date_secs);
    let clamped = last_modified < version.last_modified;
    let validators = Validators {
        etag: version.etag.as_bytes(),
        last_modified,
    };
    let range_validators = Validators {
        etag: version.etag.as_bytes(),
        last_modified: if clamped { u64::MAX } else { last_modified },
    };
    let headers: Cow<'_, [u8]> = if clamped {
        Cow::Owned(version.with_last_modified(&version.headers, env.date))
    } else {
        Cow::Borrowed(&version.headers)
    };
    match evaluate_preconditions(req, &validators) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            let head = ResponseHead {
                status: StatusCode::NOT_MODIFIED,
                date: env.date,
                server: env.server,
                content_type: None,
                content_length: None,
                keep_alive,
                extra: &if clamped {
                    Cow::Owned(version.with_last_modified(&version.not_modified_headers, env.date))
                } else {
                    Cow::Borrowed(&version.not_modified_headers[..])
                },
            };
            write_head(out, &head);
            return Reply {
                status: StatusCode::NOT_MODIFIED,
                body_bytes: 0,
            };
        }
        Precondition::Failed => {
            return error_page(
                StatusCode::PRECONDITION_FAILED,
                b"",
                keep_alive,
                head_only,
                env,
                out,
            );
        }
    }
    // RFC 9110 §14.2: Range is only defined for GET.
    let ranges = if head_only {
        RangeOutcome::Full
    } else {
        evaluate_range(req, &range_validators, version.len)
    };
    match ranges {
        RangeOutcome::Full => whole_file(version, &headers, keep_alive, head_only, env, out),
        RangeOutcome::Partial(ranges) => match ranges.as_slice() {
            [single] => {
                env.scratch.clear();
                env.scratch.extend_from_slice(&headers);
                let mut range_value = [0u8; 64];
                let mut w = SliceWriter::new(&mut range_value);
                let _ = single.write_content_range(&mut w, version.len);
                push_line(env.scratch, "Content-Range", w.as_bytes());
                let len = single.len();
                let head = ResponseHead {
                    status: StatusCode::PARTIAL_CONTENT,
                    date: env.date,
                    server: env.server,
                    content_type: Some(version.content_type),
                    content_length: Some(len),
                    keep_alive,
                    extra: env.scratch,
                };
                write_head(out, &head);
                push_body(out, version, single.start, single.end + 1);
                Reply {
                    status: StatusCode::PARTIAL_CONTENT,
                    body_bytes: len,
                }
            }
            several => multipart(several, version, &headers, keep_alive, env, out),
        },
        RangeOutcome::NotSatisfiable => {
            // RFC 9110 §15.5.17: the current length, so the client can ask again.
            env.scratch.clear();
            let mut range_value = [0u8; 64];
            let mut w = SliceWriter::new(&mut range_value);
            let _ = write_unsatisfied_range(&mut w, version.len);
            push_line(env.scratch, "Content-Range", w.as_bytes());
            let extra = std::mem::take(env.scratch);
            let reply = error_page(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &extra,
                keep_alive,
                false,
                env,
                out,
            );
            *env.scratch = extra;
            reply
        }
    }
}

/// A 200 with the whole file (no body for HEAD).
fn whole_file(
    version: &Arc<FileVersion>,
    headers: &[u8],
    keep_alive: bool,
    head_only: bool,
    env: &mut Env<'_>,
    out: &mut Output,
) -> Reply {
    let head = ResponseHead {
        status: StatusCode::OK,
        date: env.date,
        server: env.server,
        content_type: Some(version.content_type),
        content_length: Some(version.len),
        keep_alive,
        extra: headers,
    };
    write_head(out, &head);
    let body_bytes = if head_only {
        0
    } else {
        push_body(out, version, 0, version.len);
        version.len
    };
    Reply {
        status: StatusCode::OK,
        body_bytes,
    }
}

/// RFC 9110 §14.6: several ranges as multipart/byteranges.
fn multipart(
    ranges: &[ByteRange],
    version: &Arc<FileVersion>,
    headers: &[u8],
    keep_alive: bool,
    env: &mut Env<'_>,
    out: &mut Output,
) -> Reply {
    // The content hash cannot occur in the content it hashes (short of a hash collision), which
    // makes it a safe boundary (RFC 2046 §5.1.1).
    let boundary: String = version.etag.trim_matches('"').to_owned();
    let parts = Multipart {
        boundary: &boundary,
        content_type: version.content_type,
        total_len: version.len,
    };
    let Some(len) = parts.content_length(ranges) else {
        // A length that cannot be represented: answer with the whole file (RFC 9110 §14.2 allows
        // ignoring Range).
        return whole_file(version, headers, keep_alive, false, env, out);
    };
    let content_type = format!("multipart/byteranges; boundary={boundary}");
    let head = ResponseHead {
        status: StatusCode::PARTIAL_CONTENT,
        date: env.date,
        server: env.server,
        content_type: Some(&content_type),
        content_length: Some(len),
        keep_alive,
        extra: headers,
    };
    write_head(out, &head);
    for (i, range) in ranges.iter().enumerate() {
        write_with(
            out,
            256 + boundary.len() + version.content_type.len(),
            |w| parts.write_part_head(w, range, i == 0),
        );
        push_body(out, version, range.start, range.end + 1);
    }
    write_with(out, 64 + boundary.len(), |w| parts.write_closing(w));
    Reply {
        status: StatusCode::PARTIAL_CONTENT,
        body_bytes: len,
    }
}

/// A small HTML page for an error or redirect. `head_only` keeps the length but drops the body.
pub fn error_page(
    status: StatusCode,
    extra_lines: &[u8],
    keep_alive: bool,
    head_only: bool,
    env: &mut Env<'_>,
    out: &mut Output,
) -> Reply {
    error_page_with(
        status,
        extra_lines,
        keep_alive,
        head_only,
        env.date,
        env.server,
        out,
    )
}

/// [`error_page`] without a full [`Env`], for answers given before a request was parsed.
pub fn error_page_with(
    status: StatusCode,
    extra_lines: &[u8],
    keep_alive: bool,
    head_only: bool,
    date: &HttpDate,
    server: &str,
    out: &mut Output,
) -> Reply {
    let digits = status.digits();
    let reason = status.reason().as_bytes();
    let title_len = digits.len() + 1 + reason.len();
    let body_len = PAGE_START.len() + title_len + PAGE_MIDDLE.len() + title_len + PAGE_END.len();
    let mut extra_buf = [0u8; 1024];
    let total = extra_lines.len() + NOSNIFF.len();
    let extra: &[u8] = match extra_buf.get_mut(..total) {
        Some(room) => {
            let (lines, nosniff) = room.split_at_mut(extra_lines.len());
            lines.copy_from_slice(extra_lines);
            nosniff.copy_from_slice(NOSNIFF);
            room
        }
        None => NOSNIFF,
    };
    let head = ResponseHead {
        status,
        date,
        server,
        content_type: Some(HTML),
        content_length: Some(body_len as u64),
        keep_alive,
        extra,
    };
    write_head(out, &head);
    if head_only {
        return Reply {
            status,
            body_bytes: 0,
        };
    }
    let title = |out: &mut Vec<u8>| {
        out.extend_from_slice(&digits);
        out.push(b' ');
        out.extend_from_slice(reason);
    };
    out.bytes.extend_from_slice(PAGE_START);
    title(&mut out.bytes);
    out.bytes.extend_from_slice(PAGE_MIDDLE);
    title(&mut out.bytes);
    out.bytes.extend_from_slice(PAGE_END);
    Reply {
        status,
        body_bytes: body_len as u64,
    }
}

const PAGE_START: &[u8] = b"<!DOCTYPE html>\n<html><head><title>";
const PAGE_MIDDLE: &[u8] = b"</title></head><body><h1>";
const PAGE_END: &[u8] = b"</h1></body></html>\n";

/// Renders the head straight into the output buffer.
fn write_head(out: &mut Output, head: &ResponseHead<'_>) {
    let room =
        HEAD_BYTES + head.extra.len() + head.content_type.map_or(0, str::len) + head.server.len();
    write_with(out, room, |w| head.write_to(w));
}

/// Runs a core writer over `room` bytes of spare space at the end of the output.
fn write_with<E>(
    out: &mut Output,
    room: usize,
    f: impl FnOnce(&mut SliceWriter<'_>) -> Result<(), E>,
) {
    let start = out.bytes.len();
    out.bytes.resize(start + room, 0);
    let mut w = SliceWriter::new(&mut out.bytes[start..]);
    // `room` is computed from the lengths of everything written, so this cannot fall short; if it
    // ever did, the partial head would be cut off here rather than sent.
    let written = match f(&mut w) {
        Ok(()) => w.written(),
        Err(_) => 0,
    };
    out.bytes.truncate(start + written);
}

/// Appends `version`'s bytes `start..end`: copied when in memory, as a sendfile segment otherwise.
fn push_body(out: &mut Output, version: &FileVersion, start: u64, end: u64) {
    match &version.body {
        Body::Memory(bytes) => {
            let slice = usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(s, e)| bytes.get(s..e));
            out.bytes.extend_from_slice(slice.unwrap_or_default());
        }
        Body::Disk(file) => out.files.push_back(FileSegment {
            after: out.bytes.len(),
            file: Arc::clone(file),
            offset: start,
            end,
        }),
    }
}

fn push_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    let start = out.len();
    out.resize(start + name.len() + value.len() + 4, 0);
    let mut w = SliceWriter::new(&mut out[start..]);
    let written = match write_header(&mut w, name, value) {
        Ok(()) => w.written(),
        Err(_) => 0,
    };
    out.truncate(start + written);
}

/// Percent-encodes a decoded path for a Location header: RFC 3986 `pchar` and `/` stay, the rest
/// (space, `%`, `?`, `#`, non-ASCII, ...) becomes `%XX`.
fn push_path_encoded(out: &mut Vec<u8>, path: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in path {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        if keep {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_paths_are_encoded() {
        let mut out = Vec::new();
        push_path_encoded(&mut out, "a b/ü?#%".as_bytes());
        assert_eq!(out, b"a%20b/%C3%BC%3F%23%25");
    }

    #[test]
    fn error_page_length_matches_body() {
        let date = HttpDate::from_unix(0);
        let mut out = Output::default();
        let reply = error_page_with(
            StatusCode::NOT_FOUND,
            b"",
            true,
            false,
            &date,
            "staticd",
            &mut out,
        );
        let text = String::from_utf8(out.bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let head = format!("{head}\r\n");
        assert_eq!(reply.body_bytes, body.len() as u64);
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
        assert!(
            head.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{head}"
        );
        assert!(
            head.contains("X-Content-Type-Options: nosniff\r\n"),
            "{head}"
        );
        assert!(body.contains("<h1>404 Not Found</h1>"), "{body}");
    }
}
