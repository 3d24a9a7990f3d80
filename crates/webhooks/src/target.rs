//! Where a webhook may be sent (SSRF): never to this machine, a private network, link-local
//! (cloud metadata at 169.254.169.254 among them), multicast or unspecified addresses, unless the
//! operator allows a range (`webhooks.allow_private`); `http://` only into an allowed range.
//!
//! The address checked is the one connected to: deliveries resolve names with
//! [`CheckedResolver`], which drops every address the policy refuses, so a name that resolves to
//! a public address when registered and to 127.0.0.1 later (DNS rebinding) reaches nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| format!("{text:?} is not an address range"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().ok().filter(|p| *p <= bits),
            None => Some(bits),
        }
        .ok_or_else(|| format!("{text:?} has no valid prefix length (0 to {bits})"))?;
        // A range of IPv4 addresses written as IPv6 (`::ffff:10.0.0.0/104`) is that IPv4 range,
        // as the addresses it is compared with are.
        if let IpAddr::V6(v6) = network
            && let (Some(v4), true) = (v6.to_ipv4_mapped(), prefix >= 96)
        {
            return Ok(Cidr { network: IpAddr::V4(v4), prefix: prefix - 96 });
        }
        // Other IPv6 forms of IPv4 (NAT64, 6to4, compatible) are judged as the IPv4 address they
        // carry, so a range written that way would never match: the IPv4 range is asked for.
        if network.is_ipv6() && canonical(network).is_ipv4() {
            return Err(format!("{text:?} is an IPv6 form of IPv4 addresses: write the IPv4 range (a.b.c.d/n)"));
        }
        Ok(Cidr { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// An IPv6 address that carries an IPv4 one reaches that IPv4 address, and is judged as it:
/// mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:AABB:CCDD::`).
fn canonical(address: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = address else { return address };
    let segments = v6.segments();
    let octets = v6.octets();
    let embedded = |at: usize| IpAddr::V4(Ipv4Addr::new(octets[at], octets[at + 1], octets[at + 2], octets[at + 3]));
    if let Some(v4) = v6.to_ipv4_mapped() {
        IpAddr::V4(v4)
    } else if segments[..6] == [0, 0, 0, 0, 0xffff, 0] {
        // SIIT's translated form, `::ffff:0:a.b.c.d`.
        embedded(12)
    } else if (segments[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified())
        || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        embedded(12)
    } else if segments[0] == 0x2002 {
        embedded(2)
    } else {
        address
    }
}

/// Why an address is not a public one, or `None` when it is.
pub fn non_public(address: IpAddr) -> Option<&'static str> {
    match canonical(address) {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(a: Ipv4Addr) -> Option<&'static str> {
    let [first, second, ..] = a.octets();
    if a.is_loopback() {
        Some("loopback")
    } else if a.is_private() || (first == 100 && (64..128).contains(&second)) {
        Some("private")
    } else if a.is_link_local() {
        Some("link-local (cloud metadata lives here)")
    } else if a.is_multicast() {
        Some("multicast")
    } else if a.is_unspecified() || first == 0 || a.is_broadcast() || first >= 240 {
        Some("reserved")
    } else if (first == 192 && second == 0 && a.octets()[2] == 0) || (first == 198 && (18..20).contains(&second)) {
        Some("reserved (IETF protocol assignments, benchmarking)")
    } else if matches!(a.octets()[..3], [192, 0, 2] | [198, 51, 100] | [203, 0, 113]) {
        Some("reserved (documentation)")
    } else {
        None
    }
}

fn non_public_v6(a: Ipv6Addr) -> Option<&'static str> {
    let first = a.segments()[0];
    if a.is_loopback() {
        Some("loopback")
    } else if a.is_unspecified() {
        Some("reserved")
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        Some("private")
    } else if a.segments()[..3] == [0x64, 0xff9b, 1] {
        Some("private (local-use NAT64)")
    } else if a.segments()[..2] == [0x2001, 0] {
        Some("reserved (Teredo, an IPv4 address in disguise)")
    } else if a.segments()[..2] == [0x2001, 0xdb8]
        || a.segments()[..4] == [0x100, 0, 0, 0]
        || (first == 0x3fff && a.segments()[1] < 0x1000)
    {
        Some("reserved (documentation, discard)")
    } else if a.segments()[..3] == [0x2001, 2, 0] || (a.segments()[0] == 0x2001 && a.segments()[1] & 0xfff0 == 0x10) {
        Some("reserved (benchmarking, ORCHID)")
    } else if first == 0x5f00 {
        Some("reserved (segment routing)")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local (cloud metadata lives here)")
    } else if a.is_multicast() {
        Some("multicast")
    } else {
        None
    }
}

/// The operator's exceptions to the rule.
#[derive(Clone, Debug, Default)]
pub struct TargetPolicy {
    allowed: Vec<Cidr>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefusal {
    #[error("{0}")]
    BadUrl(String),
    #[error(
        "{host} resolves to {address}, a {why} address; webhooks reach only public addresses unless the operator allows the range (webhooks.allow_private)"
    )]
    NotPublic { host: String, address: IpAddr, why: &'static str },
    #[error(
        "http:// is refused for {address}: webhooks use https:// unless the operator allows the range (webhooks.allow_private)"
    )]
    PlainHttp { address: IpAddr },
    #[error("{0} does not resolve")]
    Unresolved(String),
}

impl TargetPolicy {
    pub fn new(allow_private: &[String]) -> Result<TargetPolicy, String> {
        Ok(TargetPolicy { allowed: allow_private.iter().map(|c| Cidr::parse(c)).collect::<Result<_, _>>()? })
    }

    fn allowed(&self, address: IpAddr) -> bool {
        self.allowed.iter().any(|range| range.contains(address))
    }

    /// Whether a delivery may connect to `address`, for a URL of this scheme.
    pub fn check_address(&self, host: &str, address: IpAddr, https: bool) -> Result<(), TargetRefusal> {
        if self.allowed(address) {
            return Ok(());
        }
        if let Some(why) = non_public(address) {
            return Err(TargetRefusal::NotPublic { host: host.to_owned(), address, why });
        }
        if !https {
            return Err(TargetRefusal::PlainHttp { address });
        }
        Ok(())
    }

    /// Parses `url` and checks every address its host resolves to now. Registration refuses
    /// any refused address; deliveries check again at each connection ([`CheckedResolver`]).
    pub async fn check_url(&self, url: &str) -> Result<Url, TargetRefusal> {
        let parsed = parse_url(url)?;
        let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let https = parsed.scheme() == "https";
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(address) => vec![address],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| TargetRefusal::Unresolved(host.clone()))?
                .map(|socket| socket.ip())
                .collect(),
        };
        if addresses.is_empty() {
            return Err(TargetRefusal::Unresolved(host));
        }
        for address in addresses {
            self.check_address(&host, address, https)?;
        }
        Ok(parsed)
    }
}

/// `http(s)://host[:port]/path`, no credentials, at most 2048 characters.
pub fn parse_url(url: &str) -> Result<Url, TargetRefusal> {
    if url.len() > 2048 {
        return Err(TargetRefusal::BadUrl("the URL is longer than 2048 characters".into()));
    }
    let parsed = Url::parse(url).map_err(|error| TargetRefusal::BadUrl(format!("not a URL: {error}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetRefusal::BadUrl(format!("the scheme must be https (or http), not {}", parsed.scheme())));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(TargetRefusal::BadUrl("the URL has no host".into()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetRefusal::BadUrl(
            "credentials in the URL would be shown in listings: put them in the path".into(),
        ));
    }
    Ok(parsed)
}

/// reqwest's resolver for deliveries: the system's resolution, minus every address the policy
/// refuses. A name left with none fails to connect.
pub struct CheckedResolver {
    pub policy: Arc<TargetPolicy>,
    /// Deliveries to plain `http://` are only made into allowed ranges; the resolver does not
    /// know the scheme, so it keeps an address when either rule allows it and the delivery
    /// checks `http://` targets' addresses itself.
    pub allow_public: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let allow_public = self.allow_public;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|socket| policy.allowed(socket.ip()) || (allow_public && non_public(socket.ip()).is_none()))
                .collect();
            if kept.is_empty() {
                return Err(format!("{host} resolves to no address a webhook may reach").into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests;
