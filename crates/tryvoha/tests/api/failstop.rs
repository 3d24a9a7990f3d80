//! A server whose writer or fan-out dies does not linger looking healthy: its live streams end
//! (clients reconnect elsewhere) and `server::run` returns an error (the process exits non-zero).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::oneshot;
use tryvoha::config::{FlagSettings, Settings};
use tryvoha::server::{FanOut, Seams};
use tryvoha_core::*;
use tryvoha_store::*;

use crate::support::ADMIN;

struct Running {
    base: String,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _stop: oneshot::Sender<()>,
    _data: tempfile::TempDir,
}

async fn start(seams: Seams) -> Running {
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
    let panics = Arc::new(AtomicBool::new(false));
    let switch = panics.clone();
    let seams = Seams {
        store: Some(Box::new(move |inner| Arc::new(PanickingAppend { inner, panics: switch }) as Arc<dyn Store>)),
        ..Seams::default()
    };
    let running = start(seams).await;
    let stream = open_stream(&running.base).await;
    panics.store(true, Ordering::SeqCst);
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

/// The server's store, except that once `panics` is set, an append panics.
struct PanickingAppend {
    inner: Arc<dyn Store>,
    panics: Arc<AtomicBool>,
}

impl EventLog for PanickingAppend {
    fn append(&self, commit: &Commit) -> StoreResult<()> {
        if self.panics.load(Ordering::SeqCst) {
            panic!("injected: the store's append panicked");
        }
        self.inner.append(commit)
    }
    fn events_after(&self, after: Seq, limit: usize) -> StoreResult<Vec<AlertEvent>> {
        self.inner.events_after(after, limit)
    }
    fn last_seq(&self) -> StoreResult<Seq> {
        self.inner.last_seq()
    }
    fn alert(&self, id: AlertId) -> StoreResult<Option<Alert>> {
        self.inner.alert(id)
    }
    fn active_alerts(&self) -> StoreResult<Vec<Alert>> {
        self.inner.active_alerts()
    }
    fn highest_alert_id(&self) -> StoreResult<Option<AlertId>> {
        self.inner.highest_alert_id()
    }
    fn idempotency_record(&self, owner: &str, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.inner.idempotency_record(owner, key)
    }
    fn idempotency_records_with_prefix(&self, owner: &str, prefix: &str) -> StoreResult<Vec<IdempotencyRecord>> {
        self.inner.idempotency_records_with_prefix(owner, prefix)
    }
}

impl TokenStore for PanickingAppend {
    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        self.inner.create_token(token)
    }
    fn tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        self.inner.tokens()
    }
    fn token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        self.inner.token_by_hash(hash)
    }
    fn revoke_token(&self, id: TokenId, at: time::OffsetDateTime) -> StoreResult<TokenRecord> {
        self.inner.revoke_token(id, at)
    }
}

impl ShelterStore for PanickingAppend {
    fn shelters(&self) -> StoreResult<Vec<Shelter>> {
        self.inner.shelters()
    }
    fn add_shelters(&self, shelters: &[ShelterInfo]) -> StoreResult<Vec<Shelter>> {
        self.inner.add_shelters(shelters)
    }
    fn update_shelter(&self, id: ShelterId, info: &ShelterInfo) -> StoreResult<Shelter> {
        self.inner.update_shelter(id, info)
    }
    fn remove_shelter(&self, id: ShelterId) -> StoreResult<()> {
        self.inner.remove_shelter(id)
    }
    fn seed_shelters_once(&self, shelters: &[ShelterInfo]) -> StoreResult<bool> {
        self.inner.seed_shelters_once(shelters)
    }
}

impl HistoryStore for PanickingAppend {
    fn history(&self, query: &HistoryQuery) -> StoreResult<Vec<HistoryRecord>> {
        self.inner.history(query)
    }
    fn import_history(&self, records: &[ImportedRecord]) -> StoreResult<usize> {
        self.inner.import_history(records)
    }
}
