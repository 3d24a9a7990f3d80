//! One declaration for several regions (`region_ids`): decided together, committed in one
//! transaction, all or none.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp};

fn region_states(app_regions: &[Value]) -> Vec<&str> {
    app_regions.iter().map(|region| region["state"].as_str().unwrap_or("")).collect()
}

async fn states(app: &TestApp, regions: &[u32]) -> Vec<String> {
    let mut out = Vec::new();
    for region in regions {
        let answer = app.get(&format!("/api/v1/regions/{region}")).await;
        out.push(region_states(&[answer.body])[0].to_owned());
    }
    out
}

#[tokio::test]
async fn kyiv_city_and_kyiv_oblast_are_declared_in_one_step_and_one_commit() {
    let app = TestApp::spawn().await;
    let declared = app
        .post("/api/v1/alerts", ADMIN, json!({ "region_ids": [31, 14], "kind": "air_raid", "threats": ["drones"] }))
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
    let alerts = declared.body["alerts"].as_array().unwrap();
    let regions: Vec<_> = alerts.iter().map(|a| a["region_id"].as_u64().unwrap()).collect();
    assert_eq!(regions, [31, 14], "one entry per region, in the order given");
    assert!(
        alerts.iter().all(|a| a["created"] == true && a["changed"] == json!([]) && a["threats"] == json!(["drones"]))
    );
    assert_eq!(states(&app, &[31, 14]).await, ["alert", "alert"]);
    let events = app.events().await;
    let seen: Vec<_> =
        events.iter().map(|e| (e["seq"].as_u64().unwrap(), e["alert"]["region_id"].as_u64().unwrap())).collect();
    assert_eq!(seen, [(1, 31), (2, 14)], "two declarations, numbered in the order given");
}

#[tokio::test]
async fn a_region_already_under_alert_is_escalated_and_the_others_declared() {
    let app = TestApp::spawn().await;
    let first =
        app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid", "level": "yellow" })).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let both = app.post("/api/v1/alerts", ADMIN, json!({ "region_ids": [31, 14], "kind": "air_raid" })).await;
    assert_eq!(both.status, StatusCode::CREATED, "one of them is new: {}", both.body);
    let alerts = both.body["alerts"].as_array().unwrap();
    assert_eq!((alerts[0]["id"].clone(), alerts[0]["created"].clone()), (first.body["id"].clone(), json!(false)));
    assert_eq!(alerts[0]["changed"], json!(["level"]), "yellow escalated to red");
    assert_eq!(alerts[1]["created"], true);
    let again = app.post("/api/v1/alerts", ADMIN, json!({ "region_ids": [31, 14], "kind": "air_raid" })).await;
    assert_eq!(again.status, StatusCode::OK, "nothing new: {}", again.body);
    assert!(
        again.body["alerts"].as_array().unwrap().iter().all(|a| a["created"] == false && a["changed"] == json!([]))
    );
    assert_eq!(app.last_seq().await, 3, "declared, escalated, declared; the repeat wrote nothing");
}

#[tokio::test]
async fn a_refusal_for_one_region_declares_none_and_names_it() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14]).await;
    let refused = app.post("/api/v1/alerts", &operator, json!({ "region_ids": [14, 31], "kind": "air_raid" })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        (refused.body["code"].as_str(), refused.body["field"].as_str()),
        (Some("out-of-scope"), Some("region_ids[1]"))
    );
    let unknown = app.post("/api/v1/alerts", ADMIN, json!({ "region_ids": [14, 99999], "kind": "air_raid" })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    assert_eq!(
        (unknown.body["code"].as_str(), unknown.body["field"].as_str()),
        (Some("unknown-region"), Some("region_ids[1]"))
    );
    assert_eq!(app.last_seq().await, 0, "the log is unchanged");
    assert_eq!(states(&app, &[14, 31]).await, ["clear", "clear"]);
}

#[tokio::test]
async fn the_regions_are_given_once_and_in_one_way() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "kind": "air_raid" }), "invalid-field", "region_id"),
        (json!({ "region_id": 14, "region_ids": [31], "kind": "air_raid" }), "invalid-field", "region_ids"),
        (json!({ "region_ids": [], "kind": "air_raid" }), "invalid-field", "region_ids"),
        (json!({ "region_ids": [14, 31, 14], "kind": "air_raid" }), "invalid-field", "region_ids[2]"),
        (json!({ "region_ids": (1..=513).collect::<Vec<u32>>(), "kind": "air_raid" }), "list-too-long", "region_ids"),
        (json!({ "region_ids": [14, "31"], "kind": "air_raid" }), "invalid-field", "region_ids[1]"),
    ];
    for (body, code, field) in cases {
        let refused = app.post("/api/v1/alerts", ADMIN, body.clone()).await;
        assert_eq!(refused.content_type, "application/problem+json", "{body}");
        assert_eq!(
            (refused.body["code"].as_str(), refused.body["field"].as_str()),
            (Some(code), Some(field)),
            "{body}"
        );
    }
    assert_eq!(app.last_seq().await, 0, "the log is unchanged");
}

#[tokio::test]
async fn an_idempotency_key_covers_every_region_of_the_declaration() {
    let app = TestApp::spawn().await;
    let send = |body: Value| {
        app.client
            .post(format!("{}/api/v1/alerts", app.base))
            .bearer_auth(ADMIN)
            .header("Idempotency-Key", "night-1")
            .json(&body)
            .send()
    };
    let body = json!({ "region_ids": [31, 14], "kind": "air_raid" });
    let first: Value = send(body.clone()).await.unwrap().json().await.unwrap();
    let ids: Vec<_> = first["alerts"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect();
    for alert in &ids {
        app.post(&format!("/api/v1/alerts/{alert}/cancel"), ADMIN, json!({})).await;
    }
    let retry = send(body).await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    let retry: Value = retry.json().await.unwrap();
    let retried: Vec<_> = retry["alerts"].as_array().unwrap().iter().map(|a| a["id"].clone()).collect();
    assert_eq!(retried, ids, "the retry answers with the first alerts and declares nothing");
    let other = send(json!({ "region_id": 31, "kind": "air_raid" })).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.json::<Value>().await.unwrap()["code"], "idempotency-key-reused");
    assert_eq!(app.last_seq().await, 4, "two declarations and two cancellations");
}
