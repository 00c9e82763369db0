//! Listeners, worker threads and their event loops, timers, graceful stop.
//!
//! Each worker owns a mio `Poll`, its own `SO_REUSEPORT` listener on the shared address (the kernel
//! spreads new connections across them, no thundering herd) and every connection it accepted. An
//! idle connection is only an entry in its worker's poller and slab, never a thread.

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use staticd_core::conn::Connection;
use staticd_core::date::{HttpDate, clf_date};
use staticd_core::policy::Policy;
use staticd_core::respond::{Now, Response};
use staticd_core::status::StatusCode;

use crate::config::Settings;
use crate::conn::{Conn, LinePool, Next};
use crate::files::{FileCache, Served, VersionTable};
use crate::log::{self, AccessBatch, AccessLine, ErrorLog};
use crate::policy::PolicyLists;
use crate::timers::DeadlineQueue;
use crate::{listen, signals, systemd};

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;
/// After a reload, the old workers stop accepting at once and stop (finishing what they hold)
/// this much later.
const RETIRE_DELAY: Duration = Duration::from_secs(1);
/// In-flight responses get this long to finish after SIGTERM/SIGINT.
const GRACE_PERIOD: Duration = Duration::from_secs(10);
/// accept() out of descriptors: pause accepting on this worker for this long.
const ACCEPT_BACKOFF_MS: u64 = 100;
/// A client that reads nothing of a response for this long is dropped.
const SEND_TIMEOUT_MS: u64 = 60_000;
/// A lingering close waits at most this long for the client's EOF.
const LINGER_MS: u64 = 2_000;
/// Read buffers kept for reuse per worker.
const POOLED_BUFFERS: usize = 1024;

/// The kinds of per-connection timers; each has one fixed duration, hence one FIFO queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// header_timeout, as the core's connection arms it.
    Header = 0,
    /// keepalive_timeout, as the core's connection arms it.
    Idle = 1,
    /// No write progress while a response is pending (the transport's own).
    Send = 2,
    /// The lingering close after an error (the transport's own).
    Linger = 3,
}

const TIMER_KINDS: [TimerKind; 4] = [
    TimerKind::Header,
    TimerKind::Idle,
    TimerKind::Send,
    TimerKind::Linger,
];

pub struct Timers {
    header: DeadlineQueue,
    idle: DeadlineQueue,
    send: DeadlineQueue,
    linger: DeadlineQueue,
}

impl Timers {
    pub fn queue(&mut self, kind: TimerKind) -> &mut DeadlineQueue {
        match kind {
            TimerKind::Header => &mut self.header,
            TimerKind::Idle => &mut self.idle,
            TimerKind::Send => &mut self.send,
            TimerKind::Linger => &mut self.linger,
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        [&self.header, &self.idle, &self.send, &self.linger]
            .iter()
            .filter_map(|q| q.next_deadline())
            .min()
    }
}

/// Read buffers of `max_request_bytes`, lent to connections while they hold unprocessed bytes.
pub struct BufPool {
    size: usize,
    free: Vec<Box<[u8]>>,
}

impl BufPool {
    pub fn take(&mut self) -> Box<[u8]> {
        self.free
            .pop()
            .unwrap_or_else(|| vec![0u8; self.size].into_boxed_slice())
    }

    pub fn put(&mut self, buf: Box<[u8]>) {
        if self.free.len() < POOLED_BUFFERS && buf.len() == self.size {
            self.free.push(buf);
        }
    }
}

/// Output buffers, lent to connections while they have a response to send, so an idle connection
/// holds no buffer whatever it fetched last.
#[derive(Default)]
pub struct OutPool {
    free: Vec<Vec<u8>>,
}

impl OutPool {
    pub fn take(&mut self) -> Vec<u8> {
        self.free
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(16 * 1024))
    }

    pub fn put(&mut self, mut buf: Vec<u8>) {
        // A buffer grown by a large pipelined batch is dropped rather than kept forever.
        if self.free.len() < POOLED_BUFFERS && buf.capacity() <= 256 * 1024 {
            buf.clear();
            self.free.push(buf);
        }
    }
}

/// A worker's state shared by all its connections.
pub struct Ctx<'s> {
    /// The serving policy the core applies.
    pub policy: Policy<'s>,
    /// The core's source: the shared file versions.
    pub files: FileCache,
    /// The Date value, rendered once per second.
    pub date: HttpDate,
    pub clf_date: [u8; 26],
    /// The Unix second `date` shows.
    pub date_secs: u64,
    /// Milliseconds since the worker started (monotonic), updated once per loop iteration.
    pub now_ms: u64,
    pub log: AccessBatch,
    pub errors: ErrorLog,
    pub line_pool: LinePool,
    pub bufs: BufPool,
    pub out_bufs: OutPool,
    pub path_buf: Box<[u8]>,
    pub stopping: bool,
    pub timers: Timers,
    pub send_timeout_ms: u64,
}

impl Ctx<'_> {
    fn tick(&mut self, started: Instant) {
        self.now_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.files.set_now(self.now_ms);
        let secs = log::unix_now();
        if secs != self.date_secs {
            self.date_secs = secs;
            self.date = HttpDate::from_unix(secs);
            self.clf_date = clf_date(secs);
        }
    }
}

struct Shared {
    /// Time zero of every worker's `now_ms`: the version table's "checked at" stamps are compared
    /// across workers.
    epoch: Instant,
    stop: AtomicBool,
    /// Stop accepting; the stop follows (a reload's old workers).
    retire: AtomicBool,
    connections: AtomicUsize,
    max_connections: usize,
}

thread_local! {
    /// The message of the last panic on this thread, captured by the hook for the error log.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static IN_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Workers report panics once on the error log themselves; elsewhere the default report stays.
fn install_panic_hook() {
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

/// Why [`run`] returned early or failed.
#[derive(Debug)]
pub enum RunError {
    /// The server could not start (a log that cannot be opened, an address in use): one line
    /// naming the setting at fault, exit status 2.
    Startup(String),
    /// A failure after start-up.
    Serving(io::Error),
}

impl From<io::Error> for RunError {
    fn from(e: io::Error) -> Self {
        RunError::Serving(e)
    }
}

/// Binds (or takes `passed`, the socket a service manager passed), prints the ready line, serves
/// until SIGTERM/SIGINT, then stops gracefully; SIGHUP reloads the settings from `reload_from`.
pub fn run(
    settings: Settings,
    passed: Option<std::net::TcpListener>,
    reload_from: ReloadFrom,
) -> Result<(), RunError> {
    let threads = settings.threads.max(1);
    let targets = log::open_targets(&settings.config.log)
        .map_err(|e| RunError::Startup(format!("{}: {e}", settings.source)))?;
    let (logger, errors, batches) = log::start(targets, settings.config.log.format, threads)?;
    let listeners = match listen::listeners(
        passed,
        &settings.config.server.host,
        settings.config.server.port,
        threads,
    ) {
        Ok(listeners) => listeners,
        Err(e) => {
            let msg = format!(
                "cannot listen on {}:{}: {}",
                settings.config.server.host,
                settings.config.server.port,
                listen::describe(&e)
            );
            // stderr gets it once from main; an error log file gets it too.
            if settings.config.log.error_log.as_str() != "-" {
                errors.error(&msg);
            }
            logger.shutdown();
            return Err(RunError::Startup(msg));
        }
    };
    let addr = listeners[0].local_addr()?;
    let nofile_needed = nofile_needed(settings.config.server.max_connections, threads);
    match raise_nofile_limit(nofile_needed) {
        Ok(soft) if soft >= nofile_needed => {}
        Ok(soft) => errors.error(format_args!(
            "open-file limit (RLIMIT_NOFILE) is {soft}, below the {nofile_needed} that \
             max_connections = {} needs: accepts will pause when descriptors run out",
            settings.config.server.max_connections
        )),
        Err(e) => errors.error(format_args!(
            "cannot raise the open-file limit (RLIMIT_NOFILE) to {nofile_needed} for \
             max_connections = {}: {e}",
            settings.config.server.max_connections
        )),
    }
    // Registered before the ready line, so a signal sent right after it is a graceful stop.
    let signals = signals::register()?;
    install_panic_hook();

    let settings = Arc::new(settings);
    let mut current = Generation::start(&settings, &listeners, batches, &errors)?;
    let (control_tx, control) = std::sync::mpsc::channel();
    signals::spawn(signals, errors.clone(), control_tx)?;

    // Everything runs before the ready line: a test (or supervisor) that counts threads or
    // connects right after it sees the final process.
    {
        let mut out = io::stdout().lock();
        writeln!(out, "staticd listening on http://{addr}/")?;
        out.flush()?;
    }
    if let Err(e) = systemd::notify(&format!("READY=1\nSTATUS=listening on http://{addr}/")) {
        errors.error(format_args!("NOTIFY_SOCKET: cannot send READY=1: {e}"));
    }
    errors.error(format_args!(
        "listening on http://{addr}/ with {threads} worker thread(s), serving {}",
        settings.root.display()
    ));

    let mut settings = settings;
    let mut retiring = Vec::new();
    // A closed channel (the signal thread gone) can only mean the process is ending: stop.
    while let Ok(signals::Control::Reload) = control.recv() {
        match reload(&settings, &reload_from) {
            Ok(next) => {
                let next = Arc::new(next);
                let batches = logger.batches(threads, next.config.log.format);
                match Generation::start(&next, &listeners, batches, &errors) {
                    Ok(started) => {
                        let old = std::mem::replace(&mut current, started);
                        old.retire();
                        retiring.push(old);
                        errors.error(format_args!(
                            "SIGHUP: {}: settings reloaded; new connections are served with \
                             them, the previous ones finish with the old",
                            next.source
                        ));
                        settings = next;
                    }
                    Err(e) => errors.error(format_args!(
                        "SIGHUP: cannot start workers for the new settings ({e}); keeping the \
                         current settings"
                    )),
                }
            }
            Err(why) => errors.error(format_args!("SIGHUP: {why}; keeping the current settings")),
        }
        // Generations that finished their grace period are joined as they go.
        let (done, still): (Vec<_>, Vec<_>) = retiring.into_iter().partition(Generation::finished);
        for generation in done {
            generation.join(&errors);
        }
        retiring = still;
    }
    if let Err(e) = systemd::notify("STOPPING=1") {
        errors.error(format_args!("NOTIFY_SOCKET: cannot send STOPPING=1: {e}"));
    }
    // The workers close their clones as they stop: with these gone too, the port refuses new
    // connections at once instead of queueing them until the process exits.
    drop(listeners);
    for generation in retiring.iter().chain([&current]) {
        generation.stop();
    }
    for generation in retiring.into_iter().chain([current]) {
        generation.join(&errors);
    }
    errors.error("stopped");
    logger.shutdown();
    Ok(())
}

/// Where a reload reads the settings from: the same file and command line as the start.
#[derive(Debug, Clone)]
pub struct ReloadFrom {
    pub path: Option<std::path::PathBuf>,
    pub overrides: crate::config::Overrides,
}

/// Reads and validates the settings again. Keys the running process cannot change without
/// dropping connections (the address, the worker count, the log files) make the reload fail.
fn reload(current: &Settings, from: &ReloadFrom) -> Result<Settings, String> {
    let next =
        crate::config::load(from.path.as_deref(), &from.overrides).map_err(|e| e.to_string())?;
    let (now, new) = (&current.config, &next.config);
    let fixed = [
        ("server.host", now.server.host != new.server.host),
        ("server.port", now.server.port != new.server.port),
        ("server.threads", current.threads != next.threads),
        ("log.access_log", now.log.access_log != new.log.access_log),
        ("log.error_log", now.log.error_log != new.log.error_log),
    ];
    match fixed.iter().find(|(_, changed)| *changed) {
        Some((key, _)) => Err(format!(
            "{}: {key}: changing it takes a restart",
            next.source
        )),
        None => Ok(next),
    }
}

/// The workers serving with one version of the settings. A reload starts a new generation on
/// clones of the same listening sockets, then stops the old one, which stops accepting and lets
/// its in-flight responses finish: the sockets stay open throughout (run() holds the originals),
/// so no connection waiting in an accept queue is dropped.
struct Generation {
    shared: Arc<Shared>,
    wakers: Vec<Arc<Waker>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Generation {
    fn start(
        settings: &Arc<Settings>,
        listeners: &[std::net::TcpListener],
        batches: Vec<AccessBatch>,
        errors: &ErrorLog,
    ) -> io::Result<Generation> {
        // Connections are counted per generation: while an old one finishes, the two together
        // may hold up to twice max_connections for at most the grace period.
        let shared = Arc::new(Shared {
            epoch: Instant::now(),
            stop: AtomicBool::new(false),
            retire: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            max_connections: settings.config.server.max_connections as usize,
        });
        let versions = Arc::new(VersionTable::default());
        let mut wakers = Vec::with_capacity(listeners.len());
        let mut polls = Vec::with_capacity(listeners.len());
        let mut clones = Vec::with_capacity(listeners.len());
        for listener in listeners {
            let poll = Poll::new()?;
            wakers.push(Arc::new(Waker::new(poll.registry(), WAKER)?));
            polls.push(poll);
            clones.push(listener.try_clone()?);
        }
        let mut workers = Vec::with_capacity(listeners.len());
        for (index, ((listener, poll), batch)) in
            clones.into_iter().zip(polls).zip(batches).enumerate()
        {
            let settings = Arc::clone(settings);
            let shared = Arc::clone(&shared);
            let errors = errors.clone();
            let versions = Arc::clone(&versions);
            let handle = std::thread::Builder::new()
                .name(format!("staticd-worker-{index}"))
                .spawn(move || {
                    IN_WORKER.with(|w| w.set(true));
                    let listener = TcpListener::from_std(listener);
                    let files =
                        FileCache::new(&settings.config, &settings.root, versions, errors.clone());
                    worker(poll, listener, &settings, &shared, batch, &errors, files);
                })?;
            workers.push(handle);
        }
        Ok(Generation {
            shared,
            wakers,
            workers,
        })
    }

    /// Asks every worker to stop accepting and finish (the graceful stop).
    fn stop(&self) {
        raise(&self.wakers, &self.shared.stop);
    }

    /// Retires the generation a reload replaced: its workers stop accepting at once, and stop
    /// [`RETIRE_DELAY`] later. A client that connected just before the reload may be accepted by
    /// an old worker and send its request a moment later; stopping at once would close that
    /// connection unanswered, as a stop does with a connection that has sent nothing yet.
    fn retire(&self) {
        raise(&self.wakers, &self.shared.retire);
        let (shared, wakers) = (Arc::clone(&self.shared), self.wakers.clone());
        let stopper = std::thread::Builder::new()
            .name("staticd-retire".into())
            .spawn(move || {
                std::thread::sleep(RETIRE_DELAY);
                raise(&wakers, &shared.stop);
            });
        if stopper.is_err() {
            self.stop();
        }
    }

    fn finished(&self) -> bool {
        self.workers
            .iter()
            .all(std::thread::JoinHandle::is_finished)
    }

    fn join(self, errors: &ErrorLog) {
        for handle in self.workers {
            if handle.join().is_err() {
                errors.error("a worker thread ended with a panic");
            }
        }
    }
}

/// Sets a generation's `flag` and wakes its workers to see it.
fn raise(wakers: &[Arc<Waker>], flag: &AtomicBool) {
    flag.store(true, Ordering::SeqCst);
    for waker in wakers {
        let _ = waker.wake();
    }
}

/// Descriptors the process holds besides its connections: per worker a listener, a poller and a
/// waker; the log files, stdio, and open files being sent or cached.
const NOFILE_RESERVE: u64 = 256;

fn nofile_needed(max_connections: u32, threads: usize) -> u64 {
    u64::from(max_connections)
        .saturating_add(NOFILE_RESERVE)
        .saturating_add((threads as u64).saturating_mul(3))
}

/// Raises the soft RLIMIT_NOFILE toward the hard limit (a common soft default of 1024 would
/// refuse most of max_connections); returns the soft limit now in force.
fn raise_nofile_limit(needed: u64) -> io::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    let target = nofile_target(soft, limit.maximum, needed);
    if target <= soft {
        return Ok(soft);
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(target),
            maximum: limit.maximum,
        },
    )?;
    Ok(target)
}

/// The soft limit to ask for: the hard limit when there is one (descriptors cost nothing until
/// used), else what max_connections needs; never lower than now.
fn nofile_target(soft: u64, hard: Option<u64>, needed: u64) -> u64 {
    match hard {
        Some(hard) => hard.max(soft),
        // An unlimited hard limit still stops at the kernel's fs.nr_open: ask only for the need.
        None => needed.max(soft),
    }
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
    listener: Option<TcpListener>,
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

fn worker(
    poll: Poll,
    mut listener: TcpListener,
    settings: &Settings,
    shared: &Shared,
    log: AccessBatch,
    errors: &ErrorLog,
    files: FileCache,
) {
    if let Err(e) = poll
        .registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
    {
        errors.error(format_args!("worker cannot register its listener: {e}"));
        return;
    }
    let server = &settings.config.server;
    let lists = PolicyLists::new(settings);
    let policy = lists.policy();
    let max_request_bytes = server.max_request_bytes as usize;
    let ms = |s: staticd_core::config::Seconds| u64::from(s.as_millis());
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
        timers: Timers {
            header: DeadlineQueue::new(ms(server.header_timeout)),
            idle: DeadlineQueue::new(ms(server.keepalive_timeout)),
            send: DeadlineQueue::new(SEND_TIMEOUT_MS),
            linger: DeadlineQueue::new(LINGER_MS),
        },
        send_timeout_ms: SEND_TIMEOUT_MS,
    };
    let mut worker = Worker {
        poll,
        listener: Some(listener),
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
                    LISTENER => self.accept(),
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
                self.accept();
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

    fn accept(&mut self) {
        if self.accept_paused_until.is_some() {
            return;
        }
        loop {
            let Some(listener) = self.listener.as_ref() else {
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
                self.refuse(stream, peer);
                continue;
            }
            self.admit(stream, peer);
        }
    }

    fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr) {
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
            self.turn_away(stream, peer, StatusCode::INTERNAL_SERVER_ERROR);
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let http = Connection::new(self.ctx.now_ms, self.ctx.policy.header_timeout_ms);
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
            Conn::new(id, stream, peer, http)
        });
        if let Some(e) = failed {
            self.errors.error(format_args!(
                "cannot register a connection from {} with the event loop: {e}",
                peer.ip()
            ));
            if let Some(conn) = self.conns.remove(token) {
                self.shared.connections.fetch_sub(1, Ordering::Relaxed);
                let Conn { stream, .. } = conn;
                self.turn_away(stream, peer, StatusCode::INTERNAL_SERVER_ERROR);
            }
            return;
        }
        if let Some(conn) = self.conns.get(token) {
            conn.sync_timers(token, &mut self.ctx);
        }
    }

    /// Over max_connections: a 503 and an immediate close, never a queue.
    fn refuse(&mut self, stream: TcpStream, peer: SocketAddr) {
        self.turn_away(stream, peer, StatusCode::SERVICE_UNAVAILABLE);
    }

    /// Answers `status` (503 busy, or 500 when the worker cannot serve the socket) and closes.
    fn turn_away(&mut self, mut stream: TcpStream, peer: SocketAddr, status: StatusCode) {
        let now = Now {
            ms: self.ctx.now_ms,
            unix_secs: self.ctx.date_secs,
            date: &self.ctx.date,
        };
        let mut out = Vec::new();
        let response: Response<Served> = if status == StatusCode::SERVICE_UNAVAILABLE {
            Connection::refuse_busy(self.ctx.policy.server_name, &now, &mut out)
        } else {
            staticd_core::respond::error_response(
                status,
                &[],
                false,
                self.ctx.policy.server_name,
                &self.ctx.date,
                &mut out,
            )
        };
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
        if let Some(mut listener) = self.listener.take() {
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
                peer,
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

    #[test]
    fn the_open_file_limit_goes_to_the_hard_limit_never_down() {
        assert_eq!(nofile_target(1024, Some(1_048_576), 16_640), 1_048_576);
        // A hard limit below the need is still the best there is; the caller reports the gap.
        assert_eq!(nofile_target(1024, Some(4096), 16_640), 4096);
        assert_eq!(nofile_target(1024, None, 16_640), 16_640);
        assert_eq!(nofile_target(65_536, Some(65_536), 16_640), 65_536);
        assert_eq!(nofile_target(u64::MAX, None, 16_640), u64::MAX);
        assert_eq!(nofile_needed(16_384, 2), 16_384 + NOFILE_RESERVE + 6);
        assert_eq!(nofile_needed(u32::MAX, usize::MAX), u64::MAX);
    }
}
