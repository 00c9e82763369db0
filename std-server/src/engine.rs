//! Start-up and stop: the logs, the listeners, one generation of worker threads (a new one on
//! each reload), the ready line, signals, and the graceful stop. The event loop is
//! [`crate::worker`]; a connection is [`crate::conn`].

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Poll, Waker};

use crate::config::Settings;
use crate::files::{FileCache, VersionTable};
use crate::log::{self, AccessBatch, ErrorLog};
use crate::metrics::Metrics;
use crate::worker::{IN_WORKER, Shared, WAKER, install_panic_hook, worker};
use crate::{listen, signals, systemd};

/// After a reload, the old workers stop accepting at once and stop (finishing what they hold)
/// this much later.
const RETIRE_DELAY: Duration = Duration::from_secs(1);
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
    let metrics = match start_metrics(&settings, threads, &errors) {
        Ok(metrics) => metrics,
        Err(msg) => {
            logger.shutdown();
            return Err(RunError::Startup(msg));
        }
    };
    let mut groups = vec![Group {
        addr,
        tls: false,
        sockets: listeners,
    }];
    // More listeners: plain ones on `server.also_listen`, TLS on `server.host:tls.port` and
    // `tls.also_listen`.
    let mut more: Vec<(String, String, u16, bool)> = Vec::new();
    for (i, a) in settings.config.server.also_listen.iter().enumerate() {
        // Checked by validate().
        if let Ok(a) = a.parse::<std::net::SocketAddr>() {
            let key = format!("server.also_listen[{i}]");
            more.push((key, a.ip().to_string(), a.port(), false));
        }
    }
    if let Some(tls) = &settings.tls {
        let host = settings.config.server.host.clone();
        more.push(("tls.port".to_owned(), host, tls.port, true));
        for (i, a) in tls.also_listen.iter().enumerate() {
            let key = format!("tls.also_listen[{i}]");
            more.push((key, a.ip().to_string(), a.port(), true));
        }
    }
    for (key, host, port, tls) in more {
        match listen::bind_listeners(&host, port, threads) {
            Ok(sockets) => groups.push(Group {
                addr: sockets[0].local_addr()?,
                tls,
                sockets,
            }),
            Err(e) => {
                let shown = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host
                };
                let msg = format!(
                    "{}: {key}: cannot listen on {shown}:{port}: {}",
                    settings.source,
                    listen::describe(&e)
                );
                if settings.config.log.error_log.as_str() != "-" {
                    errors.error(&msg);
                }
                logger.shutdown();
                return Err(RunError::Startup(msg));
            }
        }
    }
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
    let metrics_counters = metrics.as_ref().map(|(m, _)| Arc::clone(m));
    let mut current = Generation::start(
        &settings,
        &groups,
        batches,
        &errors,
        metrics_counters.as_ref(),
    )?;
    let (control_tx, control) = std::sync::mpsc::channel();
    signals::spawn(signals, errors.clone(), control_tx)?;

    // Everything runs before the ready line: a test (or supervisor) that counts threads or
    // connects right after it sees the final process.
    {
        let mut out = io::stdout().lock();
        // The first line is the first plain listener's (what a supervisor or a test reads).
        for group in &groups {
            let scheme = if group.tls { "https" } else { "http" };
            writeln!(out, "staticd listening on {scheme}://{}/", group.addr)?;
        }
        if let Some((_, metrics_addr)) = &metrics {
            writeln!(out, "staticd metrics on http://{metrics_addr}/metrics")?;
        }
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
                match Generation::start(&next, &groups, batches, &errors, metrics_counters.as_ref())
                {
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
    if let Some(metrics) = &metrics_counters {
        metrics.set_stopping();
    }
    if let Err(e) = systemd::notify("STOPPING=1") {
        errors.error(format_args!("NOTIFY_SOCKET: cannot send STOPPING=1: {e}"));
    }
    // The workers close their clones as they stop: with these gone too, the port refuses new
    // connections at once instead of queueing them until the process exits.
    drop(groups);
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

/// Binds and starts the `[metrics]` listener when it is on; the error is the start-up line.
fn start_metrics(
    settings: &Settings,
    threads: usize,
    errors: &ErrorLog,
) -> Result<Option<(Arc<Metrics>, std::net::SocketAddr)>, String> {
    let config = &settings.config.metrics;
    if !config.enabled {
        return Ok(None);
    }
    let failed = |e: io::Error| {
        format!(
            "{}: metrics: cannot listen on {}:{}: {}",
            settings.source,
            config.host,
            config.port,
            listen::describe(&e)
        )
    };
    let listener = crate::metrics::bind(config).map_err(failed)?;
    let addr = listener.local_addr().map_err(failed)?;
    let metrics = Arc::new(Metrics::new(threads));
    crate::metrics::spawn(listener, Arc::clone(&metrics), errors.clone()).map_err(failed)?;
    Ok(Some((metrics, addr)))
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
        (
            "server.also_listen",
            now.server.also_listen != new.server.also_listen,
        ),
        (
            "tls.port",
            current.tls.as_ref().map(|t| t.port) != next.tls.as_ref().map(|t| t.port),
        ),
        (
            "tls.also_listen",
            current.tls.as_ref().map(|t| &t.also_listen)
                != next.tls.as_ref().map(|t| &t.also_listen),
        ),
        ("log.access_log", now.log.access_log != new.log.access_log),
        ("log.error_log", now.log.error_log != new.log.error_log),
        ("metrics", now.metrics != new.metrics),
    ];
    match fixed.iter().find(|(_, changed)| *changed) {
        Some((key, _)) => Err(format!(
            "{}: {key}: changing it takes a restart",
            next.source
        )),
        None => Ok(next),
    }
}

/// The listening sockets of one address, one per worker (clones of one passed socket, or a
/// `SO_REUSEPORT` group), and whether its connections speak TLS.
struct Group {
    addr: std::net::SocketAddr,
    tls: bool,
    sockets: Vec<std::net::TcpListener>,
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
        groups: &[Group],
        batches: Vec<AccessBatch>,
        errors: &ErrorLog,
        metrics: Option<&Arc<Metrics>>,
    ) -> io::Result<Generation> {
        // Connections are counted per generation: while an old one finishes, the two together
        // may hold up to twice max_connections for at most the grace period.
        let shared = Arc::new(Shared {
            epoch: Instant::now(),
            stop: AtomicBool::new(false),
            retire: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            max_connections: settings.config.server.max_connections as usize,
            metrics: metrics.cloned(),
        });
        let versions = Arc::new(VersionTable::default());
        let threads = groups.first().map_or(0, |g| g.sockets.len());
        // The plain listeners redirect to the first TLS listener's port, or the one configured.
        let https_redirect = settings.tls.as_ref().filter(|t| t.redirect).and_then(|t| {
            t.redirect_port
                .or_else(|| groups.iter().find(|g| g.tls).map(|g| g.addr.port()))
        });
        let mut wakers = Vec::with_capacity(threads);
        let mut polls = Vec::with_capacity(threads);
        let mut clones = Vec::with_capacity(threads);
        for i in 0..threads {
            let poll = Poll::new()?;
            wakers.push(Arc::new(Waker::new(poll.registry(), WAKER)?));
            polls.push(poll);
            // Worker i takes the i-th socket of every address.
            let mut mine = Vec::with_capacity(groups.len());
            for group in groups {
                if let Some(socket) = group.sockets.get(i) {
                    mine.push((socket.try_clone()?, group.tls));
                }
            }
            clones.push(mine);
        }
        let mut workers = Vec::with_capacity(threads);
        for (index, ((listeners, poll), batch)) in
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
                    let listeners = listeners
                        .into_iter()
                        .map(|(socket, tls)| (TcpListener::from_std(socket), tls))
                        .collect();
                    let files =
                        FileCache::new(&settings.config, &settings.root, versions, errors.clone());
                    worker(
                        poll,
                        listeners,
                        https_redirect,
                        &settings,
                        &shared,
                        batch,
                        &errors,
                        files,
                    );
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

#[cfg(test)]
mod tests {
    use super::*;

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
