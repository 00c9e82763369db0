//! A reference as a browser resolves it: the WHATWG URL parser (the `url` crate) joins it to the
//! page's base URL, which strips surrounding whitespace, turns `\` into `/`, percent-encodes
//! spaces and non-ASCII, and removes dot-segments. The resolved path is then the request-target a
//! browser would send to staticd.
//!
//! Pages are given URLs on an origin of their own, `http://site.staticd.invalid/` (`.invalid` is
//! reserved, RFC 2606 §2), so anything resolving to another scheme, host or port is external.

use url::Url;

/// The origin pages are placed on while checking.
pub const SITE_ORIGIN: &str = "http://site.staticd.invalid/";

/// Where a reference leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Another scheme, host or port: listed, never fetched.
    External(String),
    /// A URL that fetches nothing (`data:`, `javascript:`, `about:`, `blob:`), or one that does
    /// not parse. Not checked.
    Inline,
    /// A path on this site.
    Local {
        /// The request-target a browser sends: the URL's path, percent-encoded.
        path: String,
        /// The fragment as written in the URL (percent-encoded), without `#`.
        fragment: Option<String>,
        /// Some `..` rose above the site's root; a browser drops it (the path is where it lands).
        above_root: bool,
    },
}

/// The URL of the page or stylesheet at `rel` (relative to the root, decoded, `/`-separated).
pub fn url_of(rel: &str) -> Url {
    let mut url = site_root();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.clear().extend(rel.split('/'));
    }
    url
}

fn site_root() -> Url {
    // reason: a constant that parses.
    #[allow(clippy::expect_used)]
    Url::parse(SITE_ORIGIN).expect("the site origin is a valid URL")
}

/// The base URL of a page at `page_url` with an optional `<base href>` (HTML §2.4.1).
pub fn base_url(page_url: &Url, base_href: Option<&str>) -> Url {
    base_href
        .and_then(|href| page_url.join(href).ok())
        .unwrap_or_else(|| page_url.clone())
}

/// Resolves `reference` against `base`.
pub fn resolve(base: &Url, reference: &str) -> Target {
    let Ok(url) = base.join(reference) else {
        return Target::Inline;
    };
    if matches!(url.scheme(), "data" | "javascript" | "about" | "blob") {
        return Target::Inline;
    }
    if url.origin() != base_origin() {
        return Target::External(url.into());
    }
    Target::Local {
        path: url.path().to_owned(),
        fragment: url.fragment().map(str::to_owned),
        above_root: rises_above_root(base, reference),
    }
}

fn base_origin() -> url::Origin {
    site_root().origin()
}

/// True when a path-relative or path-absolute `reference` has more `..` segments than the
/// directories above it: a browser stops at the root (WHATWG URL, "shorten a URL's path") and
/// fetches something else than the author meant; on a disk, or under a sub-path, it breaks.
fn rises_above_root(base: &Url, reference: &str) -> bool {
    // The URL parser's own trimming (leading and trailing C0 controls and spaces; tabs and
    // newlines anywhere).
    let trimmed: String = reference
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let path_end = trimmed.find(['?', '#']).unwrap_or(trimmed.len());
    let path = trimmed[..path_end].replace('\\', "/");
    if path.starts_with("//") || has_scheme(&path) {
        return false;
    }
    let mut depth = if path.starts_with('/') {
        0usize
    } else {
        // The base's directories: its path segments but the last.
        base.path_segments()
            .map_or(0, |s| s.count().saturating_sub(1))
    };
    let mut segments = path
        .strip_prefix('/')
        .unwrap_or(&path)
        .split('/')
        .peekable();
    while let Some(segment) = segments.next() {
        let lower = segment.to_ascii_lowercase();
        match lower.as_str() {
            ".." | ".%2e" | "%2e." | "%2e%2e" => {
                if depth == 0 {
                    return true;
                }
                depth -= 1;
            }
            "." | "%2e" => {}
            _ if segments.peek().is_some() => depth += 1,
            _ => {}
        }
    }
    false
}

/// A scheme is letters, digits, `+`, `-`, `.` after a letter, then `:` (WHATWG URL, scheme state).
fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = &reference[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The fragment percent-decoded as UTF-8, for matching ids (HTML §7.4.6.4, "find a potential
/// indicated element" is tried with the fragment as is and then decoded).
pub fn decoded_fragment(fragment: &str) -> String {
    percent_encoding::percent_decode_str(fragment)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(base_rel: &str, reference: &str) -> (String, Option<String>, bool) {
        match resolve(&url_of(base_rel), reference) {
            Target::Local {
                path,
                fragment,
                above_root,
            } => (path, fragment, above_root),
            other => panic!("{reference}: {other:?}"),
        }
    }

    #[test]
    fn relative_root_relative_and_dot_segments() {
        assert_eq!(local("a/b.html", "c.html").0, "/a/c.html");
        assert_eq!(
            local("a/b.html", "../c.html"),
            ("/c.html".into(), None, false)
        );
        assert_eq!(local("a/b.html", "/x/./y/../z.css").0, "/x/z.css");
        assert_eq!(local("a/b.html", "./").0, "/a/");
        assert_eq!(local("a/b.html", "").0, "/a/b.html");
        assert_eq!(local("a/b.html", "?q=1").0, "/a/b.html");
        assert_eq!(
            local("a/b.html", "#top"),
            ("/a/b.html".into(), Some("top".into()), false)
        );
        assert_eq!(local("a/b.html", " c d.html\n").0, "/a/c%20d.html");
        assert_eq!(local("a/b.html", "caf\u{e9}.html").0, "/a/caf%C3%A9.html");
        assert_eq!(local("a/b.html", "x\\y.png").0, "/a/x/y.png");
        assert_eq!(local("a b/c.html", "d.html").0, "/a%20b/d.html");
        assert_eq!(local("index.html", "http://site.staticd.invalid/x").0, "/x");
    }

    #[test]
    fn climbing_above_the_root_is_noticed() {
        assert_eq!(
            local("index.html", "../x.html"),
            ("/x.html".into(), None, true)
        );
        assert!(local("a/b.html", "../../x.html").2);
        assert!(local("a/b.html", "/../x.html").2);
        assert!(local("a/b.html", "%2e%2e/%2E%2E/x.html").2);
        assert!(!local("a/b.html", "../x.html").2);
        assert!(!local("a/b/c.html", "../../x.html").2);
        assert!(!local("a/b.html", "x/../../y.html").2);
        assert!(local("a/b.html", "x/../../../y.html").2);
        assert!(!local("a/b.html", "../?../../..").2);
    }

    #[test]
    fn external_and_inline() {
        let base = url_of("index.html");
        assert_eq!(
            resolve(&base, "https://example.com/a"),
            Target::External("https://example.com/a".into())
        );
        assert_eq!(
            resolve(&base, "//cdn.example.com/x.js"),
            Target::External("http://cdn.example.com/x.js".into())
        );
        assert_eq!(
            resolve(&base, "mailto:a@example.com"),
            Target::External("mailto:a@example.com".into())
        );
        assert_eq!(resolve(&base, "data:image/png;base64,AAAA"), Target::Inline);
        assert_eq!(resolve(&base, "javascript:void(0)"), Target::Inline);
        assert_eq!(resolve(&base, "http://[bad"), Target::Inline);
    }

    #[test]
    fn any_reference_resolves_without_panic() {
        const PIECES: &[&str] = &[
            "..", ".", "/", "%2e", "%2E", "%", "?", "#", "\\", "http:", "//", "a", " ", "\t", "\n",
            "é", ":", "@", "[", "mailto:", "%zz", "%2f",
        ];
        let base = url_of("a/b/c.html");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5000 {
            let mut reference = String::new();
            for _ in 0..next() % 12 {
                reference.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            if let Target::Local { path, .. } = resolve(&base, &reference) {
                assert!(path.starts_with('/'), "{reference:?} -> {path}");
            }
        }
    }

    #[test]
    fn base_href_moves_relative_references() {
        let page = url_of("blog/post.html");
        let base = base_url(&page, Some("/assets/"));
        assert_eq!(
            resolve(&base, "x.png"),
            resolve(&url_of("assets/i.html"), "x.png")
        );
        assert_eq!(base_url(&page, None), page);
        let external = base_url(&page, Some("https://cdn.example/"));
        assert!(matches!(resolve(&external, "x.png"), Target::External(_)));
        assert_eq!(decoded_fragment("caf%C3%A9%20x"), "café x");
    }
}
