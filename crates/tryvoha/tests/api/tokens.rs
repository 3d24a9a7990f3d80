use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, TestApp};

#[tokio::test]
async fn an_operator_acts_only_inside_its_regions() {
    let app = TestApp::spawn().await;
    let kyiv_oblast = app.operator(&[14]).await;
    let inside = app.post("/api/v1/alerts", &kyiv_oblast, json!({ "region_id": 711, "kind": "air_raid" })).await;
    assert_eq!(inside.status, StatusCode::CREATED, "a hromada of the oblast is in scope");
    let outside = app.post("/api/v1/alerts", &kyiv_oblast, json!({ "region_id": 31, "kind": "air_raid" })).await;
    assert_eq!((outside.status, outside.body["code"].as_str()), (StatusCode::FORBIDDEN, Some("out-of-scope")));
    let elsewhere = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await;
    let cancel = app.post(&format!("/api/v1/alerts/{}/cancel", elsewhere.body["id"]), &kyiv_oblast, json!({})).await;
    assert_eq!(cancel.status, StatusCode::FORBIDDEN, "nor cancel another region's alert");
    assert_eq!(app.last_seq().await, 2);
}

#[tokio::test]
async fn tokens_are_listed_without_secrets_and_a_revoked_token_stops_working() {
    let app = TestApp::spawn().await;
    let created =
        app.post("/api/v1/tokens", ADMIN, json!({ "name": "lviv", "role": "operator", "regions": [27] })).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let secret = created.body["token"].as_str().unwrap().to_owned();
    let list = app.call(Method::GET, "/api/v1/tokens", Some(ADMIN), None).await;
    assert_eq!(list.body["tokens"][0]["name"], "lviv");
    assert!(!list.body.to_string().contains(&secret), "the list never shows a secret");
    let id = created.body["id"].as_u64().unwrap();
    let revoked = app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(ADMIN), None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(revoked.body["revoked_at"].is_string());
    let refused = app.post("/api/v1/alerts", &secret, json!({ "region_id": 27, "kind": "air_raid" })).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token-revoked")));
    let unknown = app.call(Method::DELETE, "/api/v1/tokens/999", Some(ADMIN), None).await;
    assert_eq!(unknown.body["code"], "token-not-found");
}

#[tokio::test]
async fn roles_limit_what_a_token_may_do() {
    let app = TestApp::spawn().await;
    let reader = app.post("/api/v1/tokens", ADMIN, json!({ "name": "bot", "role": "reader" })).await;
    let reader = reader.body["token"].as_str().unwrap().to_owned();
    let operator = app.operator(&[14]).await;
    let declare = app.post("/api/v1/alerts", &reader, json!({ "region_id": 14, "kind": "air_raid" })).await;
    assert_eq!((declare.status, declare.body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden-role")));
    for token in [&reader, &operator] {
        let events = app.call(Method::GET, "/api/v1/events", Some(token), None).await;
        assert_eq!(events.status, StatusCode::FORBIDDEN, "only admins read the raw log");
        let create = app.post("/api/v1/tokens", token, json!({ "name": "x", "role": "admin" })).await;
        assert_eq!(create.status, StatusCode::FORBIDDEN, "only admins create tokens");
    }
}

#[tokio::test]
async fn a_responder_token_is_scoped_and_declares_no_alert() {
    let app = TestApp::spawn().await;
    let created =
        app.post("/api/v1/tokens", ADMIN, json!({ "name": "rescue", "role": "responder", "regions": [31] })).await;
    assert_eq!((created.status, created.body["role"].as_str()), (StatusCode::CREATED, Some("responder")));
    let secret = created.body["token"].as_str().unwrap().to_owned();
    let own = app.call(Method::GET, "/api/v1/tokens/self", Some(&secret), None).await;
    assert_eq!(own.body["regions"], json!([31]), "{}", own.body);
    let declare = app.post("/api/v1/alerts", &secret, json!({ "region_id": 31, "kind": "air_raid" })).await;
    assert_eq!(declare.status, StatusCode::FORBIDDEN, "a responder declares no alert");
    assert_eq!(app.last_seq().await, 0);
}

#[tokio::test]
async fn bad_token_requests_name_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "name": "x", "role": "operator" }), "regions"),
        (json!({ "name": "x", "role": "responder", "regions": [] }), "regions"),
        (json!({ "name": "x", "role": "operator", "regions": [424242] }), "regions"),
        (json!({ "name": "", "role": "reader" }), "name"),
        (json!({ "name": "x", "role": "reader", "regions": [14] }), "regions"),
        (json!({ "name": "x", "role": "superuser" }), "role"),
    ];
    for (body, field) in cases {
        let answer = app.post("/api/v1/tokens", ADMIN, body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.body["field"], field, "{body}: {}", answer.body);
    }
    let list = app.call(Method::GET, "/api/v1/tokens", Some(ADMIN), None).await;
    assert!(list.body["tokens"].as_array().unwrap().is_empty(), "no token was created");
}
