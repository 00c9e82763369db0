//! The seam to the disk: mapping a resolved request path to a file under root (symlink policy,
//! index files, directory redirects), and a table of file versions shared by all workers.
//!
//! A file version is identified by (size, mtime, inode, device). For each version the table holds
//! the open file, the strong ETag, the content type and the pre-rendered file-specific header lines,
//! and for small files the body itself, so a cached hit costs no syscall and no allocation (an
//! uncontended read lock, an atomic load and a reference count).
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

use staticd_core::config::{Config, Symlinks};
use staticd_core::date::HttpDate;
use staticd_core::glob::glob_match;
use staticd_core::mime::{extension, extension_allowed, mime_for_extension};
use staticd_core::path::hidden_segment;

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

/// One version of one file, with everything a response needs rendered once.
#[derive(Debug)]
pub struct FileVersion {
    pub key: VersionKey,
    /// The length promised in Content-Length (the bytes hashed for the ETag).
    pub len: u64,
    /// Quoted strong ETag, `"<32 hex digits>"`.
    pub etag: Box<str>,
    /// The file's mtime, Unix seconds. What is sent is [`FileVersion::last_modified_at`].
    pub last_modified: u64,
    /// Where the 29-byte Last-Modified value starts in both `headers` and `not_modified_headers`.
    last_modified_at_byte: usize,
    pub content_type: &'static str,
    /// Header lines for a 200/206: Last-Modified, ETag, Accept-Ranges, Cache-Control, rule headers,
    /// X-Content-Type-Options.
    pub headers: Box<[u8]>,
    /// Header lines for a 304 (RFC 9110 §15.4.5): ETag, Last-Modified, Cache-Control, rule headers.
    pub not_modified_headers: Box<[u8]>,
    pub body: Body,
    /// The path opened, and its ctime then: a [`Body::Disk`] version is checked against them on
    /// every request.
    disk_path: PathBuf,
    ctime: (i64, i64),
}

impl FileVersion {
    /// The Last-Modified of a response whose Date is `date_secs`: RFC 9110 §8.8.2.1 forbids one
    /// later than Date, so a future mtime (clock skew, an archive with future dates) is replaced
    /// by the Date itself, and preconditions compare against this same value.
    pub fn last_modified_at(&self, date_secs: u64) -> u64 {
        self.last_modified.min(date_secs)
    }

    /// One stat of the path still shows this version: same content, same file, same metadata.
    fn still_on_disk(&self) -> bool {
        std::fs::metadata(&self.disk_path).is_ok_and(|meta| {
            VersionKey::of(&meta) == self.key && (meta.ctime(), meta.ctime_nsec()) == self.ctime
        })
    }

    /// `lines` (this version's `headers` or `not_modified_headers`) with the Last-Modified value
    /// replaced by `date`, for a response whose Date is earlier than the mtime.
    pub fn with_last_modified(&self, lines: &[u8], date: &HttpDate) -> Vec<u8> {
        let mut out = lines.to_vec();
        let value = date.as_bytes();
        if let Some(slot) =
            out.get_mut(self.last_modified_at_byte..self.last_modified_at_byte + value.len())
        {
            slot.copy_from_slice(value);
        }
        out
    }
}

/// The outcome of a lookup.
#[derive(Debug, Clone)]
pub enum Lookup {
    File(Arc<FileVersion>),
    /// A directory named without its trailing slash.
    Redirect,
    NotFound,
    /// Exists but must not be served (extension, symlink policy, not a regular file, permissions).
    Forbidden,
}

/// The file versions of all workers, by request path.
#[derive(Default)]
pub struct VersionTable {
    table: RwLock<Table>,
    /// Held while looking at the disk, so tickets are taken in the order the looks happen.
    resolving: Mutex<()>,
    /// The last ticket handed out; a higher ticket looked at the disk later.
    tickets: AtomicU64,
    /// ETags by version: a file reached by several paths (links) is hashed once.
    etags: Mutex<HashMap<VersionKey, Box<str>>>,
    /// Looks at the disk so far (what the revalidation interval bounds).
    #[cfg(test)]
    resolutions: AtomicU64,
}

#[derive(Default)]
struct Table {
    entries: HashMap<Box<str>, Entry>,
    memory_bytes: u64,
    /// Tickets up to this were handed out before the table was last cleared.
    floor: u64,
}

#[derive(Debug)]
struct Entry {
    /// `None` for a path last found missing: missing paths are not cached (a client could fill
    /// the table with names that do not exist), but the ticket stays so an older look cannot
    /// bring a deleted file back.
    found: Option<Lookup>,
    ticket: u64,
    /// Worker milliseconds (one epoch for all workers) of the last look at the disk.
    checked_ms: AtomicU64,
}

impl Table {
    fn memory_of(found: Option<&Lookup>) -> u64 {
        match found {
            Some(Lookup::File(version)) => match &version.body {
                Body::Memory(bytes) => bytes.len() as u64,
                Body::Disk(_) => 0,
            },
            _ => 0,
        }
    }

    fn put(&mut self, key: &str, entry: Entry) {
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

struct RenderedRule {
    pattern: String,
    cache_control: Option<String>,
    headers: Vec<u8>,
}

/// A worker's view of the shared [`VersionTable`], with the settings lookups apply.
pub struct FileCache {
    root: PathBuf,
    symlinks: Symlinks,
    deny_dotfiles: bool,
    dotfile_exceptions: Vec<String>,
    index_files: Vec<String>,
    allowed_extensions: Vec<String>,
    rules: Vec<RenderedRule>,
    key_buf: String,
    shared: Arc<VersionTable>,
}

impl FileCache {
    pub fn new(config: &Config, root: &Path, shared: Arc<VersionTable>) -> Self {
        let rules = config
            .rules
            .iter()
            .map(|rule| {
                let mut headers = Vec::new();
                for (name, value) in &rule.headers {
                    push_header(&mut headers, name.as_str(), value.as_bytes());
                }
                RenderedRule {
                    pattern: rule.pattern.as_str().to_owned(),
                    cache_control: rule.cache_control.as_ref().map(|c| c.as_str().to_owned()),
                    headers,
                }
            })
            .collect();
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
            index_files: config
                .files
                .index_files
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            allowed_extensions: config
                .files
                .allowed_extensions
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            rules,
            key_buf: String::with_capacity(256),
            shared,
        }
    }

    /// Looks up `rel` (the core's resolved path: relative, normalized, no leading '/') at
    /// `now_ms`, milliseconds on the clock all workers share.
    pub fn lookup(&mut self, rel: &str, trailing_slash: bool, now_ms: u64) -> Lookup {
        self.key_buf.clear();
        self.key_buf.push_str(rel);
        if trailing_slash {
            self.key_buf.push('/');
        }
        {
            let table = self.shared.read();
            if let Some(entry) = table.entries.get(self.key_buf.as_str())
                && let Some(found) = &entry.found
            {
                let checked = entry.checked_ms.load(Ordering::Acquire);
                // Fresh, or another worker won this interval's check and answers for it: until
                // it replaces the entry, nobody has seen a newer state.
                let trusted = now_ms.saturating_sub(checked) < REVALIDATE_MS
                    || entry
                        .checked_ms
                        .compare_exchange(checked, now_ms, Ordering::AcqRel, Ordering::Acquire)
                        .is_err();
                // A body sent from disk must also still be the one on disk (see the module
                // docs): one stat instead of the whole lookup (measured on 1 MiB responses: the
                // lookup's canonicalize, stat, open, fstat and close were 6% of the worker's CPU).
                if trusted
                    && match found {
                        Lookup::File(version) if matches!(version.body, Body::Disk(_)) => {
                            version.still_on_disk()
                        }
                        _ => true,
                    }
                {
                    return found.clone();
                }
            }
        }
        self.refresh(rel, trailing_slash, now_ms)
    }

    /// Looks at the disk and publishes what it found, unless a later look is already in.
    fn refresh(&self, rel: &str, trailing_slash: bool, now_ms: u64) -> Lookup {
        let key = self.key_buf.as_str();
        let mut found = Lookup::NotFound;
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
                (ticket, self.resolve(rel, trailing_slash))
            };
            found = match resolved {
                Resolved::File(opened) => {
                    let same = match self.shared.read().entries.get(key) {
                        Some(Entry {
                            found: Some(Lookup::File(old)),
                            ..
                        }) if old.key == VersionKey::of(&opened.meta)
                            && old.ctime == (opened.meta.ctime(), opened.meta.ctime_nsec()) =>
                        {
                            Some(Arc::clone(old))
                        }
                        _ => None,
                    };
                    // Same version on disk: keep the hash, the open file and the rendered headers.
                    match same {
                        Some(old) => Lookup::File(old),
                        None => {
                            let Opened {
                                file,
                                meta,
                                served,
                                path,
                            } = *opened;
                            match self.new_version(file, &meta, &served, path) {
                                Ok(version) => Lookup::File(Arc::new(version)),
                                Err(_) => Lookup::Forbidden,
                            }
                        }
                    }
                }
                Resolved::Redirect => Lookup::Redirect,
                Resolved::NotFound => Lookup::NotFound,
                Resolved::Forbidden => Lookup::Forbidden,
            };
            let mut table = self.shared.write();
            match table.entries.get(key) {
                Some(newer) if newer.ticket > ticket => match &newer.found {
                    Some(newer) => return newer.clone(),
                    // Found missing by a later look: the path may exist again; look again.
                    None => continue,
                },
                // Cleared since this look began: a later look may have been dropped with it.
                None if ticket <= table.floor => continue,
                _ => {}
            }
            let known = table.entries.contains_key(key);
            if matches!(found, Lookup::NotFound) && !known {
                return found;
            }
            if !known
                && (table.entries.len() >= MAX_ENTRIES || table.memory_bytes > MAX_MEMORY_BYTES)
            {
                table.entries.clear();
                table.memory_bytes = 0;
                table.floor = self.shared.tickets.load(Ordering::Acquire);
            }
            let entry = Entry {
                found: (!matches!(found, Lookup::NotFound)).then(|| found.clone()),
                ticket,
                checked_ms: AtomicU64::new(now_ms),
            };
            table.put(key, entry);
            return found;
        }
        found
    }

    /// Maps the request path to what is on disk, applying the symlink and dotfile policies.
    fn resolve(&self, rel: &str, trailing_slash: bool) -> Resolved {
        let full = if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        };
        let meta = match self.checked_metadata(&full) {
            Ok(meta) => meta,
            Err(found) => return found,
        };
        if meta.is_dir() {
            if !trailing_slash {
                return Resolved::Redirect;
            }
            for index in &self.index_files {
                let candidate = full.join(index);
                let served = if rel.is_empty() {
                    index.clone()
                } else {
                    format!("{rel}/{index}")
                };
                match self.checked_metadata(&candidate) {
                    Ok(meta) if meta.is_file() => return self.open_file(&candidate, &served),
                    Ok(_) | Err(Resolved::NotFound) => continue,
                    Err(other) => return other,
                }
            }
            return Resolved::NotFound;
        }
        if !meta.is_file() {
            return Resolved::Forbidden;
        }
        if trailing_slash {
            return Resolved::NotFound;
        }
        self.open_file(&full, rel)
    }

    /// Metadata of `path` after the symlink policy allowed it.
    fn checked_metadata(&self, path: &Path) -> Result<Box<Metadata>, Resolved> {
        match self.symlinks {
            Symlinks::Always => {}
            Symlinks::Never => {
                // Every component below root must be a real file or directory.
                let rel = path
                    .strip_prefix(&self.root)
                    .map_err(|_| Resolved::Forbidden)?;
                let mut at = self.root.clone();
                for part in rel.components() {
                    at.push(part);
                    match std::fs::symlink_metadata(&at) {
                        Ok(meta) if meta.file_type().is_symlink() => {
                            return Err(Resolved::Forbidden);
                        }
                        Ok(_) => {}
                        Err(e) => return Err(io_to_resolved(&e)),
                    }
                }
            }
            Symlinks::InsideRoot => {
                let canonical = std::fs::canonicalize(path).map_err(|e| io_to_resolved(&e))?;
                let Ok(inside) = canonical.strip_prefix(&self.root) else {
                    return Err(Resolved::Forbidden);
                };
                // A link inside root must not lead to a dotfile the request could not name.
                if self.deny_dotfiles {
                    let inside = inside.to_string_lossy();
                    let allowed: Vec<&str> =
                        self.dotfile_exceptions.iter().map(String::as_str).collect();
                    if hidden_segment(&inside, &allowed) {
                        return Err(Resolved::Forbidden);
                    }
                }
            }
        }
        std::fs::metadata(path)
            .map(Box::new)
            .map_err(|e| io_to_resolved(&e))
    }

    fn open_file(&self, path: &Path, served: &str) -> Resolved {
        let allowed = extension_allowed(served, self.allowed_extensions.iter().map(String::as_str));
        if !allowed {
            return Resolved::Forbidden;
        }
        let mut flags =
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC | rustix::fs::OFlags::NONBLOCK;
        if self.symlinks == Symlinks::Never {
            flags |= rustix::fs::OFlags::NOFOLLOW;
        }
        let file = match rustix::fs::open(path, flags, rustix::fs::Mode::empty()) {
            Ok(fd) => File::from(fd),
            Err(e) => return io_to_resolved(&io::Error::from(e)),
        };
        // The open file is what gets served: check its own metadata, not the path's.
        match file.metadata() {
            Ok(meta) if meta.is_file() => Resolved::File(Box::new(Opened {
                file,
                meta,
                served: served.to_owned(),
                path: path.to_path_buf(),
            })),
            Ok(_) => Resolved::Forbidden,
            Err(e) => io_to_resolved(&e),
        }
    }

    fn new_version(
        &self,
        file: File,
        meta: &Metadata,
        served: &str,
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
        // A future mtime is rendered as is and clamped per response (see `last_modified_at`).
        let last_modified = u64::try_from(key.mtime_secs).unwrap_or(0);
        let content_type = extension(served)
            .and_then(mime_for_extension)
            .unwrap_or("application/octet-stream");
        let lm = HttpDate::from_unix(last_modified);
        let mut cache_control: Option<&str> = None;
        let mut rule_headers = Vec::new();
        for rule in &self.rules {
            if glob_match(&rule.pattern, served) {
                if cache_control.is_none() {
                    cache_control = rule.cache_control.as_deref();
                }
                rule_headers.extend_from_slice(&rule.headers);
            }
        }
        let mut validators = Vec::with_capacity(160);
        push_header(&mut validators, "ETag", etag.as_bytes());
        let last_modified_at_byte = validators.len() + "Last-Modified: ".len();
        push_header(&mut validators, "Last-Modified", lm.as_bytes());
        if let Some(cc) = cache_control {
            push_header(&mut validators, "Cache-Control", cc.as_bytes());
        }
        validators.extend_from_slice(&rule_headers);
        let mut headers = validators.clone();
        push_header(&mut headers, "Accept-Ranges", b"bytes");
        push_header(&mut headers, "X-Content-Type-Options", b"nosniff");
        Ok(FileVersion {
            key,
            len,
            etag,
            last_modified,
            last_modified_at_byte,
            content_type,
            headers: headers.into_boxed_slice(),
            not_modified_headers: validators.into_boxed_slice(),
            body,
            disk_path,
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

/// A regular file opened for serving, with its own metadata.
struct Opened {
    file: File,
    meta: Metadata,
    served: String,
    path: PathBuf,
}

enum Resolved {
    File(Box<Opened>),
    Redirect,
    NotFound,
    Forbidden,
}

fn io_to_resolved(e: &io::Error) -> Resolved {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename => {
            Resolved::NotFound
        }
        _ if e.raw_os_error() == Some(rustix::io::Errno::NAMETOOLONG.raw_os_error())
            || e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) =>
        {
            Resolved::NotFound
        }
        _ => Resolved::Forbidden,
    }
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

/// Appends one `Name: value\r\n` line. Names and values come from the settings (validated by the
/// core's `Config::validate`) or from values rendered here, never from a client.
pub fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
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
        FileCache::new(config, root, Arc::default())
    }

    #[test]
    fn files_directories_and_refusals() {
        let root = site("basic");
        let mut files = cache(&root, &Config::default());
        let Lookup::File(v) = files.lookup("index.html", false, 0) else {
            panic!()
        };
        assert_eq!(v.len, 11);
        assert_eq!(v.content_type, "text/html; charset=utf-8");
        assert_eq!(v.etag.len(), 34);
        assert!(matches!(&v.body, Body::Memory(b) if &b[..] == b"<h1>hi</h1>"));
        let head = std::str::from_utf8(&v.headers).unwrap();
        assert!(head.contains("Accept-Ranges: bytes\r\n"), "{head}");
        assert!(head.contains(&format!("ETag: {}\r\n", v.etag)), "{head}");

        assert!(matches!(files.lookup("", true, 0), Lookup::File(v) if v.len == 11));
        assert!(matches!(files.lookup("docs", false, 0), Lookup::Redirect));
        assert!(matches!(files.lookup("docs", true, 0), Lookup::File(v) if v.len == 4));
        assert!(matches!(
            files.lookup("missing.html", false, 0),
            Lookup::NotFound
        ));
        assert!(matches!(
            files.lookup("secret.php", false, 0),
            Lookup::Forbidden
        ));
        assert!(matches!(
            files.lookup("README", false, 0),
            Lookup::Forbidden
        ));
        assert!(matches!(
            files.lookup("index.html", true, 0),
            Lookup::NotFound
        ));
    }

    #[test]
    fn same_content_same_etag_and_revalidation() {
        let root = site("etag");
        std::fs::write(root.join("copy.html"), b"<h1>hi</h1>").unwrap();
        let mut files = cache(&root, &Config::default());
        let Lookup::File(a) = files.lookup("index.html", false, 0) else {
            panic!()
        };
        let Lookup::File(b) = files.lookup("copy.html", false, 0) else {
            panic!()
        };
        assert_eq!(a.etag, b.etag);

        std::fs::write(root.join("copy.html"), b"<h1>changed</h1>").unwrap();
        // Within the revalidation interval the cached version is served.
        let Lookup::File(c) = files.lookup("copy.html", false, 500) else {
            panic!()
        };
        assert!(Arc::ptr_eq(&b, &c));
        let Lookup::File(d) = files.lookup("copy.html", false, 1500) else {
            panic!()
        };
        assert_ne!(d.etag, b.etag);
        assert_eq!(d.len, 16);
        // Unchanged files keep their version object.
        let Lookup::File(e) = files.lookup("index.html", false, 5000) else {
            panic!()
        };
        assert!(Arc::ptr_eq(&a, &e));
    }

    #[test]
    fn workers_share_versions_one_checks_per_interval_and_none_goes_back() {
        let root = site("shared");
        let table = Arc::new(VersionTable::default());
        let config = Config::default();
        let mut a = FileCache::new(&config, &root, Arc::clone(&table));
        let mut b = FileCache::new(&config, &root, Arc::clone(&table));
        let version = |cache: &mut FileCache, now_ms| match cache.lookup("app.js", false, now_ms) {
            Lookup::File(v) => v,
            other => panic!("{other:?}"),
        };
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
        assert!(matches!(a.lookup("app.js", false, 4000), Lookup::NotFound));
        assert!(matches!(b.lookup("app.js", false, 4000), Lookup::NotFound));
        std::fs::write(root.join("app.js"), b"back").unwrap();
        assert!(matches!(b.lookup("app.js", false, 4001), Lookup::File(v) if v.len == 4));
    }

    #[test]
    fn a_body_sent_from_disk_is_checked_with_one_stat_per_request() {
        use std::os::unix::fs::PermissionsExt;
        let root = site("disk-body");
        let big = |fill: u8| vec![fill; SMALL_BODY_BYTES as usize + 1];
        std::fs::write(root.join("big.js"), big(b'a')).unwrap();
        let table = Arc::new(VersionTable::default());
        let mut files = FileCache::new(&Config::default(), &root, Arc::clone(&table));
        let version = |files: &mut FileCache, now_ms| match files.lookup("big.js", false, now_ms) {
            Lookup::File(v) => v,
            other => panic!("{other:?}"),
        };
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
        let third = files.lookup("big.js", false, 30);
        assert_eq!(table.resolutions(), 3);
        if let Lookup::File(third) = third {
            assert!(Arc::ptr_eq(&third, &version(&mut files, 40)));
            assert_eq!(table.resolutions(), 3);
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    #[test]
    fn a_future_mtime_is_sent_as_the_date() {
        let root = site("future");
        let path = root.join("future.html");
        std::fs::write(&path, b"later").unwrap();
        let mtime = 4_000_000_000u64;
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime))
            .unwrap();
        let mut files = cache(&root, &Config::default());
        let Lookup::File(v) = files.lookup("future.html", false, 0) else {
            panic!()
        };
        assert_eq!(v.last_modified, mtime);
        assert_eq!(v.last_modified_at(mtime - 10), mtime - 10);
        assert_eq!(v.last_modified_at(mtime + 10), mtime);
        let date = HttpDate::from_unix(mtime - 10);
        for lines in [&v.headers, &v.not_modified_headers] {
            let original = std::str::from_utf8(lines).unwrap();
            assert!(
                original.contains(&format!(
                    "Last-Modified: {}\r\n",
                    HttpDate::from_unix(mtime).as_str()
                )),
                "{original}"
            );
            let clamped = v.with_last_modified(lines, &date);
            let clamped = std::str::from_utf8(&clamped).unwrap();
            assert_eq!(
                clamped,
                original.replace(HttpDate::from_unix(mtime).as_str(), date.as_str())
            );
        }
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
        assert!(matches!(
            files.lookup("out.html", false, 0),
            Lookup::Forbidden
        ));
        assert!(matches!(files.lookup("in.js", false, 0), Lookup::File(_)));

        config.files.follow_symlinks = Symlinks::Never;
        let mut files = cache(&root, &config);
        assert!(matches!(files.lookup("in.js", false, 0), Lookup::Forbidden));

        config.files.follow_symlinks = Symlinks::Always;
        let mut files = cache(&root, &config);
        assert!(matches!(
            files.lookup("out.html", false, 0),
            Lookup::File(_)
        ));
        let _ = std::fs::remove_file(outside);
    }

    #[test]
    fn rules_add_cache_control_and_headers() {
        let root = site("rules");
        let config: Config = toml::from_str(
            "[[rules]]\npattern = \"*.js\"\ncache_control = \"no-cache\"\n[rules.headers]\nX-Test = \"yes\"\n",
        )
        .unwrap();
        let mut files = cache(&root, &config);
        let Lookup::File(v) = files.lookup("app.js", false, 0) else {
            panic!()
        };
        let head = std::str::from_utf8(&v.headers).unwrap();
        assert!(head.contains("Cache-Control: no-cache\r\n"), "{head}");
        assert!(head.contains("X-Test: yes\r\n"), "{head}");
        assert_eq!(v.content_type, "text/javascript; charset=utf-8");
    }
}
