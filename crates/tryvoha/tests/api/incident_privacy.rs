//! No field of a private incident reaches a public output. A marker is put into every text of a
//! private incident (and into the private-only fields of a public one's private sibling), then
//! every public output is searched for it: the streams (SSE and WebSocket, live and caught up),
//! the incident lists and reads, the report (JSON and CSV), the map layers, CAP, the feed, the
//! compatible APIs, the pages, MQTT and webhooks. The admins' log must still hold it.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::json;
use tryvoha::config::FlagSettings;

use crate::mqtt::{Recorder, mqtt_flags, shared_broker, unique_prefix};
use crate::sse::SseStream;
use crate::support::{ADMIN, TestApp};
use crate::webhooks::{Receiver, free_port, loopback_allowed, register};

const MARK: &str = "zz-private-9c1e-Шевченко";

#[tokio::test]
async fn no_field_of_a_private_incident_reaches_any_public_output() {
    let broker = shared_broker();
    let prefix = unique_prefix("privacy");
    let mut flags = FlagSettings { compat_anonymous: Some(true), ..loopback_allowed() };
    if let Some((host, port)) = &broker {
        flags.mqtt = mqtt_flags(host, *port, &prefix);
    }
    let app = TestApp::spawn_with(tempfile::tempdir().unwrap(), flags).await;
    let recorder = match &broker {
        Some((host, port)) => Some(Recorder::subscribe(host, *port, &[format!("{prefix}/#")], None).await),
        None => None,
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let hook = register(
        &app,
        json!({ "url": format!("http://127.0.0.1:{port}/hook"), "types": ["alerts", "incidents", "shelters"] }),
    )
    .await;
    let receiver = Receiver::start(dir.path(), port, hook["secret"].as_str().unwrap(), &[]);

    let responder = app.token("responder", &[31]).await;
    let alert = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await.body;
    let id = alert["id"].as_u64().unwrap();
    let url = format!("{}/api/v1/ws?types=alerts,incidents,shelters", app.base.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let mut live =
        SseStream::open(&app.client, &app.base, "/api/v1/stream?types=alerts,incidents,shelters", None).await;
    live.until(Duration::from_secs(10), |frame| frame.event == "snapshot").await;

    let private = json!({ "kind": "evacuation", "lat": 50.46, "lon": 30.52, "public": false, "people_affected": 41,
        "evacuated_to": MARK, "address": MARK, "casualty_details": MARK, "description": { "uk": MARK, "en": MARK } });
    let reported = app.post("/api/v1/incidents", &responder, private).await;
    assert_eq!(reported.status, 201, "{}", reported.body);
    let private_id = reported.body["id"].as_u64().unwrap();
    let changed = app
        .call(
            Method::PATCH,
            &format!("/api/v1/incidents/{private_id}"),
            Some(&responder),
            Some(json!({ "status": "contained", "casualty_details": format!("{MARK} 2") })),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    // A public incident after it: once the streams and channels carry this one, they have
    // passed the private one's events.
    let public =
        json!({ "kind": "fire", "lat": 50.45, "lon": 30.52, "public": true, "description": { "en": "public fire" } });
    let public_id = app.post("/api/v1/incidents", &responder, public).await.body["id"].as_u64().unwrap();
    app.post(&format!("/api/v1/alerts/{id}/cancel"), ADMIN, json!({})).await;

    let mut outputs: Vec<(String, String)> = Vec::new();
    for frame in live.until(Duration::from_secs(10), |frame| frame.event == "cancelled").await {
        outputs.push((format!("live SSE {}", frame.event), frame.data));
    }
    assert!(outputs.iter().any(|(_, data)| data.contains("public fire")), "the public incident is on the stream");
    let mut caught_up =
        SseStream::open(&app.client, &app.base, "/api/v1/stream?after=0&types=alerts,incidents,shelters", None).await;
    for frame in caught_up.until(Duration::from_secs(10), |frame| frame.event == "cancelled").await {
        outputs.push((format!("caught-up SSE {}", frame.event), frame.data));
    }
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
        let text = message.into_text().unwrap().to_string();
        let done = text.contains("\"type\":\"cancelled\"");
        outputs.push(("WebSocket".into(), text));
        if done {
            break;
        }
    }
    let csv = app.client.get(format!("{}/api/v1/alerts/{id}/report.csv", app.base)).send().await.unwrap();
    outputs.push(("report CSV".into(), csv.text().await.unwrap()));
    for path in [
        "/api/v1/incidents".to_owned(),
        "/api/v1/incidents?region_id=31".to_owned(),
        format!("/api/v1/incidents/{private_id}"),
        format!("/api/v1/incidents/{public_id}"),
        format!("/api/v1/alerts/{id}/report"),
        format!("/api/v1/alerts/{id}"),
        format!("/api/v1/alerts/{id}.cap"),
        "/feeds/cap.atom".to_owned(),
        "/api/v1/regions.geojson?level=oblast".to_owned(),
        "/api/v1/regions/31".to_owned(),
        "/api/v1/alerts/active".to_owned(),
        "/v1/alerts/active.json".to_owned(),
        "/api/v3/alerts".to_owned(),
        "/".to_owned(),
        "/regions/31".to_owned(),
        format!("/alerts/{id}/report"),
        format!("/alerts/{id}/report?lang=en"),
        "/shelters".to_owned(),
    ] {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        outputs.push((path, response.text().await.unwrap()));
    }
    if let Some(recorder) = &recorder {
        let incidents = format!("{prefix}/v1/incidents");
        recorder.wait_until("the public incident on MQTT", |r| !r.on(&incidents).is_empty()).await;
        for message in recorder.all() {
            outputs.push((format!("MQTT {}", message.topic), message.payload));
        }
    }
    if let Some(receiver) = &receiver {
        receiver
            .wait_until("the all-clear by webhook", |r| {
                r.received().iter().any(|d| d["body"].as_str().is_some_and(|b| b.contains("\"cancelled\"")))
            })
            .await;
        for delivery in receiver.received() {
            outputs.push(("webhook".into(), delivery["body"].as_str().unwrap_or_default().to_owned()));
        }
        assert!(
            outputs.iter().any(|(what, body)| what == "webhook" && body.contains("public fire")),
            "webhooks that ask carry public incidents"
        );
    }

    for (output, text) in &outputs {
        assert!(!text.contains(MARK), "{output} carries a private field: {text}");
    }
    let log = app.call(Method::GET, "/api/v1/events", Some(ADMIN), None).await.body.to_string();
    assert!(log.contains(MARK), "the admins' log keeps what was reported");
    let seen = app.call(Method::GET, &format!("/api/v1/incidents/{private_id}"), Some(&responder), None).await;
    assert_eq!(seen.body["address"], MARK, "a responder reads the private incident whole");
}
