//! `proxy::parse_header` on any bytes:
//! - it never panics;
//! - `Complete` has `len <= input`, `len <= 107` for v1 and `len <= MAX_V2_HEADER_BYTES` for v2,
//!   and the header is decided by its own bytes: `input[..len]` alone gives the same header, and
//!   every shorter prefix is `Partial`;
//! - an error stays an error (the same one) whatever follows, and each prefix is `Partial` or that
//!   same error; `NotProxy` stays `NotProxy` whatever follows;
//! - `Partial` never holds more than the bound: past 107 bytes (v1) or the header's declared
//!   length (v2), the parser has decided.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticd_core::proxy::{
    MAX_V1_LINE_BYTES, MAX_V2_HEADER_BYTES, Parsed, Version, parse_header,
};

fuzz_target!(|data: &[u8]| {
    let whole = parse_header(data);
    match whole {
        Ok(Parsed::Complete(header)) => {
            assert!(header.len <= data.len());
            match header.version {
                Version::V1 => assert!(header.len <= MAX_V1_LINE_BYTES),
                Version::V2 => assert!(header.len >= 16 && header.len <= MAX_V2_HEADER_BYTES),
            }
            assert_eq!(parse_header(&data[..header.len]), whole);
            for cut in 0..header.len {
                assert_eq!(parse_header(&data[..cut]), Ok(Parsed::Partial), "cut {cut}");
            }
        }
        Ok(Parsed::Partial) => {
            assert!(data.len() < MAX_V2_HEADER_BYTES, "{} bytes still partial", data.len());
            if data.starts_with(b"PROXY ") {
                assert!(data.len() < MAX_V1_LINE_BYTES);
            }
            for cut in 0..data.len() {
                assert_eq!(parse_header(&data[..cut]), Ok(Parsed::Partial), "cut {cut}");
            }
        }
        Ok(Parsed::NotProxy) | Err(_) => {
            let mut longer = data.to_vec();
            longer.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
            assert_eq!(parse_header(&longer), whole);
            for cut in 0..data.len() {
                let prefix = parse_header(&data[..cut]);
                assert!(prefix == Ok(Parsed::Partial) || prefix == whole, "cut {cut}: {prefix:?}");
            }
        }
    }
});
