//! The compatible APIs, checked with the real clients people use (PyPI `alerts-in-ua`,
//! `ukrainealarm`, `uasiren`) and with their exact wire shapes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tryvoha::config::FlagSettings;

use crate::support::{ADMIN, TestApp, not_checked};

/// A Python with the clients installed, from `TRYVOHA_COMPAT_PYTHON` (.ci/run sets it up).
fn compat_python() -> Option<String> {
    std::env::var("TRYVOHA_COMPAT_PYTHON").ok().filter(|p| std::path::Path::new(p).exists())
}

async fn reader(app: &TestApp) -> String {
    let created = app.post("/api/v1/tokens", ADMIN, json!({ "name": "bot", "role": "reader" })).await;
    created.body["token"].as_str().unwrap().to_owned()
}

async fn run_clients(python: &str, app: &TestApp, token: &str, scenario: &str) -> Value {
    run_clients_with(python, app, token, scenario, &[]).await
}

async fn run_clients_with(python: &str, app: &TestApp, token: &str, scenario: &str, extra: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop/compat_clients.py");
    let (python, base, token, scenario) = (python.to_owned(), app.base.clone(), token.to_owned(), scenario.to_owned());
    let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python).arg(script).args([base, token, scenario]).args(extra).output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn declare_scenario(app: &TestApp) {
    for (region, kind, status) in
        [(14, "air_raid", "actual"), (73, "artillery_shelling", "actual"), (31, "air_raid", "exercise")]
    {
        let answer =
            app.post("/api/v1/alerts", ADMIN, json!({ "region_id": region, "kind": kind, "status": status })).await;
        assert_eq!(answer.status, StatusCode::CREATED);
    }
    // A finished one for the history.
    let done = app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 711, "kind": "chemical" })).await;
    app.post(&format!("/api/v1/alerts/{}/cancel", done.body["id"]), ADMIN, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(compat_clients),
    ignore = "needs TRYVOHA_COMPAT_PYTHON (a Python with the PyPI clients); .ci/run sets it up"
)]
async fn the_official_alerts_in_ua_client_reads_our_server() {
    let Some(python) = compat_python() else {
        return not_checked("TRYVOHA_COMPAT_PYTHON (a Python with alerts-in-ua 0.4) is not set");
    };
    let app = TestApp::spawn().await;
    declare_scenario(&app).await;
    let token = reader(&app).await;
    let seen = run_clients(&python, &app, &token, "alerts_in_ua").await;
    assert_eq!(seen["active_uids"], json!(["14", "73"]), "the drill in Kyiv city is not shown: {seen}");
    assert_eq!(seen["second_call_count"], 2);
    let by_oblast: Vec<&str> = seen["by_oblast"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(by_oblast.len(), 27);
    assert_eq!(by_oblast.iter().filter(|s| s.contains("active") && !s.contains("partly")).count(), 1, "{by_oblast:?}");
    assert!(seen["kyiv_oblast"].as_str().unwrap().to_lowercase().contains("active"), "{seen}");
    assert_eq!(seen["history_uids"], json!(["14", "711", "73"]), "finished and ongoing alerts of the oblast: {seen}");
    assert_eq!(seen["kyiv_oblast_v2"], "active red", "the v2 IoT level: {seen}");
    let v2: Vec<&str> = seen["by_oblast_v2"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(v2.iter().filter(|s| **s == "active red").count(), 1, "{v2:?}");
    assert!(seen["every_uid_count"].as_u64().unwrap() > 1000, "the all-uids string: {seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(compat_clients),
    ignore = "needs TRYVOHA_COMPAT_PYTHON (a Python with the PyPI clients); .ci/run sets it up"
)]
async fn ukrainealarm_and_the_home_assistant_library_read_our_server() {
    let Some(python) = compat_python() else {
        return not_checked("TRYVOHA_COMPAT_PYTHON (a Python with ukrainealarm and uasiren) is not set");
    };
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(data, FlagSettings { compat_anonymous: Some(true), ..Default::default() }).await;
    declare_scenario(&app).await;
    let token = reader(&app).await;
    let seen = run_clients(&python, &app, &token, "ukrainealarm").await;
    assert_eq!(seen["states"], 27);
    assert_eq!(seen["alert_regions"], json!(["14", "73"]));
    assert_eq!(seen["kyiv_oblast_types"], json!(["AIR"]));
    assert_eq!(
        seen["home_assistant_711"],
        json!(["AIR", "ARTILLERY"]),
        "a hromada inherits its raion's and oblast's alerts"
    );
    assert_eq!(seen["last_index"]["lastActionIndex"], 5, "one per event: 4 declarations and a cancellation");
}

#[tokio::test]
async fn the_wire_shapes_are_exact() {
    let app = TestApp::spawn().await;
    declare_scenario(&app).await;
    let token = reader(&app).await;
    let get = |path: String, headers: Vec<(&'static str, String)>| {
        let mut request = app.client.get(format!("{}{path}", app.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let active = get(format!("/v1/alerts/active.json?token={token}"), vec![]).await.unwrap();
    let last_modified = active.headers()["last-modified"].to_str().unwrap().to_owned();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    let body: Value = active.json().await.unwrap();
    let oblast = body["alerts"].as_array().unwrap().iter().find(|a| a["location_uid"] == "14").unwrap();
    assert_eq!(oblast["location_oblast_uid"], 14, "an int, while location_uid is a string");
    assert!(oblast.get("location_raion").is_none(), "absent for an oblast");
    let started = oblast["started_at"].as_str().unwrap();
    assert!(started.len() == 24 && started.ends_with('Z') && started.as_bytes()[19] == b'.', "{started}");
    for key in ["notes", "calculated", "country", "finished_at"] {
        assert!(oblast.get(key).is_some_and(Value::is_null), "{key} present and null");
    }
    let raion = body["alerts"].as_array().unwrap().iter().find(|a| a["location_uid"] == "73").unwrap();
    assert_eq!(
        (raion["location_type"].as_str(), raion["location_raion"].as_str()),
        (Some("raion"), Some("Білоцерківський район"))
    );
    let meta = body["meta"]["last_updated_at"].as_str().unwrap();
    assert!(meta.len() == 25 && meta.ends_with(" +0000") && &meta[4..5] == "/", "{meta}");
    assert!(body["disclaimer"].is_string());

    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let unchanged = get(
        "/v1/alerts/active.json".into(),
        [bearer(&token), vec![("if-modified-since", last_modified.clone())]].concat(),
    )
    .await
    .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    let empty =
        get("/v1/alerts/active.json".into(), [bearer(&token), vec![("if-modified-since", String::new())]].concat())
            .await
            .unwrap();
    assert_eq!(empty.status(), StatusCode::OK, "an empty If-Modified-Since counts as absent");

    let by_oblast = get("/v1/iot/active_air_raid_alerts_by_oblast.json".into(), bearer(&token))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(by_oblast.len(), 29, "27 letters in quotes: {by_oblast}");
    assert_eq!(&by_oblast[11..12], "A", "Kyiv oblast (index 10) is under an air-raid alert: {by_oblast}");
    assert_eq!(&by_oblast[10..11], "N", "the drill in Kyiv city (index 9) does not count: {by_oblast}");
    let v2 = get("/v2/iot/active_air_raid_alerts_by_oblast.json".into(), bearer(&token))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(&v2[11..12], "R");
    let hromada =
        get("/v1/iot/active_air_raid_alerts/711.json".into(), bearer(&token)).await.unwrap().text().await.unwrap();
    assert_eq!(hromada, "\"A\"", "inside its oblast's alert");
    let every = get("/v1/iot/active_air_raid_alerts.json".into(), bearer(&token)).await.unwrap().text().await.unwrap();
    let letters: Vec<char> = every.trim_matches('"').chars().collect();
    assert_eq!((letters[14], letters[31], letters[0]), ('A', 'N', ' '), "indexed by uid, spaces for unassigned");

    let missing = get("/v1/alerts/active.json".into(), vec![]).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json::<Value>().await.unwrap()["message"], "API token required");
    let v3 = get("/api/v3/alerts".into(), vec![]).await.unwrap();
    assert_eq!(v3.status(), StatusCode::FORBIDDEN, "ukrainealarm without a key");
    let v3 = get("/api/v3/alerts/status".into(), vec![("authorization", token.clone())]).await.unwrap();
    assert_eq!(v3.json::<Value>().await.unwrap()["lastActionIndex"], 5);
    let history: Value =
        get("/api/v3/alerts/regionHistory?regionId=711".into(), vec![("authorization", token.clone())])
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let alarm = &history[0]["alarms"][0];
    assert_eq!((alarm["alertType"].as_str(), alarm["regionId"].as_str()), (Some("CHEMICAL"), Some("711")));
    assert_eq!(alarm["duration"].as_str().map(str::len), Some(8), "HH:MM:SS");
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(
        data,
        FlagSettings { compat_anonymous: Some(true), compat_rate_limit: Some(3), ..Default::default() },
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let answer = app.client.get(format!("{}/v1/alerts/active.json", app.base)).send().await.unwrap();
        statuses.push(answer.status().as_u16());
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer.json::<Value>().await.unwrap()["message"], "Too many requests");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(compat_clients),
    ignore = "needs TRYVOHA_COMPAT_PYTHON (a Python with the PyPI clients); .ci/run sets it up"
)]
async fn the_ua_alarm_client_registers_a_webhook_that_gets_ukrainealarms_body() {
    use crate::webhooks::{Receiver, free_port, loopback_allowed};
    let Some(python) = compat_python() else {
        return not_checked("TRYVOHA_COMPAT_PYTHON (a Python with ua-alarm 1.3.7.2) is not set");
    };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(tempfile::tempdir().unwrap(), loopback_allowed()).await;
    let Some(receiver) = Receiver::start(dir.path(), free_port(), "unknown-to-the-client", &[]) else { return };
    // An admin's key may reach the operator's allowed ranges (the loopback receiver here).
    let token = ADMIN.to_owned();
    let url = receiver.url();
    let seen = run_clients_with(&python, &app, &token, "ua_alarm_subscribe", &[&url]).await;
    assert_eq!(seen, json!({"subscribed": url, "changed": true}), "the client reads upstream's WebHook model back");
    let listed = app.call(reqwest::Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.body;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1, "one endpoint per key, PATCH changed it: {listed}");
    assert_eq!(listed["webhooks"][0]["format"], "ukrainealarm");

    app.post("/api/v1/alerts", ADMIN, json!({"region_id": 31, "kind": "air_raid", "status": "exercise"})).await;
    let declared = app.post("/api/v1/alerts", ADMIN, json!({"region_id": 14, "kind": "air_raid"})).await;
    app.post(&format!("/api/v1/alerts/{}/cancel", declared.body["id"]), ADMIN, json!({})).await;
    receiver.wait_until("the activation and the deactivation", |r| r.accepted().len() >= 2).await;
    let received = receiver.received();
    let bodies: Vec<Value> =
        received.iter().map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap()).collect();
    assert_eq!(received.len(), 2, "the drill is not sent: {bodies:?}");
    assert_eq!(
        (bodies[0]["status"].as_str(), bodies[0]["regionId"].as_u64(), bodies[0]["alarmType"].as_str()),
        (Some("ACTIVATE"), Some(14), Some("AIR"))
    );
    assert_eq!(bodies[0]["activeAlertLevels"][0]["alertLevel"], "Red");
    assert_eq!((bodies[1]["status"].as_str(), bodies[1]["activeAlertLevels"].clone()), (Some("DEACTIVATE"), json!([])));
    let keys = crate::mqtt::server_keys(&app).await;
    for request in &received {
        let headers = &request["headers"];
        let signed =
            format!("{}.{}", headers["x-webhook-timestamp"].as_str().unwrap(), request["body"].as_str().unwrap());
        let (kid, signature) =
            (headers["x-webhook-key-id"].as_str().unwrap(), headers["x-webhook-signature"].as_str().unwrap());
        assert_eq!(headers["x-webhook-signature-alg"], "ed25519");
        tryvoha_live::verify_detached(kid, signature, signed.as_bytes(), &keys).expect("signed with the server's key");
    }
    let gone = run_clients_with(&python, &app, &token, "ua_alarm_unsubscribe", &[&url]).await;
    assert_eq!(gone["unsubscribed"], url);
    let listed = app.call(reqwest::Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.body;
    assert_eq!(listed["webhooks"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn a_readers_key_reaches_only_public_https_and_its_webhook_goes_when_it_is_revoked() {
    use crate::webhooks::loopback_allowed;
    let app = TestApp::spawn_with(tempfile::tempdir().unwrap(), loopback_allowed()).await;
    let created = app.post("/api/v1/tokens", ADMIN, json!({ "name": "bot", "role": "reader" })).await;
    let (token_id, key) = (created.body["id"].as_u64().unwrap(), created.body["token"].as_str().unwrap().to_owned());
    let subscribe = |url: &str| {
        app.client
            .post(format!("{}/api/v3/webhook", app.base))
            .header("Authorization", key.clone())
            .json(&json!({"webHookUrl": url}))
    };
    for private in ["http://127.0.0.1:9/hook", "https://127.0.0.1:9/hook"] {
        let refused = subscribe(private).send().await.unwrap();
        assert_eq!(refused.status(), 400, "{private}: the operator's allowed ranges are not for a reader's key");
    }
    let listed = app.call(reqwest::Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.body;
    assert_eq!(listed["webhooks"], json!([]), "nothing stored");
    let public = subscribe("https://93.184.216.34/hook").send().await.unwrap();
    assert_eq!(public.status(), 200);
    assert_eq!(public.json::<Value>().await.unwrap(), json!({"webHookUrl": "https://93.184.216.34/hook"}));
    let listed = app.call(reqwest::Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.body;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.call(reqwest::Method::DELETE, &format!("/api/v1/tokens/{token_id}"), Some(ADMIN), None).await.status,
        200
    );
    let listed = app.call(reqwest::Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.body;
    assert_eq!(listed["webhooks"], json!([]), "a revoked key's webhook is removed with it");
    app.stop().await;
}
