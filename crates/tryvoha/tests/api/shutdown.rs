//! A server that is told to stop closes its listener first, ends every live stream (SSE on its
//! own socket or on a kept-alive connection, WebSocket), answers the requests in flight, and
//! `run` returns once all of that has ended and the writer thread has been joined.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tryvoha::config::FlagSettings;
use tryvoha_store::faults::Faults;

use crate::sse::{Next, SseStream};
use crate::support::{ADMIN, TestApp, faulty_store};

/// Only to fail instead of hanging: every wait below ends on an event, not on time.
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_ends_every_open_stream_and_then_run_returns() {
    let mut app = TestApp::spawn().await;
    let mut direct = SseStream::open(&reqwest::Client::new(), &app.base, "/api/v1/stream?regions=14", None).await;
    assert_eq!(direct.header("transfer-encoding"), None, "served straight on the socket");
    let mut through_hyper = KeptAlive::open_stream(app.base.trim_start_matches("http://")).await;
    let url = format!("{}/api/v1/ws?regions=14", app.base.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert_eq!(direct.next(WAIT).await.unwrap().event, "snapshot");
    let snapshot = tokio::time::timeout(WAIT, socket.next()).await.unwrap();
    assert!(matches!(snapshot, Some(Ok(Message::Text(_)))), "{snapshot:?}");

    app.begin_shutdown();
    let end = direct.next_or_end(WAIT).await;
    assert!(matches!(end, Some(Next::Ended { .. })), "the stream ended: {end:?}");
    let rest = through_hyper.read_to_end().await;
    assert!(rest.ends_with("0\r\n\r\n"), "the chunked body ended, then the connection: {rest:?}");
    let close = loop {
        match tokio::time::timeout(WAIT, socket.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close frame with a reason"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected the server's close, got {other:?}"),
        }
    };
    assert_eq!(close.code, CloseCode::Away, "{close:?}");
    assert!(close.reason.contains("after=0"), "says where to resume: {close:?}");
    app.finished().await.expect("a requested stop is not a failure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_stopping_began_a_new_connection_is_refused_and_the_write_in_flight_is_answered_and_kept() {
    let faults = Faults::new();
    let data = tempfile::tempdir().unwrap();
    let mut app = TestApp::spawn_with_seams(data, FlagSettings::default(), faulty_store(&faults)).await;
    let mut stream = SseStream::open(&reqwest::Client::new(), &app.base, "/api/v1/stream?regions=14", None).await;
    assert_eq!(stream.next(WAIT).await.unwrap().event, "snapshot");
    let (began, begun) = oneshot::channel();
    let release = faults.hold_next_append(move || {
        let _ = began.send(());
    });
    let declaring = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{}/api/v1/alerts", app.base))
            .bearer_auth(ADMIN)
            .json(&json!({ "region_id": 14, "kind": "air_raid" }))
            .send(),
    );
    tokio::time::timeout(WAIT, begun).await.unwrap().unwrap();

    // The writer is inside the declaration's commit when the stop comes.
    app.begin_shutdown();
    let end = stream.next_or_end(WAIT).await;
    assert!(matches!(end, Some(Next::Ended { .. })), "streams end once the listener is closed: {end:?}");
    let address = app.base.trim_start_matches("http://").to_owned();
    let refused = tokio::net::TcpStream::connect(&address).await.expect_err("the listener is closed");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused, "{refused}");

    release.send(()).unwrap();
    let declared = tokio::time::timeout(WAIT, declaring).await.unwrap().unwrap().unwrap();
    assert_eq!(declared.status(), StatusCode::CREATED, "the request in flight is answered");
    app.finished().await.expect("a requested stop is not a failure");

    // `run` joined the writer: the same data directory serves again at once, with the alert.
    let data = std::mem::replace(&mut app.data, tempfile::tempdir().unwrap());
    let again = TestApp::spawn_in(data).await;
    let active = again.get("/api/v1/alerts/active").await.body;
    assert_eq!(active["alerts"][0]["region_id"], 14, "{active}");
    assert_eq!(again.last_seq().await, 1);
}

/// A stream request pipelined behind another on one connection, so that hyper has read it and
/// serves it (chunked) rather than handing the connection to the direct path. Raw, so that the
/// connection is surely the same one and both requests go in one write.
struct KeptAlive {
    socket: tokio::net::TcpStream,
    read: Vec<u8>,
}

impl KeptAlive {
    async fn open_stream(address: &str) -> KeptAlive {
        let socket = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut connection = KeptAlive { socket, read: Vec::new() };
        connection
            .send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\nGET /api/v1/stream?regions=14 HTTP/1.1\r\nHost: test\r\n\r\n")
            .await;
        let head = connection.read_until("event: snapshot").await;
        assert!(head.contains("Transfer-Encoding: chunked"), "served by hyper: {head}");
        connection
    }

    async fn send(&mut self, request: &str) {
        self.socket.write_all(request.as_bytes()).await.unwrap();
    }

    /// What arrived until `marker` did (all of it, from the last call on).
    async fn read_until(&mut self, marker: &str) -> String {
        while !String::from_utf8_lossy(&self.read).contains(marker) {
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout(WAIT, self.socket.read(&mut chunk)).await.unwrap().unwrap();
            assert!(read > 0, "the connection closed before {marker:?}: {}", String::from_utf8_lossy(&self.read));
            self.read.extend_from_slice(&chunk[..read]);
        }
        String::from_utf8_lossy(&std::mem::take(&mut self.read)).into_owned()
    }

    /// Everything until the server closes the connection.
    async fn read_to_end(&mut self) -> String {
        let mut rest = Vec::new();
        tokio::time::timeout(WAIT, self.socket.read_to_end(&mut rest)).await.unwrap().unwrap();
        String::from_utf8_lossy(&rest).into_owned()
    }
}
