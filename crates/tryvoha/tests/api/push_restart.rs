//! A restart in the middle of an event: the sender finishes the job afterwards, and sends
//! nothing again that a push service had accepted before the stop.

use reqwest::Method;
use serde_json::{Value, json};
use tryvoha::config::{FlagSettings, RawPush};

use crate::push_sink::{Browser, PushService};
use crate::support::{ADMIN, TestApp};

#[tokio::test]
async fn a_restart_mid_event_sends_the_rest_and_nothing_twice() {
    let healthy = PushService::start().await;
    // Takes connections (the kernel's backlog) and never answers, until the restart.
    let stuck = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let stuck_port = stuck.local_addr().expect("address").port();
    let (healthy_base, stuck_base) =
        (format!("http://127.0.0.1:{}/", healthy.port), format!("http://127.0.0.1:{stuck_port}/"));
    let flags = || FlagSettings {
        push: RawPush { allow_endpoints: Some(vec![healthy_base.clone(), stuck_base.clone()]), ..RawPush::default() },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags()).await;
    let fine = Browser::new(31, format!("{healthy_base}push/ok/fine"));
    // Two at the stuck service, so that a stop finds one event half sent there, and the next
    // queued behind it.
    let late = [32, 33].map(|seed| Browser::new(seed, format!("{stuck_base}push/ok/late-{seed}")));
    for browser in std::iter::once(&fine).chain(&late) {
        let body = json!({"subscription": browser.subscription(), "regions": [31]});
        assert_eq!(app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body)).await.status, 201);
    }
    for kind in ["air_raid", "chemical"] {
        assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": kind})).await.status, 201);
    }
    healthy.wait_until("both alerts at the healthy service", |s| s.to("/push/ok/fine").len() >= 2).await;

    // Stopped while the stuck service still holds the requests: the first event is half sent
    // there, the second not begun.
    let data = app.stop().await;
    drop(stuck);
    let revived = PushService::start_on(stuck_port).await;
    let app = TestApp::spawn_with(data, flags()).await;
    for seed in [32, 33] {
        let path = format!("/push/ok/late-{seed}");
        revived.wait_until("both alerts, after the restart", |s| s.to(&path).len() >= 2).await;
    }
    assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "nuclear"})).await.status, 201);
    healthy.wait_until("the next alert", |s| s.to("/push/ok/fine").len() >= 3).await;
    for seed in [32, 33] {
        let path = format!("/push/ok/late-{seed}");
        revived.wait_until("the next alert", |s| s.to(&path).len() >= 3).await;
    }

    let kinds = |service: &PushService, browser: &Browser, path: &str| -> Vec<String> {
        let frames = service.to(path).iter().map(|pushed| browser.read(pushed)).collect::<Vec<_>>();
        let kind = |frame: &String| {
            serde_json::from_str::<Value>(frame).expect("JSON")["alert"]["kind"].as_str().unwrap_or_default().to_owned()
        };
        frames.iter().map(kind).collect()
    };
    assert_eq!(
        kinds(&healthy, &fine, "/push/ok/fine"),
        ["air_raid", "chemical", "nuclear"],
        "what the healthy service accepted before the restart is not sent again"
    );
    for (browser, seed) in late.iter().zip([32, 33]) {
        let got = kinds(&revived, browser, &format!("/push/ok/late-{seed}"));
        assert_eq!(got, ["air_raid", "chemical", "nuclear"], "the rest is sent, in order, none skipped");
    }
    app.stop().await;
}
