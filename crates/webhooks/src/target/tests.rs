use super::*;

fn refused(policy: &TargetPolicy, address: &str, https: bool) -> bool {
    policy.check_address("host", address.parse().expect("address"), https).is_err()
}

#[test]
fn every_non_public_class_is_refused_and_public_https_is_not() {
    let policy = TargetPolicy::default();
    for address in [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "fd00::1",
        "169.254.169.254",
        "fe80::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",
        "::",
        "255.255.255.255",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "::7f00:1",
        "64:ff9b::10.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "2002:a9fe:a9fe::",
        "fec0::1",
        "2001:0:4136:e378::1",
        "2001:db8::1",
        "100::1",
        "::ffff:0:7f00:1",
        "2001:2::1",
        "2001:10::1",
        "3fff::1",
        "5f00::1",
        "192.0.0.8",
        "198.18.0.1",
        "192.0.2.1",
        "198.51.100.7",
        "203.0.113.9",
    ] {
        assert!(refused(&policy, address, true), "{address} must be refused");
    }
    assert!(!refused(&policy, "93.184.216.34", true));
    assert!(!refused(&policy, "2606:2800:220:1::1", true));
    assert!(!refused(&policy, "64:ff9b::5db8:d822", true), "NAT64 of a public address is public");
    assert!(!refused(&policy, "2002:5db8:d822::1", true), "6to4 of a public address is public");
    assert!(refused(&policy, "93.184.216.34", false), "plain http to a public address is refused");
}

#[test]
fn an_allowed_range_opens_exactly_that_range_for_http_and_https() {
    let policy = TargetPolicy::new(&["127.0.0.0/8".into(), "fd12::/16".into()]).expect("ranges");
    assert!(!refused(&policy, "127.0.0.1", false));
    assert!(!refused(&policy, "::ffff:127.0.0.5", true));
    assert!(!refused(&policy, "fd12:1::1", true));
    let mapped = TargetPolicy::new(&["::ffff:10.0.0.0/104".into()]).expect("a mapped range");
    assert!(!refused(&mapped, "10.9.8.7", false), "an IPv4 range written as IPv6 is that IPv4 range");
    assert!(refused(&policy, "10.0.0.1", true));
    assert!(refused(&policy, "169.254.169.254", false));
    assert!(TargetPolicy::new(&["10.0.0.0/33".into()]).is_err());
    assert!(TargetPolicy::new(&["localhost".into()]).is_err());
    for hidden_ipv4 in ["64:ff9b::/96", "2002::/16", "::10.0.0.0/104"] {
        assert!(TargetPolicy::new(&[hidden_ipv4.into()]).is_err(), "{hidden_ipv4} would never match: refused");
    }
}

#[tokio::test]
async fn a_name_is_checked_by_what_it_resolves_to() {
    let policy = TargetPolicy::default();
    let refusal = policy.check_url("https://localhost:9/hook").await;
    assert!(matches!(refusal, Err(TargetRefusal::NotPublic { .. })), "{refusal:?}");
    for (url, word) in
        [("ftp://example.org/", "scheme"), ("https://user:pw@example.org/", "credentials"), ("not a url", "not a URL")]
    {
        let Err(TargetRefusal::BadUrl(reason)) = policy.check_url(url).await else { panic!("{url} accepted") };
        assert!(reason.contains(word), "{url}: {reason}");
    }
    let allowed = TargetPolicy::new(&["127.0.0.0/8".into(), "::1/128".into()]).expect("ranges");
    assert!(allowed.check_url("http://localhost:9/hook").await.is_ok());
}

#[tokio::test]
async fn the_resolver_connects_only_to_what_the_policy_allows() {
    use reqwest::dns::Resolve;
    let name = |host: &str| host.parse::<reqwest::dns::Name>().expect("a name");
    let refusing = CheckedResolver { policy: Arc::new(TargetPolicy::default()), allow_public: true };
    // A name registered while it pointed elsewhere that resolves to loopback now (DNS
    // rebinding) is left with no address to connect to.
    assert!(refusing.resolve(name("localhost")).await.is_err(), "localhost is loopback: nothing to connect to");
    let allowing = CheckedResolver {
        policy: Arc::new(TargetPolicy::new(&["127.0.0.0/8".into(), "::1/128".into()]).expect("ranges")),
        allow_public: false,
    };
    let addresses: Vec<SocketAddr> = allowing.resolve(name("localhost")).await.expect("allowed").collect();
    assert!(!addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback()), "{addresses:?}");
}
