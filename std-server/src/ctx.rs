//! A worker's state shared by all its connections: the core's policy and file source, the clock
//! and the rendered dates, the access-log batch, buffer pools and timer queues.

use std::time::Instant;

use staticd_core::date::{HttpDate, clf_date};
use staticd_core::policy::Policy;
use staticd_core::respond::{Now, Site};

use crate::files::FileCache;
use crate::log::{self, AccessBatch, ErrorLog};
use crate::timers::Timers;

/// Read buffers kept for reuse per worker.
const POOLED_BUFFERS: usize = 1024;

/// Read buffers of `max_request_bytes`, lent to connections while they hold unprocessed bytes.
pub struct BufPool {
    pub size: usize,
    pub free: Vec<Box<[u8]>>,
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
    /// The trusted balancers (`[proxy]`).
    pub proxy: crate::proxied::Trust,
    /// This worker's metrics counters, when `[metrics]` is on.
    pub counters: Option<std::sync::Arc<crate::metrics::WorkerCounters>>,
}

impl Ctx<'_> {
    /// What the core's connection is called with: the clock and the site (policy, files, path
    /// buffer), borrowed apart so both can be passed at once.
    pub fn core_inputs(&mut self) -> (Now<'_>, Site<'_, FileCache>) {
        let now = Now {
            ms: self.now_ms,
            unix_secs: self.date_secs,
            date: &self.date,
        };
        let site = Site {
            policy: &self.policy,
            source: &mut self.files,
            path_buf: &mut self.path_buf,
        };
        (now, site)
    }

    pub fn tick(&mut self, started: Instant) {
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

/// Buffers for pending log fields, reused so an answered request allocates nothing.
#[derive(Default)]
pub struct LinePool {
    free: Vec<Vec<u8>>,
}

impl LinePool {
    pub fn take(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_default()
    }

    pub fn put(&mut self, mut buf: Vec<u8>) {
        if self.free.len() < 256 && buf.capacity() <= 16 * 1024 {
            buf.clear();
            self.free.push(buf);
        }
    }
}
