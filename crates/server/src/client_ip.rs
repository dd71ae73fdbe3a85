//! The caller's address, for rate limits: the TCP peer, unless that peer is a
//! trusted reverse proxy (`--trusted-proxy`), in which case the right-most address of
//! `X-Forwarded-For` that is not itself a trusted proxy. Without trusted proxies the
//! header is ignored, so a client cannot choose its own address.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// An IPv4 or IPv6 network, `10.0.0.0/8` or `fd00::/8`; a bare address is a /32 (/128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` bits of `a` and `b` are equal.
fn prefix_match(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let bad =
            || format!("réseau invalide « {s} » (attendu : 10.0.0.0/8, fd00::/8 ou une adresse)");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network = IpAddr::from_str(addr).map_err(|_| bad())?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        Ok(Cidr { network, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// One `X-Forwarded-For` hop: a bare address, or `1.2.3.4:port` / `[v6]:port`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = IpAddr::from_str(s) {
        return Some(ip.to_canonical());
    }
    SocketAddr::from_str(s).ok().map(|a| a.ip().to_canonical())
}

/// The address rate limits count against: `peer` if it is not trusted; otherwise the
/// right-most `X-Forwarded-For` hop outside `trusted` (the first one a trusted proxy
/// did not add itself). When every hop is trusted, the left-most; when a hop does not
/// parse, the trusted hop to its right (what a proxy appended is never garbage).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let mut current = peer.to_canonical();
    if !is_trusted(current) {
        return current;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return current;
        };
        current = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    current
}

/// The caller's address as [`client_ip`] computes it, for handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::Internal("no peer address on the connection".into()))?;
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxy,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cidrs_parse_and_match_v4_and_v6() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.255.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped IPv6");
        let odd: Cidr = "192.168.1.128/25".parse().unwrap();
        assert!(odd.contains(ip("192.168.1.200")));
        assert!(!odd.contains(ip("192.168.1.127")));
        let v6: Cidr = "fd00:ab::/32".parse().unwrap();
        assert!(v6.contains(ip("fd00:ab:1::7")));
        assert!(!v6.contains(ip("fd00:ac::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
        let one: Cidr = " 127.0.0.1 ".parse().unwrap();
        assert_eq!(one.to_string(), "127.0.0.1/32");
        assert!(!one.contains(ip("127.0.0.2")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        assert_eq!("::1".parse::<Cidr>().unwrap().to_string(), "::1/128");
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/+8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_address_whatever_the_header_says() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let h = xff(&["1.2.3.4"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(ip("203.0.113.9"), &h, &[]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_counts() {
        let trusted: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()];
        let peer = ip("10.0.0.2");
        // The client wrote "6.6.6.6" itself; the proxy appended the real address.
        let h = xff(&["6.6.6.6, 198.51.100.7"]);
        assert_eq!(client_ip(peer, &h, &trusted), ip("198.51.100.7"));
        // Two proxies in a row, over two header lines, one of them IPv6.
        let h = xff(&["6.6.6.6, 198.51.100.7", "fd00::3"]);
        assert_eq!(client_ip(peer, &h, &trusted), ip("198.51.100.7"));
        // With ports.
        let h = xff(&["198.51.100.7:5123", "[2001:db8::1]:443"]);
        assert_eq!(client_ip(peer, &h, &trusted), ip("2001:db8::1"));
        // No header: the proxy itself.
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
        // Garbage left of a trusted hop: that trusted hop.
        let h = xff(&["not-an-ip, 10.9.9.9"]);
        assert_eq!(client_ip(peer, &h, &trusted), ip("10.9.9.9"));
        // Only trusted hops: the left-most.
        let h = xff(&["10.1.1.1, 10.2.2.2"]);
        assert_eq!(client_ip(peer, &h, &trusted), ip("10.1.1.1"));
    }
}
