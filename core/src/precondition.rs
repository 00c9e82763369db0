//! Conditional requests (RFC 9110 §13) as a pure function of the request and the file's validators.
//!
//! [`evaluate_preconditions`] follows the order of RFC 9110 §13.2.2 exactly:
//!
//! 1. `If-Match` present: false -> 412. (Strong comparison; `*` is true since the file exists.)
//! 2. else `If-Unmodified-Since` present and one valid date: modified after it -> 412.
//! 3. `If-None-Match` present: a match (weak comparison; `*` always matches) -> 304 for GET/HEAD,
//!    412 for other methods.
//! 4. else, GET/HEAD only, `If-Modified-Since` present and one valid date: not modified after it
//!    -> 304. A date later than Last-Modified also gives 304: the client's copy is current.
//! 5. `If-Range` is part of range evaluation ([`crate::range::evaluate_range`]).
//!
//! The caller applies them only where RFC 9110 §13.2.1 says to: when the response without the
//! conditions would be a 2xx (a 404 ignores them).
//!
//! List fields (`If-Match`, `If-None-Match`) may arrive on several lines and are read across all
//! of them (RFC 9110 §5.3). Date fields are singletons: a second line, like a list of dates, makes
//! the value "not one valid date" and the field is ignored. Entity-tags that do not parse match
//! nothing.

use nom::Parser;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::char;
use nom::combinator::opt;

use crate::chars::etagc;
use crate::date::parse_http_date;
use crate::parse::{Method, Request};
use crate::rules::{PResult, lenient_list};

/// The validators of the selected representation (a file): its strong ETag and Last-Modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Validators<'a> {
    /// The strong entity-tag with its quotes, e.g. `"\"5d8c72a5-3e8\""` (RFC 9110 §8.8.3).
    pub etag: &'a [u8],
    /// Last modification, in Unix seconds (the same second the `Last-Modified` header shows).
    pub last_modified: u64,
}

/// The outcome of the preconditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Precondition {
    /// No precondition stops the request: go on (to range evaluation, then 200/206).
    Proceed,
    /// 304 Not Modified (GET or HEAD only).
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// An entity-tag from a request field (RFC 9110 §8.8.3): whether it is weak, and its quoted opaque tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntityTag<'b> {
    weak: bool,
    /// The opaque-tag including its double quotes.
    opaque: &'b [u8],
}

/// `opaque-tag = DQUOTE *etagc DQUOTE` (RFC 9110 §8.8.3), with its quotes.
fn opaque_tag(input: &[u8]) -> PResult<'_, &[u8]> {
    let (_, (_, inner, _)) = (char('"'), take_while(etagc), char('"')).parse(input)?;
    // The tag and its two quotes, split off by length: `recognize` slices with a bounds panic.
    match input.split_at_checked(inner.len().saturating_add(2)) {
        Some((tag, rest)) => Ok((rest, tag)),
        None => Err(nom::Err::Error(())),
    }
}

/// `entity-tag = [ weak ] opaque-tag` with `weak = %s"W/"`, case-sensitive (RFC 9110 §8.8.3).
fn entity_tag(input: &[u8]) -> PResult<'_, EntityTag<'_>> {
    let (rest, (weak, opaque)) = (opt(tag(&b"W/"[..])), opaque_tag).parse(input)?;
    let weak = weak.is_some();
    Ok((rest, EntityTag { weak, opaque }))
}

/// Parses one entity-tag exactly (no surrounding whitespace).
pub(crate) fn parse_entity_tag(item: &[u8]) -> Option<EntityTag<'_>> {
    match entity_tag(item) {
        Ok(([], tag)) => Some(tag),
        _ => None,
    }
}

/// True when the request entity-tag `tag` matches our (strong) `etag` under strong comparison
/// (RFC 9110 §8.8.3.2): neither is weak and the opaque tags are identical.
pub(crate) fn strong_match(tag: &EntityTag<'_>, etag: &[u8]) -> bool {
    !tag.weak && tag.opaque == etag
}

/// Weak comparison: the opaque tags are identical, weakness ignored.
fn weak_match(tag: &EntityTag<'_>, etag: &[u8]) -> bool {
    let ours = etag.strip_prefix(b"W/").unwrap_or(etag);
    tag.opaque == ours
}

/// The value of field `name` when it is sent on at most one line: `Ok(None)` when absent,
/// `Err(())` when on several lines. One loop shared by the precondition and range fields.
#[inline(never)]
pub(crate) fn single_field<'b>(req: &Request<'_, 'b>, name: &str) -> Result<Option<&'b [u8]>, ()> {
    let mut found = None;
    for field in req.headers {
        if field.name.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(());
            }
            found = Some(field.value);
        }
    }
    Ok(found)
}

/// Evaluates an `If-Match` (`strong`) or `If-None-Match` list across all its lines (RFC 9110
/// §5.3): true at the first element that matches ours.
///
/// `If-Match = "*" / #entity-tag`, `If-None-Match = "*" / #entity-tag` (RFC 9110 §13.1.1-2),
/// read leniently ([`lenient_list`]): `"*"` matches anywhere in the list, and an element that is
/// neither `"*"` nor one entity-tag matches nothing while the rest of the list is still read.
fn list_matches(req: &Request<'_, '_>, name: &str, etag: &[u8], strong: bool) -> bool {
    for field in req.headers {
        if !field.name.eq_ignore_ascii_case(name) {
            continue;
        }
        let mut matched = false;
        lenient_list(field.value, &mut |element| {
            matched = element == b"*"
                || parse_entity_tag(element).is_some_and(|tag| {
                    if strong {
                        strong_match(&tag, etag)
                    } else {
                        weak_match(&tag, etag)
                    }
                });
            !matched
        });
        if matched {
            return true;
        }
    }
    false
}

/// The value of a date field sent on exactly one line, if it is a valid HTTP date.
fn single_date(req: &Request<'_, '_>, name: &str) -> Option<u64> {
    single_field(req, name)
        .ok()
        .flatten()
        .and_then(parse_http_date)
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and `If-Modified-Since` in the order
/// of RFC 9110 §13.2.2 (see the module docs).
pub fn evaluate_preconditions(req: &Request<'_, '_>, v: &Validators<'_>) -> Precondition {
    let get_or_head = matches!(req.method, Method::Get | Method::Head);

    // Step 1 and 2.
    if single_field(req, "if-match") != Ok(None) {
        if !list_matches(req, "if-match", v.etag, true) {
            return Precondition::Failed;
        }
    } else if let Some(date) = single_date(req, "if-unmodified-since")
        && v.last_modified > date
    {
        return Precondition::Failed;
    }

    // Step 3 and 4.
    if single_field(req, "if-none-match") != Ok(None) {
        if list_matches(req, "if-none-match", v.etag, false) {
            return if get_or_head {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if get_or_head
        && let Some(date) = single_date(req, "if-modified-since")
        && v.last_modified <= date
    {
        return Precondition::NotModified;
    }

    Precondition::Proceed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Header, Version};

    const ETAG: &[u8] = b"\"abc123\"";
    const LM: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
    const LM_TEXT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const BEFORE: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
    const AFTER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";
    const V: Validators<'static> = Validators {
        etag: ETAG,
        last_modified: LM,
    };

    fn eval(method: Method<'_>, fields: &[(&str, &str)]) -> Precondition {
        let headers: std::vec::Vec<Header<'_>> = fields
            .iter()
            .map(|&(name, value)| Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        let req = Request {
            method,
            target: b"/f",
            version: Version::Http11,
            headers: &headers,
        };
        evaluate_preconditions(&req, &V)
    }

    fn get(fields: &[(&str, &str)]) -> Precondition {
        eval(Method::Get, fields)
    }

    use Precondition::{Failed, NotModified, Proceed};

    #[test]
    fn no_conditions() {
        assert_eq!(get(&[]), Proceed);
        assert_eq!(get(&[("Accept", "*/*")]), Proceed);
    }

    #[test]
    fn if_match_is_strong() {
        assert_eq!(get(&[("If-Match", "\"abc123\"")]), Proceed);
        assert_eq!(get(&[("If-Match", "*")]), Proceed);
        assert_eq!(get(&[("If-Match", "\"other\"")]), Failed);
        assert_eq!(get(&[("If-Match", "W/\"abc123\"")]), Failed);
        assert_eq!(get(&[("If-Match", "\"x\", \"abc123\"")]), Proceed);
        assert_eq!(get(&[("If-Match", "\"x\" ,\t\"y\"")]), Failed);
        assert_eq!(
            get(&[("If-Match", "\"x\""), ("if-match", "\"abc123\"")]),
            Proceed
        );
        assert_eq!(get(&[("If-Match", "abc123")]), Failed);
        assert_eq!(get(&[("If-Match", "")]), Failed);
        assert_eq!(get(&[("If-Match", "\"abc123")]), Failed);
        assert_eq!(eval(Method::Put, &[("If-Match", "\"abc123\"")]), Proceed);
        assert_eq!(eval(Method::Delete, &[("If-Match", "\"nope\"")]), Failed);
    }

    #[test]
    fn if_unmodified_since() {
        assert_eq!(get(&[("If-Unmodified-Since", LM_TEXT)]), Proceed);
        assert_eq!(get(&[("If-Unmodified-Since", AFTER)]), Proceed);
        assert_eq!(get(&[("If-Unmodified-Since", BEFORE)]), Failed);
        // rfc850 and asctime are read too.
        assert_eq!(
            get(&[("If-Unmodified-Since", "Sunday, 06-Nov-94 08:49:36 GMT")]),
            Failed
        );
        assert_eq!(
            get(&[("If-Unmodified-Since", "Sun Nov  6 08:49:36 1994")]),
            Failed
        );
    }

    #[test]
    fn if_unmodified_since_ignored_when_invalid_or_if_match_present() {
        assert_eq!(get(&[("If-Unmodified-Since", "yesterday")]), Proceed);
        assert_eq!(
            get(&[
                ("If-Unmodified-Since", BEFORE),
                ("If-Unmodified-Since", AFTER)
            ]),
            Proceed
        );
        // If-Match passes, so If-Unmodified-Since (which would fail) is not evaluated.
        assert_eq!(
            get(&[("If-Match", "\"abc123\""), ("If-Unmodified-Since", BEFORE)]),
            Proceed
        );
    }

    #[test]
    fn if_none_match_is_weak_and_method_dependent() {
        assert_eq!(get(&[("If-None-Match", "\"abc123\"")]), NotModified);
        assert_eq!(get(&[("If-None-Match", "W/\"abc123\"")]), NotModified);
        assert_eq!(
            get(&[("If-None-Match", "\"a\", W/\"abc123\"")]),
            NotModified
        );
        assert_eq!(
            get(&[("If-None-Match", "\"a\""), ("If-None-Match", "\"abc123\"")]),
            NotModified
        );
        assert_eq!(get(&[("If-None-Match", "*")]), NotModified);
        assert_eq!(get(&[("If-None-Match", "\"other\"")]), Proceed);
        assert_eq!(get(&[("If-None-Match", "\"ABC123\"")]), Proceed);
        assert_eq!(get(&[("If-None-Match", "abc123")]), Proceed);
        assert_eq!(
            eval(Method::Head, &[("If-None-Match", "\"abc123\"")]),
            NotModified
        );
        assert_eq!(
            eval(Method::Post, &[("If-None-Match", "\"abc123\"")]),
            Failed
        );
        assert_eq!(eval(Method::Put, &[("If-None-Match", "*")]), Failed);
        assert_eq!(eval(Method::Post, &[("If-None-Match", "\"x\"")]), Proceed);
    }

    #[test]
    fn if_modified_since() {
        assert_eq!(get(&[("If-Modified-Since", LM_TEXT)]), NotModified);
        // A date later than Last-Modified still means "not modified since" (issue 8).
        assert_eq!(get(&[("If-Modified-Since", AFTER)]), NotModified);
        assert_eq!(
            get(&[("If-Modified-Since", "Fri, 27 Nov 2026 01:02:03 GMT")]),
            NotModified
        );
        assert_eq!(get(&[("If-Modified-Since", BEFORE)]), Proceed);
        assert_eq!(
            eval(Method::Head, &[("If-Modified-Since", LM_TEXT)]),
            NotModified
        );
        assert_eq!(
            get(&[("If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT")]),
            NotModified
        );
        assert_eq!(
            get(&[("If-Modified-Since", "Sun Nov  6 08:49:37 1994")]),
            NotModified
        );
    }

    #[test]
    fn if_modified_since_ignored_cases() {
        // Ignored when If-None-Match is present, even if that one does not match.
        assert_eq!(
            get(&[("If-None-Match", "\"other\""), ("If-Modified-Since", AFTER)]),
            Proceed
        );
        // Ignored on methods other than GET/HEAD.
        assert_eq!(eval(Method::Post, &[("If-Modified-Since", AFTER)]), Proceed);
        assert_eq!(
            eval(Method::Options, &[("If-Modified-Since", AFTER)]),
            Proceed
        );
        // Ignored when not one valid date.
        assert_eq!(get(&[("If-Modified-Since", "not a date")]), Proceed);
        assert_eq!(
            get(&[("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT, x")]),
            Proceed
        );
        assert_eq!(
            get(&[
                ("If-Modified-Since", LM_TEXT),
                ("If-Modified-Since", LM_TEXT)
            ]),
            Proceed
        );
        assert_eq!(get(&[("If-Modified-Since", "")]), Proceed);
    }

    #[test]
    fn evaluation_order() {
        // Step 1 before step 3: a failing If-Match wins over a matching If-None-Match.
        assert_eq!(
            get(&[("If-None-Match", "\"abc123\""), ("If-Match", "\"other\"")]),
            Failed
        );
        // Step 2 before step 4.
        assert_eq!(
            get(&[
                ("If-Modified-Since", AFTER),
                ("If-Unmodified-Since", BEFORE)
            ]),
            Failed
        );
        // Steps 1 and 3 both pass through to 304.
        assert_eq!(
            get(&[("If-Match", "\"abc123\""), ("If-None-Match", "\"abc123\"")]),
            NotModified
        );
        // If-Unmodified-Since passes, If-Modified-Since gives 304.
        assert_eq!(
            get(&[("If-Unmodified-Since", AFTER), ("If-Modified-Since", AFTER)]),
            NotModified
        );
        // If-None-Match does not match, If-Modified-Since would say 304 but is ignored.
        assert_eq!(
            get(&[("If-Modified-Since", AFTER), ("If-None-Match", "W/\"zzz\"")]),
            Proceed
        );
    }

    #[test]
    fn entity_tag_grammar() {
        assert!(parse_entity_tag(b"\"\"").is_some());
        assert!(parse_entity_tag(b"W/\"x\"").is_some_and(|t| t.weak));
        assert!(parse_entity_tag(b"w/\"x\"").is_none());
        assert!(parse_entity_tag(b"\"a b\"").is_none());
        assert!(parse_entity_tag(b"\"a\"b\"").is_none());
        assert!(parse_entity_tag(b"\"").is_none());
        assert!(parse_entity_tag(b"x").is_none());
        assert!(parse_entity_tag(b"\"\xe9\"").is_some());
        assert!(parse_entity_tag(b"W/\"x\" ").is_none());
        assert!(parse_entity_tag(b" \"x\"").is_none());
        assert!(parse_entity_tag(b"W/x").is_none());
        assert!(parse_entity_tag(b"W/").is_none());
        let tag = parse_entity_tag(b"W/\"a!#~\"").unwrap();
        assert_eq!((tag.weak, tag.opaque), (true, &b"\"a!#~\""[..]));
    }

    #[test]
    fn entity_tag_lists() {
        // Empty list elements and OWS around them are ignored (RFC 9110 §5.6.1.2).
        assert_eq!(get(&[("If-Match", " ,, \"abc123\" ,")]), Proceed);
        assert_eq!(get(&[("If-None-Match", ",\t,W/\"abc123\",")]), NotModified);
        assert_eq!(get(&[("If-Match", " , ,")]), Failed);
        assert_eq!(get(&[("If-None-Match", " , ,")]), Proceed);
        // A weak tag matches under weak comparison only.
        assert_eq!(get(&[("If-Match", "W/\"abc123\", \"x\"")]), Failed);
        assert_eq!(
            get(&[("If-None-Match", "\"x\", W/\"abc123\"")]),
            NotModified
        );
        // `*` anywhere in the list matches.
        assert_eq!(get(&[("If-None-Match", "\"x\", *")]), NotModified);
        assert_eq!(get(&[("If-Match", "\"x\",*")]), Proceed);
        // An element that is not an entity-tag matches nothing; the rest is still read.
        assert_eq!(get(&[("If-Match", "abc123, \"abc123\"")]), Proceed);
        assert_eq!(get(&[("If-Match", "\"abc123\"x, \"y\"")]), Failed);
        assert_eq!(get(&[("If-None-Match", "\"abc123\" \"abc123\"")]), Proceed);
        assert_eq!(get(&[("If-None-Match", "w/\"abc123\", **")]), Proceed);
        // A comma ends an element even inside quotes, as before.
        assert_eq!(get(&[("If-None-Match", "\"abc,123\"")]), Proceed);
    }
}
