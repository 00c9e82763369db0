//! Property tests for the HTTPS redirect (`respond::redirect_to_https`): whatever the Host field
//! and request-target a client sends, the answer is a 301 whose Location is `https://`, the
//! request's host and a URI of RFC 3986 characters only, or a 400 with no Location; never a
//! panic, and never a byte of the client's that could end the field or start another.

use proptest::prelude::*;
use staticd_core::respond::{Now, Site, redirect_to_https};
use staticd_core::{Header, HttpDate, ParserConfig, Policy, StaticTable, Status, parse_request};

/// Host values and targets built from pieces that are valid, nearly valid and hostile.
fn host_value() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        &b"example.test"[..],
        b"a",
        b"-",
        b".",
        b":",
        b":8080",
        b"[",
        b"]",
        b"::1",
        b"@",
        b"/",
        b"?",
        b"#",
        b"%0d%0a",
        b"\"",
        b"<",
        b"\\",
        b" ",
        b"\t",
        b"\xff",
        b"Location: x",
    ]);
    prop::collection::vec(pieces, 0..6).prop_map(|p| p.concat())
}

fn target() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        &b"/"[..],
        b"/a.txt",
        b"?q=1",
        b"&",
        b"%41",
        b"\"",
        b"<>",
        b"\\",
        b"\xc3\xa9",
        b"http://",
        b"https://",
        b"other.test",
        b":81",
        b"@",
        b"#",
        b"*",
    ]);
    prop::collection::vec(pieces, 1..6).prop_map(|p| p.concat())
}

/// RFC 3986 §2: the characters a URI holds (reserved, unreserved, and `%` of a pct-encoding).
fn uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn location_is_https_the_host_and_uri_characters_or_the_answer_is_400(
        host in host_value(),
        target in target(),
        head_only in any::<bool>(),
    ) {
        let method: &[u8] = if head_only { b"HEAD " } else { b"GET " };
        let mut request = method.to_vec();
        request.extend_from_slice(&target);
        request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        request.extend_from_slice(&host);
        request.extend_from_slice(b"\r\n\r\n");
        let mut fields = [Header::EMPTY; 8];
        let Ok(Status::Complete((_, req))) =
            parse_request(&ParserConfig::default(), &request, &mut fields)
        else {
            // The parser refuses it first: nothing reaches the redirect.
            return Ok(());
        };
        let date = HttpDate::from_unix(1_795_741_323);
        let now = Now { ms: 0, unix_secs: 1_795_741_323, date: &date };
        let mut files = StaticTable::new(&[]);
        let mut path_buf = [0u8; 512];
        let mut site = Site { policy: &Policy::DEFAULT, source: &mut files, path_buf: &mut path_buf };
        let mut out = Vec::new();
        let response = redirect_to_https(&req, true, 8443, &now, &mut site, &mut out);
        let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 2;
        let head = &out[..head_end];
        let locations: Vec<&[u8]> = head
            .split(|&b| b == b'\n')
            .filter_map(|line| line.strip_prefix(b"Location: "))
            .collect();
        match response.status.as_u16() {
            301 => {
                prop_assert_eq!(locations.len(), 1);
                let value = locations[0].strip_suffix(b"\r").expect("CRLF");
                prop_assert!(value.starts_with(b"https://"), "{:?}", String::from_utf8_lossy(value));
                prop_assert!(value.iter().all(|&b| uri_char(b)), "{:?}", String::from_utf8_lossy(value));
                // The authority is a host and the configured port, nothing the client added.
                let authority = value[8..].split(|&b| b == b'/').next().unwrap_or_default();
                let port = authority.rsplit(|&b| b == b':').next().unwrap_or_default();
                prop_assert_eq!(port, &b"8443"[..]);
                prop_assert!(!authority.contains(&b'@') && !authority.contains(&b'?'));
            }
            400 => prop_assert!(locations.is_empty()),
            other => prop_assert!(false, "status {}", other),
        }
        // Every line of the head is a field or the status line: no client byte split it.
        for line in head.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            prop_assert!(line.ends_with(b"\r"));
            prop_assert!(!line[..line.len() - 1].contains(&b'\r'));
        }
    }
}
