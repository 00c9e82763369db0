//! The PROXY protocol header a balancer sends before the client's bytes (versions 1 and 2), parsed
//! sans-IO from the start of a connection's input.
//!
//! Version 1 is one text line, `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (or `TCP6`, or
//! `UNKNOWN` with anything up to the CRLF), at most 107 bytes. Version 2 is a 12-byte signature,
//! a version/command byte, an address family byte, a 16-bit length and that many bytes of
//! addresses and TLVs. Both are bounded here: a v1 line without its CRLF by byte 107, and a v2
//! header above [`MAX_V2_HEADER_BYTES`], are errors, never a wait for more.
//!
//! [`parse_header`] says `Partial` while the input could still become a header, `NotProxy` as soon
//! as it cannot be one (a plain HTTP request), and `Complete` with the header's length and the
//! addresses it carries. Whether a peer may send one at all is the caller's decision.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::char;
use nom::combinator::all_consuming;
use nom::sequence::preceded;

use crate::rules::PResult;

/// The version 2 signature (12 bytes).
pub const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The version 1 prefix.
pub const V1_PREFIX: &[u8; 6] = b"PROXY ";
/// A version 1 line's longest form, CRLF included (`PROXY UNKNOWN` and the longest TCP6 fields).
pub const MAX_V1_LINE_BYTES: usize = 107;
/// The longest version 2 header accepted, the 16 fixed bytes included: the addresses and a few
/// TLVs fit; it also fits the smallest request buffer the settings allow (1024 bytes).
pub const MAX_V2_HEADER_BYTES: usize = 1024;

/// Which version of the protocol a header used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The text line.
    V1,
    /// The binary header.
    V2,
}

/// A complete header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeader {
    /// Bytes of input the header took; the client's own bytes follow.
    pub len: usize,
    /// The version it was written in.
    pub version: Version,
    /// The client and the address it connected to, as the balancer saw them. `None` for v1
    /// `UNKNOWN`, a v2 `LOCAL` command (the balancer's own health check) and v2 families other
    /// than TCP over IPv4/IPv6: the connection's own peer is then the client.
    pub addresses: Option<Addresses>,
}

/// The two ends of the client's connection to the balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addresses {
    /// The client.
    pub source: SocketAddr,
    /// The address the client connected to.
    pub destination: SocketAddr,
}

/// What the input holds so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A prefix of a header: read more.
    Partial,
    /// A header, complete.
    Complete(ProxyHeader),
    /// The input does not start with either version's signature.
    NotProxy,
}

/// Why a header is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyError {
    /// A v1 line without its CRLF within 107 bytes, or a v2 header longer than
    /// [`MAX_V2_HEADER_BYTES`].
    TooLong,
    /// A v1 line that is not `PROXY TCP4|TCP6|UNKNOWN ...` with valid fields.
    BadLine,
    /// A v2 version nibble other than 2, or a command other than LOCAL and PROXY.
    BadVersion,
    /// A v2 address family, or transport, that is not defined.
    BadFamily,
    /// A v2 length too short for the addresses of its family.
    BadLength,
}

/// Parses a PROXY header at the start of `input` (see the module docs).
pub fn parse_header(input: &[u8]) -> Result<Parsed, ProxyError> {
    if could_start(input, V1_PREFIX) {
        return if input.len() < V1_PREFIX.len() {
            Ok(Parsed::Partial)
        } else {
            parse_v1(input)
        };
    }
    if could_start(input, V2_SIGNATURE) {
        return if input.len() < V2_SIGNATURE.len() {
            Ok(Parsed::Partial)
        } else {
            parse_v2(input)
        };
    }
    Ok(Parsed::NotProxy)
}

/// `input` and `signature` agree on their common prefix.
fn could_start(input: &[u8], signature: &[u8]) -> bool {
    input.iter().zip(signature).all(|(a, b)| a == b)
}

fn parse_v1(input: &[u8]) -> Result<Parsed, ProxyError> {
    let window = input.get(..MAX_V1_LINE_BYTES).unwrap_or(input);
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        return if input.len() >= MAX_V1_LINE_BYTES {
            Err(ProxyError::TooLong)
        } else {
            Ok(Parsed::Partial)
        };
    };
    // The line ends in CRLF; a bare LF, or a CR anywhere else, is not the protocol.
    let Some((line, b'\r')) = lf
        .checked_sub(1)
        .and_then(|cr| window.get(..cr).zip(window.get(cr)))
    else {
        return Err(ProxyError::BadLine);
    };
    if line.iter().any(|&b| !(0x20..0x7f).contains(&b)) {
        return Err(ProxyError::BadLine);
    }
    let addresses = proxy_line(line)
        .map(|(_, addresses)| addresses)
        .map_err(|_| ProxyError::BadLine)?;
    Ok(Parsed::Complete(ProxyHeader {
        len: lf + 1,
        version: Version::V1,
        addresses,
    }))
}

/// The v1 line without its CRLF (the protocol's section 2.1):
/// `"PROXY" SP ( "UNKNOWN" [ SP *anything ] / ("TCP4" / "TCP6") SP src SP dst SP sport SP dport )`,
/// fields separated by exactly one space, addresses of the named family, ports in decimal.
fn proxy_line(line: &[u8]) -> PResult<'_, Option<Addresses>> {
    let (rest, protocol) = preceded(
        tag(&b"PROXY "[..]),
        alt((tag("TCP4"), tag("TCP6"), tag("UNKNOWN"))),
    )
    .parse(line)?;
    if protocol == b"UNKNOWN" {
        // The receiver ignores everything after UNKNOWN up to the CRLF.
        return if rest.is_empty() || rest.starts_with(b" ") {
            Ok((&[], None))
        } else {
            Err(nom::Err::Error(()))
        };
    }
    let v6 = protocol == b"TCP6";
    let field = || preceded(char(' '), take_while1(|b: u8| b != b' '));
    let (rest, (src, dst, sport, dport)) =
        all_consuming((field(), field(), field(), field())).parse(rest)?;
    let address = |ip: &[u8], port_text: &[u8]| -> Option<SocketAddr> {
        let ip = core::str::from_utf8(ip).ok()?;
        let ip = if v6 {
            IpAddr::V6(ip.parse::<Ipv6Addr>().ok()?)
        } else {
            IpAddr::V4(ip.parse::<Ipv4Addr>().ok()?)
        };
        Some(SocketAddr::new(ip, port(port_text)?))
    };
    match (address(src, sport), address(dst, dport)) {
        (Some(source), Some(destination)) => Ok((
            rest,
            Some(Addresses {
                source,
                destination,
            }),
        )),
        _ => Err(nom::Err::Error(())),
    }
}

/// A v1 port: decimal 0 to 65535, no sign, no leading zero.
fn port(text: &[u8]) -> Option<u16> {
    let digits_only = !text.is_empty() && text.iter().all(u8::is_ascii_digit);
    if !digits_only || (text.len() > 1 && text.starts_with(b"0")) || text.len() > 5 {
        return None;
    }
    let value = text.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    u16::try_from(value).ok()
}

fn parse_v2(input: &[u8]) -> Result<Parsed, ProxyError> {
    let Some(&[ver_cmd, family, len_hi, len_lo]) = input.get(12..16) else {
        // The fixed part is still arriving; what there is of it is checked as it comes.
        if let Some(&ver_cmd) = input.get(12) {
            check_version(ver_cmd)?;
        }
        if let Some(&family) = input.get(13) {
            check_family(family)?;
        }
        return Ok(Parsed::Partial);
    };
    let local = check_version(ver_cmd)?;
    check_family(family)?;
    let body_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    let len = 16 + body_len;
    if len > MAX_V2_HEADER_BYTES {
        return Err(ProxyError::TooLong);
    }
    let Some(body) = input.get(16..len) else {
        return Ok(Parsed::Partial);
    };
    let addresses = if local {
        // LOCAL: the balancer speaks for itself (a health check); the addresses are ignored.
        None
    } else {
        addresses(family, body)?
    };
    Ok(Parsed::Complete(ProxyHeader {
        len,
        version: Version::V2,
        addresses,
    }))
}

/// The version must be 2; returns whether the command is LOCAL (else PROXY).
fn check_version(ver_cmd: u8) -> Result<bool, ProxyError> {
    match ver_cmd {
        0x20 => Ok(true),
        0x21 => Ok(false),
        _ => Err(ProxyError::BadVersion),
    }
}

/// Families UNSPEC, INET, INET6, UNIX with transports UNSPEC, STREAM, DGRAM.
fn check_family(family: u8) -> Result<(), ProxyError> {
    if family >> 4 <= 3 && family & 0x0f <= 2 {
        Ok(())
    } else {
        Err(ProxyError::BadFamily)
    }
}

fn addresses(family: u8, body: &[u8]) -> Result<Option<Addresses>, ProxyError> {
    match family {
        // TCP over IPv4: 4 + 4 address bytes, 2 + 2 port bytes.
        0x11 => {
            let Some(&[s0, s1, s2, s3, d0, d1, d2, d3, sp0, sp1, dp0, dp1]) = body.get(..12) else {
                return Err(ProxyError::BadLength);
            };
            Ok(Some(Addresses {
                source: SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::new(s0, s1, s2, s3)),
                    u16::from_be_bytes([sp0, sp1]),
                ),
                destination: SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::new(d0, d1, d2, d3)),
                    u16::from_be_bytes([dp0, dp1]),
                ),
            }))
        }
        // TCP over IPv6: 16 + 16 address bytes, 2 + 2 port bytes.
        0x21 => {
            let (Some(src), Some(dst), Some(&[sp0, sp1, dp0, dp1])) =
                (body.get(..16), body.get(16..32), body.get(32..36))
            else {
                return Err(ProxyError::BadLength);
            };
            let ip = |bytes: &[u8]| {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(bytes);
                IpAddr::V6(Ipv6Addr::from(octets))
            };
            Ok(Some(Addresses {
                source: SocketAddr::new(ip(src), u16::from_be_bytes([sp0, sp1])),
                destination: SocketAddr::new(ip(dst), u16::from_be_bytes([dp0, dp1])),
            }))
        }
        // UNSPEC, UDP and UNIX sockets: no TCP client address to report.
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn complete(input: impl AsRef<[u8]>) -> ProxyHeader {
        let input = input.as_ref();
        match parse_header(input) {
            Ok(Parsed::Complete(header)) => header,
            other => panic!("{other:?} for {input:?}"),
        }
    }

    /// Every strict prefix of a header is `Partial`.
    fn prefixes_are_partial(input: &[u8], len: usize) {
        for cut in 0..len {
            assert_eq!(
                parse_header(&input[..cut]),
                Ok(Parsed::Partial),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn v1_tcp4_and_the_request_after_it() {
        let input = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
        let header = complete(input);
        assert_eq!(header.len, 45);
        assert_eq!(&input[header.len..header.len + 3], b"GET");
        assert_eq!(header.version, Version::V1);
        let addresses = header.addresses.unwrap();
        assert_eq!(addresses.source, "192.0.2.7:56324".parse().unwrap());
        assert_eq!(addresses.destination, "198.51.100.1:443".parse().unwrap());
        prefixes_are_partial(input, header.len);
    }

    #[test]
    fn v1_tcp6_at_the_longest_and_unknown() {
        let tcp6 = b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        let header = complete(tcp6);
        assert_eq!(header.len, 104);
        assert_eq!(header.addresses.unwrap().source.port(), 65535);
        // The longest line the protocol allows: UNKNOWN with the longest TCP6 fields.
        let longest = b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assert_eq!(longest.len(), MAX_V1_LINE_BYTES);
        let header = complete(longest);
        assert_eq!(header.len, MAX_V1_LINE_BYTES);
        assert_eq!(header.addresses, None);
        let unknown = complete(b"PROXY UNKNOWN ffff::1 ::1 1 2\r\n");
        assert_eq!(unknown.addresses, None);
        assert_eq!(complete(b"PROXY UNKNOWN\r\n").len, 15);
    }

    #[test]
    fn v1_refusals() {
        for bad in [
            &b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\n"[..],
            b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443 \r\n",
            b"PROXY TCP4 192.0.2.7  198.51.100.1 56324 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 056324 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 -1 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 +1 443\r\n",
            b"PROXY TCP4 192.0.2.07 198.51.100.1 1 443\r\n",
            b"PROXY TCP4 ::1 ::1 1 443\r\n",
            b"PROXY TCP6 192.0.2.7 198.51.100.1 1 443\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n",
            b"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\r\n",
            b"PROXY TCP4 192.0.2.7\x00198.51.100.1 1 2\r\n",
            b"PROXY \r\n",
            b"PROXY UNKNOWNX\r\n",
            b"PROXY TCP4X 192.0.2.7 198.51.100.1 1 2\r\n",
            b"PROXY  TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
        ] {
            assert_eq!(
                parse_header(bad),
                Err(ProxyError::BadLine),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
        let endless = [b"PROXY UNKNOWN ".as_slice(), &[b'a'; 100]].concat();
        assert_eq!(parse_header(&endless), Err(ProxyError::TooLong));
        assert_eq!(parse_header(&endless[..106]), Ok(Parsed::Partial));
    }

    #[test]
    fn plain_requests_are_not_proxy_headers_as_soon_as_they_differ() {
        for request in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"POST",
            b"PROXX",
            b"PRI * HTTP/2.0",
            b"\r\n\r\n\0\r\nQUIZ",
            b"\r\nGET",
        ] {
            assert_eq!(parse_header(request), Ok(Parsed::NotProxy), "{request:?}");
        }
        assert_eq!(parse_header(b""), Ok(Parsed::Partial));
        assert_eq!(parse_header(b"P"), Ok(Parsed::Partial));
        assert_eq!(parse_header(b"PR"), Ok(Parsed::Partial));
        assert_eq!(parse_header(b"\r\n\r\n"), Ok(Parsed::Partial));
    }

    fn v2(ver_cmd: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut out = V2_SIGNATURE.to_vec();
        out.extend([ver_cmd, family]);
        out.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn v2_inet_inet6_local_and_tlvs() {
        let inet = v2(
            0x21,
            0x11,
            &[192, 0, 2, 7, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb],
        );
        let header = complete(&inet);
        assert_eq!(header.len, 28);
        assert_eq!(header.version, Version::V2);
        let addresses = header.addresses.unwrap();
        assert_eq!(addresses.source, "192.0.2.7:56324".parse().unwrap());
        assert_eq!(addresses.destination, "198.51.100.1:443".parse().unwrap());
        prefixes_are_partial(&inet, 28);

        let mut body = [0u8; 36 + 7];
        body[15] = 1;
        body[31] = 2;
        body[32..36].copy_from_slice(&[0, 80, 0x1f, 0x90]);
        // A TLV after the addresses (type 0x04, NOOP, 4 bytes) is skipped.
        body[36..43].copy_from_slice(&[0x04, 0, 4, 1, 2, 3, 4]);
        let inet6 = v2(0x21, 0x21, &body);
        let header = complete(&inet6);
        assert_eq!(header.len, 16 + 43);
        let addresses = header.addresses.unwrap();
        assert_eq!(addresses.source, "[::1]:80".parse().unwrap());
        assert_eq!(addresses.destination, "[::2]:8080".parse().unwrap());

        let local = v2(0x20, 0x00, &[]);
        assert_eq!(complete(&local).addresses, None);
        assert_eq!(complete(&local).len, 16);
        // LOCAL with addresses: they are skipped, not believed.
        let local = v2(0x20, 0x11, &[1; 12]);
        assert_eq!(complete(&local).addresses, None);
        let unix = v2(0x21, 0x31, &[0; 216]);
        assert_eq!(complete(&unix).addresses, None);
    }

    #[test]
    fn v2_refusals_and_the_bound() {
        assert_eq!(
            parse_header(&v2(0x11, 0x11, &[0; 12])),
            Err(ProxyError::BadVersion)
        );
        assert_eq!(
            parse_header(&v2(0x22, 0x11, &[0; 12])),
            Err(ProxyError::BadVersion)
        );
        assert_eq!(
            parse_header(&v2(0x22, 0x11, &[0; 12])[..13]),
            Err(ProxyError::BadVersion)
        );
        assert_eq!(
            parse_header(&v2(0x21, 0x41, &[0; 12])),
            Err(ProxyError::BadFamily)
        );
        assert_eq!(
            parse_header(&v2(0x21, 0x13, &[0; 12])),
            Err(ProxyError::BadFamily)
        );
        assert_eq!(
            parse_header(&v2(0x21, 0x11, &[0; 11])),
            Err(ProxyError::BadLength)
        );
        assert_eq!(
            parse_header(&v2(0x21, 0x21, &[0; 35])),
            Err(ProxyError::BadLength)
        );
        let at_bound = v2(0x21, 0x11, &[0; MAX_V2_HEADER_BYTES - 16]);
        assert_eq!(complete(&at_bound).len, MAX_V2_HEADER_BYTES);
        let over = v2(0x21, 0x11, &[0; MAX_V2_HEADER_BYTES - 15]);
        // Refused from the length field alone, without waiting for the body.
        assert_eq!(parse_header(&over[..16]), Err(ProxyError::TooLong));
    }

    fn any_tcp_pair() -> impl proptest::strategy::Strategy<Value = (SocketAddr, SocketAddr)> {
        use proptest::prelude::*;
        prop_oneof![
            (
                any::<[u8; 4]>(),
                any::<u16>(),
                any::<[u8; 4]>(),
                any::<u16>()
            )
                .prop_map(|(s, sp, d, dp)| {
                    (
                        SocketAddr::new(IpAddr::V4(Ipv4Addr::from(s)), sp),
                        SocketAddr::new(IpAddr::V4(Ipv4Addr::from(d)), dp),
                    )
                }),
            (
                any::<[u8; 16]>(),
                any::<u16>(),
                any::<[u8; 16]>(),
                any::<u16>()
            )
                .prop_map(|(s, sp, d, dp)| {
                    (
                        SocketAddr::new(IpAddr::V6(Ipv6Addr::from(s)), sp),
                        SocketAddr::new(IpAddr::V6(Ipv6Addr::from(d)), dp),
                    )
                }),
        ]
    }

    /// A v1 line as a sender writes it (Rust's address Display is the shortest form the
    /// protocol allows).
    fn v1_line(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
        let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
        std::format!(
            "PROXY {family} {} {} {} {}\r\n",
            source.ip(),
            destination.ip(),
            source.port(),
            destination.port()
        )
        .into_bytes()
    }

    fn v2_proxy(source: SocketAddr, destination: SocketAddr, tlv: &[u8]) -> Vec<u8> {
        let (family, mut body) = match (source.ip(), destination.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (0x11, [s.octets(), d.octets()].concat()),
            (IpAddr::V6(s), IpAddr::V6(d)) => (0x21, [s.octets(), d.octets()].concat()),
            _ => unreachable!("one family per pair"),
        };
        body.extend(source.port().to_be_bytes());
        body.extend(destination.port().to_be_bytes());
        body.extend(tlv);
        v2(0x21, family, &body)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]
        /// Whatever addresses a balancer writes, in either version, are the ones read back; the
        /// header's length is exact, so the request after it is untouched.
        #[test]
        fn headers_round_trip(
            (source, destination) in any_tcp_pair(),
            tlv in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32),
        ) {
            let want = Some(Addresses { source, destination });
            for (header, version) in [
                (v1_line(source, destination), Version::V1),
                (v2_proxy(source, destination, &tlv), Version::V2),
            ] {
                let input = [header.as_slice(), &tail].concat();
                let parsed = complete(&input);
                proptest::prop_assert_eq!(parsed.len, header.len());
                proptest::prop_assert_eq!(parsed.version, version);
                proptest::prop_assert_eq!(parsed.addresses, want);
            }
        }
    }
}
