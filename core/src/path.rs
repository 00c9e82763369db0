//! Request-target to a safe path relative to the served root.
//!
//! [`resolve_target`] accepts origin-form (`/a/b?q`) and absolute-form (`http://host/a/b?q`, RFC 9112
//! §3.2.2) targets, drops the query, percent-decodes exactly once (RFC 3986 §2.1) into the caller's
//! buffer and resolves dot-segments (RFC 3986 §5.2.4) so the result can never name anything above
//! the root. It refuses, rather than repairs, everything a traversal attack uses:
//!
//! - bad escapes (`%2`, `%g0`, `%u002e`);
//! - encoded `/` or `\` (`%2F`, `%5C`): decoding them would move a segment boundary;
//! - a raw `\` (a separator on some file systems), NUL (raw or `%00`), other control bytes;
//! - decoded bytes that are not UTF-8, which also catches overlong forms such as `%c0%ae` (`.`);
//! - a segment made only of dots and spaces other than `.` and `..` (`...`, `.. `), which some
//!   file systems read as `..`;
//! - any `..` that would rise above the root (`/../x`, `/a/../../x`), instead of clamping it.
//!
//! `.` and `..` are recognised after decoding, so `%2e%2e` is `..`. Decoding happens once, so
//! `%252e` is the three characters `%2e`, a plain name.
//!
//! A raw byte 0x80-0xFF (a client that sends `/café` without encoding it; RFC 3986 §2.1 would have it
//! sent as `%C3%A9`) is taken as if it were percent-encoded: it decodes to itself, so `/caf\xc3\xa9`
//! and `/caf%C3%A9` resolve alike, and the same UTF-8 check refuses raw bytes that do not form UTF-8.

use crate::chars::hex_value;
use crate::status::StatusCode;

/// A resolved request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedPath<'o> {
    /// Relative, no leading `/`, segments joined by single `/`, never `.` or `..`; `""` is the root.
    pub path: &'o str,
    /// The target named a directory: it ended in `/` (or in a `.` or `..` segment, RFC 3986 §5.2.4).
    pub trailing_slash: bool,
}

/// Why a request-target was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathError {
    /// Not origin-form or `http(s)://` absolute-form, contains `#`, or a segment of only dots and
    /// spaces (other than `.` and `..`).
    BadTarget,
    /// A `%` not followed by two hex digits.
    BadPercentEncoding,
    /// `%2F` or `%5C`: an encoded `/` or `\`.
    EncodedSlash,
    /// A NUL byte, raw or `%00`.
    Nul,
    /// A raw `\`.
    Backslash,
    /// A control byte (raw or encoded) other than NUL: `%0A`, `%7F`, ...
    ControlByte,
    /// The decoded path is not UTF-8 (overlong forms included).
    InvalidUtf8,
    /// A `..` would rise above the root.
    EscapesRoot,
    /// The decoded path does not fit the caller's buffer.
    TooLong,
}

impl PathError {
    /// The response status: 414 for [`PathError::TooLong`], 400 for the rest.
    pub fn status(self) -> StatusCode {
        match self {
            PathError::TooLong => StatusCode::URI_TOO_LONG,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl core::fmt::Display for PathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PathError::BadTarget => "malformed request target",
            PathError::BadPercentEncoding => "bad percent-encoding",
            PathError::EncodedSlash => "encoded slash or backslash",
            PathError::Nul => "NUL byte in path",
            PathError::Backslash => "backslash in path",
            PathError::ControlByte => "control byte in path",
            PathError::InvalidUtf8 => "path is not UTF-8",
            PathError::EscapesRoot => "path rises above the root",
            PathError::TooLong => "path too long",
        })
    }
}

/// The path part of a target: origin-form as is, absolute-form after its authority; query dropped.
fn path_part(target: &[u8]) -> Result<&[u8], PathError> {
    let after_scheme = strip_prefix_ignore_case(target, b"http://")
        .or_else(|| strip_prefix_ignore_case(target, b"https://"));
    let path = match after_scheme {
        Some(rest) => {
            // RFC 3986 §3.2: the authority ends at the first '/', '?' or '#'.
            let end = rest
                .iter()
                .position(|&b| matches!(b, b'/' | b'?' | b'#'))
                .unwrap_or(rest.len());
            let (authority, path) = rest.split_at_checked(end).ok_or(PathError::BadTarget)?;
            if authority.is_empty() {
                return Err(PathError::BadTarget);
            }
            // RFC 9112 §3.2.2 with RFC 9110 §4.2.3: an empty path is "/".
            if path.first() == Some(&b'/') {
                path
            } else {
                b"/".as_slice()
            }
        }
        None if target.first() == Some(&b'/') => target,
        None => return Err(PathError::BadTarget),
    };
    // Plain loops instead of memchr: targets are short, and a device saves the search routines.
    let path = match path.iter().position(|&b| b == b'?') {
        Some(q) => path.get(..q).ok_or(PathError::BadTarget)?,
        None => path,
    };
    // A fragment is never part of a request-target (RFC 9112 §3.2).
    if path.contains(&b'#') {
        return Err(PathError::BadTarget);
    }
    Ok(path)
}

pub(crate) fn strip_prefix_ignore_case<'t>(s: &'t [u8], prefix: &[u8]) -> Option<&'t [u8]> {
    let (head, tail) = s.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(tail)
}

/// Appends `byte` to `out` at `*len`.
fn push(out: &mut [u8], len: &mut usize, byte: u8) -> Result<(), PathError> {
    let slot = out.get_mut(*len).ok_or(PathError::TooLong)?;
    *slot = byte;
    *len = len.checked_add(1).ok_or(PathError::TooLong)?;
    Ok(())
}

/// Decodes one raw segment (no raw `/` in it) onto the end of `out`.
fn decode_segment(raw: &[u8], out: &mut [u8], len: &mut usize) -> Result<(), PathError> {
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        let decoded = match b {
            b'%' => {
                let hi = bytes.next().copied().and_then(hex_value);
                let lo = bytes.next().copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        let d = (hi << 4) | lo;
                        if d == b'/' || d == b'\\' {
                            return Err(PathError::EncodedSlash);
                        }
                        d
                    }
                    _ => return Err(PathError::BadPercentEncoding),
                }
            }
            b'\\' => return Err(PathError::Backslash),
            // Raw 0x80-0xFF included: read as if percent-encoded, i.e. as the byte itself.
            _ => b,
        };
        match decoded {
            0 => return Err(PathError::Nul),
            1..=0x1f | 0x7f => return Err(PathError::ControlByte),
            _ => push(out, len, decoded)?,
        }
    }
    Ok(())
}

/// Resolves a request-target to a safe relative path, decoded into `out`.
///
/// `out` bounds the decoded path; a target whose path does not fit gets [`PathError::TooLong`].
/// See the module docs for what is refused and why.
pub fn resolve_target<'o>(target: &[u8], out: &'o mut [u8]) -> Result<ResolvedPath<'o>, PathError> {
    let path = path_part(target)?;
    // `path` starts with '/', so the first piece of the split is the empty string before it.
    let mut segments = path.split(|&b| b == b'/').skip(1);
    let mut len = 0usize;
    let mut trailing_slash = true;
    for raw in &mut segments {
        let separator_at = len;
        if len > 0 {
            push(out, &mut len, b'/')?;
        }
        let start = len;
        decode_segment(raw, out, &mut len)?;
        let segment = out.get(start..len).ok_or(PathError::TooLong)?;
        trailing_slash = matches!(segment, b"" | b"." | b"..");
        match segment {
            b"" | b"." => len = separator_at,
            b".." => {
                if separator_at == 0 {
                    return Err(PathError::EscapesRoot);
                }
                let kept = out.get(..separator_at).ok_or(PathError::TooLong)?;
                len = kept.iter().rposition(|&b| b == b'/').unwrap_or(0);
            }
            _ if segment.iter().all(|&b| b == b'.' || b == b' ') => {
                return Err(PathError::BadTarget);
            }
            _ => {
                // Per segment, so an invalid segment later removed by `..` is still refused.
                if core::str::from_utf8(segment).is_err() {
                    return Err(PathError::InvalidUtf8);
                }
            }
        }
    }
    let out = out.get(..len).ok_or(PathError::TooLong)?;
    let path = core::str::from_utf8(out).map_err(|_| PathError::InvalidUtf8)?;
    Ok(ResolvedPath {
        path,
        trailing_slash,
    })
}

/// True when some segment of `path` starts with `.` and is not one of `allowed` (exact match).
///
/// Used for the dotfile policy: `.git/config` and `a/.env` are hidden; with `allowed` =
/// `[".well-known"]`, `.well-known/security.txt` is not.
pub fn hidden_segment(path: &str, allowed: &[&str]) -> bool {
    path.as_bytes().split(|&b| b == b'/').any(|segment| {
        segment.first() == Some(&b'.') && !allowed.iter().any(|a| a.as_bytes() == segment)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn resolve(target: &[u8]) -> Result<(std::string::String, bool), PathError> {
        let mut buf = [0u8; 256];
        resolve_target(target, &mut buf).map(|r| (r.path.into(), r.trailing_slash))
    }

    fn ok(target: &str, path: &str, trailing: bool) {
        assert_eq!(
            resolve(target.as_bytes()),
            Ok((path.into(), trailing)),
            "{target}"
        );
    }

    fn err(target: &[u8], e: PathError) {
        assert_eq!(
            resolve(target),
            Err(e),
            "{}",
            std::string::String::from_utf8_lossy(target)
        );
    }

    #[test]
    fn plain_paths() {
        ok("/", "", true);
        ok("/index.html", "index.html", false);
        ok("/a/b/c.css", "a/b/c.css", false);
        ok("/docs/", "docs", true);
        ok("/docs", "docs", false);
        ok("/a%20b.html", "a b.html", false);
        ok("/%E2%82%AC.txt", "\u{20ac}.txt", false);
        ok("/caf%c3%a9", "caf\u{e9}", false);
        ok("/100%25.txt", "100%.txt", false);
        ok("/a+b", "a+b", false);
    }

    #[test]
    fn raw_bytes_above_ascii_read_as_percent_encoded() {
        let mut raw = [0u8; 64];
        let mut encoded = [0u8; 64];
        for (raw_target, encoded_target) in [
            (&b"/caf\xc3\xa9.html"[..], &b"/caf%C3%A9.html"[..]),
            (b"/\xe2\x82\xac/a\xc3\xa9b/", b"/%E2%82%AC/a%c3%a9b/"),
            (b"/d\xc3\xa9j\xc3%A0", b"/d%C3%A9j%C3%A0"),
            (b"http://h/\xf0\x9f\x98\x80?\xff", b"http://h/%F0%9F%98%80"),
        ] {
            assert_eq!(
                resolve_target(raw_target, &mut raw),
                resolve_target(encoded_target, &mut encoded),
                "{raw_target:?}"
            );
        }
        ok("/caf\u{e9}.html", "caf\u{e9}.html", false);
        // Raw bytes that are not UTF-8 are refused as their encoded forms are.
        err(b"/\xff", PathError::InvalidUtf8);
        err(b"/caf\xc3", PathError::InvalidUtf8);
        err(b"/\xc0\xae\xc0\xae/etc", PathError::InvalidUtf8);
        err(b"/\xed\xa0\x80", PathError::InvalidUtf8);
        // Raw control bytes stay refused next to them.
        err(b"/caf\xc3\xa9\x01", PathError::ControlByte);
        err(b"/caf\xc3\xa9\x7f", PathError::ControlByte);
        err(b"/\xc3\xa9\0", PathError::Nul);
    }

    #[test]
    fn query_is_dropped() {
        ok("/?", "", true);
        ok("/a.html?x=1", "a.html", false);
        ok("/a.html?x=/../../etc", "a.html", false);
        ok("/dir/?q", "dir", true);
        ok("/a%3Fb", "a?b", false);
    }

    #[test]
    fn absolute_form() {
        ok("http://example.com/a/b", "a/b", false);
        ok("https://example.com:8443/a/", "a", true);
        ok("HTTP://Example.COM/x", "x", false);
        ok("http://example.com", "", true);
        ok("http://example.com?q=1", "", true);
        ok("http://user@example.com/p?q", "p", false);
        err(b"http:///a", PathError::BadTarget);
        err(b"ftp://example.com/a", PathError::BadTarget);
        err(b"http:/a", PathError::BadTarget);
    }

    #[test]
    fn other_forms_are_bad_targets() {
        err(b"", PathError::BadTarget);
        err(b"*", PathError::BadTarget);
        err(b"example.com:443", PathError::BadTarget);
        err(b"a/b", PathError::BadTarget);
        err(b"/a#frag", PathError::BadTarget);
    }

    #[test]
    fn dot_segments() {
        ok("/a/./b", "a/b", false);
        ok("/./a", "a", false);
        ok("/a/.", "a", true);
        ok("/a/b/..", "a", true);
        ok("/a/b/../c", "a/c", false);
        ok("/a/..", "", true);
        ok("/a/../", "", true);
        ok("/a/b/../../c/./d/../e", "c/e", false);
        ok("/a/%2e/b", "a/b", false);
        ok("/a/b/%2e%2e/c", "a/c", false);
        ok("/.", "", true);
        ok("/.well-known/x", ".well-known/x", false);
        ok("/a/.b", "a/.b", false);
        ok("/a..b", "a..b", false);
        ok("/..a", "..a", false);
    }

    #[test]
    fn slashes_collapse() {
        ok("//", "", true);
        ok("//a//b//", "a/b", true);
        ok("///a", "a", false);
        ok("//etc/passwd", "etc/passwd", false);
    }

    #[test]
    fn encoding_errors() {
        err(b"/%", PathError::BadPercentEncoding);
        err(b"/%2", PathError::BadPercentEncoding);
        err(b"/%zz", PathError::BadPercentEncoding);
        err(b"/%%41", PathError::BadPercentEncoding);
        err(b"/a%2Fb", PathError::EncodedSlash);
        err(b"/a%2fb", PathError::EncodedSlash);
        err(b"/a%5Cb", PathError::EncodedSlash);
        err(b"/a%5cb", PathError::EncodedSlash);
        err(b"/a\\b", PathError::Backslash);
        err(b"/a\0b", PathError::Nul);
        err(b"/a%00b", PathError::Nul);
        err(b"/a%0ab", PathError::ControlByte);
        err(b"/a%0Db", PathError::ControlByte);
        err(b"/a%7fb", PathError::ControlByte);
        err(b"/a\x01", PathError::ControlByte);
        err(b"/a\tb", PathError::ControlByte);
        err(b"/%ff", PathError::InvalidUtf8);
        err(b"/\xff", PathError::InvalidUtf8);
        err(b"/%c3", PathError::InvalidUtf8);
        err(b"/%ed%a0%80", PathError::InvalidUtf8); // a UTF-16 surrogate
    }

    #[test]
    fn length_limit() {
        let mut buf = [0u8; 8];
        assert_eq!(
            resolve_target(b"/abcdefgh", &mut buf).map(|r| r.path),
            Ok("abcdefgh")
        );
        assert_eq!(
            resolve_target(b"/abcdefghi", &mut buf),
            Err(PathError::TooLong)
        );
        assert_eq!(
            resolve_target(b"/abcd/efgh", &mut buf),
            Err(PathError::TooLong)
        );
        // The decoded length counts, not the raw one.
        assert_eq!(
            resolve_target(b"/%61%62%63%64%65%66%67%68", &mut buf).map(|r| r.path),
            Ok("abcdefgh")
        );
        assert_eq!(resolve_target(b"/", &mut []).map(|r| r.path), Ok(""));
        assert_eq!(PathError::TooLong.status(), StatusCode::URI_TOO_LONG);
        assert_eq!(PathError::EscapesRoot.status(), StatusCode::BAD_REQUEST);
    }

    /// Traversal spellings (issue 5 asks for at least 50): none may resolve outside the root.
    const TRAVERSALS: &[(&[u8], PathError)] = &[
        (b"/../etc/passwd", PathError::EscapesRoot),
        (b"/..", PathError::EscapesRoot),
        (b"/../", PathError::EscapesRoot),
        (b"/a/../..", PathError::EscapesRoot),
        (b"/a/../../etc/passwd", PathError::EscapesRoot),
        (b"/a/b/../../../etc/passwd", PathError::EscapesRoot),
        (b"/a/b/c/../../../../etc", PathError::EscapesRoot),
        (b"/./../etc", PathError::EscapesRoot),
        (b"/a/./../../etc", PathError::EscapesRoot),
        (b"//../etc", PathError::EscapesRoot),
        (b"///..//..//etc", PathError::EscapesRoot),
        (b"/%2e%2e/etc/passwd", PathError::EscapesRoot),
        (b"/%2E%2E/etc/passwd", PathError::EscapesRoot),
        (b"/%2e%2E/", PathError::EscapesRoot),
        (b"/%2e%2e", PathError::EscapesRoot),
        (b"/.%2e/etc", PathError::EscapesRoot),
        (b"/%2e./etc", PathError::EscapesRoot),
        (b"/.%2E", PathError::EscapesRoot),
        (b"/a/%2e%2e/%2e%2e/etc", PathError::EscapesRoot),
        (b"/a/.%2e/.%2e", PathError::EscapesRoot),
        (b"http://host/../etc/passwd", PathError::EscapesRoot),
        (b"https://host/%2e%2e/etc", PathError::EscapesRoot),
        (b"HTTP://host/../etc", PathError::EscapesRoot),
        (b"http://host/a/../../etc", PathError::EscapesRoot),
        (b"http://host:80/../../etc", PathError::EscapesRoot),
        (b"http://../../etc", PathError::EscapesRoot),
        (b"/..%2fetc/passwd", PathError::EncodedSlash),
        (b"/..%2Fetc", PathError::EncodedSlash),
        (b"/%2e%2e%2f%2e%2e%2fetc", PathError::EncodedSlash),
        (b"/a%2f..%2f..%2fetc", PathError::EncodedSlash),
        (b"/a/..%2f..", PathError::EncodedSlash),
        (b"http://host/..%2f", PathError::EncodedSlash),
        (b"/..%5cetc", PathError::EncodedSlash),
        (b"/..%5C..%5Cetc", PathError::EncodedSlash),
        (b"/%2e%2e%5c%2e%2e%5cetc", PathError::EncodedSlash),
        (b"/%5c..%5c..", PathError::EncodedSlash),
        (b"/..\\etc", PathError::Backslash),
        (b"/..\\..\\windows\\win.ini", PathError::Backslash),
        (b"/a\\..\\..\\etc", PathError::Backslash),
        (b"/%c0%ae%c0%ae/etc", PathError::InvalidUtf8),
        (b"/%C0%AE%C0%AE/", PathError::InvalidUtf8),
        (b"/%c0%af", PathError::InvalidUtf8),
        (b"/..%c0%af../etc", PathError::InvalidUtf8),
        (b"/%e0%80%ae%e0%80%ae/etc", PathError::InvalidUtf8),
        (b"/%f0%80%80%ae%f0%80%80%ae/", PathError::InvalidUtf8),
        (b"/..%c1%9c../etc", PathError::InvalidUtf8),
        (b"/..%ff/etc", PathError::InvalidUtf8),
        (b"/%c0%ae%c0%ae/../x", PathError::InvalidUtf8),
        (b"/..%00/etc", PathError::Nul),
        (b"/%00", PathError::Nul),
        (b"/index.html%00.png", PathError::Nul),
        (b"/.%00./etc", PathError::Nul),
        (b"/..\0/etc", PathError::Nul),
        (b"/..%09/etc", PathError::ControlByte),
        (b"/..%0a/etc", PathError::ControlByte),
        (b"/..%0d%0a/etc", PathError::ControlByte),
        (b"/.../etc", PathError::BadTarget),
        (b"/..../etc", PathError::BadTarget),
        (b"/a/...", PathError::BadTarget),
        (b"/%2e%2e%2e/", PathError::BadTarget),
        (b"/..%20/etc", PathError::BadTarget),
        (b"/..%20%20/", PathError::BadTarget),
        (b"/.%20./etc", PathError::BadTarget),
        (b"/.. /etc", PathError::BadTarget),
        (b"/ ../etc", PathError::BadTarget),
        (b"/..%2e/etc", PathError::BadTarget),
        (b"\\..\\etc", PathError::BadTarget),
        (b"..%2fetc", PathError::BadTarget),
        (b"../etc/passwd", PathError::BadTarget),
        (b"http:/../etc", PathError::BadTarget),
        (b"file:///etc/passwd", PathError::BadTarget),
        (b"/%%32%65%%32%65/", PathError::BadPercentEncoding),
        (b"/%u002e%u002e/etc", PathError::BadPercentEncoding),
        (b"/..%u2216etc", PathError::BadPercentEncoding),
        (b"/%2", PathError::BadPercentEncoding),
        (b"/%.%./", PathError::BadPercentEncoding),
    ];

    #[test]
    fn traversal_spellings_are_refused() {
        assert!(TRAVERSALS.len() >= 50, "{}", TRAVERSALS.len());
        for &(target, e) in TRAVERSALS {
            err(target, e);
        }
    }

    #[test]
    fn lookalikes_stay_inside_the_root() {
        // Decoded once: `%252e` is the literal text `%2e`, a plain name.
        ok("/%252e%252e/etc", "%2e%2e/etc", false);
        ok("/%252e%252e%252fetc", "%2e%2e%2fetc", false);
        // U+FF0F FULLWIDTH SOLIDUS is a character, not a separator.
        ok("/..%ef%bc%8f..", "..\u{ff0f}..", false);
        ok("/..;/etc", "..;/etc", false);
        ok("/a/..;/..;/etc", "a/..;/..;/etc", false);
    }

    fn assert_safe(path: &str) {
        assert!(!path.starts_with('/'), "{path:?}");
        assert!(!path.contains('\\') && !path.contains('\0'), "{path:?}");
        for segment in path.split('/') {
            if path.is_empty() {
                break;
            }
            assert!(!segment.is_empty(), "empty segment in {path:?}");
            assert!(segment != "." && segment != "..", "dot segment in {path:?}");
            assert!(
                !segment.bytes().all(|b| b == b'.' || b == b' '),
                "dots-only segment in {path:?}"
            );
        }
        let p = std::path::Path::new(path);
        assert!(
            p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{path:?}"
        );
    }

    /// `target` with every byte 0x80-0xFF written as `%XX`.
    fn percent_encode_high(target: &[u8]) -> std::vec::Vec<u8> {
        let mut out = std::vec::Vec::new();
        for &b in target {
            if b >= 0x80 {
                out.extend_from_slice(std::format!("%{b:02X}").as_bytes());
            } else {
                out.push(b);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn raw_high_bytes_resolve_as_their_percent_encoding(
            parts in proptest::collection::vec(
                proptest::sample::select(&["/", "a", ".", "..", "\u{e9}", "\u{20ac}", "\u{1f600}",
                    "%C3%A9", "\u{ff0f}", "?", " ", "%2e"][..]),
                0..12),
            cut in proptest::option::of(any::<proptest::sample::Index>()),
        ) {
            let mut target: std::vec::Vec<u8> = std::iter::once("/").chain(parts).collect::<std::string::String>().into_bytes();
            // Sometimes cut inside a character, so that raw bytes which are not UTF-8 are compared too.
            if let Some(cut) = cut {
                target.truncate(cut.index(target.len() + 1).max(1));
            }
            let mut raw = [0u8; 128];
            let mut encoded = [0u8; 128];
            prop_assert_eq!(
                resolve_target(&target, &mut raw),
                resolve_target(&percent_encode_high(&target), &mut encoded)
            );
        }

        #[test]
        fn any_bytes_resolve_to_a_safe_path_or_an_error(target in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut buf = [0u8; 128];
            if let Ok(r) = resolve_target(&target, &mut buf) {
                assert_safe(r.path);
            }
        }

        #[test]
        fn traversal_alphabet_never_escapes(
            parts in proptest::collection::vec(
                proptest::sample::select(&["/", ".", "..", "%2e", "%2E", "%2f", "%5c", "a", "%00",
                    "%c0%ae", "?", "//", "%25", "%", " ", "%20", "\\"][..]),
                0..16)
        ) {
            let target: std::string::String = std::iter::once("/").chain(parts).collect();
            let mut buf = [0u8; 128];
            if let Ok(r) = resolve_target(target.as_bytes(), &mut buf) {
                assert_safe(r.path);
            }
        }
    }

    #[test]
    fn hidden_segments() {
        let allowed = [".well-known"];
        assert!(hidden_segment(".git/config", &allowed));
        assert!(hidden_segment("a/.env", &allowed));
        assert!(hidden_segment(".htaccess", &allowed));
        assert!(hidden_segment("a/.hidden/b.txt", &allowed));
        assert!(!hidden_segment(".well-known/security.txt", &allowed));
        assert!(hidden_segment(".well-known/.secret", &allowed));
        assert!(hidden_segment(".Well-Known/x", &allowed));
        assert!(!hidden_segment("a/b.c/d.html", &allowed));
        assert!(!hidden_segment("", &allowed));
        assert!(hidden_segment(".well-known/x", &[]));
    }
}
