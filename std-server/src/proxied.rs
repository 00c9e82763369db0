//! Balancers in front (`[proxy]`): which peers are trusted, the PROXY header a trusted peer
//! opens its connections with (parsed by the core's [`staticd_core::proxy`]), and the client a
//! trusted peer names in `X-Forwarded-For`.
//!
//! A peer outside `trusted` is never read for a header: its bytes go to the HTTP parser as they
//! are, so a forged `PROXY ...` line is answered 400 and logged with the peer's own address, and
//! its `X-Forwarded-For` is ignored. A trusted peer under `protocol = "required"` that sends no
//! valid header is closed without an answer (it is a misconfigured balancer, not a client);
//! under `"optional"` a trusted peer without a header is served as a direct client.

use std::net::{IpAddr, SocketAddr};

use staticd_core::proxy::{Parsed, ProxyError, parse_header};

use crate::settings::{ProxyConfig, ProxyProtocol};

/// What a new connection's first bytes must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Plain HTTP (an untrusted peer, or the PROXY protocol off).
    Nothing,
    /// A PROXY header, or the connection is closed.
    Required,
    /// A PROXY header, or plain HTTP from a direct client.
    Optional,
}

/// What to do with the input so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Read more.
    NeedMore,
    /// Skip `len` bytes; the client is `client` (`None`: the peer itself).
    Header {
        len: usize,
        client: Option<SocketAddr>,
    },
    /// Close the connection without an answer: not a PROXY header, or a malformed one.
    Refuse(Option<ProxyError>),
}

/// Looks for the header `expect` asks for at the start of `input`.
pub fn take_header(expect: Expect, input: &[u8]) -> Taken {
    match (parse_header(input), expect) {
        (_, Expect::Nothing) => Taken::Header {
            len: 0,
            client: None,
        },
        (Ok(Parsed::Partial), _) => Taken::NeedMore,
        (Ok(Parsed::Complete(header)), _) => Taken::Header {
            len: header.len,
            client: header.addresses.map(|a| a.source),
        },
        (Ok(Parsed::NotProxy), Expect::Optional) => Taken::Header {
            len: 0,
            client: None,
        },
        (Ok(Parsed::NotProxy), _) => Taken::Refuse(None),
        (Err(e), _) => Taken::Refuse(Some(e)),
    }
}

/// One `trusted` entry: an address block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or one with `/n`; the error is the reason.
    pub fn parse(text: &str) -> Result<Net, &'static str> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| "is not an IP address or a CIDR block (10.0.0.0/8, 2001:db8::/32)")?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= max && n.to_string() == p)
                .ok_or("has a prefix length that is not 0 to 32 (IPv4) or 0 to 128 (IPv6)")?,
        };
        Ok(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client on an IPv6 socket shows as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), self.prefix, 32)
                    == masked(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `bits`-bit address.
fn masked(addr: u128, prefix: u8, bits: u32) -> u128 {
    let drop = bits - u32::from(prefix);
    addr.checked_shr(drop).unwrap_or(0)
}

/// The `[proxy]` settings, parsed.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    nets: Vec<Net>,
    protocol: ProxyProtocol,
    forwarded_for: bool,
}

impl Trust {
    /// The settings as validated ([`crate::settings::Config::validate`] refuses a bad entry).
    pub fn from_config(config: &ProxyConfig) -> Trust {
        Trust {
            nets: config
                .trusted
                .iter()
                .filter_map(|text| Net::parse(text).ok())
                .collect(),
            protocol: config.protocol,
            forwarded_for: config.forwarded_for,
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// What a connection from `peer` must start with.
    pub fn expect(&self, peer: IpAddr) -> Expect {
        if self.protocol == ProxyProtocol::Off || !self.trusts(peer) {
            return Expect::Nothing;
        }
        match self.protocol {
            ProxyProtocol::Required => Expect::Required,
            ProxyProtocol::Optional | ProxyProtocol::Off => Expect::Optional,
        }
    }

    /// The client an `X-Forwarded-For` value names, when `peer` (the connection's client so far)
    /// is trusted to say: the right-most address that is not itself a trusted proxy, since each
    /// proxy appends the address it received the request from and only the trusted ones can be
    /// believed. Every entry trusted: the left-most. An entry that is not an IP address stops the
    /// walk at the last address believed. `None`: keep `peer`.
    pub fn forwarded_client(&self, peer: IpAddr, field: &[u8]) -> Option<IpAddr> {
        if !self.forwarded_for || !self.trusts(peer) {
            return None;
        }
        let mut believed = None;
        for entry in field.rsplit(|&b| b == b',') {
            let entry = entry.trim_ascii();
            let Some(ip) = std::str::from_utf8(entry)
                .ok()
                .and_then(|text| text.parse::<IpAddr>().ok())
            else {
                return believed;
            };
            if !self.trusts(ip) {
                return Some(ip);
            }
            believed = Some(ip);
        }
        believed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_match_by_prefix() {
        let net = Net::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.255.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        assert!(Net::parse("0.0.0.0/0").unwrap().contains(ip("192.0.2.1")));
        assert!(Net::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(!Net::parse("127.0.0.1").unwrap().contains(ip("127.0.0.2")));
        let v6 = Net::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/08",
        ] {
            assert!(Net::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_by_what_is_expected() {
        let v1 = b"PROXY TCP4 192.0.2.7 127.0.0.1 5000 80\r\nGET / HTTP/1.1\r\n";
        assert_eq!(
            take_header(Expect::Required, v1),
            Taken::Header {
                len: 40,
                client: Some("192.0.2.7:5000".parse().unwrap())
            }
        );
        assert_eq!(take_header(Expect::Required, &v1[..10]), Taken::NeedMore);
        assert_eq!(
            take_header(Expect::Required, b"GET / HTTP/1.1\r\n"),
            Taken::Refuse(None)
        );
        assert_eq!(
            take_header(Expect::Optional, b"GET / HTTP/1.1\r\n"),
            Taken::Header {
                len: 0,
                client: None
            }
        );
        assert_eq!(
            take_header(Expect::Optional, b"PROXY TCP4 1.2.3.4\r\n"),
            Taken::Refuse(Some(ProxyError::BadLine))
        );
        assert_eq!(
            take_header(Expect::Nothing, v1),
            Taken::Header {
                len: 0,
                client: None
            }
        );
    }

    fn trust(trusted: &[&str], protocol: ProxyProtocol, forwarded_for: bool) -> Trust {
        Trust::from_config(&ProxyConfig {
            trusted: trusted.iter().map(|s| (*s).to_owned()).collect(),
            protocol,
            forwarded_for,
        })
    }

    #[test]
    fn only_trusted_peers_are_asked_for_a_header() {
        let required = trust(&["10.0.0.0/8"], ProxyProtocol::Required, false);
        assert_eq!(required.expect(ip("10.9.9.9")), Expect::Required);
        assert_eq!(required.expect(ip("192.0.2.1")), Expect::Nothing);
        let optional = trust(&["10.0.0.0/8"], ProxyProtocol::Optional, false);
        assert_eq!(optional.expect(ip("10.9.9.9")), Expect::Optional);
        let off = trust(&["10.0.0.0/8"], ProxyProtocol::Off, true);
        assert_eq!(off.expect(ip("10.9.9.9")), Expect::Nothing);
    }

    #[test]
    fn forwarded_for_takes_the_right_most_untrusted_address() {
        let t = trust(&["10.0.0.0/8", "127.0.0.1"], ProxyProtocol::Off, true);
        let from_lb = ip("127.0.0.1");
        let xff = |v: &str| t.forwarded_client(from_lb, v.as_bytes());
        assert_eq!(xff("192.0.2.7"), Some(ip("192.0.2.7")));
        // A client's own forged entries are to the left of what the trusted hops appended.
        assert_eq!(
            xff("203.0.113.9, 192.0.2.7, 10.1.1.1"),
            Some(ip("192.0.2.7"))
        );
        assert_eq!(xff("  2001:db8::5 ,\t10.0.0.2"), Some(ip("2001:db8::5")));
        assert_eq!(xff("10.0.0.3, 10.0.0.2"), Some(ip("10.0.0.3")));
        assert_eq!(xff("garbage, 10.0.0.2"), Some(ip("10.0.0.2")));
        assert_eq!(xff("192.0.2.7, garbage"), None);
        assert_eq!(xff(""), None);
        // An untrusted peer's header is not read, nor any header when the setting is off.
        assert_eq!(t.forwarded_client(ip("192.0.2.1"), b"198.51.100.1"), None);
        let off = trust(&["127.0.0.1"], ProxyProtocol::Off, false);
        assert_eq!(off.forwarded_client(from_lb, b"198.51.100.1"), None);
    }
}
