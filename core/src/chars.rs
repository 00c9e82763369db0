//! The character classes of the HTTP grammars, one copy for every parser of the core: the request
//! head scanners ([`crate::parse`]), the grammars of the fields and the chunked coding
//! ([`crate::range`], [`crate::precondition`], [`crate::date`], [`crate::body`]), the path decoder
//! and the configuration checks.
//!
//! Each class is named after its ABNF rule (RFC 9110 §5.5, §5.6; RFC 5234 Appendix B.1) and is a
//! `const fn` over one byte; `tchar`, the one class tested on every byte of a field name, is also a
//! 256-entry table.

/// `DIGIT = %x30-39` (RFC 5234 Appendix B.1).
#[inline(always)]
pub(crate) const fn digit(byte: u8) -> bool {
    byte.is_ascii_digit()
}

/// `HEXDIG = DIGIT / "A"-"F"`, case-insensitive as ABNF strings are (RFC 5234 §2.3, B.1).
#[inline(always)]
pub(crate) const fn hexdig(byte: u8) -> bool {
    byte.is_ascii_hexdigit()
}

/// The value of a `HEXDIG`, `None` for any other byte.
pub(crate) const fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// `SP / HTAB`: the byte of `OWS`, `RWS` and `BWS` (RFC 9110 §5.6.3).
#[inline(always)]
pub(crate) const fn ows(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t')
}

/// `field-vchar = VCHAR / obs-text` (RFC 9110 §5.5), with `VCHAR = %x21-7E` (RFC 5234 B.1) and
/// `obs-text = %x80-FF`.
#[inline(always)]
pub(crate) const fn field_vchar(byte: u8) -> bool {
    byte >= 0x21 && byte != 0x7f
}

/// A byte of a field value: `SP / HTAB / field-vchar` (RFC 9110 §5.5). The same class is what a
/// `quoted-pair` may escape (RFC 9110 §5.6.4).
#[inline(always)]
pub(crate) const fn field_byte(byte: u8) -> bool {
    byte == b'\t' || (byte >= 0x20 && byte != 0x7f)
}

/// `etagc = %x21 / %x23-7E / obs-text` (RFC 9110 §8.8.3): a visible byte other than DQUOTE.
#[inline(always)]
pub(crate) const fn etagc(byte: u8) -> bool {
    field_vchar(byte) && byte != b'"'
}

/// `tchar` (RFC 9110 §5.6.2), by comparisons; [`tchar`] is the same class by table.
const fn is_tchar(byte: u8) -> bool {
    matches!(byte,
        b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~')
}

const fn tchar_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0u8;
    loop {
        #[allow(clippy::indexing_slicing)] // reason: a u8 always indexes a 256-entry table
        {
            table[byte as usize] = is_tchar(byte);
        }
        if byte == u8::MAX {
            break table;
        }
        byte += 1;
    }
}

static TCHAR: [bool; 256] = tchar_table();

/// `tchar` (RFC 9110 §5.6.2) by table: the one check for the head, the body framing, chunk
/// extensions, trailers and config header names.
#[inline(always)]
pub(crate) fn tchar(byte: u8) -> bool {
    TCHAR.get(usize::from(byte)).copied().unwrap_or(false)
}

/// Removes OWS (RFC 9110 §5.6.3) from both ends of a list element or field value.
pub(crate) fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_match_their_rules() {
        for byte in 0..=u8::MAX {
            let b = byte;
            assert_eq!(tchar(b), is_tchar(b), "{b:#x}");
            assert_eq!(
                tchar(b),
                b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b),
                "{b:#x}"
            );
            assert_eq!(hexdig(b), hex_value(b).is_some(), "{b:#x}");
            assert_eq!(digit(b), b"0123456789".contains(&b), "{b:#x}");
            let obs_text = b >= 0x80;
            assert_eq!(
                field_vchar(b),
                (0x21..=0x7e).contains(&b) || obs_text,
                "{b:#x}"
            );
            assert_eq!(
                field_byte(b),
                b" \t".contains(&b) || field_vchar(b),
                "{b:#x}"
            );
            let etag = b == 0x21 || (0x23..=0x7e).contains(&b) || obs_text;
            assert_eq!(etagc(b), etag, "{b:#x}");
        }
        assert_eq!(hex_value(b'f'), Some(15));
        assert_eq!(hex_value(b'A'), Some(10));
        assert_eq!(hex_value(b'9'), Some(9));
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(trim_ows(b" \t "), b"");
    }
}
