//! Input that is well-formed but means nothing: ids the store cannot hold, bodies that are not
//! objects, query parameters nobody asked for. Each is answered for what it is, before the
//! store, and writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, TestApp};

const TOO_LARGE: &str = "9223372036854775808"; // 2^63: one past the largest SQLite integer

#[tokio::test]
async fn ids_beyond_the_stores_integers_are_not_found_rather_than_an_outage() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14]).await;
    let before = app.last_seq().await;
    let shelter = json!({ "name_uk": "Укриття", "lat": 50.45, "lon": 30.52, "kind": "basement" });
    let cases = [
        (Method::GET, format!("/api/v1/alerts/{TOO_LARGE}"), None, "alert-not-found"),
        (Method::GET, format!("/api/v1/alerts/{TOO_LARGE}.cap"), None, "alert-not-found"),
        (Method::PATCH, format!("/api/v1/alerts/{TOO_LARGE}"), Some(json!({ "level": "yellow" })), "alert-not-found"),
        (Method::POST, format!("/api/v1/alerts/{TOO_LARGE}/cancel"), Some(json!({})), "alert-not-found"),
        (Method::DELETE, format!("/api/v1/tokens/{TOO_LARGE}"), None, "token-not-found"),
        (Method::GET, format!("/api/v1/shelters/{TOO_LARGE}"), None, "shelter-not-found"),
        (Method::PUT, format!("/api/v1/shelters/{TOO_LARGE}"), Some(shelter), "shelter-not-found"),
        (Method::DELETE, format!("/api/v1/shelters/{TOO_LARGE}"), None, "shelter-not-found"),
    ];
    for (method, path, body, code) in cases {
        let token = if path.contains("alerts") { &operator } else { ADMIN };
        let answer = app.call(method.clone(), &path, Some(token), body).await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str(), answer.body["field"].as_str()),
            (StatusCode::NOT_FOUND, Some(code), Some("id")),
            "{method} {path}: {}",
            answer.body
        );
    }
    let events = app.call(Method::GET, &format!("/api/v1/events?after={TOO_LARGE}"), Some(ADMIN), None).await;
    assert_eq!(
        (events.status, events.body["code"].as_str(), events.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-query"), Some("after")),
        "{}",
        events.body
    );
    let largest = app.call(Method::GET, "/api/v1/events?after=9223372036854775807", Some(ADMIN), None).await;
    assert_eq!((largest.status, largest.body["events"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK, "the store is fine, and says so");
    assert_eq!(app.last_seq().await, before);
}

#[tokio::test]
async fn a_shelter_id_that_is_not_a_number_is_named_as_such() {
    let app = TestApp::spawn().await;
    let answer = app.get("/api/v1/shelters/abc").await;
    assert_eq!((answer.status, answer.body["field"].as_str()), (StatusCode::NOT_FOUND, Some("id")));
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(detail.contains("\"abc\"") && !detail.contains("shelter 0"), "{detail}");
}

#[tokio::test]
async fn only_a_json_object_is_a_body() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14]).await;
    let tokens_before = app.call(Method::GET, "/api/v1/tokens", Some(ADMIN), None).await.body;
    let seq_before = app.last_seq().await;
    let shelters_before = app.get("/api/v1/shelters").await.body;
    let cases = [
        (Method::POST, "/api/v1/tokens", ADMIN, r#"["arr","reader"]"#),
        (Method::POST, "/api/v1/tokens", ADMIN, r#"["arr","operator",[14]]"#),
        (Method::POST, "/api/v1/alerts", &operator, r#"[14,"air_raid","red","actual",[],null,null,null]"#),
        (Method::POST, "/api/v1/alerts", &operator, r#"  [14, "air_raid"]"#),
        (Method::POST, "/api/v1/shelters", ADMIN, r#"[50.45,30.52,"Укриття",null,"basement"]"#),
        (Method::POST, "/api/v1/alerts", &operator, "14"),
    ];
    for (method, path, token, body) in cases {
        let answer = answer(
            app.client
                .request(method.clone(), format!("{}{path}", app.base))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(
            (answer.0, answer.1["code"].as_str(), answer.1["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-field"), Some("body")),
            "{method} {path} {body}: {}",
            answer.1
        );
    }
    let declared = app.post("/api/v1/alerts", &operator, json!({ "region_id": 14, "kind": "air_raid" })).await;
    let id = declared.body["id"].as_u64().unwrap();
    let patch =
        app.call(Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(&operator), Some(json!(["yellow"]))).await;
    assert_eq!((patch.status, patch.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("body")));
    assert_eq!(app.call(Method::GET, "/api/v1/tokens", Some(ADMIN), None).await.body, tokens_before);
    assert_eq!(app.last_seq().await, seq_before + 1, "only the object declaration was written");
    assert_eq!(app.get("/api/v1/shelters").await.body, shelters_before);
}

async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, serde_json::Value) {
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn active_alerts_honour_the_streams_filters_and_ignore_unknown_parameters() {
    let app = TestApp::spawn().await;
    let operator = app.operator(&[14, 31]).await;
    for body in [
        json!({ "region_id": 14, "kind": "air_raid" }),
        json!({ "region_id": 31, "kind": "air_raid", "status": "exercise" }),
        json!({ "region_id": 31, "kind": "chemical" }),
    ] {
        assert_eq!(app.post("/api/v1/alerts", &operator, body).await.status, StatusCode::CREATED);
    }
    let ids = |path: &'static str| {
        let app = &app;
        async move {
            let answer = app.get(path).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
            answer.body["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_u64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("/api/v1/alerts/active").await, [1, 2, 3]);
    assert_eq!(ids("/api/v1/alerts/active?status=actual").await, [1, 3]);
    assert_eq!(ids("/api/v1/alerts/active?status=exercise,test").await, [2]);
    assert_eq!(ids("/api/v1/alerts/active?kinds=chemical").await, [3]);
    assert_eq!(ids("/api/v1/alerts/active?regions=31&status=actual").await, [3]);
    assert_eq!(ids("/api/v1/alerts/active?_=1700000000").await, [1, 2, 3], "a cache-buster changes nothing");
    let bad = app.get("/api/v1/alerts/active?status=maybe").await;
    assert_eq!((bad.status, bad.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("status")));
}
