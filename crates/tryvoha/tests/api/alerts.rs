use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use time::OffsetDateTime;
use tryvoha_engine::Clock;

use crate::sse::{FrameExt, SseStream};
use crate::support::{ADMIN, ManualClock, TestApp};

#[tokio::test]
async fn declare_then_cancel_is_logged_with_the_actor() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14]).await;
    let declared = app
        .post(
            "/api/v1/alerts",
            &operator,
            json!({ "region_id": 14, "kind": "air_raid", "threats": ["drones", "ballistic_missiles"] }),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let alert = &declared.body;
    assert_eq!(
        (alert["region_id"].as_u64(), alert["kind"].as_str(), alert["level"].as_str(), alert["status"].as_str()),
        (Some(14), Some("air_raid"), Some("red"), Some("actual"))
    );
    assert!(alert["finished_at"].is_null());
    let id = alert["id"].as_u64().unwrap();

    let active = app.get("/api/v1/alerts/active").await;
    assert_eq!(active.body["alerts"][0]["id"], id);

    let cancelled = app.post(&format!("/api/v1/alerts/{id}/cancel"), &operator, json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert!(cancelled.body["finished_at"].is_string());
    assert_eq!(cancelled.body["finish_reason"], "cancelled");
    assert!(app.get("/api/v1/alerts/active").await.body["alerts"].as_array().unwrap().is_empty());
    assert_eq!(
        app.get(&format!("/api/v1/alerts/{id}")).await.body["finish_reason"],
        "cancelled",
        "finished alerts stay readable"
    );

    let events = app.events().await;
    let kinds: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["declared", "cancelled"]);
    assert_eq!(events.iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(events[0]["actor"]["name"], "operator");
    assert!(events[0]["actor"]["token_id"].is_u64(), "the event names the token that acted");
    assert_eq!(
        events[1]["alert"]["finished_at"], cancelled.body["finished_at"],
        "the event carries the alert after it"
    );
}

#[tokio::test]
async fn declaring_an_active_kind_again_returns_the_existing_alert_but_a_drill_is_separate() {
    let app = TestApp::spawn().await;
    let first = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    let again = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    assert_eq!((first.status, again.status), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(first.body["id"], again.body["id"]);
    let drill =
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid", "status": "exercise" })).await;
    assert_eq!(drill.status, StatusCode::CREATED);
    assert_ne!(drill.body["id"], first.body["id"]);
    assert_eq!(drill.body["status"], "exercise");
    assert_eq!(app.last_seq().await, 2, "the repeat wrote nothing");
}

#[tokio::test]
async fn a_drill_alone_leaves_the_region_clear() {
    let app = TestApp::spawn().await;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid", "status": "exercise" })).await;
    assert_eq!(app.get("/api/v1/regions/14").await.body["state"], "clear");
    assert_eq!(app.get("/api/v1/regions/14").await.body["alerts"][0]["status"], "exercise");
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_return_the_first_answer() {
    let app = TestApp::spawn().await;
    let send = |body: serde_json::Value| {
        app.client
            .post(format!("{}/api/v1/alerts", app.base))
            .bearer_auth(ADMIN)
            .header("Idempotency-Key", "retry-1")
            .json(&body)
            .send()
    };
    let body = json!({ "region_id": 9, "kind": "air_raid" });
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: serde_json::Value = first.json().await.unwrap();
    // The alert is cancelled meanwhile; the retry must not declare a second one.
    app.post(&format!("/api/v1/alerts/{}/cancel", first["id"]), ADMIN, json!({})).await;
    let retry = send(body).await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    let retry: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(retry["id"], first["id"]);
    let other = send(json!({ "region_id": 10, "kind": "air_raid" })).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other: serde_json::Value = other.json().await.unwrap();
    assert_eq!(other["code"], "idempotency-key-reused");
    assert_eq!(app.last_seq().await, 2, "one declaration and its cancellation, nothing more");
}

#[tokio::test]
async fn an_update_changes_the_alert_and_is_logged() {
    let app = TestApp::spawn().await;
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let id = declared.body["id"].as_u64().unwrap();
    let body = json!({ "threats": ["cruise_missiles"], "message": { "uk": "Загроза ракет", "en": "Missile threat" } });
    let updated = app.call(Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(ADMIN), Some(body)).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["threats"], json!(["cruise_missiles"]));
    assert_eq!(updated.body["message"]["en"], "Missile threat");
    assert_eq!(updated.body["started_at"], declared.body["started_at"]);
    assert_eq!(app.events().await[1]["type"], "updated");
}

#[tokio::test]
async fn an_alert_expires_when_the_servers_clock_passes_its_expiry() {
    // On the system clock, neither alert would expire in the test.
    let clock = ManualClock::month_ahead();
    let t0 = clock.now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let rfc3339 = |at: OffsetDateTime| at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let declare = async |region: u32, expires_at: OffsetDateTime| {
        let body = json!({ "region_id": region, "kind": "air_raid", "expires_at": rfc3339(expires_at) });
        let declared = app.post("/api/v1/alerts", ADMIN, body).await;
        assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
        declared.body["id"].as_u64().unwrap()
    };
    let soon = declare(14, t0 + time::Duration::hours(1)).await;
    let later = declare(26, t0 + time::Duration::hours(3)).await;
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream", None).await;
    assert_eq!(stream.next(Duration::from_secs(10)).await.unwrap().event, "snapshot");

    clock.set(t0 + time::Duration::hours(2));
    let frames = stream.until(Duration::from_secs(30), |frame| frame.event == "expired");
    let expired = frames.await.pop().unwrap().json();
    assert_eq!(expired["alert"]["id"], soon);
    let finished = app.get(&format!("/api/v1/alerts/{soon}")).await.body;
    assert_eq!(finished["finish_reason"], "expired");
    assert_eq!(finished["finished_at"], rfc3339(t0 + time::Duration::hours(1)), "dated at its expiry");
    let events = app.events().await;
    assert_eq!((events[2]["type"].as_str(), events[2]["actor"]["name"].as_str()), (Some("expired"), Some("system")));
    let active = app.get("/api/v1/alerts/active").await.body;
    assert_eq!(active["alerts"].as_array().unwrap().len(), 1, "{active}");
    assert_eq!(active["alerts"][0]["id"], later, "the clock has not passed the other's expiry");
}

#[tokio::test]
async fn a_restart_shows_the_same_active_alerts_and_continues_the_sequence() {
    let app = TestApp::spawn().await;
    let kept = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let ended = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    app.post(&format!("/api/v1/alerts/{}/cancel", ended.body["id"]), ADMIN, json!({})).await;
    let before = app.get("/api/v1/alerts/active").await.body;
    let data = app.stop().await;

    let app = TestApp::spawn_in(data).await;
    assert_eq!(app.get("/api/v1/alerts/active").await.body, before);
    assert_eq!(app.get("/api/v1/regions/14").await.body["state"], "alert");
    let next = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 9, "kind": "air_raid" })).await;
    assert_eq!(next.body["seq"], 4);
    assert!(next.body["id"].as_u64() > kept.body["id"].as_u64().max(ended.body["id"].as_u64()), "ids are not reused");
    let again = app.post(&format!("/api/v1/alerts/{}/cancel", ended.body["id"]), ADMIN, json!({})).await;
    assert_eq!(again.body["code"], "alert-already-finished");
}

#[tokio::test]
async fn a_red_ballistic_declaration_escalates_an_active_yellow_drone_alert() {
    use crate::sse::{FrameExt, SseStream};
    let app = TestApp::spawn().await;
    let operator = app.operator(&[31]).await;
    let yellow = json!({ "region_id": 31, "kind": "air_raid", "level": "yellow", "threats": ["drones"] });
    let first = app.post("/api/v1/alerts", &operator, yellow.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.body.get("changed").is_none(), "a new alert is the alert alone");
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream?regions=31", None).await;
    stream.next(Duration::from_secs(5)).await.expect("snapshot");

    let red = json!({ "region_id": 31, "kind": "air_raid", "level": "red", "threats": ["ballistic_missiles"] });
    let escalated = app.post("/api/v1/alerts", &operator, red).await;
    assert_eq!(escalated.status, StatusCode::OK, "{}", escalated.body);
    assert_eq!(escalated.body["id"], first.body["id"]);
    assert_eq!(escalated.body["level"], "red");
    assert_eq!(escalated.body["threats"], json!(["drones", "ballistic_missiles"]));
    assert_eq!(escalated.body["changed"], json!(["level", "threats"]));

    let frame = stream.next(Duration::from_secs(5)).await.expect("the escalation is streamed");
    assert_eq!((frame.event.as_str(), frame.seq()), ("updated", 2));
    assert_eq!(frame.json()["alert"]["level"], "red");
    let keys = crate::stream::keys(&app).await;
    assert_eq!(tryvoha_live::verify_signed_json(&frame.data, &keys), Ok(()), "signed like any event");
    let events = app.events().await;
    assert_eq!(events.iter().map(|e| e["type"].as_str().unwrap()).collect::<Vec<_>>(), ["declared", "updated"]);

    // A yellow re-declaration neither lowers it nor writes anything.
    let again = app.post("/api/v1/alerts", &operator, yellow).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!((again.body["level"].as_str(), again.body["changed"].clone()), (Some("red"), json!([])));
    assert_eq!(app.last_seq().await, 2, "nothing changed, nothing written");

    let id = first.body["id"].as_u64().unwrap();
    let patched = app
        .call(Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(&operator), Some(json!({ "level": "yellow" })))
        .await;
    assert_eq!((patched.body["level"].as_str(), patched.body["changed"].clone()), (Some("yellow"), json!(["level"])));
}

#[tokio::test]
async fn texts_with_characters_xml_forbids_are_refused_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let declared = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let id = declared.body["id"].as_u64().unwrap();
    let before = app.last_seq().await;
    for (text, field) in [("Line one\u{b}line two", "message.uk"), ("\u{0}", "message.uk"), ("\u{fffe}", "message.uk")]
    {
        let body = json!({ "region_id": 9, "kind": "air_raid", "message": { "uk": text, "en": "fine" } });
        let refused = app.post("/api/v1/alerts", ADMIN, body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(
            (refused.body["code"].as_str(), refused.body["field"].as_str()),
            (Some("invalid-characters"), Some(field))
        );
    }
    let body = json!({ "instruction": { "en": "Go\u{1f}down" } });
    let refused = app.call(Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(ADMIN), Some(body)).await;
    assert_eq!(
        (refused.body["code"].as_str(), refused.body["field"].as_str()),
        (Some("invalid-characters"), Some("instruction.en"))
    );
    assert_eq!(app.last_seq().await, before, "the log is unchanged");
}
