//! `resolve_target` on any bytes:
//! - it never panics;
//! - an Ok path has no `..`, `.` or empty segment, does not start or end with `/`, and holds no NUL,
//!   backslash or other control byte;
//! - resolving again the target that names the result (`/` + the path with `%`, `?`, `#` escaped,
//!   plus `/` when it named a directory) gives the same result: the resolver is idempotent;
//! - a smaller output buffer changes nothing but to add `TooLong`;
//! - a raw byte 0x80-0xFF resolves as its percent-encoding `%XX` does (RFC 3986 §2.1: read as if the
//!   client had encoded it), whether or not the bytes form UTF-8.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticd_core::path::{PathError, ResolvedPath, hidden_segment, resolve_target};

fn owned(r: Result<ResolvedPath<'_>, PathError>) -> Result<(String, bool), PathError> {
    r.map(|p| (p.path.to_owned(), p.trailing_slash))
}

fn check_shape(path: &str, target: &[u8]) {
    assert!(
        !path.starts_with('/'),
        "leading slash: {path:?} from {target:?}"
    );
    if !path.is_empty() {
        for segment in path.split('/') {
            assert!(
                !matches!(segment, "" | "." | ".."),
                "segment {segment:?} in {path:?} from {target:?}"
            );
        }
    }
    assert!(
        !path
            .bytes()
            .any(|b| b == 0 || b == b'\\' || b < 0x20 || b == 0x7f),
        "NUL, backslash or control byte in {path:?} from {target:?}"
    );
}

/// The origin-form target that names `path`: decoding must give back exactly `path`.
fn target_for(path: &str, trailing_slash: bool) -> Vec<u8> {
    let mut t = vec![b'/'];
    for b in path.bytes() {
        match b {
            b'%' | b'?' | b'#' => t.extend_from_slice(format!("%{b:02X}").as_bytes()),
            _ => t.push(b),
        }
    }
    if trailing_slash && !path.is_empty() {
        t.push(b'/');
    }
    t
}

/// `target` with every byte 0x80-0xFF written as `%XX`.
fn percent_encode_high(target: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(target.len());
    for &b in target {
        if b >= 0x80 {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

fuzz_target!(|target: &[u8]| {
    let mut out = [0u8; 4096];
    let big = owned(resolve_target(target, &mut out));

    let encoded = percent_encode_high(target);
    let mut encoded_out = [0u8; 4096];
    assert_eq!(
        owned(resolve_target(&encoded, &mut encoded_out)),
        big,
        "raw high bytes resolve unlike their encoding {encoded:?}: {target:?}"
    );

    let mut small_out = [0u8; 24];
    match owned(resolve_target(target, &mut small_out)) {
        Err(PathError::TooLong) => {}
        small => assert_eq!(
            small, big,
            "a 24-byte buffer changes more than TooLong: {target:?}"
        ),
    }

    let Ok((path, trailing_slash)) = big else {
        return;
    };
    check_shape(&path, target);
    let _ = hidden_segment(&path, &[".well-known"]);

    let again_target = target_for(&path, trailing_slash);
    let mut again_out = [0u8; 4096];
    let again = owned(resolve_target(&again_target, &mut again_out));
    assert_eq!(
        again,
        Ok((path.clone(), trailing_slash)),
        "resolving {again_target:?} (from {target:?}) is not idempotent"
    );
});
