//! One worker thread: its mio `Poll`, its listener, its connections and the event loop that
//! drives them, accept back-off, timers, the graceful stop, and the boundary that confines a
//! panic to one connection.
//!
//! Each worker owns every connection it accepted; an idle connection is only an entry in its
//! poller and slab, never a thread.

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use staticd_core::conn::{Connection, TurnAway};
use staticd_core::date::{HttpDate, clf_date};
use staticd_core::respond::{Now, Response};

use crate::config::Settings;
use crate::conn::{Conn, Next};
use crate::ctx::{BufPool, Ctx, LinePool, OutPool};
use crate::files::{FileCache, Served};
use crate::log::{AccessBatch, AccessLine, ErrorLog};
use crate::policy::PolicyLists;
use crate::timers::{TIMER_KINDS, Timers};

pub const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;
/// The token of a worker's first listener; connections never count this high.
const FIRST_LISTENER: usize = usize::MAX / 2;
/// In-flight responses get this long to finish after SIGTERM/SIGINT.
pub const GRACE_PERIOD: Duration = Duration::from_secs(10);
/// accept() out of descriptors: pause accepting on this worker for this long.
const ACCEPT_BACKOFF_MS: u64 = 100;
/// A client that reads nothing of a response for this long is dropped.
const SEND_TIMEOUT_MS: u64 = 60_000;
/// A lingering close waits at most this long for the client's EOF.
const LINGER_MS: u64 = 2_000;

/// What the workers of one generation share with the thread that started them.
pub struct Shared {
    /// Time zero of every worker's `now_ms`: the version table's "checked at" stamps are compared
    /// across workers.
    pub epoch: Instant,
    pub stop: AtomicBool,
    /// Stop accepting; the stop follows (a reload's old workers).
    pub retire: AtomicBool,
    pub connections: AtomicUsize,
    pub max_connections: usize,
    /// The counters `/metrics` sums, when `[metrics]` is on (shared by every generation).
    pub metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
}

thread_local! {
    /// The message of the last panic on this thread, captured by the hook for the error log.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    pub static IN_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Workers report panics once on the error log themselves; elsewhere the default report stays.
pub fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if IN_WORKER.with(std::cell::Cell::get) {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_owned());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{place}")));
        } else {
            default(info);
        }
    }));
}

/// The connections of one worker, indexed by token - FIRST_CONN.
struct Slab {
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
    live: usize,
}

impl Slab {
    fn get(&mut self, token: usize) -> Option<&mut Conn> {
        self.slots.get_mut(token.checked_sub(FIRST_CONN)?)?.as_mut()
    }

    fn insert(&mut self, make: impl FnOnce(usize) -> Conn) -> usize {
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let token = index + FIRST_CONN;
        self.slots[index] = Some(make(token));
        self.live += 1;
        token
    }

    fn remove(&mut self, token: usize) -> Option<Conn> {
        let index = token.checked_sub(FIRST_CONN)?;
        let conn = self.slots.get_mut(index)?.take()?;
        self.free.push(index);
        self.live -= 1;
        Some(conn)
    }
}

struct Worker<'s> {
    poll: Poll,
    /// The listeners, plain or TLS (`true`), by token from [`FIRST_LISTENER`]; emptied when the
    /// worker stops accepting.
    listeners: Vec<(TcpListener, bool)>,
    /// The configuration TLS connections start with.
    tls_config: Option<Arc<rustls::ServerConfig>>,
    /// The plain listeners' requests are redirected to HTTPS on this port.
    https_redirect: Option<u16>,
    conns: Slab,
    ctx: Ctx<'s>,
    shared: &'s Shared,
    errors: &'s ErrorLog,
    next_id: u64,
    accept_paused_until: Option<u64>,
    /// accept() ran out of descriptors and that was logged; reset by the next success.
    accept_starved: bool,
    again: Vec<(usize, u64)>,
    grace_deadline: Option<u64>,
}

#[allow(clippy::too_many_arguments)]
pub fn worker(
    poll: Poll,
    mut listeners: Vec<(TcpListener, bool)>,
    https_redirect: Option<u16>,
    settings: &Settings,
    shared: &Shared,
    log: AccessBatch,
    errors: &ErrorLog,
    files: FileCache,
) {
    for (i, (listener, _)) in listeners.iter_mut().enumerate() {
        if let Err(e) =
            poll.registry()
                .register(listener, Token(FIRST_LISTENER + i), Interest::READABLE)
        {
            errors.error(format_args!("worker cannot register its listener: {e}"));
            return;
        }
    }
    let tls_config = settings.tls.as_ref().map(|t| Arc::clone(&t.config));
    let server = &settings.config.server;
    let lists = PolicyLists::new(&settings.config);
    let policy = lists.policy();
    let max_request_bytes = server.max_request_bytes as usize;
    let ms = |s: crate::settings::Seconds| u64::from(s.as_millis());
    let ctx = Ctx {
        policy,
        files,
        date: HttpDate::from_unix(0),
        clf_date: clf_date(0),
        date_secs: u64::MAX,
        now_ms: 0,
        log,
        errors: errors.clone(),
        line_pool: LinePool::default(),
        bufs: BufPool {
            size: max_request_bytes,
            free: Vec::new(),
        },
        out_bufs: OutPool::default(),
        // The decoded target, and an index file name after it.
        path_buf: vec![0u8; max_request_bytes + 256].into_boxed_slice(),
        stopping: false,
        timers: Timers::new(
            ms(server.header_timeout),
            ms(server.keepalive_timeout),
            SEND_TIMEOUT_MS,
            LINGER_MS,
        ),
        send_timeout_ms: SEND_TIMEOUT_MS,
        proxy: crate::proxied::Trust::from_config(&settings.config.proxy),
        counters: shared.metrics.as_ref().map(|m| m.claim()),
    };
    let mut worker = Worker {
        poll,
        listeners,
        tls_config,
        https_redirect,
        conns: Slab {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        },
        ctx,
        shared,
        errors,
        next_id: 0,
        accept_paused_until: None,
        accept_starved: false,
        again: Vec::new(),
        grace_deadline: None,
    };
    worker.run(shared.epoch);
}

impl Worker<'_> {
    fn run(&mut self, started: Instant) {
        let mut events = Events::with_capacity(1024);
        self.ctx.tick(started);
        loop {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != io::ErrorKind::Interrupted
            {
                self.errors.error(format_args!("poll failed: {e}"));
                break;
            }
            self.ctx.tick(started);
            for event in events.iter() {
                match event.token() {
                    Token(token) if token >= FIRST_LISTENER => {
                        self.accept(token - FIRST_LISTENER);
                    }
                    WAKER => {
                        if self.shared.stop.load(Ordering::SeqCst) && !self.ctx.stopping {
                            self.begin_stop();
                        } else if self.shared.retire.load(Ordering::SeqCst) {
                            self.stop_accepting();
                        }
                    }
                    Token(token) => {
                        if let Some(conn) = self.conns.get(token) {
                            if event.is_readable() || event.is_read_closed() || event.is_error() {
                                conn.readable = true;
                            }
                            if event.is_read_closed() || event.is_error() {
                                conn.read_closed = true;
                            }
                            if event.is_writable() || event.is_write_closed() || event.is_error() {
                                conn.writable = true;
                            }
                            self.drive(token, None);
                        }
                    }
                }
            }
            for (token, id) in std::mem::take(&mut self.again) {
                self.drive(token, Some(id));
            }
            if self
                .accept_paused_until
                .is_some_and(|t| t <= self.ctx.now_ms)
            {
                self.accept_paused_until = None;
                for index in 0..self.listeners.len() {
                    self.accept(index);
                }
            }
            self.fire_timers();
            self.ctx.log.send_if_due(self.ctx.now_ms);
            if self.ctx.stopping
                && (self.conns.live == 0
                    || self.grace_deadline.is_some_and(|t| t <= self.ctx.now_ms))
            {
                break;
            }
        }
        if self.conns.live > 0 {
            self.errors.error(format_args!(
                "grace period over: closing {} connection(s) with responses in flight",
                self.conns.live
            ));
        }
        self.ctx.log.send();
    }

    fn poll_timeout(&self) -> Option<Duration> {
        if !self.again.is_empty() {
            return Some(Duration::ZERO);
        }
        [
            self.ctx.timers.next_deadline(),
            self.accept_paused_until,
            self.grace_deadline,
            self.ctx.log.due_ms(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|deadline| Duration::from_millis(deadline.saturating_sub(self.ctx.now_ms)))
    }

    /// Accepts what waits on the listener `index`.
    fn accept(&mut self, index: usize) {
        if self.accept_paused_until.is_some() {
            return;
        }
        loop {
            let Some(&(ref listener, tls)) = self.listeners.get(index) else {
                return;
            };
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_out_of_resources(&e) => {
                    // Retrying at once would spin: the listener stays readable. Back off and
                    // retry from the timer (issue 5).
                    if !self.accept_starved {
                        // Once per episode: a sustained shortage must not flood the error log.
                        self.accept_starved = true;
                        self.errors.error(format_args!(
                            "accept: {e}; pausing accepts for {ACCEPT_BACKOFF_MS} ms at a time until descriptors are free"
                        ));
                    }
                    self.accept_paused_until = Some(self.ctx.now_ms + ACCEPT_BACKOFF_MS);
                    return;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    self.errors.error(format_args!("accept: {e}"));
                    return;
                }
            };
            self.accept_starved = false;
            if self.shared.connections.fetch_add(1, Ordering::Relaxed)
                >= self.shared.max_connections
            {
                self.shared.connections.fetch_sub(1, Ordering::Relaxed);
                if !tls {
                    self.refuse(stream, peer);
                }
                // Over TLS a 503 would need a handshake first: the socket just closes.
                continue;
            }
            let session = match &self.tls_config {
                Some(config) if tls => {
                    match rustls::ServerConnection::new(Arc::clone(config)) {
                        Ok(mut session) => {
                            // Bounded by the caller instead: records are written out before more
                            // plaintext is added (conn.rs, flush_tls).
                            session.set_buffer_limit(None);
                            Some(Box::new(session))
                        }
                        Err(e) => {
                            self.shared.connections.fetch_sub(1, Ordering::Relaxed);
                            self.errors.error(format_args!("TLS session: {e}"));
                            continue;
                        }
                    }
                }
                _ => None,
            };
            self.admit(stream, session, peer);
        }
    }

    fn admit(
        &mut self,
        mut stream: TcpStream,
        tls: Option<Box<rustls::ServerConnection>>,
        peer: SocketAddr,
    ) {
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(0), Interest::READABLE)
            .and_then(|()| self.poll.registry().deregister(&mut stream))
        {
            // The poller cannot take this socket: answer it at once rather than leave it unserved.
            self.errors.error(format_args!(
                "cannot register a connection from {} with the event loop: {e}",
                peer.ip()
            ));
            self.turn_away(stream, peer, TurnAway::Fault);
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut http = Connection::new(self.ctx.now_ms, self.ctx.policy.header_timeout_ms);
        if let Some(port) = self.https_redirect
            && tls.is_none()
        {
            http = http.redirecting_to_https(port);
        }
        let awaiting = self.ctx.proxy.expect(peer.ip());
        let registry = self.poll.registry();
        let mut failed = None;
        let token = self.conns.insert(|token| {
            if let Err(e) = registry.register(
                &mut stream,
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                failed = Some(e);
            }
            Conn::new(id, stream, tls, peer, awaiting, http)
        });
        if let Some(e) = failed {
            self.errors.error(format_args!(
                "cannot register a connection from {} with the event loop: {e}",
                peer.ip()
            ));
            if let Some(conn) = self.conns.remove(token) {
                self.shared.connections.fetch_sub(1, Ordering::Relaxed);
                let Conn { stream, .. } = conn;
                self.turn_away(stream, peer, TurnAway::Fault);
            }
            return;
        }
        if let Some(counters) = &self.ctx.counters {
            counters.opened();
        }
        if let Some(conn) = self.conns.get(token) {
            conn.sync_timers(token, &mut self.ctx);
        }
    }

    /// Over max_connections: a 503 and an immediate close, never a queue.
    fn refuse(&mut self, stream: TcpStream, peer: SocketAddr) {
        self.turn_away(stream, peer, TurnAway::Busy);
    }

    /// Answers `status` (503 busy, or 500 when the worker cannot serve the socket) and closes.
    fn turn_away(&mut self, mut stream: TcpStream, peer: SocketAddr, why: TurnAway) {
        let now = Now {
            ms: self.ctx.now_ms,
            unix_secs: self.ctx.date_secs,
            date: &self.ctx.date,
        };
        let mut out = Vec::new();
        let response: Response<Served> =
            Connection::turn_away(why, self.ctx.policy.server_name, &now, &mut out);
        let sent = stream.write(&out).unwrap_or(0);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut client = String::new();
        use std::fmt::Write as _;
        let _ = write!(client, "{}", peer.ip());
        let head_len = out.len() as u64 - response.body_len;
        let line = AccessLine {
            client: client.as_bytes(),
            clf_date: &self.ctx.clf_date,
            request_line: None,
            status: response.status,
            body_bytes: (sent as u64)
                .saturating_sub(head_len)
                .min(response.body_len),
            referer: None,
            user_agent: None,
            // Written in the one write above, at accept: no request, no time spent.
            response_ms: 0,
        };
        if let Some(counters) = &self.ctx.counters {
            counters.record(line.status.as_u16(), line.body_bytes, 0);
        }
        self.ctx.log.push(&line);
    }

    /// Advances one connection, with a panic confined to it.
    fn drive(&mut self, token: usize, expect_id: Option<u64>) {
        let Some(conn) = self.conns.get(token) else {
            return;
        };
        if expect_id.is_some_and(|id| id != conn.id) {
            return;
        }
        let ctx = &mut self.ctx;
        let next = contain_panic(self.errors, conn, |conn| conn.advance(token, ctx));
        self.settle(token, next);
    }

    fn settle(&mut self, token: usize, next: Next) {
        match next {
            Next::Wait => {}
            Next::Again => {
                if let Some(conn) = self.conns.get(token) {
                    self.again.push((token, conn.id));
                }
            }
            Next::Close => self.close(token),
        }
    }

    fn close(&mut self, token: usize) {
        if let Some(mut conn) = self.conns.remove(token) {
            conn.release(&mut self.ctx);
            self.shared.connections.fetch_sub(1, Ordering::Relaxed);
            if let Some(counters) = &self.ctx.counters {
                counters.closed();
            }
            // Dropping the stream closes the socket, which also removes it from the poller.
        }
    }

    fn fire_timers(&mut self) {
        for kind in TIMER_KINDS {
            while let Some(expiry) = self.ctx.timers.queue(kind).pop_due(self.ctx.now_ms) {
                let Some(conn) = self.conns.get(expiry.token) else {
                    continue;
                };
                if conn.id != expiry.conn_id || conn.armed(kind) != Some(expiry.deadline_ms) {
                    continue;
                }
                let ctx = &mut self.ctx;
                let token = expiry.token;
                let next = contain_panic(self.errors, conn, |conn| conn.on_timer(kind, token, ctx));
                self.settle(token, next);
            }
            let queue_len = self.ctx.timers.queue(kind).len();
            if queue_len > 2 * self.conns.live + 1024 {
                let slots = &self.conns.slots;
                self.ctx.timers.queue(kind).compact(|e| {
                    e.token
                        .checked_sub(FIRST_CONN)
                        .and_then(|i| slots.get(i))
                        .and_then(Option::as_ref)
                        .is_some_and(|c| c.id == e.conn_id && c.armed(kind) == Some(e.deadline_ms))
                });
            }
        }
    }

    /// Leaves accepting to others (a reload's new workers): the connections already accepted
    /// are served as usual until the stop.
    fn stop_accepting(&mut self) {
        for (mut listener, _) in self.listeners.drain(..) {
            let _ = self.poll.registry().deregister(&mut listener);
        }
    }

    fn begin_stop(&mut self) {
        self.ctx.stopping = true;
        self.grace_deadline = Some(self.ctx.now_ms + GRACE_PERIOD.as_millis() as u64);
        self.stop_accepting();
        let tokens: Vec<usize> = (0..self.conns.slots.len())
            .filter(|&i| self.conns.slots[i].is_some())
            .map(|i| i + FIRST_CONN)
            .collect();
        for token in tokens {
            let Some(conn) = self.conns.get(token) else {
                continue;
            };
            let ctx = &mut self.ctx;
            let next = contain_panic(self.errors, conn, |conn| conn.on_stop(token, ctx));
            self.settle(token, next);
        }
    }
}

/// The connection boundary: runs `work` on one connection. A panic there is a bug in staticd, but
/// one connection's bug must not take the worker and its other connections down: it is reported
/// once on the error log (with the message the panic hook kept) and the connection is closed.
fn contain_panic(errors: &ErrorLog, conn: &mut Conn, work: impl FnOnce(&mut Conn) -> Next) -> Next {
    // AssertUnwindSafe: after a panic the connection is only asked for its client address and
    // then dropped; the worker state `work` may have touched (buffers, log batch, file cache) is
    // left consistent by every early exit those types allow.
    match panic::catch_unwind(AssertUnwindSafe(|| work(conn))) {
        Ok(next) => next,
        Err(_) => {
            let msg = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panic".to_owned());
            errors.error(format_args!(
                "bug: panic while serving {}: {msg}; connection closed",
                String::from_utf8_lossy(conn.client())
            ));
            Next::Close
        }
    }
}

fn is_out_of_resources(e: &io::Error) -> bool {
    use rustix::io::Errno;
    matches!(
        e.raw_os_error().map(Errno::from_raw_os_error),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A connection over loopback, and the client end of it.
    fn loopback_conn(id: u64) -> (Conn, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        (
            Conn::new(
                id,
                TcpStream::from_std(server),
                None,
                peer,
                crate::proxied::Expect::Nothing,
                Connection::new(0, 1000),
            ),
            client,
        )
    }

    #[test]
    fn a_panic_at_the_boundary_is_logged_once_and_closes_only_that_connection() {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(install_panic_hook);
        IN_WORKER.with(|w| w.set(true));
        let (errors, lines) = ErrorLog::capture();

        let (mut first, _first_client) = loopback_conn(1);
        let next = contain_panic(&errors, &mut first, |_| panic!("slot 7 out of range"));
        assert_eq!(next, Next::Close);
        let logged = lines.lines();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(
            logged[0].starts_with("bug: panic while serving 127.0.0.1: slot 7 out of range at "),
            "{logged:?}"
        );
        assert!(logged[0].ends_with("; connection closed"), "{logged:?}");

        // The worker goes on: its next connection runs and is served.
        let (mut second, mut second_client) = loopback_conn(2);
        let next = contain_panic(&errors, &mut second, |conn| {
            conn.stream.write_all(b"served").unwrap();
            Next::Wait
        });
        assert_eq!(next, Next::Wait);
        let mut got = [0u8; 6];
        second_client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"served");
        assert!(lines.lines().is_empty());
        IN_WORKER.with(|w| w.set(false));
    }
}
