//! A stream with nothing to write waits parked, and the fan-out writes each frame to its socket
//! itself. A client that stops reading for a while has its socket fill in the middle of that:
//! the fan-out hands the rest to the stream's task, which finishes the half-written frame
//! before anything else. Once the client reads again it has every frame whole, in order, once,
//! over SSE and over WebSocket.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::support::TestApp;

/// Only to fail instead of hanging.
const WAIT: Duration = Duration::from_secs(10);
/// About 7 KB each: a client's socket that is not read (a fixed 32 KiB send buffer, which the
/// kernel doubles, and a 4 KiB receive window) fills within a dozen of them.
const DECLARATIONS: usize = 30;

const SSE_REQUEST: &str = "GET /api/v1/stream HTTP/1.1\r\nHost: test\r\n\r\n";
const HANDSHAKE: &str = "GET /api/v1/ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_fills_while_the_fan_out_writes_to_it_gets_every_frame_whole_once_read_again() {
    let app = TestApp::spawn().await;
    let sse = app.silent_client(SSE_REQUEST).await;
    let websocket = app.silent_client(HANDSHAKE).await;
    for transport in ["sse", "websocket"] {
        wait_for(&app, &format!("tryvoha_subscribers{{transport=\"{transport}\"}}"), |n| n == 1).await;
    }
    // Neither client reads while these go out.
    app.declare_large_alerts(DECLARATIONS, async || {}).await;
    // Both sockets filled while the fan-out wrote to them, and their tasks took the rest over.
    wait_for(&app, "tryvoha_fan_out_handovers_total", |n| n >= 2).await;
    assert!(app.metric("tryvoha_fan_out_writes_total").await > 0, "the fan-out wrote to parked streams");

    let sse_frames = sse_events(sse).await;
    let websocket_frames = websocket_events(websocket).await;
    for (transport, frames) in [("SSE", sse_frames), ("WebSocket", websocket_frames)] {
        let seqs: Vec<u64> = frames.iter().map(|frame| frame["seq"].as_u64().expect("a seq")).collect();
        let first = seqs[0];
        let expected: Vec<u64> = (first..first + DECLARATIONS as u64).collect();
        assert_eq!(seqs, expected, "{transport}: every event once, in order");
        assert!(frames.iter().all(|frame| frame["type"] == "declared"), "{transport}: whole frames");
    }
    assert_eq!(app.metric("tryvoha_slow_subscribers_cut_total").await, 0);
    assert_eq!(app.metric("tryvoha_stalled_subscribers_cut_total").await, 0);
}

/// The events an SSE client reads after its snapshot, each frame's `data` parsed, checked
/// against its `id`.
async fn sse_events(mut connection: TcpStream) -> Vec<Value> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    while count(&received, b"event: declared") < DECLARATIONS || !received.ends_with(b"\n\n") {
        let read = tokio::time::timeout(WAIT, connection.read(&mut buffer)).await.expect("more frames").unwrap();
        assert!(read > 0, "the stream ended early");
        received.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8(received).expect("UTF-8 throughout: no frame cut in the middle of a character");
    let (_, body) = text.split_once("\r\n\r\n").expect("the response head");
    let mut events = Vec::new();
    for frame in body.split("\n\n").filter(|frame| frame.contains("event: declared")) {
        let field = |name: &str| frame.lines().find_map(|line| line.strip_prefix(name)).expect(name);
        let data: Value = serde_json::from_str(field("data: ")).expect("a whole frame's JSON");
        assert_eq!(field("id: ").parse::<u64>().unwrap(), data["seq"].as_u64().unwrap(), "{frame}");
        events.push(data);
    }
    events
}

/// The events a WebSocket client reads after its snapshot.
async fn websocket_events(mut connection: TcpStream) -> Vec<Value> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tokio::time::timeout(WAIT, connection.read_u8()).await.expect("an answer").unwrap());
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "), "{}", String::from_utf8_lossy(&head));
    let mut socket = WebSocketStream::from_raw_socket(connection, Role::Client, None).await;
    let mut events = Vec::new();
    while events.len() < DECLARATIONS {
        match tokio::time::timeout(WAIT, socket.next()).await.expect("a message") {
            Some(Ok(Message::Text(text))) => {
                let frame: Value = serde_json::from_str(&text).expect("a whole frame's JSON");
                if frame["type"] != "snapshot" {
                    events.push(frame);
                }
            }
            other => panic!("expected a text message, got {other:?}"),
        }
    }
    events
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|window| window == &needle).count()
}

async fn wait_for(app: &TestApp, name: &str, reached: impl Fn(u64) -> bool) {
    for _ in 0..300 {
        if reached(app.metric(name).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} is still {}", app.metric(name).await);
}
