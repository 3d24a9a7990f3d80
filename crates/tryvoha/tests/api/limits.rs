//! Limits over the real server: connection caps, rate limits with `Retry-After`, clients behind
//! trusted proxies, CORS, the WebSocket's refusal of client messages, filter lists, bodies
//! judged by their declared length.
//!
//! Distinct clients are distinct loopback addresses (127.0.0.2, 127.0.0.3 …), which Linux
//! routes to the server on 127.0.0.1 like any other client.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tryvoha::config::FlagSettings;

use crate::sse::{FrameExt, SseStream};
use crate::support::{ADMIN, TestApp};

const WAIT: Duration = Duration::from_secs(10);

async fn spawn(settings: FlagSettings) -> TestApp {
    TestApp::spawn_with(tempfile::tempdir().unwrap(), settings).await
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

fn address(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection from `from` to the server.
async fn connect_from(app: &TestApp, from: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(address(app)).await.unwrap()
}

/// Everything the server sends until it closes (a reset after the answer counts as closing).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(WAIT, stream.read(&mut chunk)).await.expect("the server closes") {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends `request` from `from` on a new connection and returns the whole answer.
async fn exchange_from(app: &TestApp, from: IpAddr, request: &str) -> String {
    let mut stream = connect_from(app, from).await;
    stream.write_all(request.as_bytes()).await.unwrap();
    read_until_closed(&mut stream).await
}

fn client_from(from: IpAddr) -> reqwest::Client {
    reqwest::Client::builder().local_address(from).build().unwrap()
}

fn header_line<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next()?;
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn a_client_over_its_connection_cap_is_refused_while_another_client_is_served() {
    let app = spawn(FlagSettings { max_connections_per_client: Some(2), ..Default::default() }).await;
    let attacker = loopback(3);
    let _held = [connect_from(&app, attacker).await, connect_from(&app, attacker).await];
    let mut third = connect_from(&app, attacker).await;
    let refused = read_until_closed(&mut third).await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(refused.contains("\"code\":\"too-many-connections\""), "{refused}");
    assert_eq!(header_line(&refused, "retry-after"), Some("1"), "{refused}");

    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK, "another client is served meanwhile");
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tryvoha_connections_refused_total{cap=\"per_client\"} 1"), "{metrics}");
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after_on_every_path_and_others_are_served() {
    let app = spawn(FlagSettings { rate_limit: Some(60), rate_limit_burst: Some(5), ..Default::default() }).await;
    let attacker = client_from(loopback(3));
    let url = format!("{}/api/v1/regions/31", app.base);
    for _ in 0..5 {
        assert_eq!(attacker.get(&url).send().await.unwrap().status(), StatusCode::OK);
    }
    let refused = attacker.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1", "one request a second comes back");
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "rate-limited");
    // The stream served straight on the socket counts the same way.
    let stream = exchange_from(&app, loopback(3), "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(stream.starts_with("HTTP/1.1 429"), "{stream}");
    assert!(header_line(&stream, "retry-after").is_some(), "{stream}");

    assert_eq!(app.get("/api/v1/regions/31").await.status, StatusCode::OK, "another client is served");
}

#[tokio::test]
async fn forwarded_clients_are_told_apart_only_behind_a_trusted_proxy() {
    let app = spawn(FlagSettings {
        rate_limit: Some(60),
        rate_limit_burst: Some(5),
        trusted_proxies: Some(vec!["127.0.0.2/32".into()]),
        ..Default::default()
    })
    .await;
    let url = format!("{}/api/v1/regions/31", app.base);
    let proxy = client_from(loopback(2));
    let from = |client: &'static str| proxy.get(&url).header("x-forwarded-for", client).send();
    for _ in 0..5 {
        assert_eq!(from("203.0.113.1").await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(from("203.0.113.1").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    let other = proxy.get(&url).header("forwarded", "for=\"[2001:db8::1]:4711\"").send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK, "another client behind the same proxy has its own bucket");

    // From a peer that is not a trusted proxy the header is ignored: a new made-up client each
    // time does not escape the limit.
    let untrusted = client_from(loopback(3));
    let mut statuses = Vec::new();
    for n in 0..6 {
        let answer = untrusted.get(&url).header("x-forwarded-for", format!("198.51.100.{n}")).send().await.unwrap();
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
}

#[tokio::test]
async fn the_compat_limit_keys_each_forwarded_client_and_says_when_to_return() {
    let app = spawn(FlagSettings {
        compat_anonymous: Some(true),
        compat_rate_limit: Some(2),
        trusted_proxies: Some(vec!["127.0.0.2".into()]),
        ..Default::default()
    })
    .await;
    let proxy = client_from(loopback(2));
    let url = format!("{}/v1/alerts/active.json", app.base);
    let from = |client: &'static str| proxy.get(&url).header("x-forwarded-for", client).send();
    for _ in 0..2 {
        assert_eq!(from("203.0.113.1").await.unwrap().status(), StatusCode::OK);
    }
    let refused = from("203.0.113.1").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "one request every 30 s comes back: {wait}");
    assert_eq!(refused.text().await.unwrap(), r#"{"message":"Too many requests"}"#, "the compatible APIs' own body");
    assert_eq!(from("203.0.113.2").await.unwrap().status(), StatusCode::OK, "not one bucket per proxy");

    let ukrainealarm = proxy.get(format!("{}/api/v3/alerts", app.base)).header("x-forwarded-for", "203.0.113.1");
    let refused = ukrainealarm.send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.text().await.unwrap(), r#"{"message":"Too many requests"}"#, "the compatible APIs' own body");
}

#[tokio::test]
async fn pages_anywhere_may_read_and_stream_but_write_only_from_listed_origins() {
    let app = spawn(FlagSettings {
        cors_write_origins: Some(vec!["https://console.example.org".into()]),
        ..Default::default()
    })
    .await;
    let origin = "https://map.example.net";
    let read = app.client.get(format!("{}/api/v1/regions/31", app.base)).header("origin", origin).send().await.unwrap();
    assert_eq!(read.headers()["access-control-allow-origin"], "*");
    assert!(read.headers().get("access-control-allow-credentials").is_none(), "never credentials");

    // Both stream paths: straight on a new connection, and through the router on a kept one.
    let direct = exchange_from(
        &app,
        loopback(1),
        &format!("GET /api/v1/stream?regions=999999 HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\r\n"),
    )
    .await;
    assert_eq!(header_line(&direct, "access-control-allow-origin"), Some("*"), "{direct}");
    let mut stream = connect_from(&app, loopback(1)).await;
    let request = format!("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 2048];
    let n = tokio::time::timeout(WAIT, stream.read(&mut head)).await.unwrap().unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header_line(&head, "access-control-allow-origin"), Some("*"), "{head}");
    let kept_alive = reqwest::Client::new();
    assert_eq!(kept_alive.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), StatusCode::OK);
    let routed = kept_alive.get(format!("{}/api/v1/stream", app.base)).header("origin", origin).send().await.unwrap();
    assert_eq!(routed.headers()["access-control-allow-origin"], "*");
    // One header policy: the stream says the same whichever path served it.
    for name in ["content-type", "cache-control", "x-accel-buffering", "access-control-expose-headers", "vary"] {
        let routed = routed.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header_line(&head, name), routed, "{name}: {head}");
    }

    let preflight = |origin: &'static str, method: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/api/v1/alerts", app.base))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let read = preflight(origin, "GET").await.unwrap();
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    assert_eq!(read.headers()["access-control-allow-origin"], "*");
    let foreign_write = preflight(origin, "POST").await.unwrap();
    assert!(foreign_write.headers().get("access-control-allow-origin").is_none(), "no writes from any page");
    let console = preflight("https://console.example.org", "POST").await.unwrap();
    assert_eq!(console.status(), StatusCode::NO_CONTENT);
    assert_eq!(console.headers()["access-control-allow-origin"], "https://console.example.org");
    assert!(console.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert_eq!(console.headers()["access-control-allow-headers"], "authorization, content-type");
}

#[tokio::test]
async fn a_websocket_client_that_sends_a_message_is_closed() {
    let app = spawn(FlagSettings::default()).await;
    let url = format!("{}/api/v1/ws", app.base.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    socket.send(Message::Text("hello".into())).await.unwrap();
    let close = loop {
        match tokio::time::timeout(WAIT, socket.next()).await.expect("the server closes") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue, // the snapshot, a ping
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.map(|frame| u16::from(frame.code)), Some(1003));
}

/// A client that starts a 1 MiB fragment is cut off at the frame's header: the server does not
/// wait for (and buffer) the rest. Before the frame cap it waited for the whole megabyte.
#[tokio::test]
async fn a_websocket_client_that_starts_a_large_frame_is_closed_before_sending_it() {
    let app = spawn(FlagSettings::default()).await;
    let mut stream = connect_from(&app, loopback(1)).await;
    let handshake = "GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 1024];
    let n = tokio::time::timeout(WAIT, stream.read(&mut head)).await.unwrap().unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head[..n]));
    // A binary frame, not final, masked, declaring 1 MiB; then only its first KiB.
    let mut frame = vec![0x02, 0x80 | 127];
    frame.extend_from_slice(&(1u64 << 20).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend_from_slice(&[0u8; 1024]);
    stream.write_all(&frame).await.unwrap();
    read_until_closed(&mut stream).await; // panics if the server keeps the connection open
}

#[tokio::test]
async fn a_region_asked_for_twice_is_listed_once_and_overlong_lists_are_refused() {
    let app = spawn(FlagSettings::default()).await;
    let mut stream = SseStream::open(&app.client, &app.base, "/api/v1/stream?regions=31,31,14,31", None).await;
    let snapshot = stream.next(WAIT).await.unwrap().json();
    let ids: Vec<_> = snapshot["regions"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [31, 14]);

    let long = vec!["31"; 513].join(",");
    for path in [format!("/api/v1/stream?regions={long}"), format!("/api/v1/ws?regions={long}")] {
        let answer = app.get(&path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            (answer.body["code"].as_str(), answer.body["field"].as_str()),
            (Some("list-too-long"), Some("regions"))
        );
    }
    let kinds = vec!["air_raid"; 513].join(",");
    let answer = app.get(&format!("/api/v1/stream?kinds={kinds}")).await;
    assert_eq!((answer.status, answer.body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("kinds")));
}

#[tokio::test]
async fn a_huge_declared_body_is_refused_at_once_and_an_early_refusal_says_it_closes() {
    let app = spawn(FlagSettings::default()).await;
    let before = app.last_seq().await;
    // 10 GB declared, nothing sent: refused without waiting for the body (or the 30 s timeout).
    let huge = format!(
        "POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n"
    );
    let answer = exchange_from(&app, loopback(1), &huge).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"code\":\"body-too-large\""), "{answer}");
    assert_eq!(header_line(&answer, "connection"), Some("close"), "{answer}");

    // Refused by the token check before the body is read: the connection closes, and says so.
    let body = json!({ "region_id": 31, "kind": "air_raid" }).to_string();
    let unauthorized = format!(
        "POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange_from(&app, loopback(1), &unauthorized).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert_eq!(header_line(&answer, "connection"), Some("close"), "{answer}");
    assert_eq!(app.last_seq().await, before, "nothing was written");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_share_of_streams() {
    let app = spawn(FlagSettings {
        max_connections_per_client: Some(2),
        trusted_proxies: Some(vec!["127.0.0.2".into()]),
        ..Default::default()
    })
    .await;
    let stream_for =
        |client: &str| format!("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {client}\r\n\r\n");
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from(&app, loopback(2)).await;
        stream.write_all(stream_for("203.0.113.1").as_bytes()).await.unwrap();
        let mut head = vec![0u8; 1024];
        let n = tokio::time::timeout(WAIT, stream.read(&mut head)).await.unwrap().unwrap();
        assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head[..n]));
        held.push(stream);
    }
    // The proxy itself is not capped (it carries many clients); the forwarded client is.
    let refused = exchange_from(&app, loopback(2), &stream_for("203.0.113.1")).await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(refused.contains("\"code\":\"too-many-connections\""), "{refused}");
    assert_eq!(header_line(&refused, "retry-after"), Some("1"), "{refused}");
    let websocket = client_from(loopback(2))
        .get(format!("{}/api/v1/ws", app.base))
        .header("x-forwarded-for", "203.0.113.1")
        .send()
        .await
        .unwrap();
    assert_eq!(websocket.status(), StatusCode::TOO_MANY_REQUESTS, "the WebSocket counts the same way");
    assert_eq!(websocket.headers()["retry-after"], "1");

    let mut other = connect_from(&app, loopback(2)).await;
    other.write_all(stream_for("203.0.113.2").as_bytes()).await.unwrap();
    let mut head = vec![0u8; 1024];
    let n = tokio::time::timeout(WAIT, other.read(&mut head)).await.unwrap().unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "another forwarded client is served");
}
