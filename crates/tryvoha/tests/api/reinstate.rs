//! `POST /api/v1/alerts/{id}/reinstate`: an all-clear sent in error is taken back in one step,
//! as an ordinary declaration every client hears; what cannot be reinstated writes nothing.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tryvoha_engine::Clock;

use crate::sse::{FrameExt, SseStream};
use crate::support::{ADMIN, ManualClock, TestApp};

/// Declares `body` with `token` and gives the all-clear; returns the alert as declared.
async fn declared_then_cancelled(app: &TestApp, token: &str, body: Value) -> Value {
    let declared = app.post("/api/v1/alerts", token, body).await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let cancelled = app.post(&format!("/api/v1/alerts/{}/cancel", declared.body["id"]), token, json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    declared.body
}

fn reinstate_path(id: &Value) -> String {
    format!("/api/v1/alerts/{id}/reinstate")
}

#[tokio::test]
async fn a_mistaken_all_clear_is_taken_back_as_a_declaration_every_client_hears() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14]).await;
    let body = json!({ "region_id": 14, "kind": "air_raid", "level": "yellow", "threats": ["drones"],
        "message": { "uk": "Загроза БпЛА", "en": "Drone threat" }, "instruction": { "uk": "До укриття" } });
    let first = declared_then_cancelled(&app, &operator, body).await;
    assert_eq!(app.get("/api/v1/regions/14").await.body["state"], "clear");
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream?regions=14", None).await;
    assert_eq!(stream.next(Duration::from_secs(10)).await.unwrap().event, "snapshot");

    // An empty body is as good as `{}`.
    let request = app.client.post(format!("{}{}", app.base, reinstate_path(&first["id"]))).bearer_auth(&operator);
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);
    let again: Value = answer.json().await.unwrap();
    assert_ne!(again["id"], first["id"], "a new alert");
    assert_eq!(again["reinstates"], first["id"]);
    for field in ["region_id", "kind", "level", "status", "threats", "message", "instruction", "expires_at"] {
        assert_eq!(again[field], first[field], "{field}");
    }
    assert!(again["finished_at"].is_null() && again.get("changed").is_none(), "{again}");
    assert_eq!(app.get("/api/v1/regions/14").await.body["state"], "alert");
    assert_eq!(app.get("/api/v1/regions/73").await.body["state"], "alert", "and below it");

    let frame = stream.next(Duration::from_secs(10)).await.expect("the reinstatement is streamed");
    assert_eq!(frame.event, "declared", "an ordinary declaration to every client");
    assert_eq!(
        (frame.json()["alert"]["id"].clone(), frame.json()["alert"]["reinstates"].clone()),
        (again["id"].clone(), first["id"].clone())
    );
    let keys = crate::stream::keys(&app).await;
    assert_eq!(tryvoha_live::verify_signed_json(&frame.data, &keys), Ok(()), "signed like any event");
    let events = app.events().await;
    let kinds: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["declared", "cancelled", "declared"]);
    assert_eq!(events[2]["alert"]["reinstates"], first["id"]);
    assert!(events[0]["alert"].get("reinstates").is_none(), "other alerts do not carry it");
    assert_eq!(app.get(&format!("/api/v1/alerts/{}", again["id"])).await.body["reinstates"], first["id"]);
    assert_eq!(app.get("/api/v1/alerts/active").await.body["alerts"][0]["id"], again["id"]);

    // Asked again, it answers the alert that already reinstates it and declares nothing.
    let repeated = app.post(&reinstate_path(&first["id"]), &operator, json!({})).await;
    assert_eq!(repeated.status, StatusCode::OK, "{}", repeated.body);
    assert_eq!((repeated.body["id"].clone(), repeated.body["changed"].clone()), (again["id"].clone(), json!([])));
    assert_eq!(app.events().await, events, "nothing written");
}

#[tokio::test]
async fn what_cannot_be_reinstated_is_refused_and_writes_nothing() {
    // Moved by the test, so that an alert expires.
    let clock = ManualClock::month_ahead();
    let t0 = clock.now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let expires_at = (t0 + time::Duration::hours(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let timed =
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 26, "kind": "air_raid", "expires_at": expires_at }));
    let timed = timed.await.body;
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream", None).await;
    stream.next(Duration::from_secs(10)).await.expect("snapshot");
    clock.set(t0 + time::Duration::hours(2));
    stream.until(Duration::from_secs(30), |frame| frame.event == "expired").await;
    let active = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await.body;
    let kyiv_region = declared_then_cancelled(&app, ADMIN, json!({ "region_id": 14, "kind": "chemical" })).await;
    let elsewhere = app.operator(&[31]).await;
    let reader = app.post("/api/v1/tokens", ADMIN, json!({ "name": "screen", "role": "reader" })).await;
    let reader = reader.body["token"].as_str().unwrap().to_owned();

    let cases = [
        (json!(999), ADMIN, StatusCode::NOT_FOUND, "alert-not-found"),
        (json!("latest"), ADMIN, StatusCode::NOT_FOUND, "alert-not-found"),
        (active["id"].clone(), ADMIN, StatusCode::CONFLICT, "alert-active"),
        (timed["id"].clone(), ADMIN, StatusCode::CONFLICT, "not-cancelled"),
        (kyiv_region["id"].clone(), &elsewhere, StatusCode::FORBIDDEN, "out-of-scope"),
        (kyiv_region["id"].clone(), &reader, StatusCode::FORBIDDEN, "forbidden-role"),
    ];
    let events = app.events().await;
    for (id, token, status, code) in cases {
        let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
        let refused = app.post(&format!("/api/v1/alerts/{id}/reinstate"), token, json!({})).await;
        assert_eq!((refused.status, refused.body["code"].as_str()), (status, Some(code)), "{id}: {}", refused.body);
        assert_eq!(refused.content_type, "application/problem+json");
        assert_eq!(app.events().await, events, "{code}: the log is unchanged");
    }
    let anonymous = app.call(reqwest::Method::POST, &reinstate_path(&kyiv_region["id"]), None, None).await;
    assert_eq!((anonymous.status, anonymous.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token-missing")));
    assert_eq!(app.events().await, events, "the log is unchanged");
}

#[tokio::test]
async fn a_reinstatement_meeting_the_same_alert_active_again_escalates_it_as_a_declaration_would() {
    let app = TestApp::spawn().await;
    let red = json!({ "region_id": 31, "kind": "air_raid", "threats": ["ballistic_missiles"] });
    let first = declared_then_cancelled(&app, ADMIN, red).await;
    let yellow = json!({ "region_id": 31, "kind": "air_raid", "level": "yellow", "threats": ["drones"] });
    let active = app.post("/api/v1/alerts", ADMIN, yellow).await.body;

    let escalated = app.post(&reinstate_path(&first["id"]), ADMIN, json!({})).await;
    assert_eq!(escalated.status, StatusCode::OK, "{}", escalated.body);
    assert_eq!(escalated.body["id"], active["id"], "no second alert of the same region, kind and status");
    assert_eq!(escalated.body["level"], "red");
    assert_eq!(escalated.body["threats"], json!(["drones", "ballistic_missiles"]));
    assert_eq!(escalated.body["changed"], json!(["level", "threats"]));
    assert!(escalated.body.get("reinstates").is_none(), "{}", escalated.body);
    let events = app.events().await;
    assert_eq!(events.last().unwrap()["type"], "updated");
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retried_reinstatement_return_the_first_answer() {
    let app = TestApp::spawn().await;
    let first = declared_then_cancelled(&app, ADMIN, json!({ "region_id": 9, "kind": "air_raid" })).await;
    let other = declared_then_cancelled(&app, ADMIN, json!({ "region_id": 10, "kind": "air_raid" })).await;
    let send = |id: &Value| {
        let url = format!("{}{}", app.base, reinstate_path(id));
        app.client.post(url).bearer_auth(ADMIN).header("Idempotency-Key", "undo-1").send()
    };
    let created = send(&first["id"]).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    // The reinstated alert ends meanwhile; the retry must not declare it a third time.
    app.post(&format!("/api/v1/alerts/{}/cancel", created["id"]), ADMIN, json!({})).await;
    let events = app.events().await;
    let retry = send(&first["id"]).await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], created["id"]);
    let reused = send(&other["id"]).await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.json::<Value>().await.unwrap()["code"], "idempotency-key-reused");
    assert_eq!(app.events().await, events, "nothing more was written");
}
