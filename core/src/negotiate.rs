//! Content-coding negotiation (RFC 9110 §12.5.3): which representation of a file — the file
//! itself or one of its encodings — answers a request's `Accept-Encoding`.
//!
//! The grammar is parsed by nom combinators named after the RFC 9110 ABNF rules, borrowing the
//! field value and allocating nothing:
//!
//! ```text
//! Accept-Encoding  = #( codings [ weight ] )          ; §12.5.3
//! codings          = content-coding / "identity" / "*"
//! weight           = OWS ";" OWS "q=" qvalue           ; §12.4.2
//! qvalue           = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
//! ```
//!
//! ```
//! use staticd_core::negotiate::{AcceptEncoding, Coding, Codings};
//!
//! let accept = AcceptEncoding::parse_value(b"gzip;q=0.5, br, identity;q=0").unwrap();
//! let on_disk = Codings::EMPTY.with(Coding::Gzip);
//! assert_eq!(accept.select(on_disk), Some(Coding::Gzip));
//! assert_eq!(accept.select(on_disk.with(Coding::Brotli)), Some(Coding::Brotli));
//! ```

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while_m_n, take_while1};
use nom::character::complete::char;
use nom::combinator::{map, opt, value};
use nom::sequence::{pair, preceded};
use nom::{IResult, Parser};

use crate::chars::tchar;
use crate::parse::{Method, Request};
use crate::source::{Entry, Resource, Source};

/// Files smaller than this are not compressed on the fly: the coding's own framing and the
/// added `Content-Encoding`/`Vary` lines eat most of what compressing a smaller body saves, and
/// it fits in one TCP segment either way.
pub const MIN_COMPRESS_BYTES: u64 = 1024;

/// A content coding staticd serves (RFC 9110 §8.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Coding {
    /// `br` (RFC 7932).
    Brotli,
    /// `zstd` (RFC 8878).
    Zstd,
    /// `gzip` (RFC 1952; §8.4.1.3).
    Gzip,
}

impl Coding {
    /// Every coding, in the server's order of preference when the client weighs them the same
    /// (smallest output first).
    pub const ALL: [Coding; 3] = [Coding::Brotli, Coding::Zstd, Coding::Gzip];

    /// The `content-coding` token sent in `Content-Encoding`.
    pub const fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The file-name extension of a precompressed sibling, without its dot (`app.js.br`).
    pub const fn extension(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Zstd => "zst",
            Coding::Gzip => "gz",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Coding::Brotli => 1,
            Coding::Zstd => 2,
            Coding::Gzip => 4,
        }
    }

    const fn index(self) -> usize {
        match self {
            Coding::Brotli => 0,
            Coding::Zstd => 1,
            Coding::Gzip => 2,
        }
    }
}

/// A set of [`Coding`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Codings(u8);

impl Codings {
    /// No coding.
    pub const EMPTY: Codings = Codings(0);
    /// Every coding.
    pub const ALL: Codings = Codings(7);

    /// This set and `coding`.
    #[must_use]
    pub const fn with(self, coding: Coding) -> Codings {
        Codings(self.0 | coding.bit())
    }

    /// Whether `coding` is in the set.
    pub const fn contains(self, coding: Coding) -> bool {
        self.0 & coding.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The codings in both sets.
    #[must_use]
    pub const fn intersect(self, other: Codings) -> Codings {
        Codings(self.0 & other.0)
    }
}

/// A weight in thousandths: 0 (not acceptable) to 1000 (RFC 9110 §12.4.2).
pub type Quality = u16;

/// What a request's `Accept-Encoding` fields say, all lines together (RFC 9110 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AcceptEncoding {
    /// The weight given by name to each [`Coding`] (by [`Coding::ALL`] order), to `identity`,
    /// and to `*`; `None` where the coding was not named.
    named: [Option<Quality>; 3],
    identity: Option<Quality>,
    any: Option<Quality>,
}

impl AcceptEncoding {
    /// What a request without the field gets: its own representation, with no coding. RFC 9110
    /// §12.5.3 lets a server send any coding then, but a client that sends no `Accept-Encoding`
    /// is far more often one that cannot decode than one that can decode anything.
    pub const IDENTITY_ONLY: AcceptEncoding = AcceptEncoding {
        named: [None; 3],
        identity: None,
        any: None,
    };

    /// The request's `Accept-Encoding`, every line of it; [`Self::IDENTITY_ONLY`] when absent or
    /// when a line does not parse (a malformed preference is no preference).
    pub fn of(req: &Request<'_, '_>) -> AcceptEncoding {
        let mut accept = Self::IDENTITY_ONLY;
        for field in req.headers {
            if !field.name.eq_ignore_ascii_case("accept-encoding") {
                continue;
            }
            if accept.add_value(field.value).is_err() {
                return Self::IDENTITY_ONLY;
            }
        }
        accept
    }

    /// One field value; `None` when it does not parse.
    pub fn parse_value(value: &[u8]) -> Option<AcceptEncoding> {
        let mut accept = Self::IDENTITY_ONLY;
        accept.add_value(value).ok()?;
        Some(accept)
    }

    fn add_value(&mut self, value: &[u8]) -> Result<(), ()> {
        let mut rest = value;
        // RFC 9110 §5.6.1.2: a recipient accepts empty list elements.
        loop {
            let (after, _) = ows(rest).map_err(|_| ())?;
            rest = after;
            if let Some(after) = rest.strip_prefix(b",") {
                rest = after;
                continue;
            }
            if rest.is_empty() {
                return Ok(());
            }
            let (after, (name, weight)) = element(rest).map_err(|_| ())?;
            self.name(name, weight.unwrap_or(1000));
            let (after, _) = ows(after).map_err(|_| ())?;
            rest = match after.split_first() {
                None => after,
                Some((b',', after)) => after,
                Some(_) => return Err(()),
            };
        }
    }

    /// The first weight given to a name is the one kept.
    fn name(&mut self, name: Named, q: Quality) {
        let slot = match name {
            Named::Coding(coding) => self.named.get_mut(coding.index()),
            Named::Identity => Some(&mut self.identity),
            Named::Any => Some(&mut self.any),
            Named::Other => None,
        };
        if let Some(slot @ None) = slot {
            *slot = Some(q);
        }
    }

    /// The weight of `coding`: named, else `*`'s, else not acceptable (RFC 9110 §12.5.3).
    pub fn quality(&self, coding: Coding) -> Quality {
        self.named
            .get(coding.index())
            .copied()
            .flatten()
            .or(self.any)
            .unwrap_or(0)
    }

    /// The weight of the representation with no coding: acceptable unless `identity;q=0`, or
    /// `*;q=0` without `identity` named (RFC 9110 §12.5.3).
    pub fn identity_quality(&self) -> Quality {
        self.identity
            .or(self.any.filter(|&q| q == 0))
            .unwrap_or(1000)
    }

    /// Whether any coding could be chosen: `false` for a request that takes only identity.
    pub fn accepts_any_coding(&self) -> bool {
        Coding::ALL.iter().any(|&c| self.quality(c) > 0)
    }

    /// The representation to send when `available` codings exist beside the file itself:
    /// `Some(coding)`, or `None` for the file itself. The highest weight wins, ties go to the
    /// server's order ([`Coding::ALL`], then identity, which wins only when named, itself or by
    /// `*`, with a higher weight); when nothing available is acceptable
    /// (`identity;q=0` and no acceptable coding), RFC 9110 §12.5.3 says to send the file with
    /// no coding.
    pub fn select(&self, available: Codings) -> Option<Coding> {
        let mut best: Option<(Coding, Quality)> = None;
        for coding in Coding::ALL {
            let q = self.quality(coding);
            if available.contains(coding) && q > 0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((coding, q));
            }
        }
        // Identity outranks a coding only when weighed by name or by `*`: unnamed, it is
        // merely acceptable.
        let identity = self.identity.or(self.any);
        best.filter(|&(_, q)| identity.is_none_or(|identity| q >= identity))
            .map(|(coding, _)| coding)
    }
}

/// Whether a media type is worth compressing: text, and the structured text types that are not
/// compressed already (images, audio, video, archives and WOFF fonts are).
pub fn compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .as_bytes();
    let starts = |prefix: &str| {
        essence
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    let ends = |suffix: &str| {
        essence
            .len()
            .checked_sub(suffix.len())
            .and_then(|at| essence.get(at..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
    };
    let is = |name: &str| essence.eq_ignore_ascii_case(name.as_bytes());
    starts("text/")
        || ends("+json")
        || ends("+xml")
        || is("application/javascript")
        || is("application/json")
        || is("application/xml")
        || is("application/wasm")
        || is("font/ttf")
        || is("font/otf")
        || is("image/x-icon")
        || is("image/vnd.microsoft.icon")
        || is("image/bmp")
}

/// The representation chosen for a request of a file.
#[derive(Debug)]
pub struct Choice<R> {
    /// The encoding sent and its coding; `None` sends the file itself.
    pub encoded: Option<(Coding, R)>,
    /// Whether the file has other representations, so every response for it says
    /// `Vary: Accept-Encoding` (RFC 9110 §12.5.5), whichever was chosen.
    pub negotiable: bool,
}

impl<R> Choice<R> {
    /// The file itself, with no other representation (the core built without `encoding`).
    pub fn identity() -> Self {
        Choice {
            encoded: None,
            negotiable: false,
        }
    }
}

/// Chooses among `file` (served at `path`, of `content_type`), its precompressed siblings, and
/// the encodings the source makes on the fly for a compressible type of at least
/// [`MIN_COMPRESS_BYTES`]. A ranged `GET` takes an encoding made on the fly only when it is
/// made already: ranges of a representation that does not exist yet are not computed.
pub fn choose<S: Source>(
    req: &Request<'_, '_>,
    source: &mut S,
    path: &str,
    file: &S::Resource,
    content_type: &str,
) -> Choice<S::Resource> {
    let mut siblings = Codings::EMPTY;
    let mut opened: [Option<S::Resource>; 3] = [None, None, None];
    for coding in Coding::ALL {
        if let Entry::File(encoded) = source.open_encoded(path, coding)
            && let Some(slot) = opened.get_mut(coding.index())
        {
            siblings = siblings.with(coding);
            *slot = Some(encoded);
        }
    }
    let made = if compressible(content_type) && file.len() >= MIN_COMPRESS_BYTES {
        source.encodable(path, file)
    } else {
        Codings::EMPTY
    };
    let negotiable = !siblings.is_empty() || !made.is_empty();
    if !negotiable {
        return Choice {
            encoded: None,
            negotiable,
        };
    }
    let accept = AcceptEncoding::of(req);
    let start = !(req.method == Method::Get && req.header("range").is_some());
    let mut candidates = Codings(siblings.0 | made.0);
    while let Some(coding) = accept.select(candidates) {
        let sibling = opened.get_mut(coding.index()).and_then(Option::take);
        if let Some(encoded) = sibling.or_else(|| source.encoded(path, file, coding, start)) {
            return Choice {
                encoded: Some((coding, encoded)),
                negotiable,
            };
        }
        candidates = Codings(candidates.0 & !coding.bit());
    }
    Choice {
        encoded: None,
        negotiable,
    }
}

/// A name in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Coding(Coding),
    Identity,
    Any,
    Other,
}

type PResult<'b, O> = IResult<&'b [u8], O>;

/// `OWS = *( SP / HTAB )` (RFC 9110 §5.6.3).
fn ows(input: &[u8]) -> PResult<'_, &[u8]> {
    take_while(|b| b == b' ' || b == b'\t')(input)
}

/// `token = 1*tchar` (RFC 9110 §5.6.2).
fn token(input: &[u8]) -> PResult<'_, &[u8]> {
    take_while1(tchar)(input)
}

/// `codings = content-coding / "identity" / "*"`; content codings are case-insensitive tokens
/// (§8.4.1), `x-gzip` is `gzip` (§8.4.1.3).
fn codings(input: &[u8]) -> PResult<'_, Named> {
    alt((
        value(Named::Any, tag("*")),
        map(token, |name: &[u8]| {
            let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
            if is("identity") {
                Named::Identity
            } else if is("gzip") || is("x-gzip") {
                Named::Coding(Coding::Gzip)
            } else if is("br") {
                Named::Coding(Coding::Brotli)
            } else if is("zstd") {
                Named::Coding(Coding::Zstd)
            } else {
                Named::Other
            }
        }),
    ))
    .parse(input)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn qvalue(input: &[u8]) -> PResult<'_, Quality> {
    let digits =
        |n: u8| take_while_m_n(0, 3, move |b: u8| b == n || (n == 0 && b.is_ascii_digit()));
    alt((
        map(
            preceded(char('0'), opt(preceded(char('.'), digits(0)))),
            |fraction: Option<&[u8]>| {
                let mut q: Quality = 0;
                let mut scale = 100;
                for &d in fraction.unwrap_or_default() {
                    q += Quality::from(d - b'0') * scale;
                    scale /= 10;
                }
                q
            },
        ),
        value(1000, pair(char('1'), opt(pair(char('.'), digits(b'0'))))),
    ))
    .parse(input)
}

/// `weight = OWS ";" OWS "q=" qvalue` (RFC 9110 §12.4.2; the parameter name is
/// case-insensitive).
fn weight(input: &[u8]) -> PResult<'_, Quality> {
    preceded((ows, char(';'), ows, tag_no_case("q=")), qvalue).parse(input)
}

/// `codings [ weight ]`: one list element.
fn element(input: &[u8]) -> PResult<'_, (Named, Option<Quality>)> {
    pair(codings, opt(weight)).parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> AcceptEncoding {
        AcceptEncoding::parse_value(value.as_bytes()).unwrap()
    }

    const ALL: Codings = Codings::ALL;
    const GZIP: Codings = Codings::EMPTY.with(Coding::Gzip);

    #[test]
    fn qvalues_follow_the_grammar() {
        assert_eq!(qvalue(b"0"), Ok((&b""[..], 0)));
        assert_eq!(qvalue(b"0.5"), Ok((&b""[..], 500)));
        assert_eq!(qvalue(b"0.123"), Ok((&b""[..], 123)));
        assert_eq!(qvalue(b"0.07"), Ok((&b""[..], 70)));
        assert_eq!(qvalue(b"1.000"), Ok((&b""[..], 1000)));
        assert_eq!(qvalue(b"1."), Ok((&b""[..], 1000)));
        // Four digits leave one over, which the list then refuses.
        assert_eq!(qvalue(b"0.1234"), Ok((&b"4"[..], 123)));
        assert!(AcceptEncoding::parse_value(b"gzip;q=0.1234").is_none());
        assert!(AcceptEncoding::parse_value(b"gzip;q=1.5").is_none());
        assert!(AcceptEncoding::parse_value(b"gzip;q=2").is_none());
        assert!(AcceptEncoding::parse_value(b"gzip;level=1").is_none());
        assert!(AcceptEncoding::parse_value(b"gzip br").is_none());
    }

    #[test]
    fn the_highest_weight_wins_and_ties_go_to_the_smallest() {
        assert_eq!(parse("gzip, br").select(ALL), Some(Coding::Brotli));
        assert_eq!(
            parse("gzip, deflate, br, zstd").select(ALL),
            Some(Coding::Brotli)
        );
        assert_eq!(parse("br;q=0.5, gzip").select(ALL), Some(Coding::Gzip));
        assert_eq!(parse("br;q=0.5, gzip").select(Codings::EMPTY), None);
        assert_eq!(parse("zstd, gzip;Q=0.9").select(ALL), Some(Coding::Zstd));
        assert_eq!(parse("GZIP").select(ALL), Some(Coding::Gzip));
        assert_eq!(parse("x-gzip").select(GZIP), Some(Coding::Gzip));
        assert_eq!(parse("deflate").select(ALL), None);
        // Identity weighed above a coding keeps the file as it is.
        assert_eq!(parse("gzip;q=0.5, identity").select(GZIP), None);
        assert_eq!(parse("gzip, identity").select(GZIP), Some(Coding::Gzip));
    }

    #[test]
    fn star_and_identity_exclusions() {
        // `*` covers what is not named; a named q=0 excludes.
        assert_eq!(parse("*").select(GZIP), Some(Coding::Gzip));
        assert_eq!(parse("*, gzip;q=0").select(GZIP), None);
        assert_eq!(parse("*;q=0.1, br").select(ALL), Some(Coding::Brotli));
        assert_eq!(parse("gzip;q=0").select(GZIP), None);
        // Identity is acceptable unless excluded by name or by `*;q=0`.
        assert_eq!(parse("").identity_quality(), 1000);
        assert_eq!(parse("identity;q=0").identity_quality(), 0);
        assert_eq!(parse("*;q=0").identity_quality(), 0);
        assert_eq!(parse("*;q=0, identity").identity_quality(), 1000);
        assert_eq!(
            parse("identity;q=0, gzip;q=0.1").select(GZIP),
            Some(Coding::Gzip)
        );
        // Nothing acceptable is available: the file with no coding (§12.5.3).
        assert_eq!(parse("identity;q=0").select(GZIP), None);
        assert!(!parse("identity;q=0").accepts_any_coding());
        assert!(parse("*;q=0.5").accepts_any_coding());
    }

    #[test]
    fn list_syntax_is_tolerant_as_the_rfc_asks() {
        assert_eq!(parse("").select(ALL), None);
        assert_eq!(parse(" , ,gzip ,, ").select(ALL), Some(Coding::Gzip));
        assert_eq!(
            parse("gzip ; q=0.5 , br\t;\tq=0.6").select(ALL),
            Some(Coding::Brotli)
        );
        // The first weight of a name counts.
        assert_eq!(parse("br;q=0, br").select(ALL), None);
    }

    #[test]
    fn several_lines_are_one_list_and_a_bad_line_means_identity() {
        use crate::parse::{Header, Method, Version};
        let headers = [
            Header {
                name: "Accept-Encoding",
                value: b"gzip;q=0.5",
            },
            Header {
                name: "accept-encoding",
                value: b"br",
            },
        ];
        let req = Request {
            method: Method::Get,
            target: b"/",
            version: Version::Http11,
            headers: &headers,
        };
        assert_eq!(AcceptEncoding::of(&req).select(ALL), Some(Coding::Brotli));
        let bad = [Header {
            name: "Accept-Encoding",
            value: b"br;q=x",
        }];
        let req = Request {
            headers: &bad,
            ..req
        };
        assert_eq!(AcceptEncoding::of(&req), AcceptEncoding::IDENTITY_ONLY);
        assert!(!AcceptEncoding::IDENTITY_ONLY.accepts_any_coding());
    }

    /// The decision over a table with a precompressed sibling: the whole head for `request`.
    #[cfg(feature = "encoding")]
    fn answer(request: &str) -> std::string::String {
        use crate::date::HttpDate;
        use crate::parse::{Header, ParserConfig, Status, parse_request};
        use crate::policy::Policy;
        use crate::respond::{Now, Site, respond};
        use crate::source::{StaticFile, StaticTable};
        use crate::write::SliceWriter;
        static FILES: &[StaticFile] = &[
            StaticFile {
                path: "app.js",
                body: b"let answer = 42; // identity",
                etag: "\"js\"",
                last_modified: 1,
                content_type: "text/javascript; charset=utf-8",
            },
            StaticFile {
                path: "app.js.gz",
                body: b"gzip bytes",
                etag: "\"js-gz\"",
                last_modified: 1,
                content_type: "application/gzip",
            },
            StaticFile {
                path: "page.html",
                body: b"<p>page</p>",
                etag: "\"page\"",
                last_modified: 1,
                content_type: "text/html; charset=utf-8",
            },
            StaticFile {
                path: "page.html.br",
                body: b"br",
                etag: "\"page-br\"",
                last_modified: 1,
                content_type: "application/octet-stream",
            },
            StaticFile {
                path: "logo.png",
                body: b"png",
                etag: "\"png\"",
                last_modified: 1,
                content_type: "image/png",
            },
        ];
        let mut headers = [Header {
            name: "",
            value: b"",
        }; 8];
        let Ok(Status::Complete((_, req))) =
            parse_request(&ParserConfig::default(), request.as_bytes(), &mut headers)
        else {
            panic!("bad test request {request:?}");
        };
        let policy = Policy::DEFAULT;
        let mut table = StaticTable::new(FILES);
        let mut path_buf = [0u8; 256];
        let mut site = Site {
            policy: &policy,
            source: &mut table,
            path_buf: &mut path_buf,
        };
        let date = HttpDate::from_unix(1000);
        let now = Now {
            ms: 0,
            unix_secs: 1000,
            date: &date,
        };
        let mut out = [0u8; 1024];
        let mut sink = SliceWriter::new(&mut out);
        let response = respond(&req, true, &now, &mut site, &mut sink);
        let mut text = std::string::String::from_utf8_lossy(sink.as_bytes()).into_owned();
        if let Some(file) = response.resource {
            text.push_str(&std::format!("[body {}]", file.etag));
        }
        text
    }

    #[test]
    #[cfg(feature = "encoding")]
    fn a_sibling_is_sent_with_its_coding_tag_and_length_under_the_files_type() {
        let gz = answer(
            "GET /app.js HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br;q=1, gzip;q=0.8\r\n\r\n",
        );
        assert!(gz.starts_with("HTTP/1.1 200 OK\r\n"), "{gz}");
        assert!(
            gz.contains("Content-Type: text/javascript; charset=utf-8\r\n"),
            "{gz}"
        );
        assert!(gz.contains("Content-Length: 10\r\n"), "{gz}");
        assert!(gz.contains("Content-Encoding: gzip\r\n"), "{gz}");
        assert!(gz.contains("ETag: \"js-gz\"\r\n"), "{gz}");
        assert!(gz.contains("Vary: Accept-Encoding\r\n"), "{gz}");
        assert!(gz.ends_with("[body \"js-gz\"]"), "{gz}");

        let plain = answer("GET /app.js HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(plain.contains("Content-Length: 28\r\n"), "{plain}");
        assert!(plain.contains("ETag: \"js\"\r\n"), "{plain}");
        assert!(plain.contains("Vary: Accept-Encoding\r\n"), "{plain}");
        assert!(!plain.contains("Content-Encoding"), "{plain}");

        // Excluded by weight: the file itself.
        let refused =
            answer("GET /app.js HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip;q=0, *\r\n\r\n");
        assert!(refused.ends_with("[body \"js\"]"), "{refused}");
        // Identity refused and gzip there: gzip.
        let only = answer(
            "GET /app.js HTTP/1.1\r\nHost: a\r\nAccept-Encoding: identity;q=0, gzip;q=0.1\r\n\r\n",
        );
        assert!(only.ends_with("[body \"js-gz\"]"), "{only}");

        // A file with no encodings says nothing of them.
        let png = answer("GET /logo.png HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
        assert!(
            !png.contains("Vary") && !png.contains("Content-Encoding"),
            "{png}"
        );
    }

    #[test]
    #[cfg(feature = "encoding")]
    fn validators_and_ranges_apply_to_the_chosen_representation() {
        let not_modified = answer(
            "GET /app.js HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nIf-None-Match: \"js-gz\"\r\n\r\n",
        );
        assert!(not_modified.starts_with("HTTP/1.1 304 "), "{not_modified}");
        assert!(
            not_modified.contains("Vary: Accept-Encoding\r\n"),
            "{not_modified}"
        );
        assert!(
            not_modified.contains("ETag: \"js-gz\"\r\n"),
            "{not_modified}"
        );
        // The identity tag does not match the gzip representation.
        let full = answer(
            "GET /app.js HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nIf-None-Match: \"js\"\r\n\r\n",
        );
        assert!(full.starts_with("HTTP/1.1 200 "), "{full}");
        let part = answer(
            "GET /app.js HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nRange: bytes=5-\r\n\r\n",
        );
        assert!(part.starts_with("HTTP/1.1 206 "), "{part}");
        assert!(part.contains("Content-Range: bytes 5-9/10\r\n"), "{part}");
        assert!(part.contains("Content-Encoding: gzip\r\n"), "{part}");
        assert!(part.contains("Vary: Accept-Encoding\r\n"), "{part}");
        // A sibling under its own name keeps the extension rule: `.gz` is a download served
        // as itself, with no coding; `.br` is not served.
        let direct = answer("GET /app.js.gz HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
        assert!(
            direct.contains("Content-Type: application/gzip\r\n"),
            "{direct}"
        );
        assert!(!direct.contains("Content-Encoding"), "{direct}");
        let direct = answer("GET /page.html.br HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(direct.starts_with("HTTP/1.1 403 "), "{direct}");
        let page =
            answer("GET /page.html HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip, br\r\n\r\n");
        assert!(page.contains("Content-Encoding: br\r\n"), "{page}");
    }

    #[test]
    fn compressible_types() {
        assert!(compressible("text/html; charset=utf-8"));
        assert!(compressible("application/manifest+json"));
        assert!(compressible("image/svg+xml"));
        assert!(compressible("application/javascript"));
        assert!(!compressible("image/png"));
        assert!(!compressible("font/woff2"));
        assert!(!compressible("application/gzip"));
        assert!(!compressible("application/octet-stream"));
    }
}
