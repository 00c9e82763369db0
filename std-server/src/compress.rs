//! On-the-fly compression: the gzip and brotli encodings of compressible files, made once per
//! file version on a background thread and kept in memory within a bound.
//!
//! The core decides when an encoding may be sent (a compressible type of at least
//! [`MIN_COMPRESS_BYTES`](staticd_core::negotiate::MIN_COMPRESS_BYTES), a client that accepts it,
//! no precompressed sibling preferred); this module supplies it. A worker never compresses: it
//! asks [`Encodings::get`], which answers a made encoding at once or queues the work and answers
//! `None`, and the core then sends another representation (the file itself) meanwhile. So a
//! request never waits for compression, however large the file; files over
//! [`MAX_SOURCE_BYTES`] are never compressed (they keep the background thread from falling far
//! behind and bound its memory); a precompressed sibling serves those.
//!
//! Encodings are keyed by the file's content hash (its ETag) and the coding, so every path and
//! every version with the same bytes shares one, and a changed file gets a new one. The ETag of
//! an encoding is the hash of its own bytes (RFC 9110 §8.8.3: a different representation, a
//! different strong validator). An encoding not smaller than the file is remembered as not worth
//! sending.
//!
//! Levels, measured on 100 KiB of Rust source text (2026-12-06, this machine): gzip level 9,
//! 25,870 B in 17 ms; brotli quality 11 (4 MiB window), 22,566 B in 511 ms; brotli quality 9,
//! 24,588 B in 108 ms; the zstd tool at level 19, 24,123 B in 304 ms (and 28,212 B at its default
//! level 3). Made once per version and off the request path, brotli 11 is worth its time up to
//! [`BROTLI_BEST_UP_TO`]; past that quality 9 keeps a 4 MiB file to a few seconds of the
//! background thread. zstd is not made here: brotli is smaller at either setting, every browser
//! that sends `zstd` also sends `br`, and precompressed `.zst` siblings are still served.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};

use staticd_core::negotiate::{Coding, Codings};
use staticd_core::source::Resource;

use crate::files::{FileVersion, Served};

/// Files larger than this are not compressed on the fly.
pub const MAX_SOURCE_BYTES: u64 = 4 * 1024 * 1024;
/// The most bytes of made encodings kept; the oldest go first.
pub const MAX_MEMORY_BYTES: usize = 32 * 1024 * 1024;
/// The most files waiting for the background thread; past this, requests are served without
/// queueing more (the next request for the file queues it again).
const MAX_QUEUED: usize = 64;
/// The codings made here.
pub const MADE: Codings = Codings::EMPTY.with(Coding::Brotli).with(Coding::Gzip);
/// Files up to this size get brotli's best quality; larger ones quality 9 (see the module docs).
pub const BROTLI_BEST_UP_TO: u64 = 1024 * 1024;
const BROTLI_WINDOW_BITS: i32 = 22;

/// A file's content hash and a coding.
type Key = (u128, Coding);

/// The made encodings of one generation of workers, and its background thread.
pub struct Encodings {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// `None`: made, and not smaller than the file.
    made: RwLock<Made>,
    queue: Mutex<Queue>,
    wake: Condvar,
}

#[derive(Default)]
struct Made {
    by_key: HashMap<Key, Option<Arc<FileVersion>>>,
    order: VecDeque<Key>,
    memory_bytes: usize,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<(Key, Arc<FileVersion>)>,
    queued: HashSet<Key>,
    thread_started: bool,
    closed: bool,
}

impl Default for Encodings {
    fn default() -> Self {
        Self {
            shared: Arc::new(Shared::default()),
        }
    }
}

impl Drop for Encodings {
    fn drop(&mut self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.wake.notify_all();
    }
}

impl Encodings {
    /// The codings that may be made of `file`.
    pub fn encodable(&self, file: &Served) -> Codings {
        if file.len() <= MAX_SOURCE_BYTES {
            MADE
        } else {
            Codings::EMPTY
        }
    }

    /// `file` in `coding` if made and worth sending; when not made yet and `start`, queues it.
    pub fn get(&self, file: &Served, coding: Coding, start: bool) -> Option<Served> {
        let key = (content_hash(file)?, coding);
        if let Some(made) = self.shared.read().by_key.get(&key) {
            return made.clone().map(Served);
        }
        if start {
            self.queue(key, file);
        }
        None
    }

    fn queue(&self, key: Key, file: &Served) {
        let mut queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if queue.closed || queue.jobs.len() >= MAX_QUEUED || !queue.queued.insert(key) {
            return;
        }
        queue.jobs.push_back((key, Arc::clone(&file.0)));
        if !queue.thread_started {
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("staticd-compress".into())
                .spawn(move || shared.run());
            queue.thread_started = spawned.is_ok();
        }
        drop(queue);
        self.shared.wake.notify_one();
    }

    /// Waits until nothing is queued or being made (tests).
    #[cfg(test)]
    fn settle(&self) {
        let mut queue = self.shared.queue.lock().unwrap();
        while !queue.queued.is_empty() {
            queue = self
                .shared
                .wake
                .wait_timeout(queue, std::time::Duration::from_millis(10))
                .unwrap()
                .0;
        }
    }
}

impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Made> {
        self.made.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The background thread: makes queued encodings until the generation is dropped.
    fn run(&self) {
        loop {
            let (key, file) = {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                loop {
                    if queue.closed {
                        return;
                    }
                    if let Some(job) = queue.jobs.pop_front() {
                        break job;
                    }
                    queue = self
                        .wake
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            let made = make(&file, key.1).map(|bytes| {
                (bytes.len() < usize::try_from(file.len).unwrap_or(usize::MAX))
                    .then(|| Arc::new(FileVersion::encoded_from(&file, bytes.into_boxed_slice())))
            });
            if let Some(made) = made {
                self.keep(key, made);
            }
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.queued.remove(&key);
            drop(queue);
            self.wake.notify_all();
        }
    }

    fn keep(&self, key: Key, made: Option<Arc<FileVersion>>) {
        let mut table = self.made.write().unwrap_or_else(PoisonError::into_inner);
        let bytes = made.as_ref().map_or(0, |v| memory_of(v));
        while table.memory_bytes + bytes > MAX_MEMORY_BYTES
            && let Some(oldest) = table.order.pop_front()
        {
            if let Some(Some(gone)) = table.by_key.remove(&oldest) {
                table.memory_bytes -= memory_of(&gone);
            }
        }
        // Remembered "not worth it" entries cost a key each: bounded by the same order queue.
        if table.order.len() >= 4 * MAX_QUEUED * 64
            && let Some(oldest) = table.order.pop_front()
            && let Some(Some(gone)) = table.by_key.remove(&oldest)
        {
            table.memory_bytes -= memory_of(&gone);
        }
        table.memory_bytes += bytes;
        table.order.push_back(key);
        table.by_key.insert(key, made);
    }
}

fn memory_of(version: &FileVersion) -> usize {
    usize::try_from(version.len).unwrap_or(usize::MAX)
}

/// The content hash in a file's ETag (`"<32 hex digits>"`).
fn content_hash(file: &Served) -> Option<u128> {
    let hex = file.0.etag.strip_prefix('"')?.strip_suffix('"')?;
    u128::from_str_radix(hex, 16).ok()
}

/// The whole file compressed; `None` when it cannot be read whole (it changed under the reader).
fn make(file: &Arc<FileVersion>, coding: Coding) -> Option<Vec<u8>> {
    let len = usize::try_from(file.len).ok()?;
    let mut content = vec![0u8; len];
    // Read through the version itself (its memory, or pread of its open file), not the path.
    let reader = Served(Arc::clone(file));
    let mut at = 0;
    while at < len {
        let n = reader.read_at(at as u64, &mut content[at..]).ok()?;
        if n == 0 {
            return None;
        }
        at += n;
    }
    let mut out = Vec::with_capacity(len / 3);
    match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::best());
            encoder.write_all(&content).ok()?;
            out = encoder.finish().ok()?;
        }
        Coding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: if file.len <= BROTLI_BEST_UP_TO { 11 } else { 9 },
                lgwin: BROTLI_WINDOW_BITS,
                size_hint: len,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &content[..], &mut out, &params).ok()?;
        }
        Coding::Zstd => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn text(len: usize) -> Vec<u8> {
        let words = b"static files compress well when they are text; ";
        words.iter().copied().cycle().take(len).collect()
    }

    #[test]
    fn made_once_in_the_background_then_answered_from_memory() {
        let content = text(200 * 1024);
        let file = Served(Arc::new(FileVersion::for_test(&content)));
        let encodings = Encodings::default();
        assert_eq!(encodings.encodable(&file), MADE);
        // Not made yet: a ranged request does not start it.
        assert!(encodings.get(&file, Coding::Gzip, false).is_none());
        assert!(encodings.shared.queue.lock().unwrap().queued.is_empty());
        assert!(encodings.get(&file, Coding::Gzip, true).is_none());
        assert!(encodings.get(&file, Coding::Brotli, true).is_none());
        encodings.settle();
        let gz = encodings
            .get(&file, Coding::Gzip, false)
            .expect("gzip made");
        let br = encodings
            .get(&file, Coding::Brotli, false)
            .expect("brotli made");
        assert_ne!(gz.etag(), file.etag());
        assert_ne!(gz.etag(), br.etag());
        assert!(
            br.len() < gz.len() && gz.len() < file.len() / 10,
            "{} {}",
            br.len(),
            gz.len()
        );

        let mut decoded = Vec::new();
        let gz_bytes = read_all(&gz);
        flate2::read::GzDecoder::new(&gz_bytes[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, content);
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &read_all(&br)[..], &mut decoded).unwrap();
        assert_eq!(decoded, content);
    }

    #[test]
    fn what_does_not_shrink_is_not_sent_and_big_files_are_not_made() {
        // Bytes with no redundancy: brotli cannot make them smaller.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let file = Served(Arc::new(FileVersion::for_test(&noise)));
        let encodings = Encodings::default();
        assert!(encodings.get(&file, Coding::Brotli, true).is_none());
        encodings.settle();
        assert!(encodings.get(&file, Coding::Brotli, true).is_none());
        assert!(encodings.shared.queue.lock().unwrap().queued.is_empty());

        let big = Served(Arc::new(FileVersion::for_test(&text(
            MAX_SOURCE_BYTES as usize + 1,
        ))));
        assert_eq!(encodings.encodable(&big), Codings::EMPTY);
    }

    fn read_all(file: &Served) -> Vec<u8> {
        let mut bytes = vec![0u8; file.len() as usize];
        assert_eq!(file.read_at(0, &mut bytes).unwrap(), bytes.len());
        bytes
    }
}
