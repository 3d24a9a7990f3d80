//! The WebSocket over the real server, on each path a client's handshake can take: straight on
//! the socket (a new connection, or a kept-alive one handed over), or upgraded by hyper when it
//! had read the handshake already (pipelined). And the protocol's own duties: pings answered,
//! a close echoed, a request that is no handshake refused with a problem document.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::support::{ADMIN, TestApp};

/// Only to fail instead of hanging: every wait below ends on a frame, not on time.
const WAIT: Duration = Duration::from_secs(10);

const HANDSHAKE: &str = "GET /api/v1/ws?regions=14 HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[tokio::test]
async fn on_every_path_a_websocket_gets_the_snapshot_then_each_event_in_order() {
    let app = TestApp::spawn().await;
    let address = app.base.trim_start_matches("http://");
    // A new connection, and a kept-alive one whose next request is the handshake: both straight
    // on the socket, whose answer hyper (which adds `date`) did not write.
    let mut fresh = TcpStream::connect(address).await.unwrap();
    fresh.write_all(HANDSHAKE.as_bytes()).await.unwrap();
    let (fresh, fresh_head) = opened(fresh).await;
    let mut kept_alive = TcpStream::connect(address).await.unwrap();
    kept_alive.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let healthz = read_head(&mut kept_alive).await;
    assert!(healthz.starts_with("HTTP/1.1 200"), "{healthz}");
    let length: usize = header(&healthz, "content-length").and_then(|n| n.parse().ok()).expect(&healthz);
    kept_alive.read_exact(&mut vec![0u8; length]).await.unwrap();
    kept_alive.write_all(HANDSHAKE.as_bytes()).await.unwrap();
    let (kept_alive, kept_alive_head) = opened(kept_alive).await;
    // Pipelined behind another request, the handshake is hyper's to read, and hyper upgrades.
    let mut pipelined = TcpStream::connect(address).await.unwrap();
    pipelined.write_all(format!("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n{HANDSHAKE}").as_bytes()).await.unwrap();
    let healthz = read_head(&mut pipelined).await;
    let length: usize = header(&healthz, "content-length").and_then(|n| n.parse().ok()).expect(&healthz);
    pipelined.read_exact(&mut vec![0u8; length]).await.unwrap();
    let (pipelined, pipelined_head) = opened(pipelined).await;
    assert_eq!(header(&fresh_head, "date"), None, "straight on the socket: {fresh_head}");
    assert_eq!(header(&kept_alive_head, "date"), None, "handed over: {kept_alive_head}");
    assert!(header(&pipelined_head, "date").is_some(), "upgraded by hyper: {pipelined_head}");
    for head in [&fresh_head, &kept_alive_head, &pipelined_head] {
        assert_eq!(header(head, "sec-websocket-accept"), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    }

    let mut sockets = [fresh, kept_alive, pipelined];
    for socket in &mut sockets {
        assert_eq!(next_json(socket).await["type"], "snapshot");
    }
    // Declared back to back: frames that queue while one is written go out together.
    let mut ids = Vec::new();
    for kind in ["air_raid", "chemical", "nuclear"] {
        ids.push(app.post("/api/v1/alerts", ADMIN, json!({ "region_id": 14, "kind": kind })).await.body["id"].clone());
    }
    for (path, socket) in ["fresh", "kept alive", "pipelined"].into_iter().zip(&mut sockets) {
        for (seq, id) in (1..).zip(&ids) {
            let event = next_json(socket).await;
            assert_eq!((event["seq"].as_u64(), &event["alert"]["id"]), (Some(seq), id), "{path}");
        }
    }
}

#[tokio::test]
async fn a_ping_is_answered_with_its_payload_and_a_close_is_echoed() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/ws?regions=14", app.base.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "snapshot");
    socket.send(Message::Ping("are you there".into())).await.unwrap();
    let pong = loop {
        match tokio::time::timeout(WAIT, socket.next()).await.expect("a pong") {
            Some(Ok(Message::Pong(payload))) => break payload,
            Some(Ok(Message::Ping(_))) => continue, // the server's heartbeat
            other => panic!("expected a pong, got {other:?}"),
        }
    };
    assert_eq!(&pong[..], b"are you there");
    socket.send(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }))).await.unwrap();
    let echoed = loop {
        match tokio::time::timeout(WAIT, socket.next()).await.expect("the server's close") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(Message::Ping(_))) => continue,
            other => panic!("expected a close, got {other:?}"),
        }
    };
    assert_eq!(echoed.map(|frame| frame.code), Some(CloseCode::Normal));
    assert!(tokio::time::timeout(WAIT, socket.next()).await.expect("the end").is_none(), "then the connection ends");
    wait_for_no_subscriber(&app).await;
}

#[tokio::test]
async fn a_request_that_is_no_handshake_is_refused_naming_the_header_and_subscribes_nobody() {
    let app = TestApp::spawn().await;
    let plain = reqwest::get(format!("{}/api/v1/ws?regions=14", app.base)).await.unwrap();
    assert_eq!(plain.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(plain.headers()["content-type"], "application/problem+json");
    assert_eq!(plain.headers()["sec-websocket-version"], "13", "says which version it speaks");
    let problem: Value = plain.json().await.unwrap();
    assert_eq!((problem["code"].as_str(), problem["field"].as_str()), (Some("websocket-required"), Some("upgrade")));

    let mut old = TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    old.write_all(HANDSHAKE.replace("Version: 13", "Version: 8").as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, old.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
    assert!(answer.contains(r#""field":"sec-websocket-version""#), "{answer}");
    // A bad parameter is named before the handshake is looked at, as on hyper's path.
    let bad = reqwest::get(format!("{}/api/v1/ws?regions=nowhere", app.base)).await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.metric("tryvoha_subscribers{transport=\"websocket\"}").await, 0);
}

/// A client refused for what it sent still reads why: the server reads (and drops) what the
/// client goes on sending until it closes, so that the kernel does not reset the connection
/// and drop the close frame with the unread bytes. Before, the connection was reset with the
/// rest of the frame unread.
#[tokio::test]
async fn a_client_refused_in_the_middle_of_a_frame_still_reads_the_close_then_the_end() {
    let app = TestApp::spawn().await;
    let mut stream = TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(HANDSHAKE.as_bytes()).await.unwrap();
    assert!(read_head(&mut stream).await.starts_with("HTTP/1.1 101"));
    // A binary frame, masked, declaring 1 MiB; then 64 KiB of it, which the server never
    // parses (it refuses the frame at its header).
    let mut frame = vec![0x82, 0x80 | 127];
    frame.extend_from_slice(&(1u64 << 20).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend_from_slice(&[0u8; 64 * 1024]);
    stream.write_all(&frame).await.unwrap();
    let mut received = Vec::new();
    let end = tokio::time::timeout(WAIT, stream.read_to_end(&mut received)).await.expect("the server closes");
    assert!(end.is_ok(), "the connection ends with a FIN, not a reset: {end:?}");
    let close = tryvoha_live::websocket::close(1003, "this stream takes no messages: send only pongs and close");
    assert!(received.ends_with(&close), "the close, last: {:?}", String::from_utf8_lossy(&received));
}

/// Reads the answer to a handshake (a byte at a time, so that no frame is read with it) and
/// goes on as the WebSocket's client.
async fn opened(mut stream: TcpStream) -> (WebSocketStream<TcpStream>, String) {
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{head}");
    (WebSocketStream::from_raw_socket(stream, Role::Client, None).await, head)
}

async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = tokio::time::timeout(WAIT, stream.read_u8()).await.expect("an answer").expect("an open connection");
        head.push(byte);
    }
    String::from_utf8(head).unwrap()
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(found, _)| found.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

async fn next_json<S: AsyncRead + AsyncWrite + Unpin>(socket: &mut WebSocketStream<S>) -> Value {
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await.expect("a message") {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Ping(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

async fn wait_for_no_subscriber(app: &TestApp) {
    for _ in 0..100 {
        if app.metric("tryvoha_subscribers{transport=\"websocket\"}").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the subscriber that closed is still counted");
}
