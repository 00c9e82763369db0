//! One connection: an explicit state machine advanced by [`Conn::advance`] on readiness.
//!
//! ```text
//! ReadingHead --head--> (DiscardingBody) --respond--> Writing <-> SendingFile
//!      ^                                                 |
//!      +------------------ keep-alive -------------------+--- close ---> Closing -> closed
//! ```
//!
//! Sockets are registered edge-triggered for both directions once; `readable`/`writable` remember
//! whether the last attempt drained the socket, so a short read or write saves the syscall that
//! would only say "would block".

use std::io::{self, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;
use staticd_core::body::{ChunkedDecoder, Framing, inspect_request};
use staticd_core::parse::{Header, ParserConfig, Status, parse_request};
use staticd_core::status::StatusCode;

use crate::engine::{Ctx, TimerKind};
use crate::log::AccessLine;
use crate::respond::{self, Env, Output, Reply};

/// Header fields accepted per request; more is 431 (the core counts them).
const MAX_HEADERS: usize = 100;
/// Responses batched for pipelined requests before the output is flushed.
const BATCH_BYTES: usize = 64 * 1024;
/// Bytes one connection may send per wake-up before letting the others run.
const SEND_BUDGET_BYTES: usize = 4 * 1024 * 1024;
/// A lingering close drops at most this much of what the client still sends.
const LINGER_MAX_BYTES: usize = 1024 * 1024;
/// The longest request line the access log repeats.
const LOGGED_LINE_BYTES: usize = 8192;

/// Where a connection is.
#[derive(Debug)]
pub enum State {
    /// Waiting for a complete request head (pipelined heads may already be buffered).
    ReadingHead,
    /// The head at the start of the input is complete; its body is read and dropped before the
    /// response is built, so a body that turns out too large can still be answered with 413.
    DiscardingBody { head_len: usize, body: BodyLeft },
    /// Writing buffered bytes (heads, small bodies).
    Writing,
    /// Sending a file segment with sendfile.
    SendingFile,
    /// The answer is out and the write side shut: dropping input until EOF or the linger timer,
    /// so the client reads the response instead of a reset (RFC 9112 §9.6).
    Closing { dropped: usize },
}

#[derive(Debug)]
pub enum BodyLeft {
    Length(u64),
    Chunked { decoder: ChunkedDecoder, seen: u64 },
}

/// What [`Conn::advance`] leaves the engine to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait for readiness or a timer.
    Wait,
    /// More work is ready but the send budget is spent: advance again next iteration.
    Again,
    /// Drop the connection.
    Close,
}

/// Received bytes: `buf[start..end]` is unprocessed. The buffer is borrowed from the worker's pool
/// only while bytes are held, so idle connections cost no buffer.
#[derive(Debug, Default)]
pub struct Input {
    buf: Option<Box<[u8]>>,
    start: usize,
    end: usize,
}

impl Input {
    fn pending(&self) -> &[u8] {
        match &self.buf {
            Some(buf) => &buf[self.start..self.end],
            None => &[],
        }
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start >= self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Removes `n` bytes at `at` (relative to `start`), keeping what follows.
    fn remove(&mut self, at: usize, n: usize) {
        if let Some(buf) = &mut self.buf {
            let from = self.start + at;
            buf.copy_within(from + n..self.end, from);
            self.end -= n;
        }
    }
}

pub struct Conn {
    /// Unique per worker, so a timer entry for a reused slot is recognised as stale.
    pub id: u64,
    pub stream: TcpStream,
    client: [u8; 46],
    client_len: usize,
    pub state: State,
    input: Input,
    output: Output,
    out_pos: usize,
    /// The request whose body was discarded is answered from its buffered head.
    body_discarded: bool,
    /// Close once the output is out.
    close_after: bool,
    /// The close follows an error or a stop: linger so the client reads the answer.
    linger: bool,
    pub readable: bool,
    pub writable: bool,
    /// The peer's FIN has been reported (EPOLLRDHUP): a short read no longer means the queue is
    /// drained for good, because no further edge will come to report the EOF behind the data.
    pub read_closed: bool,
    requests: u32,
    pub header_deadline: Option<u64>,
    pub idle_deadline: Option<u64>,
    pub send_deadline: Option<u64>,
    pub linger_deadline: Option<u64>,
    last_progress_ms: u64,
}

enum Fill {
    Read,
    WouldBlock,
    Eof,
    Full,
}

impl Conn {
    pub fn new(id: u64, stream: TcpStream, peer: std::net::SocketAddr) -> Self {
        let mut client = [0u8; 46];
        let mut w = &mut client[..];
        let _ = write!(w, "{}", peer.ip());
        let client_len = 46 - w.len();
        Conn {
            id,
            stream,
            client,
            client_len,
            state: State::ReadingHead,
            input: Input::default(),
            output: Output::default(),
            out_pos: 0,
            body_discarded: false,
            close_after: false,
            linger: false,
            // epoll reports data that arrived before registration, so no speculative read.
            readable: false,
            writable: true,
            read_closed: false,
            requests: 0,
            header_deadline: None,
            idle_deadline: None,
            send_deadline: None,
            linger_deadline: None,
            last_progress_ms: 0,
        }
    }

    pub fn client(&self) -> &[u8] {
        &self.client[..self.client_len]
    }

    /// Runs the state machine until it has to wait.
    pub fn advance(&mut self, token: usize, ctx: &mut Ctx<'_>) -> Next {
        let mut sent = 0usize;
        loop {
            match &mut self.state {
                State::ReadingHead => {
                    if !self.input.pending().is_empty() {
                        match self.handle_head(ctx) {
                            HeadStep::NeedMore => {}
                            HeadStep::Answered => {
                                if self.close_after
                                    || !self.output.files.is_empty()
                                    || self.output.bytes.len() >= BATCH_BYTES
                                {
                                    self.state = State::Writing;
                                }
                                continue;
                            }
                            HeadStep::Body => continue,
                        }
                    }
                    if !self.output.is_empty() {
                        self.state = State::Writing;
                        continue;
                    }
                    if ctx.stopping && self.input.pending().is_empty() {
                        return Next::Close;
                    }
                    match self.fill(ctx) {
                        Fill::Read => {}
                        Fill::WouldBlock => {
                            self.wait_for_head(token, ctx);
                            return Next::Wait;
                        }
                        // RFC 9112 §9.6: the client half-closed. Every complete request in
                        // the input has been answered and written by now; what is left is at most
                        // a partial head that can never complete, so the slot is freed at once
                        // rather than at header_timeout or keepalive_timeout.
                        Fill::Eof => return Next::Close,
                        Fill::Full => {
                            // The parser refuses a head at the limit, so a full buffer here is a
                            // limit the core did not see: refuse it the same way.
                            self.answer_error(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, ctx);
                        }
                    }
                }
                State::DiscardingBody { .. } => match self.discard_body(ctx) {
                    Ok(true) => {
                        self.body_discarded = true;
                        self.state = State::ReadingHead;
                    }
                    Ok(false) => match self.fill(ctx) {
                        Fill::Read => {}
                        Fill::WouldBlock => {
                            self.ensure_timer(TimerKind::Header, token, ctx);
                            return Next::Wait;
                        }
                        Fill::Eof => return Next::Close,
                        Fill::Full => self.answer_error(StatusCode::CONTENT_TOO_LARGE, ctx),
                    },
                    Err(status) => self.answer_error(status, ctx),
                },
                State::Writing | State::SendingFile => match self.flush(&mut sent) {
                    Ok(true) => {
                        self.send_deadline = None;
                        if self.close_after {
                            if !self.linger && self.input.pending().is_empty() && !self.readable {
                                // The FIN carries the held answer out. A close() alone would
                                // reset instead, discarding it, if a request came in meanwhile.
                                let _ = self.stream.shutdown(Shutdown::Write);
                                return Next::Close;
                            }
                            if self.start_closing(token, ctx) {
                                return Next::Close;
                            }
                        } else {
                            self.state = State::ReadingHead;
                        }
                    }
                    Ok(false) if sent >= SEND_BUDGET_BYTES && self.writable => return Next::Again,
                    Ok(false) => {
                        self.last_progress_ms = ctx.now_ms;
                        self.ensure_timer(TimerKind::Send, token, ctx);
                        return Next::Wait;
                    }
                    Err(_) => return Next::Close,
                },
                State::Closing { dropped } => {
                    let mut scratch = [0u8; 4096];
                    loop {
                        match self.stream.read(&mut scratch) {
                            Ok(0) => return Next::Close,
                            Ok(n) => {
                                *dropped += n;
                                if *dropped > LINGER_MAX_BYTES {
                                    return Next::Close;
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                self.readable = false;
                                return Next::Wait;
                            }
                            Err(_) => return Next::Close,
                        }
                    }
                }
            }
        }
    }

    /// A timer of `kind` expired for this connection (already checked as current).
    pub fn on_timer(&mut self, kind: TimerKind, token: usize, ctx: &mut Ctx<'_>) -> Next {
        match kind {
            TimerKind::Header => {
                self.header_deadline = None;
                let started = !self.input.pending().is_empty();
                match self.state {
                    // Issue 8: 408 only to a client that started a request; an idle one closes silently.
                    State::ReadingHead | State::DiscardingBody { .. } if started => {
                        self.answer_error(StatusCode::REQUEST_TIMEOUT, ctx);
                        self.advance(token, ctx)
                    }
                    State::ReadingHead => Next::Close,
                    _ => Next::Wait,
                }
            }
            TimerKind::Idle => {
                self.idle_deadline = None;
                if matches!(self.state, State::ReadingHead)
                    && self.input.pending().is_empty()
                    && self.output.is_empty()
                {
                    Next::Close
                } else {
                    Next::Wait
                }
            }
            TimerKind::Send => {
                self.send_deadline = None;
                if !matches!(self.state, State::Writing | State::SendingFile) {
                    return Next::Wait;
                }
                if ctx.now_ms.saturating_sub(self.last_progress_ms) >= ctx.send_timeout_ms {
                    // The client stopped reading.
                    Next::Close
                } else {
                    self.ensure_timer(TimerKind::Send, token, ctx);
                    Next::Wait
                }
            }
            TimerKind::Linger => Next::Close,
        }
    }

    /// The server is stopping: idle connections close now, in-flight responses finish first.
    pub fn on_stop(&mut self, token: usize, ctx: &mut Ctx<'_>) -> Next {
        match self.state {
            State::ReadingHead if self.output.is_empty() => Next::Close,
            State::DiscardingBody { .. } => Next::Close,
            State::Closing { .. } => Next::Wait,
            _ => {
                self.close_after = true;
                self.advance(token, ctx)
            }
        }
    }

    fn wait_for_head(&mut self, token: usize, ctx: &mut Ctx<'_>) {
        if self.input.pending().is_empty() {
            // Idle between requests: give the buffer back and let keepalive_timeout run too.
            if let Some(buf) = self.input.buf.take() {
                ctx.bufs.put(buf);
            }
            if self.output.bytes.capacity() > 0 && self.output.is_empty() {
                ctx.out_bufs.put(std::mem::take(&mut self.output.bytes));
            }
            self.ensure_timer(TimerKind::Idle, token, ctx);
        } else {
            self.idle_deadline = None;
        }
        self.ensure_timer(TimerKind::Header, token, ctx);
    }

    fn ensure_timer(&mut self, kind: TimerKind, token: usize, ctx: &mut Ctx<'_>) {
        let slot = match kind {
            TimerKind::Header => &mut self.header_deadline,
            TimerKind::Idle => &mut self.idle_deadline,
            TimerKind::Send => &mut self.send_deadline,
            TimerKind::Linger => &mut self.linger_deadline,
        };
        if slot.is_none() {
            *slot = Some(ctx.timers.queue(kind).arm(ctx.now_ms, token, self.id));
        }
    }

    /// Reads what the socket has into the input buffer.
    fn fill(&mut self, ctx: &mut Ctx<'_>) -> Fill {
        if !self.readable {
            return Fill::WouldBlock;
        }
        let buf = self.input.buf.get_or_insert_with(|| ctx.bufs.take());
        if self.input.end == buf.len() {
            if self.input.start == 0 {
                return Fill::Full;
            }
            buf.copy_within(self.input.start..self.input.end, 0);
            self.input.end -= self.input.start;
            self.input.start = 0;
        }
        let space = buf.len() - self.input.end;
        loop {
            match self.stream.read(&mut buf[self.input.end..]) {
                Ok(0) => return Fill::Eof,
                Ok(n) => {
                    self.input.end += n;
                    // TCP: a short read emptied the receive queue; new data brings a new edge.
                    // A FIN that came with the data brought its edge already: keep reading to
                    // see the EOF.
                    if n < space && !self.read_closed {
                        self.readable = false;
                    }
                    return Fill::Read;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Fill::WouldBlock;
                }
                Err(_) => return Fill::Eof,
            }
        }
    }

    /// Parses the buffered head and answers it, or starts discarding its body.
    fn handle_head(&mut self, ctx: &mut Ctx<'_>) -> HeadStep {
        let parser = ParserConfig {
            max_head_bytes: ctx.max_request_bytes,
        };
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let pending = self.input.pending();
        let (head_len, req) = match parse_request(&parser, pending, &mut headers) {
            Ok(Status::Partial) => return HeadStep::NeedMore,
            Ok(Status::Complete(done)) => done,
            Err(e) => {
                let status = e.status();
                self.answer_error(status, ctx);
                return HeadStep::Answered;
            }
        };
        let info = match inspect_request(&req) {
            Ok(info) => info,
            Err(e) => {
                self.answer_error(e.status(), ctx);
                return HeadStep::Answered;
            }
        };
        if !self.body_discarded {
            let body = match info.framing {
                Framing::None | Framing::ContentLength(0) => None,
                // Issue 8: refuse a declared body over the limit at once, never read it.
                Framing::ContentLength(n) if n > ctx.max_request_bytes as u64 => {
                    self.answer_error(StatusCode::CONTENT_TOO_LARGE, ctx);
                    return HeadStep::Answered;
                }
                Framing::ContentLength(n) => Some(BodyLeft::Length(n)),
                Framing::Chunked => Some(BodyLeft::Chunked {
                    decoder: ChunkedDecoder::new(),
                    seen: 0,
                }),
            };
            if let Some(body) = body {
                self.state = State::DiscardingBody { head_len, body };
                return HeadStep::Body;
            }
        }
        self.body_discarded = false;
        // The whole request is in: the header timer stops here.
        self.header_deadline = None;
        self.idle_deadline = None;
        self.requests = self.requests.saturating_add(1);
        let keep_alive = info.keep_alive && self.requests < ctx.keepalive_requests && !ctx.stopping;
        if self.output.bytes.capacity() == 0 {
            self.output.bytes = ctx.out_bufs.take();
        }
        let mut env = Env {
            files: &mut ctx.files,
            date: &ctx.date,
            date_secs: ctx.date_secs,
            server: ctx.server_name,
            deny_dotfiles: ctx.deny_dotfiles,
            dotfile_exceptions: ctx.dotfile_exceptions,
            now_ms: ctx.now_ms,
            path_buf: &mut ctx.path_buf,
            scratch: &mut ctx.scratch,
        };
        let reply = respond::respond(&req, keep_alive, &mut env, &mut self.output);
        let line = AccessLine {
            client: &self.client[..self.client_len],
            clf_date: &ctx.clf_date,
            request_line: Some(request_line(pending)),
            status: reply.status,
            body_bytes: reply.body_bytes,
            referer: req.header("referer"),
            user_agent: req.header("user-agent"),
        };
        line.write_to(&mut ctx.log.buf);
        self.input.consume(head_len);
        if !keep_alive {
            self.close_after = true;
        }
        HeadStep::Answered
    }

    /// Drops body bytes; `Ok(true)` once the whole body is gone.
    fn discard_body(&mut self, ctx: &mut Ctx<'_>) -> Result<bool, StatusCode> {
        let State::DiscardingBody { head_len, body } = &mut self.state else {
            return Ok(true);
        };
        let head_len = *head_len;
        loop {
            let available = self.input.pending().len() - head_len;
            match body {
                BodyLeft::Length(left) => {
                    let take = (*left).min(available as u64) as usize;
                    self.input.remove(head_len, take);
                    *left -= take as u64;
                    return Ok(*left == 0);
                }
                BodyLeft::Chunked { decoder, seen } => {
                    let step = decoder
                        .decode(&self.input.pending()[head_len..])
                        .map_err(|e| e.status())?;
                    *seen = seen.saturating_add(step.data.len() as u64);
                    if *seen > ctx.max_request_bytes as u64 {
                        return Err(StatusCode::CONTENT_TOO_LARGE);
                    }
                    let (consumed, done) = (step.consumed, step.done);
                    self.input.remove(head_len, consumed);
                    if done {
                        return Ok(true);
                    }
                    if consumed == 0 {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Answers with an error page and closes after it: the framing can no longer be trusted.
    fn answer_error(&mut self, status: StatusCode, ctx: &mut Ctx<'_>) {
        if self.output.bytes.capacity() == 0 {
            self.output.bytes = ctx.out_bufs.take();
        }
        let pending = self.input.pending();
        let reply: Reply = respond::error_page_with(
            status,
            b"",
            false,
            false,
            &ctx.date,
            ctx.server_name,
            &mut self.output,
        );
        let line = request_line(pending);
        AccessLine {
            client: &self.client[..self.client_len],
            clf_date: &ctx.clf_date,
            request_line: (!line.is_empty()).then_some(line),
            status: reply.status,
            body_bytes: reply.body_bytes,
            referer: None,
            user_agent: None,
        }
        .write_to(&mut ctx.log.buf);
        self.header_deadline = None;
        self.close_after = true;
        self.linger = true;
        self.state = State::Writing;
    }

    /// Writes the output: bytes up to the next file segment, then the segment, and so on.
    /// `Ok(true)` when all is out, `Ok(false)` when the socket is full or the budget spent.
    fn flush(&mut self, sent: &mut usize) -> io::Result<bool> {
        loop {
            let limit = self
                .output
                .files
                .front()
                .map_or(self.output.bytes.len(), |f| f.after);
            if self.out_pos < limit {
                self.state = State::Writing;
                if !self.writable {
                    return Ok(false);
                }
                let chunk = &self.output.bytes[self.out_pos..limit];
                // A head followed by a sendfile segment is held back (MSG_MORE) and leaves in the
                // first full segment with the body, the way TCP_CORK would, without two extra
                // setsockopt calls per response. The last answer before a close is held for the
                // FIN the shutdown sends: one segment instead of two for the client to take in.
                let flags = if self.output.files.is_empty() && !self.close_after {
                    rustix::net::SendFlags::NOSIGNAL
                } else {
                    rustix::net::SendFlags::NOSIGNAL | rustix::net::SendFlags::MORE
                };
                match rustix::net::send(&self.stream, chunk, flags).map_err(io::Error::from) {
                    Ok(n) => {
                        self.out_pos += n;
                        *sent += n;
                        // TCP: a short write filled the send buffer; space brings a new edge.
                        if n < chunk.len() {
                            self.writable = false;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                    Err(e) => return Err(e),
                }
                continue;
            }
            let Some(segment) = self.output.files.front_mut() else {
                self.output.bytes.clear();
                self.out_pos = 0;
                return Ok(true);
            };
            self.state = State::SendingFile;
            if segment.offset >= segment.end {
                self.output.files.pop_front();
                continue;
            }
            if !self.writable || *sent >= SEND_BUDGET_BYTES {
                return Ok(false);
            }
            let count = usize::try_from(segment.end - segment.offset)
                .unwrap_or(usize::MAX)
                .min(SEND_BUDGET_BYTES);
            match rustix::fs::sendfile(
                &self.stream,
                &*segment.file,
                Some(&mut segment.offset),
                count,
            ) {
                // The file shrank under us: the promised length cannot be kept, so the only honest
                // end is to close (issue 5). sendfile queues page-cache references, so bytes already queued
                // may show the truncation too: abort with a reset (SO_LINGER 0), which discards the
                // unsent queue instead of delivering it before a FIN.
                Ok(0) => {
                    let _ = rustix::net::sockopt::set_socket_linger(
                        &self.stream,
                        Some(std::time::Duration::ZERO),
                    );
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"));
                }
                // A short sendfile may mean a full socket or the end of a file that shrank: only
                // the next call (EAGAIN or 0) tells which, so no readiness is assumed here.
                Ok(n) => *sent += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => self.writable = false,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Shuts the write side and starts dropping input; `true` when the connection can go now.
    fn start_closing(&mut self, token: usize, ctx: &mut Ctx<'_>) -> bool {
        if self.stream.shutdown(Shutdown::Write).is_err() {
            return true;
        }
        if let Some(buf) = self.input.buf.take() {
            ctx.bufs.put(buf);
        }
        self.input = Input::default();
        self.state = State::Closing { dropped: 0 };
        self.readable = true;
        self.ensure_timer(TimerKind::Linger, token, ctx);
        false
    }

    /// Gives pooled buffers back before the connection is dropped.
    pub fn release(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(buf) = self.input.buf.take() {
            ctx.bufs.put(buf);
        }
        if self.output.bytes.capacity() > 0 {
            ctx.out_bufs.put(std::mem::take(&mut self.output.bytes));
        }
    }
}

enum HeadStep {
    NeedMore,
    Answered,
    Body,
}

/// The request line as sent, for the log: after one optional leading CRLF, up to the line end.
fn request_line(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\r\n").unwrap_or(head);
    let end = head
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(head.len())
        .min(LOGGED_LINE_BYTES);
    &head[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_for_the_log() {
        assert_eq!(
            request_line(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            b"GET / HTTP/1.1"
        );
        assert_eq!(
            request_line(b"\r\nGET /x HTTP/1.0\r\n\r\n"),
            b"GET /x HTTP/1.0"
        );
        assert_eq!(request_line(b"GET /partial"), b"GET /partial");
        assert_eq!(request_line(b""), b"");
    }

    #[test]
    fn input_consume_and_remove() {
        let mut input = Input {
            buf: Some(b"HEADbodyNEXT".to_vec().into_boxed_slice()),
            start: 0,
            end: 12,
        };
        input.remove(4, 4);
        assert_eq!(input.pending(), b"HEADNEXT");
        input.consume(4);
        assert_eq!(input.pending(), b"NEXT");
        input.consume(4);
        assert_eq!((input.start, input.end), (0, 0));
    }
}
