//! The findings of a check, as text for a person or JSON for a program.
//!
//! Text: one line per problem, `FILE:LINE: KIND: REFERENCE -> TARGET (STATUS): why`, the form
//! editors and terminals jump from; then the external URLs and the files nothing links to, each a
//! list and not an error; then one summary line. JSON: one object with the same content
//! (`problems`, `external`, `unreferenced`, `counts`).

use std::fmt::Write as _;

use serde::Serialize;

/// What is wrong with one reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Nothing at the target (404).
    Broken,
    /// Nothing at the target, but the same path in other letter case exists.
    CaseMismatch,
    /// The target is a directory without an index file (404: no listings).
    NoIndex,
    /// 403: the extension is not allowed.
    Extension,
    /// Refused as a dotfile (404, or 403 through a link).
    Dotfile,
    /// 403: a symbolic link out of the root under `"inside-root"`.
    OutsideRoot,
    /// 403: a symbolic link under `"never"`.
    Symlink,
    /// 403 for another reason (not a regular file, unreadable).
    Forbidden,
    /// 400 or 414: the request-target itself is refused.
    BadTarget,
    /// The reference climbs above the root with `..`; a browser stops at the root.
    AboveRoot,
    /// The target page has no element with that `id` (or `<a name>`).
    Fragment,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Broken => "broken",
            Kind::CaseMismatch => "case-mismatch",
            Kind::NoIndex => "no-index",
            Kind::Extension => "extension",
            Kind::Dotfile => "dotfile",
            Kind::OutsideRoot => "outside-root",
            Kind::Symlink => "symlink",
            Kind::Forbidden => "forbidden",
            Kind::BadTarget => "bad-target",
            Kind::AboveRoot => "above-root",
            Kind::Fragment => "fragment",
        }
    }
}

/// One problem, at one reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: Kind,
    /// The page or stylesheet, relative to the root.
    pub file: String,
    pub line: u32,
    /// Where the reference was written: `<a href>`, `<img srcset>`, `url()`, `@import`.
    pub source: String,
    /// The URL as written.
    pub reference: String,
    /// The request-target a browser sends for it.
    pub target: String,
    /// The status staticd answers the target with (200 for a missing fragment, and for a climb
    /// that lands on a file).
    pub status: u16,
    pub message: String,
}

/// A reference to another site: listed, never fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct External {
    pub file: String,
    pub line: u32,
    pub url: String,
}

/// Sizes of what was checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub files: usize,
    pub pages: usize,
    pub stylesheets: usize,
    pub references: usize,
    pub problems: usize,
}

/// Everything a check found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The root checked, absolute.
    pub root: String,
    pub problems: Vec<Problem>,
    pub external: Vec<External>,
    /// Served files no reference reaches (not counting the entry points: the root's index,
    /// `favicon.ico`, `robots.txt`, `sitemap.xml` and `.well-known/`).
    pub unreferenced: Vec<String>,
    pub counts: Counts,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push('\n');
        out
    }

    /// `2 broken, 1 fragment`: how many problems of each kind, in the order of [`Kind`].
    fn kinds_found(&self) -> String {
        let mut kinds: Vec<Kind> = self.problems.iter().map(|p| p.kind).collect();
        kinds.sort();
        let mut parts: Vec<String> = Vec::new();
        for group in kinds.chunk_by(|a, b| a == b) {
            if let Some(kind) = group.first() {
                parts.push(format!("{} {}", group.len(), kind.name()));
            }
        }
        parts.join(", ")
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for p in &self.problems {
            let mut line = format!(
                "{}:{}: {}: {} -> {}",
                p.file,
                p.line,
                p.kind.name(),
                written(&p.source, &p.reference),
                p.target
            );
            if p.status != 200 {
                let _ = write!(line, " ({})", p.status);
            }
            let _ = write!(line, ": {}", p.message);
            push_line(&mut out, &line);
        }
        if !self.external.is_empty() {
            out.push_str("\nExternal (listed, not fetched):\n");
            for e in &self.external {
                push_line(&mut out, &format!("  {}:{}: {}", e.file, e.line, e.url));
            }
        }
        if !self.unreferenced.is_empty() {
            out.push_str("\nNothing links to (not an error):\n");
            for rel in &self.unreferenced {
                push_line(&mut out, &format!("  {rel}"));
            }
        }
        let c = &self.counts;
        let _ = write!(
            out,
            "\n{}: {} files served, {} pages and {} stylesheets read, {} references: ",
            self.root, c.files, c.pages, c.stylesheets, c.references,
        );
        let _ = match c.problems {
            0 => writeln!(out, "no problems"),
            1 => writeln!(out, "1 problem ({})", self.kinds_found()),
            n => writeln!(out, "{n} problems ({})", self.kinds_found()),
        };
        out
    }
}

/// Appends `line` and a newline, with control characters (a newline in a file name or inside an
/// attribute value) escaped, so one finding stays one line.
fn push_line(out: &mut String, line: &str) {
    for c in line.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\n');
}

/// The reference as it was written: `<a href="x">`, `url(x)`, `@import "x"`.
fn written(source: &str, reference: &str) -> String {
    match source.strip_suffix('>') {
        Some(tag_and_attr) => format!("{tag_and_attr}=\"{reference}\">"),
        None if source == "@import" => format!("@import \"{reference}\""),
        None => format!("url({reference})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines() {
        let report = Report {
            root: "/srv/site".into(),
            problems: vec![Problem {
                kind: Kind::Broken,
                file: "a/index.html".into(),
                line: 7,
                source: "<img src>".into(),
                reference: "x.png".into(),
                target: "/a/x.png".into(),
                status: 404,
                message: "no such file".into(),
            }],
            external: vec![External {
                file: "a/index.html".into(),
                line: 9,
                url: "https://example.com/".into(),
            }],
            unreferenced: vec!["old.html".into()],
            counts: Counts {
                files: 3,
                pages: 1,
                stylesheets: 0,
                references: 2,
                problems: 1,
            },
        };
        assert_eq!(
            report.to_text(),
            "a/index.html:7: broken: <img src=\"x.png\"> -> /a/x.png (404): no such file\n\
             \nExternal (listed, not fetched):\n  a/index.html:9: https://example.com/\n\
             \nNothing links to (not an error):\n  old.html\n\
             \n/srv/site: 3 files served, 1 pages and 0 stylesheets read, 2 references: 1 problem (1 broken)\n"
        );
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["problems"][0]["kind"], "broken");
        assert_eq!(json["problems"][0]["line"], 7);
        assert_eq!(json["counts"]["problems"], 1);
        assert_eq!(written("url()", "a.png"), "url(a.png)");
        let mut out = String::new();
        push_line(&mut out, "a\nb\tc\u{7}");
        assert_eq!(out, "a\\nb\\tc\\u{7}\n");
        assert_eq!(written("@import", "a.css"), "@import \"a.css\"");
    }
}
