//! One connection on a worker: the socket, its buffers and timers around staticd-core's
//! [`Connection`], which makes every HTTP decision. This module moves bytes: it reads into the
//! input buffer, hands it to the core, queues the core's responses (heads and small bodies as
//! bytes, large bodies as sendfile segments), writes them out, and logs each exchange with the
//! body bytes actually sent.
//!
//! ```text
//! Serving: read -> core.poll -> queue response -> write/sendfile -> core.sent -> (keep-alive) read
//!                                                                   \-> close: FIN, or linger
//! Closing: the answer is out and the write side shut; input is dropped until EOF or the timer
//! ```
//!
//! Sockets are registered edge-triggered for both directions once; `readable`/`writable` remember
//! whether the last attempt drained the socket, so a short read or write saves the syscall that
//! would only say "would block".

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write as _};
use std::net::Shutdown;
use std::sync::Arc;

use mio::net::TcpStream;
use staticd_core::conn::{CloseReason, Connection, Event, Exchange, Timer};
use staticd_core::respond::{Response, Segment};

use crate::ctx::{Ctx, LinePool};
use crate::files::{Body, Served};
use crate::log::AccessLine;
use crate::proxied::{Expect, Taken, take_header};
use crate::timers::TimerKind;

/// Responses batched for pipelined requests before the output is flushed.
const BATCH_BYTES: usize = 64 * 1024;
/// Bytes one connection may send per wake-up before letting the others run.
const SEND_BUDGET_BYTES: usize = 4 * 1024 * 1024;
/// A lingering close drops at most this much of what the client still sends.
const LINGER_MAX_BYTES: usize = 1024 * 1024;

/// Where a connection is, for the transport: the HTTP state is the core's.
#[derive(Debug)]
pub enum State {
    /// Reading requests and writing responses.
    Serving,
    /// The answer is out and the write side shut: dropping input until EOF or the linger timer,
    /// so the client reads the response instead of a reset (RFC 9112 §9.6).
    Closing {
        /// Input bytes dropped so far.
        dropped: usize,
    },
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

    fn pending_mut(&mut self) -> &mut [u8] {
        match &mut self.buf {
            Some(buf) => &mut buf[self.start..self.end],
            None => &mut [],
        }
    }

    fn consume(&mut self, n: usize) {
        self.start += n.min(self.end - self.start);
        if self.start >= self.end {
            self.start = 0;
            self.end = 0;
        }
    }
}

/// An answered request whose access-log line waits for its body to be sent (or cut short), so
/// the line shows the bytes that actually left.
#[derive(Debug)]
struct PendingLog {
    /// The request line, referer and user agent, one after the other.
    text: Vec<u8>,
    line_len: usize,
    referer_len: Option<usize>,
    user_agent_len: Option<usize>,
    status: staticd_core::StatusCode,
    /// The client a trusted `X-Forwarded-For` named, when it differs from the connection's.
    forwarded_client: Option<std::net::IpAddr>,
    clf_date: [u8; 26],
    /// When the request head was complete (worker milliseconds), for the response time.
    started_ms: u64,
    /// The body's first byte and end, counted in bytes queued on this connection.
    body_start: u64,
    body_end: u64,
}

pub struct Conn {
    /// Unique per worker, so a timer entry for a reused slot is recognised as stale.
    pub id: u64,
    pub stream: TcpStream,
    /// The TLS session of a connection accepted on the TLS listener; `None` on plain ones, which
    /// read and write the socket directly (and send files with sendfile).
    tls: Option<Box<rustls::ServerConnection>>,
    client: [u8; 46],
    client_len: usize,
    /// The client: the peer, or the one a trusted balancer's PROXY header named.
    client_ip: std::net::IpAddr,
    /// The PROXY header the first bytes must hold, until it has been taken.
    awaiting: Expect,
    http: Connection,
    pub state: State,
    input: Input,
    /// The input holds bytes the core has not seen.
    fresh: bool,
    output: Output,
    out_pos: usize,
    /// Bytes queued on this connection (heads, pages, bodies) and bytes sent.
    queued: u64,
    sent: u64,
    logs: VecDeque<PendingLog>,
    /// Close once the output is out, and why.
    close_after: Option<CloseReason>,
    pub readable: bool,
    pub writable: bool,
    /// The peer's FIN has been reported (EPOLLRDHUP): a short read no longer means the queue is
    /// drained for good, because no further edge will come to report the EOF behind the data.
    pub read_closed: bool,
    /// The deadline each timer kind is armed for.
    armed: [Option<u64>; 4],
    last_progress_ms: u64,
}

enum Fill {
    Read,
    WouldBlock,
    Eof,
    Full,
}

impl Conn {
    pub fn new(
        id: u64,
        stream: TcpStream,
        tls: Option<Box<rustls::ServerConnection>>,
        peer: std::net::SocketAddr,
        awaiting: Expect,
        http: Connection,
    ) -> Self {
        let (client, client_len) = render_ip(peer.ip());
        Conn {
            id,
            stream,
            tls,
            client,
            client_len,
            client_ip: peer.ip(),
            awaiting,
            http,
            state: State::Serving,
            input: Input::default(),
            fresh: false,
            output: Output::default(),
            out_pos: 0,
            queued: 0,
            sent: 0,
            logs: VecDeque::new(),
            close_after: None,
            // epoll reports data that arrived before registration, so no speculative read.
            readable: false,
            writable: true,
            read_closed: false,
            armed: [None; 4],
            last_progress_ms: 0,
        }
    }

    pub fn client(&self) -> &[u8] {
        &self.client[..self.client_len]
    }

    /// The deadline `kind` is armed for, to tell a current timer entry from a stale one.
    pub fn armed(&self, kind: TimerKind) -> Option<u64> {
        self.armed[kind as usize]
    }

    /// Runs the connection until it has to wait.
    pub fn advance(&mut self, token: usize, ctx: &mut Ctx<'_>) -> Next {
        let next = self.run(token, ctx);
        self.sync_timers(token, ctx);
        self.log_sent(ctx);
        next
    }

    fn run(&mut self, token: usize, ctx: &mut Ctx<'_>) -> Next {
        let mut budget = 0usize;
        loop {
            if let State::Closing { dropped } = &mut self.state {
                return drain(&mut self.stream, dropped, &mut self.readable);
            }
            // Answer what is buffered while the batch is small; the core answers one request a
            // call, in order.
            if self.fresh
                && self.close_after.is_none()
                && self.output.files.is_empty()
                && self.output.bytes.len() < BATCH_BYTES
            {
                self.poll_core(ctx);
                continue;
            }
            if !self.output.is_empty() {
                match self.flush(&mut budget) {
                    Ok(true) => {
                        self.ensure_send_timer(None, token, ctx);
                        if let Some(next) = self.response_out(token, ctx) {
                            return next;
                        }
                        continue;
                    }
                    Ok(false) if budget >= SEND_BUDGET_BYTES && self.writable => {
                        return Next::Again;
                    }
                    Ok(false) => {
                        self.last_progress_ms = ctx.now_ms;
                        self.ensure_send_timer(Some(()), token, ctx);
                        return Next::Wait;
                    }
                    Err(_) => return Next::Close,
                }
            }
            if let Some(tls) = &mut self.tls {
                // Handshake records a full socket held back.
                match crate::tls::write_records(tls, &mut self.stream, &mut self.writable) {
                    Ok(true) => {}
                    Ok(false) => return Next::Wait,
                    Err(_) => return Next::Close,
                }
            }
            if self.close_after.is_some() {
                // Closed with nothing left to send (a core close without an answer).
                return Next::Close;
            }
            match self.fill(ctx) {
                Fill::Read if self.awaiting != Expect::Nothing => {
                    if let Some(next) = self.take_proxy_header(ctx) {
                        return next;
                    }
                }
                Fill::Read => self.fresh = true,
                Fill::WouldBlock => {
                    if self.input.pending().is_empty() {
                        self.give_back_buffers(ctx);
                    }
                    return Next::Wait;
                }
                // RFC 9112 §9.6: the client half-closed. Every complete request in the input has
                // been answered and written by now; what is left is at most a partial head that
                // can never complete, so the slot is freed at once.
                Fill::Eof => {
                    self.http.on_eof();
                    return Next::Close;
                }
                // The core refuses a head or body at the buffer's size, so a full buffer it has
                // seen cannot occur; a connection that gets here anyway is dropped.
                Fill::Full => return Next::Close,
            }
        }
    }

    /// A trusted balancer's PROXY header, before any HTTP: the client it names replaces the peer
    /// for the connection's life; without a valid one the connection closes unanswered.
    fn take_proxy_header(&mut self, ctx: &mut Ctx<'_>) -> Option<Next> {
        match take_header(self.awaiting, self.input.pending()) {
            Taken::NeedMore => None,
            Taken::Header { len, client } => {
                self.input.consume(len);
                self.awaiting = Expect::Nothing;
                if let Some(client) = client {
                    self.client_ip = client.ip();
                    (self.client, self.client_len) = render_ip(client.ip());
                }
                if let Some(tls) = &mut self.tls {
                    // What followed the header is the start of the handshake: rustls takes it.
                    let early = self.input.pending().len();
                    let taken = crate::tls::take_early(tls, &mut self.stream, self.input.pending());
                    self.input.consume(early);
                    return (!taken).then_some(Next::Close);
                }
                self.fresh = !self.input.pending().is_empty();
                None
            }
            Taken::Refuse(why) => {
                let why = match why {
                    None => "no PROXY header".to_owned(),
                    Some(e) => format!("a malformed PROXY header ({e:?})"),
                };
                ctx.errors.error(format_args!(
                    "closed a connection from trusted proxy {}: {why}",
                    self.client_ip
                ));
                Some(Next::Close)
            }
        }
    }

    /// Hands the input to the core and queues what it decides.
    fn poll_core(&mut self, ctx: &mut Ctx<'_>) {
        if self.output.bytes.capacity() == 0 {
            self.output.bytes = ctx.out_bufs.take();
        }
        let (now, mut site) = ctx.core_inputs();
        let step = self.http.poll(
            self.input.pending_mut(),
            &now,
            &mut site,
            &mut self.output.bytes,
        );
        let consumed = step.consumed;
        match step.event {
            Event::NeedInput => self.fresh = false,
            Event::Close(reason) => self.close_after = Some(reason),
            Event::Respond {
                response,
                exchange,
                close,
            } => {
                let mut log = pending_log(
                    &exchange,
                    &response,
                    &ctx.clf_date,
                    ctx.now_ms,
                    &mut ctx.line_pool,
                );
                log.forwarded_client = exchange
                    .forwarded_for
                    .and_then(|field| ctx.proxy.forwarded_client(self.client_ip, field));
                self.queue(response, log, &ctx.errors);
                if close.is_some() {
                    self.close_after = close;
                }
            }
        }
        self.input.consume(consumed);
    }

    /// A timer of `kind` expired for this connection (already checked as current).
    pub fn on_timer(&mut self, kind: TimerKind, token: usize, ctx: &mut Ctx<'_>) -> Next {
        self.armed[kind as usize] = None;
        match kind {
            TimerKind::Header | TimerKind::Idle => {
                if !matches!(self.state, State::Serving) {
                    return Next::Wait;
                }
                if self.awaiting != Expect::Nothing {
                    // A balancer that never finished its PROXY header gets no HTTP answer.
                    return Next::Close;
                }
                if self.output.bytes.capacity() == 0 {
                    self.output.bytes = ctx.out_bufs.take();
                }
                let (now, mut site) = ctx.core_inputs();
                let Some(step) = self.http.on_timeout(
                    self.input.pending(),
                    &now,
                    &mut site,
                    &mut self.output.bytes,
                ) else {
                    self.sync_timers(token, ctx);
                    return Next::Wait;
                };
                let consumed = step.consumed;
                match step.event {
                    Event::NeedInput => {}
                    Event::Close(_) => return Next::Close,
                    Event::Respond {
                        response,
                        exchange,
                        close,
                    } => {
                        let log = pending_log(
                            &exchange,
                            &response,
                            &ctx.clf_date,
                            ctx.now_ms,
                            &mut ctx.line_pool,
                        );
                        self.queue(response, log, &ctx.errors);
                        self.close_after = close;
                    }
                }
                self.input.consume(consumed);
                self.advance(token, ctx)
            }
            TimerKind::Send => {
                if self.output.is_empty() {
                    return Next::Wait;
                }
                if ctx.now_ms.saturating_sub(self.last_progress_ms) >= ctx.send_timeout_ms {
                    // The client stopped reading.
                    Next::Close
                } else {
                    self.ensure_send_timer(Some(()), token, ctx);
                    Next::Wait
                }
            }
            TimerKind::Linger => Next::Close,
        }
    }

    /// The server is stopping: idle connections close now, in-flight responses finish first.
    pub fn on_stop(&mut self, token: usize, ctx: &mut Ctx<'_>) -> Next {
        if matches!(self.state, State::Closing { .. }) {
            return Next::Wait;
        }
        match self.http.stop() {
            Some(_) if self.output.is_empty() => Next::Close,
            Some(reason) => {
                self.close_after = Some(reason);
                self.advance(token, ctx)
            }
            None => self.advance(token, ctx),
        }
    }

    /// The output is all out: tell the core, and close if the answer said so.
    fn response_out(&mut self, token: usize, ctx: &mut Ctx<'_>) -> Option<Next> {
        let after_core = self.http.sent(ctx.now_ms, &ctx.policy);
        let Some(reason) = after_core.or(self.close_after) else {
            self.fresh = !self.input.pending().is_empty();
            return None;
        };
        self.close_after = Some(reason);
        if !reason.lingers() && self.input.pending().is_empty() && !self.readable {
            // The FIN carries the held answer out. A close() alone would reset instead,
            // discarding it, if a request came in meanwhile.
            if let Some(tls) = &mut self.tls {
                crate::tls::close_notify(tls, &mut self.stream);
            }
            let _ = self.stream.shutdown(Shutdown::Write);
            return Some(Next::Close);
        }
        if self.start_closing(token, ctx) {
            return Some(Next::Close);
        }
        None
    }

    /// Appends a decided response: its written bytes are in the output already; bodies in memory
    /// are copied after them, bodies on disk become sendfile segments.
    fn queue(
        &mut self,
        response: Response<Served>,
        mut log: PendingLog,
        errors: &crate::log::ErrorLog,
    ) {
        if let Some(fault) = response.fault {
            errors.error(format_args!(
                "500 for {}: {fault}",
                String::from_utf8_lossy(&log.text[..log.line_len])
            ));
        }
        let Some(&Segment::Written { end: first_end, .. }) = response.segments.first() else {
            // Nothing fitted, not even a 500: the connection closes with nothing sent.
            return;
        };
        // Bytes written after the head (multipart part heads) go back in after the ranges they
        // follow; a response without them (every other one) copies nothing.
        let tail: Vec<u8> = if response.segments.len() > 2 {
            self.output.bytes.split_off(first_end)
        } else {
            Vec::new()
        };
        let resource = response.resource.as_ref().map(|r| &r.0);
        for segment in response.segments.iter().skip(1) {
            match *segment {
                Segment::Written { start, end } => {
                    let from = start - first_end;
                    let to = end - first_end;
                    self.output.bytes.extend_from_slice(&tail[from..to]);
                }
                Segment::Resource { start, end } => match resource.map(|v| &v.body) {
                    Some(Body::Memory(bytes)) => {
                        let slice = usize::try_from(start)
                            .ok()
                            .zip(usize::try_from(end).ok())
                            .and_then(|(s, e)| bytes.get(s..e));
                        self.output
                            .bytes
                            .extend_from_slice(slice.unwrap_or_default());
                    }
                    Some(Body::Disk(file)) => self.output.files.push_back(FileSegment {
                        after: self.output.bytes.len(),
                        file: Arc::clone(file),
                        offset: start,
                        end,
                    }),
                    None => {}
                },
            }
        }
        let total: u64 = response
            .segments
            .iter()
            .map(|s| match *s {
                Segment::Written { start, end } => (end - start) as u64,
                Segment::Resource { start, end } => end - start,
            })
            .sum();
        self.queued += total;
        log.body_end = self.queued;
        log.body_start = self.queued - response.body_len.min(total);
        self.logs.push_back(log);
    }

    /// Arms the transport's send timer (`Some`) or forgets it (`None`).
    fn ensure_send_timer(&mut self, on: Option<()>, token: usize, ctx: &mut Ctx<'_>) {
        let slot = &mut self.armed[TimerKind::Send as usize];
        match on {
            None => *slot = None,
            Some(()) if slot.is_none() => {
                *slot = Some(
                    ctx.timers
                        .queue(TimerKind::Send)
                        .arm(ctx.now_ms, token, self.id),
                );
            }
            Some(()) => {}
        }
    }

    /// Mirrors the core's deadlines into the worker's timer queues.
    pub fn sync_timers(&mut self, token: usize, ctx: &mut Ctx<'_>) {
        for (kind, timer) in [
            (TimerKind::Header, Timer::Header),
            (TimerKind::Idle, Timer::Idle),
        ] {
            let want = if matches!(self.state, State::Serving) {
                self.http.deadline_of(timer)
            } else {
                None
            };
            let slot = &mut self.armed[kind as usize];
            if *slot != want {
                *slot = want;
                if let Some(deadline) = want {
                    ctx.timers.queue(kind).arm_at(deadline, token, self.id);
                }
            }
        }
    }

    /// Writes the log lines of responses whose bytes are all out.
    fn log_sent(&mut self, ctx: &mut Ctx<'_>) {
        while self.logs.front().is_some_and(|l| l.body_end <= self.sent) {
            if let Some(log) = self.logs.pop_front() {
                self.write_log(log, ctx);
            }
        }
    }

    fn write_log(&self, log: PendingLog, ctx: &mut Ctx<'_>) {
        let sent = self
            .sent
            .saturating_sub(log.body_start)
            .min(log.body_end - log.body_start);
        let (line, rest) = log.text.split_at(log.line_len);
        let (referer, rest) = match log.referer_len {
            Some(n) => {
                let (r, rest) = rest.split_at(n);
                (Some(r), rest)
            }
            None => (None, rest),
        };
        let user_agent = log.user_agent_len.map(|n| &rest[..n]);
        let forwarded = log.forwarded_client.map(render_ip);
        let line = AccessLine {
            client: match &forwarded {
                Some((text, len)) => &text[..*len],
                None => self.client(),
            },
            clf_date: &log.clf_date,
            request_line: (!line.is_empty()).then_some(line),
            status: log.status,
            body_bytes: sent,
            referer,
            user_agent,
            response_ms: ctx.now_ms.saturating_sub(log.started_ms),
        };
        if let Some(counters) = &ctx.counters {
            counters.record(line.status.as_u16(), line.body_bytes, line.response_ms);
        }
        ctx.log.push(&line);
        ctx.line_pool.put(log.text);
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
        // Until a trusted balancer's PROXY header is taken, a TLS connection's bytes are read raw:
        // the header comes before the handshake.
        if let Some(tls) = &mut self.tls
            && self.awaiting == Expect::Nothing
        {
            return match crate::tls::read(
                tls,
                &mut self.stream,
                &mut buf[self.input.end..],
                &mut self.readable,
            ) {
                crate::tls::TlsRead::Data(n) => {
                    self.input.end += n;
                    Fill::Read
                }
                crate::tls::TlsRead::WouldBlock => Fill::WouldBlock,
                crate::tls::TlsRead::Eof => Fill::Eof,
            };
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

    /// Writes the output: bytes up to the next file segment, then the segment, and so on.
    /// `Ok(true)` when all is out, `Ok(false)` when the socket is full or the budget spent.
    fn flush(&mut self, sent: &mut usize) -> io::Result<bool> {
        if self.tls.is_some() {
            return self.flush_tls(sent);
        }
        loop {
            let limit = self
                .output
                .files
                .front()
                .map_or(self.output.bytes.len(), |f| f.after);
            if self.out_pos < limit {
                if !self.writable {
                    return Ok(false);
                }
                let chunk = &self.output.bytes[self.out_pos..limit];
                // The last answer before a close is held (MSG_MORE) for the FIN the shutdown
                // sends: one segment instead of two for the client to take in. A head followed by
                // a sendfile segment (a body over 64 KiB) leaves at once: holding it for the body
                // measured 10-15% slower on 1 MiB files over loopback (bench workload c), and one
                // small segment more per large body costs nothing measurable.
                let flags = if self.output.files.is_empty() && self.close_after.is_some() {
                    rustix::net::SendFlags::NOSIGNAL | rustix::net::SendFlags::MORE
                } else {
                    rustix::net::SendFlags::NOSIGNAL
                };
                match rustix::net::send(&self.stream, chunk, flags).map_err(io::Error::from) {
                    Ok(n) => {
                        self.out_pos += n;
                        self.sent += n as u64;
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
                // end is to close. sendfile queues page-cache references, so bytes already queued
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
                Ok(n) => {
                    self.sent += n as u64;
                    *sent += n;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => self.writable = false,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// [`Conn::flush`] over TLS: the output is encrypted into records, file segments read with
    /// pread a record at a time; all is out when the last record is written.
    fn flush_tls(&mut self, sent: &mut usize) -> io::Result<bool> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return Ok(true);
        };
        loop {
            if !crate::tls::write_records(tls, &mut self.stream, &mut self.writable)? {
                return Ok(false);
            }
            let limit = self
                .output
                .files
                .front()
                .map_or(self.output.bytes.len(), |f| f.after);
            if self.out_pos < limit {
                if *sent >= SEND_BUDGET_BYTES {
                    return Ok(false);
                }
                // Taken whole: rustls buffers what it cannot send yet, and the budget bounds it.
                let chunk = &self.output.bytes[self.out_pos..limit];
                tls.writer().write_all(chunk)?;
                let n = chunk.len();
                self.out_pos += n;
                self.sent += n as u64;
                *sent += n;
                continue;
            }
            let Some(segment) = self.output.files.front_mut() else {
                self.output.bytes.clear();
                self.out_pos = 0;
                return Ok(true);
            };
            if segment.offset >= segment.end {
                self.output.files.pop_front();
                continue;
            }
            if *sent >= SEND_BUDGET_BYTES {
                return Ok(false);
            }
            let n = crate::tls::write_file(tls, &segment.file, segment.offset, segment.end)?;
            if n == 0 {
                // The file shrank: the promised length cannot be kept, so the connection closes.
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"));
            }
            segment.offset += n as u64;
            self.sent += n as u64;
            *sent += n;
        }
    }

    /// Shuts the write side and starts dropping input; `true` when the connection can go now.
    fn start_closing(&mut self, token: usize, ctx: &mut Ctx<'_>) -> bool {
        if let Some(tls) = &mut self.tls {
            crate::tls::close_notify(tls, &mut self.stream);
        }
        if self.stream.shutdown(Shutdown::Write).is_err() {
            return true;
        }
        if let Some(buf) = self.input.buf.take() {
            ctx.bufs.put(buf);
        }
        self.input = Input::default();
        self.state = State::Closing { dropped: 0 };
        self.readable = true;
        self.armed[TimerKind::Linger as usize] = Some(
            ctx.timers
                .queue(TimerKind::Linger)
                .arm(ctx.now_ms, token, self.id),
        );
        false
    }

    /// Idle between requests: the buffers go back to the worker's pools.
    fn give_back_buffers(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(buf) = self.input.buf.take() {
            ctx.bufs.put(buf);
        }
        self.input = Input::default();
        if self.output.bytes.capacity() > 0 && self.output.is_empty() {
            ctx.out_bufs.put(std::mem::take(&mut self.output.bytes));
        }
    }

    /// Logs what is still pending (with the bytes that left) and gives pooled buffers back,
    /// before the connection is dropped.
    pub fn release(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(log) = self.logs.pop_front() {
            self.write_log(log, ctx);
        }
        if let Some(buf) = self.input.buf.take() {
            ctx.bufs.put(buf);
        }
        if self.output.bytes.capacity() > 0 {
            self.output.files.clear();
            ctx.out_bufs.put(std::mem::take(&mut self.output.bytes));
        }
    }
}

/// Reads and drops input during a lingering close.
fn drain(stream: &mut TcpStream, dropped: &mut usize, readable: &mut bool) -> Next {
    let mut scratch = [0u8; 4096];
    loop {
        match stream.read(&mut scratch) {
            Ok(0) => return Next::Close,
            Ok(n) => {
                *dropped += n;
                if *dropped > LINGER_MAX_BYTES {
                    return Next::Close;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                *readable = false;
                return Next::Wait;
            }
            Err(_) => return Next::Close,
        }
    }
}

/// The log fields of an exchange, copied so the line can wait for the body.
/// An address as the access log shows it, in a buffer that holds the longest IPv6 text.
fn render_ip(ip: std::net::IpAddr) -> ([u8; 46], usize) {
    use std::io::Write as _;
    let mut text = [0u8; 46];
    let mut w = &mut text[..];
    let _ = write!(w, "{ip}");
    let len = 46 - w.len();
    (text, len)
}

fn pending_log(
    exchange: &Exchange<'_>,
    response: &Response<Served>,
    clf_date: &[u8; 26],
    now_ms: u64,
    pool: &mut LinePool,
) -> PendingLog {
    let mut text = pool.take();
    text.extend_from_slice(exchange.request_line);
    if let Some(r) = exchange.referer {
        text.extend_from_slice(r);
    }
    if let Some(ua) = exchange.user_agent {
        text.extend_from_slice(ua);
    }
    PendingLog {
        text,
        line_len: exchange.request_line.len(),
        referer_len: exchange.referer.map(<[u8]>::len),
        user_agent_len: exchange.user_agent.map(<[u8]>::len),
        status: response.status,
        forwarded_client: None,
        clf_date: *clf_date,
        started_ms: now_ms,
        body_start: 0,
        body_end: 0,
    }
}
