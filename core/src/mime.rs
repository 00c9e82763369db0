//! The built-in extension -> media type table and the allowed-extension policy.
//!
//! The table is compiled in, never read from the host (`/etc/mime.types` differs between machines,
//! so the same file would get different types on two replicas). Text types carry
//! `charset=utf-8`; JavaScript is `text/javascript` (RFC 9239), WebAssembly `application/wasm`.

/// The type for an allowed extension the table does not know (RFC 9110 §8.3: "unknown bytes").
pub const OCTET_STREAM: &str = "application/octet-stream";

/// Extension (lower case, no dot) -> media type.
const TABLE: &[(&str, &str)] = &[
    // Documents and text.
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("xhtml", "application/xhtml+xml"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("cjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("jsonld", "application/ld+json"),
    ("webmanifest", "application/manifest+json"),
    ("txt", "text/plain; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("tsv", "text/tab-separated-values; charset=utf-8"),
    ("xml", "application/xml"),
    ("rss", "application/rss+xml"),
    ("atom", "application/atom+xml"),
    ("vtt", "text/vtt; charset=utf-8"),
    ("ics", "text/calendar; charset=utf-8"),
    ("pdf", "application/pdf"),
    ("wasm", "application/wasm"),
    // Images.
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("apng", "image/apng"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("jxl", "image/jxl"),
    ("bmp", "image/bmp"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("ico", "image/x-icon"),
    // Fonts (RFC 8081).
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("eot", "application/vnd.ms-fontobject"),
    // Audio and video.
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("webm", "video/webm"),
    ("ogv", "video/ogg"),
    ("mov", "video/quicktime"),
    ("mpeg", "video/mpeg"),
    ("mpg", "video/mpeg"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("flac", "audio/flac"),
    ("wav", "audio/wav"),
    // Archives and binaries.
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("7z", "application/x-7z-compressed"),
    ("epub", "application/epub+zip"),
    ("bin", OCTET_STREAM),
];

/// The extension of the last segment of `path`: the text after its last `.`.
///
/// `None` when the name has no dot, ends with a dot (`a.`), or its only dot is the first byte
/// (`.bashrc` is a dotfile, not a file with extension `bashrc`).
pub fn extension(path: &str) -> Option<&str> {
    // Byte search: `/` and `.` are ASCII, so the text after either is on a character boundary;
    // the char-pattern searchers of `str` would cost a device several hundred bytes of code.
    let bytes = path.as_bytes();
    let dot = bytes.iter().rposition(|&b| b == b'.' || b == b'/')?;
    let name_start = bytes
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |slash| slash + 1);
    if bytes.get(dot) != Some(&b'.') || dot == name_start {
        return None;
    }
    path.get(dot + 1..).filter(|ext| !ext.is_empty())
}

/// The media type for `ext` (no dot), matched case-insensitively; `None` if the table lacks it.
pub fn mime_for_extension(ext: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(ext))
        .map(|&(_, mime)| mime)
}

/// The media type for a file path: by extension, else [`OCTET_STREAM`].
pub fn mime_for_path(path: &str) -> &'static str {
    extension(path)
        .and_then(mime_for_extension)
        .unwrap_or(OCTET_STREAM)
}

/// True when the extension of `path` is in `allowed`; entries carry the leading dot (`".html"`)
/// and match case-insensitively. The entry `"*"` allows every path, with or without an extension;
/// otherwise a path without an extension is never allowed.
pub fn extension_allowed<'a>(path: &str, allowed: impl IntoIterator<Item = &'a str>) -> bool {
    let ext = extension(path);
    allowed.into_iter().any(|entry| match ext {
        _ if entry == crate::policy::ANY_EXTENSION => true,
        Some(ext) => allowed_entry_matches(entry, ext),
        None => false,
    })
}

/// One `allowed_extensions` entry against an extension; out of line so each iterator type the
/// generic caller is used with adds only its loop.
#[inline(never)]
fn allowed_entry_matches(entry: &str, ext: &str) -> bool {
    entry
        .as_bytes()
        .strip_prefix(b".")
        .is_some_and(|e| e.eq_ignore_ascii_case(ext.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert_eq!(extension("index.html"), Some("html"));
        assert_eq!(extension("a/b/c.tar.gz"), Some("gz"));
        assert_eq!(extension("a.b/c"), None);
        assert_eq!(extension("Makefile"), None);
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("a/.bashrc"), None);
        assert_eq!(extension("a/.config.json"), Some("json"));
        assert_eq!(extension("a."), None);
        assert_eq!(extension(""), None);
        assert_eq!(extension("dir/"), None);
        assert_eq!(extension("PHOTO.JPG"), Some("JPG"));
    }

    #[test]
    fn types_required_by_the_issues() {
        let cases = [
            ("html", "text/html; charset=utf-8"),
            ("HTM", "text/html; charset=utf-8"),
            ("css", "text/css; charset=utf-8"),
            ("js", "text/javascript; charset=utf-8"),
            ("mjs", "text/javascript; charset=utf-8"),
            ("json", "application/json"),
            ("txt", "text/plain; charset=utf-8"),
            ("svg", "image/svg+xml"),
            ("png", "image/png"),
            ("JPG", "image/jpeg"),
            ("jpeg", "image/jpeg"),
            ("gif", "image/gif"),
            ("webp", "image/webp"),
            ("avif", "image/avif"),
            ("woff", "font/woff"),
            ("woff2", "font/woff2"),
            ("mp4", "video/mp4"),
            ("webm", "video/webm"),
            ("pdf", "application/pdf"),
            ("wasm", "application/wasm"),
        ];
        for (ext, mime) in cases {
            assert_eq!(mime_for_extension(ext), Some(mime), "{ext}");
        }
        assert_eq!(mime_for_extension("exe"), None);
        assert_eq!(mime_for_extension(""), None);
    }

    #[test]
    fn every_default_allowed_extension_has_a_type() {
        for ext in crate::policy::DEFAULT_ALLOWED_EXTENSIONS {
            let bare = ext.strip_prefix('.').unwrap();
            assert!(mime_for_extension(bare).is_some(), "{ext}");
        }
    }

    #[test]
    fn table_is_consistent() {
        for (i, (ext, mime)) in TABLE.iter().enumerate() {
            assert_eq!(*ext, ext.to_ascii_lowercase(), "keys are lower case");
            assert!(!ext.contains('.'));
            assert!(
                TABLE[i + 1..].iter().all(|(other, _)| other != ext),
                "{ext} twice"
            );
            // Every text/* type names its charset.
            if mime.starts_with("text/") {
                assert!(mime.ends_with("; charset=utf-8"), "{mime}");
            }
            assert!(mime.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
        }
    }

    #[test]
    fn mime_for_paths() {
        assert_eq!(
            mime_for_path("a/b/app.MJS"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(mime_for_path("data.unknownext"), OCTET_STREAM);
        assert_eq!(mime_for_path("README"), OCTET_STREAM);
    }

    #[test]
    fn allowed_extensions() {
        let allowed = [".html", ".CSS", ".bin"];
        assert!(extension_allowed("index.html", allowed));
        assert!(extension_allowed("a/INDEX.HTML", allowed));
        assert!(extension_allowed("style.css", allowed));
        assert!(extension_allowed("blob.bin", allowed));
        assert!(!extension_allowed("script.js", allowed));
        assert!(!extension_allowed("Makefile", allowed));
        assert!(!extension_allowed("archive.html.gz", allowed));
        assert!(!extension_allowed("html", allowed));
        assert!(!extension_allowed(".html", allowed));
        assert!(!extension_allowed("a.", allowed));
        // Entries without the leading dot match nothing.
        assert!(!extension_allowed("index.html", ["html"]));
        assert!(!extension_allowed("index.html", []));
        assert!(extension_allowed("Makefile", ["*"]));
        assert!(extension_allowed("tool.exe", [".html", "*"]));
        assert!(!extension_allowed("tool.exe", [".exe*", "**"]));
        let owned: std::vec::Vec<std::string::String> = std::vec![".txt".into()];
        assert!(extension_allowed("a.txt", owned.iter().map(|s| s.as_str())));
    }
}
