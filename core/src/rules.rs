//! The ABNF rules shared by the field grammars of the core (RFC 9110 §5.6), as nom combinators over
//! bytes: `OWS`, `token`, and the `#rule` list walker. The grammars built on them (`range_spec`,
//! `entity_tag`, `imf_fixdate`, `transfer_coding`, `chunk_ext`, ...) live beside the code that uses
//! them. The request-line and field scanners of [`crate::parse`] are the exception, and say why.
//!
//! The error type is `()`: a field that does not match its grammar is ignored or refused as a
//! whole, so where it failed is never needed, and a unit error costs no code to carry.

use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::char;
use nom::{IResult, Parser};

use crate::chars::{field_byte, ows as is_ows, tchar, trim_ows};

/// What every grammar of the core returns: the rest of the input and the value, or `()`.
pub(crate) type PResult<'a, O> = IResult<&'a [u8], O, ()>;

/// `OWS = *( SP / HTAB )` (RFC 9110 §5.6.3); `BWS` is the same bytes.
pub(crate) fn ows(input: &[u8]) -> PResult<'_, &[u8]> {
    take_while(is_ows).parse(input)
}

/// `token = 1*tchar` (RFC 9110 §5.6.2).
pub(crate) fn token(input: &[u8]) -> PResult<'_, &[u8]> {
    take_while1(tchar).parse(input)
}

/// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE` (RFC 9110 §5.6.4), checked; its
/// value is never used, so nothing is unescaped. `qdtext` is a field byte other than DQUOTE and
/// backslash, `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )`: a backslash and a field byte.
pub(crate) fn quoted_string(input: &[u8]) -> PResult<'_, ()> {
    let (mut rest, _) = char('"').parse(input)?;
    loop {
        rest = match rest {
            [b'"', after @ ..] => return Ok((after, ())),
            [b'\\', escaped, after @ ..] if field_byte(*escaped) => after,
            [byte, after @ ..] if *byte != b'\\' && field_byte(*byte) => after,
            _ => return Err(nom::Err::Error(())),
        };
    }
}

/// `token / quoted-string`: the value of a transfer-parameter (RFC 9110 §10.1.4) and of a
/// chunk-ext-val (RFC 9112 §7.1.1), checked and unused.
pub(crate) fn token_or_quoted_string(input: &[u8]) -> PResult<'_, ()> {
    match token(input) {
        Ok((rest, _)) => Ok((rest, ())),
        Err(_) => quoted_string(input),
    }
}

/// Walks a list read leniently, for the lists whose elements are only compared with known values
/// (`Connection`, `If-Match`): each element is the bytes up to the next comma, OWS trimmed, empty
/// ones skipped (RFC 9110 §5.6.1.2), and `each` is called until it returns false. A malformed
/// element then matches nothing and the rest of the list is still read. It is [`list`] with an
/// element that runs to the next comma, written as a split: that walk cannot fail, and the split
/// is a fraction of the code of another instance of [`list`] (scripts/core-size.sh).
#[inline(never)]
pub(crate) fn lenient_list(input: &[u8], each: &mut dyn FnMut(&[u8]) -> bool) {
    for element in input.split(|&b| b == b',') {
        let element = trim_ows(element);
        if !element.is_empty() && !each(element) {
            return;
        }
    }
}

/// A `#element` list as a recipient reads it (RFC 9110 §5.6.1.2): elements separated by
/// `OWS "," OWS`, empty elements ignored. `each` is called with every element in order and
/// returns false to stop the walk there. `Err` when an element does not match `element` or is
/// followed by anything but OWS and a comma or the end; `Ok` with the number of elements seen
/// otherwise (zero for a list of only commas and whitespace).
pub(crate) fn list<'a, O>(
    mut input: &'a [u8],
    mut element: impl Parser<&'a [u8], Output = O, Error = ()>,
    mut each: impl FnMut(O) -> bool,
) -> Result<usize, ()> {
    let mut count = 0usize;
    loop {
        let (rest, _) = ows(input).map_err(|_| ())?;
        input = match rest {
            [] => return Ok(count),
            [b',', after @ ..] => after,
            _ => {
                let (rest, value) = element.parse(rest).map_err(|_| ())?;
                count = count.saturating_add(1);
                if !each(value) {
                    return Ok(count);
                }
                let (rest, _) = ows(rest).map_err(|_| ())?;
                match rest {
                    [] => return Ok(count),
                    [b',', after @ ..] => after,
                    _ => return Err(()),
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &str) -> Result<std::vec::Vec<&[u8]>, ()> {
        let mut out = std::vec::Vec::new();
        list(input.as_bytes(), token, |t| {
            out.push(t);
            true
        })
        .map(|n| {
            assert_eq!(n, out.len());
            out
        })
    }

    #[test]
    fn list_reads_empty_elements_and_ows() {
        let ab: &[&[u8]] = &[b"a", b"b"];
        assert_eq!(tokens("a,b").as_deref(), Ok(ab));
        assert_eq!(tokens(" , a ,\t, b ,").as_deref(), Ok(ab));
        assert_eq!(tokens("").as_deref(), Ok(&[][..]));
        assert_eq!(tokens(" ,, ").as_deref(), Ok(&[][..]));
        assert_eq!(tokens("a b"), Err(()));
        assert_eq!(tokens("a,@"), Err(()));
        assert_eq!(tokens("a;"), Err(()));
        // Stopping early counts what was seen and ignores the rest.
        assert_eq!(list(b"a,b,@", token, |t| t != b"b"), Ok(2));
    }

    #[test]
    fn quoted_string_and_its_escapes() {
        let ok: &[(&[u8], &[u8])] = &[
            (b"\"\"", b""),
            (b"\"a b\\\"c\"", b""),
            (b"\"\\\\\";x", b";x"),
            (b"\"\t\xe9\\\xff\",", b","),
        ];
        for &(input, rest) in ok {
            assert_eq!(quoted_string(input), Ok((rest, ())), "{input:?}");
        }
        for bad in [
            &b"x"[..],
            b"\"",
            b"\"abc",
            b"\"a\\\"",
            b"\"a\x00\"",
            b"\"a\x7f\"",
            b"\"\\\x01\"",
            b"\"a\r\n\"",
        ] {
            assert!(quoted_string(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lenient_elements() {
        let mut seen = std::vec::Vec::new();
        lenient_list(b" a b ,,\t\"x,y\" , @", &mut |e| {
            seen.push(e.to_vec());
            true
        });
        let expected: &[&[u8]] = &[b"a b", b"\"x", b"y\"", b"@"];
        assert_eq!(seen, expected);
        // Stopping early skips the rest.
        let mut count = 0;
        lenient_list(b"a, b, c", &mut |e| {
            count += 1;
            e != b"b"
        });
        assert_eq!(count, 2);
    }
}
