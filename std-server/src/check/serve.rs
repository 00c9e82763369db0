//! What staticd would answer for a request path, decided by the server's own code.
//!
//! The verdict is never re-derived here: a target goes through the core's `resolve_target`, the
//! dotfile test the responder applies before touching the disk (`hidden_segment`), and the
//! core's own decision (`respond`, over the server's file cache: symlink policy, index files, allowed extensions, regular
//! files only). So `staticd check` and `staticd` cannot disagree on what is served. Only when the
//! server refuses does this module look again, to name the reason in the report.

use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use staticd_core::mime::extension_allowed;
use staticd_core::path::{PathError, hidden_segment, resolve_target};

use super::report::Kind;
use staticd_core::conn::{Connection, Event};
use staticd_core::date::HttpDate;
use staticd_core::respond::{Now, Site};
use staticd_core::status::StatusCode;

use crate::config::Settings;
use crate::files::{Body, FileCache, FileVersion, Served};
use crate::log::{CapturedErrors, ErrorLog};
use crate::policy::PolicyLists;
use crate::settings::{Config, Symlinks};

/// The core's answer to a GET of a path, as far as the walk needs it.
enum Lookup {
    File(Arc<FileVersion>),
    /// 200 with a listing of a directory without an index file (`files.directory_listing`).
    Listing,
    Redirect,
    /// Any other refusal, with the status the core answered.
    NotFound(u16),
    Forbidden,
    /// No answer from the core's connection (it cannot happen for a whole GET head).
    Unanswered,
}

/// The server's answer to a GET of one path, as far as a link checker cares.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with this file (`served` is its path relative to the root: for a directory, its index),
    /// of this kind by the Content-Type the server sends. The file's version is not kept: its body
    /// may be in memory, and a check remembers an answer for every path it met.
    File { served: String, kind: ContentKind },
    /// 200 with a listing of the directory `dir` (relative to the root, `""` for the root), which
    /// has no index file (`files.directory_listing`). Its entries are linked from it.
    Listing { dir: String },
    /// 200 with the `files.fallback` page (`served`), which the server sends to a navigation that
    /// finds no file: a route of a single-page app, drawn by the page's script.
    Fallback { served: String },
    /// 404, 403 or 400, with the reason.
    Refused(Refusal),
}

/// A refusal: which kind of problem it makes, the status a client gets, and a sentence for the
/// report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: Kind,
    pub status: u16,
    pub detail: String,
}

/// The server's view of one root, with answers remembered per target.
pub struct Server {
    files: FileCache,
    /// The settings the policy is built from, as every worker of the server builds it.
    config: Config,
    /// What the file source reported (read failures), printed when the check ends.
    errors: CapturedErrors,
    root: PathBuf,
    deny_dotfiles: bool,
    dotfile_exceptions: Vec<String>,
    index_files: Vec<String>,
    allowed_extensions: Vec<String>,
    symlinks: Symlinks,
    path_buf: Vec<u8>,
    answers: HashMap<String, Answer>,
    /// The answers to navigations (`Accept: text/html`) that differ from `answers`.
    navigations: HashMap<String, Answer>,
    listings: HashMap<PathBuf, Vec<String>>,
}

impl Server {
    pub fn new(settings: &Settings) -> Self {
        let (error_log, errors) = ErrorLog::capture();
        let files = &settings.config.files;
        Self {
            files: FileCache::new(&settings.config, &settings.root, Arc::default(), error_log),
            config: settings.config.clone(),
            errors,
            root: settings.root.clone(),
            deny_dotfiles: files.deny_dotfiles,
            dotfile_exceptions: files
                .dotfile_exceptions
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            index_files: files
                .index_files
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            allowed_extensions: files
                .allowed_extensions
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            symlinks: files.follow_symlinks,
            // The server decodes a target into a buffer of max_request_bytes; longer is 414.
            path_buf: vec![0; settings.config.server.max_request_bytes as usize],
            answers: HashMap::new(),
            navigations: HashMap::new(),
            listings: HashMap::new(),
        }
    }

    /// The settings the server's policy is built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The answer to `GET target` (an origin-form request-target), following a directory
    /// redirect (301 to the path with `/`) as a browser does.
    pub fn get(&mut self, target: &str) -> Answer {
        if let Some(answer) = self.answers.get(target) {
            return answer.clone();
        }
        let answer = self.answer(target);
        self.answers.insert(target.to_owned(), answer.clone());
        answer
    }

    /// The answer to `GET target` as a browser navigates to it (`<a href>`, `<iframe src>`): with
    /// `Accept: text/html`, so a path that finds no file gets what the server sends then, the
    /// `files.fallback` page when there is one.
    pub fn navigate(&mut self, target: &str) -> Answer {
        let answer = self.get(target);
        if self.config.files.fallback.is_none() || !matches!(answer, Answer::Refused(_)) {
            return answer;
        }
        if let Some(answer) = self.navigations.get(target) {
            return answer.clone();
        }
        let navigation = match resolve_target(target.as_bytes(), &mut self.path_buf) {
            Ok(resolved) => {
                let (rel, slash) = (resolved.path.to_owned(), resolved.trailing_slash);
                match (
                    self.lookup(&rel, slash, NAVIGATION),
                    &self.config.files.fallback,
                ) {
                    (Lookup::File(_), Some(fallback)) => Answer::Fallback {
                        served: fallback.clone(),
                    },
                    _ => answer,
                }
            }
            Err(_) => answer,
        };
        self.navigations
            .insert(target.to_owned(), navigation.clone());
        navigation
    }

    fn answer(&mut self, target: &str) -> Answer {
        let resolved = match resolve_target(target.as_bytes(), &mut self.path_buf) {
            Ok(resolved) => resolved,
            Err(e) => return bad_target(e),
        };
        let rel = resolved.path.to_owned();
        let mut trailing_slash = resolved.trailing_slash;
        let mut lookup = self.lookup(&rel, trailing_slash, None);
        // The core refuses a hidden path before any redirect; its answer's status is reported.
        if let Lookup::NotFound(status) = lookup
            && self.deny_dotfiles
            && hidden_segment(&rel, &self.exceptions())
        {
            return Answer::Refused(Refusal {
                kind: Kind::Dotfile,
                status,
                detail: "a path segment starts with '.' and files.deny_dotfiles is on".into(),
            });
        }
        if matches!(lookup, Lookup::Redirect) {
            trailing_slash = true;
            lookup = self.lookup(&rel, trailing_slash, None);
        }
        match lookup {
            Lookup::Listing => Answer::Listing { dir: rel },
            Lookup::File(_) => {
                let served = self.served_name(&rel, trailing_slash);
                let kind = ContentKind::of(&served);
                Answer::File { served, kind }
            }
            Lookup::Redirect | Lookup::NotFound(_) | Lookup::Unanswered => {
                Answer::Refused(self.explain_missing(&rel, trailing_slash))
            }
            Lookup::Forbidden => Answer::Refused(self.explain_forbidden(&rel, trailing_slash)),
        }
    }

    /// The answer for a file found on disk at `rel` (decoded, relative), without a request.
    pub fn get_file(&mut self, rel: &str) -> Answer {
        let mut target = String::with_capacity(rel.len() + 1);
        for segment in rel.split('/') {
            target.push('/');
            target.extend(percent_encoding::utf8_percent_encode(segment, SEGMENT));
        }
        self.get(&target)
    }

    /// The answer for the directory found on disk at `rel` (decoded, relative, `""` for the
    /// root), asked with its slash.
    pub fn get_dir(&mut self, rel: &str) -> Answer {
        let mut target = String::with_capacity(rel.len() + 2);
        for segment in rel.split('/').filter(|s| !s.is_empty()) {
            target.push('/');
            target.extend(percent_encoding::utf8_percent_encode(segment, SEGMENT));
        }
        target.push('/');
        self.get(&target)
    }

    /// The body the server sends for the file at `served` (as [`Answer::File`] named it), as text
    /// (invalid UTF-8 replaced); empty if it can no longer be read.
    pub fn text(&mut self, served: &str) -> String {
        match self.lookup(served, false, None) {
            Lookup::File(version) => text_of(&version),
            _ => String::new(),
        }
    }

    /// The core's decision for `GET /rel` (with `/` after it when `trailing_slash`, and this
    /// `Accept`), made by the same function the server calls, with the same policy, over the same
    /// file source.
    fn lookup(&mut self, rel: &str, trailing_slash: bool, accept: Option<&str>) -> Lookup {
        let mut target = String::with_capacity(rel.len() + 2);
        for segment in rel.split('/').filter(|s| !s.is_empty()) {
            target.push('/');
            target.extend(percent_encoding::utf8_percent_encode(segment, SEGMENT));
        }
        if trailing_slash || target.is_empty() {
            target.push('/');
        }
        let accept = accept.map_or_else(String::new, |a| format!("Accept: {a}\r\n"));
        // The request goes through the core's connection as the server's bytes would: a target
        // the server refuses before deciding (400, 414, 431) gets the core's status here too.
        let mut input =
            format!("GET {target} HTTP/1.1\r\nHost: check\r\n{accept}\r\n").into_bytes();
        let lists = PolicyLists::new(&self.config);
        let policy = lists.policy();
        let mut path_buf = vec![0u8; self.path_buf.len() + 256];
        let mut site = Site {
            policy: &policy,
            source: &mut self.files,
            path_buf: &mut path_buf,
        };
        let date = HttpDate::from_unix(0);
        let now = Now {
            ms: 0,
            unix_secs: u64::MAX,
            date: &date,
        };
        let mut sink = Vec::new();
        let mut connection = Connection::new(0, policy.header_timeout_ms);
        let step = connection.poll(&mut input, &now, &mut site, &mut sink);
        let Event::Respond { response, .. } = step.event else {
            // A whole GET head is always answered; a connection that waits or closes served
            // nothing.
            return Lookup::Unanswered;
        };
        match (response.status, response.resource) {
            (StatusCode::OK, Some(Served(version))) => Lookup::File(version),
            (StatusCode::OK, None) => Lookup::Listing,
            (StatusCode::MOVED_PERMANENTLY, _) => Lookup::Redirect,
            (StatusCode::FORBIDDEN | StatusCode::INTERNAL_SERVER_ERROR, _) => Lookup::Forbidden,
            (status, _) => Lookup::NotFound(status.as_u16()),
        }
    }

    fn exceptions(&self) -> Vec<&str> {
        self.dotfile_exceptions.iter().map(String::as_str).collect()
    }

    /// The file a 200 for `rel` came from: `rel` itself, or for a directory the first index file
    /// the server would take (the same order as its lookup).
    fn served_name(&mut self, rel: &str, trailing_slash: bool) -> String {
        if !trailing_slash {
            return rel.to_owned();
        }
        for index in self.index_files.clone() {
            let candidate = join(rel, &index);
            if matches!(self.lookup(&candidate, false, None), Lookup::File(_)) {
                return candidate;
            }
        }
        join(rel, self.index_files.first().map_or("", String::as_str))
    }

    fn explain_missing(&mut self, rel: &str, trailing_slash: bool) -> Refusal {
        let full = self.root.join(rel);
        if trailing_slash && full.is_dir() {
            return Refusal {
                kind: Kind::NoIndex,
                status: 404,
                detail: format!(
                    "the directory has no {} and files.directory_listing is off",
                    self.index_files.join(" or ")
                ),
            };
        }
        if trailing_slash && full.is_file() {
            return Refusal {
                kind: Kind::Broken,
                status: 404,
                detail: "a file named as a directory (a '/' after it)".into(),
            };
        }
        if let Some(actual) = self.case_insensitive_match(rel) {
            return Refusal {
                kind: Kind::CaseMismatch,
                status: 404,
                detail: format!(
                    "no such file; on disk it is spelled {actual} (a case-insensitive disk would serve it)"
                ),
            };
        }
        Refusal {
            kind: Kind::Broken,
            status: 404,
            detail: "no such file".into(),
        }
    }

    /// The server said 403: find which of its rules applied.
    fn explain_forbidden(&mut self, rel: &str, trailing_slash: bool) -> Refusal {
        let full = self.root.join(rel);
        if let Some(refusal) = self.symlink_refusal(rel) {
            return refusal;
        }
        if trailing_slash || full.is_dir() {
            // The directory itself passed; one of its index files was refused.
            for index in self.index_files.clone() {
                let candidate = join(rel, &index);
                if std::fs::symlink_metadata(self.root.join(&candidate)).is_ok() {
                    return self.explain_forbidden(&candidate, false);
                }
            }
        }
        let allowed = self.allowed_extensions.iter().map(String::as_str);
        if !extension_allowed(rel, allowed) {
            let ext = staticd_core::mime::extension(rel)
                .map_or_else(|| "no extension".to_owned(), |e| format!(".{e}"));
            return Refusal {
                kind: Kind::Extension,
                status: 403,
                detail: format!("{ext} is not in files.allowed_extensions"),
            };
        }
        let detail = match std::fs::metadata(&full) {
            Ok(meta) if !meta.is_file() => "not a regular file".to_owned(),
            Ok(_) => match std::fs::File::open(&full) {
                Ok(_) => "refused by the server".to_owned(),
                Err(e) => format!("cannot be opened: {e}"),
            },
            Err(e) => format!("cannot be read: {e}"),
        };
        Refusal {
            kind: Kind::Forbidden,
            status: 403,
            detail,
        }
    }

    /// The symlink policy's refusal of `rel`, if it is one.
    fn symlink_refusal(&self, rel: &str) -> Option<Refusal> {
        let full = self.root.join(rel);
        match self.symlinks {
            Symlinks::Always => None,
            Symlinks::Never => {
                let mut at = self.root.clone();
                for part in Path::new(rel).components() {
                    at.push(part);
                    if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                        let link = at.strip_prefix(&self.root).unwrap_or(&at);
                        return Some(Refusal {
                            kind: Kind::Symlink,
                            status: 403,
                            detail: format!(
                                "{} is a symbolic link and files.follow_symlinks is \"never\"",
                                link.display()
                            ),
                        });
                    }
                }
                None
            }
            Symlinks::InsideRoot => {
                let canonical = std::fs::canonicalize(&full).ok()?;
                match canonical.strip_prefix(&self.root) {
                    Err(_) => Some(Refusal {
                        kind: Kind::OutsideRoot,
                        status: 403,
                        detail: format!(
                            "a symbolic link leads outside the root (to {}) and files.follow_symlinks is \"inside-root\"",
                            canonical.display()
                        ),
                    }),
                    Ok(inside)
                        if self.deny_dotfiles
                            && hidden_segment(&inside.to_string_lossy(), &self.exceptions()) =>
                    {
                        Some(Refusal {
                            kind: Kind::Dotfile,
                            status: 403,
                            detail: format!(
                                "a symbolic link leads to the dotfile {} and files.deny_dotfiles is on",
                                inside.display()
                            ),
                        })
                    }
                    Ok(_) => None,
                }
            }
        }
    }

    /// `rel` spelled as it is on disk, when it differs only in letter case.
    fn case_insensitive_match(&mut self, rel: &str) -> Option<String> {
        let mut dir = self.root.clone();
        let mut actual: Vec<String> = Vec::new();
        for segment in rel.split('/').filter(|s| !s.is_empty()) {
            let names = self.listing(&dir);
            let found = if names.iter().any(|n| n == segment) {
                segment.to_owned()
            } else {
                let lower = segment.to_lowercase();
                names.iter().find(|n| n.to_lowercase() == lower)?.clone()
            };
            dir.push(&found);
            actual.push(found);
        }
        let actual = actual.join("/");
        (actual != rel).then_some(actual)
    }

    fn listing(&mut self, dir: &Path) -> &[String] {
        self.listings.entry(dir.to_path_buf()).or_insert_with(|| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        })
    }
}

/// What a served file is to a link checker, by its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Html,
    Css,
    Other,
}

impl ContentKind {
    /// By the Content-Type the server sends for the served path (the core's table).
    fn of(served: &str) -> Self {
        let media_type = staticd_core::mime::mime_for_path(served)
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        match media_type {
            "text/html" => ContentKind::Html,
            "text/css" => ContentKind::Css,
            _ => ContentKind::Other,
        }
    }
}

fn text_of(version: &FileVersion) -> String {
    match &version.body {
        Body::Memory(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Body::Disk(file) => {
            let mut bytes = vec![0; usize::try_from(version.len).unwrap_or(0)];
            match file.read_exact_at(&mut bytes, 0) {
                Ok(()) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => String::new(),
            }
        }
    }
}

/// What a path segment must percent-encode to stay one segment of an origin-form target
/// (RFC 3986 §3.3: pchar), and `%` itself.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// What a browser's navigation asks for (HTML §7.4.2.2 sets it for a document request).
const NAVIGATION: Option<&str> = Some("text/html,application/xhtml+xml,*/*;q=0.8");

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn bad_target(e: PathError) -> Answer {
    Answer::Refused(Refusal {
        kind: Kind::BadTarget,
        status: e.status().as_u16(),
        detail: format!("the server refuses the request-target: {e}"),
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        for line in self.errors.lines() {
            eprintln!("staticd check: {line}");
        }
    }
}
