//! Who acted stays with the administrators: every public output names the issuing authority,
//! never the token (its name or id) that declared, updated or cancelled an alert.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tryvoha::config::FlagSettings;

use crate::sse::{FrameExt, SseStream};
use crate::support::{ADMIN, TestApp};

/// A token name that would never appear in any output by chance.
const MARKER: &str = "marker-9f3c-Петренко";
const AUTHORITY: &str = "ДСНС України (тест)";

#[tokio::test]
async fn the_public_sees_the_authority_and_the_event_log_keeps_the_token() {
    let flags =
        FlagSettings { authority: Some(AUTHORITY.into()), compat_anonymous: Some(true), ..FlagSettings::default() };
    let app = TestApp::spawn_with(tempfile::tempdir().unwrap(), flags).await;
    let created =
        app.post("/api/v1/tokens", ADMIN, json!({ "name": MARKER, "role": "operator", "regions": [14] })).await;
    let (secret, token_id) = (created.body["token"].as_str().unwrap(), created.body["id"].as_u64().unwrap());
    let mut live = SseStream::open(&app.client, &app.base, "/api/v1/stream", None).await;
    live.until(Duration::from_secs(10), |frame| frame.event == "snapshot").await;

    let declared = app.post("/api/v1/alerts", secret, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let id = declared.body["id"].as_u64().unwrap();
    app.call(Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(secret), Some(json!({ "level": "yellow" }))).await;

    // The stream: the live frames, a catch-up from the log and a fresh snapshot.
    let mut public = Vec::new();
    for frame in live.until(Duration::from_secs(10), |frame| frame.event == "updated").await {
        public.push((format!("live {}", frame.event), frame.data.clone()));
        if frame.event != "heartbeat" && !frame.data.is_empty() {
            let json = frame.json();
            assert_eq!(json["actor"], json!({ "token_id": null, "name": AUTHORITY }), "{}", frame.data);
            assert_eq!(json["alert"]["declared_by"]["name"], AUTHORITY, "{}", frame.data);
        }
    }
    let mut caught_up = SseStream::open(&app.client, &app.base, "/api/v1/stream?after=0", None).await;
    for frame in caught_up.until(Duration::from_secs(10), |frame| frame.event == "updated").await {
        public.push((format!("catch-up {}", frame.event), frame.data));
    }
    let mut fresh = SseStream::open(&app.client, &app.base, "/api/v1/stream", None).await;
    let snapshot = fresh.until(Duration::from_secs(10), |frame| frame.event == "snapshot").await;
    let snapshot = snapshot.last().unwrap();
    assert_eq!(snapshot.json()["alerts"][0]["declared_by"]["name"], AUTHORITY);
    public.push(("snapshot".into(), snapshot.data.clone()));

    for path in [
        "/api/v1/alerts/active".to_owned(),
        format!("/api/v1/alerts/{id}"),
        format!("/api/v1/alerts/{id}.cap"),
        "/api/v1/regions/14".to_owned(),
        "/feeds/cap.atom".to_owned(),
        "/v1/alerts/active.json".to_owned(),
        "/v1/iot/active_air_raid_alerts.json".to_owned(),
        "/api/v3/alerts".to_owned(),
        "/api/v3/alerts/14".to_owned(),
    ] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        public.push((path, response.text().await.unwrap()));
    }
    let read = app.get(&format!("/api/v1/alerts/{id}")).await.body;
    assert_eq!(read["declared_by"], json!({ "token_id": null, "name": AUTHORITY }));

    for (output, text) in &public {
        assert!(!text.contains(MARKER), "{output} names the token: {text}");
        assert!(!text.contains(&format!("\"token_id\":{token_id}")), "{output} carries the token's id: {text}");
    }

    let log = app.call(Method::GET, "/api/v1/events", Some(ADMIN), None).await.body;
    for event in log["events"].as_array().unwrap() {
        assert_eq!(event["actor"], json!({ "token_id": token_id, "name": MARKER }), "the admin log keeps who acted");
        assert_eq!(event["alert"]["declared_by"]["name"], MARKER);
    }
}
