//! Web Push end to end against a push service of the test's own on loopback (allowed by
//! `push.allow_endpoints`): browsers subscribe through the API, a declaration reaches each as
//! the event's signed frame, encrypted to its keys (decrypted here as the browser would), with
//! `Urgency`, `TTL` and `Topic`; a 410 prunes, a 429 is retried, the all-clear replaces the alert
//! under the same topic, and bad subscriptions store nothing.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use tryvoha::config::{FlagSettings, RawPush};
use tryvoha_live::verify_signed_json;

use crate::push_sink::{Browser, PushService, subscribed_count};
use crate::support::{ADMIN, TestApp};

#[tokio::test]
async fn a_declaration_reaches_each_browser_encrypted_and_signed_and_the_push_service_is_obeyed() {
    let service = PushService::start().await;
    let base = format!("http://127.0.0.1:{}/", service.port);
    let flags = FlagSettings {
        push: RawPush { allow_endpoints: Some(vec![base.clone()]), ..RawPush::default() },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let key = app.get("/api/v1/push/vapid-key").await.body;
    assert_eq!(URL_SAFE_NO_PAD.decode(key["public_key"].as_str().expect("key")).expect("base64url").len(), 65);

    let ok = Browser::new(1, format!("{base}push/ok/a"));
    let gone = Browser::new(2, format!("{base}push/gone/b"));
    let busy = Browser::new(3, format!("{base}push/busy/c"));
    let subscribe = |body: Value| app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body));
    let created = subscribe(json!({"subscription": ok.subscription(), "regions": [31], "lang": "en"})).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(subscribe(json!({"subscription": gone.subscription(), "regions": [31]})).await.status, 201);
    // A place instead of regions: Khreshchatyk is in Kyiv city.
    let by_place = subscribe(json!({"subscription": busy.subscription(), "lat": 50.4475, "lon": 30.5210})).await;
    assert_eq!(by_place.status, 201, "{:?}", by_place.body);
    let renewed = subscribe(json!({"subscription": ok.subscription(), "regions": [31], "lang": "en"})).await;
    assert_eq!(renewed.status, 200, "the same endpoint again is a renewal");
    let thief = Browser { endpoint: ok.endpoint.clone(), ..Browser::new(7, String::new()) };
    let taken = subscribe(json!({"subscription": thief.subscription(), "regions": [12]})).await;
    assert_eq!(
        (taken.status.as_u16(), taken.body["field"].as_str()),
        (422, Some("subscription.keys.auth")),
        "no takeover with other keys"
    );
    assert_eq!(subscribed_count(&app).await, "tryvoha_push_subscriptions 3");

    let declared = app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "air_raid"})).await;
    assert_eq!(declared.status, 201);
    service
        .wait_until("every browser's push", |s| {
            !s.to("/push/ok/").is_empty() && !s.to("/push/gone/").is_empty() && s.to("/push/busy/").len() >= 2
        })
        .await;
    let keys = crate::mqtt::server_keys(&app).await;
    let first = &service.to("/push/ok/")[0];
    let frame = ok.read(first);
    verify_signed_json(&frame, &keys).expect("the pushed frame verifies with /api/v1/keys");
    let frame: Value = serde_json::from_str(&frame).expect("JSON");
    assert_eq!((frame["type"].as_str(), frame["alert"]["region_id"].as_u64()), (Some("declared"), Some(31)));
    assert_eq!(first.headers["content-encoding"], "aes128gcm");
    assert_eq!(first.headers["urgency"], "high");
    let ttl: u64 = first.headers["ttl"].parse().expect("seconds");
    assert!((590..=600).contains(&ttl), "what is left of the alert's ten minutes: {ttl}");
    assert_eq!(first.headers["topic"], "31-air_raid");
    assert!(first.headers["authorization"].starts_with("vapid t="), "VAPID-signed");
    let retried = service.to("/push/busy/");
    assert_eq!(retried.len(), 2, "429 then 201: sent again once, no more");
    assert_eq!(busy.read(&retried[1]), busy.read(&retried[0]), "the same message");
    for _ in 0..100 {
        if subscribed_count(&app).await == "tryvoha_push_subscriptions 2" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(subscribed_count(&app).await, "tryvoha_push_subscriptions 2", "the 410 pruned its subscription");

    let id = declared.body["id"].as_u64().expect("id");
    assert_eq!(app.post(&format!("/api/v1/alerts/{id}/cancel"), ADMIN, json!({})).await.status, 200);
    service.wait_until("the all-clear", |s| s.to("/push/ok/").len() >= 2).await;
    let all_clear = &service.to("/push/ok/")[1];
    assert_eq!(all_clear.headers["topic"], "31-air_raid", "the all-clear replaces its alert if undelivered");
    assert_eq!(all_clear.headers["urgency"], "normal");
    let ttl: u64 = all_clear.headers["ttl"].parse().expect("seconds");
    assert!((3590..=3600).contains(&ttl), "an hour for an all-clear: {ttl}");
    let frame: Value = serde_json::from_str(&ok.read(all_clear)).expect("JSON");
    assert_eq!(frame["type"], "cancelled");
    assert_eq!(service.to("/push/gone/").len(), 1, "nothing more to a pruned subscription");
    // Kyiv oblast (14) is neither Kyiv city nor above or below it: not pushed. The next event on
    // 31 comes after it on the same service, so its arrival shows the one on 14 was not sent.
    assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 14, "kind": "air_raid"})).await.status, 201);
    assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "chemical"})).await.status, 201);
    service.wait_until("the next event on 31", |s| s.to("/push/ok/").len() >= 3).await;
    let third: Value = serde_json::from_str(&ok.read(&service.to("/push/ok/")[2])).expect("JSON");
    assert_eq!((third["alert"]["region_id"].as_u64(), third["alert"]["kind"].as_str()), (Some(31), Some("chemical")));
    assert_eq!(service.to("/push/ok/").len(), 3, "nothing for region 14");
    let topic = service.to("/push/ok/")[2].headers["topic"].clone();
    assert_eq!(topic, "31-chemical", "another alert on the region replaces nothing of the first");

    let unsubscribe = |endpoint: &str, auth: String| {
        app.call(Method::DELETE, "/api/v1/push/subscriptions", None, Some(json!({"endpoint": endpoint, "auth": auth})))
    };
    let wrong = unsubscribe(&ok.endpoint, URL_SAFE_NO_PAD.encode([9u8; 16])).await;
    assert_eq!((wrong.status.as_u16(), wrong.body["code"].as_str()), (404, Some("push-subscription-not-found")));
    assert_eq!(unsubscribe(&ok.endpoint, URL_SAFE_NO_PAD.encode(ok.auth)).await.status, 204);
    assert_eq!(subscribed_count(&app).await, "tryvoha_push_subscriptions 1");
    let deliveries = app.call(Method::GET, &format!("/api/v1/alerts/{id}/deliveries"), Some(ADMIN), None).await.body;
    let push = &deliveries["channels"]["webpush"];
    // The alert's two events: to `ok` twice, to `busy` 429 then 201 and once more, to `gone` a 410.
    let counts = ["attempted", "delivered", "failed", "pruned"].map(|outcome| push[outcome].as_u64().unwrap_or(99));
    assert_eq!(counts, [6, 4, 1, 1], "attempted, delivered, failed, pruned: {deliveries}");
    app.stop().await;
}

#[tokio::test]
async fn bad_subscriptions_are_refused_by_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let browser = Browser::new(4, "https://push.example.org/send/x".into());
    let good = browser.subscription();
    let with = |path: &str, value: Value| {
        let mut body = json!({"subscription": good.clone(), "regions": [31]});
        let mut target = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = &mut target[*part];
        }
        target[parts[parts.len() - 1]] = value;
        body
    };
    for (body, field) in [
        (with("subscription.endpoint", json!("http://push.example.org/send/x")), "subscription.endpoint"),
        (with("subscription.endpoint", json!("https://127.0.0.1/send/x")), "subscription.endpoint"),
        (with("subscription.keys.p256dh", json!("AAAA")), "subscription.keys.p256dh"),
        (with("subscription.keys.auth", json!("AAAA")), "subscription.keys.auth"),
        (with("regions", json!([31, 999999])), "regions[1]"),
        (with("regions", json!((1..=65).collect::<Vec<u32>>())), "regions"),
        (with("regions", json!([])), "regions"),
        (with("lang", json!("de")), "lang"),
        (with("colour", json!("red")), "colour"),
    ] {
        let refused = app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body.clone())).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
        let named = refused.body["field"].as_str().unwrap_or_default();
        assert!(named.starts_with(field), "{body} named {named:?}, not {field}");
    }
    assert_eq!(subscribed_count(&app).await, "tryvoha_push_subscriptions 0", "nothing stored");
    assert_eq!(app.last_seq().await, 0, "nothing in the log");
    app.stop().await;
}

#[tokio::test]
async fn one_client_may_change_only_so_many_subscriptions_a_minute() {
    let app = TestApp::spawn().await;
    let mut answers = Vec::new();
    for n in 0..=tryvoha_http::SUBSCRIPTIONS_PER_MINUTE {
        let browser = Browser::new(10, format!("https://203.0.114.{}/send/{n}", n % 250 + 1));
        let body = json!({"subscription": browser.subscription(), "regions": [31]});
        answers.push(app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body)).await.status.as_u16());
    }
    let last = answers.pop();
    assert!(answers.iter().all(|&s| s == 201), "{answers:?}");
    assert_eq!(last, Some(429), "the 21st change in a minute is refused");
    let browser = Browser::new(11, "https://203.0.114.7/send/more".into());
    let refused = app
        .client
        .post(format!("{}/api/v1/push/subscriptions", app.base))
        .json(&json!({"subscription": browser.subscription(), "regions": [31]}))
        .send()
        .await
        .expect("answered");
    let retry: u64 = refused.headers()["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert!(retry >= 2, "Retry-After says when the next change is allowed (one per 3 s): {retry}");
    app.stop().await;
}

#[tokio::test]
async fn past_the_servers_limit_new_subscriptions_are_refused_and_renewals_are_not() {
    let flags =
        FlagSettings { push: RawPush { max_subscriptions: Some(2), ..RawPush::default() }, ..FlagSettings::default() };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let subscribe = |browser: &Browser| {
        let body = json!({"subscription": browser.subscription(), "regions": [31]});
        app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body))
    };
    let browsers: Vec<Browser> =
        (0..3).map(|n| Browser::new(40 + n, format!("https://203.0.114.{}/send/{n}", n + 1))).collect();
    assert_eq!(subscribe(&browsers[0]).await.status, 201);
    assert_eq!(subscribe(&browsers[1]).await.status, 201);
    let full = subscribe(&browsers[2]).await;
    assert_eq!(
        (full.status.as_u16(), full.body["code"].as_str()),
        (503, Some("push-subscriptions-full")),
        "{:?}",
        full.body
    );
    assert_eq!(subscribed_count(&app).await, "tryvoha_push_subscriptions 2", "nothing stored");
    assert_eq!(subscribe(&browsers[0]).await.status, 200, "a renewal is not a new subscription");
    app.stop().await;
}

#[tokio::test]
async fn a_push_service_that_never_answers_holds_up_no_other() {
    let healthy = PushService::start().await;
    // Takes connections (the kernel's backlog) and never answers.
    let stuck = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let stuck_base = format!("http://127.0.0.1:{}/", stuck.local_addr().expect("address").port());
    let healthy_base = format!("http://127.0.0.1:{}/", healthy.port);
    let flags = FlagSettings {
        push: RawPush { allow_endpoints: Some(vec![healthy_base.clone(), stuck_base.clone()]), ..RawPush::default() },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let subscribe = |browser: &Browser| {
        let body = json!({"subscription": browser.subscription(), "regions": [31]});
        app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body))
    };
    assert_eq!(subscribe(&Browser::new(20, format!("{stuck_base}push/ok/stuck"))).await.status, 201);
    let reader = Browser::new(21, format!("{healthy_base}push/ok/fine"));
    assert_eq!(subscribe(&reader).await.status, 201);
    for kind in ["air_raid", "chemical"] {
        assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": kind})).await.status, 201);
    }
    healthy.wait_until("both events at the healthy service", |s| s.to("/push/ok/").len() >= 2).await;
    let kinds: Vec<String> = healthy
        .to("/push/ok/")
        .iter()
        .map(|p| {
            serde_json::from_str::<Value>(&reader.read(p)).expect("JSON")["alert"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["air_raid", "chemical"], "in order");
    // The stuck service was asked (its connection waits in the backlog) and has not answered:
    // the second event went out to the healthy one regardless.
    stuck.set_nonblocking(true).expect("non-blocking");
    assert!(stuck.accept().is_ok(), "the stuck service was sent to");
    app.stop().await;
}
