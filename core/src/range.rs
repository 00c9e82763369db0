//! Byte ranges (RFC 9110 §14) as a pure function of the request, the validators and the length.
//!
//! [`evaluate_range`] decides between the full representation (200), one or more ranges (206) and
//! 416, by these rules:
//!
//! - Only GET: any other method, HEAD included, gets [`RangeOutcome::Full`] (RFC 9110 §14.2).
//! - No `Range`, more than one `Range` line, a unit other than `bytes` (case-insensitive, §14.1),
//!   or a malformed range set (`bytes=5-2`, `bytes=x`, `bytes=`) -> `Full`: the field is ignored.
//! - `If-Range` (§13.1.5), only looked at with a `Range`: an entity-tag must match the ETag by
//!   strong comparison, a date must equal Last-Modified exactly; otherwise, or if it is malformed,
//!   `Full`.
//! - Ranges that do not overlap the representation are dropped; when none is left, 416
//!   ([`RangeOutcome::NotSatisfiable`]). Last positions past the end are clipped; a suffix longer
//!   than the representation means all of it.
//! - The satisfiable ranges are sorted and overlapping or adjacent ones coalesced (§14.2 allows
//!   it); [`MAX_RANGES`] bounds the result.
//!
//! The bound, as RFC 9110 §14.2 permits a server to ignore "a set of many small ranges": a range
//! set of more than [`MAX_RANGE_SPECS`] specs, or one that still has more than [`MAX_RANGES`]
//! ranges after coalescing, gets the full representation (200). Both are fixed so the work per
//! request is bounded whatever the client sends.

use heapless::Vec;

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::take_while1;
use nom::character::complete::char;
use nom::combinator::opt;
use nom::sequence::{preceded, terminated};

use crate::chars::digit;
use crate::date::parse_http_date;
use crate::parse::{Method, Request};
use crate::precondition::{Validators, parse_entity_tag, single_field, strong_match};
use crate::rules::{PResult, list, token};
use crate::write::{SliceWriter, decimal, write_pieces};

/// Most ranges in a 206 response (after coalescing); more -> the full representation.
pub const MAX_RANGES: usize = 8;
/// Most range specs read from one `Range` field; more -> the full representation.
pub const MAX_RANGE_SPECS: usize = 32;

/// A satisfiable byte range, both ends inclusive, `start <= end < length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ByteRange {
    /// First byte offset.
    pub start: u64,
    /// Last byte offset (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    #[inline(never)]
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start).saturating_add(1)
    }

    /// Always false: a `ByteRange` holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the `Content-Range` value for this range: `bytes 0-99/1000` (RFC 9110 §14.4).
    pub fn write_content_range<W: embedded_io::Write>(
        &self,
        w: &mut W,
        total_len: u64,
    ) -> Result<(), W::Error> {
        let mut buf = [0u8; CONTENT_RANGE_MAX];
        w.write_all(content_range(Some(self), total_len, &mut buf))
    }
}

/// The longest Content-Range value: `bytes ` and three 20-digit numbers with `-` and `/`.
const CONTENT_RANGE_MAX: usize = 68;

/// Renders `bytes FIRST-LAST/TOTAL`, or `bytes */TOTAL` without a range, into `buf`. Not generic,
/// so every writer type and [`Multipart::content_length`] share it.
#[inline(never)]
fn content_range<'b>(
    range: Option<&ByteRange>,
    total_len: u64,
    buf: &'b mut [u8; CONTENT_RANGE_MAX],
) -> &'b [u8] {
    let mut first = [0u8; 20];
    let mut last = [0u8; 20];
    let mut total = [0u8; 20];
    let (first, dash, last): (&[u8], &[u8], &[u8]) = match range {
        Some(r) => (
            decimal(r.start, &mut first),
            b"-",
            decimal(r.end, &mut last),
        ),
        None => (b"*", b"", b""),
    };
    let mut w = SliceWriter::new(buf);
    // Cannot fail: the buffer holds the longest value.
    let _ = write_pieces(
        &mut w,
        &[
            b"bytes ",
            first,
            dash,
            last,
            b"/",
            decimal(total_len, &mut total),
        ],
    );
    w.into_written()
}

/// Writes the `Content-Range` value of a 416 response: `bytes */1000` (RFC 9110 §14.4).
pub fn write_unsatisfied_range<W: embedded_io::Write>(
    w: &mut W,
    total_len: u64,
) -> Result<(), W::Error> {
    let mut buf = [0u8; CONTENT_RANGE_MAX];
    w.write_all(content_range(None, total_len, &mut buf))
}

/// What to send for a request that may carry `Range`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RangeOutcome {
    /// 200 with the whole representation.
    Full,
    /// 206 with these ranges: sorted, disjoint, non-adjacent, at most [`MAX_RANGES`]. One range is
    /// sent with `Content-Range`, several as `multipart/byteranges` (see [`Multipart`]).
    Partial(Vec<ByteRange, MAX_RANGES>),
    /// 416 with `Content-Range: bytes */LEN`.
    NotSatisfiable,
}

/// One parsed range-spec (RFC 9110 §14.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-pos "-" [ last-pos ]`
    Int { first: u64, last: Option<u64> },
    /// `"-" suffix-length`
    Suffix(u64),
}

/// `1*DIGIT` as a number, saturating: a position past u64 is still a position past the end.
fn digits(input: &[u8]) -> PResult<'_, u64> {
    let (rest, run) = take_while1(digit).parse(input)?;
    let value = run.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Ok((rest, value))
}

/// `int-range = first-pos "-" [ last-pos ]` (RFC 9110 §14.1.1), refused when last-pos is less
/// than first-pos (§14.1.1: such a range-spec is invalid).
fn int_range(input: &[u8]) -> PResult<'_, RangeSpec> {
    let (rest, (first, _, last)) = (digits, char('-'), opt(digits)).parse(input)?;
    if last.is_some_and(|last| last < first) {
        return Err(nom::Err::Error(()));
    }
    Ok((rest, RangeSpec::Int { first, last }))
}

/// `suffix-range = "-" suffix-length` (RFC 9110 §14.1.1).
fn suffix_range(input: &[u8]) -> PResult<'_, RangeSpec> {
    let (rest, length) = preceded(char('-'), digits).parse(input)?;
    Ok((rest, RangeSpec::Suffix(length)))
}

/// `range-spec = int-range / suffix-range / other-range` (RFC 9110 §14.1.1); `other-range` is for
/// units other than `bytes`, which staticd ignores.
fn range_spec(input: &[u8]) -> PResult<'_, RangeSpec> {
    alt((int_range, suffix_range)).parse(input)
}

/// `ranges-specifier = range-unit "=" range-set` (RFC 9110 §14.1.1): the unit (a token) and the
/// range-set's text, which [`list`] walks with [`range_spec`].
fn ranges_specifier(input: &[u8]) -> PResult<'_, &[u8]> {
    terminated(token, char('=')).parse(input)
}

/// The satisfiable part of a spec against `len`, or `None` if it does not overlap (§14.1.1).
fn resolve_spec(spec: RangeSpec, len: u64) -> Option<ByteRange> {
    let last_byte = len.checked_sub(1)?;
    match spec {
        RangeSpec::Int { first, last } => (first <= last_byte).then(|| ByteRange {
            start: first,
            end: last.map_or(last_byte, |l| l.min(last_byte)),
        }),
        RangeSpec::Suffix(0) => None,
        RangeSpec::Suffix(n) => Some(ByteRange {
            start: len.saturating_sub(n),
            end: last_byte,
        }),
    }
}

/// The `If-Range` condition (RFC 9110 §13.1.5): true when the client's validator is current.
fn if_range_holds(value: &[u8], v: &Validators<'_>) -> bool {
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        // A weak tag never matches (strong comparison).
        parse_entity_tag(value).is_some_and(|tag| strong_match(&tag, v.etag))
    } else {
        parse_http_date(value) == Some(v.last_modified)
    }
}

/// Decides what part of a representation of `len` bytes to send; see the module docs.
pub fn evaluate_range(req: &Request<'_, '_>, v: &Validators<'_>, len: u64) -> RangeOutcome {
    if req.method != Method::Get {
        return RangeOutcome::Full;
    }
    let Ok(Some(range)) = single_field(req, "range") else {
        return RangeOutcome::Full;
    };
    match single_field(req, "if-range") {
        Ok(None) => {}
        Ok(Some(value)) if if_range_holds(value, v) => {}
        _ => return RangeOutcome::Full,
    }
    // range-unit is case-insensitive (§14.1); only `bytes` is served.
    let Ok((set, unit)) = ranges_specifier(range) else {
        return RangeOutcome::Full;
    };
    if !unit.eq_ignore_ascii_case(b"bytes") {
        return RangeOutcome::Full;
    }

    // Every satisfiable range, kept sorted by start (insertion sort: at most MAX_RANGE_SPECS).
    let mut found = [ByteRange { start: 0, end: 0 }; MAX_RANGE_SPECS];
    let mut count = 0usize;
    let mut nonzero_suffix = false;
    let mut too_many = false;
    // range-set = 1#range-spec: empty list elements are allowed, at least one spec is required.
    let specs = list(set, range_spec, |spec| {
        nonzero_suffix |= matches!(spec, RangeSpec::Suffix(n) if n > 0);
        let Some(r) = resolve_spec(spec, len) else {
            return true;
        };
        let Some(slot) = found.get_mut(count) else {
            // More than MAX_RANGE_SPECS specs.
            too_many = true;
            return false;
        };
        *slot = r;
        count += 1;
        let mut i = count - 1;
        // Insertion in start order; the checked pair keeps a bounds panic out of the device.
        while let Some([before, after]) = i.checked_sub(1).and_then(|b| found.get_mut(b..=i)) {
            if before.start <= r.start {
                break;
            }
            core::mem::swap(before, after);
            i -= 1;
        }
        true
    });
    let Ok(specs) = specs else {
        return RangeOutcome::Full;
    };
    if too_many {
        return RangeOutcome::Full;
    }
    if specs == 0 || specs > MAX_RANGE_SPECS {
        return RangeOutcome::Full;
    }
    if count == 0 {
        // §14.1.1: on an empty representation only a non-empty suffix range is satisfiable, and
        // the whole (empty) representation is its answer.
        return if len == 0 && nonzero_suffix {
            RangeOutcome::Full
        } else {
            RangeOutcome::NotSatisfiable
        };
    }
    // Coalesce overlapping and adjacent ranges, then bound the result.
    let mut out: Vec<ByteRange, MAX_RANGES> = Vec::new();
    for r in found.iter().take(count) {
        if let Some(last) = out.last_mut()
            && r.start <= last.end.saturating_add(1)
        {
            last.end = last.end.max(r.end);
            continue;
        }
        if out.push(*r).is_err() {
            return RangeOutcome::Full;
        }
    }
    RangeOutcome::Partial(out)
}

/// A `multipart/byteranges` body (RFC 9110 §14.6) for several ranges of one representation.
///
/// The response's `Content-Type` is `multipart/byteranges; boundary=BOUNDARY`. The body is, for
/// each range, [`Multipart::write_part_head`] then the range's bytes, and finally
/// [`Multipart::write_closing`]. [`Multipart::content_length`] is the exact total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Multipart<'a> {
    /// The boundary: 1 to 70 characters that must not occur in the body (RFC 2046 §5.1.1).
    pub boundary: &'a str,
    /// The representation's own `Content-Type`, repeated in each part.
    pub content_type: &'a str,
    /// The representation's full length, for each part's `Content-Range`.
    pub total_len: u64,
}

impl Multipart<'_> {
    /// The delimiter and headers before a part: `first` for the first part (later delimiters
    /// begin with the CRLF that ends the previous part's bytes, RFC 2046 §5.1.1).
    fn part_head<'a>(&'a self, content_range: &'a [u8], first: bool) -> [&'a [u8]; 8] {
        [
            if first { b"" } else { b"\r\n" },
            b"--",
            self.boundary.as_bytes(),
            b"\r\nContent-Type: ",
            self.content_type.as_bytes(),
            b"\r\nContent-Range: ",
            content_range,
            b"\r\n\r\n",
        ]
    }

    /// The closing delimiter, after the last part's bytes.
    fn closing(&self) -> [&[u8]; 3] {
        [b"\r\n--", self.boundary.as_bytes(), b"--\r\n"]
    }

    /// The body length for `ranges`, or `None` on overflow.
    pub fn content_length(&self, ranges: &[ByteRange]) -> Option<u64> {
        // The same pieces the writers send, summed: the length cannot drift from the body.
        let mut buf = [0u8; CONTENT_RANGE_MAX];
        let mut total = pieces_len(&self.closing());
        for (i, r) in ranges.iter().enumerate() {
            let head = self.part_head(content_range(Some(r), self.total_len, &mut buf), i == 0);
            total = total.checked_add(pieces_len(&head))?.checked_add(r.len())?;
        }
        Some(total)
    }

    /// Writes the delimiter and headers that precede range `r`'s bytes; `first` for the first part
    /// (later delimiters begin with the CRLF that ends the previous part's bytes).
    pub fn write_part_head<W: embedded_io::Write>(
        &self,
        w: &mut W,
        r: &ByteRange,
        first: bool,
    ) -> Result<(), W::Error> {
        let mut buf = [0u8; CONTENT_RANGE_MAX];
        let range = content_range(Some(r), self.total_len, &mut buf);
        write_pieces(w, &self.part_head(range, first))
    }

    /// Writes the closing delimiter after the last part's bytes.
    pub fn write_closing<W: embedded_io::Write>(&self, w: &mut W) -> Result<(), W::Error> {
        write_pieces(w, &self.closing())
    }
}

fn pieces_len(pieces: &[&[u8]]) -> u64 {
    pieces.iter().map(|p| p.len() as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Header, Version};
    use crate::write::SliceWriter;

    const ETAG: &[u8] = b"\"v1\"";
    const LM: u64 = 784_111_777;
    const LM_TEXT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const V: Validators<'static> = Validators {
        etag: ETAG,
        last_modified: LM,
    };

    fn eval_with(method: Method<'_>, fields: &[(&str, &str)], len: u64) -> RangeOutcome {
        let headers: std::vec::Vec<Header<'_>> = fields
            .iter()
            .map(|&(name, value)| Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        let req = Request {
            method,
            target: b"/video.mp4",
            version: Version::Http11,
            headers: &headers,
        };
        evaluate_range(&req, &V, len)
    }

    fn range(value: &str, len: u64) -> RangeOutcome {
        eval_with(Method::Get, &[("Range", value)], len)
    }

    fn partial(ranges: &[(u64, u64)]) -> RangeOutcome {
        let mut v = Vec::new();
        for &(start, end) in ranges {
            v.push(ByteRange { start, end }).unwrap();
        }
        RangeOutcome::Partial(v)
    }

    use RangeOutcome::{Full, NotSatisfiable};

    #[test]
    fn single_ranges() {
        assert_eq!(range("bytes=0-99", 1000), partial(&[(0, 99)]));
        assert_eq!(range("bytes=500-999", 1000), partial(&[(500, 999)]));
        assert_eq!(range("bytes=0-0", 1000), partial(&[(0, 0)]));
        assert_eq!(range("bytes=999-999", 1000), partial(&[(999, 999)]));
        // last-pos past the end is clipped.
        assert_eq!(range("bytes=900-5000", 1000), partial(&[(900, 999)]));
        assert_eq!(
            range("bytes=0-99999999999999999999999", 1000),
            partial(&[(0, 999)])
        );
    }

    #[test]
    fn open_ended_and_suffix() {
        assert_eq!(range("bytes=100-", 1000), partial(&[(100, 999)]));
        assert_eq!(range("bytes=0-", 1000), partial(&[(0, 999)]));
        assert_eq!(range("bytes=-100", 1000), partial(&[(900, 999)]));
        assert_eq!(range("bytes=-1", 1000), partial(&[(999, 999)]));
        // A suffix longer than the representation is all of it.
        assert_eq!(range("bytes=-5000", 1000), partial(&[(0, 999)]));
        assert_eq!(
            range("bytes=-99999999999999999999999", 1000),
            partial(&[(0, 999)])
        );
    }

    #[test]
    fn unit_is_case_insensitive_and_lists_allow_ows() {
        assert_eq!(range("BYTES=0-1", 10), partial(&[(0, 1)]));
        assert_eq!(range("Bytes=0-1 , 5-6", 10), partial(&[(0, 1), (5, 6)]));
        assert_eq!(range("bytes=0-1,\t5-6", 10), partial(&[(0, 1), (5, 6)]));
        assert_eq!(range("bytes=, 0-1,,", 10), partial(&[(0, 1)]));
    }

    #[test]
    fn multiple_ranges_are_sorted_and_coalesced() {
        assert_eq!(
            range("bytes=0-9,20-29,40-49", 100),
            partial(&[(0, 9), (20, 29), (40, 49)])
        );
        assert_eq!(
            range("bytes=40-49,0-9,20-29", 100),
            partial(&[(0, 9), (20, 29), (40, 49)])
        );
        // Overlapping.
        assert_eq!(range("bytes=0-50,25-75", 100), partial(&[(0, 75)]));
        // Adjacent.
        assert_eq!(range("bytes=0-9,10-19", 100), partial(&[(0, 19)]));
        // A later range bridging earlier ones.
        assert_eq!(range("bytes=0-9,20-29,5-25", 100), partial(&[(0, 29)]));
        // Suffix overlapping an int range.
        assert_eq!(range("bytes=0-10,-95", 100), partial(&[(0, 99)]));
        // Duplicates.
        assert_eq!(range("bytes=5-6,5-6,5-6", 100), partial(&[(5, 6)]));
        // Unsatisfiable members are dropped, the rest is served.
        assert_eq!(range("bytes=0-9,500-600", 100), partial(&[(0, 9)]));
    }

    #[test]
    fn bounds() {
        let eight: std::vec::Vec<std::string::String> = (0..8)
            .map(|i| std::format!("{}-{}", i * 10, i * 10 + 1))
            .collect();
        let eight = std::format!("bytes={}", eight.join(","));
        assert!(matches!(range(&eight, 1000), RangeOutcome::Partial(r) if r.len() == 8));

        let nine: std::vec::Vec<std::string::String> = (0..9)
            .map(|i| std::format!("{}-{}", i * 10, i * 10 + 1))
            .collect();
        let nine = std::format!("bytes={}", nine.join(","));
        assert_eq!(range(&nine, 1000), Full);

        // Many specs that coalesce into few are fine up to MAX_RANGE_SPECS...
        let many: std::vec::Vec<std::string::String> = (0..MAX_RANGE_SPECS)
            .map(|i| std::format!("{i}-{i}"))
            .collect();
        let many_text = std::format!("bytes={}", many.join(","));
        assert_eq!(range(&many_text, 1000), partial(&[(0, 31)]));
        // ... and one more spec than that is ignored.
        let too_many = std::format!("{many_text},32-32");
        assert_eq!(range(&too_many, 1000), Full);
        // Nine disjoint ranges that a tenth merges into one: exact coalescing gives 206.
        let merged = std::format!("{nine},0-999");
        assert_eq!(range(&merged, 1000), partial(&[(0, 999)]));
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(range("bytes=1000-", 1000), NotSatisfiable);
        assert_eq!(range("bytes=1000-2000", 1000), NotSatisfiable);
        assert_eq!(range("bytes=-0", 1000), NotSatisfiable);
        assert_eq!(range("bytes=5000-6000,2000-", 1000), NotSatisfiable);
        assert_eq!(range("bytes=0-0", 0), NotSatisfiable);
        assert_eq!(range("bytes=0-", 0), NotSatisfiable);
        assert_eq!(range("bytes=99999999999999999999999-", 10), NotSatisfiable);
        // An empty representation with a non-empty suffix: satisfiable, the answer is all of it.
        assert_eq!(range("bytes=-5", 0), Full);
    }

    #[test]
    fn malformed_or_other_units_are_ignored() {
        for bad in [
            "bytes=5-2",
            "bytes=",
            "bytes=,",
            "bytes=x-5",
            "bytes=5-x",
            "bytes=-",
            "bytes=--5",
            "bytes=5--6",
            "bytes=+5-6",
            "bytes=0x10-20",
            "bytes=1.5-2",
            "bytes = 0-5",
            "bytes 0-5",
            "bytes=0-5;x",
            "items=0-5",
            "none",
            "",
            "=0-5",
            "bytes=0-1,5-2",
            "bytes=0 -1",
        ] {
            assert_eq!(range(bad, 1000), Full, "{bad:?}");
        }
    }

    #[test]
    fn only_get() {
        assert_eq!(eval_with(Method::Head, &[("Range", "bytes=0-1")], 10), Full);
        assert_eq!(eval_with(Method::Post, &[("Range", "bytes=0-1")], 10), Full);
        assert_eq!(
            eval_with(Method::Options, &[("Range", "bytes=0-1")], 10),
            Full
        );
        assert_eq!(eval_with(Method::Get, &[], 10), Full);
    }

    #[test]
    fn two_range_lines_are_ignored() {
        assert_eq!(
            eval_with(
                Method::Get,
                &[("Range", "bytes=0-1"), ("range", "bytes=2-3")],
                10
            ),
            Full
        );
    }

    #[test]
    fn if_range() {
        let with = |if_range: &str| {
            eval_with(
                Method::Get,
                &[("Range", "bytes=0-1"), ("If-Range", if_range)],
                10,
            )
        };
        assert_eq!(with("\"v1\""), partial(&[(0, 1)]));
        assert_eq!(with("\"v2\""), Full);
        assert_eq!(with("W/\"v1\""), Full);
        assert_eq!(with(LM_TEXT), partial(&[(0, 1)]));
        assert_eq!(with("Sunday, 06-Nov-94 08:49:37 GMT"), partial(&[(0, 1)]));
        // Only an exact date: a later one means the client's copy may differ.
        assert_eq!(with("Sun, 06 Nov 1994 08:49:38 GMT"), Full);
        assert_eq!(with("Sun, 06 Nov 1994 08:49:36 GMT"), Full);
        assert_eq!(with("garbage"), Full);
        assert_eq!(with(""), Full);
        assert_eq!(with("\"v1"), Full);
        // If-Range without Range changes nothing.
        assert_eq!(eval_with(Method::Get, &[("If-Range", "\"v2\"")], 10), Full);
        // A failing If-Range beats an unsatisfiable Range: 200, not 416.
        assert_eq!(
            eval_with(
                Method::Get,
                &[("Range", "bytes=50-"), ("If-Range", "\"v2\"")],
                10
            ),
            Full
        );
        // Two If-Range lines: not a valid validator.
        assert_eq!(
            eval_with(
                Method::Get,
                &[
                    ("Range", "bytes=0-1"),
                    ("If-Range", "\"v1\""),
                    ("If-Range", "\"v1\"")
                ],
                10
            ),
            Full
        );
    }

    #[test]
    fn content_range_values() {
        let mut buf = [0u8; 64];
        let mut w = SliceWriter::new(&mut buf);
        ByteRange { start: 0, end: 99 }
            .write_content_range(&mut w, 1000)
            .unwrap();
        assert_eq!(w.as_bytes(), b"bytes 0-99/1000");
        w.clear();
        write_unsatisfied_range(&mut w, 1000).unwrap();
        assert_eq!(w.as_bytes(), b"bytes */1000");
        // The longest value fits the fixed rendering buffer.
        let mut buf = [0u8; 128];
        let mut w = SliceWriter::new(&mut buf);
        let last = ByteRange {
            start: u64::MAX - 1,
            end: u64::MAX - 1,
        };
        last.write_content_range(&mut w, u64::MAX).unwrap();
        let want = b"bytes 18446744073709551614-18446744073709551614/18446744073709551615";
        assert_eq!(w.as_bytes(), want);
        assert_eq!(want.len(), CONTENT_RANGE_MAX);
        w.clear();
        write_unsatisfied_range(&mut w, u64::MAX).unwrap();
        assert_eq!(w.as_bytes(), b"bytes */18446744073709551615");
        assert_eq!(ByteRange { start: 5, end: 5 }.len(), 1);
        assert_eq!(ByteRange { start: 0, end: 99 }.len(), 100);
    }

    #[test]
    fn multipart_body_layout_and_length() {
        let data: std::vec::Vec<u8> = (0..100u8).collect();
        let mp = Multipart {
            boundary: "3d6b6a416f9b5",
            content_type: "video/mp4",
            total_len: 100,
        };
        let ranges = [
            ByteRange { start: 0, end: 4 },
            ByteRange { start: 90, end: 99 },
        ];
        let mut buf = [0u8; 512];
        let mut w = SliceWriter::new(&mut buf);
        for (i, r) in ranges.iter().enumerate() {
            mp.write_part_head(&mut w, r, i == 0).unwrap();
            embedded_io::Write::write_all(&mut w, &data[r.start as usize..=r.end as usize])
                .unwrap();
        }
        mp.write_closing(&mut w).unwrap();
        let body = w.as_bytes();
        assert_eq!(mp.content_length(&ranges), Some(body.len() as u64));
        let mut expected = std::vec::Vec::new();
        expected.extend_from_slice(
            b"--3d6b6a416f9b5\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-4/100\r\n\r\n",
        );
        expected.extend_from_slice(&data[0..5]);
        expected.extend_from_slice(
            b"\r\n--3d6b6a416f9b5\r\nContent-Type: video/mp4\r\nContent-Range: bytes 90-99/100\r\n\r\n",
        );
        expected.extend_from_slice(&data[90..100]);
        expected.extend_from_slice(b"\r\n--3d6b6a416f9b5--\r\n");
        assert_eq!(body, &expected[..]);
    }

    #[test]
    fn multipart_length_overflow_is_none() {
        let mp = Multipart {
            boundary: "b",
            content_type: "application/octet-stream",
            total_len: u64::MAX,
        };
        let ranges = [
            ByteRange {
                start: 0,
                end: u64::MAX - 1,
            },
            ByteRange {
                start: 0,
                end: u64::MAX - 1,
            },
        ];
        assert_eq!(mp.content_length(&ranges), None);
    }
}
