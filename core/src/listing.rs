//! Content negotiation by `Accept` (RFC 9110 §12.5.1) and the directory listing bodies the
//! response decision sends when [`Policy::listing`](crate::policy::Policy) is on.
//!
//! A listing is written twice over the same [`ListingPage`]: once into a [`Counter`] for its
//! `Content-Length`, once into the sink. Names are escaped for where they land: HTML text and
//! attribute values get character references, links get every byte but unreserved ones
//! percent-encoded, JSON strings get RFC 8259 escapes. A file named
//! `<img src=x onerror=alert(1)>.html` is text on the page, never markup.

use embedded_io::{ErrorType, Write};

use crate::date::HttpDate;
use crate::source::DirEntry;
use crate::write::{decimal, write_pieces};

/// A quality value (RFC 9110 §12.4.2) in thousandths: 0 to 1000.
pub type Quality = u16;

/// The quality `accept` gives the media type `ty/subtype`: that of the most specific media range
/// matching it (`ty/subtype` before `ty/*` before `*/*`, RFC 9110 §12.5.1), 0 when none does.
/// No `Accept` field accepts everything (1000). Parameters other than `q` are not compared.
pub fn accept_quality(accept: Option<&[u8]>, ty: &str, subtype: &str) -> Quality {
    let Some(accept) = accept else {
        return 1000;
    };
    let mut best: (u8, Quality) = (0, 0);
    for range in accept.split(|&b| b == b',') {
        let mut params = range.split(|&b| b == b';');
        let media = trim(params.next().unwrap_or_default());
        let Some(slash) = media.iter().position(|&b| b == b'/') else {
            continue;
        };
        let (t, s) = (
            media.get(..slash).unwrap_or_default(),
            media.get(slash + 1..).unwrap_or_default(),
        );
        let specificity = if t.eq_ignore_ascii_case(ty.as_bytes())
            && s.eq_ignore_ascii_case(subtype.as_bytes())
        {
            3
        } else if t.eq_ignore_ascii_case(ty.as_bytes()) && s == b"*" {
            2
        } else if t == b"*" && s == b"*" {
            1
        } else {
            continue;
        };
        let mut q = 1000;
        for param in params {
            let param = trim(param);
            if let Some(value) = param
                .strip_prefix(b"q=")
                .or_else(|| param.strip_prefix(b"Q="))
            {
                q = parse_qvalue(trim(value)).unwrap_or(0);
            }
        }
        if specificity > best.0 || (specificity == best.0 && q > best.1) {
            best = (specificity, q);
        }
    }
    best.1
}

/// Whether `accept` names `text/html` itself with a non-zero quality: what a browser's
/// navigation sends, and what a script's `fetch` (`*/*`) or an image load does not.
pub fn names_html(accept: Option<&[u8]>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    accept.split(|&b| b == b',').any(|range| {
        let mut params = range.split(|&b| b == b';');
        let media = trim(params.next().unwrap_or_default());
        media.eq_ignore_ascii_case(b"text/html")
            && params.all(|p| {
                let p = trim(p);
                match p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q=")) {
                    Some(v) => parse_qvalue(trim(v)).unwrap_or(0) > 0,
                    None => true,
                }
            })
    })
}

/// RFC 9110 §12.4.2 `qvalue`: `0` to `1`, at most three decimals.
fn parse_qvalue(v: &[u8]) -> Option<Quality> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(dot) => (v.get(..dot)?, v.get(dot + 1..)?),
        None => (v, &b""[..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: Quality = 0;
    for i in 0..3 {
        let digit = frac.get(i).map_or(0, |d| Quality::from(d - b'0'));
        thousandths = thousandths * 10 + digit;
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// The format of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Format {
    /// `text/html`: a table of links.
    Html,
    /// `application/json`: `{"path", "page", "pages", "entries": [{"name", "type", "size", "modified"}]}`.
    Json,
}

impl Format {
    /// JSON when `accept` prefers `application/json` to `text/html`, HTML otherwise (a tie, no
    /// `Accept`, or neither acceptable: a person is more likely than a program to be unclear).
    pub fn negotiate(accept: Option<&[u8]>) -> Self {
        if accept_quality(accept, "application", "json") > accept_quality(accept, "text", "html") {
            Format::Json
        } else {
            Format::Html
        }
    }

    /// The `Content-Type` of the listing.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// The page of a listing being written: which directory, which page of how many.
#[derive(Debug, Clone, Copy)]
pub struct ListingPage<'a> {
    /// The format.
    pub format: Format,
    /// The directory's decoded path, relative (`""` for the root).
    pub dir: &'a str,
    /// The page, from 1.
    pub page: u32,
    /// The number of pages, at least 1.
    pub pages: u32,
}

impl ListingPage<'_> {
    /// Everything before the first entry.
    pub fn write_start<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        let mut n = [0u8; 20];
        let mut m = [0u8; 20];
        match self.format {
            Format::Html => {
                w.write_all(
                    b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of /",
                )?;
                html_text(w, self.dir)?;
                w.write_all(slash(self.dir))?;
                w.write_all(b"</title></head><body><h1>Index of /")?;
                html_text(w, self.dir)?;
                w.write_all(slash(self.dir))?;
                w.write_all(
                    b"</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n",
                )?;
                if !self.dir.is_empty() {
                    w.write_all(b"<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n")?;
                }
                Ok(())
            }
            Format::Json => {
                w.write_all(b"{\"path\":\"/")?;
                json_text(w, self.dir)?;
                w.write_all(slash(self.dir))?;
                write_pieces(
                    w,
                    &[
                        b"\",\"page\":",
                        decimal(u64::from(self.page), &mut n),
                        b",\"pages\":",
                        decimal(u64::from(self.pages), &mut m),
                        b",\"entries\":[",
                    ],
                )
            }
        }
    }

    /// One entry; `first` when it is the first of the page.
    pub fn write_entry<W: Write>(
        &self,
        w: &mut W,
        entry: &DirEntry<'_>,
        first: bool,
    ) -> Result<(), W::Error> {
        let mut size = [0u8; 20];
        let size = decimal(entry.len, &mut size);
        let dir_slash: &[u8] = if entry.is_dir { b"/" } else { b"" };
        match self.format {
            Format::Html => {
                w.write_all(b"<tr><td><a href=\"")?;
                url_segment(w, entry.name)?;
                w.write_all(dir_slash)?;
                w.write_all(b"\">")?;
                html_text(w, entry.name)?;
                w.write_all(dir_slash)?;
                w.write_all(b"</a></td><td>")?;
                if !entry.is_dir {
                    w.write_all(size)?;
                }
                write_pieces(
                    w,
                    &[
                        b"</td><td>",
                        HttpDate::from_unix(entry.modified).as_bytes(),
                        b"</td></tr>\n",
                    ],
                )
            }
            Format::Json => {
                let mut modified = [0u8; 20];
                w.write_all(if first {
                    b"\n{\"name\":\""
                } else {
                    b",\n{\"name\":\""
                })?;
                json_text(w, entry.name)?;
                let kind: &[u8] = if entry.is_dir { b"directory" } else { b"file" };
                write_pieces(
                    w,
                    &[
                        b"\",\"type\":\"",
                        kind,
                        b"\",\"size\":",
                        size,
                        b",\"modified\":",
                        decimal(entry.modified, &mut modified),
                        b"}",
                    ],
                )
            }
        }
    }

    /// Everything after the last entry: the page line and its links.
    pub fn write_end<W: Write>(&self, w: &mut W) -> Result<(), W::Error> {
        let mut n = [0u8; 20];
        let mut m = [0u8; 20];
        match self.format {
            Format::Html => {
                w.write_all(b"</table>\n<p>Page ")?;
                write_pieces(
                    w,
                    &[
                        decimal(u64::from(self.page), &mut n),
                        b" of ",
                        decimal(u64::from(self.pages), &mut m),
                    ],
                )?;
                if self.page > 1 {
                    let mut p = [0u8; 20];
                    write_pieces(
                        w,
                        &[
                            b" <a rel=\"prev\" href=\"?page=",
                            decimal(u64::from(self.page) - 1, &mut p),
                            b"\">previous</a>",
                        ],
                    )?;
                }
                if self.page < self.pages {
                    let mut p = [0u8; 20];
                    write_pieces(
                        w,
                        &[
                            b" <a rel=\"next\" href=\"?page=",
                            decimal(u64::from(self.page) + 1, &mut p),
                            b"\">next</a>",
                        ],
                    )?;
                }
                w.write_all(b"</p></body></html>\n")
            }
            Format::Json => w.write_all(b"\n]}\n"),
        }
    }
}

/// `/` after a directory's path, none for the root (whose `/` is already written).
fn slash(dir: &str) -> &'static [u8] {
    if dir.is_empty() { b"" } else { b"/" }
}

/// HTML text or a quoted attribute value: `& < > " '` as character references (HTML §13.1.4).
fn html_text<W: Write>(w: &mut W, s: &str) -> Result<(), W::Error> {
    escape(w, s.as_bytes(), |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'"' => Some(b"&quot;"),
        b'\'' => Some(b"&#39;"),
        _ => None,
    })
}

/// An RFC 8259 §7 string body: `"`, `\` and control characters escaped.
fn json_text<W: Write>(w: &mut W, s: &str) -> Result<(), W::Error> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            _ => None,
        };
        if short.is_none() && b >= 0x20 {
            continue;
        }
        w.write_all(bytes.get(start..i).unwrap_or_default())?;
        match short {
            Some(esc) => w.write_all(esc)?,
            None => {
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
                w.write_all(&[b'\\', b'u', b'0', b'0', hi, lo])?;
            }
        }
        start = i + 1;
    }
    w.write_all(bytes.get(start..).unwrap_or_default())
}

/// A name as one relative URL path segment: RFC 3986 unreserved bytes kept, every other byte
/// `%XX` (so `:` in a name cannot read as a scheme, and nothing needs HTML escaping after).
fn url_segment<W: Write>(w: &mut W, s: &str) -> Result<(), W::Error> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            w.write_all(&[b])?;
        } else {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
            w.write_all(&[b'%', hi, lo])?;
        }
    }
    Ok(())
}

fn escape<W: Write>(
    w: &mut W,
    bytes: &[u8],
    replace: impl Fn(u8) -> Option<&'static [u8]>,
) -> Result<(), W::Error> {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(with) = replace(b) {
            w.write_all(bytes.get(start..i).unwrap_or_default())?;
            w.write_all(with)?;
            start = i + 1;
        }
    }
    w.write_all(bytes.get(start..).unwrap_or_default())
}

/// A writer that only counts: the length of a body before it is written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counter(pub u64);

impl ErrorType for Counter {
    type Error = core::convert::Infallible;
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0 = self.0.saturating_add(buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::SliceWriter;

    #[test]
    fn quality_takes_the_most_specific_range() {
        let browser = Some(&b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"[..]);
        assert_eq!(accept_quality(browser, "text", "html"), 1000);
        assert_eq!(accept_quality(browser, "application", "json"), 800);
        let refuse = Some(&b"text/*;q=0.5, text/html;q=0, */*"[..]);
        assert_eq!(accept_quality(refuse, "text", "html"), 0);
        assert_eq!(accept_quality(refuse, "text", "plain"), 500);
        assert_eq!(accept_quality(refuse, "image", "png"), 1000);
        assert_eq!(accept_quality(None, "text", "html"), 1000);
        assert_eq!(accept_quality(Some(b"image/png"), "text", "html"), 0);
        assert_eq!(
            accept_quality(Some(b"text/html;q=0.25"), "text", "html"),
            250
        );
        assert_eq!(accept_quality(Some(b"text/html;q=2"), "text", "html"), 0);
    }

    #[test]
    fn listing_format_follows_accept() {
        assert_eq!(Format::negotiate(None), Format::Html);
        assert_eq!(Format::negotiate(Some(b"*/*")), Format::Html);
        assert_eq!(Format::negotiate(Some(b"application/json")), Format::Json);
        assert_eq!(
            Format::negotiate(Some(b"text/html;q=0.5, application/json")),
            Format::Json
        );
        assert_eq!(
            Format::negotiate(Some(b"text/html,application/xhtml+xml,*/*;q=0.8")),
            Format::Html
        );
        assert_eq!(
            Format::negotiate(Some(b"application/json;q=0.9, text/html")),
            Format::Html
        );
    }

    #[test]
    fn only_a_named_text_html_is_a_navigation() {
        assert!(names_html(Some(
            b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(names_html(Some(b"TEXT/HTML ; q=0.1")));
        assert!(!names_html(Some(b"*/*")));
        assert!(!names_html(Some(b"text/*")));
        assert!(!names_html(Some(b"text/html;q=0, */*")));
        assert!(!names_html(Some(b"image/avif,image/webp,*/*")));
        assert!(!names_html(None));
    }

    fn render(format: Format, entries: &[DirEntry<'_>]) -> heapless::Vec<u8, 2048> {
        let page = ListingPage {
            format,
            dir: "a<b",
            page: 1,
            pages: 2,
        };
        let mut buf = [0u8; 2048];
        let mut w = SliceWriter::new(&mut buf);
        let mut count = Counter::default();
        page.write_start(&mut w).unwrap();
        page.write_start(&mut count).unwrap();
        for (i, e) in entries.iter().enumerate() {
            page.write_entry(&mut w, e, i == 0).unwrap();
            page.write_entry(&mut count, e, i == 0).unwrap();
        }
        page.write_end(&mut w).unwrap();
        page.write_end(&mut count).unwrap();
        assert_eq!(
            count.0,
            w.written() as u64,
            "the counter measures what is written"
        );
        heapless::Vec::from_slice(w.as_bytes()).unwrap()
    }

    const EVIL: DirEntry<'static> = DirEntry {
        name: "<img src=x onerror=alert(1)>.html",
        is_dir: false,
        len: 12,
        modified: 784_111_777,
    };

    #[test]
    fn html_listing_escapes_names_in_text_and_links() {
        let body = render(Format::Html, &[EVIL]);
        let text = core::str::from_utf8(&body).unwrap();
        assert!(!text.contains("<img"), "{text}");
        assert!(
            text.contains("&lt;img src=x onerror=alert(1)&gt;.html</a>"),
            "{text}"
        );
        assert!(text.contains("href=\"%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.html\""));
        assert!(text.contains("Index of /a&lt;b/"));
        assert!(text.contains("<td>12</td><td>Sun, 06 Nov 1994 08:49:37 GMT</td>"));
        assert!(text.contains("Page 1 of 2 <a rel=\"next\" href=\"?page=2\">next</a>"));
    }

    #[test]
    fn json_listing_escapes_strings() {
        let quote = DirEntry {
            name: "say \"hi\"\\\u{1}",
            is_dir: true,
            len: 0,
            modified: 1,
        };
        let body = render(Format::Json, &[EVIL, quote]);
        let text = core::str::from_utf8(&body).unwrap();
        assert!(text.starts_with("{\"path\":\"/a<b/\",\"page\":1,\"pages\":2,\"entries\":["));
        assert!(text.contains(
            "{\"name\":\"<img src=x onerror=alert(1)>.html\",\"type\":\"file\",\"size\":12,\"modified\":784111777}"
        ));
        assert!(text.contains("{\"name\":\"say \\\"hi\\\"\\\\\\u0001\",\"type\":\"directory\""));
        assert!(text.ends_with("\n]}\n"));
    }
}
