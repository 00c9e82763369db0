//! Where the bytes come from: the [`Source`] trait the response decision asks for files, and
//! [`StaticTable`], a `Source` over files compiled into the program.
//!
//! The decision ([`respond`](crate::respond::respond)) owns every HTTP rule — dotfiles, index
//! files, allowed extensions, redirects, validators, ranges — and asks the source only what is at
//! a path. The std server's source is its file cache (with its symlink policy, which is a property
//! of the file system); a device's is a [`StaticTable`] made at build time by
//! [`build::write_table`](crate::build) or written by hand.

/// One version of a file, as the decision needs it.
pub trait Resource {
    /// Its length in bytes.
    fn len(&self) -> u64;

    /// Whether it is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its strong entity-tag with the quotes, e.g. `"\"3f9a\""` (RFC 9110 §8.8.3). The same bytes
    /// must give the same tag wherever they are served.
    fn etag(&self) -> &[u8];

    /// Its last modification, Unix seconds.
    fn last_modified(&self) -> u64;

    /// Its media type, when the source knows better than the extension table (a table computed
    /// at build time); `None` to use [`mime_for_path`](crate::mime::mime_for_path) of the served
    /// path.
    fn content_type(&self) -> Option<&str> {
        None
    }

    /// Copies bytes from `offset` into `buf`; returns how many (0 only at the end). Drivers that
    /// copy bodies use this; the std server sends from the file itself.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError>;
}

/// A resource could not be read (the file changed or failed under the reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReadError;

/// What is at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<R> {
    /// A regular file that may be served.
    File(R),
    /// A directory.
    Directory,
    /// Nothing.
    NotFound,
    /// Something the source will not serve (symbolic-link policy, permissions, not a regular file).
    Forbidden,
    /// The source failed (an I/O error other than "not there"); the decision answers 500 and the
    /// source is expected to have reported the cause.
    Failed,
}

/// What is at a path, without opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// Nothing.
    NotFound,
    /// See [`Entry::Forbidden`].
    Forbidden,
    /// See [`Entry::Failed`].
    Failed,
}

impl<R> Entry<R> {
    /// The kind of this entry.
    pub fn kind(&self) -> Kind {
        match self {
            Entry::File(_) => Kind::File,
            Entry::Directory => Kind::Directory,
            Entry::NotFound => Kind::NotFound,
            Entry::Forbidden => Kind::Forbidden,
            Entry::Failed => Kind::Failed,
        }
    }
}

/// One entry of a directory, as [`Source::list`] shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DirEntry<'a> {
    /// Its name: one path segment (no `/`), valid UTF-8.
    pub name: &'a str,
    /// A directory (else a regular file).
    pub is_dir: bool,
    /// Its length in bytes (0 for a directory).
    pub len: u64,
    /// Its last modification, Unix seconds.
    pub modified: u64,
}

/// Whether a directory could be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Listed {
    /// Every entry was visited.
    Done,
    /// This source cannot enumerate directories: the decision answers as if listings were off.
    Unsupported,
    /// The source failed (and reported why): the decision answers 500.
    Failed,
}

/// The files a connection serves, by resolved path (relative, no leading `/`, `""` for the root,
/// never `.` or `..`: see [`resolve_target`](crate::path::resolve_target)).
pub trait Source {
    /// A file found.
    type Resource: Resource;

    /// What is at `path`, opened if it is a file.
    fn open(&mut self, path: &str) -> Entry<Self::Resource>;

    /// What is at `path`, without opening it. The decision calls this instead of
    /// [`Source::open`] where it will not serve the file (an extension the policy refuses, a file
    /// named with a trailing slash), so a source never hashes a file it will not send.
    fn kind(&mut self, path: &str) -> Kind {
        self.open(path).kind()
    }

    /// The precompressed sibling of the file at `path` in `coding`: the file named `path` plus
    /// `.` and [`Coding::extension`] (`app.js.br`), found under the same rules as
    /// [`Source::open`]. The decision asks for it only for a file it serves, and sends it under
    /// the file's own name and media type. None by default.
    fn open_encoded(&mut self, path: &str, coding: Coding) -> Entry<Self::Resource> {
        let _ = (path, coding);
        Entry::NotFound
    }

    /// The codings this source can make on the fly from `file` (served at `path`), by its own
    /// limits; the decision has already found the type compressible and the client willing.
    /// None by default: a device does not compress.
    fn encodable(&mut self, path: &str, file: &Self::Resource) -> Codings {
        let _ = (path, file);
        Codings::EMPTY
    }

    /// `file` made into `coding` on the fly, when made already; `start` asks the source to start
    /// making it when it is not (the decision answers with another representation meanwhile).
    fn encoded(
        &mut self,
        path: &str,
        file: &Self::Resource,
        coding: Coding,
        start: bool,
    ) -> Option<Self::Resource> {
        let _ = (path, file, coding, start);
        None
    }

    /// Calls `visit` for every entry of the directory `path` that [`Source::open`] would show as
    /// a file or a directory (under the source's own rules, e.g. a symbolic-link policy), in
    /// ascending byte order of name, each name once. The decision applies the policy (dotfiles,
    /// allowed extensions) itself. The default lists nothing: [`Listed::Unsupported`].
    fn list(&mut self, path: &str, visit: &mut dyn FnMut(&DirEntry<'_>)) -> Listed {
        let _ = (path, visit);
        Listed::Unsupported
    }
}

use crate::negotiate::{Coding, Codings};

/// One file compiled into the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticFile {
    /// Its path below the root, `/`-separated, no leading `/`.
    pub path: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
    /// Its strong entity-tag with quotes.
    pub etag: &'static str,
    /// Its modification time, Unix seconds.
    pub last_modified: u64,
    /// Its media type.
    pub content_type: &'static str,
}

impl Resource for &'static StaticFile {
    fn len(&self) -> u64 {
        self.body.len() as u64
    }

    fn etag(&self) -> &[u8] {
        self.etag.as_bytes()
    }

    fn last_modified(&self) -> u64 {
        self.last_modified
    }

    fn content_type(&self) -> Option<&str> {
        Some(self.content_type)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| self.body.get(o..))
            .unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
            to.copy_from_slice(from);
        }
        Ok(n)
    }
}

/// A [`Source`] over a table of [`StaticFile`]s. Directories are the prefixes of the paths.
#[derive(Debug, Clone, Copy)]
pub struct StaticTable {
    files: &'static [StaticFile],
}

impl StaticTable {
    /// A source serving `files`.
    pub const fn new(files: &'static [StaticFile]) -> Self {
        Self { files }
    }

    /// The files.
    pub const fn files(&self) -> &'static [StaticFile] {
        self.files
    }
}

impl StaticTable {
    /// The name of the entry of directory `dir` (`""` for the root) that `path` lies under, and
    /// whether it is a directory.
    fn child<'p>(dir: &str, path: &'p str) -> Option<(&'p str, bool)> {
        let rest = if dir.is_empty() {
            path
        } else {
            path.strip_prefix(dir)?.strip_prefix('/')?
        };
        match rest.split_once('/') {
            Some((name, _)) => Some((name, true)),
            None => Some((rest, false)),
        }
        .filter(|(name, _)| !name.is_empty())
    }
}

impl Source for StaticTable {
    type Resource = &'static StaticFile;

    fn open(&mut self, path: &str) -> Entry<&'static StaticFile> {
        let mut directory = path.is_empty();
        for file in self.files {
            if file.path == path {
                return Entry::File(file);
            }
            if !directory && let Some(rest) = file.path.strip_prefix(path) {
                directory = rest.starts_with('/');
            }
        }
        if directory {
            Entry::Directory
        } else {
            Entry::NotFound
        }
    }

    fn open_encoded(&mut self, path: &str, coding: Coding) -> Entry<&'static StaticFile> {
        let sibling = |file: &&StaticFile| {
            file.path
                .strip_prefix(path)
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(coding.extension())
        };
        self.files
            .iter()
            .find(sibling)
            .map_or(Entry::NotFound, Entry::File)
    }

    fn list(&mut self, path: &str, visit: &mut dyn FnMut(&DirEntry<'_>)) -> Listed {
        if self.kind(path) != Kind::Directory {
            return Listed::Failed;
        }
        // No allocation: each round finds the smallest name after the last one visited, so a
        // table of n files costs n scans per listing (a device's tables are small).
        let mut last: Option<&'static str> = None;
        loop {
            let mut next: Option<(&'static str, bool, &'static StaticFile)> = None;
            for file in self.files {
                let Some((name, is_dir)) = Self::child(path, file.path) else {
                    continue;
                };
                if last.is_some_and(|l| name <= l) {
                    continue;
                }
                match next {
                    Some((n, _, _)) if n <= name => {}
                    _ => next = Some((name, is_dir, file)),
                }
            }
            let Some((name, is_dir, file)) = next else {
                return Listed::Done;
            };
            visit(&DirEntry {
                name,
                is_dir,
                len: if is_dir { 0 } else { file.body.len() as u64 },
                modified: file.last_modified,
            });
            last = Some(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static FILES: &[StaticFile] = &[
        StaticFile {
            path: "index.html",
            body: b"<p>hi</p>",
            etag: "\"1\"",
            last_modified: 1,
            content_type: "text/html; charset=utf-8",
        },
        StaticFile {
            path: "index.html.br",
            body: b"br bytes",
            etag: "\"1br\"",
            last_modified: 1,
            content_type: "application/octet-stream",
        },
        StaticFile {
            path: "css/site.css",
            body: b"p{}",
            etag: "\"2\"",
            last_modified: 2,
            content_type: "text/css; charset=utf-8",
        },
    ];

    #[test]
    fn a_table_knows_files_and_directories() {
        let mut table = StaticTable::new(FILES);
        assert!(matches!(table.open("index.html"), Entry::File(f) if f.etag == "\"1\""));
        assert_eq!(table.kind("css"), Kind::Directory);
        assert_eq!(table.kind(""), Kind::Directory);
        assert_eq!(table.kind("cs"), Kind::NotFound);
        assert_eq!(table.kind("css/site"), Kind::NotFound);
        assert_eq!(table.kind("missing.html"), Kind::NotFound);
        assert!(
            matches!(table.open_encoded("index.html", Coding::Brotli), Entry::File(f) if f.etag == "\"1br\"")
        );
        assert_eq!(
            table.open_encoded("index.html", Coding::Gzip).kind(),
            Kind::NotFound
        );
        assert_eq!(
            table.open_encoded("index", Coding::Brotli).kind(),
            Kind::NotFound
        );
    }

    #[test]
    fn a_table_lists_a_directory_sorted_with_subdirectories_once() {
        static TREE: &[StaticFile] = &[
            StaticFile {
                path: "b.txt",
                body: b"bb",
                etag: "\"b\"",
                last_modified: 5,
                content_type: "text/plain",
            },
            StaticFile {
                path: "a/z.txt",
                body: b"z",
                etag: "\"z\"",
                last_modified: 6,
                content_type: "text/plain",
            },
            StaticFile {
                path: "a.txt",
                body: b"a",
                etag: "\"a\"",
                last_modified: 7,
                content_type: "text/plain",
            },
            StaticFile {
                path: "a/y/x.txt",
                body: b"x",
                etag: "\"x\"",
                last_modified: 8,
                content_type: "text/plain",
            },
        ];
        let mut table = StaticTable::new(TREE);
        let mut seen: heapless::Vec<(&str, bool, u64), 8> = heapless::Vec::new();
        let mut visit = |e: &DirEntry<'_>| {
            let name: &'static str = TREE
                .iter()
                .find_map(|f| f.path.split('/').find(|s| *s == e.name))
                .unwrap();
            seen.push((name, e.is_dir, e.len)).unwrap();
        };
        assert_eq!(table.list("", &mut visit), Listed::Done);
        assert_eq!(
            seen.as_slice(),
            &[("a", true, 0), ("a.txt", false, 1), ("b.txt", false, 2)]
        );
        seen.clear();
        let mut visit = |e: &DirEntry<'_>| {
            let name: &'static str = TREE
                .iter()
                .find_map(|f| f.path.split('/').find(|s| *s == e.name))
                .unwrap();
            seen.push((name, e.is_dir, e.len)).unwrap();
        };
        assert_eq!(table.list("a", &mut visit), Listed::Done);
        assert_eq!(seen.as_slice(), &[("y", true, 0), ("z.txt", false, 1)]);
        assert_eq!(table.list("b.txt", &mut |_| {}), Listed::Failed);
    }

    #[test]
    fn static_files_read_at_any_offset() {
        let file = &FILES[0];
        let mut buf = [0u8; 4];
        assert_eq!(file.read_at(0, &mut buf), Ok(4));
        assert_eq!(&buf, b"<p>h");
        assert_eq!(file.read_at(7, &mut buf), Ok(2));
        assert_eq!(&buf[..2], b"p>");
        assert_eq!(file.read_at(9, &mut buf), Ok(0));
        assert_eq!(file.read_at(u64::MAX, &mut buf), Ok(0));
    }
}
