//! `staticd check [--config FILE] [--format text|json] [ROOT]`: the links of a site, checked
//! against what staticd would serve, without starting a server.
//!
//! The design, in the order a check runs:
//!
//! 1. Settings come from the server's own loader (`crate::config::load`), so `--config` and
//!    `ROOT` mean what `--config` and `--root` mean to `staticd`.
//! 2. [`walk`] lists the files under the root; [`serve`] asks the server's own code what each
//!    path is answered with (the core's `resolve_target` and `hidden_segment`, then
//!    `FileCache::lookup` with its symlink policy, index files and allowed extensions). A file the
//!    server serves with a `text/html` type is a page, one with `text/css` a stylesheet, by the
//!    server's own content type, and its bytes are the ones the server would send.
//! 3. [`html`] reads each page with html5ever's tokenizer and [`css`] each stylesheet, `<style>`
//!    block and `style` attribute with cssparser's.
//! 4. [`resolve`] resolves every reference as a browser does (WHATWG URL, `<base href>` included)
//!    into the request-target a browser would send, and [`serve`] answers it as the server
//!    would; fragments are matched against the target page's `id`s and `<a name>`s.
//!    A navigation (`<a href>`, `<area href>`, `<iframe src>`, a refresh) is asked with a
//!    browser's `Accept: text/html`, so `files.fallback` answers a single-page app's route as the
//!    server does, while a missing image or script stays broken; a directory listed under
//!    `files.directory_listing` is a good target, and links to what it lists. The error pages and
//!    the fallback file are sent by the server itself, so they are never "unreferenced".
//! 5. [`report`] writes the result: exit status 0 when clean, 1 on any problem, 2 on bad usage.
//!
//! Why html5ever: a link checker is only as right as its tokenizer on the markup people really
//! write. html5ever implements the WHATWG tokenizer state machine, so malformed markup (unquoted or
//! duplicated attributes, stray `<`, unclosed comments, `<a href>` text inside a script) splits
//! exactly as in a browser, and it decodes character references in attribute values
//! (`href="caf&eacute;.html"` is `café.html`) as a browser does. lol_html tokenizes by the same
//! specification but hands out attribute values as written, entities undecoded (it is a rewriter
//! that keeps the source text); tl does not follow the specification and silently drops tags it
//! finds invalid, so references inside them would go unchecked. html5ever also reports each
//! token's line, which the report needs.

mod css;
mod html;
mod report;
mod resolve;
mod serve;
mod walk;

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use url::Url;

use crate::config::{self, Overrides, Settings};
use report::{External, Kind, Problem, Report};
use resolve::Target;
use serve::{Answer, ContentKind, Server};

/// Check a site's links against what staticd would serve, without serving it.
///
/// Walks ROOT as the server sees it (allowed extensions, dotfile rules, symlink policy, index
/// files), reads every HTML page and stylesheet, and resolves each reference as a browser would.
/// Reports broken links, references the server would refuse, directories without an index, letter
/// case mismatches and missing fragments, with file and line; lists external URLs (never fetched)
/// and files nothing links to. Exit status: 0 clean, 1 problems found, 2 bad usage or settings.
#[derive(Parser, Debug)]
#[command(name = "staticd check", version)]
struct CheckCli {
    /// Settings file (TOML), read as `staticd --config` reads it.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Directory to check, relative to the current directory, overriding `server.root`
    /// [default: the settings' root, or the current directory].
    #[arg(value_name = "ROOT")]
    root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Lines of `FILE:LINE: KIND: ...` for a person.
    Text,
    /// One JSON object for a program.
    Json,
}

/// Runs `staticd check` with the arguments after `check`.
pub fn main(args: impl Iterator<Item = OsString>) -> ExitCode {
    let cli = match CheckCli::try_parse_from(
        std::iter::once(OsString::from("staticd check")).chain(args),
    ) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let overrides = Overrides {
        root: cli.root,
        ..Overrides::default()
    };
    let settings = match config::load(cli.config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(mut e) => {
            if e.key.as_deref() == Some("--root") {
                e.key = Some("ROOT".into());
            }
            eprintln!("staticd check: {e}");
            return ExitCode::from(2);
        }
    };
    let report = check(&settings);
    let text = match cli.format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
    };
    // A closed pipe (`staticd check | head`) is the reader's choice, not an error to report.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A page or stylesheet read, with the references it holds and the URL they resolve against.
struct Document {
    rel: String,
    base: Url,
    refs: Vec<html::HtmlRef>,
}

/// Checks the root of `settings`.
fn check(settings: &Settings) -> Report {
    let files_config = &settings.config.files;
    let exceptions: Vec<&str> = files_config
        .dotfile_exceptions
        .iter()
        .map(|s| s.as_str())
        .collect();
    let mut checker = Checker {
        server: Server::new(settings),
        anchors: HashMap::new(),
        reached: HashSet::new(),
        listed: HashSet::new(),
        report: Report {
            root: settings.root.display().to_string(),
            ..Report::default()
        },
    };
    let served = walk::served_files(&mut checker.server, files_config.deny_dotfiles, &exceptions);
    checker.report.counts.files = served.len();
    // Every page is read before any reference is followed, so fragments find their targets.
    let documents: Vec<Document> = served
        .iter()
        .filter_map(|file| checker.read(&file.rel, file.kind))
        .collect();
    for doc in &documents {
        for reference in &doc.refs {
            checker.follow(doc, reference);
        }
    }
    checker.finish(&served)
}

/// What a check has learned so far.
struct Checker {
    server: Server,
    /// The `id`s and `<a name>`s of each page read, by its path.
    anchors: HashMap<String, HashSet<String>>,
    /// Served files some other document's reference reaches.
    reached: HashSet<String>,
    /// Directories whose listing a reference reaches (their entries are linked from it).
    listed: HashSet<String>,
    report: Report,
}

impl Checker {
    /// Reads a served page or stylesheet; other files hold no references.
    fn read(&mut self, rel: &str, kind: ContentKind) -> Option<Document> {
        let url = resolve::url_of(rel);
        match kind {
            ContentKind::Html => {
                self.report.counts.pages += 1;
                let page = html::parse(&self.server.text(rel));
                let base =
                    resolve::base_url(&url, page.base.as_ref().map(|(href, _)| href.as_str()));
                self.anchors.insert(rel.to_owned(), page.anchors);
                Some(Document {
                    rel: rel.to_owned(),
                    base,
                    refs: page.refs,
                })
            }
            ContentKind::Css => {
                self.report.counts.stylesheets += 1;
                let refs = css::references(&self.server.text(rel), 1)
                    .into_iter()
                    .map(|r| html::HtmlRef {
                        line: r.line,
                        source: r.source.to_owned(),
                        url: r.url,
                    })
                    .collect();
                Some(Document {
                    rel: rel.to_owned(),
                    base: url,
                    refs,
                })
            }
            ContentKind::Other => None,
        }
    }

    /// Resolves one reference as a browser would and asks the server for it.
    fn follow(&mut self, doc: &Document, reference: &html::HtmlRef) {
        self.report.counts.references += 1;
        let (path, fragment, above_root) = match resolve::resolve(&doc.base, &reference.url) {
            Target::External(url) => {
                self.report.external.push(External {
                    file: doc.rel.clone(),
                    line: reference.line,
                    url,
                });
                return;
            }
            Target::Inline => return,
            Target::Local {
                path,
                fragment,
                above_root,
            } => (path, fragment, above_root),
        };
        let problem = |kind: Kind, status: u16, message: String| Problem {
            kind,
            file: doc.rel.clone(),
            line: reference.line,
            source: reference.source.clone(),
            reference: reference.url.clone(),
            target: path.clone(),
            status,
            message,
        };
        let answer = if is_navigation(&reference.source) {
            self.server.navigate(&path)
        } else {
            self.server.get(&path)
        };
        if let Answer::File { served, .. } | Answer::Fallback { served } = &answer
            && *served != doc.rel
        {
            // A link from a page to itself does not make it linked.
            self.reached.insert(served.clone());
        }
        if above_root {
            let climb = "its '..' segments climb above the site's root; a browser stops at the root, a disk or a sub-path does not";
            self.report.problems.push(match &answer {
                Answer::File { .. } | Answer::Listing { .. } | Answer::Fallback { .. } => {
                    problem(Kind::AboveRoot, 200, climb.into())
                }
                Answer::Refused(refusal) => problem(
                    Kind::AboveRoot,
                    refusal.status,
                    format!("{climb}; where it lands: {}", refusal.detail),
                ),
            });
            return;
        }
        match answer {
            // A listing has no ids; a fallback route's content is drawn by the app's script.
            Answer::Listing { dir } => {
                self.listed.insert(dir);
            }
            Answer::Fallback { .. } => {}
            Answer::Refused(refusal) => {
                let found = problem(refusal.kind, refusal.status, refusal.detail);
                self.report.problems.push(found);
            }
            Answer::File { served, kind } => {
                let Some(fragment) = fragment else { return };
                if !fragment_checked(&fragment) || kind != ContentKind::Html {
                    return;
                }
                if !self.anchors.contains_key(&served) {
                    // A page reached by another name (a link inside the root) than the walk's.
                    let anchors = html::parse(&self.server.text(&served)).anchors;
                    self.anchors.insert(served.clone(), anchors);
                }
                let decoded = resolve::decoded_fragment(&fragment);
                let found = self
                    .anchors
                    .get(&served)
                    .is_some_and(|ids| ids.contains(&fragment) || ids.contains(&decoded));
                if !found {
                    let message = format!("{served} has no id or <a name> \"{decoded}\"");
                    self.report
                        .problems
                        .push(problem(Kind::Fragment, 200, message));
                }
            }
        }
    }

    /// The report, with the files nothing reached and the problems in file and line order.
    fn finish(mut self, served: &[walk::ServedFile]) -> Report {
        // What a client asks for without a link: the home page, and the well-known names.
        match self.server.get("/") {
            Answer::File { served, .. } => {
                self.reached.insert(served);
            }
            Answer::Listing { dir } => {
                self.listed.insert(dir);
            }
            Answer::Fallback { .. } | Answer::Refused(_) => {}
        }
        // The server itself sends these: the error pages and the fallback.
        let files = &self.server.config().files;
        let named: Vec<String> = files
            .error_pages
            .iter()
            .map(|(_, path)| path.clone())
            .chain(files.fallback.clone())
            .collect();
        self.reached.extend(named);
        self.reach_listed(served);
        let mut report = self.report;
        report.unreferenced = served
            .iter()
            .map(|f| f.rel.clone())
            .filter(|rel| !self.reached.contains(rel) && !is_entry_point(rel))
            .collect();
        report
            .problems
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        report.counts.problems = report.problems.len();
        report
    }
}

/// Whether a reference written as `source` (`<a href>`) is followed as a navigation, with
/// `Accept: text/html`, rather than fetched as a subresource.
fn is_navigation(source: &str) -> bool {
    matches!(
        source,
        "<a href>" | "<area href>" | "<iframe src>" | "<frame src>" | "<meta content>"
    )
}

impl Checker {
    /// Marks what the reached listings link to: the files in each listed directory, and each
    /// subdirectory's index page or, in turn, its listing.
    fn reach_listed(&mut self, served: &[walk::ServedFile]) {
        let mut todo: Vec<String> = self.listed.iter().cloned().collect();
        let mut seen: HashSet<String> = todo.iter().cloned().collect();
        while let Some(dir) = todo.pop() {
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            let mut subdirs = HashSet::new();
            for file in served {
                let Some(rest) = file.rel.strip_prefix(&prefix) else {
                    continue;
                };
                match rest.split_once('/') {
                    None => {
                        self.reached.insert(file.rel.clone());
                    }
                    Some((sub, _)) => {
                        subdirs.insert(format!("{prefix}{sub}"));
                    }
                }
            }
            for sub in subdirs {
                match self.server.get_dir(&sub) {
                    Answer::File { served, .. } => {
                        self.reached.insert(served);
                    }
                    Answer::Listing { dir } => {
                        if seen.insert(dir.clone()) {
                            todo.push(dir);
                        }
                    }
                    Answer::Fallback { .. } | Answer::Refused(_) => {}
                }
            }
        }
    }
}

/// Files clients ask for by name, with no link: browsers (`favicon.ico`), crawlers
/// (`robots.txt`, `sitemap.xml`) and RFC 8615's `.well-known/`.
fn is_entry_point(rel: &str) -> bool {
    matches!(rel, "favicon.ico" | "robots.txt" | "sitemap.xml") || rel.starts_with(".well-known/")
}

/// Which fragments name an element: not the empty one, not `top` (HTML §7.4.6.4 scrolls to the
/// top for both), not a text directive (`:~:text=`).
fn fragment_checked(fragment: &str) -> bool {
    !fragment.is_empty() && !fragment.eq_ignore_ascii_case("top") && !fragment.starts_with(":~:")
}
