//! Webhooks end to end: receivers on loopback (allowed in the test's settings) written in Python
//! as a user would (`tests/webhooks/receiver.py` checks the signature itself), retries, order
//! across a restart, pausing, 410, redirects, a stuck endpoint beside a healthy one, the SSRF
//! refusals, and refused admin requests that change nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tryvoha::config::{FlagSettings, RawWebhooks};

use crate::support::{ADMIN, TestApp, not_checked};

const RECEIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhooks/receiver.py");

/// The Python receiver on a free port, writing what it received to a file.
pub struct Receiver {
    child: std::process::Child,
    pub port: u16,
    out: PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

impl Receiver {
    /// `None` (with the reason said) without python3.
    pub fn start(dir: &Path, port: u16, secret: &str, extra: &[&str]) -> Option<Receiver> {
        let out = dir.join(format!("received-{port}.jsonl"));
        let Ok(child) = std::process::Command::new("python3")
            .arg(RECEIVER)
            .args([&port.to_string(), secret, &out.display().to_string()])
            .args(extra)
            .spawn()
        else {
            not_checked("python3 is not installed");
            return None;
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Receiver { child, port, out });
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the receiver did not start");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    /// The event ids of the requests it accepted (answered 2xx), in arrival order.
    pub fn accepted(&self) -> Vec<u64> {
        self.received()
            .iter()
            .filter(|r| r["answered"].as_u64().is_some_and(|s| (200..300).contains(&s)))
            .map(|r| r["event_id"].as_str().and_then(|id| id.parse().ok()).expect("Tryvoha-Event-Id"))
            .collect()
    }

    /// Waits (at most 60 s: a bound on a hang, not a timing claim) until `done` holds.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&Receiver) -> bool) {
        for _ in 0..1200 {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("waited in vain for {what}; received {:?}", self.received());
    }
}

pub fn loopback_allowed() -> FlagSettings {
    FlagSettings {
        webhooks: RawWebhooks { allow_private: Some(vec!["127.0.0.0/8".into()]), ..RawWebhooks::default() },
        ..FlagSettings::default()
    }
}

pub async fn register(app: &TestApp, body: Value) -> Value {
    let created = app.post("/api/v1/webhooks", ADMIN, body).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body
}

async fn declare(app: &TestApp, region: u32, kind: &str) -> u64 {
    let declared = app.post("/api/v1/alerts", ADMIN, json!({"region_id": region, "kind": kind})).await;
    assert_eq!(declared.status, 201);
    declared.body["seq"].as_u64().expect("seq")
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_every_matching_event_in_order_signed_with_its_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), loopback_allowed()).await;
    let port = free_port();
    // The secret is known only once the webhook is registered: register first, then start the
    // receiver on the port the URL names (deliveries retry until it answers).
    let created = register(&app, json!({"url": format!("http://127.0.0.1:{port}/hook"), "regions": [31]})).await;
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"));
    let listed = app.call(Method::GET, "/api/v1/webhooks", Some(ADMIN), None).await.body;
    assert!(!listed.to_string().contains(&secret), "the secret is shown once, never listed");
    let Some(receiver) = Receiver::start(dir.path(), port, &secret, &["--fail-first", "2"]) else { return };

    let first = declare(&app, 31, "air_raid").await;
    declare(&app, 14, "air_raid").await; // another oblast: not for this endpoint
    let third = declare(&app, 31, "artillery_shelling").await;
    let fourth = declare(&app, 31, "chemical").await;
    receiver.wait_until("three events", |r| r.accepted().len() >= 3).await;
    assert_eq!(receiver.accepted(), vec![first, third, fourth], "in order, each once, only the matching ones");
    let received = receiver.received();
    assert_eq!(received.iter().filter(|r| r["answered"] == 500).count(), 2, "the first two attempts failed");
    assert!(received.iter().all(|r| r["verified"] == true), "Python verifies every signature: {received:?}");
    let body: Value =
        serde_json::from_str(received.last().expect("one")["body"].as_str().expect("body")).expect("JSON");
    assert_eq!(body["seq"], fourth, "the body is the event's frame");
    assert!(body["sig"]["ed25519"].is_string(), "signed as on the streams");

    let id = created["id"].as_u64().expect("id");
    // The receiver notes a request before it answers: wait until the server noted the last
    // attempt's outcome too.
    let deliveries = format!("/api/v1/webhooks/{id}/deliveries");
    let mut attempts = Vec::new();
    for _ in 0..400 {
        attempts = app.call(Method::GET, &deliveries, Some(ADMIN), None).await.body["deliveries"]
            .as_array()
            .expect("deliveries")
            .clone();
        if attempts.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(attempts.len(), 5, "2 failures and 3 deliveries: {attempts:?}");
    assert_eq!(attempts[0]["seq"], fourth, "newest first");
    assert_eq!(attempts.iter().filter(|a| a["status"] == 500).count(), 2);
    let alert = app.call(Method::GET, "/api/v1/alerts/1/deliveries", Some(ADMIN), None).await.body;
    let webhook = &alert["channels"]["webhook"];
    assert_eq!(
        (webhook["attempted"].as_u64(), webhook["delivered"].as_u64(), webhook["failed"].as_u64()),
        (Some(3), Some(1), Some(2)),
        "{alert}"
    );
    app.stop().await;
}

#[tokio::test]
async fn across_restarts_what_was_delivered_is_not_sent_again_and_what_was_missed_arrives_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), loopback_allowed()).await;
    let port = free_port();
    let created = register(&app, json!({"url": format!("http://127.0.0.1:{port}/hook")})).await;
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let path = format!("/api/v1/webhooks/{}", created["id"]);
    let Some(receiver) = Receiver::start(dir.path(), port, &secret, &[]) else { return };
    let mut made = vec![declare(&app, 31, "air_raid").await, declare(&app, 14, "air_raid").await];
    receiver.wait_until("the first two", |r| r.accepted().len() >= 2).await;
    // The receiver notes a request before it answers: wait until the server has the answer.
    for _ in 0..400 {
        if app.call(Method::GET, &path, Some(ADMIN), None).await.body["acknowledged_seq"] == json!(made[1]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The endpoint's place is the second event; a clean stop writes it.
    let data = app.stop().await;
    let app = TestApp::spawn_with(data, loopback_allowed()).await;
    let stands = app.call(Method::GET, &path, Some(ADMIN), None).await.body["acknowledged_seq"].clone();
    assert_eq!(stands, json!(made[1]), "it stands where it stood before the restart");
    made.push(declare(&app, 26, "air_raid").await);
    receiver.wait_until("the third", |r| r.accepted().len() >= 3).await;
    assert_eq!(receiver.accepted(), made, "nothing delivered before the restart is sent again");

    // Down while events are made and the server restarts: they arrive afterwards, in order.
    drop(receiver);
    made.push(declare(&app, 12, "air_raid").await);
    made.push(declare(&app, 5, "air_raid").await);
    let data = app.stop().await;
    let app = TestApp::spawn_with(data, loopback_allowed()).await;
    made.push(declare(&app, 8, "air_raid").await);
    let fresh = tempfile::tempdir().expect("temp dir");
    let Some(back) = Receiver::start(fresh.path(), port, &secret, &[]) else { return };
    back.wait_until("what it missed", |r| r.accepted().len() >= 3).await;
    assert_eq!(back.accepted(), made[3..], "in order across the restart, none lost, none twice");
    app.stop().await;
}

#[tokio::test]
async fn a_failing_endpoint_is_paused_with_its_reason_and_one_that_is_gone_is_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = FlagSettings {
        webhooks: RawWebhooks { retry_secs: Some(2), ..loopback_allowed().webhooks },
        ..FlagSettings::default()
    };
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), flags).await;
    let (failing_port, gone_port) = (free_port(), free_port());
    let failing = register(&app, json!({"url": format!("http://127.0.0.1:{failing_port}/hook")})).await;
    let gone = register(&app, json!({"url": format!("http://127.0.0.1:{gone_port}/hook")})).await;
    let Some(failing_receiver) = Receiver::start(dir.path(), failing_port, "x", &["--status", "503"]) else { return };
    let Some(gone_receiver) = Receiver::start(dir.path(), gone_port, "x", &["--status", "410"]) else { return };
    declare(&app, 31, "air_raid").await;

    let failing_id = failing["id"].as_u64().expect("id");
    let path = format!("/api/v1/webhooks/{failing_id}");
    for _ in 0..400 {
        if app.call(Method::GET, &path, Some(ADMIN), None).await.body["paused"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let paused = app.call(Method::GET, &path, Some(ADMIN), None).await.body;
    let reason = paused["paused"]["reason"].as_str().expect("paused, with a reason");
    assert!(reason.contains("event 1") && reason.contains("503"), "{reason}");
    let metrics =
        app.client.get(format!("{}/metrics", app.base)).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains(&format!("tryvoha_webhook_paused{{id=\"{failing_id}\"")), "{metrics}");
    let attempts_before = failing_receiver.received().len();
    assert!(attempts_before >= 2, "retried before pausing");

    gone_receiver.wait_until("the 410", |r| !r.received().is_empty()).await;
    let gone_path = format!("/api/v1/webhooks/{}", gone["id"]);
    for _ in 0..200 {
        if app.call(Method::GET, &gone_path, Some(ADMIN), None).await.status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.call(Method::GET, &gone_path, Some(ADMIN), None).await.status, 404, "410 Gone removes the endpoint");

    // Resumed, it gets the event it missed first.
    drop(failing_receiver);
    let Some(fixed) = Receiver::start(dir.path(), failing_port, "x", &[]) else { return };
    let resumed = app.call(Method::PATCH, &path, Some(ADMIN), Some(json!({"paused": false}))).await;
    assert_eq!((resumed.status.as_u16(), resumed.body["paused"].clone()), (200, Value::Null));
    fixed.wait_until("the missed event", |r| r.accepted() == [1]).await;
    app.stop().await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), loopback_allowed()).await;
    let (target_port, redirecting_port) = (free_port(), free_port());
    let Some(target) = Receiver::start(dir.path(), target_port, "x", &[]) else { return };
    let redirect_to = target.url();
    let Some(redirecting) = Receiver::start(dir.path(), redirecting_port, "x", &["--redirect", &redirect_to]) else {
        return;
    };
    register(&app, json!({"url": redirecting.url()})).await;
    declare(&app, 31, "air_raid").await;
    redirecting.wait_until("two attempts", |r| r.received().len() >= 2).await;
    assert!(target.received().is_empty(), "the redirect's target never hears of it");
    assert!(redirecting.accepted().is_empty(), "a 302 is not a delivery: it is retried");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_lists_inspects_and_removes_a_webhook_from_the_command_line() {
    use crate::cli::tryvoha;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = TestApp::spawn_with(tempfile::tempdir().expect("temp dir"), loopback_allowed()).await;
    let Some(receiver) = Receiver::start(dir.path(), free_port(), "x", &[]) else { return };
    let url = receiver.url();
    let (ok, out, err) =
        tryvoha(&app, ADMIN, &["webhook", "add", &url, "--region", "м. Київ", "--kind", "air_raid"]).await;
    assert!(ok && out.starts_with(&format!("webhook 1 to {url} registered")) && out.contains("whsec_"), "{out}{err}");
    declare(&app, 31, "air_raid").await;
    receiver.wait_until("the event", |r| r.accepted() == [1]).await;
    let (ok, out, _) = tryvoha(&app, ADMIN, &["webhook", "list"]).await;
    assert!(ok && out.contains(&url) && out.contains("м. Київ"), "{out}");
    let (ok, out, _) = tryvoha(&app, ADMIN, &["webhook", "deliveries", "1"]).await;
    assert!(ok && out.contains("event      1") && out.contains("answered 200"), "{out}");
    let (ok, out, err) = tryvoha(&app, ADMIN, &["webhook", "remove", "1"]).await;
    assert!(ok && out.starts_with("webhook 1 removed"), "{out}{err}");
    let (ok, _, err) = tryvoha(&app, ADMIN, &["webhook", "add", "https://169.254.169.254/"]).await;
    assert!(!ok && err.contains("[webhook-target-refused]"), "{err}");
    let (_, out, _) = tryvoha(&app, ADMIN, &["webhook", "list"]).await;
    assert!(out.trim().is_empty(), "{out}");
    app.stop().await;
}
