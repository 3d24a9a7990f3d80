//! `TestApp`: the server on a free port with a temporary data directory, and a small client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tryvoha::config::{FlagSettings, Settings};
use tryvoha::server::Seams;
use tryvoha_engine::Clock;
use tryvoha_store::Store;
use tryvoha_store::faults::{Faults, FaultyStore};

pub const ADMIN: &str = "test-admin-secret-0123456789";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub data: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// What the server answered: status, content type and the JSON body (Null when not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_in(tempfile::tempdir().expect("temp dir")).await
    }

    /// Starts a server on an existing data directory (to test restarts).
    pub async fn spawn_in(data: tempfile::TempDir) -> TestApp {
        TestApp::spawn_with(data, FlagSettings::default()).await
    }

    /// Starts a server with extra settings; the data directory and admin token are the test's.
    pub async fn spawn_with(data: tempfile::TempDir, extra: FlagSettings) -> TestApp {
        TestApp::spawn_with_seams(data, extra, Seams::default()).await
    }

    /// Starts a server whose clock is `clock`, in a fresh data directory.
    pub async fn spawn_with_clock(clock: Arc<ManualClock>) -> TestApp {
        let seams = Seams { clock: Some(clock), ..Seams::default() };
        TestApp::spawn_with_seams(tempfile::tempdir().expect("temp dir"), FlagSettings::default(), seams).await
    }

    /// Starts a server with some of its parts replaced (a clock, a store that fails on purpose).
    pub async fn spawn_with_seams(data: tempfile::TempDir, extra: FlagSettings, seams: Seams) -> TestApp {
        tryvoha::tls::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let flags = FlagSettings { data: Some(data.path().to_owned()), admin_token: Some(ADMIN.into()), ..extra };
        let settings = Settings::load(flags).expect("settings");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(tryvoha::server::run_with(listener, settings, seams, async move {
            let _ = stopped.await;
        }));
        let app = TestApp { base, client: reqwest::Client::new(), data, stop: Some(stop), server: Some(server) };
        app.wait_until_healthy().await;
        app
    }

    async fn wait_until_healthy(&self) {
        for _ in 0..200 {
            if let Ok(response) = self.client.get(format!("{}/healthz", self.base)).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not become healthy");
    }

    /// Stops the server gracefully and returns its data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.begin_shutdown();
        self.finished().await.expect("server result");
        // `run` returned: the writer thread has been joined, the data directory is free.
        let data = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.data, data)
    }

    /// Sends the shutdown signal: the server begins to stop.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// What `run` returned, once it returns (a generous timeout only turns a hang into a failure).
    pub async fn finished(&mut self) -> anyhow::Result<()> {
        let server = self.server.take().expect("the server is still running");
        tokio::time::timeout(Duration::from_secs(60), server).await.expect("run() returned").expect("server task")
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("request")).await
    }

    pub async fn raw_post(&self, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        answer(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Declares an air-raid alert on each of the first `count` hromadas, with a message long
    /// enough (3,800 characters in two languages) that each frame is about 7 KB: a client that
    /// does not read has its socket full within a dozen. `after_each` runs after each one.
    pub async fn declare_large_alerts(&self, count: usize, mut after_each: impl AsyncFnMut()) {
        let hromadas = self.get("/api/v1/regions?level=hromada").await.body["regions"].clone();
        let message = serde_json::json!({ "uk": "Т".repeat(1900), "en": "T".repeat(1900) });
        for region in hromadas.as_array().expect("hromadas").iter().take(count) {
            let alert = serde_json::json!({ "region_id": region["id"], "kind": "air_raid", "message": message });
            assert_eq!(self.post("/api/v1/alerts", ADMIN, alert).await.status, StatusCode::CREATED);
            after_each().await;
        }
    }

    /// A client that sends `request` and never reads, with a small receive window (4 KiB) so
    /// that the kernel's buffers for it fill soon.
    pub async fn silent_client(&self, request: &str) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt;
        let address = self.base.trim_start_matches("http://").parse().expect("the server's address");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("receive buffer");
        let mut connection = socket.connect(address).await.expect("connect");
        connection.write_all(request.as_bytes()).await.expect("the request");
        connection
    }

    /// A counter or gauge from `/metrics`, named with its labels (`tryvoha_subscribers{…}`).
    pub async fn metric(&self, name: &str) -> u64 {
        let metrics = self.client.get(format!("{}/metrics", self.base)).send().await.expect("metrics");
        let metrics = metrics.text().await.expect("metrics text");
        let line = metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ').map(str::to_owned));
        line.and_then(|value| value.parse().ok()).unwrap_or_else(|| panic!("{name} in {metrics}"))
    }

    /// Creates an operator token scoped to `regions` and returns its secret.
    pub async fn operator(&self, regions: &[u32]) -> String {
        let created = self
            .post(
                "/api/v1/tokens",
                ADMIN,
                serde_json::json!({ "name": "operator", "role": "operator", "regions": regions }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.body["token"].as_str().expect("secret").to_owned()
    }

    /// Creates a token of `role` (scoped to `regions` when not empty) and returns its secret.
    pub async fn token(&self, role: &str, regions: &[u32]) -> String {
        let mut body = serde_json::json!({ "name": role, "role": role });
        if !regions.is_empty() {
            body["regions"] = serde_json::json!(regions);
        }
        let created = self.post("/api/v1/tokens", ADMIN, body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.body["token"].as_str().expect("secret").to_owned()
    }

    /// Every event in the log, following the pages.
    pub async fn events(&self) -> Vec<Value> {
        all_events(&self.client, &self.base).await
    }

    pub async fn last_seq(&self) -> u64 {
        self.events().await.last().map_or(0, |e| e["seq"].as_u64().expect("seq"))
    }
}

/// A clock the test moves: the server's expiry follows it, not the wall clock.
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A month ahead of the wall clock, in whole seconds: on the system clock, nothing a test
    /// times by it would happen while the test runs.
    pub fn month_ahead() -> Arc<ManualClock> {
        let at = OffsetDateTime::now_utc() + time::Duration::days(30);
        Arc::new(ManualClock(Mutex::new(at.replace_millisecond(0).expect("0 ms is a valid time"))))
    }

    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("the clock's lock") = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("the clock's lock")
    }
}

/// For a test that needs what this machine lacks (a tool, a client, a dataset). Under CI
/// (`CI=true`), which provides all of them, that fails the test; elsewhere the test prints what
/// it did not check, and returns.
pub fn not_checked(missing: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true, yet {missing}");
    eprintln!("NOT CHECKED: {missing}");
}

/// Seams that put the server's store behind a `FaultyStore` switched by `faults`.
pub fn faulty_store(faults: &Arc<Faults>) -> Seams {
    let faults = faults.clone();
    Seams {
        store: Some(Box::new(move |inner| Arc::new(FaultyStore::new(inner, faults)) as Arc<dyn Store>)),
        ..Seams::default()
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = response.bytes().await.expect("body");
    Answer { status, content_type, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

/// GET a JSON document, with the admin token.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).bearer_auth(ADMIN).send().await.expect("request");
    assert!(response.status().is_success(), "GET {url}: {}", response.status());
    response.json().await.expect("JSON")
}

/// Every event in the log of the server at `base`, following the pages.
pub async fn all_events(client: &reqwest::Client, base: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = get_json(client, &format!("{base}/api/v1/events?after={after}&limit=1000")).await;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            return all;
        }
        after = page["next_after"].as_u64().expect("next_after");
        all.extend(events);
    }
}

/// The real binary as a child process, for tests that kill or restart it.
pub struct BinaryServer {
    pub child: std::process::Child,
    pub base: String,
    pub port: u16,
}

/// A test that fails midway still leaves no server behind.
impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BinaryServer {
    /// Starts `tryvoha serve` on `data`, on `port` or a free one, and waits until it is healthy.
    pub async fn start(data: &std::path::Path, port: Option<u16>) -> BinaryServer {
        BinaryServer::start_with(data, port, &[]).await
    }

    /// The same, with more arguments to `serve` (a store, a bus, a cluster name).
    pub async fn start_with(data: &std::path::Path, port: Option<u16>, extra: &[String]) -> BinaryServer {
        BinaryServer::start_command(std::process::Command::new(env!("CARGO_BIN_EXE_tryvoha")), data, port, extra).await
    }

    /// The same under an open-file limit of `open_files`, soft and hard (the server raises its
    /// soft limit to the hard one), set by the shell that then becomes the server.
    pub async fn start_with_open_files(data: &std::path::Path, open_files: u64, extra: &[String]) -> BinaryServer {
        let mut command = std::process::Command::new("sh");
        command.args(["-c", r#"ulimit -n "$0" && exec "$@""#]).arg(open_files.to_string());
        command.arg(env!("CARGO_BIN_EXE_tryvoha"));
        BinaryServer::start_command(command, data, None, extra).await
    }

    /// `command` with `serve` and its arguments added, started and waited on until healthy.
    async fn start_command(
        mut command: std::process::Command,
        data: &std::path::Path,
        port: Option<u16>,
        extra: &[String],
    ) -> BinaryServer {
        tryvoha::tls::install_crypto_provider();
        let port = port.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
        });
        let child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .args(extra)
            .env("TRYVOHA_ADMIN_TOKEN", ADMIN)
            .env("TRYVOHA_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts");
        let server = BinaryServer { child, base: format!("http://127.0.0.1:{port}"), port };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not start");
    }
}

/// A PostgreSQL schema of one test run's own, dropped at the end whatever happened.
pub struct PostgresSchema {
    pub url: String,
    pub name: String,
}

impl PostgresSchema {
    pub fn new(url: &str, purpose: &str) -> PostgresSchema {
        PostgresSchema { url: url.to_owned(), name: format!("{purpose}_{}", std::process::id()) }
    }

    /// The first column of the first row `sql` answers, as psql prints it.
    pub fn query(&self, sql: &str) -> String {
        let output = std::process::Command::new("psql").arg(&self.url).args(["-XAtq", "-c", sql]).output().unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .arg(&self.url)
            .args(["-q", "-c", &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name)])
            .output();
    }
}
