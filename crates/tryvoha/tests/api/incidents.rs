//! Incidents through the API: every route and role, each refusal naming its field with the log
//! unchanged, the lists' filters, the link to the alert, and a restart.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, Answer, TestApp};

/// Kyiv city (region 31), at the Maidan; Lviv, outside a Kyiv token's scope.
const KYIV: (f64, f64) = (50.4501, 30.5234);
const LVIV: (f64, f64) = (49.84, 24.03);

fn fire((lat, lon): (f64, f64)) -> Value {
    json!({ "kind": "fire", "lat": lat, "lon": lon, "public": true, "severity": "severe",
            "description": { "uk": "Пожежа житлового будинку", "en": "Residential building fire" } })
}

fn with(mut body: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    body
}

async fn report(app: &TestApp, token: Option<&str>, body: Value) -> Answer {
    app.call(Method::POST, "/api/v1/incidents", token, Some(body)).await
}

async fn change(app: &TestApp, token: &str, id: u64, body: Value) -> Answer {
    app.call(Method::PATCH, &format!("/api/v1/incidents/{id}"), Some(token), Some(body)).await
}

async fn ids(app: &TestApp, path: &str, token: Option<&str>) -> Vec<u64> {
    let answer = app.call(Method::GET, path, token, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    answer.body["incidents"].as_array().unwrap().iter().map(|i| i["id"].as_u64().unwrap()).collect()
}

/// Each answer is the problem expected: its status, code and field.
fn refused_as<const N: usize>(refusals: [(Answer, StatusCode, &str, Option<&str>); N]) {
    for (answer, status, code, field) in refusals {
        assert_eq!(
            (answer.status, answer.body["code"].as_str(), answer.body["field"].as_str()),
            (status, Some(code), field),
            "{}",
            answer.body
        );
        assert_eq!(answer.content_type, "application/problem+json");
    }
}

#[tokio::test]
async fn responders_report_in_their_scope_and_every_refusal_names_its_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let responder = app.token("responder", &[31]).await;
    let operator = app.token("operator", &[31]).await;
    let reader = app.token("reader", &[]).await;
    let alert = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await.body;
    let head = app.last_seq().await;

    let refusals = [
        (report(&app, None, fire(KYIV)).await, StatusCode::UNAUTHORIZED, "token-missing", None),
        (report(&app, Some("tv_nonsense"), fire(KYIV)).await, StatusCode::UNAUTHORIZED, "token-invalid", None),
        (report(&app, Some(&reader), fire(KYIV)).await, StatusCode::FORBIDDEN, "forbidden-role", None),
        (report(&app, Some(&responder), fire(LVIV)).await, StatusCode::FORBIDDEN, "out-of-scope", Some("region_id")),
        (
            report(&app, Some(&responder), with(fire(KYIV), json!({ "kind": "meteor" }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            Some("kind"),
        ),
        (
            report(&app, Some(&responder), with(fire(KYIV), json!({ "lat": 91.0 }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            Some("lat"),
        ),
        (
            report(&app, Some(ADMIN), with(fire(KYIV), json!({ "lat": 0.0, "lon": 0.0 }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside-regions",
            Some("lat"),
        ),
        (
            report(&app, Some(&responder), with(fire(KYIV), json!({ "address": "Khreshchatyk 1" }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "private-field-on-public",
            Some("address"),
        ),
        (
            report(&app, Some(&responder), with(fire(KYIV), json!({ "public": null }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            Some("public"),
        ),
        (
            report(&app, Some(&responder), with(fire(KYIV), json!({ "description": { "uk": " " } }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            Some("description"),
        ),
        (
            report(&app, Some(ADMIN), with(fire(KYIV), json!({ "region_id": 424242 }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-region",
            Some("region_id"),
        ),
        (
            report(&app, Some(ADMIN), with(fire(KYIV), json!({ "alert_id": 999 }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-alert",
            Some("alert_id"),
        ),
        (
            report(&app, Some(&responder), with(fire(KYIV), json!({ "colour": "red" }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            Some("colour"),
        ),
    ];
    refused_as(refusals);
    assert_eq!(app.last_seq().await, head, "no refusal wrote to the log");
    assert!(ids(&app, "/api/v1/incidents", Some(ADMIN)).await.is_empty(), "and no incident is stored");

    let by_responder = report(&app, Some(&responder), fire(KYIV)).await;
    assert_eq!(by_responder.status, StatusCode::CREATED, "{}", by_responder.body);
    assert_eq!(by_responder.body["alert_id"], alert["id"], "linked to the active alert covering the place");
    assert_eq!(
        (by_responder.body["region_id"].as_u64(), by_responder.body["status"].as_str()),
        (Some(31), Some("active"))
    );
    let by_operator = report(&app, Some(&operator), with(fire(KYIV), json!({ "kind": "debris" }))).await;
    assert_eq!(by_operator.status, StatusCode::CREATED, "{}", by_operator.body);
    let by_admin =
        report(&app, Some(ADMIN), with(fire(LVIV), json!({ "public": false, "address": "вул. Городоцька" }))).await;
    assert_eq!(
        (by_admin.status, by_admin.body["region_id"].as_u64()),
        (StatusCode::CREATED, Some(845)),
        "{}",
        by_admin.body
    );
    assert_eq!(by_admin.body["alert_id"], Value::Null, "no alert has covered Lviv");
    let events = app.events().await;
    let types: Vec<&str> = events.iter().skip(head as usize).map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["incident_reported"; 3], "each report an event of the one log");
}

#[tokio::test]
async fn an_incident_goes_forward_to_closed_and_refused_changes_write_nothing() {
    let app = TestApp::spawn().await;
    let responder = app.token("responder", &[31]).await;
    let id = report(&app, Some(&responder), fire(KYIV)).await.body["id"].as_u64().unwrap();
    let lviv = report(&app, Some(ADMIN), fire(LVIV)).await.body["id"].as_u64().unwrap();

    let contained = change(&app, &responder, id, json!({ "status": "contained", "people_affected": 40 })).await;
    assert_eq!(
        (contained.status, contained.body["status"].as_str(), contained.body["people_affected"].as_u64()),
        (StatusCode::OK, Some("contained"), Some(40)),
        "{}",
        contained.body
    );
    let head = app.last_seq().await;
    let unchanged = change(&app, &responder, id, json!({ "people_affected": 40 })).await;
    assert_eq!(unchanged.status, StatusCode::OK);
    assert_eq!(app.last_seq().await, head, "a change that changes nothing records nothing");

    let refusals = [
        (
            change(&app, &responder, id, json!({ "status": "active" })).await,
            StatusCode::CONFLICT,
            "status-backwards",
            Some("status"),
        ),
        (
            change(&app, &responder, id, json!({ "public": false })).await,
            StatusCode::CONFLICT,
            "incident-published",
            Some("public"),
        ),
        (
            change(&app, &responder, id, json!({ "casualty_details": "two" })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "private-field-on-public",
            Some("casualty_details"),
        ),
        (
            change(&app, &responder, id, json!({ "status": "gone" })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            Some("status"),
        ),
        (
            change(&app, &responder, lviv, json!({ "status": "closed" })).await,
            StatusCode::FORBIDDEN,
            "out-of-scope",
            Some("region_id"),
        ),
        (
            change(&app, &responder, 777, json!({ "status": "closed" })).await,
            StatusCode::NOT_FOUND,
            "incident-not-found",
            None,
        ),
        (change(&app, &responder, 0, json!({})).await, StatusCode::NOT_FOUND, "incident-not-found", None),
    ];
    refused_as(refusals);
    assert_eq!(app.last_seq().await, head, "no refused change wrote to the log");

    // A private incident is published once what it may not carry in public is cleared.
    let private =
        report(&app, Some(&responder), with(fire(KYIV), json!({ "public": false, "address": "Хрещатик 1" }))).await;
    let private = private.body["id"].as_u64().unwrap();
    let refused = change(&app, &responder, private, json!({ "public": true })).await;
    assert_eq!(refused.body["field"], "address", "{}", refused.body);
    let published = change(&app, &responder, private, json!({ "public": true, "address": null })).await;
    assert_eq!(
        (published.body["public"].as_bool(), published.body.get("address")),
        (Some(true), None),
        "{}",
        published.body
    );
    let head = app.last_seq().await;
    // A region named for the point may not contradict it.
    let elsewhere = report(&app, Some(ADMIN), with(fire(LVIV), json!({ "region_id": 31 }))).await;
    assert_eq!(
        (elsewhere.status, elsewhere.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("region_id"))
    );
    assert_eq!(app.last_seq().await, head);

    let closed = change(&app, &responder, id, json!({ "status": "closed" })).await;
    assert_eq!((closed.status, closed.body["status"].as_str()), (StatusCode::OK, Some("closed")));
    assert!(closed.body["closed_at"].is_string());
    let after = app.last_seq().await;
    let again = change(&app, ADMIN, id, json!({ "severity": "minor" })).await;
    assert_eq!((again.status, again.body["code"].as_str()), (StatusCode::CONFLICT, Some("incident-closed")));
    assert_eq!(app.last_seq().await, after);
    let types: Vec<String> = app.events().await.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        types,
        [
            "incident_reported",
            "incident_reported",
            "incident_updated",
            "incident_reported",
            "incident_updated",
            "incident_closed"
        ]
    );
}

#[tokio::test]
async fn lists_filter_by_region_alert_status_and_time_and_survive_a_restart() {
    let app = TestApp::spawn().await;
    let alert = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 31, "kind": "air_raid" })).await.body;
    let first = report(&app, Some(ADMIN), fire(KYIV)).await.body;
    let private = report(&app, Some(ADMIN), with(fire(KYIV), json!({ "public": false }))).await.body;
    let lviv = report(&app, Some(ADMIN), fire(LVIV)).await.body;
    change(&app, ADMIN, lviv["id"].as_u64().unwrap(), json!({ "status": "closed" })).await;
    let [first, private, lviv] = [&first, &private, &lviv].map(|i| i["id"].as_u64().unwrap());

    assert_eq!(ids(&app, "/api/v1/incidents", None).await, [lviv, first], "the public sees public ones, newest first");
    assert_eq!(ids(&app, "/api/v1/incidents", Some(ADMIN)).await, [lviv, private, first]);
    let reader = app.token("reader", &[]).await;
    assert_eq!(
        ids(&app, "/api/v1/incidents", Some(&reader)).await,
        [lviv, first],
        "a reader sees what the public sees"
    );
    assert_eq!(ids(&app, "/api/v1/incidents?region_id=27", Some(ADMIN)).await, [lviv], "the oblast holds its hromadas");
    assert_eq!(ids(&app, "/api/v1/incidents?region_id=31", Some(ADMIN)).await, [private, first]);
    let by_alert = format!("/api/v1/incidents?alert_id={}", alert["id"]);
    assert_eq!(ids(&app, &by_alert, Some(ADMIN)).await, [private, first]);
    assert_eq!(ids(&app, "/api/v1/incidents?status=closed", Some(ADMIN)).await, [lviv]);
    assert_eq!(ids(&app, "/api/v1/incidents?status=active,contained&limit=1", Some(ADMIN)).await, [private]);
    assert!(ids(&app, "/api/v1/incidents?from=2999-01-01T00:00:00Z", None).await.is_empty());
    assert_eq!(ids(&app, "/api/v1/incidents?to=2999-01-01T00:00:00Z", None).await.len(), 2);
    for (query, field) in [
        ("region_id=424242", "region_id"),
        ("status=burning", "status"),
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
        ("alert_id=-1", "alert_id"),
    ] {
        let answer = app.get(&format!("/api/v1/incidents?{query}")).await;
        assert_eq!((answer.status, answer.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}");
    }
    assert_eq!(app.get(&format!("/api/v1/incidents/{first}")).await.status, StatusCode::OK);
    let hidden = app.get(&format!("/api/v1/incidents/{private}")).await;
    assert_eq!((hidden.status, hidden.body["code"].as_str()), (StatusCode::NOT_FOUND, Some("incident-not-found")));
    let seen = app.call(Method::GET, &format!("/api/v1/incidents/{private}"), Some(ADMIN), None).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(
        app.call(Method::GET, "/api/v1/incidents", Some("tv_nonsense"), None).await.status,
        StatusCode::UNAUTHORIZED
    );

    let data = app.stop().await;
    let app = TestApp::spawn_in(data).await;
    assert_eq!(ids(&app, "/api/v1/incidents", Some(ADMIN)).await, [lviv, private, first], "kept across a restart");
    let next = report(&app, Some(ADMIN), fire(KYIV)).await.body;
    assert_eq!(next["id"].as_u64(), Some(lviv + 1), "ids go on after a restart");
}

#[tokio::test]
async fn the_statistics_count_public_incidents_per_region_and_oblast() {
    let app = TestApp::spawn().await;
    for (place, kind, public) in
        [(KYIV, "fire", true), (KYIV, "debris", true), (KYIV, "fire", false), (LVIV, "fire", true)]
    {
        let answer = report(&app, Some(ADMIN), with(fire(place), json!({ "kind": kind, "public": public }))).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    let kyiv = app.get("/api/v1/stats/regions/31").await.body;
    assert_eq!(kyiv["incidents"], json!({ "total": 2, "by_kind": { "fire": 1, "debris": 1 } }), "public ones: {kyiv}");
    let lviv_oblast = app.get("/api/v1/stats/regions/27").await.body;
    assert_eq!(lviv_oblast["incidents"]["total"], 1, "an oblast counts its hromadas'");
    let none = app.get("/api/v1/stats/regions/31?to=2020-01-01T00:00:00Z").await.body;
    assert_eq!(none["incidents"]["total"], 0, "only the range's");
    let summary = app.get("/api/v1/stats/summary").await.body;
    let count = |id: u64| {
        let regions = summary["regions"].as_array().unwrap();
        regions.iter().find(|r| r["region"]["id"] == id).unwrap()["incidents"].as_u64()
    };
    assert_eq!((count(31), count(27), count(14)), (Some(2), Some(1), Some(0)));
}
