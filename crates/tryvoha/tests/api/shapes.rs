//! Snapshots of the JSON bodies clients depend on: the REST API's alert, event and region, and
//! the compatible APIs' wire formats, as the server sent them. Each snapshot is the body's own
//! text, laid out one member per line ([`wire_layout`] only inserts line breaks and indentation)
//! with times, which change with every run, replaced by `[time]`. So field order, number and
//! string forms and escapes are compared as they are on the wire (tests/api/snapshots/).

use serde_json::json;

use crate::support::{ADMIN, TestApp};

/// Declares the same alerts on every run: one oblast-wide, one on a raion, with texts. Returns
/// a reader token and the oblast alert's answer, as sent.
async fn scenario(app: &TestApp) -> (String, String) {
    let body = json!({
        "region_id": 14, "kind": "air_raid", "threats": ["ballistic_missiles", "drones"],
        "message": { "uk": "Загроза балістики", "en": "Ballistic missile threat" }
    });
    let oblast = app.client.post(format!("{}/api/v1/alerts", app.base)).bearer_auth(ADMIN).json(&body).send();
    let oblast = oblast.await.unwrap().text().await.unwrap();
    app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 73, "kind": "artillery_shelling", "level": "yellow" }))
        .await;
    let created = app.post("/api/v1/tokens", ADMIN, json!({ "name": "reader", "role": "reader" })).await;
    (created.body["token"].as_str().unwrap().to_owned(), oblast)
}

/// The body of `GET path`, as sent, with `authorization` when given.
async fn get(app: &TestApp, path: &str, authorization: Option<String>) -> String {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_rest_api_shapes() {
    let app = TestApp::spawn().await;
    let (_, alert) = scenario(&app).await;
    insta::assert_snapshot!("rest_alert", wire_layout(&alert));
    let events = get(&app, "/api/v1/events?after=0&limit=1", Some(format!("Bearer {ADMIN}"))).await;
    insta::assert_snapshot!("rest_events_page", wire_layout(&events));
    // Public reads name the issuing authority (the default: the CAP sender), not the token.
    insta::assert_snapshot!("rest_alert_public", wire_layout(&get(&app, "/api/v1/alerts/1", None).await));
    insta::assert_snapshot!("rest_region_detail", wire_layout(&get(&app, "/api/v1/regions/73", None).await));
}

#[tokio::test]
async fn the_alerts_in_ua_shapes() {
    let app = TestApp::spawn().await;
    let (token, _) = scenario(&app).await;
    let active = get(&app, "/v1/alerts/active.json", Some(format!("Bearer {token}"))).await;
    insta::assert_snapshot!("alerts_in_ua_active", wire_layout(&active));
}

#[tokio::test]
async fn the_ukrainealarm_shapes() {
    let app = TestApp::spawn().await;
    let (token, _) = scenario(&app).await;
    let hromada = get(&app, "/api/v3/alerts/711", Some(token.clone())).await;
    insta::assert_snapshot!("ukrainealarm_region_alerts", wire_layout(&hromada));
    let status = get(&app, "/api/v3/alerts/status", Some(token)).await;
    insta::assert_snapshot!("ukrainealarm_status", wire_layout(&status));
}

#[test]
fn the_layout_only_adds_whitespace_and_redacts_times() {
    let body = r#"{"b":[1,{"a":"x,{y}\"z"}],"c":[],"at":"2026-03-01T10:00:00.000Z","d":"2026/03/01 10:00:00 +0000"}"#;
    let laid_out = wire_layout(body);
    assert_eq!(
        laid_out,
        "{\n  \"b\":[\n    1,\n    {\n      \"a\":\"x,{y}\\\"z\"\n    }\n  ],\n  \"c\":[],\n  \"at\":\"[time]\",\n  \"d\":\"[time]\"\n}"
    );
}

/// `body` with a line break and indentation after each `{`, `[` and `,` and before each `}` and
/// `]` outside strings (an empty `{}` or `[]` stays as it is), and each string that is a time
/// replaced by `"[time]"`. Nothing else changes: no member is moved, no byte removed.
fn wire_layout(body: &str) -> String {
    let mut out = String::with_capacity(body.len() * 2);
    let mut depth = 0usize;
    let mut chars = body.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str(&redacted(&string_rest(&mut chars))),
            '{' | '[' if matches!(chars.peek(), Some('}' | ']')) => {
                out.push(c);
                out.extend(chars.next());
            }
            '{' | '[' => {
                out.push(c);
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The rest of a JSON string after its opening quote, quotes included, escapes as written.
fn string_rest(chars: &mut impl Iterator<Item = char>) -> String {
    let mut text = String::from('"');
    while let Some(c) = chars.next() {
        text.push(c);
        match c {
            '\\' => text.extend(chars.next()),
            '"' => break,
            _ => {}
        }
    }
    text
}

/// A quoted string that is a time (RFC 3339, or the `2026/03/01 10:00:00 +0000` of the
/// alerts.in.ua meta) becomes `"[time]"`; any other is kept.
fn redacted(quoted: &str) -> String {
    let inner = &quoted[1..quoted.len() - 1];
    let digits = inner.chars().filter(char::is_ascii_digit).count();
    let time_like =
        digits >= 12 && inner.contains(':') && inner.chars().all(|c| c.is_ascii_digit() || "-/:. TZ+".contains(c));
    if time_like { "\"[time]\"".to_owned() } else { quoted.to_owned() }
}
