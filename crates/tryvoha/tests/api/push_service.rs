//! Web Push through `web-push-testing` (npm), a local push service that checks the VAPID
//! signature against the key the subscription was made with and decrypts every message, as a
//! browser's push service and the browser would.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tryvoha::config::{FlagSettings, RawPush};
use tryvoha_live::verify_signed_json;

use crate::support::{ADMIN, TestApp, not_checked};

/// The service on a free port, stopped when dropped.
pub(crate) struct WebPushTesting {
    child: std::process::Child,
    pub base: String,
    /// Where it keeps its state (`.node-persist/`, in its working directory).
    _state: tempfile::TempDir,
}

impl Drop for WebPushTesting {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WebPushTesting {
    /// `None` (with the reason said) without the package (.ci/run installs it and sets
    /// `TRYVOHA_PUSH_TESTING` to its command).
    pub(crate) fn start() -> Option<WebPushTesting> {
        let Some(command) = std::env::var("TRYVOHA_PUSH_TESTING").ok().filter(|c| std::path::Path::new(c).exists())
        else {
            not_checked("TRYVOHA_PUSH_TESTING (the npm package web-push-testing 1.2.2) is not set");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
        let state = tempfile::tempdir().expect("a directory for its state");
        let child = std::process::Command::new(command)
            .args(["--port", &port.to_string(), "start"])
            .current_dir(state.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("web-push-testing starts");
        // Its endpoints name localhost. Held from here, so that a failure below stops it.
        let service = WebPushTesting { child, base: format!("http://localhost:{port}"), _state: state };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(service);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("web-push-testing did not start");
    }

    async fn call(&self, path: &str, body: Value) -> Value {
        let answer =
            reqwest::Client::new().post(format!("{}{path}", self.base)).json(&body).send().await.expect("answers");
        answer.json().await.unwrap_or(Value::Null)
    }

    async fn messages(&self, client_hash: &str) -> Vec<String> {
        let answer = self.call("/get-notifications", json!({"clientHash": client_hash})).await;
        answer["data"]["messages"]
            .as_array()
            .map(|m| m.iter().filter_map(|m| m.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn a_local_push_service_checks_the_vapid_signature_and_the_browser_reads_the_signed_frame() {
    let Some(service) = WebPushTesting::start() else { return };
    let flags = FlagSettings {
        push: RawPush { allow_endpoints: Some(vec![format!("{}/", service.base)]), ..RawPush::default() },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let key = app.get("/api/v1/push/vapid-key").await.body["public_key"].clone();
    let subscribed = service.call("/subscribe", json!({"applicationServerKey": key})).await;
    let data = &subscribed["data"];
    let client_hash = data["clientHash"].as_str().expect("a subscription").to_owned();
    let body = json!({"subscription": {"endpoint": data["endpoint"], "keys": data["keys"]}, "regions": [31]});
    let created = app.call(Method::POST, "/api/v1/push/subscriptions", None, Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);

    let declared = app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "air_raid"})).await;
    let id = declared.body["id"].as_u64().expect("id");
    app.post(&format!("/api/v1/alerts/{id}/cancel"), ADMIN, json!({})).await;
    let mut messages = Vec::new();
    for _ in 0..200 {
        messages = service.messages(&client_hash).await;
        if messages.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(messages.len(), 2, "the service accepted (VAPID checked) and decrypted both: {messages:?}");
    let keys = crate::mqtt::server_keys(&app).await;
    let kinds: Vec<Value> = messages
        .iter()
        .map(|m| {
            verify_signed_json(m, &keys).expect("signed with /api/v1/keys");
            serde_json::from_str::<Value>(m).expect("JSON")["type"].clone()
        })
        .collect();
    assert_eq!(kinds, [json!("declared"), json!("cancelled")]);

    // The browser is gone: its push service answers 410, and the subscription is pruned.
    service.call(&format!("/expire-subscription/{client_hash}"), json!({})).await;
    app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "chemical"})).await;
    let mut pruned = false;
    for _ in 0..200 {
        let metrics =
            app.client.get(format!("{}/metrics", app.base)).send().await.expect("metrics").text().await.expect("text");
        if metrics.contains("tryvoha_push_subscriptions 0") {
            pruned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(pruned, "a 410 from the push service prunes the subscription");
    app.stop().await;
}
