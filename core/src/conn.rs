//! The sans-IO HTTP/1.1 connection: bytes in, responses out, timers as deadlines.
//!
//! A [`Connection`] owns no socket, no clock and no buffer. The caller keeps the received bytes
//! (a buffer of [`Policy::max_request_bytes`](crate::policy::Policy) bytes) and hands them to
//! [`Connection::poll`], which answers at most one request per call, says how many bytes it used,
//! and writes the response into the caller's [`Sink`]. The caller sends the response, tells the
//! connection when everything is out ([`Connection::sent`]) and asks it what a timer means
//! ([`Connection::deadline`], [`Connection::on_timeout`]).
//!
//! ```text
//! Head --complete head, no body--> respond --keep-alive--> Head
//!   |                                  \--close--> Closed
//!   +--body--> Body (discarded) --end--> respond
//!   +--error, 413, 408--> error answer --> Closed
//! ```
//!
//! What it settles, once for every runtime (RFC 9112 unless said):
//! - persistence (§9.3) and `keepalive_requests`; the last response says `Connection: close`;
//! - pipelining: requests are answered in order, one per call;
//! - one empty line before a request line is skipped (§2.2, in the parser);
//! - a body (Content-Length or chunked, §6) is read and discarded before the answer, so a chunked
//!   body that grows past the limit still gets its 413; a declared body over the limit is refused
//!   at once, unread;
//! - errors that lose the framing close the connection after their answer (§9.6, §11.2);
//! - `header_timeout` runs from the first wait for a head until the head is complete: 408 to a
//!   client that started a request, a silent close for one that sent nothing; `keepalive_timeout`
//!   closes an idle connection silently;
//! - 414 and 431 are sent as soon as a limit is crossed (the parser refuses early).

use crate::body::{ChunkedDecoder, Framing, inspect_request};
use crate::parse::{Header, ParserConfig, Request, Status, parse_request};
use crate::policy::Policy;
use crate::respond::{Now, Response, Sink, Site, error_response, redirect_to_https, respond};
use crate::source::Source;
use crate::status::StatusCode;

/// Header fields accepted per request; more is 431 (RFC 9110 §5.4 lets a server limit them).
pub const MAX_FIELDS: usize = 100;

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CloseReason {
    /// The request did not ask to persist (RFC 9112 §9.3).
    NotPersistent,
    /// `keepalive_requests` were answered.
    RequestLimit,
    /// The server is stopping.
    Stopping,
    /// An error answer was sent; the framing can no longer be trusted.
    Error(StatusCode),
    /// The client sent nothing before `header_timeout`.
    HeaderTimeout,
    /// The connection was idle for `keepalive_timeout`.
    IdleTimeout,
    /// The client closed its side with no complete request left.
    ClientClosed,
    /// The server failed (a 500 was sent, if it fitted).
    Fault,
}

impl CloseReason {
    /// Whether the caller should read and drop what the client still sends for a short while
    /// before closing (RFC 9112 §9.6): after an error the client may still be sending, and a
    /// close with unread input would reset the connection and lose the answer.
    pub fn lingers(self) -> bool {
        matches!(self, CloseReason::Error(_) | CloseReason::Fault)
    }
}

/// Why a connection is answered and closed before any request is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TurnAway {
    /// Too many connections are open.
    Busy,
    /// The server cannot serve this connection (it could not be registered for events).
    Fault,
}

/// The request a response answered, for the access log; slices of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange<'i> {
    /// The request line as received (empty when nothing of it arrived).
    pub request_line: &'i [u8],
    /// The `Referer` field.
    pub referer: Option<&'i [u8]>,
    /// The `User-Agent` field.
    pub user_agent: Option<&'i [u8]>,
    /// The last `X-Forwarded-For` field line: the one the nearest proxy wrote, for a server that
    /// trusts it to name the client.
    pub forwarded_for: Option<&'i [u8]>,
}

/// What [`Connection::poll`] decided.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "the core has no heap: a response moves by value once per request"
)]
pub enum Event<'i, R> {
    /// Read more input; until then the connection waits (see [`Connection::deadline`]).
    NeedInput,
    /// A response is in the sink: send its segments in order. `close` says to close once it is
    /// out (the connection will answer nothing more).
    Respond {
        /// The response.
        response: Response<R>,
        /// The request it answers.
        exchange: Exchange<'i>,
        /// Close after sending, and why.
        close: Option<CloseReason>,
    },
    /// Close now, with nothing more to send.
    Close(CloseReason),
}

/// One step: drop `consumed` bytes from the front of the input, then act on `event`.
#[derive(Debug)]
pub struct Step<'i, R> {
    /// Input bytes used (a request's head and body).
    pub consumed: usize,
    /// What to do.
    pub event: Event<'i, R>,
}

impl<R> Step<'_, R> {
    fn wait(consumed: usize) -> Self {
        Step {
            consumed,
            event: Event::NeedInput,
        }
    }
}

/// Which timer a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Timer {
    /// `header_timeout`.
    Header,
    /// `keepalive_timeout`.
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for (the rest of) a head.
    Head,
    /// The head of the input's first `head_len` bytes is complete; its body is being dropped.
    Body { head_len: usize, body: BodyLeft },
    /// Nothing more is answered.
    Closed(CloseReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyLeft {
    Length(u64),
    Chunked { decoder: ChunkedDecoder, seen: u64 },
}

/// One HTTP/1.1 connection's protocol state. Small (a few dozen bytes) and `Copy`-free of any
/// buffer, so a device keeps one per socket.
#[derive(Debug, Clone)]
pub struct Connection {
    state: State,
    requests: u32,
    header_deadline: Option<u64>,
    idle_deadline: Option<u64>,
    /// A response was handed out and [`Connection::sent`] has not been called since.
    sending: bool,
    /// The input held part of a head at the last call.
    started: bool,
    stopping: bool,
    /// Requests are redirected to HTTPS on this port ([`redirect_to_https`]) instead of served.
    https_port: Option<u16>,
}

impl Connection {
    /// A connection accepted at `now_ms`: `header_timeout` starts now.
    pub fn new(now_ms: u64, header_timeout_ms: u32) -> Self {
        Self {
            state: State::Head,
            requests: 0,
            header_deadline: Some(now_ms.saturating_add(u64::from(header_timeout_ms))),
            idle_deadline: None,
            sending: false,
            started: false,
            stopping: false,
            https_port: None,
        }
    }

    /// The same connection answering with [`redirect_to_https`] to `https_port` instead of
    /// serving files: the plain listener of a server that serves over HTTPS.
    #[must_use]
    pub fn redirecting_to_https(mut self, https_port: u16) -> Self {
        self.https_port = Some(https_port);
        self
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Whether the connection will answer nothing more.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    /// The deadline of `timer`, milliseconds on the caller's clock, if it runs.
    pub fn deadline_of(&self, timer: Timer) -> Option<u64> {
        match timer {
            Timer::Header => self.header_deadline,
            Timer::Idle => self.idle_deadline,
        }
    }

    /// The next deadline, if any: call [`Connection::on_timeout`] when it has passed.
    pub fn deadline(&self) -> Option<u64> {
        match (self.header_deadline, self.idle_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Answers the next request in `input`, if it is complete. `input` is every received byte not
    /// yet consumed; it must have room for `max_request_bytes` (a full input that holds no
    /// complete head is refused with 431, or 413 while a body is read).
    pub fn poll<'i, S: Source, K: Sink>(
        &mut self,
        input: &'i mut [u8],
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        sink: &mut K,
    ) -> Step<'i, S::Resource> {
        let limit = site.policy.max_request_bytes as usize;
        let timeout = site.policy.header_timeout_ms;
        match self.state {
            State::Closed(reason) => Step {
                consumed: 0,
                event: Event::Close(reason),
            },
            State::Head => {
                if input.is_empty() {
                    self.started = false;
                    self.wait_for_head(now.ms, site.policy.keepalive_timeout_ms, timeout);
                    return Step::wait(0);
                }
                let mut fields = [Header::EMPTY; MAX_FIELDS];
                let parser = ParserConfig {
                    max_head_bytes: limit,
                };
                let (head_len, framing) = match parse_request(&parser, input, &mut fields) {
                    Ok(Status::Partial) if input.len() >= limit => {
                        return self.refuse(
                            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                            input,
                            now,
                            site,
                            sink,
                        );
                    }
                    Ok(Status::Partial) => {
                        self.started = true;
                        self.wait_for_head(now.ms, site.policy.keepalive_timeout_ms, timeout);
                        return Step::wait(0);
                    }
                    Err(e) => return self.refuse(e.status(), input, now, site, sink),
                    Ok(Status::Complete((head_len, req))) => match inspect_request(&req) {
                        Err(e) => return self.refuse(e.status(), input, now, site, sink),
                        Ok(info)
                            if matches!(
                                info.framing,
                                Framing::None | Framing::ContentLength(0)
                            ) =>
                        {
                            // No body: answered from this one parse.
                            let (response, close, spans) =
                                self.answer(&req, input, now, site, sink);
                            let input: &'i [u8] = input;
                            return Step {
                                consumed: head_len,
                                event: Event::Respond {
                                    response,
                                    exchange: spans.exchange(input),
                                    close,
                                },
                            };
                        }
                        Ok(info) => (head_len, info.framing),
                    },
                };
                let body = match framing {
                    Framing::None | Framing::ContentLength(0) => return Step::wait(0),
                    // Refused at once, never read only to be dropped.
                    Framing::ContentLength(n) if n > limit as u64 => {
                        return self.refuse(StatusCode::CONTENT_TOO_LARGE, input, now, site, sink);
                    }
                    Framing::ContentLength(n) => BodyLeft::Length(n),
                    Framing::Chunked => BodyLeft::Chunked {
                        decoder: ChunkedDecoder::new(),
                        seen: 0,
                    },
                };
                self.state = State::Body { head_len, body };
                self.discard(input, now, site, sink)
            }
            State::Body { .. } => self.discard(input, now, site, sink),
        }
    }

    /// Everything handed out has been sent, at `now_ms`. `Some` when the connection should now
    /// close (the last response said so, or the server is stopping).
    pub fn sent(&mut self, now_ms: u64, policy: &Policy<'_>) -> Option<CloseReason> {
        self.sending = false;
        match self.state {
            State::Closed(reason) => Some(reason),
            State::Head if self.stopping && !self.started => {
                self.state = State::Closed(CloseReason::Stopping);
                Some(CloseReason::Stopping)
            }
            State::Head => {
                self.wait_for_head(
                    now_ms,
                    policy.keepalive_timeout_ms,
                    policy.header_timeout_ms,
                );
                None
            }
            State::Body { .. } => None,
        }
    }

    /// The client closed its sending side. Every complete request has been answered; what is
    /// left can never complete.
    pub fn on_eof(&mut self) -> CloseReason {
        let reason = match self.state {
            State::Closed(reason) => reason,
            _ => CloseReason::ClientClosed,
        };
        self.state = State::Closed(reason);
        reason
    }

    /// The server is stopping: `Some` when the connection can close now (it is waiting between
    /// requests or reading a body); otherwise the response in flight finishes and
    /// [`Connection::sent`] closes it.
    pub fn stop(&mut self) -> Option<CloseReason> {
        self.stopping = true;
        match self.state {
            State::Closed(_) => None,
            State::Body { .. } => Some(self.close(CloseReason::Stopping)),
            State::Head if !self.sending => Some(self.close(CloseReason::Stopping)),
            State::Head => None,
        }
    }

    /// A deadline passed at `now.ms`: a 408 for a client that started a request, or a close.
    /// `None` when nothing is due.
    pub fn on_timeout<'i, S: Source, K: Sink>(
        &mut self,
        input: &'i [u8],
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        sink: &mut K,
    ) -> Option<Step<'i, S::Resource>> {
        if self.header_deadline.is_some_and(|d| d <= now.ms) {
            self.header_deadline = None;
            // 408 only to a client that started a request; an idle one closes silently.
            let started = !input.is_empty() || matches!(self.state, State::Body { .. });
            return match self.state {
                State::Head | State::Body { .. } if started => {
                    Some(self.refuse(StatusCode::REQUEST_TIMEOUT, input, now, site, sink))
                }
                State::Head | State::Body { .. } => Some(Step {
                    consumed: 0,
                    event: Event::Close(self.close(CloseReason::HeaderTimeout)),
                }),
                State::Closed(_) => None,
            };
        }
        if self.idle_deadline.is_some_and(|d| d <= now.ms) {
            self.idle_deadline = None;
            if matches!(self.state, State::Head) && input.is_empty() && !self.sending {
                return Some(Step {
                    consumed: 0,
                    event: Event::Close(self.close(CloseReason::IdleTimeout)),
                });
            }
        }
        None
    }

    /// The answer for a caller that must turn a connection away before any request, then close:
    /// too many connections (503 with `Retry-After`, RFC 9110 §15.6.4) or a fault of the server
    /// (500).
    pub fn turn_away<R, K: Sink>(
        why: TurnAway,
        server_name: &str,
        now: &Now<'_>,
        sink: &mut K,
    ) -> Response<R> {
        let (status, extra): (StatusCode, &[(&str, &[u8])]) = match why {
            TurnAway::Busy => (StatusCode::SERVICE_UNAVAILABLE, &[("Retry-After", b"1")]),
            TurnAway::Fault => (StatusCode::INTERNAL_SERVER_ERROR, &[]),
        };
        error_response(status, extra, false, server_name, now.date, sink)
    }

    fn close(&mut self, reason: CloseReason) -> CloseReason {
        self.state = State::Closed(reason);
        self.header_deadline = None;
        self.idle_deadline = None;
        reason
    }

    /// Arms the waiting timers, as of `now_ms`, unless a response is still going out.
    // Out of line: inlined in its three callers it costs 160 B more on thumbv7em.
    #[inline(never)]
    fn wait_for_head(&mut self, now_ms: u64, keepalive_ms: u32, header_ms: u32) {
        if self.sending {
            return;
        }
        if self.started {
            self.idle_deadline = None;
        } else if self.idle_deadline.is_none() {
            self.idle_deadline = Some(now_ms.saturating_add(u64::from(keepalive_ms)));
        }
        if self.header_deadline.is_none() {
            self.header_deadline = Some(now_ms.saturating_add(u64::from(header_ms)));
        }
    }

    /// Drops body bytes behind the head (moving the head forward over them) and answers once the
    /// body is over.
    fn discard<'i, S: Source, K: Sink>(
        &mut self,
        input: &'i mut [u8],
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        sink: &mut K,
    ) -> Step<'i, S::Resource> {
        let limit = u64::from(site.policy.max_request_bytes);
        let State::Body { head_len, mut body } = self.state else {
            return Step::wait(0);
        };
        let mut dropped = 0usize;
        let done = loop {
            let rest = input.get(head_len + dropped..).unwrap_or_default();
            match &mut body {
                BodyLeft::Length(left) => {
                    let take = usize::try_from(*left).map_or(rest.len(), |l| l.min(rest.len()));
                    dropped += take;
                    *left -= take as u64;
                    break *left == 0;
                }
                BodyLeft::Chunked { decoder, seen } => match decoder.decode(rest) {
                    Err(e) => {
                        return self.refuse_at(e.status(), input, dropped, now, site, sink);
                    }
                    Ok(step) => {
                        *seen = seen.saturating_add(step.data.len() as u64);
                        if *seen > limit {
                            return self.refuse_at(
                                StatusCode::CONTENT_TOO_LARGE,
                                input,
                                dropped,
                                now,
                                site,
                                sink,
                            );
                        }
                        dropped += step.consumed;
                        if step.done {
                            break true;
                        }
                        if step.consumed == 0 {
                            break false;
                        }
                    }
                },
            }
        };
        // The head moves forward over the dropped bytes: the caller drops a prefix.
        move_within(input, 0, head_len, dropped);
        let input = input.get_mut(dropped..).unwrap_or_default();
        if done {
            self.state = State::Head;
            let mut fields = [Header::EMPTY; MAX_FIELDS];
            let parser = ParserConfig {
                max_head_bytes: site.policy.max_request_bytes as usize,
            };
            // The head is parsed again only when a body came between: the request borrows the
            // input, which the body moved. A request without a body is parsed once.
            let head = input.get(..head_len).unwrap_or_default();
            let Ok(Status::Complete((_, req))) = parse_request(&parser, head, &mut fields) else {
                return self.refuse(StatusCode::BAD_REQUEST, input, now, site, sink);
            };
            let (response, close, spans) = self.answer(&req, head, now, site, sink);
            let input: &'i [u8] = input;
            return Step {
                consumed: dropped + head_len,
                event: Event::Respond {
                    response,
                    exchange: spans.exchange(input),
                    close,
                },
            };
        }
        self.state = State::Body { head_len, body };
        if dropped == 0 && input.len() >= limit as usize {
            // A body line or trailer section that cannot fit the input buffer.
            return self.refuse(StatusCode::CONTENT_TOO_LARGE, input, now, site, sink);
        }
        if self.header_deadline.is_none() {
            self.header_deadline = Some(
                now.ms
                    .saturating_add(u64::from(site.policy.header_timeout_ms)),
            );
        }
        Step::wait(dropped)
    }

    /// Answers a complete request whose head starts `input`.
    fn answer<S: Source, K: Sink>(
        &mut self,
        req: &Request<'_, '_>,
        input: &[u8],
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        sink: &mut K,
    ) -> (Response<S::Resource>, Option<CloseReason>, Spans) {
        self.header_deadline = None;
        self.idle_deadline = None;
        self.started = false;
        self.requests = self.requests.saturating_add(1);
        let close = if !crate::body::keep_alive(req.version, req.headers) {
            Some(CloseReason::NotPersistent)
        } else if self.requests >= site.policy.keepalive_requests {
            Some(CloseReason::RequestLimit)
        } else if self.stopping {
            Some(CloseReason::Stopping)
        } else {
            None
        };
        let response = match self.https_port {
            Some(port) => redirect_to_https(req, close.is_none(), port, now, site, sink),
            None => respond(req, close.is_none(), now, site, sink),
        };
        let close = if response.fault.is_some() {
            Some(CloseReason::Fault)
        } else {
            close
        };
        if let Some(reason) = close {
            self.close(reason);
        }
        self.sending = true;
        let spans = Spans {
            line: span(input, request_line(input)),
            referer: req.header("referer").map(|v| span(input, v)),
            user_agent: req.header("user-agent").map(|v| span(input, v)),
            forwarded_for: req
                .headers
                .iter()
                .rfind(|h| h.name.eq_ignore_ascii_case("x-forwarded-for"))
                .map(|h| span(input, h.value)),
        };
        (response, close, spans)
    }

    fn refuse<'i, S: Source, K: Sink>(
        &mut self,
        status: StatusCode,
        input: &'i [u8],
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        sink: &mut K,
    ) -> Step<'i, S::Resource> {
        self.refuse_at(status, input, 0, now, site, sink)
    }

    /// An error answer, then close: the framing can no longer be trusted.
    fn refuse_at<'i, S: Source, K: Sink>(
        &mut self,
        status: StatusCode,
        input: &'i [u8],
        dropped: usize,
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        sink: &mut K,
    ) -> Step<'i, S::Resource> {
        let response = error_response(status, &[], false, site.policy.server_name, now.date, sink);
        let reason = self.close(CloseReason::Error(status));
        self.sending = true;
        let rest = input.get(dropped..).unwrap_or_default();
        Step {
            consumed: input.len(),
            event: Event::Respond {
                response,
                exchange: Exchange {
                    request_line: request_line(rest),
                    referer: None,
                    user_agent: None,
                    forwarded_for: None,
                },
                close: Some(reason),
            },
        }
    }
}

/// Where the logged parts of a request lie in the input, so they can be handed out as slices
/// after the parsed request (which borrows the input more narrowly) is gone.
struct Spans {
    line: (usize, usize),
    referer: Option<(usize, usize)>,
    user_agent: Option<(usize, usize)>,
    forwarded_for: Option<(usize, usize)>,
}

impl Spans {
    fn exchange<'i>(&self, input: &'i [u8]) -> Exchange<'i> {
        let get = |(a, b): (usize, usize)| input.get(a..b).unwrap_or_default();
        Exchange {
            request_line: get(self.line),
            referer: self.referer.map(get),
            user_agent: self.user_agent.map(get),
            forwarded_for: self.forwarded_for.map(get),
        }
    }
}

/// Copies `buf[from..from + len]` to `to..to + len` like `copy_within`, in pieces of at most the
/// distance moved, which never overlap: only `memcpy` is linked. An overlapping copy would link
/// `memmove`, 1.5 KiB of thumbv7em code for the two buffer shifts of the core (measured by
/// scripts/core-size.sh). Ranges out of `buf` copy nothing.
pub(crate) fn move_within(buf: &mut [u8], from: usize, len: usize, to: usize) {
    let distance = from.abs_diff(to);
    if distance == 0 || from.max(to).saturating_add(len) > buf.len() {
        return;
    }
    let mut done = 0;
    while done < len {
        let n = distance.min(len - done);
        // Left: the front pieces first; right: the back ones, so no source is overwritten first.
        let offset = if to < from { done } else { len - done - n };
        let (src, dst) = (from + offset, to + offset);
        let Some((low, high)) = buf.split_at_mut_checked(src.max(dst)) else {
            return;
        };
        let (Some(low), Some(high)) = (
            low.get_mut(src.min(dst)..).and_then(|l| l.get_mut(..n)),
            high.get_mut(..n),
        ) else {
            return;
        };
        if src < dst {
            high.copy_from_slice(low);
        } else {
            low.copy_from_slice(high);
        }
        done += n;
    }
}

/// The position of `inner`, a subslice of `outer`, as a range of `outer`.
fn span(outer: &[u8], inner: &[u8]) -> (usize, usize) {
    let start = (inner.as_ptr() as usize).wrapping_sub(outer.as_ptr() as usize);
    (start, start.wrapping_add(inner.len()))
}

/// The longest request line an [`Exchange`] repeats.
pub const LOGGED_LINE_BYTES: usize = 8192;

/// The request line as sent: after one optional leading CRLF, up to the line's end.
pub fn request_line(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\r\n").unwrap_or(head);
    let end = head
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(head.len())
        .min(LOGGED_LINE_BYTES);
    head.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::move_within;

    #[test]
    fn move_within_agrees_with_copy_within() {
        let original: [u8; 12] = core::array::from_fn(|i| i as u8 + 1);
        for from in 0..=12 {
            for to in 0..=12 {
                for len in 0..=12 - from.max(to) {
                    let mut expected = original;
                    expected.copy_within(from..from + len, to);
                    let mut moved = original;
                    move_within(&mut moved, from, len, to);
                    assert_eq!(moved, expected, "from {from} len {len} to {to}");
                }
            }
        }
    }

    #[test]
    fn move_within_out_of_range_copies_nothing() {
        let mut buf = [1u8, 2, 3, 4];
        move_within(&mut buf, 2, 3, 0);
        move_within(&mut buf, 0, 3, 2);
        assert_eq!(buf, [1, 2, 3, 4]);
    }
}
