//! Glob patterns for `[[rules]]`, matched against the path relative to the root (`assets/app.css`).
//!
//! - `?` matches one character other than `/`; `*` matches any run of characters within one segment.
//! - `**` as a whole segment matches any number of segments, none included: `assets/**` matches
//!   everything under `assets/`, `**/*.map` every `.map` file at any depth. Elsewhere `**` is `*`.
//! - A pattern without `/` matches the file name at any depth, as in `.gitignore`: `*.html` matches
//!   `index.html` and `docs/guide.html`. A leading `/` anchors it to the root instead (`/*.html`).
//! - A trailing `/` matches everything under that directory: `assets/` is `assets/**`.
//!
//! No allocation and no recursion: both levels use the greedy algorithm with one backtrack point,
//! O(pattern × path) at worst, so a hostile path cannot make matching explode.

/// True when `path` (relative, `/`-separated) matches `pattern`; see the module docs for the syntax.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    // Bytes, not chars: the str iterators and searchers cost a device over 1 KiB of code. Both are
    // UTF-8 and a pattern character matches only at a character boundary, so the result is the
    // same; `?` and a `*` that absorbs input step over whole characters (see `skip_char`).
    let pattern = pattern.as_bytes();
    let path = path.as_bytes();
    let (pattern, anchored) = match pattern.strip_prefix(b"/") {
        Some(rest) => (rest, true),
        None => (pattern, false),
    };
    let (pattern, open_tail) = match pattern.strip_suffix(b"/") {
        Some(rest) => (rest, true),
        None => (pattern, false),
    };
    if !anchored && !open_tail && !pattern.contains(&b'/') {
        let name = match path.iter().rposition(|&b| b == b'/') {
            Some(slash) => path.get(slash + 1..).unwrap_or_default(),
            None => path,
        };
        return segment_match(pattern, name);
    }
    segments_match(Some(pattern), Some(path), open_tail)
}

/// The first `/`-separated segment of `s` and what follows the `/` (`None` after the last one).
fn split_segment(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&b| b == b'/') {
        Some(slash) => (s.get(..slash).unwrap_or_default(), s.get(slash + 1..)),
        None => (s, None),
    }
}

/// `s` after its first character (a lead byte and its UTF-8 continuation bytes); `None` if empty.
fn skip_char(s: &[u8]) -> Option<&[u8]> {
    let (_, rest) = s.split_first()?;
    let continuation = rest.iter().take_while(|&&b| b & 0xc0 == 0x80).count();
    rest.get(continuation..)
}

/// The segments not yet matched; `None` is the end of the list (`Some(b"")` is one empty segment).
type Segments<'a> = Option<&'a [u8]>;

/// Segment-level matching, `**` being the star.
fn segments_match<'a>(mut pat: Segments<'a>, mut path: Segments<'a>, open_tail: bool) -> bool {
    // (pattern after the last `**`, path position that `**` will absorb one more segment from)
    let mut backtrack: Option<(Segments<'a>, Segments<'a>)> = None;
    loop {
        let matched = match pat {
            Some(p) => {
                let (segment, rest) = split_segment(p);
                pat = rest;
                if segment == b"**" {
                    backtrack = Some((rest, path));
                    continue;
                }
                match path {
                    Some(s) => {
                        let (name, rest) = split_segment(s);
                        path = rest;
                        segment_match(segment, name)
                    }
                    None => false,
                }
            }
            // A trailing `/` pattern needs at least one segment below the directory.
            None if path.is_some() == open_tail => return true,
            None => false,
        };
        if matched {
            continue;
        }
        let Some((after_star, absorbed)) = &mut backtrack else {
            return false;
        };
        let Some(s) = *absorbed else {
            return false;
        };
        *absorbed = split_segment(s).1;
        pat = *after_star;
        path = *absorbed;
    }
}

/// Character-level matching within one segment, `*` being the star.
fn segment_match(mut pat: &[u8], mut seg: &[u8]) -> bool {
    // (pattern after the last `*`, segment position that `*` will absorb one more character from)
    let mut backtrack: Option<(&[u8], &[u8])> = None;
    loop {
        let rest = match pat.split_first() {
            Some((b'*', after)) => {
                backtrack = Some((after, seg));
                pat = after;
                continue;
            }
            Some((b'?', after)) => skip_char(seg).map(|rest| (after, rest)),
            Some((c, after)) => match seg.split_first() {
                Some((s, rest)) if s == c => Some((after, rest)),
                _ => None,
            },
            None if seg.is_empty() => return true,
            None => None,
        };
        if let Some((p, s)) = rest {
            (pat, seg) = (p, s);
            continue;
        }
        let Some((after_star, absorbed)) = &mut backtrack else {
            return false;
        };
        let Some(rest) = skip_char(absorbed) else {
            return false;
        };
        *absorbed = rest;
        (pat, seg) = (*after_star, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yes(pattern: &str, path: &str) {
        assert!(
            glob_match(pattern, path),
            "{pattern:?} should match {path:?}"
        );
    }

    fn no(pattern: &str, path: &str) {
        assert!(
            !glob_match(pattern, path),
            "{pattern:?} should not match {path:?}"
        );
    }

    #[test]
    fn literal() {
        yes("index.html", "index.html");
        no("index.html", "index.htm");
        no("index.htm", "index.html");
        yes("a/b.css", "a/b.css");
        no("a/b.css", "x/a/b.css");
        no("a/b.css", "a/b.css/c");
    }

    #[test]
    fn star_within_a_segment() {
        yes("*.html", "index.html");
        yes("*.html", ".html");
        no("*.html", "index.htm");
        no("*.html", "index.html.gz");
        yes("a*b*c", "abc");
        yes("a*b*c", "aXXbYYc");
        no("a*b*c", "aXXbYY");
        yes("*", "anything");
        yes("assets/*", "assets/app.css");
        no("assets/*", "assets/img/logo.png");
        no("assets/*", "other/app.css");
        yes("a/*/c", "a/b/c");
        no("a/*/c", "a/b/b/c");
        yes("a/*/c", "a//c"); // `*` may be empty
    }

    #[test]
    fn question_mark() {
        yes("?.js", "a.js");
        no("?.js", "ab.js");
        no("?.js", ".js");
        yes("img/??.png", "img/ab.png");
        no("a?b", "a/b");
        yes("caf?.txt", "caf\u{e9}.txt"); // one character, two bytes
    }

    #[test]
    fn double_star() {
        yes("assets/**", "assets/app.css");
        yes("assets/**", "assets/img/deep/logo.png");
        no("assets/**", "other/app.css");
        yes("**/*.map", "app.js.map");
        yes("**/*.map", "a/b/c/app.js.map");
        no("**/*.map", "a/b/app.js");
        yes("a/**/z", "a/z");
        yes("a/**/z", "a/b/z");
        yes("a/**/z", "a/b/c/d/z");
        no("a/**/z", "a/b/c/d/y");
        yes("**", "x");
        yes("**", "x/y/z");
        yes("a/**/b/**/c", "a/x/b/y/z/c");
        no("a/**/b/**/c", "a/x/c/y/b");
        // Not a whole segment: the same as `*`.
        yes("/a**b", "aXXb");
        no("/a**b", "aX/Xb");
    }

    #[test]
    fn basename_and_anchoring() {
        yes("*.html", "docs/guide.html");
        yes("*.html", "a/b/c/index.html");
        no("/*.html", "docs/guide.html");
        yes("/*.html", "index.html");
        yes("robots.txt", "sub/robots.txt");
        no("/robots.txt", "sub/robots.txt");
        yes("/assets/**", "assets/a.css");
    }

    #[test]
    fn trailing_slash_means_everything_below() {
        yes("assets/", "assets/a.css");
        yes("assets/", "assets/img/a.png");
        no("assets/", "assets");
        no("assets/", "assetsX/a.css");
    }

    #[test]
    fn empty_pattern_and_path() {
        yes("", "");
        no("", "a");
        no("a", "");
        yes("*", "");
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let path: std::string::String = "a".repeat(200);
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        no(pattern, &path);
        let deep: std::string::String = std::iter::repeat_n("a", 100)
            .collect::<std::vec::Vec<_>>()
            .join("/");
        no("**/a/**/a/**/a/**/a/**/b", &deep);
        yes("**/a/**/a/**/a/**/a/**/a", &deep);
    }
    /// The char-iterator implementation this byte matcher replaced, as the oracle.
    mod reference {
        use core::str::{Chars, Split};

        /// True when `path` (relative, `/`-separated) matches `pattern`; see the module docs for the syntax.
        pub(super) fn glob_match(pattern: &str, path: &str) -> bool {
            let (pattern, anchored) = match pattern.strip_prefix('/') {
                Some(rest) => (rest, true),
                None => (pattern, false),
            };
            let (pattern, open_tail) = match pattern.strip_suffix('/') {
                Some(rest) => (rest, true),
                None => (pattern, false),
            };
            if !anchored && !open_tail && !pattern.contains('/') {
                let name = path.rsplit('/').next().unwrap_or(path);
                return segment_match(pattern, name);
            }
            segments_match(pattern.split('/'), path.split('/'), open_tail)
        }

        /// Segment-level matching, `**` being the star.
        fn segments_match<'a>(
            mut pat: Split<'a, char>,
            mut path: Split<'a, char>,
            open_tail: bool,
        ) -> bool {
            // (pattern after the last `**`, path position that `**` will absorb one more segment from)
            let mut backtrack: Option<(Split<'a, char>, Split<'a, char>)> = None;
            loop {
                let path_here = path.clone();
                let matched = match pat.next() {
                    Some("**") => {
                        backtrack = Some((pat.clone(), path_here));
                        continue;
                    }
                    Some(p) => path.next().is_some_and(|s| segment_match(p, s)),
                    None => {
                        let rest = path.clone().next().is_some();
                        // A trailing `/` pattern needs at least one segment below the directory.
                        if rest == open_tail {
                            return true;
                        }
                        false
                    }
                };
                if matched {
                    continue;
                }
                match &mut backtrack {
                    Some((after_star, absorbed)) => {
                        if absorbed.next().is_none() {
                            return false;
                        }
                        pat = after_star.clone();
                        path = absorbed.clone();
                    }
                    None => return false,
                }
            }
        }

        /// Character-level matching within one segment, `*` being the star.
        fn segment_match(pattern: &str, segment: &str) -> bool {
            let mut pat: Chars<'_> = pattern.chars();
            let mut seg: Chars<'_> = segment.chars();
            let mut backtrack: Option<(Chars<'_>, Chars<'_>)> = None;
            loop {
                let seg_here = seg.clone();
                let matched = match pat.next() {
                    Some('*') => {
                        backtrack = Some((pat.clone(), seg_here));
                        continue;
                    }
                    Some('?') => seg.next().is_some(),
                    Some(c) => seg.next() == Some(c),
                    None => {
                        if seg.clone().next().is_none() {
                            return true;
                        }
                        false
                    }
                };
                if matched {
                    continue;
                }
                match &mut backtrack {
                    Some((after_star, absorbed)) => {
                        if absorbed.next().is_none() {
                            return false;
                        }
                        pat = after_star.clone();
                        seg = absorbed.clone();
                    }
                    None => return false,
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn agrees_with_the_char_based_matcher(
            pattern in "(/|a|b|\u{e9}|\u{1f600}|\\*|\\*\\*|\\?|\\.){0,8}",
            path in "(/|a|b|\u{e9}|\u{1f600}|\\.){0,10}",
        ) {
            proptest::prop_assert_eq!(
                glob_match(&pattern, &path),
                reference::glob_match(&pattern, &path),
                "{:?} vs {:?}", pattern, path
            );
        }
    }
}
