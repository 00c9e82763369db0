//! The response decision: one pure function from a parsed request, the policy, the time and a
//! [`Source`] to the bytes of a response head (and any generated body) in the caller's [`Sink`],
//! plus the [`Segment`]s of the body to send. The same inputs give the same bytes, whoever calls.
//!
//! The order of the rules (each cited where it is applied):
//! 1. the method: `GET`/`HEAD` are served, `OPTIONS` is 204 with `Allow`, the methods a static
//!    resource refuses are 405 with `Allow`, unknown methods 501 (RFC 9110 §9.1, §15.5.6, §15.6.2);
//! 2. the target, decoded and normalized ([`resolve_target`]); refused spellings are 400/414;
//! 3. the dotfile rule, before any look at the source, so `/.git` is 404 and never a redirect;
//! 4. directories: a name without its slash is 301 to the slashed name, the query kept; with the
//!    slash, the first index file found is served;
//! 5. the allowed extensions (403), checked before the source opens the file;
//! 6. validators and preconditions (RFC 9110 §13.2.2), then ranges (§14), then the `[[rules]]`
//!    headers on the answer, and without a rule's `Cache-Control` the policy's defaults
//!    ([`Policy::cache_control_for`]).
//!
//! What the policy adds, all off in [`Policy::DEFAULT`] but the caching defaults:
//! - a directory without an index file is listed ([`Policy::listing`]) as HTML or JSON by
//!   `Accept` ([`listing`](crate::listing)), `?page=N` (from 1) for entries past the first page,
//!   hidden files and files of refused extensions left out. The listing is generated into the sink:
//!   a sink too small for a page gives a 500 with the fault reported, never a torn body;
//! - a navigation that would be 404 is answered with the fallback file ([`Policy::fallback`]): a
//!   `GET` or `HEAD` whose `Accept` names `text/html`, for a path without an extension and not
//!   hidden. A script, style or image (an extension, or an `Accept` without `text/html`) stays 404.
//!   The answer depends on `Accept`, so it says `Vary: Accept`, and so does such a 404;
//! - an error the decision makes before choosing a file (400 or 414 for the target, 403, 404, 405,
//!   501) is answered with the status's page ([`Policy::error_pages`]) if the source has it, else
//!   the built-in page. A configured page carries its own content type, no validators, and
//!   `Cache-Control: no-store`, so no cache keeps it as the resource (RFC 9111 §5.2.2.5). Errors
//!   about a chosen file (412, 416) and errors of the connection (408, 413, 431) keep the built-in
//!   page.

use heapless::Vec;

use crate::date::HttpDate;
use crate::listing::{Counter, Format, ListingPage, names_html};
use crate::mime::{extension, mime_for_path};
use crate::negotiate::{self, Coding};
use crate::parse::{Method, Request};
use crate::path::{resolve_target, strip_prefix_ignore_case};
use crate::policy::Policy;
use crate::precondition::{Precondition, Validators, evaluate_preconditions};
use crate::range::{
    ByteRange, MAX_RANGES, Multipart, RangeOutcome, evaluate_range, write_unsatisfied_range,
};
use crate::source::{DirEntry, Entry, Kind, Listed, Resource, Source};
use crate::status::StatusCode;
use crate::write::{ResponseHead, SliceWriter, write_header, write_pieces};

/// RFC 9110 §10.2.1: the methods a static resource supports.
const ALLOW: &[u8] = b"GET, HEAD, OPTIONS";
const HTML: &str = "text/html; charset=utf-8";
const PAGE_START: &[u8] = b"<!DOCTYPE html>\n<html><head><title>";
const PAGE_MIDDLE: &[u8] = b"</title></head><body><h1>";
const PAGE_END: &[u8] = b"</h1></body></html>\n";

/// The most [`Segment`]s of one response: a part head before each range and the closing
/// delimiter of a `multipart/byteranges` body.
pub const MAX_SEGMENTS: usize = 2 * MAX_RANGES + 1;

/// Bytes a [`Sink`] must have free for any answer that does not name a file: the longest error
/// head and page (a redirect's `Location` adds up to three times the target's length).
pub const MIN_SINK_BYTES: usize = 512;

/// Where responses are written: a byte buffer that can be cut back to an earlier length, so a
/// response that does not fit can be replaced by a 500 instead of going out torn.
pub trait Sink: embedded_io::Write {
    /// Bytes written so far.
    fn position(&self) -> usize;
    /// Forgets everything written after `position`.
    fn rewind(&mut self, position: usize);
}

impl Sink for SliceWriter<'_> {
    fn position(&self) -> usize {
        self.written()
    }

    fn rewind(&mut self, position: usize) {
        self.truncate(position);
    }
}

#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    fn position(&self) -> usize {
        self.len()
    }

    fn rewind(&mut self, position: usize) {
        self.truncate(position);
    }
}

/// The clock a response is made at.
#[derive(Debug, Clone, Copy)]
pub struct Now<'a> {
    /// Milliseconds on the caller's monotonic clock (timers).
    pub ms: u64,
    /// Unix seconds (validators); the second `date` shows.
    pub unix_secs: u64,
    /// `Date`, rendered from `unix_secs` (a busy server renders it once a second).
    pub date: &'a HttpDate,
}

/// What a connection serves from: the policy, the files, and scratch for the decoded path.
#[derive(Debug)]
pub struct Site<'a, S> {
    /// The serving policy.
    pub policy: &'a Policy<'a>,
    /// The files.
    pub source: &'a mut S,
    /// Scratch for the decoded path and index candidates: at least the longest request target
    /// plus the longest index file name and one byte.
    pub path_buf: &'a mut [u8],
}

/// One piece of a response body, in order after the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Segment {
    /// Bytes the decision wrote into the sink: positions `start..end`.
    Written {
        /// First position.
        start: usize,
        /// End position (exclusive).
        end: usize,
    },
    /// Bytes `start..end` (end exclusive) of the response's resource.
    Resource {
        /// First offset.
        start: u64,
        /// End offset (exclusive).
        end: u64,
    },
}

/// A decided response. The head (and any generated body) is in the sink from `head.start`; send
/// [`Response::segments`] in order.
#[derive(Debug)]
pub struct Response<R> {
    /// The status sent.
    pub status: StatusCode,
    /// Body bytes sent (0 for `HEAD`, 204, 304), what an access log shows.
    pub body_len: u64,
    /// The response says `Connection: keep-alive`.
    pub keep_alive: bool,
    /// The file chosen for the request (the [`Segment::Resource`] segments read from it);
    /// `None` when no file was.
    pub resource: Option<R>,
    /// The head first, then the body's pieces.
    pub segments: Vec<Segment, MAX_SEGMENTS>,
    /// A fault of the server behind a 500 (never of the client), for the error log.
    pub fault: Option<&'static str>,
}

impl<R> Response<R> {
    /// The first sink position of this response.
    pub fn start(&self) -> usize {
        match self.segments.first() {
            Some(Segment::Written { start, .. }) => *start,
            _ => 0,
        }
    }
}

/// Decides the answer to a parsed, well-framed request and writes it into `sink`.
///
/// `keep_alive` is the connection's decision ([`inspect_request`](crate::body::inspect_request)
/// and the request count); the response says it in `Connection`.
pub fn respond<S: Source, K: Sink>(
    req: &Request<'_, '_>,
    keep_alive: bool,
    now: &Now<'_>,
    site: &mut Site<'_, S>,
    sink: &mut K,
) -> Response<S::Resource> {
    let mut out = Out::new(sink, site.policy.server_name, now.date, keep_alive);
    let response = decide(req, now, site, &mut out);
    out.finish(response)
}

fn decide<S: Source, K: Sink>(
    req: &Request<'_, '_>,
    now: &Now<'_>,
    site: &mut Site<'_, S>,
    out: &mut Out<'_, K>,
) -> Response<S::Resource> {
    let head_only = match req.method {
        Method::Get => false,
        Method::Head => true,
        // RFC 9110 §9.3.7: OPTIONS for `*` or a path describes the server's methods.
        Method::Options => {
            out.head(StatusCode::NO_CONTENT, None, None);
            out.field("Allow", ALLOW);
            return out.end_head(StatusCode::NO_CONTENT, 0);
        }
        // RFC 9110 §15.5.6: methods a static resource never allows.
        Method::Post
        | Method::Put
        | Method::Delete
        | Method::Patch
        | Method::Trace
        | Method::Connect => {
            let allow = [("Allow", ALLOW)];
            return error_page(site, StatusCode::METHOD_NOT_ALLOWED, &allow, false, out);
        }
        // RFC 9110 §15.6.2: a method the server does not recognise.
        _ => {
            let allow = [("Allow", ALLOW)];
            return error_page(site, StatusCode::NOT_IMPLEMENTED, &allow, false, out);
        }
    };
    let policy = site.policy;
    let (path_len, trailing_slash) = match resolve_target(req.target, site.path_buf) {
        Ok(resolved) => (resolved.path.len(), resolved.trailing_slash),
        Err(e) => return error_page(site, e.status(), &[], head_only, out),
    };
    let path = path_str(site.path_buf, path_len);
    if policy.hides(path) {
        return error_page(site, StatusCode::NOT_FOUND, &[], head_only, out);
    }
    let found = if trailing_slash {
        match site.source.kind(path) {
            Kind::Directory => index_file(policy, site.source, site.path_buf, path_len),
            Kind::File | Kind::NotFound => Found::Status(StatusCode::NOT_FOUND),
            Kind::Forbidden => Found::Status(StatusCode::FORBIDDEN),
            Kind::Failed => Found::Failed,
        }
    } else if policy.serves_extension(path) {
        match site.source.open(path) {
            Entry::File(file) => Found::File(file, path_len),
            other => refused(other.kind()),
        }
    } else {
        refused(site.source.kind(path))
    };
    match found {
        Found::File(file, served_len) => {
            let served = path_str(site.path_buf, served_len);
            // The type is the file's whichever encoding is sent (RFC 9110 §8.4).
            let content_type = file.content_type().unwrap_or_else(|| mime_for_path(served));
            let chosen = if cfg!(feature = "encoding") {
                negotiate::choose(req, site.source, served, &file, content_type)
            } else {
                negotiate::Choice::identity()
            };
            let representation = Representation {
                content_type,
                coding: chosen.encoded.as_ref().map(|(coding, _)| *coding),
                negotiable: chosen.negotiable,
            };
            let sent = chosen
                .encoded
                .as_ref()
                .map_or(&file, |(_, encoded)| encoded);
            let response = serve_file(
                req,
                sent,
                served,
                &representation,
                head_only,
                policy,
                now,
                false,
                out,
            );
            response.with_resource(chosen.encoded.map_or(file, |(_, encoded)| encoded))
        }
        Found::Redirect => {
            let path = path_str(site.path_buf, path_len);
            let query = req
                .target
                .iter()
                .position(|&b| b == b'?')
                .and_then(|q| req.target.get(q..))
                .unwrap_or_default();
            out.redirect(path, query, head_only)
        }
        Found::Status(StatusCode::NOT_FOUND) => not_found(req, now, site, path_len, head_only, out),
        Found::Status(status) => error_page(site, status, &[], head_only, out),
        // The guard keeps the listing code out of a build without the feature even where the
        // compiler cannot see that `Found::Listing` is never made.
        Found::Listing if cfg!(feature = "listing") => listing(req, site, path_len, head_only, out),
        Found::Listing => error_page(site, StatusCode::NOT_FOUND, &[], head_only, out),
        Found::Failed => out.fault("the file source failed (see the error log)"),
    }
}

/// A 404, or the fallback file for a navigation (see the module docs).
fn not_found<S: Source, K: Sink>(
    req: &Request<'_, '_>,
    now: &Now<'_>,
    site: &mut Site<'_, S>,
    path_len: usize,
    head_only: bool,
    out: &mut Out<'_, K>,
) -> Response<S::Resource> {
    let policy = site.policy;
    let Some(fallback) = policy.fallback else {
        return error_page(site, StatusCode::NOT_FOUND, &[], head_only, out);
    };
    if extension(path_str(site.path_buf, path_len)).is_some() {
        return error_page(site, StatusCode::NOT_FOUND, &[], head_only, out);
    }
    // The answer to this path now depends on Accept (RFC 9110 §12.5.5).
    if names_html(req.header("accept"))
        && let Entry::File(file) = site.source.open(fallback)
    {
        // The app's entry page as it is: no content coding for this answer.
        let representation = Representation {
            content_type: file
                .content_type()
                .unwrap_or_else(|| mime_for_path(fallback)),
            coding: None,
            negotiable: false,
        };
        return serve_file(
            req,
            &file,
            fallback,
            &representation,
            head_only,
            policy,
            now,
            true,
            out,
        )
        .with_resource(file);
    }
    let vary = [("Vary", &b"Accept"[..])];
    error_page(site, StatusCode::NOT_FOUND, &vary, head_only, out)
}

/// The error answer: the policy's page for `status` when the source has it, else the built-in
/// page (see the module docs).
fn error_page<S: Source, K: Sink>(
    site: &mut Site<'_, S>,
    status: StatusCode,
    extra: &[(&str, &[u8])],
    head_only: bool,
    out: &mut Out<'_, K>,
) -> Response<S::Resource> {
    let Some(page) = site.policy.error_page(status.as_u16()) else {
        return out.error(status, extra, head_only);
    };
    let Entry::File(file) = site.source.open(page) else {
        return out.error(status, extra, head_only);
    };
    let content_type = file.content_type().unwrap_or_else(|| mime_for_path(page));
    let len = file.len();
    out.head(status, Some(content_type), Some(len));
    for (name, value) in extra {
        out.field(name, value);
    }
    // RFC 9111 §5.2.2.5: not stored, so never reused for this URL or revalidated into a 200;
    // no ETag or Last-Modified, which would describe the page file, not the resource asked for.
    out.field("Cache-Control", b"no-store");
    out.field("X-Content-Type-Options", b"nosniff");
    let mut response = out.end_head(status, if head_only { 0 } else { len });
    if !head_only {
        out.body_range(&mut response, 0, len);
    }
    response.with_resource(file)
}

/// The `page` query parameter of `target`: 1 when absent, `None` when it is not a number from 1.
fn query_page(target: &[u8]) -> Option<u32> {
    let Some(q) = target.iter().position(|&b| b == b'?') else {
        return Some(1);
    };
    let query = target.get(q + 1..).unwrap_or_default();
    let Some(value) = query
        .split(|&b| b == b'&')
        .find_map(|pair| pair.strip_prefix(b"page="))
    else {
        return Some(1);
    };
    if value.is_empty() || value.len() > 9 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let page = value.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    (page >= 1).then_some(page)
}

/// A listing of the directory `site.path_buf[..dir_len]` (see the module docs).
fn listing<S: Source, K: Sink>(
    req: &Request<'_, '_>,
    site: &mut Site<'_, S>,
    dir_len: usize,
    head_only: bool,
    out: &mut Out<'_, K>,
) -> Response<S::Resource> {
    let vary = [("Vary", &b"Accept"[..])];
    let Some(page) = query_page(req.target) else {
        return error_page(site, StatusCode::BAD_REQUEST, &vary, head_only, out);
    };
    let policy = site.policy;
    let per_page = u64::from(policy.listing_page_entries.max(1));
    let first = u64::from(page - 1) * per_page;
    let on_page = |i: u64| i >= first && i < first + per_page;
    let shown =
        |e: &DirEntry<'_>| !policy.hides(e.name) && (e.is_dir || policy.serves_extension(e.name));
    let mut view = ListingPage {
        format: Format::negotiate(req.header("accept")),
        dir: path_str(site.path_buf, dir_len),
        page,
        pages: 1,
    };
    // First pass: how many entries, and the length of this page's.
    let mut total = 0u64;
    let mut entries = Counter::default();
    let listed = site.source.list(view.dir, &mut |e| {
        if shown(e) {
            if on_page(total) {
                let _ = view.write_entry(&mut entries, e, total == first);
            }
            total += 1;
        }
    });
    match listed {
        Listed::Done => {}
        Listed::Unsupported => {
            return error_page(site, StatusCode::NOT_FOUND, &[], head_only, out);
        }
        Listed::Failed => return out.fault("the file source failed to list a directory"),
    }
    view.pages = u32::try_from(total.div_ceil(per_page).max(1)).unwrap_or(u32::MAX);
    if page > view.pages {
        return error_page(site, StatusCode::NOT_FOUND, &vary, head_only, out);
    }
    let mut fixed = Counter::default();
    let _ = view.write_start(&mut fixed);
    let _ = view.write_end(&mut fixed);
    let body_len = fixed.0.saturating_add(entries.0);
    out.head(
        StatusCode::OK,
        Some(view.format.content_type()),
        Some(body_len),
    );
    out.field("Vary", b"Accept");
    out.field("Cache-Control", b"no-cache");
    out.field("X-Content-Type-Options", b"nosniff");
    let mut response = out.end_head(StatusCode::OK, if head_only { 0 } else { body_len });
    if head_only || out.failed {
        return response;
    }
    // Second pass: the page itself, into the sink after the head.
    let start = out.sink.position();
    let sink = &mut *out.sink;
    let mut failed = view.write_start(sink).is_err();
    let mut again = 0u64;
    let listed = site.source.list(view.dir, &mut |e| {
        if shown(e) {
            if on_page(again) && !failed {
                failed = view.write_entry(sink, e, again == first).is_err();
            }
            again += 1;
        }
    });
    failed = failed || view.write_end(sink).is_err();
    if failed {
        out.failed = true;
        return response;
    }
    let written = (out.sink.position() - start) as u64;
    if listed != Listed::Done || again != total || written != body_len {
        return out.fault("the directory changed while it was listed");
    }
    if let Some(Segment::Written { end, .. }) = response.segments.first_mut() {
        *end = out.sink.position();
    }
    response
}

/// The answer of a plain listener that sends its clients to HTTPS: a `GET` or `HEAD` gets 301 to
/// `https://HOST[:https_port]/path?query` (the port left out when it is 443), with the host of the
/// request (RFC 9112 §3.2.2: an absolute-form target's authority, else `Host`) and the target's
/// path and query as sent. Other methods read nothing, so they get [`respond`]'s answer (405, 501,
/// 204 for `OPTIONS`).
///
/// The host is written into `Location` only when it is a plain `uri-host [":" port]` (RFC 9110
/// §7.2, RFC 3986 §3.2.2) of letters, digits, `-`, `.`, `_`, `~`, or an IPv6 literal of hex
/// digits, `:` and `.` in brackets; anything else, and a target that is neither origin-form nor
/// absolute-form, is 400.
///
/// ```
/// use staticd_core::respond::{Now, Site, redirect_to_https};
/// use staticd_core::{Header, HttpDate, ParserConfig, Policy, Status, StaticTable, parse_request};
///
/// let bytes = b"GET /a%20b?x=1 HTTP/1.1\r\nHost: example.test:8080\r\n\r\n";
/// let mut headers = [Header::EMPTY; 8];
/// let Ok(Status::Complete((_, req))) = parse_request(&ParserConfig::default(), bytes, &mut headers)
/// else { unreachable!() };
/// let date = HttpDate::from_unix(1_795_741_323);
/// let now = Now { ms: 0, unix_secs: 1_795_741_323, date: &date };
/// let mut files = StaticTable::new(&[]);
/// let mut path_buf = [0u8; 256];
/// let mut site = Site { policy: &Policy::DEFAULT, source: &mut files, path_buf: &mut path_buf };
/// let mut out = Vec::new();
/// let response = redirect_to_https(&req, true, 8443, &now, &mut site, &mut out);
/// assert_eq!(response.status.as_u16(), 301);
/// let head = String::from_utf8(out).unwrap();
/// assert!(head.contains("\r\nLocation: https://example.test:8443/a%20b?x=1\r\n"), "{head}");
/// ```
pub fn redirect_to_https<S: Source, K: Sink>(
    req: &Request<'_, '_>,
    keep_alive: bool,
    https_port: u16,
    now: &Now<'_>,
    site: &mut Site<'_, S>,
    sink: &mut K,
) -> Response<S::Resource> {
    let head_only = match req.method {
        Method::Get => false,
        Method::Head => true,
        _ => return respond(req, keep_alive, now, site, sink),
    };
    let mut out = Out::new(sink, site.policy.server_name, now.date, keep_alive);
    let response = match https_target(req) {
        Some((host, path)) => out
            .page(
                StatusCode::MOVED_PERMANENTLY,
                &[],
                Some(Location::Https(host, https_port, path)),
                head_only,
            )
            .no_resource(),
        None => error_page(site, StatusCode::BAD_REQUEST, &[], head_only, &mut out),
    };
    out.finish(response)
}

/// The host (its port dropped) and the path-and-query of `req`, if both can go into a Location.
fn https_target<'b>(req: &Request<'b, '_>) -> Option<(&'b [u8], &'b [u8])> {
    let target = req.target;
    if target.contains(&b'#') {
        return None;
    }
    let (authority, path) = if target.first() == Some(&b'/') {
        (req.header("host")?, target)
    } else {
        let rest = strip_prefix_ignore_case(target, b"http://")
            .or_else(|| strip_prefix_ignore_case(target, b"https://"))?;
        // RFC 3986 §3.2: the authority ends at the first '/' or '?'.
        let end = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        rest.split_at_checked(end)?
    };
    Some((uri_host(authority)?, path))
}

/// The `uri-host` of a `Host` value `uri-host [":" port]` (RFC 9110 §7.2), in the safe subset
/// [`redirect_to_https`] names; `None` for anything else.
fn uri_host(authority: &[u8]) -> Option<&[u8]> {
    let (host, port) = if authority.first() == Some(&b'[') {
        let close = authority.iter().position(|&b| b == b']')?;
        let (literal, after) = authority.split_at_checked(close.checked_add(1)?)?;
        let inside = literal.get(1..close)?;
        if inside.is_empty()
            || !inside
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        (literal, after)
    } else {
        let colon = authority
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(authority.len());
        let (name, after) = authority.split_at_checked(colon)?;
        if name.is_empty()
            || !name
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return None;
        }
        (name, after)
    };
    match port.split_first() {
        None => Some(host),
        Some((b':', digits)) if digits.iter().all(u8::is_ascii_digit) => Some(host),
        Some(_) => None,
    }
}

/// An error answer outside any request (a head that cannot be parsed, a timeout, too many
/// connections): `close` says `Connection: close`; `extra` are more field lines.
pub fn error_response<R, K: Sink>(
    status: StatusCode,
    extra: &[(&str, &[u8])],
    keep_alive: bool,
    server_name: &str,
    date: &HttpDate,
    sink: &mut K,
) -> Response<R> {
    let mut out = Out::new(sink, server_name, date, keep_alive);
    let response = out.error(status, extra, false);
    out.finish(response)
}

/// Where a redirect points.
enum Location<'a> {
    /// A directory's slashed name: the decoded path, and the query as sent.
    Slashed(&'a str, &'a [u8]),
    /// The request over HTTPS: the host, the port, and the path and query as sent.
    Https(&'a [u8], u16, &'a [u8]),
}

enum Found<R> {
    /// A file, and the length of its served path in the path buffer.
    File(R, usize),
    Redirect,
    /// A directory without an index file, to be listed.
    Listing,
    Status(StatusCode),
    Failed,
}

fn refused<R>(kind: Kind) -> Found<R> {
    match kind {
        // RFC 9110 §15.4.2: a directory named without its slash.
        Kind::Directory => Found::Redirect,
        Kind::File | Kind::Forbidden => Found::Status(StatusCode::FORBIDDEN),
        Kind::NotFound => Found::Status(StatusCode::NOT_FOUND),
        Kind::Failed => Found::Failed,
    }
}

/// The decoded path at the start of `buf` (UTF-8 by [`resolve_target`]).
fn path_str(buf: &[u8], len: usize) -> &str {
    buf.get(..len)
        .and_then(|b| core::str::from_utf8(b).ok())
        .unwrap_or_default()
}

/// The first index file of the directory `buf[..dir_len]`, its path written after the directory's.
fn index_file<S: Source>(
    policy: &Policy<'_>,
    source: &mut S,
    buf: &mut [u8],
    dir_len: usize,
) -> Found<S::Resource> {
    for name in policy.index_files {
        let start = if dir_len == 0 { 0 } else { dir_len + 1 };
        let end = start + name.len();
        let Some(candidate) = buf.get_mut(dir_len..end) else {
            return Found::Failed;
        };
        let Some((slash, rest)) = candidate.split_at_mut_checked(start - dir_len) else {
            return Found::Failed;
        };
        // At most one byte: a store, where `fill` would link a 220-byte memset on thumbv7em.
        if let Some(b) = slash.first_mut() {
            *b = b'/';
        }
        for (to, from) in rest.iter_mut().zip(name.bytes()) {
            *to = from;
        }
        let path = path_str(buf, end);
        let kind = if policy.serves_extension(path) {
            match source.open(path) {
                Entry::File(file) => return Found::File(file, end),
                other => other.kind(),
            }
        } else {
            match source.kind(path) {
                Kind::File => return Found::Status(StatusCode::FORBIDDEN),
                other => other,
            }
        };
        match kind {
            Kind::File | Kind::Directory | Kind::NotFound => {}
            Kind::Forbidden => return Found::Status(StatusCode::FORBIDDEN),
            Kind::Failed => return Found::Failed,
        }
    }
    if policy.listing && cfg!(feature = "listing") {
        Found::Listing
    } else {
        Found::Status(StatusCode::NOT_FOUND)
    }
}

/// What the negotiation decided about the file sent: its media type (the file's, whatever the
/// coding), its coding, and whether the resource has several.
struct Representation<'a> {
    content_type: &'a str,
    coding: Option<Coding>,
    negotiable: bool,
}

#[allow(clippy::too_many_arguments)] // reason: the decision's inputs, each used once.
fn serve_file<R: Resource, K: Sink>(
    req: &Request<'_, '_>,
    file: &R,
    served: &str,
    representation: &Representation<'_>,
    head_only: bool,
    policy: &Policy<'_>,
    now: &Now<'_>,
    vary: bool,
    out: &mut Out<'_, K>,
) -> Response<()> {
    // RFC 9110 §8.8.2.1: never a Last-Modified later than Date. A clamped value is the Date
    // itself, which §13.1.5 does not count as a strong validator, so If-Range by date never holds
    // for it; the other preconditions compare against the value sent.
    let modified = file.last_modified();
    let last_modified = modified.min(now.unix_secs);
    let clamped = last_modified < modified;
    let etag = file.etag();
    let validators = Validators {
        etag,
        last_modified,
    };
    let lm_date = if clamped {
        *now.date
    } else {
        HttpDate::from_unix(last_modified)
    };
    let content_type = representation.content_type;
    let len = file.len();
    let fields = FileFields {
        etag,
        last_modified: &lm_date,
        served,
        content_type,
        vary,
        policy,
        coding: representation.coding,
        negotiable: representation.negotiable,
    };
    match evaluate_preconditions(req, &validators) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            // RFC 9110 §15.4.5: the validators and caching fields a 200 would carry, no body.
            out.head(StatusCode::NOT_MODIFIED, None, None);
            fields.write_validators(out);
            return out.end_head(StatusCode::NOT_MODIFIED, 0);
        }
        Precondition::Failed => return out.error(StatusCode::PRECONDITION_FAILED, &[], head_only),
    }
    // RFC 9110 §14.2: Range is only defined for GET; HEAD gets the 200 head.
    let ranges = if head_only {
        RangeOutcome::Full
    } else {
        let range_validators = Validators {
            etag,
            last_modified: if clamped { u64::MAX } else { last_modified },
        };
        evaluate_range(req, &range_validators, len)
    };
    match ranges {
        RangeOutcome::Full => whole(out, &fields, content_type, len, head_only),
        RangeOutcome::Partial(ranges) => match ranges.as_slice() {
            [single] => {
                out.head(
                    StatusCode::PARTIAL_CONTENT,
                    Some(content_type),
                    Some(single.len()),
                );
                fields.write_all(out);
                let mut value = [0u8; 68];
                let mut w = SliceWriter::new(&mut value);
                // 68 bytes hold the longest `bytes N-N/N` of three u64 values.
                if single.write_content_range(&mut w, len).is_err() {
                    return out.fault("a Content-Range value did not fit its buffer");
                }
                out.field("Content-Range", w.as_bytes());
                let mut response = out.end_head(StatusCode::PARTIAL_CONTENT, single.len());
                out.body_range(&mut response, single.start, single.end.saturating_add(1));
                response
            }
            several => multipart(out, &fields, content_type, len, several, etag)
                .unwrap_or_else(|| whole(out, &fields, content_type, len, false)),
        },
        RangeOutcome::NotSatisfiable => {
            // RFC 9110 §15.5.17: the current length, so the client can ask again.
            let mut value = [0u8; 68];
            let mut w = SliceWriter::new(&mut value);
            if write_unsatisfied_range(&mut w, len).is_err() {
                return out.fault("a Content-Range value did not fit its buffer");
            }
            out.error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &[("Content-Range", w.as_bytes())],
                false,
            )
        }
    }
}

/// A 200 with the whole file.
fn whole<K: Sink>(
    out: &mut Out<'_, K>,
    fields: &FileFields<'_>,
    content_type: &str,
    len: u64,
    head_only: bool,
) -> Response<()> {
    out.head(StatusCode::OK, Some(content_type), Some(len));
    fields.write_all(out);
    let sent = if head_only { 0 } else { len };
    let mut response = out.end_head(StatusCode::OK, sent);
    if !head_only {
        out.body_range(&mut response, 0, len);
    }
    response
}

/// RFC 9110 §14.6: several ranges as `multipart/byteranges`; `None` when the length overflows.
fn multipart<K: Sink>(
    out: &mut Out<'_, K>,
    fields: &FileFields<'_>,
    content_type: &str,
    len: u64,
    ranges: &[ByteRange],
    etag: &[u8],
) -> Option<Response<()>> {
    // The content hash cannot occur in the content it hashes (short of a collision), which makes
    // it a safe boundary (RFC 2046 §5.1.1); a tag with other bytes falls back to a fixed one.
    let mut boundary_buf = [0u8; 70];
    let mut boundary_len = 0;
    for (slot, &b) in boundary_buf
        .iter_mut()
        .zip(etag.iter().filter(|b| b.is_ascii_alphanumeric()))
    {
        *slot = b;
        boundary_len += 1;
    }
    let boundary = match boundary_buf.get(..boundary_len) {
        Some(b) if boundary_len >= 8 => core::str::from_utf8(b).unwrap_or("staticd-byteranges"),
        _ => "staticd-byteranges",
    };
    let parts = Multipart {
        boundary,
        content_type,
        total_len: len,
    };
    let body_len = parts.content_length(ranges)?;
    let mut type_buf = [0u8; 31 + 70];
    let mut type_w = SliceWriter::new(&mut type_buf);
    write_pieces(
        &mut type_w,
        &[b"multipart/byteranges; boundary=", boundary.as_bytes()],
    )
    .ok()?;
    let multipart_type = core::str::from_utf8(type_w.as_bytes()).ok()?;
    out.head(
        StatusCode::PARTIAL_CONTENT,
        Some(multipart_type),
        Some(body_len),
    );
    fields.write_all(out);
    let mut response = out.end_head(StatusCode::PARTIAL_CONTENT, body_len);
    for (i, range) in ranges.iter().enumerate() {
        let start = out.sink.position();
        if parts.write_part_head(out.sink, range, i == 0).is_err() {
            out.failed = true;
        }
        out.written_segment(&mut response, start);
        out.body_range(&mut response, range.start, range.end.saturating_add(1));
    }
    let start = out.sink.position();
    if parts.write_closing(out.sink).is_err() {
        out.failed = true;
    }
    out.written_segment(&mut response, start);
    Some(response)
}

/// The per-file fields of a 200, 206 or 304.
struct FileFields<'a> {
    etag: &'a [u8],
    last_modified: &'a HttpDate,
    served: &'a str,
    content_type: &'a str,
    vary: bool,
    policy: &'a Policy<'a>,
    coding: Option<Coding>,
    negotiable: bool,
}

impl FileFields<'_> {
    /// ETag, Last-Modified, Vary, Cache-Control and the rules' headers: what a 304 repeats
    /// (RFC 9110 §15.4.5).
    fn write_validators<K: Sink>(&self, out: &mut Out<'_, K>) {
        out.field("ETag", self.etag);
        // One Vary field naming what the choice depended on (RFC 9110 §12.5.5).
        match (self.negotiable, self.vary) {
            (true, true) => out.field("Vary", b"Accept-Encoding, Accept"),
            (true, false) => out.field("Vary", b"Accept-Encoding"),
            (false, true) => out.field("Vary", b"Accept"),
            (false, false) => {}
        }
        out.field("Last-Modified", self.last_modified.as_bytes());
        if let Some(cc) = self
            .policy
            .cache_control_for(self.served, self.content_type)
        {
            out.field("Cache-Control", cc.as_bytes());
        }
        for rule in self.policy.rules_for(self.served) {
            for (name, value) in &rule.headers {
                out.field(name, value.as_bytes());
            }
        }
    }

    /// The validators, then Accept-Ranges and nosniff: what a 200 or 206 carries.
    fn write_all<K: Sink>(&self, out: &mut Out<'_, K>) {
        self.write_validators(out);
        if let Some(coding) = self.coding {
            out.field("Content-Encoding", coding.token().as_bytes());
        }
        out.field("Accept-Ranges", b"bytes");
        out.field("X-Content-Type-Options", b"nosniff");
    }
}

impl Response<()> {
    /// The same response, typed for a source whose resource it does not carry.
    fn no_resource<R>(self) -> Response<R> {
        Response {
            status: self.status,
            body_len: self.body_len,
            keep_alive: self.keep_alive,
            resource: None,
            segments: self.segments,
            fault: self.fault,
        }
    }

    /// The response to a request for `resource`: it carries the resource whatever the status,
    /// so a caller can tell which file was chosen (and keep it open while its bytes go out).
    fn with_resource<R>(self, resource: R) -> Response<R> {
        Response {
            status: self.status,
            body_len: self.body_len,
            keep_alive: self.keep_alive,
            resource: Some(resource),
            segments: self.segments,
            fault: self.fault,
        }
    }
}

/// The writer of one response: remembers where it started and whether a write failed, so a
/// response that does not fit is replaced whole by a 500.
struct Out<'k, K> {
    sink: &'k mut K,
    mark: usize,
    failed: bool,
    server: &'k str,
    date: &'k HttpDate,
    keep_alive: bool,
}

impl<'k, K: Sink> Out<'k, K> {
    fn new(sink: &'k mut K, server: &'k str, date: &'k HttpDate, keep_alive: bool) -> Self {
        let mark = sink.position();
        Self {
            sink,
            mark,
            failed: false,
            server,
            date,
            keep_alive,
        }
    }

    fn head(&mut self, status: StatusCode, content_type: Option<&str>, length: Option<u64>) {
        let head = ResponseHead {
            status,
            date: self.date,
            server: self.server,
            content_type,
            content_length: length,
            keep_alive: self.keep_alive,
            extra: b"",
        };
        if !self.failed && head.write_fields_to(self.sink).is_err() {
            self.failed = true;
        }
    }

    fn field(&mut self, name: &str, value: &[u8]) {
        if !self.failed && write_header(self.sink, name, value).is_err() {
            self.failed = true;
        }
    }

    fn put(&mut self, pieces: &[&[u8]]) {
        if !self.failed && write_pieces(self.sink, pieces).is_err() {
            self.failed = true;
        }
    }

    /// Ends the head; the response so far is one written segment.
    fn end_head<R>(&mut self, status: StatusCode, body_len: u64) -> Response<R> {
        self.end_head_bare(status, body_len).no_resource()
    }

    // The writers below are not generic over the resource type: one copy whatever the source
    // (scripts/core-size.sh); `no_resource` retypes their answer.
    fn end_head_bare(&mut self, status: StatusCode, body_len: u64) -> Response<()> {
        self.put(&[b"\r\n"]);
        let mut segments = Vec::new();
        let _ = segments.push(Segment::Written {
            start: self.mark,
            end: self.sink.position(),
        });
        Response {
            status,
            body_len,
            keep_alive: self.keep_alive,
            resource: None,
            segments,
            fault: None,
        }
    }

    fn written_segment<R>(&mut self, response: &mut Response<R>, start: usize) {
        let end = self.sink.position();
        if response
            .segments
            .push(Segment::Written { start, end })
            .is_err()
        {
            self.failed = true;
        }
    }

    /// Bytes `start..end` (end exclusive) of the resource follow.
    fn body_range<R>(&mut self, response: &mut Response<R>, start: u64, end: u64) {
        if end > start
            && response
                .segments
                .push(Segment::Resource { start, end })
                .is_err()
        {
            self.failed = true;
        }
    }

    /// The response as built, or a 500 in its place if a write failed.
    fn finish<R>(&mut self, response: Response<R>) -> Response<R> {
        if self.failed {
            self.fault_bare("the response did not fit the output buffer")
                .no_resource()
        } else {
            response
        }
    }

    /// An error answer with a small HTML page; `head_only` keeps the length, drops the body.
    fn error<R>(
        &mut self,
        status: StatusCode,
        extra: &[(&str, &[u8])],
        head_only: bool,
    ) -> Response<R> {
        self.page(status, extra, None, head_only).no_resource()
    }

    /// 301 to the directory's slashed name, the query kept; the path percent-encoded.
    fn redirect<R>(&mut self, path: &str, query: &[u8], head_only: bool) -> Response<R> {
        let status = StatusCode::MOVED_PERMANENTLY;
        self.page(status, &[], Some(Location::Slashed(path, query)), head_only)
            .no_resource()
    }

    /// A small HTML page for an error or, with a `location`, a redirect; `head_only` keeps the
    /// length, drops the body.
    fn page(
        &mut self,
        status: StatusCode,
        extra: &[(&str, &[u8])],
        location: Option<Location<'_>>,
        head_only: bool,
    ) -> Response<()> {
        let digits = status.digits();
        let reason = status.reason().as_bytes();
        let title: [&[u8]; 3] = [&digits, b" ", reason];
        let title_len = digits.len() + 1 + reason.len();
        let body_len =
            PAGE_START.len() + title_len + PAGE_MIDDLE.len() + title_len + PAGE_END.len();
        self.head(status, Some(HTML), Some(body_len as u64));
        match location {
            Some(Location::Slashed(path, query)) => {
                // The Location value is written in place: it can be three times the target's
                // length.
                self.put(&[b"Location: /"]);
                self.put_encoded(path.as_bytes());
                if !path.is_empty() {
                    self.put(&[b"/"]);
                }
                // The query as sent, but a raw byte above 0x7F (accepted in a target as if
                // encoded) becomes %XX: Location is a URI-reference (RFC 9110 §10.2.2, RFC 3986
                // §2.1).
                self.put_encoded_where(query, |b| b >= 0x80);
                self.put(&[b"\r\n"]);
            }
            Some(Location::Https(host, port, path)) => {
                self.put(&[b"Location: https://", host]);
                if port != 443 {
                    let mut digits = [0u8; 20];
                    self.put(&[b":", crate::write::decimal(u64::from(port), &mut digits)]);
                }
                if path.first() != Some(&b'/') {
                    self.put(&[b"/"]);
                }
                // The path and query as sent; a byte no URI holds as it is (a raw byte above
                // 0x7F, `"`, `<`, `\`, ...) becomes %XX (RFC 3986 §2.1), escapes already there
                // stay.
                self.put_encoded_where(path, |b| !(pchar_or_slash(b) || b == b'?' || b == b'%'));
                self.put(&[b"\r\n"]);
            }
            None => {}
        }
        for (name, value) in extra {
            self.field(name, value);
        }
        self.field("X-Content-Type-Options", b"nosniff");
        let sent = if head_only { 0 } else { body_len as u64 };
        let mut response = self.end_head_bare(status, sent);
        if !head_only {
            self.put(&[PAGE_START]);
            self.put(&title);
            self.put(&[PAGE_MIDDLE]);
            self.put(&title);
            self.put(&[PAGE_END]);
            // One segment for head and page: they are contiguous in the sink.
            if let Some(Segment::Written { end, .. }) = response.segments.first_mut() {
                *end = self.sink.position();
            }
        }
        // The caller's `finish` turns a response that did not fit into a 500.
        response
    }

    /// Percent-encodes a decoded path: RFC 3986 `pchar` and `/` stay, every other byte (space,
    /// `%`, `?`, `#`, non-ASCII, ...) becomes `%XX`.
    fn put_encoded(&mut self, path: &[u8]) {
        self.put_encoded_where(path, |b| !pchar_or_slash(b));
    }

    /// Writes `bytes`, each byte for which `encode` holds as `%XX`.
    fn put_encoded_where(&mut self, bytes: &[u8], encode: impl Fn(u8) -> bool) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut rest = bytes;
        while !rest.is_empty() {
            let run = rest.iter().position(|&b| encode(b)).unwrap_or(rest.len());
            let (kept, after) = rest.split_at(run);
            self.put(&[kept]);
            let Some((&b, after)) = after.split_first() else {
                break;
            };
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
            self.put(&[&[b'%', hi, lo]]);
            rest = after;
        }
    }

    /// A 500 in place of whatever was written: the server's fault, reported by the caller.
    fn fault<R>(&mut self, why: &'static str) -> Response<R> {
        self.fault_bare(why).no_resource()
    }

    fn fault_bare(&mut self, why: &'static str) -> Response<()> {
        self.sink.rewind(self.mark);
        self.failed = false;
        self.keep_alive = false;
        let mut response = self.page(StatusCode::INTERNAL_SERVER_ERROR, &[], None, false);
        if self.failed {
            // Not even the 500 fits: nothing goes out, the connection closes.
            self.sink.rewind(self.mark);
            response.segments.clear();
            response.body_len = 0;
        }
        response.fault = Some(why);
        response
    }
}

/// RFC 3986 `pchar` or `/`: the bytes a path in Location keeps as they are.
fn pchar_or_slash(b: u8) -> bool {
    b.is_ascii_alphanumeric()
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
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Header, ParserConfig, Status, parse_request};
    use crate::policy::ErrorPage;
    use crate::source::{StaticFile, StaticTable};
    use std::string::String;

    const fn file(path: &'static str, body: &'static [u8], ct: &'static str) -> StaticFile {
        StaticFile {
            path,
            body,
            etag: "\"e\"",
            last_modified: 1000,
            content_type: ct,
        }
    }

    static FILES: &[StaticFile] = &[
        file("index.html", b"<p>app</p>", "text/html; charset=utf-8"),
        file("404.html", b"<p>gone</p>", "text/html; charset=utf-8"),
        file("app.3f9a1c2e.js", b"js", "text/javascript; charset=utf-8"),
        file("docs/<img src=x onerror=alert(1)>.html", b"x", "text/html"),
        file("docs/b.txt", b"bb", "text/plain"),
        file("docs/.secret.txt", b"s", "text/plain"),
        file("docs/run.exe", b"MZ", "application/octet-stream"),
        file("docs/sub/c.txt", b"c", "text/plain"),
    ];

    const NAV: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

    /// The whole response (head and written body, then `[resource a..b]` for file bytes).
    fn ask(policy: &Policy<'_>, method: &str, target: &str, accept: Option<&str>) -> String {
        let mut request = std::format!("{method} {target} HTTP/1.1\r\nHost: t\r\n");
        if let Some(a) = accept {
            request.push_str(&std::format!("Accept: {a}\r\n"));
        }
        request.push_str("\r\n");
        let mut fields = [Header::EMPTY; 8];
        let Ok(Status::Complete((_, req))) =
            parse_request(&ParserConfig::default(), request.as_bytes(), &mut fields)
        else {
            panic!("bad test request");
        };
        let mut table = StaticTable::new(FILES);
        let mut path_buf = [0u8; 256];
        let mut site = Site {
            policy,
            source: &mut table,
            path_buf: &mut path_buf,
        };
        let date = HttpDate::from_unix(2000);
        let now = Now {
            ms: 0,
            unix_secs: 2000,
            date: &date,
        };
        let mut sink = std::vec::Vec::new();
        let response = respond(&req, true, &now, &mut site, &mut sink);
        let mut text = String::new();
        for segment in &response.segments {
            match *segment {
                Segment::Written { start, end } => {
                    text.push_str(core::str::from_utf8(&sink[start..end]).unwrap());
                }
                Segment::Resource { start, end } => {
                    let file = response.resource.unwrap();
                    text.push_str(
                        core::str::from_utf8(&file.body[start as usize..end as usize]).unwrap(),
                    );
                }
            }
        }
        text
    }

    const SPA: Policy<'static> = Policy {
        fallback: Some("index.html"),
        ..Policy::DEFAULT
    };

    #[test]
    fn fallback_answers_navigations_only() {
        let nav = ask(&SPA, "GET", "/route/x", Some(NAV));
        assert!(nav.starts_with("HTTP/1.1 200 OK\r\n"), "{nav}");
        assert!(nav.contains("\r\nVary: Accept\r\n") && nav.ends_with("<p>app</p>"));
        assert!(nav.contains("Cache-Control: no-cache\r\n"));
        let head = ask(&SPA, "HEAD", "/route/x", Some(NAV));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"));
        // An extension, an Accept that does not name text/html, or no Accept: 404.
        for (target, accept) in [
            ("/missing.js", Some(NAV)),
            ("/img/logo.png", Some(NAV)),
            ("/route/x", Some("*/*")),
            ("/route/x", Some("text/html;q=0")),
            ("/route/x", None),
        ] {
            let r = ask(&SPA, "GET", target, accept);
            assert!(r.starts_with("HTTP/1.1 404 "), "{target} {accept:?}: {r}");
        }
        // The 404 that depended on Accept says so; hidden paths never fall back.
        assert!(ask(&SPA, "GET", "/route/x", Some("*/*")).contains("Vary: Accept\r\n"));
        assert!(ask(&SPA, "GET", "/.env", Some(NAV)).starts_with("HTTP/1.1 404 "));
        assert!(ask(&SPA, "POST", "/route/x", Some(NAV)).starts_with("HTTP/1.1 405 "));
        // Without the setting, a navigation is 404.
        let off = ask(&Policy::DEFAULT, "GET", "/route/x", Some(NAV));
        assert!(off.starts_with("HTTP/1.1 404 ") && !off.contains("Vary"));
    }

    #[test]
    fn error_pages_keep_the_status_and_carry_no_validators() {
        let policy = Policy {
            error_pages: &[
                ErrorPage {
                    status: 404,
                    path: "404.html",
                },
                ErrorPage {
                    status: 405,
                    path: "gone-missing.html",
                },
            ],
            ..Policy::DEFAULT
        };
        let r = ask(&policy, "GET", "/nope.html", None);
        assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{r}");
        assert!(r.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(r.contains("Content-Length: 11\r\n") && r.ends_with("\r\n\r\n<p>gone</p>"));
        assert!(r.contains("Cache-Control: no-store\r\n"));
        assert!(!r.contains("ETag") && !r.contains("Last-Modified"));
        let head = ask(&policy, "HEAD", "/nope.html", None);
        assert!(head.contains("Content-Length: 11\r\n") && head.ends_with("\r\n\r\n"));
        // A page the source does not have: the built-in one.
        let r = ask(&policy, "DELETE", "/index.html", None);
        assert!(r.starts_with("HTTP/1.1 405 ") && r.contains("<h1>405 Method Not Allowed</h1>"));
    }

    #[test]
    #[cfg(feature = "listing")]
    fn listings_are_opt_in_filtered_paged_and_negotiated() {
        assert!(ask(&Policy::DEFAULT, "GET", "/docs/", None).starts_with("HTTP/1.1 404 "));
        let policy = Policy {
            listing: true,
            listing_page_entries: 2,
            ..Policy::DEFAULT
        };
        let html = ask(&policy, "GET", "/docs/", None);
        assert!(html.starts_with("HTTP/1.1 200 OK\r\n"), "{html}");
        assert!(html.contains("Content-Type: text/html; charset=utf-8\r\nContent-Length: "));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;.html</a>"));
        assert!(!html.contains("<img") && !html.contains("secret") && !html.contains("run.exe"));
        assert!(
            html.contains(">b.txt</a>") && !html.contains("sub/"),
            "two per page"
        );
        assert!(html.contains("Page 1 of 2"));
        let page2 = ask(&policy, "GET", "/docs/?page=2", None);
        assert!(page2.contains(">sub/</a>") && page2.contains("Page 2 of 2"));
        assert!(ask(&policy, "GET", "/docs/?page=3", None).starts_with("HTTP/1.1 404 "));
        assert!(ask(&policy, "GET", "/docs/?page=0", None).starts_with("HTTP/1.1 400 "));
        let json = ask(&policy, "GET", "/docs/", Some("application/json"));
        assert!(json.contains("Content-Type: application/json\r\n"));
        assert!(json.contains("\"name\":\"<img src=x onerror=alert(1)>.html\""));
        let head = ask(&policy, "HEAD", "/docs/", Some("application/json"));
        let len = |r: &str| {
            r.split("Content-Length: ")
                .nth(1)
                .unwrap()
                .split("\r\n")
                .next()
                .unwrap()
                .as_bytes()
                .to_vec()
        };
        assert_eq!(len(&head), len(&json));
        assert!(head.ends_with("\r\n\r\n"));
        let body = json.split("\r\n\r\n").nth(1).unwrap();
        assert_eq!(len(&json), std::format!("{}", body.len()).into_bytes());
        // A directory with an index is not listed.
        assert!(ask(&policy, "GET", "/", None).ends_with("<p>app</p>"));
    }

    #[test]
    #[cfg(feature = "listing")]
    fn a_listing_that_does_not_fit_the_sink_is_a_500() {
        let policy = Policy {
            listing: true,
            ..Policy::DEFAULT
        };
        let request = b"GET /docs/ HTTP/1.1\r\nHost: t\r\n\r\n";
        let mut fields = [Header::EMPTY; 4];
        let Ok(Status::Complete((_, req))) =
            parse_request(&ParserConfig::default(), request, &mut fields)
        else {
            panic!("bad test request");
        };
        let mut table = StaticTable::new(FILES);
        let mut path_buf = [0u8; 256];
        let mut site = Site {
            policy: &policy,
            source: &mut table,
            path_buf: &mut path_buf,
        };
        let date = HttpDate::from_unix(2000);
        let now = Now {
            ms: 0,
            unix_secs: 2000,
            date: &date,
        };
        let mut buf = [0u8; MIN_SINK_BYTES];
        let mut sink = SliceWriter::new(&mut buf);
        let response = respond(&req, true, &now, &mut site, &mut sink);
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.fault.is_some());
    }

    #[test]
    fn cache_defaults_are_on_the_answers() {
        let js = ask(&Policy::DEFAULT, "GET", "/app.3f9a1c2e.js", None);
        assert!(js.contains("Cache-Control: public, max-age=31536000, immutable\r\n"));
        let off = Policy {
            cache_defaults: false,
            ..Policy::DEFAULT
        };
        assert!(!ask(&off, "GET", "/app.3f9a1c2e.js", None).contains("Cache-Control"));
    }
}
