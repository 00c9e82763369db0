//! Every reference, anchor and style block of one HTML page, read with html5ever's tokenizer.
//!
//! The tokenizer is the WHATWG state machine, so a page is split into tags and attributes exactly
//! as a browser splits it, malformed markup included: unquoted or duplicated attributes, a `<` in
//! text, unclosed comments, character references in attribute values (`href="a&amp;b.html"` is
//! `a&b.html`). The tree builder is not needed (only tags and attributes matter), but its one
//! influence on tokenizing is reproduced: after `<script>`, `<style>`, `<title>`, `<textarea>` and
//! the other raw-text elements the tokenizer is switched into the matching text state, so a `<a
//! href>` written inside a script or a style is text, as in a browser.
//!
//! Lines: html5ever reports each token with the line where it ended. A reference is reported on
//! the line of its attribute: for a tag written on one line that is the tag's line; for a tag
//! spread over several, the attribute's name is found in the tag's source lines (the tag starts on
//! the line where the token before it ended, at the last `<` that opens a tag on that line).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::css::{self, CssRef};

/// What a page refers to and what a fragment can point at in it.
#[derive(Debug, Default)]
pub struct Page {
    /// Every reference, in document order.
    pub refs: Vec<HtmlRef>,
    /// `id` values of any element and `name` values of `<a>` elements (HTML §7.4.6.4).
    pub anchors: HashSet<String>,
    /// The first `<base href>` (HTML §4.2.3: only the first one counts), with its line.
    pub base: Option<(String, u32)>,
}

/// One reference on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlRef {
    /// 1-based line of the attribute (or of the CSS token in a style block or attribute).
    pub line: u32,
    /// Where it was written, for the report: `<img src>`, `<img srcset>`, `url()`, `@import`.
    pub source: String,
    /// The URL as written (character references decoded), before resolution.
    pub url: String,
}

/// Reads `html` and returns its references, anchors and base.
pub fn parse(html: &str) -> Page {
    let sink = Sink {
        lines: LineIndex::new(html),
        page: RefCell::new(Page::default()),
        last_token_line: Cell::new(1),
        style: RefCell::new(None),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The sink never answers `Script`, so one feed consumes everything it was given.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.page.into_inner()
}

/// A `<style>` element being read: its text so far and the line it starts on.
struct StyleBlock {
    text: String,
    line: u32,
}

struct Sink<'h> {
    lines: LineIndex<'h>,
    page: RefCell<Page>,
    /// The line where the last token ended: a tag starts on this line or later.
    last_token_line: Cell<u64>,
    style: RefCell<Option<StyleBlock>>,
}

impl TokenSink for Sink<'_> {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        let mut result = TokenSinkResult::Continue;
        match token {
            Token::TagToken(tag) => {
                if tag.kind == TagKind::StartTag {
                    result = self.start_tag(&tag, line);
                } else if &*tag.name == "style" {
                    self.end_style();
                }
            }
            Token::CharacterTokens(text) => {
                if let Some(style) = self.style.borrow_mut().as_mut() {
                    style.text.push_str(&text);
                }
            }
            Token::EOFToken => self.end_style(),
            // Errors are reported in the middle of a tag: they say nothing about where it began.
            Token::ParseError(_) => return result,
            Token::CommentToken(_) | Token::DoctypeToken(_) | Token::NullCharacterToken => {}
        }
        self.last_token_line.set(line);
        result
    }
}

impl Sink<'_> {
    fn start_tag(&self, tag: &Tag, end_line: u64) -> TokenSinkResult<()> {
        let name = &*tag.name;
        let attr_lines = self.attribute_lines(tag, self.last_token_line.get(), end_line);
        let attr = |wanted: &str| {
            tag.attrs
                .iter()
                .zip(&attr_lines)
                .find(|(a, _)| &*a.name.local == wanted)
                .map(|(a, &line)| (&*a.value, line))
        };
        let mut page = self.page.borrow_mut();
        let mut push = |attr_name: &str, value: &str, line: u32| {
            let url = value.trim_matches(is_ascii_whitespace);
            if !url.is_empty() {
                page.refs.push(HtmlRef {
                    line,
                    source: format!("<{name} {attr_name}>"),
                    url: url.to_owned(),
                });
            }
        };
        // Which attributes of which elements a browser fetches or navigates to (HTML §4).
        let url_attrs: &[&str] = match name {
            "a" | "area" => &["href"],
            "link" => {
                // These name an origin to connect to early, not a resource.
                let rel = attr("rel").map_or(String::new(), |(r, _)| r.to_ascii_lowercase());
                if rel
                    .split(is_ascii_whitespace)
                    .any(|r| r == "preconnect" || r == "dns-prefetch")
                {
                    &[]
                } else {
                    &["href"]
                }
            }
            "img" | "script" | "iframe" | "frame" | "embed" | "audio" | "track" => &["src"],
            "source" => &["src"],
            "video" => &["src", "poster"],
            "input" => match attr("type") {
                Some((t, _)) if t.eq_ignore_ascii_case("image") => &["src"],
                _ => &[],
            },
            "object" => &["data"],
            // SVG elements that load another document (SVG 2 §5.6, §5.7).
            "use" | "image" | "feimage" => &["href", "xlink:href"],
            _ => &[],
        };
        for wanted in url_attrs {
            if let Some((value, line)) = attr(wanted) {
                push(wanted, value, line);
            }
        }
        if name == "meta"
            && attr("http-equiv").is_some_and(|(v, _)| v.eq_ignore_ascii_case("refresh"))
            && let Some((content, line)) = attr("content")
            && let Some(url) = refresh_url(content)
        {
            push("content", url, line);
        }
        let srcset_attr = match name {
            "img" | "source" => Some("srcset"),
            "link" => Some("imagesrcset"),
            _ => None,
        };
        if let Some((value, line)) = srcset_attr.and_then(attr) {
            for candidate in srcset_urls(value) {
                push(srcset_attr.unwrap_or("srcset"), candidate, line);
            }
        }
        if let Some((value, line)) = attr("style") {
            for found in css::references(value, line) {
                page.refs.push(css_ref(found));
            }
        }
        if let Some((id, _)) = attr("id") {
            page.anchors.insert(id.to_owned());
        }
        if name == "a"
            && let Some((anchor, _)) = attr("name")
        {
            page.anchors.insert(anchor.to_owned());
        }
        if name == "base"
            && page.base.is_none()
            && let Some((href, line)) = attr("href")
        {
            page.base = Some((href.trim_matches(is_ascii_whitespace).to_owned(), line));
        }
        drop(page);
        // The text states the tree builder would switch to (HTML §13.2.6.4.4, "in head", and
        // §13.2.6.4.7, "in body"). `<noscript>` is read as markup, as with scripting disabled:
        // its fallback links are what a reader without scripts follows, so they are checked.
        match name {
            "style" => {
                // The style's text begins right after the tag's `>`, on the tag's last line.
                *self.style.borrow_mut() = Some(StyleBlock {
                    text: String::new(),
                    line: line_u32(end_line),
                });
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "xmp" | "iframe" | "noembed" | "noframes" => TokenSinkResult::RawData(RawKind::Rawtext),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }

    fn end_style(&self) {
        if let Some(style) = self.style.borrow_mut().take() {
            let found = css::references(&style.text, style.line);
            self.page
                .borrow_mut()
                .refs
                .extend(found.into_iter().map(css_ref));
        }
    }

    /// The line of each attribute of `tag`, which started on `start_line` and ended on `end_line`.
    fn attribute_lines(&self, tag: &Tag, start_line: u64, end_line: u64) -> Vec<u32> {
        let end = line_u32(end_line);
        if start_line >= end_line {
            return vec![end; tag.attrs.len()];
        }
        // The tag runs past the end of its first line, so its `<` is the last tag opening there
        // (what came before it on that line, another tag's attributes included, is not searched).
        let first = line_u32(start_line);
        let opening = self
            .lines
            .line(first)
            .as_bytes()
            .windows(2)
            .rposition(|pair| {
                pair.first() == Some(&b'<') && pair.get(1).is_some_and(u8::is_ascii_alphabetic)
            });
        let mut cursor = (first, opening.unwrap_or(0));
        tag.attrs
            .iter()
            .map(
                |a| match self.lines.find_attribute(&a.name.local, cursor, end) {
                    Some((line, after)) => {
                        cursor = (line, after);
                        line
                    }
                    None => end,
                },
            )
            .collect()
    }
}

fn css_ref(found: CssRef) -> HtmlRef {
    HtmlRef {
        line: found.line,
        source: found.source.to_owned(),
        url: found.url,
    }
}

fn line_u32(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

/// ASCII whitespace as HTML defines it (HTML §2.3.1 via Infra): tab, LF, FF, CR, space.
fn is_ascii_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// The URLs of a `srcset` value, by the candidate-splitting steps of HTML §4.8.4.3.10 ("parse a
/// srcset attribute"): a URL is a run of non-whitespace; trailing commas end it and its candidate;
/// otherwise descriptors follow up to a comma outside parentheses.
pub fn srcset_urls(value: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c| is_ascii_whitespace(c) || c == ',');
        if rest.is_empty() {
            return urls;
        }
        let url_end = rest.find(is_ascii_whitespace).unwrap_or(rest.len());
        let (url, after) = rest.split_at(url_end);
        let trimmed = url.trim_end_matches(',');
        if !trimmed.is_empty() {
            urls.push(trimmed);
        }
        if trimmed.len() != url.len() {
            rest = after;
            continue;
        }
        // Skip the descriptors: up to a comma that is not inside parentheses.
        let mut in_parens = false;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '(' => in_parens = true,
                ')' => in_parens = false,
                ',' if !in_parens => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
}

/// The URL of a `<meta http-equiv="refresh">` content, by the "shared declarative refresh steps"
/// of HTML §7.11.1: a time, then `;` or `,`, then an optional `url=`, then the URL, maybe quoted.
/// `None` when the content only reloads the page.
pub fn refresh_url(content: &str) -> Option<&str> {
    let rest = content.trim_start_matches(is_ascii_whitespace);
    let time_end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    if time_end == 0 {
        return None;
    }
    let rest = rest[time_end..].trim_start_matches(is_ascii_whitespace);
    let rest = rest
        .strip_prefix([';', ','])
        .unwrap_or(rest)
        .trim_start_matches(is_ascii_whitespace);
    let mut url = rest;
    if let Some(prefix) = rest.get(..3)
        && prefix.eq_ignore_ascii_case("url")
    {
        let after = rest[3..].trim_start_matches(is_ascii_whitespace);
        if let Some(value) = after.strip_prefix('=') {
            url = value.trim_start_matches(is_ascii_whitespace);
        }
    }
    if let Some(quote) = url.chars().next().filter(|c| *c == '"' || *c == '\'') {
        url = &url[1..];
        if let Some(end) = url.find(quote) {
            url = &url[..end];
        }
    }
    (!url.trim_matches(is_ascii_whitespace).is_empty()).then_some(url)
}

/// The source split into lines the way the tokenizer counts them (CR LF, CR and LF each end one).
struct LineIndex<'h> {
    text: &'h str,
    /// Byte offset where each line starts; line N (1-based) starts at `starts[N - 1]`.
    starts: Vec<usize>,
}

impl<'h> LineIndex<'h> {
    fn new(text: &'h str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 2;
                    continue;
                }
                b'\r' | b'\n' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        Self { text, starts }
    }

    /// The text of 1-based `line`, without its line break.
    fn line(&self, line: u32) -> &'h str {
        let index = (line as usize).saturating_sub(1);
        let start = self.starts.get(index).copied().unwrap_or(self.text.len());
        let end = self
            .starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
    }

    /// The first place at or after `from` (line, byte in line), up to line `last`, where the
    /// attribute `name` is written: the name (any case) after whitespace, a quote or `/`, followed
    /// by `=`, whitespace, `/`, `>` or the end of the line. Returns its line and the byte after it.
    fn find_attribute(&self, name: &str, from: (u32, usize), last: u32) -> Option<(u32, usize)> {
        let (mut line, mut offset) = from;
        while line <= last {
            let text = self.line(line);
            let bytes = text.as_bytes();
            let mut at = offset;
            while let Some(found) = find_ignore_ascii_case(bytes, name.as_bytes(), at) {
                let before_ok = found == 0
                    || matches!(
                        bytes[found - 1],
                        b' ' | b'\t' | b'\x0c' | b'"' | b'\'' | b'/'
                    );
                let after = found + name.len();
                let after_ok = bytes
                    .get(after)
                    .is_none_or(|b| matches!(b, b'=' | b' ' | b'\t' | b'\x0c' | b'/' | b'>'));
                if before_ok && after_ok {
                    return Some((line, after));
                }
                at = found + 1;
            }
            line += 1;
            offset = 0;
        }
        None
    }
}

fn find_ignore_ascii_case(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| {
        haystack
            .get(i..i + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(page: &Page) -> Vec<(u32, &str, &str)> {
        page.refs
            .iter()
            .map(|r| (r.line, r.source.as_str(), r.url.as_str()))
            .collect()
    }

    #[test]
    fn attributes_of_each_element() {
        let page = parse(concat!(
            "<!doctype html>\n",
            "<link rel=stylesheet href=a.css><link rel=preconnect href=https://cdn.example>\n",
            "<img src=b.png srcset=\"c.png 1x, d.png 2x\"><video poster=p.jpg src=v.mp4>\n",
            "<source srcset=e.webp><track src=t.vtt><script src=s.js></script>\n",
            "<a href=\"x.html#top\" name=n1 id=i1>x</a><input type=image src=go.png><object data=o.svg>\n",
        ));
        assert_eq!(
            urls(&page),
            [
                (2, "<link href>", "a.css"),
                (3, "<img src>", "b.png"),
                (3, "<img srcset>", "c.png"),
                (3, "<img srcset>", "d.png"),
                (3, "<video src>", "v.mp4"),
                (3, "<video poster>", "p.jpg"),
                (4, "<source srcset>", "e.webp"),
                (4, "<track src>", "t.vtt"),
                (4, "<script src>", "s.js"),
                (5, "<a href>", "x.html#top"),
                (5, "<input src>", "go.png"),
                (5, "<object data>", "o.svg"),
            ]
        );
        assert!(page.anchors.contains("n1") && page.anchors.contains("i1"));
    }

    #[test]
    fn text_in_scripts_styles_and_comments_is_not_markup() {
        let page = parse(concat!(
            "<script>document.write('<a href=no1.html>')</script><noscript><a href=yes0.html></noscript>\n",
            "<!-- <a href=no2.html> -->\n",
            "<title><a href=no3.html></title><textarea><img src=no4.png></textarea>\n",
            "<style>\n p { background: url(\"bg.png\") }\n @import 'more.css';\n</style>\n",
            "<a href=yes.html>\n",
        ));
        assert_eq!(
            urls(&page),
            [
                (1, "<a href>", "yes0.html"),
                (5, "url()", "bg.png"),
                (6, "@import", "more.css"),
                (8, "<a href>", "yes.html")
            ]
        );
    }

    #[test]
    fn malformed_markup_splits_as_a_browser_does() {
        // Character references decoded; duplicate attribute ignored (the first wins); an
        // unquoted value runs to whitespace; a stray `<` in text is text.
        let page = parse(
            "<p>1 < 2 <a href=caf&eacute;.html href=second.html>x</a> <img src=a&amp;b.png alt=\"x\"y>\n",
        );
        assert_eq!(
            urls(&page),
            [(1, "<a href>", "café.html"), (1, "<img src>", "a&b.png")]
        );
    }

    #[test]
    fn lines_of_attributes_in_tags_over_several_lines() {
        let page = parse(
            "<p>intro</p>\n<img\n  alt=\"src\"\n  src=\"a.png\"\n  srcset=\"b.png 2x\"\n>\n\r\n<a\rhref=c.html>c</a>\n<img alt=\"\"\nsrc=d.png><img\nsrc=e.png>",
        );
        assert_eq!(
            urls(&page),
            [
                (4, "<img src>", "a.png"),
                (5, "<img srcset>", "b.png"),
                (9, "<a href>", "c.html"),
                (11, "<img src>", "d.png"),
                (12, "<img src>", "e.png")
            ]
        );
    }

    #[test]
    fn style_attributes_and_base() {
        let page =
            parse("<base href=/docs/><base href=/other/>\n<div style=\"background:url(x.png)\">");
        assert_eq!(page.base, Some(("/docs/".to_owned(), 1)));
        assert_eq!(urls(&page), [(2, "url()", "x.png")]);
    }

    #[test]
    fn any_markup_is_read_without_panic_and_lines_stay_in_the_document() {
        const PIECES: &[&str] = &[
            "<",
            ">",
            "<a",
            " href=",
            "\"",
            "'",
            "x.html",
            "\n",
            "\r",
            "\r\n",
            "<style>",
            "</style>",
            "url(",
            ")",
            "@import ",
            "<script>",
            "</script>",
            "<!--",
            "-->",
            "&amp;",
            "&",
            "#",
            "<img",
            " srcset=",
            " 2x,",
            "<base href=",
            "/",
            "é",
            "\u{0}",
            " style=",
            "<noscript>",
            "=",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut longest = 0;
        for _ in 0..3000 {
            let mut doc = String::new();
            for _ in 0..next() % 40 {
                doc.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            longest = longest.max(doc.len());
            let lines = LineIndex::new(&doc).starts.len() as u32;
            for r in parse(&doc).refs {
                assert!((1..=lines).contains(&r.line), "{doc:?}: {r:?}");
            }
        }
        assert!(longest > 100, "the generator makes documents");
    }

    #[test]
    fn meta_refresh_targets() {
        assert_eq!(refresh_url("0; url=/new/"), Some("/new/"));
        assert_eq!(refresh_url("5;URL='next.html'"), Some("next.html"));
        assert_eq!(
            refresh_url(" 3 , url = \"a b.html\" trailing"),
            Some("a b.html")
        );
        assert_eq!(refresh_url("0;other.html"), Some("other.html"));
        assert_eq!(refresh_url("1.5"), None);
        assert_eq!(refresh_url("url=x.html"), None);
        assert_eq!(refresh_url("0; url="), None);
        let page = parse(
            "<meta http-equiv=Refresh content=\"0; url=moved.html\">\n<meta http-equiv=refresh content=30>",
        );
        assert_eq!(urls(&page), [(1, "<meta content>", "moved.html")]);
    }

    #[test]
    fn srcset_candidates() {
        assert_eq!(srcset_urls("a.png"), ["a.png"]);
        assert_eq!(
            srcset_urls(" a.png 1x , b.png 2x,c.png"),
            ["a.png", "b.png", "c.png"]
        );
        assert_eq!(srcset_urls("a.png,b.png 2x"), ["a.png,b.png"]);
        assert_eq!(
            srcset_urls("a.png, b.png,, c.png"),
            ["a.png", "b.png", "c.png"]
        );
        assert_eq!(srcset_urls("a.png (x, y) 2x, b.png"), ["a.png", "b.png"]);
        assert_eq!(
            srcset_urls("data:image/png;base64,AAAA 1x"),
            ["data:image/png;base64,AAAA"]
        );
        assert!(srcset_urls(" , ").is_empty());
    }
}
