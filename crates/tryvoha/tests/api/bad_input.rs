//! Every kind of bad input gets a 4xx problem document naming the problem, and the log is
//! unchanged: the last sequence number before equals the one after.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, TestApp};

#[tokio::test]
async fn bad_declarations_change_nothing() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14]).await;
    let existing = app.post("/api/v1/alerts", &operator, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let before = app.last_seq().await;
    assert_eq!(before, 1);

    let json_cases = [
        (json!({ "region_id": 999999, "kind": "air_raid" }), 422, "unknown-region", Some("region_id")),
        (json!({ "region_id": 14, "kind": "zombies" }), 422, "invalid-field", Some("kind")),
        (json!({ "region_id": "x", "kind": "air_raid" }), 422, "invalid-field", Some("region_id")),
        (json!({ "kind": "air_raid" }), 422, "invalid-field", Some("region_id")),
        (json!({ "region_id": 14, "kind": "air_raid", "colour": "red" }), 422, "invalid-field", Some("colour")),
        (json!({ "region_id": 14, "kind": "air_raid", "level": "orange" }), 422, "invalid-field", Some("level")),
        (json!({ "region_id": 14, "kind": "air_raid", "threats": ["ufo"] }), 422, "invalid-field", Some("threats[0]")),
        (json!({ "region_id": 14, "kind": "air_raid", "status": "maybe" }), 422, "invalid-field", Some("status")),
        (
            json!({ "region_id": 14, "kind": "nuclear", "expires_at": "2020-01-01T00:00:00Z" }),
            422,
            "invalid-field",
            Some("expires_at"),
        ),
        (
            json!({ "region_id": 14, "kind": "nuclear", "expires_at": "tomorrow" }),
            422,
            "invalid-field",
            Some("expires_at"),
        ),
        (
            json!({ "region_id": 14, "kind": "nuclear", "message": { "uk": "я".repeat(2001) } }),
            422,
            "text-too-long",
            Some("message"),
        ),
        (json!({ "region_id": 31, "kind": "air_raid" }), 403, "out-of-scope", Some("region_id")),
        (json!("declare please"), 422, "invalid-field", Some("body")),
    ];
    for (body, status, code, field) in json_cases {
        let answer = app.post("/api/v1/alerts", &operator, body.clone()).await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.body);
        assert_eq!(answer.content_type, "application/problem+json", "{body}");
        assert_eq!(answer.body["code"], code, "{body}: {}", answer.body);
        assert_eq!(answer.body["field"].as_str(), field, "{body}: {}", answer.body);
        assert_eq!(answer.body["status"], status);
    }

    let raw_cases: [(&str, Vec<u8>, u16, &str); 4] = [
        ("application/json", b"{\"region_id\": ".to_vec(), 400, "invalid-json"),
        ("application/json", br#"{"region_id": 14, "kind": "nuclear"} {}"#.to_vec(), 400, "invalid-json"),
        ("text/plain", b"region=14".to_vec(), 415, "unsupported-media-type"),
        ("application/json", vec![b' '; 8 << 20], 413, "body-too-large"),
    ];
    for (content_type, body, status, code) in raw_cases {
        let answer = app.raw_post("/api/v1/alerts", &operator, content_type, body).await;
        assert_eq!(
            (answer.status.as_u16(), answer.body["code"].as_str()),
            (status, Some(code)),
            "{content_type}: {}",
            answer.body
        );
    }

    let id = existing.body["id"].as_u64().unwrap();
    let unknown = app.post("/api/v1/alerts/424242/cancel", &operator, json!({})).await;
    assert_eq!((unknown.status, unknown.body["code"].as_str()), (StatusCode::NOT_FOUND, Some("alert-not-found")));
    let not_a_number = app.post("/api/v1/alerts/abc/cancel", &operator, json!({})).await;
    assert_eq!(not_a_number.status, StatusCode::NOT_FOUND);

    assert_eq!(app.last_seq().await, before, "no bad request wrote an event");
    app.post(&format!("/api/v1/alerts/{id}/cancel"), &operator, json!({})).await;
    let twice = app.post(&format!("/api/v1/alerts/{id}/cancel"), &operator, json!({})).await;
    assert_eq!((twice.status, twice.body["code"].as_str()), (StatusCode::CONFLICT, Some("alert-already-finished")));
    assert_eq!(app.last_seq().await, before + 1, "only the one real cancellation was written");
}

#[tokio::test]
async fn missing_and_invalid_tokens_are_refused_before_anything_happens() {
    let app = TestApp::spawn().await;
    let body = json!({ "region_id": 14, "kind": "air_raid" });
    let no_token = app.call(Method::POST, "/api/v1/alerts", None, Some(body.clone())).await;
    assert_eq!((no_token.status, no_token.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token-missing")));
    let wrong = app.post("/api/v1/alerts", "tv_not-a-real-token", body.clone()).await;
    assert_eq!((wrong.status, wrong.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token-invalid")));
    let basic = app
        .client
        .post(format!("{}/api/v1/alerts", app.base))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.last_seq().await, 0);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problem_documents() {
    let app = TestApp::spawn().await;
    let missing = app.get("/api/v1/nothing").await;
    assert_eq!((missing.status, missing.content_type.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));
    let method = app.call(Method::DELETE, "/api/v1/alerts/active", Some(ADMIN), None).await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(method.body["code"], "method-not-allowed");
    // The streams pass fewer layers than the rest, and answer a wrong method the same way.
    for path in ["/api/v1/stream", "/api/v1/ws"] {
        let method = app.call(Method::POST, path, None, Some(serde_json::json!({}))).await;
        assert_eq!(
            (method.status, method.body["code"].as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, Some("method-not-allowed")),
            "{path}"
        );
    }
    let limit = app.call(Method::GET, "/api/v1/events?limit=0", Some(ADMIN), None).await;
    assert_eq!((limit.status, limit.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));
}
