//! `tryvoha migrate`, as an operator moving to cluster mode runs it: an embedded server that
//! has served a night (alerts, an idempotent retry, tokens, shelters changed, a webhook) is
//! stopped and migrated into a PostgreSQL schema of this run's own; a second run adds nothing;
//! a node started on the result serves the same log, alerts, tokens, shelters, webhooks and
//! signing key, continues the numbering, and answers a retried request as before. A migration
//! while the server runs, and one into a cluster that is not this deployment's, are refused
//! with nothing written.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, BinaryServer, PostgresSchema, all_events, get_json, not_checked};

fn migrate(from: &std::path::Path, postgres: &str, schema: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tryvoha"))
        .args(["migrate", "--to", postgres, "--cluster-name", schema, "--from"])
        .arg(from)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

async fn send(
    client: &reqwest::Client,
    method: Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What a deployment serves that a migration must keep.
async fn served(client: &reqwest::Client, base: &str) -> Vec<Value> {
    let mut served = vec![json!(all_events(client, base).await)];
    for path in ["/api/v1/alerts/active", "/api/v1/tokens", "/api/v1/shelters", "/api/v1/webhooks", "/api/v1/keys"] {
        served.push(get_json(client, &format!("{base}{path}")).await);
    }
    served
}

#[tokio::test]
async fn an_embedded_deployment_moves_to_postgres_with_every_id_and_key() {
    let Ok(postgres) = std::env::var("TRYVOHA_TEST_POSTGRES_URL") else {
        return not_checked("TRYVOHA_TEST_POSTGRES_URL is not set: the migration test needs PostgreSQL");
    };
    let schema = PostgresSchema::new(&postgres, "migrate_test");
    tryvoha::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let embedded_dir = tempfile::tempdir().unwrap();
    // The webhook's receiver is a closed port here: what matters is that it is registered.
    let private = ["--webhook-allow-private", "127.0.0.0/8"].map(str::to_owned);
    let embedded = BinaryServer::start_with(embedded_dir.path(), None, &private).await;
    let base = embedded.base.clone();

    let retried = json!({ "region_id": 14, "kind": "air_raid" });
    let declare = |body: Value, key: Option<&'static str>, token: String| {
        let mut request = client.post(format!("{base}/api/v1/alerts")).bearer_auth(token).json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send()
    };
    let first = declare(retried.clone(), Some("night-1"), ADMIN.into()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let other = declare(json!({ "region_id": 31, "kind": "air_raid" }), None, ADMIN.into()).await.unwrap();
    let other: Value = other.json().await.unwrap();
    let cancel = format!("{base}/api/v1/alerts/{}/cancel", other["id"]);
    assert_eq!(send(&client, Method::POST, cancel, ADMIN, Some(json!({}))).await.0, StatusCode::OK);
    let (_, operator) = send(
        &client,
        Method::POST,
        format!("{base}/api/v1/tokens"),
        ADMIN,
        Some(json!({ "name": "night operator", "role": "operator", "regions": [14] })),
    )
    .await;
    let (_, revoked) = send(
        &client,
        Method::POST,
        format!("{base}/api/v1/tokens"),
        ADMIN,
        Some(json!({ "name": "gone", "role": "reader", "regions": [] })),
    )
    .await;
    send(&client, Method::DELETE, format!("{base}/api/v1/tokens/{}", revoked["id"]), ADMIN, None).await;
    let shelter = json!({ "lat": 49.84, "lon": 24.03, "name_uk": "Укриття у Львові", "kind": "basement" });
    let (status, added) = send(&client, Method::POST, format!("{base}/api/v1/shelters"), ADMIN, Some(shelter)).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let removed = format!("{base}/api/v1/shelters/1");
    assert_eq!(send(&client, Method::DELETE, removed, ADMIN, None).await.0, StatusCode::NO_CONTENT);
    let hook = json!({ "url": "http://127.0.0.1:9/tryvoha", "regions": [14] });
    let (status, created) = send(&client, Method::POST, format!("{base}/api/v1/webhooks"), ADMIN, Some(hook)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // The new endpoint's sender reads its cursor (the head) a moment after the answer: what
    // the webhook list shows is compared once it has.
    for _ in 0..200 {
        let hooks = get_json(&client, &format!("{base}/api/v1/webhooks")).await;
        if !hooks["webhooks"][0]["acknowledged_seq"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let before = served(&client, &base).await;

    let (ok, text) = migrate(embedded_dir.path(), &postgres, &schema.name);
    assert!(!ok && text.contains("in use"), "a running server's store is not migrated: {text}");
    assert_eq!(schema.query(&format!("SELECT to_regclass('{}.events') IS NULL", schema.name)), "t", "nothing made");
    drop(embedded);

    let (ok, text) = migrate(embedded_dir.path(), &postgres, &schema.name);
    assert!(ok && text.contains("verified"), "{text}");
    assert!(text.contains("signing, vapid"), "the keys are carried over: {text}");
    let (ok, again) = migrate(embedded_dir.path(), &postgres, &schema.name);
    assert!(ok, "{again}");
    let written: Vec<&str> = again.lines().filter(|line| line.trim_end().ends_with("written")).collect();
    assert!(
        written.len() >= 8 && written.iter().all(|line| line.trim_end().ends_with(" 0 written")),
        "a second run writes nothing: {again}"
    );

    let node_dir = tempfile::tempdir().unwrap();
    let store = ["--store", &postgres, "--cluster-name", &schema.name].map(str::to_owned);
    let node = BinaryServer::start_with(node_dir.path(), None, &store).await;
    assert_eq!(served(&client, &node.base).await, before, "the node serves what the embedded server did");

    // The retry of the first request gets the first answer; the operator's token still works,
    // and the log and the alert ids go on from where they were.
    let url = format!("{}/api/v1/alerts", node.base);
    let retry = client.post(&url).bearer_auth(ADMIN).header("Idempotency-Key", "night-1").json(&retried);
    let retry = retry.send().await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED, "the first answer again (the log shows none was added)");
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"]);
    let secret = operator["token"].as_str().unwrap();
    let body = json!({ "region_id": 14, "kind": "artillery_shelling" });
    let (status, next) = send(&client, Method::POST, url, secret, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{next}");
    let head = before[0].as_array().unwrap().last().unwrap()["seq"].as_u64().unwrap();
    assert_eq!(next["seq"].as_u64(), Some(head + 1));
    assert_eq!(next["id"].as_u64(), Some(other["id"].as_u64().unwrap() + 1));
    drop(node);

    // A directory whose signing key is gone (kept elsewhere and not named) is refused.
    let keyless = tempfile::tempdir().unwrap();
    std::fs::copy(embedded_dir.path().join("tryvoha.db"), keyless.path().join("tryvoha.db")).unwrap();
    let (ok, text) = migrate(keyless.path(), &postgres, &schema.name);
    assert!(!ok && text.contains("signing key"), "{text}");

    // Another deployment (its own log and key) into this cluster: refused, nothing written.
    let stranger_dir = tempfile::tempdir().unwrap();
    let stranger = BinaryServer::start(stranger_dir.path(), None).await;
    let body = json!({ "region_id": 26, "kind": "air_raid" });
    send(&client, Method::POST, format!("{}/api/v1/alerts", stranger.base), ADMIN, Some(body)).await;
    drop(stranger);
    let events = format!("SELECT count(*) FROM {}.events", schema.name);
    let count = schema.query(&events);
    let (ok, text) = migrate(stranger_dir.path(), &postgres, &schema.name);
    assert!(!ok && text.contains("nothing was migrated"), "{text}");
    assert_eq!(schema.query(&events), count, "the cluster's log is unchanged");
}
