//! What webhooks refuse: targets that are not public (each address class, and a name that
//! resolves to loopback), `http://` outside the allowed ranges, bad fields, other roles; each
//! refusal stores nothing and writes nothing to the log. And a stuck endpoint (accepts the
//! connection, never answers) holds up no other.

use reqwest::Method;
use serde_json::{Value, json};
use tryvoha::config::FlagSettings;

use crate::support::{ADMIN, TestApp};
use crate::webhooks::{Receiver, free_port, loopback_allowed, register};

async fn webhooks_and_head(app: &TestApp) -> (Value, u64) {
    let listed = app.call(Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.body;
    (listed, app.last_seq().await)
}

#[tokio::test]
async fn targets_that_are_not_public_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), FlagSettings::default()).await;
    let before = webhooks_and_head(&app).await;
    for url in [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://10.0.0.8/hook",
        "https://172.20.1.1/hook",
        "https://192.168.0.10/hook",
        "https://[fd00::5]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "https://224.0.0.251/hook",
        "https://0.0.0.0/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "http://127.0.0.1:9/hook",
        "http://93.184.216.34/hook",
    ] {
        let refused = app.post("/api/v1/webhooks", ADMIN, json!({"url": url})).await;
        assert_eq!(refused.status, 422, "{url}: {:?}", refused.body);
        assert_eq!(
            (refused.body["code"].as_str(), refused.body["field"].as_str()),
            (Some("webhook-target-refused"), Some("url")),
            "{url}"
        );
    }
    for (body, field) in [
        (json!({"url": "ftp://example.org/"}), "url"),
        (json!({"url": "https://user:secret@example.org/"}), "url"),
        (json!({"url": "https://example.org/", "regions": [31, 999999]}), "regions[1]"),
        (json!({"url": "https://example.org/", "kinds": ["tornado"]}), "kinds[0]"),
        (json!({"url": "https://example.org/", "colour": "red"}), "colour"),
        (json!({"regions": [31]}), "url"),
    ] {
        let refused = app.post("/api/v1/webhooks", ADMIN, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
        let named = refused.body["field"].as_str().unwrap_or_default();
        assert!(named == field || named.starts_with(field), "{body} named {named:?}, not {field}");
    }
    let operator = app.operator(&[31]).await;
    let not_admin = app.post("/api/v1/webhooks", &operator, json!({"url": "https://example.org/"})).await;
    assert_eq!(not_admin.status, 403);
    let anonymous =
        app.call(Method::POST, "/api/v1/webhooks", None, Some(json!({"url": "https://example.org/"}))).await;
    assert_eq!(anonymous.status, 401);
    let missing = app.call(Method::PATCH, "/api/v1/webhooks/77", Some(ADMIN), Some(json!({"paused": true}))).await;
    assert_eq!((missing.status.as_u16(), missing.body["code"].as_str()), (404, Some("webhook-not-found")));
    assert_eq!(webhooks_and_head(&app).await, before, "no webhook stored, nothing in the log");
    app.stop().await;
}

#[tokio::test]
async fn a_refused_change_leaves_the_webhook_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), loopback_allowed()).await;
    let Some(receiver) = Receiver::start(dir.path(), free_port(), "x", &[]) else { return };
    let created = register(&app, json!({"url": receiver.url(), "regions": [31]})).await;
    let path = format!("/api/v1/webhooks/{}", created["id"]);
    let before = webhooks_and_head(&app).await;
    for body in [
        json!({"url": "https://169.254.169.254/"}),
        json!({"regions": [999999]}),
        json!({"statuses": ["rehearsal"]}),
        json!({"url": "https://example.org/", "secret": "mine"}),
    ] {
        let refused = app.call(Method::PATCH, &path, Some(ADMIN), Some(body.clone())).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
    }
    assert_eq!(webhooks_and_head(&app).await, before, "the webhook and the log are as they were");
    app.stop().await;
}

#[tokio::test]
async fn a_stuck_endpoint_holds_up_neither_the_api_nor_a_healthy_endpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), loopback_allowed()).await;
    // Accepts connections (the kernel's backlog does) and never answers.
    let stuck = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let stuck_url = format!("http://{}/hook", stuck.local_addr().expect("address"));
    let mut stuck_ids = Vec::new();
    for _ in 0..3 {
        stuck_ids.push(register(&app, json!({"url": stuck_url})).await["id"].as_u64().expect("id"));
    }
    let Some(healthy) = Receiver::start(dir.path(), free_port(), "x", &[]) else { return };
    register(&app, json!({"url": healthy.url()})).await;
    let mut made = Vec::new();
    for region in [31, 14, 26, 12, 5] {
        let declared = app.post("/api/v1/alerts", ADMIN, json!({"region_id": region, "kind": "air_raid"})).await;
        assert_eq!(declared.status, 201, "the API answers whatever the endpoints do");
        made.push(declared.body["seq"].as_u64().expect("seq"));
    }
    healthy.wait_until("every event", |r| r.accepted().len() >= 5).await;
    assert_eq!(healthy.accepted(), made);
    // An attempt is recorded when it ends, and a stuck one ends only at its 10 s limit: the
    // healthy endpoint had everything while each stuck one was still inside its first attempt.
    for id in stuck_ids {
        let attempts = app.call(Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), Some(ADMIN), None).await;
        assert_eq!(attempts.body["deliveries"], json!([]), "stuck endpoint {id} is still on its first request");
    }
    // ...and each stuck sender did connect (the kernel queued its connection): they were
    // running, not idle.
    stuck.set_nonblocking(true).expect("non-blocking");
    let connected = std::iter::from_fn(|| stuck.accept().ok()).count();
    assert!(connected >= 3, "{connected} of the 3 stuck senders connected");
    app.stop().await;
    drop(stuck);
}
