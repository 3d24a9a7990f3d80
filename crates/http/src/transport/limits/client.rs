//! Who a client is: the address its limits are counted under.
//!
//! The peer address of the TCP connection, unless the peer is one of the configured trusted
//! proxies: then the client is the address that proxy says it forwarded for (`Forwarded: for=`,
//! or else `X-Forwarded-For`). Anyone can send those headers, so they are believed only from a
//! trusted proxy, and only as far back as the chain of trusted proxies goes: the first hop from
//! the right that is not a trusted proxy is the client.
//!
//! IPv6 clients are counted by their /64: one subscriber line gets a /64 (or more), so counting
//! single addresses would give each attacker 2^64 of them.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address a client's connections and requests are counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// IPv4 as it is (an IPv4-mapped IPv6 address counts as its IPv4), IPv6 by its /64.
    pub fn of(address: IpAddr) -> ClientKey {
        match canonical(address) {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                ClientKey(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
            v4 => ClientKey(v4),
        }
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
            v4 => write!(f, "{v4}"),
        }
    }
}

/// The client's address as this server believes it, put in each request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The proxies whose `Forwarded` / `X-Forwarded-For` headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Networks (`10.0.0.0/8`, `::1/128`) or single addresses (`127.0.0.1`).
    pub fn parse(items: &[String]) -> Result<TrustedProxies, String> {
        let parse = |item: &String| {
            let text = item.trim();
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted proxy {item:?} is not an address or a network like 10.0.0.0/8"))
        };
        items.iter().map(parse).collect::<Result<_, _>>().map(TrustedProxies)
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted proxy.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.0.is_empty() || !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_hops(headers).into_iter().rev() {
            if !self.contains(client) {
                break;
            }
            match hop {
                Some(address) => client = address,
                // An obfuscated or unknown hop: the last address known is as far as we can see.
                None => break,
            }
        }
        client
    }
}

/// The hops a proxy chain recorded, nearest the origin first. `Forwarded` (RFC 7239) wins over
/// `X-Forwarded-For` when both are present.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    let forwarded: Vec<_> = values("forwarded")
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| parse_node(node))
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    values("x-forwarded-for").map(parse_node).collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, quoted or not.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.parse().ok().or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ClientKey::of(ip("2001:db8:1:2:aaaa::1")), ClientKey::of(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(ClientKey::of(ip("2001:db8:1:2::1")), ClientKey::of(ip("2001:db8:1:3::1")));
        assert_eq!(ClientKey::of(ip("::ffff:192.0.2.7")), ClientKey::of(ip("192.0.2.7")));
        assert_ne!(ClientKey::of(ip("192.0.2.7")), ClientKey::of(ip("192.0.2.8")));
        assert_eq!(ClientKey::of(ip("2001:db8:1:2::1")).to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn forwarded_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let spoofed = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=203.0.113.9")]);
        assert_eq!(none.client_address(ip("198.51.100.1"), &spoofed), ip("198.51.100.1"));
        let proxies = TrustedProxies::parse(&["127.0.0.1/32".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(proxies.client_address(ip("198.51.100.1"), &spoofed), ip("198.51.100.1"));
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let proxies = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        // The client made up the first entry; the proxies appended the rest.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9"), ("x-forwarded-for", "10.1.2.3")]);
        assert_eq!(proxies.client_address(ip("127.0.0.1"), &chain), ip("203.0.113.9"));
        let forwarded = headers(&[("forwarded", "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https")]);
        assert_eq!(proxies.client_address(ip("10.9.9.9"), &forwarded), ip("2001:db8::7"));
        let hidden = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(proxies.client_address(ip("127.0.0.1"), &hidden), ip("127.0.0.1"));
        assert_eq!(proxies.client_address(ip("127.0.0.1"), &HeaderMap::new()), ip("127.0.0.1"));
        let with_port = headers(&[("x-forwarded-for", "203.0.113.9:5555")]);
        assert_eq!(proxies.client_address(ip("127.0.0.1"), &with_port), ip("203.0.113.9"));
    }

    #[test]
    fn bad_proxy_entries_are_named() {
        let error = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(error.contains("10.0.0.0/33"), "{error}");
        assert!(TrustedProxies::parse(&["::1".into(), "fd00::/8".into()]).is_ok());
    }
}
