//! Shelter status through the API: who may report it, what `/shelters/nearest` then offers, the
//! event on the streams that asked for it, and the report of an alert listing the shelters
//! that filled.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sse::{FrameExt, SseStream};
use crate::support::{ADMIN, Answer, TestApp};

const MAIDAN: (f64, f64) = (50.4501, 30.5241);

async fn nearest(app: &TestApp, extra: &str) -> Vec<Value> {
    let path = format!("/api/v1/shelters/nearest?lat={}&lon={}&limit=3{extra}", MAIDAN.0, MAIDAN.1);
    app.get(&path).await.body["shelters"].as_array().unwrap().clone()
}

async fn set(app: &TestApp, token: &str, id: u64, body: Value) -> Answer {
    app.call(Method::PATCH, &format!("/api/v1/shelters/{id}/status"), Some(token), Some(body)).await
}

fn ids(shelters: &[Value]) -> Vec<u64> {
    shelters.iter().map(|s| s["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn a_closed_shelter_is_not_offered_and_a_full_one_only_when_asked() {
    let app = TestApp::spawn().await;
    let responder = app.token("responder", &[31]).await;
    let lviv = app.token("responder", &[27]).await;
    let reader = app.token("reader", &[]).await;
    let before = ids(&nearest(&app, "").await);
    let (first, second) = (before[0], before[1]);
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream?types=shelters&regions=31", None).await;
    stream.until(Duration::from_secs(10), |frame| frame.event == "snapshot").await;
    let head = app.last_seq().await;

    let refusals = [
        (set(&app, &lviv, first, json!({ "status": "closed" })).await, StatusCode::FORBIDDEN, "out-of-scope"),
        (set(&app, &reader, first, json!({ "status": "closed" })).await, StatusCode::FORBIDDEN, "forbidden-role"),
        (
            set(&app, &responder, first, json!({ "status": "burning" })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            set(&app, &responder, first, json!({ "occupancy": 3 })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            set(&app, &responder, first, json!({ "status": "open", "capacity": 0 })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            set(&app, &responder, first, json!({ "status": "open", "notes": "x".repeat(501) })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            set(&app, &responder, 999_999, json!({ "status": "closed" })).await,
            StatusCode::NOT_FOUND,
            "shelter-not-found",
        ),
    ];
    for (answer, status, code) in refusals {
        assert_eq!((answer.status, answer.body["code"].as_str()), (status, Some(code)), "{}", answer.body);
    }
    assert_eq!(app.last_seq().await, head, "no refusal wrote to the log");
    assert_eq!(ids(&nearest(&app, "").await), before);

    let closed = set(&app, &responder, first, json!({ "status": "closed", "notes": "затоплено" })).await;
    assert_eq!((closed.status, closed.body["status"].as_str()), (StatusCode::OK, Some("closed")), "{}", closed.body);
    assert_eq!(closed.body["age_s"].as_i64(), Some(0));
    let full = set(&app, ADMIN, second, json!({ "status": "full", "occupancy": 2400, "capacity": 2000 })).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);

    let now = nearest(&app, "").await;
    assert!(
        !ids(&now).contains(&first) && !ids(&now).contains(&second),
        "neither the closed nor the full one: {now:?}"
    );
    assert_eq!(now.len(), 3, "the next nearest take their places");
    let with_full = nearest(&app, "&include_full=true").await;
    let offered = with_full.iter().find(|s| s["id"].as_u64() == Some(second)).expect("the full one, when asked");
    assert_eq!(
        (offered["status"]["status"].as_str(), offered["status"]["occupancy"].as_u64()),
        (Some("full"), Some(2400))
    );
    assert!(offered["status"]["age_s"].as_i64().is_some_and(|age| age >= 0), "{offered}");
    assert!(!ids(&with_full).contains(&first), "a closed shelter is never offered");

    let heard = stream
        .until(Duration::from_secs(10), |frame| {
            frame.event == "shelter_status" && frame.json()["shelter"]["status"] == "full"
        })
        .await;
    let statuses: Vec<_> = heard
        .iter()
        .filter(|f| f.event == "shelter_status")
        .map(|f| f.json()["shelter"]["shelter_id"].clone())
        .collect();
    assert_eq!(statuses, [json!(first), json!(second)]);
    assert!(
        heard.iter().filter(|f| f.event == "shelter_status").all(|f| f.json()["actor"]["token_id"].is_null()),
        "the authority acts in public"
    );

    // Open again: offered again.
    set(&app, &responder, first, json!({ "status": "open" })).await;
    assert!(ids(&nearest(&app, "").await).contains(&first));

    // Kept across a restart.
    let data = app.stop().await;
    let app = TestApp::spawn_in(data).await;
    assert!(!ids(&nearest(&app, "").await).contains(&second), "the full status is kept");
}

#[tokio::test]
async fn the_report_of_an_alert_holds_its_events_incidents_full_shelters_and_deliveries() {
    let app = TestApp::spawn().await;
    let alert = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await.body;
    let id = alert["id"].as_u64().unwrap();
    app.call(Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(ADMIN), Some(json!({ "threats": ["drones"] }))).await;
    let shelter = ids(&nearest(&app, "").await)[0];
    set(&app, ADMIN, shelter, json!({ "status": "full", "occupancy": 900 })).await;
    let incident = |public: bool, kind: &str| json!({ "kind": kind, "lat": MAIDAN.0, "lon": MAIDAN.1, "public": public, "description": { "en": "=cmd|' /C calc'!A0" } });
    app.post("/api/v1/incidents", ADMIN, incident(true, "fire")).await;
    app.post("/api/v1/incidents", ADMIN, incident(true, "fire")).await;
    app.post("/api/v1/incidents", ADMIN, incident(false, "evacuation")).await;
    app.post(&format!("/api/v1/alerts/{id}/cancel"), ADMIN, json!({})).await;

    let public = app.get(&format!("/api/v1/alerts/{id}/report")).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    let types: Vec<&str> =
        public.body["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["declared", "updated", "cancelled"]);
    assert_eq!(public.body["incidents"].as_array().unwrap().len(), 2, "the public report lists public incidents");
    assert_eq!(public.body["incidents_by_kind"], json!({ "fire": 2 }));
    assert_eq!(public.body["shelters_filled"][0]["shelter_id"].as_u64(), Some(shelter));
    assert_eq!(public.body["shelters_filled"][0]["occupancy"].as_u64(), Some(900));
    assert!(public.body.get("deliveries").is_none(), "delivery counts are for those who run the system");

    let full = app.call(Method::GET, &format!("/api/v1/alerts/{id}/report"), Some(ADMIN), None).await;
    assert_eq!(full.body["incidents"].as_array().unwrap().len(), 3);
    assert_eq!(full.body["incidents_by_kind"], json!({ "fire": 2, "evacuation": 1 }));
    assert!(full.body["deliveries"]["channels"]["sse"].is_object(), "{}", full.body);
    let responder = app.token("responder", &[31]).await;
    let theirs = app.call(Method::GET, &format!("/api/v1/alerts/{id}/report"), Some(&responder), None).await;
    assert_eq!(theirs.body["incidents"].as_array().unwrap().len(), 3, "a responder sees every incident");
    assert!(theirs.body.get("deliveries").is_none(), "but not how the alert went out: that is the operators'");

    let csv = app.client.get(format!("{}/api/v1/alerts/{id}/report.csv", app.base)).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "section,at,type,id,region_id,status,detail");
    assert_eq!(lines.iter().filter(|l| l.starts_with("event,")).count(), 3);
    assert_eq!(lines.iter().filter(|l| l.starts_with("incident,")).count(), 2);
    assert_eq!(lines.iter().filter(|l| l.starts_with("shelter_full,")).count(), 1);
    assert!(lines.iter().all(|l| !l.contains(",=cmd")), "a text is never a formula: {csv}");
    assert_eq!(app.get("/api/v1/alerts/999/report").await.status, StatusCode::NOT_FOUND);
}
