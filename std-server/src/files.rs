//! The seam to the disk: staticd-core's [`Source`] over the served directory. The core decides
//! every HTTP rule (dotfiles, index files, extensions, redirects); this module maps a resolved path
//! to what is on disk under the symbolic-link policy, and keeps a table of file versions shared by
//! all workers.
//!
//! A file version is identified by (size, mtime, inode, device). For each version the table holds
//! the open file and the strong ETag, and for small files the body itself, so a cached hit costs no
//! syscall and no allocation (an uncontended read lock, an atomic load and a reference count).
//!
//! Freshness (also stated in config/staticd.toml): a path's entry is checked against the disk at
//! most once per [`REVALIDATE_MS`], by whichever worker first finds it due (an atomic "checked at"
//! stamp elects it; the others keep answering from the entry meanwhile). A change on disk is
//! therefore answered by every worker at most [`REVALIDATE_MS`] (plus one lookup) after it
//! happened, and visibility is monotonic: the entry is replaced for all workers at once, and
//! looks at the disk are ordered (a ticket taken under the resolve lock), so an older look never
//! replaces a newer one. Once any response shows the new state, no later response shows the old.
//! Bodies sent from disk (over [`SMALL_BODY_BYTES`]) are also checked on every request, where a stale
//! length would promise bytes the file no longer has: one stat of the path must still show the
//! cached version (size, mtime, inode, device, and ctime, which any chmod, link or rename of the
//! file moves), or the path is looked up again at once.
//!
//! A precompressed sibling (`app.js.gz`, see [`Source::open_encoded`]) is looked up like its
//! file, under the same symbolic-link policy, except that its absence is cached too (for the
//! same interval): every request of a file asks about its three siblings, and a file has at most
//! three.
//!
//! The ETag is the xxh3-128 hash of the content, not of the metadata: the same bytes give the same
//! ETag on every machine and after every copy or checkout, which is what replicas behind a load
//! balancer and caches need (issue 4). It is computed once per version.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use staticd_core::negotiate::{Coding, Codings};
use staticd_core::path::hidden_segment;
use staticd_core::source::{DirEntry, Entry, Kind, Listed, ReadError, Resource, Source};

use crate::compress::Encodings;
use crate::log::ErrorLog;
use crate::settings::{Config, Symlinks};

/// Bodies up to this size are kept in memory and leave with the head in one write.
pub const SMALL_BODY_BYTES: u64 = 64 * 1024;
/// A cached lookup is trusted for this long before one worker checks it against the disk again:
/// the longest a change on disk goes unseen (see the module docs).
pub const REVALIDATE_MS: u64 = 1000;
const MAX_ENTRIES: usize = 4096;
const MAX_MEMORY_BYTES: u64 = 32 * 1024 * 1024;
const HASH_CHUNK_BYTES: usize = 256 * 1024;

/// What identifies one version of a file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionKey {
    pub size: u64,
    pub mtime_secs: i64,
    pub mtime_nanos: i64,
    pub inode: u64,
    pub device: u64,
}

impl VersionKey {
    fn of(meta: &Metadata) -> Self {
        Self {
            size: meta.len(),
            mtime_secs: meta.mtime(),
            mtime_nanos: meta.mtime_nsec(),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }
}

/// The body of a file version.
#[derive(Debug)]
pub enum Body {
    /// The whole content (at most [`SMALL_BODY_BYTES`]).
    Memory(Box<[u8]>),
    /// An open file, sent with sendfile.
    Disk(Arc<File>),
}

/// One version of one file.
#[derive(Debug)]
pub struct FileVersion {
    pub key: VersionKey,
    /// The length promised in Content-Length (the bytes hashed for the ETag).
    pub len: u64,
    /// Quoted strong ETag, `"<32 hex digits>"`.
    pub etag: Box<str>,
    /// The file's mtime, Unix seconds (the core clamps it to Date when it is in the future).
    pub last_modified: u64,
    pub body: Body,
    /// The path opened, and its ctime then: a [`Body::Disk`] version is checked against them on
    /// every request.
    disk_path: PathBuf,
    ctime: (i64, i64),
}

impl FileVersion {
    /// An encoding of `identity` made in memory: its own length and ETag (the hash of its bytes),
    /// the file's modification time.
    pub fn encoded_from(identity: &FileVersion, bytes: Box<[u8]>) -> FileVersion {
        FileVersion {
            key: identity.key,
            len: bytes.len() as u64,
            etag: etag_of(xxhash_rust::xxh3::xxh3_128(&bytes)),
            last_modified: identity.last_modified,
            body: Body::Memory(bytes),
            disk_path: identity.disk_path.clone(),
            ctime: identity.ctime,
        }
    }

    /// A version of `content` held in memory, as a small file's would be.
    #[cfg(test)]
    pub fn for_test(content: &[u8]) -> FileVersion {
        FileVersion {
            key: VersionKey {
                size: content.len() as u64,
                mtime_secs: 1,
                mtime_nanos: 0,
                inode: 1,
                device: 1,
            },
            len: content.len() as u64,
            etag: etag_of(xxhash_rust::xxh3::xxh3_128(content)),
            last_modified: 1,
            body: Body::Memory(content.into()),
            disk_path: PathBuf::new(),
            ctime: (0, 0),
        }
    }

    /// One stat of the path still shows this version: same content, same file, same metadata.
    fn still_on_disk(&self) -> bool {
        std::fs::metadata(&self.disk_path).is_ok_and(|meta| {
            VersionKey::of(&meta) == self.key && (meta.ctime(), meta.ctime_nsec()) == self.ctime
        })
    }
}

/// A shared file version is what the core serves.
#[derive(Debug, Clone)]
pub struct Served(pub Arc<FileVersion>);

impl Resource for Served {
    fn len(&self) -> u64 {
        self.0.len
    }

    fn etag(&self) -> &[u8] {
        self.0.etag.as_bytes()
    }

    fn last_modified(&self) -> u64 {
        self.0.last_modified
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        match &self.0.body {
            Body::Memory(bytes) => {
                let rest = usize::try_from(offset)
                    .ok()
                    .and_then(|o| bytes.get(o..))
                    .unwrap_or_default();
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                Ok(n)
            }
            Body::Disk(file) => {
                let left = self.0.len.saturating_sub(offset);
                let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                file.read_at(&mut buf[..want], offset)
                    .map_err(|_| ReadError)
            }
        }
    }
}

/// What a path is on disk, as cached.
#[derive(Debug, Clone)]
enum OnDisk {
    File(Arc<FileVersion>),
    Directory,
    NotFound,
    Forbidden,
    Failed,
}

impl OnDisk {
    fn kind(&self) -> Kind {
        match self {
            OnDisk::File(_) => Kind::File,
            OnDisk::Directory => Kind::Directory,
            OnDisk::NotFound => Kind::NotFound,
            OnDisk::Forbidden => Kind::Forbidden,
            OnDisk::Failed => Kind::Failed,
        }
    }

    fn entry(self) -> Entry<Served> {
        match self {
            OnDisk::File(version) => Entry::File(Served(version)),
            OnDisk::Directory => Entry::Directory,
            OnDisk::NotFound => Entry::NotFound,
            OnDisk::Forbidden => Entry::Forbidden,
            OnDisk::Failed => Entry::Failed,
        }
    }
}

/// The file versions of all workers, by path.
#[derive(Default)]
pub struct VersionTable {
    table: RwLock<Table>,
    /// Held while looking at the disk, so tickets are taken in the order the looks happen.
    resolving: Mutex<()>,
    /// The last ticket handed out; a higher ticket looked at the disk later.
    tickets: AtomicU64,
    /// ETags by version: a file reached by several paths (links) is hashed once.
    etags: Mutex<HashMap<VersionKey, Box<str>>>,
    /// The encodings made on the fly.
    encodings: Encodings,
    /// Looks at the disk so far (what the revalidation interval bounds).
    #[cfg(test)]
    resolutions: AtomicU64,
}

#[derive(Default)]
struct Table {
    entries: HashMap<Box<str>, CacheEntry>,
    memory_bytes: u64,
    /// Tickets up to this were handed out before the table was last cleared.
    floor: u64,
}

#[derive(Debug)]
struct CacheEntry {
    /// `None` for a path last found missing: missing paths are not cached (a client could fill
    /// the table with names that do not exist), but the ticket stays so an older look cannot
    /// bring a deleted file back.
    found: Option<OnDisk>,
    ticket: u64,
    /// Worker milliseconds (one epoch for all workers) of the last look at the disk.
    checked_ms: AtomicU64,
}

impl Table {
    fn memory_of(found: Option<&OnDisk>) -> u64 {
        match found {
            Some(OnDisk::File(version)) => match &version.body {
                Body::Memory(bytes) => bytes.len() as u64,
                Body::Disk(_) => 0,
            },
            _ => 0,
        }
    }

    fn put(&mut self, key: &str, entry: CacheEntry) {
        self.memory_bytes = self
            .memory_bytes
            .saturating_add(Self::memory_of(entry.found.as_ref()));
        if let Some(old) = self.entries.insert(key.into(), entry) {
            self.memory_bytes = self
                .memory_bytes
                .saturating_sub(Self::memory_of(old.found.as_ref()));
        }
    }
}

impl VersionTable {
    /// Looks at the disk so far.
    #[cfg(test)]
    fn resolutions(&self) -> u64 {
        self.resolutions.load(Ordering::Relaxed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        // A panic while the lock was held left a table whose every entry is still whole.
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How many times a lookup looks at the disk again when a table clear or a newer look at a
/// missing path overtook it; after that its own result is answered.
const RESOLVE_TRIES: usize = 3;

/// A worker's view of the shared [`VersionTable`]: the core's [`Source`] for the served root.
pub struct FileCache {
    root: PathBuf,
    symlinks: Symlinks,
    deny_dotfiles: bool,
    dotfile_exceptions: Vec<String>,
    shared: Arc<VersionTable>,
    errors: ErrorLog,
    /// Milliseconds on the clock all workers share, set by the worker before each use.
    now_ms: u64,
    /// Scratch for the name of a precompressed sibling.
    sibling: String,
}

impl FileCache {
    pub fn new(config: &Config, root: &Path, shared: Arc<VersionTable>, errors: ErrorLog) -> Self {
        Self {
            root: root.to_path_buf(),
            symlinks: config.files.follow_symlinks,
            deny_dotfiles: config.files.deny_dotfiles,
            dotfile_exceptions: config
                .files
                .dotfile_exceptions
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            shared,
            errors,
            now_ms: 0,
            sibling: String::new(),
        }
    }

    /// The time the next lookups happen at.
    pub fn set_now(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// The cached answer for `rel`, if it is still to be trusted.
    fn cached(&self, rel: &str) -> Option<OnDisk> {
        let table = self.shared.read();
        let entry = table.entries.get(rel)?;
        let found = entry.found.as_ref()?;
        let checked = entry.checked_ms.load(Ordering::Acquire);
        // Fresh, or another worker won this interval's check and answers for it: until it
        // replaces the entry, nobody has seen a newer state.
        let trusted = self.now_ms.saturating_sub(checked) < REVALIDATE_MS
            || entry
                .checked_ms
                .compare_exchange(checked, self.now_ms, Ordering::AcqRel, Ordering::Acquire)
                .is_err();
        // A body sent from disk must also still be the one on disk (see the module docs): one
        // stat instead of the whole lookup.
        let current = match found {
            OnDisk::File(version) if matches!(version.body, Body::Disk(_)) => {
                version.still_on_disk()
            }
            _ => true,
        };
        (trusted && current).then(|| found.clone())
    }

    /// Looks up `rel` (the core's resolved path: relative, normalized, no leading '/').
    fn lookup(&self, rel: &str) -> OnDisk {
        self.cached(rel).unwrap_or_else(|| self.refresh(rel, false))
    }

    /// Looks at the disk and publishes what it found, unless a later look is already in.
    /// `keep_missing` caches a path found missing like any other answer: for the precompressed
    /// siblings every request of a file asks about, at most three per file served.
    fn refresh(&self, rel: &str, keep_missing: bool) -> OnDisk {
        let mut found = OnDisk::NotFound;
        for _ in 0..RESOLVE_TRIES {
            let (ticket, resolved) = {
                let _order = self
                    .shared
                    .resolving
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let ticket = self.shared.tickets.fetch_add(1, Ordering::AcqRel) + 1;
                #[cfg(test)]
                self.shared.resolutions.fetch_add(1, Ordering::Relaxed);
                (ticket, self.resolve(rel, true))
            };
            found = match resolved {
                Resolved::File(opened) => {
                    let same = match self.shared.read().entries.get(rel) {
                        Some(CacheEntry {
                            found: Some(OnDisk::File(old)),
                            ..
                        }) if old.key == VersionKey::of(&opened.meta)
                            && old.ctime == (opened.meta.ctime(), opened.meta.ctime_nsec()) =>
                        {
                            Some(Arc::clone(old))
                        }
                        _ => None,
                    };
                    // Same version on disk: keep the hash and the open file.
                    match same {
                        Some(old) => OnDisk::File(old),
                        None => {
                            let Opened { file, meta, path } = *opened;
                            match self.new_version(file, &meta, path) {
                                Ok(version) => OnDisk::File(Arc::new(version)),
                                Err(e) => {
                                    self.errors.error(format_args!(
                                        "cannot read {rel:?} to serve it: {e}"
                                    ));
                                    OnDisk::Failed
                                }
                            }
                        }
                    }
                }
                Resolved::Regular => OnDisk::Failed,
                Resolved::OnDisk(other) => other,
            };
            let mut table = self.shared.write();
            match table.entries.get(rel) {
                Some(newer) if newer.ticket > ticket => match &newer.found {
                    Some(newer) => return newer.clone(),
                    // OnDisk missing by a later look: the path may exist again; look again.
                    None => continue,
                },
                // Cleared since this look began: a later look may have been dropped with it.
                None if ticket <= table.floor => continue,
                _ => {}
            }
            let known = table.entries.contains_key(rel);
            // Missing paths and failures are not cached: the next request looks again.
            let cacheable = match found {
                OnDisk::Failed => false,
                OnDisk::NotFound => keep_missing,
                _ => true,
            };
            if !cacheable && !known {
                return found;
            }
            if !known
                && (table.entries.len() >= MAX_ENTRIES || table.memory_bytes > MAX_MEMORY_BYTES)
            {
                table.entries.clear();
                table.memory_bytes = 0;
                table.floor = self.shared.tickets.load(Ordering::Acquire);
            }
            let entry = CacheEntry {
                found: cacheable.then(|| found.clone()),
                ticket,
                checked_ms: AtomicU64::new(self.now_ms),
            };
            table.put(rel, entry);
            return found;
        }
        found
    }

    /// Maps the path to what is on disk under the symlink policy; opens a regular file when
    /// `open` is set.
    fn resolve(&self, rel: &str, open: bool) -> Resolved {
        let full = if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        };
        let meta = match self.checked_metadata(&full, rel) {
            Ok(meta) => meta,
            Err(found) => return Resolved::OnDisk(found),
        };
        if meta.is_dir() {
            return Resolved::OnDisk(OnDisk::Directory);
        }
        if !meta.is_file() {
            return Resolved::OnDisk(OnDisk::Forbidden);
        }
        if !open {
            return Resolved::Regular;
        }
        self.open_file(&full, rel)
    }

    /// Metadata of `path` after the symlink policy allowed it.
    fn checked_metadata(&self, path: &Path, rel: &str) -> Result<Box<Metadata>, OnDisk> {
        match self.symlinks {
            Symlinks::Always => {}
            Symlinks::Never => {
                // Every component below root must be a real file or directory.
                let rel_path = path
                    .strip_prefix(&self.root)
                    .map_err(|_| OnDisk::Forbidden)?;
                let mut at = self.root.clone();
                for part in rel_path.components() {
                    at.push(part);
                    match std::fs::symlink_metadata(&at) {
                        Ok(meta) if meta.file_type().is_symlink() => {
                            return Err(OnDisk::Forbidden);
                        }
                        Ok(_) => {}
                        Err(e) => return Err(self.io_to_found(&e, rel)),
                    }
                }
            }
            Symlinks::InsideRoot => {
                let canonical =
                    std::fs::canonicalize(path).map_err(|e| self.io_to_found(&e, rel))?;
                let Ok(inside) = canonical.strip_prefix(&self.root) else {
                    return Err(OnDisk::Forbidden);
                };
                // A link inside root must not lead to a dotfile the request could not name.
                if self.deny_dotfiles {
                    let inside = inside.to_string_lossy();
                    let allowed: Vec<&str> =
                        self.dotfile_exceptions.iter().map(String::as_str).collect();
                    if hidden_segment(&inside, &allowed) {
                        return Err(OnDisk::Forbidden);
                    }
                }
            }
        }
        std::fs::metadata(path)
            .map(Box::new)
            .map_err(|e| self.io_to_found(&e, rel))
    }

    fn open_file(&self, path: &Path, rel: &str) -> Resolved {
        let mut flags =
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC | rustix::fs::OFlags::NONBLOCK;
        if self.symlinks == Symlinks::Never {
            flags |= rustix::fs::OFlags::NOFOLLOW;
        }
        let file = match rustix::fs::open(path, flags, rustix::fs::Mode::empty()) {
            Ok(fd) => File::from(fd),
            Err(e) => return Resolved::OnDisk(self.io_to_found(&io::Error::from(e), rel)),
        };
        // The open file is what gets served: check its own metadata, not the path's.
        match file.metadata() {
            Ok(meta) if meta.is_file() => Resolved::File(Box::new(Opened {
                file,
                meta,
                path: path.to_path_buf(),
            })),
            Ok(_) => Resolved::OnDisk(OnDisk::Forbidden),
            Err(e) => Resolved::OnDisk(self.io_to_found(&e, rel)),
        }
    }

    fn new_version(
        &self,
        file: File,
        meta: &Metadata,
        disk_path: PathBuf,
    ) -> io::Result<FileVersion> {
        let key = VersionKey::of(meta);
        let (body, etag, len) = if key.size <= SMALL_BODY_BYTES {
            let mut bytes = Vec::with_capacity(key.size as usize);
            (&file).take(key.size).read_to_end(&mut bytes)?;
            let etag = etag_of(xxhash_rust::xxh3::xxh3_128(&bytes));
            let len = bytes.len() as u64;
            (Body::Memory(bytes.into_boxed_slice()), etag, len)
        } else {
            let known = self
                .shared
                .etags
                .lock()
                .ok()
                .and_then(|m| m.get(&key).cloned());
            let etag = match known {
                Some(etag) => etag,
                None => {
                    let etag = etag_of(hash_file(&file, key.size)?);
                    if let Ok(mut map) = self.shared.etags.lock() {
                        if map.len() >= MAX_ENTRIES {
                            map.clear();
                        }
                        map.insert(key, etag.clone());
                    }
                    etag
                }
            };
            (Body::Disk(Arc::new(file)), etag, key.size)
        };
        Ok(FileVersion {
            key,
            len,
            etag,
            last_modified: u64::try_from(key.mtime_secs).unwrap_or(0),
            body,
            disk_path,
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// An I/O error as an answer: missing is 404, refused is 403, anything else is a failure the
    /// error log names (the core answers 500).
    fn io_to_found(&self, e: &io::Error, rel: &str) -> OnDisk {
        use rustix::io::Errno;
        match e.kind() {
            io::ErrorKind::NotFound
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::InvalidFilename => OnDisk::NotFound,
            io::ErrorKind::PermissionDenied => OnDisk::Forbidden,
            _ => match e.raw_os_error().map(Errno::from_raw_os_error) {
                Some(Errno::NAMETOOLONG | Errno::LOOP) => OnDisk::NotFound,
                _ => {
                    self.errors
                        .error(format_args!("cannot look up {rel:?} under the root: {e}"));
                    OnDisk::Failed
                }
            },
        }
    }
}

impl Source for FileCache {
    type Resource = Served;

    fn open(&mut self, path: &str) -> Entry<Served> {
        self.lookup(path).entry()
    }

    fn open_encoded(&mut self, path: &str, coding: Coding) -> Entry<Served> {
        let mut sibling = std::mem::take(&mut self.sibling);
        sibling.clear();
        sibling.push_str(path);
        sibling.push('.');
        sibling.push_str(coding.extension());
        let found = self
            .cached(&sibling)
            .unwrap_or_else(|| self.refresh(&sibling, true));
        self.sibling = sibling;
        // Under the same symlink policy as the file; anything but a file is no sibling.
        match found {
            OnDisk::File(version) => Entry::File(Served(version)),
            _ => Entry::NotFound,
        }
    }

    fn encodable(&mut self, _path: &str, file: &Served) -> Codings {
        self.shared.encodings.encodable(file)
    }

    fn encoded(
        &mut self,
        _path: &str,
        file: &Served,
        coding: Coding,
        start: bool,
    ) -> Option<Served> {
        self.shared.encodings.get(file, coding, start)
    }

    fn kind(&mut self, path: &str) -> Kind {
        // Only a stat: a file that will not be served is never opened or hashed.
        match self.cached(path) {
            Some(found) => found.kind(),
            None => match self.resolve(path, false) {
                Resolved::OnDisk(found) => found.kind(),
                Resolved::File(_) | Resolved::Regular => Kind::File,
            },
        }
    }

    fn list(&mut self, path: &str, visit: &mut dyn FnMut(&DirEntry<'_>)) -> Listed {
        if self.kind(path) != Kind::Directory {
            return Listed::Failed;
        }
        let dir = self.root.join(path);
        let read = match std::fs::read_dir(&dir) {
            Ok(read) => read,
            Err(e) => {
                self.errors
                    .error(format_args!("cannot list {path:?} under the root: {e}"));
                return Listed::Failed;
            }
        };
        // Only what `kind` would serve (the symbolic-link policy applies), with the metadata of
        // what a request would get; names that are not UTF-8 cannot be requested and are left out.
        let mut entries = Vec::new();
        for item in read.flatten() {
            let Ok(name) = item.file_name().into_string() else {
                continue;
            };
            let rel = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            let is_dir = match self.kind(&rel) {
                Kind::File => false,
                Kind::Directory => true,
                Kind::NotFound | Kind::Forbidden | Kind::Failed => continue,
            };
            let Ok(meta) = std::fs::metadata(dir.join(&name)) else {
                continue;
            };
            let len = if is_dir { 0 } else { meta.len() };
            let modified = u64::try_from(meta.mtime()).unwrap_or(0);
            entries.push((name, is_dir, len, modified));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, is_dir, len, modified) in &entries {
            visit(&DirEntry {
                name,
                is_dir: *is_dir,
                len: *len,
                modified: *modified,
            });
        }
        Listed::Done
    }
}

/// A regular file opened for serving, with its own metadata.
struct Opened {
    file: File,
    meta: Metadata,
    path: PathBuf,
}

enum Resolved {
    /// A regular file, opened.
    File(Box<Opened>),
    /// A regular file, not opened (a look for its kind alone).
    Regular,
    OnDisk(OnDisk),
}

/// xxh3-128 of the first `len` bytes of a file, read in chunks with pread.
fn hash_file(file: &File, len: u64) -> io::Result<u128> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut chunk = vec![0u8; HASH_CHUNK_BYTES];
    let mut offset = 0u64;
    while offset < len {
        let want = usize::try_from(len - offset)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let n = file.read_at(&mut chunk[..want], offset)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while hashing",
            ));
        }
        hasher.update(&chunk[..n]);
        offset += n as u64;
    }
    Ok(hasher.digest128())
}

/// `"` + 32 lowercase hex digits + `"`.
fn etag_of(hash: u128) -> Box<str> {
    format!("\"{hash:032x}\"").into_boxed_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("staticd-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::write(dir.join("index.html"), b"<h1>hi</h1>").unwrap();
        std::fs::write(dir.join("docs/index.html"), b"docs").unwrap();
        std::fs::write(dir.join("app.js"), b"let x = 1;").unwrap();
        std::fs::write(dir.join("secret.php"), b"<?php").unwrap();
        std::fs::write(dir.join("README"), b"no extension").unwrap();
        std::fs::canonicalize(&dir).unwrap()
    }

    fn cache(root: &Path, config: &Config) -> FileCache {
        FileCache::new(config, root, Arc::default(), ErrorLog::capture().0)
    }

    /// The entry at `rel` as seen at `now_ms`.
    fn at(files: &mut FileCache, rel: &str, now_ms: u64) -> Entry<Served> {
        files.set_now(now_ms);
        files.open(rel)
    }

    fn version(files: &mut FileCache, rel: &str, now_ms: u64) -> Arc<FileVersion> {
        match at(files, rel, now_ms) {
            Entry::File(Served(v)) => v,
            other => panic!("{rel}: {other:?}"),
        }
    }

    #[test]
    fn files_directories_and_what_is_missing() {
        let root = site("basic");
        let mut files = cache(&root, &Config::default());
        let v = version(&mut files, "index.html", 0);
        assert_eq!(v.len, 11);
        assert_eq!(v.etag.len(), 34);
        assert!(matches!(&v.body, Body::Memory(b) if &b[..] == b"<h1>hi</h1>"));
        assert_eq!(files.kind(""), Kind::Directory);
        assert_eq!(files.kind("docs"), Kind::Directory);
        assert_eq!(files.kind("missing.html"), Kind::NotFound);
        // The source answers what is there; the extension rule is the core's.
        assert_eq!(files.kind("secret.php"), Kind::File);
        assert_eq!(files.kind("README"), Kind::File);
        assert_eq!(files.kind("index.html/x"), Kind::NotFound);
    }

    #[test]
    fn a_file_that_cannot_be_read_is_a_failure_on_the_error_log() {
        let root = site("unreadable");
        std::fs::create_dir(root.join("loop.html")).unwrap();
        let (errors, lines) = ErrorLog::capture();
        let files = FileCache::new(&Config::default(), &root, Arc::default(), errors);
        // A directory opened as a file reads with EISDIR: not a 403 in disguise.
        let found = files.resolve("loop.html", true);
        assert!(matches!(found, Resolved::OnDisk(OnDisk::Directory)));
        let e = io::Error::from_raw_os_error(rustix::io::Errno::IO.raw_os_error());
        assert!(matches!(files.io_to_found(&e, "x.html"), OnDisk::Failed));
        let logged = lines.lines();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(logged[0].contains("\"x.html\""), "{logged:?}");
    }

    #[test]
    fn same_content_same_etag_and_revalidation() {
        let root = site("etag");
        std::fs::write(root.join("copy.html"), b"<h1>hi</h1>").unwrap();
        let mut files = cache(&root, &Config::default());
        let a = version(&mut files, "index.html", 0);
        let b = version(&mut files, "copy.html", 0);
        assert_eq!(a.etag, b.etag);

        std::fs::write(root.join("copy.html"), b"<h1>changed</h1>").unwrap();
        // Within the revalidation interval the cached version is served.
        let c = version(&mut files, "copy.html", 500);
        assert!(Arc::ptr_eq(&b, &c));
        let d = version(&mut files, "copy.html", 1500);
        assert_ne!(d.etag, b.etag);
        assert_eq!(d.len, 16);
        // Unchanged files keep their version object.
        let e = version(&mut files, "index.html", 5000);
        assert!(Arc::ptr_eq(&a, &e));
    }

    #[test]
    fn workers_share_versions_one_checks_per_interval_and_none_goes_back() {
        let root = site("shared");
        let table = Arc::new(VersionTable::default());
        let config = Config::default();
        let errors = ErrorLog::capture().0;
        let mut a = FileCache::new(&config, &root, Arc::clone(&table), errors.clone());
        let mut b = FileCache::new(&config, &root, Arc::clone(&table), errors);
        let version = |cache: &mut FileCache, now_ms| version(cache, "app.js", now_ms);
        let first = version(&mut a, 0);
        assert!(Arc::ptr_eq(&first, &version(&mut b, 10)));
        assert_eq!(
            table.resolutions(),
            1,
            "a hit on another worker looks at the disk"
        );

        std::fs::write(root.join("app.js"), b"let x = 2; // changed").unwrap();
        // Within the interval both answer the version they share.
        assert!(Arc::ptr_eq(&first, &version(&mut a, 900)));
        assert!(Arc::ptr_eq(&first, &version(&mut b, 990)));
        assert_eq!(table.resolutions(), 1);

        // The interval is over: the first worker to look checks, the other takes its answer.
        let changed = version(&mut b, 1000);
        assert_eq!(changed.len, 21);
        assert_eq!(table.resolutions(), 2);
        assert!(Arc::ptr_eq(&changed, &version(&mut a, 1000)));
        // A worker whose clock reads earlier never goes back to the old version.
        assert!(Arc::ptr_eq(&changed, &version(&mut a, 500)));
        assert_eq!(table.resolutions(), 2, "checked twice in one interval");

        // Unchanged: the next check keeps the version object.
        assert!(Arc::ptr_eq(&changed, &version(&mut a, 2500)));
        assert!(Arc::ptr_eq(&changed, &version(&mut b, 2600)));
        assert_eq!(table.resolutions(), 3);

        // Missing paths are looked up every time: deleted and created again, both seen at once.
        std::fs::remove_file(root.join("app.js")).unwrap();
        assert!(matches!(at(&mut a, "app.js", 4000), Entry::NotFound));
        assert!(matches!(at(&mut b, "app.js", 4000), Entry::NotFound));
        std::fs::write(root.join("app.js"), b"back").unwrap();
        assert!(matches!(at(&mut b, "app.js", 4001), Entry::File(Served(v)) if v.len == 4));
    }

    #[test]
    fn a_body_sent_from_disk_is_checked_with_one_stat_per_request() {
        use std::os::unix::fs::PermissionsExt;
        let root = site("disk-body");
        let big = |fill: u8| vec![fill; SMALL_BODY_BYTES as usize + 1];
        std::fs::write(root.join("big.js"), big(b'a')).unwrap();
        let table = Arc::new(VersionTable::default());
        let mut files = FileCache::new(
            &Config::default(),
            &root,
            Arc::clone(&table),
            ErrorLog::capture().0,
        );
        let version = |files: &mut FileCache, now_ms| version(files, "big.js", now_ms);
        let first = version(&mut files, 0);
        assert!(matches!(first.body, Body::Disk(_)));
        // Unchanged: the stat agrees, no new look at the disk within the interval.
        assert!(Arc::ptr_eq(&first, &version(&mut files, 10)));
        assert_eq!(table.resolutions(), 1);

        // Rewritten in place within the interval: seen by the very next request.
        let mut longer = big(b'b');
        longer.push(b'b');
        std::fs::write(root.join("big.js"), &longer).unwrap();
        let second = version(&mut files, 20);
        assert_eq!(second.len, SMALL_BODY_BYTES + 2);
        assert_ne!(second.etag, first.etag);
        assert_eq!(table.resolutions(), 2);

        // Made unreadable (only the ctime moves): looked up again at once. Root reads any file,
        // so the look finds the same version under a new ctime, which later stats then agree with.
        let path = root.join("big.js");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        let third = at(&mut files, "big.js", 30);
        assert_eq!(table.resolutions(), 3);
        if let Entry::File(Served(third)) = third {
            assert!(Arc::ptr_eq(&third, &version(&mut files, 40)));
            assert_eq!(table.resolutions(), 3);
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    #[test]
    fn precompressed_siblings_follow_the_symlink_policy_and_their_absence_is_cached() {
        let root = site("siblings");
        std::fs::write(root.join("app.js.gz"), b"gzip bytes").unwrap();
        let outside = root
            .parent()
            .unwrap()
            .join(format!("staticd-outside-{}.br", std::process::id()));
        std::fs::write(&outside, b"outside").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("app.js.br")).unwrap();
        std::fs::create_dir(root.join("app.js.zst")).unwrap();
        let table = Arc::new(VersionTable::default());
        let mut files = FileCache::new(
            &Config::default(),
            &root,
            Arc::clone(&table),
            ErrorLog::capture().0,
        );
        assert!(matches!(
            files.open_encoded("app.js", Coding::Gzip),
            Entry::File(Served(v)) if v.len == 10
        ));
        // A link out of the root and a directory are no siblings.
        assert_eq!(
            files.open_encoded("app.js", Coding::Brotli).kind(),
            Kind::NotFound
        );
        assert_eq!(
            files.open_encoded("app.js", Coding::Zstd).kind(),
            Kind::NotFound
        );
        assert_eq!(
            files.open_encoded("index.html", Coding::Gzip).kind(),
            Kind::NotFound
        );
        let looks = table.resolutions();
        // Asked again within the interval: no look at the disk for any of them, missing or not.
        for coding in Coding::ALL {
            files.open_encoded("app.js", coding);
        }
        files.open_encoded("index.html", Coding::Gzip);
        assert_eq!(table.resolutions(), looks);
        // A sibling made later is seen after the interval.
        std::fs::write(root.join("index.html.gz"), b"gz").unwrap();
        files.set_now(REVALIDATE_MS);
        assert_eq!(
            files.open_encoded("index.html", Coding::Gzip).kind(),
            Kind::File
        );
        let _ = std::fs::remove_file(outside);
    }

    #[test]
    fn symlink_policies() {
        let root = site("links");
        let outside = root
            .parent()
            .unwrap()
            .join(format!("staticd-outside-{}.html", std::process::id()));
        std::fs::write(&outside, b"outside").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out.html")).unwrap();
        std::os::unix::fs::symlink(root.join("app.js"), root.join("in.js")).unwrap();

        let mut config = Config::default();
        let mut files = cache(&root, &config);
        assert!(matches!(at(&mut files, "out.html", 0), Entry::Forbidden));
        assert!(matches!(at(&mut files, "in.js", 0), Entry::File(_)));

        config.files.follow_symlinks = Symlinks::Never;
        let mut files = cache(&root, &config);
        assert!(matches!(at(&mut files, "in.js", 0), Entry::Forbidden));

        config.files.follow_symlinks = Symlinks::Always;
        let mut files = cache(&root, &config);
        assert!(matches!(at(&mut files, "out.html", 0), Entry::File(_)));
        let _ = std::fs::remove_file(outside);
    }
}
