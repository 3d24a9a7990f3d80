//! A server whose writer or fan-out died says so: `/healthz` and `/readyz` answer 503 and the
//! live streams end, so that clients and load balancers go elsewhere. And the last admin token
//! cannot be revoked.

// Test code: an unwrap that fails is a failing test, which is what it should be.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tokio::sync::oneshot;
use tower::ServiceExt;
use tryvoha_core::*;
use tryvoha_engine::{Engine, SystemClock};
use tryvoha_http::{AppState, DEFAULT_HEARTBEAT, DEFAULT_WRITE_TIMEOUT, Live, router};
use tryvoha_live::{Hub, Metrics, Signer};
use tryvoha_places::Places;
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::faults::{Faults, FaultyStore};

const REGIONS: &str = "id,parent_id,level,katottg,name_uk,name_en\n1,,oblast,UA1,Область,Oblast\n";

struct Server {
    app: axum::Router,
    engine: Engine,
    hub: Arc<Hub>,
    /// The faults of the engine's store (SQLite): appends that panic (a bug in the store) or
    /// wait to be released (a slow disk).
    faults: Arc<Faults>,
    fan_out: tokio::task::JoinHandle<()>,
    /// The admin token the engine created at its first start (no admin secret is configured).
    admin: String,
}

async fn server(dir: &tempfile::TempDir) -> Server {
    server_timing_out_after(dir, Duration::from_secs(30)).await
}

async fn server_timing_out_after(dir: &tempfile::TempDir, request_timeout: Duration) -> Server {
    let faults = Faults::new();
    let sqlite = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let store = Arc::new(FaultyStore::new(sqlite, faults.clone()));
    let registry = Arc::new(RegionRegistry::from_csv(REGIONS).unwrap());
    let engine = Engine::start(store.clone(), registry.clone(), Arc::new(SystemClock), None).unwrap();
    let admin = engine.ensure_admin().await.unwrap().unwrap();
    let signer = Arc::new(Signer::from_seed([1; 32]));
    let hub = Hub::new(registry, Arc::new(Metrics::default()), 16);
    let fan_out = tokio::spawn(hub.clone().run(engine.event_source(), signer.clone()));
    let places = Arc::new(Places::without_boundaries(store.clone()).unwrap());
    let live = Live { hub: hub.clone(), signer, heartbeat: DEFAULT_HEARTBEAT, write_timeout: DEFAULT_WRITE_TIMEOUT };
    let app = router(AppState { request_timeout, ..AppState::for_tests(engine.clone(), live, places) });
    Server { app, engine, hub, faults, fan_out, admin }
}

async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

/// Opens a live stream and returns a task that resolves when its body ends.
async fn open_stream(server: &Server) -> tokio::task::JoinHandle<String> {
    let subscribers = server.hub.subscriber_count();
    let request = Request::builder().uri("/api/v1/stream").body(Body::empty()).unwrap();
    let response = server.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let task = tokio::spawn(async move {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    });
    // The stream registers with the hub before it answers, or as its body is first polled.
    for _ in 0..400 {
        if server.hub.subscriber_count() > subscribers {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.hub.subscriber_count(), subscribers + 1, "the stream is live");
    task
}

#[tokio::test]
async fn a_healthy_server_is_ready_and_says_which_checks_passed() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let (status, body) = send(&server.app, "GET", "/readyz", "", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"], serde_json::json!({ "writer": "ok", "fan_out": "ok", "store": "ok" }));
    assert_eq!(body["last_seq"], 0);
    assert_eq!(body["lag"], 0, "an embedded store has nobody else appending");
}

#[tokio::test]
async fn when_the_writer_dies_health_and_readiness_fail_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    server.faults.append_panics.on();
    let body = r#"{"region_id":1,"kind":"air_raid"}"#;
    let (status, problem) = send(&server.app, "POST", "/api/v1/alerts", &server.admin, body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    tokio::time::timeout(Duration::from_secs(10), server.engine.writer_stopped()).await.unwrap();

    let (status, problem) = send(&server.app, "GET", "/healthz", "", "").await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("server-failed")));
    assert!(problem["detail"].as_str().unwrap().contains("writer"), "{problem}");
    let (status, body) = send(&server.app, "GET", "/readyz", "", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "not-ready");
    assert_eq!(body["checks"]["writer"], "failed");
    assert_eq!(body["checks"]["store"], "ok");
}

#[tokio::test]
async fn when_the_fan_out_dies_every_stream_ends_and_health_and_readiness_fail() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let stream = open_stream(&server).await;
    server.fan_out.abort();
    let body = tokio::time::timeout(Duration::from_secs(10), stream).await.expect("the stream ended").unwrap();
    assert!(body.contains("event: snapshot"), "{body}");
    assert_eq!(server.hub.subscriber_count(), 0);

    let (status, problem) = send(&server.app, "GET", "/healthz", "", "").await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("server-failed")));
    let (status, body) = send(&server.app, "GET", "/readyz", "", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["checks"]["fan_out"], "failed");
    assert_eq!(body["checks"]["writer"], "ok");
    let late = tokio::time::timeout(Duration::from_secs(10), open_stream_body(&server)).await;
    assert!(late.is_ok(), "a stream opened after the death ends at once instead of idling on heartbeats");
}

async fn open_stream_body(server: &Server) -> String {
    let request = Request::builder().uri("/api/v1/stream").body(Body::empty()).unwrap();
    let response = server.app.clone().oneshot(request).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_writer_took_is_answered_with_its_outcome_and_a_408_means_it_was_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_timing_out_after(&dir, Duration::from_millis(50)).await;
    let (began, append_began) = oneshot::channel();
    let release = server.faults.hold_next_append(move || {
        let _ = began.send(());
    });
    let app = server.app.clone();
    let admin = server.admin.clone();
    let mut answer = tokio::spawn(async move {
        send(&app, "POST", "/api/v1/alerts", &admin, r#"{"region_id":1,"kind":"air_raid"}"#).await
    });
    let (status, body) = tokio::select! {
        _ = append_began => {
            // The writer took the declaration and is writing it; let the time limit pass by
            // far while the disk is slow.
            tokio::time::sleep(Duration::from_millis(300)).await;
            release.send(()).unwrap();
            tokio::time::timeout(Duration::from_secs(10), answer).await.unwrap().unwrap()
        }
        answered = &mut answer => answered.unwrap(),
    };
    // A request after it goes through the writer once it finished with the declaration.
    let after = tryvoha_engine::Request {
        command: Command::Cancel { id: AlertId(99) },
        actor: Actor::system(),
        grant: Grant::admin(),
        idempotency: None,
    };
    server.engine.execute(after).await.unwrap_err();
    let written = server.engine.last_seq().await.unwrap();
    match status {
        StatusCode::CREATED => assert_eq!(written, 1, "{body}"),
        StatusCode::REQUEST_TIMEOUT => assert_eq!(written, 0, "a 408 means nothing was applied"),
        other => panic!("unexpected {other}: {body}"),
    }
}

#[tokio::test]
async fn the_last_active_admin_token_cannot_be_revoked_even_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&dir).await;
    let (_, before) = send(&server.app, "GET", "/api/v1/tokens", &server.admin, "").await;
    let admin_id = before["tokens"][0]["id"].as_u64().unwrap();
    let (status, problem) = send(&server.app, "DELETE", &format!("/api/v1/tokens/{admin_id}"), &server.admin, "").await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("last-admin")), "{problem}");
    let (_, after) = send(&server.app, "GET", "/api/v1/tokens", &server.admin, "").await;
    assert_eq!(after, before, "the tokens did not change");

    // With a second admin token, the first may go; then the second is the last.
    let (status, second) =
        send(&server.app, "POST", "/api/v1/tokens", &server.admin, r#"{"name":"second","role":"admin"}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = send(&server.app, "DELETE", &format!("/api/v1/tokens/{admin_id}"), &server.admin, "").await;
    assert_eq!(status, StatusCode::OK);
    let second_secret = second["token"].as_str().unwrap();
    let second_id = second["id"].as_u64().unwrap();
    let (status, problem) =
        send(&server.app, "DELETE", &format!("/api/v1/tokens/{second_id}"), second_secret, "").await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("last-admin")));
}
