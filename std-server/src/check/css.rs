//! The URLs of a stylesheet, read with cssparser's tokenizer (CSS Syntax Level 3).
//!
//! A tokenizer, not a search for `url(`: comments, strings and escapes are read as a browser
//! reads them, so `/* url(old.png) */` is no reference, `"url(x)"` in a `content:` string is none
//! either, and `url("a\).png")` is `a).png`. What is collected:
//!
//! - `url(...)`, quoted or not, at any depth (rules, `@media`, `@font-face src`, custom properties);
//! - `@import "x.css"` and `@import url(x.css)` (CSS Cascade §6.1);
//! - the strings of `image-set()` and `-webkit-image-set()`, which are URLs (CSS Images 4 §2.4).
//!
//! `url(#id)` names an element of the document using the style (an SVG filter or mask), not a
//! file, and is left out.

use cssparser::{Parser, Token};

/// One URL in a stylesheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssRef {
    /// 1-based line in the file (or page) the stylesheet text belongs to.
    pub line: u32,
    /// `url()` or `@import`.
    pub source: &'static str,
    pub url: String,
}

/// The URLs in `css`, whose first line is line `first_line` of its file.
pub fn references(css: &str, first_line: u32) -> Vec<CssRef> {
    let mut found = Vec::new();
    let mut parser = Parser::new(css);
    collect(&mut parser, first_line, false, &mut found);
    found
}

/// Reads tokens to the end of `parser`'s block. `strings_are_urls` inside `image-set()`.
fn collect(
    parser: &mut Parser<'_>,
    first_line: u32,
    strings_are_urls: bool,
    found: &mut Vec<CssRef>,
) {
    let mut import_pending = false;
    loop {
        // cssparser counts lines from 0; the position before `next` is the token's start.
        let line = first_line.saturating_add(parser.current_source_location().line);
        let Ok(token) = parser.next_including_whitespace_and_comments() else {
            return;
        };
        let source = if import_pending { "@import" } else { "url()" };
        match token {
            Token::WhiteSpace(_) | Token::Comment(_) => continue,
            Token::AtKeyword(name) => {
                import_pending = name.eq_ignore_ascii_case("import");
                continue;
            }
            Token::UnquotedUrl(url) => push(found, line, source, url),
            Token::QuotedString(url) if import_pending || strings_are_urls => {
                push(found, line, source, url);
            }
            Token::Function(name) => {
                let name = name.to_ascii_lowercase();
                let _ =
                    parser.parse_nested_block(|inner| -> Result<(), cssparser::ParseError<()>> {
                        if name == "url" || name == "src" {
                            url_function(inner, source, first_line, found);
                        } else {
                            let image_set = name == "image-set" || name == "-webkit-image-set";
                            collect(inner, first_line, image_set, found);
                        }
                        Ok(())
                    });
            }
            Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock => {
                let _ =
                    parser.parse_nested_block(|inner| -> Result<(), cssparser::ParseError<()>> {
                        collect(inner, first_line, false, found);
                        Ok(())
                    });
            }
            _ => {}
        }
        import_pending = false;
    }
}

/// The inside of `url(` written with a string (`url("a.png")`) or `src(`: the string is the URL.
fn url_function(
    parser: &mut Parser<'_>,
    source: &'static str,
    first_line: u32,
    found: &mut Vec<CssRef>,
) {
    loop {
        let line = first_line.saturating_add(parser.current_source_location().line);
        match parser.next_including_whitespace_and_comments() {
            Ok(Token::QuotedString(url)) => {
                push(found, line, source, url);
                return;
            }
            Ok(Token::WhiteSpace(_) | Token::Comment(_)) => {}
            _ => return,
        }
    }
}

fn push(found: &mut Vec<CssRef>, line: u32, source: &'static str, url: &str) {
    // CSS Syntax §4.3.6 already trimmed an unquoted URL; a quoted one keeps its spaces, which the
    // URL parser strips.
    if url.is_empty() || url.starts_with('#') {
        return;
    }
    found.push(CssRef {
        line,
        source,
        url: url.to_owned(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(css: &str) -> Vec<(u32, &'static str, String)> {
        references(css, 1)
            .into_iter()
            .map(|r| (r.line, r.source, r.url))
            .collect()
    }

    #[test]
    fn urls_imports_and_image_sets() {
        let css = concat!(
            "@import \"base.css\";\n",
            "@import url(print.css) print;\n",
            "@IMPORT url( 'theme.css' );\n",
            "body { background: url(bg.png) no-repeat; }\n",
            "@media (min-width: 40em) { .x { background-image: url( \"big bg.png\" ) } }\n",
            "@font-face { src: url(f.woff2) format(\"woff2\"), url('f.woff') format('woff'); }\n",
            ".hi { background: image-set(\"a.png\" 1x, url(b.png) 2x); content: \"url(no.png)\"; }\n",
            "/* url(commented.png) */ .f { filter: url(#blur); mask: url(\"a\\).png\") }\n",
        );
        assert_eq!(
            refs(css),
            [
                (1, "@import", "base.css".to_owned()),
                (2, "@import", "print.css".to_owned()),
                (3, "@import", "theme.css".to_owned()),
                (4, "url()", "bg.png".to_owned()),
                (5, "url()", "big bg.png".to_owned()),
                (6, "url()", "f.woff2".to_owned()),
                (6, "url()", "f.woff".to_owned()),
                (7, "url()", "a.png".to_owned()),
                (7, "url()", "b.png".to_owned()),
                (8, "url()", "a).png".to_owned()),
            ]
        );
    }

    #[test]
    fn any_stylesheet_is_read_without_panic_and_lines_stay_in_it() {
        const PIECES: &[&str] = &[
            "url(",
            ")",
            "(",
            "\"",
            "'",
            "@import",
            " ",
            "\n",
            "\r\n",
            "/*",
            "*/",
            "{",
            "}",
            "[",
            "]",
            "image-set(",
            "src(",
            "a.png",
            "\\",
            ";",
            ",",
            "#x",
            "\u{0}",
            "é",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut css = String::new();
            for _ in 0..next() % 30 {
                css.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            let lines = 1 + css.matches('\n').count() as u32;
            for r in references(&css, 1) {
                assert!((1..=lines).contains(&r.line), "{css:?}: {r:?}");
            }
        }
    }

    #[test]
    fn first_line_offsets_and_malformed_input() {
        assert_eq!(
            references("\n\na { b: url(x.png) }", 10)
                .into_iter()
                .map(|r| r.line)
                .collect::<Vec<_>>(),
            [12]
        );
        // Unterminated constructs end quietly.
        assert_eq!(refs("a { b: url(x.png"), [(1, "url()", "x.png".to_owned())]);
        assert!(refs("a { b: \"unterminated").is_empty());
        assert!(refs("url(bad url.png)").is_empty());
    }
}
