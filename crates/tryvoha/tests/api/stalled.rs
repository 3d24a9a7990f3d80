//! A subscriber that stops reading while its queue still has room: its socket fills, a write
//! waits the write timeout (`stream_write_timeout_secs`, 2 s here instead of 60), and it is cut
//! off and counted, over SSE and over WebSocket, while a reader gets every event.

use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::sse::SseStream;
use crate::support::TestApp;

const WAIT: Duration = Duration::from_secs(5);
/// Big frames (about 7 KB each): a stalled socket's buffers (a fixed 32 KiB send buffer, which
/// the kernel doubles, and a 4 KiB receive window) fill within a dozen of them.
const DECLARATIONS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_when_a_write_waits_the_write_timeout() {
    let data = tempfile::tempdir().unwrap();
    let settings = tryvoha::config::FlagSettings { stream_write_timeout_secs: Some(2), ..Default::default() };
    let app = TestApp::spawn_with(data, settings).await;
    let mut stalled = Vec::new();
    for request in ["GET /api/v1/stream HTTP/1.1\r\nHost: test\r\n\r\n", &websocket_handshake()] {
        stalled.push(app.silent_client(request).await);
    }
    let mut reader = SseStream::open(&reqwest::Client::new(), &app.base, "/api/v1/stream", None).await;
    reader.next(WAIT).await.unwrap(); // snapshot
    wait_for(&app, "tryvoha_subscribers{transport=\"websocket\"}", 1).await;

    app.declare_large_alerts(DECLARATIONS, async || assert!(reader.next(WAIT).await.is_some(), "the reader keeps up"))
        .await;

    // A guard only: the cut comes 2 s after a write began to wait.
    wait_for(&app, "tryvoha_stalled_subscribers_cut_total", 2).await;
    assert_eq!(app.metric("tryvoha_slow_subscribers_cut_total").await, 0, "their queues never filled");
    assert_eq!(app.metric("tryvoha_subscribers{transport=\"sse\"}").await, 1, "only the reader is left");
    assert_eq!(app.metric("tryvoha_subscribers{transport=\"websocket\"}").await, 0);
    for mut connection in stalled {
        // What the kernel held is still there, then the end: the server closed the connection.
        let mut rest = Vec::new();
        let read = tokio::time::timeout(WAIT, connection.read_to_end(&mut rest)).await;
        assert!(matches!(read, Ok(Ok(_))), "the stalled connection was closed: {read:?}");
        assert!(rest.len() > 7_000, "it had frames waiting: {} bytes", rest.len());
    }
}

fn websocket_handshake() -> String {
    "GET /api/v1/ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_owned()
}

async fn wait_for(app: &TestApp, name: &str, expected: u64) {
    for _ in 0..300 {
        if app.metric(name).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} did not reach {expected}: {}", app.metric(name).await);
}
