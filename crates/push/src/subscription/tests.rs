use super::*;

const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n\
    31,,oblast,UA80,м. Київ,Kyiv\n\
    14,,oblast,UA32,Київська область,Kyiv Oblast\n";

fn registry() -> RegionRegistry {
    RegionRegistry::from_csv(REGIONS).expect("registry")
}

/// A real browser's key pair: a P-256 public key and a 16-byte auth secret.
fn request() -> SubscriptionRequest {
    let secret = web_push_native::p256::SecretKey::from_slice(&[7; 32]).expect("a scalar");
    let public = secret.public_key();
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint as _;
    SubscriptionRequest {
        endpoint: "https://push.example/sub/abc".into(),
        p256dh: URL_SAFE_NO_PAD.encode(public.to_encoded_point(false).as_bytes()),
        auth: URL_SAFE_NO_PAD.encode([1u8; 16]),
        regions: vec![RegionId(31)],
        kinds: vec![],
        statuses: vec![],
        lang: None,
    }
}

fn field_of(request: SubscriptionRequest, policy: &EndpointPolicy) -> String {
    request.check(&registry(), policy, OffsetDateTime::UNIX_EPOCH).expect_err("refused").field
}

#[test]
fn a_browsers_subscription_is_accepted_and_every_bad_field_is_named() {
    let policy = EndpointPolicy::default();
    let accepted = request().check(&registry(), &policy, OffsetDateTime::UNIX_EPOCH).expect("accepted");
    assert_eq!((accepted.filter.lang.as_str(), accepted.filter.regions.clone()), ("uk", vec![RegionId(31)]));

    let cases: Vec<(SubscriptionRequest, &str)> = vec![
        (SubscriptionRequest { endpoint: "http://push.example/x".into(), ..request() }, "subscription.endpoint"),
        (
            SubscriptionRequest { endpoint: format!("https://p.example/{}", "a".repeat(1000)), ..request() },
            "subscription.endpoint",
        ),
        (SubscriptionRequest { p256dh: "not base64!".into(), ..request() }, "subscription.keys.p256dh"),
        (SubscriptionRequest { p256dh: URL_SAFE_NO_PAD.encode([4u8; 65]), ..request() }, "subscription.keys.p256dh"),
        (SubscriptionRequest { auth: URL_SAFE_NO_PAD.encode([1u8; 15]), ..request() }, "subscription.keys.auth"),
        (SubscriptionRequest { regions: vec![], ..request() }, "regions"),
        (SubscriptionRequest { regions: vec![RegionId(31), RegionId(999)], ..request() }, "regions[1]"),
        (SubscriptionRequest { regions: vec![RegionId(31), RegionId(31)], ..request() }, "regions[1]"),
        (SubscriptionRequest { regions: vec![RegionId(31); MAX_REGIONS + 1], ..request() }, "regions"),
        (SubscriptionRequest { lang: Some("de".into()), ..request() }, "lang"),
        (SubscriptionRequest { kinds: vec![AlertKind::AirRaid, AlertKind::AirRaid], ..request() }, "kinds[1]"),
        (
            SubscriptionRequest { endpoint: "https://user:pw@push.example/x".into(), ..request() },
            "subscription.endpoint",
        ),
    ];
    for (bad, field) in cases {
        assert_eq!(field_of(bad, &policy), field);
    }
}

#[test]
fn an_allowed_prefix_admits_a_local_test_push_service() {
    let policy = EndpointPolicy { allowed_prefixes: vec!["http://localhost:8991/".into()] };
    let local = SubscriptionRequest { endpoint: "http://localhost:8991/notify/abc".into(), ..request() };
    assert!(local.check(&registry(), &policy, OffsetDateTime::UNIX_EPOCH).is_ok());
    let elsewhere = SubscriptionRequest { endpoint: "http://localhost:9000/notify/abc".into(), ..request() };
    assert_eq!(field_of(elsewhere, &policy), "subscription.endpoint");
    for tricked in
        ["http://localhost:8991@evil.example/", "http://localhost:89910/x", "http://localhost.evil.example:8991/x"]
    {
        assert!(!policy.allowed(tricked), "{tricked} is not under the prefix");
    }
    let within = EndpointPolicy { allowed_prefixes: vec!["http://10.0.0.5/up/".into()] };
    assert!(within.allowed("http://10.0.0.5/up/x"));
    assert!(!within.allowed("http://10.0.0.5/up/../admin"), "dot segments do not climb out of the prefix");
}

#[test]
fn one_push_resource_is_one_subscription_however_it_is_spelled() {
    let policy = EndpointPolicy::default();
    let spelled = |endpoint: &str| {
        SubscriptionRequest { endpoint: endpoint.into(), ..request() }
            .check(&registry(), &policy, OffsetDateTime::UNIX_EPOCH)
            .expect("accepted")
            .endpoint
    };
    assert_eq!(spelled("https://PUSH.example:443/sub/abc#x"), spelled("https://push.example/sub/abc"));
}
