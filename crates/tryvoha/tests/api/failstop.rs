//! A server whose writer or fan-out dies does not linger looking healthy: its live streams end
//! (clients reconnect elsewhere) and `server::run` returns an error (the process exits non-zero).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::oneshot;
use tryvoha::config::{FlagSettings, Settings};
use tryvoha::server::{FanOut, Seams};
use tryvoha_store::faults::Faults;

use crate::support::{ADMIN, faulty_store};

struct Running {
    base: String,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _stop: oneshot::Sender<()>,
    _data: tempfile::TempDir,
}

async fn start(seams: Seams) -> Running {
    // The test's clients are made before the server's task (which installs it) may have run.
    tryvoha::tls::install_crypto_provider();
    let data = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let flags =
        FlagSettings { data: Some(data.path().to_owned()), admin_token: Some(ADMIN.into()), ..Default::default() };
    let settings = Settings::load(flags).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(tryvoha::server::run_with(listener, settings, seams, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Running { base, server, _stop: stop, _data: data };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not start");
}

/// Opens a live stream and returns a task that reads it to its end.
async fn open_stream(base: &str) -> tokio::task::JoinHandle<String> {
    let response = reqwest::Client::new().get(format!("{base}/api/v1/stream?regions=31")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    tokio::spawn(async move { response.text().await.unwrap_or_default() })
}

async fn ends_with_error(running: Running, stream: tokio::task::JoinHandle<String>) -> String {
    let body = tokio::time::timeout(Duration::from_secs(20), stream).await.expect("the stream ended").unwrap();
    assert!(body.contains("event: snapshot"), "{body}");
    let result = tokio::time::timeout(Duration::from_secs(20), running.server).await.expect("run() returned").unwrap();
    format!("{:#}", result.expect_err("run() returns an error"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_writer_dies_streams_end_and_the_server_stops_with_an_error() {
    let faults = Faults::new();
    let running = start(faulty_store(&faults)).await;
    let stream = open_stream(&running.base).await;
    faults.append_panics.on();
    let declared = reqwest::Client::new()
        .post(format!("{}/api/v1/alerts", running.base))
        .bearer_auth(ADMIN)
        .json(&json!({ "region_id": 31, "kind": "air_raid" }))
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error = ends_with_error(running, stream).await;
    assert!(error.contains("writer"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_fan_out_dies_streams_end_and_the_server_stops_with_an_error() {
    let (kill, killed) = oneshot::channel::<()>();
    let seams = Seams {
        fan_out: Some(Box::new(move |fan_out: FanOut| -> FanOut {
            Box::pin(async move {
                tokio::select! {
                    _ = fan_out => {}
                    _ = killed => panic!("injected: the fan-out died"),
                }
            })
        })),
        ..Seams::default()
    };
    let running = start(seams).await;
    let stream = open_stream(&running.base).await;
    kill.send(()).unwrap();
    let error = ends_with_error(running, stream).await;
    assert!(error.contains("fan-out"), "{error}");
}
