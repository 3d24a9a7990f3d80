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
    let late = Browser::new(32, format!("{stuck_base}push/ok/late"));
    for browser in [&fine, &late] {
        let body = json!({"subscription": browser.subscription(), "regions": [31]});
        assert_eq!(app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body)).await.status, 201);
    }
    assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "air_raid"})).await.status, 201);
    healthy.wait_until("the alert at the healthy service", |s| !s.to("/push/ok/fine").is_empty()).await;

    // Stopped while the stuck service still holds the request: the event is half sent.
    let data = app.stop().await;
    drop(stuck);
    let revived = PushService::start_on(stuck_port).await;
    let app = TestApp::spawn_with(data, flags()).await;
    revived.wait_until("the alert, after the restart", |s| !s.to("/push/ok/late").is_empty()).await;
    assert_eq!(app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "chemical"})).await.status, 201);
    healthy.wait_until("the next alert", |s| s.to("/push/ok/fine").len() >= 2).await;
    revived.wait_until("the next alert", |s| s.to("/push/ok/late").len() >= 2).await;

    let kinds = |service: &PushService, browser: &Browser, path: &str| -> Vec<String> {
        let frames = service.to(path).iter().map(|pushed| browser.read(pushed)).collect::<Vec<_>>();
        let kind = |frame: &String| serde_json::from_str::<Value>(frame).expect("JSON")["alert"]["kind"].to_string();
        frames.iter().map(kind).collect()
    };
    assert_eq!(
        kinds(&healthy, &fine, "/push/ok/fine"),
        ["\"air_raid\"", "\"chemical\""],
        "what the healthy service accepted before the restart is not sent again"
    );
    assert_eq!(kinds(&revived, &late, "/push/ok/late"), ["\"air_raid\"", "\"chemical\""], "the rest is sent, in order");
    app.stop().await;
}
