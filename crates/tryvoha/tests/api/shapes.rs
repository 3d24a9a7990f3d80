//! Snapshots of the JSON shapes clients depend on: the REST API's alert and event, and the
//! compatible APIs' wire formats. Times, which change with every run, are redacted; everything
//! else (field names, order, types, values) is compared byte for byte with the committed
//! snapshot (tests/api/snapshots/).

use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp};

/// Declares the same alerts on every run: one oblast-wide, one on a raion, with texts.
async fn scenario(app: &TestApp) -> (String, Value) {
    let body = json!({
        "region_id": 14, "kind": "air_raid", "threats": ["ballistic_missiles", "drones"],
        "message": { "uk": "Загроза балістики", "en": "Ballistic missile threat" }
    });
    let oblast = app.post("/api/v1/alerts", ADMIN, body).await.body;
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 73, "kind": "artillery_shelling", "level": "yellow" }))
        .await;
    let created = app.post("/api/v1/tokens", ADMIN, json!({ "name": "reader", "role": "reader" })).await;
    (created.body["token"].as_str().unwrap().to_owned(), oblast)
}

async fn get(app: &TestApp, path: &str, token: &str, bearer: bool) -> Value {
    let value = if bearer { format!("Bearer {token}") } else { token.to_owned() };
    let response = app.client.get(format!("{}{path}", app.base)).header("authorization", value).send().await.unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_rest_api_shapes() {
    let app = TestApp::spawn().await;
    let (_, alert) = scenario(&app).await;
    insta::assert_json_snapshot!("rest_alert", alert, {
        ".started_at" => "[time]", ".updated_at" => "[time]",
    });
    let events = app.events().await;
    insta::assert_json_snapshot!("rest_event", events[0], {
        ".at" => "[time]", ".alert.started_at" => "[time]", ".alert.updated_at" => "[time]",
    });
    // Public reads name the issuing authority (the default: the CAP sender), not the token.
    let public = app.get("/api/v1/alerts/1").await.body;
    insta::assert_json_snapshot!("rest_alert_public", public, {
        ".started_at" => "[time]", ".updated_at" => "[time]",
    });
    let region = app.get("/api/v1/regions/73").await.body;
    insta::assert_json_snapshot!("rest_region_detail", region, {
        ".alerts[].started_at" => "[time]", ".alerts[].updated_at" => "[time]",
    });
}

#[tokio::test]
async fn the_alerts_in_ua_shapes() {
    let app = TestApp::spawn().await;
    let (token, _) = scenario(&app).await;
    let active = get(&app, "/v1/alerts/active.json", &token, true).await;
    insta::assert_json_snapshot!("alerts_in_ua_active", active, {
        ".alerts[].started_at" => "[time]", ".alerts[].updated_at" => "[time]",
        ".alerts[].threats[].started_at" => "[time]", ".meta.last_updated_at" => "[time]",
    });
}

#[tokio::test]
async fn the_ukrainealarm_shapes() {
    let app = TestApp::spawn().await;
    let (token, _) = scenario(&app).await;
    let hromada = get(&app, "/api/v3/alerts/711", &token, false).await;
    insta::assert_json_snapshot!("ukrainealarm_region_alerts", hromada, {
        "[].lastUpdate" => "[time]", "[].activeAlerts[].lastUpdate" => "[time]",
        "[].activeAlerts[].activeAlertLevels[].createdAt" => "[time]",
    });
    let status = get(&app, "/api/v3/alerts/status", &token, false).await;
    insta::assert_json_snapshot!("ukrainealarm_status", status);
}
